"""camsim's TPAP (SPAKE2+) firmware against pytapo's own TPAP client.

The unit tests mount a `TpapEndpoint` in a small HTTPS app inside the test; pytapo's client is
synchronous (`requests`), so it runs on a worker thread with its own event loop. The end-to-end tests
start `python -m camsim tapo --firmware tpap` and let `pytapo.Tapo` find the login by itself.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import struct
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from aiohttp import web
from cryptography.hazmat.primitives.ciphers.aead import AESCCM
from pytapo import Tapo
from pytapo.logger import Logger
from pytapo.transport.tpap.tpap import legacy_login_offered, tpap_from_discover
from pytapo.transport.transport import Transport

from camsim import tpap
from camsim.control import camera_certificate
from camsim.device import Config, TapoDevice
from tests.helpers.camsim import running_sim

pytestmark = [
    pytest.mark.usefixtures("socket_enabled"),
    pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning"),
]

HOST = "127.0.0.1"
CLOUD_PASSWORD = "cloudpass"


# --- an HTTPS app that mounts the endpoint the way the control server does -----------------------


def echo_api(request: dict[str, Any]) -> dict[str, Any]:
    """A camera API that answers each sub-request with its own params."""
    responses = [
        {"method": sub["method"], "result": {"echo": sub.get("params")}, "error_code": 0}
        for sub in request["params"]["requests"]
    ]
    return {"error_code": 0, "result": {"responses": responses}}


def control_app(endpoint: tpap.TpapEndpoint) -> web.Application:
    async def dispatch(request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if isinstance(body, dict) and body.get("params", {}).get("sub_method") == "discover":
            return web.json_response({"error_code": 0, "result": endpoint.discover_answer()})
        if endpoint.claims(request.path, body if isinstance(body, dict) else None):
            return await endpoint.handle(request, raw)
        return web.json_response({"error_code": -40210}, status=404)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", dispatch)
    return app


@dataclass
class Camera:
    device: TapoDevice
    port: int
    clients: list[Transport] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"https://{HOST}:{self.port}"

    def client(self, cloud_password: str = CLOUD_PASSWORD) -> Transport:
        """pytapo's TPAP transport for this camera; its HTTPS session is closed after the test."""
        client = Transport(
            HOST,
            self.port,
            "admin",
            "not-the-cloud-password",
            Logger(False, False),
            method="tpap",
            cloudPassword=cloud_password,
        )
        self.clients.append(client)
        return client


async def connections_closed(server: web.Server) -> None:
    """Let the loop process the clients' closes, so no TLS shutdown timer outlives the test."""
    async with asyncio.timeout(10):
        # aiohttp offers no event for a dropped connection; each step lets the loop run once.
        while server.connections:  # noqa: ASYNC110
            await asyncio.sleep(0)


@pytest.fixture
async def camera(tmp_path: Path) -> AsyncIterator[Camera]:
    device = TapoDevice(Config(firmware="tpap", cloud_password=CLOUD_PASSWORD, lockout_after=3))
    runner = web.AppRunner(control_app(tpap.TpapEndpoint(device, echo_api)), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, HOST, 0, ssl_context=camera_certificate("tpap-test", 0).context)
    await site.start()
    camera = Camera(device, runner.addresses[0][1])
    try:
        yield camera
    finally:
        for client in camera.clients:
            client.session.close()
        assert runner.server is not None
        await connections_closed(runner.server)
        await runner.cleanup()


# --- pytapo's client, on a worker thread ----------------------------------------------------------


async def off_loop[T](func: Callable[..., T], *args: Any) -> T:
    return await asyncio.to_thread(func, *args)


def login(client: Transport) -> bool:
    return bool(asyncio.run(client.authenticate()))


def send(client: Transport, request: dict[str, Any]) -> dict[str, Any]:
    return asyncio.run(client.send(request))


def post_ds(camera: Camera, stok: str, body: bytes) -> requests.Response:
    return requests.post(
        f"{camera.url}/stok={stok}/ds",
        data=body,
        headers={"Content-Type": "application/octet-stream"},
        verify=False,  # noqa: S501 - the camera's certificate is self-signed
        timeout=10,
    )


def sealed_request(client: Transport, seq: int, request: dict[str, Any]) -> bytes:
    """What pytapo's client would send at `seq`, built from the session keys it holds."""
    nonce = client.nonce[:8] + struct.pack(">I", seq)
    plain = json.dumps(request, separators=(",", ":")).encode()
    return struct.pack(">I", seq) + AESCCM(client.key, tag_length=16).encrypt(nonce, plain, None)


DEVICE_INFO = {"method": "getDeviceInfo", "params": {"device_info": {"name": ["basic_info"]}}}


# --- tests ---------------------------------------------------------------------------------------


