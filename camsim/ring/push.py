"""Google's side of Firebase Cloud Messaging, as the unmodified firebase-messaging client meets it.

Ring's event listener (ring-doorbell's `RingEventListener`) registers with Google, hands Ring the FCM
token, and then holds one TLS socket to mtalk.google.com, where pushes arrive end-to-end encrypted
(Web Push "aesgcm") for the keys the client registered. This module plays all of Google's parts:

- `handle` answers the HTTPS calls of the registration, on the Google hosts (the ring simulator's HTTPS
  server routes them here by Host): GCM check-in (protobuf), `/c2dm/register3` (form, text answer),
  Firebase installations and FCM registrations (JSON). It remembers each FCM token's Web Push keys.
- `start_mcs` listens for the MCS socket (see `mcs.py`); a client logs in with its android id and
  security token, which is how a push for an FCM token finds its socket.
- `push(token, data)` sends one DataMessageStanza; the client decrypts it and calls its callback with
  `{"data": data, "from": …, "priority": "high", "fcmMessageId": …}`, as real FCM web pushes look.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import re
import secrets
import ssl
import time
import uuid
from collections import Counter
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any

import http_ece
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from firebase_messaging.proto.checkin_pb2 import AndroidCheckinRequest, AndroidCheckinResponse
from firebase_messaging.proto.mcs_pb2 import (
    Close,
    DataMessageStanza,
    ErrorInfo,
    HeartbeatAck,
    HeartbeatPing,
    IqStanza,
    LoginRequest,
    LoginResponse,
    SelectiveAck,
)
from google.protobuf.message import DecodeError

from camsim.ring.mcs import McsStream, ProtocolError

_LOGGER = logging.getLogger(__name__)

CHECKIN_HOST = "android.clients.google.com"
INSTALLATIONS_HOST = "firebaseinstallations.googleapis.com"
REGISTRATIONS_HOST = "fcmregistrations.googleapis.com"
GOOGLE_HOSTS = frozenset({CHECKIN_HOST, INSTALLATIONS_HOST, REGISTRATIONS_HOST})

_INSTALLATION_PATH = re.compile(r"/v1/projects/(?P<project>[^/]+)/installations")
_AUTH_TOKEN_PATH = re.compile(r"/v1/projects/[^/]+/installations/[^/]+/authTokens:generate")
_REGISTRATION_PATH = re.compile(r"/v1/projects/(?P<project>[^/]+)/registrations")
_FCM_SEND_PREFIX = "https://fcm.googleapis.com/fcm/send/"
_TOKEN_LIFETIME = "604800s"
_SELECTIVE_ACK = 12
# What MCS pushes from a web-push registration carry as their category (the client ignores it).
_CATEGORY = "org.chromium.linux"


@dataclass(frozen=True)
class _GcmRegistration:
    """A `/c2dm/register3` answer: which device holds the GCM token, for which app."""

    android_id: str
    app_id: str


@dataclass(frozen=True)
class _FcmRegistration:
    """What a push to an FCM token needs: the socket's device, the app id and the Web Push keys."""

    android_id: str
    app_id: str
    sender: str
    p256dh: bytes
    auth: bytes


def _b64url_decode(text: str) -> bytes:
    """Web Push keys arrive as URL-safe base64, padded or not (clients differ)."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64url_padded(data: bytes) -> str:
    # firebase-messaging decodes crypto-key and salt without re-padding, so the padding must be there.
    return base64.urlsafe_b64encode(data).decode("ascii")


def _new_token() -> str:
    """A token shaped like Google's `<instance>:APA91b<…>`; never contains '=' (register3 splits on it)."""
    return f"{secrets.token_urlsafe(16)}:APA91b{secrets.token_urlsafe(96)}"


def _sender_of(firebase_app_id: str) -> str:
    """The sender (project number) pushes come "from": the second part of `1:<number>:android:<hash>`."""
    parts = firebase_app_id.split(":")
    return parts[1] if len(parts) > 2 else firebase_app_id


def _google_error(status: int, message: str) -> web.Response:
    reason = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND"}
    body = {"error": {"code": status, "message": message, "status": reason.get(status, "UNKNOWN")}}
    return web.json_response(body, status=status)


def _encrypt(plaintext: bytes, registration: _FcmRegistration) -> tuple[bytes, str, str]:
    """Web Push "aesgcm" for the registration's keys: (ciphertext, crypto-key value, encryption value)."""
    server_key = ec.generate_private_key(ec.SECP256R1())
    salt = secrets.token_bytes(16)
    ciphertext = http_ece.encrypt(
        plaintext,
        salt=salt,
        private_key=server_key,
        dh=registration.p256dh,
        auth_secret=registration.auth,
        version="aesgcm",
    )
    server_public = server_key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return ciphertext, f"dh={_b64url_padded(server_public)}", f"salt={_b64url_padded(salt)}"


