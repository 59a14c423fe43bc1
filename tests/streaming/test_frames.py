"""FrameHub against a real camsim camera: one upstream per stream, fan-out, linger, reconnect, no leaks.

Every test checks behaviour — what consumers receive and what camsim counts — never how fast. Waits
are on frames and events, or polls with a deadline. camsim's state endpoint is blocking HTTP, so it is
read in the executor. Frames carry camsim's burned-in timestamp, which tells them apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from camsim import timestamp
from custom_components.camera_hub.streaming.frames import Frame, FrameHub
from tests.helpers.camsim import Sim, running_sim

pytestmark = pytest.mark.usefixtures("socket_enabled")

SIM_ARGS = ("--gop", "0.5", "--fps", "15", "--size", "320x180")
DEADLINE = 20.0  # seconds any awaited condition may take before the test fails
WORKER_PREFIX = "camera_hub frames"

type UrlFn = Callable[[], Coroutine[Any, Any, str]]


@pytest.fixture(scope="module")
def sim() -> Iterator[Sim]:
    """One camera for the tests that inject no faults (they compare counters before and after)."""
    with running_sim(*SIM_ARGS) as running:
        yield running


@pytest.fixture
def own_sim() -> Iterator[Sim]:
    """A camera of the test's own, for fault injection."""
    with running_sim(*SIM_ARGS) as running:
        yield running


# --- helpers -------------------------------------------------------------------------------------


def rtsp_url(sim: Sim) -> str:
    parts = urlsplit(str(sim.info["rtsp"][0]))
    return urlunsplit(parts._replace(netloc=f"camuser:campass@{parts.netloc}"))


def url_of(sim: Sim) -> UrlFn:
    url = rtsp_url(sim)

    async def lookup() -> str:
        return url

    return lookup


async def counters(sim: Sim) -> dict[str, int]:
    state = await asyncio.get_running_loop().run_in_executor(None, sim.state)
    return {key: int(value) for key, value in state["counters"].items()}


async def sessions_total(sim: Sim) -> int:
    return (await counters(sim))["rtsp_sessions_total"]


async def inject(sim: Sim, **faults: Any) -> None:
    await asyncio.get_running_loop().run_in_executor(None, lambda: sim.inject(**faults))


async def poll(condition: Callable[[], Awaitable[bool]], what: str, interval: float = 0.05) -> None:
    deadline = time.monotonic() + DEADLINE
    while not await condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        await asyncio.sleep(interval)


async def wait_sessions_open(sim: Sim, expected: int) -> None:
    async def reached() -> bool:
        return (await counters(sim))["rtsp_sessions_open"] == expected

    await poll(reached, f"camsim has {expected} RTSP sessions open")


def workers() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name.startswith(WORKER_PREFIX)]


def stamp(frame: Frame) -> int:
    """camsim's burned-in timestamp (epoch ms); raises when the JPEG does not carry a readable one."""
    return timestamp.read(frame.jpeg)


async def next_frame(frames: AsyncIterator[Frame]) -> Frame:
    async with asyncio.timeout(DEADLINE):
        return await anext(frames)


@contextlib.asynccontextmanager
async def watching(hub: FrameHub) -> AsyncIterator[AsyncIterator[Frame]]:
    """`hub.frames()`, closed when the block ends (that is how a consumer leaves)."""
    frames = hub.frames()
    try:
        yield frames
    finally:
        assert isinstance(frames, AsyncGenerator)
        await frames.aclose()


@contextlib.asynccontextmanager
async def stopping(hub: FrameHub) -> AsyncIterator[FrameHub]:
    """Stop the hub whatever happens, so no worker outlives the test."""
    try:
        yield hub
    finally:
        await hub.async_stop()


# --- fan-out and slow consumers ------------------------------------------------------------------


async def test_many_consumers_share_one_upstream_session(sim: Sim) -> None:
    before = await sessions_total(sim)
    hub = FrameHub(url_of(sim), linger=0)
    consumers = 5
    frames_each = 4

    async def consume() -> list[int]:
        async with watching(hub) as frames:
            return [stamp(await next_frame(frames)) for _ in range(frames_each)]

    async with stopping(hub):
        received = await asyncio.gather(*(consume() for _ in range(consumers)))

    assert all(len(stamps) == frames_each for stamps in received)
    for stamps in received:
        assert stamps == sorted(stamps)
    # They watched the same stream: frames decoded once reached every consumer.
    assert set.intersection(*(set(stamps) for stamps in received))
    assert hub.upstream_sessions == 1
    assert await sessions_total(sim) - before == 1
    assert not workers()
    await wait_sessions_open(sim, 0)


