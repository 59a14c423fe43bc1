"""Malformed replies on purpose: broken JSON bodies for the simulated clouds, and an RTSP front that lies.

What a camera or cloud sends when a firmware bug, a proxy or a half-dead connection gets in the way —
for tests that the integration answers bad replies with a clear error, never a hang or a traceback:

* `malform_json(body, kind)`: a JSON reply `truncated` half-way, with `wrong_types` (every value a
  different JSON type than the API's, same keys), or `not_json` (a proxy's HTML page). `huge_json`
  streams a syntactically valid object of any size.
* `RtspLiar`: an RTSP server in front of a camsim stream. `garbage` answers every request with random
  bytes; the `sdp_*` modes relay the real session but lie in DESCRIBE's SDP: `sdp_codec` (H.265 named
  for H.264 packets), `sdp_params` (parameter sets that are not H.264's), `sdp_no_media` (no track at
  all), `sdp_overlong` (a Content-Length longer than the SDP sent, so a reader waits for bytes that
  never come).
* `JsonLiar`: an HTTPS front for a camera's control API that breaks its JSON answers on demand.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import socket
import ssl
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from .authority import make_authority

JSON_FAULTS = ("truncated", "wrong_types", "not_json", "huge")
RTSP_MODES = ("garbage", "sdp_codec", "sdp_params", "sdp_no_media", "sdp_overlong")
HUGE_BYTES = 64 * 1024 * 1024
_CHUNK = 64 * 1024


def malform_json(body: bytes, kind: str) -> bytes:
    """`body` (a JSON reply) broken as `kind` says; `huge` is streamed instead (`huge_json`)."""
    if kind == "truncated":
        return body[: max(1, len(body) // 2)]
    if kind == "wrong_types":
        return json.dumps(wrong_types(json.loads(body))).encode()
    if kind == "not_json":
        return b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
    raise ValueError(f"no such JSON fault: {kind!r} (one of {', '.join(JSON_FAULTS)})")


def wrong_types(value: Any) -> Any:
    """The same keys, each value of another JSON type: text for numbers, numbers for text, and so on."""
    if isinstance(value, dict):
        return {key: wrong_types(item) for key, item in value.items()}
    if isinstance(value, list):
        return {str(index): wrong_types(item) for index, item in enumerate(value)}
    if isinstance(value, bool):
        return "true" if value else ""
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return [value] if value else 0
    return {}  # null


async def huge_json(size: int = HUGE_BYTES) -> AsyncIterator[bytes]:
    """A valid JSON object of `size` bytes, in chunks (the simulator never holds it whole)."""
    head, tail = b'{"padding": "', b'"}'
    yield head
    left = size - len(head) - len(tail)
    while left > 0:
        chunk = min(left, _CHUNK)
        yield b"x" * chunk
        left -= chunk
    yield tail


# --- RTSP ----------------------------------------------------------------------------------------

_CONTENT_LENGTH = re.compile(rb"^content-length:[ \t]*(\d+)", re.IGNORECASE | re.MULTILINE)


async def stream_huge_json(request: web.Request, status: int) -> web.StreamResponse:
    """Answer `request` with `huge_json`, streamed (no declared length, as a runaway server sends it)."""
    stream = web.StreamResponse(status=status, headers={"Content-Type": "application/json"})
    await stream.prepare(request)
    with contextlib.suppress(ConnectionResetError):  # a client that stops reading hangs up
        async for chunk in huge_json():
            await stream.write(chunk)
        await stream.write_eof()
    return stream


async def malformed_reply(request: web.Request, reply: web.StreamResponse, kind: str) -> web.StreamResponse:
    """A simulated cloud's `malform` fault: `reply` broken as `kind` says (a huge body is streamed)."""
    if kind == "huge":
        return await stream_huge_json(request, reply.status)
    body = reply.body if isinstance(reply, web.Response) and isinstance(reply.body, bytes) else b"{}"
    return web.Response(body=malform_json(body, kind), status=reply.status, content_type="application/json")


def lie_about(sdp: bytes, mode: str) -> tuple[bytes, int]:
    """The SDP to send instead of `sdp`, and the Content-Length to announce for it."""
    if mode == "sdp_codec":
        lie = sdp.replace(b"H264/90000", b"H265/90000")
    elif mode == "sdp_params":
        lie = re.sub(rb"sprop-parameter-sets=[^;\r\n]*", b"sprop-parameter-sets=AAAAAAAA,/////w==", sdp)
    elif mode == "sdp_no_media":
        lie = sdp.split(b"\r\nm=", 1)[0] + b"\r\n"
    elif mode == "sdp_overlong":
        return sdp, len(sdp) + 4096
    else:
        raise ValueError(f"no such SDP lie: {mode!r}")
    return lie, len(lie)


