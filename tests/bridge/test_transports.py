"""The bridge as a separate process: stdio driven by the official MCP SDK client, and streamable HTTP."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import httpx2
import pytest
from mcp.client import ClientSession
from mcp.client.streamable_http import streamable_http_client

from scripts.lib.hass import ROOT, HassProcess, free_port
from tests.bridge.conftest import bridge_env, stdio_bridge
from tests.bridge.test_server import TOOL_NAMES

pytestmark = pytest.mark.usefixtures("socket_enabled")


async def test_stdio_initialize_list_tools_and_call_one(real_hass: HassProcess, tmp_path: Path) -> None:
    errlog = tmp_path / "bridge.stderr"
    with errlog.open("w") as err:
        async with stdio_bridge(real_hass, err) as (session, startup):
            tools = await session.list_tools()
            result = await session.call_tool("list_cameras", {})
            init = session.initialize_result
    print(f"stdio bridge: spawn → initialized in {startup:.2f} s")
    assert init is not None
    assert init.server_info.name == "camera-hub"
    assert {tool.name for tool in tools.tools} == TOOL_NAMES
    assert not result.is_error
    assert real_hass.token not in errlog.read_text()


@pytest.fixture
async def http_bridge(real_hass: HassProcess, tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    """The bridge on streamable HTTP with a bearer token it generated; (url, token)."""
    port = free_port()
    token_file = tmp_path / "mcp-token"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mcp_bridge", "--transport", "http", "--port", str(port),
        "--auth-token-file", str(token_file), cwd=ROOT, env=bridge_env(real_hass),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stderr is not None
    log: list[str] = []
    try:
        async with asyncio.timeout(60):
            while "Uvicorn running on" not in (line := (await process.stderr.readline()).decode()):
                assert line, "".join(log)
                log.append(line)
        drain = asyncio.create_task(process.stderr.read())
        yield f"http://127.0.0.1:{port}/mcp", token_file.read_text().strip()
    finally:
        process.terminate()
        await process.wait()
    rest = (await drain).decode()
    assert real_hass.token not in "".join(log) + rest
    assert "Generated a new bearer token into" in "".join(log)


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token-0123456789"])
async def test_http_refuses_a_missing_or_wrong_bearer_token(
    http_bridge: tuple[str, str], authorization: str | None
) -> None:
    url, _ = http_bridge
    headers = {"Accept": "application/json, text/event-stream"}
    if authorization:
        headers["Authorization"] = authorization
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    async with aiohttp.ClientSession() as session, session.post(url, json=body, headers=headers) as resp:
        assert resp.status == 401


async def test_http_with_the_bearer_token_lists_tools(http_bridge: tuple[str, str]) -> None:
    url, token = http_bridge
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        tools = await session.list_tools()
    assert {tool.name for tool in tools.tools} == TOOL_NAMES
