"""ringsim's live view: the unmodified ring_doorbell opens the signalling WebSocket through `wss_proxy`
(the simulator's CONNECT proxy), an aiortc client offers, and ringsim's aiortc camera answers with
real H.264 video carrying camsim's clock. Ring's quirks (answer directions, server `close`) on demand.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from ring_doorbell import Ring
from ring_doorbell.auth import Auth
from ring_doorbell.webrtcstream import RingWebRtcMessage
from websockets.asyncio.client import connect

from camsim import timestamp
from camsim.ring.client import cloud_session
from scripts.lib.sims import Sim, start_ring_sim, stop_sim

pytestmark = [
    pytest.mark.usefixtures("socket_enabled", "real_network_adapters"),
    # ring_doorbell 0.9.14 passes aiohttp's deprecated `auth=`; not ours to fix.
    pytest.mark.filterwarnings("ignore:The 'auth' parameter is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning"),
]

DEADLINE = 10.0
FRAMES = 10
SIGNALLING = "wss://api.prod.signalling.ring.devices.a2z.com/ws?api_version=4.0&auth_type=ring_solutions"


@pytest.fixture(scope="module")
def module_sim() -> Iterator[Sim]:
    sim = start_ring_sim("--devices", "doorbell,floodlight")
    yield sim
    stop_sim(sim)


@pytest.fixture
def sim(module_sim: Sim, monkeypatch: pytest.MonkeyPatch) -> Sim:
    module_sim.inject()
    for name, value in module_sim.info["env"].items():
        monkeypatch.setenv(name, value)
    return module_sim


@pytest.fixture
async def ring(sim: Sim) -> AsyncIterator[Ring]:
    async with cloud_session(sim.info["cloud_file"]) as session:
        auth = Auth("camsim-tests/1.0", hardware_id=str(uuid.uuid4()), http_client_session=session)
        await auth.async_fetch_token(sim.info["email"], sim.info["password"])
        ring = Ring(auth)
        await ring.async_update_data()
        yield ring


async def wait_for(condition: Callable[[], Any], what: str) -> Any:
    """Poll `condition` (a state read) until truthy; fail after DEADLINE."""
    deadline = time.monotonic() + DEADLINE
    while not (result := await asyncio.to_thread(condition)):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
    return result


def browser_offer_peer(*, audio_first: bool = True) -> RTCPeerConnection:
    """A receive-only peer like a browser's: audio and video, no STUN (no DNS in tests)."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    kinds = ["audio", "video"] if audio_first else ["video", "audio"]
    for kind in kinds:
        pc.addTransceiver(kind, "recvonly")
    return pc


async def offer_of(pc: RTCPeerConnection) -> str:
    await pc.setLocalDescription(await pc.createOffer())
    return str(pc.localDescription.sdp)


async def clock_of_frames(track: MediaStreamTrack, count: int) -> list[int]:
    clocks: list[int] = []
    while len(clocks) < count:
        try:
            frame = await track.recv()
        except MediaStreamError:
            break
        clocks.append(timestamp.read(frame))
    return clocks


async def test_live_view_through_the_library_delivers_fresh_h264_frames(sim: Sim, ring: Ring) -> None:
    doorbell = ring.devices().doorbots[0]
    pc = browser_offer_peer()
    video: asyncio.Future[MediaStreamTrack] = asyncio.get_running_loop().create_future()

    @pc.on("track")
    def on_track(track: MediaStreamTrack) -> None:
        if track.kind == "video" and not video.done():
            video.set_result(track)

    messages: asyncio.Queue[RingWebRtcMessage] = asyncio.Queue()
    asked = int(time.time() * 1000)
    try:
        await doorbell.generate_async_webrtc_stream(
            await offer_of(pc), "session-1", messages.put_nowait, keep_alive_timeout=None
        )
        answer = None
        candidates = 0
        while answer is None:
            message = await asyncio.wait_for(messages.get(), DEADLINE)
            assert message.error_code is None, message.error_message
            answer = message.answer
        assert "H264" in answer
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        while candidates == 0:
            message = await asyncio.wait_for(messages.get(), DEADLINE)
            candidates += message.candidate is not None

        track = await asyncio.wait_for(video, DEADLINE)
        clocks = await asyncio.wait_for(clock_of_frames(track, FRAMES), DEADLINE)
        assert len(clocks) == FRAMES
        assert all(clock >= asked for clock in clocks)
        assert clocks == sorted(clocks)
        counters = sim.state()["counters"]
        assert counters["live_sessions_open"] == 1
        assert counters["live_sessions_total"] >= 1
    finally:
        await doorbell.close_webrtc_stream("session-1")
        await pc.close()
    await wait_for(lambda: sim.state()["counters"]["live_sessions_open"] == 0, "the session to end")
    signalling = [
        r for r in sim.state()["requests"] if r["host"] == "api.prod.signalling.ring.devices.a2z.com"
    ]
    assert signalling[-1]["path"] == "/ws"
    assert signalling[-1]["status"] == 101


async def test_sendrecv_quirk_survives_the_librarys_correction_on_the_second_m_line(
    sim: Sim, ring: Ring
) -> None:
    sim.inject(quirks={"answer_direction": "sendrecv"})
    doorbell = ring.devices().doorbots[0]
    pc = browser_offer_peer(audio_first=True)
    messages: asyncio.Queue[RingWebRtcMessage] = asyncio.Queue()
    try:
        await doorbell.generate_async_webrtc_stream(
            await offer_of(pc), "session-2", messages.put_nowait, keep_alive_timeout=None
        )
        answer = None
        while answer is None:
            answer = (await asyncio.wait_for(messages.get(), DEADLINE)).answer
    finally:
        await doorbell.close_webrtc_stream("session-2")
        await pc.close()
    audio, video = answer.split("m=audio", 1)[1].split("m=video", 1)
    assert "a=sendonly" in audio  # the library corrects the first m-line only
    assert "a=sendrecv" in video  # ...and leaves Ring's quirk on the video line (Chrome rejects it)


