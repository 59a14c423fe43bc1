"""Run a real Home Assistant process on the working tree's integration, onboarded, with a token.

Shared by scripts/develop (the demo), the end-to-end tests and the benchmarks, so all three exercise
the same start-up path a user's HA takes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import socket
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from .sims import guarded, stop_process

ROOT = Path(__file__).resolve().parents[2]
INTEGRATION = ROOT / "custom_components" / "camera_hub"
CLIENT_ID = "http://127.0.0.1/"
HASS_PYTHON_ENV = "CAMERA_HUB_HASS_PYTHON"

# The components the demo needs, listed one by one: `default_config:` would also bring go2rtc (no binary
# can be had here), cloud and integrations that call the internet (alerts, analytics, …).
CONFIGURATION_YAML = """\
homeassistant:
  name: Camera Hub demo
  unit_system: metric
  time_zone: UTC
  country: DE
  latitude: 52.52
  longitude: 13.40
  elevation: 34
  # Clips recorded through the MCP bridge (camera.record) land here; also browsable under Media.
  media_dirs:
    local: {config_dir}/media
  allowlist_external_dirs:
    - {config_dir}/media
frontend:
config:
api:
person:
repairs:
diagnostics:
system_health:
ffmpeg:
stream:
media_source:
history:
logbook:
logger:
  default: warning
  logs:
    custom_components.camera_hub: {log_level}
"""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


# Onboarding's "core config" step (location, units) is answered by configuration.yaml. Posting it would
# also create onboarding's default integrations (met.no weather, Radio Browser, Google Translate TTS,
# shopping list), the first three of which call the internet from then on: so a fresh config dir
# starts with that step marked done, and onboard() skips it.
ONBOARDING_STORE = {"version": 4, "minor_version": 1, "key": "onboarding", "data": {"done": ["core_config"]}}


def http_store(port: int) -> dict[str, Any]:
    """HA's stored HTTP settings: loopback on `port`, confirmed (HA's defaults for everything else).

    Since 2026.10 an `http:` block in configuration.yaml is migrated once into this store as a *trial*:
    the frontend asks to confirm it, HA restarts on the default 0.0.0.0:8123 if nobody does within
    5 minutes, and later starts ignore the YAML (so a new port never applies). Writing the store before
    every start as the confirmed ("stable") config avoids all three.
    """
    settings = {
        "server_host": ["127.0.0.1"],
        "server_port": port,
        "cors_allowed_origins": ["https://cast.home-assistant.io"],
        "login_attempts_threshold": -1,
        "ip_ban_enabled": True,
        "ssl_profile": "modern",
        "use_x_frame_options": True,
        "created_at": "2026-01-01T00:00:00+00:00",
        "error": None,
        "error_message": None,
    }
    data = {"stable": settings, "pending": None, "yaml_migration_done": True}
    return {"version": 2, "minor_version": 2, "key": "http", "data": data}


# HA's brands proxy (2026.x) serves a core integration's icon from brands.home-assistant.io, caching
# it under .cache/brands; offline, the frontend's <img> gets a 404 and logs an error. The demo seeds
# that cache instead: its own core integrations marked "no image" (an empty file, as HA caches a
# CDN 404), and the placeholder HA then serves, so no page reaches for the CDN. Camera Hub's own
# icon comes from custom_components/camera_hub/brand/.
BRAND_IMAGES = [
    f"{dark}{kind}{size}.png" for dark in ("", "dark_") for kind in ("icon", "logo") for size in ("", "@2x")
]
CORE_DOMAINS_WITH_ENTRIES = ("backup",)


def _transparent_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)  # 1x1, 8-bit RGBA
    pixels = zlib.compress(b"\0\0\0\0\0")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def seed_brand_cache(config_dir: Path) -> None:
    cache = config_dir / ".cache" / "brands" / "integrations"
    domains = {*re.findall(r"^(\w+):", CONFIGURATION_YAML, re.MULTILINE), *CORE_DOMAINS_WITH_ENTRIES}
    for image in BRAND_IMAGES:
        placeholder = cache / "_placeholder" / image
        placeholder.parent.mkdir(parents=True, exist_ok=True)
        placeholder.write_bytes(_transparent_png())
        for domain in domains:
            (cache / domain).mkdir(exist_ok=True)
            (cache / domain / image).write_bytes(b"")


def write_config(config_dir: Path, port: int, log_level: str = "info") -> None:
    """Write configuration.yaml and HA's stored HTTP and onboarding state; link the integration."""
    config_dir.mkdir(parents=True, exist_ok=True)
    storage = config_dir / ".storage"
    storage.mkdir(exist_ok=True)
    (storage / "http").write_text(json.dumps(http_store(port)))
    if not (storage / "onboarding").exists():
        (storage / "onboarding").write_text(json.dumps(ONBOARDING_STORE))
    seed_brand_cache(config_dir)
    (config_dir / "media").mkdir(exist_ok=True)
    (config_dir / "configuration.yaml").write_text(
        CONFIGURATION_YAML.format(log_level=log_level, config_dir=config_dir.resolve())
    )
    custom = config_dir / "custom_components"
    custom.mkdir(exist_ok=True)
    link = custom / "camera_hub"
    if link.is_symlink() or link.exists():
        if link.resolve() == INTEGRATION:
            return
        link.unlink()
    link.symlink_to(INTEGRATION, target_is_directory=True)


