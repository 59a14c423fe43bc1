"""A Ring entry's connection: one account, its camera-capable devices, one poll for all of them.

Login and token errors are read through `OAuthWatch` (cloud.py), so that an HTML rate-limit page or a
5xx is reported as Ring being unreachable — never as "needs 2FA" or a refused token — and a 2FA
request says which channel Ring used.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from aiohttp import ClientError, ClientResponseError
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_TOKEN
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from ring_doorbell import (
    Auth,
    AuthenticationError,
    Requires2FAError,
    Ring,
    RingDevices,
    RingError,
    RingTimeout,
)

from ..base import AuthFailed, CameraBackend, CameraEvent, CameraHubError, DeviceIdentity, Hub, Unreachable
from .backend import RingBackend, RingDevice, as_camera
from .cloud import OAuthAnswer, RingHttp, ring_http_session
from .const import (
    BACKOFF_FIRST,
    BACKOFF_MAX,
    CONF_HARDWARE_ID,
    CONF_LISTEN_CREDENTIALS,
    CREDENTIAL_TOKEN,
    DEVICES_FRESH_FOR,
    HARDWARE_ID_STORE_KEY,
    HARDWARE_ID_STORE_VERSION,
    MANUFACTURER,
    UPDATE_INTERVAL,
    USER_AGENT,
)
from .events import RingPush

_LOGGER = logging.getLogger(__name__)
_T = TypeVar("_T")

# The kind (see RingAccount.async_call) of the account's own requests: session and device list.
DEVICE_LIST = "device list"


class CodeRequired(CameraHubError):
    """Ring sent a verification code and wants it: `channel` is "sms", "email", "totp" or "unknown"."""

    def __init__(self, channel: str) -> None:
        super().__init__(f"Ring asks for the code it sent by {channel}")
        self.channel = channel


class TooManyCodes(CameraHubError):
    """Ring refuses to send more codes for now (about 10 per 10 minutes)."""


# --- the hardware id: one per HA install ---------------------------------------------------


async def async_hardware_id(hass: HomeAssistant) -> str:
    """This install's Ring hardware id, made once and shared by every Ring entry (Ring lists one client)."""
    store: Store[dict[str, str]] = Store(hass, HARDWARE_ID_STORE_VERSION, HARDWARE_ID_STORE_KEY)
    if (data := await store.async_load()) and (hardware_id := data.get(CONF_HARDWARE_ID)):
        return hardware_id
    hardware_id = str(uuid.uuid4())
    await store.async_save({CONF_HARDWARE_ID: hardware_id})
    return hardware_id


# --- reading Ring's refusals -----------------------------------------------------------------


# What ring-doorbell raises when Ring's answer is not its API's (truncated JSON, other types, an HTML
# page from a proxy): it parses without checking, so these come out of the library, not our code.
MALFORMED_ANSWER = (ValueError, KeyError, TypeError, AttributeError)


def _status_of(err: BaseException) -> int | None:
    cause = err.__cause__
    return cause.status if isinstance(cause, ClientResponseError) else None


def login_error(err: Exception, answer: OAuthAnswer | None, *, with_code: bool) -> CameraHubError:
    """What a failed password grant means, from the library's error and Ring's own answer."""
    if isinstance(err, (RingTimeout, TimeoutError, ClientError)):
        return Unreachable("Ring did not answer")
    if answer is not None and (channel := answer.two_factor_channel) is not None:
        return CodeRequired(channel)
    if answer is not None and "too many" in answer.description:
        return TooManyCodes("Ring refuses to send more codes for now")
    if answer is None or answer.is_outage:
        return Unreachable(f"Ring answered the login with HTTP {answer.status if answer else '—'}")
    if isinstance(err, Requires2FAError):
        return CodeRequired("unknown")
    return AuthFailed("ring_code" if with_code else "ring_password")


async def async_fetch_token(
    http: RingHttp, hardware_id: str, email: str, password: str, code: str | None
) -> dict[str, Any]:
    """A password grant (with the verification code on the second try); typed errors only."""
    auth = Auth(USER_AGENT, hardware_id=hardware_id, http_client_session=http.session)
    http.watch.forget()
    try:
        return await auth.async_fetch_token(email, password, code or None)
    except (RingError, ClientError, TimeoutError) as err:
        raise login_error(err, http.watch.last, with_code=bool(code)) from err


async def async_account_id(http: RingHttp, hardware_id: str, token: dict[str, Any]) -> str:
    """The account's id from a new session (the entry's unique id)."""
    ring = Ring(Auth(USER_AGENT, token=token, hardware_id=hardware_id, http_client_session=http.session))
    try:
        await ring.async_create_session()
    except (RingError, ClientError, TimeoutError, *MALFORMED_ANSWER) as err:
        raise Unreachable("Ring did not open a session") from err
    session: Any = ring.session
    profile = (session or {}).get("profile") or {}
    return str(profile.get("id") or "")


