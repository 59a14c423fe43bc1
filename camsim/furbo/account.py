"""One simulated Furbo account: login with the emailed-code step, tokens, cameras, alerts, events, faults.

Behaviour follows shared/notes/furbo.md §1-§3 and §6. Where the sources are silent the simulator picks
something plausible and says so here:
- every refusal is HTTP 400 with `{Code, Message}` (ha-furbo's tests use 400 for 12101; it only checks
  "not 200"); a missing or wrong static `Authorization` header is 401 without a Code;
- a login from a MobileId that once completed the code step is trusted and needs no code again, until
  the state endpoint sets `{"mfa": true}` (ha-furbo: re-login from the same MobileId "usually" needs none);
- `--lockout-after` wrong passwords in a row lock the account for `--lockout-seconds` (80001, also for
  the right password meanwhile);
- an event list request without `EventNames` answers no events (it "returned nothing on some accounts");
- `{"password": "…"}` on the state endpoint is the person changing the password in Furbo's app: the old
  one is refused from then on (tokens already issued keep working, as they do until they expire);
- `add_event` may carry `types`: the names the event list reports under `Types` instead of the event's
  own name (ha-furbo's live sample reports "DogActivity", a name the request vocabulary lacks); the
  list still filters by the event's name;
- the MobileIds that logins carried are kept, in order of first use (`mobile_ids` in the state): a
  client that makes a new one per login looks like a new phone each time;
- `{"set_alert": {"device_id": …, "name": …, "value": "0"|"1"}}` is the person changing a smart alert in
  Furbo's app;
- `{"cut_media": {"count": N, "path": "/media/"}}` sends the next N media bodies only half-way, then hangs
  up (a download that breaks off: the announced Content-Length is never reached).
"""

from __future__ import annotations

import datetime
import itertools
import random
import secrets
import time
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from ..accounts import AccountList, account_numbers, numbered
from ..malformed import JSON_FAULTS
from . import catalog

REQUEST_LOG_SIZE = 500
CALENDAR_WINDOW = 10.0  # seconds: the calendar host refuses a repeat call to one path within this
MAX_EVENT_LIMIT = 1000


class CloudError(Exception):
    """A refusal as the Furbo cloud sends it: HTTP status plus `{Code, Message, …extra}`."""

    def __init__(self, code: int | None, message: str, status: int = 400, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.extra = extra

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"Message": self.message}
        if self.code is not None:
            body["Code"] = self.code
        return {**body, **self.extra}


def invalid_request() -> CloudError:
    # The real body never says which field was wrong.
    return CloudError(12001, "Invalid parameter")


def invalid_token() -> CloudError:
    return CloudError(12002, "Invalid token")


@dataclass
class Config:
    email: str = "demo@furbo.test"
    password: str = "furbopass"
    mfa: bool = True
    devices: tuple[str, ...] = ("dog", "cat", "mini")
    subscription: bool = True
    token_ttl: float = 86400.0
    code_ttl: float = 600.0
    link_ttl: float = 3600.0
    lockout_after: int = 5
    lockout_seconds: float = 300.0
    calendar_window: float = CALENDAR_WINDOW
    timezone: str = "Europe/London"
    accounts: int = 1


@dataclass
class Camera:
    id: str
    product: catalog.Product
    name: str
    alerts: dict[str, str]

    def listing(self) -> dict[str, Any]:
        """The camera as `/v2/account/{AccountId}/device` lists it."""
        return {
            "Id": self.id,
            "DeviceName": self.name,
            "ProductId": self.product.product_id,
            "FirmwareVersion": "108",
            "LibraryVersion": "002.063",
            "DeviceStatus": "ACTIVE",
            "DeviceType": "NORMAL",
            "BindingRole": "ADMIN",
            "BindingStatus": "ACTIVATED",
            "ServiceStatus": "ACTIVE",
            "ActiveFeatureSets": [
                f"SmartAlerts:{catalog.ALERTS[self.product.species][0]}",
                "LiveViewTracking",
            ],
            "P2PUuid": f"SIMFURBO{self.id}"[:20],
            "P2PVendor": "TUTKV2",
        }


@dataclass
class Event:
    id: int
    device_id: str
    name: str
    at: float  # epoch seconds
    caption: str
    action_caption: str
    location_caption: str
    duration_ms: int
    types: tuple[str, ...] = ()  # what the event list reports under Types; () = (name,)