@dataclass
class Credentials:
    username: str
    password: str
    token: str


@dataclass
class HassProcess:
    """A running `hass` and how to reach it."""

    process: subprocess.Popen[bytes]
    config_dir: Path
    url: str
    log_path: Path
    credentials: Credentials | None = None

    @property
    def token(self) -> str:
        assert self.credentials is not None, "onboard() first"
        return self.credentials.token

    def log_tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self, timeout: float = 30) -> None:
        stop_process(self.process, timeout)


def camera_hub_deprecations(log: str) -> list[str]:
    """The lines of a `hass` log in which HA reports Camera Hub using something deprecated or about to
    stop working (its frame helper's "Detected that custom integration 'camera_hub' …")."""
    return [
        line
        for line in log.splitlines()
        if ("camera_hub" in line or "camera-hub" in line)  # HA names our issue tracker in entity warnings
        and (
            "deprecat" in line.lower()
            or "Detected that custom integration 'camera_hub'" in line
            or "stop working in Home Assistant" in line
        )
    ]


def hass_python() -> str:
    """The interpreter `hass` runs on: this one, or the one CAMERA_HUB_HASS_PYTHON names — scripts/test
    points it at `.venv-ha-next` to run the end-to-end tests once more on the newest released HA."""
    return os.environ.get(HASS_PYTHON_ENV) or sys.executable


def start_hass(
    config_dir: Path,
    port: int | None = None,
    *,
    log_level: str = "info",
    die_with_parent: bool = False,
    env: Mapping[str, str] | None = None,
) -> HassProcess:
    """Start `hass` from this interpreter's environment (plus `env`); returns before HTTP answers."""
    port = port or free_port()
    write_config(config_dir, port, log_level)
    log_path = config_dir / "hass.stdout.log"
    with log_path.open("wb") as log:
        args = ["--config", str(config_dir), "--skip-pip"]
        argv, environment = (
            guarded("homeassistant", *args, python=hass_python())
            if die_with_parent
            else ([hass_python(), "-m", "homeassistant", *args], dict(os.environ))
        )
        process = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**environment, **(env or {}), "PYTHONUNBUFFERED": "1"},
            start_new_session=True,
        )
    return HassProcess(process, config_dir, f"http://127.0.0.1:{port}", log_path)


async def wait_until_up(hass: HassProcess, within: float = 180) -> None:
    """Poll until HTTP answers; HA gives no other signal a separate process can wait on."""
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if hass.process.poll() is not None:
                raise RuntimeError(f"hass exited with {hass.process.returncode}:\n{hass.log_tail()}")
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with session.get(
                    f"{hass.url}/api/onboarding", timeout=aiohttp.ClientTimeout(5)
                ) as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.25)
    raise TimeoutError(f"hass did not answer within {within:.0f} s:\n{hass.log_tail()}")


