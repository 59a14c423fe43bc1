"""The bridge as a user gets it: the wheel the release workflow builds (from the sdist, tests/release/
conftest.py), `uv tool install`ed from that file into a throwaway tool folder, and run from there —
`camera-hub-mcp doctor`, then a stdio session driven by the MCP SDK client — against a real Home Assistant
with a camsim camera. Nothing of the repository is on its path. How uv resolves:
tests/release/user_install.py.
"""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from mcp.client import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp_types import ImageContent, TextContent

from camsim import timestamp
from mcp_bridge.__main__ import versions_line
from scripts.lib.hass import ROOT, HassProcess, add_tapo_camera
from tests.bridge.test_server import TOOL_NAMES
from tests.helpers.camsim import Sim, running_sim
from tests.helpers.real_hass import remove_entries, sockets_allowed
from tests.release.release_script import release
from tests.release.user_install import TOOL, Distributions, isolated_env, tool_install

pytestmark = pytest.mark.usefixtures("socket_enabled")

# A model no other test module adds to the session's HA (camsim derives the camera's MAC from the model).
MODEL = "C120"


@dataclass
class InstalledBridge:
    launcher: Path  # what `uv tool install` put in UV_TOOL_BIN_DIR (a user's ~/.local/bin)
    environment: Path  # the tool's own virtual environment
    workdir: Path  # where it runs: no checkout here
    install_seconds: float
    resolved: str  # "offline" (from uv's cache) or "with the package index"


@pytest.fixture(scope="module")
def installed_bridge(
    tmp_path_factory: pytest.TempPathFactory, distributions: Distributions
) -> InstalledBridge:
    workdir = tmp_path_factory.mktemp("user")
    started = time.perf_counter()
    resolved = tool_install(str(distributions.wheel), workdir)
    return InstalledBridge(
        launcher=workdir / "bin" / TOOL,
        environment=workdir / "tools" / TOOL,
        workdir=workdir,
        install_seconds=time.perf_counter() - started,
        resolved=resolved,
    )


@pytest.fixture(scope="module")
def camera(real_hass: HassProcess) -> Iterator[Sim]:
    """A camsim camera added to the real HA through the config flow, removed afterwards."""
    with running_sim("--model", MODEL) as sim:
        with sockets_allowed():
            result = asyncio.run(add_tapo_camera(real_hass, sim.info))
        assert result["type"] == "create_entry", result
        with sockets_allowed():
            # The flow answers before the entry has set up its entities.
            asyncio.run(camera_entity_available(real_hass, f"camera.tapo_{MODEL.lower()}"))
        try:
            yield sim
        finally:
            with sockets_allowed():
                asyncio.run(remove_entries(real_hass, [result["result"]["entry_id"]]))


async def camera_entity_available(hass: HassProcess, entity_id: str, within: float = 30.0) -> None:
    headers = {"Authorization": f"Bearer {hass.token}"}
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession(hass.url, headers=headers) as session:
        while True:
            async with session.get(f"/api/states/{entity_id}") as resp:
                if resp.status == 200 and (await resp.json())["state"] != "unavailable":
                    return
            assert time.monotonic() < deadline, f"{entity_id} not available within {within:.0f} s"
            await asyncio.sleep(0.1)


def bridge_env(bridge: InstalledBridge, hass: HassProcess) -> dict[str, str]:
    return {**isolated_env(bridge.workdir), "HA_URL": hass.url, "HA_TOKEN": hass.token}