@dataclass
class Fault:
    """A forced answer for the next `count` requests whose path starts with `path`."""

    count: int
    path: str
    status: int
    code: int | None
    time_wait: float | None = None

    def matches(self, path: str) -> bool:
        return self.count > 0 and path.startswith(self.path)

    def error(self) -> CloudError:
        extra = {} if self.time_wait is None else {"TimeWait": self.time_wait}
        message = "Too many requests" if self.code in (80001, 80002) else "Internal server error"
        return CloudError(self.code, message, status=self.status, **extra)


@dataclass
class Malformed:
    """The next `count` replies to paths starting with `path` come broken (camsim.malformed's kinds)."""

    count: int
    path: str
    kind: str


@dataclass
class Stall:
    """The next `count` requests whose path starts with `path` wait `seconds` before any answer
    (a cloud that accepted the connection and hangs: clients see their own timeout)."""

    count: int
    path: str
    seconds: float

    def matches(self, path: str) -> bool:
        return self.count > 0 and path.startswith(self.path)


@dataclass
class Cut:
    """The next `count` media bodies whose path starts with `path` stop half-way and the connection closes."""

    count: int
    path: str


@dataclass
class Pending:
    """A login waiting for its emailed code: the candidate the client holds, and the code once sent."""

    mobile_id: str
    code: str | None = None
    sent_at: float = 0.0


@dataclass
class Counters:
    requests_total: int = 0
    logins: int = 0
    codes_sent: int = 0
    requests_stalled: int = 0  # counted as they arrive: a stalled request is recorded only if it ends
    per_path: Counter[str] = field(default_factory=Counter)


