"""Diagnostics: what Camera Hub knows about one camera, with every secret and identifier redacted."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant

from .const import CONF_CLOUD_PASSWORD
from .coordinator import CameraHubConfigEntry

TO_REDACT = {
    CONF_PASSWORD,  # camera account (RTSP/ONVIF)
    CONF_CLOUD_PASSWORD,  # TP-Link account: opens the control API and the cloud
    CONF_USERNAME,  # camera account name, often an e-mail address
    CONF_HOST,  # the user's network layout
    "mac",  # identifies the device (and the household) on the internet's vendor lookups
    "serial",
    "unique_id",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: CameraHubConfigEntry
) -> dict[str, Any]:
    backend = entry.runtime_data.backend
    coordinator = entry.runtime_data.coordinator
    return async_redact_data(
        {
            "entry": {"data": dict(entry.data), "options": dict(entry.options), "unique_id": entry.unique_id},
            "device": asdict(backend.identity),
            "control_method": backend.control_method.value,
            "control_error": str(backend.control_error) if backend.control_error else None,
            "onvif": backend.onvif_available,
            "capabilities": asdict(backend.capabilities),
            "last_update_success": coordinator.last_update_success,
            "state": asdict(coordinator.data) if coordinator.data else None,
        },
        TO_REDACT,
    )
