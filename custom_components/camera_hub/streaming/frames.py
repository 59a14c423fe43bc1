"""One upstream per camera: a frame hub reads the stream once and shares it, as packets and as pictures.

Two kinds of consumers share the one upstream session:
- **packet consumers** (WebRTC viewers) get the camera's own encoded packets, untouched: no decode,
  no encode. The hub keeps the packets since the last keyframe (a GOP cache), so a new viewer gets a
  decodable picture at once instead of waiting up to a GOP for the next keyframe. Memory: one GOP of
  the camera's bitstream per running hub (2 s at 2 Mbit/s ≈ 0.5 MB), capped at `GOP_CACHE_MAX_BYTES`.
- **frame consumers** (snapshots, MJPEG viewers) get JPEG pictures. The hub decodes only while one of
  them needs pictures (and for `linger` seconds after, so a burst of snapshots stays instant); when
  decoding (re)starts it decodes the cached GOP first, so the first picture is the newest one. An
  MJPEG source (USB webcams) is passed through: the device's own JPEGs, no decode, no encode.

Why PyAV in a worker thread rather than an ffmpeg process (HA's `CameraMjpeg`)? Measured on this
project's machine (bench/README.md): an ffmpeg process transcodes every frame all the time and HA's
helpers start one per viewer. In-process, JPEGs are encoded (libturbojpeg straight from the decoder's
YUV planes, ~1–3 ms) once per frame while MJPEG viewers watch, shared by all, and once per request for
snapshots. PyAV and libturbojpeg release the GIL while they work, so HA's event loop is not held up.

Life cycle: the hub starts with its first consumer, lingers `linger` seconds after the last one
leaves (so a burst of snapshots or a page reload reuses the warm stream), and `keep_warm` keeps the
upstream open for cameras a user watches often. Opening uses a 1 µs `analyzeduration` and a small
`probesize`, so the first packet arrives with the next keyframe instead of after an extra GOP of
probing. When the upstream drops, the worker reconnects with backoff; consumers see a pause, not
an error. Stopping joins the worker thread: nothing outlives the hub.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

import av
from turbojpeg import TJSAMP_420, TurboJPEG

_LOGGER = logging.getLogger(__name__)

# Read timeout doubles as the longest a stop waits for a stalled upstream.
_NETWORK_OPTIONS = {
    "rtsp_transport": "tcp",
    # 1 µs, not 0: FFmpeg reads 0 as "unset" and then probes for its default 5 s (up to `probesize`).
    "analyzeduration": "1",
    "probesize": "4096",
    "fflags": "nobuffer",
    "flags": "low_delay",
}
_TIMEOUTS = (10.0, 3.0)
_BACKOFF_START = 0.5
_BACKOFF_MAX = 30.0
JPEG_QUALITY = 80
# A camera with a very long GOP (smart coding: up to 10 s) would otherwise hold megabytes per stream;
# past this a new viewer waits for the next keyframe instead.
GOP_CACHE_MAX_BYTES = 4 * 1024 * 1024
# A packet consumer this far behind (a stalled browser) skips to the next keyframe.
PACKET_QUEUE_MAX = 600
_H264_SPS = 7

_turbojpeg: TurboJPEG | None = None


def encode_jpeg(frame: av.VideoFrame) -> bytes:
    """JPEG of a decoded frame: libturbojpeg straight from YUV 4:2:0, or PyAV's encoder."""
    global _turbojpeg  # one libturbojpeg handle per process, created lazily
    if frame.format.name != "yuv420p":
        frame = frame.reformat(format="yuv420p")
    if _turbojpeg is None:
        _turbojpeg = TurboJPEG()
    planes = frame.to_ndarray()
    return bytes(
        _turbojpeg.encode_from_yuv(
            planes.tobytes(), frame.height, frame.width, quality=JPEG_QUALITY, jpeg_subsample=TJSAMP_420
        )
    )


@dataclass(frozen=True, slots=True)
class Upstream:
    """Where the hub reads from, as PyAV's `av.open` takes it.

    An RTSP URL needs only `target`; a capture device names its demuxer (`format="v4l2"`) and the
    device's options (`input_format`, `video_size`, `framerate`). `target` may also be an opened
    file-like object (a FIFO read with a timeout, streaming/capture.py): the hub closes it when
    the session ends.
    """

    target: str | io.IOBase
    format: str | None = None
    options: Mapping[str, str] = field(default_factory=dict)

    def open_options(self) -> dict[str, str]:
        defaults = _NETWORK_OPTIONS if isinstance(self.target, str) and "://" in self.target else {}
        return {**defaults, **self.options}

    def close(self) -> None:
        if not isinstance(self.target, str):
            self.target.close()


