"""Live view and snapshots (HD, and SD disabled by default), plus the PTZ and preset actions.

Each entity belongs to one camera of the entry (`self.camera`, a `cameras.CameraRuntime`): its backend
(`self.camera.backend`, and `.video(stream)` for the stream's video source), its coordinator and the
frame hub of its stream (`self.camera.hubs[stream]`).
"""

from __future__ import annotations

from aiohttp import web
from homeassistant.components.camera import Camera, CameraEntityDescription
from homeassistant.components.camera.const import CameraEntityFeature
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .cameras import CameraHubConfigEntry, CameraRuntime
from .const import (
    CONF_LIVE_STREAM,
    CONF_SNAPSHOT_MAX_AGE,
    DEFAULT_LIVE_STREAM,
    DEFAULT_SNAPSHOT_MAX_AGE,
    DOMAIN,
)
from .entity import CameraHubEntity
from .streaming.frames import FrameHub
from .vendors.base import CameraHubError, Direction, RtspVideo

PARALLEL_UPDATES = 0
_BOUNDARY = "camerahubframe"

HD = CameraEntityDescription(key="hd", name=None)
SD = CameraEntityDescription(key="sd", translation_key="sd_stream", entity_registry_enabled_default=False)


async def async_setup_entry(
    hass: HomeAssistant, entry: CameraHubConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    max_age = float(entry.options.get(CONF_SNAPSHOT_MAX_AGE, DEFAULT_SNAPSHOT_MAX_AGE))
    live_stream = entry.options.get(CONF_LIVE_STREAM, DEFAULT_LIVE_STREAM)

    @callback
    def add(camera: CameraRuntime) -> None:
        streams = camera.backend.capabilities.streams
        if not streams:
            return
        # The main entity streams what the user chose for live view; the SD entity is always SD.
        entities = [
            CameraHubCamera(camera, HD, live_stream if live_stream in streams else streams[0], max_age)
        ]
        if "sd" in streams:
            entities.append(CameraHubCamera(camera, SD, "sd", max_age))
        async_add_entities(entities)

    entry.async_on_unload(entry.runtime_data.async_for_each_camera(add))


class CameraHubCamera(CameraHubEntity, Camera):
    _attr_supported_features = CameraEntityFeature.STREAM

    def __init__(
        self,
        camera: CameraRuntime,
        description: CameraEntityDescription,
        stream: str,
        max_age: float,
    ) -> None:
        CameraHubEntity.__init__(self, camera, description)
        Camera.__init__(self)
        self._stream = stream
        self._max_age = max_age
        self._last_good: bytes | None = None

    async def stream_source(self) -> str | None:
        video = self.backend.video(self._stream)
        if not isinstance(video, RtspVideo):
            return None
        try:
            return await video.url()
        except CameraHubError:
            return None

    @property
    def _hub(self) -> FrameHub | None:
        return self.camera.hubs.get(self._stream)

    async def async_camera_image(self, width: int | None = None, height: int | None = None) -> bytes | None:
        """The hub's newest frame when fresh enough; otherwise the next one, which concurrent requests
        share (one upstream, one JPEG encode). A failed wait returns the last good picture, or None:
        never a broken image.
        """
        if (hub := self._hub) is None:
            return None
        frame = await hub.snapshot(self._max_age)
        if frame is not None:
            self._last_good = frame.jpeg
        return self._last_good

    async def handle_async_mjpeg_stream(self, request: web.Request) -> web.StreamResponse | None:
        """MJPEG for any number of viewers from the one upstream; a slow viewer skips frames."""
        if (hub := self._hub) is None:
            return await super().handle_async_mjpeg_stream(request)
        response = web.StreamResponse()
        response.content_type = "multipart/x-mixed-replace"
        response.headers["Content-Type"] = f"multipart/x-mixed-replace;boundary={_BOUNDARY}"
        await response.prepare(request)
        async for frame in hub.frames():
            header = f"--{_BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(frame.jpeg)}\r\n\r\n"
            await response.write(header.encode() + frame.jpeg + b"\r\n")
        return response

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
