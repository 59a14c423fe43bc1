"""A machine-readable wall-clock timestamp burned into video frames.

camsim draws, into every frame it encodes, the moment the simulated sensor "captured" it; whoever
receives the frame later (through RTSP, HLS, MJPEG, a snapshot, an MCP image) can read it back with
`read` and subtract it from the time of arrival to get the end-to-end latency.

Layout: a band across the full width at the top of the frame, split into `BLOCKS` equally wide
blocks, each either black (0) or white (1)::

    | 1 0 1 1 | 48 bits: epoch milliseconds, MSB first | 8 bits: CRC-8 | 1 1 0 1 |
      start guard                                                        end guard

Every size is a fraction of the frame width (block width = width / 64, band height = two block
widths), so the code survives scaling, H.264 and JPEG compression; at the SD size of 320 px a block
is 5 px wide. The guards tell `read` which levels mean black and white, and the CRC rejects a band
that merely looks like one.
"""

from __future__ import annotations

import io
from typing import Any

import av
import numpy as np
from numpy.typing import NDArray
from PIL import Image

DATA_BITS = 48
CRC_BITS = 8
START_GUARD = (1, 0, 1, 1)
END_GUARD = (1, 1, 0, 1)
BLOCKS = len(START_GUARD) + DATA_BITS + CRC_BITS + len(END_GUARD)
BAND_HEIGHT_IN_BLOCKS = 2
# Guards whose white and black differ by less than this are not a timestamp (a flat or noisy image).
MIN_CONTRAST = 64


def band_height(width: int) -> int:
    """Height in pixels of the timestamp band in a frame `width` pixels wide."""
    return max(1, round(width * BAND_HEIGHT_IN_BLOCKS / BLOCKS))


def draw(image: NDArray[np.uint8], millis: int) -> None:
    """Burn `millis` (milliseconds since the Unix epoch) into the top band of `image`, in place.

    `image` is a gray (H x W) or colour (H x W x C) uint8 array, for example the Y plane of a
    yuv420p frame. Each block is written pure black (0) or pure white (255) in every channel.
    """
    if not 0 <= millis < 1 << DATA_BITS:
        raise ValueError(f"timestamp {millis} does not fit in {DATA_BITS} bits")
    width = image.shape[1]
    height = band_height(width)
    for index, bit in enumerate(_encode(millis)):
        left, right = _block_span(index, width)
        image[:height, left:right] = 255 if bit else 0


def read(image: Any) -> int:
    """Return the timestamp burned into `image`, in milliseconds since the Unix epoch.

    `image` may be an `av.VideoFrame`, a numpy array (H x W x 3 RGB or H x W gray), a PIL image,
    or the bytes of an encoded image (JPEG, PNG). Raises ValueError when the image carries no valid
    timestamp (no guards, too little contrast, or a checksum mismatch).
    """
    luma = _to_luma(image)
    if luma.ndim != 2 or luma.shape[1] < BLOCKS or luma.shape[0] < band_height(luma.shape[1]):
        raise ValueError(f"image of shape {luma.shape} is too small to carry a timestamp")
    levels = _block_levels(luma)
    threshold = _threshold_from_guards(levels)
    bits = [int(level > threshold) for level in levels]
    guards_ok = tuple(bits[: len(START_GUARD)]) == START_GUARD and tuple(bits[-len(END_GUARD) :]) == END_GUARD
    if not guards_ok:
        raise ValueError("no timestamp guards found")
    payload = bits[len(START_GUARD) : -len(END_GUARD)]
    millis = _bits_to_int(payload[:DATA_BITS])
    if _bits_to_int(payload[DATA_BITS:]) != _crc8(millis):
        raise ValueError("timestamp checksum mismatch")
    return millis


def _encode(millis: int) -> list[int]:
    data = [(millis >> shift) & 1 for shift in range(DATA_BITS - 1, -1, -1)]
    crc = _crc8(millis)
    checksum = [(crc >> shift) & 1 for shift in range(CRC_BITS - 1, -1, -1)]
    return [*START_GUARD, *data, *checksum, *END_GUARD]


def _crc8(millis: int) -> int:
    """CRC-8 (polynomial x^8 + x^2 + x + 1) of the 6 big-endian bytes of `millis`."""
    crc = 0
    for byte in millis.to_bytes(DATA_BITS // 8, "big"):
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def _bits_to_int(bits: list[int]) -> int:
    value = 0
    for bit in bits:
        value = value << 1 | bit
    return value


def _block_span(index: int, width: int) -> tuple[int, int]:
    return index * width // BLOCKS, (index + 1) * width // BLOCKS


def _block_levels(luma: NDArray[np.uint8]) -> list[float]:
    """Mean brightness of the middle of each block, away from edges blurred by compression."""
    width = luma.shape[1]
    height = band_height(width)
    rows = luma[height // 4 : max(height // 4 + 1, 3 * height // 4)]
    levels = []
    for index in range(BLOCKS):
        left, right = _block_span(index, width)
        margin = (right - left) // 4
        levels.append(float(rows[:, left + margin : max(left + margin + 1, right - margin)].mean()))
    return levels


def _threshold_from_guards(levels: list[float]) -> float:
    guard_levels = [*zip(START_GUARD, levels[: len(START_GUARD)], strict=True)]
    guard_levels += zip(END_GUARD, levels[-len(END_GUARD) :], strict=True)
    white = min(level for bit, level in guard_levels if bit)
    black = max(level for bit, level in guard_levels if not bit)
    if white - black < MIN_CONTRAST:
        raise ValueError("no timestamp found (guards lack contrast)")
    return (white + black) / 2


def _to_luma(image: Any) -> NDArray[np.uint8]:
    if isinstance(image, bytes | bytearray | memoryview):
        with Image.open(io.BytesIO(image)) as decoded:
            return np.asarray(decoded.convert("L"))
    if isinstance(image, av.VideoFrame):
        return np.asarray(image.to_ndarray(format="gray"), dtype=np.uint8)
    if isinstance(image, Image.Image):
        return np.asarray(image.convert("L"))
    if isinstance(image, np.ndarray):
        return _array_to_luma(image)
    raise TypeError(f"cannot read a timestamp from {type(image).__name__}")


def _array_to_luma(array: NDArray[Any]) -> NDArray[np.uint8]:
    if array.ndim == 2:
        return array.astype(np.uint8, copy=False)
    if array.ndim == 3 and array.shape[2] in (3, 4):
        # ITU-R BT.601 luma, the weights JPEG and yuv420p conversions use.
        rgb = array[..., :3].astype(np.float32)
        return (rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)).astype(np.uint8)
    raise ValueError(f"expected an H x W gray or H x W x 3 RGB array, got shape {array.shape}")
