"""scripts/bench: Camera Hub's figures side by side with their baselines, in one run.

Everything runs here, for real: camsim cameras, a real `hass` with this working tree's integration,
ffmpeg for the baselines, the MCP bridge and its peer (PyPI ha-mcp). Results go to
bench/results/latest.json and a table on stdout. Method: bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from asyncio.subprocess import DEVNULL, PIPE
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from camsim import timestamp
from scripts.lib.hass import HassProcess, add_tapo_camera, start_onboarded, ws_command
from scripts.lib.sims import Sim, start_sim, stop_sim

from . import glass, scale, soak, usb, webrtc
from .measure import cpu_share, mjpeg_frames, p50, percentile, process_tree, rss_mb
from .peer import mcp_figures
from .peers import bench_peers

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "latest.json"
GOP = 2.0
CAMERAS = 10
# Seconds a camera takes per control/ONVIF request. Real Tapo cameras need 0.1-0.5 s; on loopback
# camsim would answer at once, and "ten in parallel" would only measure this machine's two cores.
RESPONSE_DELAY = 0.1


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def rtsp_with_account(sim: Sim, stream: int = 0) -> str:
    return str(sim.info["rtsp"][stream]).replace("rtsp://", "rtsp://camuser:campass@")


class HA:
    """A thin REST/WebSocket client for the bench's calls to the real `hass`."""

    def __init__(self, hass: HassProcess, session: aiohttp.ClientSession) -> None:
        self.hass = hass
        self.session = session

    @classmethod
    @asynccontextmanager
    async def connect(cls, hass: HassProcess) -> AsyncIterator[HA]:
        headers = {"Authorization": f"Bearer {hass.token}"}
        timeout = aiohttp.ClientTimeout(total=None, sock_read=60)
        async with aiohttp.ClientSession(hass.url, headers=headers, timeout=timeout) as session:
            yield cls(hass, session)

    async def ws(self, message: dict[str, Any]) -> Any:
        """One WebSocket command on its own connection, so concurrent commands run in parallel."""
        return await ws_command(self.session, self.hass.token, message)

    async def entries(self) -> dict[str, dict[str, Any]]:
        async with self.session.get("/api/config/config_entries/entry", params={"domain": "camera_hub"}) as r:
            return {e["entry_id"]: e for e in await r.json()}

    async def set_disabled(self, entry_id: str, disabled: bool) -> None:
        """Enable or disable an entry; HA answers once the entry is set up or unloaded.

        Each command gets its own WebSocket, so enabling several entries at once sets them up in parallel.
        """
        await self.ws(
            {
                "type": "config_entries/disable",
                "entry_id": entry_id,
                "disabled_by": "user" if disabled else None,
            }
        )

    async def set_options(self, entry_id: str, options: dict[str, Any]) -> None:
        async with self.session.post(
            "/api/config/config_entries/options/flow", json={"handler": entry_id}
        ) as r:
            flow = await r.json()
        async with self.session.post(
            f"/api/config/config_entries/options/flow/{flow['flow_id']}", json=options
        ) as r:
            assert (await r.json())["type"] == "create_entry"

    async def snapshot(self, entity_id: str) -> bytes:
        async with self.session.get(f"/api/camera_proxy/{entity_id}") as r:
            r.raise_for_status()
            return await r.read()

    async def wait_entries(self, ids: set[str], states: set[str], within: float = 120) -> float:
        start = time.monotonic()
        while time.monotonic() - start < within:
            entries = await self.entries()
            if all(entries[i]["state"] in states for i in ids):
                return time.monotonic() - start
            await asyncio.sleep(0.05)
        raise TimeoutError(f"entries did not reach {states}")


async def wait_until(condition: Callable[[], bool], within: float = 30) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(0.05)


# --- tarpit: an address that accepts connections and never answers ---------------------------


async def tarpit(host: str, ports: list[int]) -> list[asyncio.Server]:
    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the client gives up
        writer.close()

    return [await asyncio.start_server(hold, host, port) for port in ports]


# --- the figures ------------------------------------------------------------------------------


