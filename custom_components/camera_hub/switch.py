"""Privacy, motion detection, person detection, the status LED, a floodlight and a siren, and the brand's
own on/off settings (`Capabilities.toggles`: Furbo's smart alerts)."""

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
from .vendors.base import CameraState, Capabilities, Toggle

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
    CameraHubSwitchDescription(
        key="light",
        translation_key="light",
        exists_fn=lambda c: c.light,
        value_fn=lambda s: s.light,
    ),
    CameraHubSwitchDescription(
        key="siren",
        translation_key="siren",
        exists_fn=lambda c: c.siren,
        value_fn=lambda s: s.siren,
    ),
)


def _toggle_description(toggle: Toggle) -> CameraHubSwitchDescription:
    key = toggle.key
    return CameraHubSwitchDescription(
        key=key,
        translation_key=toggle.translation_key,
        translation_placeholders=dict(toggle.placeholders),
        entity_category=EntityCategory.CONFIG if toggle.config else None,
        entity_registry_enabled_default=toggle.enabled_default,
        exists_fn=lambda c: True,
        value_fn=lambda s: s.toggles.get(key),
    )


async def async_setup_entry(
    hass: HomeAssistant, entry: CameraHubConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    @callback
    def add(camera: CameraRuntime) -> None:
        capabilities = camera.backend.capabilities
        descriptions = [d for d in SWITCHES if d.exists_fn(capabilities)]
        descriptions += [_toggle_description(toggle) for toggle in capabilities.toggles]
        async_add_entities(CameraHubSwitch(camera, d) for d in descriptions)

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
