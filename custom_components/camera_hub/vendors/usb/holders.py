"""Which processes hold a device open: the words for "device busy" (EBUSY).

A webcam streams to one program at a time; the second gets EBUSY when it asks for buffers. The
kernel does not say who the first is, but /proc does: every open file descriptor is a symlink in
/proc/PID/fd to what it opened. Inside a container /proc shows only the container's processes, and
a process without privileges cannot read other users' fd directories; those holders stay unnamed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True, slots=True)
class Holder:
    """A process that has the device open."""

    pid: int
    name: str  # /proc/PID/comm: the executable's name, e.g. "ffmpeg" (at most 15 characters)
    command: str  # the command line, arguments separated by spaces; "" when unreadable

    def __str__(self) -> str:
        return f"{self.name} (pid {self.pid})"


def holders(
    path: str | os.PathLike[str], proc: Path = PROC, *, include_self: bool = False
) -> tuple[Holder, ...]:
    """The processes that have `path` open, by pid; a symlink (a /dev/v4l/by-id path) is followed."""
    target = os.path.realpath(path)
    found = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        if (pid == os.getpid() and not include_self) or not _has_open(entry, target):
            continue
        found.append(Holder(pid, _read(entry / "comm").strip(), _command_line(entry)))
    return tuple(sorted(found, key=lambda holder: holder.pid))


def describe(found: tuple[Holder, ...]) -> str:
    """ "ffmpeg (pid 812), motion (pid 90)" for an error message; "" when nobody is known."""
    return ", ".join(str(holder) for holder in found)


def _has_open(process: Path, target: str) -> bool:
    try:
        descriptors = list((process / "fd").iterdir())
    except OSError:  # the process ended, or its fds are not ours to see
        return False
    for descriptor in descriptors:
        try:
            if os.readlink(descriptor) == target:
                return True
        except OSError:  # closed while we looked
            continue
    return False


def _command_line(process: Path) -> str:
    return _read(process / "cmdline").replace("\0", " ").strip()


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""
