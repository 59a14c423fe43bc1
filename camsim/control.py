"""The control port: the login schemes of each Tapo firmware generation, carrying `tapo_api`.

`device.firmware` picks the scheme per request, because fault injection can change it at runtime:

* `secure` — firmware from late 2023 on (e.g. C200 1.3.x): the encrypt_type 3 login. The first
  login answers -40413 with a nonce and a `device_confirm` proving the camera knows the sha256 of
  the cloud password; the second carries `digest_passwd` and returns `stok` and `start_seq`.
  Requests then travel as `securePassthrough`, AES-CBC with keys derived from both nonces, each
  signed by the `Tapo_tag` header over the body and the `Seq` header.
* `legacy` — older firmware (e.g. C200 1.1.x): `login` with `"hashed": true` and the upper-case
  md5 of the cloud password returns `stok`; requests to `/stok=…/ds` are plain JSON.
* `klap` — cameras speaking the KLAP v2 handshake of Tapo plugs on plain HTTP (`/app/handshake1`,
  `/app/handshake2`, `/app/request?seq=`), and answering `GET /` with the "200 OK" page pytapo's
  KLAP probe looks for.
* `tpap` — 2026 firmware with the SPAKE2+ login, served by `camsim.tpap`; it refuses the
  encrypt_type 3 login with -40211.
* `refused` — a login no library speaks yet: every login is answered with -40413 offering only
  an unknown encrypt type (and no nonce), so both libraries fail their login. Those answers do
  not count towards the lockout. ONVIF and RTSP are unaffected.

One port serves TLS and plain HTTP, told apart by the first byte a client sends, because KLAP is
plain HTTP while every other scheme is HTTPS, and pytapo probes both on the same control port.
A connection in the wrong one for the current firmware is closed, as a real camera's port
would refuse it.

Lockout: as on real cameras, every login-phase request is an attempt. The discover probe and
each first (challenge) login count as failed until a digest or hashed login succeeds, which
resets the streak; that is why the challenge answers carry `time` (attempts left) and
`max_time`. Once `lockout_after` attempts fail in a row every login answers -40404 with
`sec_left`. A KLAP camera cannot tell a wrong password at handshake1 (the client aborts
locally), so only handshake2 counts there.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import hashlib
import json
import logging
import secrets
import socket
import ssl
import tempfile
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.x509.oid import NameOID

from . import tapo_api
from .device import TapoDevice
from .pacing import response_delay

if TYPE_CHECKING:
    from .tpap import TpapEndpoint

_LOGGER = logging.getLogger(__name__)

CAMERA_USER = "admin"
TLS_HANDSHAKE = 0x16
PEEK_TIMEOUT = 10.0
KLAP_OK_PAGE = "<html><body><center>200 OK</center></body></html>"
MAX_PENDING_NONCES = 64

INVALID_NONCE = -40413
SESSION_EXPIRED = -40401
DEVICE_BLOCKED = -40404
MISSING_PARAMS = -40211
PROTOCOL_FORMAT_ERROR = -40210
SEQ_ILLEGAL = -1

Json = dict[str, Any]


def _md5_upper(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest().upper()  # noqa: S324 - the firmware's scheme


def _sha256_upper(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest().upper()


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _sha1(data: bytes) -> bytes:
    return hashlib.sha1(data).digest()  # noqa: S324 - the KLAP v2 scheme


def _aes_cbc_encrypt(key: bytes, iv: bytes, plain: bytes) -> bytes:
    padder = padding.PKCS7(128).padder()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return encryptor.update(padder.update(plain) + padder.finalize()) + encryptor.finalize()


def _aes_cbc_decrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(decryptor.update(data) + decryptor.finalize()) + unpadder.finalize()


# --- TLS ------------------------------------------------------------------------------------


def challenge_public_key() -> str:
    """The RSA public key that challenge answers show as `key` (base64 DER), fresh per start as a
    camera's is per boot. Only the key: the control port's certificate is `camera_certificate`'s."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(public).decode()


