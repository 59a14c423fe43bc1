"""The bridge with a Furbo account's cameras: a real `hass` started with furbosim's env (as
scripts/develop does), the account added through the real config flow, furbosim in its own process,
and the bridge's tools as the model calls them. Furbo has no live video: a snapshot is the newest
event's picture, and the bridge says so.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

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
