"""Which USB webcams this host has: V4L2 capture devices, their stable paths and what they can send.

No Home Assistant imports: the config flow and the backend call these functions in an executor.

`scan()` walks the video nodes the kernel lists (`/sys/class/video4linux`), asks each present
`/dev/videoN` what it is (VIDIOC_QUERYCAP) and keeps the capture nodes — a UVC webcam also has a
metadata node, codecs and ISPs have memory-to-memory nodes, none of which give pictures. For each it
enumerates formats, sizes and frame rates, and finds the `/dev/v4l/by-id/…` link udev made for it:
that path survives replugging into another port and renumbering, `/dev/videoN` does not.

The seam: `root` (where `dev/` and `sys/` are looked up) and `opener` (how a node is opened for
ioctls). The defaults are this host; tests and camsim point them at a recording
(`recorded.RecordedHost`).
"""

from __future__ import annotations

import copy
import errno
import logging
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from . import v4l2
from .v4l2 import Ioctl, Opener

_LOGGER = logging.getLogger(__name__)

HOST_ROOT = Path("/")
# Sizes offered for a driver that reports a range (stepwise/continuous) instead of a list.
COMMON_SIZES = ((1920, 1080), (1280, 720), (1024, 576), (800, 600), (640, 480), (640, 360), (320, 240))
# Rates offered for a driver that reports an interval range instead of a list.
COMMON_RATES = (60, 30, 25, 20, 15, 10, 5)
# The kernel's enumerations end with EINVAL; these caps only stop a driver that never says so.
_MAX_INDEX = 256


@dataclass(frozen=True, slots=True)
class FrameSize:
    """One picture size and the frame rates (frames per second, fastest first) offered at it."""

    width: int
    height: int
    rates: tuple[Fraction, ...]


@dataclass(frozen=True, slots=True)
class VideoFormat:
    """One pixel format a device sends: its fourcc ('MJPG', 'H264', 'YUYV', …) and its sizes."""

    fourcc: str
    description: str
    compressed: bool
    sizes: tuple[FrameSize, ...]  # largest first


@dataclass(frozen=True, slots=True)
class CaptureDevice:
    """A video capture node, as the config flow shows it and the backend opens it."""

    name: str  # the card name the driver reports, e.g. "HD Pro Webcam C920"
    path: str  # stable path: the /dev/v4l/by-id link where udev made one, else the node
    node: str  # /dev/videoN today; may change when the device is replugged
    driver: str  # "uvcvideo" for USB webcams
    bus_info: str  # e.g. "usb-0000:00:14.0-1": which port, for telling two identical webcams apart
    formats: tuple[VideoFormat, ...]

    @property
    def has_stable_path(self) -> bool:
        return self.path != self.node

    def format(self, fourcc: str) -> VideoFormat | None:
        return next((fmt for fmt in self.formats if fmt.fourcc == fourcc), None)


@dataclass(frozen=True, slots=True)
class UnreadableNode:
    """A node that exists but could not be asked what it is (permissions, gone meanwhile, …)."""

    node: str
    error: str  # strerror, e.g. "Permission denied"
    errno: int


@dataclass(frozen=True, slots=True)
class Scan:
    """Everything one look at the host found; the flow's "no devices" message is built from it."""

    devices: tuple[CaptureDevice, ...]
    unreadable: tuple[UnreadableNode, ...]
    # Nodes the kernel has (sysfs) but /dev lacks: the usual sign of a container without the
    # device passed through (`--device /dev/video0`).
    not_in_dev: tuple[str, ...]


def scan(root: Path = HOST_ROOT, opener: Opener = v4l2.open_node) -> Scan:
    """Look at every video node of the host under `root` and describe the capture devices."""
    devices: list[CaptureDevice] = []
    unreadable: list[UnreadableNode] = []
    not_in_dev: list[str] = []
    dev = root / "dev"
    links = _by_id_links(dev)
    for name in _video_node_names(root):
        node = dev / name
        if not node.exists():
            not_in_dev.append(name)
            continue
        try:
            device = _describe_node(node, opener, links)
        except OSError as err:
            _LOGGER.debug("cannot query %s: %s", node, err)
            unreadable.append(UnreadableNode(str(node), err.strerror or str(err), err.errno or 0))
            continue
        if device is not None:
            devices.append(device)
    return Scan(tuple(devices), tuple(unreadable), tuple(not_in_dev))


def list_capture_devices(root: Path = HOST_ROOT, opener: Opener = v4l2.open_node) -> list[CaptureDevice]:
    """The capture devices of the host, for callers that need no explanation when there are none."""
    return list(scan(root, opener).devices)


# --- nodes and their stable paths -----------------------------------------------------------------


