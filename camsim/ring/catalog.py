"""The Ring devices a simulated account can hold, as `/clients_api/ring_devices` describes them.

`kind` values are real ones the library maps to models (ring_doorbell/const.py): `lpd_v1` Doorbell Pro,
`cocoa_floodlight` Floodlight Cam Plus (light + siren), `stickup_cam_lunar` Stick Up Cam Battery,
`chime`. Field names follow the library's readers and upstream fixtures; values are invented.
"""

from __future__ import annotations

import json
import secrets
import uuid
from typing import Any

# Short names for --devices → (kind, description).
PRESETS: dict[str, tuple[str, str]] = {
    "doorbell": ("lpd_v1", "Front Door"),
    "floodlight": ("cocoa_floodlight", "Driveway"),
    "battery": ("stickup_cam_lunar", "Back Garden"),
    "chime": ("chime", "Hall Chime"),
}

# Kinds that run on batteries: Ring makes no on-demand snapshot for these.
BATTERY_KINDS = frozenset(
    {
        "stickup_cam",
        "stickup_cam_v3",
        "stickup_cam_lunar",
        "stickup_cam_v4",
        "cocoa_camera",
        "df_doorbell_clownfish",
        "doorbell_v3",
        "doorbell_v4",
        "doorbell_v5",
        "doorbell_scallop_lite",
    }
)
LIGHT_KINDS = frozenset(
    {"hp_cam_v1", "floodlight_v2", "floodlight_pro", "cocoa_floodlight", "stickup_cam_v4", "hp_cam_v2"}
    | {"spotlightw_v2", "cocoa_spotlight", "stickup_cam_longfin"}
)

LOCATION_ID = "5f3c1b2a-6d7e-4f80-9a1b-2c3d4e5f6a7b"
TIME_ZONE = "Europe/London"


def device_list(kind: str) -> str:
    """Which list of `ring_devices` a kind belongs to."""
    if kind.startswith("chime"):
        return "chimes"
    if kind.startswith("intercom"):
        return "other"
    if kind.startswith(("doorbell", "doorbot", "lpd", "jbox", "df_doorbell", "cocoa_doorbell")):
        return "doorbots"
    return "stickup_cams"


def is_camera(kind: str) -> bool:
    return device_list(kind) in ("doorbots", "stickup_cams")


def is_battery(kind: str) -> bool:
    return kind in BATTERY_KINDS


def location_id(account_number: int) -> str:
    """Each account's one location (the first keeps LOCATION_ID); Ring's location ids are UUIDs."""
    if account_number == 1:
        return LOCATION_ID
    return str(uuid.uuid5(uuid.UUID(LOCATION_ID), f"account-{account_number}"))


def make_device(device_id: int, kind: str, description: str, location: str = LOCATION_ID) -> dict[str, Any]:
    """The JSON of one device as Ring lists it."""
    device: dict[str, Any] = {
        "id": device_id,
        "description": description,
        "device_id": secrets.token_hex(6),
        "kind": kind,
        "location_id": location,
        "firmware_version": "Up to Date",
        "time_zone": TIME_ZONE,
        "address": "1 Simulator Street",
        "latitude": 51.5072,
        "longitude": -0.1276,
        "owned": True,
        "alerts": {"connection": "online"},
        "features": {"show_recordings": True, "motions_enabled": True, "show_vod_settings": True},
        "subscribed": True,
        "subscribed_motions": True,
        "ring_id": None,
        "stolen": False,
    }
    if kind.startswith("chime"):
        device["settings"] = {"volume": 5, "ding_audio_id": None, "motion_audio_id": None}
        device["features"] = {"ringtones_enabled": True}
        return device
    device["battery_life"] = 87 if is_battery(kind) else None
    if kind.startswith("intercom"):
        device["settings"] = {
            "doorbell_volume": 5,
            "mic_volume": 5,
            "voice_volume": 5,
            "keep_alive_auto": 45.0,
            "intercom_settings": {
                "config": json.dumps({"analog": {"mode": "ding_dong"}}),
                "ring_to_open": False,
            },
        }
        device["features"] = {"show_recordings": False}
        return device
    device["settings"] = {
        "motion_detection_enabled": True,
        "doorbell_volume": 5,
        "chime_settings": {"type": 0, "enable": True, "duration": 3},
        "live_view_preset_profile": "highest",
        "enable_vod": True,
    }
    if device_list(kind) == "stickup_cams":
        device["led_status"] = "off" if kind in LIGHT_KINDS else None
        device["siren_status"] = {"seconds_remaining": 0}
        device["ring_cam_setup_flow"] = "floodlight" if kind in LIGHT_KINDS else "stickup_cam"
    return device


def health(device: dict[str, Any]) -> dict[str, Any]:
    return {
        "device_health": {
            "id": device["id"],
            "wifi_name": "camsim-wifi",
            "latest_signal_strength": -52,
            "latest_signal_category": "good",
            "firmware": "Up to Date",
            "battery_percentage": device.get("battery_life"),
        }
    }
