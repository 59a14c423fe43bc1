"""Native WebRTC from the frame hub: the camera's own H.264 packets to any number of browsers.

Each viewer is an `aiortc` peer connection whose video track reads the hub's packets — the cached GOP
first, so the browser can decode a picture at once, then live — untouched (no decode, no encode).
One upstream per camera, whatever the number of viewers; the RTP itself goes out through one shared
path per camera (rtp_sender.py), not aiortc's per-viewer media loop.

Why aiortc in-process and not a go2rtc binary: see docs/decisions.md. Traps handled here (found while
checking feasibility, shared/notes/ENVIRONMENT.md):
- aiortc chooses the codec inside `setRemoteDescription`: the send-only transceiver and its H.264-only
  codec preferences must exist before it, or it silently answers VP8.
- Chrome's mDNS `*.local` host candidates cost aiortc a 1 s resolve timeout each; they are dropped.
  The browser still reaches our host candidates and we learn its address from its checks.
- The replayed GOP is paced (`REPLAY_BITS_PER_SECOND`) instead of leaving as one burst, and its
  timestamps are compressed onto the send clock, so the browser fast-forwards to live instead of
  playing a GOP behind.
- The browser's keyframe requests (PLI) cannot be honoured by passthrough: the GOP cache is what makes
  joining fast.
- aiortc gathers every candidate before it answers, waiting up to 5 s for STUN and TURN servers. One
  that did not answer (outbound UDP blocked, an offline home) is left out for `ICE_SERVER_RETRY`
  instead of costing every live view those seconds (`IceServerHealth`); it gave no candidate anyway.

No Home Assistant imports: camera.py turns answers and errors into HA's WebRTC messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NoReturn

from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.sdp import candidate_from_sdp

from .frames import EncodedPacket, FrameHub, PacketSubscription
from .rtp_sender import Lane, Packetizer, SharedRtpSender

_LOGGER = logging.getLogger(__name__)

VIDEO_CLOCK = 90_000
# A replayed GOP leaves at this rate: fast enough that a 2 s GOP at 2 Mbit/s is sent in 0.2 s, slow
# enough not to flood a Wi-Fi link or a TURN relay with half a megabyte at once.
REPLAY_BITS_PER_SECOND = 20_000_000
# Viewers per camera; each costs a peer connection (sockets, an RTCP task) even though video is shared.
MAX_SESSIONS = 20
# A viewer whose ICE has not connected by then is given up (a browser that left before connecting
# never says so: aiortc would wait for more remote candidates forever).
CONNECT_TIMEOUT = 30.0
# A closed peer connection's connect task ends within a few loop turns; this only bounds a surprise.
CLOSE_TIMEOUT = 5.0
# How long a STUN/TURN server that gave no candidate is left out of gathering before it is asked again.
ICE_SERVER_RETRY = 600.0


class IceServerHealth:
    """Which STUN/TURN servers answered the last gathering; those that did not are left out for a while.

    A server is judged by the candidate type it exists for: STUN gives `srflx`, TURN gives `relay`.
    Shared by every camera's server in this process (they all reach the same servers).
    """

    def __init__(self, retry_after: float = ICE_SERVER_RETRY) -> None:
        self._retry_after = retry_after
        self._silent_until: dict[str, float] = {}

    def usable(self, servers: Iterable[IceServer]) -> list[IceServer]:
        now = time.monotonic()
        return [s for s in servers if all(self._silent_until.get(url, 0.0) <= now for url in _urls(s))]

    def record(self, servers: Iterable[IceServer], local_sdp: str) -> None:
        """Judge the servers asked by the candidates in our answer (aiortc asks the first of each kind)."""
        gathered = {kind for kind in ("srflx", "relay") if f" typ {kind}" in local_sdp}
        for kind, url in _first_stun_and_turn(servers):
            if kind in gathered:
                self._silent_until.pop(url, None)
            elif url not in self._silent_until or self._silent_until[url] <= time.monotonic():
                _LOGGER.info(
                    "%s server %s gave no candidate within aiortc's wait; live views leave it out for "
                    "%.0f min (outbound UDP blocked?)",
                    "STUN" if kind == "srflx" else "TURN",
                    url.split("?")[0],
                    self._retry_after / 60,
                )
                self._silent_until[url] = time.monotonic() + self._retry_after


ICE_SERVER_HEALTH = IceServerHealth()


def _urls(server: IceServer) -> list[str]:
    return [server.urls] if isinstance(server.urls, str) else list(server.urls)


def _first_stun_and_turn(servers: Iterable[IceServer]) -> list[tuple[str, str]]:
    """(candidate type, url) of the STUN and TURN server aiortc will ask: the first of each."""
    found: dict[str, str] = {}
    for server in servers:
        for url in _urls(server):
            kind = (
                "srflx"
                if url.startswith(("stun:", "stuns:"))
                else "relay"
                if url.startswith(("turn:", "turns:"))
                else None
            )
            if kind is not None:
                found.setdefault(kind, url)
    return list(found.items())


class WebRtcError(Exception):
    """A WebRTC offer or candidate that cannot be served; `code` and `str()` are for the browser."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class IceServer:
    """A STUN or TURN server, as Home Assistant hands them to the frontend."""

    urls: str | list[str]
    username: str | None = None
    credential: str | None = None


