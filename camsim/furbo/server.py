"""Runs one simulated Furbo account: the HTTPS cloud, the plain-HTTP state endpoint, the announcement."""

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
from .account import Account, Config

# The names the real cloud answers on; the certificate names them so a client that resolves them to
# the simulator could verify it too. The announced base URLs use 127.0.0.1.
FURBO_HOSTS = ["product.furbo.co", "pet-gpt.furbo.co", "event-handler.furbo.co"]


def state_app(account: Account, signer: media.LinkSigner) -> web.Application:
    async def get_state(_: web.Request) -> web.Response:
        return web.json_response(account.state())

    async def post_state(request: web.Request) -> web.Response:
        try:
            body = await request.json() if request.can_read_body else {}
            if not isinstance(body, dict):
                raise ValueError("body must be a JSON object")
            account.apply(body)
            if body.get("expire_links"):
                signer.expire_all()
        except (ValueError, TypeError) as err:
            return web.json_response({"error": str(err)}, status=400)
        return web.json_response(account.state())

    app = web.Application()
    app.router.add_get("/", get_state)
    app.router.add_post("/", post_state)
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


def announcement(
    account: Account, host: str, port: int, state_port: int, ca_file: Path, cloud_file: Path
) -> dict[str, Any]:
    return {
        "kind": "furbo",
        "host": host,
        "port": port,
        "ca_file": str(ca_file),
        "cloud_file": str(cloud_file),
        "email": account.config.email,
        "password": account.config.password,
        "account_id": account.account_id,
        "devices": [
            {"id": camera.id, "name": camera.name, "product_id": camera.product.product_id}
            for camera in account.cameras.values()
        ],
        "state_url": f"http://{host}:{state_port}/",
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
        account = Account(config)
        # The port is known only once bound, and the signer needs the base URL: bind first, then fill in.
        signer = media.LinkSigner("", config.link_ttl)
        cloud = await AiohttpListener.start(
            api.build_app(account, signer, private_key, clip),
            host,
            port,
            ssl_context=authority.server_context(),
        )
        state = await AiohttpListener.start(state_app(account, signer), host, state_port)
        try:
            base_url = f"https://{host}:{cloud.port}"
            signer.base_url = base_url
            cloud_file = write_cloud_file(directory, base_url, public_pem, authority.ca_file)
            line = announcement(account, host, cloud.port, state.port, authority.ca_file, cloud_file)
            print(json.dumps(line), flush=True)
            await stop.wait()
        finally:
            await state.stop()
            await cloud.stop()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
