"""The "scale" section of scripts/bench: 1, 10 and 50 simulated Tapo cameras on one Home Assistant.

Fifty `camsim tapo` processes, each on its own loopback address (127.0.4.x) with the 0.1 s answer
delay of bench/run.py, and one real `hass`. Cameras are added through the real config flow in three
steps (1, then 9, then 40 more); after each step, once every entry is loaded and 10 s have passed, HA's
process tree is measured: RSS, and CPU over 30 s with nobody watching (the coordinators' 30 s polls
and the ONVIF event subscriptions are what "idle" costs). With all fifty loaded: the cost of one more
viewer (MJPEG and WebRTC; the first of a camera starts its stream, the next joins it). Last, how long
loading takes: all entries disabled, then 1, 10 and 50 enabled at once, as at HA's start.

Goals (shared/DESIGN.md): linear; ≤ 10 MB and ≤ 0.5 % of a core idle per camera; 50 loaded in ≤ 2×
the time of one. The machine is shared: the load average at the start goes into the results.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from custom_components.camera_hub.const import DEFAULT_STREAM_LINGER
from scripts.lib.hass import HassProcess, start_onboarded
from scripts.lib.sims import Sim, stop_sim

from .measure import (
    cpu_seconds,
    cpu_share,
    load_average,
    main_thread_cpu_seconds,
    mjpeg_frames,
    p50,
    process_tree,
    rss_mb,
)
from .soak import (
    ViewerProcess,
    add_cameras,
    ha_session,
    hd_cameras,
    set_disabled,
    start_cameras,
    wait_loaded,
)

STEPS = (1, 10, 50)
IDLE_SECONDS = 30.0  # one coordinator poll per camera (UPDATE_INTERVAL)
SETTLE = 10.0
SETTLE_AFTER_START = 30.0
LOAD_TRIALS = 3
VIEWER_SECONDS = 15.0
VIEWER_SETTLE = 3.0
LINGER = DEFAULT_STREAM_LINGER + 5


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --- the figures -----------------------------------------------------------------------------


def _pct(share: float) -> float:
    return round(share * 100, 2)


async def _idle(hass: HassProcess) -> tuple[float, float]:
    """HA's RSS now and its CPU (share of a core) over IDLE_SECONDS with nobody watching."""
    rss = rss_mb(process_tree(hass.process.pid))
    share = await cpu_share(lambda: process_tree(hass.process.pid), IDLE_SECONDS)
    return rss, share


async def _mjpeg_viewer(session: aiohttp.ClientSession, camera: str) -> None:
    async with session.get(f"/api/camera_proxy_stream/{camera}") as response:
        async for _ in mjpeg_frames(response):
            pass


async def _ha_cpu(hass: HassProcess, seconds: float = VIEWER_SECONDS) -> tuple[float, float]:
    """Shares of a core over `seconds`: HA's process tree, and its event loop's thread alone."""
    pid = hass.process.pid
    tree, loop, start = cpu_seconds(process_tree(pid)), main_thread_cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(seconds)
    elapsed = time.monotonic() - start
    return (cpu_seconds(process_tree(pid)) - tree) / elapsed, (main_thread_cpu_seconds(pid) - loop) / elapsed


async def _mjpeg_costs(
    hass: HassProcess, session: aiohttp.ClientSession, camera: str
) -> list[tuple[float, float]]:
    """HA's CPU with 1, then 10 MJPEG viewers of a camera nobody watched before."""
    viewers: list[asyncio.Task[None]] = []
    shares = []
    try:
        for count in (1, 10):
            viewers += [
                asyncio.create_task(_mjpeg_viewer(session, camera)) for _ in range(count - len(viewers))
            ]
            await asyncio.sleep(VIEWER_SETTLE)
            shares.append(await _ha_cpu(hass))
    finally:
        for task in viewers:
            task.cancel()
        await asyncio.gather(*viewers, return_exceptions=True)
    return shares


async def _webrtc_costs(hass: HassProcess, camera: str) -> list[tuple[float, float]]:
    """HA's CPU with 1, then 10 WebRTC viewers (through HA, as the frontend opens them) of a camera
    nobody watched before. The viewers count frames without decoding, in a process of their own
    (bench/soak.py), so their cost stays off HA's cores as far as two cores allow."""
    shares = []
    for count in (1, 10):
        viewers = await ViewerProcess.start(hass, [camera], count, count_only=True)
        try:
            await asyncio.sleep(VIEWER_SETTLE)
            shares.append(await _ha_cpu(hass))
        finally:
            await viewers.stop()
    return shares


async def _viewer_costs(
    hass: HassProcess, session: aiohttp.ClientSession, cameras: list[str]
) -> dict[str, Any]:
    """With every camera loaded: the first viewer of a camera (its stream starts; MJPEG also decodes and
    encodes JPEG), and each viewer after it (the mean of 9 more); MJPEG on one camera, WebRTC on another
    (packets passed through: nothing decoded). Against a fresh idle window before each."""
    figures: dict[str, Any] = {}
    for kind, camera in (("mjpeg", cameras[1]), ("webrtc", cameras[2])):
        idle = await _ha_cpu(hass)
        one, ten = await (
            _mjpeg_costs(hass, session, camera) if kind == "mjpeg" else _webrtc_costs(hass, camera)
        )
        figures[kind] = {
            "idle_pct": _pct(idle[0]),
            "one_viewer_pct": _pct(one[0]),
            "ten_viewers_pct": _pct(ten[0]),
            "first_pct": _pct(one[0] - idle[0]),
            "next_pct": _pct((ten[0] - one[0]) / 9),
            "loop_first_pct": _pct(one[1] - idle[1]),
            "loop_next_pct": _pct((ten[1] - one[1]) / 9),
        }
        log(f"scale: {kind} viewers: {figures[kind]}")
        await asyncio.sleep(LINGER)  # the stream closes behind its last viewer: back to idle
    return figures


