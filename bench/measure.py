"""Measuring helpers for the benchmarks: percentiles, process CPU, memory, descriptors and threads,
MJPEG readers, growth rates."""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))
    return ordered[index]


def p50(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def process_tree(pid: int) -> list[int]:
    """A process and all its descendants (HA's ffmpeg children count toward HA's cost)."""
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo += _children(current)
    return tree


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of the given processes (threads included), in seconds."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


def rss_mb(pids: list[int]) -> float:
    total_kb = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
        except OSError:
            continue
    return total_kb / 1024


async def cpu_share(pids_of: Callable[[], list[int]], seconds: float) -> float:
    """Share of one core used by the process trees `pids_of()` returns, over `seconds` of wall time."""
    before = cpu_seconds(pids_of())
    start = time.monotonic()
    await asyncio.sleep(seconds)
    return (cpu_seconds(pids_of()) - before) / (time.monotonic() - start)


async def mjpeg_frames(response: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    """JPEG frames of a multipart/x-mixed-replace body, parsed by Content-Length."""
    while True:
        headers: dict[str, str] = {}
        line = await response.content.readline()
        while line in (b"\r\n", b"\n"):
            line = await response.content.readline()
        if not line:
            return
        while line not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
            line = await response.content.readline()
        length = int(headers.get("content-length", "0"))
        yield await response.content.readexactly(length)


def open_fds(pids: list[int]) -> int:
    """Open file descriptors (sockets, pipes, files) of the given processes."""
    total = 0
    for pid in pids:
        try:
            total += len(os.listdir(f"/proc/{pid}/fd"))
        except OSError:
            continue
    return total


def thread_count(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("Threads:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def growth_per_hour(seconds: list[float], values: list[float]) -> float:
    """Least-squares slope of `values` over time, per hour: a leak's rate, little moved by one odd sample."""
    if len(seconds) != len(values) or len(seconds) < 2:
        raise ValueError("need at least two samples, one value per time")
    mean_t, mean_v = statistics.fmean(seconds), statistics.fmean(values)
    spread = sum((t - mean_t) ** 2 for t in seconds)
    if spread == 0:
        raise ValueError("samples taken at one instant have no slope")
    slope = sum((t - mean_t) * (v - mean_v) for t, v in zip(seconds, values, strict=True)) / spread
    return slope * 3600


def load_average() -> list[float]:
    """This machine's 1, 5 and 15 minute load averages: how busy the shared cores were."""
    return [round(load, 2) for load in os.getloadavg()]


def main_thread_cpu_seconds(pid: int) -> float:
    """CPU time of a process's main thread. HA's event loop runs there, and one core is all it can use:
    it saturates before the process as a whole does."""
    try:
        fields = Path(f"/proc/{pid}/task/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
