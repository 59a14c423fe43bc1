"""What every vendor backend offers: the only camera API the coordinator and entities see.

A backend wraps one camera. It reports what the camera can do (`Capabilities`), reads its state in
one batch (`CameraState`), performs actions, and raises only the typed errors below, so the layers
above never handle a vendor library's exceptions.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class CameraHubError(Exception):
    """Base of every error a backend raises. `str()` never contains credentials."""


class Unreachable(CameraHubError):
    """The camera did not answer (offline, wrong address, rebooting)."""


class AuthFailed(CameraHubError):
    """The camera rejected a credential; retrying with the same one only counts toward a lockout."""

    def __init__(self, credential: str) -> None:
        super().__init__(f"the camera rejected the {credential.replace('_', ' ')}")
        # Which credential: "cloud_password" (control API) or "camera_account" (RTSP/ONVIF).
        self.credential = credential


class LockedOut(CameraHubError):
    """The camera suspended logins after too many failures ("temporarily suspended")."""

    def __init__(self, seconds_left: float) -> None:
        super().__init__(f"the camera suspended logins for {seconds_left:.0f} more seconds")
        self.seconds_left = seconds_left

    @property
    def minutes_left(self) -> int:
        """Whole minutes to tell a person, never 0 while the suspension lasts."""
        return round(self.seconds_left / 60) or 1


class ControlUnsupported(CameraHubError):
    """No control login the libraries know works with this firmware; streams may still work."""


class NotSupported(CameraHubError):
    """The camera lacks the capability an action needs."""


class CommandFailed(CameraHubError):
    """The camera answered a command with an error."""


class ControlMethod(StrEnum):
    """How Camera Hub talks to the camera's control API; `STREAM_ONLY` when it cannot."""

    SECURE = "secure"
    LEGACY = "legacy"
    KLAP = "klap"
    TPAP = "tpap"
    KASA = "kasa"
    STREAM_ONLY = "stream_only"


class Direction(StrEnum):
    LEFT = "left"
    RIGHT = "right"
    UP = "up"
    DOWN = "down"


@dataclass(frozen=True, kw_only=True)
class Capabilities:
    """What this camera can do; platforms create entities only for these."""

    pan_tilt: bool = False
    presets: bool = False
    privacy: bool = False
    motion_detection: bool = False
    person_detection: bool = False
    led: bool = False
    night_vision: bool = False
    siren: bool = False
    reboot: bool = False
    calibrate: bool = False
    motion_events: bool = False
    continuous_move: bool = False
    streams: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class DeviceIdentity:
    mac: str
    model: str
    firmware: str
    name: str
    serial: str | None = None
    hardware: str | None = None


@dataclass(kw_only=True)
class CameraState:
    """One batched read of everything the entities show. `None` means unknown or unsupported."""

    privacy: bool | None = None
    motion_detection: bool | None = None
    person_detection: bool | None = None
    led: bool | None = None
    night_vision: str | None = None
    presets: dict[str, str] = field(default_factory=dict)


type MotionCallback = Callable[[bool], None]


class CameraBackend(Protocol):
    """One camera, whatever its vendor."""

    identity: DeviceIdentity
    capabilities: Capabilities
    control_method: ControlMethod

    async def async_connect(self) -> None:
        """Log in and learn identity and capabilities; raises the typed errors above."""

    async def async_close(self) -> None: ...

    async def async_read_state(self) -> CameraState: ...

    async def async_stream_url(self, stream: str) -> str:
        """The RTSP URL (with credentials) of `stream` ("hd" or "sd")."""

    async def async_set_switch(self, key: str, on: bool) -> None:
        """privacy, motion_detection, person_detection or led."""

    async def async_set_night_vision(self, mode: str) -> None: ...

    async def async_move(self, direction: Direction, step: int) -> None: ...

    async def async_stop(self) -> None: ...

    async def async_home(self) -> None: ...

    async def async_calibrate(self) -> None: ...

    async def async_go_to_preset(self, preset_id: str) -> None: ...

    async def async_save_preset(self, name: str) -> str: ...

    async def async_delete_preset(self, preset_id: str) -> None: ...

    async def async_reboot(self) -> None: ...

    def subscribe_motion(self, callback: MotionCallback) -> Callable[[], Awaitable[None]]:
        """Push motion on/off to `callback`; returns an async unsubscribe."""
        ...
