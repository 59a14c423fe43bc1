"""The "soak" section of scripts/bench: ten cameras watched for `--minutes` (default 10).

Ten `camsim tapo` cameras (320×180 at 15 fps, GOP 2 s, each on its own loopback address 127.0.5.x)
on one real `hass`; each camera has 5 MJPEG viewers, 5 WebRTC viewers (through HA's
`camera/webrtc/offer`, as the frontend opens them) and a snapshot a second. Every 10 s HA's process
tree is sampled: RSS, open descriptors, threads, child processes and CPU. Reported: the curve, the
growth per hour by least squares (goal ≈ 0) and the frames every viewer got against the frames the
cameras sent meanwhile (goal ≥ 99 %).

The viewers must not eat the cores HA is measured on. 50 decoding aiortc viewers would: so the
cameras are small, the WebRTC viewers live in two processes of their own, and only one viewer per
camera decodes (and reads camsim's burned-in clock, so the pictures are shown to be live); the other
four count frames at the track, after aiortc has received the RTP, decrypted it (SRTP), sent its
RTCP and reassembled each frame from its packets, with aiortc's H.264 decoder replaced by one that
hands the reassembled frame on. For HA nothing differs: it sends every viewer the same packets.
The MJPEG viewers and the snapshots run in this process. What each of those costs is reported too.

Run as `python -m bench.soak --url URL --cameras a,b --per-camera N [--count-only]` (the token in
CAMERA_HUB_BENCH_TOKEN) it is one of those viewer processes: it prints `{"ready": n}` once every
viewer has a frame, then answers each `count` line on stdin with the frames each viewer got so far,
and leaves on `stop`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from asyncio.subprocess import PIPE
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiortc import rtcrtpreceiver
from aiortc.codecs import get_decoder
from aiortc.codecs.base import Decoder
from aiortc.jitterbuffer import JitterFrame
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from camsim import timestamp
from scripts.lib.hass import HassProcess, add_tapo_camera, start_onboarded, ws_command
from scripts.lib.sims import Sim, start_sim, stop_sim
from scripts.lib.webrtc_client import HaWebRtcSession

from .measure import (
    cpu_seconds,
    growth_per_hour,
    load_average,
    main_thread_cpu_seconds,
    mjpeg_frames,
    open_fds,
    p50,
    percentile,
    process_tree,
    rss_mb,
    thread_count,
)

ROOT = Path(__file__).resolve().parents[1]
CAMERAS = 10
MJPEG_PER_CAMERA = 5
WEBRTC_PER_CAMERA = 5
DECODED_PER_CAMERA = 1
FPS = 15
SIZE = "320x180"
GOP = 2.0
SAMPLE_EVERY = 10.0
SETTLE = 10.0
SUBNET = "127.0.5"
TOKEN_ENV = "CAMERA_HUB_BENCH_TOKEN"
RESPONSE_DELAY = 0.1  # as in bench/run.py: a real Tapo camera's slow CPU
FLOWS_AT_ONCE = 5
# A count line carries every decoded viewer's once-a-second latency since the last count: over a long
# soak far more than asyncio's 64 KiB line limit.
LINE_LIMIT = 16 * 1024 * 1024


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --- cameras on one HA (shared with bench/scale.py) -------------------------------------------


def start_cameras(count: int, subnet: str, *args: str) -> list[Sim]:
    """`count` camsim processes on subnet.1, subnet.2, …, started in parallel (each imports PyAV)."""

    def one(i: int) -> Sim:
        model = "C200" if i == 0 else "C100"
        return start_sim(
            "--model", model, "--response-delay", str(RESPONSE_DELAY), *args, host=f"{subnet}.{i + 1}"
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(one, range(count)))


async def add_cameras(hass: HassProcess, sims: list[Sim]) -> list[str]:
    """Add each camera through the real config flow, a few flows at a time; their entry ids, in order."""
    gate = asyncio.Semaphore(FLOWS_AT_ONCE)

    async def add(sim: Sim) -> str:
        async with gate:
            result = await add_tapo_camera(hass, sim.info)
        assert result["type"] == "create_entry", result
        return str(result["result"]["entry_id"])

    return list(await asyncio.gather(*(add(sim) for sim in sims)))


async def hd_cameras(session: aiohttp.ClientSession, token: str, entry_ids: list[str]) -> list[str]:
    """The HD camera entity of each entry (its unique id ends in "_hd"; names repeat)."""
    entities = await ws_command(session, token, {"type": "config/entity_registry/list"})
    by_entry = {e["config_entry_id"]: e["entity_id"] for e in entities if e["unique_id"].endswith("_hd")}
    return [by_entry[e] for e in entry_ids]


@asynccontextmanager
async def ha_session(hass: HassProcess) -> AsyncIterator[aiohttp.ClientSession]:
    """HA's REST/WebSocket API with no cap on parallel connections (the bench opens a hundred)."""
    headers = {"Authorization": f"Bearer {hass.token}"}
    timeout = aiohttp.ClientTimeout(total=None, sock_read=60)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(hass.url, headers=headers, timeout=timeout, connector=connector) as s:
        yield s