async def signalling_session(ring: Ring, offer: str, device_id: int) -> AsyncIterator[dict[str, Any]]:
    """Ring's signalling protocol spoken directly (through wss_proxy, like the library): every message."""
    ticket = (
        await ring.async_query(
            "/api/v1/clap/ticket/request/signalsocket",
            method="POST",
            base_uri="https://prd-api-us.prd.rings.solutions",
        )
    ).json()["ticket"]
    uri = f"{SIGNALLING}&client_id=ring_site-{uuid.uuid4()}&token={ticket}"
    async with connect(uri, ssl=ssl.create_default_context()) as ws:
        await ws.send(
            json.dumps(
                {
                    "method": "live_view",
                    "dialog_id": str(uuid.uuid4()),
                    "body": {"doorbot_id": device_id, "sdp": offer, "type": "offer"},
                }
            )
        )
        async for raw in ws:
            yield json.loads(raw)


async def methods_until_closed_for_ping(ring: Ring) -> list[str]:
    """The signalling methods of one doorbell live view, until Ring closes it for want of a ping."""
    pc = browser_offer_peer()
    methods: list[str] = []
    try:
        async with asyncio.timeout(DEADLINE):
            async for message in signalling_session(ring, await offer_of(pc), ring.devices().doorbots[0].id):
                methods.append(message["method"])
                if message["method"] == "close":
                    assert message["body"]["reason"] == {"code": 6, "text": "Timeout waiting for ping"}
    finally:
        await pc.close()
    return methods


async def test_server_close_quirk_sends_rings_close_code(sim: Sim, ring: Ring) -> None:
    sim.inject(quirks={"close": {"code": 6, "after": 0.2}})
    methods = await methods_until_closed_for_ping(ring)
    assert methods[:2] == ["session_created", "sdp"]
    assert "notification" in methods
    assert methods[-1] == "close"
    await wait_for(lambda: sim.state()["counters"]["live_sessions_open"] == 0, "the session to end")


async def test_a_socket_without_a_valid_ticket_is_closed_with_code_5(sim: Sim) -> None:
    uri = f"{SIGNALLING}&client_id=ring_site-{uuid.uuid4()}&token=not-a-ticket"
    async with asyncio.timeout(DEADLINE), connect(uri, ssl=ssl.create_default_context()) as ws:
        message = json.loads(await ws.recv())
    assert message["method"] == "close"
    assert message["body"]["reason"]["code"] == 5


async def test_ping_and_activate_session_are_answered(sim: Sim, ring: Ring) -> None:
    pc = browser_offer_peer()
    replies: list[str] = []
    try:
        async with asyncio.timeout(DEADLINE):
            ticket = (
                await ring.async_query(
                    "/api/v1/clap/ticket/request/signalsocket",
                    method="POST",
                    base_uri="https://prd-api-us.prd.rings.solutions",
                )
            ).json()["ticket"]
            uri = f"{SIGNALLING}&client_id=ring_site-{uuid.uuid4()}&token={ticket}"
            async with connect(uri, ssl=ssl.create_default_context()) as ws:
                dialog = str(uuid.uuid4())
                doorbot = ring.devices().doorbots[0].id
                await ws.send(
                    json.dumps(
                        {
                            "method": "live_view",
                            "dialog_id": dialog,
                            "body": {"doorbot_id": doorbot, "sdp": await offer_of(pc)},
                        }
                    )
                )
                for method in ("activate_session", "ping"):
                    await ws.send(
                        json.dumps({"method": method, "dialog_id": dialog, "body": {"doorbot_id": doorbot}})
                    )
                while len(replies) < 2:
                    method = json.loads(await ws.recv())["method"]
                    if method in ("camera_started", "pong"):
                        replies.append(method)
    finally:
        await pc.close()
    assert replies == ["camera_started", "pong"]


async def test_the_proxy_refuses_hosts_outside_the_cloud(sim: Sim) -> None:
    proxy = sim.info["env"]["wss_proxy"].removeprefix("http://")
    host, port = proxy.rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
    await writer.drain()
    status = await asyncio.wait_for(reader.readline(), DEADLINE)
    writer.close()
    assert status.startswith(b"HTTP/1.1 403")


async def test_an_offer_that_cannot_be_answered_is_closed_with_code_0(sim: Sim, ring: Ring) -> None:
    broken = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 97\r\n"  # no ICE credentials
    methods: list[str] = []
    async with asyncio.timeout(DEADLINE):
        async for message in signalling_session(ring, broken, ring.devices().doorbots[0].id):
            methods.append(message["method"])
            if message["method"] == "close":
                assert message["body"]["reason"]["code"] == 0
    assert methods == ["session_created", "close"]
    await wait_for(lambda: sim.state()["counters"]["live_sessions_open"] == 0, "the session to end")


async def test_a_live_view_nobody_pings_is_closed_with_code_6(sim: Sim, ring: Ring) -> None:
    """The `ping_timeout` quirk: Ring ends a live view not pinged for that long (code 6)."""
    pings = sim.inject(quirks={"ping_timeout": 1})["counters"]["pings"]
    methods = await methods_until_closed_for_ping(ring)
    assert methods[-1] == "close"
    assert sim.state()["counters"]["pings"] == pings
    await wait_for(lambda: sim.state()["counters"]["live_sessions_open"] == 0, "the session to end")
