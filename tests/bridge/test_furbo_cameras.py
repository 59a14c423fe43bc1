"""The bridge with a Furbo account's cameras: a real `hass` started with furbosim's env (as
scripts/develop does), the account added through the real config flow, furbosim in its own process,
and the bridge's tools as the model calls them. Furbo has no live video: a snapshot is the newest
event's picture, and the bridge says so.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from fastmcp.utilities.types import Image

from mcp_bridge.ha_client import HAClient
from mcp_bridge.tools import cameras as camera_tools
from mcp_bridge.tools import media
from mcp_bridge.tools.media import jpeg_size
from scripts.lib.hass import HassProcess, add_furbo_account, start_onboarded
from scripts.lib.sims import Sim, start_furbo_sim, stop_sim
from tests.helpers.real_hass import sockets_allowed

pytestmark = pytest.mark.usefixtures("socket_enabled")


@dataclass
class FurboHass:
    hass: HassProcess
    sim: Sim

    @property
    def names(self) -> set[str]:
        return {str(device["name"]) for device in self.sim.info["devices"]}


@pytest.fixture(scope="module")
def furbo_hass(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FurboHass]:
    """furbosim and a hass that reaches it through the Furbo seam, with the account added."""
    sim = start_furbo_sim()
    try:
        with sockets_allowed():
            hass = asyncio.run(
                start_onboarded(
                    tmp_path_factory.mktemp("hass-furbo"), env={k: str(v) for k, v in sim.info["env"].items()}
                )
            )
        try:
            with sockets_allowed():
                result = asyncio.run(add_furbo_account(hass, sim.info, lambda: sim.state()["last_code"]))
            assert result["type"] == "create_entry", result
            yield FurboHass(hass, sim)
        finally:
            hass.stop()
    finally:
        stop_sim(sim)


@pytest.fixture
async def ha(furbo_hass: FurboHass) -> AsyncIterator[HAClient]:
    async with HAClient(furbo_hass.hass.url, furbo_hass.hass.token) as client:
        await client.ensure_connected()
        yield client


async def test_list_cameras_lists_each_furbo_not_the_account(ha: HAClient, furbo_hass: FurboHass) -> None:
    listing = await camera_tools.list_cameras(ha)
    names = {camera.name for camera in listing["cameras"]}
    assert names == furbo_hass.names
    assert not any(furbo_hass.sim.info["email"] in name for name in names)
    for camera in listing["cameras"]:
        assert {"snapshot", "events"} <= set(camera.capabilities), camera
        assert not {"pan", "tilt", "privacy"} & set(camera.capabilities), camera


async def test_a_furbo_snapshot_is_the_last_events_picture_and_says_so(
    ha: HAClient, furbo_hass: FurboHass
) -> None:
    name = sorted(furbo_hass.names)[0]
    result = await media.get_snapshot(ha, name, width=320)
    assert isinstance(result, list), "a picture that is not live is labelled"
    image, label = result
    assert isinstance(image, Image)
    assert image.data is not None
    assert jpeg_size(image.data) is not None
    assert isinstance(label, str)
    assert label.startswith(f"{name}: event picture taken "), label
    assert "Signature" not in label


EVENTS_PATH = "/furbo_event/v2/list"
SHORTEST_INTERVAL = 60  # s: the account's event polling interval at its lower limit (an option)


def event_polls(sim: Sim) -> int:
    return int(sim.state()["counters"]["per_path"].get(EVENTS_PATH, 0))


async def poll_every_minute(hass: HassProcess, sim: Sim) -> None:
    """Set the account's event interval to its minimum through the real options flow, and return once
    the reloaded entry has made its first poll (seen in furbosim's log): events after it are fired."""
    polls = await asyncio.to_thread(event_polls, sim)
    headers = {"Authorization": f"Bearer {hass.token}"}
    async with aiohttp.ClientSession(hass.url, headers=headers) as session:
        async with session.get("/api/config/config_entries/entry", params={"domain": "camera_hub"}) as resp:
            (entry,) = [e for e in await resp.json() if e["title"] == sim.info["email"]]
        async with session.post(
            "/api/config/config_entries/options/flow", json={"handler": entry["entry_id"]}
        ) as resp:
            flow = await resp.json()
        async with session.post(
            f"/api/config/config_entries/options/flow/{flow['flow_id']}",
            json={"event_interval": SHORTEST_INTERVAL},
        ) as resp:
            assert (await resp.json())["type"] == "create_entry"
    deadline = time.monotonic() + 60
    while await asyncio.to_thread(event_polls, sim) <= polls:
        assert time.monotonic() < deadline, "the reloaded entry made no first poll"
        await asyncio.sleep(0.25)


async def test_recent_events_of_a_furbo_show_a_new_pet_event_with_its_caption(
    ha: HAClient, furbo_hass: FurboHass
) -> None:
    """A Furbo's events come from the account's poll (Furbo has no push): the event furbosim adds shows
    in get_recent_events after the next poll, with the cloud's caption and no signed link."""
    dog = next(d for d in furbo_hass.sim.info["devices"] if d["product_id"] == "FB0030")
    await poll_every_minute(furbo_hass.hass, furbo_hass.sim)
    caption = "barking at the postman"
    await asyncio.to_thread(
        furbo_hass.sim.inject, add_event={"device_id": dog["id"], "name": "Barking", "caption": caption}
    )

    async def shown() -> list[dict[str, Any]]:
        result = await media.get_recent_events(ha, dog["name"], hours=1)
        return [e for e in result["events"] if (e.get("details") or {}).get("caption") == caption]

    # The next poll is at most one interval plus one coordinator tick away.
    deadline = time.monotonic() + 2 * SHORTEST_INTERVAL + 30
    while not (found := await shown()):
        assert time.monotonic() < deadline, "the new event never reached HA's history"
        await asyncio.sleep(1)
    assert found[0]["type"], found
    assert "Signature" not in str(found)  # signed thumbnail links lose their query
    assert furbo_hass.sim.info["email"] not in str(found)