async def entry_states(session: aiohttp.ClientSession) -> dict[str, str]:
    async with session.get("/api/config/config_entries/entry", params={"domain": "camera_hub"}) as r:
        return {e["entry_id"]: e["state"] for e in await r.json()}


async def wait_loaded(session: aiohttp.ClientSession, ids: list[str], within: float = 300) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        states = await entry_states(session)
        if all(states[i] == "loaded" for i in ids):
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(f"{len(ids)} entries not loaded within {within:.0f} s")


async def set_disabled(session: aiohttp.ClientSession, token: str, ids: list[str], disabled: bool) -> None:
    """Enable or disable entries at once, one WebSocket command each; HA answers once each is done."""
    await asyncio.gather(
        *(
            ws_command(
                session,
                token,
                {
                    "type": "config_entries/disable",
                    "entry_id": i,
                    "disabled_by": "user" if disabled else None,
                },
            )
            for i in ids
        )
    )


# --- a WebRTC viewer process ------------------------------------------------------------------


class _HandOn(Decoder):
    """Stands in for aiortc's H.264 decoder in count-only viewers: the reassembled frame, undecoded."""

    def decode(self, encoded_frame: JitterFrame) -> list[Any]:
        return [encoded_frame]


def _count_without_decoding() -> None:
    """In this process, aiortc's receivers hand each reassembled H.264 frame to the track undecoded."""
    decoder_for = get_decoder

    def hand_on_h264(codec: RTCRtpCodecParameters) -> Decoder:
        return _HandOn() if codec.mimeType.lower() == "video/h264" else decoder_for(codec)

    # The name aiortc's decoder thread looks up for every receiver it starts.
    rtcrtpreceiver.get_decoder = hand_on_h264  # type: ignore[attr-defined]


def _video_track(session: HaWebRtcSession) -> MediaStreamTrack:
    return next(r.track for r in session.viewer.pc.getReceivers() if r.track.kind == "video")


@dataclass
class _Watched:
    frames: list[int]
    latency_ms: list[float] = field(default_factory=list)
    ended: int = 0
    every_viewer_has_a_frame: asyncio.Event = field(default_factory=asyncio.Event)


async def _watch(session: HaWebRtcSession, i: int, watched: _Watched, decoded: bool) -> None:
    track = _video_track(session)
    try:
        while True:
            frame = await track.recv()
            watched.frames[i] += 1
            if watched.frames[i] == 1 and all(watched.frames):
                watched.every_viewer_has_a_frame.set()
            if decoded and watched.frames[i] % FPS == 0:  # once a second: is the picture live?
                watched.latency_ms.append(round(time.time() * 1000 - timestamp.read(frame), 1))
    except MediaStreamError:
        watched.ended += 1


async def _serve_counts(watched: _Watched) -> None:
    """Answer `count` lines on stdin until `stop` or end of input."""
    while True:
        line = (await asyncio.to_thread(sys.stdin.readline)).strip()
        if line != "count":
            return
        print(
            json.dumps({"frames": watched.frames, "ended": watched.ended, "latency_ms": watched.latency_ms})
        )
        sys.stdout.flush()
        watched.latency_ms = []


async def viewer_process(url: str, token: str, cameras: list[str], per_camera: int, count_only: bool) -> None:
    if count_only:
        _count_without_decoding()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(url, connector=connector) as http:
        sessions = [
            await HaWebRtcSession.open(http, token, camera) for camera in cameras for _ in range(per_camera)
        ]
        watched = _Watched([0] * len(sessions))
        tasks = [asyncio.create_task(_watch(s, i, watched, not count_only)) for i, s in enumerate(sessions)]
        try:
            async with asyncio.timeout(60):
                await watched.every_viewer_has_a_frame.wait()
            print(json.dumps({"ready": len(sessions)}), flush=True)
            await _serve_counts(watched)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for session in sessions:
                await session.close()