def _camera_id(device: RingDevice) -> str:
    return f"ring_{device.id}"


class RingAccount:
    """The account's shared state: one device-list request serves every camera; 429s back off."""

    def __init__(self, ring: Ring, http: RingHttp, refreshed: Callable[[], None]) -> None:
        self.ring = ring
        self.http = http
        self._refreshed = refreshed
        self._fetched_at: datetime | None = None
        self._lock = asyncio.Lock()
        self._backoff_until: datetime | None = None  # no request of the account's polls before this
        # 429s in a row per kind of request (the device list, one camera's history, …): a kind's wait
        # grows with its own refusals; another kind answering (the device list while Ring refuses a
        # history) does not shorten it.
        self._backoff_steps: dict[str, int] = {}
        self.push: RingPush | None = None  # the push listener (events.py), once started

    @property
    def push_state(self) -> str:
        return "stopped" if self.push is None else str(self.push.state)

    @property
    def push_failures(self) -> int:
        return 0 if self.push is None else int(self.push.failures)

    @property
    def push_disconnects(self) -> int:
        return 0 if self.push is None else int(self.push.disconnects)

    def reports(self, device_id: int) -> bool:
        return any(device_id in devices for devices in self.ring.devices_data.values())

    def invalidate(self) -> None:
        self._fetched_at = None

    def may_poll(self, now: datetime) -> bool:
        return self._backoff_until is None or now >= self._backoff_until

    async def async_refresh(self) -> None:
        """The device list, once per poll for every camera (single flight); served from memory while
        Ring asks us to wait."""
        async with self._lock:
            now = dt_util.utcnow()
            if self._fetched_at is not None and now - self._fetched_at < DEVICES_FRESH_FOR:
                return
            if not self.may_poll(now) and self.ring.devices_data:
                return
            if not await self.async_run(self.ring.async_update_devices):
                if not self.ring.devices_data:
                    raise Unreachable("Ring is rate limiting and has not listed the devices yet")
                return
            self._fetched_at = now
            self._refreshed()

    async def async_run(self, call: Callable[[], Awaitable[object]], kind: str = DEVICE_LIST) -> bool:
        """A Ring request for its effect: False when Ring is rate limiting (see `async_call`)."""
        done, _ = await self._async_attempt(call, kind)
        return done

    async def async_call(self, call: Callable[[], Awaitable[_T]], kind: str = DEVICE_LIST) -> _T | None:
        """A Ring request of `kind` (whose 429s back it off): its value, or None while Ring is rate
        limiting (logged once); a refused token raises AuthFailed, other failures Unreachable."""
        done, value = await self._async_attempt(call, kind)
        return value if done else None

    async def _async_attempt(self, call: Callable[[], Awaitable[_T]], kind: str) -> tuple[bool, _T | None]:
        try:
            try:
                value = await call()
            except RingError as err:
                if _status_of(err) != 401:
                    raise
                # The library refreshed the token on the 401 but does not repeat the request.
                value = await call()
        except AuthenticationError as err:
            if (answer := self.http.watch.last) is not None and answer.is_outage:
                raise Unreachable("Ring's token endpoint is unavailable") from err
            raise AuthFailed(CREDENTIAL_TOKEN) from err
        except RingError as err:
            if _status_of(err) == 429:
                self._back_off(kind)
                return False, None
            raise Unreachable(f"Ring request failed ({_status_of(err) or type(err).__name__})") from err
        except (ClientError, TimeoutError) as err:
            raise Unreachable("Ring did not answer") from err
        except MALFORMED_ANSWER as err:
            raise Unreachable(f"Ring's answer is not what its API sends ({type(err).__name__})") from err
        if self._backoff_steps.pop(kind, 0) and not self._backoff_steps:
            _LOGGER.info("Ring answers again after rate limiting")
        return True, value

    def _back_off(self, kind: str) -> None:
        step = self._backoff_steps.get(kind, 0)
        delay = min(BACKOFF_FIRST * (2**step), BACKOFF_MAX)
        if not self._backoff_steps:
            _LOGGER.warning("Ring is rate limiting this account; asking again after %s", delay)
        self._backoff_steps[kind] = step + 1
        until = dt_util.utcnow() + delay
        self._backoff_until = until if self._backoff_until is None else max(until, self._backoff_until)

    async def async_download(self, url: str) -> bytes:
        """A recording's bytes from its (signed) link; the link never reaches a log or an error."""
        try:
            async with self.http.session.get(url) as response:
                response.raise_for_status()
                return await response.read()
        except (ClientError, TimeoutError) as err:
            raise Unreachable("the recording could not be downloaded") from err


