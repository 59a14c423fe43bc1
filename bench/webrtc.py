"""The "webrtc" section of scripts/bench: native WebRTC live view from the frame hub.

- first frame: offer → first decoded frame for a new viewer of a warm hub, at random GOP phases,
  with the GOP cache (ours) and with live packets only (the baseline: waits for the next keyframe).
  Both in this process with the same code, so the one difference is the cache; then ours again
  through Home Assistant's `camera/webrtc/offer`, the path a browser takes.
- cost: HA's CPU and RSS with 1 and 10 WebRTC viewers of one camera (the viewers run here, so their
  decoding is not counted), upstream sessions camsim sees, bits per second each viewer is sent.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from custom_components.camera_hub.streaming.frames import FrameHub
from custom_components.camera_hub.streaming.webrtc import WebRtcServer
from scripts.lib.sims import Sim
from scripts.lib.webrtc_client import HaWebRtcSession, WebRtcViewer

from .measure import cpu_share, p50, percentile, process_tree, rss_mb

TRIALS = 12


def _stats(values: list[float]) -> dict[str, float]:
    return {"p50_ms": round(p50(values), 1), "p95_ms": round(percentile(values, 95), 1), "n": len(values)}


async def _first_frame_in_process(server: WebRtcServer, session_id: str) -> float:
    viewer = WebRtcViewer()
    try:
        offer = await viewer.offer()
        start = time.monotonic()
        await viewer.accept(await server.async_answer(offer, session_id))
        await viewer.next_frame()
        return (time.monotonic() - start) * 1000
    finally:
        await viewer.close()
        server.close(session_id)


async def first_frame_cache_vs_live(rtsp_url: str, gop: float) -> dict[str, Any]:
    """Alternating trials at random GOP phases on one warm hub: with the GOP cache, without."""

    async def source() -> str:
        return rtsp_url

    hub = FrameHub(source, linger=0, name="bench")
    await hub.async_start_warm()
    cached, live = WebRtcServer(hub), WebRtcServer(hub, replay_gop=False)
    ours: list[float] = []
    baseline: list[float] = []
    try:
        deadline = time.monotonic() + 20
        while hub.gop_cache_bytes == 0:
            if time.monotonic() > deadline:
                raise TimeoutError("the hub cached no keyframe")
            await asyncio.sleep(0.05)
        for trial in range(TRIALS):
            await asyncio.sleep(random.uniform(0, gop))
            ours.append(await _first_frame_in_process(cached, f"c{trial}"))
            await asyncio.sleep(random.uniform(0, gop))
            baseline.append(await _first_frame_in_process(live, f"l{trial}"))
    finally:
        await cached.async_close_all()
        await live.async_close_all()
        await hub.async_stop()
    return {
        "gop_cache": _stats(ours),
        "live_only_baseline": _stats(baseline),
        "ratio": round(p50(ours) / p50(baseline), 2),
    }


async def _first_frame_via_ha(http: aiohttp.ClientSession, token: str, camera: str) -> float:
    start = time.monotonic()
    session = await HaWebRtcSession.open(http, token, camera)
    try:
        await session.viewer.next_frame()
        return (time.monotonic() - start) * 1000
    finally:
        await session.close()


async def first_frame_via_ha(
    http: aiohttp.ClientSession, token: str, camera: str, gop: float
) -> dict[str, Any]:
    keeper = await HaWebRtcSession.open(http, token, camera)  # keeps the hub warm, as a viewer would
    try:
        await keeper.viewer.next_frame()
        times = []
        for _ in range(TRIALS):
            await asyncio.sleep(random.uniform(0, gop))
            times.append(await _first_frame_via_ha(http, token, camera))
    finally:
        await keeper.close()
    return _stats(times)


async def _with_viewers[T](
    http: aiohttp.ClientSession, token: str, camera: str, count: int, measure: Callable[[], Awaitable[T]]
) -> T:
    sessions = [await HaWebRtcSession.open(http, token, camera) for _ in range(count)]
    frames = 0

    async def watch(session: HaWebRtcSession) -> None:
        nonlocal frames
        while True:
            await session.viewer.next_frame()
            frames += 1

    watchers = [asyncio.create_task(watch(s)) for s in sessions]
    try:
        await asyncio.sleep(2)  # every viewer in steady state before measuring
        return await measure()
    finally:
        for task in watchers:
            task.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)
        for session in sessions:
            await session.close()


async def viewer_cost(
    http: aiohttp.ClientSession, token: str, camera: str, hass_pid: int, sim: Sim, seconds: float = 30
) -> dict[str, Any]:
    def ha_tree() -> list[int]:
        return process_tree(hass_pid)

    async def cpu_and_rss() -> tuple[float, float, int]:
        share = await cpu_share(ha_tree, seconds)
        state = await asyncio.get_running_loop().run_in_executor(None, sim.state)
        return share, rss_mb(ha_tree()), int(state["counters"]["rtsp_sessions_open"])

    rss_idle = rss_mb(ha_tree())
    cpu_1, rss_1, _ = await _with_viewers(http, token, camera, 1, cpu_and_rss)
    cpu_10, rss_10, upstream = await _with_viewers(http, token, camera, 10, cpu_and_rss)
    return {
        "cpu_1_pct": round(cpu_1 * 100, 2),
        "cpu_10_pct": round(cpu_10 * 100, 2),
        "ratio": round(cpu_10 / cpu_1, 2),
        "upstream_sessions_10": upstream,
        "rss_per_viewer_mb": round((rss_10 - rss_1) / 9, 2),
        "rss_idle_mb": round(rss_idle, 1),
    }


async def bitrate_per_viewer(rtsp_url: str, seconds: float = 5) -> dict[str, Any]:
    """Bits per second sent to each of 3 viewers, next to what the camera sends the hub."""

    async def source() -> str:
        return rtsp_url

    hub = FrameHub(source, linger=0, name="bench")
    server = WebRtcServer(hub)
    viewers = []
    try:
        for i in range(3):
            viewer = WebRtcViewer()
            await viewer.accept(await server.async_answer(await viewer.offer(), f"b{i}"))
            await viewer.next_frame()
            viewers.append(viewer)
        tracks = [server.track(session_id) for session_id in server.session_ids]
        sent_before = [t.sent_bytes for t in tracks]
        camera_before = hub.received_bytes
        await asyncio.sleep(seconds)
        per_viewer = [(t.sent_bytes - b) * 8 / seconds for t, b in zip(tracks, sent_before, strict=True)]
        camera = (hub.received_bytes - camera_before) * 8 / seconds
    finally:
        for viewer in viewers:
            await viewer.close()
        await server.async_close_all()
        await hub.async_stop()
    return {
        "camera_kbit_s": round(camera / 1000, 1),
        "per_viewer_kbit_s": [round(v / 1000, 1) for v in per_viewer],
    }
