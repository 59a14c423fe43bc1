"""The shipped dashboard: built from the registries of a real `hass`, installed, every entity real."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
import yaml

from scripts.lib.dashboard import (
    URL_PATH,
    CameraEntities,
    dashboard_config,
    install_dashboard,
)
from scripts.lib.hass import ROOT, HassProcess, add_tapo_camera, ws_command
from tests.helpers.camsim import Sim, running_sim
from tests.helpers.real_hass import remove_entries

pytestmark = pytest.mark.usefixtures("socket_enabled")

SHIPPED = ROOT / "dashboards" / "camera-hub.yaml"
# The cameras the shipped YAML is written for: "Front door" with pan/tilt, "Garden" fixed (Tapo), and
# "Webcam", a USB webcam (a picture only).
EXAMPLE = [
    CameraEntities(
        "Front door",
        {
            "hd": "camera.front_door",
            "privacy": "switch.front_door_privacy_mode",
            "motion_detection": "switch.front_door_motion_detection",
            "person_detection": "switch.front_door_person_detection",
            "motion": "event.front_door_motion",
            "tilt_up": "button.front_door_tilt_up",
            "pan_left": "button.front_door_pan_left",
            "pan_right": "button.front_door_pan_right",
            "tilt_down": "button.front_door_tilt_down",
            "preset": "select.front_door_preset",
            "night_vision": "select.front_door_night_vision",
            "led": "switch.front_door_status_led",
            "control_method": "sensor.front_door_control_method",
        },
    ),
    CameraEntities(
        "Garden",
        {
            "hd": "camera.garden",
            "privacy": "switch.garden_privacy_mode",
            "motion_detection": "switch.garden_motion_detection",
            "motion": "event.garden_motion",
            "night_vision": "select.garden_night_vision",
            "control_method": "sensor.garden_control_method",
        },
    ),
    CameraEntities("Webcam", {"hd": "camera.webcam"}),
]


def entity_ids(node: Any) -> set[str]:
    """Every entity id a Lovelace config names (card `entity`, `entities`, `camera_image`, targets)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("entity", "camera_image", "entity_id") and isinstance(value, str):
                found.add(value)
            elif key == "entities" and isinstance(value, list):
                found |= {v for v in value if isinstance(v, str)}
            found |= entity_ids(value)
    elif isinstance(node, list):
        for item in node:
            found |= entity_ids(item)
    return found


def test_shipped_yaml_is_the_generated_dashboard() -> None:
    assert yaml.safe_load(SHIPPED.read_text()) == dashboard_config(EXAMPLE)


@pytest.fixture(scope="module")
def sims() -> Iterator[tuple[Sim, Sim]]:
    # Models no other test uses: this worker's `hass` is shared, and camera names must stay unique.
    with running_sim("--model", "C220") as ptz, running_sim("--model", "C110") as fixed:
        yield ptz, fixed


async def test_installed_dashboard_shows_every_camera_with_real_entities(
    real_hass: HassProcess, sims: tuple[Sim, Sim]
) -> None:
    added = []
    for sim in sims:
        result = await add_tapo_camera(real_hass, sim.info)
        assert result["type"] == "create_entry", result
        added.append(result["result"]["entry_id"])
    try:
        await check_installed_dashboard(real_hass)
    finally:
        await remove_entries(real_hass, added)


async def check_installed_dashboard(real_hass: HassProcess) -> None:
    url = await install_dashboard(real_hass)
    assert url == f"{real_hass.url}/{URL_PATH}/cameras"
    await install_dashboard(real_hass)  # a second run refreshes it instead of failing

    async with aiohttp.ClientSession(real_hass.url) as session:
        dashboards = await ws_command(session, real_hass.token, {"type": "lovelace/dashboards/list"})
        config = await ws_command(session, real_hass.token, {"type": "lovelace/config", "url_path": URL_PATH})
        async with session.get("/api/states", headers={"Authorization": f"Bearer {real_hass.token}"}) as resp:
            states = {state["entity_id"] for state in await resp.json()}
    assert [d["url_path"] for d in dashboards].count(URL_PATH) == 1
    named = entity_ids(config)
    assert {"camera.tapo_c220", "camera.tapo_c110", "button.tapo_c220_pan_left"} <= named
    assert not {e for e in named if e.startswith("button.tapo_c110")}, "a fixed camera got pan/tilt buttons"
    assert named <= states, json.dumps(sorted(named - states))
