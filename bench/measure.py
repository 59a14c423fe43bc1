"""Measuring helpers for the benchmarks: percentiles, process CPU and memory, MJPEG readers."""

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
