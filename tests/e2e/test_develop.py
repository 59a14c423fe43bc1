"""scripts/develop's contract (shared/DESIGN.md): READY with every key, each of them working, and
nothing left running after Ctrl-C. Its cameras use their own loopback network so a demo a developer
already runs keeps its addresses. Two Ring and two Furbo accounts: each cloud's one simulator serves
both, and every account's cameras reach the bridge."""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import httpx2
import pytest
from mcp.client import ClientSession
from mcp.client.streamable_http import streamable_http_client

from scripts.lib.dashboard import URL_PATH
from scripts.lib.hass import free_port, ws_command
from scripts.lib.sims import processes_mentioning
from tests.helpers.develop import start_develop

READY_KEYS = {
    "ha_url", "username", "password", "token_file", "mcp_url", "mcp_token_file", "cameras", "simulators",
    "dashboard_url",
}  # fmt: skip
NETWORK = "127.0.9"
CLOUD_ACCOUNTS = 2


@dataclass
class Demo:
    process: subprocess.Popen[str]
    ready: dict[str, Any]
    token: str  # the long-lived HA token in ready["token_file"]
    bearer: str  # the bridge's bearer token in ready["mcp_token_file"]


@pytest.fixture
def develop(socket_enabled: None, tmp_path: Path) -> Iterator[Demo]:
    argv = ["--port", str(free_port()), "--data", str(tmp_path), "--camera-network", NETWORK]
    argv += ["--ring", str(CLOUD_ACCOUNTS), "--furbo", str(CLOUD_ACCOUNTS)]
    process, ready = start_develop(*argv)
    try:
        token = Path(ready["token_file"]).read_text().strip()
        yield Demo(process, ready, token, Path(ready["mcp_token_file"]).read_text().strip())
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


async def test_ready_keys_work_then_ctrl_c_stops_everything(develop: Demo) -> None:
    await check_ready_keys(develop)
    stop_and_check_nothing_is_left(develop)


async def check_ready_keys(develop: Demo) -> None:
    ready, token = develop.ready, develop.token
    assert set(ready) == READY_KEYS
    assert {"camera.tapo_c200", "camera.tapo_c100", "camera.camsim_webcam_1"} <= set(ready["cameras"])
    tapo = [sim for sim in ready["simulators"] if sim["kind"] == "tapo"]
    assert [sim["host"] for sim in tapo] == [f"{NETWORK}.1", f"{NETWORK}.2"]
    (usb,) = [sim for sim in ready["simulators"] if sim["kind"] == "usb"]
    assert len(usb["devices"]) == 1  # --usb defaults to 1
    # One simulator per cloud, serving every account of that brand.
    (ring,) = [sim for sim in ready["simulators"] if sim["kind"] == "ring"]
    (furbo,) = [sim for sim in ready["simulators"] if sim["kind"] == "furbo"]
    assert len(ring["accounts"]) == len(furbo["accounts"]) == CLOUD_ACCOUNTS
    cloud_cameras = {d["description"] for a in ring["accounts"] for d in a["devices"]}
    cloud_cameras |= {d["name"] for a in furbo["accounts"] for d in a["devices"]}
    assert len(cloud_cameras) == CLOUD_ACCOUNTS * (2 + 3)  # Ring: doorbell + battery; Furbo: dog, cat, mini

    async with aiohttp.ClientSession(ready["ha_url"]) as session:
        async with session.get("/api/", headers={"Authorization": f"Bearer {token}"}) as resp:
            assert resp.status == 200
        dashboard = await ws_command(session, token, {"type": "lovelace/config", "url_path": URL_PATH})
    assert ready["dashboard_url"] == f"{ready['ha_url']}/{URL_PATH}/cameras"
    assert "camera.tapo_c200" in json.dumps(dashboard)
    assert "camera.camsim_webcam_1" in json.dumps(dashboard)
    async with aiohttp.ClientSession(ready["ha_url"]) as session:
        headers = {"Authorization": f"Bearer {token}"}
        async with session.get("/api/camera_proxy/camera.camsim_webcam_1", headers=headers) as resp:
            assert resp.status == 200
            assert (await resp.read()).startswith(b"\xff\xd8")  # the simulated webcam's own JPEG

    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {develop.bearer}"}) as http,
        streamable_http_client(ready["mcp_url"], http_client=http) as (read, write),
        ClientSession(read, write) as mcp,
    ):
        await mcp.initialize()
        listed = await mcp.call_tool("list_cameras", {})
    assert not listed.is_error
    names = {c["name"] for c in json.loads(listed.content[0].text)["cameras"]}  # type: ignore[union-attr]
    assert {"Tapo C200", "Tapo C100"} <= names
    assert cloud_cameras <= names  # every account's cameras, through the real flow


def stop_and_check_nothing_is_left(develop: Demo) -> None:
    develop.process.send_signal(signal.SIGINT)
    assert develop.process.wait(timeout=60) == 0
    data_dir = str(Path(develop.ready["token_file"]).parent)
    assert processes_mentioning(data_dir) == {}
    assert processes_mentioning(f"--host {NETWORK}.") == {}
