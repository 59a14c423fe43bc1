"""camsim's RTSP server and video, seen through real clients (ffprobe, PyAV) on real sockets.

The simulated camera runs as a subprocess (`python -m camsim tapo`), as tests of the integration
use it. GOP is 1 s so that waiting for a keyframe stays short.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import struct
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import av
import numpy as np
import pytest
from av.container import InputContainer
from PIL import Image

from camsim import rtsp, timestamp
from camsim.device import Config, TapoDevice
from camsim.rtsp import FU_A, REALM, h264_payloads, parse_auth_params
from camsim.video import Scene, open_encoder, split_annexb
from tests.helpers.camsim import Sim, running_sim

pytestmark = pytest.mark.usefixtures("socket_enabled")

GOP_MS = 1000
FPS = 15
FRAME_MS = 1000 // FPS + 1
DEADLINE = 15.0  # seconds any awaited condition may take before the test fails
USERNAME = "camuser"
PASSWORD = "campass"
PYAV_OPTIONS = {"rtsp_transport": "tcp", "timeout": "5000000"}


@pytest.fixture(scope="module")
def sim() -> Iterator[Sim]:
    with running_sim("--gop", str(GOP_MS / 1000), "--fps", str(FPS), "--size", "640x360") as running:
        yield running


# --- helpers -------------------------------------------------------------------------------------


def with_credentials(url: str, username: str = USERNAME, password: str = PASSWORD) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{username}:{password}@{parts.netloc}"))


def stream_url(sim: Sim, index: int = 0, **credentials: str) -> str:
    return with_credentials(sim.info["rtsp"][index], **credentials)


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.05)


def open_counter(sim: Sim) -> int:
    return int(sim.state()["counters"]["rtsp_sessions_open"])


def ffprobe(url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-rtsp_transport",
            "tcp",
            "-show_entries",
            "stream=codec_name,width,height",
            "-of",
            "json",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        check=False,
    )


def decoded(container: InputContainer) -> Iterator[tuple[bool, av.VideoFrame]]:
    """(keyframe, frame) for every picture, starting at the first IDR the viewer receives.

    Access units before that IDR reference pictures this viewer never got; a decoder must skip
    them, as every client of a real camera does.
    """
    stream = container.streams.video[0]
    started = False
    deadline = time.monotonic() + DEADLINE
    for packet in container.demux(stream):
        assert time.monotonic() < deadline, "stream produced no decodable picture in time"
        started = started or packet.is_keyframe
        if not started or packet.size == 0:
            continue
        for frame in stream.codec_context.decode(packet):
            yield packet.is_keyframe, frame


def keyframe_times(frames: Iterator[tuple[bool, av.VideoFrame]]) -> Iterator[tuple[bool, int]]:
    for keyframe, frame in frames:
        yield keyframe, timestamp.read(frame)


def on_gop_grid(millis: int) -> bool:
    """Whether `millis` is the first frame of a GOP anchored to the wall clock."""
    return millis % GOP_MS < FRAME_MS


def stream_ended(container: InputContainer) -> bool:
    deadline = time.monotonic() + DEADLINE
    try:
        for _ in container.demux(container.streams.video[0]):
            if time.monotonic() > deadline:
                return False
    except av.error.FFmpegError, OSError:
        pass
    return True


def try_open(url: str) -> InputContainer | None:
    try:
        return av.open(url, options=PYAV_OPTIONS)
    except av.error.FFmpegError, OSError:
        return None


def open_when_back(url: str) -> InputContainer:
    deadline = time.monotonic() + DEADLINE
    while (container := try_open(url)) is None:
        assert time.monotonic() < deadline, "RTSP did not come back"
        time.sleep(0.05)
    return container


def jpeg(frame: np.ndarray[Any, Any], quality: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


# --- timestamp: unit tests, no sockets -----------------------------------------------------------


@pytest.mark.parametrize(("width", "height"), [(640, 360), (320, 180), (1920, 1080)])
def test_timestamp_round_trips_through_every_input_type(width: int, height: int) -> None:
    rng = np.random.default_rng(width)
    picture = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    millis = 1_790_000_123_456
    timestamp.draw(picture, millis)

    assert timestamp.read(picture) == millis
    assert timestamp.read(picture[..., 1]) == millis
    assert timestamp.read(Image.fromarray(picture)) == millis
    assert timestamp.read(av.VideoFrame.from_ndarray(picture, format="rgb24")) == millis
    assert timestamp.read(jpeg(picture, quality=40)) == millis


def test_timestamp_survives_h264_at_both_stream_sizes() -> None:
    for width, height in [(640, 360), (320, 180)]:
        encoder = open_encoder(width, height, FPS)
        scene = Scene(width, height)
        frame = scene.frame(7, 1_790_000_000_066)
        frame.pts = 0
        packets = [*encoder.encode(frame), *encoder.encode(None)]
        decoder = av.CodecContext.create("h264", "r")
        pictures = [picture for packet in packets for picture in decoder.decode(packet)]
        assert len(pictures) == 1
        decoded_rgb = pictures[0].to_ndarray(format="rgb24")
        assert timestamp.read(pictures[0]) == 1_790_000_000_066
        assert timestamp.read(jpeg(decoded_rgb, quality=50)) == 1_790_000_000_066


def test_timestamp_read_rejects_pictures_without_one() -> None:
    noise = np.random.default_rng(1).integers(0, 256, (360, 640), dtype=np.uint8)
    with pytest.raises(ValueError, match="timestamp"):
        timestamp.read(noise)
    with pytest.raises(ValueError, match="timestamp"):
        timestamp.read(np.full((360, 640), 128, dtype=np.uint8))

    corrupted = np.zeros((360, 640), dtype=np.uint8)
    timestamp.draw(corrupted, 1_790_000_000_000)
    block = 640 // timestamp.BLOCKS
    corrupted[:10, 20 * block + 2 : 21 * block - 2] ^= 255  # flip one data bit
    with pytest.raises(ValueError, match="checksum"):
        timestamp.read(corrupted)


# --- RTP packetization: unit test, no sockets ----------------------------------------------------


def test_large_nal_units_are_split_into_fu_a_fragments_that_reassemble() -> None:
    small = bytes([0x67]) + bytes(range(40))
    large = bytes([0x65]) + bytes(i % 251 for i in range(5000))

    payloads = list(h264_payloads((small, large), max_size=1400))

    assert payloads[0] == small
    fragments = payloads[1:]
    assert all(len(fragment) <= 1400 for fragment in fragments)
    assert all(fragment[0] == (0x65 & 0xE0) | FU_A for fragment in fragments)
    assert [fragment[1] & 0xC0 for fragment in fragments] == [0x80] + [0] * (len(fragments) - 2) + [0x40]
    assert (
        bytes([fragments[0][0] & 0xE0 | fragments[0][1] & 0x1F])
        + b"".join(fragment[2:] for fragment in fragments)
        == large
    )
    assert split_annexb(b"\x00\x00\x00\x01" + small + b"\x00\x00\x01" + large) == [small, large]


# --- against the running camera ------------------------------------------------------------------


@pytest.mark.parametrize(("index", "size"), [(0, (640, 360)), (1, (320, 180))])
def test_ffprobe_sees_h264_at_the_stream_size(sim: Sim, index: int, size: tuple[int, int]) -> None:
    result = ffprobe(stream_url(sim, index))

    assert result.returncode == 0, result.stderr
    (stream,) = json.loads(result.stdout)["streams"]
    assert (stream["codec_name"], stream["width"], stream["height"]) == ("h264", *size)


def test_wrong_password_is_refused_with_401(sim: Sim) -> None:
    result = ffprobe(stream_url(sim, password="wrong"))

    assert result.returncode != 0
    assert "401" in result.stderr


def test_pyav_decodes_frames_stamped_with_the_current_time(sim: Sim) -> None:
    with av.open(stream_url(sim, 1), options=PYAV_OPTIONS) as container:
        _keyframe, frame = next(decoded(container))
        received = time.time() * 1000

    stamped = timestamp.read(frame)
    assert received - 5000 < stamped <= received
    assert timestamp.read(jpeg(frame.to_ndarray(format="rgb24"), quality=75)) == stamped


def test_session_counters_follow_viewers(sim: Sim) -> None:
    wait_until(lambda: open_counter(sim) == 0, "no session is open")
    total_before = sim.state()["counters"]["rtsp_sessions_total"]

    with av.open(stream_url(sim), options=PYAV_OPTIONS) as container:
        next(decoded(container))
        counters = sim.state()["counters"]
        assert counters["rtsp_sessions_open"] == 1
        assert counters["rtsp_sessions_total"] == total_before + 1

    wait_until(lambda: open_counter(sim) == 0, "the closed viewer's session is gone")
    assert sim.state()["counters"]["rtsp_sessions_total"] == total_before + 1


def test_late_viewer_shares_the_encoder_and_waits_for_the_next_gop(sim: Sim) -> None:
    url = stream_url(sim)
    with av.open(url, options=PYAV_OPTIONS) as first:
        first_times = keyframe_times(decoded(first))
        # Join in the middle of a GOP, well away from the next keyframe.
        next(millis for keyframe, millis in first_times if not keyframe and millis % GOP_MS >= 300)

        with av.open(url, options=PYAV_OPTIONS) as second:
            assert open_counter(sim) == 2
            second_keyframe = next(millis for keyframe, millis in keyframe_times(decoded(second)) if keyframe)
            first_keyframes = []
            for keyframe, millis in first_times:
                if keyframe:
                    first_keyframes.append(millis)
                if millis >= second_keyframe:
                    break

    # The late viewer's first IDR is the shared encoder's next one on the wall-clock grid: no
    # keyframe was made for it, and the first viewer saw no extra one either.
    assert on_gop_grid(second_keyframe), second_keyframe
    assert second_keyframe in first_keyframes
    assert all(on_gop_grid(millis) for millis in first_keyframes), first_keyframes


@pytest.mark.parametrize("fault", ["rtsp_drop", "offline"])
def test_fault_ends_open_session_and_clearing_it_lets_viewers_back(sim: Sim, fault: str) -> None:
    url = stream_url(sim, 1)
    try:
        with av.open(url, options=PYAV_OPTIONS) as viewer:
            next(decoded(viewer))
            sim.inject(**{fault: True})
            assert stream_ended(viewer)
        wait_until(lambda: open_counter(sim) == 0, "the dropped session is closed")
        assert try_open(url) is None
    finally:
        sim.inject()

    with open_when_back(url) as container:
        assert next(decoded(container))


# --- lifecycle in-process: a hand-rolled RTSP exchange, then stop() must leave nothing behind -----


async def rtsp_exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: str
) -> tuple[int, dict[str, str]]:
    writer.write(request.encode())
    head = (await reader.readuntil(b"\r\n\r\n")).decode()
    status_line, *lines = head.strip().split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    await reader.readexactly(int(headers.get("content-length", "0")))
    return int(status_line.split()[1]), headers


def authorization(nonce: str, method: str, uri: str) -> str:
    """RFC 2617 Digest credentials without qop, as ffmpeg computes them."""

    def md5(text: str) -> str:
        return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()

    response = md5(f"{md5(f'{USERNAME}:{REALM}:{PASSWORD}')}:{nonce}:{md5(f'{method}:{uri}')}")
    return (
        f'Digest username="{USERNAME}", realm="{REALM}", nonce="{nonce}", uri="{uri}", response="{response}"'
    )


def encoder_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name.startswith("camsim-encoder")]


async def test_stop_ends_every_session_task_and_encoder_thread() -> None:
    device = TapoDevice(Config(width=160, height=90, gop=1.0))
    server = await rtsp.start(device, "127.0.0.1", 0)
    url = f"rtsp://127.0.0.1:{server.port}/stream1"
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        status, headers = await rtsp_exchange(reader, writer, f"DESCRIBE {url} RTSP/1.0\r\nCSeq: 1\r\n\r\n")
        assert status == 401
        nonce = parse_auth_params(headers["www-authenticate"])["nonce"]
        track = f"{url}/track1"
        setup = f"SETUP {track} RTSP/1.0\r\nAuthorization: {authorization(nonce, 'SETUP', track)}\r\n"
        status, _ = await rtsp_exchange(
            reader, writer, f"{setup}CSeq: 2\r\nTransport: RTP/AVP;unicast\r\n\r\n"
        )
        assert status == 461  # UDP refused: the client falls back to TCP
        tcp = "Transport: RTP/AVP/TCP;unicast;interleaved=0-1"
        status, headers = await rtsp_exchange(reader, writer, f"{setup}CSeq: 3\r\n{tcp}\r\n\r\n")
        assert status == 200
        session = headers["session"].split(";")[0]
        play = f"PLAY {url} RTSP/1.0\r\nAuthorization: {authorization(nonce, 'PLAY', url)}\r\n"
        status, _ = await rtsp_exchange(reader, writer, f"{play}CSeq: 4\r\nSession: {session}\r\n\r\n")
        assert status == 200
        channel, length = struct.unpack("!xBH", await reader.readexactly(4))
        rtp = await reader.readexactly(length)
        assert (channel, rtp[0] >> 6, rtp[1] & 0x7F) == (0, 2, 96)  # RTP version 2, payload type 96
        assert device.counters.rtsp_sessions_open == 1
        assert len(encoder_threads()) == 1
    finally:
        await server.stop()
        await reader.read()  # the server closed the connection: everything up to EOF
        writer.close()
        await writer.wait_closed()

    assert device.counters.rtsp_sessions_open == 0
    assert encoder_threads() == []
