"""The FastMCP server in memory: the tool list, its size, its annotations and the destructive gate."""

from __future__ import annotations

import inspect
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from fastmcp import Client

from mcp_bridge.ha_client import HAClient
from mcp_bridge.server import TOOLS, build_server
from scripts.lib.hass import HassProcess

pytestmark = pytest.mark.usefixtures("socket_enabled")

TOOL_NAMES = {
    "list_cameras", "get_camera_status", "get_snapshot", "ptz_move", "ptz_stop", "ptz_home",
    "ptz_go_to_preset", "ptz_save_preset", "ptz_delete_preset", "set_privacy_mode",
    "set_motion_detection", "record_clip", "get_recent_events", "add_camera", "remove_camera",
    "reboot_camera",
}  # fmt: skip
MAX_TOOLS_LIST_BYTES = 12 * 1024


@pytest.fixture
async def mcp_client(real_hass: HassProcess) -> AsyncIterator[Client[Any]]:
    async with Client(build_server(HAClient(real_hass.url, real_hass.token))) as client:
        yield client


def tools_list_bytes(tools: Sequence[object]) -> int:
    payload = {"tools": [t.model_dump(by_alias=True, exclude_none=True, mode="json") for t in tools]}  # type: ignore[attr-defined]
    return len(json.dumps(payload).encode())


async def test_tools_list_has_the_sixteen_tools_with_annotations(mcp_client: Client[Any]) -> None:
    tools = await mcp_client.list_tools()
    assert {tool.name for tool in tools} == TOOL_NAMES
    assert len(tools) == len(TOOL_NAMES)
    for tool in tools:
        assert tool.description, tool.name
        assert tool.annotations is not None, tool.name
        assert tool.annotations.read_only_hint is not None, tool.name
        assert tool.annotations.destructive_hint is not None, tool.name
        for name, schema in tool.input_schema.get("properties", {}).items():
            assert schema.get("description"), f"{tool.name}.{name}"
    by_name = {tool.name: tool for tool in tools}
    assert by_name["get_snapshot"].annotations.read_only_hint is True  # type: ignore[union-attr]
    assert by_name["remove_camera"].annotations.destructive_hint is True  # type: ignore[union-attr]
    assert by_name["reboot_camera"].annotations.destructive_hint is True  # type: ignore[union-attr]
    assert by_name["ptz_move"].annotations.read_only_hint is False  # type: ignore[union-attr]
    for fn, _ in TOOLS:
        assert by_name[fn.__name__].description == inspect.getdoc(fn), fn.__name__


async def test_tools_list_payload_stays_under_12_kb(mcp_client: Client[Any]) -> None:
    assert tools_list_bytes(await mcp_client.list_tools()) <= MAX_TOOLS_LIST_BYTES


@pytest.mark.parametrize("tool", ["remove_camera", "reboot_camera"])
async def test_destructive_tools_refuse_without_the_flag(mcp_client: Client[Any], tool: str) -> None:
    result = await mcp_client.call_tool(tool, {"camera": "garden"}, raise_on_error=False)
    assert result.is_error
    assert result.content[0].text == (  # type: ignore[union-attr]
        f"{tool} is turned off in this bridge; the person running it can restart camera-hub-mcp with "
        "--allow-destructive to allow it."
    )


async def test_destructive_tools_run_with_the_flag(real_hass: HassProcess) -> None:
    server = build_server(HAClient(real_hass.url, real_hass.token), allow_destructive=True)
    async with Client(server) as client:
        result = await client.call_tool("reboot_camera", {"camera": "garden"}, raise_on_error=False)
    assert result.is_error
    assert result.content[0].text.startswith("No Camera Hub camera is called 'garden'")


async def test_list_cameras_through_mcp(mcp_client: Client[Any]) -> None:
    result = await mcp_client.call_tool("list_cameras", {})
    listing = json.loads(result.content[0].text)  # type: ignore[union-attr]
    assert isinstance(listing["cameras"], list)
    for camera in listing["cameras"]:
        assert set(camera) == {"id", "name", "vendor", "model", "online", "privacy", "capabilities"}


async def test_invalid_arguments_are_refused_before_ha(mcp_client: Client[Any]) -> None:
    result = await mcp_client.call_tool(
        "ptz_move", {"camera": "x", "direction": "sideways"}, raise_on_error=False
    )
    assert result.is_error
