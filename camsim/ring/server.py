"""Runs one simulated Ring cloud with its accounts (`--accounts N`): HTTPS cloud, CONNECT proxy, FCM push,
state endpoint, announcement. One process serves every account, as one Ring cloud does: a Home Assistant
reaches one simulated cloud (its one seam), and adds each account through its own login."""

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
from .account import Account, Accounts, Config
from .proxy import ConnectProxy
from .push import GOOGLE_HOSTS, FcmService

ALL_HOSTS = [*api.RING_HOSTS, *sorted(GOOGLE_HOSTS)]


class RingSim:
    """Every listener of the cloud, and the state endpoint's view of each account."""

    def __init__(self, config: Config, directory: Path) -> None:
        self.accounts = Accounts(config)
        self.directory = directory
        self.push = FcmService()
        self.cloud = api.RingCloud(
            self.accounts,
            media.Recordings(directory),
            signalling.handler(self.accounts),
            self._google,
            GOOGLE_HOSTS,
        )
        self.events = {account.number: events.Events(account, self.push) for account in self.accounts.all}

    async def _google(self, request: web.Request) -> web.StreamResponse:
        return await self.push.handle(request)

    def state(self, account: Account) -> dict[str, Any]:
        # Google's side is shared; an account sees the sockets and acks of the tokens it subscribed.
        # delivered = acknowledged by the client, as Google counts it
        account.counters["push_delivered"] = self.push.delivered_to(account.push_tokens)
        state = account.state(self.push.connected(account.push_tokens))
        state["push_held"] = len(self.events[account.number].held)
        return state

    async def apply(self, account: Account, body: dict[str, Any]) -> None:
        account.apply_faults(body)
        account_events = self.events[account.number]
        if not body:
            account_events.malformed = False
            await account_events.hold(False)
        if push := body.get("push"):
            if push.get("drop"):
                self.push.drop_connections()  # Google's outage: every account's sockets
            if push.get("malformed"):
                account_events.malformed = True
            if "hold" in push:
                await account_events.hold(bool(push["hold"]))
            if (close := push.get("close")) is not None:
                await self.push.close_sessions(int(close))  # Google's side: every account's sessions
        for kind in ("ding", "motion", "intercom_unlock"):
            if (event := body.get(kind)) is not None:
                await account_events.trigger(kind, int(event["device_id"]), str(event.get("subtype", "")))

    def state_app(self) -> web.Application:
        """`/` is the first account's state, `/accounts/N/` account N's (1, 2, …)."""

        def account_of(request: web.Request) -> Account:
            return self.accounts.numbered(int(request.match_info.get("number", "1")))

        async def get_state(request: web.Request) -> web.Response:
            try:
                account = account_of(request)
            except ValueError as err:
                return web.json_response({"error": str(err)}, status=404)
            return web.json_response(self.state(account))

        async def post_state(request: web.Request) -> web.Response:
            try:
                account = account_of(request)
            except ValueError as err:
                return web.json_response({"error": str(err)}, status=404)
            try:
                body = await request.json() if request.can_read_body else {}
                if not isinstance(body, dict):
                    raise ValueError("body must be a JSON object")
                await self.apply(account, body)
            except (ValueError, TypeError, KeyError) as err:
                return web.json_response({"error": str(err)}, status=400)
            return web.json_response(self.state(account))

        app = web.Application()
        for path in ("/", r"/accounts/{number:\d+}/"):
            app.router.add_get(path, get_state)
            app.router.add_post(path, post_state)
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


def announced_account(account: Account, state_base: str) -> dict[str, Any]:
    return {
        "number": account.number,
        "email": account.config.email,
        "password": account.config.password,
        "devices": [
            {"id": device["id"], "kind": device["kind"], "description": device["description"]}
            for device in account.devices.values()
        ],
        "state_url": f"{state_base}accounts/{account.number}/",
    }


def announcement(
    sim: RingSim, host: str, ports: dict[str, int], ca_file: Path, cloud_file: Path
) -> dict[str, Any]:
    """The first account's email, password, devices and state_url at the top (a single-account
    simulator reads as before); `accounts` lists every account, the first included."""
    state_base = f"http://{host}:{ports['state']}/"
    accounts = [announced_account(account, state_base) for account in sim.accounts.all]
    first = accounts[0]
    return {
        "kind": "ring",
        "host": host,
        "https_port": ports["https"],
        "proxy_port": ports["proxy"],
        "mcs_port": ports["mcs"],
        "ca_file": str(ca_file),
        "cloud_file": str(cloud_file),
        "email": first["email"],
        "password": first["password"],
        "devices": first["devices"],
        "state_url": state_base,
        "accounts": accounts,
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
