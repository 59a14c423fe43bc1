"""One simulated Ring account: credentials and 2FA, OAuth tokens, devices, history, snapshots, faults.

Everything the HTTPS handlers (api.py), the signalling socket (signalling.py) and the state endpoint
(server.py) read or change lives here, so the state endpoint shows exactly what clients saw.
"""

from __future__ import annotations

import datetime
import itertools
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from ..accounts import AccountList, account_numbers, numbered
from ..malformed import JSON_FAULTS
from . import catalog

TWO_FACTOR_MODES = ("none", "sms", "email", "totp")
CODE_TTL = 600.0
# Ring sends about 10 codes per 10 minutes, then answers "too many requests from dependency service".
CODE_LIMIT = 10
CODE_WINDOW = 600.0
EVENT_EXPIRES_IN = 180
# A wired camera's on-demand snapshot is taken this long after the trigger (real Ring: about 1 s).
SNAPSHOT_DELAY = 0.8
# Battery cameras only have their periodic snapshot, taken this long before the simulator started.
BATTERY_SNAPSHOT_AGE = 600.0
REQUEST_LOG_CAP = 500
# How the `close` quirk ends a live view: Ring's close message, the socket dropped without a word, or
# a message the client cannot read.
CLOSE_WAYS = ("message", "drop", "garble")
FIRST_DING_ID = 7_300_000_000_000_000_000
FIRST_DEVICE_ID = 100_001


@dataclass
class Config:
    email: str = "demo@ring.test"
    password: str = "ringpass"
    two_factor: str = "none"
    devices: tuple[str, ...] = ("doorbell", "floodlight", "battery", "chime")
    access_ttl: float = 3600.0
    accounts: int = 1


class Ids:
    """Device and ding ids, unique across every account of one simulated cloud (as Ring's are)."""

    def __init__(self) -> None:
        self._devices = itertools.count(FIRST_DEVICE_ID)
        self._dings = itertools.count(FIRST_DING_ID)

    def device(self) -> int:
        return next(self._devices)

    def ding(self) -> int:
        return next(self._dings)


@dataclass
class Fault:
    """`count` more requests whose path starts with `path` get `status` (or wait `seconds`)."""

    count: int
    path: str = ""
    status: int = 500
    html: bool = False
    seconds: float = 0.0
    kind: str = ""  # a `malform` fault's: how the reply is broken (camsim.malformed)

    def matches(self, path: str) -> bool:
        return self.count > 0 and path.startswith(self.path)