class ViewerProcess:
    """One `python -m bench.soak` viewer process, driven over its stdin and stdout."""

    def __init__(self, process: asyncio.subprocess.Process, viewers: int) -> None:
        self.process = process
        self.viewers = viewers

    @classmethod
    async def start(
        cls, hass: HassProcess, cameras: list[str], per_camera: int, count_only: bool
    ) -> ViewerProcess:
        args = ["--url", hass.url, "--cameras", ",".join(cameras), "--per-camera", str(per_camera)]
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.soak", *args, *(["--count-only"] if count_only else []),
            stdin=PIPE, stdout=PIPE, cwd=ROOT, env={**os.environ, TOKEN_ENV: hass.token}, limit=LINE_LIMIT,
        )  # fmt: skip
        viewer = cls(process, 0)
        try:
            viewer.viewers = int((await viewer._line(within=180))["ready"])
        except BaseException:
            await viewer.stop()
            raise
        return viewer

    async def _line(self, within: float = 30) -> dict[str, Any]:
        assert self.process.stdout is not None
        async with asyncio.timeout(within):
            line = await self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"viewer process exited with {await self.process.wait()}")
        result: dict[str, Any] = json.loads(line)
        return result

    async def count(self) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(b"count\n")
        await self.process.stdin.drain()
        return await self._line()

    async def stop(self) -> None:
        if self.process.returncode is None and self.process.stdin is not None:
            self.process.stdin.write(b"stop\n")
            self.process.stdin.close()
        try:
            async with asyncio.timeout(30):
                await self.process.wait()
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


# --- MJPEG viewers and snapshots, in this process ---------------------------------------------


@dataclass
class _Traffic:
    mjpeg_frames: list[int]
    mjpeg_reconnects: int = 0
    snapshot_ms: list[float] = field(default_factory=list)
    snapshot_failed: int = 0


async def _mjpeg_viewer(session: aiohttp.ClientSession, camera: str, traffic: _Traffic, i: int) -> None:
    """Watch for as long as the soak lasts; a stream that ends counts as a reconnect."""
    while True:
        try:
            async with session.get(f"/api/camera_proxy_stream/{camera}") as response:
                async for _ in mjpeg_frames(response):
                    traffic.mjpeg_frames[i] += 1
        except aiohttp.ClientError, asyncio.IncompleteReadError:
            pass
        traffic.mjpeg_reconnects += 1
        await asyncio.sleep(1)


async def _snapshot_every_second(session: aiohttp.ClientSession, camera: str, traffic: _Traffic) -> None:
    due = time.monotonic()
    while True:
        due += 1
        start = time.monotonic()
        try:
            async with session.get(f"/api/camera_proxy/{camera}") as response:
                ok = response.status == 200 and (await response.read()).startswith(b"\xff\xd8")
        except aiohttp.ClientError:
            ok = False
        if ok:
            traffic.snapshot_ms.append((time.monotonic() - start) * 1000)
        else:
            traffic.snapshot_failed += 1
        await asyncio.sleep(max(0.0, due - time.monotonic()))


# --- the figures ------------------------------------------------------------------------------


def _sample(hass_pid: int, t: float, cpu: tuple[float, float] | None) -> dict[str, Any]:
    tree = process_tree(hass_pid)
    return {
        "t_s": round(t, 1),
        "rss_mb": round(rss_mb(tree), 1),
        "fds": open_fds(tree),
        "threads": thread_count(tree),
        "children": len(tree) - 1,
        # CPU is a rate: none at the first instant. `loop`: HA's event loop thread alone.
        "cpu_pct": None if cpu is None else round(cpu[0] * 100, 1),
        "loop_cpu_pct": None if cpu is None else round(cpu[1] * 100, 1),
    }


def _cpu_now(hass_pid: int) -> tuple[float, float]:
    return cpu_seconds(process_tree(hass_pid)), main_thread_cpu_seconds(hass_pid)


