"""One USB webcam behind the CameraBackend protocol: a picture, and whether the device is there.

A webcam has no settings Camera Hub controls and pushes no events: its camera entity is all it has.
The picture comes from the frame hub, which opens the device once for every viewer and snapshot
(`video()` says how). The state read is the device's health, every 10 seconds: unplugged (its stable
path is gone), held by another program (named from /proc), or silent while someone watches. Each
makes the camera unavailable with that reason, and the next read after it is fixed brings it back.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..base import (
    CameraHubError,
    CameraState,
    Capabilities,
    CaptureVideo,
    DeviceIdentity,
    EventCallback,
    Limitation,
    NotSupported,
    Unreachable,
    Unsubscribe,
    VideoSource,
    WithoutCameraControls,
)
from .const import CONF_FOURCC, CONF_FPS, CONF_HEIGHT, CONF_NAME, CONF_PATH, CONF_WIDTH, NO_FRAMES_AFTER
from .discovery import FFMPEG_INPUT_FORMATS, CaptureDevice, CaptureMode
from .holders import describe, holders

_LOGGER = logging.getLogger(__name__)

type RunBlocking = Callable[..., Awaitable[Any]]

STREAM = "hd"  # a webcam has one stream; "hd" is every brand's main camera entity
# udev's by-id name: usb-<vendor>_<product>_<serial>-video-index<n>, spaces as "_".
_BY_ID = re.compile(r"^usb-(?P<vendor>[^_]+)_(?P<rest>.+?)-video-index\d+$")


def camera_id(device: CaptureDevice) -> str:
    """A webcam's id: its by-id name (stable across ports and renumbering), else driver and bus.

    Never /dev/videoN, which the next boot or replug may give to another device.
    """
    if device.has_stable_path:
        return Path(device.path).name
    return re.sub(r"[^A-Za-z0-9_.:-]", "_", f"{device.driver}-{device.bus_info}")


@dataclass(frozen=True, kw_only=True)
class UsbCamera:
    """A chosen webcam and its capture mode, as the entry stores it."""

    id: str
    path: str  # the stable path
    name: str
    mode: CaptureMode

    @classmethod
    def from_device(cls, device: CaptureDevice, mode: CaptureMode) -> UsbCamera:
        return cls(id=camera_id(device), path=device.path, name=device.name, mode=mode)

    @classmethod
    def from_data(cls, camera_id: str, data: Mapping[str, Any]) -> UsbCamera:
        mode = CaptureMode(
            data[CONF_FOURCC], int(data[CONF_WIDTH]), int(data[CONF_HEIGHT]), Fraction(data[CONF_FPS])
        )
        return cls(id=camera_id, path=data[CONF_PATH], name=data[CONF_NAME], mode=mode)

    def to_data(self) -> dict[str, Any]:
        return {
            CONF_PATH: self.path,
            CONF_NAME: self.name,
            CONF_FOURCC: self.mode.fourcc,
            CONF_WIDTH: self.mode.width,
            CONF_HEIGHT: self.mode.height,
            CONF_FPS: str(self.mode.fps),
        }


def identity_of(camera: UsbCamera) -> DeviceIdentity:
    """Name and model from the driver's card name; the maker from udev's by-id name where it says."""
    match = _BY_ID.match(Path(camera.path).name)
    vendor = match["vendor"].replace("_", " ") if match else ""
    # udev puts the USB vendor id (e.g. "046d") there when the device has no vendor string.
    manufacturer = vendor if vendor and not re.fullmatch(r"[0-9a-fA-F]{4}", vendor) else "USB webcam"
    return DeviceIdentity(name=camera.name, manufacturer=manufacturer, model=camera.name)


def mode_label(mode: CaptureMode) -> str:
    """ "MJPEG 1280×720 at 30 fps", for the flow and diagnostics."""
    kind = {"MJPG": "MJPEG", "H264": "H.264", "YUYV": "YUYV"}.get(mode.fourcc, mode.fourcc)
    return f"{kind} {mode.width}×{mode.height} at {float(mode.fps):g} fps"


class UsbBackend(WithoutCameraControls):
    """One webcam of this host (see module docstring)."""

    capabilities = Capabilities(streams=(STREAM,))
    control_method: str | None = None
    limitation: Limitation | None = None

    def __init__(self, camera: UsbCamera, run_blocking: RunBlocking) -> None:
        self.camera = camera
        self.identity = identity_of(camera)
        self._run_blocking = run_blocking
        self._video = CaptureVideo(
            device=camera.path,
            input_format=FFMPEG_INPUT_FORMATS[camera.mode.fourcc],
            width=camera.mode.width,
            height=camera.mode.height,
            fps=float(camera.mode.fps),
        )
        self._first_read = True

    def media(self) -> None:
        return None  # no recordings Camera Hub can browse

    def video(self, stream: str) -> VideoSource | None:
        return self._video if stream == STREAM else None

    def diagnostics(self) -> dict[str, Any]:
        return {"path": self.camera.path, "mode": mode_label(self.camera.mode)}

    async def async_retry_limited(self) -> bool:
        return True

    async def async_read_state(self) -> CameraState:
        """Whether the webcam is there and usable; raises Unreachable with the reason when not.

        The first read (setup) only logs: a webcam unplugged while HA was off must not keep the
        entry's other webcams from starting; its camera turns unavailable at the next read.
        """
        try:
            await self._run_blocking(self._check)
        except CameraHubError as err:
            if not self._first_read:
                raise
            _LOGGER.warning("%s", err)
        finally:
            self._first_read = False
        return CameraState()

    def _check(self) -> None:
        camera = self.camera
        if not os.path.exists(camera.path):
            raise Unreachable.explained(
                f"{camera.name} is not plugged in ({camera.path} is missing)",
                "usb_unplugged",
                name=camera.name,
                path=camera.path,
            )
        if found := holders(camera.path):
            raise Unreachable.explained(
                f"{camera.name} is in use by {describe(found)}",
                "usb_busy",
                name=camera.name,
                holder=describe(found),
            )
        silent = self._video.health.silent_for(time.monotonic(), active_within=3 * NO_FRAMES_AFTER)
        if silent > NO_FRAMES_AFTER:
            raise Unreachable.explained(
                f"{camera.name} has sent no picture for {silent:.0f} s",
                "usb_no_frames",
                name=camera.name,
                seconds=f"{silent:.0f}",
            )

    # --- what a webcam does not have ------------------------------------------------------------

    async def async_set_switch(self, key: str, on: bool) -> None:
        raise NotSupported(key)

    def subscribe_events(self, callback: EventCallback) -> Unsubscribe:
        raise NotSupported("events")