async def bench_setup(ha: HA, sims: list[Sim], entry_ids: list[str]) -> dict[str, Any]:
    """Time until the reachable cameras are loaded: one alone, then ten of which one never answers."""
    log("setup: one camera, then ten with one unreachable")
    for entry_id in entry_ids:
        await ha.set_disabled(entry_id, True)
    start = time.monotonic()
    await ha.set_disabled(entry_ids[0], False)
    await ha.wait_entries({entry_ids[0]}, {"loaded"})
    one = time.monotonic() - start
    await ha.set_disabled(entry_ids[0], True)

    dead = sims[-1]
    stop_sim(dead)
    info = dead.info
    servers = await tarpit(info["host"], [info["control_port"], info["onvif_port"], info["rtsp_port"]])
    try:
        start = time.monotonic()
        enabling = asyncio.gather(*(ha.set_disabled(e, False) for e in entry_ids))
        await ha.wait_entries(set(entry_ids[:-1]), {"loaded"})
        ten = time.monotonic() - start
        await enabling
        await ha.wait_entries({entry_ids[-1]}, {"setup_retry", "setup_error"}, within=120)
        unreachable_gave_up = time.monotonic() - start
    finally:
        for server in servers:
            server.close()
    return {
        "one_s": round(one, 2),
        "ten_with_unreachable_s": round(ten, 2),
        "ratio": round(ten / one, 2),
        "unreachable_reported_s": round(unreachable_gave_up, 2),
    }


async def bench_memory(ha: HA, cameras: list[str], rss_before: float) -> dict[str, Any]:
    log("memory: RSS with every camera's stream warm")
    await asyncio.gather(*(ha.snapshot(c) for c in cameras))
    rss_after = rss_mb(process_tree(ha.hass.process.pid))
    return {
        "rss_before_mb": round(rss_before, 1),
        "rss_after_mb": round(rss_after, 1),
        "rss_per_camera_mb": round((rss_after - rss_before) / len(cameras), 1),
    }


async def ffmpeg_from(url: str, *output: str, stdout: int) -> asyncio.subprocess.Process:
    """The baselines' ffmpeg: reads the camera's RTSP stream over TCP, as HA's ffmpeg cameras do."""
    return await asyncio.create_subprocess_exec(
        "ffmpeg", "-loglevel", "error", "-rtsp_transport", "tcp", "-i", url, *output, stdout=stdout
    )


async def ffmpeg_snapshot(url: str) -> float:
    start = time.monotonic()
    process = await ffmpeg_from(url, "-frames:v", "1", "-f", "image2", "-c:v", "mjpeg", "-", stdout=PIPE)
    out, _ = await process.communicate()
    assert out.startswith(b"\xff\xd8"), "ffmpeg produced no JPEG"
    return (time.monotonic() - start) * 1000


async def bench_snapshot(ha: HA, camera: str, sim: Sim) -> dict[str, Any]:
    log("snapshot: warm camera_proxy against one ffmpeg per snapshot")
    await ha.snapshot(camera)  # warm
    times = []
    for _ in range(50):
        start = time.monotonic()
        image = await ha.snapshot(camera)
        times.append((time.monotonic() - start) * 1000)
        assert image.startswith(b"\xff\xd8")
    baseline = [await ffmpeg_snapshot(rtsp_with_account(sim)) for _ in range(10)]
    return {
        "p50_ms": round(p50(times), 1),
        "p95_ms": round(percentile(times, 95), 1),
        "baseline_p50_ms": round(p50(baseline), 1),
        "speedup": round(p50(baseline) / p50(times), 1),
    }


async def _viewer(
    ha: HA, camera: str, stop: asyncio.Event, on_frame: Callable[[bytes], None] | None = None
) -> None:
    async with ha.session.get(f"/api/camera_proxy_stream/{camera}") as response:
        async for frame in mjpeg_frames(response):
            if on_frame is not None:
                on_frame(frame)
            if stop.is_set():
                return


async def _viewers_cpu(ha: HA, camera: str, count: int, seconds: float) -> float:
    stop = asyncio.Event()
    tasks = [asyncio.create_task(_viewer(ha, camera, stop)) for _ in range(count)]
    await asyncio.sleep(2)  # let every viewer reach steady state before measuring
    share = await cpu_share(lambda: process_tree(ha.hass.process.pid), seconds)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    return share


async def _ffmpeg_viewers_cpu(url: str, count: int, seconds: float) -> float:
    processes = [
        await ffmpeg_from(url, "-f", "mjpeg", "-q:v", "5", "-", stdout=DEVNULL) for _ in range(count)
    ]
    await asyncio.sleep(2)
    share = await cpu_share(lambda: [p.pid for p in processes], seconds)
    for p in processes:
        p.terminate()
        await p.wait()
    return share