@dataclass
class Event:
    """A history entry: a ding, a motion or an on-demand view, with its recording."""

    id: int
    device_id: int
    kind: str
    created: float
    subtype: str = ""

    def created_at(self) -> str:
        moment = datetime.datetime.fromtimestamp(self.created, datetime.UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"

    def history_json(self, description: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "created_at": self.created_at(),
            "answered": False,
            "events": [],
            "kind": self.kind,
            "favorite": False,
            "snapshot_url": "",
            "recording": {"status": "ready"},
            "duration": 3.0,
            "cv_properties": {
                "person_detected": self.subtype == "human",
                "detection_type": self.subtype or None,
            },
            "doorbot": {"id": self.device_id, "description": description},
        }


@dataclass
class Snapshot:
    """A wired camera's snapshot clock: the last picture's time and a capture under way."""

    taken: float
    pending: float | None = None


@dataclass
class Account:
    config: Config
    ids: Ids = field(default_factory=Ids)
    number: int = 1  # 1, 2, …: the account's place in the simulator; others name their devices "… (home N)"
    two_factor: str = "none"
    devices: dict[int, dict[str, Any]] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    snapshots: dict[int, Snapshot] = field(default_factory=dict)
    access_tokens: dict[str, float] = field(default_factory=dict)
    refresh_tokens: set[str] = field(default_factory=set)
    tickets: set[str] = field(default_factory=set)
    last_code: str | None = None
    code_sent_at: float = 0.0
    codes_sent_at: deque[float] = field(default_factory=deque)
    hardware_ids: set[str] = field(default_factory=set)
    push_token: str | None = None
    push_tokens: set[str] = field(default_factory=set)  # every token a client subscribed with
    fail: Fault | None = None
    stall: Fault | None = None
    malform: Fault | None = None
    answer_direction: str | None = None
    close_quirk: dict[str, Any] | None = None
    # Ring ends a live view that was not pinged for this many seconds (close code 6); None: never.
    ping_timeout: float | None = None
    # The browser's trickled candidates each live view received: (m-line index, candidate), newest last.
    candidates: deque[tuple[int, str]] = field(default_factory=lambda: deque(maxlen=REQUEST_LOG_CAP))
    requests: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=REQUEST_LOG_CAP))
    counters: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            (
                "password_grants",
                "refresh_grants",
                "codes_sent",
                "requests_total",
                "live_sessions_open",
                "live_sessions_total",
                "push_connections",
                "push_delivered",
                "snapshots_taken",
                "pings",  # live-view keep-alive pings received
                "requests_stalled",  # counted as they arrive: a stalled request is logged only if it ends
            ),
            0,
        )
    )

    def __post_init__(self) -> None:
        self.two_factor = self.config.two_factor
        for name in self.config.devices:
            kind, description = catalog.PRESETS[name]
            self.add_device(kind, self.home_name(description))
        self._seed_history()

    @property
    def location_id(self) -> str:
        return catalog.location_id(self.number)

    @property
    def profile_id(self) -> int:
        return 4241 + self.number

    def home_name(self, description: str) -> str:
        """Devices of the second and later accounts say whose they are, so names differ across accounts."""
        return description if self.number == 1 else f"{description} (home {self.number})"

    # --- devices -------------------------------------------------------------------------------

    def add_device(self, kind: str, description: str, subscribed: bool = True) -> dict[str, Any]:
        """A device of `kind`; without a subscription (Ring Protect) Ring keeps no recordings of it."""
        device = catalog.make_device(self.ids.device(), kind, description, self.location_id)
        if not subscribed:
            device["features"] = {**device["features"], "show_recordings": False}
            device["subscribed"] = device["subscribed_motions"] = False
        self.devices[device["id"]] = device
        if catalog.is_camera(kind):
            age = BATTERY_SNAPSHOT_AGE if catalog.is_battery(kind) else 60.0
            self.snapshots[device["id"]] = Snapshot(taken=time.time() - age)
        return device

    def remove_device(self, device_id: int) -> None:
        if self.devices.pop(device_id, None) is None:
            raise ValueError(f"no device {device_id}")
        self.snapshots.pop(device_id, None)

    def camera(self, device_id: int) -> dict[str, Any] | None:
        device = self.devices.get(device_id)
        return device if device and catalog.is_camera(device["kind"]) else None

    def ring_devices(self) -> dict[str, list[dict[str, Any]]]:
        lists: dict[str, list[dict[str, Any]]] = {
            "doorbots": [],
            "authorized_doorbots": [],
            "stickup_cams": [],
            "chimes": [],
            "other": [],
        }
        for device in self.devices.values():
            lists[catalog.device_list(device["kind"])].append(device)
        return lists

    # --- history and events ------------------------------------------------------------------

    def _seed_history(self) -> None:
        now = time.time()
        for device in list(self.devices.values()):
            if not catalog.is_camera(device["kind"]):
                continue
            first = "ding" if catalog.device_list(device["kind"]) == "doorbots" else "motion"
            self.record_event(device["id"], "motion", now - 3600, "motion")
            self.record_event(device["id"], first, now - 1800, "button_press" if first == "ding" else "human")

    def record_event(
        self, device_id: int, kind: str, created: float | None = None, subtype: str = ""
    ) -> Event:
        event = Event(self.ids.ding(), device_id, kind, created or time.time(), subtype)
        self.events.append(event)
        return event

    def history(self, device_id: int, limit: int, older_than: int | None) -> list[dict[str, Any]]:
        device = self.devices[device_id]
        newest_first = sorted(
            (e for e in self.events if e.device_id == device_id), key=lambda e: e.id, reverse=True
        )
        if older_than is not None:
            newest_first = [e for e in newest_first if e.id < older_than]
        return [event.history_json(device["description"]) for event in newest_first[:limit]]

    def event(self, ding_id: int) -> Event | None:
        return next((e for e in self.events if e.id == ding_id), None)

    def active_dings(self) -> list[dict[str, Any]]:
        now = time.time()
        active = []
        for event in self.events:
            device = self.devices.get(event.device_id)
            if (
                device is None
                or event.kind not in ("ding", "motion")
                or now - event.created > EVENT_EXPIRES_IN
            ):
                continue
            active.append(
                {
                    "id": event.id,
                    "id_str": str(event.id),
                    "state": "ringing",
                    "protocol": "sip",
                    "doorbot_id": event.device_id,
                    "doorbot_description": device["description"],
                    "device_kind": device["kind"],
                    "motion": event.kind == "motion",
                    "snapshot_url": "",
                    "kind": event.kind,
                    "now": event.created,
                    "expires_in": EVENT_EXPIRES_IN,
                }
            )
        return active

    # --- snapshots ---------------------------------------------------------------------------

    def snapshot_timestamp(self, device_id: int) -> float:
        """The newest snapshot's time; a wired camera starts a capture that lands SNAPSHOT_DELAY later."""
        snapshot = self.snapshots[device_id]
        now = time.time()
        if snapshot.pending is not None and snapshot.pending <= now:
            snapshot.taken, snapshot.pending = snapshot.pending, None
            self.counters["snapshots_taken"] += 1
        if snapshot.pending is None and not catalog.is_battery(self.devices[device_id]["kind"]):
            snapshot.pending = now + SNAPSHOT_DELAY
        return snapshot.taken

    # --- OAuth -------------------------------------------------------------------------------

    def issue_tokens(self) -> dict[str, Any]:
        access = secrets.token_urlsafe(32)
        refresh = secrets.token_urlsafe(32)
        self.access_tokens[access] = time.time() + self.config.access_ttl
        self.refresh_tokens.add(refresh)
        return {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": int(self.config.access_ttl),
            "refresh_token": refresh,
            "scope": "client",
            "created_at": int(time.time()),
        }

    def holds_refresh_token(self, token: str) -> bool:
        return token in self.refresh_tokens

    def holds_access_token(self, token: str) -> bool:
        """Whether this account issued `token` (expired or not: it is still this account's)."""
        return token in self.access_tokens

    def access_valid(self, token: str) -> bool:
        expires = self.access_tokens.get(token)
        return expires is not None and expires > time.time()

    def send_code(self) -> bool:
        """Send a new 2FA code unless too many went out lately (then False)."""
        now = time.time()
        while self.codes_sent_at and now - self.codes_sent_at[0] > CODE_WINDOW:
            self.codes_sent_at.popleft()
        if len(self.codes_sent_at) >= CODE_LIMIT:
            return False
        self.codes_sent_at.append(now)
        self.last_code = f"{secrets.randbelow(1_000_000):06d}"
        self.code_sent_at = now
        self.counters["codes_sent"] += 1
        return True

    def code_valid(self, code: str) -> bool:
        if self.last_code is None or time.time() - self.code_sent_at > CODE_TTL:
            return False
        if not secrets.compare_digest(code, self.last_code):
            return False
        self.last_code = None  # a code works once
        return True

    def new_ticket(self) -> str:
        ticket = secrets.token_urlsafe(24)
        self.tickets.add(ticket)
        return ticket

    # --- faults and the request log ----------------------------------------------------------

    def take_fault(self, path: str) -> tuple[Fault | None, Fault | None]:
        """The stall and the failure (each or neither) the next request to `path` gets; counts them down."""
        taken: list[Fault | None] = []
        for fault in (self.stall, self.fail):
            if fault is not None and fault.matches(path):
                fault.count -= 1
                taken.append(fault)
            else:
                taken.append(None)
        if taken[0] is not None:
            self.counters["requests_stalled"] += 1
        return taken[0], taken[1]

    def take_malformed(self, path: str) -> str | None:
        """How to break the reply to `path` (the `malform` fault), or None; counts it down."""
        fault = self.malform
        if fault is None or not fault.matches(path):
            return None
        fault.count -= 1
        return fault.kind

    def log_request(self, method: str, host: str, path: str, status: int) -> None:
        self.counters["requests_total"] += 1
        self.requests.append({"method": method, "host": host, "path": path, "status": status})

    # --- the state endpoint ------------------------------------------------------------------

    def state(self, push_connections: int) -> dict[str, Any]:
        self.counters["push_connections"] = push_connections
        return {
            "email": self.config.email,
            "devices": list(self.devices.values()),
            "counters": dict(self.counters),
            "last_code": self.last_code,
            "push_subscribed": self.push_token is not None,
            "two_factor": self.two_factor,
            "quirks": {
                "answer_direction": self.answer_direction,
                "close": self.close_quirk,
                "ping_timeout": self.ping_timeout,
            },
            "candidates": [list(candidate) for candidate in self.candidates],
            "requests": list(self.requests),
        }

    def apply_faults(self, body: dict[str, Any]) -> None:
        """The parts of a state POST that only change this account (events and push are server.py's)."""
        if not body:
            self.fail = self.stall = self.malform = None
            self.answer_direction = self.close_quirk = self.ping_timeout = None
        if fail := body.get("fail"):
            self.fail = Fault(
                count=int(fail.get("count", 1)),
                path=str(fail.get("path", "")),
                status=int(fail.get("status", 500)),
                html=bool(fail.get("html", False)),
            )
        if malform := body.get("malform"):
            kind = str(malform.get("kind", "truncated"))
            if kind not in JSON_FAULTS:
                raise ValueError(f"malform.kind must be one of {', '.join(JSON_FAULTS)}")
            self.malform = Fault(
                count=int(malform.get("count", 1)), path=str(malform.get("path", "")), kind=kind
            )
        if stall := body.get("stall"):
            self.stall = Fault(
                count=int(stall.get("count", 1)),
                path=str(stall.get("path", "")),
                seconds=float(stall.get("seconds", 30)),
            )
        if body.get("expire_access_tokens"):
            self.access_tokens = dict.fromkeys(self.access_tokens, 0.0)
        if body.get("revoke_refresh_tokens"):
            self.refresh_tokens.clear()
        if (added := body.get("add_device")) is not None:
            self.add_device(
                str(added.get("kind", "stickup_cam_v4")),
                str(added.get("description", "New")),
                subscribed=bool(added.get("subscribed", True)),
            )
        if (removed := body.get("remove_device")) is not None:
            self.remove_device(int(removed))
        if (quirks := body.get("quirks")) is not None:
            self._apply_quirks(quirks)
        if (mode := body.get("two_factor")) is not None:
            if mode not in TWO_FACTOR_MODES:
                raise ValueError(f"two_factor is one of {', '.join(TWO_FACTOR_MODES)}")
            self.two_factor = mode

    def _apply_quirks(self, quirks: dict[str, Any]) -> None:
        if "answer_direction" in quirks:
            self.answer_direction = quirks["answer_direction"]
        if "ping_timeout" in quirks:
            timeout = quirks["ping_timeout"]
            if timeout is not None and float(timeout) <= 0:
                raise ValueError("ping_timeout is a number of seconds above 0, or null")
            self.ping_timeout = None if timeout is None else float(timeout)
        if "close" in quirks:
            close = quirks["close"]
            if close is not None and int(close.get("code", 0)) not in (0, 5, 6):
                raise ValueError("close code is 0, 5 or 6")
            if close is not None and close.get("how", "message") not in CLOSE_WAYS:
                raise ValueError(f"close.how is one of {', '.join(CLOSE_WAYS)}")
            self.close_quirk = (
                None
                if close is None
                else {
                    "code": int(close.get("code", 0)),
                    "after": float(close.get("after", 1)),
                    "how": str(close.get("how", "message")),
                }
            )


class Accounts(AccountList[Account]):
    """Every account one simulated cloud serves (`--accounts N`); a request finds its account by what
    it carries (e-mail, token, ticket, ding id), as Ring's cloud tells its users apart."""

    def __init__(self, config: Config) -> None:
        ids = Ids()
        super().__init__(
            [Account(numbered(config, number), ids=ids, number=number) for number in account_numbers(config)]
        )

    def by_email(self, email: str) -> Account:
        """The account of this e-mail; an unknown one goes to the first, which refuses it."""
        wanted = email.lower()
        return next((a for a in self.all if a.config.email.lower() == wanted), self.first)

    def by_refresh_token(self, token: str) -> Account:
        return next((a for a in self.all if a.holds_refresh_token(token)), self.first)

    def by_access_token(self, token: str) -> Account:
        return next((a for a in self.all if a.holds_access_token(token)), self.first)

    def by_ticket(self, ticket: str) -> Account | None:
        return next((a for a in self.all if ticket in a.tickets), None)

    def by_ding(self, ding_id: int) -> Account | None:
        return next((a for a in self.all if a.event(ding_id) is not None), None)

    def device(self, device_id: int) -> dict[str, Any] | None:
        return next((a.devices[device_id] for a in self.all if device_id in a.devices), None)
