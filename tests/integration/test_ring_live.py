"""Ring live view through HA's WebSocket API (`camera/webrtc/offer`), ringsim answering with real H.264.

The browser is an aiortc peer; the answer comes from ringsim's aiortc peer through the unmodified
ring-doorbell signalling (ticket, WebSocket through `wss_proxy`), with Camera Hub's fixes around it:
every media line's direction normalised, a server `close` reported and not breaking the next live view,
sessions closed when the browser leaves. Regression tests for ring-doorbell 0.9.14's two bugs.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription
from homeassistant.components.camera import async_get_image
from homeassistant.components.camera.const import DATA_COMPONENT
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.typing import WebSocketGenerator
from ring_doorbell.webrtcstream import RingWebRtcStream
from webrtc_models import RTCIceCandidateInit

from camsim import timestamp
from custom_components.camera_hub.const import DOMAIN
from custom_components.camera_hub.vendors.base import CommandFailed, WebRtcAnswer, WebRtcError, WebRtcMessage
from custom_components.camera_hub.vendors.ring.live import RingLiveView, answer_matching_offer
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


def test_declined_and_unmatched_lines_are_kept_and_an_unterminated_answer_gets_its_line_ending() -> None:
    offer = "v=0\r\ns=-\r\nm=audio 9 RTP/AVP 0\r\na=recvonly\r\nm=video 9 RTP/AVP 96\r\na=recvonly\r\n"
    # Audio declined (port 0), and a third line the offer never had: both left exactly as answered.
    answer = (
        "v=0\r\ns=-\r\nm=audio 0 RTP/AVP 0\r\na=sendrecv\r\nm=video 9 RTP/AVP 96\r\na=sendonly\r\n"
        "m=application 9 DTLS/SCTP 5000\r\na=sendrecv\r\n"
    )
    assert answer_matching_offer(offer, answer) == answer
    # The last line without its CRLF: the direction added after it still stands on its own line.
    unterminated = "v=0\r\ns=-\r\nm=audio 9 RTP/AVP 0\r\nm=video 9 RTP/AVP 96\r\na=mid:1"
    fixed = answer_matching_offer(offer, unterminated)
    assert fixed.endswith("m=video 9 RTP/AVP 96\r\na=mid:1\r\na=sendonly\r\n")
    assert _directions(fixed) == [("audio", "sendonly"), ("video", "sendonly")]


# --- error paths: candidates, refusals, sessions Ring ends --------------------------------------


def live_view(hass: HomeAssistant, sim: RingSim, entry: ConfigEntry) -> RingLiveView:
    """The doorbell's live view as the backend holds it."""
    backend = entry.runtime_data.connection.cameras[f"ring_{sim.device('doorbell')['id']}"]
    video = backend.video("hd")
    assert isinstance(video, RingLiveView)
    return video


async def send_candidate(
    ws: Any, entity_id: str, session_id: str, candidate: dict[str, Any]
) -> dict[str, Any]:
    """HA's `camera/webrtc/candidate` reply (the frontend's trickled candidate)."""
    command: dict[str, Any] = {
        "type": "camera/webrtc/candidate",
        "entity_id": entity_id,
        "session_id": session_id,
        "candidate": candidate,
    }
    await ws.send_json_auto_id(command)
    return await receive(ws, int(command["id"]))


async def candidates_received(hass: HomeAssistant, sim: RingSim) -> list[list[Any]]:
    return list((await sim.state(hass))["candidates"])


# A host candidate as browsers trickle them (aiortc's offer already carries its own).
CANDIDATE = "candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host"


async def test_candidates_reach_ring_by_their_media_line_and_unusable_ones_get_a_clear_error(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator, ring_account: tuple[RingSim, ConfigEntry]
) -> None:
    sim, _ = ring_account
    entity_id = camera_entity(hass, sim)
    ws = await hass_ws_client(hass)
    viewer = WebRtcViewer()
    try:
        session_id = await watch(hass, ws, viewer, entity_id)

        # Only sdpMid, and it is a number (Chrome's mids are): Ring gets it as the m-line index.
        reply = await send_candidate(ws, entity_id, session_id, {"candidate": CANDIDATE, "sdpMid": "1"})
        assert reply["success"], reply
        await until(lambda: _has_candidates(candidates_received(hass, sim), 1))
        assert await candidates_received(hass, sim) == [[1, CANDIDATE]]

        # End of candidates: accepted, and Ring's signalling has nothing to send for it.
        reply = await send_candidate(ws, entity_id, session_id, {"candidate": ""})
        assert reply["success"], reply

        # A named mid and no index: Ring cannot place it.
        reply = await send_candidate(ws, entity_id, session_id, {"candidate": CANDIDATE, "sdpMid": "video"})
        assert not reply["success"]
        assert reply["error"]["translation_key"] == "webrtc_failed"
        assert reply["error"]["translation_placeholders"] == {
            "error": "a candidate for Ring needs its media line index"
        }

        # A session this camera never opened.
        reply = await send_candidate(
            ws, entity_id, "01JUNKNOWNSESSION00000000", {"candidate": CANDIDATE, "sdpMLineIndex": 0}
        )
        assert not reply["success"]
        assert reply["error"]["translation_placeholders"] == {
            "error": "no Ring live view with this session id"
        }

        # A last good one proves the refused ones sent nothing in between (the socket keeps order).
        reply = await send_candidate(ws, entity_id, session_id, {"candidate": CANDIDATE, "sdpMLineIndex": 0})
        assert reply["success"], reply
        await until(lambda: _has_candidates(candidates_received(hass, sim), 2))
        assert await candidates_received(hass, sim) == [[1, CANDIDATE], [0, CANDIDATE]]
        await viewer.next_frame(within=WAIT)  # the live view itself is unharmed
    finally:
        await viewer.close()


