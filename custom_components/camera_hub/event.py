"""Events the camera pushes (Tapo: motion over ONVIF PullPoint)."""

from __future__ import annotations

from homeassistant.components.event import EventDeviceClass, EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .cameras import CameraHubConfigEntry, CameraRuntime
from .entity import CameraHubEntity
from .vendors.base import CameraEvent

PARALLEL_UPDATES = 0
MOTION_EVENT = "motion"

MOTION = EventEntityDescription(
    key="motion", translation_key="motion", device_class=EventDeviceClass.MOTION, event_types=[MOTION_EVENT]
)


async def async_setup_entry(
    hass: HomeAssistant, entry: CameraHubConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    @callback
    def add(camera: CameraRuntime) -> None:
        if camera.backend.capabilities.motion_events:
            async_add_entities([MotionEvent(camera, MOTION)])

    entry.async_on_unload(entry.runtime_data.async_for_each_camera(add))


class MotionEvent(CameraHubEntity, EventEntity):
    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self.async_on_remove(self.coordinator.async_add_event_listener(self._handle_event))

    @callback
    def _handle_event(self, event: CameraEvent) -> None:
        # An event marks motion starting; its end is no new occurrence.
        if event.type == MOTION_EVENT and event.active:
            self._trigger_event(MOTION_EVENT)
            self.async_write_ha_state()
