"""Signed media links and the real files behind them: event thumbnails, event clips, diary timelapses.

Furbo hands out presigned CloudFront URLs (`?Expires=&Signature=&Key-Pair-Id=`) fetched with a plain
GET; CloudFront answers 403 once `Expires` has passed. The simulator signs its links with an HMAC of a
per-run secret, so a tampered or expired link is refused the same way.

Thumbnails are camsim's picture (camsim/video.py's Scene) with the event's time burned in, so
`camsim.timestamp.read(jpeg)` tells which event a picture belongs to. The clip is one short H.264 MP4
made at start with PyAV and served for every event and diary day.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import secrets
import time
from fractions import Fraction
from pathlib import Path
from urllib.parse import urlencode

import av
from PIL import Image

from ..video import Scene

KEY_PAIR_ID = "K2CAMSIMFURBO"
THUMB_SIZE = (640, 360)
CLIP_SIZE = (320, 180)
CLIP_FPS = 10
CLIP_SECONDS = 3


class LinkSigner:
    """Makes and checks signed links; `expire_all` voids every link signed so far."""

    def __init__(self, base_url: str, ttl: float) -> None:
        self.base_url = base_url
        self.ttl = ttl
        self._secret = secrets.token_bytes(32)
        self._generation = 0  # part of every signature: raising it voids every link signed so far

    def sign(self, path: str) -> str:
        """The full signed URL of `path` (e.g. /media/<account id>/thumb/7.jpg), valid for `ttl` seconds."""
        expires = int(time.time() + self.ttl)
        query = urlencode(
            {"Expires": expires, "Signature": self._signature(path, expires), "Key-Pair-Id": KEY_PAIR_ID}
        )
        return f"{self.base_url}{path}?{query}"

    def allows(self, path: str, expires: str, signature: str, key_pair_id: str) -> bool:
        """Whether a request for `path` with this query may have the file (CloudFront's check)."""
        if key_pair_id != KEY_PAIR_ID or not expires.isdigit():
            return False
        expiry = int(expires)
        if expiry < time.time():
            return False
        return hmac.compare_digest(signature, self._signature(path, expiry))

    def expire_all(self) -> None:
        self._generation += 1

    def _signature(self, path: str, expires: int) -> str:
        message = f"{self._generation}\n{path}\n{expires}".encode()
        digest = hmac.new(self._secret, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def thumbnail_jpeg(millis: int) -> bytes:
    """A JPEG of camsim's picture carrying `millis` (epoch ms) as its burned-in timestamp."""
    width, height = THUMB_SIZE
    luma = Scene(width, height).yuv420(millis // 1000, millis)[:height]
    buffer = io.BytesIO()
    Image.fromarray(luma, "L").convert("RGB").save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def make_clip(path: Path, start_millis: int) -> None:
    """Write a CLIP_SECONDS H.264 MP4 of camsim's picture to `path`, its clock starting at `start_millis`."""
    width, height = CLIP_SIZE
    scene = Scene(width, height)
    with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=CLIP_FPS)
        stream.width = width
        stream.height = height
        stream.pix_fmt = "yuv420p"
        stream.codec_context.options = {"preset": "ultrafast", "tune": "zerolatency"}
        for index in range(CLIP_SECONDS * CLIP_FPS):
            frame = scene.frame(index, start_millis + index * 1000 // CLIP_FPS)
            frame.pts = index
            frame.time_base = Fraction(1, CLIP_FPS)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
