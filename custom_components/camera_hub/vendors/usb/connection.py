"""The USB entry's connection: this host's chosen webcams, each a camera.

The cameras are the ones the user added (entry data), present or not: an unplugged webcam keeps its
device and entities, shown unavailable, and comes back by itself. A webcam removed in the entry's
reconfigure step leaves the connection, and its device can then be deleted (core rule).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

from ..base import CameraBackend, Hub
from .backend import UsbBackend, UsbCamera
from .const import CONF_CAMERAS


def configured_cameras(data: Mapping[str, Any]) -> dict[str, UsbCamera]:
    return {
        camera_id: UsbCamera.from_data(camera_id, camera)
        for camera_id, camera in data.get(CONF_CAMERAS, {}).items()
    }


class UsbConnection:
    """Nothing to log in to: the webcams are files on this host."""

    hub: Hub | None = None
    address = "this host"

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
        self._backends = {
            camera_id: UsbBackend(camera, hass.async_add_executor_job)
            for camera_id, camera in configured_cameras(entry.data).items()
        }

    @property
    def cameras(self) -> Mapping[str, CameraBackend]:
        return self._backends

    async def async_connect(self) -> None:
        return

    async def async_close(self) -> None:
        return

    def entry_data_updates(self) -> Mapping[str, Any]:
        return {}

    def subscribe_cameras(self, on_change: Callable[[], None]) -> Callable[[], None] | None:
        return None