class RingConnection:
    """One Ring account: camera ids are `ring_<Ring's device id>`, the hub is the account."""

    address = "Ring"

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
        self._hass = hass
        self._entry = entry
        self._account: RingAccount | None = None
        self._backends: dict[str, RingBackend] = {}
        self._listeners: list[Callable[[], None]] = []
        self._push: RingPush | None = None
        self._account_id = entry.unique_id or ""

    @property
    def cameras(self) -> Mapping[str, CameraBackend]:
        return self._backends

    @property
    def hub(self) -> Hub:
        return Hub(
            id=f"ring_account_{self._account_id}",
            # Named by the e-mail like the entry: what tells two accounts apart (diagnostics redact it).
            identity=DeviceIdentity(name=self._entry.title, manufacturer=MANUFACTURER, model="Ring account"),
        )

    async def async_connect(self) -> None:
        data = self._entry.data
        http = await ring_http_session(self._hass)
        auth = Auth(
            USER_AGENT,
            token=dict(data[CONF_TOKEN]),
            token_updater=self._token_updated,
            hardware_id=data[CONF_HARDWARE_ID],
            http_client_session=http.session,
        )
        account = self._account = RingAccount(Ring(auth), http, self._sync_backends)
        try:
            await account.async_run(account.ring.async_create_session)
            await account.async_refresh()
        except BaseException:
            self._account = None
            self._backends.clear()
            await http.close()
            raise
        await self._async_start_push()

    @callback
    def _token_updated(self, token: dict[str, Any]) -> None:
        """Ring refreshed the token: the entry keeps the new one (the refresh token may rotate)."""
        entry = self._entry
        self._hass.config_entries.async_update_entry(entry, data={**entry.data, CONF_TOKEN: token})

    def _sync_backends(self) -> None:
        """Backends for the cameras the device list holds now; tells subscribers when that changed."""
        assert self._account is not None
        ring = self._account.ring
        # The library caches its device objects; a fresh RingDevices sees added and removed ones.
        devices = RingDevices(ring, ring.devices_data)
        listed = {_camera_id(d): d for d in map(as_camera, devices.all_devices) if d is not None}
        gone = self._backends.keys() - listed.keys()
        added = listed.keys() - self._backends.keys()
        for camera_id in gone:
            del self._backends[camera_id]
        for camera_id in added:
            self._backends[camera_id] = RingBackend(
                camera_id, listed[camera_id], self._account, self._hass.async_add_executor_job
            )
        if gone or added:
            for listener in list(self._listeners):
                listener()

    async def _async_start_push(self) -> None:
        assert self._account is not None
        self._push = RingPush(
            self._account.ring,
            self._entry.data.get(CONF_LISTEN_CREDENTIALS),
            self._listen_credentials_updated,
            self._pushed,
            self._push_changed,
        )
        self._account.push = self._push
        await self._push.start()

    @callback
    def _listen_credentials_updated(self, credentials: dict[str, Any]) -> None:
        self._hass.config_entries.async_update_entry(
            self._entry, data={**self._entry.data, CONF_LISTEN_CREDENTIALS: credentials}
        )

    @callback
    def _pushed(self, camera_id: str, event: CameraEvent) -> None:
        if (backend := self._backends.get(camera_id)) is not None:
            backend.deliver_pushed(event)

    @callback
    def _push_changed(self) -> None:
        for backend in list(self._backends.values()):
            backend.push_changed()

    async def async_close(self) -> None:
        # Live views first: their signalling sockets close, and are waited for, before the account's
        # session goes (a camera entity only starts closing its views when it is removed).
        for backend in self._backends.values():
            await backend.async_end_live_views()
        if self._push is not None:
            await self._push.stop()
            self._push = None
            if self._account is not None:
                self._account.push = None
        if self._account is not None:
            await self._account.http.close()
            self._account = None

    def entry_data_updates(self) -> Mapping[str, Any]:
        return {}

    def subscribe_cameras(self, on_change: Callable[[], None]) -> Callable[[], None]:
        """Cameras added or removed in the Ring app: the device list is asked at Ring's pace."""
        self._listeners.append(on_change)

        async def poll(now: datetime) -> None:
            if self._account is None:
                return
            try:
                await self._account.async_refresh()
            except CameraHubError as err:
                _LOGGER.debug("Ring device list not refreshed: %s", err)

        stop_polling = async_track_time_interval(self._hass, poll, UPDATE_INTERVAL, name="ring devices")

        def unsubscribe() -> None:
            stop_polling()
            self._listeners.remove(on_change)

        return unsubscribe
