"""Events the camera pushes: one entity per event spec the brand declares (Tapo: motion over ONVIF;
Ring: ding, motion, intercom unlock; Furbo: the pet camera's vocabulary)."""

from __future__ import annotations

from homeassistant.components.event import EventDeviceClass, EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .cameras import CameraHubConfigEntry, CameraRuntime
from .entity import CameraHubEntity
from .vendors.base import MOTION_EVENTS, CameraEvent, Capabilities, EventSpec

PARALLEL_UPDATES = 0


def event_specs(capabilities: Capabilities) -> list[EventSpec]:
    """The camera's event entities: Tapo's motion first, then the brand's, one per key."""
    specs = [MOTION_EVENTS] if capabilities.motion_events else []
    for spec in capabilities.events:
        if all(spec.key != known.key for known in specs):
            specs.append(spec)
    return specs


def _description(spec: EventSpec) -> EventEntityDescription:
    return EventEntityDescription(
        key=spec.key,
        translation_key=spec.translation_key,
        device_class=EventDeviceClass(spec.device_class) if spec.device_class else None,
        event_types=list(spec.event_types),
    )


async def async_setup_entry(
    hass: HomeAssistant, entry: CameraHubConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    @callback
    def add(camera: CameraRuntime) -> None:
        async_add_entities(
            CameraHubEvent(camera, _description(spec)) for spec in event_specs(camera.backend.capabilities)
        )

    entry.async_on_unload(entry.runtime_data.async_for_each_camera(add))


class CameraHubEvent(CameraHubEntity, EventEntity):
    """Fires the pushed events whose type this entity lists, with the brand's attributes."""

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self.async_on_remove(self.coordinator.async_add_event_listener(self._handle_event))

    @callback
    def _handle_event(self, event: CameraEvent) -> None:
        # An event marks something starting; the end of a condition (motion stopped) is no new occurrence.
        if event.active and event.type in self.event_types:
            self._trigger_event(event.type, dict(event.attributes) or None)
            self.async_write_ha_state()
