"""A Furbo entry's connection: one account, its cameras, and ONE batched poll for all of them.

Furbo offers third parties no push, and its cloud rate-limits hard (one install got 80002 on every
poll for seven hours). So the cameras' coordinators never reach the cloud themselves: each state read
asks the account, which polls only when its interval (an option, 60 s at least) has passed — every
camera's events in one call; the calendar, device list, subscriptions and each camera's alert
settings at most hourly — and answers every camera from that poll. 80002 backs off (TimeWait, at least
a minute, doubling); 80001 is a lockout: every camera is unavailable, saying so with the wait, and
nothing is asked of Furbo until the wait is over. An expired token is replaced by a silent login with
the stored encrypted password and the install's MobileId; when Furbo then wants its e-mailed code,
AuthFailed starts reauthentication, which asks for the code only.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from ...media_source import PART_THUMBNAIL, media_url
from ..base import (
    AuthFailed,
    CameraBackend,
    CameraEvent,
    CommandFailed,
    DeviceIdentity,
    Hub,
    MediaBody,
    MediaItem,
    Picture,
)
from .backend import MANUFACTURER, FurboBackend, alert_keys
from .cloud import FurboClient, chunks, furbo_cloud, new_mobile_id, read_all
from .const import (
    ACCOUNT_INTERVAL,
    CALENDAR_INTERVAL,
    CONF_ACCOUNT_ID,
    CONF_EMAIL,
    CONF_ENC_PASSWORD,
    CONF_EVENT_INTERVAL,
    CONF_TOKEN,
    DEFAULT_EVENT_INTERVAL,
    FIRST_POLL_WINDOW,
    MEDIA_WINDOW,
    MIN_EVENT_INTERVAL,
    MOBILE_ID_STORE,
    RATE_LIMIT_MAX_WAIT,
    RATE_LIMIT_MIN_WAIT,
)
from .errors import FurboRateLimited, FurboTokenInvalid, FurboTooManyAttempts, FurboUnreachable
from .models import Device, Diary, Event, Login, Species, vocabulary

_LOGGER = logging.getLogger(__name__)

_MOBILE_ID: HassKey[MobileIdHolder] = HassKey(MOBILE_ID_STORE)
EVENT_ITEM = "event:"
DIARY_ITEM = "diary:"


@dataclass
class MobileIdHolder:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    value: str | None = None


async def async_mobile_id(hass: HomeAssistant) -> str:
    """This install's MobileId: made once, stored, and shared by every Furbo entry."""
    holder = hass.data.setdefault(_MOBILE_ID, MobileIdHolder())
    async with holder.lock:
        if holder.value is None:
            store: Store[dict[str, str]] = Store(hass, 1, MOBILE_ID_STORE)
            stored = await store.async_load() or {}
            if not (value := stored.get("mobile_id")):
                value = new_mobile_id()
                await store.async_save({"mobile_id": value})
            holder.value = value
        return holder.value


async def async_client(hass: HomeAssistant) -> FurboClient:
    """A client on HA's HTTP session for Furbo's cloud (or the development seam's)."""
    cloud = await hass.async_add_executor_job(furbo_cloud)
    context = await hass.async_add_executor_job(cloud.ssl_context)
    return FurboClient(async_get_clientsession(hass), cloud, context)


def event_interval(options: Mapping[str, Any]) -> timedelta:
    return timedelta(
        seconds=max(int(options.get(CONF_EVENT_INTERVAL, DEFAULT_EVENT_INTERVAL)), MIN_EVENT_INTERVAL)
    )


@dataclass
class Seen:
    """What the latest poll learned about one camera."""

    alerts: dict[str, str] = field(default_factory=dict)
    licensed: bool | None = None  # None: unknown (not read yet, or Furbo's answer was unreadable)
    latest: Event | None = None
    events_today: int = 0


