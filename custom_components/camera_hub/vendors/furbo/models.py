"""What the Furbo cloud answers, as typed values; parsing is tolerant where the field names are
unconfirmed (the event list), strict where a wrong shape means a wrong call (login, devices)."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from .errors import FurboUnreachable

_LOGGER = logging.getLogger(__name__)


class Species(StrEnum):
    DOG = "dog"
    CAT = "cat"


@dataclass(frozen=True, kw_only=True)
class Product:
    model: str
    species: Species


# ProductId → what it is. Confirmed by the community integration: FB0030, FBC0030, MC0030; the rest
# follow the app's protocol table (V3: 360 / 360 Cat / Mini 2 / Mini 3; V2: the older models).
PRODUCTS: Mapping[str, Product] = {
    "FB0030": Product(model="Furbo 360", species=Species.DOG),
    "FB0035": Product(model="Furbo 360", species=Species.DOG),
    "FBC0030": Product(model="Furbo 360 Cat", species=Species.CAT),
    "FBC0035": Product(model="Furbo 360 Cat", species=Species.CAT),
    "MC0020": Product(model="Furbo Mini", species=Species.DOG),
    "MC0030": Product(model="Furbo Mini Cat", species=Species.CAT),
    "MC0010": Product(model="Furbo Mini", species=Species.DOG),
    "FB001": Product(model="Furbo", species=Species.DOG),
    "FB002": Product(model="Furbo 2", species=Species.DOG),
    "FB0025": Product(model="Furbo 2.5T", species=Species.DOG),
}


def product(product_id: str) -> Product:
    """An unknown ProductId is named by its id; cat models start with "FBC" or end in "Cat"."""
    if known := PRODUCTS.get(product_id):
        return known
    species = Species.CAT if product_id.upper().startswith("FBC") else Species.DOG
    return Product(model=f"Furbo ({product_id})" if product_id else "Furbo", species=species)


# The event list checks EventNames against this vocabulary (an unknown one is a bare 12001), so these
# are the only names a poll can ask for.
LISTABLE_EVENT_NAMES: tuple[str, ...] = (
    "PersonDetection",
    "GlassBreaking",
    "Earthquake",
    "HomeEmergency",
    "AutoCalm",
    "Barking",
    "ContinuousBarking",
    "Crying",
    "ContinuousCrying",
    "Howling",
    "ContinuousHowling",
    "Selfie",
    "DogMoveAbove10Sec",
    "Vomit",
    "ContinuousVomit",
    "Meowing",
    "ContinuousMeowing",
    "CatCrying",
    "ContinuousCatCrying",
    "CatSelfie",
    "CatActivity",
    "CatVomit",
    "ContinuousCatVomit",
    "Fighting",
)

# The cloud's event names → the event entity's event types. "Continuous" variants are the same kind
# of event; cat cameras have their own names. Only what the event list can return is here: the
# alerts EatDrink, Chew, PeePoo and Seizure (and their cat twins) are refused as EventNames (12001),
# and the calendar's notable events carry a free caption, no name; so no source delivers them as
# events, and offering "eating" or "pee_poo" would promise an event that never fires. Their alert
# switches stay. The list's answer may name an event differently from the request (its live sample
# says "DogActivity"); those aliases are here too, and any other name fires as "other".
DOG_EVENTS: Mapping[str, str] = {
    "Barking": "barking",
    "ContinuousBarking": "barking",
    "Crying": "crying",
    "ContinuousCrying": "crying",
    "Howling": "howling",
    "ContinuousHowling": "howling",
    "PersonDetection": "person",
    "DogMoveAbove10Sec": "pet_activity",
    "DogActivity": "pet_activity",
    "Run": "pet_activity",
    "Selfie": "selfie",
    "Vomit": "vomiting",
    "ContinuousVomit": "vomiting",
    "Fighting": "fighting",
    "AutoCalm": "auto_calm",
    "GlassBreaking": "glass_breaking",
    "HomeEmergency": "home_emergency",
    "Earthquake": "earthquake",
}
CAT_EVENTS: Mapping[str, str] = {
    "Meowing": "meowing",
    "ContinuousMeowing": "meowing",
    "CatCrying": "crying",
    "ContinuousCatCrying": "crying",
    "CatActivity": "pet_activity",
    "CatRun": "pet_activity",
    "CatSelfie": "selfie",
    "CatVomit": "vomiting",
    "ContinuousCatVomit": "vomiting",
    "PersonDetection": "person",
    "GlassBreaking": "glass_breaking",
    "HomeEmergency": "home_emergency",
    "Earthquake": "earthquake",
}
OTHER_EVENT = "other"  # a name the vocabulary does not know yet still fires, as "other"


def vocabulary(species: Species) -> Mapping[str, str]:
    return CAT_EVENTS if species is Species.CAT else DOG_EVENTS


def event_types(species: Species) -> tuple[str, ...]:
    """The types a camera offers: those of the names a poll asks for, and "other"."""
    asked = {kind for name, kind in vocabulary(species).items() if name in LISTABLE_EVENT_NAMES}
    return (*(kind for kind in dict.fromkeys(vocabulary(species).values()) if kind in asked), OTHER_EVENT)


# Alert names a person reads (the switch's name placeholder); others are split at their capitals.
ALERT_NAMES: Mapping[str, str] = {
    "PersonDetection": "Person",
    "DogMoveAbove10Sec": "Dog activity",
    "EatDrink": "Eating",
    "CatEatDrink": "Cat eating",
    "PeePoo": "Pee and poo",
    "CatPeePoo": "Cat pee and poo",
    "FurboOnOff": "Camera on/off",
    "CatFurboOnline": "Camera online",
}


def alert_name(key: str) -> str:
    if known := ALERT_NAMES.get(key):
        return known
    words = re.findall(r"[A-Z][a-z]*|[a-z]+|\d+", key)
    return " ".join([words[0], *(word.lower() for word in words[1:])]) if words else key


@dataclass(frozen=True, kw_only=True)
class Login:
    account_id: str
    token: str


@dataclass(frozen=True, kw_only=True)
class CodeChallenge:
    """The account wants its e-mailed code: what sending and verifying it need."""

    account_id: str
    candidate: str


@dataclass(frozen=True, kw_only=True)
class Device:
    id: str
    name: str
    product_id: str
    firmware: str

    @property
    def product(self) -> Product:
        return product(self.product_id)


@dataclass(frozen=True, kw_only=True)
class DeviceList:
    devices: tuple[Device, ...]
    license_on: bool | None  # AccountLicenseOn: the account has a subscription


@dataclass(frozen=True, kw_only=True)
class Event:
    id: str
    device_id: str
    name: str  # the cloud's event name ("Barking"), or "" when it gave none
    caption: str
    taken_at: datetime | None
    thumbnail: str | None  # signed links: fetched, never shown
    videos: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Diary:
    date: str  # YYYY-MM-DD
    timelapse: str | None
    snapshot: str | None


@dataclass(kw_only=True)
class EventPage:
    """One answer of the event list; `missing_key` when the list itself was not in it."""

    events: list[Event] = field(default_factory=list)
    missing_key: bool = False


def _text(raw: Mapping[str, Any], *keys: str) -> str:
    for key in keys:
        value = raw.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
            return str(value)
    return ""


def _moment(raw: Mapping[str, Any]) -> datetime | None:
    """Epoch seconds or milliseconds under any of the names seen for it, else an ISO-ish string."""
    for key in ("CreatedTime", "CreateTime", "Timestamp", "EventTime", "StartTime", "Time"):
        value = raw.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            seconds = value / 1000 if value > 1e11 else value
            return datetime.fromtimestamp(seconds, UTC)
        if isinstance(value, str) and value:
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def parse_event(raw: Any) -> Event | None:
    """One event of the list; None (and a debug line naming its fields) when it has no id."""
    if not isinstance(raw, Mapping):
        return None
    event_id = _text(raw, "Id", "EventId")
    device_id = _text(raw, "DeviceId")
    if not event_id or not device_id:
        _LOGGER.debug("Skipped a Furbo event without Id/DeviceId; it had: %s", ", ".join(sorted(raw)))
        return None
    types = raw.get("Types")
    name = _text(raw, "Name", "EventName", "Type")
    if not name and isinstance(types, list) and types and isinstance(types[0], str):
        name = types[0]
    videos = raw.get("Videos")
    return Event(
        id=event_id,
        device_id=device_id,
        name=name,
        caption=_text(raw, "Caption", "ActionCaption"),
        taken_at=_moment(raw),
        thumbnail=_text(raw, "Thumbnail", "ThumbnailUrl") or None,
        videos=tuple(v for v in videos if isinstance(v, str) and v) if isinstance(videos, list) else (),
    )


def parse_event_page(body: Mapping[str, Any], key: str = "Events") -> EventPage:
    """Tolerant: a missing or renamed list yields no events and one debug line, never an error.
    The list's key present with something else under it is no answer of this API: an error."""
    raw = body.get(key)
    if raw is not None and not isinstance(raw, list):
        raise FurboUnreachable(f"Furbo's event list has {type(raw).__name__} under {key!r}, not a list")
    if raw is None:
        _LOGGER.debug(
            "The Furbo event list carried no %r list; its fields: %s", key, ", ".join(sorted(body)) or "none"
        )
        return EventPage(missing_key=True)
    return EventPage(events=[event for item in raw if (event := parse_event(item)) is not None])


