"""Ring's push channel: dings, motion and intercom unlocks in real time, through ring-doorbell's listener.

`RingEventListener` registers with Firebase Cloud Messaging, subscribes the token at Ring and reads
pushes from Google's MCS socket. Its known fragilities are handled here, around the unmodified library:

- A push missing `ding.id` raises inside its notification handler; three in a row make the FCM client
  shut down for good (python-ring-doorbell #537). A subclass drops such a push instead.
- `started` stays True after the receiver died (#526). The receiver itself is watched: a dead one is
  replaced by a new listener, with backoff, and every failure counted.
- A dropped socket is re-opened by the FCM client itself; `state` shows "connecting" meanwhile.
- No callback announces the client's login: its `run_state` assignments are observed instead, so
  `on_state` hears of every change of `state` as it happens.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from firebase_messaging import FcmPushClient
from firebase_messaging.fcmpushclient import FcmPushClientRunState
from ring_doorbell import Ring, RingEvent
from ring_doorbell.const import KIND_DING, KIND_INTERCOM_UNLOCK, KIND_MOTION, PUSH_ACTION_DING
from ring_doorbell.listen import RingEventListener, RingEventListenerConfig

from ..base import CameraEvent
from .const import EVENT_DING

_LOGGER = logging.getLogger(__name__)

type CredentialsCallback = Callable[[dict[str, Any]], None]
type EventCallback = Callable[[str, CameraEvent], None]

STATE_CONNECTED = "connected"
STATE_CONNECTING = "connecting"
STATE_FAILED = "failed"
STATE_STOPPED = "stopped"
STATES = (STATE_CONNECTED, STATE_CONNECTING, STATE_FAILED, STATE_STOPPED)

START_TIMEOUT = 60.0  # registration, Ring's subscription and the MCS connection together
WATCH_INTERVAL = 1.0  # how often the watchdog looks at the receiver (its run state is observed too)
BACKOFF_FIRST = 5.0
BACKOFF_MAX = 300.0

# Ring's event kinds → Camera Hub's event types. The legacy ding push arrives with the action as its
# kind (the library compares `action.lower` without calling it).
_EVENT_TYPES = {
    KIND_DING: EVENT_DING,
    PUSH_ACTION_DING: EVENT_DING,
    KIND_MOTION: "motion",
    KIND_INTERCOM_UNLOCK: "intercom_unlock",
}
# Library states that only restate the kind, not a subtype worth showing.
_NOT_SUBTYPES = {"ringing", "unlock"}


def camera_event(event: RingEvent) -> tuple[str, CameraEvent] | None:
    """The camera id and event for a Ring push; None for kinds without an event entity."""
    if (event_type := _EVENT_TYPES.get(event.kind)) is None:
        return None
    attributes: dict[str, Any] = {
        "id": str(event.id),
        "created": datetime.fromtimestamp(event.now, UTC).isoformat(),
    }
    if event.state and event.state not in _NOT_SUBTYPES:
        attributes["subtype"] = event.state
    # The account's camera ids are `ring_<Ring's device id>` (connection.py).
    return f"ring_{event.doorbot_id}", CameraEvent(type=event_type, attributes=attributes)


class _TolerantListener(RingEventListener):
    """The library's listener, dropping a push it cannot read instead of counting toward shutdown."""

    def _on_notification(
        self, notification: dict[str, dict[str, str]], persistent_id: str, obj: Any | None = None
    ) -> None:
        try:
            super()._on_notification(notification, persistent_id, obj)
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            _LOGGER.warning("Ignored a Ring push Camera Hub cannot read (%s)", type(err).__name__)

    @property
    def receiver(self) -> FcmPushClient | None:
        return self._receiver


class _ObservedFcmClient(FcmPushClient):
    """The library's FCM client, telling `on_run_state` of each change of its run state (logged in,
    resetting, stopping): the client has no callback for them. The listener builds the client itself,
    so `observe` gives the running instance this class; the value stays where the library put it."""

    on_run_state: Callable[[], None] | None = None

    @property
    def run_state(self) -> FcmPushClientRunState:
        return self.__dict__["run_state"]  # type: ignore[no-any-return]

    @run_state.setter
    def run_state(self, value: FcmPushClientRunState) -> None:
        self.__dict__["run_state"] = value
        if self.on_run_state is not None:
            self.on_run_state()

    @classmethod
    def observe(cls, receiver: FcmPushClient, on_run_state: Callable[[], None]) -> None:
        receiver.__class__ = cls
        assert isinstance(receiver, cls)
        receiver.on_run_state = on_run_state


