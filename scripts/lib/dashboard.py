"""The Camera Hub dashboard: a card stack per camera, built only from the entities the camera has.

Entities are found by their unique ids (`<device id>_<key>`, docs/entities.md), never by entity id,
which follows the user's renames. `scripts/develop` installs it into the demo HA ("Cameras" in the
sidebar); `dashboards/camera-hub.yaml` is the same dashboard for two example cameras, to copy.
Only cards that ship with Home Assistant are used.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from .hass import HassProcess, ws_command

URL_PATH = "camera-hub"
TITLE = "Cameras"
# Shown over the live picture, in this order, when the camera has them.
GLANCE_KEYS = ("privacy", "motion_detection", "person_detection", "motion")
# The settings list under the picture.
SETTINGS_KEYS = ("preset", "night_vision", "led", "control_method")
PAN_TILT = (
    ("tilt_up", "mdi:arrow-up-bold"),
    ("pan_left", "mdi:arrow-left-bold"),
    ("pan_right", "mdi:arrow-right-bold"),
    ("tilt_down", "mdi:arrow-down-bold"),
)
KEYS = ("hd", *GLANCE_KEYS, *SETTINGS_KEYS, *(key for key, _ in PAN_TILT))


@dataclass(frozen=True)
class CameraEntities:
    """One camera: its name and its entity ids by entity key (`hd` is the main camera entity)."""

    name: str
    entities: Mapping[str, str]


def camera_card(camera: CameraEntities) -> dict[str, Any]:
    """Live picture with the privacy/detection toggles, pan/tilt buttons, then presets and settings."""
    has = camera.entities
    cards: list[dict[str, Any]] = [
        {
            "type": "picture-glance",
            "title": camera.name,
            "camera_image": has["hd"],
            "camera_view": "live",
            "entities": [has[key] for key in GLANCE_KEYS if key in has],
        }
    ]
    if buttons := [_press(has[key], icon) for key, icon in PAN_TILT if key in has]:
        cards.append({"type": "horizontal-stack", "cards": buttons})
    if settings := [has[key] for key in SETTINGS_KEYS if key in has]:
        cards.append({"type": "entities", "entities": settings})
    return {"type": "vertical-stack", "cards": cards}


def _press(entity_id: str, icon: str) -> dict[str, Any]:
    return {
        "type": "button",
        "entity": entity_id,
        "icon": icon,
        "show_name": False,
        "tap_action": {
            "action": "perform-action",
            "perform_action": "button.press",
            "target": {"entity_id": entity_id},
        },
    }


def dashboard_config(cameras: Iterable[CameraEntities]) -> dict[str, Any]:
    return {
        "title": TITLE,
        "views": [
            {
                "title": TITLE,
                "path": "cameras",
                "icon": "mdi:cctv",
                "cards": [camera_card(camera) for camera in sorted(cameras, key=lambda c: c.name)],
            }
        ],
    }


def cameras_from_registries(
    devices: Iterable[Mapping[str, Any]], entities: Iterable[Mapping[str, Any]]
) -> list[CameraEntities]:
    """Group the registries' Camera Hub entities per device; devices without a camera are skipped."""
    names = {d["id"]: d.get("name_by_user") or d.get("name") or d["id"] for d in devices}
    by_device: dict[str, dict[str, str]] = {}
    for entity in entities:
        if entity["platform"] != "camera_hub" or entity.get("disabled_by") or not entity.get("device_id"):
            continue
        key = next((k for k in KEYS if entity["unique_id"].endswith(f"_{k}")), None)
        if key is not None:
            by_device.setdefault(entity["device_id"], {})[key] = entity["entity_id"]
    return [CameraEntities(names.get(d, d), found) for d, found in by_device.items() if "hd" in found]


async def install_dashboard(hass: HassProcess) -> str:
    """Create (or refresh) the "Cameras" dashboard for every Camera Hub camera; returns its URL."""
    async with aiohttp.ClientSession(hass.url) as session:
        devices = await ws_command(session, hass.token, {"type": "config/device_registry/list"})
        entities = await ws_command(session, hass.token, {"type": "config/entity_registry/list"})
        dashboards = await ws_command(session, hass.token, {"type": "lovelace/dashboards/list"})
        if not any(d["url_path"] == URL_PATH for d in dashboards):
            await ws_command(
                session,
                hass.token,
                {
                    "type": "lovelace/dashboards/create",
                    "url_path": URL_PATH,
                    "title": TITLE,
                    "icon": "mdi:cctv",
                    "mode": "storage",
                    "show_in_sidebar": True,
                    "require_admin": False,
                },
            )
        config = dashboard_config(cameras_from_registries(devices, entities))
        save = {"type": "lovelace/config/save", "url_path": URL_PATH, "config": config}
        await ws_command(session, hass.token, save)
    return f"{hass.url}/{URL_PATH}/cameras"