def _video_node_names(root: Path) -> list[str]:
    """videoN names, from sysfs (what the kernel has) or, without sysfs, from /dev."""
    sysfs = root / "sys" / "class" / "video4linux"
    source = sysfs if sysfs.is_dir() else root / "dev"
    names = [entry.name for entry in source.glob("video*") if entry.name[5:].isdigit()]
    return sorted(names, key=lambda name: int(name[5:]))


def _by_id_links(dev: Path) -> dict[Path, Path]:
    """Resolved node → its /dev/v4l/by-id link (the first by name when a node has several)."""
    links: dict[Path, Path] = {}
    by_id = dev / "v4l" / "by-id"
    if not by_id.is_dir():
        return links
    for link in sorted(by_id.iterdir()):
        try:
            links.setdefault(link.resolve(strict=True), link)
        except OSError:  # a dangling link left by a device being unplugged right now
            continue
    return links


def _describe_node(node: Path, opener: Opener, links: dict[Path, Path]) -> CaptureDevice | None:
    with opener(node) as ioctl:
        capability = v4l2.Capability()
        ioctl(v4l2.VIDIOC_QUERYCAP, capability)
        if not is_video_capture(capability):
            _LOGGER.debug("%s is not a video capture node (caps %#x)", node, _node_caps(capability))
            return None
        formats = tuple(_formats(ioctl))
    return CaptureDevice(
        name=_text(capability.card),
        path=str(links.get(node.resolve(), node)),
        node=str(node),
        driver=_text(capability.driver),
        bus_info=_text(capability.bus_info),
        formats=formats,
    )


def _node_caps(capability: v4l2.Capability) -> int:
    # `capabilities` describes the whole physical device (all its nodes); `device_caps` this node.
    if capability.capabilities & v4l2.CAP_DEVICE_CAPS:
        return int(capability.device_caps)
    return int(capability.capabilities)


def is_video_capture(capability: v4l2.Capability) -> bool:
    """A node that captures single-planar video: a webcam's picture node, not metadata or a codec."""
    caps = _node_caps(capability)
    not_a_camera = (
        v4l2.CAP_VIDEO_OUTPUT | v4l2.CAP_VIDEO_OUTPUT_MPLANE | v4l2.CAP_VIDEO_M2M | v4l2.CAP_VIDEO_M2M_MPLANE
    )
    return bool(caps & v4l2.CAP_VIDEO_CAPTURE) and not caps & not_a_camera


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace").strip()


# --- formats, sizes, rates --------------------------------------------------------------------------


def _enumerate[T: v4l2.FormatDescription | v4l2.FrameSizeEnum | v4l2.FrameIntervalEnum](
    ioctl: Ioctl, request: int, template: T
) -> list[T]:
    """Ask for index 0, 1, … until the driver answers EINVAL, as the V4L2 API defines."""
    answers: list[T] = []
    for index in range(_MAX_INDEX):
        entry = copy.copy(template)
        entry.index = index
        try:
            ioctl(request, entry)
        except OSError as err:
            if err.errno == errno.EINVAL:
                break
            raise
        answers.append(entry)
    return answers


def _formats(ioctl: Ioctl) -> list[VideoFormat]:
    template = v4l2.FormatDescription(type=v4l2.BUF_TYPE_VIDEO_CAPTURE)
    formats = []
    for description in _enumerate(ioctl, v4l2.VIDIOC_ENUM_FMT, template):
        pixel_format = int(description.pixelformat)
        formats.append(
            VideoFormat(
                fourcc=v4l2.fourcc_to_str(pixel_format),
                description=_text(description.description),
                compressed=bool(description.flags & v4l2.FMT_FLAG_COMPRESSED),
                sizes=tuple(_sizes(ioctl, pixel_format)),
            )
        )
    return formats


def _sizes(ioctl: Ioctl, pixel_format: int) -> list[FrameSize]:
    template = v4l2.FrameSizeEnum(pixel_format=pixel_format)
    dimensions: list[tuple[int, int]] = []
    for answer in _enumerate(ioctl, v4l2.VIDIOC_ENUM_FRAMESIZES, template):
        if answer.type == v4l2.FRMSIZE_TYPE_DISCRETE:
            dimensions.append((int(answer.discrete.width), int(answer.discrete.height)))
        else:
            # A range is answered once (index 0); offer the usual sizes that lie on its grid.
            dimensions.extend(_common_sizes_in(answer.stepwise))
            break
    sizes = [
        FrameSize(width, height, _rates(ioctl, pixel_format, width, height)) for width, height in dimensions
    ]
    return sorted(sizes, key=lambda size: size.width * size.height, reverse=True)


def _common_sizes_in(size_range: v4l2.StepwiseSize) -> list[tuple[int, int]]:
    def fits(value: int, low: int, high: int, step: int) -> bool:
        return low <= value <= high and (value - low) % max(step, 1) == 0

    return [
        (width, height)
        for width, height in COMMON_SIZES
        if fits(width, size_range.min_width, size_range.max_width, size_range.step_width)
        and fits(height, size_range.min_height, size_range.max_height, size_range.step_height)
    ]


