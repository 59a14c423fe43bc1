"""Recordings and snapshots: real H.264 MP4s and JPEGs of camsim's picture with the moment burned in.

A recording's picture carries its event's time (so `camsim.timestamp.read` tells which event a frame
belongs to); a snapshot carries the time Ring says it was taken. The pictures are made the way the
Furbo simulator makes its clips and thumbnails (camsim/furbo/media.py), so both clouds share one look.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from ..furbo.media import make_clip, thumbnail_jpeg


class Recordings:
    """One MP4 per event id, made on first request and kept in `directory`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._making: dict[int, asyncio.Task[Path]] = {}

    async def clip(self, ding_id: int, created: float) -> Path:
        task = self._making.get(ding_id)
        if task is None:
            task = asyncio.ensure_future(self._make(ding_id, created))
            self._making[ding_id] = task
        return await asyncio.shield(task)

    async def _make(self, ding_id: int, created: float) -> Path:
        path = self.directory / f"{ding_id}.mp4"
        await asyncio.to_thread(make_clip, path, int(created * 1000))
        return path


async def snapshot_jpeg(taken: float) -> bytes:
    return await asyncio.to_thread(thumbnail_jpeg, int(taken * 1000))