async def _curve(hass_pid: int, seconds: float) -> list[dict[str, Any]]:
    """A sample of HA's process tree every SAMPLE_EVERY seconds for `seconds`, the first at once."""
    start = time.monotonic()
    before = _cpu_now(hass_pid)
    samples = [_sample(hass_pid, 0.0, None)]
    while (due := start + len(samples) * SAMPLE_EVERY) <= start + seconds + 0.5:
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        now, cpu = time.monotonic(), _cpu_now(hass_pid)
        shares = ((cpu[0] - before[0]) / SAMPLE_EVERY, (cpu[1] - before[1]) / SAMPLE_EVERY)
        samples.append(_sample(hass_pid, now - start, shares))
        before = cpu
        s = samples[-1]
        log(
            f"soak: t={s['t_s']:.0f} s RSS {s['rss_mb']} MB, {s['fds']} fds, {s['threads']} threads, "
            f"{s['children']} children, CPU {s['cpu_pct']} % of a core (event loop {s['loop_cpu_pct']} %)"
        )
    return samples


def _growth(samples: list[dict[str, Any]], key: str, since: float = 0.0) -> float:
    chosen = [s for s in samples if s["t_s"] >= since]
    return round(growth_per_hour([s["t_s"] for s in chosen], [float(s[key]) for s in chosen]), 2)


def _delivered(before: list[int], after: list[int], window: float) -> dict[str, Any]:
    got = [b - a for a, b in zip(before, after, strict=True)]
    expected = FPS * window
    return {
        "viewers": len(got),
        "delivered": sum(got),
        "expected": round(expected * len(got)),
        "pct": round(sum(got) / (expected * len(got)) * 100, 2),
        "slowest_viewer_pct": round(min(got) / expected * 100, 2),
    }


def _log_lines(hass: HassProcess, level: str) -> int:
    """HA's log lines at `level`; the first few are shown, so a reader of the figures knows what they were."""
    lines = [line for line in hass.log_path.read_text(errors="replace").splitlines() if f" {level} " in line]
    for line in lines[:5]:
        log(f"soak: HA logged: {line[:300]}")
    return len(lines)


@dataclass
class _Run:
    """What a soak is made of, so its pieces can be stopped in one place."""

    sims: list[Sim] = field(default_factory=list)
    hass: HassProcess | None = None
    viewers: list[ViewerProcess] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for viewer in self.viewers:
            await viewer.stop()
        if self.hass is not None:
            self.hass.stop()
        for sim in self.sims:
            stop_sim(sim)


async def bench_soak(minutes: float) -> dict[str, Any]:
    load = load_average()
    log(f"soak: {CAMERAS} cameras × (5 MJPEG + 5 WebRTC + 1 snapshot/s) for {minutes} min; load {load}")
    run = _Run()
    with tempfile.TemporaryDirectory(prefix="camera-hub-bench-soak-") as tmp:
        try:
            run.sims = start_cameras(CAMERAS, SUBNET, "--size", SIZE, "--fps", str(FPS), "--gop", str(GOP))
            run.hass = hass = await start_onboarded(Path(tmp) / "hass", log_level="warning")
            async with ha_session(hass) as session:
                entry_ids = await add_cameras(hass, run.sims)
                await wait_loaded(session, entry_ids)
                cameras = await hd_cameras(session, hass.token, entry_ids)
                figures = await _soak(run, hass, session, cameras, minutes * 60)
        finally:
            await run.stop()
    return {"load_avg_start": load, **figures}


