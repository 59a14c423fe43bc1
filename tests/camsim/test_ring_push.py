"""camsim's Google side of FCM, met by the unmodified firebase-messaging client the way Ring's listener
drives it: registration over HTTPS (a session resolving Google's hosts to the simulator and trusting only
its CA), then the MCS socket (module globals MCS_HOST/MCS_PORT and SSL_CERT_FILE, the integration's
documented development seam), then encrypted pushes.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from firebase_messaging import FcmPushClient, FcmRegisterConfig, fcmpushclient
from firebase_messaging.proto.mcs_pb2 import HeartbeatAck, HeartbeatPing, LoginRequest, LoginResponse
from ring_doorbell.const import FCM_API_KEY, FCM_APP_ID, FCM_PROJECT_ID, FCM_RING_SENDER_ID
from ring_doorbell.listen.listenerconfig import RingEventListenerConfig

from camsim.authority import Authority, make_authority
from camsim.ring.mcs import McsStream
from camsim.ring.push import GOOGLE_HOSTS, FcmService

pytestmark = pytest.mark.usefixtures("socket_enabled")

DEADLINE = 15.0
RING_DING = {
    "android_config": '{"category":"com.ring.pn.live-event.ding"}',
    "data": '{"device":{"id":1},"event":{"ding":{"id":"7","created_at":"2026-12-01T01:00:00Z"}}}',
}


class _GoogleResolver(AbstractResolver):
    """Google's hosts resolve to the simulator's HTTPS port; nothing else resolves."""

    def __init__(self, port: int) -> None:
        self._port = port

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host not in GOOGLE_HOSTS:
            raise OSError(f"{host} is not simulated here")
        return [
            ResolveResult(
                hostname=host,
                host="127.0.0.1",
                port=self._port,
                family=socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
        ]

    async def close(self) -> None:
        return None


class Google:
    """The service behind an HTTPS server and its MCS listener, and a client session that reaches them."""

    def __init__(
        self, service: FcmService, session: aiohttp.ClientSession, authority: Authority, mcs_port: int
    ) -> None:
        self.service = service
        self.session = session
        self.authority = authority
        self.mcs_port = mcs_port
        self.notifications: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    def client(self, credentials: dict[str, Any] | None = None) -> FcmPushClient:
        """A push client configured exactly as ring-doorbell's RingEventListener configures it."""
        return FcmPushClient(
            lambda notification, _persistent_id, _context: self.notifications.put_nowait(notification),
            FcmRegisterConfig(FCM_PROJECT_ID, FCM_APP_ID, FCM_API_KEY, FCM_RING_SENDER_ID),
            credentials,
            config=RingEventListenerConfig.default_config(),
            http_client_session=self.session,
        )

    async def wait_until(self, condition: Callable[[], bool]) -> None:
        async with asyncio.timeout(DEADLINE):
            await self.service.wait_until(condition)

    async def next_notification(self) -> dict[str, Any]:
        async with asyncio.timeout(DEADLINE):
            return await self.notifications.get()


@pytest.fixture
async def google(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Google]:
    authority = make_authority(sorted(GOOGLE_HOSTS), tmp_path, label="fcm")
    service = FcmService()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", service.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=authority.server_context())
    await site.start()
    https_port = runner.addresses[0][1]
    mcs_port = await service.start_mcs("127.0.0.1", authority.server_context())
    monkeypatch.setattr(fcmpushclient, "MCS_HOST", "127.0.0.1")
    monkeypatch.setattr(fcmpushclient, "MCS_PORT", mcs_port)
    monkeypatch.setenv("SSL_CERT_FILE", str(authority.ca_file))
    connector = aiohttp.TCPConnector(resolver=_GoogleResolver(https_port), ssl=authority.client_context())
    async with aiohttp.ClientSession(connector=connector) as session:
        yield Google(service, session, authority, mcs_port)
    await service.stop()
    await runner.cleanup()


def _gcm(client: FcmPushClient) -> dict[str, str]:
    assert client.credentials is not None
    gcm: dict[str, str] = client.credentials["gcm"]
    return gcm


@contextlib.asynccontextmanager
async def running(client: FcmPushClient) -> AsyncIterator[FcmPushClient]:
    await client.start()
    try:
        yield client
    finally:
        await client.stop()
        await asyncio.gather(*client.tasks, return_exceptions=True)


async def test_registration_gives_an_fcm_token_with_gcm_credentials(google: Google) -> None:
    client = google.client()
    token = await client.checkin_or_register()

    assert token
    gcm = _gcm(client)
    assert gcm["android_id"]
    assert gcm["security_token"]
    assert gcm["app_id"].startswith("wp:")
    assert client.credentials is not None
    assert client.credentials["fcm"]["installation"]["expires_in"] == 604800
    assert (google.service.checkins, google.service.registrations) == (1, 1)
    assert google.service.is_registered(token)
    assert not google.service.is_registered("made-up")


async def test_stored_credentials_only_check_in_again(google: Google) -> None:
    first = google.client()
    token = await first.checkin_or_register()

    again = google.client(first.credentials)

    assert await again.checkin_or_register() == token
    assert (google.service.checkins, google.service.registrations) == (2, 1)


