"""A Tapo camera (camsim) added to a real `hass` through the REST config flow, then used over REST."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import aiohttp
import pytest

from camsim import timestamp
from scripts.lib.hass import HassProcess, add_tapo_camera, camera_hub_entities
from tests.helpers.camsim import Sim, running_sim

pytestmark = pytest.mark.usefixtures("socket_enabled")


@pytest.fixture(scope="module")
def tapo_sim() -> Iterator[Sim]:
    with running_sim("--model", "C200", "--gop", "1") as sim:
        yield sim


async def _wait_for(condition: Callable[[], bool], within: float = 15.0) -> None:
    """camsim changes state when HA's command reaches it; poll its state endpoint with a deadline."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "camsim's state did not change in time"
        await asyncio.sleep(0.1)


async def _call(session: aiohttp.ClientSession, service: str, entity_id: str, **data: Any) -> None:
    domain, name = service.split(".")
    async with session.post(f"/api/services/{domain}/{name}", json={"entity_id": entity_id, **data}) as resp:
        assert resp.status == 200, await resp.text()


async def test_camera_added_through_rest_flow_is_usable(real_hass: HassProcess, tapo_sim: Sim) -> None:
    result = await add_tapo_camera(real_hass, tapo_sim.info)
    assert result["type"] == "create_entry", result
    entities = await camera_hub_entities(real_hass)
    assert {"camera.tapo_c200", "button.tapo_c200_pan_left", "switch.tapo_c200_privacy_mode"} <= set(entities)

    headers = {"Authorization": f"Bearer {real_hass.token}"}
    async with aiohttp.ClientSession(real_hass.url, headers=headers) as session:
        async with session.get("/api/config") as resp:
            assert "camera_hub" in (await resp.json())["components"]

        async with session.get("/api/camera_proxy/camera.tapo_c200") as resp:
            assert resp.status == 200
            assert resp.content_type == "image/jpeg"
            jpeg = await resp.read()
        # The picture is the simulated camera's: its burned-in clock is recent.
        assert abs(timestamp.read(jpeg) / 1000 - time.time()) < 30

        pan_before = tapo_sim.state()["pan"]
        await _call(session, "button.press", "button.tapo_c200_pan_left")
        await _wait_for(lambda: tapo_sim.state()["pan"] < pan_before)

        await _call(session, "switch.turn_on", "switch.tapo_c200_privacy_mode")
        await _wait_for(lambda: tapo_sim.state()["privacy"] is True)
        async with session.get("/api/states/switch.tapo_c200_privacy_mode") as resp:
            assert (await resp.json())["state"] == "on"
