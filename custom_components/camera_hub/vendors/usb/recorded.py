"""V4L2 answers from a description instead of a kernel: recorded real webcams, or camsim's simulated ones.

A description is JSON: `devices`, each with `nodes`; a node is what the kernel would answer for one
`/dev/videoN` — its QUERYCAP fields, and per format its sizes and frame intervals (the ioctl's
seconds-per-frame fractions, "1/30"). `RecordedHost.opener` plays those answers back through the same
`Ioctl` interface `v4l2.open_node` gives for a real node, so discovery's enumeration code (the index
loops, the EINVAL ends, the structure decoding) is what runs. The files under `root/dev` and
`root/sys` (nodes, by-id links) are laid by whoever made the description: a test, or camsim.

```json
{"devices": [{"model": "…", "sources": ["…"], "nodes": [
  {"node": "video0", "by_id": "usb-046d_HD_Pro_Webcam_C920_…-video-index0",
   "querycap": {"driver": "uvcvideo", "card": "HD Pro Webcam C920", "bus_info": "usb-0000:00:14.0-1",
                "version": "5.15.0", "capabilities": "0x84a00001", "device_caps": "0x04200001"},
   "formats": [{"fourcc": "MJPG", "description": "Motion-JPEG", "compressed": true,
                "sizes": [{"size": "1280x720", "intervals": ["1/30", "1/15"]},
                          {"min": "32x32", "max": "2592x1944", "step": "2x2",
                           "interval_range": ["1/90", "1/1"]}]}]}]}]}
```
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from . import v4l2
from .v4l2 import Ioctl

type Node = dict[str, Any]


@dataclass(frozen=True)
class RecordedHost:
    """A host made of recorded nodes, found under `root` like a real host's /dev and /sys."""

    root: Path
    nodes: dict[str, Node]  # "video0" → its recorded answers

    @classmethod
    def load(cls, description: Path, root: Path) -> RecordedHost:
        data = json.loads(description.read_text())
        return cls.from_description(data, root)

    @classmethod
    def from_description(cls, data: dict[str, Any], root: Path) -> RecordedHost:
        nodes = {node["node"]: node for device in data["devices"] for node in device["nodes"]}
        return cls(root, nodes)

    @contextlib.contextmanager
    def opener(self, path: Path) -> Iterator[Ioctl]:
        """Open a recorded node: fails like open(2) when its /dev entry is gone (unplugged)."""
        if not path.exists():
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(path))
        node = self.nodes.get(path.name)
        if node is None:
            # A /dev entry with nothing recorded behind it: the kernel would have no driver for it.
            raise OSError(errno.ENODEV, os.strerror(errno.ENODEV), str(path))
        yield lambda request, argument: _answer(node, request, argument)


def _answer(node: Node, request: int, argument: ctypes.Structure) -> None:
    if request == v4l2.VIDIOC_QUERYCAP:
        _fill_capability(node["querycap"], argument)
    elif request == v4l2.VIDIOC_ENUM_FMT:
        _fill_format(node, argument)
    elif request == v4l2.VIDIOC_ENUM_FRAMESIZES:
        _fill_size(node, argument)
    elif request == v4l2.VIDIOC_ENUM_FRAMEINTERVALS:
        _fill_interval(node, argument)
    else:
        raise OSError(errno.ENOTTY, os.strerror(errno.ENOTTY))


def _invalid() -> OSError:
    return OSError(errno.EINVAL, os.strerror(errno.EINVAL))


def _fill_capability(answers: dict[str, str], capability: ctypes.Structure) -> None:
    capability.driver = answers["driver"].encode()
    capability.card = answers["card"].encode()
    capability.bus_info = answers["bus_info"].encode()
    major, minor, patch = (int(part) for part in answers["version"].split("."))
    capability.version = major << 16 | minor << 8 | patch
    capability.capabilities = int(answers["capabilities"], 16)
    capability.device_caps = int(answers["device_caps"], 16)


def _fill_format(node: Node, description: ctypes.Structure) -> None:
    formats = node.get("formats", [])
    if description.type != v4l2.BUF_TYPE_VIDEO_CAPTURE or description.index >= len(formats):
        raise _invalid()
    recorded = formats[description.index]
    description.pixelformat = v4l2.fourcc_to_int(recorded["fourcc"])
    description.description = recorded["description"].encode()
    description.flags = v4l2.FMT_FLAG_COMPRESSED if recorded["compressed"] else 0


def _sizes_of(node: Node, pixel_format: int) -> list[dict[str, Any]]:
    for recorded in node.get("formats", []):
        if v4l2.fourcc_to_int(recorded["fourcc"]) == pixel_format:
            sizes: list[dict[str, Any]] = recorded["sizes"]
            return sizes
    raise _invalid()


def _dimensions(text: str) -> tuple[int, int]:
    width, _, height = text.partition("x")
    return int(width), int(height)


def _fill_size(node: Node, answer: ctypes.Structure) -> None:
    sizes = _sizes_of(node, answer.pixel_format)
    if answer.index >= len(sizes):
        raise _invalid()
    recorded = sizes[answer.index]
    if "size" in recorded:
        answer.type = v4l2.FRMSIZE_TYPE_DISCRETE
        answer.discrete.width, answer.discrete.height = _dimensions(recorded["size"])
        return
    answer.type = v4l2.FRMSIZE_TYPE_STEPWISE
    stepwise = answer.stepwise
    stepwise.min_width, stepwise.min_height = _dimensions(recorded["min"])
    stepwise.max_width, stepwise.max_height = _dimensions(recorded["max"])
    stepwise.step_width, stepwise.step_height = _dimensions(recorded["step"])


def _fill_interval(node: Node, answer: ctypes.Structure) -> None:
    recorded = _size_record(_sizes_of(node, answer.pixel_format), answer.width, answer.height)
    if "intervals" in recorded:
        intervals = recorded["intervals"]
        if answer.index >= len(intervals):
            raise _invalid()
        answer.type = v4l2.FRMIVAL_TYPE_DISCRETE
        _set_fract(answer.discrete, intervals[answer.index])
        return
    interval_range = recorded.get("interval_range")
    if interval_range is None or answer.index > 0:
        raise _invalid()
    answer.type = v4l2.FRMIVAL_TYPE_CONTINUOUS
    _set_fract(answer.stepwise.min, interval_range[0])
    _set_fract(answer.stepwise.max, interval_range[1])
    _set_fract(answer.stepwise.step, "1/1")


def _size_record(sizes: list[dict[str, Any]], width: int, height: int) -> dict[str, Any]:
    """The recorded size entry a width x height belongs to, as the driver would judge it."""
    for recorded in sizes:
        if "size" in recorded:
            if _dimensions(recorded["size"]) == (width, height):
                return recorded
            continue
        (min_w, min_h), (max_w, max_h) = _dimensions(recorded["min"]), _dimensions(recorded["max"])
        if min_w <= width <= max_w and min_h <= height <= max_h:
            return recorded
    raise _invalid()


def _set_fract(fract: ctypes.Structure, text: str) -> None:
    value = Fraction(text)
    fract.numerator, fract.denominator = value.numerator, value.denominator
