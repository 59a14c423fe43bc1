"""Snapshots served from a recent picture, with concurrent requests sharing one fetch."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class SnapshotCache:
    """Keeps the last good JPEG; a picture younger than `max_age` seconds is served as is.

    A failed fetch never replaces the last good picture; callers get the failure (or `None`),
    never a broken image.
    """

    def __init__(self, fetch: Callable[[], Awaitable[bytes | None]], max_age: float) -> None:
        self._fetch = fetch
        self.max_age = max_age
        self._image: bytes | None = None
        self._taken = 0.0
        self._in_flight: asyncio.Future[bytes | None] | None = None
        self.fetches = 0

    @property
    def last_good(self) -> bytes | None:
        return self._image

    def offer(self, image: bytes) -> None:
        """A fresh picture from elsewhere (the live stream) refreshes the cache for free."""
        self._image = image
        self._taken = time.monotonic()

    async def get(self) -> bytes | None:
        if self._image is not None and time.monotonic() - self._taken < self.max_age:
            return self._image
        if self._in_flight is None:
            self._in_flight = asyncio.ensure_future(self._refresh())
        in_flight = self._in_flight
        try:
            return await asyncio.shield(in_flight)
        finally:
            if in_flight.done() and self._in_flight is in_flight:
                self._in_flight = None

    async def _refresh(self) -> bytes | None:
        self.fetches += 1
        image = await self._fetch()
        if image:
            self.offer(image)
        return image