async def _forgotten(live: RingLiveView) -> bool:
    """The live view holds no session (a session Ring ended leaves as its socket finishes closing)."""
    return not live.session_ids


async def _has_candidates(received: Awaitable[list[list[Any]]], count: int) -> bool:
    return len(await received) >= count


async def test_ring_refusing_the_signalling_socket_is_a_clear_offer_error_without_the_ticket(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator, ring_account: tuple[RingSim, ConfigEntry]
) -> None:
    sim, entry = ring_account
    await sim.inject(hass, fail={"path": "/ws", "status": 503, "count": 1})
    entity_id = camera_entity(hass, sim)
    ws = await hass_ws_client(hass)
    refused, next_viewer = WebRtcViewer(), WebRtcViewer()
    try:
        _, session_id, event = await offer(ws, refused, entity_id)
        assert event == {
            "type": "error",
            "code": "camera_hub_offer_failed",
            "message": "Ring did not open a live view",
        }
        # The ticket was issued and the socket refused: its URL (ticket in the query) stays out.
        assert [r["status"] for r in await sim.requests(hass, "/api/v1/clap/ticket")] == [200]
        assert [r["status"] for r in await sim.requests(hass, "/ws")] == [503]
        assert session_id not in live_view(hass, sim, entry).session_ids
        assert await sessions_open(hass, sim) == 0

        await watch(hass, ws, next_viewer, entity_id)  # the refusal left nothing behind
    finally:
        await refused.close()
        await next_viewer.close()


@pytest.mark.parametrize(
    ("how", "what"),
    [("drop", "the socket ends without a close message"), ("garble", "a message without its body")],
)
async def test_ring_ending_the_session_without_its_close_message_reaches_the_browser(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    ring_account: tuple[RingSim, ConfigEntry],
    how: str,
    what: str,
) -> None:
    sim, entry = ring_account
    await sim.inject(hass, quirks={"close": {"how": how, "after": 0.5}})
    entity_id = camera_entity(hass, sim)
    ws = await hass_ws_client(hass)
    ended, next_viewer = WebRtcViewer(), WebRtcViewer()
    try:
        subscription, session_id, event = await offer(ws, ended, entity_id)
        assert event["type"] == "answer", event
        await ended.accept(event["answer"])
        error = await next_event(ws, subscription)
        assert error == {"type": "error", "code": "ring_ended", "message": "Ring ended the live view"}, what
        await until(lambda: _equals(sessions_open(hass, sim), 0))
        await until(lambda: _forgotten(live_view(hass, sim, entry)))  # once its socket has closed

        # Too late for a candidate now: the session is gone.
        reply = await send_candidate(ws, entity_id, session_id, {"candidate": CANDIDATE, "sdpMLineIndex": 0})
        assert reply["error"]["translation_placeholders"] == {
            "error": "no Ring live view with this session id"
        }

        await sim.inject(hass, quirks={"close": None})
        await watch(hass, ws, next_viewer, entity_id)
    finally:
        await ended.close()
        await next_viewer.close()


async def test_a_candidate_sent_as_ring_closes_the_session_is_told_the_live_view_has_ended(
    hass: HomeAssistant, ring_account: tuple[RingSim, ConfigEntry]
) -> None:
    """The browser's candidate crosses Ring's `close`: it is refused as ended, not lost or raised raw."""
    sim, entry = ring_account
    await sim.inject(hass, quirks={"close": {"code": 0, "after": 0.5}})
    live = live_view(hass, sim, entry)
    viewer = WebRtcViewer()
    closed = asyncio.Event()
    answers: list[str] = []
    errors: list[WebRtcError] = []

    def send(message: WebRtcMessage) -> None:
        if isinstance(message, WebRtcAnswer):
            answers.append(message.sdp)
        elif isinstance(message, WebRtcError):
            errors.append(message)
            closed.set()

    try:
        await live.async_offer("crossing", await viewer.offer(), send)
        assert live.session_ids == ["crossing"]
        async with asyncio.timeout(WAIT):
            await closed.wait()
        # Ring's close has reached the browser; the socket is still closing when its candidate comes.
        assert "crossing" in live.session_ids
        with pytest.raises(CommandFailed, match=r"^the Ring live view has ended$"):
            await live.async_candidate("crossing", RTCIceCandidateInit(CANDIDATE, sdp_m_line_index=0))
        assert [(e.code, e.message) for e in errors] == [
            ("ring_closed", "Ring ended the live view (code 0: Session ended)")
        ]
        assert len(answers) == 1
        await until(lambda: _equals(sessions_open(hass, sim), 0))
        await until(lambda: _forgotten(live))  # once its socket has closed
    finally:
        await viewer.close()