def test_the_wheel_installs_on_its_own_with_the_version_released(
    installed_bridge: InstalledBridge, distributions: Distributions
) -> None:
    assert installed_bridge.launcher.is_symlink()
    # What uv installed is the release workflow's wheel (built from the sdist), not the source tree.
    (direct_url,) = installed_bridge.environment.glob(
        "lib/python3.11/site-packages/camera_hub_mcp-*/direct_url.json"
    )
    assert json.loads(direct_url.read_text())["url"] == distributions.wheel.as_uri()
    python = installed_bridge.environment / "bin" / "python"
    probe = subprocess.run(
        [python, "-c", "import importlib.metadata as m, json, sys, mcp_bridge; "
         "print(json.dumps([mcp_bridge.__file__, m.version('camera-hub-mcp'), sys.version_info[:2]]))"],
        cwd=installed_bridge.workdir,
        env=isolated_env(installed_bridge.workdir),
        capture_output=True,
        text=True,
        check=True,
    )  # fmt: skip
    module_file, version, python_version = json.loads(probe.stdout)
    assert Path(module_file).is_relative_to(installed_bridge.environment)
    assert version == release.the_version(ROOT)
    assert python_version == [3, 11]
    took = f"{installed_bridge.install_seconds:.1f} s"
    print(f"\nuv tool install ({installed_bridge.resolved}, with bytecode): {took}")


def test_doctor_from_the_installed_tool(
    installed_bridge: InstalledBridge, real_hass: HassProcess, camera: Sim
) -> None:
    doctor = subprocess.run(
        [installed_bridge.launcher, "doctor"],
        cwd=installed_bridge.workdir,
        env=bridge_env(installed_bridge, real_hass),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    lines = doctor.stdout.splitlines()
    assert lines[0].startswith(f"✓ Home Assistant {real_hass_version()} at {real_hass.url}")
    # The hass under test runs this checkout's integration, released under the same version.
    version = release.the_version(ROOT)
    assert (
        lines[1] == f"✓ camera-hub-mcp {version} and the Camera Hub integration {version}: the same version."
    )
    assert any(
        line.startswith(f"✓ Tapo {MODEL} (tapo_{MODEL.lower()}): ") and "online" in line for line in lines
    )
    desktop = json.loads(
        doctor.stdout.split("Claude Desktop (claude_desktop_config.json):\n")[1].split("\n\n")[0]
    )
    server = desktop["mcpServers"]["camera-hub"]
    # doctor tells the user to run the installed program itself, from the tool's folder.
    assert server["command"] == str(installed_bridge.environment / "bin" / TOOL)
    assert real_hass.token not in doctor.stdout + doctor.stderr


def test_doctor_warns_when_the_two_parts_versions_differ() -> None:
    assert versions_line("0.2.0", "0.1.0") == (
        "⚠ camera-hub-mcp 0.2.0, but Home Assistant runs the Camera Hub integration 0.1.0: "
        "upgrade both to the same version (README → Upgrade)."
    )
    assert versions_line("0.2.0", None) == (
        "• camera-hub-mcp 0.2.0; Home Assistant did not report the Camera Hub integration's version."
    )
    assert versions_line(None, "0.1.0").startswith("• camera-hub-mcp version unknown")


def real_hass_version() -> str:
    from homeassistant.const import __version__  # noqa: PLC0415 - the version the real `hass` runs

    return __version__


async def test_stdio_session_from_the_installed_tool(
    installed_bridge: InstalledBridge, real_hass: HassProcess, camera: Sim
) -> None:
    params = StdioServerParameters(
        command=str(installed_bridge.launcher),
        args=[],
        env=bridge_env(installed_bridge, real_hass),
        cwd=installed_bridge.workdir,
    )
    errlog_path = installed_bridge.workdir / "bridge.stderr"
    with errlog_path.open("w") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            tools = await session.list_tools()
            assert {tool.name for tool in tools.tools} == TOOL_NAMES

            listed = await session.call_tool("list_cameras", {})
            assert not listed.is_error
            (text,) = listed.content
            assert isinstance(text, TextContent)
            assert f"Tapo {MODEL}" in {entry["name"] for entry in json.loads(text.text)["cameras"]}

            shot = await session.call_tool("get_snapshot", {"camera": f"Tapo {MODEL}"})
            assert not shot.is_error, shot
            (image,) = shot.content
            assert isinstance(image, ImageContent)
            assert abs(timestamp.read(base64.b64decode(image.data)) / 1000 - time.time()) < 15
    assert real_hass.token not in errlog_path.read_text()