async def _load_times(session: aiohttp.ClientSession, token: str, entry_ids: list[str]) -> dict[str, Any]:
    """Seconds from enabling N entries at once until all N are loaded, from all disabled; the median of
    LOAD_TRIALS, since one trial on a shared machine can land on someone else's burst."""
    trials: dict[str, list[float]] = {str(count): [] for count in STEPS}
    await set_disabled(session, token, entry_ids, True)
    for _ in range(LOAD_TRIALS):
        for count in STEPS:
            ids = entry_ids[:count]
            start = time.monotonic()
            await set_disabled(session, token, ids, False)
            await wait_loaded(session, ids)
            trials[str(count)].append(round(time.monotonic() - start, 2))
            await set_disabled(session, token, ids, True)
    await set_disabled(session, token, entry_ids, False)
    log(f"scale: seconds until N enabled at once are loaded: {trials}")
    return {"median": {n: p50(times) for n, times in trials.items()}, "trials": trials}


def _camsims_cpu(sims: list[Sim]) -> float:
    return cpu_seconds([sim.process.pid for sim in sims])


async def bench_scale() -> dict[str, Any]:
    load = load_average()
    log(f"scale: 1, 10, 50 cameras on one HA; load average at start {load}")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="camera-hub-bench-scale-") as tmp:
        sims: list[Sim] = []
        hass: HassProcess | None = None
        try:
            sims = start_cameras(STEPS[-1], "127.0.4")
            log(f"scale: {len(sims)} camsims up after {time.monotonic() - started:.0f} s")
            hass = await start_onboarded(Path(tmp) / "hass", log_level="warning")
            await asyncio.sleep(SETTLE_AFTER_START)  # HA's own start-up work would count as idle
            async with ha_session(hass) as session:
                rss: dict[str, float] = {}
                idle: dict[str, float] = {}
                rss["0"], idle["0"] = await _idle(hass)
                entry_ids: list[str] = []
                flows_s = 0.0
                for count in STEPS:
                    start = time.monotonic()
                    entry_ids += await add_cameras(hass, sims[len(entry_ids) : count])
                    await wait_loaded(session, entry_ids)
                    flows_s += time.monotonic() - start
                    await asyncio.sleep(SETTLE)
                    camsim_before = _camsims_cpu(sims[:count])
                    rss[str(count)], idle[str(count)] = await _idle(hass)
                    camsim_idle = (_camsims_cpu(sims[:count]) - camsim_before) / IDLE_SECONDS
                    log(
                        f"scale: {count} loaded; HA RSS {rss[str(count)]:.0f} MB, "
                        f"idle CPU {idle[str(count)] * 100:.2f} % of a core"
                    )
                cameras = await hd_cameras(session, hass.token, entry_ids)
                viewers = await _viewer_costs(hass, session, cameras)
                load_s = await _load_times(session, hass.token, entry_ids)
        finally:
            if hass is not None:
                hass.stop()
            for sim in sims:
                stop_sim(sim)
    return _figures(load, rss, idle, viewers, load_s, flows_s, camsim_idle, time.monotonic() - started)


def _figures(
    load: list[float],
    rss: dict[str, float],
    idle: dict[str, float],
    viewers: dict[str, Any],
    load_s: dict[str, Any],
    flows_s: float,
    camsim_idle: float,
    seconds: float,
) -> dict[str, Any]:
    last = STEPS[-1]
    return {
        "load_avg_start": load,
        "cameras": list(STEPS),
        "load_s": load_s["median"],
        "load_s_trials": load_s["trials"],
        "load_ratio_50_to_1": round(load_s["median"][str(last)] / load_s["median"]["1"], 2),
        "rss_mb": {n: round(v, 1) for n, v in rss.items()},
        "rss_first_camera_mb": round(rss["1"] - rss["0"], 1),
        "rss_per_camera_mb_1_to_10": round((rss["10"] - rss["1"]) / 9, 2),
        "rss_per_camera_mb": round((rss[str(last)] - rss["10"]) / (last - 10), 2),
        "idle_cpu_pct": {n: _pct(v) for n, v in idle.items()},
        "idle_cpu_per_camera_pct_10": round((idle["10"] - idle["0"]) * 100 / 10, 3),
        "idle_cpu_per_camera_pct": round((idle[str(last)] - idle["0"]) * 100 / last, 3),
        "camsims_idle_cpu_pct_50": _pct(camsim_idle),
        "viewer": viewers,
        "viewer_first_mjpeg_pct": viewers["mjpeg"]["first_pct"],
        "viewer_next_mjpeg_pct": viewers["mjpeg"]["next_pct"],
        "viewer_next_webrtc_pct": viewers["webrtc"]["next_pct"],
        "config_flows_s": round(flows_s, 1),
        "seconds": round(seconds, 1),
    }
