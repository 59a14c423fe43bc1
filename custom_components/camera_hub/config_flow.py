"""Config flow: a brand menu first, then that brand's steps (from the brand registry); reauth,
reconfigure and options for every brand."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import probatio as vol
from homeassistant.config_entries import ConfigFlowResult, OptionsFlowWithReload
from homeassistant.core import callback
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
)

from .cameras import CameraHubConfigEntry
from .const import (
    CONF_KEEP_WARM,
    CONF_LIVE_STREAM,
    CONF_LIVE_VIEW,
    CONF_SNAPSHOT_MAX_AGE,
    CONF_STREAM_LINGER,
    DEFAULT_LIVE_STREAM,
    DEFAULT_SNAPSHOT_MAX_AGE,
    DEFAULT_STREAM_LINGER,
    DOMAIN,
    ENTRY_MINOR_VERSION,
    ENTRY_VERSION,
    LIVE_VIEW_HLS,
    LIVE_VIEW_WEBRTC,
)
from .vendors import BRANDS, BrandFlows, brand_of
from .vendors.base import BrandOptions, InvalidOption


class CameraHubConfigFlow(BrandFlows, domain=DOMAIN):
    """Add a camera or an account: pick the brand, then answer that brand's questions."""

    VERSION = ENTRY_VERSION
    MINOR_VERSION = ENTRY_MINOR_VERSION

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: CameraHubConfigEntry) -> CameraHubOptionsFlow:
        return CameraHubOptionsFlow()

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show the brand menu; each option is the first step of that brand's flow."""
        return self.async_show_menu(step_id="user", menu_options=list(BRANDS))

    async def async_step_reauth(self, entry_data: Mapping[str, Any] | None) -> ConfigFlowResult:
        # Also called without data: the brand's first reauth step may be a menu that shows again.
        brand = brand_of(self._get_reauth_entry().data)
        if brand is None or brand.reauth_step is None:
            return self.async_abort(reason="reauth_not_supported")
        step = getattr(self, f"async_step_{brand.reauth_step}")
        result: ConfigFlowResult = await step(entry_data)
        return result

    async def async_step_reconfigure(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        brand = brand_of(self._get_reconfigure_entry().data)
        if brand is None or brand.reconfigure_step is None:
            return self.async_abort(reason="reconfigure_not_supported")
        step = getattr(self, f"async_step_{brand.reconfigure_step}")
        result: ConfigFlowResult = await step(user_input)
        return result


def _not_numbers(user_input: Mapping[str, Any]) -> dict[str, str]:
    """Number fields that hold NaN: HA's number selector turns the text "nan" into one and its
    min/max checks let it through (every comparison with NaN is false); infinity they refuse."""
    return {
        key: "not_a_number"
        for key, value in user_input.items()
        if isinstance(value, float) and not math.isfinite(value)
    }


class CameraHubOptionsFlow(OptionsFlowWithReload):
    """Which stream live view uses and how it plays, how old a snapshot may be, how long streams stay
    open; then the brand's own options for the entry (an account's polling, say), if it has any."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        brand_options = self._brand_options()
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _not_numbers(user_input)
            try:
                cleaned = brand_options.clean(user_input) if brand_options and not errors else {}
            except InvalidOption as err:
                errors[err.field] = err.error
            if not errors:
                return self.async_create_entry(data={**user_input, **cleaned})
        fields = {
            **self._stream_fields(),
            **(brand_options.fields(self.config_entry) if brand_options else {}),
        }
        schema = vol.Schema(fields)
        if user_input is not None:
            # What the person typed stays in the form next to the error, not the stored value.
            schema = self.add_suggested_values_to_schema(schema, user_input)
        return self.async_show_form(step_id="init", data_schema=schema, errors=errors)

    def _brand_options(self) -> BrandOptions | None:
        brand = brand_of(self.config_entry.data)
        return brand.options if brand is not None else None

    def _stream_fields(self) -> dict[Any, Any]:
        options = self.config_entry.options
        return {
            vol.Required(CONF_LIVE_STREAM, default=options.get(CONF_LIVE_STREAM, DEFAULT_LIVE_STREAM)): (
                SelectSelector(SelectSelectorConfig(options=["hd", "sd"], translation_key=CONF_LIVE_STREAM))
            ),
            vol.Required(CONF_LIVE_VIEW, default=options.get(CONF_LIVE_VIEW, LIVE_VIEW_WEBRTC)): (
                SelectSelector(
                    SelectSelectorConfig(
                        options=[LIVE_VIEW_WEBRTC, LIVE_VIEW_HLS], translation_key=CONF_LIVE_VIEW
                    )
                )
            ),
            vol.Required(
                CONF_SNAPSHOT_MAX_AGE,
                default=options.get(CONF_SNAPSHOT_MAX_AGE, DEFAULT_SNAPSHOT_MAX_AGE),
            ): NumberSelector(
                NumberSelectorConfig(
                    min=0, max=60, step=0.5, unit_of_measurement="s", mode=NumberSelectorMode.BOX
                )
            ),
            vol.Required(
                CONF_STREAM_LINGER, default=options.get(CONF_STREAM_LINGER, DEFAULT_STREAM_LINGER)
            ): NumberSelector(
                NumberSelectorConfig(
                    min=0, max=600, step=1, unit_of_measurement="s", mode=NumberSelectorMode.BOX
                )
            ),
            vol.Required(CONF_KEEP_WARM, default=options.get(CONF_KEEP_WARM, False)): BooleanSelector(),
        }
