"""Where Ring's HTTP session comes from: the one seam between production and the simulated cloud.

Production: a session of HA's (its connector, its certificate store) carrying `OAuthWatch`, which
remembers the OAuth endpoint's last answer — the library hides it, and we need it to tell a 2FA
request (412 with `tsv_state`) from an HTML rate-limit page or a 5xx (the library reports both as
"requires 2FA" during login and as a refused token during refresh).

Development and tests: when `CAMERA_HUB_RING_CLOUD` names a cloud file (ringsim writes it), the session
resolves Ring's and Google's hosts to the simulator's address and trusts the simulator's throwaway CA
only, and firebase-messaging's MCS endpoint (module globals read at connect time) points at the
simulator's. The signalling WebSocket reaches it through the `wss_proxy` environment variable, and
`SSL_CERT_FILE` lets the library's default SSL context trust it; nothing else in production differs.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_create_clientsession

from ..base import Unreachable
from ..limits import MB, BodyCap

_LOGGER = logging.getLogger(__name__)

CLOUD_ENV = "CAMERA_HUB_RING_CLOUD"
OAUTH_HOST = "oauth.ring.com"
# Ring's largest answers are device lists and snapshots (well under 1 MB); recordings are links.
ANSWER_MAX_BYTES = 16 * MB


@dataclass(frozen=True, kw_only=True)
class OAuthAnswer:
    """The OAuth endpoint's last answer, as far as telling its meaning needs: no token, no code."""

    status: int
    body: dict[str, Any] | None  # None: not a JSON object (an HTML error page, an empty body)

    @property
    def two_factor_channel(self) -> str | None:
        """ "sms", "email" or "totp" when Ring asked for a verification code."""
        if self.status == 412 and self.body is not None:
            channel = self.body.get("tsv_state")
            return str(channel) if channel else "unknown"
        return None

    @property
    def is_outage(self) -> bool:
        """Ring did not judge the credentials: rate limited, a server error, or a page instead of JSON."""
        return self.status == 429 or self.status >= 500 or self.body is None

    @property
    def description(self) -> str:
        if self.body is None:
            return ""
        return f"{self.body.get('error', '')} {self.body.get('error_description', '')}".lower()


class OAuthWatch:
    """aiohttp client middleware keeping the OAuth endpoint's last answer (the body stays readable)."""

    def __init__(self) -> None:
        self.last: OAuthAnswer | None = None

    def forget(self) -> None:
        self.last = None

    async def __call__(
        self, request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
    ) -> aiohttp.ClientResponse:
        response = await handler(request)
        if request.url.host == OAUTH_HOST:
            raw = await response.read()  # cached by aiohttp: the library reads the same bytes
            self.last = OAuthAnswer(status=response.status, body=_json_object(raw))
        return response


def _json_object(raw: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


@dataclass(frozen=True, kw_only=True)
class SimulatedCloud:
    """A cloud file's content (see the module docstring)."""

    ca_file: str
    address: tuple[str, int]
    hosts: frozenset[str]
    mcs: tuple[str, int] | None


class _CloudResolver(AbstractResolver):
    """Sends the simulated cloud's hosts to its address; every other name resolves as usual."""

    def __init__(self, cloud: SimulatedCloud) -> None:
        self._cloud = cloud
        self._default = aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host not in self._cloud.hosts:
            return await self._default.resolve(host, port, family)
        address, sim_port = self._cloud.address
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=sim_port,
                family=socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
        ]

    async def close(self) -> None:
        await self._default.close()


def _read_cloud_file(path: str) -> SimulatedCloud:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    mcs = data.get("mcs")
    return SimulatedCloud(
        ca_file=data["ca_file"],
        address=(data["address"][0], int(data["address"][1])),
        hosts=frozenset(data["hosts"]),
        mcs=(mcs[0], int(mcs[1])) if mcs else None,
    )


def _simulated_context(cloud: SimulatedCloud) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=cloud.ca_file)


def _point_push_at(cloud: SimulatedCloud) -> None:
    """firebase-messaging opens its MCS socket to these module globals at connect time."""
    if cloud.mcs is None:
        return
    from firebase_messaging import fcmpushclient  # noqa: PLC0415 - only the simulated cloud needs it

    fcmpushclient.MCS_HOST, fcmpushclient.MCS_PORT = cloud.mcs  # type: ignore[attr-defined]


@dataclass(kw_only=True)
class RingHttp:
    """The Ring library's HTTP session and the watch on its OAuth answers; `close()` when done."""

    session: aiohttp.ClientSession
    watch: OAuthWatch
    simulated: bool

    async def close(self) -> None:
        if self.simulated:
            await self.session.close()
        else:
            self.session.detach()  # HA owns the connector of its sessions


def _middlewares(watch: OAuthWatch) -> tuple[aiohttp.ClientMiddlewareType, ...]:
    # The cap inside the watch: the watch's own read of the OAuth answer is capped too.
    return (watch, BodyCap(ANSWER_MAX_BYTES))


async def ring_http_session(hass: HomeAssistant) -> RingHttp:
    """A session for the Ring library: HA's when no simulated cloud is named, else one bound to it."""
    watch = OAuthWatch()
    if not (cloud_file := os.environ.get(CLOUD_ENV)):
        session = async_create_clientsession(hass, auto_cleanup=False, middlewares=_middlewares(watch))
        return RingHttp(session=session, watch=watch, simulated=False)
    try:
        cloud = await hass.async_add_executor_job(_read_cloud_file, cloud_file)
        context = await hass.async_add_executor_job(_simulated_context, cloud)
    except (OSError, ValueError, KeyError) as err:
        # The simulator is gone (it deletes its files when it stops): as unreachable as Ring can be.
        raise Unreachable(f"the simulated Ring cloud ({CLOUD_ENV}) is unreadable") from err
    _point_push_at(cloud)
    _LOGGER.info("Ring goes to the simulated cloud at %s:%s (%s)", *cloud.address, CLOUD_ENV)
    connector = aiohttp.TCPConnector(resolver=_CloudResolver(cloud), ssl=context)
    session = aiohttp.ClientSession(connector=connector, middlewares=_middlewares(watch))
    return RingHttp(session=session, watch=watch, simulated=True)
