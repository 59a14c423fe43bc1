"""Live view and snapshots (HD, and SD disabled by default), plus the PTZ and preset actions."""

from __future__ import annotations

from homeassistant.components.camera import Camera, CameraEntityDescription
from homeassistant.components.camera.const import CameraEntityFeature
from homeassistant.components.ffmpeg import async_get_image
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import (
    CONF_LIVE_STREAM,
    CONF_SNAPSHOT_MAX_AGE,
    DEFAULT_LIVE_STREAM,
    DEFAULT_SNAPSHOT_MAX_AGE,
    DOMAIN,
)
from .coordinator import CameraHubConfigEntry, CameraHubCoordinator
from .entity import CameraHubEntity
from .streaming.snapshots import SnapshotCache
from .vendors.base import CameraHubError, Direction

PARALLEL_UPDATES = 0

HD = CameraEntityDescription(key="hd", name=None)
SD = CameraEntityDescription(key="sd", translation_key="sd_stream", entity_registry_enabled_default=False)


async def async_setup_entry(
    hass: HomeAssistant, entry: CameraHubConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    coordinator = entry.runtime_data.coordinator
    max_age = float(entry.options.get(CONF_SNAPSHOT_MAX_AGE, DEFAULT_SNAPSHOT_MAX_AGE))
    # The main entity streams what the user chose for live view; the SD entity is always SD.
    live_stream = entry.options.get(CONF_LIVE_STREAM, DEFAULT_LIVE_STREAM)
    async_add_entities(
        [
            CameraHubCamera(coordinator, HD, live_stream, max_age),
            CameraHubCamera(coordinator, SD, "sd", max_age),
        ]
    )


class CameraHubCamera(CameraHubEntity, Camera):
    _attr_supported_features = CameraEntityFeature.STREAM

    def __init__(
        self,
        coordinator: CameraHubCoordinator,
        description: CameraEntityDescription,
        stream: str,
        max_age: float,
    ) -> None:
        CameraHubEntity.__init__(self, coordinator, description)
        Camera.__init__(self)
        self._stream = stream
        self._snapshots = SnapshotCache(self._grab_frame, max_age)

    async def stream_source(self) -> str | None:
        try:
            return await self.backend.async_stream_url(self._stream)
        except CameraHubError:
            return None

    async def async_camera_image(self, width: int | None = None, height: int | None = None) -> bytes | None:
        return await self._snapshots.get()

    async def _grab_frame(self) -> bytes | None:
        """One frame through HA's ffmpeg helper; the stream URI is looked up again after a failure."""
        url = await self.stream_source()
        if url is None:
            return None
        image = await async_get_image(self.hass, url)
        if not image:
            self.backend.invalidate_stream_url()
            return None
        return image

    # --- entity actions (registered in services.py) ---------------------------------------

    async def async_ptz_move(self, direction: str, step: int) -> None:
        await self.async_command(self.backend.async_move(Direction(direction), step))

    async def async_ptz_stop(self) -> None:
        await self.async_command(self.backend.async_stop())

    async def async_ptz_home(self) -> None:
        await self.async_command(self.backend.async_home())

    async def async_go_to_preset(self, preset: str) -> None:
        await self.async_command(self.backend.async_go_to_preset(self._preset_id(preset)))

    async def async_save_preset(self, name: str) -> None:
        await self.async_command(self.backend.async_save_preset(name))

    async def async_delete_preset(self, preset: str) -> None:
        await self.async_command(self.backend.async_delete_preset(self._preset_id(preset)))

    def _preset_id(self, preset: str) -> str:
        """A preset named by id or by name."""
        presets = self.coordinator.data.presets
        if preset in presets:
            return preset
        for preset_id, name in presets.items():
            if name.casefold() == preset.casefold():
                return preset_id
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unknown_preset",
            translation_placeholders={"preset": preset, "presets": ", ".join(presets.values()) or "-"},
        )
