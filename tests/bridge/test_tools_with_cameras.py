"""The tool functions against the real `hass` with camsim cameras: what the tools do reaches the camera."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any

import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError
from fastmcp.utilities.types import Image

from camsim import timestamp
from mcp_bridge.__main__ import main
from mcp_bridge.ha_client import HAClient
from mcp_bridge.server import build_server
from mcp_bridge.tools import cameras as camera_tools
from mcp_bridge.tools import media, ptz, system
from mcp_bridge.tools.media import MAX_IMAGE_BYTES, MAX_IMAGE_SIDE, jpeg_size
from scripts.lib.hass import HassProcess
from tests.bridge.conftest import Cameras, wait_for
from tests.helpers.camsim import Sim, running_sim
from tests.helpers.real_hass import remove_entries

pytestmark = pytest.mark.usefixtures("socket_enabled")


def _summary(listing: dict[str, list[Any]], name: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [c.model_dump() for c in listing["cameras"] if c.name == name]
    assert len(found) == 1, listing
    return found[0]


def _presets(sim: Sim) -> dict[str, str]:
    presets: dict[str, str] = sim.state()["presets"]
    return presets


async def _status(ha: HAClient, name: str) -> dict[str, Any]:
    return (await camera_tools.get_camera_status(ha, name)).model_dump()


# --- what the cameras are -------------------------------------------------------------------------


async def test_list_cameras_shows_both_with_their_capabilities(ha: HAClient, cameras: Cameras) -> None:
    listing = await camera_tools.list_cameras(ha)
    moving = _summary(listing, cameras.ptz_name)
    fixed = _summary(listing, cameras.fixed_name)
    assert moving == {
        "id": "tapo_c210",
        "name": "Tapo C210",
        "vendor": "TP-Link",
        "model": "C210",
        "online": True,
        "privacy": False,
        "capabilities": moving["capabilities"],
    }
    assert {"snapshot", "record", "pan", "tilt", "presets", "privacy", "motion_detection", "reboot"} <= set(
        moving["capabilities"]
    )
    assert {"snapshot", "privacy", "motion_detection", "reboot"} <= set(fixed["capabilities"])
    assert not {"pan", "tilt", "presets"} & set(fixed["capabilities"])
    assert fixed["online"] is True
    assert fixed["model"] == "C100"


async def test_get_camera_status_reports_settings_and_presets(ha: HAClient, cameras: Cameras) -> None:
    status = await _status(ha, "camera.tapo_c210")  # by entity id
    assert status["name"] == cameras.ptz_name
    assert status["online"] is True
    assert status["entity_id"] == "camera.tapo_c210"
    assert status["state"] in ("idle", "streaming")
    assert status["firmware"] == "1.3.10 Build 231130 Rel.58125n"
    assert status["control_method"] == "kasa"  # the secure login, through python-kasa
    assert status["settings"]["privacy"] == "off"
    assert status["settings"]["motion_detection"] == "on"
    assert status["presets"] == list(_presets(cameras.ptz).values())
    assert status["entities"]["camera"] == "camera.tapo_c210"
    fixed = await _status(ha, "tapo_c100")  # by slug
    assert fixed["presets"] == []
    assert "preset" not in fixed["settings"]


def test_doctor_lists_the_cameras(
    real_hass: HassProcess,
    cameras: Cameras,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HA_URL", real_hass.url)
    monkeypatch.setenv("HA_TOKEN", real_hass.token)
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "✓ Tapo C210 (tapo_c210): TP-Link C210, online; can: snapshot, record, pan, tilt" in out
    assert "✓ Tapo C100 (tapo_c100): TP-Link C100, online; can: snapshot, record, privacy" in out


# --- naming a camera ------------------------------------------------------------------------------


async def test_unknown_camera_lists_the_candidates(ha: HAClient, cameras: Cameras) -> None:
    with pytest.raises(ToolError) as error:
        await media.get_snapshot(ha, "garden")
    message = str(error.value)
    assert message.startswith("No Camera Hub camera is called 'garden'; known cameras: ")
    assert "'Tapo C210' (tapo_c210)" in message
    assert "'Tapo C100' (tapo_c100)" in message


async def test_ambiguous_camera_lists_the_candidates(ha: HAClient, cameras: Cameras) -> None:
    with pytest.raises(ToolError) as error:
        await ptz.ptz_move(ha, "tapo", "left")
    message = str(error.value)
    assert message.startswith("'tapo' could mean several cameras: ")
    assert message.endswith("; name one of them exactly.")
    assert "'Tapo C210' (tapo_c210)" in message
    assert "'Tapo C100' (tapo_c100)" in message


# --- pictures -------------------------------------------------------------------------------------


async def test_get_snapshot_is_a_recent_camsim_picture_within_claudes_limits(
    ha: HAClient, cameras: Cameras
) -> None:
    image = await media.get_snapshot(ha, cameras.ptz_name)
    assert isinstance(image, Image), "a live camera's picture comes without a label"
    assert image.data is not None
    size = jpeg_size(image.data)
    assert size is not None, "not a JPEG"
    assert len(image.data) <= MAX_IMAGE_BYTES
    assert max(size) <= MAX_IMAGE_SIDE
    # The burned-in clock of the simulated sensor: this is camsim's picture, and a fresh one.
    assert abs(timestamp.read(image.data) / 1000 - time.time()) < 15


@pytest.mark.parametrize("width", [160, 320, 480])
async def test_get_snapshot_width_selects_the_width(ha: HAClient, cameras: Cameras, width: int) -> None:
    image = await media.get_snapshot(ha, cameras.fixed_name, width=width)
    assert isinstance(image, Image)
    assert image.data is not None
    size = jpeg_size(image.data)
    assert size is not None
    assert size[0] == width
    assert abs(timestamp.read(image.data) / 1000 - time.time()) < 30


# --- pan, tilt and presets ------------------------------------------------------------------------


async def test_ptz_move_turns_the_camera(ha: HAClient, cameras: Cameras) -> None:
    sim = cameras.ptz
    before = sim.state()
    result = await ptz.ptz_move(ha, cameras.ptz_name, "right", step=20)
    assert result == {
        "camera": "tapo_c210",
        "name": "Tapo C210",
        "done": "ptz_move",
        "direction": "right",
        "step": 20,
    }
    await wait_for(lambda: sim.state()["pan"] > before["pan"], what="camsim panning right")
    tilt = sim.state()["tilt"]
    await ptz.ptz_move(ha, cameras.ptz_name, "up")
    await wait_for(lambda: sim.state()["tilt"] != tilt, what="camsim tilting")
    await ptz.ptz_home(ha, cameras.ptz_name)
    await wait_for(lambda: (sim.state()["pan"], sim.state()["tilt"]) == (0, 0), what="camsim going home")


async def test_presets_by_name_and_by_id_reach_the_camera(ha: HAClient, cameras: Cameras) -> None:
    sim, name = cameras.ptz, cameras.ptz_name
    await ptz.ptz_home(ha, name)
    await ptz.ptz_move(ha, name, "left", step=30)
    await wait_for(lambda: sim.state()["pan"] < 0, what="camsim panning left")
    door = sim.state()["pan"], sim.state()["tilt"]

    await ptz.ptz_save_preset(ha, name, "door")
    door_id = await wait_for(
        lambda: next((i for i, n in _presets(sim).items() if n == "door"), None), what="the preset saved"
    )
    await ptz.ptz_home(ha, name)
    await wait_for(lambda: sim.state()["pan"] == 0, what="camsim going home")
    await ptz.ptz_save_preset(ha, name, "window")
    window_id = await wait_for(
        lambda: next((i for i, n in _presets(sim).items() if n == "window"), None), what="the preset saved"
    )
    # The bridge sees the presets through HA's preset select.
    await wait_for(lambda: {"door", "window"} <= set(_preset_options(ha, cameras)), what="HA's preset list")
    assert {"door", "window"} <= set((await _status(ha, name))["presets"])

    await ptz.ptz_go_to_preset(ha, name, "Door")  # by name, any case
    await wait_for(lambda: (sim.state()["pan"], sim.state()["tilt"]) == door, what="camsim at 'door'")
    await ptz.ptz_go_to_preset(ha, name, window_id)  # by id
    await wait_for(lambda: sim.state()["pan"] == 0, what="camsim at 'window'")
    with pytest.raises(ToolError, match=r"has no preset 'garage'; its presets are: .*door"):
        await ptz.ptz_go_to_preset(ha, name, "garage")

    await ptz.ptz_delete_preset(ha, name, "door")  # by name
    await wait_for(lambda: door_id not in _presets(sim), what="'door' deleted")
    await ptz.ptz_delete_preset(ha, name, window_id)  # by id
    await wait_for(lambda: window_id not in _presets(sim), what="'window' deleted")


def _preset_options(ha: HAClient, cameras: Cameras) -> list[str]:
    state = ha.state("select.tapo_c210_preset")
    return list(state.attributes.get("options") or []) if state else []


async def test_ptz_on_the_fixed_camera_says_what_it_can_do(ha: HAClient, cameras: Cameras) -> None:
    with pytest.raises(ToolError) as move:
        await ptz.ptz_move(ha, cameras.fixed_name, "left")
    assert str(move.value).startswith(
        "'Tapo C100' cannot move left (it has no pan_left, pan_right entity); it can: snapshot, record, "
    )
    with pytest.raises(ToolError, match=r"^'Tapo C100' cannot save presets \(it has no preset entity\)"):
        await ptz.ptz_save_preset(ha, cameras.fixed_name, "door")
    with pytest.raises(ToolError, match=r"^'Tapo C100' cannot go home: it has no pan/tilt motor\.$"):
        await ptz.ptz_home(ha, cameras.fixed_name)
    assert cameras.fixed.state()["presets"] == {}


# --- switches -------------------------------------------------------------------------------------


async def test_privacy_mode_reaches_the_camera_and_blocks_pictures(ha: HAClient, cameras: Cameras) -> None:
    sim, name = cameras.fixed, cameras.fixed_name
    try:
        assert await camera_tools.set_privacy_mode(ha, name, True) == {
            "camera": "tapo_c100",
            "name": "Tapo C100",
            "privacy": True,
        }
        await wait_for(lambda: sim.state()["privacy"] is True, what="camsim privacy on")
        await wait_for(
            lambda: _summary_privacy(ha, "switch.tapo_c100_privacy_mode") == "on", what="HA privacy on"
        )
        with pytest.raises(ToolError, match="is in privacy mode, so it shows no picture"):
            await media.get_snapshot(ha, name)
    finally:
        await camera_tools.set_privacy_mode(ha, name, False)
    await wait_for(lambda: sim.state()["privacy"] is False, what="camsim privacy off")


def _summary_privacy(ha: HAClient, entity_id: str) -> str | None:
    state = ha.state(entity_id)
    return state.state if state else None


async def test_motion_detection_reaches_the_camera(ha: HAClient, cameras: Cameras) -> None:
    sim, name = cameras.fixed, cameras.fixed_name
    try:
        await camera_tools.set_motion_detection(ha, name, False)
        await wait_for(lambda: sim.state()["motion_detection"] is False, what="camsim detection off")
    finally:
        await camera_tools.set_motion_detection(ha, name, True)
    await wait_for(lambda: sim.state()["motion_detection"] is True, what="camsim detection on")


# --- events ---------------------------------------------------------------------------------------


async def test_recent_events_list_a_motion_event(ha: HAClient, cameras: Cameras) -> None:
    sim, name = cameras.ptz, cameras.ptz_name
    injected = time.time()
    sim.inject(motion=True)
    try:

        async def motion_events() -> list[dict[str, Any]]:
            result = await media.get_recent_events(ha, name, hours=1)
            assert result["source"] == "history"
            return [e for e in result["events"] if e["type"] == "motion"]

        deadline = time.monotonic() + 40
        while not (events := await motion_events()):
            assert time.monotonic() < deadline, "no motion event in HA's history"
            await asyncio.sleep(0.25)
    finally:
        sim.inject(motion=False)
    newest = events[0]
    assert newest["entity_id"] == "event.tapo_c210_motion"
    happened = _epoch(newest["time"])
    assert injected - 2 <= happened <= time.time() + 1


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


# --- offline --------------------------------------------------------------------------------------


async def test_offline_camera_gets_an_actionable_error(ha: HAClient, cameras: Cameras) -> None:
    """HA polls every 30 s; `homeassistant.update_entity` makes it look at the camera now."""
    sim, name = cameras.fixed, cameras.fixed_name
    sim.inject(offline=True)
    try:
        await ha.call_service("homeassistant", "update_entity", {"entity_id": "camera.tapo_c100"})
        await wait_for(lambda: not _available(ha, "camera.tapo_c100"), what="HA marking the camera offline")
        listing = await camera_tools.list_cameras(ha)
        assert _summary(listing, name)["online"] is False
        expected = (
            "'Tapo C100' is offline (Home Assistant reports it unavailable); check that the camera has power "
            "and network, then try again."
        )
        with pytest.raises(ToolError) as snapshot:
            await media.get_snapshot(ha, name)
        with pytest.raises(ToolError) as privacy:
            await camera_tools.set_privacy_mode(ha, name, True)
        assert str(snapshot.value) == str(privacy.value) == expected
    finally:
        sim.inject(offline=False)
        await ha.call_service("homeassistant", "update_entity", {"entity_id": "camera.tapo_c100"})
    await wait_for(lambda: _available(ha, "camera.tapo_c100"), what="HA marking the camera online")


def _available(ha: HAClient, entity_id: str) -> bool:
    state = ha.state(entity_id)
    return state is not None and state.available


# --- adding, rebooting, removing ------------------------------------------------------------------


@pytest.fixture(scope="module")
def third_sim() -> Iterator[Sim]:
    with running_sim("--model", "C110") as sim:
        yield sim


@pytest.fixture
async def gated(real_hass: HassProcess) -> AsyncIterator[Client[Any]]:
    """The MCP server as Claude sees it, destructive tools off (the default)."""
    async with Client(build_server(HAClient(real_hass.url, real_hass.token))) as client:
        yield client


@pytest.fixture
async def ungated(real_hass: HassProcess) -> AsyncIterator[Client[Any]]:
    """The MCP server started with --allow-destructive."""
    server = build_server(HAClient(real_hass.url, real_hass.token), allow_destructive=True)
    async with Client(server) as client:
        yield client


def _text(result: Any) -> str:
    return str(result.content[0].text)


async def test_add_reboot_and_remove_a_camera(
    ha: HAClient,
    real_hass: HassProcess,
    cameras: Cameras,
    third_sim: Sim,
    gated: Client[Any],
    ungated: Client[Any],
) -> None:
    info = third_sim.info
    ports = {
        "control_port": info["control_port"],
        "onvif_port": info["onvif_port"],
        "rtsp_port": info["rtsp_port"],
    }

    with pytest.raises(ToolError) as refused:
        await system.add_camera(ha, info["host"], "camuser", "campass", "not-the-cloud-password", **ports)
    assert str(refused.value) == (
        "Camera Hub could not add the camera: The camera rejected the TP-Link cloud password. Use the "
        'password of the TP-Link account the camera is registered to (user "admin" is used automatically).'
    )
    assert "not-the-cloud-password" not in str(refused.value)
    third_sim.inject(unlock=True)  # the wrong password counted towards camsim's lockout

    added = await system.add_camera(ha, info["host"], "camuser", "campass", "cloudpass", **ports)
    entry_id = added["entry_id"]
    try:
        assert added == {"added": "Tapo C110", "entry_id": entry_id, "notes": []}
        listing = await camera_tools.list_cameras(ha)
        assert _summary(listing, "Tapo C110")["online"] is True

        for client in (gated, ungated):
            await client.call_tool("list_cameras", {})  # the client's registry is loaded
        for tool in ("reboot_camera", "remove_camera"):
            result = await gated.call_tool(tool, {"camera": "Tapo C110"}, raise_on_error=False)
            assert result.is_error
            assert "--allow-destructive" in _text(result)
        assert third_sim.state()["reboots"] == 0

        result = await ungated.call_tool("reboot_camera", {"camera": "Tapo C110"})
        assert json.loads(_text(result)) == {"camera": "tapo_c110", "name": "Tapo C110", "rebooting": True}
        await wait_for(lambda: third_sim.state()["reboots"] == 1, what="camsim rebooting")

        result = await ungated.call_tool("remove_camera", {"camera": "tapo_c110"})
        assert json.loads(_text(result)) == {
            "camera": "tapo_c110",
            "name": "Tapo C110",
            "removed": True,
            "restart_needed": False,
        }
        entry_id = None
        deadline = time.monotonic() + 10
        while any(c.name == "Tapo C110" for c in (await camera_tools.list_cameras(ha))["cameras"]):
            assert time.monotonic() < deadline, "the removed camera is still listed"
            await asyncio.sleep(0.1)
    finally:
        if entry_id is not None:
            await remove_entries(real_hass, [entry_id])
