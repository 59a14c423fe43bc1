"""One Ring camera (doorbell, stick-up/floodlight/spotlight cam, intercom) behind the CameraBackend protocol.

State comes from the account's shared device list (`RingAccount`, one request per poll for every
camera) plus this camera's history (≥ 60 s apart, backing off on 429) and health (every 10 minutes);
the push channel's state is pushed to the coordinator as it changes, from memory.
Pictures are never older than they say: a wired camera takes an on-demand snapshot; a battery camera
(Ring takes none on demand) shows its newest event's recording frame, dated by the event.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.util import dt as dt_util
from ring_doorbell import RingDoorBell, RingError, RingGeneric, RingOther, RingStickUpCam
from ring_doorbell.const import RingCapability

from ...streaming.frames import encode_jpeg
from ..base import (
    CameraEvent,
    CameraHubError,
    CameraState,
    Capabilities,
    CommandFailed,
    DeviceIdentity,
    EventCallback,
    EventSpec,
    MediaBody,
    MediaItem,
    Notice,
    NotSupported,
    Picture,
    Reading,
    StateCallback,
    Unreachable,
    Unsubscribe,
    VideoSource,
    WithoutCameraControls,
)
from .const import (
    EVENT_DING,
    EVENT_INTERCOM_UNLOCK,
    EVENT_MOTION,
    HEALTH_INTERVAL,
    HISTORY_INTERVAL,
    HISTORY_LIMIT,
    ISSUE_PUSH_FAILING,
    MANUFACTURER,
    PUSH_FAILURES_NOTICE,
    PUSH_STATES,
    SIREN_SECONDS,
)
from .live import RingLiveView

if TYPE_CHECKING:
    from .connection import RingAccount

_LOGGER = logging.getLogger(__name__)

type RingDevice = RingDoorBell | RingOther  # RingStickUpCam is a RingDoorBell
type RunBlocking = Callable[..., Awaitable[Any]]

# A snapshot is served again for this long (its own taken_at says how old it is): a dashboard that
# refreshes every 10 s must not cost Ring four requests each time.
SNAPSHOT_REUSE = timedelta(seconds=30)
# History kinds → the event type they are, and the picture kind of their recording.
_HISTORY_EVENT = {"ding": EVENT_DING, "motion": EVENT_MOTION, "intercom_unlock": EVENT_INTERCOM_UNLOCK}

DING_EVENTS = EventSpec(
    key="ding", translation_key="ding", event_types=(EVENT_DING,), device_class="doorbell"
)
MOTION_EVENTS = EventSpec(
    key="motion", translation_key="motion", event_types=(EVENT_MOTION,), device_class="motion"
)
INTERCOM_EVENTS = EventSpec(
    key="intercom_unlock",
    translation_key="intercom_unlock",
    event_types=(EVENT_INTERCOM_UNLOCK,),
    device_class=None,
)
BATTERY = Reading(
    key="battery", translation_key="battery", device_class="battery", state_class="measurement", unit="%"
)
WIFI_SIGNAL = Reading(
    key="wifi_signal",
    translation_key="wifi_signal",
    device_class="signal_strength",
    state_class="measurement",
    unit="dBm",
    diagnostic=True,
    enabled_default=False,
)
PUSH = Reading(
    key="push", translation_key="ring_push", device_class="enum", options=PUSH_STATES, diagnostic=True
)


def _has(device: RingDevice, capability: RingCapability) -> bool:
    return bool(device.has_capability(capability))


def as_camera(device: RingGeneric) -> RingDevice | None:
    """Doorbells, stick-up/floodlight/spotlight cams and intercoms; chimes are no cameras."""
    if isinstance(device, RingOther) or (
        isinstance(device, RingDoorBell) and _has(device, RingCapability.VIDEO)
    ):
        return device
    return None


def capabilities_of(device: RingDevice) -> Capabilities:
    intercom = isinstance(device, RingOther)
    events: tuple[EventSpec, ...]
    if intercom:
        events = (DING_EVENTS, INTERCOM_EVENTS)
    elif _has(device, RingCapability.DING):
        events = (DING_EVENTS, MOTION_EVENTS)
    else:
        events = (MOTION_EVENTS,)
    readings = (BATTERY,) if _has(device, RingCapability.BATTERY) else ()
    return Capabilities(
        # Intercoms have no video the library can open (no live view, no snapshot).
        streams=() if intercom else ("hd",),
        motion_detection=not intercom and _has(device, RingCapability.MOTION_DETECTION),
        light=_has(device, RingCapability.LIGHT),
        siren=_has(device, RingCapability.SIREN),
        events=events,
        readings=(*readings, WIFI_SIGNAL, PUSH),
        media=not intercom and bool(getattr(device, "has_subscription", False)),
    )


def _mac(device_id: str) -> str:
    """Ring's `device_id` is usually the MAC without separators."""
    hexdigits = device_id.lower()
    if len(hexdigits) == 12 and all(c in "0123456789abcdef" for c in hexdigits):
        return ":".join(hexdigits[i : i + 2] for i in range(0, 12, 2))
    return ""