async def test_slow_consumer_does_not_hold_up_a_fast_one(sim: Sim) -> None:
    hub = FrameHub(url_of(sim), linger=0)
    wanted = 6

    async with (
        stopping(hub),
        watching(hub) as slow,
        watching(hub) as fast,
    ):
        first_slow = stamp(await next_frame(slow))  # ...and then it stops reading for a while
        fast_stamps: list[int] = []
        while len(set(fast_stamps)) < wanted:
            fast_stamps.append(stamp(await next_frame(fast)))
        assert fast_stamps == sorted(fast_stamps)
        assert fast_stamps[-1] > first_slow

        # The slow reader skipped what it missed: its next frame is a fresh one, not its oldest.
        assert stamp(await next_frame(slow)) >= fast_stamps[-1]

    assert hub.upstream_sessions == 1
    await wait_sessions_open(sim, 0)


# --- snapshots ----------------------------------------------------------------------------------


async def test_snapshot_returns_a_camera_jpeg(sim: Sim) -> None:
    started_ms = time.time() * 1000
    hub = FrameHub(url_of(sim), linger=0)

    async with stopping(hub):
        frame = await hub.snapshot(max_age=5.0)

    assert frame is not None
    assert frame.jpeg.startswith(b"\xff\xd8")
    # A frame of this session: taken after the hub started (1 s of slack for camsim's frame clock).
    assert stamp(frame) > started_ms - 1000
    await wait_sessions_open(sim, 0)


async def test_concurrent_snapshots_share_one_upstream_session(sim: Sim) -> None:
    before = await sessions_total(sim)
    hub = FrameHub(url_of(sim), linger=60)

    async with stopping(hub):
        async with asyncio.timeout(DEADLINE):
            snapshots = await asyncio.gather(*(hub.snapshot(max_age=5.0) for _ in range(8)))

        assert all(snapshot is not None for snapshot in snapshots)
        for snapshot in snapshots:
            assert snapshot is not None
            stamp(snapshot)
        assert hub.upstream_sessions == 1
        assert await sessions_total(sim) - before == 1

        # Within the linger the hub holds a fresh frame: that one is served, no new frame awaited.
        latest = hub.latest(max_age=60)
        assert latest is not None
        fresh = await hub.snapshot(max_age=60)
        assert fresh is not None
        assert fresh.taken == latest.taken

        # With nothing fresh enough it waits for the stream's next frame, on the same session.
        newer = await hub.snapshot(max_age=0)
        assert newer is not None
        assert newer.taken > latest.taken
        assert stamp(newer) > stamp(fresh)
        assert await sessions_total(sim) - before == 1

    await wait_sessions_open(sim, 0)


# --- life cycle ---------------------------------------------------------------------------------


async def test_hub_lingers_after_the_last_consumer_then_stops(sim: Sim) -> None:
    before = await sessions_total(sim)
    hub = FrameHub(url_of(sim), linger=60)

    async with stopping(hub):
        assert await hub.snapshot(max_age=5.0) is not None
        assert hub.running  # no consumer left, but lingering

        # A consumer within the linger reuses the running upstream.
        async with watching(hub) as frames:
            stamp(await next_frame(frames))
            stamp(await next_frame(frames))
        assert hub.running
        assert hub.upstream_sessions == 1
        assert await sessions_total(sim) - before == 1

        # After a (short) linger with nobody back, it stops and closes its session.
        hub.linger = 0.2
        async with hub.consumer():
            pass
        assert hub.running

        async def stopped() -> bool:
            return not hub.running

        await poll(stopped, "the hub stops after its linger")
        await wait_sessions_open(sim, 0)

    assert not workers()  # async_stop joined the worker the linger timer stopped
    assert await sessions_total(sim) - before == 1


async def test_new_consumer_right_after_linger_stop_gets_one_upstream(sim: Sim) -> None:
    """A restart while the stopped worker is still finishing its last read must not revive it."""
    hub = FrameHub(url_of(sim), linger=0)

    async def stopped() -> bool:
        return not hub.running

    async def one_worker_one_session() -> bool:
        return len(workers()) == 1 and (await counters(sim))["rtsp_sessions_open"] == 1

    async with stopping(hub):
        for _ in range(3):
            async with watching(hub) as frames:
                stamp(await next_frame(frames))
            # linger 0: the stop is due on the loop's next turn; come back the moment it happened.
            await poll(stopped, "the hub stops after its linger", interval=0)
            async with watching(hub) as frames:
                stamp(await next_frame(frames))
                await poll(one_worker_one_session, "the old worker is gone and one session is left")
            await poll(stopped, "the hub stops after its linger", interval=0)

    assert not workers()
    await wait_sessions_open(sim, 0)


