"""The bridge with a cloud account's cameras: a real `hass` (its own, started with ringsim's env, as
scripts/develop does) holding a Ring account added through the real config flow, ringsim in its own
process, and the bridge's tools as the model calls them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastmcp.exceptions import ToolError
from fastmcp.utilities.types import Image

from camsim.ring.catalog import PRESETS
from mcp_bridge.ha_client import HAClient
from mcp_bridge.tools import cameras as camera_tools
from mcp_bridge.tools import media
from mcp_bridge.tools.media import jpeg_size
from scripts.lib.hass import HassProcess, add_ring_account, start_onboarded
from scripts.lib.sims import Sim, start_ring_sim, stop_sim
from tests.helpers.real_hass import sockets_allowed

pytestmark = pytest.mark.usefixtures("socket_enabled")


@dataclass
class RingHass:
    hass: HassProcess
    sim: Sim


@pytest.fixture(scope="module")
def ring_hass(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RingHass]:
    """ringsim and a hass that reaches it through the integration's one seam, with the account added."""
    sim = start_ring_sim()
    try:
        with sockets_allowed():
            hass = asyncio.run(
                start_onboarded(
                    tmp_path_factory.mktemp("hass-ring"), env={k: str(v) for k, v in sim.info["env"].items()}
                )
            )
        try:
            with sockets_allowed():
                result = asyncio.run(add_ring_account(hass, sim.info, lambda: sim.state()["last_code"]))
            assert result["type"] == "create_entry", result
            yield RingHass(hass, sim)
        finally:
            hass.stop()
    finally:
        stop_sim(sim)


@pytest.fixture
async def ha(ring_hass: RingHass) -> AsyncIterator[HAClient]:
    async with HAClient(ring_hass.hass.url, ring_hass.hass.token) as client:
        await client.ensure_connected()
        yield client


def _wired(ring_hass: RingHass) -> str:
    """ringsim's preset doorbell (wired: Ring takes a snapshot on request)."""
    kind, description = PRESETS["doorbell"]
    assert any(d["kind"] == kind for d in ring_hass.sim.info["devices"])
    return description


async def test_list_cameras_lists_the_accounts_cameras_not_the_account(
    ha: HAClient, ring_hass: RingHass
) -> None:
    listing = await camera_tools.list_cameras(ha)
    names = {camera.name for camera in listing["cameras"]}
    assert _wired(ring_hass) in names
    assert ring_hass.sim.info["email"] not in names
    assert "Ring account" not in {camera.model for camera in listing["cameras"]}
    assert all("snapshot" in camera.capabilities for camera in listing["cameras"])


async def test_ring_cameras_do_not_claim_recording_and_record_clip_says_why(
    ha: HAClient, ring_hass: RingHass
) -> None:
    """Ring has no stream source HA could record (live view is Ring's own WebRTC session)."""
    listing = await camera_tools.list_cameras(ha)
    assert not [camera.name for camera in listing["cameras"] if "record" in camera.capabilities]
    with pytest.raises(
        ToolError, match=f"'{_wired(ring_hass)}' cannot record: Home Assistant has no video stream"
    ):
        await media.record_clip(ha, _wired(ring_hass), seconds=2)


async def test_a_cloud_snapshot_comes_with_what_it_is_and_its_age(ha: HAClient, ring_hass: RingHass) -> None:
    result = await media.get_snapshot(ha, _wired(ring_hass), width=320)
    assert isinstance(result, list), "a cloud picture is labelled"
    image, label = result
    assert isinstance(image, Image)
    assert image.data is not None
    assert jpeg_size(image.data) is not None
    assert isinstance(label, str)
    assert label.startswith(f"{_wired(ring_hass)}: snapshot picture taken ")
    assert "ago" in label or "just now" in label
    assert Path(ring_hass.sim.info["ca_file"]).name not in label


async def test_recent_events_show_a_pushed_ding_with_its_details(ha: HAClient, ring_hass: RingHass) -> None:
    kind, name = PRESETS["doorbell"]
    device = next(d for d in ring_hass.sim.info["devices"] if d["kind"] == kind)
    await asyncio.to_thread(ring_hass.sim.inject, ding={"device_id": device["id"]})

    async def dings() -> list[dict[str, Any]]:
        result = await media.get_recent_events(ha, name, hours=1)
        return [event for event in result["events"] if event["type"] == "ring"]

    deadline = time.monotonic() + 40
    while not (found := await dings()):
        assert time.monotonic() < deadline, "no ding in HA's history"
        await asyncio.sleep(0.25)
    details = found[0]["details"]
    assert details["id"], "the brand's attributes come along"
    assert ring_hass.sim.info["email"] not in str(found)