def _created_at(entry: dict[str, Any]) -> datetime:
    created = entry["created_at"]
    if isinstance(created, datetime):
        return dt_util.as_utc(created)
    parsed = dt_util.parse_datetime(str(created))
    return dt_util.as_utc(parsed) if parsed else dt_util.utcnow()


def _recording_ready(entry: dict[str, Any]) -> bool:
    recording = entry.get("recording") or {}
    return recording.get("status") == "ready"


def first_frame_jpeg(mp4: bytes) -> bytes:
    """The recording's first decodable frame as a JPEG (blocking: PyAV decodes on the executor)."""
    import av  # noqa: PLC0415 - heavy, only needed for battery cameras' pictures

    with av.open(io.BytesIO(mp4), mode="r") as container:
        for frame in container.decode(video=0):
            return encode_jpeg(frame)
    raise ValueError("recording without a video frame")


@dataclass
class History:
    """This camera's recent events: polled at Ring's pace, gaps (events push missed) delivered once."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    polled_at: datetime | None = None
    seen: set[str] = field(default_factory=set)  # event ids delivered (by push or by this poll)
    baseline: bool = False  # the first poll only learns what is old


class RingBackend(WithoutCameraControls):
    """One camera of a Ring account."""

    control_method: str | None = None
    limitation = None

    def __init__(self, camera_id: str, device: RingDevice, account: RingAccount, run_blocking: RunBlocking):
        self.camera_id = camera_id
        self.device = device
        self._account = account
        self._run_blocking = run_blocking
        self._listeners: list[EventCallback] = []
        self._state_listeners: list[StateCallback] = []
        self._history = History()
        self._health_at: datetime | None = None
        self._snapshot: Picture | None = None
        self._event_picture: tuple[str, Picture] | None = None
        self._picture_lock = asyncio.Lock()
        self._live: VideoSource | None = None
        self.identity = DeviceIdentity(
            name=device.name,
            manufacturer=MANUFACTURER,
            model=device.model,
            firmware=device.firmware or "",
            mac=_mac(str(device.device_id or "")),
        )
        self._live = self._live_view()
        self.capabilities = capabilities_of(device)

    async def async_end_live_views(self) -> None:
        """Every live view of this camera ends, its socket to Ring closed (the account unloads)."""
        if isinstance(self._live, RingLiveView):
            await self._live.async_close()

    def _live_view(self) -> VideoSource | None:
        if isinstance(self.device, RingOther):
            return None  # the library opens no video for intercoms
        live: VideoSource = RingLiveView(self.device, picture=self.async_picture)
        return live

    @property
    def battery_powered(self) -> bool:
        return _has(self.device, RingCapability.BATTERY)

    @property
    def _takes_snapshots(self) -> bool:
        """Ring takes on-demand snapshots on wired cameras only (battery ones every ~10 minutes)."""
        return not self.battery_powered and not isinstance(self.device, RingOther)

    # --- video and pictures ----------------------------------------------------------------

    def video(self, stream: str) -> VideoSource | None:
        return self._live if stream == "hd" else None

    async def async_picture(self) -> Picture | None:
        """A snapshot taken now where Ring takes one, else the newest event's frame; never older news."""
        async with self._picture_lock:
            if self._takes_snapshots and (snapshot := await self._async_snapshot()) is not None:
                return snapshot
            return await self._async_event_picture()

    async def _async_snapshot(self) -> Picture | None:
        now = dt_util.utcnow()
        if self._snapshot is not None and now - self._snapshot.taken_at < SNAPSHOT_REUSE:
            return self._snapshot
        assert isinstance(self.device, RingDoorBell)
        try:
            jpeg = await self.device.async_get_snapshot()
        except RingError as err:
            _LOGGER.debug("%s: no snapshot: %s", self.identity.name, err)
            return None
        if not jpeg:
            return None
        # The library returns an image only once Ring dated it after the request: it is this fresh.
        self._snapshot = Picture(jpeg=jpeg, taken_at=now, kind="snapshot")
        return self._snapshot

    async def _async_event_picture(self) -> Picture | None:
        if not (recorded := self.recorded_events()):
            return None
        entry = recorded[0]
        event_id = str(entry["id"])
        if self._event_picture is not None and self._event_picture[0] == event_id:
            return self._event_picture[1]
        try:
            mp4 = await self.async_recording(int(entry["id"]))
            jpeg = await self._run_blocking(first_frame_jpeg, mp4)
        except (CameraHubError, ValueError, OSError) as err:
            _LOGGER.debug("%s: no picture from event %s: %s", self.identity.name, event_id, err)
            return None
        kind = "event" if entry.get("kind") in _HISTORY_EVENT else "recording"
        picture = Picture(jpeg=jpeg, taken_at=_created_at(entry), kind=kind)
        self._event_picture = (event_id, picture)
        return picture

    def recorded_events(self) -> list[dict[str, Any]]:
        """The history entries with a ready recording, newest first."""
        return [entry for entry in self._history.entries if _recording_ready(entry)]

    async def async_recording(self, recording_id: int) -> bytes:
        if not isinstance(self.device, RingDoorBell):
            raise NotSupported("recordings")
        try:
            url = await self.device.async_recording_url(recording_id)
        except RingError as err:
            raise Unreachable("Ring did not give the recording's link") from err
        if not url:
            raise NotSupported("recordings need a Ring subscription")
        return await self._account.async_download(url)

    def media(self) -> RingRecordings | None:
        return RingRecordings(self) if self.capabilities.media else None

    # --- state ---------------------------------------------------------------------------

    async def async_read_state(self) -> CameraState:
        await self._account.async_refresh()
        if not self._account.reports(self.device.id):
            raise Unreachable.explained("Ring no longer lists this camera", "ring_device_gone")
        await self._async_poll_history()
        await self._async_poll_health()
        return self._state()

    def subscribe_state(self, on_change: StateCallback) -> Unsubscribe:
        self._state_listeners.append(on_change)

        async def unsubscribe() -> None:
            if on_change in self._state_listeners:
                self._state_listeners.remove(on_change)

        return unsubscribe

    def push_changed(self) -> None:
        """The account's push channel changed state: its reading and notice shown now, from memory."""
        if not self._state_listeners:
            return
        state = self._state()
        for listener in list(self._state_listeners):
            listener(state)

    def _state(self) -> CameraState:
        """What the entities show, from the device list and push channel in memory (no request)."""
        device = self.device
        caps = self.capabilities
        readings: dict[str, Any] = {
            "push": self._account.push_state,
            "wifi_signal": device.wifi_signal_strength,
        }
        if BATTERY in caps.readings:
            readings["battery"] = device.battery_life
        notices: tuple[Notice, ...] = ()
        if (failures := self._account.push_failures) >= PUSH_FAILURES_NOTICE:
            notices = (Notice(issue=ISSUE_PUSH_FAILING, placeholders={"failures": str(failures)}),)
        return CameraState(
            motion_detection=device.motion_detection
            if caps.motion_detection and isinstance(device, RingDoorBell)
            else None,
            light=device.light if caps.light and isinstance(device, RingStickUpCam) else None,
            siren=device.siren > 0 if caps.siren and isinstance(device, RingStickUpCam) else None,
            readings=readings,
            notices=notices,
        )

    async def _async_poll_history(self) -> None:
        now = dt_util.utcnow()
        history = self._history
        if history.polled_at is not None and now - history.polled_at < HISTORY_INTERVAL:
            return
        if not self._account.may_poll(now):
            return
        history.polled_at = now
        try:
            entries = await self._account.async_call(
                lambda: self.device.async_history(limit=HISTORY_LIMIT), kind=f"history {self.camera_id}"
            )
        except Unreachable as err:
            # The device list answered: the camera's state stands; the history waits for the next poll.
            _LOGGER.debug("%s: history not read: %s", self.identity.name, err)
            return
        if entries is None:
            return
        history.entries = list(entries)
        self._deliver_missed(history.entries)

    def _deliver_missed(self, entries: Sequence[dict[str, Any]]) -> None:
        """Events the push channel did not bring (it was down), delivered oldest first, once."""
        history = self._history
        fresh = [e for e in entries if str(e["id"]) not in history.seen]
        history.seen.update(str(e["id"]) for e in entries)
        if not history.baseline:
            history.baseline = True
            return
        for entry in reversed(fresh):
            if (event_type := _HISTORY_EVENT.get(str(entry.get("kind")))) is None:
                continue
            # `created` as a pushed event has it; `source` says it came late, from the history poll.
            attributes: dict[str, Any] = {
                "id": str(entry["id"]),
                "created": _created_at(entry).isoformat(),
                "source": "history",
            }
            if subtype := (entry.get("cv_properties") or {}).get("detection_type") or entry.get("subtype"):
                attributes["subtype"] = subtype
            self._emit(CameraEvent(type=event_type, attributes=attributes))

    async def _async_poll_health(self) -> None:
        now = dt_util.utcnow()
        if self._health_at is not None and now - self._health_at < HEALTH_INTERVAL:
            return
        if not self._account.may_poll(now):
            return
        self._health_at = now
        try:
            await self._account.async_run(
                self.device.async_update_health_data, kind=f"health {self.camera_id}"
            )
        except Unreachable as err:
            _LOGGER.debug("%s: health not read: %s", self.identity.name, err)

    # --- switches --------------------------------------------------------------------------

    async def async_set_switch(self, key: str, on: bool) -> None:
        device = self.device
        match key:
            case "motion_detection" if self.capabilities.motion_detection:
                assert isinstance(device, RingDoorBell)
                command: Awaitable[None] = device.async_set_motion_detection(on)
            case "light" if self.capabilities.light and isinstance(device, RingStickUpCam):
                command = device.async_set_light(on)
            case "siren" if self.capabilities.siren and isinstance(device, RingStickUpCam):
                command = device.async_set_siren(SIREN_SECONDS if on else 0)
            case _:
                raise NotSupported(key)
        try:
            await command
        except RingError as err:
            raise CommandFailed(f"Ring refused to switch {key} {'on' if on else 'off'}") from err
        # The next state read asks Ring again instead of serving the list from before the command.
        self._account.invalidate()

    # --- events --------------------------------------------------------------------------

    def subscribe_events(self, callback: EventCallback) -> Unsubscribe:
        self._listeners.append(callback)

        async def unsubscribe() -> None:
            if callback in self._listeners:
                self._listeners.remove(callback)

        return unsubscribe

    def deliver_pushed(self, event: CameraEvent) -> None:
        """An event from the push channel (events.py), remembered so the history poll skips it."""
        if (event_id := event.attributes.get("id")) is not None:
            if str(event_id) in self._history.seen:
                return  # an update of an event already delivered (battery cams send the image later)
            self._history.seen.add(str(event_id))
        self._emit(event)

    def _emit(self, event: CameraEvent) -> None:
        for listener in list(self._listeners):
            listener(event)

    # --- what Ring cameras do not have -------------------------------------------------------

    def diagnostics(self) -> dict[str, Any]:
        device = self.device
        return {
            "kind": device.kind,
            "family": device.family,
            "battery_powered": self.battery_powered,
            "has_subscription": bool(getattr(device, "has_subscription", False)),
            "history_entries": len(self._history.entries),
            "push_state": self._account.push_state,
            "push_failures": self._account.push_failures,
            "push_disconnects": self._account.push_disconnects,
        }

    async def async_retry_limited(self) -> bool:
        return True


class RingRecordings:
    """A subscribed camera's recordings (its history), each link asked of Ring on every open."""

    def __init__(self, backend: RingBackend) -> None:
        self._backend = backend

    async def async_items(self) -> Sequence[MediaItem]:
        return [
            MediaItem(
                id=str(entry["id"]),
                title=f"{entry.get('kind', 'recording')} {_created_at(entry):%Y-%m-%d %H:%M:%S}",
                taken_at=_created_at(entry),
                content_type="video/mp4",
            )
            for entry in self._backend.recorded_events()
        ]

    async def async_open(self, item_id: str, *, thumbnail: bool = False) -> MediaBody:
        if thumbnail:
            raise NotSupported("thumbnails")
        mp4 = await self._backend.async_recording(int(item_id))

        async def chunks() -> AsyncIterator[bytes]:
            yield mp4

        return MediaBody(content_type="video/mp4", chunks=chunks(), size=len(mp4))
