"""Preset (go to a saved position) and night-vision mode."""

from __future__ import annotations

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .cameras import CameraHubConfigEntry, CameraRuntime
from .entity import CameraHubEntity

PARALLEL_UPDATES = 1
NIGHT_VISION_MODES = ["auto", "on", "off"]

PRESET = SelectEntityDescription(key="preset", translation_key="preset")
NIGHT_VISION = SelectEntityDescription(
    key="night_vision",
    translation_key="night_vision",
    entity_category=EntityCategory.CONFIG,
    options=NIGHT_VISION_MODES,
)


async def async_setup_entry(
    hass: HomeAssistant, entry: CameraHubConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    @callback
    def add(camera: CameraRuntime) -> None:
        capabilities = camera.backend.capabilities
        entities: list[SelectEntity] = []
        if capabilities.presets:
            entities.append(PresetSelect(camera, PRESET))
        if capabilities.night_vision:
            entities.append(NightVisionSelect(camera, NIGHT_VISION))
        async_add_entities(entities)

    entry.async_on_unload(entry.runtime_data.async_for_each_camera(add))


class PresetSelect(CameraHubEntity, SelectEntity):
    """Options are the camera's preset names; the state is not remembered (the camera may have moved)."""

    _attr_current_option = None

    @property
    def options(self) -> list[str]:
        return list(self.coordinator.data.presets.values())

    async def async_select_option(self, option: str) -> None:
        presets = self.coordinator.data.presets
        preset_id = next(i for i, name in presets.items() if name == option)
        await self.async_command(self.backend.async_go_to_preset(preset_id))


class NightVisionSelect(CameraHubEntity, SelectEntity):
    @property
    def current_option(self) -> str | None:
        return self.coordinator.data.night_vision

    async def async_select_option(self, option: str) -> None:
        await self.async_command(self.backend.async_set_night_vision(option))
