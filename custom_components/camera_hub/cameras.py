"""An entry's cameras at runtime, whatever the brand.

`entry.runtime_data` is a `CameraHubData`: the entry's brand, its `Connection`, and one `CameraRuntime`
per camera — where every entity finds its camera's backend, coordinator, frame hubs and device. Platforms
add their entities through `async_for_each_camera`, which also covers cameras an account reports later.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceInfo

from .const import (
    CONF_KEEP_WARM,
    CONF_LIVE_STREAM,
    CONF_STREAM_LINGER,
    DEFAULT_LIVE_STREAM,
    DEFAULT_STREAM_LINGER,
    DOMAIN,
)
from .coordinator import CameraHubCoordinator
from .streaming.capture import open_capture
from .streaming.frames import FrameHub, Upstream
from .vendors.base import (
    BrandSpec,
    CameraBackend,
    CaptureVideo,
    CloudWebRtcVideo,
    Connection,
    DeviceIdentity,
    Hub,
    RtspVideo,
    VideoSource,
)

_LOGGER = logging.getLogger(__name__)

type CameraAdder = Callable[[CameraRuntime], None]

# Seconds between attempts to reopen a local capture device (unplugged, busy): cheap to try.
CAPTURE_BACKOFF_MAX = 2.0


@dataclass(kw_only=True)
class CameraRuntime:
    """One camera of an entry: its HA device and everything its entities use."""

    id: str  # the device identifier, and the prefix of every entity's unique id (`<id>_<key>`)
    backend: CameraBackend
    coordinator: CameraHubCoordinator
    # Stream key ("hd", "sd") → the frame hub every viewer and snapshot of that stream shares; only
    # for streams whose video source a hub opens (see `frame_hub`).
    hubs: dict[str, FrameHub]
    device_info: DeviceInfo
    _gone_listeners: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    @callback
    def async_on_gone(self, listener: Callable[[], Awaitable[None]]) -> CALLBACK_TYPE:
        """Call `listener` when the connection stops reporting this camera."""
        self._gone_listeners.append(listener)
        return lambda: self._gone_listeners.remove(listener)

    async def async_gone(self) -> None:
        for listener in list(self._gone_listeners):
            await listener()

    async def async_stop(self) -> None:
        for hub in self.hubs.values():
            await hub.async_stop()
        await self.coordinator.async_shutdown()


@dataclass(kw_only=True)
class CameraHubData:
    brand: BrandSpec
    connection: Connection
    cameras: dict[str, CameraRuntime] = field(default_factory=dict)
    hub_device_id: str | None = None  # the registry id of the connection's hub device, if it has one
    # Each platform's "add this camera's entities" (see async_for_each_camera).
    adders: list[CameraAdder] = field(default_factory=list)
    sync_lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # one camera sync at a time

    @callback
    def async_for_each_camera(self, add: CameraAdder) -> CALLBACK_TYPE:
        """Call `add` for every camera now and for each one added later; returns the unsubscribe."""
        for camera in self.cameras.values():
            add(camera)
        self.adders.append(add)
        return lambda: self.adders.remove(add)


type CameraHubConfigEntry = ConfigEntry[CameraHubData]


def frame_hub(video: VideoSource | None, *, linger: float, name: str) -> FrameHub | None:
    """The frame hub that opens `video` once for every viewer and snapshot; None: no hub for it."""
    match video:
        case RtspVideo(url=url, invalidate=invalidate):
            return FrameHub(url, linger=linger, on_upstream_error=invalidate, name=name)
        case CaptureVideo() as capture:
            # A local device: opened once for every viewer; a replug is noticed within seconds.
            async def open_device() -> Upstream:
                return await asyncio.get_running_loop().run_in_executor(None, open_capture, capture)

            return FrameHub(open_device, linger=linger, name=name, backoff_max=CAPTURE_BACKOFF_MAX)
        case CloudWebRtcVideo():
            # The brand's cloud answers WebRTC offers itself and sends the media to the browser.
            return None
        case _:
            return None


def _device_info(camera_id: str, identity: DeviceIdentity, hub_device_id: str | None) -> DeviceInfo:
    info = DeviceInfo(
        identifiers={(DOMAIN, camera_id)},
        connections={(dr.CONNECTION_NETWORK_MAC, identity.mac)} if ":" in identity.mac else set(),
        manufacturer=identity.manufacturer,
        model=identity.model,
        name=identity.name,
        sw_version=identity.firmware or None,
        hw_version=identity.hardware,
        serial_number=identity.serial,
    )
    if hub_device_id is not None:
        info["via_device_id"] = hub_device_id
    return info


async def _async_start_camera(
    hass: HomeAssistant,
    entry: CameraHubConfigEntry,
    camera_id: str,
    backend: CameraBackend,
    *,
    during_setup: bool,
) -> CameraRuntime:
    """Build one camera's runtime and read it once; during setup a failed read fails the setup."""
    data = entry.runtime_data
    title = entry.title if data.brand.single_camera else backend.identity.name
    coordinator = CameraHubCoordinator(
        hass,
        entry,
        camera_id=camera_id,
        title=title,
        backend=backend,
        connection=data.connection,
        update_interval=data.brand.update_interval,
        single_camera=data.brand.single_camera,
    )
    linger = float(entry.options.get(CONF_STREAM_LINGER, DEFAULT_STREAM_LINGER))
    hubs = {
        stream: hub
        for stream in backend.capabilities.streams
        if (hub := frame_hub(backend.video(stream), linger=linger, name=f"{title} {stream}")) is not None
    }
    camera = CameraRuntime(
        id=camera_id,
        backend=backend,
        coordinator=coordinator,
        hubs=hubs,
        device_info=_device_info(camera_id, backend.identity, data.hub_device_id),
    )
    coordinator.async_report_limitation()
    try:
        if during_setup:
            await coordinator.async_config_entry_first_refresh()
        else:
            await coordinator.async_refresh()
    except BaseException:
        await camera.async_stop()
        raise
    coordinator.start_events()
    return camera