async def bench_viewers(ha: HA, camera: str, sim: Sim, seconds: float = 10) -> dict[str, Any]:
    log("viewers: HA's CPU with 1 and 10 MJPEG viewers, against one ffmpeg per viewer")
    cpu_1 = await _viewers_cpu(ha, camera, 1, seconds)
    sessions_before = sim.state()["counters"]["rtsp_sessions_total"]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(_viewer(ha, camera, stop)) for _ in range(10)]
    await asyncio.sleep(2)
    cpu_10 = await cpu_share(lambda: process_tree(ha.hass.process.pid), seconds)
    open_sessions = sim.state()["counters"]["rtsp_sessions_open"]
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    new_sessions = sim.state()["counters"]["rtsp_sessions_total"] - sessions_before
    base_1 = await _ffmpeg_viewers_cpu(rtsp_with_account(sim), 1, seconds)
    base_10 = await _ffmpeg_viewers_cpu(rtsp_with_account(sim), 10, seconds)
    return {
        "cpu_1": round(cpu_1 * 100, 1),
        "cpu_10": round(cpu_10 * 100, 1),
        "ratio": round(cpu_10 / cpu_1, 2),
        "baseline_cpu_1": round(base_1 * 100, 1),
        "baseline_cpu_10": round(base_10 * 100, 1),
        "baseline_ratio": round(base_10 / base_1, 2),
        "upstream_sessions_10": open_sessions,
        "new_upstream_sessions_10": new_sessions,
    }


async def _first_frame_ms(ha: HA, camera: str) -> float:
    start = time.monotonic()
    async with ha.session.get(f"/api/camera_proxy_stream/{camera}") as response:
        async for _ in mjpeg_frames(response):
            return (time.monotonic() - start) * 1000
    raise RuntimeError("stream ended before a frame")


async def bench_ttff_latency_uri(ha: HA, warm_camera: str, cold_camera: str, cold_sim: Sim) -> dict[str, Any]:
    log("ttff: 20 warm joins and 20 cold starts at random GOP phase; latency; stream URI lookups")
    latencies: list[float] = []

    def record_latency(frame: bytes) -> None:
        latencies.append(time.time() * 1000 - timestamp.read(frame))

    stop = asyncio.Event()
    keeper = asyncio.create_task(_viewer(ha, warm_camera, stop, record_latency))
    await wait_until(lambda: len(latencies) > 5)
    warm = []
    for _ in range(20):
        await asyncio.sleep(random.uniform(0, GOP))
        warm.append(await _first_frame_ms(ha, warm_camera))
    stop.set()
    await asyncio.gather(keeper, return_exceptions=True)

    before = cold_sim.state()["counters"]
    cold = []
    for _ in range(20):
        await wait_until(lambda: cold_sim.state()["counters"]["rtsp_sessions_open"] == 0)
        await asyncio.sleep(random.uniform(0, GOP))
        cold.append(await _first_frame_ms(ha, cold_camera))
    after = cold_sim.state()["counters"]
    return {
        "ttff": {
            "gop_s": GOP,
            "cold_p50_ms": round(p50(cold), 1),
            "warm_p50_ms": round(p50(warm), 1),
            "warm_p95_ms": round(percentile(warm, 95), 1),
        },
        "latency": {"e2e_p50_ms": round(p50(latencies), 1), "frames": len(latencies)},
        "stream_uri": {
            "starts": after["rtsp_sessions_total"] - before["rtsp_sessions_total"],
            "get_stream_uri_calls": after["get_stream_uri"] - before["get_stream_uri"],
        },
    }


async def bench_webrtc(ha: HA, camera: str, sim: Sim) -> dict[str, Any]:
    log("webrtc: first frame with the GOP cache vs live only; through HA; 1 vs 10 viewers; bitrate")
    url = rtsp_with_account(sim)
    results: dict[str, Any] = {"first_frame": await webrtc.first_frame_cache_vs_live(url, GOP)}
    token = ha.hass.token
    results["first_frame"]["via_ha"] = await webrtc.first_frame_via_ha(ha.session, token, camera, GOP)
    results["viewers"] = await webrtc.viewer_cost(ha.session, token, camera, ha.hass.process.pid, sim)
    results["bitrate"] = await webrtc.bitrate_per_viewer(url)
    return results


# --- orchestration ----------------------------------------------------------------------------


SECTIONS = (
    "memory",
    "snapshot",
    "viewers",
    "ttff",
    "webrtc",
    "mcp",
    "setup",
    "usb",
    "scale",
    "soak",
    "peers",
)
# Sections that start their own hass and simulators (bench/usb.py, scale.py, soak.py, peers.py).
OWN_HASS = ("usb", "scale", "soak", "peers")