class Account:
    """The account's whole state; the HTTP layer (api.py) only parses requests and calls in here."""

    def __init__(self, config: Config, number: int = 1, event_ids: Iterator[int] | None = None) -> None:
        self.config = config
        self.number = number  # 1, 2, …: the account's place in the simulator
        self.account_id = secrets.token_hex(12)
        self.zone = ZoneInfo(config.timezone)
        # Event ids are the cloud's, unique across its accounts.
        self._event_ids = event_ids if event_ids is not None else itertools.count(1)
        self.cameras = self._make_cameras(config.devices, number)
        self.events: list[Event] = []
        self.counters = Counters()
        self.requests: deque[dict[str, Any]] = deque(maxlen=REQUEST_LOG_SIZE)
        self.last_code: str | None = None
        self.events_key: str | None = "Events"
        self._tokens: dict[str, float] = {}  # token -> expiry (epoch s)
        self._trusted: set[str] = set()  # MobileIds that completed the code step
        self.mobile_ids: list[str] = []  # every MobileId a login carried, in order of first use
        self._pending: dict[str, Pending] = {}  # current candidate -> login waiting for its code
        self._stale: set[str] = set()  # candidates replaced by a newer one
        self._auth_codes: dict[str, str] = {}  # MfaAuthCode -> MobileId, each usable once
        self._failures = 0
        self._locked_until = 0.0
        self._calendar_calls: dict[str, float] = {}
        self._faults: list[Fault] = []
        self._stalls: list[Stall] = []
        self._malformed: list[Malformed] = []
        self._cuts: list[Cut] = []
        self._seed_events()

    # --- cameras and events ---------------------------------------------------------------------------

    @staticmethod
    def _make_cameras(kinds: tuple[str, ...], number: int) -> dict[str, Camera]:
        cameras: dict[str, Camera] = {}
        seen: Counter[str] = Counter()
        # Real Ids are MACs, unique across accounts; so are these across simulator runs (several
        # simulated accounts in one Home Assistant must not share camera ids).
        vendor_part = secrets.token_hex(3).upper()
        for index, kind in enumerate(kinds, start=1):
            product = catalog.PRODUCTS[kind]
            seen[kind] += 1
            name = product.device_name if seen[kind] == 1 else f"{product.device_name} {seen[kind]}"
            if number > 1:  # names differ across accounts too: say whose camera it is
                name = f"{name} (home {number})"
            camera_id = f"{vendor_part}{index:06X}"
            cameras[camera_id] = Camera(camera_id, product, name, catalog.default_alerts(product.species))
        return cameras

    def _seed_events(self) -> None:
        now = time.time()
        for camera in self.cameras.values():
            for name, minutes_ago in catalog.SEED_EVENTS[camera.product.species]:
                self.add_event(camera.id, name, at=now - minutes_ago * 60)

    def add_event(
        self,
        device_id: str,
        name: str,
        caption: str | None = None,
        at: float | None = None,
        types: tuple[str, ...] = (),
    ) -> Event:
        if device_id not in self.cameras:
            raise ValueError(f"no camera {device_id!r}")
        if name not in catalog.EVENT_NAMES:
            raise ValueError(f"{name!r} is not a Furbo event name")
        default_caption, action, location = catalog.caption_for(name)
        event = Event(
            id=next(self._event_ids),
            device_id=device_id,
            name=name,
            at=time.time() if at is None else at,
            caption=caption or default_caption,
            action_caption=action,
            location_caption=location,
            duration_ms=random.randint(5, 30) * 1000,
            types=types,
        )
        self.events.append(event)
        return event

    def event(self, event_id: int) -> Event | None:
        return next((event for event in self.events if event.id == event_id), None)

    def holds_candidate(self, candidate: str) -> bool:
        """Whether a login of this account handed out `candidate` (current or stale)."""
        return candidate in self._pending or candidate in self._stale

    def camera(self, device_id: Any) -> Camera:
        camera = self.cameras.get(device_id) if isinstance(device_id, str) else None
        if camera is None:
            raise invalid_request()
        return camera

    def local_time(self, at: float) -> str:
        """`at` as the cloud writes times: "YYYY-MM-DD HH:MM:SS" in the account's timezone."""
        return datetime.datetime.fromtimestamp(at, self.zone).strftime("%Y-%m-%d %H:%M:%S")

    def local_date(self, at: float) -> str:
        return datetime.datetime.fromtimestamp(at, self.zone).strftime("%Y-%m-%d")

    def events_on(self, date: str) -> list[Event]:
        """Events of one calendar day in the account's timezone; none without a subscription."""
        if not self.config.subscription:
            return []
        return [event for event in self.events if self.local_date(event.at) == date]

    def list_events(
        self,
        device_ids: list[str],
        names: list[str],
        start_after: float | None,
        end_before: float | None,
        limit: int,
    ) -> list[Event]:
        """The event-handler's list, newest first."""
        if not self.config.subscription:
            return []
        chosen = [
            event
            for event in self.events
            if event.device_id in device_ids
            and event.name in names
            and (start_after is None or event.at > start_after)
            and (end_before is None or event.at < end_before)
        ]
        return sorted(chosen, key=lambda event: event.at, reverse=True)[:limit]

    # --- login ----------------------------------------------------------------------------------------

    def check_password(self, email: Any, password: str | None) -> None:
        now = time.time()
        if now < self._locked_until:
            raise CloudError(80001, "Too many attempts", TimeWait=int(self._locked_until - now) + 1)
        if email == self.config.email and password == self.config.password:
            self._failures = 0
            return
        self._failures += 1
        if self._failures >= self.config.lockout_after:
            self._failures = 0
            self._locked_until = now + self.config.lockout_seconds
        # Furbo answers a wrong email or password with the invalid-token code.
        raise CloudError(12002, "Incorrect email or password")

    def start_login(self, mobile_id: Any) -> dict[str, Any]:
        """After a good password: a token, or the 12101 answer that asks for the emailed code."""
        if not isinstance(mobile_id, str) or not mobile_id:
            raise invalid_request()
        if mobile_id not in self.mobile_ids:
            self.mobile_ids.append(mobile_id)
        if not self.config.mfa or mobile_id in self._trusted:
            return self.issue_token()
        candidate = self._new_candidate(Pending(mobile_id))
        raise CloudError(12101, "MFA required", AccountId=self.account_id, MfaAuthCodeCandidate=candidate)

    def send_code(self, candidate: Any) -> dict[str, Any]:
        pending = self._pending_for(candidate)
        del self._pending[candidate]
        self._stale.add(candidate)
        pending.code = f"{secrets.randbelow(1_000_000):06d}"
        pending.sent_at = time.time()
        self.last_code = pending.code
        self.counters.codes_sent += 1
        return {"MfaAuthCodeCandidate": self._new_candidate(pending)}

    def verify_code(self, candidate: Any, code: Any) -> dict[str, Any]:
        pending = self._pending_for(candidate)
        if pending.code is None or code != pending.code:
            raise CloudError(12102, "MFA code invalid")
        if time.time() > pending.sent_at + self.config.code_ttl:
            raise CloudError(12103, "MFA code expired")
        del self._pending[candidate]
        self._stale.add(candidate)
        auth_code = ".eJ" + secrets.token_urlsafe(24)
        self._auth_codes[auth_code] = pending.mobile_id
        return {"MfaAuthCode": auth_code}

    def finish_login(self, mobile_id: Any, auth_code: Any) -> dict[str, Any]:
        """`/v2/account/login`: with a verified MfaAuthCode the MobileId becomes trusted."""
        if auth_code is None:
            return self.start_login(mobile_id)
        if not isinstance(auth_code, str) or self._auth_codes.get(auth_code) != mobile_id:
            raise CloudError(12103, "MFA code expired")
        del self._auth_codes[auth_code]
        self._trusted.add(mobile_id)
        return self.issue_token()

    def issue_token(self) -> dict[str, Any]:
        token = secrets.token_urlsafe(48)
        self._tokens[token] = time.time() + self.config.token_ttl
        self.counters.logins += 1
        return {
            "AccountId": self.account_id,
            "CognitoToken": token,
            "Email": self.config.email,
            "DeviceBindingLimit": 5,
            "Status": "ACTIVE",
            "Type": "FURBO_V2",
        }

    def authorize(self, account_id: Any, token: Any) -> None:
        expiry = self._tokens.get(token) if isinstance(token, str) else None
        if account_id != self.account_id or expiry is None or expiry < time.time():
            raise invalid_token()

    def _new_candidate(self, pending: Pending) -> str:
        candidate = secrets.token_urlsafe(24)
        self._pending[candidate] = pending
        return candidate

    def _pending_for(self, candidate: Any) -> Pending:
        pending = self._pending.get(candidate) if isinstance(candidate, str) else None
        if pending is not None:
            return pending
        if candidate in self._stale:
            raise CloudError(12103, "MFA code expired")
        raise invalid_request()

    # --- limits and faults ----------------------------------------------------------------------------

    def check_calendar(self, path: str) -> None:
        """The calendar host's limiter: a repeat call to the same path within the window is 80002."""
        now = time.time()
        last = self._calendar_calls.get(path)
        if last is not None and now - last < self.config.calendar_window:
            # TimeWait understates the wait, as the real one does (ha-furbo waits >= 10 s regardless).
            raise CloudError(80002, "Rate limited", TimeWait=1)
        self._calendar_calls[path] = now

    def stall_for(self, path: str) -> float:
        """Seconds the next request to `path` waits before it is answered (the `stall` fault)."""
        for stall in self._stalls:
            if stall.matches(path):
                stall.count -= 1
                self.counters.requests_stalled += 1
                return stall.seconds
        return 0.0

    def forced_error(self, path: str) -> CloudError | None:
        for fault in self._faults:
            if fault.matches(path):
                fault.count -= 1
                return fault.error()
        return None

    def malformed_reply(self, path: str) -> str | None:
        """How to break the reply to `path` (a `malform` fault), or None to send it as it is."""
        for fault in self._malformed:
            if fault.count > 0 and path.startswith(fault.path):
                fault.count -= 1
                return fault.kind
        return None

    def cut_short(self, path: str) -> bool:
        """Whether the media body for `path` breaks off half-way (a `cut_media` fault)."""
        for cut in self._cuts:
            if cut.count > 0 and path.startswith(cut.path):
                cut.count -= 1
                return True
        return False

    def record(self, method: str, path: str, status: int) -> None:
        self.counters.requests_total += 1
        self.counters.per_path[path] += 1
        self.requests.append({"method": method, "path": path, "status": status})

    # --- the state endpoint ---------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "email": self.config.email,
            "devices": [camera.listing() for camera in self.cameras.values()],
            "alerts": {camera.id: dict(camera.alerts) for camera in self.cameras.values()},
            "events": [
                {
                    "id": event.id,
                    "device_id": event.device_id,
                    "name": event.name,
                    "caption": event.caption,
                    "local_time": self.local_time(event.at),
                }
                for event in self.events
            ],
            "last_code": self.last_code,
            "mfa": self.config.mfa,
            "subscription": self.config.subscription,
            "events_key": self.events_key,
            "trusted_mobile_ids": len(self._trusted),
            "mobile_ids": list(self.mobile_ids),
            "counters": {
                "requests_total": self.counters.requests_total,
                "logins": self.counters.logins,
                "codes_sent": self.counters.codes_sent,
                "requests_stalled": self.counters.requests_stalled,
                "per_path": dict(self.counters.per_path),
            },
            "requests": list(self.requests),
        }

    def apply(self, body: dict[str, Any]) -> list[Event]:
        """Apply a state-endpoint POST; `{}` clears every fault. Returns events it added (for links)."""
        if not body:
            self._clear_faults()
            return []
        unknown = set(body) - _STATE_KEYS
        if unknown:
            raise ValueError(f"unknown keys: {sorted(unknown)}")
        added: list[Event] = []
        if "add_event" in body:
            spec = _object(body["add_event"], "add_event")
            types = spec.get("types", [])
            if not isinstance(types, list) or not all(isinstance(t, str) and t for t in types):
                raise ValueError("add_event.types must be a list of names")
            added.append(
                self.add_event(
                    str(spec.get("device_id")), str(spec.get("name")), spec.get("caption"), types=tuple(types)
                )
            )
        if "set_alert" in body:
            spec = _object(body["set_alert"], "set_alert")
            camera = self.cameras.get(str(spec.get("device_id")))
            name, value = str(spec.get("name")), str(spec.get("value"))
            if camera is None or name not in camera.alerts or not catalog.valid_alert_value(name, value):
                raise ValueError(
                    "set_alert needs a camera's device_id, one of its alert names and a valid value"
                )
            camera.alerts[name] = value
        if body.get("expire_tokens"):
            self._tokens.clear()
        if "rate_limit" in body:
            spec = _object(body["rate_limit"], "rate_limit")
            code = spec.get("code", 80002)
            if code not in (80001, 80002):
                raise ValueError("rate_limit.code must be 80001 or 80002")
            self._faults.append(
                Fault(
                    int(spec.get("count", 1)), str(spec.get("path", "/")), 400, code, spec.get("time_wait", 1)
                )
            )
        if "fail" in body:
            spec = _object(body["fail"], "fail")
            self._faults.append(
                Fault(
                    int(spec.get("count", 1)), str(spec.get("path", "/")), int(spec.get("status", 500)), None
                )
            )
        if "malform" in body:
            spec = _object(body["malform"], "malform")
            kind = str(spec.get("kind", "truncated"))
            if kind not in JSON_FAULTS:
                raise ValueError(f"malform.kind must be one of {', '.join(JSON_FAULTS)}")
            self._malformed.append(Malformed(int(spec.get("count", 1)), str(spec.get("path", "/")), kind))
        if "stall" in body:
            spec = _object(body["stall"], "stall")
            self._stalls.append(
                Stall(int(spec.get("count", 1)), str(spec.get("path", "/")), float(spec.get("seconds", 30)))
            )
        if "cut_media" in body:
            spec = _object(body["cut_media"], "cut_media")
            self._cuts.append(Cut(int(spec.get("count", 1)), str(spec.get("path", "/media/"))))
        if "password" in body:
            password = body["password"]
            if not isinstance(password, str) or not password:
                raise ValueError("password must be a non-empty string")
            self.config.password = password
        if "mfa" in body:
            self.config.mfa = bool(body["mfa"])
            if self.config.mfa:
                self._trusted.clear()  # every MobileId has to go through the code step again
        if "subscription" in body:
            self.config.subscription = bool(body["subscription"])
        if "events_key" in body:
            key = body["events_key"]
            if key is not None and not isinstance(key, str):
                raise ValueError("events_key must be a string or null")
            self.events_key = key
        return added

    def _clear_faults(self) -> None:
        self._faults.clear()
        self._stalls.clear()
        self._malformed.clear()
        self._cuts.clear()
        self._failures = 0
        self._locked_until = 0.0
        self._calendar_calls.clear()
        self.events_key = "Events"


