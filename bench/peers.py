"""The "peers" figures: HA core's `tplink` (python-kasa) and Camera Hub in one real hass, on the same
simulated cameras, each set up through its real config flow over REST.

Per firmware, what the user sees at the end of each flow; the logins each flow cost the camera;
after the camera's cloud password changes, the failed logins each integration sends in two
minutes and whether it asks the user (reauth); snapshot latency and the age of the picture
returned (camsim burns its wall clock into every frame). Method and keys: bench/README.md.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from camsim import timestamp
from camsim.device import FIRMWARES
from scripts.lib.hass import HassProcess, start_onboarded, ws_command
from scripts.lib.sims import Sim, start_sim, stop_sim

from .measure import p50

CLOUD_PASSWORD = "cloudpass"  # camsim's default (shared/DESIGN.md, section camsim)
WRONG_PASSWORD = "not-the-cloud-password"
NEW_PASSWORD = "changed-in-the-app"
# HA's tplink builds the RTSP URL with port 554 and tries the control API on its default ports, as
# on a real camera: every camera gets its own loopback address with a real camera's ports.
REAL_PORTS = ("--control-port", "443", "--onvif-port", "2020", "--rtsp-port", "554")
# camsim's digest login wants the camera's own user; python-kasa sends the username it is given.
TPLINK_USERNAME = "admin"
FAULT_SECONDS = 120
REAL_LOCKOUT_AFTER = 5  # failed logins before a real camera (and camsim by default) locks for 30 min
SNAPSHOTS = 20


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


class Rest:
    """The bench's REST/WebSocket calls to the real hass."""

    def __init__(self, hass: HassProcess, session: aiohttp.ClientSession) -> None:
        self.hass = hass
        self.session = session

    @classmethod
    @asynccontextmanager
    async def connect(cls, hass: HassProcess) -> AsyncIterator[Rest]:
        headers = {"Authorization": f"Bearer {hass.token}"}
        timeout = aiohttp.ClientTimeout(total=None, sock_read=120)
        async with aiohttp.ClientSession(hass.url, headers=headers, timeout=timeout) as session:
            yield cls(hass, session)

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        async with self.session.post(path, json=body) as resp:
            resp.raise_for_status()
            result: dict[str, Any] = await resp.json()
            return result

    async def ws(self, message: dict[str, Any]) -> Any:
        return await ws_command(self.session, self.hass.token, message)

    async def close_flow(self, result: dict[str, Any]) -> None:
        """A flow left on a form with errors stays open in HA; the user would close the dialog."""
        if result.get("type") == "form":
            async with self.session.delete(f"/api/config/config_entries/flow/{result['flow_id']}"):
                pass

    async def entries(self, domain: str) -> list[dict[str, Any]]:
        async with self.session.get("/api/config/config_entries/entry", params={"domain": domain}) as r:
            entries: list[dict[str, Any]] = await r.json()
            return entries


def outcome(result: dict[str, Any], stream_only: bool = False) -> str:
    """What the user sees when the flow ends: created, or the form's error, or the abort reason."""
    kind = result.get("type")
    if kind == "create_entry":
        return "created (stream only)" if stream_only else "created"
    if kind == "abort":
        return f"aborted: {result.get('reason')}"
    errors = result.get("errors") or {}
    return ", ".join(sorted(set(errors.values()))) or f"form {result.get('step_id')} without error"


async def tplink_flow(rest: Rest, host: str, password: str) -> tuple[str, dict[str, Any]]:
    """HA core tplink's user flow as the UI drives it: host, then the account, then the camera account."""
    flow = await rest.post("/api/config/config_entries/flow", {"handler": "tplink"})
    path = f"/api/config/config_entries/flow/{flow['flow_id']}"
    result = await rest.post(path, {"host": host})
    if result.get("step_id") == "user_auth_confirm":
        result = await rest.post(path, {"username": TPLINK_USERNAME, "password": password})
    if result.get("step_id") == "camera_auth_confirm" and not result.get("errors"):
        result = await rest.post(path, {"live_view": True, "username": "camuser", "password": "campass"})
    await rest.close_flow(result)
    return outcome(result), result


