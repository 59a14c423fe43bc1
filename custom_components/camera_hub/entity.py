"""The base of every Camera Hub entity: one device per camera, unique ids `<camera id>_<key>`."""

from __future__ import annotations

from collections.abc import Awaitable

from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .cameras import CameraRuntime
from .coordinator import CameraHubCoordinator
from .helpers import raise_for, remember_rejected_credential
from .vendors.base import AuthFailed, CameraBackend, CameraHubError


class CameraHubEntity(CoordinatorEntity[CameraHubCoordinator]):
    _attr_has_entity_name = True

    def __init__(self, camera: CameraRuntime, description: EntityDescription) -> None:
        super().__init__(camera.coordinator)
        self.camera = camera
        self.entity_description = description
        self._attr_unique_id = f"{camera.id}_{description.key}"
        self._attr_device_info = camera.device_info

    @property
    def backend(self) -> CameraBackend:
        return self.camera.backend

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        # A camera its account no longer reports: the entity leaves (HA shows it unavailable).
        self.async_on_remove(self.camera.async_on_gone(self.async_remove))

    async def async_command(self, command: Awaitable[object]) -> None:
        """Run a camera command: map its errors to HA's, then read the camera back at once.

        A direct refresh rather than a debounced request: two commands in a row must both show.
        """
        try:
            await command
        except CameraHubError as err:
            if isinstance(err, AuthFailed):
                remember_rejected_credential(self.hass, self.coordinator.config_entry, err)
                self.hass.config_entries.async_schedule_reload(self.coordinator.config_entry.entry_id)
            raise_for(err)
        await self.coordinator.async_refresh()
