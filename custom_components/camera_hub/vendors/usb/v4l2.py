"""The four V4L2 ioctls discovery needs, written with ctypes (see docs/decisions.md for why not a library).

Layouts and request numbers are those of the kernel's `include/uapi/linux/videodev2.h`; they are part
of the kernel's stable user-space ABI. Only what enumeration needs is here: VIDIOC_QUERYCAP,
VIDIOC_ENUM_FMT, VIDIOC_ENUM_FRAMESIZES and VIDIOC_ENUM_FRAMEINTERVALS.

A device node is reached through an `Opener` (a path in, an `Ioctl` out): `open_node` opens the real
node; `recorded.RecordedHost.opener` answers the same calls from a recording, so the enumeration code
runs unchanged against webcams this machine does not have.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

type Ioctl = Callable[[int, ctypes.Structure], None]
"""Performs one ioctl on an open node, filling the structure in place; raises OSError like the kernel."""

type Opener = Callable[[Path], AbstractContextManager[Ioctl]]

# --- constants from videodev2.h ---------------------------------------------------------------------

BUF_TYPE_VIDEO_CAPTURE = 1

CAP_VIDEO_CAPTURE = 0x00000001
CAP_VIDEO_OUTPUT = 0x00000002
CAP_VIDEO_CAPTURE_MPLANE = 0x00001000
CAP_VIDEO_OUTPUT_MPLANE = 0x00002000
CAP_VIDEO_M2M_MPLANE = 0x00004000
CAP_VIDEO_M2M = 0x00008000
CAP_META_CAPTURE = 0x00800000
CAP_STREAMING = 0x04000000
CAP_DEVICE_CAPS = 0x80000000

FMT_FLAG_COMPRESSED = 0x0001

FRMSIZE_TYPE_DISCRETE = 1
FRMSIZE_TYPE_CONTINUOUS = 2
FRMSIZE_TYPE_STEPWISE = 3
FRMIVAL_TYPE_DISCRETE = 1
FRMIVAL_TYPE_CONTINUOUS = 2
FRMIVAL_TYPE_STEPWISE = 3


# --- structures -----------------------------------------------------------------------------------


class Capability(ctypes.Structure):
    """struct v4l2_capability (104 bytes)."""

    _fields_ = (
        ("driver", ctypes.c_char * 16),
        ("card", ctypes.c_char * 32),
        ("bus_info", ctypes.c_char * 32),
        ("version", ctypes.c_uint32),
        ("capabilities", ctypes.c_uint32),
        ("device_caps", ctypes.c_uint32),
        ("reserved", ctypes.c_uint32 * 3),
    )


class FormatDescription(ctypes.Structure):
    """struct v4l2_fmtdesc (64 bytes)."""

    _fields_ = (
        ("index", ctypes.c_uint32),
        ("type", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("description", ctypes.c_char * 32),
        ("pixelformat", ctypes.c_uint32),
        ("mbus_code", ctypes.c_uint32),
        ("reserved", ctypes.c_uint32 * 3),
    )


class DiscreteSize(ctypes.Structure):
    _fields_ = (("width", ctypes.c_uint32), ("height", ctypes.c_uint32))


class StepwiseSize(ctypes.Structure):
    _fields_ = (
        ("min_width", ctypes.c_uint32),
        ("max_width", ctypes.c_uint32),
        ("step_width", ctypes.c_uint32),
        ("min_height", ctypes.c_uint32),
        ("max_height", ctypes.c_uint32),
        ("step_height", ctypes.c_uint32),
    )


class _SizeUnion(ctypes.Union):
    _fields_ = (("discrete", DiscreteSize), ("stepwise", StepwiseSize))


class FrameSizeEnum(ctypes.Structure):
    """struct v4l2_frmsizeenum (44 bytes)."""

    _anonymous_ = ("size",)
    _fields_ = (
        ("index", ctypes.c_uint32),
        ("pixel_format", ctypes.c_uint32),
        ("type", ctypes.c_uint32),
        ("size", _SizeUnion),
        ("reserved", ctypes.c_uint32 * 2),
    )


class Fract(ctypes.Structure):
    """struct v4l2_fract: a frame *interval* in seconds, numerator / denominator."""

    _fields_ = (("numerator", ctypes.c_uint32), ("denominator", ctypes.c_uint32))


class StepwiseInterval(ctypes.Structure):
    _fields_ = (("min", Fract), ("max", Fract), ("step", Fract))


class _IntervalUnion(ctypes.Union):
    _fields_ = (("discrete", Fract), ("stepwise", StepwiseInterval))


class FrameIntervalEnum(ctypes.Structure):
    """struct v4l2_frmivalenum (52 bytes)."""

    _anonymous_ = ("interval",)
    _fields_ = (
        ("index", ctypes.c_uint32),
        ("pixel_format", ctypes.c_uint32),
        ("width", ctypes.c_uint32),
        ("height", ctypes.c_uint32),
        ("type", ctypes.c_uint32),
        ("interval", _IntervalUnion),
        ("reserved", ctypes.c_uint32 * 2),
    )


# --- request numbers (_IOR / _IOWR of the asm-generic ioctl encoding) ------------------------------

_IOC_WRITE = 1
_IOC_READ = 2


def _ioc(direction: int, number: int, structure: type[ctypes.Structure]) -> int:
    return direction << 30 | ctypes.sizeof(structure) << 16 | ord("V") << 8 | number


VIDIOC_QUERYCAP = _ioc(_IOC_READ, 0, Capability)
VIDIOC_ENUM_FMT = _ioc(_IOC_READ | _IOC_WRITE, 2, FormatDescription)
VIDIOC_ENUM_FRAMESIZES = _ioc(_IOC_READ | _IOC_WRITE, 74, FrameSizeEnum)
VIDIOC_ENUM_FRAMEINTERVALS = _ioc(_IOC_READ | _IOC_WRITE, 75, FrameIntervalEnum)


# --- fourcc ---------------------------------------------------------------------------------------


def fourcc_to_int(code: str) -> int:
    """'MJPG' → the little-endian u32 the kernel uses (v4l2_fourcc)."""
    return int.from_bytes(code.encode("ascii").ljust(4), "little")


def fourcc_to_str(value: int) -> str:
    # Some fourccs end in spaces ('Y16 '); strip them for display and comparison.
    return value.to_bytes(4, "little").decode("ascii", errors="replace").rstrip()


# --- the real device ------------------------------------------------------------------------------


@contextlib.contextmanager
def open_node(path: Path) -> Iterator[Ioctl]:
    """Open a real V4L2 node for ioctls; the kernel allows this while another process streams."""
    # O_NONBLOCK: enumeration never waits for a frame; O_RDWR is what capture programs (and the
    # kernel's own v4l2-compliance) use, so a permission problem shows up here, at discovery.
    fd = os.open(path, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)

    def ioctl(request: int, argument: ctypes.Structure) -> None:
        fcntl.ioctl(fd, request, argument, True)

    try:
        yield ioctl
    finally:
        os.close(fd)
