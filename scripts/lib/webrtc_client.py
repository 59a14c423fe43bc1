"""A WebRTC viewer without a browser: aiortc as the client, for tests and benchmarks.

It offers to receive video (and audio, as HA's frontend does), takes the answer from whoever serves
it (the integration's WebRTC server directly, or HA's `camera/webrtc/offer` WebSocket command), and
returns decoded frames — so a test can read camsim's burned-in clock from what a viewer really got.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import aiohttp
import av
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack


class WebRtcViewer:
    def __init__(self) -> None:
        self.pc = RTCPeerConnection()
        self._track: asyncio.Future[MediaStreamTrack] = asyncio.get_running_loop().create_future()

        @self.pc.on("track")
        def _on_track(track: MediaStreamTrack) -> None:
            if track.kind == "video" and not self._track.done():
                self._track.set_result(track)

    async def offer(self) -> str:
        """An offer to receive video and audio, with this host's candidates in it."""
        self.pc.addTransceiver("video", direction="recvonly")
        self.pc.addTransceiver("audio", direction="recvonly")
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return str(self.pc.localDescription.sdp)

    async def accept(self, answer_sdp: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer_sdp, type="answer"))

    async def next_frame(self, within: float = 20.0) -> av.VideoFrame:
        async with asyncio.timeout(within):
            track = await asyncio.shield(self._track)
            frame: Any = await track.recv()
        assert isinstance(frame, av.VideoFrame)
        return frame

    async def close(self) -> None:
        with contextlib.suppress(Exception):  # closing twice, or after the server went away
            await self.pc.close()


class HaWebRtcSession:
    """A live view over Home Assistant's own WebSocket API (`camera/webrtc/offer`), as the frontend
    opens one: the WebSocket stays open for the session; closing it ends the session in HA."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, viewer: WebRtcViewer, session_id: str) -> None:
        self.ws = ws
        self.viewer = viewer
        self.session_id = session_id
        # Read the WebSocket for as long as the session lasts, as the frontend does: aiohttp answers
        # HA's heartbeat pings only while someone reads, and HA closes an unanswering socket — and the
        # session with it — after about 80 s (the soak bench lost every viewer so).
        self._reader = asyncio.get_running_loop().create_task(self._read_until_closed())

    async def _read_until_closed(self) -> None:
        async for _message in self.ws:
            pass  # later candidates and events: the viewer already has what it needs

    @classmethod
    async def open(cls, http: aiohttp.ClientSession, token: str, entity_id: str) -> HaWebRtcSession:
        """Offer, wait for HA's answer, apply it. Raises RuntimeError with HA's error message."""
        ws = await http.ws_connect("/api/websocket")
        viewer = WebRtcViewer()
        try:
            await ws.receive_json()  # auth_required
            await ws.send_json({"type": "auth", "access_token": token})
            if (await ws.receive_json())["type"] != "auth_ok":
                raise RuntimeError("Home Assistant rejected the token")
            offer = await viewer.offer()
            await ws.send_json(
                {"id": 1, "type": "camera/webrtc/offer", "entity_id": entity_id, "offer": offer}
            )
            reply = await ws.receive_json()
            if not reply.get("success"):
                raise RuntimeError(f"camera/webrtc/offer: {reply.get('error')}")
            session_id = ""
            while True:
                event = (await ws.receive_json())["event"]
                if event["type"] == "session":
                    session_id = event["session_id"]
                elif event["type"] == "answer":
                    await viewer.accept(event["answer"])
                    return cls(ws, viewer, session_id)
                elif event["type"] == "error":
                    raise RuntimeError(f"{event['code']}: {event['message']}")
        except BaseException:
            await viewer.close()
            await ws.close()
            raise

    async def close(self) -> None:
        await self.viewer.close()
        await self.ws.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
