"""Runs one simulated Ring account: HTTPS cloud, CONNECT proxy, FCM push, state endpoint, announcement."""

from __future__ import annotations

import asyncio
import json
import shutil
import ssl
import tempfile
from pathlib import Path
from typing import Any

from aiohttp import web

from ..authority import make_authority
from ..servers import AiohttpListener
from . import api, events, media, signalling
from .account import Account, Config
from .proxy import ConnectProxy
from .push import GOOGLE_HOSTS, FcmService

ALL_HOSTS = [*api.RING_HOSTS, *sorted(GOOGLE_HOSTS)]


class RingSim:
    """Every listener of one account, and the state endpoint's view of them."""

    def __init__(self, config: Config, directory: Path) -> None:
        self.account = Account(config)
        self.directory = directory
        self.push = FcmService()
        self.cloud = api.RingCloud(
            self.account,
            media.Recordings(directory),
            signalling.handler(self.account),
            self._google,
            GOOGLE_HOSTS,
        )
        self.events = events.Events(self.account, self.push)

    async def _google(self, request: web.Request) -> web.StreamResponse:
        return await self.push.handle(request)

    def state(self) -> dict[str, Any]:
        push = self.push.counters()
        # delivered = acknowledged by the client, as Google counts it
        self.account.counters["push_delivered"] = push["delivered"]
        return self.account.state(push["connections"])

    async def apply(self, body: dict[str, Any]) -> None:
        self.account.apply_faults(body)
        if not body:
            self.events.malformed = False
        if push := body.get("push"):
            if push.get("drop"):
                self.push.drop_connections()
            if push.get("malformed"):
                self.events.malformed = True
        for kind in ("ding", "motion", "intercom_unlock"):
            if (event := body.get(kind)) is not None:
                await self.events.trigger(kind, int(event["device_id"]), str(event.get("subtype", "")))

    def state_app(self) -> web.Application:
        async def get_state(_: web.Request) -> web.Response:
            return web.json_response(self.state())

        async def post_state(request: web.Request) -> web.Response:
            try:
                body = await request.json() if request.can_read_body else {}
                if not isinstance(body, dict):
                    raise ValueError("body must be a JSON object")
                await self.apply(body)
            except (ValueError, TypeError, KeyError) as err:
                return web.json_response({"error": str(err)}, status=400)
            return web.json_response(self.state())

        app = web.Application()
        app.router.add_get("/", get_state)
        app.router.add_post("/", post_state)
        return app

    async def start_push(self, host: str, port: int, ssl_context: ssl.SSLContext) -> int:
        return await self.push.start_mcs(host, ssl_context, port=port)


def write_cloud_file(directory: Path, ca_file: Path, host: str, https_port: int, mcs_port: int) -> Path:
    cloud_file = directory / "ring-cloud.json"
    cloud = {
        "ca_file": str(ca_file),
        "address": [host, https_port],
        "hosts": ALL_HOSTS,
        "mcs": [host, mcs_port],
    }
    cloud_file.write_text(json.dumps(cloud, indent=2))
    return cloud_file


def announcement(
    sim: RingSim, host: str, ports: dict[str, int], ca_file: Path, cloud_file: Path
) -> dict[str, Any]:
    return {
        "kind": "ring",
        "host": host,
        "https_port": ports["https"],
        "proxy_port": ports["proxy"],
        "mcs_port": ports["mcs"],
        "ca_file": str(ca_file),
        "cloud_file": str(cloud_file),
        "email": sim.account.config.email,
        "password": sim.account.config.password,
        "devices": [
            {"id": device["id"], "kind": device["kind"], "description": device["description"]}
            for device in sim.account.devices.values()
        ],
        "state_url": f"http://{host}:{ports['state']}/",
        "env": {
            "CAMERA_HUB_RING_CLOUD": str(cloud_file),
            "wss_proxy": f"http://{host}:{ports['proxy']}",
            "SSL_CERT_FILE": str(ca_file),
        },
    }


async def run(config: Config, host: str, requested: dict[str, int], stop: asyncio.Event) -> None:
    """Serve until `stop` is set; `requested` holds the https/proxy/mcs/state ports (0: any)."""
    directory = Path(tempfile.mkdtemp(prefix="camsim-ring-"))
    try:
        authority = make_authority(ALL_HOSTS, directory, label="ringsim")
        sim = RingSim(config, directory)
        cloud = await AiohttpListener.start(
            sim.cloud.build_app(), host, requested["https"], ssl_context=authority.server_context()
        )
        sim.cloud.media_base = f"https://{host}:{cloud.port}"
        proxy = ConnectProxy(frozenset(ALL_HOSTS) | {host}, host, cloud.port)
        state = await AiohttpListener.start(sim.state_app(), host, requested["state"])
        try:
            ports = {
                "https": cloud.port,
                "proxy": await proxy.start(host, requested["proxy"]),
                "mcs": await sim.start_push(host, requested["mcs"], authority.server_context()),
                "state": state.port,
            }
            cloud_file = write_cloud_file(directory, authority.ca_file, host, cloud.port, ports["mcs"])
            print(json.dumps(announcement(sim, host, ports, authority.ca_file, cloud_file)), flush=True)
            await stop.wait()
        finally:
            await state.stop()
            await proxy.stop()
            await sim.push.stop()
            await cloud.stop()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
