"""Turn backend errors into Home Assistant errors a person can read (translated, never raw)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

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
from .vendors.tapo import TapoSettings


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