class HubVideoTrack(MediaStreamTrack):
    """A viewer's video: the hub's encoded packets, the cached GOP first (paced), then live.

    Its sender (`SharedRtpSender`) streams it through a `Lane` (`stream_to`), never through `recv`.
    """

    kind = "video"

    def __init__(self, subscription: PacketSubscription, packetizer: Packetizer) -> None:
        super().__init__()
        self._subscription = subscription
        self.packetizer = packetizer  # the camera's, shared by its viewers
        self._origin = time.monotonic()
        self._last_pts = -1
        self._replay_clock: float | None = None
        self._lane: Lane | None = None
        self.sent_packets = 0
        self.sent_bytes = 0

    @property
    def live(self) -> bool:
        """Caught up: packets go to the viewer as the hub delivers them, from no queue."""
        return self._subscription.handed_over

    async def recv(self) -> NoReturn:
        raise MediaStreamError("a hub track is sent through its lane (stream_to), not read frame by frame")

    async def stream_to(self, lane: Lane) -> None:
        """Send what is queued from this loop, then hand the lane live packets as the hub delivers
        them, until the viewer leaves (the lane ends)."""
        self._lane = lane
        if self.readyState != "live":
            raise MediaStreamError
        while not self._subscription.hand_over(lambda packet: self._send_live(lane, packet)):
            encoded, timestamp = await self._next()
            lane.send(encoded, timestamp)
        await lane.ended

    def stop(self) -> None:
        self._subscription.hand_over(None)
        if self._lane is not None:
            self._lane.end()
        super().stop()

    def _send_live(self, lane: Lane, encoded: EncodedPacket) -> None:
        lane.send_live(encoded, self._timestamp(encoded.arrived, len(encoded.data)))

    async def _next(self) -> tuple[EncodedPacket, int]:
        """The next packet and its RTP timestamp (90 kHz), a replayed one after its pacing wait."""
        encoded, replayed = await self._subscription.get()
        if replayed:
            await self._pace(len(encoded.data))
            return encoded, self._timestamp(time.monotonic(), len(encoded.data))
        self._replay_clock = None
        return encoded, self._timestamp(encoded.arrived, len(encoded.data))

    def _timestamp(self, sent_at: float, size: int) -> int:
        # Timestamps follow the send clock for replayed packets and the arrival clock for live ones,
        # strictly increasing: the browser renders the catch-up quickly and then stays live.
        pts = max(round((sent_at - self._origin) * VIDEO_CLOCK), self._last_pts + 1)
        self._last_pts = pts
        self.sent_packets += 1
        self.sent_bytes += size
        return pts

    async def _pace(self, size: int) -> None:
        now = time.monotonic()
        if self._replay_clock is None:
            self._replay_clock = now  # the keyframe leaves at once
        elif self._replay_clock > now:
            await asyncio.sleep(self._replay_clock - now)
        self._replay_clock = max(self._replay_clock, now) + size * 8 / REPLAY_BITS_PER_SECOND


