"""Native WebRTC through Home Assistant's own WebSocket API (`camera/webrtc/offer`), aiortc as the viewer.

The same path HA's frontend takes: offer → session id → answer (an HA message), candidates, close. The
viewer's decoded frames carry camsim's burned-in clock: the picture is the camera's, and current.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from homeassistant.components.camera.const import DATA_COMPONENT, StreamType
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from camsim import timestamp
from custom_components.camera_hub.camera import CameraHubWebRtcCamera
from custom_components.camera_hub.const import CONF_LIVE_VIEW, LIVE_VIEW_HLS
from scripts.lib.webrtc_client import WebRtcViewer
from tests.helpers.camsim import Sim

from .conftest import sim_state

pytestmark = pytest.mark.usefixtures("real_network_adapters")

CAMERA = "camera.tapo_c200"


async def offer(ws: Any, viewer: WebRtcViewer, entity_id: str = CAMERA) -> tuple[str, dict[str, Any]]:
    """Send the viewer's offer; HA's session id and its next message (answer or error)."""
    sdp = await viewer.offer()
    await ws.send_json_auto_id({"type": "camera/webrtc/offer", "entity_id": entity_id, "offer": sdp})
    reply = await ws.receive_json()
    assert reply["success"], reply
    subscription = reply["id"]
    session = await ws.receive_json()
    assert session["id"] == subscription
    assert session["event"]["type"] == "session"
    message = await ws.receive_json()
    return session["event"]["session_id"], message["event"]


async def test_live_view_is_webrtc_with_the_cameras_own_picture(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator, c200: tuple[Sim, MockConfigEntry]
) -> None:
    ws = await hass_ws_client(hass)
    await ws.send_json_auto_id({"type": "camera/capabilities", "entity_id": CAMERA})
    reply = await ws.receive_json()
    assert reply["result"]["frontend_stream_types"] == [StreamType.WEB_RTC]

    viewer = WebRtcViewer()
    try:
        _, event = await offer(ws, viewer)
        assert event["type"] == "answer", event
        await viewer.accept(event["answer"])
        frame = await viewer.next_frame()
        assert time.time() * 1000 - timestamp.read(frame) < 5000
    finally:
        await viewer.close()


def webrtc_sessions(hass: HomeAssistant, entity_id: str = CAMERA) -> list[str]:
    entity = hass.data[DATA_COMPONENT].get_entity(entity_id)
    assert isinstance(entity, CameraHubWebRtcCamera)
    return entity._webrtc.session_ids


async def test_sessions_end_when_the_browser_leaves_and_when_the_camera_unloads(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator, c200: tuple[Sim, MockConfigEntry]
) -> None:
    sim, entry = c200
    ws = await hass_ws_client(hass)
    leaving, staying = WebRtcViewer(), WebRtcViewer()
    try:
        leaving_id, event = await offer(ws, leaving)
        await leaving.accept(event["answer"])
        await leaving.next_frame()
        staying_id, event = await offer(ws, staying)
        await staying.accept(event["answer"])
        await staying.next_frame()
        assert sorted(webrtc_sessions(hass)) == sorted([leaving_id, staying_id])

        # The frontend's player closing its subscription is how a browser leaves.
        entity = hass.data[DATA_COMPONENT].get_entity(CAMERA)
        assert entity is not None
        entity.close_webrtc_session(leaving_id)
        await hass.async_block_till_done()
        assert webrtc_sessions(hass) == [staying_id]
        await staying.next_frame()  # the other viewer is unaffected

        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
        state = await sim_state(hass, sim)
        assert state["counters"]["rtsp_sessions_open"] == 0
    finally:
        await leaving.close()
        await staying.close()


async def test_bad_offers_and_candidates_get_clear_errors(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator, c200: tuple[Sim, MockConfigEntry]
) -> None:
    ws = await hass_ws_client(hass)
    await ws.send_json_auto_id({"type": "camera/webrtc/offer", "entity_id": CAMERA, "offer": "v=0 nonsense"})
    reply = await ws.receive_json()
    assert reply["success"]
    assert (await ws.receive_json())["event"]["type"] == "session"
    error = (await ws.receive_json())["event"]
    assert error["type"] == "error"
    assert error["code"] == "invalid_offer"
    assert webrtc_sessions(hass) == []

    await ws.send_json_auto_id(
        {
            "type": "camera/webrtc/candidate",
            "entity_id": CAMERA,
            "session_id": "never-offered",
            "candidate": {"candidate": "candidate:1 1 udp 1 192.0.2.9 9 typ host", "sdpMLineIndex": 0},
        }
    )
    reply = await ws.receive_json()
    assert not reply["success"]
    assert "no WebRTC session with this id" in reply["error"]["message"]


async def test_hls_live_view_option_gives_the_frontend_hls(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator, c200: tuple[Sim, MockConfigEntry]
) -> None:
    _, entry = c200
    hass.config_entries.async_update_entry(entry, options={**entry.options, CONF_LIVE_VIEW: LIVE_VIEW_HLS})
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()

    ws = await hass_ws_client(hass)
    await ws.send_json_auto_id({"type": "camera/capabilities", "entity_id": CAMERA})
    reply = await ws.receive_json()
    assert reply["result"]["frontend_stream_types"] == [StreamType.HLS]
    # HA's own stream, recorder, HomeKit and go2rtc still get the camera's RTSP URL.
    entity = hass.data[DATA_COMPONENT].get_entity(CAMERA)
    assert entity is not None
    source = await entity.stream_source()
    assert source is not None
    assert source.startswith("rtsp://")
