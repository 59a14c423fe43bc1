"""Trust on first use for a Tapo camera's control-API certificate.

Tapo cameras serve their control API over HTTPS with a self-signed certificate made at the factory
(or at a reset), so no certificate authority can vouch for it. What can be checked is that it stays
the same: the SHA-256 of the certificate (DER) seen on first contact is pinned in the config entry,
and every later control connection must present the same one. A different certificate means the
camera was reset or replaced — or something between Home Assistant and the camera answers in its
place — so control logins stop until the owner accepts the new certificate (a repair).

Where the check sits (docs/security.md, "TLS and certificate pinning"):

- python-kasa takes our aiohttp session, so `PinnedConnector` checks the certificate of every TLS
  connection it opens, after the handshake and before a byte of HTTP (the login included) is sent:
  the pin is bound to the connection that carries the credentials.
- pytapo builds its own `requests` sessions inside the constructor that logs in, with no way to hand
  in a session, an adapter or an SSL context. Before each pytapo login, `async_check_presented`
  opens one TLS connection of its own and checks that certificate. That notices a camera whose
  certificate changed, but not a machine in the middle that relays this probe to the real camera
  and answers pytapo's own connection itself.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ssl
from collections.abc import Awaitable, Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from functools import cache
from typing import Any

import aiohttp
from aiohttp.client_reqrep import ClientRequest
from aiohttp.connector import Connection
from aiohttp.tracing import Trace
from kasa.httpclient import get_cookie_jar

from ..base import ControlUnsupported, Unreachable
from ..limits import MB, BodyCap

type RunBlocking = Callable[..., Awaitable[Any]]

SHORT_LENGTH = 8  # what a person compares, and all diagnostics show
_PROBE_TIMEOUT = 10.0
# A camera's control answers are a few kilobytes of JSON.
ANSWER_MAX_BYTES = 4 * MB


def fingerprint(der: bytes) -> str:
    """The pin of a certificate: SHA-256 of its DER encoding, lower-case hex."""
    return hashlib.sha256(der).hexdigest()


def short(pin: str | None) -> str:
    """The first hex digits of a pin: enough to tell two apart, short enough to read out."""
    return (pin or "")[:SHORT_LENGTH]


class CertificateChanged(ControlUnsupported):
    """The camera presented another certificate than the one pinned: no control login is sent.

    A kind of "control refused", so a camera falls back to its streams as it does when its firmware
    refuses control; unlike that case, only the owner can lift it (by trusting `presented`).
    """

    def __init__(self, pinned: str, presented: str) -> None:
        super().__init__(
            f"the control certificate {short(presented)}… is not the one pinned ({short(pinned)}…)"
        )
        self.pinned = pinned
        self.presented = presented


@dataclass
class CertificatePin:
    """A camera's pinned certificate (`trusted`, None until first contact) and the last one seen."""

    trusted: str | None = None
    presented: str | None = None

    def check(self, der: bytes) -> None:
        """Accept `der` if it is the pinned certificate, or pin it when nothing is pinned yet."""
        presented = fingerprint(der)
        self.presented = presented
        if self.trusted is None:
            self.trusted = presented  # trust on first use
            return
        if not hmac.compare_digest(presented, self.trusted):
            raise CertificateChanged(self.trusted, presented)

    def trust(self, presented: str) -> None:
        """The owner accepted this certificate: pin it instead of the old one."""
        self.trusted = presented


class PinnedConnector(aiohttp.TCPConnector):
    """A connector that checks every new TLS connection's certificate against a pin.

    The check runs in `connect`, once the handshake is done and before the request is written;
    pooled connections are checked again when reused (a dictionary lookup's cost). The SSL context
    stays the client library's (python-kasa's cipher list for older firmware).
    """

    def __init__(self, pin: CertificatePin, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pin = pin

    async def connect(
        self,
        req: ClientRequest,
        traces: list[Trace],
        timeout: aiohttp.ClientTimeout,  # noqa: ASYNC109 - aiohttp's signature, passed on
    ) -> Connection:
        connection = await super().connect(req, traces, timeout)
        transport = connection.transport
        ssl_object = transport.get_extra_info("ssl_object") if transport is not None else None
        if ssl_object is None:
            return connection  # plain HTTP: no certificate to pin
        try:
            self.pin.check(ssl_object.getpeercert(binary_form=True))
        except CertificateChanged as err:
            connection.close()
            raise aiohttp.ServerFingerprintMismatch(
                bytes.fromhex(err.pinned), bytes.fromhex(err.presented), req.host, req.port or 443
            ) from err
        return connection


def pinned_session(pin: CertificatePin) -> aiohttp.ClientSession:
    """An HTTP session for python-kasa whose TLS connections must present `pin`'s certificate.

    Our own session, not one of HA's: HA's helpers give no way to put a connector in. python-kasa
    never closes a session it was given, so its owner (the backend) does. Cookies as python-kasa's
    own jar keeps them (on bare IP addresses, unquoted).
    """
    return aiohttp.ClientSession(
        connector=PinnedConnector(pin, ssl=False),
        cookie_jar=get_cookie_jar(),
        middlewares=(BodyCap(ANSWER_MAX_BYTES),),
    )


def certificate_change_in(err: BaseException) -> CertificateChanged | None:
    """The CertificateChanged behind a library's exception (python-kasa wraps ours), if any."""
    for cause in _chain(err):
        if isinstance(cause, CertificateChanged):
            return cause
    return None


def _chain(err: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


@cache
def _probe_context() -> ssl.SSLContext:
    """No chain to verify (the certificate is self-signed): the pin is the check. Ciphers as
    permissive as pytapo's, so older firmware completes the handshake."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_ciphers("ALL:@SECLEVEL=0")
    return context


async def async_presented_certificate(host: str, port: int, run_blocking: RunBlocking) -> bytes:
    """The DER certificate the camera's control port presents: one TLS handshake, no HTTP request
    (so nothing a camera counts toward its lockout)."""
    context = await run_blocking(_probe_context)
    try:
        async with asyncio.timeout(_PROBE_TIMEOUT):
            _, writer = await asyncio.open_connection(host, port, ssl=context)
    except (OSError, TimeoutError) as err:  # ssl.SSLError is an OSError
        raise Unreachable("the camera's control port did not complete a TLS handshake") from err
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der: bytes | None = ssl_object.getpeercert(binary_form=True) if ssl_object else None
    finally:
        writer.close()
        with suppress(OSError):
            await writer.wait_closed()
    if not der:
        raise Unreachable("the camera's control port presented no certificate")
    return der


async def async_check_presented(host: str, port: int, pin: CertificatePin, run_blocking: RunBlocking) -> None:
    """Check (or pin, on first contact) the certificate before a login through pytapo (see module)."""
    pin.check(await async_presented_certificate(host, port, run_blocking))