class _Session:
    def __init__(self, session_id: str, pc: RTCPeerConnection, track: HubVideoTrack) -> None:
        self.session_id = session_id
        self.pc = pc
        self.track = track
        self.connected = asyncio.Event()
        self.watchdog: asyncio.Task[None] | None = None
        self.feeder: contextlib.AbstractAsyncContextManager[PacketSubscription] | None = None


class WebRtcServer:
    """The WebRTC viewers of one frame hub: answers offers, adds candidates, closes sessions."""

    def __init__(
        self,
        hub: FrameHub,
        *,
        name: str = "camera",
        max_sessions: int = MAX_SESSIONS,
        connect_timeout: float = CONNECT_TIMEOUT,
        replay_gop: bool = True,
        ice_health: IceServerHealth | None = None,
    ) -> None:
        self._hub = hub
        self._replay_gop = replay_gop
        self._ice_health = ice_health or ICE_SERVER_HEALTH
        self._connect_timeout = connect_timeout
        self._name = name
        self._max_sessions = max_sessions
        self._sessions: dict[str, _Session] = {}
        self._packetizer = Packetizer()
        self._closing: set[asyncio.Task[None]] = set()

    @property
    def session_ids(self) -> list[str]:
        return list(self._sessions)

    def track(self, session_id: str) -> HubVideoTrack:
        return self._sessions[session_id].track

    @property
    def packetizer(self) -> Packetizer:
        return self._packetizer

    def peer_connection(self, session_id: str) -> RTCPeerConnection:
        return self._sessions[session_id].pc

    def peer_connections(self) -> list[RTCPeerConnection]:
        return [session.pc for session in self._sessions.values()]

    async def async_answer(
        self, offer_sdp: str, session_id: str, ice_servers: Iterable[IceServer] = ()
    ) -> str:
        """The SDP answer for a browser's offer; raises `WebRtcError` with a reason a person can read."""
        if session_id in self._sessions:
            raise WebRtcError("session_exists", "a WebRTC session with this id is already open")
        if len(self._sessions) >= self._max_sessions:
            raise WebRtcError(
                "too_many_viewers", f"{self._name} already has {self._max_sessions} live viewers"
            )
        if self._hub.codec not in (None, "h264"):
            raise WebRtcError(
                "unsupported_codec",
                f"{self._name} sends {self._hub.codec}, which browsers cannot play over WebRTC; "
                "choose the HLS live view in the camera's options",
            )
        offer = _parse_offer(offer_sdp)
        servers = self._ice_health.usable(ice_servers)
        pc = RTCPeerConnection(RTCConfiguration(iceServers=_aiortc_ice_servers(servers)))
        subscription_cm = self._hub.packets(replay=self._replay_gop)
        subscription = await subscription_cm.__aenter__()
        session = _Session(session_id, pc, HubVideoTrack(subscription, self._packetizer))
        session.feeder = subscription_cm
        self._sessions[session_id] = session
        try:
            answer = await self._negotiate(session, offer)
        except BaseException:
            await self._async_close(session_id)
            raise
        self._ice_health.record(servers, answer)
        session.watchdog = asyncio.create_task(self._give_up_unless_connected(session))
        return answer

    async def _negotiate(self, session: _Session, offer: RTCSessionDescription) -> str:
        pc = session.pc

        @pc.on("connectionstatechange")
        def _state_changed() -> None:
            state = pc.connectionState
            if state == "connected":
                session.connected.set()
            elif state in ("failed", "closed"):
                self.close(session.session_id)

        # Before setRemoteDescription: that is where aiortc picks the codec (else it answers VP8).
        transceiver = pc.addTransceiver(session.track, direction="sendonly")
        SharedRtpSender.adopt(transceiver.sender)
        h264 = [c for c in RTCRtpSender.getCapabilities("video").codecs if c.mimeType.lower() == "video/h264"]
        transceiver.setCodecPreferences(h264)
        try:
            await pc.setRemoteDescription(offer)
            answer = await pc.createAnswer()
        except (ValueError, AssertionError, KeyError, IndexError) as err:
            raise WebRtcError("invalid_offer", f"the browser's offer cannot be answered: {err}") from err
        if answer is None or "H264" not in answer.sdp:
            raise WebRtcError("unsupported_codec", "the browser offered no H.264 video to receive")
        await pc.setLocalDescription(answer)
        return pc.localDescription.sdp

    async def async_add_candidate(
        self, session_id: str, candidate: str, sdp_mid: str | None, sdp_mline_index: int | None
    ) -> None:
        """A remote ICE candidate trickled by the browser (mDNS ones are dropped, see module doc)."""
        session = self._sessions.get(session_id)
        if session is None:
            raise WebRtcError("unknown_session", "no WebRTC session with this id")
        text = candidate.removeprefix("a=").removeprefix("candidate:")
        if not text or ".local " in text:
            return
        try:
            parsed = candidate_from_sdp(text)
        except (ValueError, AssertionError, IndexError) as err:
            raise WebRtcError("invalid_candidate", "the ICE candidate cannot be parsed") from err
        parsed.sdpMid = sdp_mid
        parsed.sdpMLineIndex = sdp_mline_index
        await session.pc.addIceCandidate(parsed)

    def close(self, session_id: str) -> None:
        """End a session (the browser left); cleanup runs in the background."""
        if session_id not in self._sessions:
            return
        task = asyncio.get_running_loop().create_task(self._async_close(session_id))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def async_close_all(self) -> None:
        """Every session ends (the entity unloads or HA stops) and nothing is left running."""
        await asyncio.gather(*(self._async_close(session_id) for session_id in list(self._sessions)))
        if self._closing:
            await asyncio.wait(set(self._closing))

    async def _async_close(self, session_id: str) -> None:
        session = self._sessions.pop(session_id, None)
        if session is None:
            return
        if session.watchdog is not None and session.watchdog is not asyncio.current_task():
            session.watchdog.cancel()
        session.track.stop()
        await session.pc.close()
        await _connect_task_ended(session.pc)
        if session.feeder is not None:
            await session.feeder.__aexit__(None, None, None)

    async def _give_up_unless_connected(self, session: _Session) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._connect_timeout):
                await session.connected.wait()
                return
        _LOGGER.debug("%s: WebRTC viewer never connected; session closed", self._name)
        await self._async_close(session.session_id)