@dataclass(frozen=True, slots=True)
class Frame:
    jpeg: bytes
    taken: float  # time.monotonic() when the picture arrived from the camera


@dataclass(frozen=True, slots=True)
class EncodedPacket:
    """One access unit as the camera sent it (H.264: Annex B, parameter sets before keyframes)."""

    data: bytes
    keyframe: bool
    arrived: float  # time.monotonic()
    seq: int


class _Decoded:
    """The newest picture and its JPEG, encoded at most once."""

    def __init__(self, frame: av.VideoFrame | None, taken: float, jpeg: bytes | None = None) -> None:
        self.frame = frame
        self.taken = taken
        self._jpeg = jpeg
        self._lock = threading.Lock()

    def jpeg(self) -> Frame:
        with self._lock:
            if self._jpeg is None:
                assert self.frame is not None
                self._jpeg = encode_jpeg(self.frame)
            return Frame(self._jpeg, self.taken)


class PacketSubscription:
    """A packet consumer's queue: the cached GOP first, then live packets, in order.

    Filled on the event loop; a consumer that falls `PACKET_QUEUE_MAX` packets behind loses what
    it has queued and resumes at the next keyframe, so it never decodes a broken chain.
    """

    def __init__(self, replay: list[EncodedPacket]) -> None:
        self._queue: deque[EncodedPacket] = deque(replay)
        self.replay_left = len(replay)
        self._last_seq = replay[-1].seq if replay else -1
        self._waiting_for_keyframe = not replay
        self._ready = asyncio.Event()
        if replay:
            self._ready.set()
        self._deliver: Callable[[EncodedPacket], None] | None = None
        self.dropped = 0

    def push(self, packet: EncodedPacket) -> None:
        if packet.seq <= self._last_seq:  # already replayed from the cache
            return
        self._last_seq = packet.seq
        if self._waiting_for_keyframe:
            if not packet.keyframe:
                self.dropped += 1
                return
            self._waiting_for_keyframe = False
        if self._deliver is not None:
            self._deliver(packet)
            return
        if len(self._queue) >= PACKET_QUEUE_MAX:
            self.dropped += len(self._queue)
            self._queue.clear()
            self.replay_left = 0
            if not packet.keyframe:
                self._waiting_for_keyframe = True
                self.dropped += 1
                return
        self._queue.append(packet)
        self._ready.set()

    def hand_over(self, deliver: Callable[[EncodedPacket], None] | None) -> bool:
        """From now on each packet goes to `deliver` in the callback that delivers it, unqueued.

        Refused (False) while packets are queued, so none overtakes them; `None` stops it.
        """
        if deliver is not None and self._queue:
            return False
        self._deliver = deliver
        return True

    @property
    def handed_over(self) -> bool:
        return self._deliver is not None

    def resync(self) -> None:
        """The upstream session ended: what follows is a new chain, decodable from its first keyframe.

        Packets already queued stay (they end the old chain whole); a new session that starts
        between keyframes would otherwise hand the viewer frames that refer to pictures it never had.
        """
        self._waiting_for_keyframe = True

    async def get(self) -> tuple[EncodedPacket, bool]:
        """The next packet, and whether it is a replayed one from the cache."""
        while not self._queue:
            self._ready.clear()
            await self._ready.wait()
        replayed = self.replay_left > 0
        if replayed:
            self.replay_left -= 1
        return self._queue.popleft(), replayed