class RtspLiar:
    """An RTSP server on `host` that answers for the camsim stream at `upstream` (host, port), lying."""

    def __init__(self, upstream: tuple[str, int], mode: str, host: str = "127.0.0.1") -> None:
        if mode not in RTSP_MODES:
            raise ValueError(f"no such RTSP mode: {mode!r} (one of {', '.join(RTSP_MODES)})")
        self.upstream = upstream
        self.mode = mode
        self.host = host
        self.port = 0
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._accept, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        """Stop listening and end every connection (wait_closed waits for them since Python 3.12)."""
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await task
        if self._server is not None:
            await self._server.wait_closed()

    def url(self, path: str = "/stream1", userinfo: str = "") -> str:
        return f"rtsp://{userinfo + '@' if userinfo else ''}{self.host}:{self.port}{path}"

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            if self.mode == "garbage":
                await self._garbage(reader, writer)
            else:
                await self._relay(reader, writer)
        except OSError, asyncio.IncompleteReadError:
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _garbage(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Random bytes for every request, until the client gives up."""
        while await reader.read(4096):
            writer.write(os.urandom(2048))
            await writer.drain()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        to_camera = asyncio.create_task(self._pipe(reader, up_writer))
        try:
            await self._answers(up_reader, writer)
        finally:
            to_camera.cancel()
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await to_camera
            up_writer.close()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(_CHUNK):
            writer.write(data)
            await writer.drain()

    async def _answers(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """The camera's RTSP answers, the SDP replaced; media (interleaved `$` frames) as it comes."""
        while True:
            first = await reader.readexactly(1)
            if first == b"$":  # media from now on: no more answers to rewrite
                writer.write(first)
                await self._pipe(reader, writer)
                return
            head = first + await reader.readuntil(b"\r\n\r\n")
            match = _CONTENT_LENGTH.search(head)
            body = await reader.readexactly(int(match.group(1))) if match else b""
            if b"application/sdp" in head.lower():
                body, announced = lie_about(body, self.mode)
                head = _CONTENT_LENGTH.sub(f"Content-Length: {announced}".encode(), head)
            writer.write(head + body)
            await writer.drain()


_TLS_HANDSHAKE = 0x16


async def _first_byte(conn: socket.socket, wait: float = 5.0) -> int | None:
    loop = asyncio.get_running_loop()
    readable: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not readable.done():
            readable.set_result(None)

    loop.add_reader(conn.fileno(), wake)
    try:
        await asyncio.wait_for(readable, wait)
        peeked = conn.recv(1, socket.MSG_PEEK)
    except TimeoutError, OSError:
        return None
    finally:
        loop.remove_reader(conn.fileno())
    return peeked[0] if peeked else None


# --- HTTPS JSON (a camera's control API) ----------------------------------------------------------


class JsonLiar:
    """An HTTP(S) front for a camera's control API (`upstream`, e.g. 127.0.0.1:PORT) that passes
    every exchange through, and breaks the answers as `kind` says while it is set (None: untouched).

    Answers that are not JSON (a KLAP session's encrypted bytes) are truncated for `wrong_types`.
    """

    def __init__(self, upstream: str, host: str = "127.0.0.1") -> None:
        self.upstream = upstream  # host:port of the control API, asked in the scheme the client used
        self.host = host
        self.port = 0
        self.kind: str | None = None
        self.answers_broken = 0
        self._folder = tempfile.TemporaryDirectory(prefix="camsim-liar-")
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        self._tls: ssl.SSLContext | None = None
        self._listener: socket.socket | None = None
        self._accepting: asyncio.Task[None] | None = None

    async def start(self) -> int:
        authority = make_authority([self.host], Path(self._folder.name), label="jsonliar")
        self._tls = authority.server_context()
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._client = aiohttp.ClientSession()
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        self._listener = socket.create_server((self.host, 0))
        self._listener.setblocking(False)
        self.port = self._listener.getsockname()[1]
        self._accepting = asyncio.create_task(self._accept())
        return self.port

    async def stop(self) -> None:
        if self._accepting is not None:
            self._accepting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._accepting
        if self._listener is not None:
            self._listener.close()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._client is not None:
            await self._client.close()
        self._folder.cleanup()

    async def _accept(self) -> None:
        """TLS or plain HTTP on the one port, told apart by the first byte, as camsim's control port
        (KLAP is plain HTTP, the other logins HTTPS, and the libraries probe both)."""
        assert self._listener is not None
        assert self._runner is not None
        loop = asyncio.get_running_loop()
        factory = self._runner.server
        assert factory is not None
        while True:
            conn, _ = await loop.sock_accept(self._listener)
            first = await _first_byte(conn)
            if first is None:
                conn.close()
                continue
            tls = self._tls if first == _TLS_HANDSHAKE else None
            with contextlib.suppress(OSError, ssl.SSLError):
                await loop.connect_accepted_socket(factory, conn, ssl=tls)

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._client is not None
        skip = {"host", "content-length", "transfer-encoding"}
        headers = {k: v for k, v in request.headers.items() if k.lower() not in skip}
        scheme = "https" if request.secure else "http"
        url, data = f"{scheme}://{self.upstream}{request.path_qs}", await request.read()
        async with self._client.request(request.method, url, data=data, headers=headers, ssl=False) as answer:
            body = await answer.read()
            status = answer.status
            passed = {k: v for k, v in answer.headers.items() if k.lower() in ("set-cookie", "content-type")}
        if (kind := self.kind) is None:
            return web.Response(body=body, status=status, headers=passed)
        self.answers_broken += 1
        if kind == "huge":
            return await stream_huge_json(request, status)
        try:
            broken = malform_json(body, kind)
        except ValueError:  # not JSON: cut it instead
            broken = malform_json(body, "truncated")
        return web.Response(body=broken, status=status, headers=passed)
