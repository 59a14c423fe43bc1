"""What every brand offers: the only camera API the core (setup, coordinator, entities, flows) sees.

A brand is a package in vendors/ registered with one `BrandSpec` in vendors/__init__.py. Its
`Connection` is what one config entry holds — a Tapo camera, a Ring or Furbo account, this host's
USB webcams — and reports the cameras behind it, each a `CameraBackend`. A backend says what its
camera can do (`Capabilities`), who it is (`DeviceIdentity`), how its picture is had (a
`VideoSource` per stream), reads its state in one batch (`CameraState`), performs actions and
pushes events. Backends and connections raise only the typed errors below, so the layers above
never handle a vendor library's exceptions.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol, Self, runtime_checkable

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry
    from homeassistant.core import HomeAssistant
    from webrtc_models import RTCIceCandidateInit


class CameraHubError(Exception):
    """Base of every error a backend raises. `str()` never contains credentials.

    A brand may name its own explanation: `translation_key` (under `exceptions` in strings.json) with
    `placeholders`; the core then shows that instead of its generic message.
    """

    translation_key: str | None = None
    placeholders: Mapping[str, str] = {}

    @classmethod
    def explained(cls, message: str, translation_key: str, **placeholders: str) -> Self:
        err = cls(message)
        err.translation_key = translation_key
        err.placeholders = placeholders
        return err


class Unreachable(CameraHubError):
    """The camera (or the brand's cloud) did not answer: offline, wrong address, rebooting."""


class AuthFailed(CameraHubError):
    """A credential was rejected; retrying with the same one only counts toward a lockout."""

    def __init__(self, credential: str) -> None:
        super().__init__(f"the camera rejected the {credential.replace('_', ' ')}")
        # Which credential, as the brand names it: the translation keys `invalid_<credential>`
        # (config flow errors and exceptions) explain it. Tapo: "cloud_password", "camera_account".
        self.credential = credential


class LockedOut(CameraHubError):
    """The device or cloud suspended logins after too many failures ("temporarily suspended")."""

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


class InvalidOption(CameraHubError):
    """A value the brand refuses for one of its options (`BrandOptions.clean`): the options form shows
    `error` (a key under `options.error` in strings.json) at `field`, and stores nothing."""

    def __init__(self, field: str, error: str) -> None:
        super().__init__(f"{field} refused ({error})")
        self.field = field
        self.error = error


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
    motion_events: bool = False  # Tapo's ONVIF motion: the "motion" event entity (same as MOTION_EVENTS)
    continuous_move: bool = False
    light: bool = False  # a floodlight/spotlight the user switches (Ring)
    # The camera's event entities beyond `motion_events` (Ring: ding, motion with subtypes, intercom
    # unlock; Furbo: one entity with the pet camera's vocabulary). A pushed CameraEvent goes to the
    # entity whose spec lists its `type`.
    events: tuple[EventSpec, ...] = ()
    # The brand's own on/off settings (Furbo: each smart alert the account has): a switch each.
    toggles: tuple[Toggle, ...] = ()
    # The brand's own readings (Ring: battery, Wi-Fi signal, push listener; Furbo: today's activity,
    # subscription): a sensor each, its value in `CameraState.readings[key]`.
    readings: tuple[Reading, ...] = ()
    # Recordings/clips the cloud keeps (`CameraBackend.media()`), browsable in HA's media browser.
    media: bool = False
    # Stream keys with a camera entity each: "hd" is the device's main camera entity, "sd" a
    # second one (disabled by default). `CameraBackend.video(stream)` says how each is had.
    streams: tuple[str, ...] = ()
    # The values the diagnostic "control method" sensor can show (how Camera Hub reaches the
    # camera's controls); empty: the brand has one way only, and no such sensor.
    control_methods: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class EventSpec:
    """One event entity: `key` makes its unique id, `translation_key` its name (entity.event.<key> in
    strings.json, with the event types' names as state attributes), `device_class` an
    EventDeviceClass value ("motion", "doorbell", "button") or None."""

    key: str
    translation_key: str
    event_types: tuple[str, ...]
    device_class: str | None = None


MOTION_EVENTS = EventSpec(
    key="motion", translation_key="motion", event_types=("motion",), device_class="motion"
)


@dataclass(frozen=True, kw_only=True)
class Toggle:
    """A brand-specific switch. Its name is `entity.switch.<translation_key>` with `placeholders`
    (Furbo: translation_key "smart_alert", placeholders {"alert": "Barking"})."""

    key: str
    translation_key: str
    placeholders: Mapping[str, str] = field(default_factory=dict)
    config: bool = True  # a setting (entity category config) rather than a primary control
    enabled_default: bool = True


@dataclass(frozen=True, kw_only=True)
class Reading:
    """A brand-specific sensor. `device_class`/`state_class` are SensorDeviceClass/SensorStateClass
    values ("battery", "signal_strength", "timestamp", "enum"; "measurement", "total_increasing");
    an "enum" lists its `options` (translated under entity.sensor.<translation_key>.state)."""

    key: str
    translation_key: str
    device_class: str | None = None
    state_class: str | None = None
    unit: str | None = None
    options: tuple[str, ...] = ()
    diagnostic: bool = False
    enabled_default: bool = True
    placeholders: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Notice:
    """Something its owner should know while it lasts: a repair issue (translation key `issue`, with
    `name` plus `placeholders`), raised while state reads report it and deleted when they stop.
    Ring: the push channel keeps failing; Furbo: no subscription, so no events."""

    issue: str
    placeholders: Mapping[str, str] = field(default_factory=dict)
    severity: str = "warning"  # an ir.IssueSeverity value
    learn_more_url: str | None = None


@dataclass(frozen=True, kw_only=True)
class DeviceIdentity:
    """Who a camera (or an account's hub device) is, for HA's device registry."""

    name: str
    manufacturer: str
    model: str
    firmware: str = ""
    mac: str = ""  # a MAC ("aa:bb:…") becomes a device connection; anything else is ignored
    serial: str | None = None
    hardware: str | None = None


@dataclass(frozen=True, kw_only=True)
class Hub:
    """The device an account entry's cameras hang off (`via_device`): a Ring account, a Furbo account."""

    id: str  # device identifier; unique within the integration
    identity: DeviceIdentity


@dataclass(kw_only=True)
class CameraState:
    """One batched read of everything the entities show. `None` means unknown or unsupported."""

    privacy: bool | None = None
    motion_detection: bool | None = None
    person_detection: bool | None = None
    led: bool | None = None
    night_vision: str | None = None
    presets: dict[str, str] = field(default_factory=dict)
    light: bool | None = None
    siren: bool | None = None
    toggles: dict[str, bool] = field(default_factory=dict)  # Toggle.key → on
    readings: dict[str, Any] = field(default_factory=dict)  # Reading.key → value (a datetime for "timestamp")
    notices: tuple[Notice, ...] = ()


@dataclass(frozen=True, kw_only=True)
class CameraEvent:
    """Something the camera pushed. `type` is an event entity's event type ("motion"; Ring: "ding")."""

    type: str
    active: bool = True  # False: the condition ended (motion stopped); no new occurrence
    # Shown on the event entity with the event (Ring: subtype "human"; Furbo: caption, time,
    # thumbnail URL). Never credentials; a signed URL only where the brand's link is meant to be shared.
    attributes: Mapping[str, Any] = field(default_factory=dict)


type EventCallback = Callable[[CameraEvent], None]
type StateCallback = Callable[[CameraState], None]
type Unsubscribe = Callable[[], Awaitable[None]]


@dataclass(frozen=True, kw_only=True)
class Limitation:
    """The camera works with fewer capabilities than it has, for a reason its owner can fix.

    Tapo: firmware refusing control logins (Third-Party Compatibility off). Camera Hub raises a fixable
    repair issue (`issue` is its translation key, the brand's text in strings.json, with `name` plus
    these `placeholders`), calls `CameraBackend.async_retry_limited` every `retry_interval` and when the
    owner confirms the repair, and reloads the entry once it worked. The issue's `fix_flow` in
    strings.json has a `confirm` step and a `still_refused` error (the retry did not help).

    `accept`, when set, is what the owner's confirmation consents to before that retry (Tapo: trust
    the camera's new certificate); the periodic retries never call it.
    """

    issue: str
    placeholders: Mapping[str, str] = field(default_factory=dict)
    retry_interval: timedelta = timedelta(minutes=15)
    accept: Callable[[], None] | None = None


# --- video sources: how a camera's picture is had -------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RtspVideo:
    """An RTSP stream. `url()` returns it with credentials (the backend caches it); `invalidate()`
    is called when opening it failed, so the next `url()` asks the camera again."""

    url: Callable[[], Coroutine[Any, Any, str]]
    invalidate: Callable[[], None]


class CaptureHealth:
    """How a capture device's stream is doing, as the frame hub's reader sees it (monotonic seconds).

    The reader reports; the backend asks `silent_for` in its state read, so a device that opens but
    sends nothing makes its camera unavailable instead of leaving viewers waiting in silence.
    """

    def __init__(self) -> None:
        self.last_open: float | None = None  # the reader's latest attempt to read the device
        self.last_data: float | None = None
        self.waiting_since: float | None = None  # no data since then (None: data is flowing)

    def opened(self, now: float) -> None:
        self.last_open = now
        if self.waiting_since is None:
            self.waiting_since = now

    def received(self, now: float) -> None:
        self.last_data = now
        self.waiting_since = None

    def timed_out(self, now: float) -> None:
        self.waiting_since = self.last_data or self.last_open or now

    def silent_for(self, now: float, active_within: float) -> float:
        """Seconds the device has kept a reader waiting; 0 unless a reader tried within `active_within`."""
        if self.waiting_since is None or self.last_open is None or now - self.last_open > active_within:
            return 0.0
        return now - self.waiting_since


@dataclass(frozen=True, kw_only=True)
class CaptureVideo:
    """A local capture device (a USB webcam): opened by the frame hub, one owner for every viewer."""

    device: str  # a stable path where there is one (/dev/v4l/by-id/…)
    input_format: str  # as FFmpeg's v4l2 demuxer names it: "mjpeg", "yuyv422", "h264"
    width: int
    height: int
    fps: float
    health: CaptureHealth = field(default_factory=CaptureHealth, compare=False)


@dataclass(frozen=True, kw_only=True)
class WebRtcAnswer:
    sdp: str


@dataclass(frozen=True, kw_only=True)
class WebRtcCandidate:
    candidate: RTCIceCandidateInit


@dataclass(frozen=True, kw_only=True)
class WebRtcError:
    code: str
    message: str


type WebRtcMessage = WebRtcAnswer | WebRtcCandidate | WebRtcError


@runtime_checkable
class CloudWebRtcVideo(Protocol):
    """The brand's cloud answers WebRTC offers itself (Ring): the browser gets media from the cloud.

    HA's camera WebRTC offer/candidate/close calls map onto these one to one; `send` delivers the
    answer, remote candidates and errors of session `session_id` to the browser.
    """

    async def async_offer(
        self, session_id: str, offer_sdp: str, send: Callable[[WebRtcMessage], None]
    ) -> None: ...

    async def async_candidate(self, session_id: str, candidate: RTCIceCandidateInit) -> None: ...

    def close_session(self, session_id: str) -> None: ...

    async def async_picture(self) -> Picture | None:
        """The freshest picture the cloud allows (Ring: an on-demand snapshot for wired cameras, else
        the newest event's frame); None when it has none."""


@dataclass(frozen=True, kw_only=True)
class Picture:
    """A still from the cloud, with what it is: never an old picture presented as new."""

    jpeg: bytes
    taken_at: datetime  # when the camera took it (aware, UTC); the camera entity shows its age
    kind: str  # "snapshot" (taken on request), "event" (the newest event's picture), "recording"


@dataclass(frozen=True, kw_only=True)
class StillVideo:
    """No live video Camera Hub can show; the newest still the cloud keeps (Furbo: the last event's
    thumbnail). The camera entity is named for what it shows (its own translation key)."""

    picture: Callable[[], Coroutine[Any, Any, Picture | None]]
    translation_key: str = "last_event"


type VideoSource = RtspVideo | CaptureVideo | CloudWebRtcVideo | StillVideo


# --- recordings and clips in HA's media browser --------------------------------------------


@dataclass(frozen=True, kw_only=True)
class MediaItem:
    id: str  # stable within the camera; resolved again on every play
    title: str
    taken_at: datetime
    content_type: str  # "video/mp4", "image/jpeg"
    thumbnail: bool = False  # whether `MediaLibrary.async_open(id, thumbnail=True)` has a picture


@dataclass(frozen=True, kw_only=True)
class MediaBody:
    content_type: str
    chunks: AsyncIterator[bytes]
    size: int | None = None


class MediaLibrary(Protocol):
    """A camera's recordings in the cloud. Links are fetched fresh on every open (signed URLs
    expire): an expired one is fetched again, never shown broken."""

    async def async_items(self) -> Sequence[MediaItem]: ...

    async def async_open(self, item_id: str, *, thumbnail: bool = False) -> MediaBody:
        """The item's bytes (Camera Hub serves them to the browser through HA, authenticated)."""


# --- the protocols -------------------------------------------------------------------------


class CameraBackend(Protocol):
    """One camera, whatever its brand: identity, capabilities, state, actions, events, video."""

    @property
    def identity(self) -> DeviceIdentity: ...

    @property
    def capabilities(self) -> Capabilities: ...

    @property
    def control_method(self) -> str | None:
        """One of `capabilities.control_methods` (the diagnostic sensor), or None."""

    @property
    def limitation(self) -> Limitation | None:
        """Why the camera runs with fewer capabilities than it has, while it does."""

    async def async_retry_limited(self) -> bool:
        """Try to lift `limitation` (one attempt); True when the camera now works fully."""

    def video(self, stream: str) -> VideoSource | None:
        """How the picture of `stream` (one of `capabilities.streams`) is had; None: no video."""

    def media(self) -> MediaLibrary | None:
        """The camera's recordings when `capabilities.media`; None otherwise."""

    def diagnostics(self) -> dict[str, Any]:
        """Brand-specific facts for a bug report (redacted by the core with the brand's keys)."""

    async def async_read_state(self) -> CameraState: ...

    async def async_set_switch(self, key: str, on: bool) -> None:
        """privacy, motion_detection, person_detection, led, light, siren, or a Toggle's key."""

    async def async_set_night_vision(self, mode: str) -> None: ...

    async def async_move(self, direction: Direction, step: int) -> None: ...

    async def async_stop(self) -> None: ...

    async def async_home(self) -> None: ...

    async def async_calibrate(self) -> None: ...

    async def async_go_to_preset(self, preset_id: str) -> None: ...

    async def async_save_preset(self, name: str) -> str: ...

    async def async_delete_preset(self, preset_id: str) -> None: ...

    async def async_reboot(self) -> None: ...

    def subscribe_events(self, callback: EventCallback) -> Unsubscribe:
        """Push events to `callback` (in the event loop); raises NotSupported when there are none."""


@runtime_checkable
class PushesState(Protocol):
    """A backend whose state changes between polls in ways it learns without a request (Ring: its
    push channel connecting, failing, back). The core shows each pushed state at once; the polling
    pace stays the brand's. A backend without such changes simply lacks the method."""

    def subscribe_state(self, on_change: StateCallback) -> Unsubscribe:
        """Call `on_change` (in the event loop) with the camera's whole state whenever part of it
        changed, from what the backend holds: never a request to the camera or the cloud."""


class WithoutCameraControls:
    """For backends of cameras Camera Hub cannot steer (USB webcams; Ring and Furbo over their clouds):
    every motor, preset, night-vision and reboot action of the protocol refuses with NotSupported.
    The core never calls them, since the capabilities say so; a call through an action still gets
    HA's translated "not supported"."""

    async def async_set_night_vision(self, mode: str) -> None:
        raise NotSupported("night_vision")

    async def async_move(self, direction: Direction, step: int) -> None:
        raise NotSupported("pan_tilt")

    async def async_stop(self) -> None:
        raise NotSupported("pan_tilt")

    async def async_home(self) -> None:
        raise NotSupported("pan_tilt")

    async def async_calibrate(self) -> None:
        raise NotSupported("calibrate")

    async def async_go_to_preset(self, preset_id: str) -> None:
        raise NotSupported("presets")

    async def async_save_preset(self, name: str) -> str:
        raise NotSupported("presets")

    async def async_delete_preset(self, preset_id: str) -> None:
        raise NotSupported("presets")

    async def async_reboot(self) -> None:
        raise NotSupported("reboot")


class Connection(Protocol):
    """What one config entry holds: a Tapo camera, a Ring or Furbo account, this host's USB webcams."""

    @property
    def cameras(self) -> Mapping[str, CameraBackend]:
        """The cameras it reaches now, by camera id: the HA device identifier and the prefix of every
        entity's unique id (`<camera id>_<key>`), so it must be stable and unique in the integration."""

    @property
    def hub(self) -> Hub | None:
        """The account or hub device the cameras hang off (`via_device`); None when there is none."""

    @property
    def address(self) -> str:
        """Where it connects, credential-free, for messages: a host, "Ring"."""

    async def async_connect(self) -> None:
        """Log in and learn the cameras with their identity and capabilities. Raises only the typed
        errors, and leaves nothing open when it does."""

    async def async_close(self) -> None:
        """Close every session; the cameras' backends with it."""

    def entry_data_updates(self) -> Mapping[str, Any]:
        """What the connection learned that belongs in the entry's data (Tapo: the login that worked,
        so the next start costs one login); the core stores what differs."""

    def subscribe_cameras(self, on_change: Callable[[], None]) -> Callable[[], None] | None:
        """Call `on_change` (in the event loop) when `cameras` gained or lost one; returns an
        unsubscribe, or None when this connection's cameras never change (a Tapo camera)."""


type ConnectionFactory = Callable[[HomeAssistant, ConfigEntry[Any]], Connection]


@dataclass(frozen=True, kw_only=True)
class BrandOptions:
    """Options of a whole entry (an account's) that a brand adds to the core's options form, after
    the core's own stream options; every entry of the brand shows them.

    `fields` are the form's fields (probatio markers to selectors) with the entry's values in effect as
    defaults. `clean` turns what the form sent into the values to store, or raises InvalidOption for a
    value the brand refuses (a selector's bounds would only give an untranslated error). Labels are
    `options.step.init.data.<field>` in strings.json; the entry reloads with the stored values.
    """

    fields: Callable[[ConfigEntry[Any]], Mapping[Any, Any]]
    clean: Callable[[Mapping[str, Any]], Mapping[str, Any]]


@dataclass(frozen=True, kw_only=True)
class BrandSpec:
    """One brand in the registry (vendors/__init__.py).

    The config flow menu shows `key` (its label is `config.step.user.menu_options.<key>` in
    strings.json) and continues with the brand's flow step `async_step_<key>`; the entry's data
    stores `brand: <key>`.
    """

    key: str
    connect: ConnectionFactory  # a connection for the entry, not yet connected
    # One camera per entry: the entry's unique id is the camera id and its device cannot be removed
    # apart from the entry. False for accounts and hosts, whose stale cameras the user may remove.
    single_camera: bool
    update_interval: timedelta | None  # state polling per camera; None: only pushes and commands
    reauth_step: str | None = None  # the flow step reauthentication starts at
    reconfigure_step: str | None = None
    to_redact: frozenset[str] = frozenset()  # entry data and diagnostics keys that are the brand's secrets
    options: BrandOptions | None = None  # the brand's account-level options, if it has any