async def hub_flow(rest: Rest, sim: Sim, password: str) -> tuple[str, dict[str, Any]]:
    """Camera Hub's flow (add_tapo_camera's steps in scripts/lib/hass.py), noting a stream-only offer."""
    flow = await rest.post("/api/config/config_entries/flow", {"handler": "camera_hub"})
    path = f"/api/config/config_entries/flow/{flow['flow_id']}"
    await rest.post(path, {"next_step_id": "tapo"})
    info = sim.info
    result = await rest.post(
        path,
        {
            "host": info["host"],
            "username": "camuser",
            "password": "campass",
            "cloud_password": password,
            "advanced": {
                "control_port": info["control_port"],
                "onvif_port": info["onvif_port"],
                "rtsp_port": info["rtsp_port"],
            },
        },
    )
    stream_only = result.get("type") == "form" and str(result.get("step_id")).startswith("stream_only")
    if stream_only:
        result = await rest.post(path, {})
    await rest.close_flow(result)
    return outcome(result, stream_only), result


def logins(sim: Sim) -> tuple[int, int]:
    counters = sim.state()["counters"]
    return counters["login_ok"], counters["login_failed"]


async def setup_one(rest: Rest, integration: str, sim: Sim, password: str) -> dict[str, Any]:
    sim.inject(unlock=True)  # each integration meets the camera unlocked
    ok_before, failed_before = logins(sim)
    start = time.monotonic()
    if integration == "tplink":
        shown, result = await tplink_flow(rest, sim.host, password)
    else:
        shown, result = await hub_flow(rest, sim, password)
    ok_after, failed_after = logins(sim)
    return {
        "result": shown,
        "seconds": round(time.monotonic() - start, 1),
        "logins_ok": ok_after - ok_before,
        "logins_failed": failed_after - failed_before,
        "locked_camera": sim.state()["locked_out_seconds"] > 0,
        "entry_id": result["result"]["entry_id"] if result.get("type") == "create_entry" else None,
    }


async def bench_setup(rest: Rest, sims: dict[str, Sim]) -> dict[str, Any]:
    """Wrong password first: tplink keeps a working account for every later flow once one succeeded."""
    cases = [("wrong_password", sims["secure_wrong"], WRONG_PASSWORD)] + [
        (firmware, sims[firmware], CLOUD_PASSWORD) for firmware in FIRMWARES
    ]
    figures: dict[str, Any] = {}
    for case, sim, password in cases:
        figures[case] = {}
        for integration in ("tplink", "camera_hub"):
            log(f"peers: {integration} setup, {case}")
            figures[case][integration] = await setup_one(rest, integration, sim, password)
    return figures


async def reauth_flows(rest: Rest) -> dict[str, int]:
    progress = await rest.ws({"type": "config_entries/flow/progress"})
    counts = {"tplink": 0, "camera_hub": 0}
    for flow in progress:
        if flow.get("context", {}).get("source") == "reauth" and flow["handler"] in counts:
            counts[flow["handler"]] += 1
    return counts


async def bench_password_change(rest: Rest, sims: dict[str, Sim], seconds: float) -> dict[str, Any]:
    """Each integration on its own camera; both passwords change at once; two minutes of counting."""
    log(f"peers: cloud password changed, {seconds:.0f} s of login counting")
    before = {name: logins(sim)[1] for name, sim in sims.items()}
    for sim in sims.values():
        sim.inject(cloud_password=NEW_PASSWORD)
    start = time.monotonic()
    would_lock: dict[str, float | None] = dict.fromkeys(sims)
    first_reauth: dict[str, float | None] = dict.fromkeys(sims)
    while (elapsed := time.monotonic() - start) < seconds:
        for name, sim in sims.items():
            if would_lock[name] is None and logins(sim)[1] - before[name] >= REAL_LOCKOUT_AFTER:
                would_lock[name] = round(elapsed, 1)
        for name, count in (await reauth_flows(rest)).items():
            if count and first_reauth[name] is None:
                first_reauth[name] = round(elapsed, 1)
        await asyncio.sleep(1)
    reauth = await reauth_flows(rest)
    states = {name: [e["state"] for e in await rest.entries(name)] for name in sims}
    return {
        name: {
            "failed_logins": logins(sim)[1] - before[name],
            "per_minute": round((logins(sim)[1] - before[name]) * 60 / seconds, 1),
            "reauth_flows": reauth[name],
            "reauth_after_s": first_reauth[name],
            "real_camera_locks_after_s": would_lock[name],
            "entry_states": states[name],
        }
        for name, sim in sims.items()
    }


