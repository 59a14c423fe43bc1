"""The base of every Camera Hub entity: one device per camera, unique ids from the MAC."""

from __future__ import annotations

from collections.abc import Awaitable

from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import CameraHubCoordinator
from .helpers import raise_for, remember_rejected_credential
from .vendors.base import AuthFailed, CameraHubError
from .vendors.tapo import TapoBackend


class CameraHubEntity(CoordinatorEntity[CameraHubCoordinator]):
    _attr_has_entity_name = True

    def __init__(self, coordinator: CameraHubCoordinator, description: EntityDescription) -> None:
        super().__init__(coordinator)
        self.entity_description = description
        identity = coordinator.backend.identity
        unique_id = coordinator.config_entry.unique_id or identity.mac
        self._attr_unique_id = f"{unique_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, unique_id)},
            connections={(dr.CONNECTION_NETWORK_MAC, identity.mac)} if ":" in identity.mac else set(),
            manufacturer="TP-Link",
            model=identity.model,
            name=identity.name,
            sw_version=identity.firmware or None,
            hw_version=identity.hardware,
            serial_number=identity.serial,
        )

    @property
    def backend(self) -> TapoBackend:
        return self.coordinator.backend

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