def test_point_arithmetic_agrees_with_openssl() -> None:
    generator = tpap.base_mult(1)
    for _ in range(3):
        scalar = secrets.randbelow(tpap._ORDER - 1) + 1
        assert tpap.scalar_mult(scalar, generator) == tpap.base_mult(scalar)
    five, seven = tpap.base_mult(5), tpap.base_mult(7)
    assert tpap.point_add(five, seven) == tpap.base_mult(12)
    assert tpap.point_add(five, five) == tpap.base_mult(10)
    assert tpap.point_add(five, tpap.point_neg(five)) is None
    assert tpap.decode_point(tpap.encode_point(seven)) == seven


def test_points_off_the_curve_are_rejected() -> None:
    x, y = tpap.base_mult(3)
    with pytest.raises(ValueError, match="Invalid EC key"):
        tpap.decode_point(tpap.encode_point((x, (y + 1) % tpap._P)))
    with pytest.raises(ValueError, match="Unsupported elliptic curve point type"):
        tpap.decode_point(b"\x00")  # the identity


def test_discover_answer_makes_pytapo_choose_tpap() -> None:
    endpoint = tpap.TpapEndpoint(TapoDevice(Config(firmware="tpap")), echo_api)
    reply = {"error_code": 0, "result": endpoint.discover_answer()}
    assert tpap_from_discover(reply) is not None
    assert not legacy_login_offered(reply)


def test_claims_login_phase_and_channel_only() -> None:
    endpoint = tpap.TpapEndpoint(TapoDevice(Config(firmware="tpap")), echo_api)
    assert endpoint.claims("/", {"method": "login", "params": {"sub_method": "pake_register"}})
    assert endpoint.claims("/", {"method": "login", "params": {"sub_method": "pake_share"}})
    assert endpoint.claims("/stok=0123abcd/ds", None)
    assert not endpoint.claims("/", {"method": "login", "params": {"sub_method": "discover"}})
    assert not endpoint.claims("/", {"method": "login", "params": {"encrypt_type": "3", "username": "admin"}})
    assert not endpoint.claims("/stok=0123abcd/other", None)


async def test_login_and_encrypted_requests_round_trip(camera: Camera) -> None:
    client = camera.client()

    assert await off_loop(login, client)
    single = await off_loop(send, client, DEVICE_INFO)
    multiple = await off_loop(
        send,
        client,
        {"method": "multipleRequest", "params": {"requests": [DEVICE_INFO, {"method": "getLedStatus"}]}},
    )

    assert single == {"method": "getDeviceInfo", "result": {"echo": DEVICE_INFO["params"]}, "error_code": 0}
    assert [response["method"] for response in multiple["result"]["responses"]] == [
        "getDeviceInfo",
        "getLedStatus",
    ]
    assert camera.device.counters.login_ok == 1
    assert camera.device.counters.login_failed == 0


async def test_wrong_cloud_password_is_an_authentication_error(camera: Camera) -> None:
    client = camera.client("wrong-password")

    with pytest.raises(Exception, match="Invalid authentication data"):
        await off_loop(login, client)

    # pytapo tries the app's two passcode candidates (md5 and sha256 of the password): two failures.
    assert camera.device.counters.login_failed == 2
    assert camera.device.counters.login_ok == 0


async def test_lockout_refuses_even_the_right_password(camera: Camera) -> None:
    wrong, right = camera.client("wrong-password"), camera.client()
    camera.device.config.lockout_after = 2  # one pytapo login tries two passcodes
    with pytest.raises(Exception, match="Invalid authentication data"):
        await off_loop(login, wrong)
    assert camera.device.locked_out_for() > 0
    failed = camera.device.counters.login_failed

    with pytest.raises(Exception, match=r"Temporary Suspension: Try again in [0-9]+ seconds"):
        await off_loop(login, right)

    assert camera.device.counters.login_ok == 0
    assert camera.device.counters.login_failed == failed

    camera.device.apply({"unlock": True})
    assert await off_loop(login, right)
    assert camera.device.counters.login_ok == 1


async def test_replayed_request_ends_the_session(camera: Camera) -> None:
    client = camera.client()
    await off_loop(send, client, DEVICE_INFO)
    used_seq = client.seq - 1
    replay = sealed_request(client, used_seq, {"method": "multipleRequest", "params": {"requests": []}})

    refused = await off_loop(post_ds, camera, client.stok, replay)
    after = await off_loop(post_ds, camera, client.stok, sealed_request(client, client.seq, DEVICE_INFO))

    assert refused.json() == {"error_code": -40401}
    assert after.json() == {"error_code": -40401}  # the session is gone, even for a fresh seq
    # pytapo's client notices, logs in once more and carries on.
    client.seq += 1
    assert (await off_loop(send, client, DEVICE_INFO))["error_code"] == 0
    assert camera.device.counters.login_ok == 2


