"""A stream URI looked up once and shared by every caller until it expires or fails.

Asking a camera for its stream URI (ONVIF GetStreamUri) costs a round trip and, on some cameras,
a login. HA asks for `stream_source` on every stream start, so the answer is cached: one lookup
serves every caller for `lifetime` seconds, concurrent callers share one lookup in flight, and an
authentication or connection error on the stream invalidates it so the next start asks again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class CachedStreamUrl:
    def __init__(self, lookup: Callable[[], Awaitable[str]], lifetime: float = 3600.0) -> None:
        self._lookup = lookup
        self._lifetime = lifetime
        self._value: str | None = None
        self._expires = 0.0
        self._in_flight: asyncio.Future[str] | None = None
        self.lookups = 0

    async def get(self) -> str:
        if self._value is not None and time.monotonic() < self._expires:
            return self._value
        # A finished lookup nobody collected (every caller gave up) is stale: its value expired or was
        # invalidated (else it would have been returned above), or it failed. Start a new one.
        if self._in_flight is None or self._in_flight.done():
            self._in_flight = asyncio.ensure_future(self._refresh())
        in_flight = self._in_flight
        try:
            # shield: one caller giving up must not cancel the lookup the others wait on
            return await asyncio.shield(in_flight)
        finally:
            if in_flight.done() and self._in_flight is in_flight:
                self._in_flight = None

    async def _refresh(self) -> str:
        self.lookups += 1
        value = await self._lookup()
        self._value = value
        self._expires = time.monotonic() + self._lifetime
        return value

    def invalidate(self) -> None:
        """Forget the URI (after an auth or connection error), so the next caller looks it up again."""
        self._value = None
        self._expires = 0.0