class RingPush:
    """One account's push channel, kept alive: `state` and `failures` say how it is doing."""

    def __init__(
        self,
        ring: Ring,
        credentials: dict[str, Any] | None,
        on_credentials: CredentialsCallback,
        on_event: EventCallback,
        on_state: Callable[[], None],
    ) -> None:
        self._ring = ring
        self._credentials = credentials
        self._on_credentials = on_credentials
        self._on_event = on_event
        self._on_state = on_state  # `state` or `failures` changed
        self._listener: _TolerantListener | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._state = STATE_STOPPED
        self._failures = 0  # failed starts and lost connections since it was last seen connected
        self.disconnects = 0  # connections lost or receivers died, ever (diagnostics)
        self._announced = (self._state, 0)

    @property
    def failures(self) -> int:
        """Failed starts and lost connections in a row; none while connected (the watch only samples
        the receiver every second, and a repair issue must not outlive the outage by that second)."""
        return 0 if self.state == STATE_CONNECTED else self._failures

    @property
    def state(self) -> str:
        if self._state == STATE_CONNECTING and self._receiver_logged_in():
            return STATE_CONNECTED
        return self._state

    def _receiver_logged_in(self) -> bool:
        listener = self._listener
        receiver = listener.receiver if listener is not None else None
        return receiver is not None and receiver.is_started()

    def _set_state(self, state: str) -> None:
        self._state = state
        self._announce()

    def _announce(self) -> None:
        """Tell `on_state` when `state` or `failures` differ from what it last heard."""
        if (now := (self.state, self.failures)) != self._announced:
            self._announced = now
            self._on_state()

    async def start(self) -> None:
        """Start in the background: registration and connection never hold up the caller."""
        if self._task is not None:
            return
        self._set_state(STATE_CONNECTING)
        self._stopping = False
        self._task = asyncio.get_running_loop().create_task(self._keep_alive(), name="ring push")

    async def stop(self) -> None:
        if (task := self._task) is not None:
            self._task = None
            # The cancellation may come out of the library as another error (aiohttp and asyncio
            # timeouts turn a CancelledError into TimeoutError when their own timer fired too);
            # the flag ends the loop then instead of a retry that nobody would ever stop.
            self._stopping = True
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._set_state(STATE_STOPPED)

    # --- keeping a listener alive ---------------------------------------------------------------

    async def _keep_alive(self) -> None:
        while not self._stopping:
            self._set_state(STATE_CONNECTING)
            listener = self._listener = self._new_listener()
            try:
                if await self._started(listener):
                    await self._watch(listener)
            finally:
                await self._dispose(listener)
            if self._stopping:
                return
            self._failures += 1
            self.disconnects += 1
            self._set_state(STATE_FAILED)
            delay = min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** (self._failures - 1))
            _LOGGER.info(
                "Ring push channel down (%d failures in a row); retrying in %.0f s", self._failures, delay
            )
            await asyncio.sleep(delay)

    def _new_listener(self) -> _TolerantListener:
        listener = _TolerantListener(
            self._ring,
            self._credentials,
            self._credentials_updated,
            config=RingEventListenerConfig.default_config(),
        )
        listener.add_notification_callback(self._pushed)
        return listener

    async def _started(self, listener: _TolerantListener) -> bool:
        try:
            async with asyncio.timeout(START_TIMEOUT):
                return await listener.start()
        # The listener spans Google's and Ring's HTTP APIs, protobuf and TLS: whatever fails, the
        # channel is retried later. Only the type is logged; messages may carry tokens or URLs.
        except Exception as err:  # noqa: BLE001
            if self._stopping:
                return False
            _LOGGER.warning("Ring push channel did not start (%s)", type(err).__name__)
            return False

    async def _watch(self, listener: _TolerantListener) -> None:
        """Until the receiver dies: its reading task ends when it gives up (the library's `started`
        stays True then). A socket it re-opens on its own counts as one failure until it is back."""
        receiver = listener.receiver
        if receiver is None or not receiver.tasks:
            return
        # Its login comes later, read from the socket: observed from now on, and looked at once now.
        _ObservedFcmClient.observe(receiver, self._announce)
        self._announce()
        reading = receiver.tasks[0]
        connected = False
        while not reading.done() and receiver.do_listen:
            now_connected = receiver.is_started()
            if now_connected and not connected:
                self._failures = 0
            elif connected and not now_connected:
                self._failures += 1
                self.disconnects += 1
            connected = now_connected
            self._announce()
            await asyncio.wait({reading}, timeout=WATCH_INTERVAL)

    async def _dispose(self, listener: _TolerantListener) -> None:
        """Stop the listener and wait for its tasks (the library cancels them without waiting)."""
        receiver = listener.receiver
        tasks = [*(receiver.tasks if receiver is not None else ()), listener.session_refresh_task]
        with contextlib.suppress(Exception):
            await listener.stop()
        for task in tasks:
            if task is not None and not task.done():
                task.cancel()
        await asyncio.gather(*(t for t in tasks if t is not None), return_exceptions=True)
        if self._listener is listener:
            self._listener = None

    # --- callbacks from the library ---------------------------------------------------------

    def _credentials_updated(self, credentials: dict[str, Any]) -> None:
        self._credentials = credentials
        self._on_credentials(credentials)

    def _pushed(self, event: RingEvent) -> None:
        if event.is_update:
            return  # battery cameras push the same event again with its picture
        if (found := camera_event(event)) is None:
            _LOGGER.debug("Ring push of kind %s has no event entity", event.kind)
            return
        self._on_event(*found)
