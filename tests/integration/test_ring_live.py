"""Ring live view through HA's WebSocket API (`camera/webrtc/offer`), ringsim answering with real H.264.

The browser is an aiortc peer; the answer comes from ringsim's aiortc peer through the unmodified
ring-doorbell signalling (ticket, WebSocket through `wss_proxy`), with Camera Hub's fixes around it:
every media line's direction normalised, a server `close` reported and not breaking the next live view,
sessions closed when the browser leaves. Regression tests for ring-doorbell 0.9.14's two bugs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription
from homeassistant.components.camera.const import DATA_COMPONENT
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.typing import WebSocketGenerator
from ring_doorbell.webrtcstream import RingWebRtcStream

from camsim import timestamp
from custom_components.camera_hub.const import DOMAIN
from custom_components.camera_hub.vendors.ring.live import answer_matching_offer
from scripts.lib.webrtc_client import WebRtcViewer

from .ring_fixtures import RING_LIBRARY_WARNINGS, RingSim, StartRing, add_ring_account

pytestmark = [pytest.mark.usefixtures("socket_enabled", "real_network_adapters"), RING_LIBRARY_WARNINGS]

WAIT = 30.0


def _directions(sdp: str) -> list[tuple[str, str]]:
    """(media kind, direction) of every media line, in order."""
    found: list[tuple[str, str]] = []
    for line in sdp.splitlines():
        if line.startswith("m="):
            found.append((line[2:].split()[0], "sendrecv"))
        elif found and line in ("a=sendrecv", "a=sendonly", "a=recvonly", "a=inactive"):
            found[-1] = (found[-1][0], line[2:])
    return found


class AudioFirstViewer(WebRtcViewer):
    """A browser whose offer lists audio before video (the order the library's fix misses)."""

    async def offer(self) -> str:
        self.pc.addTransceiver("audio", direction="recvonly")
        self.pc.addTransceiver("video", direction="recvonly")
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return str(self.pc.localDescription.sdp)


async def _sendrecv_answer_to(offer: str) -> str:
    """A real aiortc answer to `offer`, every direction then rewritten to sendrecv as Ring answers."""
    pc = RTCPeerConnection()
    try:
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        answer = str(pc.localDescription.sdp)
    finally:
        await pc.close()
    for direction in ("sendonly", "recvonly", "inactive"):
        answer = answer.replace(f"a={direction}\r\n", "a=sendrecv\r\n")
    return answer


async def test_every_media_line_of_the_answer_is_normalised_where_the_library_fixes_the_first() -> None:
    viewer = AudioFirstViewer()
    try:
        offer = await viewer.offer()
        answer = await _sendrecv_answer_to(offer)
    finally:
        await viewer.close()
    assert _directions(answer) == [("audio", "sendrecv"), ("video", "sendrecv")]

    # ring-doorbell 0.9.14 alone: only the first line is corrected (the bug Chrome ≥143 refuses).
    library = RingWebRtcStream.__new__(RingWebRtcStream)
    library.sdp_offer, library.sdp = offer, answer
    library.force_correct_sdp_answer()
    assert _directions(library.sdp) == [("audio", "sendonly"), ("video", "sendrecv")]

    fixed = answer_matching_offer(offer, answer)
    assert _directions(fixed) == [("audio", "sendonly"), ("video", "sendonly")]
    # Nothing else changed, and the answer is still one aiortc applies.
    assert [line for line in fixed.splitlines() if line[2:] not in ("sendonly", "sendrecv")] == [
        line for line in answer.splitlines() if line[2:] not in ("sendonly", "sendrecv")
    ]


def test_compatible_lines_stay_and_directional_extmaps_are_narrowed() -> None:
    offer = (
        "v=0\r\ns=-\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=sendrecv\r\n"
        "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=recvonly\r\n"
    )
    answer = (
        "v=0\r\ns=-\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=recvonly\r\n"
        "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=extmap:3/sendrecv urn:ietf:params:rtp-hdrext:toffset\r\n"
        "a=extmap:4/recvonly urn:x\r\na=sendrecv\r\n"
    )
    fixed = answer_matching_offer(offer, answer)
    assert _directions(fixed) == [("audio", "recvonly"), ("video", "sendonly")]
    assert "a=extmap:3/sendonly urn:ietf:params:rtp-hdrext:toffset\r\n" in fixed
    assert "a=extmap:4/inactive urn:x\r\n" in fixed
    # No direction line in the answer means sendrecv: an explicit, compatible one is added.
    implicit = "v=0\r\ns=-\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\nc=IN IP4 0.0.0.0\r\nm=video 9 RTP/AVP 96\r\n"
    assert _directions(answer_matching_offer(offer, implicit)) == [
        ("audio", "sendrecv"),
        ("video", "sendonly"),
    ]


# --- end to end through HA and ringsim ---------------------------------------------------------


@pytest.fixture
async def ring_account(hass: HomeAssistant, ringsim: StartRing) -> AsyncIterator[tuple[RingSim, ConfigEntry]]:
    sim = await ringsim("--devices", "doorbell")
    entry = await add_ring_account(hass, sim)
    yield sim, entry
    # Unloading ends every live view and the push channel while ringsim still answers.
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


def camera_entity(hass: HomeAssistant, sim: RingSim) -> str:
    unique_id = f"ring_{sim.device('doorbell')['id']}_hd"
    found = er.async_get(hass).async_get_entity_id("camera", DOMAIN, unique_id)
    assert found is not None, f"no camera with unique id {unique_id}"
    return found


async def until(check: Callable[[], Awaitable[bool]], within: float = WAIT) -> None:
    """Wait for a condition another process brings about (ringsim's counters), asked again and again."""
    async with asyncio.timeout(within):
        # Another process's counter: nothing here to await but asking again.
        while not await check():  # noqa: ASYNC110
            await asyncio.sleep(0.1)


async def receive(ws: Any, subscription: int) -> dict[str, Any]:
    """The next event of one offer's subscription (other live views on this socket send theirs too)."""
    async with asyncio.timeout(WAIT):
        while (message := await ws.receive_json())["id"] != subscription:
            pass
    assert isinstance(message, dict)
    return message


async def offer(ws: Any, viewer: WebRtcViewer, entity_id: str) -> tuple[int, str, dict[str, Any]]:
    """The viewer's offer through HA: its subscription, HA's session id, the answer (or error)."""
    sdp = await viewer.offer()
    command: dict[str, Any] = {"type": "camera/webrtc/offer", "entity_id": entity_id, "offer": sdp}
    await ws.send_json_auto_id(command)
    subscription = int(command["id"])  # the harness numbers the command in place
    reply = await receive(ws, subscription)
    assert reply["success"], reply
    session = await receive(ws, subscription)
    assert session["event"]["type"] == "session"
    return subscription, session["event"]["session_id"], await next_event(ws, subscription)


async def next_event(ws: Any, subscription: int) -> dict[str, Any]:
    """The subscription's next event other than Ring's trickled candidates."""
    while (event := (await receive(ws, subscription))["event"])["type"] == "candidate":
        pass
    assert isinstance(event, dict)
    return event


async def sessions_open(hass: HomeAssistant, sim: RingSim) -> int:
    return int((await sim.state(hass))["counters"]["live_sessions_open"])


async def watch(hass: HomeAssistant, ws: Any, viewer: WebRtcViewer, entity_id: str) -> str:
    """Offer, accept the answer, and see a current frame of ringsim's camera."""
    _, session_id, event = await offer(ws, viewer, entity_id)
    assert event["type"] == "answer", event
    await viewer.accept(event["answer"])
    frame = await viewer.next_frame(within=WAIT)
    assert time.time() * 1000 - timestamp.read(frame) < 5000
    return session_id


async def test_live_view_shows_the_cameras_current_frames_and_ends_when_the_browser_leaves(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator, ring_account: tuple[RingSim, ConfigEntry]
) -> None:
    sim, _ = ring_account
    entity_id = camera_entity(hass, sim)
    ws = await hass_ws_client(hass)
    first, second = WebRtcViewer(), WebRtcViewer()
    try:
        first_id = await watch(hass, ws, first, entity_id)
        await watch(hass, ws, second, entity_id)
        assert await sessions_open(hass, sim) == 2

        entity = hass.data[DATA_COMPONENT].get_entity(entity_id)
        assert entity is not None
        entity.close_webrtc_session(first_id)
        await until(lambda: _equals(sessions_open(hass, sim), 1))
        await second.next_frame(within=WAIT)  # the other viewer's session is its own
    finally:
        await first.close()
        await second.close()
    await hass.config_entries.async_unload(ring_account[1].entry_id)
    await hass.async_block_till_done()
    await until(lambda: _equals(sessions_open(hass, sim), 0))


async def _equals(value: Awaitable[int], expected: int) -> bool:
    return await value == expected


async def test_ring_answering_sendrecv_reaches_the_browser_with_compatible_directions(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator, ring_account: tuple[RingSim, ConfigEntry]
) -> None:
    sim, _ = ring_account
    await sim.inject(hass, quirks={"answer_direction": "sendrecv"})
    entity_id = camera_entity(hass, sim)
    ws = await hass_ws_client(hass)
    viewer = AudioFirstViewer()
    try:
        _, _, event = await offer(ws, viewer, entity_id)
        assert event["type"] == "answer", event
        assert _directions(event["answer"]) == [("audio", "sendonly"), ("video", "sendonly")]
        await viewer.accept(event["answer"])
        await viewer.next_frame(within=WAIT)
    finally:
        await viewer.close()


async def test_a_server_close_reaches_the_browser_and_the_next_live_view_works(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator, ring_account: tuple[RingSim, ConfigEntry]
) -> None:
    sim, _ = ring_account
    await sim.inject(hass, quirks={"close": {"code": 5, "after": 1}})
    entity_id = camera_entity(hass, sim)
    ws = await hass_ws_client(hass)
    closed, next_viewer = WebRtcViewer(), WebRtcViewer()
    try:
        subscription, _, event = await offer(ws, closed, entity_id)
        assert event["type"] == "answer", event
        await closed.accept(event["answer"])
        error = await next_event(ws, subscription)
        assert error["type"] == "error", error
        assert error["code"] == "ring_closed"
        assert "code 5" in error["message"]
        await until(lambda: _equals(sessions_open(hass, sim), 0))

        await sim.inject(hass, quirks={"close": None})
        await watch(hass, ws, next_viewer, entity_id)  # no reload in between
    finally:
        await closed.close()
        await next_viewer.close()