class FrameHub:
    """Shares one camera stream among any number of consumers (see module docstring)."""

    def __init__(
        self,
        source: Callable[[], Coroutine[Any, Any, str | Upstream]],
        *,
        linger: float = 30.0,
        keep_warm: bool = False,
        on_upstream_error: Callable[[], None] | None = None,
        name: str = "camera",
        backoff_max: float = _BACKOFF_MAX,
    ) -> None:
        self._source = source
        # A local device costs nothing to retry: its hub caps the wait so a replug is seen quickly.
        self._backoff_max = backoff_max
        self.linger = linger
        self.keep_warm = keep_warm
        self._on_upstream_error = on_upstream_error
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()  # the current worker's; each worker gets its own
        self._joins: set[asyncio.Future[None]] = set()  # workers stopped by the linger timer
        self._consumers = 0
        self._frame_consumers = 0
        self._decode_until = 0.0  # monotonic: decoding continues this long after the last frame consumer
        self._streams: set[asyncio.Queue[Frame]] = set()
        self._latest: _Decoded | None = None
        self._new_frame = asyncio.Event()
        self._linger_handle: asyncio.TimerHandle | None = None
        # Shared with the worker thread under _gop_lock: the GOP cache and who gets packets.
        self._gop_lock = threading.Lock()
        self._gop: list[EncodedPacket] = []
        self._gop_bytes = 0
        self._subscriptions: set[PacketSubscription] = set()
        self._seq = itertools.count()
        self.upstream_sessions = 0
        self.codec: str | None = None  # of the current session: "h264", "hevc", "mjpeg"…
        self.decoded_frames = 0
        self.received_bytes = 0  # the camera's bitstream, all sessions (benchmarks compare bitrates)

    # --- consumers ------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None

    @property
    def decoding(self) -> bool:
        """True while someone needs pictures (or did within the linger)."""
        return self._frame_consumers > 0 or time.monotonic() < self._decode_until

    @property
    def gop_cache_bytes(self) -> int:
        return self._gop_bytes

    def latest(self, max_age: float | None = None) -> _Decoded | None:
        latest = self._latest
        if latest is None or (max_age is not None and time.monotonic() - latest.taken > max_age):
            return None
        return latest

    @contextlib.asynccontextmanager
    async def consumer(self) -> AsyncIterator[FrameHub]:
        """Hold the hub open while the block runs (no pictures needed)."""
        await self._acquire()
        try:
            yield self
        finally:
            self._release()

    @contextlib.asynccontextmanager
    async def _picture_consumer(self) -> AsyncIterator[FrameHub]:
        self._frame_consumers += 1
        try:
            async with self.consumer():
                yield self
        finally:
            self._frame_consumers -= 1
            if self._frame_consumers == 0:
                self._decode_until = time.monotonic() + self.linger

    @contextlib.asynccontextmanager
    async def packets(self, *, replay: bool = True) -> AsyncIterator[PacketSubscription]:
        """The camera's encoded packets for as long as the block runs: the cached GOP, then live.

        `replay=False` starts at the next keyframe instead (what a viewer of a hub without a GOP
        cache gets; the benchmarks' baseline).
        """
        async with self.consumer():
            with self._gop_lock:
                subscription = PacketSubscription(list(self._gop) if replay else [])
                self._subscriptions.add(subscription)
            try:
                yield subscription
            finally:
                with self._gop_lock:
                    self._subscriptions.discard(subscription)

    async def snapshot(self, max_age: float, wait: float = 15.0) -> Frame | None:
        """A JPEG no older than `max_age`; waits for the stream's next picture when there is none."""
        async with self._picture_consumer():
            decoded = self.latest(max_age)
            if decoded is None:
                decoded = await self._next_decoded(wait)
            if decoded is None:
                return None
            assert self._loop is not None
            return await self._loop.run_in_executor(None, decoded.jpeg)

    async def frames(self) -> AsyncIterator[Frame]:
        """Every picture as JPEG, starting with the newest one; a slow reader skips frames."""
        queue: asyncio.Queue[Frame] = asyncio.Queue(maxsize=1)
        async with self._picture_consumer():
            self._streams.add(queue)
            try:
                last_taken = -1.0
                if (decoded := self.latest()) is not None:
                    assert self._loop is not None
                    first = await self._loop.run_in_executor(None, decoded.jpeg)
                    last_taken = first.taken
                    yield first
                while True:
                    frame = await queue.get()
                    if frame.taken > last_taken:  # the newest frame may also be waiting in the queue
                        last_taken = frame.taken
                        yield frame
            finally:
                self._streams.discard(queue)

    async def _next_decoded(self, wait: float) -> _Decoded | None:
        self._new_frame.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):
                await self._new_frame.wait()
        return self._latest

    # --- life cycle -----------------------------------------------------------------------

    async def _acquire(self) -> None:
        self._consumers += 1
        if self._linger_handle is not None:
            self._linger_handle.cancel()
            self._linger_handle = None
        if self._thread is None:
            self._start()

    def _release(self) -> None:
        self._consumers -= 1
        idle = self._consumers == 0 and not self.keep_warm
        if idle and self._loop is not None and self._thread is not None:  # nothing to linger after a stop
            self._linger_handle = self._loop.call_later(self.linger, self._stop_if_idle)

    def _stop_if_idle(self) -> None:
        self._linger_handle = None
        if self._consumers == 0 and not self.keep_warm:
            self._loop_stop_thread()

    async def async_start_warm(self) -> None:
        """Keep-warm cameras: open the upstream now and keep it until `async_stop`."""
        self.keep_warm = True
        if self._thread is None:
            self._start()

    def _start(self) -> None:
        self._loop = asyncio.get_running_loop()
        # A new event, never a cleared one: a worker stopped by the linger timer may still be
        # finishing its last read, and clearing its event would leave it running unowned.
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(self._stop,), name=f"camera_hub frames {self._name}", daemon=True
        )
        self._thread.start()

    def _loop_stop_thread(self) -> None:
        """Signal the worker; it exits within one read timeout. async_stop waits for the join."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and self._loop is not None:
            join = self._loop.run_in_executor(None, thread.join)
            self._joins.add(join)
            join.add_done_callback(self._joins.discard)
        self._latest = None
        self._clear_gop()

    async def async_stop(self) -> None:
        """Stop now, whatever the consumers, and wait until the worker has exited."""
        self.keep_warm = False
        if self._linger_handle is not None:
            self._linger_handle.cancel()
            self._linger_handle = None
        self._loop_stop_thread()
        if self._joins:  # this worker and any the linger timer stopped: nothing outlives the hub
            await asyncio.wait(set(self._joins))

    # --- worker thread --------------------------------------------------------------------

    def _run(self, stop: threading.Event) -> None:
        backoff = _BACKOFF_START
        while not stop.is_set():
            upstream = self._upstream_or_none()
            if upstream is not None and stop.is_set():
                upstream.close()  # stopped while the source was looked up: do not open a session
            elif upstream is not None and self._stream_once(upstream, stop):
                backoff = _BACKOFF_START  # the stream worked for a while: reconnect promptly
            if stop.wait(backoff):
                return
            backoff = min(backoff * 2, self._backoff_max)

    def _upstream_or_none(self) -> Upstream | None:
        """Ask the loop for the (cached) source: after a failed open it may be a new one."""
        assert self._loop is not None
        try:
            source = asyncio.run_coroutine_threadsafe(self._source(), self._loop).result(timeout=_TIMEOUTS[0])
        except Exception:  # the worker must outlive any failure of the source lookup
            _LOGGER.debug("%s: no stream source yet", self._name, exc_info=True)
            return None
        return Upstream(source) if isinstance(source, str) else source

    def _stream_once(self, upstream: Upstream, stop: threading.Event) -> bool:
        """Read one upstream session until it ends; True if it delivered packets.

        Only a session that cannot be opened invalidates the source (wrong account, moved stream):
        a session that ends after working says nothing about it.
        """
        try:
            container = av.open(
                upstream.target, format=upstream.format, options=upstream.open_options(), timeout=_TIMEOUTS
            )
        except (av.error.FFmpegError, OSError, TimeoutError) as err:
            _LOGGER.debug("%s: cannot open the stream (%s)", self._name, type(err).__name__)
            upstream.close()
            if self._on_upstream_error is not None and self._loop is not None:
                self._loop.call_soon_threadsafe(self._on_upstream_error)
            return False
        session = _Session(self, container, stop)
        try:
            with container:
                self.upstream_sessions += 1
                session.run()
        except (av.error.FFmpegError, OSError, TimeoutError) as err:
            _LOGGER.debug("%s: upstream ended (%s)", self._name, type(err).__name__)
        finally:
            upstream.close()
            self._clear_gop()
            if self._loop is not None:  # after the session's last packet: the loop runs callbacks in order
                self._loop.call_soon_threadsafe(self._resync_subscriptions)
        return session.delivered > 0

    # --- worker side: called by the worker thread's _Session ------------------------------

    def add_packet(self, data: bytes, keyframe: bool, arrived: float) -> EncodedPacket:
        """Cache and fan out one packet; the GOP cache restarts at each keyframe."""
        with self._gop_lock:
            packet = EncodedPacket(data, keyframe, arrived, next(self._seq))
            if keyframe:
                self._gop = [packet]
                self._gop_bytes = len(data)
            elif self._gop and self._gop_bytes + len(data) <= GOP_CACHE_MAX_BYTES:
                self._gop.append(packet)
                self._gop_bytes += len(data)
            else:  # no keyframe yet, or the GOP outgrew the cache: new viewers wait for a keyframe
                self._gop = []
                self._gop_bytes = 0
            deliver = bool(self._subscriptions)
        if deliver and self._loop is not None:
            self._loop.call_soon_threadsafe(self._fan_out_packet, packet)
        return packet

    def cached_gop(self) -> list[EncodedPacket]:
        with self._gop_lock:
            return list(self._gop)

    def _clear_gop(self) -> None:
        with self._gop_lock:
            self._gop = []
            self._gop_bytes = 0

    def _resync_subscriptions(self) -> None:
        for subscription in list(self._subscriptions):
            subscription.resync()

    def _fan_out_packet(self, packet: EncodedPacket) -> None:
        for subscription in list(self._subscriptions):
            subscription.push(packet)

    def publish(self, decoded: _Decoded) -> None:
        self.decoded_frames += 1
        self._latest = decoded
        loop = self._loop
        if loop is None:
            return
        # Encode in this thread only when someone streams; snapshots encode on demand.
        frame = decoded.jpeg() if self._streams else None
        loop.call_soon_threadsafe(self._fan_out, frame)

    def _fan_out(self, frame: Frame | None) -> None:
        self._new_frame.set()
        if frame is None:
            return
        for queue in list(self._streams):
            if queue.full():
                queue.get_nowait()  # a slow consumer drops its stale frame, never slows the rest
            queue.put_nowait(frame)


class _Session:
    """One upstream session in the worker thread: demux, cache and fan out packets, decode on demand."""

    def __init__(self, hub: FrameHub, container: Any, stop: threading.Event) -> None:
        self._hub = hub
        self._container = container
        self._stop = stop
        self._stream = container.streams.video[0]
        self.codec: str = self._stream.codec_context.name
        hub.codec = self.codec
        self._parameter_sets = _annex_b_parameter_sets(self.codec, self._stream.codec_context.extradata)
        self._decoder: Any = None
        self._decoder_needs_keyframe = False
        self.delivered = 0

    def run(self) -> None:
        for packet in self._container.demux(self._stream):
            if self._stop.is_set():
                return
            if packet.size == 0:  # demuxer flush packet
                continue
            arrived = time.monotonic()
            self.delivered += 1
            self._hub.received_bytes += packet.size
            if self.codec == "mjpeg":  # every packet is a whole JPEG: pass it through untouched
                self._hub.publish(_Decoded(None, arrived, jpeg=bytes(packet)))
                continue
            encoded = self._hub.add_packet(self._with_parameter_sets(packet), packet.is_keyframe, arrived)
            self._decode_on_demand(encoded)

    def _with_parameter_sets(self, packet: Any) -> bytes:
        """Keyframes carry SPS/PPS in-band, so a viewer joining there can decode (some cameras send
        them only once, in the RTSP session description)."""
        data = bytes(packet)
        if packet.is_keyframe and self._parameter_sets and not _has_h264_sps(data):
            return self._parameter_sets + data
        return data

    def _decode_on_demand(self, packet: EncodedPacket) -> None:
        if not self._hub.decoding:
            self._decoder = None
            return
        if self._decoder is None:
            # Starting (again): decode the cached GOP and show only its newest picture.
            self._decoder = av.CodecContext.create(self.codec, "r")
            self._decoder.thread_type = "SLICE"  # frame threads would hold back a frame per thread
            cached = self._hub.cached_gop()
            # Without a cached keyframe (the GOP outgrew the cache) decoding must wait for the next one.
            self._decoder_needs_keyframe = not cached
            newest = None
            for cached_packet in cached:
                newest = self._decode(cached_packet) or newest
            if newest is not None:
                self._hub.publish(newest)
            return
        if self._decoder_needs_keyframe:
            if not packet.keyframe:
                return
            self._decoder_needs_keyframe = False
        if (decoded := self._decode(packet)) is not None:
            self._hub.publish(decoded)

    def _decode(self, packet: EncodedPacket) -> _Decoded | None:
        newest = None
        try:
            for frame in self._decoder.decode(av.Packet(packet.data)):
                newest = _Decoded(frame, packet.arrived)
        except av.error.FFmpegError:
            _LOGGER.debug("undecodable packet skipped", exc_info=True)
        return newest


def _annex_b_parameter_sets(codec: str, extradata: bytes | None) -> bytes:
    """H.264 SPS/PPS from the session description, when FFmpeg gives them in Annex B form."""
    if codec != "h264" or not extradata or not extradata.startswith((b"\x00\x00\x01", b"\x00\x00\x00\x01")):
        return b""
    return bytes(extradata)


def _has_h264_sps(data: bytes) -> bool:
    """Whether an Annex B access unit contains a sequence parameter set."""
    start = 0
    while (start := data.find(b"\x00\x00\x01", start)) != -1 and start + 3 < len(data):
        if data[start + 3] & 0x1F == _H264_SPS:
            return True
        start += 3
    return False
