"""Diagnostics: how Camera Hub reaches the camera's controls (Tapo: which login, or stream-only)."""

from __future__ import annotations

from dataclasses import replace

from homeassistant.components.sensor import SensorDeviceClass, SensorEntity, SensorEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .cameras import CameraHubConfigEntry, CameraRuntime
from .entity import CameraHubEntity

PARALLEL_UPDATES = 0

CONTROL_METHOD = SensorEntityDescription(
    key="control_method",
    translation_key="control_method",
    device_class=SensorDeviceClass.ENUM,
    entity_category=EntityCategory.DIAGNOSTIC,
)


async def async_setup_entry(
    hass: HomeAssistant, entry: CameraHubConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    @callback
    def add(camera: CameraRuntime) -> None:
        # The options are the brand's methods; a brand with one way to its controls has no sensor.
        if methods := camera.backend.capabilities.control_methods:
            async_add_entities([ControlMethodSensor(camera, replace(CONTROL_METHOD, options=list(methods)))])

    entry.async_on_unload(entry.runtime_data.async_for_each_camera(add))


class ControlMethodSensor(CameraHubEntity, SensorEntity):
    @property
    def native_value(self) -> str | None:
        return self.backend.control_method
