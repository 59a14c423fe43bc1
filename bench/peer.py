"""The MCP figures: our bridge and PyPI ha-mcp, over stdio, against the same HA and camera entity.

ha-mcp lives in its own environment (.venv-peer, made by scripts/bench): it pins libraries that
differ from Home Assistant's.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from scripts.lib.hass import HassProcess
from scripts.lib.sims import processes_mentioning

from .measure import p50

ROOT = Path(__file__).resolve().parents[1]
PEER = ROOT / ".venv-peer" / "bin" / "ha-mcp"
RUNS = 20
# Startup on a shared 2-core VM swings by ±0.3 s from run to run; five starts give a steadier p50.
STARTS = 5
# The servers log to stderr; the bench prints its own progress there instead.
_QUIET = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process


def _ours(hass: HassProcess) -> StdioServerParameters:
    env = {**os.environ, "HA_URL": hass.url, "HA_TOKEN": hass.token}
    return StdioServerParameters(command=sys.executable, args=["-m", "mcp_bridge"], cwd=str(ROOT), env=env)


def _peer(hass: HassProcess) -> StdioServerParameters:
    env = {**os.environ, "HOMEASSISTANT_URL": hass.url, "HOMEASSISTANT_TOKEN": hass.token}
    return StdioServerParameters(command=str(PEER), args=[], env=env)


async def _timed(call: Callable[[], Awaitable[Any]], runs: int = RUNS) -> float:
    await call()  # warm
    times = []
    for _ in range(runs):
        start = time.monotonic()
        result = await call()
        assert not result.is_error, result
        times.append((time.monotonic() - start) * 1000)
    return p50(times)


async def _measure(
    params: StdioServerParameters, snapshot: tuple[str, dict[str, Any]], listing: str | None
) -> dict[str, float]:
    start = time.monotonic()
    async with (
        stdio_client(params, errlog=_QUIET) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        startup = time.monotonic() - start
        tools = await session.list_tools()
        payload = json.dumps(tools.model_dump(mode="json", by_alias=True, exclude_none=True))
        tool, arguments = snapshot
        snapshot_ms = await _timed(lambda: session.call_tool(tool, arguments))
        list_ms = await _timed(lambda: session.call_tool(listing, {})) if listing else float("nan")
    return {"startup_s": startup, "snapshot_ms": snapshot_ms, "list_ms": list_ms, "bytes": len(payload)}


def _stop_peer_leftovers() -> None:
    """End what ha-mcp leaves running on purpose (its settings sidecar), so it cannot load later figures."""
    for pid in processes_mentioning(str(ROOT / ".venv-peer")):
        os.kill(pid, signal.SIGTERM)


async def mcp_figures(hass: HassProcess, camera: str) -> dict[str, Any]:
    print("[bench] mcp: camera-hub-mcp and ha-mcp over stdio", file=sys.stderr, flush=True)
    ours = [
        await _measure(_ours(hass), ("get_snapshot", {"camera": camera}), "list_cameras")
        for _ in range(STARTS)
    ]
    try:
        peer = [
            await _measure(_peer(hass), ("ha_get_camera_image", {"entity_id": camera}), None)
            for _ in range(STARTS)
        ]
    finally:
        _stop_peer_leftovers()
    return {
        "startup_s": round(p50([r["startup_s"] for r in ours]), 2),
        "snapshot_p50_ms": round(p50([r["snapshot_ms"] for r in ours]), 1),
        "list_p50_ms": round(p50([r["list_ms"] for r in ours]), 1),
        "tools_list_bytes": int(ours[0]["bytes"]),
        "peer_startup_s": round(p50([r["startup_s"] for r in peer]), 2),
        "peer_snapshot_p50_ms": round(p50([r["snapshot_ms"] for r in peer]), 1),
        "peer_tools_list_bytes": int(peer[0]["bytes"]),
    }
