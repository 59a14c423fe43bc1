"""WebRTC from the frame hub, with aiortc as the viewer: real camsim H.264 over real sockets.

The server (streaming/webrtc.py) is exercised without Home Assistant here; tests/integration covers
HA's `camera/webrtc/offer` path. Frames carry camsim's burned-in clock, so a decoded frame proves
the viewer got the camera's picture, and its age proves it got a current one.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

import aioice.ice
import pytest

from camsim import timestamp
from custom_components.camera_hub.streaming.frames import FrameHub
from custom_components.camera_hub.streaming.webrtc import (
    IceServer,
    IceServerHealth,
    WebRtcError,
    WebRtcServer,
)
from scripts.lib.hass import ROOT
from scripts.lib.webrtc_client import WebRtcViewer
from tests.helpers.camsim import Sim
from tests.streaming.test_frames import counters, poll

pytestmark = pytest.mark.usefixtures("socket_enabled", "real_network_adapters")


def open_sockets() -> int:
    fd_dir = Path("/proc/self/fd")
    return sum(1 for fd in fd_dir.iterdir() if _readlink(fd).startswith("socket:"))


def _readlink(path: Path) -> str:
    try:
        return os.readlink(path)
    except OSError:  # closed while listing
        return ""


async def connect(server: WebRtcServer, session_id: str) -> WebRtcViewer:
    viewer = WebRtcViewer()
    answer = await server.async_answer(await viewer.offer(), session_id)
    await viewer.accept(answer)
    return viewer


async def test_viewers_get_camera_frames_from_one_upstream_without_decoding(
    webrtc_sim: Sim, hub: FrameHub
) -> None:
    before = (await counters(webrtc_sim))["rtsp_sessions_total"]
    server = WebRtcServer(hub, name="test camera")
    viewers = [await connect(server, f"s{i}") for i in range(3)]
    try:
        for viewer in viewers:
            frame = await viewer.next_frame()
            # The camera's picture, and a current one (camsim's clock; generous for a loaded CI).
            assert time.time() * 1000 - timestamp.read(frame) < 5000
            later = await viewer.next_frame()
            assert timestamp.read(later) >= timestamp.read(frame)
        assert len(server.session_ids) == 3
        assert hub.upstream_sessions == 1
        assert (await counters(webrtc_sim))["rtsp_sessions_total"] - before == 1
        # Passthrough: nobody asked for pictures, so the hub decoded none.
        assert hub.decoded_frames == 0
    finally:
        for viewer in viewers:
            await viewer.close()
        await server.async_close_all()
    assert server.session_ids == []


async def test_a_viewer_joining_mid_gop_gets_a_picture_before_the_next_keyframe(hub: FrameHub) -> None:
    """The GOP cache: a second viewer, joining while the first keeps the hub warm, is sent the
    packets since the last keyframe, so its first frame is older than the join (camsim keyframes every
    2 s; without the cache its first frame would be the next keyframe, after the join)."""
    server = WebRtcServer(hub)
    first = await connect(server, "first")
    try:
        await first.next_frame()

        async def mid_gop() -> bool:
            return hub.gop_cache_bytes > 0 and len(hub.cached_gop()) >= 5

        await poll(mid_gop, "the hub holds several packets after a keyframe")
        joined_ms = time.time() * 1000
        second = await connect(server, "second")
        try:
            frame = await second.next_frame()
            assert timestamp.read(frame) < joined_ms
        finally:
            await second.close()
    finally:
        await first.close()
        await server.async_close_all()


async def test_bad_input_gets_a_clear_error_and_leaves_nothing(hub: FrameHub) -> None:
    server = WebRtcServer(hub)
    with pytest.raises(WebRtcError) as err:
        await server.async_answer("not an sdp", "bad")
    assert err.value.code == "invalid_offer"

    audio_only = WebRtcViewer()
    audio_only.pc.addTransceiver("audio", direction="recvonly")
    await audio_only.pc.setLocalDescription(await audio_only.pc.createOffer())
    with pytest.raises(WebRtcError) as err:
        await server.async_answer(audio_only.pc.localDescription.sdp, "audio")
    assert err.value.code == "invalid_offer"
    await audio_only.close()

    with pytest.raises(WebRtcError) as err:
        await server.async_add_candidate("nobody", "candidate:1 1 udp 1 127.0.0.1 9 typ host", "0", 0)
    assert err.value.code == "unknown_session"
    server.close("nobody")  # closing an unknown session is not an error

    assert server.session_ids == []
    assert not hub.running or hub.upstream_sessions <= 1


async def test_fifty_offers_at_once_are_answered_or_refused_and_all_cleaned_up(hub: FrameHub) -> None:
    sockets_before = open_sockets()
    server = WebRtcServer(hub, max_sessions=20)
    viewers = [WebRtcViewer() for _ in range(50)]
    offers = await asyncio.gather(*(viewer.offer() for viewer in viewers))
    results = await asyncio.gather(
        *(server.async_answer(offer, f"s{i}") for i, offer in enumerate(offers)), return_exceptions=True
    )
    answered = [r for r in results if isinstance(r, str)]
    refused = [r for r in results if isinstance(r, WebRtcError)]
    assert len(answered) == 20
    assert len(refused) == 30
    assert {r.code for r in refused} == {"too_many_viewers"}
    assert len(server.peer_connections()) == 20

    await asyncio.gather(*(viewer.close() for viewer in viewers))
    await server.async_close_all()
    assert server.peer_connections() == []
    assert server.session_ids == []

    async def hub_idle() -> bool:
        return not hub.running

    await poll(hub_idle, "the hub stops once every viewer has gone (linger 0)")

    async def sockets_released() -> bool:
        return open_sockets() <= sockets_before

    # ICE's UDP sockets of 50 viewers and 20 server peers: all closed again.
    await poll(sockets_released, "every WebRTC socket is closed")


async def test_a_viewer_that_never_connects_is_closed(hub: FrameHub) -> None:
    """An offer whose browser vanished before ICE: the session is given up, not kept forever."""
    server = WebRtcServer(hub, connect_timeout=0.5)
    viewer = WebRtcViewer()
    offer = await viewer.offer()
    await server.async_answer(offer, "ghost")  # the answer is never applied: no ICE will happen
    assert server.session_ids == ["ghost"]

    async def closed() -> bool:
        return server.session_ids == []

    await poll(closed, "the unconnected session is closed")
    await viewer.close()
    await server.async_close_all()


# A viewer in its own process, as a browser tab is: it prints its offer, reads the answer, says when
# a frame has arrived, then waits to be killed.
_VIEWER_PROCESS = """
import asyncio, json, sys
from scripts.lib.hass import ROOT
from scripts.lib.webrtc_client import WebRtcViewer

