"""Glue between Home Assistant and the backends: building one, and its errors as HA errors a person
can read (translated, never raw)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.aiohttp_client import async_create_clientsession

from .const import (
    CONF_AUTH_FAILED,
    CONF_CLOUD_PASSWORD,
    CONF_CONTROL_METHOD,
    CONF_CONTROL_PORT,
    CONF_ONVIF_PORT,
    CONF_RTSP_PORT,
    DEFAULT_CONTROL_PORT,
    DEFAULT_ONVIF_PORT,
    DEFAULT_RTSP_PORT,
    DOMAIN,
)
from .vendors.base import AuthFailed, CameraHubError, ControlMethod, LockedOut, NotSupported, Unreachable
from .vendors.tapo import TapoBackend, TapoSettings
from .vendors.tapo_control import Discovery, http_cookie_jar


def tapo_backend(
    hass: HomeAssistant, data: Mapping[str, Any], http_session: Any, discovery: Discovery | None = None
) -> TapoBackend:
    """A backend for the camera described by `data`, on HA's executor and the given HTTP session."""
    return TapoBackend(
        tapo_settings(data),
        hass.async_add_executor_job,
        http_session=http_session,
        event_loop_owner=hass,
        discovery=discovery,
    )


def tapo_http_session(hass: HomeAssistant, *, auto_cleanup: bool = True) -> Any:
    """An HTTP session from HA for python-kasa's logins; python-kasa uses it without closing it.

    Created during a config entry's setup, HA closes it when the entry unloads. Tapo cameras serve
    self-signed certificates and set cookies on bare IP addresses: no certificate check, and
    python-kasa's own cookie-jar settings (as HA's tplink integration does).
    """
    return async_create_clientsession(
        hass, verify_ssl=False, cookie_jar=http_cookie_jar(), auto_cleanup=auto_cleanup
    )


def raise_for(err: CameraHubError) -> NoReturn:
    """Raise the HA error that explains `err`."""
    if isinstance(err, NotSupported):
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="not_supported") from err
    if isinstance(err, AuthFailed):
        raise HomeAssistantError(translation_domain=DOMAIN, translation_key="auth_failed") from err
    if isinstance(err, LockedOut):
        minutes = str(err.minutes_left)
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="locked_out",
            translation_placeholders={"minutes": minutes},
        ) from err
    if isinstance(err, Unreachable):
        raise HomeAssistantError(translation_domain=DOMAIN, translation_key="unreachable") from err
    raise HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="command_failed",
        translation_placeholders={"error": str(err)},
    ) from err


def tapo_settings(data: Mapping[str, Any]) -> TapoSettings:
    """The backend settings stored in a config entry (or typed into the flow)."""
    method = data.get(CONF_CONTROL_METHOD)
    return TapoSettings(
        host=data[CONF_HOST].strip(),
        username=data[CONF_USERNAME],
        password=data[CONF_PASSWORD],
        cloud_password=data[CONF_CLOUD_PASSWORD],
        control_port=int(data.get(CONF_CONTROL_PORT, DEFAULT_CONTROL_PORT)),
        onvif_port=int(data.get(CONF_ONVIF_PORT, DEFAULT_ONVIF_PORT)),
        rtsp_port=int(data.get(CONF_RTSP_PORT, DEFAULT_RTSP_PORT)),
        control_method=ControlMethod(method) if method and method != ControlMethod.STREAM_ONLY else None,
    )


def remember_rejected_credential(hass: HomeAssistant, entry: ConfigEntry, err: AuthFailed) -> None:
    """Keep setup from trying a rejected credential again (see CONF_AUTH_FAILED)."""
    if entry.data.get(CONF_AUTH_FAILED) != err.credential:
        hass.config_entries.async_update_entry(entry, data={**entry.data, CONF_AUTH_FAILED: err.credential})
