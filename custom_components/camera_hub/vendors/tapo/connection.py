"""A Tapo entry's connection: exactly one camera, reached on the local network.

The Home Assistant glue of the brand: the backend runs pytapo on HA's executor and logs in through
python-kasa over an HTTP session from HA.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_create_clientsession
from homeassistant.helpers.device_registry import format_mac

from ..base import CameraBackend, CameraHubError, Hub
from .backend import TapoBackend, TapoSettings
from .const import (
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
from .control import Discovery, http_cookie_jar


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


class TapoConnection:
    """One Tapo camera: its camera id is the entry's unique id (the MAC the config flow saw)."""

    hub: Hub | None = None

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
        self.backend = tapo_backend(hass, entry.data, tapo_http_session(hass))
        self._unique_id = entry.unique_id

    @property
    def address(self) -> str:
        return self.backend.settings.host

    @property
    def cameras(self) -> Mapping[str, CameraBackend]:
        return {self._unique_id or format_mac(self.backend.identity.mac): self.backend}

    async def async_connect(self) -> None:
        try:
            await self.backend.async_connect()
        except CameraHubError:
            await self.backend.async_close()
            raise

    async def async_close(self) -> None:
        await self.backend.async_close()

    def entry_data_updates(self) -> Mapping[str, Any]:
        """The login that worked, so the next start tries it first and costs one login."""
        method = self.backend.control_method
        return {} if method is ControlMethod.STREAM_ONLY else {CONF_CONTROL_METHOD: method.value}

    def subscribe_cameras(self, on_change: Callable[[], None]) -> Callable[[], None] | None:
        return None