async def test_keep_warm_runs_without_consumers_until_stopped(sim: Sim) -> None:
    before = await sessions_total(sim)
    hub = FrameHub(url_of(sim), linger=0)

    await hub.async_start_warm()
    try:
        assert hub.running

        async def has_gop() -> bool:
            return hub.gop_cache_bytes > 0

        await poll(has_gop, "the warm hub caches the camera's packets with no consumer")
        await wait_sessions_open(sim, 1)
        # Nobody needs pictures: the warm hub keeps the upstream but decodes nothing.
        assert hub.decoded_frames == 0
        assert hub.latest() is None

        # A snapshot decodes the cached GOP and gets the newest picture from the same session.
        first = await hub.snapshot(max_age=5.0)
        assert first is not None
        stamp(first)

        # A consumer that comes and goes does not end a warm hub, even with linger 0.
        async with hub.consumer():
            pass
        newer = await hub.snapshot(max_age=0)
        assert newer is not None
        assert stamp(newer) > stamp(first)
        assert hub.running
        assert len(workers()) == 1
    finally:
        await hub.async_stop()

    assert not hub.running
    assert not hub.keep_warm
    assert not workers()
    assert hub.upstream_sessions == 1
    assert await sessions_total(sim) - before == 1
    await wait_sessions_open(sim, 0)


async def test_stop_while_a_consumer_is_inside_leaves_nothing_behind(sim: Sim) -> None:
    """HA unloading the camera while a viewer is connected: the viewer leaving later arms no timer."""
    hub = FrameHub(url_of(sim), linger=30)

    async with hub.consumer():
        assert await hub.snapshot(max_age=5.0) is not None
        await hub.async_stop()
        assert not hub.running
        assert not workers()

    assert not hub.running
    assert hub._linger_handle is None  # verify_cleanup would also fail the test on a lingering timer
    await hub.async_stop()
    await wait_sessions_open(sim, 0)


# --- reconnect ----------------------------------------------------------------------------------


async def test_consumer_sees_a_gap_not_an_error_when_the_upstream_drops(own_sim: Sim) -> None:
    upstream_errors = asyncio.Event()
    hub = FrameHub(url_of(own_sim), linger=0, on_upstream_error=upstream_errors.set)

    async with stopping(hub), watching(hub) as frames:
        stamp(await next_frame(frames))
        before = await sessions_total(own_sim)

        await inject(own_sim, rtsp_drop=True)
        try:
            async with asyncio.timeout(DEADLINE):
                await upstream_errors.wait()
            await wait_sessions_open(own_sim, 0)
        finally:
            await inject(own_sim)
        cleared_ms = time.time() * 1000

        # The same iterator carries on with frames of the new session.
        async with asyncio.timeout(DEADLINE):
            while stamp(await anext(frames)) <= cleared_ms:
                pass
        assert await sessions_total(own_sim) > before
        assert hub.upstream_sessions >= 2
        assert hub.running

    assert not workers()
    await wait_sessions_open(own_sim, 0)


# --- no leaks -----------------------------------------------------------------------------------


async def test_start_stop_cycles_leave_no_threads_or_sessions(sim: Sim) -> None:
    """100 cycles: stop before the worker opens, while it opens the stream (camsim has counted the
    session, PyAV is still in `av.open` or at its first packet), or after frames arrived."""
    loop = asyncio.get_running_loop()
    threads_before = set(threading.enumerate())
    sessions_before = await sessions_total(sim)
    hub = FrameHub(url_of(sim), linger=30)

    async with stopping(hub):
        for cycle in range(100):
            mid_open = cycle % 4 == 1
            total = await sessions_total(sim) if mid_open else 0

            async def session_set_up(total: int = total) -> bool:
                return await sessions_total(sim) > total

            async with hub.consumer():
                assert hub.running
                if cycle % 20 == 0:
                    async with watching(hub) as frames:
                        stamp(await next_frame(frames))
                elif mid_open:
                    await poll(session_set_up, "the worker sets up its RTSP session")
            await hub.async_stop()
            assert not hub.running
            assert not workers(), f"worker alive after stop in cycle {cycle}"

    executor = getattr(loop, "_default_executor", None)  # its pool threads live until the loop ends
    pool = set(executor._threads) if executor is not None else set()
    assert set(threading.enumerate()) - threads_before - pool == set()
    assert await sessions_total(sim) - sessions_before >= 30  # 5 cycles with frames, 25 stopped mid-open
    await wait_sessions_open(sim, 0)
