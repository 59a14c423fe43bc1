"""The "usb" bench section: MJPEG viewers of a USB webcam, Camera Hub beside HA's ffmpeg camera.

Its own `hass` (with the discovery seam pointed at `camsim usb`) and its own webcams: eleven simulated
1280×720@30 MJPEG webcams, the first added through the real config flow.

* ours: HA's CPU (process tree) over 30 s with 1, then 10 clients of `/api/camera_proxy_stream`;
  frames per second each viewer got, and the frames the webcam wrote meanwhile (none dropped means
  every viewer got every frame the device sent).
* baseline: HA's `ffmpeg` camera opens one ffmpeg per MJPEG viewer (`-i <device> -an -c:v mjpeg -f
  mpjpeg`, its default `-pred 1`): it decodes and re-encodes every frame. A real webcam refuses a
  second ffmpeg with EBUSY and a FIFO would split its bytes between readers, so the 10-viewer baseline
  reads 10 *identical* webcams (devices 2–11), one ffmpeg each: its best case.
* device opens: 20 viewers and 20 snapshots at once; camsim's count of processes with the device open,
  and HA's own descriptors on it (goal: 1).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from asyncio.subprocess import DEVNULL
from pathlib import Path
from typing import Any

import aiohttp

from scripts.lib.hass import HassProcess, add_usb_camera, start_onboarded, ws_command
from scripts.lib.sims import Sim, start_usb_sim, stop_sim

from .measure import cpu_share, mjpeg_frames, process_tree

DESCRIPTION_ENV = "CAMERA_HUB_V4L2_DESCRIPTION"
SECONDS = 30.0  # clock ticks are 10 ms: 30 s reads a share to ±0.03 % of a core
SETTLE = 2.0
# HA's ffmpeg camera: haffmpeg's CameraMjpeg with the integration's default extra arguments.
FFMPEG_CAMERA = ("-pred", "1", "-an", "-c:v", "mjpeg", "-f", "mpjpeg")
MJPEG_INPUT = ("-f", "mjpeg", "-probesize", "32", "-analyzeduration", "1", "-fflags", "nobuffer")


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _device(sim: Sim, index: int) -> dict[str, Any]:
    state: dict[str, Any] = sim.state()["devices"][sim.info["devices"][index]]
    return state


def _fds_on(pids: list[int], node: str) -> int:
    target = os.path.realpath(node)
    count = 0
    for pid in pids:
        try:
            descriptors = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in descriptors:
            try:
                count += os.readlink(fd) == target
            except OSError:
                continue
    return count


async def _viewer(
    session: aiohttp.ClientSession, camera: str, frames: list[int], i: int, stop: asyncio.Event
) -> None:
    async with session.get(f"/api/camera_proxy_stream/{camera}") as response:
        async for _ in mjpeg_frames(response):
            frames[i] += 1
            if stop.is_set():
                return


async def _ours(
    session: aiohttp.ClientSession, hass: HassProcess, camera: str, sim: Sim, count: int
) -> dict[str, Any]:
    stop = asyncio.Event()
    frames = [0] * count
    tasks = [asyncio.create_task(_viewer(session, camera, frames, i, stop)) for i in range(count)]
    await asyncio.sleep(SETTLE)
    start_frames, written = list(frames), _device(sim, 0)["frames_written"]
    started = time.monotonic()
    share = await cpu_share(lambda: process_tree(hass.process.pid), SECONDS)
    elapsed = time.monotonic() - started
    got = [now - before for now, before in zip(frames, start_frames, strict=True)]
    device = _device(sim, 0)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    sent = device["frames_written"] - written
    return {
        "cpu_pct": round(share * 100, 2),
        "device_fps": round(sent / elapsed, 1),
        "fps_per_viewer_min": round(min(got) / elapsed, 1),
        "fps_per_viewer_max": round(max(got) / elapsed, 1),
        # Frames the device sent in the window that the slowest viewer did not get (±1 at the edges).
        "dropped_per_viewer_max": max(0, sent - min(got)),
        "device_frames_dropped": device["frames_dropped"],
    }


async def _ffmpeg(sim: Sim, devices: range) -> float:
    processes = [
        await asyncio.create_subprocess_exec(
            "ffmpeg", "-loglevel", "error", *MJPEG_INPUT, "-i", sim.info["devices"][i], *FFMPEG_CAMERA, "-",
            stdout=DEVNULL,
        )
        for i in devices
    ]  # fmt: skip
    await asyncio.sleep(SETTLE)
    share = await cpu_share(lambda: [p.pid for p in processes], SECONDS)
    for process in processes:
        process.terminate()
        await process.wait()
    return share


async def _opens(session: aiohttp.ClientSession, hass: HassProcess, camera: str, sim: Sim) -> dict[str, Any]:
    stop = asyncio.Event()
    frames = [0] * 20
    tasks = [asyncio.create_task(_viewer(session, camera, frames, i, stop)) for i in range(20)]

    async def snapshot() -> bytes:
        async with session.get(f"/api/camera_proxy/{camera}") as response:
            return await response.read()

    images = await asyncio.gather(*(snapshot() for _ in range(20)))
    await asyncio.sleep(SETTLE)
    device = _device(sim, 0)
    fds = _fds_on(process_tree(hass.process.pid), device["node"])
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "viewers": 20,
        "snapshots": sum(image.startswith(b"\xff\xd8") for image in images),
        "viewers_with_frames": sum(n > 0 for n in frames),
        "processes_with_device_open": device["readers"],
        "ha_descriptors_on_device": fds,
    }


async def bench_usb() -> dict[str, Any]:
    log("usb: 1 and 10 MJPEG viewers of a 1280x720@30 webcam vs one ffmpeg per viewer; device opens")
    with tempfile.TemporaryDirectory(prefix="camera-hub-bench-usb-") as tmp:
        sim = start_usb_sim("--devices", "11", "--size", "1280x720", "--fps", "30", "--dir", f"{tmp}/webcams")
        hass: HassProcess | None = None
        try:
            env = {DESCRIPTION_ENV: sim.info["description"]}
            hass = await start_onboarded(Path(tmp) / "hass", log_level="warning", env=env)
            result = await add_usb_camera(hass, sim.info["devices"][0])
            assert result["type"] == "create_entry", result
            headers = {"Authorization": f"Bearer {hass.token}"}
            async with aiohttp.ClientSession(hass.url, headers=headers) as session:
                entities = await ws_command(session, hass.token, {"type": "config/entity_registry/list"})
                camera = next(e["entity_id"] for e in entities if e["platform"] == "camera_hub")
                one = await _ours(session, hass, camera, sim, 1)
                ten = await _ours(session, hass, camera, sim, 10)
                opens = await _opens(session, hass, camera, sim)
            base_1 = await _ffmpeg(sim, range(1, 2))
            base_10 = await _ffmpeg(sim, range(1, 11))
        finally:
            if hass is not None:
                hass.stop()
            stop_sim(sim)
    return {
        "webcam": "1280x720@30 MJPEG (camsim usb)",
        "one_viewer": one,
        "ten_viewers": ten,
        "cpu_1": one["cpu_pct"],
        "cpu_10": ten["cpu_pct"],
        "ratio": round(ten["cpu_pct"] / one["cpu_pct"], 2),
        "baseline_cpu_1": round(base_1 * 100, 1),
        "baseline_cpu_10": round(base_10 * 100, 1),
        "baseline_ratio": round(base_10 / base_1, 2),
        "fps_per_viewer_min_10": ten["fps_per_viewer_min"],
        "device_opens": opens,
        "device_opens_40": opens["ha_descriptors_on_device"],
    }
