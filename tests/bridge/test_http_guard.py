"""The HTTP bridge refuses what the MCP transport spec warns about: a page on another site reaching a
bridge on this machine through DNS rebinding (a foreign Host or Origin), even with the right token.
The guard is FastMCP's Host/Origin middleware (on by default for a loopback bind); these tests keep
it on through upgrades."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from scripts.lib.hass import ROOT, HassProcess, free_port
from tests.bridge.conftest import bridge_env
from tests.bridge.test_transports import http_bridge  # noqa: F401 - the fixture

pytestmark = pytest.mark.usefixtures("socket_enabled")

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"},
    },
}


async def post(url: str, token: str, **headers: str) -> tuple[int, str]:
    sent: dict[str, Any] = {
        "Accept": "application/json, text/event-stream",
        "Authorization": f"Bearer {token}",
        **headers,
    }
    async with aiohttp.ClientSession() as session, session.post(url, json=INITIALIZE, headers=sent) as resp:
        return resp.status, await resp.text()


async def test_a_foreign_host_header_is_refused_even_with_the_token(http_bridge: tuple[str, str]) -> None:  # noqa: F811
    url, token = http_bridge
    status, text = await post(url, token, Host="attacker.example")
    assert (status, text) == (421, "Misdirected Request")


async def test_a_foreign_origin_is_refused_even_with_the_token(http_bridge: tuple[str, str]) -> None:  # noqa: F811
    url, token = http_bridge
    status, text = await post(url, token, Origin="http://attacker.example")
    assert (status, text) == (403, "Forbidden Origin")


async def test_the_bridge_own_origin_is_served(http_bridge: tuple[str, str]) -> None:  # noqa: F811
    url, token = http_bridge
    origin = url.removesuffix("/mcp")
    status, _ = await post(url, token, Origin=origin)
    assert status == 200


@pytest.fixture
async def lan_bridge(real_hass: HassProcess, tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    """The HTTP bridge told that clients also reach it as `camera-hub.lan`; (url, token)."""
    port = free_port()
    token_file = tmp_path / "mcp-token"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mcp_bridge", "--transport", "http", "--port", str(port),
        "--auth-token-file", str(token_file), "--allowed-host", "camera-hub.lan", cwd=ROOT,
        env=bridge_env(real_hass), stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stderr is not None
    try:
        async with asyncio.timeout(60):
            while "Uvicorn running on" not in (line := (await process.stderr.readline()).decode()):
                assert line, "the bridge exited before serving"
        yield f"http://127.0.0.1:{port}/mcp", token_file.read_text().strip()
    finally:
        process.terminate()
        await process.wait()


async def test_an_allowed_host_is_served_and_others_still_refused(lan_bridge: tuple[str, str]) -> None:
    url, token = lan_bridge
    port = url.split(":")[2].split("/")[0]
    assert (await post(url, token, Host=f"camera-hub.lan:{port}"))[0] == 200
    assert (await post(url, token, Host=f"other.lan:{port}"))[0] == 421
