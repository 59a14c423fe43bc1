"""The simulated camera's H.264 encoders: one per stream, shared by every viewer, like a real camera's.

What a real Tapo camera does, and this module reproduces:

* Each stream (`stream1` HD, `stream2` SD at half width and half height) has exactly one encoder.
  Every RTSP viewer of a stream receives the same encoded access units; a second viewer costs no
  second encode.
* Keyframes (IDR, preceded in-band by SPS and PPS) come at a fixed interval, `gop` seconds, with
  `fps` frames per second and no B-frames.
* A viewer that joins mid-GOP receives access units from the current position on. It gets no
  keyframe of its own and no replay of the GOP so far (no "GOP cache"): its decoder has to wait for
  the next IDR, exactly as with a real camera. Clients that probe for a whole GOP before showing a
  picture see the delay they would see in the field.

What differs, on purpose, to keep an idle simulated camera cheap: the encoder only runs while at
least one viewer is connected. The GOP phase stays anchored to the wall clock anyway — frame `n` is
the frame captured at `n / fps` seconds since the Unix epoch, and frame `n` is a keyframe when a GOP
boundary (a multiple of `gop * fps` frames) lies between it and the previous encoded frame — so a
viewer who finds the encoder running sees keyframes at the same instants as every other viewer.
The one visible consequence: when the first viewer arrives at an idle camera, the encoder starts
and its first frame is necessarily an IDR, off the GOP grid. (A real camera would make that first
viewer wait for the next boundary instead.)

Frames show diagonal stripes drifting across the picture and, in a band along the top, the capture
time burned in by `camsim.timestamp` (the frame's nominal time `n / fps`, in epoch milliseconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

import av
import numpy as np
from av.video.frame import PictureType

from . import timestamp

_LOGGER = logging.getLogger(__name__)

# x264 settings of a low-latency camera encoder. Keyframes are forced by camsim on the wall-clock
# grid, so x264 must never place one itself (no keyint, no scene cut); repeat-headers puts SPS and
# PPS in front of every IDR, as Tapo cameras do, so a late joiner can start decoding at any IDR.
X264_OPTIONS = {
    "preset": "ultrafast",
    "tune": "zerolatency",
    "forced-idr": "1",
    "x264-params": "keyint=infinite:scenecut=0:repeat-headers=1:bframes=0",
}
NAL_IDR = 5
NAL_SPS = 7
NAL_PPS = 8
# Access units a viewer may have queued before it is considered too slow and skips to the next IDR.
VIEWER_QUEUE_FRAMES = 64
STRIPE_PERIOD = 128  # pixels per light-dark cycle of the moving pattern
STRIPE_SPEED = 4  # pixels per frame


@dataclass(frozen=True)
class AccessUnit:
    """One encoded frame: its NAL units without start codes, in decoding order."""

    index: int  # frames since the Unix epoch at the stream's frame rate
    fps: int
    nal_units: tuple[bytes, ...]
    keyframe: bool

    @property
    def millis(self) -> int:
        """Capture time in epoch milliseconds, the value burned into the picture."""
        return self.index * 1000 // self.fps


@dataclass
class Viewer:
    """One consumer of a stream's access units (one RTSP session in PLAY state)."""

    queue: asyncio.Queue[AccessUnit] = field(default_factory=lambda: asyncio.Queue(VIEWER_QUEUE_FRAMES))
    # Set when the viewer fell behind; it then skips ahead to the next IDR, as a camera drops
    # frames for a client whose TCP window is full.
    lagging: bool = False

    def offer(self, unit: AccessUnit) -> None:
        if self.lagging and not unit.keyframe:
            return
        try:
            self.queue.put_nowait(unit)
        except asyncio.QueueFull:
            self.lagging = True
        else:
            self.lagging = False


def split_annexb(data: bytes) -> list[bytes]:
    """Split an H.264 Annex B byte stream into NAL units (start codes and trailing zeros removed)."""
    # A NAL unit never ends in a zero byte (rbsp_trailing_bits), so zeros before a start code
    # belong to the next start code.
    return [unit.rstrip(b"\x00") for unit in data.split(b"\x00\x00\x01") if unit.rstrip(b"\x00")]


