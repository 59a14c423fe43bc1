"""RTSP server of the simulated camera: RTSP 1.0 (RFC 2326) with H.264 over RTP (RFC 6184).

What is simulated, as a Tapo camera answers it:

* Paths `/stream1` (HD) and `/stream2` (SD, a quarter of the pixels), one video track each,
  `a=control:track1`, SDP with `packetization-mode=1` and `sprop-parameter-sets`.
* HTTP Digest authentication (RFC 2617, MD5, realm "TP-Link IP-Camera") with the camera account;
  OPTIONS is answered without credentials, everything else needs them, wrong ones get 401.
* RTP interleaved in the RTSP connection (RTP/AVP/TCP). A SETUP asking for UDP gets
  461 Unsupported Transport, so clients fall back to TCP (ffmpeg does; HA's stream uses TCP).
* Every viewer of a stream gets the access units of the stream's one shared encoder
  (see `camsim.video`), from the moment it sends PLAY.
* An offline or rebooting camera, or the `rtsp_drop` fault, closes every RTSP connection and stops
  listening, so new connections are refused until the camera is back. The `rtsp_kick` fault ends
  every open connection once (a Wi-Fi blip) and keeps listening.

Not simulated: the PCMA audio track of real cameras, RTCP sender reports, PAUSE, and the session
timeout (sessions end when their TCP connection does).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import logging
import math
import re
import secrets
import struct
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from urllib.parse import urlsplit

from .device import TapoDevice
from .video import AccessUnit, CameraVideo, StreamEncoder, Viewer

_LOGGER = logging.getLogger(__name__)

REALM = "TP-Link IP-Camera"
PUBLIC_METHODS = "OPTIONS, DESCRIBE, SETUP, TEARDOWN, PLAY, GET_PARAMETER, SET_PARAMETER"
SESSION_TIMEOUT = 60
TRACK = "track1"
RTP_CLOCK = 90_000
PAYLOAD_TYPE = 96
# Keeps each interleaved RTP packet within one Ethernet MTU, as a camera's packetizer does.
MAX_RTP_PAYLOAD = 1400
FU_A = 28
# How quickly a fault injected through the state endpoint takes effect.
FAULT_POLL_SECONDS = 0.1
ISSUED_NONCES = 256

REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    454: "Session Not Found",
    455: "Method Not Valid in This State",
    461: "Unsupported Transport",
    501: "Not Implemented",
}


class RtspError(Exception):
    """A request that ends in an error status instead of 200."""

    def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {REASONS[status]}")
        self.status = status
        self.headers = headers or {}


# --- wire format ---------------------------------------------------------------------------------


@dataclass
class Request:
    method: str
    uri: str
    headers: dict[str, str]  # names lower-cased
    body: bytes = b""

    @property
    def cseq(self) -> str:
        return self.headers.get("cseq", "0")


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    """Next RTSP request on the connection; None at end of stream.

    Interleaved binary frames from the client (its RTCP receiver reports) are skipped.
    """
    while True:
        try:
            first = await reader.readexactly(1)
            if first == b"$":
                _channel, length = struct.unpack("!BH", await reader.readexactly(3))
                await reader.readexactly(length)
                continue
            head = first + await reader.readuntil(b"\r\n\r\n")
            request = parse_request_head(head.decode("utf-8", "replace"))
            length = int(request.headers.get("content-length") or 0)
            if length:
                request.body = await reader.readexactly(length)
        except asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError:
            return None
        return request


def parse_request_head(head: str) -> Request:
    request_line, *header_lines = head.strip("\r\n").split("\r\n")
    method, uri, _version = [*request_line.split(" ", 2), "", ""][:3]
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Request(method.upper(), uri, headers)


def format_response(status: int, cseq: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"RTSP/1.0 {status} {REASONS[status]}", f"CSeq: {cseq}", f"Date: {formatdate(usegmt=True)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


# --- Digest authentication (RFC 2617) ------------------------------------------------------------


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def parse_auth_params(header: str) -> dict[str, str]:
    return {
        match[1].lower(): match[2] if match[2] is not None else match[3]
        for match in re.finditer(r'(\w+)\s*=\s*(?:"([^"]*)"|([^\s,]+))', header)
    }


@dataclass
class DigestAuth:
    """Checks Digest credentials against the camera account; a fresh nonce for every challenge."""

    device: TapoDevice
    _nonces: deque[str] = field(default_factory=lambda: deque(maxlen=ISSUED_NONCES))

    def challenge(self) -> dict[str, str]:
        nonce = secrets.token_hex(16)
        self._nonces.append(nonce)
        return {"WWW-Authenticate": f'Digest realm="{REALM}", nonce="{nonce}"'}

    def accepts(self, request: Request) -> bool:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "digest":
            return False
        params = parse_auth_params(credentials)
        if params.get("nonce") not in self._nonces or params.get("realm") != REALM:
            return False
        if params.get("username") != self.device.config.username:
            return False
        return hmac.compare_digest(params.get("response", ""), self._expected(request.method, params))

    def _expected(self, method: str, params: dict[str, str]) -> str:
        config = self.device.config
        ha1 = _md5(f"{config.username}:{REALM}:{config.password}")
        ha2 = _md5(f"{method}:{params.get('uri', '')}")
        nonce = params["nonce"]
        if params.get("qop") == "auth":
            return _md5(f"{ha1}:{nonce}:{params.get('nc', '')}:{params.get('cnonce', '')}:auth:{ha2}")
        return _md5(f"{ha1}:{nonce}:{ha2}")


# --- RTP packetization (RFC 3550 header, RFC 6184 payload) ---------------------------------------


def h264_payloads(nal_units: tuple[bytes, ...], max_size: int = MAX_RTP_PAYLOAD) -> Iterator[bytes]:
    """RTP payloads for one access unit: single NAL unit packets, FU-A fragments for large ones."""
    for nal in nal_units:
        if len(nal) <= max_size:
            yield nal
            continue
        indicator = (nal[0] & 0xE0) | FU_A  # keeps the F and NRI bits of the original NAL header
        nal_type = nal[0] & 0x1F
        body = nal[1:]
        chunk = max_size - 2
        for offset in range(0, len(body), chunk):
            start = 0x80 if offset == 0 else 0
            end = 0x40 if offset + chunk >= len(body) else 0
            yield bytes((indicator, start | end | nal_type)) + body[offset : offset + chunk]


@dataclass
class RtpPacketizer:
    """Sequence numbers, SSRC and timestamp offset of one RTP stream (random, per RFC 3550)."""

    fps: int
    ssrc: int = field(default_factory=lambda: secrets.randbits(32))
    sequence: int = field(default_factory=lambda: secrets.randbits(16))
    timestamp_offset: int = field(default_factory=lambda: secrets.randbits(32))

    def rtp_time(self, frame_index: int) -> int:
        return (frame_index * RTP_CLOCK // self.fps + self.timestamp_offset) & 0xFFFFFFFF

    def packets(self, unit: AccessUnit) -> list[bytes]:
        payloads = list(h264_payloads(unit.nal_units))
        rtp_time = self.rtp_time(unit.index)
        packets = []
        for number, payload in enumerate(payloads):
            marker = 0x80 if number == len(payloads) - 1 else 0  # last packet of the access unit
            header = struct.pack("!BBHII", 0x80, marker | PAYLOAD_TYPE, self.sequence, rtp_time, self.ssrc)
            self.sequence = (self.sequence + 1) & 0xFFFF
            packets.append(header + payload)
        return packets


def interleaved(channel: int, packet: bytes) -> bytes:
    """RFC 2326 section 10.12 framing of a binary packet inside the RTSP connection."""
    return struct.pack("!cBH", b"$", channel, len(packet)) + packet


def sdp(stream: StreamEncoder, host: str, session_version: int) -> bytes:
    sps, pps = stream.parameter_sets
    sprop = ",".join(base64.b64encode(unit).decode() for unit in (sps, pps))
    lines = [
        "v=0",
        f"o=- {session_version} 1 IN IP4 {host}",
        's=Session streamed by "TP-LINK RTSP Server"',
        f"i={stream.name}",
        "t=0 0",
        "a=tool:camsim",
        "a=type:broadcast",
        "a=control:*",
        "a=range:npt=0-",
        f"m=video 0 RTP/AVP {PAYLOAD_TYPE}",
        "c=IN IP4 0.0.0.0",
        f"a=rtpmap:{PAYLOAD_TYPE} H264/{RTP_CLOCK}",
        f"a=fmtp:{PAYLOAD_TYPE} packetization-mode=1;profile-level-id={sps[1:4].hex().upper()};"
        f"sprop-parameter-sets={sprop}",
        f"a=control:{TRACK}",
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


# --- sessions and connections --------------------------------------------------------------------


@dataclass
class Session:
    """One RTSP session: a stream, the interleaved channel its RTP goes to, and its sender task."""

    id: str
    stream: StreamEncoder
    channel: int
    rtp: RtpPacketizer
    viewer: Viewer | None = None
    sender: asyncio.Task[None] | None = None

    @property
    def playing(self) -> bool:
        return self.viewer is not None


class Connection:
    """One client's RTSP connection, carrying at most one session (as ffmpeg and HA use it)."""

    def __init__(
        self, server: RtspServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        self.session: Session | None = None

    @property
    def device(self) -> TapoDevice:
        return self.server.device

    async def serve(self) -> None:
        try:
            while (request := await read_request(self.reader)) is not None:
                response, then_play = self.respond(request)
                self.writer.write(response)
                await self.writer.drain()
                if then_play:
                    self.start_playing()
        except ConnectionError:
            pass
        finally:
            self.close()

    def close(self) -> None:
        self.end_session()
        self.writer.close()

    # --- requests ----------------------------------------------------------------------------

    def respond(self, request: Request) -> tuple[bytes, bool]:
        """The response to `request`, and whether RTP should start flowing once it is sent."""
        try:
            headers, body = self.handle(request)
        except RtspError as err:
            return format_response(err.status, request.cseq, err.headers), False
        if self.session is not None:
            headers.setdefault("Session", f"{self.session.id};timeout={SESSION_TIMEOUT}")
        return format_response(200, request.cseq, headers, body), request.method == "PLAY"

    def handle(self, request: Request) -> tuple[dict[str, str], bytes]:
        if request.method == "OPTIONS":
            return {"Public": PUBLIC_METHODS}, b""
        handler = {
            "DESCRIBE": self.describe,
            "SETUP": self.setup,
            "PLAY": self.play,
            "TEARDOWN": self.teardown,
            "GET_PARAMETER": self.keepalive,
            "SET_PARAMETER": self.keepalive,
        }.get(request.method)
        if handler is None:
            raise RtspError(501)
        if not self.server.auth.accepts(request):
            raise RtspError(401, self.server.auth.challenge())
        return handler(request)

    def describe(self, request: Request) -> tuple[dict[str, str], bytes]:
        stream = self.server.stream_for(request.uri)
        host = self.writer.get_extra_info("sockname")[0]
        body = sdp(stream, host, self.server.session_version)
        base = request.uri.split("?", 1)[0].rstrip("/") + "/"
        return {"Content-Base": base, "Content-Type": "application/sdp"}, body

    def setup(self, request: Request) -> tuple[dict[str, str], bytes]:
        stream = self.server.stream_for(request.uri)
        transport = request.headers.get("transport", "")
        if "rtp/avp/tcp" not in transport.lower():
            raise RtspError(461)
        if self.session is not None:
            self.require_session(request)
            raise RtspError(455)  # one track per stream: a second SETUP has nothing to set up
        match = re.search(r"interleaved=(\d+)", transport)
        channel = int(match[1]) if match else 0
        self.session = Session(secrets.token_hex(4).upper(), stream, channel, RtpPacketizer(stream.fps))
        self.device.counters.rtsp_sessions_total += 1
        self.device.counters.rtsp_sessions_open += 1
        return {"Transport": f"RTP/AVP/TCP;unicast;interleaved={channel}-{channel + 1}"}, b""

    def play(self, request: Request) -> tuple[dict[str, str], bytes]:
        session = self.require_session(request)
        next_frame = math.floor(time.time() * session.stream.fps) + 1
        base = request.uri.split("?", 1)[0].rstrip("/")
        rtp_info = f"url={base}/{TRACK};seq={session.rtp.sequence};rtptime={session.rtp.rtp_time(next_frame)}"
        return {"Range": "npt=0.000-", "RTP-Info": rtp_info}, b""

    def teardown(self, request: Request) -> tuple[dict[str, str], bytes]:
        self.require_session(request)
        self.end_session()
        return {}, b""

    def keepalive(self, request: Request) -> tuple[dict[str, str], bytes]:
        if "session" in request.headers:
            self.require_session(request)
        return {}, b""

    def require_session(self, request: Request) -> Session:
        session_id = request.headers.get("session", "").split(";", 1)[0].strip()
        if self.session is None or session_id != self.session.id:
            raise RtspError(454)
        return self.session

    # --- media -------------------------------------------------------------------------------

    def start_playing(self) -> None:
        session = self.session
        if session is None or session.playing:
            return
        # Subscribing only now, after the PLAY response is written, makes the first RTP packet the
        # encoder's next access unit, wherever that is in the GOP.
        session.viewer = session.stream.subscribe()
        session.sender = asyncio.create_task(self.send_rtp(session, session.viewer))

    async def send_rtp(self, session: Session, viewer: Viewer) -> None:
        try:
            while True:
                unit = await viewer.queue.get()
                for packet in session.rtp.packets(unit):
                    self.writer.write(interleaved(session.channel, packet))
                await self.writer.drain()
        except ConnectionError:
            self.writer.close()

    def end_session(self) -> None:
        session, self.session = self.session, None
        if session is None:
            return
        if session.sender is not None:
            session.sender.cancel()
        if session.viewer is not None:
            session.stream.unsubscribe(session.viewer)
        self.device.counters.rtsp_sessions_open -= 1


class RtspServer:
    """The RTSP listener: accepts connections, and goes dark while the camera cannot stream."""

    def __init__(self, device: TapoDevice, host: str, port: int) -> None:
        self.device = device
        self.host = host
        self.port = port
        self.auth = DigestAuth(device)
        config = device.config
        self.video = CameraVideo.for_size(config.width, config.height, config.fps, config.gop)
        self.session_version = int(time.time())
        self._server: asyncio.Server | None = None
        self._connections: dict[Connection, asyncio.Task[None]] = {}
        self._watchdog: asyncio.Task[None] | None = None
        self._stop_dropping: Callable[[], None] | None = None

    @property
    def streaming_allowed(self) -> bool:
        return self.device.online and not self.device.faults.rtsp_drop

    def stream_for(self, uri: str) -> StreamEncoder:
        path = urlsplit(uri).path.strip("/").split("/", 1)[0]
        stream = self.video.streams.get(path)
        if stream is None:
            raise RtspError(404)
        return stream

    async def start(self) -> None:
        for stream in self.video.streams.values():
            _ = stream.parameter_sets  # encode the probe frame now rather than in the first DESCRIBE
        await self._listen()
        self._watchdog = asyncio.create_task(self._watch_faults())
        self._stop_dropping = self.device.add_rtsp_dropper(self._drop_connections)

    async def stop(self) -> None:
        if self._stop_dropping is not None:
            self._stop_dropping()
            self._stop_dropping = None
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
        await self._go_dark()
        await self.video.close()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _go_dark(self) -> None:
        """Stop listening and drop every connection, as a camera that went offline does."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        connections = dict(self._connections)
        for connection in connections:
            connection.close()
        for task in connections.values():
            task.cancel()
        await asyncio.gather(*connections.values(), return_exceptions=True)
        if server is not None:
            await server.wait_closed()

    def _drop_connections(self) -> None:
        """The `rtsp_kick` fault: every open connection ends now; the listener stays."""
        for connection, task in list(self._connections.items()):
            connection.close()
            task.cancel()

    async def _watch_faults(self) -> None:
        # device.py has no change notifications; polling at this rate costs nothing measurable.
        while True:
            await asyncio.sleep(FAULT_POLL_SECONDS)
            if not self.streaming_allowed and self._server is not None:
                _LOGGER.info("RTSP going dark (offline, rebooting or rtsp_drop fault)")
                await self._go_dark()
            elif self.streaming_allowed and self._server is None:
                await self._listen()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.streaming_allowed:
            writer.close()
            return
        connection = Connection(self, reader, writer)
        task = asyncio.current_task()
        assert task is not None
        self._connections[connection] = task
        try:
            await connection.serve()
        finally:
            self._connections.pop(connection, None)
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


async def start(device: TapoDevice, host: str, port: int) -> RtspServer:
    """Start the RTSP listener of `device` on `host:port` (0 lets the kernel pick a port)."""
    server = RtspServer(device, host, port)
    await server.start()
    return server
