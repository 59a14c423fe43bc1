"""Runs one simulated Furbo cloud with its accounts (`--accounts N`): the HTTPS cloud, the plain-HTTP
state endpoint, the announcement. One process serves every account, as one Furbo cloud does: a Home
Assistant reaches one simulated cloud (its one seam), and adds each account through its own login."""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ..authority import make_authority
from ..servers import AiohttpListener
from . import api, media
from .account import Account, Accounts, Config

# The names the real cloud answers on; the certificate names them so a client that resolves them to
# the simulator could verify it too. The announced base URLs use 127.0.0.1.
FURBO_HOSTS = ["product.furbo.co", "pet-gpt.furbo.co", "event-handler.furbo.co"]


def state_app(accounts: Accounts, signer: media.LinkSigner) -> web.Application:
    """`/` is the first account's state, `/accounts/N/` account N's (1, 2, …)."""

    def account_of(request: web.Request) -> Account:
        try:
            return accounts.numbered(int(request.match_info.get("number", "1")))
        except ValueError as err:
            raise web.HTTPNotFound(
                text=json.dumps({"error": str(err)}), content_type="application/json"
            ) from err

    async def get_state(request: web.Request) -> web.Response:
        return web.json_response(account_of(request).state())

    async def post_state(request: web.Request) -> web.Response:
        account = account_of(request)
        try:
            body = await request.json() if request.can_read_body else {}
            if not isinstance(body, dict):
                raise ValueError("body must be a JSON object")
            account.apply(body)
            if body.get("expire_links"):
                signer.expire_all()  # one signer for the cloud: every account's links
        except (ValueError, TypeError) as err:
            return web.json_response({"error": str(err)}, status=400)
        return web.json_response(account.state())

    app = web.Application()
    for path in ("/", r"/accounts/{number:\d+}/"):
        app.router.add_get(path, get_state)
        app.router.add_post(path, post_state)
    return app


def write_cloud_file(directory: Path, base_url: str, public_pem: str, ca_file: Path) -> Path:
    cloud_file = directory / "furbo-cloud.json"
    cloud = {
        "product": base_url,
        "pet_gpt": base_url,
        "event_handler": base_url,
        "public_key": public_pem,
        "ca_file": str(ca_file),
    }
    cloud_file.write_text(json.dumps(cloud, indent=2))
    return cloud_file


def announced_account(account: Account, state_base: str) -> dict[str, Any]:
    return {
        "number": account.number,
        "email": account.config.email,
        "password": account.config.password,
        "account_id": account.account_id,
        "devices": [
            {"id": camera.id, "name": camera.name, "product_id": camera.product.product_id}
            for camera in account.cameras.values()
        ],
        "state_url": f"{state_base}accounts/{account.number}/",
    }


def announcement(
    accounts: Accounts, host: str, port: int, state_port: int, ca_file: Path, cloud_file: Path
) -> dict[str, Any]:
    """The first account's email, password, account_id, devices and state_url at the top (a
    single-account simulator reads as before); `accounts` lists every account, the first included."""
    state_base = f"http://{host}:{state_port}/"
    listed = [announced_account(account, state_base) for account in accounts.all]
    first = listed[0]
    return {
        "kind": "furbo",
        "host": host,
        "port": port,
        "ca_file": str(ca_file),
        "cloud_file": str(cloud_file),
        "email": first["email"],
        "password": first["password"],
        "account_id": first["account_id"],
        "devices": first["devices"],
        "state_url": state_base,
        "accounts": listed,
        "env": {"CAMERA_HUB_FURBO_CLOUD": str(cloud_file)},
    }


async def run(config: Config, host: str, port: int, state_port: int, stop: asyncio.Event) -> None:
    """Serve until `stop` is set; files go to a temporary directory removed at exit."""
    directory = Path(tempfile.mkdtemp(prefix="camsim-furbo-"))
    try:
        authority = make_authority(FURBO_HOSTS, directory, label="furbosim")
        # Furbo's own key is not public; this one stands for it (the client takes the key as a parameter).
        # 1024 bits because Furbo's app key is 1024 bits, so the ciphertext has the real length.
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
        public_pem = (
            private_key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )
        clip = directory / "clip.mp4"
        media.make_clip(clip, int(time.time() * 1000))
        accounts = Accounts(config)
        # The port is known only once bound, and the signer needs the base URL: bind first, then fill in.
        signer = media.LinkSigner("", config.link_ttl)
        cloud = await AiohttpListener.start(
            api.build_app(accounts, signer, private_key, clip),
            host,
            port,
            ssl_context=authority.server_context(),
        )
        state = await AiohttpListener.start(state_app(accounts, signer), host, state_port)
        try:
            base_url = f"https://{host}:{cloud.port}"
            signer.base_url = base_url
            cloud_file = write_cloud_file(directory, base_url, public_pem, authority.ca_file)
            line = announcement(accounts, host, cloud.port, state.port, authority.ca_file, cloud_file)
            print(json.dumps(line), flush=True)
            await stop.wait()
        finally:
            await state.stop()
            await cloud.stop()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
