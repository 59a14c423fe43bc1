"""A real `hass` process loads the integration and serves its config flow over REST."""

from __future__ import annotations

import subprocess
import sys

import aiohttp
import pytest
from homeassistant.const import __version__ as HA_VERSION

from scripts.lib.hass import HassProcess, camera_hub_deprecations, hass_python

pytestmark = pytest.mark.usefixtures("socket_enabled")


async def test_token_works_against_the_api(real_hass: HassProcess) -> None:
    headers = {"Authorization": f"Bearer {real_hass.token}"}
    async with aiohttp.ClientSession(real_hass.url, headers=headers) as session:
        async with session.get("/api/") as resp:
            assert resp.status == 200
            assert (await resp.json())["message"] == "API running."
        async with session.get("/api/config") as resp:
            config = await resp.json()

    assert config["version"] == ha_version_under_test()


def ha_version_under_test() -> str:
    """The HA the real `hass` runs: .venv's, or the interpreter CAMERA_HUB_HASS_PYTHON names."""
    python = hass_python()
    if python == sys.executable:
        return HA_VERSION
    found = subprocess.run(
        [python, "-c", "from homeassistant.const import __version__; print(__version__)"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return found.stdout.strip()


async def test_rest_flow_starts_with_the_vendor_menu(real_hass: HassProcess) -> None:
    headers = {"Authorization": f"Bearer {real_hass.token}"}
    async with aiohttp.ClientSession(real_hass.url, headers=headers) as session:
        async with session.post(
            "/api/config/config_entries/flow", json={"handler": "camera_hub", "show_advanced_options": False}
        ) as resp:
            assert resp.status == 200
            flow = await resp.json()
        async with session.delete(f"/api/config/config_entries/flow/{flow['flow_id']}") as resp:
            assert resp.status == 200

    assert flow["type"] == "menu"
    assert flow["step_id"] == "user"
    assert flow["menu_options"] == ["tapo", "usb", "ring", "furbo"]


async def test_token_is_required(real_hass: HassProcess) -> None:
    async with aiohttp.ClientSession(real_hass.url) as session, session.get("/api/") as resp:
        assert resp.status == 401


def test_the_log_check_finds_what_ha_reports_about_camera_hub() -> None:
    log = "\n".join(
        [
            "2026-11-30 WARNING (MainThread) [homeassistant.helpers.frame] Detected that custom integration "
            "'camera_hub' calls async_forward_entry_setup, which will stop working in 2027.1",
            "2026-11-30 WARNING (MainThread) [custom_components.camera_hub] uses a deprecated constant",
            "2026-11-30 WARNING (MainThread) [homeassistant.helpers.frame] Detected that custom integration "
            "'other' calls a deprecated helper",
            "2026-11-30 INFO (MainThread) [custom_components.camera_hub] Connected",
        ]
    )
    assert camera_hub_deprecations(log) == log.splitlines()[:2]
