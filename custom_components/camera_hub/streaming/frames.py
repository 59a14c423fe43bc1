"""One upstream per camera: a frame hub decodes the stream once and fans JPEG frames out.

Why PyAV in a worker thread rather than an ffmpeg process (HA's `CameraMjpeg`)?
Measured on this project's machine (bench/README.md): an ffmpeg process must transcode every frame
to MJPEG all the time, ~4.4 % of a core at 640x360, whether anyone looks or not, and HA's helpers
start one per viewer. In-process, the hub *decodes* every frame (H.264 needs that) but *encodes* a
JPEG only when someone needs one: once per frame while MJPEG viewers watch, shared by all of them,
and once per request for snapshots (libturbojpeg straight from the decoder's YUV planes, ~1–3 ms).
PyAV and libturbojpeg release the GIL while they work, so HA's event loop is not held up.

Life cycle: the hub starts with its first consumer, lingers `linger` seconds after the last one
leaves (so a burst of snapshots or a page reload reuses the warm stream), and `keep_warm` keeps it
running for cameras a user watches often. Opening uses a 1 µs `analyzeduration` and a small
`probesize`, so the first frame arrives with the next keyframe instead of after an extra GOP of
probing. When the upstream drops, the worker reconnects with backoff; consumers see a pause, not
an error. Stopping joins the worker thread: nothing outlives the hub.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import av
from turbojpeg import TJSAMP_420, TurboJPEG

_LOGGER = logging.getLogger(__name__)

# Read timeout doubles as the longest a stop waits for a stalled upstream.
_OPEN_OPTIONS = {
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
class Frame:
    jpeg: bytes
    taken: float  # time.monotonic() when decoded


class _Decoded:
    """The newest decoded frame and its JPEG, encoded at most once."""

    def __init__(self, frame: av.VideoFrame, taken: float) -> None:
        self.frame = frame
        self.taken = taken
        self._jpeg: bytes | None = None
        self._lock = threading.Lock()

    def jpeg(self) -> Frame:
        with self._lock:
            if self._jpeg is None:
                self._jpeg = encode_jpeg(self.frame)
            return Frame(self._jpeg, self.taken)


class FrameHub:
    """Shares one camera stream among any number of consumers (see module docstring)."""

    def __init__(
        self,
        url: Callable[[], Coroutine[Any, Any, str]],
        *,
        linger: float = 30.0,
        keep_warm: bool = False,
        on_upstream_error: Callable[[], None] | None = None,
        name: str = "camera",
    ) -> None:
        self._url = url
        self.linger = linger
        self.keep_warm = keep_warm
        self._on_upstream_error = on_upstream_error
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()  # the current worker's; each worker gets its own
        self._joins: set[asyncio.Future[None]] = set()  # workers stopped by the linger timer
        self._consumers = 0
        self._streams: set[asyncio.Queue[Frame]] = set()
        self._latest: _Decoded | None = None
        self._new_frame = asyncio.Event()
        self._linger_handle: asyncio.TimerHandle | None = None
        self.upstream_sessions = 0

    # --- consumers ------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None

    def latest(self, max_age: float | None = None) -> _Decoded | None:
        latest = self._latest
        if latest is None or (max_age is not None and time.monotonic() - latest.taken > max_age):
            return None
        return latest

    @contextlib.asynccontextmanager
    async def consumer(self) -> AsyncIterator[FrameHub]:
        """Hold the hub open while the block runs."""
        await self._acquire()
        try:
            yield self
        finally:
            self._release()

    async def snapshot(self, max_age: float, wait: float = 15.0) -> Frame | None:
        """A JPEG no older than `max_age`; waits for the stream's next frame when there is none."""
        async with self.consumer():
            decoded = self.latest(max_age)
            if decoded is None:
                decoded = await self._next_decoded(wait)
            if decoded is None:
                return None
            assert self._loop is not None
            return await self._loop.run_in_executor(None, decoded.jpeg)

    async def frames(self) -> AsyncIterator[Frame]:
        """Every frame as JPEG, starting with the newest one; a slow reader skips frames."""
        queue: asyncio.Queue[Frame] = asyncio.Queue(maxsize=1)
        async with self.consumer():
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
        """Keep-warm cameras: start now and run until `async_stop`."""
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
            url = self._url_or_none()
            # stopped while the URL was looked up: do not open a session
            if url is not None and not stop.is_set() and self._stream_once(url, stop):
                backoff = _BACKOFF_START  # the stream worked for a while: reconnect promptly
            if stop.wait(backoff):
                return
            backoff = min(backoff * 2, _BACKOFF_MAX)

    def _url_or_none(self) -> str | None:
        """Ask the loop for the (cached) stream URL: after a failed open it may be a new one."""
        assert self._loop is not None
        try:
            return asyncio.run_coroutine_threadsafe(self._url(), self._loop).result(timeout=_TIMEOUTS[0])
        except Exception:  # the worker must outlive any failure of the URL lookup
            _LOGGER.debug("%s: no stream URL yet", self._name, exc_info=True)
            return None

    def _stream_once(self, url: str, stop: threading.Event) -> bool:
        """Read one upstream session until it ends; True if it delivered frames.

        Only a session that cannot be opened invalidates the stream URL (wrong account, moved
        stream): a session that ends after working says nothing about the URL.
        """
        try:
            container = av.open(url, options=_OPEN_OPTIONS, timeout=_TIMEOUTS)
        except (av.error.FFmpegError, OSError, TimeoutError) as err:
            _LOGGER.debug("%s: cannot open the stream (%s)", self._name, type(err).__name__)
            if self._on_upstream_error is not None and self._loop is not None:
                self._loop.call_soon_threadsafe(self._on_upstream_error)
            return False
        delivered = 0
        try:
            with container:
                self.upstream_sessions += 1
                stream = container.streams.video[0]
                # Slice threads, not frame threads: frame threading holds back one frame per thread.
                stream.thread_type = "SLICE"
                for packet in container.demux(stream):
                    if stop.is_set():
                        break
                    for frame in packet.decode():
                        self._publish(_Decoded(frame, time.monotonic()))
                        delivered += 1
        except (av.error.FFmpegError, OSError, TimeoutError) as err:
            _LOGGER.debug("%s: upstream ended (%s)", self._name, type(err).__name__)
        return delivered > 0

    def _publish(self, decoded: _Decoded) -> None:
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
