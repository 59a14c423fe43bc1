"""Diagnostics: what Camera Hub knows about an entry and each of its cameras (capabilities, the last
state read with the brand's readings and notices), with every secret and identifier redacted (the
core's keys below plus the brand's own, from the registry)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_EMAIL, CONF_HOST, CONF_PASSWORD, CONF_TOKEN, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from .cameras import CameraHubConfigEntry, CameraRuntime
from .const import DOMAIN

TO_REDACT = {
    CONF_PASSWORD,  # a device's or an account's password
    CONF_USERNAME,  # account names are often e-mail addresses
    CONF_EMAIL,
    CONF_TOKEN,  # cloud accounts store tokens instead of passwords
    CONF_HOST,  # the user's network layout
    "mac",  # identifies the device (and the household) on the internet's vendor lookups
    "serial",
    "unique_id",
    "camera_id",  # a MAC, a cloud device id or a device path: an identifier too
}


def _camera(camera: CameraRuntime) -> dict[str, Any]:
    backend = camera.backend
    coordinator = camera.coordinator
    return {
        "camera_id": camera.id,
        "device": asdict(backend.identity),
        "capabilities": asdict(backend.capabilities),
        **backend.diagnostics(),
        "limitation": backend.limitation.issue if backend.limitation else None,
        "last_update_success": coordinator.last_update_success,
        "state": asdict(coordinator.data) if coordinator.data else None,
    }


def _redacted(entry: CameraHubConfigEntry, data: dict[str, Any]) -> dict[str, Any]:
    redacted: dict[str, Any] = async_redact_data(data, TO_REDACT | entry.runtime_data.brand.to_redact)
    return redacted


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: CameraHubConfigEntry
) -> dict[str, Any]:
    runtime = entry.runtime_data
    hub = runtime.connection.hub
    return _redacted(
        entry,
        {
            "entry": {"data": dict(entry.data), "options": dict(entry.options), "unique_id": entry.unique_id},
            "brand": runtime.brand.key,
            # An account's own device is often named by the account (an e-mail address).
            "hub": async_redact_data(asdict(hub.identity), {"name"}) if hub else None,
            "cameras": [_camera(camera) for camera in runtime.cameras.values()],
        },
    )


async def async_get_device_diagnostics(
    hass: HomeAssistant, entry: CameraHubConfigEntry, device: dr.DeviceEntry
) -> dict[str, Any]:
    """One camera's part (an account's hub device: the entry's without its cameras)."""
    ids = {identifier for domain, identifier in device.identifiers if domain == DOMAIN}
    cameras = [camera for camera in entry.runtime_data.cameras.values() if camera.id in ids]
    if not cameras:
        entry_part = await async_get_config_entry_diagnostics(hass, entry)
        return {**entry_part, "cameras": []}
    return _redacted(entry, {"brand": entry.runtime_data.brand.key, "camera": _camera(cameras[0])})