class FurboAccount:
    """The entry's Connection: a Furbo account and its cameras."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
        self._hass = hass
        self._entry_id = entry.entry_id
        self._email: str = entry.data[CONF_EMAIL]
        self._enc_password: str = entry.data[CONF_ENC_PASSWORD]
        self._stored_login = (
            Login(account_id=entry.data[CONF_ACCOUNT_ID], token=entry.data[CONF_TOKEN])
            if entry.data.get(CONF_ACCOUNT_ID) and entry.data.get(CONF_TOKEN)
            else None
        )
        self._interval = event_interval(entry.options)
        self._client: FurboClient | None = None
        self._mobile_id = ""
        self._backends: dict[str, FurboBackend] = {}
        self._seen: dict[str, Seen] = {}
        self._events: dict[str, Event] = {}  # every event the polls saw, by id (today's window)
        self._newest_at: datetime | None = None
        self._license_on: bool | None = None
        self.activity_today: int | None = None
        # Held while the account polls: one poll at a time, and what waits for a poll to finish.
        self.poll_lock = asyncio.Lock()
        self._login_lock = asyncio.Lock()
        self._polled_once = False
        self._next_poll: datetime | None = None
        self._calendar_due: datetime | None = None
        self._account_due: datetime | None = None
        self._rate_strikes = 0
        self._locked_until: datetime | None = None  # 80001: Furbo refuses this account until then
        # Set when a silent login was refused (code wanted, password changed): every camera's read
        # answers with it until reauthentication reloads the entry, instead of logging in again.
        self._refused: AuthFailed | None = None
        self._listeners: list[Callable[[], None]] = []
        self.logins = 0
        self.polls = 0
        self.events_key_missing = 0

    # --- Connection --------------------------------------------------------------------------

    @property
    def cameras(self) -> Mapping[str, CameraBackend]:
        return self._backends

    @property
    def hub(self) -> Hub:
        login = self.client.login if self._client else self._stored_login
        account_id = login.account_id if login else self._email
        return Hub(
            id=f"furbo_{account_id}",
            identity=DeviceIdentity(
                name=f"Furbo {self._email}", manufacturer=MANUFACTURER, model="Furbo account"
            ),
        )

    @property
    def address(self) -> str:
        return "Furbo"

    @property
    def client(self) -> FurboClient:
        assert self._client is not None
        return self._client

    async def async_connect(self) -> None:
        self._mobile_id = await async_mobile_id(self._hass)
        self._client = await async_client(self._hass)
        self.client.login = self._stored_login
        if self.client.login is None:
            await self._async_login()
        await self._async_refresh_account()

    async def async_close(self) -> None:
        # HA owns the HTTP session; the account holds nothing else open.
        self._listeners.clear()

    def entry_data_updates(self) -> Mapping[str, Any]:
        """The session that works, so a restart costs no login."""
        login = self.client.login if self._client else None
        return {CONF_ACCOUNT_ID: login.account_id, CONF_TOKEN: login.token} if login else {}

    def subscribe_cameras(self, on_change: Callable[[], None]) -> Callable[[], None] | None:
        self._listeners.append(on_change)
        return lambda: self._listeners.remove(on_change) if on_change in self._listeners else None

    # --- login -------------------------------------------------------------------------------

    async def _async_login(self) -> None:
        """A silent login with the stored encrypted password and this install's MobileId."""
        self.logins += 1
        await self.client.async_login(self._email, self._enc_password, self._mobile_id)

    async def _authorized[T](self, call: Callable[[], Awaitable[T]]) -> T:
        """`call`, logging in again once if the token expired (it lasts about a day; no refresh token)."""
        token = self.client.login.token if self.client.login else None
        try:
            return await call()
        except FurboTokenInvalid:
            async with self._login_lock:
                current = self.client.login.token if self.client.login else None
                if current == token:  # nobody logged in meanwhile
                    _LOGGER.debug("Furbo session expired; logging in again")
                    await self._async_login()
            return await call()

    # --- the account's one poll --------------------------------------------------------------

    async def _async_refresh_account(self) -> None:
        """Devices, subscriptions and every camera's alerts (at connect, then hourly: alerts change
        only in Furbo's app or through our switches, which update them here themselves)."""
        listing = await self._authorized(self.client.async_devices)
        licensed = await self._authorized(self.client.async_licensed_devices)
        self._license_on = listing.license_on
        changed = False
        for device in listing.devices:
            seen = self._seen.setdefault(device.id, Seen())
            seen.licensed = None if licensed is None else device.id in licensed
            seen.alerts = await self._authorized(partial(self.client.async_alert_settings, device.id))
            if device.id not in self._backends:
                self._backends[device.id] = FurboBackend(
                    self, device, _species(device, seen.alerts), alert_keys(seen.alerts)
                )
                changed = True
        for gone in self._backends.keys() - {device.id for device in listing.devices}:
            del self._backends[gone]
            changed = True
        self._account_due = dt_util.utcnow() + ACCOUNT_INTERVAL
        if changed and self._polled_once:
            for listener in list(self._listeners):
                listener()

    async def async_poll_if_due(self) -> None:
        """Poll the cloud for every camera at once when the interval passed; else use the last poll."""
        async with self.poll_lock:
            if self._refused is not None:
                raise self._refused
            now = dt_util.utcnow()
            self._raise_if_locked(now)
            if self._next_poll is not None and now < self._next_poll:
                return
            try:
                await self._async_poll(now)
            except AuthFailed as err:
                self._refused = err
                raise
            except FurboRateLimited as err:
                self._back_off(now, err)
                if not self._polled_once:
                    raise
                return
            except FurboTooManyAttempts as err:
                self._locked_until = now + timedelta(seconds=err.seconds_left)
                raise
            self._rate_strikes = 0
            self._polled_once = True
            self._next_poll = now + self._interval

    def _raise_if_locked(self, now: datetime) -> None:
        """Every read during an 80001 lockout fails with the time left, and asks Furbo nothing (an
        attempt could prolong it): the cameras stay unavailable with the wait instead of showing
        stale data as if all were well."""
        if self._locked_until is None:
            return
        if now >= self._locked_until:
            self._locked_until = None
            return
        raise FurboTooManyAttempts((self._locked_until - now).total_seconds())

    def _back_off(self, now: datetime, err: FurboRateLimited) -> None:
        self._rate_strikes += 1
        wait = max(timedelta(seconds=err.time_wait), RATE_LIMIT_MIN_WAIT) * 2 ** (self._rate_strikes - 1)
        wait = min(wait, RATE_LIMIT_MAX_WAIT)
        self._next_poll = now + wait
        _LOGGER.warning("Furbo rate-limited the account's poll; next try in %d s", wait.total_seconds())

    async def _async_poll(self, now: datetime) -> None:
        self.polls += 1
        if self._account_due is not None and now >= self._account_due:
            await self._async_refresh_account()
        await self._async_poll_events(now)
        if self._calendar_due is None or now >= self._calendar_due:
            await self._async_poll_calendar(now)
        self._count_today(now)

    async def _async_poll_events(self, now: datetime) -> None:
        """New events since the newest one seen (the cloud's clock), fired on their cameras."""
        if not self._backends:
            return
        start = self._newest_at or (now - FIRST_POLL_WINDOW)
        page = await self._authorized(
            lambda: self.client.async_events(list(self._backends), start=int(start.timestamp()) - 1)
        )
        if page.missing_key:
            self.events_key_missing += 1
        fresh = [event for event in page.events if event.id not in self._events]
        for event in sorted(fresh, key=_moment):
            self._events[event.id] = event
            seen = self._seen.get(event.device_id)
            if seen is not None and (seen.latest is None or _moment(event) >= _moment(seen.latest)):
                seen.latest = event
            if event.taken_at is not None and (self._newest_at is None or event.taken_at > self._newest_at):
                self._newest_at = event.taken_at
            if self._polled_once:
                self._fire(event)

    def _fire(self, event: Event) -> None:
        backend = self._backends.get(event.device_id)
        if backend is None:
            return
        attributes: dict[str, Any] = {"caption": event.caption, "furbo_type": event.name}
        if event.taken_at is not None:
            attributes["taken_at"] = event.taken_at.isoformat()
        if event.thumbnail:
            # Home Assistant's own link: it fetches a fresh signed one on every request.
            attributes["thumbnail"] = media_url(
                self._entry_id, event.device_id, f"{EVENT_ITEM}{event.id}", PART_THUMBNAIL
            )
        kind = vocabulary(backend.species).get(event.name, "other")
        backend.fire(CameraEvent(type=kind, attributes=attributes))

    async def _async_poll_calendar(self, now: datetime) -> None:
        """Today's activity count; the calendar host limits hard, so at most hourly, whatever happens."""
        self._calendar_due = now + CALENDAR_INTERVAL
        today = dt_util.as_local(now).date().isoformat()
        try:
            self.activity_today = await self._authorized(lambda: self.client.async_activity_today(today))
        except FurboRateLimited:
            _LOGGER.debug("Furbo's calendar rate-limited the activity report; trying again in an hour")

    def _count_today(self, now: datetime) -> None:
        today = dt_util.as_local(now).date()
        for device_id, seen in self._seen.items():
            seen.events_today = sum(
                1
                for event in self._events.values()
                if event.device_id == device_id
                and event.taken_at is not None
                and dt_util.as_local(event.taken_at).date() == today
            )

    def seen(self, device_id: str) -> Seen:
        return self._seen.setdefault(device_id, Seen())

    # --- commands ----------------------------------------------------------------------------

    async def async_set_alert(self, device_id: str, name: str, on: bool) -> None:
        await self._authorized(lambda: self.client.async_set_alert(device_id, name, on))
        self.seen(device_id).alerts[name] = "1" if on else "0"

    # --- pictures and media: signed links fetched fresh, an expired one once more -------------

    async def _fresh_event(self, device_id: str, event_id: str) -> Event | None:
        """The event as the cloud lists it now, with newly signed links."""
        known = self._events.get(event_id)
        now = dt_util.utcnow()
        if known is not None and known.taken_at is not None:
            start, end = known.taken_at - timedelta(seconds=2), known.taken_at + timedelta(seconds=2)
        else:
            start, end = now - MEDIA_WINDOW, now + timedelta(minutes=5)
        page = await self._authorized(
            lambda: self.client.async_events(
                [device_id], start=int(start.timestamp()), end=int(end.timestamp())
            )
        )
        return next((event for event in page.events if event.id == event_id), None)

    async def _open_fresh(self, link: Callable[[], Awaitable[str | None]], what: str) -> Any:
        """Open a link fetched now; if it expired already, fetch it once more; never a broken one."""
        for _attempt in range(2):
            url = await link()
            if not url:
                break
            response = await self.client.async_open_link(url)
            if response is not None:
                return response
            _LOGGER.debug("A Furbo %s link had expired; fetching a fresh one", what)
        raise CommandFailed.explained(f"Furbo has no working link for this {what}", "furbo_media_expired")

    async def async_event_picture(self, device_id: str) -> Picture | None:
        latest = self.seen(device_id).latest
        if latest is None or not latest.thumbnail:
            return None
        first: str | None = latest.thumbnail

        async def link() -> str | None:
            nonlocal first
            if first is not None:
                url, first = first, None
                return url
            fresh = await self._fresh_event(device_id, latest.id)
            return fresh.thumbnail if fresh else None

        try:
            response = await self._open_fresh(link, "event picture")
        except CommandFailed:
            return None
        jpeg = await read_all(response)
        return Picture(jpeg=jpeg, taken_at=latest.taken_at or dt_util.utcnow(), kind="event")

    async def async_media_items(self, device_id: str) -> Sequence[MediaItem]:
        now = dt_util.utcnow()
        page = await self._authorized(
            lambda: self.client.async_events([device_id], start=int((now - MEDIA_WINDOW).timestamp()))
        )
        items = [
            MediaItem(
                id=f"{EVENT_ITEM}{event.id}",
                title=_event_title(event),
                taken_at=event.taken_at or now,
                content_type="video/mp4",
                thumbnail=bool(event.thumbnail),
            )
            for event in page.events
            if event.videos
        ]
        for event in page.events:
            self._events.setdefault(event.id, event)
        if device_id == self._diary_camera():
            diaries = await self._authorized(self.client.async_diaries)
            items += [
                MediaItem(
                    id=f"{DIARY_ITEM}{diary.date}",
                    title=f"Doggie Diary {diary.date}",
                    taken_at=_diary_day(diary),
                    content_type="video/mp4",
                    thumbnail=bool(diary.snapshot),
                )
                for diary in diaries
                if diary.timelapse
            ]
        return items

    def _diary_camera(self) -> str | None:
        """The Doggie Diary is the account's: it is browsed under the account's first camera."""
        return min(self._backends, default=None)

    async def async_open_media(self, device_id: str, item_id: str, *, thumbnail: bool) -> MediaBody:
        if item_id.startswith(EVENT_ITEM):
            event_id = item_id.removeprefix(EVENT_ITEM)

            async def event_link() -> str | None:
                event = await self._fresh_event(device_id, event_id)
                if event is None:
                    return None
                return event.thumbnail if thumbnail else next(iter(event.videos), None)

            link, kind = event_link, "image/jpeg" if thumbnail else "video/mp4"
        elif item_id.startswith(DIARY_ITEM):
            day = item_id.removeprefix(DIARY_ITEM)

            async def diary_link() -> str | None:
                diaries = await self._authorized(self.client.async_diaries)
                diary = next((d for d in diaries if d.date == day), None)
                if diary is None:
                    return None
                return diary.snapshot if thumbnail else diary.timelapse

            link, kind = diary_link, "image/jpeg" if thumbnail else "video/mp4"
        else:
            raise CommandFailed(f"no Furbo item {item_id}")
        response = await self._open_fresh(link, "recording")
        return MediaBody(
            content_type=response.headers.get("Content-Type", kind).split(";")[0],
            chunks=chunks(response),
            size=response.content_length,
        )

    # --- diagnostics -------------------------------------------------------------------------

    def diagnostics(self) -> dict[str, Any]:
        """Counts and times only: no token, e-mail, MobileId or link."""
        return {
            "requests_last_hour": self.client.requests.last_hour if self._client else 0,
            "logins": self.logins,
            "polls": self.polls,
            "event_interval_s": self._interval.total_seconds(),
            "next_poll": self._next_poll.isoformat() if self._next_poll else None,
            "rate_limit_strikes": self._rate_strikes,
            "events_key_missing": self.events_key_missing,
            "events_seen": len(self._events),
            "account_license_on": self._license_on,
            "simulated_cloud": self._client.cloud.simulated if self._client else None,
        }


def _species(device: Device, alerts: Mapping[str, str]) -> Species:
    """By ProductId; an unknown product is a cat camera when its alerts are the cat ones."""
    species = device.product.species
    if device.product_id and device.product.model != f"Furbo ({device.product_id})":
        return species
    return Species.CAT if any(key.startswith("Cat") or key == "Meowing" for key in alerts) else species


def _moment(event: Event) -> datetime:
    return event.taken_at or datetime.min.replace(tzinfo=UTC)


def _event_title(event: Event) -> str:
    when = dt_util.as_local(event.taken_at).strftime("%Y-%m-%d %H:%M") if event.taken_at else ""
    return f"{when} {event.caption or event.name}".strip()


def _diary_day(diary: Diary) -> datetime:
    try:
        return dt_util.as_utc(
            datetime.fromisoformat(diary.date).replace(tzinfo=dt_util.get_default_time_zone())
        )
    except ValueError:
        return dt_util.utcnow()


__all__ = ["FurboAccount", "FurboUnreachable", "async_client", "async_mobile_id"]