async def run(sections: set[str], minutes: float = 10) -> dict[str, Any]:
    results: dict[str, Any] = {}
    started = time.monotonic()

    async def bench_soak() -> dict[str, Any]:
        return await soak.bench_soak(minutes)

    own = {"usb": usb.bench_usb, "scale": scale.bench_scale, "soak": bench_soak, "peers": bench_peers}
    for section in OWN_HASS:
        if section in sections:
            results[section] = await own[section]()
            save(results)
    if not sections - set(OWN_HASS):
        results["bench"] = {"seconds": round(time.monotonic() - started, 1)}
        return results
    with tempfile.TemporaryDirectory(prefix="camera-hub-bench-") as tmp:
        sims = [
            start_sim(
                "--model",
                "C200" if i == 0 else "C100",
                "--gop",
                str(GOP),
                "--response-delay",
                str(RESPONSE_DELAY),
                host=f"127.0.3.{i + 1}",
            )
            for i in range(CAMERAS)
        ]
        hass = await start_onboarded(Path(tmp) / "hass", log_level="warning")
        try:
            async with AsyncExitStack() as stack:
                ha = await stack.enter_async_context(HA.connect(hass))
                rss_before = rss_mb(process_tree(hass.process.pid))
                log(f"adding {CAMERAS} cameras through the config flow")
                entry_ids = []
                for sim in sims:
                    result = await add_tapo_camera(hass, sim.info)
                    entry_ids.append(result["result"]["entry_id"])
                states = await ha.ws({"type": "config/entity_registry/list"})
                # The HD camera entity of each entry (its unique id ends in "_hd"; names repeat).
                by_entry = {
                    e["config_entry_id"]: e["entity_id"] for e in states if e["unique_id"].endswith("_hd")
                }
                cameras = [by_entry[e] for e in entry_ids]
                if "memory" in sections:
                    results["memory"] = await bench_memory(ha, cameras, rss_before)
                    save(results)
                if "snapshot" in sections:
                    results["snapshot"] = await bench_snapshot(ha, cameras[0], sims[0])
                    save(results)
                if "viewers" in sections:
                    results["viewers"] = await bench_viewers(ha, cameras[0], sims[0])
                    save(results)
                if "ttff" in sections:
                    # Camera 2 closes its stream as soon as the last viewer leaves: every join is cold.
                    await ha.set_options(
                        entry_ids[1],
                        {"live_stream": "hd", "snapshot_max_age": 2, "stream_linger": 0, "keep_warm": False},
                    )
                    await ha.wait_entries({entry_ids[1]}, {"loaded"})
                    results.update(await bench_ttff_latency_uri(ha, cameras[0], cameras[1], sims[1]))
                    save(results)
                if "webrtc" in sections:
                    results["webrtc"] = await bench_webrtc(ha, cameras[0], sims[0])
                    results["webrtc"]["glass_to_glass_ms"] = await glass.glass_to_glass_ms(hass, cameras[0])
                    save(results)
                if "mcp" in sections:
                    results["mcp"] = await mcp_figures(hass, cameras[0])
                    save(results)
                if "setup" in sections:  # last: it replaces camera 10 by a tarpit
                    results["setup"] = await bench_setup(ha, sims, entry_ids)
        finally:
            hass.stop()
            for sim in sims:
                stop_sim(sim)
    results["bench"] = {"seconds": round(time.monotonic() - started, 1), "cameras": CAMERAS, "gop_s": GOP}
    return results


