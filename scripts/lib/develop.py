"""scripts/develop: simulated cameras, a real Home Assistant on this working tree, and the bridge.

Contract (shared/DESIGN.md, "scripts/develop"): when everything answers, print one line
`READY {json}` with ha_url, username, password, token_file, mcp_url, mcp_token_file, cameras and
simulators (and, beyond the contract, dashboard_url: the "Cameras" dashboard it installs); on
SIGINT/SIGTERM stop every child.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from .dashboard import install_dashboard
from .hass import (
    ROOT,
    HassProcess,
    add_furbo_account,
    add_ring_account,
    add_tapo_camera,
    add_usb_camera,
    camera_hub_entities,
    free_port,
    start_onboarded,
)
from .sims import (
    Sim,
    guarded,
    start_furbo_sim,
    start_ring_sim,
    start_sim,
    start_usb_sim,
    stop_process,
    stop_sim,
)

# Where Camera Hub's USB discovery looks instead of this host's /dev and /sys (vendors/usb/host.py).
USB_DESCRIPTION_ENV = "CAMERA_HUB_V4L2_DESCRIPTION"
PAN_TILT_MODEL = "C200"
# scripts/lib/hass.py's add_ring_account / add_furbo_account: (hass, account's announcement, its code)
type AddAccount = Callable[[HassProcess, dict[str, Any], Callable[[], str | None]], Awaitable[dict[str, Any]]]
FIXED_MODEL = "C100"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/develop", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8123, help="Home Assistant's port (default 8123)")
    parser.add_argument(
        "--data", type=Path, default=ROOT / ".develop", help="HA config dir (default: .develop, git-ignored)"
    )
    parser.add_argument("--cameras", type=int, default=2, help="simulated Tapo cameras to start (default 2)")
    parser.add_argument("--usb", type=int, default=1, help="simulated USB webcams to start (default 1)")
    parser.add_argument(
        "--ring",
        type=_count,
        default=1,
        help="simulated Ring accounts (default 1), each with a wired doorbell and a battery cam, all in "
        "one simulated Ring cloud",
    )
    parser.add_argument(
        "--furbo",
        type=_count,
        default=1,
        help="simulated Furbo accounts (default 1), each with a Furbo 360, a 360 Cat and a Mini Cat, all "
        "in one simulated Furbo cloud",
    )
    parser.add_argument(
        "--camera-network",
        default="127.0.1",
        help="the cameras' loopback addresses are NETWORK.1, .2, … (default 127.0.1); another one lets "
        "a second demo (or the test of this script) run beside the first",
    )
    return parser.parse_args(argv)


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("0 or more")
    return value


def camera_args(index: int, network: str = "127.0.1") -> tuple[list[str], str]:
    """Options and loopback address of simulated camera `index`: a pan/tilt model first, then fixed ones.

    Every camera gets its own loopback address (`network`.x), as cameras on a LAN have their own IPs.
    As root they also listen on a real camera's ports (443, 554, 2020); otherwise the kernel picks.
    """
    model = PAN_TILT_MODEL if index == 0 else FIXED_MODEL
    args = ["--model", model]
    if os.geteuid() == 0:
        args += ["--control-port", "443", "--onvif-port", "2020", "--rtsp-port", "554"]
    return args, f"{network}.{index + 1}"


def start_simulators(count: int, network: str) -> list[Sim]:
    sims: list[Sim] = []
    try:
        for index in range(count):
            args, host = camera_args(index, network)
            sims.append(start_sim(*args, host=host, die_with_parent=True))
    except BaseException:
        for sim in sims:
            stop_sim(sim)
        raise
    return sims


def write_token_file(data: Path, token: str) -> Path:
    token_file = data / "token"
    token_file.write_text(token)
    token_file.chmod(0o600)
    return token_file


@dataclass
class Bridge:
    process: subprocess.Popen[bytes]
    url: str
    token_file: Path

    def stop(self) -> None:
        stop_process(self.process)


async def start_bridge(hass: HassProcess, token_file: Path, data: Path) -> Bridge:
    """The MCP bridge on streamable HTTP (loopback, bearer token), as Claude would reach it."""
    port = free_port()
    auth_file = data / "mcp-token"
    log = (data / "mcp-bridge.log").open("wb")
    argv, env = guarded(
        "mcp_bridge",
        *("--ha-url", hass.url, "--token-file", str(token_file), "--transport", "http"),
        *("--port", str(port), "--auth-token-file", str(auth_file)),
    )
    process = subprocess.Popen(  # noqa: ASYNC220 - Popen returns at once; readiness is awaited below
        argv,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    bridge = Bridge(process, f"http://127.0.0.1:{port}/mcp", auth_file)
    try:
        await _wait_for_bridge(bridge)
    except BaseException:
        bridge.stop()
        raise
    return bridge


async def _wait_for_bridge(bridge: Bridge, within: float = 60) -> None:
    """Up when the endpoint answers at all (401 without a token); the process gives no other signal."""
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if bridge.process.poll() is not None:
                raise RuntimeError(f"the MCP bridge exited with {bridge.process.returncode}")
            with contextlib.suppress(aiohttp.ClientError):
                async with session.post(bridge.url, json={}) as resp:
                    if resp.status in (401, 403):
                        return
            await asyncio.sleep(0.2)
    raise TimeoutError(f"the MCP bridge did not answer within {within:.0f} s")


def ready_line(
    hass: HassProcess, token_file: Path, sims: list[Sim], cameras: list[str], bridge: Bridge, dashboard: str
) -> str:
    assert hass.credentials is not None
    ready: dict[str, Any] = {
        "ha_url": hass.url,
        "username": hass.credentials.username,
        "password": hass.credentials.password,
        "token_file": str(token_file),
        "mcp_url": bridge.url,
        "mcp_token_file": str(bridge.token_file),
        "cameras": cameras,
        "simulators": [sim.info for sim in sims],
        "dashboard_url": dashboard,
    }
    return "READY " + json.dumps(ready)


def start_usb_webcams(count: int, data: Path) -> Sim | None:
    """`camsim usb` with its files in the data dir, so the webcams' stable paths (stored in the
    entry) are the same at every run."""
    if count <= 0:
        return None
    return start_usb_sim("--devices", str(count), "--dir", str(data / "usb-webcams"), die_with_parent=True)


async def add_usb_webcams(hass: HassProcess, sim: Sim | None) -> None:
    """Each simulated webcam through the real config flow, into the one USB entry."""
    if sim is None:
        return
    for path in sim.info["devices"]:
        result = await add_usb_camera(hass, path)
        if result["type"] == "create_entry" or result.get("reason") == "usb_added":
            continue
        if result.get("errors") == {"base": "usb_all_added"}:
            return  # a reused data dir: the entry has them already
        raise RuntimeError(f"adding the webcam {path} failed: {result.get('errors') or result}")


def start_ring_cloud(accounts: int) -> Sim | None:
    """One ringsim serving every Ring account: Home Assistant reaches one simulated Ring cloud (the
    integration's one seam, set from the announced env), so the accounts share it, as on Ring's."""
    if accounts <= 0:
        return None
    return start_ring_sim("--accounts", str(accounts), "--devices", "doorbell,battery", die_with_parent=True)


def start_furbo_cloud(accounts: int) -> Sim | None:
    """One furbosim serving every Furbo account (one seam per Home Assistant, as for Ring)."""
    if accounts <= 0:
        return None
    return start_furbo_sim("--accounts", str(accounts), die_with_parent=True)


def last_code_of(account: Sim) -> Callable[[], str | None]:
    """Reads the code the simulated cloud last sent this account (what its owner would type)."""

    def last_code() -> str | None:
        code = account.state()["last_code"]
        return None if code is None else str(code)

    return last_code


async def add_cloud_accounts(hass: HassProcess, cloud: Sim | None, brand: str, add: AddAccount) -> None:
    """Each account of a simulated cloud through the real config flow (its code from the simulator)."""
    if cloud is None:
        return
    for account in cloud.accounts:
        result = await add(hass, account.info, last_code_of(account))
        if result["type"] != "create_entry":
            raise RuntimeError(f"adding the {brand} account {account.info['email']} failed: {result}")


async def add_cameras(hass: HassProcess, sims: list[Sim]) -> list[str]:
    """One config entry per simulated camera, through the real config flow; returns camera entities.

    A data dir reused from an earlier run already has the entries; the flow then only updates them.
    """
    for sim in sims:
        result = await add_tapo_camera(hass, sim.info)
        if result["type"] == "abort" and result.get("reason") == "already_configured":
            continue
        if result["type"] != "create_entry":
            raise RuntimeError(f"adding the camera at {sim.host} failed: {result.get('errors') or result}")
    return [e for e in await camera_hub_entities(hass) if e.startswith("camera.")]


async def wait_for_stop_signal(hass: HassProcess, sims: list[Sim], bridge: Bridge) -> str:
    """Block until SIGINT/SIGTERM, or until a child dies; returns why."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    while not stop.is_set():
        if hass.process.poll() is not None:
            return f"Home Assistant exited ({hass.process.returncode}); see {hass.log_path}"
        if bridge.process.poll() is not None:
            return f"the MCP bridge exited ({bridge.process.returncode}); see its log in the data dir"
        if dead := [sim for sim in sims if sim.process.poll() is not None]:
            return f"camsim {dead[0].label} exited ({dead[0].process.returncode})"
        # A child's exit has no event to await here; check twice a second.
        await asyncio.sleep(0.5)
    return "stopping"


async def develop(args: argparse.Namespace) -> int:
    args.data = args.data.resolve()
    args.data.mkdir(parents=True, exist_ok=True)
    sims = start_simulators(args.cameras, args.camera_network)
    hass: HassProcess | None = None
    bridge: Bridge | None = None
    try:
        if (webcams := start_usb_webcams(args.usb, args.data)) is not None:
            sims.append(webcams)
        print(
            f"Starting Home Assistant on http://127.0.0.1:{args.port} (config: {args.data}) …",
            file=sys.stderr,
        )
        env = {USB_DESCRIPTION_ENV: webcams.info["description"]} if webcams is not None else {}
        if (ring := start_ring_cloud(args.ring)) is not None:
            sims.append(ring)
            env.update(ring.info["env"])  # the Ring seam: CAMERA_HUB_RING_CLOUD, wss_proxy, SSL_CERT_FILE
        if (furbo := start_furbo_cloud(args.furbo)) is not None:
            sims.append(furbo)
            env.update(furbo.info["env"])  # the Furbo seam: CAMERA_HUB_FURBO_CLOUD
        hass = await start_onboarded(args.data, args.port, die_with_parent=True, env=env)
        token_file = write_token_file(args.data, hass.token)
        await add_usb_webcams(hass, webcams)
        await add_cloud_accounts(hass, ring, "Ring", add_ring_account)
        await add_cloud_accounts(hass, furbo, "Furbo", add_furbo_account)
        cameras = await add_cameras(hass, [sim for sim in sims if sim.info["kind"] == "tapo"])
        dashboard = await install_dashboard(hass)
        bridge = await start_bridge(hass, token_file, args.data)
        print(ready_line(hass, token_file, sims, cameras, bridge, dashboard), flush=True)
        assert hass.credentials is not None
        print(
            f"Open {dashboard} and log in as {hass.credentials.username} / {hass.credentials.password}. "
            "Ctrl-C stops everything.",
            file=sys.stderr,
        )
        reason = await wait_for_stop_signal(hass, sims, bridge)
        print(reason, file=sys.stderr)
        return 0 if reason == "stopping" else 1
    finally:
        if bridge is not None:
            bridge.stop()
        if hass is not None:
            hass.stop()
        for sim in sims:
            stop_sim(sim)


def main(argv: list[str] | None = None) -> None:
    sys.exit(asyncio.run(develop(parse_args(argv))))


if __name__ == "__main__":
    main()
