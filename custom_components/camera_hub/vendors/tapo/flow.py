"""The Tapo config-flow steps: the connection doctor, DHCP discovery, stream-only, reauth, reconfigure.

`TapoFlow` is a mixin of the one Camera Hub config flow (vendors/__init__.py composes the brands'
mixins; config_flow.py owns the menu, and routes reauth and reconfigure here through the registry).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import probatio as vol
from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import section
from homeassistant.helpers.device_registry import format_mac
from homeassistant.helpers.selector import TextSelector, TextSelectorConfig, TextSelectorType
from homeassistant.helpers.service_info.dhcp import DhcpServiceInfo

from ...const import CONF_AUTH_FAILED, CONF_BRAND
from ..base import AuthFailed, CameraHubError, LockedOut, Unreachable
from .backend import TapoBackend
from .connection import learned_pin, tapo_backend
from .const import (
    CONF_ADVANCED,
    CONF_CLOUD_PASSWORD,
    CONF_CONTROL_METHOD,
    CONF_CONTROL_PORT,
    CONF_ONVIF_PORT,
    CONF_RTSP_PORT,
    DEFAULT_CONTROL_PORT,
    DEFAULT_ONVIF_PORT,
    DEFAULT_RTSP_PORT,
    ControlMethod,
)
from .control import Discovery

_LOGGER = logging.getLogger(__name__)

BRAND = "tapo"
_PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
_PORT = vol.All(vol.Coerce(int), vol.Range(min=1, max=65535))
_ADVANCED_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_CONTROL_PORT, default=DEFAULT_CONTROL_PORT): _PORT,
        vol.Required(CONF_ONVIF_PORT, default=DEFAULT_ONVIF_PORT): _PORT,
        vol.Required(CONF_RTSP_PORT, default=DEFAULT_RTSP_PORT): _PORT,
    }
)


def _tapo_schema(defaults: Mapping[str, Any]) -> vol.Schema:
    return vol.Schema(
        {
            vol.Required(CONF_HOST, default=defaults.get(CONF_HOST, vol.UNDEFINED)): str,
            vol.Required(CONF_USERNAME, default=defaults.get(CONF_USERNAME, vol.UNDEFINED)): str,
            vol.Required(CONF_PASSWORD): _PASSWORD,
            vol.Required(CONF_CLOUD_PASSWORD): _PASSWORD,
            vol.Required(CONF_ADVANCED): section(_ADVANCED_SCHEMA, {"collapsed": True}),
        }
    )


def _flatten(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """The advanced section's ports live at the top level of the entry's data."""
    data = {k: v for k, v in user_input.items() if k != CONF_ADVANCED}
    data.update(user_input.get(CONF_ADVANCED, {}))
    return data


def _without_rejection(data: Mapping[str, Any]) -> dict[str, Any]:
    """Entry data after the user fixed a credential: setup may try the camera again."""
    return {k: v for k, v in data.items() if k != CONF_AUTH_FAILED}


async def validate_tapo(
    hass: HomeAssistant, data: Mapping[str, Any], discovery: Discovery
) -> tuple[TapoBackend | None, dict[str, str], dict[str, str]]:
    """The connection doctor: log in, open the stream, and name what is wrong.

    Returns the connected (then closed) backend, or form errors and their placeholders.
    `discovery` keeps the camera's login probe answer between attempts of one flow.
    """
    backend = tapo_backend(hass, data, discovery)
    try:
        await backend.async_connect(check_stream=True)
    except AuthFailed as err:
        return None, {"base": f"invalid_{err.credential}"}, {}
    except LockedOut as err:
        return None, {"base": "locked_out"}, {"minutes": str(err.minutes_left)}
    except Unreachable:
        return None, {"base": "cannot_connect"}, {}
    except CameraHubError:
        _LOGGER.exception("Unexpected answer from the camera at %s", data[CONF_HOST])
        return None, {"base": "unknown"}, {}
    finally:
        await backend.async_close()
    return backend, {}, {}


class TapoFlow(ConfigFlow):
    """Add a Tapo camera: host, camera account, cloud password; tested before anything is saved."""

    def __init__(self) -> None:
        super().__init__()
        self._tapo_discovered_host: str | None = None
        # The camera's answer to the login probe, kept across the user's attempts (login budget).
        self._tapo_discovery = Discovery()
        self._tapo_reauth_rejected = False
        self._tapo_pending: dict[str, Any] = {}
        self._tapo_pending_title = ""
        self._tapo_pending_onvif = False

    async def async_step_dhcp(self, discovery_info: DhcpServiceInfo) -> ConfigFlowResult:
        """A Tapo camera joined the network: offer it, or update a known camera's address."""
        await self.async_set_unique_id(format_mac(discovery_info.macaddress))
        self._abort_if_unique_id_configured(updates={CONF_HOST: discovery_info.ip})
        self._tapo_discovered_host = discovery_info.ip
        self.context["title_placeholders"] = {"name": discovery_info.hostname or discovery_info.ip}
        return await self.async_step_tapo()

    async def async_step_tapo(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Host, camera account and cloud password; the connection is tested before anything is saved."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            data = _flatten(user_input)
            backend, errors, placeholders = await validate_tapo(self.hass, data, self._tapo_discovery)
            if backend is not None:
                await self.async_set_unique_id(format_mac(backend.identity.mac))
                self._abort_if_unique_id_configured(updates={CONF_HOST: data[CONF_HOST]})
                self._tapo_pending = {
                    **data,
                    CONF_BRAND: BRAND,
                    CONF_CONTROL_METHOD: backend.control_method.value,
                    **learned_pin(backend),  # first contact: the certificate every later one must show
                }
                self._tapo_pending_title = backend.identity.name
                if backend.control_method is ControlMethod.STREAM_ONLY:
                    self._tapo_pending_onvif = backend.onvif_available
                    return await self.async_step_stream_only()
                return self.async_create_entry(title=self._tapo_pending_title, data=self._tapo_pending)
        defaults = {CONF_HOST: self._tapo_discovered_host} if self._tapo_discovered_host else {}
        return self.async_show_form(
            step_id="tapo",
            data_schema=self.add_suggested_values_to_schema(_tapo_schema(defaults), user_input),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_stream_only(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Control refused: explain the fix, and offer to add the camera for streaming meanwhile."""
        if user_input is not None:
            return self.async_create_entry(title=self._tapo_pending_title, data=self._tapo_pending)
        step_id = "stream_only" if self._tapo_pending_onvif else "stream_only_no_onvif"
        return self.async_show_form(
            step_id=step_id, description_placeholders={"name": self._tapo_pending_title}
        )

    async def async_step_stream_only_no_onvif(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """As stream_only, when ONVIF is off too (no pan/tilt or motion events until it is on)."""
        return await self.async_step_stream_only(user_input)

    # --- reauth: each credential on its own ------------------------------------------------

    async def async_step_tapo_reauth(self, entry_data: Mapping[str, Any] | None) -> ConfigFlowResult:
        """Where reauthentication of a Tapo entry starts (the registry's `reauth_step`)."""
        return self.async_show_menu(
            step_id="reauth", menu_options=["reauth_cloud_password", "reauth_camera_account"]
        )

    async def async_step_reauth_cloud_password(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        schema = vol.Schema({vol.Required(CONF_CLOUD_PASSWORD): _PASSWORD})
        return await self._async_tapo_reauth_step("reauth_cloud_password", schema, user_input)

    async def async_step_reauth_camera_account(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        entry = self._get_reauth_entry()
        schema = vol.Schema(
            {
                vol.Required(CONF_USERNAME, default=entry.data[CONF_USERNAME]): str,
                vol.Required(CONF_PASSWORD): _PASSWORD,
            }
        )
        return await self._async_tapo_reauth_step("reauth_camera_account", schema, user_input)

    async def _async_tapo_reauth_step(
        self, step_id: str, schema: vol.Schema, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {"name": entry.title}
        if user_input is not None:
            data = {**entry.data, **user_input}
            if self._tapo_reauth_rejected:
                # Rejected again with the known login: maybe a firmware update changed the login;
                # this time let the camera's discover answer choose.
                data[CONF_CONTROL_METHOD] = None
            backend, errors, extra = await validate_tapo(self.hass, data, self._tapo_discovery)
            placeholders.update(extra)
            self._tapo_reauth_rejected = errors.get("base") == "invalid_cloud_password"
            if backend is not None:
                await self.async_set_unique_id(format_mac(backend.identity.mac))
                self._abort_if_unique_id_mismatch(reason="wrong_camera")
                updated = {
                    **entry.data,
                    **user_input,
                    CONF_CONTROL_METHOD: backend.control_method.value,
                    **learned_pin(backend),
                }
                return self.async_update_reload_and_abort(entry, data=_without_rejection(updated))
        return self.async_show_form(
            step_id=step_id, data_schema=schema, errors=errors, description_placeholders=placeholders
        )

    # --- reconfigure: a new address --------------------------------------------------------

    async def async_step_tapo_reconfigure(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """A new address or ports for the same camera (the registry's `reconfigure_step`)."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            changes = _flatten(user_input)
            backend, errors, placeholders = await validate_tapo(
                self.hass, {**entry.data, **changes}, self._tapo_discovery
            )
            if backend is not None:
                await self.async_set_unique_id(format_mac(backend.identity.mac))
                self._abort_if_unique_id_mismatch(reason="wrong_camera")
                return self.async_update_reload_and_abort(
                    entry, data=_without_rejection({**entry.data, **changes, **learned_pin(backend)})
                )
        schema = vol.Schema(
            {
                vol.Required(CONF_HOST, default=entry.data[CONF_HOST]): str,
                vol.Required(CONF_ADVANCED): section(_ADVANCED_SCHEMA, {"collapsed": True}),
            }
        )
        suggested = {CONF_ADVANCED: {k: entry.data[k] for k in _ADVANCED_SCHEMA.schema if k in entry.data}}
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
            description_placeholders=placeholders,
        )