class FcmService:
    """Google's registration endpoints and MCS push socket for any number of simulated clients."""

    def __init__(self) -> None:
        self._devices: dict[str, str] = {}  # android id → security token (decimal strings, as sent)
        self._gcm: dict[str, _GcmRegistration] = {}
        self._installation_tokens: dict[str, str] = {}  # auth token → Firebase app id
        self._refresh_tokens: dict[str, str] = {}  # refresh token → Firebase app id
        self._fcm: dict[str, _FcmRegistration] = {}
        self._logged_in: dict[str, McsStream] = {}  # android id → its current socket
        self._open: set[McsStream] = set()
        self._unacked: dict[str, str] = {}  # persistent id → the FCM token it was pushed to
        self._delivered_to: Counter[str] = Counter()  # FCM token → pushes its client acknowledged
        self._server: asyncio.Server | None = None
        self._changed = asyncio.Condition()
        self._closes_left = 0  # MCS sessions Google still ends with a Close stanza (`close_sessions`)
        self.checkins = 0
        self.registrations = 0
        self.logins = 0
        self.pushed = 0
        self.delivered = 0
        self.heartbeats = 0

    @property
    def connections(self) -> int:
        """Clients logged in on the MCS socket right now."""
        return len(self._logged_in)

    def counters(self) -> dict[str, int]:
        """What happened so far, for a state endpoint: pushed = written to a socket, delivered = acked."""
        return {
            "checkins": self.checkins,
            "registrations": self.registrations,
            "logins": self.logins,
            "connections": self.connections,
            "pushed": self.pushed,
            "delivered": self.delivered,
            "heartbeats": self.heartbeats,
        }

    def connected(self, fcm_tokens: Iterable[str]) -> int:
        """How many of these FCM tokens' clients are logged in on the MCS socket now (one account's view)."""
        registrations = (self._fcm.get(token) for token in set(fcm_tokens))
        return sum(1 for r in registrations if r is not None and r.android_id in self._logged_in)

    def delivered_to(self, fcm_tokens: Iterable[str]) -> int:
        """Pushes to these FCM tokens that their clients acknowledged (one account's view)."""
        return sum(self._delivered_to[token] for token in set(fcm_tokens))

    def is_registered(self, fcm_token: str) -> bool:
        """Whether `fcm_token` came from an FCM registration with this service (and so can be pushed to)."""
        return fcm_token in self._fcm

    # --- HTTPS: registration -------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Any request whose Host is one of GOOGLE_HOSTS."""
        host = (request.host or "").rsplit(":", 1)[0].lower()
        if request.method == "POST" and (handler := self._handler_for(host, request.path)):
            return await handler(request)
        return _google_error(404, f"{request.method} {request.path} is not served here")

    def _handler_for(
        self, host: str, path: str
    ) -> Callable[[web.Request], Coroutine[Any, Any, web.StreamResponse]] | None:
        if host == CHECKIN_HOST:
            return {"/checkin": self._checkin, "/c2dm/register3": self._register3}.get(path)
        if host == INSTALLATIONS_HOST:
            if _INSTALLATION_PATH.fullmatch(path):
                return self._install
            if _AUTH_TOKEN_PATH.fullmatch(path):
                return self._refresh_installation
        if host == REGISTRATIONS_HOST and _REGISTRATION_PATH.fullmatch(path):
            return self._register_fcm
        return None

    async def _checkin(self, request: web.Request) -> web.StreamResponse:
        checkin = AndroidCheckinRequest()
        try:
            checkin.ParseFromString(await request.read())
        except DecodeError:
            return web.Response(status=400, text="Bad Request")
        android_id, security_token = self._device_for(checkin)
        if not android_id:
            return web.Response(status=403, text="Forbidden")
        self.checkins += 1
        answer = AndroidCheckinResponse(
            stats_ok=True,
            time_msec=int(time.time() * 1000),
            android_id=int(android_id),
            security_token=int(security_token),
            version_info="camsim",
        )
        return web.Response(body=answer.SerializeToString(), content_type="application/x-protobuf")

    def _device_for(self, checkin: AndroidCheckinRequest) -> tuple[str, str]:
        """The checked-in device: a new one, or the one the request names ("" when its token is wrong)."""
        if not checkin.id:
            android_id = str(secrets.randbits(63) or 1)
            self._devices[android_id] = str(secrets.randbits(63) or 1)
            return android_id, self._devices[android_id]
        android_id, security_token = str(checkin.id), str(checkin.security_token)
        # A device this process has not seen kept its credentials from an earlier run of the simulator:
        # take it on, so its socket logs in (pushes still need a registration made here).
        known = self._devices.setdefault(android_id, security_token)
        return (android_id, known) if known == security_token else ("", "")

    async def _register3(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        android_id = self._aid_login(request.headers.get("Authorization", ""))
        app_id, sender = str(form.get("X-subtype", "")), str(form.get("sender", ""))
        if not android_id or not app_id or not sender:
            # Google answers 200 with an Error line; firebase-messaging looks for "Error" in the text.
            return web.Response(text="Error=PHONE_REGISTRATION_ERROR")
        token = _new_token()
        self._gcm[token] = _GcmRegistration(android_id=android_id, app_id=app_id)
        return web.Response(text=f"token={token}")

    def _aid_login(self, authorization: str) -> str:
        """The android id of an `AidLogin <id>:<token>` header naming a checked-in device, else ""."""
        scheme, _, credentials = authorization.partition(" ")
        android_id, _, security_token = credentials.partition(":")
        if scheme != "AidLogin" or self._devices.get(android_id) != security_token:
            return ""
        return android_id

    async def _install(self, request: web.Request) -> web.StreamResponse:
        body = await self._json_body(request)
        fid, app_id = (body.get("fid"), body.get("appId")) if body else (None, None)
        if not request.headers.get("x-goog-api-key"):
            return _google_error(403, "API key missing")
        if not isinstance(fid, str) or not fid or not isinstance(app_id, str) or not app_id:
            return _google_error(400, "fid or appId missing")
        auth_token, refresh_token = secrets.token_urlsafe(48), secrets.token_urlsafe(32)
        self._installation_tokens[auth_token] = app_id
        self._refresh_tokens[refresh_token] = app_id
        project = request.path.split("/")[3]
        return web.json_response(
            {
                "name": f"projects/{project}/installations/{fid}",
                "fid": fid,
                "refreshToken": refresh_token,
                "authToken": {"token": auth_token, "expiresIn": _TOKEN_LIFETIME},
            }
        )

    async def _refresh_installation(self, request: web.Request) -> web.StreamResponse:
        scheme, _, refresh_token = request.headers.get("Authorization", "").partition(" ")
        if scheme != "FIS_v2" or (app_id := self._refresh_tokens.get(refresh_token)) is None:
            return _google_error(401, "refresh token not valid")
        auth_token = secrets.token_urlsafe(48)
        self._installation_tokens[auth_token] = app_id
        return web.json_response({"token": auth_token, "expiresIn": _TOKEN_LIFETIME})

    async def _register_fcm(self, request: web.Request) -> web.StreamResponse:
        firebase_app_id = self._installation_tokens.get(
            request.headers.get("x-goog-firebase-installations-auth", "")
        )
        if firebase_app_id is None:
            return _google_error(401, "installation auth token not valid")
        body = await self._json_body(request)
        web_push = body.get("web") if body else None
        registration = (
            self._fcm_registration(web_push, _sender_of(firebase_app_id))
            if isinstance(web_push, dict)
            else None
        )
        if registration is None:
            return _google_error(400, "web push endpoint or keys not valid")
        token = _new_token()
        self._fcm[token] = registration
        self.registrations += 1
        project = request.path.split("/")[3]
        return web.json_response(
            {"name": f"projects/{project}/registrations/{token}", "token": token, "web": web_push}
        )

    def _fcm_registration(self, web_push: dict[str, object], sender: str) -> _FcmRegistration | None:
        endpoint, p256dh, auth = (web_push.get(key) for key in ("endpoint", "p256dh", "auth"))
        if not (isinstance(endpoint, str) and isinstance(p256dh, str) and isinstance(auth, str)):
            return None
        gcm = self._gcm.get(endpoint.removeprefix(_FCM_SEND_PREFIX))
        try:
            public_key, secret = _b64url_decode(p256dh), _b64url_decode(auth)
        except binascii.Error, ValueError:
            return None
        if gcm is None or len(public_key) != 65 or len(secret) != 16:
            return None
        return _FcmRegistration(gcm.android_id, gcm.app_id, sender, public_key, secret)

    @staticmethod
    async def _json_body(request: web.Request) -> dict[str, object] | None:
        # firebase-messaging posts JSON without a JSON content type, so parse the text ourselves.
        try:
            body = json.loads(await request.text())
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    # --- MCS: the push socket -------------------------------------------------------------------------

    async def start_mcs(self, host: str, ssl_context: ssl.SSLContext, *, port: int = 0) -> int:
        """Listen for MCS clients over TLS on `host` and `port` (0: any free port); returns the port."""
        self._server = await asyncio.start_server(self._serve, host, port, ssl=ssl_context)
        bound: int = self._server.sockets[0].getsockname()[1]
        return bound

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        self.drop_connections()
        await self._server.wait_closed()
        self._server = None

    def drop_connections(self) -> int:
        """Close every MCS socket (clients reconnect by themselves); returns how many were open."""
        dropped = list(self._open)
        self._logged_in.clear()
        for stream in dropped:
            stream.close()
        return len(dropped)

    async def close_sessions(self, count: int) -> None:
        """Google ends the next `count` MCS sessions with a Close stanza: every open one now, then each
        new one right after its login. firebase-messaging gives up for good after three in a row."""
        self._closes_left = count
        for stream in list(self._logged_in.values()):
            await self._close_if_due(stream)

    async def _close_if_due(self, stream: McsStream) -> bool:
        if self._closes_left <= 0:
            return False
        self._closes_left -= 1
        with contextlib.suppress(OSError):
            await stream.send(Close())
        stream.close()
        return True

    async def wait_until(self, condition: Callable[[], bool]) -> None:
        """Wait until `condition()` holds, checked on every change (callers bound it with a timeout)."""
        async with self._changed:
            await self._changed.wait_for(condition)

    async def _changed_now(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        stream = McsStream(reader, writer)
        self._open.add(stream)
        android_id = ""
        try:
            android_id = await self._login(stream)
            if android_id:
                await self._converse(stream)
        except (ProtocolError, asyncio.IncompleteReadError, OSError) as err:
            _LOGGER.debug("MCS connection ended: %s", type(err).__name__)
        finally:
            self._open.discard(stream)
            if self._logged_in.get(android_id) is stream:
                del self._logged_in[android_id]
            stream.close()
            await self._changed_now()

    async def _login(self, stream: McsStream) -> str:
        """The android id of a client whose LoginRequest names a checked-in device, else ""."""
        request = await stream.read()
        if not isinstance(request, LoginRequest):
            raise ProtocolError(f"{type(request).__name__} before LoginRequest")
        android_id = request.user
        answer = LoginResponse(id=request.id, jid=f"{android_id}@mcs.android.com/{request.resource}")
        if not android_id or self._devices.get(android_id) != request.auth_token:
            answer.error.CopyFrom(ErrorInfo(code=403, message="authentication failed"))
            await stream.send(answer)
            return ""
        answer.last_stream_id_received = stream.received
        answer.server_timestamp = int(time.time() * 1000)
        await stream.send(answer)
        if await self._close_if_due(stream):
            return ""
        if previous := self._logged_in.get(android_id):
            previous.close()  # Google keeps one socket per device; the newer login wins.
        self._logged_in[android_id] = stream
        self.logins += 1
        await self._changed_now()
        return android_id

    async def _converse(self, stream: McsStream) -> None:
        while not isinstance(message := await stream.read(), Close):
            if isinstance(message, HeartbeatPing):
                self.heartbeats += 1
                await stream.send(HeartbeatAck(last_stream_id_received=stream.received))
            elif isinstance(message, IqStanza):
                await self._acknowledged(message)

    async def _acknowledged(self, stanza: IqStanza) -> None:
        if not stanza.HasField("extension") or stanza.extension.id != _SELECTIVE_ACK:
            return
        ack = SelectiveAck()
        ack.ParseFromString(stanza.extension.data)
        for persistent_id in ack.id:
            if (token := self._unacked.pop(persistent_id, None)) is not None:
                self._delivered_to[token] += 1
                self.delivered += 1
        await self._changed_now()

    # --- pushing --------------------------------------------------------------------------------------

    async def push(self, fcm_token: str, data: dict[str, str]) -> bool:
        """Send `data` to the client holding `fcm_token`; False when it is unknown or not connected."""
        registration = self._fcm.get(fcm_token)
        stream = self._logged_in.get(registration.android_id) if registration else None
        if registration is None or stream is None:
            return False
        message = self._data_message(registration, data, stream)
        try:
            await stream.send(message)
        except OSError:
            return False
        self._unacked[message.persistent_id] = fcm_token
        self.pushed += 1
        await self._changed_now()
        return True

    @staticmethod
    def _data_message(
        registration: _FcmRegistration, data: dict[str, str], stream: McsStream
    ) -> DataMessageStanza:
        plaintext = {
            "data": data,
            "from": registration.sender,
            "priority": "high",
            "fcmMessageId": str(uuid.uuid4()),
        }
        raw, crypto_key, encryption = _encrypt(json.dumps(plaintext).encode(), registration)
        message = DataMessageStanza(
            id=secrets.token_hex(8),
            category=_CATEGORY,
            persistent_id=f"0:{time.time_ns() // 1000}%{secrets.token_hex(8)}",
            last_stream_id_received=stream.received,
            sent=int(time.time() * 1000),
            ttl=2419200,
            raw_data=raw,
        )
        setattr(message, "from", registration.sender)  # `from` is a Python keyword
        for key, value in (
            ("crypto-key", crypto_key),
            ("encryption", encryption),
            ("subtype", registration.app_id),
        ):
            message.app_data.add(key=key, value=value)
        return message