async def main():
    viewer = WebRtcViewer()
    print(json.dumps(await viewer.offer()), flush=True)
    await viewer.accept(json.loads(await asyncio.to_thread(sys.stdin.readline)))
    await viewer.next_frame()
    print("frame", flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


async def test_a_viewer_that_vanishes_without_bye_is_closed(
    hub: FrameHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A browser killed mid-view sends nothing (no DTLS close, no HA unsubscribe): ICE consent
    freshness (RFC 7675) fails, and the session must end with everything it held."""
    # aioice checks consent every 5 s and gives up after 6 misses; a shorter interval keeps the test
    # short without changing what is tested (the server's reaction to ICE failing).
    monkeypatch.setattr(aioice.ice, "CONSENT_INTERVAL", 0.2)
    server = WebRtcServer(hub)
    sockets_before = open_sockets()
    browser = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _VIEWER_PROCESS, cwd=ROOT,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert browser.stdin is not None
    assert browser.stdout is not None
    try:
        offer = json.loads(await browser.stdout.readline())
        browser.stdin.write((json.dumps(await server.async_answer(offer, "tab")) + "\n").encode())
        await browser.stdin.drain()
        assert await browser.stdout.readline() == b"frame\n"
        assert server.session_ids == ["tab"]
        browser.kill()
        await browser.wait()

        async def session_closed() -> bool:
            return server.session_ids == []

        async def nothing_held() -> bool:
            return not hub.running and open_sockets() <= sockets_before

        await poll(session_closed, "the vanished viewer's session is closed")
        await poll(nothing_held, "the hub has stopped (linger 0) and the sockets are released")
    finally:
        if browser.returncode is None:
            browser.kill()
            await browser.wait()
        await server.async_close_all()


class _Blackhole(asyncio.DatagramProtocol):
    """A STUN server behind a firewall that drops replies: requests arrive, nothing answers."""

    def __init__(self) -> None:
        self.requests = 0

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.requests += 1


async def test_a_stun_server_that_never_answers_is_left_out_of_later_answers(
    hub: FrameHub, caplog: pytest.LogCaptureFixture
) -> None:
    """aiortc waits for STUN before answering; a server that never answers must cost that wait once,
    not on every live view (HA hands out its default STUN server even to offline homes)."""
    blackhole = _Blackhole()
    transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
        lambda: blackhole, local_addr=("127.0.0.1", 0)
    )
    stun = IceServer(urls=f"stun:127.0.0.1:{transport.get_extra_info('sockname')[1]}")
    server = WebRtcServer(hub, ice_health=IceServerHealth())
    viewers = [WebRtcViewer(), WebRtcViewer()]
    try:
        first = await server.async_answer(await viewers[0].offer(), "first", [stun])
        asked_first = blackhole.requests
        second = await server.async_answer(await viewers[1].offer(), "second", [stun])
    finally:
        transport.close()
        for viewer in viewers:
            await viewer.close()
        await server.async_close_all()
    assert asked_first > 0, "the first answer asked the STUN server"
    assert blackhole.requests == asked_first, "the second answer did not ask it again"
    assert " typ host" in first
    assert " typ host" in second
    said = [r.getMessage() for r in caplog.records if "gave no candidate" in r.getMessage()]
    assert len(said) == 1, said


async def test_trickled_candidates_are_added_and_bad_ones_get_clear_errors(hub: FrameHub) -> None:
    """The browser trickles its candidates: a usable one reaches the session's ICE, Chrome's mDNS one
    is dropped (resolving it costs aiortc a second), an end-of-candidates is accepted, and one that
    does not parse or names no session gets an error a person can read."""
    server = WebRtcServer(hub)
    viewer = WebRtcViewer()
    try:
        await server.async_answer(await viewer.offer(), "s")
        host = next(
            line
            for line in viewer.pc.localDescription.sdp.splitlines()
            if line.startswith("a=candidate:") and " typ host" in line
        )
        ice = server.peer_connections()[0].getTransceivers()[0].receiver.transport.transport

        await server.async_add_candidate("s", host, "0", 0)
        await server.async_add_candidate(
            "s", "candidate:1 1 udp 2122260223 0f3c.local 54321 typ host", "0", 0
        )
        await server.async_add_candidate("s", "", "0", 0)
        with pytest.raises(WebRtcError) as garbage:
            await server.async_add_candidate("s", "candidate:not a candidate", "0", 0)
        with pytest.raises(WebRtcError) as nobody:
            await server.async_add_candidate("someone else", host, "0", 0)

        added = [f"{c.ip} {c.port}" for c in ice.getRemoteCandidates()]
        assert any(f"{c.ip} {c.port}" in host for c in ice.getRemoteCandidates()), added
        assert not any(".local" in c.ip for c in ice.getRemoteCandidates())
        assert (garbage.value.code, str(garbage.value)) == (
            "invalid_candidate",
            "the ICE candidate cannot be parsed",
        )
        assert (nobody.value.code, str(nobody.value)) == ("unknown_session", "no WebRTC session with this id")
    finally:
        await viewer.close()
        await server.async_close_all()
