"""The Ring config-flow steps: e-mail and password, the verification code when Ring asks, reauth.

Only the token Ring issues is stored, never the password. The 2FA step says where the code went
(SMS, e-mail or an authenticator app): the library hides Ring's 412 answer, so `OAuthWatch`
(cloud.py) reads it from the same response — no extra request, which would send another code.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import probatio as vol
from homeassistant.config_entries import SOURCE_REAUTH, ConfigFlow, ConfigFlowResult
from homeassistant.const import CONF_EMAIL, CONF_PASSWORD, CONF_TOKEN
from homeassistant.helpers.selector import TextSelector, TextSelectorConfig, TextSelectorType

from ...const import CONF_AUTH_FAILED, CONF_BRAND
from ..base import AuthFailed, CameraHubError, Unreachable
from .cloud import ring_http_session
from .connection import (
    CodeRequired,
    TooManyCodes,
    async_account_id,
    async_fetch_token,
    async_hardware_id,
)
from .const import BRAND, CONF_CODE, CONF_HARDWARE_ID

_LOGGER = logging.getLogger(__name__)

_PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
_EMAIL = TextSelector(TextSelectorConfig(type=TextSelectorType.EMAIL, autocomplete="username"))
_CODE = TextSelector(TextSelectorConfig(type=TextSelectorType.TEXT, autocomplete="one-time-code"))
# The code step for each channel Ring's 412 answer names (`tsv_state`): a step of its own per
# channel, so that the sentence saying where the code went is translated as a whole (a placeholder
# would put English words into every language). `ring_2fa` is for a channel Ring did not name.
_CODE_STEPS = {"sms": "ring_2fa_sms", "email": "ring_2fa_email", "totp": "ring_2fa_totp"}
_CODE_STEP_UNNAMED = "ring_2fa"


def _could_be_a_code(code: str) -> bool:
    """Ring's codes are short and alphanumeric; the library sends the code in an HTTP header, where
    a control character or non-ASCII text makes aiohttp refuse the request with a ValueError."""
    return code.isascii() and code.isalnum() and len(code) <= 32


class RingFlow(ConfigFlow):
    """Add a Ring account: e-mail, password, then the code Ring sends when it asks for one."""

    def __init__(self) -> None:
        super().__init__()
        self._ring_email = ""
        self._ring_password = ""  # kept in memory for the code step only, never stored
        self._ring_channel = "unknown"
        self._ring_hardware_id = ""

    async def async_step_ring(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """E-mail and password; a verification code follows when Ring asks for one."""
        errors: dict[str, str] = {}
        if user_input is not None:
            self._ring_email = user_input[CONF_EMAIL].strip()
            self._ring_password = user_input[CONF_PASSWORD]
            self._ring_hardware_id = await async_hardware_id(self.hass)
            result, errors = await self._async_ring_login(code=None)
            if result is not None:
                return result
        schema = vol.Schema({vol.Required(CONF_EMAIL): _EMAIL, vol.Required(CONF_PASSWORD): _PASSWORD})
        return self.async_show_form(
            step_id="ring",
            data_schema=self.add_suggested_values_to_schema(schema, {CONF_EMAIL: self._ring_email}),
            errors=errors,
        )

    async def async_step_ring_2fa(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The code Ring sent through a channel its answer did not name."""
        return await self._async_ring_code_step(user_input)

    async def async_step_ring_2fa_sms(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        return await self._async_ring_code_step(user_input)

    async def async_step_ring_2fa_email(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        return await self._async_ring_code_step(user_input)

    async def async_step_ring_2fa_totp(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        return await self._async_ring_code_step(user_input)

    async def _async_ring_code_step(self, user_input: dict[str, Any] | None) -> ConfigFlowResult:
        """The code Ring sent; the step (and so its text) is the one for the channel Ring named."""
        errors: dict[str, str] = {}
        if user_input is not None:
            code = str(user_input[CONF_CODE]).strip()
            if not _could_be_a_code(code):
                errors = {"base": "invalid_code"}
            else:
                result, errors = await self._async_ring_login(code=code)
                if result is not None:
                    return result
        return self.async_show_form(
            step_id=_CODE_STEPS.get(self._ring_channel, _CODE_STEP_UNNAMED),
            data_schema=vol.Schema({vol.Required(CONF_CODE): _CODE}),
            errors=errors,
            description_placeholders={"email": self._ring_email},
        )

    async def async_step_ring_reauth(self, entry_data: Mapping[str, Any] | None) -> ConfigFlowResult:
        """Ring refused the stored token: the password again (and a code if Ring asks)."""
        entry = self._get_reauth_entry()
        self._ring_email = entry.data[CONF_EMAIL]
        self._ring_hardware_id = entry.data[CONF_HARDWARE_ID]
        return await self.async_step_ring_reauth_confirm()

    async def async_step_ring_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            self._ring_password = user_input[CONF_PASSWORD]
            result, errors = await self._async_ring_login(code=None)
            if result is not None:
                return result
        return self.async_show_form(
            step_id="ring_reauth_confirm",
            data_schema=vol.Schema({vol.Required(CONF_PASSWORD): _PASSWORD}),
            errors=errors,
            description_placeholders={"email": self._ring_email},
        )

    async def _async_ring_login(self, code: str | None) -> tuple[ConfigFlowResult | None, dict[str, str]]:
        """One login attempt: the flow's next result, or the form's errors."""
        try:
            http = await ring_http_session(self.hass)
        except Unreachable:
            return None, {"base": "cannot_connect"}
        try:
            token = await async_fetch_token(
                http, self._ring_hardware_id, self._ring_email, self._ring_password, code
            )
            account_id = await async_account_id(http, self._ring_hardware_id, token)
        except CodeRequired as err:
            if code is not None:
                return None, {"base": "invalid_code"}
            self._ring_channel = err.channel
            return await self._async_ring_code_step(None), {}
        except AuthFailed:
            return None, {"base": "invalid_code" if code is not None else "invalid_auth"}
        except TooManyCodes:
            return None, {"base": "too_many_codes"}
        except Unreachable:
            return None, {"base": "cannot_connect"}
        except CameraHubError:
            _LOGGER.exception("Unexpected answer from Ring")
            return None, {"base": "unknown"}
        finally:
            await http.close()
        return await self._async_ring_finish(token, account_id or self._ring_email.lower()), {}

    async def _async_ring_finish(self, token: dict[str, Any], account_id: str) -> ConfigFlowResult:
        await self.async_set_unique_id(account_id)
        self._ring_password = ""
        if self.source == SOURCE_REAUTH:
            entry = self._get_reauth_entry()
            self._abort_if_unique_id_mismatch(reason="wrong_account")
            data = {k: v for k, v in entry.data.items() if k != CONF_AUTH_FAILED}
            return self.async_update_reload_and_abort(entry, data={**data, CONF_TOKEN: token})
        self._abort_if_unique_id_configured()
        return self.async_create_entry(
            title=self._ring_email,
            data={
                CONF_BRAND: BRAND,
                CONF_EMAIL: self._ring_email,
                CONF_TOKEN: token,
                CONF_HARDWARE_ID: self._ring_hardware_id,
            },
        )
