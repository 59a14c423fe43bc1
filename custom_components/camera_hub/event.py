"""Motion events, pushed by the camera (ONVIF PullPoint)."""

from __future__ import annotations

from homeassistant.components.event import EventDeviceClass, EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import CameraHubConfigEntry
from .entity import CameraHubEntity

PARALLEL_UPDATES = 0
MOTION_EVENT = "motion"

MOTION = EventEntityDescription(
    key="motion", translation_key="motion", device_class=EventDeviceClass.MOTION, event_types=[MOTION_EVENT]
)


async def async_setup_entry(
    hass: HomeAssistant, entry: CameraHubConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    coordinator = entry.runtime_data.coordinator
    if coordinator.backend.capabilities.motion_events:
        async_add_entities([MotionEvent(coordinator, MOTION)])


class MotionEvent(CameraHubEntity, EventEntity):
    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self.async_on_remove(self.coordinator.async_add_motion_listener(self._handle_motion))

    @callback
    def _handle_motion(self, active: bool) -> None:
        # An event marks motion starting; its end is no new occurrence.
        if active:
            self._trigger_event(MOTION_EVENT)
            self.async_write_ha_state()