async def camera_entity(rest: Rest, platform: str, entry_id: str) -> str:
    entities = await rest.ws({"type": "config/entity_registry/list"})
    cameras = [
        e
        for e in entities
        if e["platform"] == platform
        and e["config_entry_id"] == entry_id
        and e["entity_id"].startswith("camera.")
    ]
    # Camera Hub makes an HD and an SD camera per Tapo; its unique ids end in "_hd" / "_sd".
    hd = [e for e in cameras if str(e["unique_id"]).endswith("_hd")]
    return str((hd or cameras)[0]["entity_id"])


async def snapshots(rest: Rest, entity: str, count: int) -> dict[str, Any]:
    """One snapshot a second through /api/camera_proxy: latency, and how old the picture is."""
    latencies: list[float] = []
    ages: list[float] = []
    errors = 0
    for _ in range(count):
        start = time.monotonic()
        async with rest.session.get(f"/api/camera_proxy/{entity}") as resp:
            body = await resp.read() if resp.status == 200 else b""
        latency = (time.monotonic() - start) * 1000
        if body.startswith(b"\xff\xd8"):
            latencies.append(latency)
            ages.append(time.time() * 1000 - timestamp.read(body))
        else:
            errors += 1
        await asyncio.sleep(1)
    if not latencies:
        return {"entity": entity, "errors": errors}
    return {
        "entity": entity,
        "p50_ms": round(p50(latencies), 1),
        "first_ms": round(latencies[0], 1),
        "age_p50_ms": round(p50(ages), 1),
        "age_max_ms": round(max(ages), 1),
        "errors": errors,
    }


async def bench_snapshots(rest: Rest, setup: dict[str, Any]) -> dict[str, Any]:
    log(f"peers: {SNAPSHOTS} snapshots a second apart from each integration's camera entity")
    secure = setup["secure"]
    figures = {}
    for platform, integration in (("tplink", "tplink"), ("camera_hub", "camera_hub")):
        entry_id = secure[integration]["entry_id"]
        if entry_id is None:
            figures[integration] = {"error": "not set up"}
            continue
        figures[integration] = await snapshots(rest, await camera_entity(rest, platform, entry_id), SNAPSHOTS)
    return figures


def start_cameras() -> dict[str, Sim]:
    names = [*FIRMWARES, "secure_wrong", "fault_tplink", "fault_camera_hub"]
    sims = {}
    for i, name in enumerate(names, start=1):
        firmware = name if name in FIRMWARES else "secure"
        # The fault cameras never lock, so every login attempt stays countable (a locked camsim
        # answers "suspended" without counting); real_camera_locks_after_s says when a real one would.
        lockout = ("--lockout-after", "100000") if name.startswith("fault") else ()
        sims[name] = start_sim("--firmware", firmware, *REAL_PORTS, *lockout, host=f"127.0.5.{i}")
    return sims


async def bench_peers(fault_seconds: float = FAULT_SECONDS) -> dict[str, Any]:
    sims = start_cameras()
    try:
        with tempfile.TemporaryDirectory(prefix="camera-hub-peers-") as tmp:
            hass = await start_onboarded(Path(tmp) / "hass", log_level="warning")
            try:
                async with Rest.connect(hass) as rest:
                    setup = await bench_setup(rest, sims)
                    figures: dict[str, Any] = {"setup": setup}
                    figures["snapshot"] = await bench_snapshots(rest, setup)
                    fault = {"tplink": sims["fault_tplink"], "camera_hub": sims["fault_camera_hub"]}
                    for integration, sim in fault.items():
                        await setup_one(rest, integration, sim, CLOUD_PASSWORD)
                    figures["password_changed"] = await bench_password_change(rest, fault, fault_seconds)
            finally:
                hass.stop()
    finally:
        for sim in sims.values():
            stop_sim(sim)
    for case in figures["setup"].values():
        for row in case.values():
            row.pop("entry_id")
    figures["method"] = {
        "fault_seconds": fault_seconds,
        "snapshots": SNAPSHOTS,
        "tplink_username": TPLINK_USERNAME,
        "camera_ports": "443/2020/554",
    }
    return figures
