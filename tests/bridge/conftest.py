"""Bridge fixtures: an HA client for the session's real `hass`, camsim cameras in it, the bridge process.

`real_hass` itself is the session fixture of tests/helpers/real_hass.py, shared with tests/e2e.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import pytest
from mcp.client import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from mcp_bridge.ha_client import HAClient
from scripts.lib.hass import ROOT, HassProcess, add_tapo_camera
from tests.helpers.camsim import Sim, running_sim
from tests.helpers.real_hass import remove_entries, sockets_allowed

# Models that no other test module adds to the session's HA: camsim derives a camera's MAC from host and
# model, so a second "C200" on 127.0.0.1 would be the e2e tests' camera (the flow aborts).
PTZ_MODEL = "C210"
FIXED_MODEL = "C100"


@dataclass
class Cameras:
    """The two camsim cameras in HA for the bridge tests: one with pan/tilt, one fixed."""

    ptz: Sim
    fixed: Sim
    ptz_name: str = f"Tapo {PTZ_MODEL}"
    fixed_name: str = f"Tapo {FIXED_MODEL}"


@pytest.fixture
async def ha(real_hass: HassProcess) -> AsyncIterator[HAClient]:
    """A connected bridge client for the real HA."""
    async with HAClient(real_hass.url, real_hass.token) as client:
        await client.ensure_connected()
        yield client


async def _add(hass: HassProcess, sim: Sim) -> str | None:
    """Add `sim` through the real config flow; the entry id to remove afterwards, if this added it."""
    result = await add_tapo_camera(hass, sim.info)
    if result["type"] == "abort" and result["reason"] == "already_configured":
        return None  # the flow updated the known entry's ports; its owner removes it
    assert result["type"] == "create_entry", result
    return str(result["result"]["entry_id"])


@pytest.fixture(scope="session")
def cameras(real_hass: HassProcess) -> Iterator[Cameras]:
    """A camsim C210 (pan/tilt, one keyframe a second) and a C100 (fixed), added to the real HA.

    Session-wide so every bridge module shares them; their entries are removed at the end.
    """
    with (
        running_sim("--model", PTZ_MODEL, "--gop", "1") as ptz,
        running_sim("--model", FIXED_MODEL) as fixed,
    ):
        with sockets_allowed():
            added = [entry for entry in [asyncio.run(_add(real_hass, s)) for s in (ptz, fixed)] if entry]
        try:
            yield Cameras(ptz, fixed)
        finally:
            with sockets_allowed():
                asyncio.run(remove_entries(real_hass, added))


async def wait_for(condition: Callable[[], Any], within: float = 20.0, what: str = "the condition") -> Any:
    """Poll `condition` (camsim's state endpoint, HA's state) until it is truthy, within a deadline."""
    deadline = time.monotonic() + within
    while not (result := condition()):
        assert time.monotonic() < deadline, f"{what} did not happen within {within:.0f} s"
        await asyncio.sleep(0.1)
    return result


def bridge_env(real_hass: HassProcess) -> dict[str, str]:
    return {**os.environ, "HA_URL": real_hass.url, "HA_TOKEN": real_hass.token, "PYTHONUNBUFFERED": "1"}


@asynccontextmanager
async def stdio_bridge(
    real_hass: HassProcess, errlog: TextIO, *args: str, python: str = sys.executable
) -> AsyncIterator[tuple[ClientSession, float]]:
    """`python -m mcp_bridge` over stdio, driven by the official MCP SDK client; (session, startup seconds).

    Startup is spawn → `initialize` answered.
    """
    params = StdioServerParameters(
        command=python, args=["-m", "mcp_bridge", *args], env=bridge_env(real_hass), cwd=ROOT
    )
    started = time.perf_counter()
    async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session, time.perf_counter() - started


def media_dir(real_hass: HassProcess) -> Path:
    """The demo config's `media_dirs` / `allowlist_external_dirs` folder."""
    return (real_hass.config_dir / "media").resolve()
