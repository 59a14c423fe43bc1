"""Pan/tilt steps, motor calibration and reboot."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.components.button.const import ButtonDeviceClass
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .cameras import CameraHubConfigEntry, CameraRuntime
from .entity import CameraHubEntity
from .vendors.base import CameraBackend, Capabilities, Direction

PARALLEL_UPDATES = 1
BUTTON_STEP = 15


@dataclass(frozen=True, kw_only=True)
class CameraHubButtonDescription(ButtonEntityDescription):
    exists_fn: Callable[[Capabilities], bool]
    press_fn: Callable[[CameraBackend], Awaitable[None]]


def _move(direction: Direction) -> Callable[[CameraBackend], Awaitable[None]]:
    return lambda backend: backend.async_move(direction, BUTTON_STEP)


BUTTONS = (
    *(
        CameraHubButtonDescription(
            key=key, translation_key=key, exists_fn=lambda c: c.pan_tilt, press_fn=_move(direction)
        )
        for key, direction in (
            ("pan_left", Direction.LEFT),
            ("pan_right", Direction.RIGHT),
            ("tilt_up", Direction.UP),
            ("tilt_down", Direction.DOWN),
        )
    ),
    CameraHubButtonDescription(
        key="calibrate",
        translation_key="calibrate",
        entity_category=EntityCategory.CONFIG,
        exists_fn=lambda c: c.calibrate,
        press_fn=lambda backend: backend.async_calibrate(),
    ),
    CameraHubButtonDescription(
        key="reboot",
        device_class=ButtonDeviceClass.RESTART,
        entity_category=EntityCategory.CONFIG,
        exists_fn=lambda c: c.reboot,
        press_fn=lambda backend: backend.async_reboot(),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant, entry: CameraHubConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    @callback
    def add(camera: CameraRuntime) -> None:
        capabilities = camera.backend.capabilities
        async_add_entities(CameraHubButton(camera, d) for d in BUTTONS if d.exists_fn(capabilities))

    entry.async_on_unload(entry.runtime_data.async_for_each_camera(add))


class CameraHubButton(CameraHubEntity, ButtonEntity):
    entity_description: CameraHubButtonDescription

    async def async_press(self) -> None:
        await self.async_command(self.entity_description.press_fn(self.backend))
