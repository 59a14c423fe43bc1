"""Opening a local capture device for the frame hub: a V4L2 node, or a FIFO carrying MJPEG.

A V4L2 character device goes to FFmpeg's `v4l2` demuxer with the chosen input format, size and rate.
A FIFO (camsim's simulated webcams; also any program piping MJPEG in) goes to the `mjpeg` demuxer
through `PipeReader`: FFmpeg's own file reads block in read(2), where no timeout reaches them, so a
device that opens but sends nothing would hold the hub's worker (and HA's shutdown) forever. The
reader polls with a deadline instead, and tells the device's `CaptureHealth` what it sees.
"""

from __future__ import annotations

import io
import os
import select
import stat
import time

import av

from ..vendors.base import CaptureHealth, CaptureVideo
from .frames import Upstream

# What FFmpeg's mjpeg demuxer needs to hand on the first frame at once: without them it probes
# about 2 s of frames first, and the reader then stays 2 s behind.
MJPEG_OPTIONS = {"probesize": "32", "analyzeduration": "1", "fflags": "nobuffer"}
# A device silent this long ends the session (the hub reconnects): also the longest a stop waits.
SILENCE_TIMEOUT = 5.0
_POLL_SLICE_MS = 500


class PipeReader(io.RawIOBase):
    """A non-blocking FIFO read through poll(2) with a deadline, as PyAV's custom I/O reads it."""

    def __init__(self, path: str, health: CaptureHealth, timeout: float = SILENCE_TIMEOUT) -> None:
        super().__init__()
        # O_NONBLOCK: opening never waits for a writer; poll(2) does the waiting, with a deadline.
        self._fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        self._poll = select.poll()
        self._poll.register(self._fd, select.POLLIN)
        self._health = health
        self._timeout = timeout
        self.name = path
        health.opened(time.monotonic())

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        """Up to `size` bytes once the device has some; b"" when its writer left (unplugged)."""
        deadline = time.monotonic() + self._timeout
        while True:
            events = self._poll.poll(_POLL_SLICE_MS)
            if events:
                try:
                    data = os.read(self._fd, size if size > 0 else 1 << 16)
                except BlockingIOError:
                    continue
                if data:
                    self._health.received(time.monotonic())
                return data  # b"": every writer closed, the stream ended
            if time.monotonic() >= deadline:
                self._health.timed_out(time.monotonic())
                raise TimeoutError(f"{self.name} sent nothing for {self._timeout:.0f} s")

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()


def open_capture(video: CaptureVideo, timeout: float = SILENCE_TIMEOUT) -> Upstream:
    """The hub's upstream for `video` (blocking: run it in an executor). Raises FileNotFoundError
    while the device is unplugged, so the hub retries."""
    mode = os.stat(video.device).st_mode  # follows the by-id link to today's node
    if stat.S_ISCHR(mode):
        video.health.opened(time.monotonic())
        return Upstream(
            video.device,
            format="v4l2",
            options={
                "input_format": video.input_format,
                "video_size": f"{video.width}x{video.height}",
                "framerate": f"{video.fps:g}",
            },
        )
    return Upstream(PipeReader(video.device, video.health, timeout), format="mjpeg", options=MJPEG_OPTIONS)


def probe_capture(video: CaptureVideo, timeout: float) -> None:
    """Open `video` as the hub would and read one frame (blocking). Raises what opening or reading
    raised (OSError with errno EBUSY, EACCES…, av errors), or TimeoutError when no frame came."""
    upstream = open_capture(video, timeout)
    try:
        with av.open(
            upstream.target,
            "r",
            format=upstream.format,
            options=upstream.open_options(),
            timeout=(timeout, timeout),
        ) as container:
            for packet in container.demux(video=0):
                if packet.size:
                    return
        raise TimeoutError(f"{video.device} ended before its first frame")
    finally:
        upstream.close()