def _rates(ioctl: Ioctl, pixel_format: int, width: int, height: int) -> tuple[Fraction, ...]:
    template = v4l2.FrameIntervalEnum(pixel_format=pixel_format, width=width, height=height)
    rates: set[Fraction] = set()
    for answer in _enumerate(ioctl, v4l2.VIDIOC_ENUM_FRAMEINTERVALS, template):
        if answer.type == v4l2.FRMIVAL_TYPE_DISCRETE:
            rate = _rate(answer.discrete)
            if rate is not None:
                rates.add(rate)
        else:
            rates.update(_common_rates_in(answer.stepwise))
            break
    return tuple(sorted(rates, reverse=True))


def _rate(interval: v4l2.Fract) -> Fraction | None:
    """Frames per second of a frame interval (seconds per frame); None for a driver's zero."""
    if interval.numerator == 0 or interval.denominator == 0:
        return None
    return Fraction(int(interval.denominator), int(interval.numerator))


def _common_rates_in(interval_range: v4l2.StepwiseInterval) -> list[Fraction]:
    # The shortest interval is the highest rate.
    fastest, slowest = _rate(interval_range.min), _rate(interval_range.max)
    if fastest is None or slowest is None:
        return []
    return [Fraction(rate) for rate in COMMON_RATES if slowest <= rate <= fastest]


# --- what to capture ----------------------------------------------------------------------------

# MJPEG first: its frames go to viewers and snapshots untouched (no decode, no encode). H.264 next:
# compact and WebRTC-ready, but snapshots need a decode. YUYV last: raw, so USB 2.0 bandwidth caps it
# at low rates for large sizes, and every frame must be encoded before anyone can see it.
FORMAT_PREFERENCE = ("MJPG", "H264", "YUYV")
# What FFmpeg's v4l2 demuxer calls each fourcc (its `input_format` option).
FFMPEG_INPUT_FORMATS = {"MJPG": "mjpeg", "H264": "h264", "YUYV": "yuyv422"}
DEFAULT_SIZE = (1280, 720)
DEFAULT_RATE = 30
# A size is only chosen by default if it reaches this rate; a 1080p YUYV at 5 fps looks broken.
MIN_DEFAULT_RATE = 15


@dataclass(frozen=True, slots=True)
class CaptureMode:
    """The format, size and rate the backend asks the device for."""

    fourcc: str
    width: int
    height: int
    fps: Fraction

    @property
    def input_format(self) -> str:
        """FFmpeg's name for the fourcc, for the v4l2 demuxer's `input_format` option."""
        return FFMPEG_INPUT_FORMATS[self.fourcc]


def capture_modes(device: CaptureDevice) -> list[CaptureMode]:
    """Every mode the device offers in a format Camera Hub can use, preferred format first."""
    modes: list[CaptureMode] = []
    for fourcc in FORMAT_PREFERENCE:
        fmt = device.format(fourcc)
        if fmt is None:
            continue
        for size in fmt.sizes:
            modes.extend(CaptureMode(fourcc, size.width, size.height, rate) for rate in size.rates)
    return modes


def preferred_mode(
    device: CaptureDevice,
    size: tuple[int, int] = DEFAULT_SIZE,
    fps: int = DEFAULT_RATE,
) -> CaptureMode | None:
    """The default mode: the first usable format in FORMAT_PREFERENCE, `size`@`fps` when offered.

    Otherwise the largest size within `size` that reaches MIN_DEFAULT_RATE (or, if none does, the
    largest within `size`, or the smallest overall), at `fps` or the nearest rate below it (or, if
    none is below, the slowest above). None when the device offers none of the formats.
    """
    for fourcc in FORMAT_PREFERENCE:
        fmt = device.format(fourcc)
        usable = [frame for frame in fmt.sizes if frame.rates] if fmt else []
        if usable:
            chosen = _preferred_size(usable, size, fps)
            return CaptureMode(fourcc, chosen.width, chosen.height, _preferred_rate(chosen.rates, fps))
    return None


def _preferred_size(sizes: list[FrameSize], size: tuple[int, int], fps: int) -> FrameSize:
    width, height = size
    within = [frame for frame in sizes if frame.width <= width and frame.height <= height]
    fluid = [frame for frame in within if max(frame.rates) >= min(fps, MIN_DEFAULT_RATE)]
    if fluid or within:
        return max(fluid or within, key=lambda frame: frame.width * frame.height)
    return min(sizes, key=lambda frame: frame.width * frame.height)


def _preferred_rate(rates: tuple[Fraction, ...], fps: int) -> Fraction:
    at_most = [rate for rate in rates if rate <= fps]
    return max(at_most) if at_most else min(rates)
