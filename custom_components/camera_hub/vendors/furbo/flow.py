"""The Furbo config-flow steps: e-mail and password, then the e-mailed code when the account asks.

The password is encrypted with the cloud's public key before anything else happens, and only that is
stored: a silent re-login needs nothing more. Reauthentication first tries the stored one; when it
still works and only the code is wanted, only the code is asked for.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import probatio as vol
from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
)
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from ...const import CONF_AUTH_FAILED, CONF_BRAND
from ..base import BrandOptions, CameraHubError, InvalidOption
from .cloud import FurboClient
from .connection import async_client, async_mobile_id, event_interval
from .const import (
    BRAND,
    CONF_ACCOUNT_ID,
    CONF_EMAIL,
    CONF_ENC_PASSWORD,
    CONF_EVENT_INTERVAL,
    CONF_TOKEN,
    MAX_EVENT_INTERVAL,
    MIN_EVENT_INTERVAL,
)
from .errors import (
    FurboCodeExpired,
    FurboCodeRequired,
    FurboCodeWrong,
    FurboPasswordRejected,
    FurboRateLimited,
    FurboTooManyAttempts,
)
from .models import CodeChallenge, Login

_LOGGER = logging.getLogger(__name__)

CONF_PASSWORD = "password"  # noqa: S105 - a form field's name
CONF_CODE = "code"

_CREDENTIALS = vol.Schema(
    {
        vol.Required(CONF_EMAIL): TextSelector(TextSelectorConfig(type=TextSelectorType.EMAIL)),
        vol.Required(CONF_PASSWORD): TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD)),
    }
)
_CODE = vol.Schema({vol.Required(CONF_CODE): TextSelector()})


def _problem(err: CameraHubError) -> tuple[str, dict[str, str]]:
    """The form error (and its placeholders) for what the cloud answered."""
    match err:
        case FurboPasswordRejected():
            return "furbo_invalid_auth", {}
        case FurboCodeWrong():
            return "furbo_invalid_code", {}
        case FurboCodeExpired():
            return "furbo_code_expired", {}
        case FurboTooManyAttempts():
            return "furbo_too_many_attempts", {"minutes": str(err.minutes_left)}
        case FurboRateLimited():
            return "furbo_rate_limited", {"seconds": f"{max(err.time_wait, 10):.0f}"}
        case _:
            return "cannot_connect", {}


class FurboFlow(ConfigFlow):
    """Add a Furbo account; reauthenticate it with the e-mailed code (or, if it changed, the password)."""

    def __init__(self) -> None:
        super().__init__()
        self._furbo_client: FurboClient | None = None
        self._furbo_email = ""
        self._furbo_enc_password = ""
        self._furbo_challenge: CodeChallenge | None = None

    async def _furbo_login(self) -> Login:
        """Log in with what the flow holds; FurboCodeRequired sends the code and is re-raised."""
        assert self._furbo_client is not None
        mobile_id = await async_mobile_id(self.hass)
        try:
            return await self._furbo_client.async_login(
                self._furbo_email, self._furbo_enc_password, mobile_id
            )
        except FurboCodeRequired as err:
            challenge = CodeChallenge(account_id=err.account_id, candidate=err.candidate)
            self._furbo_challenge = await self._furbo_client.async_send_code(challenge)
            raise

    async def _furbo_sign_in(
        self, user_input: dict[str, Any]
    ) -> tuple[ConfigFlowResult | None, dict[str, str], dict[str, str]]:
        """Sign in with what was typed: the next step's result, or the form's errors and placeholders."""
        self._furbo_client = await async_client(self.hass)
        self._furbo_email = user_input[CONF_EMAIL].strip()
        try:
            self._furbo_enc_password = self._furbo_client.encrypt(user_input[CONF_PASSWORD])
            login = await self._furbo_login()
        except FurboCodeRequired:
            return await self.async_step_furbo_code(), {}, {}
        except CameraHubError as err:
            error, placeholders = _problem(err)
            return None, {"base": error}, placeholders
        return await self._furbo_finish(login), {}, {}

    async def async_step_furbo(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            result, errors, placeholders = await self._furbo_sign_in(user_input)
            if result is not None:
                return result
        return self.async_show_form(
            step_id="furbo",
            data_schema=self.add_suggested_values_to_schema(_CREDENTIALS, {CONF_EMAIL: self._furbo_email}),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_furbo_code(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The code Furbo just e-mailed (an expired one sends a new code)."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {"email": self._furbo_email}
        if user_input is not None:
            assert self._furbo_client is not None
            assert self._furbo_challenge is not None
            mobile_id = await async_mobile_id(self.hass)
            try:
                login = await self._furbo_client.async_login_with_code(
                    self._furbo_email,
                    self._furbo_enc_password,
                    mobile_id,
                    self._furbo_challenge,
                    user_input[CONF_CODE].strip(),
                )
            except FurboCodeExpired as err:
                errors["base"], extra = _problem(err)
                placeholders.update(extra)
                try:
                    self._furbo_challenge = await self._furbo_client.async_send_code(self._furbo_challenge)
                except CameraHubError:
                    _LOGGER.debug("Sending a new Furbo code failed")
            except CameraHubError as err:
                errors["base"], extra = _problem(err)
                placeholders.update(extra)
            else:
                return await self._furbo_finish(login)
        return self.async_show_form(
            step_id="furbo_code", data_schema=_CODE, errors=errors, description_placeholders=placeholders
        )

    async def _furbo_finish(self, login: Login) -> ConfigFlowResult:
        """A new entry; after reauth or reconfigure, the same account's entry updated and reloaded."""
        data = {
            CONF_BRAND: BRAND,
            CONF_EMAIL: self._furbo_email,
            CONF_ENC_PASSWORD: self._furbo_enc_password,
            CONF_ACCOUNT_ID: login.account_id,
            CONF_TOKEN: login.token,
        }
        await self.async_set_unique_id(f"furbo_{login.account_id}")
        if self.source in (SOURCE_REAUTH, SOURCE_RECONFIGURE):
            entry = (
                self._get_reauth_entry() if self.source == SOURCE_REAUTH else self._get_reconfigure_entry()
            )
            self._abort_if_unique_id_mismatch(reason="wrong_account")
            clean = {key: value for key, value in entry.data.items() if key != CONF_AUTH_FAILED}
            reason = "reauth_successful" if self.source == SOURCE_REAUTH else "furbo_reconfigured"
            # A changed e-mail shows in the title too, unless the person renamed the entry.
            title = self._furbo_email if entry.title == entry.data[CONF_EMAIL] else entry.title
            return self.async_update_reload_and_abort(
                entry, title=title, data={**clean, **data}, reason=reason
            )
        self._abort_if_unique_id_configured()
        return self.async_create_entry(title=self._furbo_email, data=data)

    # --- reauthentication: the code only, while the stored password still works -------------

    async def async_step_furbo_reauth(self, entry_data: Any = None) -> ConfigFlowResult:
        entry = self._get_reauth_entry()
        self._furbo_email = entry.data[CONF_EMAIL]
        self._furbo_enc_password = entry.data[CONF_ENC_PASSWORD]
        return await self.async_step_furbo_reauth_confirm()

    async def async_step_furbo_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Submitting logs in with the stored password: Furbo then e-mails the code."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {"email": self._furbo_email}
        if user_input is not None:
            self._furbo_client = await async_client(self.hass)
            try:
                login = await self._furbo_login()
            except FurboCodeRequired:
                return await self.async_step_furbo_code()
            except FurboPasswordRejected:
                return await self.async_step_furbo_reauth_password()
            except CameraHubError as err:
                errors["base"], extra = _problem(err)
                placeholders.update(extra)
            else:
                return await self._furbo_finish(login)
        return self.async_show_form(
            step_id="furbo_reauth_confirm", errors=errors, description_placeholders=placeholders
        )

    async def async_step_furbo_reauth_password(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The stored password no longer works (it was changed): the new one."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {"email": self._furbo_email}
        schema = vol.Schema(
            {vol.Required(CONF_PASSWORD): TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))}
        )
        if user_input is not None:
            self._furbo_client = self._furbo_client or await async_client(self.hass)
            try:
                self._furbo_enc_password = self._furbo_client.encrypt(user_input[CONF_PASSWORD])
                login = await self._furbo_login()
            except FurboCodeRequired:
                return await self.async_step_furbo_code()
            except CameraHubError as err:
                errors["base"], extra = _problem(err)
                placeholders.update(extra)
            else:
                return await self._furbo_finish(login)
        return self.async_show_form(
            step_id="furbo_reauth_password",
            data_schema=schema,
            errors=errors,
            description_placeholders=placeholders,
        )

    # --- reconfiguration: the account's e-mail and password (the same account) -----------------

    async def async_step_furbo_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """New sign-in details for the same Furbo account; the e-mailed code follows if Furbo asks."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            result, errors, placeholders = await self._furbo_sign_in(user_input)
            if result is not None:
                return result
        suggested = {CONF_EMAIL: self._furbo_email or entry.data[CONF_EMAIL]}
        return self.async_show_form(
            step_id="furbo_reconfigure",
            data_schema=self.add_suggested_values_to_schema(_CREDENTIALS, suggested),
            errors=errors,
            description_placeholders=placeholders,
        )


# --- the account's options (shown by the core's options flow: BrandSpec.options) -----------------


def _options_fields(entry: ConfigEntry[Any]) -> dict[Any, Any]:
    in_effect = int(event_interval(entry.options).total_seconds())
    # No min/max on the selector: its refusal would be an untranslated schema error; _clean_options
    # says what the limits are and why.
    return {
        vol.Required(CONF_EVENT_INTERVAL, default=in_effect): NumberSelector(
            NumberSelectorConfig(step=1, unit_of_measurement="s", mode=NumberSelectorMode.BOX)
        )
    }


def _clean_options(user_input: Mapping[str, Any]) -> dict[str, Any]:
    seconds = user_input[CONF_EVENT_INTERVAL]
    if seconds < MIN_EVENT_INTERVAL:
        raise InvalidOption(CONF_EVENT_INTERVAL, "furbo_event_interval_too_short")
    if seconds > MAX_EVENT_INTERVAL:
        raise InvalidOption(CONF_EVENT_INTERVAL, "furbo_event_interval_too_long")
    return {CONF_EVENT_INTERVAL: int(seconds)}


FURBO_OPTIONS = BrandOptions(fields=_options_fields, clean=_clean_options)
