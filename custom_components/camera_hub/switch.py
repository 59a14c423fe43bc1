"""Privacy, motion detection, person detection and the status LED."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .cameras import CameraHubConfigEntry, CameraRuntime
from .entity import CameraHubEntity
from .vendors.base import CameraState, Capabilities

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class CameraHubSwitchDescription(SwitchEntityDescription):
    exists_fn: Callable[[Capabilities], bool]
    value_fn: Callable[[CameraState], bool | None]


SWITCHES = (
    CameraHubSwitchDescription(
        key="privacy",
        translation_key="privacy",
        exists_fn=lambda c: c.privacy,
        value_fn=lambda s: s.privacy,
    ),
    CameraHubSwitchDescription(
        key="motion_detection",
        translation_key="motion_detection",
        entity_category=EntityCategory.CONFIG,
        exists_fn=lambda c: c.motion_detection,
        value_fn=lambda s: s.motion_detection,
    ),
    CameraHubSwitchDescription(
        key="person_detection",
        translation_key="person_detection",
        entity_category=EntityCategory.CONFIG,
        exists_fn=lambda c: c.person_detection,
        value_fn=lambda s: s.person_detection,
    ),
    CameraHubSwitchDescription(
        key="led",
        translation_key="led",
        entity_category=EntityCategory.CONFIG,
        exists_fn=lambda c: c.led,
        value_fn=lambda s: s.led,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant, entry: CameraHubConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    @callback
    def add(camera: CameraRuntime) -> None:
        capabilities = camera.backend.capabilities
        async_add_entities(CameraHubSwitch(camera, d) for d in SWITCHES if d.exists_fn(capabilities))

    entry.async_on_unload(entry.runtime_data.async_for_each_camera(add))


class CameraHubSwitch(CameraHubEntity, SwitchEntity):
    entity_description: CameraHubSwitchDescription

    @property
    def is_on(self) -> bool | None:
        return self.entity_description.value_fn(self.coordinator.data)

    async def async_turn_on(self, **kwargs: Any) -> None:
        await self.async_command(self.backend.async_set_switch(self.entity_description.key, True))

    async def async_turn_off(self, **kwargs: Any) -> None:
        await self.async_command(self.backend.async_set_switch(self.entity_description.key, False))
