"""Sensors: how Camera Hub reaches the camera's controls (Tapo: which login, or stream-only), and the
brand's own readings (`Capabilities.readings`: Ring's battery and push listener, Furbo's daily activity)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from .cameras import CameraHubConfigEntry, CameraRuntime
from .entity import CameraHubEntity
from .vendors.base import Reading

PARALLEL_UPDATES = 0

CONTROL_METHOD = SensorEntityDescription(
    key="control_method",
    translation_key="control_method",
    device_class=SensorDeviceClass.ENUM,
    entity_category=EntityCategory.DIAGNOSTIC,
)


def _reading_description(reading: Reading) -> SensorEntityDescription:
    return SensorEntityDescription(
        key=reading.key,
        translation_key=reading.translation_key,
        translation_placeholders=dict(reading.placeholders),
        device_class=SensorDeviceClass(reading.device_class) if reading.device_class else None,
        state_class=SensorStateClass(reading.state_class) if reading.state_class else None,
        native_unit_of_measurement=reading.unit,
        options=list(reading.options) if reading.options else None,
        entity_category=EntityCategory.DIAGNOSTIC if reading.diagnostic else None,
        entity_registry_enabled_default=reading.enabled_default,
    )


async def async_setup_entry(
    hass: HomeAssistant, entry: CameraHubConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    @callback
    def add(camera: CameraRuntime) -> None:
        capabilities = camera.backend.capabilities
        sensors: list[SensorEntity] = []
        # The options are the brand's methods; a brand with one way to its controls has no sensor.
        if methods := capabilities.control_methods:
            sensors.append(ControlMethodSensor(camera, replace(CONTROL_METHOD, options=list(methods))))
        sensors += [ReadingSensor(camera, _reading_description(r)) for r in capabilities.readings]
        async_add_entities(sensors)

    entry.async_on_unload(entry.runtime_data.async_for_each_camera(add))


class ControlMethodSensor(CameraHubEntity, SensorEntity):
    @property
    def native_value(self) -> str | None:
        return self.backend.control_method


class ReadingSensor(CameraHubEntity, SensorEntity):
    """One of the brand's readings, from the camera's batched state read."""

    @property
    def native_value(self) -> StateType | date | datetime | Decimal:
        value: StateType | date | datetime | Decimal = self.coordinator.data.readings.get(
            self.entity_description.key
        )
        return value