async def _soak(
    run: _Run, hass: HassProcess, session: aiohttp.ClientSession, cameras: list[str], seconds: float
) -> dict[str, Any]:
    log("soak: opening the WebRTC viewers (two processes), MJPEG viewers and snapshots")
    run.viewers = [
        await ViewerProcess.start(hass, cameras, DECODED_PER_CAMERA, count_only=False),
        await ViewerProcess.start(hass, cameras, WEBRTC_PER_CAMERA - DECODED_PER_CAMERA, count_only=True),
    ]
    traffic = _Traffic([0] * (len(cameras) * MJPEG_PER_CAMERA))
    run.tasks = [
        asyncio.create_task(_mjpeg_viewer(session, camera, traffic, i * MJPEG_PER_CAMERA + j))
        for i, camera in enumerate(cameras)
        for j in range(MJPEG_PER_CAMERA)
    ] + [asyncio.create_task(_snapshot_every_second(session, camera, traffic)) for camera in cameras]
    await asyncio.sleep(SETTLE)

    def others() -> dict[str, list[int]]:
        return {
            "camsims": [sim.process.pid for sim in run.sims],
            "webrtc_viewers": [v.process.pid for v in run.viewers],
            "bench_process": [os.getpid()],
        }

    counts_before = [await v.count() for v in run.viewers]
    mjpeg_before, snapshots_before = list(traffic.mjpeg_frames), len(traffic.snapshot_ms)
    failed_before, reconnects_before = traffic.snapshot_failed, traffic.mjpeg_reconnects
    cpu_before = {name: cpu_seconds(pids) for name, pids in others().items()}
    started = time.monotonic()
    samples = await _curve(hass.process.pid, seconds)
    counts_after = [await v.count() for v in run.viewers]
    mjpeg_after = list(traffic.mjpeg_frames)
    window = time.monotonic() - started
    cpu = {
        name: round((cpu_seconds(pids) - cpu_before[name]) / window * 100, 1)
        for name, pids in others().items()
    }
    cpu["ha"] = round(statistics.fmean(s["cpu_pct"] for s in samples[1:]), 1)
    cpu["ha_event_loop"] = round(statistics.fmean(s["loop_cpu_pct"] for s in samples[1:]), 1)

    webrtc = _delivered(
        [n for c in counts_before for n in c["frames"]],
        [n for c in counts_after for n in c["frames"]],
        window,
    )
    mjpeg = _delivered(mjpeg_before, mjpeg_after, window)
    snapshot_ms = traffic.snapshot_ms[snapshots_before:]
    latency = [ms for c in counts_after for ms in c["latency_ms"]]
    rss = [s["rss_mb"] for s in samples]
    return {
        "minutes": round(seconds / 60, 2),
        "cameras": len(cameras),
        "camera": f"{SIZE} at {FPS} fps, GOP {GOP} s",
        "per_camera": {
            "mjpeg": MJPEG_PER_CAMERA,
            "webrtc": WEBRTC_PER_CAMERA,
            "webrtc_decoded": DECODED_PER_CAMERA,
            "snapshots_per_s": 1,
        },
        "samples": samples,
        "rss_growth_mb_per_h": _growth(samples, "rss_mb"),
        "rss_growth_second_half_mb_per_h": _growth(samples, "rss_mb", since=seconds / 2),
        "fds_growth_per_h": _growth(samples, "fds"),
        "threads_growth_per_h": _growth(samples, "threads"),
        "rss_start_mb": rss[0],
        "rss_end_mb": rss[-1],
        "fds_range": [min(s["fds"] for s in samples), max(s["fds"] for s in samples)],
        "threads_range": [min(s["threads"] for s in samples), max(s["threads"] for s in samples)],
        "children_max": max(s["children"] for s in samples),
        "frames_delivered_pct": round(
            (mjpeg["delivered"] + webrtc["delivered"]) / (mjpeg["expected"] + webrtc["expected"]) * 100, 2
        ),
        "frames": {"mjpeg": mjpeg, "webrtc": webrtc},
        # WebRTC passes the camera's packets on, so its viewers got what the cameras really sent: MJPEG
        # against that splits MJPEG's loss (HA's decode/publish path) from frames camsim skipped.
        "mjpeg_of_webrtc_pct": round(mjpeg["delivered"] / webrtc["delivered"] * 100, 2),
        "webrtc_e2e_p50_ms": round(p50(latency), 1),
        "snapshots": {
            "ok": len(snapshot_ms),
            "failed": traffic.snapshot_failed - failed_before,
            "p50_ms": round(p50(snapshot_ms), 1),
            "p95_ms": round(percentile(snapshot_ms, 95), 1),
        },
        "mjpeg_reconnects": traffic.mjpeg_reconnects - reconnects_before,
        "webrtc_ended": sum(c["ended"] for c in counts_after),
        "cpu_pct": cpu,
        "ha_log": {"errors": _log_lines(hass, "ERROR"), "warnings": _log_lines(hass, "WARNING")},
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description="A soak's WebRTC viewers.")
    parser.add_argument("--url", required=True)
    parser.add_argument("--cameras", required=True, help="comma-separated camera entity ids")
    parser.add_argument("--per-camera", type=int, required=True)
    parser.add_argument("--count-only", action="store_true", help="count reassembled frames, decode none")
    args = parser.parse_args()
    token = os.environ[TOKEN_ENV]
    asyncio.run(viewer_process(args.url, token, args.cameras.split(","), args.per_camera, args.count_only))


if __name__ == "__main__":
    main()
