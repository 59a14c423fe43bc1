"""What the simulated Furbo cloud knows about products, alert names and event names.

Facts from shared/notes/furbo.md (§2, §3): product ids and names as ha-furbo confirmed them, the dog
and cat smart-alert vocabularies, and the event-handler's accepted `EventNames`. Captions are made up
in the style of the live notable-events samples ("standing in the doorway").
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Product:
    """One Furbo model: what `--devices` names and what the device list reports."""

    kind: str
    product_id: str
    model: str
    species: str  # "dog" or "cat": which alert vocabulary the camera has
    device_name: str  # the owner's name for the camera, as the app lets them set it


PRODUCTS = {
    product.kind: product
    for product in (
        Product("dog", "FB0030", "Furbo 360", "dog", "Living Room"),
        Product("cat", "FBC0030", "Furbo 360 Cat", "cat", "Kitchen"),
        Product("mini", "MC0030", "Furbo Mini Cat", "cat", "Bedroom"),
    )
}

DOG_ALERTS = (
    "Barking",
    "ContinuousBarking",
    "Crying",
    "ContinuousCrying",
    "Howling",
    "ContinuousHowling",
    "PersonDetection",
    "DogMoveAbove10Sec",
    "Run",
    "Selfie",
    "EatDrink",
    "Chew",
    "PeePoo",
    "ContinuousPeePoo",
    "Vomit",
    "ContinuousVomit",
    "Seizure",
    "ContinuousSeizure",
    "GlassBreaking",
    "HomeEmergency",
    "FurboOnOff",
)

CAT_ALERTS = (
    "Meowing",
    "ContinuousMeowing",
    "CatCrying",
    "ContinuousCatCrying",
    "CatActivity",
    "CatRun",
    "CatSelfie",
    "CatEatDrink",
    "CatChew",
    "CatPeePoo",
    "ContinuousCatPeePoo",
    "CatVomit",
    "ContinuousCatVomit",
    "CatSeizure",
    "ContinuousCatSeizure",
    "CatFurboOnline",
)

ALERTS = {"dog": DOG_ALERTS, "cat": CAT_ALERTS}

# Alerts a new account has switched off (the rest are on), so a test can see both values.
ALERTS_OFF = frozenset({"Run", "Chew", "CatRun", "CatChew", "GlassBreaking", "HomeEmergency"})
# A cooldown is "1" (every time), "1800" or "3600" seconds; "Continuous…" alerts have none.
FREQUENCY_VALUES = ("1", "1800", "3600")
SWITCH_VALUES = ("0", "1")

# What /furbo_event/v2/list accepts in EventNames; anything else is 12001.
EVENT_NAMES = (
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

CAPTIONS = {
    "Barking": ("barking at the door", "barking", "near the door"),
    "Howling": ("howling by the window", "howling", "by the window"),
    "Crying": ("crying on the sofa", "crying", "on the sofa"),
    "PersonDetection": ("a person walking past", "walking", "in the hallway"),
    "Selfie": ("looking into the camera", "posing", "in front of the camera"),
    "DogMoveAbove10Sec": ("running around the room", "running", "in the living room"),
    "Meowing": ("meowing at the cupboard", "meowing", "by the cupboard"),
    "CatActivity": ("jumping onto the counter", "jumping", "on the counter"),
    "CatSelfie": ("sniffing the camera", "sniffing", "in front of the camera"),
    "CatCrying": ("crying by the door", "crying", "by the door"),
}

# The events each camera has at start: (name, minutes ago).
SEED_EVENTS = {
    "dog": (("Barking", 200), ("PersonDetection", 140), ("Selfie", 75), ("Howling", 30)),
    "cat": (("Meowing", 180), ("CatActivity", 95), ("CatSelfie", 40)),
}


def caption_for(name: str) -> tuple[str, str, str]:
    """Caption, action caption and location caption for an event of type `name`."""
    return CAPTIONS.get(name, (name.lower(), name.lower(), "at home"))


def default_alerts(species: str) -> dict[str, str]:
    """The flat alert-setting object of a new camera: each alert on or off, plus its cooldown."""
    settings: dict[str, str] = {}
    for name in ALERTS[species]:
        settings[name] = "0" if name in ALERTS_OFF else "1"
        if not name.startswith("Continuous"):
            settings[f"Frequency:{name}"] = "1800"
    return settings


def valid_alert_value(name: str, value: str) -> bool:
    return value in (FREQUENCY_VALUES if name.startswith("Frequency:") else SWITCH_VALUES)