async def onboard(hass: HassProcess, username: str = "demo") -> Credentials:
    """Create the owner, finish onboarding and mint a long-lived access token.

    The password is random per config dir. A config dir that was onboarded before keeps its owner;
    then the saved credentials are reused.
    """
    saved = hass.config_dir / ".camera-hub-demo.json"
    async with aiohttp.ClientSession(base_url=hass.url) as session:
        async with session.get("/api/onboarding") as resp:
            steps = {step["step"]: step["done"] for step in await resp.json()}
        if steps.get("user"):
            if not saved.exists():
                raise RuntimeError(f"{hass.config_dir} was onboarded by someone else; use a fresh --data dir")
            hass.credentials = Credentials(**json.loads(saved.read_text()))
            return hass.credentials
        password = secrets.token_urlsafe(12)
        access = await _create_owner(session, username, password)
        headers = {"Authorization": f"Bearer {access}"}
        for step in ("analytics", "integration"):
            if steps.get(step):
                continue
            body: dict[str, Any] = (
                {"client_id": CLIENT_ID, "redirect_uri": CLIENT_ID} if step == "integration" else {}
            )
            async with session.post(f"/api/onboarding/{step}", json=body, headers=headers) as resp:
                resp.raise_for_status()
        token = await _long_lived_token(session, access)
    hass.credentials = Credentials(username, password, token)
    saved.write_text(json.dumps(vars(hass.credentials)))
    saved.chmod(0o600)
    return hass.credentials


async def _create_owner(session: aiohttp.ClientSession, username: str, password: str) -> str:
    owner = {
        "client_id": CLIENT_ID,
        "name": "Demo",
        "username": username,
        "password": password,
        "language": "en",
    }
    async with session.post("/api/onboarding/users", json=owner) as resp:
        resp.raise_for_status()
        auth_code = (await resp.json())["auth_code"]
    form = {"grant_type": "authorization_code", "code": auth_code, "client_id": CLIENT_ID}
    async with session.post("/auth/token", data=form) as resp:
        resp.raise_for_status()
        return str((await resp.json())["access_token"])


async def ws_command(session: aiohttp.ClientSession, token: str, message: dict[str, Any]) -> Any:
    """One WebSocket API command on its own authenticated connection; its result.

    `session` must have HA's URL as base_url.
    """
    async with session.ws_connect("/api/websocket") as ws:
        await ws.receive_json()  # auth_required
        await ws.send_json({"type": "auth", "access_token": token})
        if (await ws.receive_json())["type"] != "auth_ok":
            raise RuntimeError("Home Assistant rejected the token")
        await ws.send_json({"id": 1, **message})
        reply = await ws.receive_json()
    if not reply.get("success"):
        raise RuntimeError(f"{message['type']}: {reply.get('error')}")
    return reply["result"]


async def _long_lived_token(session: aiohttp.ClientSession, access_token: str) -> str:
    message = {"type": "auth/long_lived_access_token", "client_name": "Camera Hub demo", "lifespan": 3650}
    return str(await ws_command(session, access_token, message))


async def start_onboarded(config_dir: Path, port: int | None = None, **kwargs: Any) -> HassProcess:
    """Start hass, wait for it and onboard it; stops it again if any step fails."""
    hass = start_hass(config_dir, port, **kwargs)
    try:
        await wait_until_up(hass)
        await onboard(hass)
    except BaseException:
        hass.stop()
        raise
    return hass


async def add_tapo_camera(
    hass: HassProcess,
    sim_info: dict[str, Any],
    *,
    # camsim's default accounts (see shared/DESIGN.md, section camsim)
    username: str = "camuser",
    password: str = "campass",  # noqa: S107
    cloud_password: str = "cloudpass",  # noqa: S107
) -> dict[str, Any]:
    """Add a (simulated) Tapo camera through the integration's real config flow over REST.

    Returns the flow's final result (`type` "create_entry" with `result` = the entry), or the form
    with its errors when the camera was refused.
    """
    async with _config_flow(hass) as (step, flow_path):
        await step(flow_path, {"next_step_id": "tapo"})
        result = await step(
            flow_path,
            {
                "host": sim_info["host"],
                "username": username,
                "password": password,
                "cloud_password": cloud_password,
                "advanced": {
                    "control_port": sim_info["control_port"],
                    "onvif_port": sim_info["onvif_port"],
                    "rtsp_port": sim_info["rtsp_port"],
                },
            },
        )
        if result["type"] == "form" and result["step_id"].startswith("stream_only"):
            result = await step(flow_path, {})
        return result


