"""Ring's live-view signalling WebSocket, answered by an aiortc peer that sends real H.264 video.

Protocol as ring_doorbell 0.9.14 speaks it (webrtcstream.py; ../shared/notes/ring.md section 3):
the client sends `live_view` with its offer; the camera answers `session_created`, then `sdp` (the
answer, candidates embedded because aiortc gathers before answering), then each candidate again as a
trickled `ice`, then `notification camera_connected`. `ping` gets `pong`, `activate_session` gets
`camera_started`, the client's `ice` lines go to the peer. Closing the socket hangs up.

Quirks switched on through the state endpoint: `answer_direction` rewrites every m-line's direction in
the answer (Ring really answers `a=sendrecv` to recvonly offers), `close` sends Ring's `close` message
with code 0, 5 or 6 some seconds after the answer (or, with `how`, drops the socket without a word or
sends a message missing its body), `ping_timeout` ends a live view not pinged for that many seconds
with code 6, as Ring does. The client's trickled candidates are kept in the state's `candidates`.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import json
import logging
import re
import time
import uuid
from typing import Any

import av
from aiohttp import WSMsgType, web
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription, VideoStreamTrack
from aiortc.exceptions import InvalidAccessError, InvalidStateError
from aiortc.mediastreams import AudioStreamTrack
from aiortc.rtcrtpsender import RTCRtpSender
from aiortc.sdp import candidate_from_sdp

from ..video import Scene
from .account import Account, Accounts

_LOGGER = logging.getLogger(__name__)

VIDEO_SIZE = (320, 240)
CLOSE_TEXTS = {0: "Session ended", 5: "Authentication failed: -1", 6: "Timeout waiting for ping"}
_DIRECTION = re.compile(r"^a=(?:sendrecv|sendonly|recvonly|inactive)(?=\r?$)", re.MULTILINE)


class CameraTrack(VideoStreamTrack):
    """camsim's picture with the wall clock burned in, at aiortc's default 30 fps."""

    def __init__(self) -> None:
        super().__init__()
        self._scene = Scene(*VIDEO_SIZE)
        self._index = 0

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = self._scene.frame(self._index, int(time.time() * 1000))
        self._index += 1
        frame.pts = pts
        frame.time_base = (
            time_base if isinstance(time_base, fractions.Fraction) else fractions.Fraction(time_base)
        )
        return frame


def _with_direction(sdp: str, direction: str) -> str:
    return _DIRECTION.sub(f"a={direction}", sdp)


def _candidates(sdp: str) -> list[tuple[int, str]]:
    """(m-line index, "candidate:…") of every candidate in `sdp`."""
    found = []
    index = -1
    for line in sdp.splitlines():
        if line.startswith("m="):
            index += 1
        elif line.startswith("a=candidate:") and index >= 0:
            found.append((index, line.removeprefix("a=")))
    return found


class LiveSession:
    """One signalling socket: at most one live view (a dialog) with its peer connection."""

    def __init__(
        self, account: Account, ws: web.WebSocketResponse, transport: asyncio.Transport | None = None
    ) -> None:
        self.account = account
        self.ws = ws
        self.transport = transport
        self.dialog_id = ""
        self.doorbot_id = 0
        self.session_id = ""
        self.pc: RTCPeerConnection | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._pinged = asyncio.Event()

    async def send(self, method: str, body: dict[str, Any]) -> None:
        if self.ws.closed:
            return
        full = {**body, "doorbot_id": self.doorbot_id, "session_id": self.session_id}
        await self.ws.send_str(json.dumps({"method": method, "dialog_id": self.dialog_id, "body": full}))

    async def handle(self, message: dict[str, Any]) -> None:
        method = message.get("method")
        body = message.get("body") or {}
        if method == "live_view":
            await self.live_view(message.get("dialog_id", ""), body)
        elif method == "ice":
            await self.remote_candidate(body)
        elif method == "ping":
            self._pinged.set()
            self.account.counters["pings"] += 1
            await self.send("pong", {})
        elif method == "activate_session":
            await self.send("camera_started", {})
        elif method == "camera_options":
            await self.send("camera_options", {k: v for k, v in body.items() if k == "stealth_mode"})

    async def live_view(self, dialog_id: str, body: dict[str, Any]) -> None:
        self.dialog_id = dialog_id
        self.doorbot_id = int(body.get("doorbot_id") or 0)
        if self.pc is not None or self.account.camera(self.doorbot_id) is None or "sdp" not in body:
            await self.close(0, "Camera not available")
            return
        self.session_id = uuid.uuid4().hex + uuid.uuid4().hex
        self.account.counters["live_sessions_open"] += 1
        self.account.counters["live_sessions_total"] += 1
        await self.send("session_created", {})
        self.pc = pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        video = pc.addTransceiver(CameraTrack(), "sendonly")
        # Preferences must be set before the offer is applied, or aiortc settles on VP8.
        codecs = RTCRtpSender.getCapabilities("video").codecs
        video.setCodecPreferences(
            [c for c in codecs if c.mimeType == "video/H264"]
            + [c for c in codecs if c.mimeType == "video/rtx"]
        )
        pc.addTransceiver(AudioStreamTrack(), "sendonly")
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=str(body["sdp"]), type="offer"))
            await pc.setLocalDescription(await pc.createAnswer())
        except (ValueError, InvalidAccessError, InvalidStateError) as err:
            _LOGGER.info("refusing an offer aiortc cannot answer: %s", err)
            await self.close(0, "Invalid offer")
            return
        answer = pc.localDescription.sdp
        if self.account.answer_direction:
            answer = _with_direction(answer, self.account.answer_direction)
        await self.send("sdp", {"sdp": answer, "type": "answer"})
        for index, candidate in _candidates(answer):
            await self.send("ice", {"ice": candidate, "mlineindex": index})
        await self.send("notification", {"is_ok": True, "text": "camera_connected"})
        if quirk := self.account.close_quirk:
            self._spawn(self._close_later(int(quirk["code"]), float(quirk["after"]), str(quirk["how"])))
        if (timeout := self.account.ping_timeout) is not None:
            self._spawn(self._close_unless_pinged(timeout))

    async def remote_candidate(self, body: dict[str, Any]) -> None:
        text = str(body.get("ice") or "").removeprefix("candidate:")
        if self.pc is None or not text:
            return
        try:
            candidate = candidate_from_sdp(text)
        except ValueError, IndexError:
            _LOGGER.debug("ignoring a malformed candidate")
            return
        candidate.sdpMLineIndex = int(body.get("mlineindex") or 0)
        self.account.candidates.append((candidate.sdpMLineIndex, str(body.get("ice"))))
        await self.pc.addIceCandidate(candidate)

    async def _close_later(self, code: int, after: float, how: str) -> None:
        await asyncio.sleep(after)
        if how == "drop" and self.transport is not None:
            self.transport.abort()  # no close message, no close frame: the connection just ends
        elif how == "garble":
            await self.ws.send_str(json.dumps({"method": "ice", "dialog_id": self.dialog_id}))
        else:
            await self.close(code, CLOSE_TEXTS[code])

    async def _close_unless_pinged(self, idle_for: float) -> None:
        """Ring's keep-alive: a live view without a ping for `idle_for` seconds ends with code 6."""
        while True:
            self._pinged.clear()
            try:
                async with asyncio.timeout(idle_for):
                    await self._pinged.wait()
            except TimeoutError:
                await self.close(6, CLOSE_TEXTS[6])
                return

    async def close(self, code: int, text: str) -> None:
        """Ring's `close` message, then the socket."""
        await self.send("close", {"reason": {"code": code, "text": text}})
        await self.ws.close()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def hang_up(self) -> None:
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.pc is not None:
            self.account.counters["live_sessions_open"] -= 1
            await self.pc.close()
            self.pc = None


def handler(accounts: Accounts) -> Any:
    """The aiohttp handler of `/ws?…&token=<ticket>`: the ticket says whose cameras the socket reaches."""

    async def signalling(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        ticket = request.query.get("token", "")
        account = accounts.by_ticket(ticket)
        if account is None:
            await LiveSession(accounts.first, ws).close(5, CLOSE_TEXTS[5])
            return ws
        session = LiveSession(account, ws, request.transport)
        account.tickets.discard(ticket)  # a ticket opens one socket
        try:
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                try:
                    parsed = json.loads(message.data)
                except ValueError:
                    continue
                if isinstance(parsed, dict):
                    await session.handle(parsed)
        finally:
            await session.hang_up()
        return ws

    return signalling