async def test_tampered_body_is_refused(camera: Camera) -> None:
    client = camera.client()
    await off_loop(login, client)
    body = bytearray(sealed_request(client, client.seq, DEVICE_INFO))
    body[10] ^= 0x01

    refused = await off_loop(post_ds, camera, client.stok, bytes(body))

    assert refused.json() == {"error_code": -40401}


async def test_channel_takes_only_multiple_requests(camera: Camera) -> None:
    client = camera.client()
    await off_loop(login, client)

    bare = await off_loop(post_ds, camera, client.stok, sealed_request(client, client.seq, DEVICE_INFO))
    client.seq += 1

    assert bare.json() == {"error_code": -40209}
    # The request decrypted, so the session survives it.
    assert (await off_loop(send, client, DEVICE_INFO))["error_code"] == 0
    assert camera.device.counters.login_ok == 1


async def test_expired_session_is_refused_and_pytapo_logs_in_again(
    camera: Camera, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = camera.client()
    await off_loop(login, client)
    later = tpap._now() + tpap.SESSION_SECONDS + 1
    monkeypatch.setattr(tpap, "_now", lambda: later)

    expired = await off_loop(post_ds, camera, client.stok, sealed_request(client, client.seq, DEVICE_INFO))
    client.seq += 1

    assert expired.json() == {"error_code": -40401}
    assert (await off_loop(send, client, DEVICE_INFO))["error_code"] == 0
    assert camera.device.counters.login_ok == 2


async def test_register_refuses_unknown_user(camera: Camera) -> None:
    register: dict[str, Any] = {
        "method": "login",
        "params": {
            "sub_method": "pake_register",
            "username": "someone@example.com",
            "user_random": base64.b64encode(bytes(32)).decode(),
            "cipher_suites": [1],
            "passcode_type": "userpw",
        },
    }

    reply = await off_loop(lambda: requests.post(camera.url, json=register, verify=False, timeout=10))  # noqa: S501

    assert reply.json() == {"error_code": -40209}


async def test_unknown_or_encoded_stok_is_refused(camera: Camera) -> None:
    unknown = await off_loop(post_ds, camera, "0" * 32, b"\x00" * 40)
    encoded = await off_loop(post_ds, camera, "%21" * 4, b"\x00" * 40)

    assert unknown.json() == {"error_code": -40401}
    assert encoded.json() == {"error_code": -40421}


async def test_share_without_registration_is_refused(camera: Camera) -> None:
    share: dict[str, Any] = {
        "method": "login",
        "params": {
            "sub_method": "pake_share",
            "user_share": base64.b64encode(tpap.encode_point(tpap.base_mult(9))).decode(),
            "user_confirm": base64.b64encode(b"\x00" * 32).decode(),
        },
    }

    reply = await off_loop(lambda: requests.post(camera.url, json=share, verify=False, timeout=10))  # noqa: S501

    assert reply.json() == {"error_code": -40401}


# --- end to end: a camsim process and pytapo.Tapo, which picks the transport itself ---------------


def connect(host: str, port: int, cloud_password: str) -> tuple[str, dict[str, Any]]:
    """pytapo.Tapo as an integration uses it: which transport it chose, and the basic info."""
    tapo = Tapo(host, "admin", cloud_password, cloudPassword=cloud_password, controlPort=port)
    try:
        return tapo.transport.method, tapo.getBasicInfo()
    finally:
        tapo.transport.session.close()
        if tapo.asyncHandler._loop is not None:
            tapo.asyncHandler._loop.close()


def connect_in_thread(host: str, port: int, cloud_password: str) -> tuple[str, dict[str, Any]]:
    # Tapo runs its coroutines on an event loop of its own in the calling thread; keep it off ours.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(connect, host, port, cloud_password).result()


def test_pytapo_chooses_tpap_and_reads_basic_info() -> None:
    with running_sim("--firmware", "tpap", "--cloud-password", CLOUD_PASSWORD) as sim:
        method, info = connect_in_thread(sim.host, sim.info["control_port"], CLOUD_PASSWORD)
        counters = sim.state()["counters"]

    assert method == "tpap"
    assert info["device_info"]["basic_info"]["device_model"] == "C200"
    assert counters["login_ok"] == 1
    assert counters["login_failed"] == 0


def test_pytapo_wrong_cloud_password_fails_to_authenticate() -> None:
    with running_sim("--firmware", "tpap", "--cloud-password", CLOUD_PASSWORD) as sim:
        with pytest.raises(Exception, match="Invalid authentication data"):
            connect_in_thread(sim.host, sim.info["control_port"], "wrong-password")
        counters = sim.state()["counters"]

    assert counters["login_ok"] == 0
    assert counters["login_failed"] == 2