def sd_size(width: int, height: int) -> tuple[int, int]:
    """Size of the SD stream: half the width and height (a quarter of the pixels), kept even for 4:2:0."""
    return max(2, width // 4 * 2), max(2, height // 4 * 2)


class Scene:
    """Draws the picture of frame `n`: drifting stripes plus the burned-in capture time."""

    def __init__(self, width: int, height: int) -> None:
        self.width = width
        self.height = height
        rows = np.arange(height)[:, None]
        cols = np.arange(width + STRIPE_PERIOD)[None, :]
        phase = (cols + rows) % STRIPE_PERIOD
        # A triangle wave has no hard edge, so the moving stripes cost x264 few bits.
        self._stripes = (np.abs(phase - STRIPE_PERIOD // 2) * (400 // STRIPE_PERIOD) + 40).astype(np.uint8)
        self._yuv = np.empty((height * 3 // 2, width), dtype=np.uint8)
        self._yuv[height:] = 128  # neutral chroma: a grey picture with a black and white timestamp

    def frame(self, index: int, millis: int) -> av.VideoFrame:
        return av.VideoFrame.from_ndarray(self.yuv420(index, millis), format="yuv420p")

    def yuv420(self, index: int, millis: int) -> np.ndarray:
        """The picture as one planar yuv420p array (H * 3/2 x W), reused by the next call."""
        offset = index * STRIPE_SPEED % STRIPE_PERIOD
        luma = self._yuv[: self.height]
        np.copyto(luma, self._stripes[:, offset : offset + self.width])
        timestamp.draw(luma, millis)
        return self._yuv


def open_encoder(width: int, height: int, fps: int) -> av.video.codeccontext.VideoCodecContext:
    context = av.CodecContext.create("libx264", "w")
    assert isinstance(context, av.video.codeccontext.VideoCodecContext)
    context.width = width
    context.height = height
    context.pix_fmt = "yuv420p"
    context.time_base = Fraction(1, fps)
    context.framerate = Fraction(fps, 1)
    context.max_b_frames = 0
    # One thread: a camera's encoder is a fixed-function block; x264's thread pool would only add
    # scheduling overhead at these sizes.
    context.thread_count = 1
    context.options = dict(X264_OPTIONS)
    context.open()
    return context


@dataclass
class _Worker:
    """One run of the encoder thread, from the first viewer until the last one leaves."""

    stop: threading.Event
    finished: asyncio.Event
    thread: threading.Thread = field(init=False)


class StreamEncoder:
    """The single encoder of one stream, running in a worker thread while anyone is watching."""

    def __init__(self, name: str, width: int, height: int, fps: int, gop: float) -> None:
        self.name = name
        self.width = width
        self.height = height
        self.fps = fps
        self.gop_frames = max(1, round(gop * fps))
        self._viewers: list[Viewer] = []
        self._generation = 0
        self._worker: _Worker | None = None  # the one encoding now, if anyone is watching
        self._workers: list[_Worker] = []  # every worker that may not have ended yet
        self._parameter_sets: tuple[bytes, bytes] | None = None

    # --- what RTSP DESCRIBE needs -------------------------------------------------------------

    @property
    def parameter_sets(self) -> tuple[bytes, bytes]:
        """The stream's SPS and PPS, identical to those sent in-band before every IDR."""
        if self._parameter_sets is None:
            self._parameter_sets = self._probe_parameter_sets()
        return self._parameter_sets

    def _probe_parameter_sets(self) -> tuple[bytes, bytes]:
        # x264 writes the same SPS/PPS for the same settings, so one throwaway frame tells what the
        # live encoder will send.
        context = open_encoder(self.width, self.height, self.fps)
        frame = Scene(self.width, self.height).frame(0, 0)
        frame.pts = 0
        packets = [*context.encode(frame), *context.encode(None)]
        units = split_annexb(b"".join(bytes(packet) for packet in packets))
        sps = next(unit for unit in units if unit[0] & 0x1F == NAL_SPS)
        pps = next(unit for unit in units if unit[0] & 0x1F == NAL_PPS)
        return sps, pps

    # --- viewers --------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._worker is not None

    def subscribe(self) -> Viewer:
        """Start receiving access units from the current position; starts the encoder if idle."""
        viewer = Viewer()
        self._viewers.append(viewer)
        if self._worker is None:
            self._worker = self._start_worker(asyncio.get_running_loop())
        return viewer

    def unsubscribe(self, viewer: Viewer) -> None:
        if viewer in self._viewers:
            self._viewers.remove(viewer)
        if not self._viewers and self._worker is not None:
            # Not joined here: the worker notices within one frame interval; close() waits for it.
            self._worker.stop.set()
            self._worker = None

    async def close(self) -> None:
        """Stop the encoder and wait until every worker thread this encoder started has ended."""
        self._viewers.clear()
        self._worker = None
        workers, self._workers = self._workers, []
        for worker in workers:
            worker.stop.set()
        for worker in workers:
            await worker.finished.wait()
            worker.thread.join()

    def _start_worker(self, loop: asyncio.AbstractEventLoop) -> _Worker:
        self._generation += 1
        generation = self._generation
        self._workers = [worker for worker in self._workers if not worker.finished.is_set()]

        def publish(unit: AccessUnit) -> None:
            loop.call_soon_threadsafe(self._publish, generation, unit)

        worker = _Worker(threading.Event(), asyncio.Event())
        worker.thread = threading.Thread(
            target=self._run_worker,
            args=(worker, loop, publish),
            name=f"camsim-encoder-{self.name}",
            daemon=True,
        )
        self._workers.append(worker)
        worker.thread.start()
        return worker

    def _publish(self, generation: int, unit: AccessUnit) -> None:
        # A stopping worker may still deliver a frame after its successor started; drop it.
        if generation != self._generation:
            return
        for viewer in self._viewers:
            viewer.offer(unit)

    # --- worker thread --------------------------------------------------------------------------

    def _run_worker(
        self, worker: _Worker, loop: asyncio.AbstractEventLoop, publish: Callable[[AccessUnit], None]
    ) -> None:
        try:
            self._encode_loop(worker.stop, publish)
        except Exception:
            if not loop.is_closed():
                _LOGGER.exception("encoder of %s failed", self.name)
        finally:
            with contextlib.suppress(RuntimeError):  # the loop is already gone at interpreter exit
                loop.call_soon_threadsafe(worker.finished.set)

    def _encode_loop(self, stop: threading.Event, publish: Callable[[AccessUnit], None]) -> None:
        context = open_encoder(self.width, self.height, self.fps)
        scene = Scene(self.width, self.height)
        previous: int | None = None
        next_index = math.floor(time.time() * self.fps) + 1
        while not stop.wait(max(0.0, next_index / self.fps - time.time())):
            # After a stall, capture "now" rather than catching up on frames nobody saw.
            index = max(next_index, math.floor(time.time() * self.fps))
            keyframe = previous is None or index // self.gop_frames != previous // self.gop_frames
            unit = self._encode_frame(context, scene, index, keyframe)
            if unit.nal_units:
                publish(unit)
            previous, next_index = index, index + 1

    def _encode_frame(
        self, context: av.video.codeccontext.VideoCodecContext, scene: Scene, index: int, keyframe: bool
    ) -> AccessUnit:
        millis = index * 1000 // self.fps
        frame = scene.frame(index, millis)
        frame.pts = index
        frame.pict_type = PictureType.I if keyframe else PictureType.NONE
        data = b"".join(bytes(packet) for packet in context.encode(frame))
        units = tuple(split_annexb(data))
        is_idr = any(unit[0] & 0x1F == NAL_IDR for unit in units)
        return AccessUnit(index=index, fps=self.fps, nal_units=units, keyframe=is_idr)


@dataclass
class CameraVideo:
    """Both streams of one camera, by RTSP path."""

    streams: dict[str, StreamEncoder]

    @classmethod
    def for_size(cls, width: int, height: int, fps: int, gop: float) -> CameraVideo:
        sd_width, sd_height = sd_size(width, height)
        return cls(
            {
                "stream1": StreamEncoder("stream1", width, height, fps, gop),
                "stream2": StreamEncoder("stream2", sd_width, sd_height, fps, gop),
            }
        )

    async def close(self) -> None:
        for stream in self.streams.values():
            await stream.close()