TABLE = [
    (
        "snapshot",
        "p50_ms",
        "warm /api/camera_proxy p50 (ms)",
        "baseline_p50_ms",
        "ffmpeg per snapshot p50 (ms)",
    ),
    ("snapshot", "speedup", "snapshot speedup (×)", None, "target ≥ 20×"),
    ("viewers", "ratio", "CPU 10 viewers / 1 viewer", "baseline_ratio", "ffmpeg per viewer"),
    ("viewers", "upstream_sessions_10", "upstream RTSP sessions, 10 viewers", None, "target 1"),
    ("stream_uri", "get_stream_uri_calls", "GetStreamUri calls", "starts", "stream starts"),
    ("ttff", "warm_p50_ms", "warm viewer first frame p50 (ms)", "cold_p50_ms", "cold start p50 (ms)"),
    ("latency", "e2e_p50_ms", "camera clock → viewer p50 (ms)", None, ""),
    (
        "webrtc_first",
        "gop_cache_p50_ms",
        "WebRTC offer → first frame p50 (ms)",
        "live_only_p50_ms",
        "live only",
    ),
    ("webrtc_first", "via_ha_p50_ms", "WebRTC first frame through HA p50 (ms)", None, "target ≤ 400"),
    ("webrtc_viewers", "ratio", "HA CPU 10 / 1 WebRTC viewers", "cpu_10_pct", "% of a core, 10 viewers"),
    ("usb", "ratio", "HA CPU 10 / 1 MJPEG viewers, USB webcam", "baseline_ratio", "ffmpeg per viewer"),
    ("usb", "cpu_10", "HA CPU, 10 webcam viewers (% core)", "baseline_cpu_10", "10 ffmpeg"),
    ("usb", "fps_per_viewer_min_10", "frames/s, slowest of 10 viewers", None, "webcam sends 30"),
    ("usb", "device_opens_40", "webcam opens, 20 viewers + 20 snapshots", None, "target 1"),
    ("scale", "load_ratio_50_to_1", "50 cameras loaded / 1 camera (time ×)", None, "target ≤ 2"),
    ("scale", "rss_per_camera_mb", "HA RSS per camera, 10 → 50 (MB)", None, "target ≤ 10"),
    ("scale", "idle_cpu_per_camera_pct", "HA idle CPU per camera (% core)", None, "target ≤ 0.5"),
    ("scale", "viewer_next_mjpeg_pct", "one more MJPEG viewer (% core)", None, "of a watched camera"),
    (
        "soak",
        "rss_growth_mb_per_h",
        "soak: HA RSS growth (MB/h)",
        "rss_growth_second_half_mb_per_h",
        "half 2",
    ),
    ("soak", "fds_growth_per_h", "soak: open fds growth (/h)", "threads_growth_per_h", "threads /h"),
    ("soak", "frames_delivered_pct", "soak: frames delivered (%)", None, "target ≥ 99"),
    ("setup", "ten_with_unreachable_s", "setup 10 cams, 1 unreachable (s)", "one_s", "one camera (s)"),
    ("memory", "rss_per_camera_mb", "RSS per camera (MB)", None, "target ≤ 50"),
    ("mcp", "startup_s", "bridge startup (s)", "peer_startup_s", "ha-mcp startup (s)"),
    ("mcp", "snapshot_p50_ms", "get_snapshot p50 (ms)", "peer_snapshot_p50_ms", "ha-mcp image p50 (ms)"),
    ("mcp", "tools_list_bytes", "tools/list bytes", "peer_tools_list_bytes", "ha-mcp tools/list bytes"),
]


def _flat_webrtc(results: dict[str, Any]) -> dict[str, Any]:
    """The nested "webrtc" figures as the table's rows read them."""
    if "webrtc" not in results:
        return {}
    first = results["webrtc"]["first_frame"]
    return {
        "webrtc_first": {
            "gop_cache_p50_ms": first["gop_cache"]["p50_ms"],
            "live_only_p50_ms": first["live_only_baseline"]["p50_ms"],
            "via_ha_p50_ms": first.get("via_ha", {}).get("p50_ms"),
        },
        "webrtc_viewers": results["webrtc"]["viewers"],
    }


def table(results: dict[str, Any]) -> str:
    results = {**results, **_flat_webrtc(results)}
    rows = ["| figure | Camera Hub | side by side |", "|---|---|---|"]
    for section, key, label, other, other_label in TABLE:
        if section not in results:
            continue
        mine = results[section].get(key)
        theirs = f"{results[section].get(other)} ({other_label})" if other else other_label
        rows.append(f"| {label} | {mine} | {theirs} |")
    return "\n".join(rows)


def save(results: dict[str, Any]) -> None:
    """Write what is measured so far: a failure late in the run keeps the earlier figures."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only",
        default=",".join(SECTIONS),
        help=f"comma-separated sections (default: {','.join(SECTIONS)}); ttff brings latency, stream_uri",
    )
    parser.add_argument(
        "--minutes", type=float, default=10, help="how long the soak section watches (default: 10)"
    )
    args = parser.parse_args()
    sections = set(args.only.split(","))
    if unknown := sections - set(SECTIONS):
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    if args.minutes <= 0:
        parser.error("--minutes must be positive")
    results = asyncio.run(run(sections, args.minutes))
    save(results)
    print(json.dumps(results, indent=2))
    print(table(results))


if __name__ == "__main__":
    main()