_STATE_KEYS = frozenset(
    {
        "add_event",
        "expire_tokens",
        "rate_limit",
        "mfa",
        "subscription",
        "events_key",
        "expire_links",
        "fail",
        "stall",
    }
    | {"malform", "cut_media", "password", "set_alert"}
)


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be a JSON object")
    return value


class Accounts(AccountList[Account]):
    """Every account one simulated cloud serves (`--accounts N`); a request finds its account by what
    it carries (AccountId, e-mail, code candidate), as Furbo's cloud tells its users apart."""

    def __init__(self, config: Config) -> None:
        event_ids = itertools.count(1)
        super().__init__(
            [Account(numbered(config, number), number, event_ids) for number in account_numbers(config)]
        )

    def by_id(self, account_id: Any) -> Account:
        """The account with this AccountId; an unknown one goes to the first, which refuses it."""
        return next((a for a in self.all if a.account_id == account_id), self.first)

    def by_email(self, email: Any) -> Account:
        return next((a for a in self.all if a.config.email == email), self.first)

    def by_candidate(self, candidate: Any) -> Account:
        if not isinstance(candidate, str):
            return self.first
        return next((a for a in self.all if a.holds_candidate(candidate)), self.first)

    def for_body(self, body: dict[str, Any]) -> Account:
        """A POST's account: its AccountId, else its Email, else its code candidate, else the first."""
        if "AccountId" in body:
            return self.by_id(body["AccountId"])
        if "Email" in body:
            return self.by_email(body["Email"])
        return self.by_candidate(body.get("MfaAuthCodeCandidate"))