async def test_a_push_arrives_decrypted_and_is_acknowledged(google: Google) -> None:
    client = google.client()
    token = await client.checkin_or_register()
    async with running(client):
        await google.wait_until(lambda: google.service.connections == 1)

        assert await google.service.push(token, RING_DING)
        notification = await google.next_notification()
        await google.wait_until(lambda: google.service.delivered == 1)

    assert notification["data"] == RING_DING
    assert notification["from"] == FCM_RING_SENDER_ID
    assert (google.service.logins, google.service.pushed, google.service.delivered) == (1, 1, 1)


async def test_a_push_after_dropped_connections_arrives_once_the_client_reconnects(google: Google) -> None:
    client = google.client()
    token = await client.checkin_or_register()
    async with running(client):
        await google.wait_until(lambda: google.service.connections == 1)

        assert google.service.drop_connections() == 1
        assert google.service.connections == 0
        assert not await google.service.push(token, RING_DING)
        await google.wait_until(lambda: google.service.connections == 1)
        assert await google.service.push(token, RING_DING)
        notification = await google.next_notification()
        await google.wait_until(lambda: google.service.delivered == 1)

    await google.wait_until(lambda: google.service.connections == 0)  # the stopped client hung up
    assert notification["data"] == RING_DING
    counters = google.service.counters()
    assert (counters["logins"], counters["pushed"], counters["delivered"]) == (2, 1, 1)


async def test_pushes_to_unknown_or_unconnected_tokens_are_refused(google: Google) -> None:
    token = await google.client().checkin_or_register()

    assert not await google.service.push(token, RING_DING)
    assert not await google.service.push("not-a-token", RING_DING)
    assert google.service.pushed == 0


async def test_register3_without_a_checked_in_device_is_an_error_line(google: Google) -> None:
    async with google.session.post(
        "https://android.clients.google.com/c2dm/register3",
        headers={"Authorization": "AidLogin 123:456"},
        data={"app": "org.chromium.linux", "X-subtype": "wp:x", "device": "123", "sender": "s"},
    ) as response:
        assert response.status == 200
        assert await response.text() == "Error=PHONE_REGISTRATION_ERROR"


async def test_fcm_registration_needs_an_installation_token(google: Google) -> None:
    async with google.session.post(
        f"https://fcmregistrations.googleapis.com/v1/projects/{FCM_PROJECT_ID}/registrations",
        headers={"x-goog-firebase-installations-auth": "made-up"},
        data='{"web": {}}',
    ) as response:
        assert response.status == 401
        assert (await response.json())["error"]["status"] == "UNAUTHENTICATED"


async def test_other_paths_are_not_found(google: Google) -> None:
    async with google.session.get("https://android.clients.google.com/checkin") as response:
        assert response.status == 404


async def _raw_mcs(google: Google) -> McsStream:
    context = ssl.create_default_context(cafile=str(google.authority.ca_file))
    reader, writer = await asyncio.open_connection("127.0.0.1", google.mcs_port, ssl=context)
    return McsStream(reader, writer)


def _login(android_id: str, security_token: str) -> LoginRequest:
    return LoginRequest(
        id="chrome-94",
        domain="mcs.android.com",
        user=android_id,
        resource=android_id,
        auth_token=security_token,
    )


async def test_a_login_with_a_wrong_security_token_is_answered_with_an_error(google: Google) -> None:
    client = google.client()
    await client.checkin_or_register()
    android_id = _gcm(client)["android_id"]
    stream = await _raw_mcs(google)
    try:
        await stream.send(_login(android_id, "1"))
        async with asyncio.timeout(DEADLINE):
            answer = await stream.read()
    finally:
        stream.close()

    assert isinstance(answer, LoginResponse)
    assert answer.HasField("error")
    assert google.service.logins == 0


async def test_heartbeat_pings_are_acknowledged(google: Google) -> None:
    client = google.client()
    await client.checkin_or_register()
    gcm = _gcm(client)
    stream = await _raw_mcs(google)
    try:
        await stream.send(_login(gcm["android_id"], gcm["security_token"]))
        async with asyncio.timeout(DEADLINE):
            login = await stream.read()
            await stream.send(HeartbeatPing())
            ack = await stream.read()
    finally:
        stream.close()

    assert isinstance(login, LoginResponse)
    assert not login.HasField("error")
    assert isinstance(ack, HeartbeatAck)
    assert google.service.heartbeats == 1


async def test_a_socket_not_speaking_mcs_is_closed(google: Google) -> None:
    context = ssl.create_default_context(cafile=str(google.authority.ca_file))
    reader, writer = await asyncio.open_connection("127.0.0.1", google.mcs_port, ssl=context)
    try:
        writer.write(b"GET / HTTP/1.1\r\n\r\n")
        async with asyncio.timeout(DEADLINE):
            answer = await reader.read()
    finally:
        writer.close()

    assert answer == b""
    assert google.service.logins == 0


async def test_a_second_login_of_the_same_device_replaces_the_first_socket(google: Google) -> None:
    client = google.client()
    await client.checkin_or_register()
    gcm = _gcm(client)
    first, second = await _raw_mcs(google), await _raw_mcs(google)
    try:
        async with asyncio.timeout(DEADLINE):
            await first.send(_login(gcm["android_id"], gcm["security_token"]))
            await first.read()
            await second.send(_login(gcm["android_id"], gcm["security_token"]))
            await second.read()
            with pytest.raises(asyncio.IncompleteReadError):
                await first.read()
        # Read while the second socket is still open: it is the device's one connection.
        assert google.service.connections == 1
    finally:
        first.close()
        second.close()

    assert google.service.logins == 2