def parse_diaries(body: Mapping[str, Any]) -> list[Diary]:
    raw = body.get("Diaries")
    if not isinstance(raw, list):
        _LOGGER.debug("The Doggie Diary carried no Diaries list; its fields: %s", ", ".join(sorted(body)))
        return []
    return [
        Diary(
            date=_text(item, "DiaryDate"),
            timelapse=_text(item, "TimeLapseUrl") or None,
            snapshot=_text(item, "SnapshotUrl") or None,
        )
        for item in raw
        if isinstance(item, Mapping) and _text(item, "DiaryDate")
    ]


def parse_licenses(body: Mapping[str, Any]) -> set[str] | None:
    """The devices with an active plan; None (and a debug line) when the answer has not the
    license's shape: {DevicesLicense: {<Id>: [{SubscriptionStatus, …}, …]}}."""
    licenses = body.get("DevicesLicense")
    if not isinstance(licenses, Mapping) or not all(
        isinstance(plans, list) and all(isinstance(plan, Mapping) for plan in plans)
        for plans in licenses.values()
    ):
        _LOGGER.debug("Furbo's license answer could not be read; its fields: %s", ", ".join(sorted(body)))
        return None
    return {
        str(device_id)
        for device_id, plans in licenses.items()
        if any(str(plan.get("SubscriptionStatus", "")).lower() == "active" for plan in plans)
    }


def activity_totals(body: Mapping[str, Any], day: str) -> int | None:
    """The day's activity count over every type of the hourly report; None when it has no such day."""
    report = body.get(day)
    data = report.get("Data") if isinstance(report, Mapping) else None
    if not isinstance(data, Mapping):
        return None
    return sum(
        int(value)
        for series in data.values()
        if isinstance(series, list)
        for value in series
        if isinstance(value, (int, float)) and not isinstance(value, bool)
    )
