"""Diagnostics: which control login the camera accepts (or stream-only)."""

from __future__ import annotations

from homeassistant.components.sensor import SensorDeviceClass, SensorEntity, SensorEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import CameraHubConfigEntry
from .entity import CameraHubEntity
from .vendors.base import ControlMethod

PARALLEL_UPDATES = 0

CONTROL_METHOD = SensorEntityDescription(
    key="control_method",
    translation_key="control_method",
    device_class=SensorDeviceClass.ENUM,
    entity_category=EntityCategory.DIAGNOSTIC,
    options=[method.value for method in ControlMethod],
)


async def async_setup_entry(
    hass: HomeAssistant, entry: CameraHubConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    async_add_entities([ControlMethodSensor(entry.runtime_data.coordinator, CONTROL_METHOD)])


class ControlMethodSensor(CameraHubEntity, SensorEntity):
    @property
    def native_value(self) -> str:
        return self.backend.control_method.value