def _register_hub(hass: HomeAssistant, entry: CameraHubConfigEntry, hub: Hub) -> str:
    """The account's (or hub's) own device, registered before the cameras that hang off it."""
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, hub.id)},
        manufacturer=hub.identity.manufacturer,
        model=hub.identity.model,
        name=hub.identity.name,
        sw_version=hub.identity.firmware or None,
        serial_number=hub.identity.serial,
    )
    return device.id


async def async_start_cameras(hass: HomeAssistant, entry: CameraHubConfigEntry) -> None:
    """Set up every camera the connection holds, concurrently; the first failure fails the setup
    (the cameras that did start are in `cameras`, for the caller to stop)."""
    data = entry.runtime_data
    if (hub := data.connection.hub) is not None:
        data.hub_device_id = _register_hub(hass, entry, hub)
    backends = dict(data.connection.cameras)
    results = await asyncio.gather(
        *(
            _async_start_camera(hass, entry, camera_id, backend, during_setup=True)
            for camera_id, backend in backends.items()
        ),
        return_exceptions=True,
    )
    failures = [result for result in results if isinstance(result, BaseException)]
    for result in results:
        if isinstance(result, CameraRuntime):
            data.cameras[result.id] = result
    if failures:
        raise failures[0]


async def async_stop_cameras(entry: CameraHubConfigEntry) -> None:
    for camera in entry.runtime_data.cameras.values():
        await camera.async_stop()


async def async_keep_warm(entry: CameraHubConfigEntry, camera: CameraRuntime) -> None:
    """Open the live-view stream now and keep it open, when the user asked for that."""
    if not entry.options.get(CONF_KEEP_WARM):
        return
    if (hub := camera.hubs.get(entry.options.get(CONF_LIVE_STREAM, DEFAULT_LIVE_STREAM))) is not None:
        await hub.async_start_warm()


@callback
def async_watch_cameras(hass: HomeAssistant, entry: CameraHubConfigEntry) -> None:
    """Follow cameras that appear on or leave the connection (accounts), for as long as it is loaded."""

    @callback
    def changed() -> None:
        entry.async_create_background_task(hass, async_sync_cameras(hass, entry), "camera_hub cameras")

    if (unsubscribe := entry.runtime_data.connection.subscribe_cameras(changed)) is not None:
        entry.async_on_unload(unsubscribe)


async def async_sync_cameras(hass: HomeAssistant, entry: CameraHubConfigEntry) -> None:
    """Match the runtime to the connection's cameras now.

    A camera that left takes its entities out (HA shows them unavailable; their registry entries and
    its device stay, so the user decides: delete the device, or it comes back with the same entity
    ids); a new one is set up and every platform adds its entities.
    """
    data = entry.runtime_data
    async with data.sync_lock:
        current = dict(data.connection.cameras)
        for camera_id in [camera_id for camera_id in data.cameras if camera_id not in current]:
            camera = data.cameras.pop(camera_id)
            _LOGGER.info("%s left %s", camera.coordinator.title, entry.title)
            await camera.async_gone()
            await camera.async_stop()
        for camera_id, backend in current.items():
            if camera_id in data.cameras:
                continue
            camera = await _async_start_camera(hass, entry, camera_id, backend, during_setup=False)
            data.cameras[camera_id] = camera
            _LOGGER.info("%s joined %s", camera.coordinator.title, entry.title)
            for add in list(data.adders):
                add(camera)
            await async_keep_warm(entry, camera)