async def test_closing_the_live_view_ends_every_session_and_waits_for_their_sockets(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator, ring_account: tuple[RingSim, ConfigEntry]
) -> None:
    sim, entry = ring_account
    entity_id = camera_entity(hass, sim)
    ws = await hass_ws_client(hass)
    first, second = WebRtcViewer(), WebRtcViewer()
    try:
        ids = {await watch(hass, ws, first, entity_id), await watch(hass, ws, second, entity_id)}
        live = live_view(hass, sim, entry)
        assert set(live.session_ids) == ids
        assert await sessions_open(hass, sim) == 2

        await live.async_close()
        assert live.session_ids == []
        # Both sockets are closed once it returns; Ring hangs up as it sees them go.
        await until(lambda: _equals(sessions_open(hass, sim), 0))
        reply = await send_candidate(ws, entity_id, ids.pop(), {"candidate": CANDIDATE, "sdpMLineIndex": 0})
        assert reply["error"]["translation_placeholders"] == {
            "error": "no Ring live view with this session id"
        }
        await live.async_close()  # nothing left: a second close is a no-op
    finally:
        await first.close()
        await second.close()


async def test_unloading_the_account_ends_its_live_views(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator, ring_account: tuple[RingSim, ConfigEntry]
) -> None:
    """The account unloads (HA stops, the entry is reloaded): its live views end with it, and Ring
    hangs up, rather than being left to the camera entity's background close."""
    sim, entry = ring_account
    entity_id = camera_entity(hass, sim)
    ws = await hass_ws_client(hass)
    viewer = WebRtcViewer()
    try:
        await watch(hass, ws, viewer, entity_id)
        live = live_view(hass, sim, entry)
        assert await sessions_open(hass, sim) == 1

        assert await hass.config_entries.async_unload(entry.entry_id)

        assert live.session_ids == []
        closing = [t for t in asyncio.all_tasks() if t.get_name() == "ring live view close" and not t.done()]
        assert closing == [], "the unload returned before the live views' sockets were closed"
        await until(lambda: _equals(sessions_open(hass, sim), 0))
    finally:
        await viewer.close()


async def test_a_browser_leaving_before_rings_answer_hears_nothing_more_and_ring_hangs_up(
    hass: HomeAssistant, ring_account: tuple[RingSim, ConfigEntry], caplog: pytest.LogCaptureFixture
) -> None:
    """HA's frontend starts a live view twice and closes the first at once: Ring's answer then comes on
    a socket the session has already dropped (the library would send its `activate` into it)."""
    sim, entry = ring_account
    live = live_view(hass, sim, entry)
    heard: list[WebRtcMessage] = []
    left, next_viewer = WebRtcViewer(), WebRtcViewer()
    try:
        await live.async_offer("left at once", await left.offer(), heard.append)
        live.close_session("left at once")  # before Ring has answered
        assert live.session_ids == []
        await live.async_close()  # waits for the socket to close and Ring's late answer to be read
        await until(lambda: _equals(sessions_open(hass, sim), 0))
        assert (await sim.state(hass))["counters"]["live_sessions_total"] == 1  # Ring did answer it
        assert heard == []  # the answer, its candidates and the end: nothing for a browser that left
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING]

        answered = asyncio.Event()
        answers: list[str] = []

        def send(message: WebRtcMessage) -> None:
            if isinstance(message, WebRtcAnswer):
                answers.append(message.sdp)
                answered.set()

        await live.async_offer("next", await next_viewer.offer(), send)
        async with asyncio.timeout(WAIT):
            await answered.wait()
        await next_viewer.accept(answers[0])
        await next_viewer.next_frame(within=WAIT)
    finally:
        await left.close()
        await next_viewer.close()


async def test_the_live_view_cameras_picture_comes_from_ring(
    hass: HomeAssistant, ring_account: tuple[RingSim, ConfigEntry]
) -> None:
    sim, _ = ring_account
    image = await async_get_image(hass, camera_entity(hass, sim))
    assert image.content_type == "image/jpeg"
    assert image.content.startswith(b"\xff\xd8")
