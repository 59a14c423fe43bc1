"""A WebRTC viewer without a browser: aiortc as the client, for tests and benchmarks.

It offers to receive video (and audio, as HA's frontend does), takes the answer from whoever serves
it (the integration's WebRTC server directly, or HA's `camera/webrtc/offer` WebSocket command), and
returns decoded frames — so a test can read camsim's burned-in clock from what a viewer really got.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

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