async def add_usb_camera(hass: HassProcess, path: str) -> dict[str, Any]:
    """Add a (simulated) USB webcam by its stable path through the real config flow over REST, in
    the mode the flow proposes. Returns the flow's final result: `create_entry` for the first webcam,
    abort `usb_added` for the next ones, or the form with its errors.
    """
    async with _config_flow(hass) as (step, flow_path):
        result = await step(flow_path, {"next_step_id": "usb"})
        if result.get("step_id") != "usb":
            return result  # nothing to add (the form says why)
        result = await step(flow_path, {"device": path})
        if result.get("step_id") != "usb_mode":
            return result
        proposed = next(field["default"] for field in result["data_schema"] if field["name"] == "mode")
        return await step(flow_path, {"mode": proposed})


async def add_ring_account(
    hass: HassProcess, sim_info: dict[str, Any], code: Callable[[], str | None]
) -> dict[str, Any]:
    """Add a (simulated) Ring account through the real config flow over REST: e-mail and password,
    then `code()` (ringsim's last code) when Ring asks for one. Returns the flow's final result.

    An entry left from an earlier run holds a token the new ringsim never issued: it is deleted first.
    """
    await _delete_entries_titled(hass, str(sim_info["email"]))
    async with _config_flow(hass) as (step, flow_path):
        await step(flow_path, {"next_step_id": "ring"})
        result = await step(flow_path, {"email": sim_info["email"], "password": sim_info["password"]})
        if str(result.get("step_id", "")).startswith("ring_2fa"):
            result = await step(flow_path, {"code": code()})
        return result


async def add_furbo_account(
    hass: HassProcess, sim_info: dict[str, Any], code: Callable[[], str | None]
) -> dict[str, Any]:
    """Add a (simulated) Furbo account through the real config flow over REST: e-mail and password,
    then `code()` (furbosim's last e-mailed code) when the account asks. Returns the flow's final result.

    An entry left from an earlier run holds a token the new furbosim never issued: it is deleted first.
    """
    await _delete_entries_titled(hass, str(sim_info["email"]))
    async with _config_flow(hass) as (step, flow_path):
        await step(flow_path, {"next_step_id": "furbo"})
        result = await step(flow_path, {"email": sim_info["email"], "password": sim_info["password"]})
        if result.get("step_id") == "furbo_code":
            result = await step(flow_path, {"code": code()})
        return result


async def _delete_entries_titled(hass: HassProcess, title: str) -> None:
    headers = {"Authorization": f"Bearer {hass.token}"}
    async with aiohttp.ClientSession(hass.url, headers=headers) as session:
        async with session.get("/api/config/config_entries/entry", params={"domain": "camera_hub"}) as resp:
            resp.raise_for_status()
            entries: list[dict[str, Any]] = await resp.json()
        for entry in entries:
            if entry["title"] == title:
                async with session.delete(f"/api/config/config_entries/entry/{entry['entry_id']}") as resp:
                    resp.raise_for_status()


type FlowStep = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


@contextlib.asynccontextmanager
async def _config_flow(hass: HassProcess) -> AsyncIterator[tuple[FlowStep, str]]:
    """A new camera_hub config flow over REST: a `step(path, body)` poster and the flow's path."""
    headers = {"Authorization": f"Bearer {hass.token}"}
    async with aiohttp.ClientSession(hass.url, headers=headers) as session:

        async def step(path: str, body: dict[str, Any]) -> dict[str, Any]:
            async with session.post(path, json=body) as resp:
                resp.raise_for_status()
                result: dict[str, Any] = await resp.json()
                return result

        flow = await step("/api/config/config_entries/flow", {"handler": "camera_hub"})
        yield step, f"/api/config/config_entries/flow/{flow['flow_id']}"


async def camera_hub_entities(hass: HassProcess) -> list[str]:
    """Entity ids of every Camera Hub entity, from the entity registry over the WebSocket API."""
    async with aiohttp.ClientSession(hass.url) as session:
        entities = await ws_command(session, hass.token, {"type": "config/entity_registry/list"})
    return sorted(e["entity_id"] for e in entities if e["platform"] == "camera_hub")
