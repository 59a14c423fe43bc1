"""A Tapo entry's connection: exactly one camera, reached on the local network.

The Home Assistant glue of the brand: the backend runs pytapo on HA's executor and logs in through
python-kasa over an HTTP session that checks the camera's pinned certificate (pinning.py); what the
first contact pinned is stored in the entry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.helpers.device_registry import format_mac

from ..base import CameraBackend, Hub
from .backend import TapoBackend, TapoSettings
from .const import (
    CONF_CERT_PIN,
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
from .pinning import CertificatePin, pinned_session


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
        certificate_pin=data.get(CONF_CERT_PIN),
    )


def tapo_backend(
    hass: HomeAssistant,
    data: Mapping[str, Any],
    discovery: Discovery | None = None,
    *,
    on_certificate_changed: Callable[[], None] | None = None,
) -> TapoBackend:
    """A backend for the camera described by `data`, on HA's executor, with its own HTTP session
    pinned to the certificate `data` names (or to the first one it meets); closed with it."""
    settings = tapo_settings(data)
    pin = CertificatePin(trusted=settings.certificate_pin)
    return TapoBackend(
        settings,
        hass.async_add_executor_job,
        http_session=pinned_session(pin),
        event_loop_owner=hass,
        discovery=discovery,
        pin=pin,
        on_certificate_changed=on_certificate_changed,
    )


def learned_pin(backend: TapoBackend) -> dict[str, str]:
    """The pinned certificate, for the entry's data: pinned on this contact or before."""
    pin = backend.pin
    return {CONF_CERT_PIN: pin.trusted} if pin is not None and pin.trusted else {}


class TapoConnection:
    """One Tapo camera: its camera id is the entry's unique id (the MAC the config flow saw)."""

    hub: Hub | None = None

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
        def reload() -> None:
            hass.config_entries.async_schedule_reload(entry.entry_id)

        # A certificate change met by a running session: the reload's login refuses it and raises
        # the repair, while the streams carry on.
        self.backend = tapo_backend(hass, entry.data, on_certificate_changed=reload)
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
        except BaseException:
            await self.backend.async_close()
            raise

    async def async_close(self) -> None:
        await self.backend.async_close()

    def entry_data_updates(self) -> Mapping[str, Any]:
        """The login that worked, so the next start tries it first and costs one login; the
        certificate pinned on first contact (entries from before pinning get theirs here)."""
        method = self.backend.control_method
        learned = learned_pin(self.backend)
        if method is ControlMethod.STREAM_ONLY:
            return learned
        return {**learned, CONF_CONTROL_METHOD: method.value}

    def subscribe_cameras(self, on_change: Callable[[], None]) -> Callable[[], None] | None:
        return None
