"""A real `hass` process loads the integration and serves its config flow over REST."""

from __future__ import annotations

import aiohttp
import pytest

from scripts.lib.hass import HassProcess

pytestmark = pytest.mark.usefixtures("socket_enabled")


async def test_token_works_against_the_api(real_hass: HassProcess) -> None:
    headers = {"Authorization": f"Bearer {real_hass.token}"}
    async with aiohttp.ClientSession(real_hass.url, headers=headers) as session:
        async with session.get("/api/") as resp:
            assert resp.status == 200
            assert (await resp.json())["message"] == "API running."
        async with session.get("/api/config") as resp:
            config = await resp.json()

    assert config["version"] == "2026.10.4"


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