async def _connect_task_ended(pc: RTCPeerConnection) -> None:
    """Wait for the connect task aiortc started for `pc` and keeps no handle to.

    `close()` stops the ICE transport that task may be waiting on, but the task only ends a few
    loop turns later: without this wait it outlives the session (HA reports it as lingering at
    shutdown). Found by coroutine identity, so other sessions' tasks are never waited on.
    """
    pending = [
        task
        for task in asyncio.all_tasks()
        if task is not asyncio.current_task() and _is_connect_of(task, pc)
    ]
    if pending:
        await asyncio.wait(pending, timeout=CLOSE_TIMEOUT)


def _is_connect_of(task: asyncio.Task[Any], pc: RTCPeerConnection) -> bool:
    coro = task.get_coro()
    frame = getattr(coro, "cr_frame", None)
    return (
        frame is not None
        and getattr(coro, "__qualname__", "") == "RTCPeerConnection.__connect"
        and frame.f_locals.get("self") is pc
    )


def _parse_offer(offer_sdp: str) -> RTCSessionDescription:
    if not isinstance(offer_sdp, str) or not offer_sdp.startswith("v=0") or "m=video" not in offer_sdp:
        raise WebRtcError("invalid_offer", "the offer is not an SDP offer with a video section")
    lines = [line for line in offer_sdp.splitlines() if not _is_mdns_candidate(line)]
    return RTCSessionDescription(sdp="\r\n".join(lines) + "\r\n", type="offer")


def _is_mdns_candidate(line: str) -> bool:
    return line.startswith("a=candidate:") and ".local " in line


def _aiortc_ice_servers(servers: Iterable[IceServer]) -> list[RTCIceServer]:
    return [RTCIceServer(urls=s.urls, username=s.username, credential=s.credential) for s in servers]