# The order of P-256's group: private keys are 1 … n-1.
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_CERTIFICATE_VALIDITY = (
    datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC),
    datetime.datetime(2044, 1, 1, tzinfo=datetime.UTC),
)


@dataclass(frozen=True)
class ControlCertificate:
    """The control port's TLS context and the SHA-256 of its certificate (DER): what a client that
    pins the certificate stores."""

    context: ssl.SSLContext
    sha256: str


def camera_certificate(identity: str, generation: int) -> ControlCertificate:
    """The control port's self-signed certificate: the same for the same camera (`identity`, its MAC,
    derived from host and model) across camsim restarts, as a real camera keeps its certificate
    across reboots; another one for each `generation` (`rotate_certificate`, as after a reset).

    Deterministic, so built from a P-256 key derived from the seed, deterministic ECDSA (RFC 6979)
    and fixed dates; real cameras' keys are RSA, which no client here treats differently.
    """
    seed = hashlib.sha256(f"camsim/{identity}/control-certificate/{generation}".encode()).digest()
    key = ec.derive_private_key(int.from_bytes(seed) % (_P256_ORDER - 1) + 1, ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tapo-camsim")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(int.from_bytes(seed[:16]) >> 1 or 1)
        .not_valid_before(_CERTIFICATE_VALIDITY[0])
        .not_valid_after(_CERTIFICATE_VALIDITY[1])
        .sign(key, hashes.SHA256(), ecdsa_deterministic=True)
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.set_ciphers("ALL:@SECLEVEL=0")  # as permissive as camera firmware (pytapo offers this)
    with tempfile.TemporaryDirectory() as folder:
        cert_path, key_path = Path(folder, "cert.pem"), Path(folder, "key.pem")
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        context.load_cert_chain(cert_path, key_path)
    return ControlCertificate(
        context, hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
    )


# --- sessions -------------------------------------------------------------------------------


@dataclass
class SecureSession:
    """One encrypt_type 3 session: the keys both sides derived and the next expected Seq."""

    lsk: bytes
    ivb: bytes
    tag_key: str
    seq: int
    boot: tuple[int, int]


@dataclass
class KlapSession:
    local_seed: bytes
    remote_seed: bytes
    auth_hash: bytes
    boot: tuple[int, int]
    established: bool = False

    def _derive(self, label: bytes) -> bytes:
        return _sha256(label + self.local_seed + self.remote_seed + self.auth_hash)

    @property
    def key(self) -> bytes:
        return self._derive(b"lsk")[:16]

    @property
    def signing_key(self) -> bytes:
        return self._derive(b"ldk")[:28]

    def iv(self, seq: int) -> bytes:
        return self._derive(b"iv")[:12] + seq.to_bytes(4, "big", signed=True)

    def signature(self, seq: int, ciphertext: bytes) -> bytes:
        return _sha256(self.signing_key + seq.to_bytes(4, "big", signed=True) + ciphertext)


@dataclass
class ControlState:
    """What the camera remembers between requests; sessions die with a reboot (or `expire_sessions`)."""

    device: TapoDevice
    public_key: str
    nonces: dict[str, str] = field(default_factory=dict)
    secure: dict[str, SecureSession] = field(default_factory=dict)
    legacy: dict[str, tuple[int, int]] = field(default_factory=dict)
    klap: dict[str, KlapSession] = field(default_factory=dict)
    tpap: TpapEndpoint | None = None

    def alive(self, boot: tuple[int, int]) -> bool:
        return boot == self.device.boot

    def remember_nonce(self, cnonce: str, nonce: str) -> None:
        # Bounded: clients that never finish a login must not grow the camera's memory.
        if len(self.nonces) >= MAX_PENDING_NONCES:
            self.nonces.pop(next(iter(self.nonces)))
        self.nonces[cnonce] = nonce

    def call_api(self, request: dict[str, Any]) -> dict[str, Any]:
        return tapo_api.call(self.device, request)


# --- login-phase answers shared by the HTTPS firmwares ----------------------------------------


def _attempts(device: TapoDevice) -> Json:
    return {"time": device.login_attempts_left(), "max_time": device.config.lockout_after}


def _blocked(device: TapoDevice) -> Json:
    """The "temporarily suspended" answer: pytapo reads data.sec_left, python-kasa data.code."""
    seconds = max(1, round(device.locked_out_for()))
    data = {"code": DEVICE_BLOCKED, "sec_left": seconds, "time": 0, "max_time": device.config.lockout_after}
    return {"error_code": DEVICE_BLOCKED, "data": data}


def _json(body: Json, status: int = 200) -> web.Response:
    return web.json_response(body, status=status)


def _login_params(body: Json | None) -> Json | None:
    if body is None or body.get("method") != "login":
        return None
    params = body.get("params")
    return params if isinstance(params, dict) else {}


def _stok_of(path: str) -> str:
    """The token of a `/stok=<token>/ds` path, "" for any other path."""
    head, _, tail = path.lstrip("/").partition("/")
    if not head.startswith("stok=") or tail != "ds":
        return ""
    return head.removeprefix("stok=")


# --- secure: the encrypt_type 3 login -----------------------------------------------------------


def _secure_challenge(state: ControlState, params: Json) -> Json:
    device = state.device
    device.record_login(False)
    nonce = secrets.token_hex(8).upper()
    data: Json = {"code": SESSION_EXPIRED, **_attempts(device), "encrypt_type": ["3"]}
    data |= {"key": state.public_key, "nonce": nonce}
    if cnonce := str(params.get("cnonce") or ""):
        proof = _sha256_upper(cnonce + _sha256_upper(device.config.cloud_password) + nonce)
        data["device_confirm"] = proof + nonce + cnonce
        state.remember_nonce(cnonce, nonce)
    return {"error_code": INVALID_NONCE, "result": {"data": data}}


def _open_secure_session(state: ControlState, cnonce: str, nonce: str, pwd_hash: str) -> Json:
    def token(kind: str) -> bytes:
        hashed = _sha256_upper(cnonce + pwd_hash + nonce)
        return _sha256((kind + cnonce + nonce + hashed).encode())[:16]

    stok = secrets.token_hex(16)
    start_seq = secrets.randbelow(1000) + 1
    tag_key = _sha256_upper(pwd_hash + cnonce)
    state.secure[stok] = SecureSession(token("lsk"), token("ivb"), tag_key, start_seq, state.device.boot)
    return {"error_code": 0, "result": {"stok": stok, "user_group": "root", "start_seq": start_seq}}


def _secure_digest_login(state: ControlState, params: Json) -> Json:
    device = state.device
    cnonce = str(params.get("cnonce", ""))
    nonce = state.nonces.pop(cnonce, None)
    pwd_hash = _sha256_upper(device.config.cloud_password)
    if (
        nonce is not None
        and params.get("username") == CAMERA_USER
        and params.get("digest_passwd") == _sha256_upper(pwd_hash + cnonce + nonce) + cnonce + nonce
    ):
        device.record_login(True)
        return _open_secure_session(state, cnonce, nonce, pwd_hash)
    device.record_login(False)
    data = {"code": SESSION_EXPIRED, **_attempts(device), "encrypt_type": ["3"]}
    return {"error_code": INVALID_NONCE, "result": {"data": data}}


def _secure_login(state: ControlState, params: Json) -> Json:
    if "digest_passwd" in params:
        return _secure_digest_login(state, params)
    # discover, the encrypt_type 3 probe, the first login and an md5 login all get the challenge
    return _secure_challenge(state, params)


def _secure_passthrough(state: ControlState, request: web.Request, raw: bytes, body: Json) -> web.Response:
    session = state.secure.get(_stok_of(request.path))
    if session is None or not state.alive(session.boot):
        return _json({"error_code": SESSION_EXPIRED})
    if body.get("method") != "securePassthrough":
        return _json({"error_code": PROTOCOL_FORMAT_ERROR})
    seq_header = request.headers.get("Seq", "")
    if request.headers.get("Tapo_tag") != _sha256_upper(session.tag_key + raw.decode() + seq_header):
        return _json({"error_code": SEQ_ILLEGAL})
    seq = int(seq_header) if seq_header.isdigit() else -1

    def encrypted(answer: Json) -> Json:
        cipher = _aes_cbc_encrypt(session.lsk, session.ivb, json.dumps(answer).encode())
        return {"seq": seq, "result": {"response": base64.b64encode(cipher).decode()}, "error_code": 0}

    if seq < session.seq:
        # A replayed or stale Seq: 500 with the reason inside, as the firmware answers it.
        refused = {"error_code": SEQ_ILLEGAL, "result": {"responses": [{"msg": "Http seq illegaly"}]}}
        return _json(encrypted(refused), status=500)
    session.seq = seq + 1
    try:
        ciphertext = base64.b64decode(body["params"]["request"])
        inner = json.loads(_aes_cbc_decrypt(session.lsk, session.ivb, ciphertext))
    except KeyError, TypeError, ValueError:
        return _json({"error_code": PROTOCOL_FORMAT_ERROR})
    return _json(encrypted(state.call_api(inner)))


# --- legacy: md5-hashed login, plain requests ---------------------------------------------------


def _legacy_login(state: ControlState, params: Json) -> Json:
    device = state.device
    expected = _md5_upper(device.config.cloud_password)
    if params.get("hashed") and params.get("username") == CAMERA_USER and params.get("password") == expected:
        device.record_login(True)
        stok = secrets.token_hex(16)
        state.legacy[stok] = device.boot
        return {"error_code": 0, "result": {"stok": stok, "user_group": "root"}}
    # Old firmware knows neither discover nor encrypt_type 3: both are failed logins to it.
    device.record_login(False)
    data = {"code": SESSION_EXPIRED, **_attempts(device), "encrypt_type": ["2"]}
    return {"error_code": SESSION_EXPIRED, "result": {"data": data}}


def _legacy_request(state: ControlState, request: web.Request, body: Json) -> web.Response:
    boot = state.legacy.get(_stok_of(request.path))
    if boot is None or not state.alive(boot):
        return _json({"error_code": SESSION_EXPIRED})
    return _json(state.call_api(body))


# --- refused: a login nobody speaks -----------------------------------------------------------


def _refused_login(_state: ControlState, _params: Json) -> Json:
    # The firmware cannot judge a credential sent in a form it does not know, so these
    # answers do not count towards the lockout and carry no attempts left.
    return {"error_code": INVALID_NONCE, "result": {"data": {"code": SESSION_EXPIRED, "encrypt_type": ["4"]}}}


# --- the HTTPS side -----------------------------------------------------------------------------

LoginHandler = Callable[[ControlState, Json], Json]
LOGINS: dict[str, LoginHandler] = {
    "secure": _secure_login,
    "legacy": _legacy_login,
    "refused": _refused_login,
}


def _parse(raw: bytes) -> Json | None:
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


async def _tpap(state: ControlState, request: web.Request, raw: bytes, body: Json | None) -> web.Response:
    from .tpap import TpapEndpoint  # noqa: PLC0415 - written separately, loaded when first used

    if state.tpap is None:
        state.tpap = TpapEndpoint(state.device, state.call_api)
    endpoint = state.tpap
    if endpoint.claims(request.path, body):
        return await endpoint.handle(request, raw)
    params = _login_params(body)
    if params is None:
        return _json({"error_code": SESSION_EXPIRED})
    if params.get("sub_method") == "discover":
        return _json({"error_code": 0, "result": endpoint.discover_answer()})
    return _json({"error_code": MISSING_PARAMS})


async def _https(state: ControlState, request: web.Request) -> web.Response:
    raw = await request.read()
    body = _parse(raw)
    firmware = state.device.firmware
    if firmware == "tpap":
        return await _tpap(state, request, raw, body)
    if (params := _login_params(body)) is not None:
        if state.device.locked_out_for() > 0:
            state.device.counters.login_blocked += 1
            return _json(_blocked(state.device))
        return _json(LOGINS[firmware](state, params))
    if body is None:
        return _json({"error_code": PROTOCOL_FORMAT_ERROR})
    if firmware == "secure":
        return _secure_passthrough(state, request, raw, body)
    if firmware == "legacy":
        return _legacy_request(state, request, body)
    return _json({"error_code": SESSION_EXPIRED})


# --- the plain-HTTP side: KLAP --------------------------------------------------------------------


def _klap_auth_hash(device: TapoDevice) -> bytes:
    # KLAP v2, as Tapo devices use it (v1 is the md5 variant of Kasa plugs).
    return _sha256(_sha1(CAMERA_USER.encode()) + _sha1(device.config.cloud_password.encode()))


async def _klap_handshake1(state: ControlState, request: web.Request) -> web.Response:
    local_seed = await request.read()
    if len(local_seed) != 16:
        return web.Response(status=400)
    remote_seed = secrets.token_bytes(16)
    auth_hash = _klap_auth_hash(state.device)
    session_id = secrets.token_hex(16).upper()
    state.klap[session_id] = KlapSession(local_seed, remote_seed, auth_hash, state.device.boot)
    response = web.Response(body=remote_seed + _sha256(local_seed + remote_seed + auth_hash))
    response.headers["Set-Cookie"] = f"TP_SESSIONID={session_id};TIMEOUT=86400"
    return response


def _klap_session(state: ControlState, request: web.Request) -> KlapSession | None:
    session = state.klap.get(request.cookies.get("TP_SESSIONID", ""))
    return session if session is not None and state.alive(session.boot) else None


async def _klap_handshake2(state: ControlState, request: web.Request) -> web.Response:
    session = _klap_session(state, request)
    if session is None:
        return web.Response(status=403)
    proof = await request.read()
    ok = proof == _sha256(session.remote_seed + session.local_seed + session.auth_hash)
    state.device.record_login(ok)
    session.established = ok
    return web.Response(status=200 if ok else 403)


async def _klap_request(state: ControlState, request: web.Request) -> web.Response:
    session = _klap_session(state, request)
    seq_text = request.query.get("seq", "")
    if session is None or not session.established or not seq_text.lstrip("-").isdigit():
        return web.Response(status=403)
    seq = int(seq_text)
    payload = await request.read()
    signature, ciphertext = payload[:32], payload[32:]
    if signature != session.signature(seq, ciphertext):
        return web.Response(status=403)
    try:
        inner = json.loads(_aes_cbc_decrypt(session.key, session.iv(seq), ciphertext))
    except ValueError:
        return web.Response(status=400)
    answer = json.dumps(state.call_api(inner)).encode()
    encrypted = _aes_cbc_encrypt(session.key, session.iv(seq), answer)
    return web.Response(body=session.signature(seq, encrypted) + encrypted)


KlapHandler = Callable[[ControlState, web.Request], Awaitable[web.Response]]
KLAP_ROUTES: dict[str, KlapHandler] = {
    "/app/handshake1": _klap_handshake1,
    "/app/handshake2": _klap_handshake2,
    "/app/request": _klap_request,
}


async def _plain(state: ControlState, request: web.Request) -> web.Response:
    if request.method == "GET":
        return web.Response(text=KLAP_OK_PAGE, content_type="text/html")
    handler = KLAP_ROUTES.get(request.path)
    if handler is None:
        return web.Response(status=404)
    if state.device.locked_out_for() > 0:
        state.device.counters.login_blocked += 1
        return web.Response(status=403)
    return await handler(state, request)


def _application(state: ControlState) -> web.Application:
    async def handle(request: web.Request) -> web.StreamResponse:
        if not state.device.online:
            # An unreachable camera answers nothing, even on a kept-alive connection.
            state.device.count_offline_request()
            if request.transport is not None:
                request.transport.close()
            raise web.HTTPServiceUnavailable
        if request.secure:
            return await _https(state, request)
        return await _plain(state, request)

    app = web.Application(middlewares=[response_delay(state.device)])
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


# --- the port: one listener, TLS or plain by the first byte -------------------------------------


async def _first_byte(sock: socket.socket) -> int | None:
    loop = asyncio.get_running_loop()
    readable: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not readable.done():
            readable.set_result(None)

    loop.add_reader(sock.fileno(), wake)
    try:
        await asyncio.wait_for(readable, PEEK_TIMEOUT)
        peeked = sock.recv(1, socket.MSG_PEEK)
    except TimeoutError, OSError:
        return None
    finally:
        loop.remove_reader(sock.fileno())
    return peeked[0] if peeked else None


@dataclass
class ControlListener:
    port: int
    _server: socket.socket
    _runner: web.AppRunner
    _accepting: asyncio.Task[None]
    _connections: set[asyncio.Task[None]]

    async def stop(self) -> None:
        self._accepting.cancel()
        for task in list(self._connections):
            task.cancel()
        with suppress(asyncio.CancelledError):
            await self._accepting
        await asyncio.gather(*self._connections, return_exceptions=True)
        self._server.close()
        await self._runner.cleanup()


async def start(device: TapoDevice, host: str, port: int) -> ControlListener:
    """Listen on `host:port` (0 lets the kernel pick) until `stop()`."""
    loop = asyncio.get_running_loop()
    public_key = await loop.run_in_executor(None, challenge_public_key)
    state = ControlState(device, public_key)
    generation = 0
    certificate = await loop.run_in_executor(None, camera_certificate, device.mac, generation)
    device.control_certificate_sha256 = certificate.sha256

    def rotate_certificate() -> None:
        # Made in the state request's handler (a few milliseconds), so the new certificate is the
        # one served once that request has answered. A reset also ends every open connection, so
        # clients meet the new certificate on their next request.
        nonlocal certificate, generation
        generation += 1
        certificate = camera_certificate(device.mac, generation)
        device.control_certificate_sha256 = certificate.sha256
        for connection in web_server.connections:
            connection.force_close()

    device.rotate_control_certificate = rotate_certificate
    runner = web.AppRunner(_application(state), access_log=None, handle_signals=False)
    await runner.setup()
    protocol_factory = runner.server
    assert protocol_factory is not None
    web_server: web.Server = protocol_factory
    server = socket.create_server((host, port))
    server.setblocking(False)
    connections: set[asyncio.Task[None]] = set()

    async def serve(conn: socket.socket) -> None:
        first = await _first_byte(conn)
        wants_tls = first == TLS_HANDSHAKE
        if first is not None and not device.online:
            device.count_offline_request()
        if first is None or not device.online or wants_tls == (device.firmware == "klap"):
            conn.close()
            return
        try:
            tls = certificate.context if wants_tls else None
            await loop.connect_accepted_socket(protocol_factory, conn, ssl=tls)
        except (OSError, ssl.SSLError) as err:
            _LOGGER.debug("control connection failed: %s", type(err).__name__)
            conn.close()

    async def accept() -> None:
        while True:
            conn, _ = await loop.sock_accept(server)
            if not device.online:
                device.count_offline_request()
                conn.close()
                continue
            conn.setblocking(False)
            task = asyncio.create_task(serve(conn))
            connections.add(task)
            task.add_done_callback(connections.discard)

    accepting = asyncio.create_task(accept())
    return ControlListener(server.getsockname()[1], server, runner, accepting, connections)
