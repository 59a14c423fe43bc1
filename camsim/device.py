"""The simulated camera's state, shared by every protocol server of one camsim process.

Protocol servers (control API, ONVIF, RTSP) translate their wire format into calls on
`TapoDevice`; the state endpoint serialises it. Keeping the behaviour here means a pan through
pytapo and a pan through ONVIF move the same motor.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

FIRMWARES = ("secure", "legacy", "klap", "tpap", "refused")
PTZ_MODELS = {"C200", "C210", "C211", "C220", "C225", "C500", "C510W", "C520WS", "TC70", "TC71"}

# Motor range of a C200 in the control API's coordinate system.
PAN_RANGE = (-170, 170)
TILT_RANGE = (-35, 35)
REBOOT_SECONDS = 3.0


@dataclass
class Counters:
    login_ok: int = 0
    login_failed: int = 0
    rtsp_sessions_total: int = 0
    rtsp_sessions_open: int = 0
    onvif_requests: int = 0
    get_stream_uri: int = 0
    pullpoints_open: int = 0  # live ONVIF event subscriptions: a client is listening for motion
    # Control connections and ONVIF requests that reached the camera while it was offline: a real
    # camera would not see them, but each is one a client sent into an outage (RTSP stops
    # listening while offline, so its refused connections are not counted).
    offline_requests: int = 0
    login_blocked: int = 0  # logins answered "temporarily suspended" (they do not count as failed)
    # Control API methods the camera did not know (answered -40106): a client asking for something
    # camsim does not simulate, which would make a comparison against that client unfair.
    unknown_methods: int = 0


@dataclass
class Faults:
    offline: bool = False
    rtsp_drop: bool = False
    firmware: str | None = None
    onvif_delay: float = 0.0  # seconds every ONVIF answer takes (a busy camera's slow SOAP server)


# What a state POST may carry: faults (kept until `{}`), and one-shot events.
_STATE_KEYS = frozenset(
    {
        "offline",  # answer nothing on any port (RTSP stops listening)
        "rtsp_drop",  # RTSP goes dark while set; control and ONVIF keep working
        "firmware",  # switch the login scheme at runtime (e.g. to "refused")
        "onvif_delay",  # seconds every ONVIF answer takes
        "motion",  # a motion event (true/false) to ONVIF subscribers
        "unlock",  # lift a lockout now
        "lockout",  # suspend logins now for that many seconds (true: --lockout-seconds)
        "expire_sessions",  # every control session must log in again (no reboot)
        "rtsp_kick",  # end every open RTSP session once; the camera keeps listening
        "rotate_certificate",  # the control port gets a new self-signed certificate (as after a reset)
        "cloud_password",  # the owner changed the cloud password in the app: old logins now fail
    }
)


@dataclass
class Config:
    host: str = "127.0.0.1"
    username: str = "camuser"
    password: str = "campass"
    cloud_password: str = "cloudpass"
    model: str = "C200"
    firmware: str = "secure"
    gop: float = 2.0
    fps: int = 15
    width: int = 640
    height: int = 360
    lockout_after: int = 5
    lockout_seconds: float = 1800.0
    response_delay: float = 0.0


def _clamp(value: float, bounds: tuple[int, int]) -> int:
    return int(max(bounds[0], min(bounds[1], value)))


@dataclass
class TapoDevice:
    config: Config
    pan: int = 0
    tilt: int = 0
    presets: dict[str, str] = field(default_factory=dict)
    privacy: bool = False
    motion_detection: bool = True
    person_detection: bool = False
    led: bool = True
    night_vision: str = "auto"
    alarm: bool = False
    reboots: int = 0
    counters: Counters = field(default_factory=Counters)
    faults: Faults = field(default_factory=Faults)
    moving: tuple[float, float] = (0.0, 0.0)
    _locked_until: float = 0.0
    _failures_in_row: int = 0
    _rebooting_until: float = 0.0
    _motion_listeners: list[Callable[[bool], None]] = field(default_factory=list)
    _rtsp_droppers: list[Callable[[], None]] = field(default_factory=list)
    # Control sessions (tokens) are valid for one boot and one session epoch: `expire_sessions`
    # ends them all without a reboot, as a camera's web server restarting does.
    session_epoch: int = 0
    _preset_positions: dict[str, tuple[int, int]] = field(default_factory=dict)
    # The control port's certificate (SHA-256 of its DER) and how to replace it; set by camsim.control.
    control_certificate_sha256: str = ""
    rotate_control_certificate: Callable[[], None] | None = None
    unknown_method_names: dict[str, int] = field(default_factory=dict)

    # --- identity -------------------------------------------------------------------------

    @property
    def firmware(self) -> str:
        return self.faults.firmware or self.config.firmware

    @property
    def has_motor(self) -> bool:
        return self.config.model in PTZ_MODELS

    @property
    def mac(self) -> str:
        digest = hashlib.sha256(f"{self.config.host}/{self.config.model}".encode()).digest()
        return "-".join(f"{b:02X}" for b in (0x3C, 0x52, 0xA1, *digest[:3]))

    @property
    def device_id(self) -> str:
        return hashlib.sha1(self.mac.encode()).hexdigest().upper()  # noqa: S324 - an id, not a secret

    @property
    def firmware_version(self) -> str:
        return {
            "legacy": "1.1.18 Build 220518 Rel.29870n",
            "secure": "1.3.10 Build 231130 Rel.58125n",
            "klap": "1.4.2 Build 240612 Rel.46241n",
            "tpap": "1.5.1 Build 260114 Rel.61022n",
            "refused": "1.6.0 Build 260901 Rel.70001n",
        }[self.firmware]

    # --- availability ---------------------------------------------------------------------

    @property
    def online(self) -> bool:
        return not self.faults.offline and time.monotonic() >= self._rebooting_until

    def reboot(self) -> None:
        self.reboots += 1
        self._rebooting_until = time.monotonic() + REBOOT_SECONDS

    @property
    def boot(self) -> tuple[int, int]:
        """What a control session is valid for: this boot, this session epoch."""
        return (self.reboots, self.session_epoch)

    def count_offline_request(self) -> None:
        self.counters.offline_requests += 1

    # --- login accounting (every login-phase request counts, as on real cameras) ----------

    def locked_out_for(self) -> float:
        """Seconds left of the "temporarily suspended" state, 0 when logins are accepted."""
        return max(0.0, self._locked_until - time.monotonic())

    def login_attempts_left(self) -> int:
        """Failed logins still allowed before the lockout: the `time` field of login answers."""
        return max(0, self.config.lockout_after - self._failures_in_row)

    def lock_out(self, seconds: float) -> None:
        """Answer every login "temporarily suspended" for `seconds` (0 lifts it); sessions stay."""
        self._locked_until = time.monotonic() + seconds if seconds > 0 else 0.0
        self._failures_in_row = 0

    def record_login(self, ok: bool) -> None:
        if ok:
            self.counters.login_ok += 1
            self._failures_in_row = 0
            return
        self.counters.login_failed += 1
        self._failures_in_row += 1
        if self._failures_in_row >= self.config.lockout_after:
            self._locked_until = time.monotonic() + self.config.lockout_seconds
            self._failures_in_row = 0

    def change_cloud_password(self, password: str) -> None:
        """The owner changed the password in the app; the camera learns it from the cloud at once
        and ends the sessions opened with the old one, so every client has to log in again."""
        if not password:
            raise ValueError("cloud_password must not be empty")
        self.config.cloud_password = password
        self.session_epoch += 1

    def count_unknown_method(self, method: str) -> None:
        self.counters.unknown_methods += 1
        self.unknown_method_names[method] = self.unknown_method_names.get(method, 0) + 1

    # --- motor ----------------------------------------------------------------------------

    def move_by(self, dx: float, dy: float) -> None:
        self.pan = _clamp(self.pan + dx, PAN_RANGE)
        self.tilt = _clamp(self.tilt + dy, TILT_RANGE)

    def move_to(self, x: float, y: float) -> None:
        self.pan = _clamp(x, PAN_RANGE)
        self.tilt = _clamp(y, TILT_RANGE)

    def calibrate(self) -> None:
        self.pan = 0
        self.tilt = 0

    def save_preset(self, name: str) -> str:
        preset_id = str(max((int(i) for i in self.presets), default=0) + 1)
        self.presets[preset_id] = name
        self._preset_positions[preset_id] = (self.pan, self.tilt)
        return preset_id

    def goto_preset(self, preset_id: str) -> bool:
        if preset_id not in self.presets:
            return False
        self.pan, self.tilt = self._preset_positions.get(preset_id, (0, 0))
        return True

    def delete_preset(self, preset_id: str) -> bool:
        self._preset_positions.pop(preset_id, None)
        return self.presets.pop(preset_id, None) is not None

    # --- motion events --------------------------------------------------------------------

    def add_motion_listener(self, listener: Callable[[bool], None]) -> Callable[[], None]:
        self._motion_listeners.append(listener)
        return lambda: self._motion_listeners.remove(listener)

    def trigger_motion(self, active: bool) -> None:
        for listener in list(self._motion_listeners):
            listener(active)

    # --- RTSP sessions ---------------------------------------------------------------------

    def add_rtsp_dropper(self, dropper: Callable[[], None]) -> Callable[[], None]:
        self._rtsp_droppers.append(dropper)
        return lambda: self._rtsp_droppers.remove(dropper)

    def drop_rtsp_sessions(self) -> None:
        """End every open RTSP session once (a Wi-Fi blip); the camera keeps listening."""
        for dropper in list(self._rtsp_droppers):
            dropper()

    # --- state endpoint -------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        return {
            "model": self.config.model,
            "firmware": self.firmware,
            "online": self.online,
            "pan": self.pan,
            "tilt": self.tilt,
            "presets": dict(self.presets),
            "privacy": self.privacy,
            "motion_detection": self.motion_detection,
            "person_detection": self.person_detection,
            "led": self.led,
            "night_vision": self.night_vision,
            "alarm": self.alarm,
            "reboots": self.reboots,
            "locked_out_seconds": round(self.locked_out_for(), 1),
            "control_certificate_sha256": self.control_certificate_sha256,
            "counters": vars(self.counters).copy(),
            "unknown_methods": dict(self.unknown_method_names),
        }

    def apply(self, body: dict[str, Any]) -> None:
        """Inject faults and events; an empty body clears every fault."""
        if not body:
            self.faults = Faults()
            return
        unknown = set(body) - _STATE_KEYS
        if unknown:
            raise ValueError(f"unknown keys: {sorted(unknown)}")
        if "firmware" in body and body["firmware"] not in (*FIRMWARES, None):
            raise ValueError(f"firmware must be one of {FIRMWARES}")
        for key in ("offline", "rtsp_drop", "firmware"):
            if key in body:
                setattr(self.faults, key, body[key])
        if "onvif_delay" in body:
            self.faults.onvif_delay = float(body["onvif_delay"] or 0.0)
        if body.get("unlock"):
            self.lock_out(0)
        if "lockout" in body:
            lockout = body["lockout"]
            self.lock_out(self.config.lockout_seconds if lockout is True else float(lockout or 0))
        if body.get("expire_sessions"):
            self.session_epoch += 1
        if body.get("rtsp_kick"):
            self.drop_rtsp_sessions()
        if "cloud_password" in body:
            self.change_cloud_password(str(body["cloud_password"]))
        if body.get("rotate_certificate"):
            if self.rotate_control_certificate is None:
                raise ValueError("no control port to rotate the certificate of")
            self.rotate_control_certificate()
        if "motion" in body:
            self.trigger_motion(bool(body["motion"]))
