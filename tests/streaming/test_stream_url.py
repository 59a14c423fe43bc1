"""CachedStreamUrl: one lookup serves every caller until its lifetime ends, it fails or is invalidated."""

from __future__ import annotations

import asyncio
import types

import pytest

from custom_components.camera_hub.streaming import stream_url
from custom_components.camera_hub.streaming.stream_url import CachedStreamUrl

DEADLINE = 5.0  # seconds any awaited condition may take before the test fails


class Lookup:
    """A stream URI lookup that counts its calls and, when gated, waits until the test opens the gate."""

    def __init__(self, *, gated: bool = False) -> None:
        self.calls = 0
        self.started = asyncio.Event()
        self.gate = asyncio.Event()
        if not gated:
            self.gate.set()
        self.error: Exception | None = None

    async def __call__(self) -> str:
        self.calls += 1
        self.started.set()
        async with asyncio.timeout(DEADLINE):
            await self.gate.wait()
        if self.error is not None:
            raise self.error
        return f"rtsp://camera/stream1?lookup={self.calls}"


async def test_concurrent_callers_share_one_lookup() -> None:
    lookup = Lookup(gated=True)
    cache = CachedStreamUrl(lookup)

    callers = [asyncio.create_task(cache.get()) for _ in range(20)]
    async with asyncio.timeout(DEADLINE):
        await lookup.started.wait()
    lookup.gate.set()
    async with asyncio.timeout(DEADLINE):
        urls = await asyncio.gather(*callers)

    assert set(urls) == {"rtsp://camera/stream1?lookup=1"}
    assert lookup.calls == 1
    assert cache.lookups == 1


async def test_sequential_callers_within_lifetime_share_one_lookup() -> None:
    lookup = Lookup()
    cache = CachedStreamUrl(lookup, lifetime=3600)

    urls = [await cache.get() for _ in range(20)]

    assert set(urls) == {"rtsp://camera/stream1?lookup=1"}
    assert lookup.calls == 1


async def test_cancelled_caller_does_not_cancel_the_shared_lookup() -> None:
    lookup = Lookup(gated=True)
    cache = CachedStreamUrl(lookup)

    quitter = asyncio.create_task(cache.get())
    stayer = asyncio.create_task(cache.get())
    async with asyncio.timeout(DEADLINE):
        await lookup.started.wait()
    quitter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await quitter
    lookup.gate.set()

    async with asyncio.timeout(DEADLINE):
        assert await stayer == "rtsp://camera/stream1?lookup=1"
    assert await cache.get() == "rtsp://camera/stream1?lookup=1"
    assert lookup.calls == 1


async def test_lookup_finishes_when_every_caller_gave_up() -> None:
    lookup = Lookup(gated=True)
    cache = CachedStreamUrl(lookup)

    quitter = asyncio.create_task(cache.get())
    async with asyncio.timeout(DEADLINE):
        await lookup.started.wait()
    quitter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await quitter
    in_flight = cache._in_flight  # the lookup nobody waits for any more
    assert in_flight is not None
    lookup.gate.set()
    async with asyncio.timeout(DEADLINE):
        await asyncio.wait([in_flight])

    # It finished and its answer is cached: the next caller does not look up again.
    assert await cache.get() == "rtsp://camera/stream1?lookup=1"
    assert lookup.calls == 1
    # ...and once invalidated, that finished lookup is not handed out again.
    cache.invalidate()
    assert await cache.get() == "rtsp://camera/stream1?lookup=2"
    assert lookup.calls == 2


async def test_invalidate_forces_a_new_lookup() -> None:
    lookup = Lookup()
    cache = CachedStreamUrl(lookup, lifetime=3600)

    assert await cache.get() == "rtsp://camera/stream1?lookup=1"
    cache.invalidate()
    assert await cache.get() == "rtsp://camera/stream1?lookup=2"
    assert await cache.get() == "rtsp://camera/stream1?lookup=2"
    assert lookup.calls == 2


async def test_lifetime_expiry_forces_a_new_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    # Only stream_url's view of the clock moves; the event loop keeps the real one.
    monkeypatch.setattr(stream_url, "time", types.SimpleNamespace(monotonic=lambda: now[0]))
    lookup = Lookup()
    cache = CachedStreamUrl(lookup, lifetime=60)

    assert await cache.get() == "rtsp://camera/stream1?lookup=1"
    now[0] += 59.9
    assert await cache.get() == "rtsp://camera/stream1?lookup=1"
    assert lookup.calls == 1

    now[0] += 0.2
    assert await cache.get() == "rtsp://camera/stream1?lookup=2"
    assert await cache.get() == "rtsp://camera/stream1?lookup=2"
    assert lookup.calls == 2


async def test_failing_lookup_reaches_every_waiter_and_the_next_get_retries() -> None:
    lookup = Lookup(gated=True)
    lookup.error = ConnectionError("camera unreachable")
    cache = CachedStreamUrl(lookup)

    callers = [asyncio.create_task(cache.get()) for _ in range(5)]
    async with asyncio.timeout(DEADLINE):
        await lookup.started.wait()
    lookup.gate.set()
    async with asyncio.timeout(DEADLINE):
        results = await asyncio.gather(*callers, return_exceptions=True)

    assert all(isinstance(result, ConnectionError) for result in results), results
    assert lookup.calls == 1

    lookup.error = None
    assert await cache.get() == "rtsp://camera/stream1?lookup=2"
    assert await cache.get() == "rtsp://camera/stream1?lookup=2"
    assert lookup.calls == 2


async def test_failed_lookup_nobody_waited_for_is_retried() -> None:
    lookup = Lookup(gated=True)
    lookup.error = TimeoutError("no answer")
    cache = CachedStreamUrl(lookup)

    quitter = asyncio.create_task(cache.get())
    async with asyncio.timeout(DEADLINE):
        await lookup.started.wait()
    quitter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await quitter
    in_flight = cache._in_flight
    assert in_flight is not None
    lookup.gate.set()
    async with asyncio.timeout(DEADLINE):
        await asyncio.wait([in_flight])

    lookup.error = None
    assert await cache.get() == "rtsp://camera/stream1?lookup=2"
    assert lookup.calls == 2
