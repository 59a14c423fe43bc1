"""The Tapo control API and the chain of logins that reaches it.

Tapo firmware changes its local login every year or so: the "secure connection" (encrypt_type 3),
the older hashed login, KLAP, and in 2026 TPAP (SPAKE2+). pytapo speaks all four and picks one by
probing; python-kasa speaks the secure connection its own way. Every login-phase request — probes
and challenges included — counts toward the camera's lockout (about five failures in a row suspend
logins for 30 minutes), so the chain spends that budget carefully:

- a known camera uses the method that worked last time and costs exactly one login;
- a new camera is asked once which logins it offers (the discover probe, whose answer a config
  flow keeps for the user's next attempt); firmware offering none we speak is "control refused"
  before any login is sent;
- the secure login goes through python-kasa first: one counted request per attempt, where pytapo
  spends two (its own probe, then the challenge);
- pytapo's own retries are off (`retryStok=False`): one failed login stays one failed login;
- a rejected password stops the chain at once: the next method would only count another failure;
- only "this firmware does not speak that" moves on to the next method;
- a certificate other than the pinned one (pinning.py) stops the chain before any login is sent.

All pytapo calls block, constructor included (it probes and logs in), so they run through the
`run_blocking` callable the integration passes in (HA's executor).
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from typing import Any, Protocol

import requests
from kasa import AuthenticationError, Credentials, Device, DeviceConfig, KasaException
from kasa.deviceconfig import DeviceConnectionParameters, DeviceEncryptionType, DeviceFamily
from kasa.exceptions import SmartErrorCode
from pytapo import Tapo
from pytapo.transport.tpap.tpap import discover_login, legacy_login_offered, tpap_from_discover

from ..base import AuthFailed, CameraHubError, ControlUnsupported, LockedOut, Unreachable
from .const import ControlMethod
from .pinning import (
    CertificateChanged,
    CertificatePin,
    RunBlocking,
    async_check_presented,
    certificate_change_in,
)

_LOGGER = logging.getLogger(__name__)

type Request = tuple[str, dict[str, Any]]

_SUSPENDED = re.compile(r"Temporary Suspension: Try again in (\d+) seconds")
_PYTAPO_AUTH_MESSAGE = "Invalid authentication data"
_KASA_NO_CHALLENGE = "Error trying handshake1"
CONTROL_USER = "admin"


# Logins the libraries speak, as a camera's discover answer lists them ("encrypt_type").
_KNOWN_ENCRYPT_TYPES = {"2", "3"}
# Seconds until each host accepts logins again; shared by every backend of that host, so a reload
# or the config flow cannot send a login into a lockout.
_suspended_until: dict[str, float] = {}


class ControlSession(Protocol):
    """A logged-in control API: sends camera-API requests in one batch."""

    method: ControlMethod

    async def call_many(self, requests: list[Request]) -> list[tuple[dict[str, Any], int]]:
        """Results and error codes (0 = success), in request order."""

    async def close(self) -> None: ...


def classify_pytapo_error(err: Exception) -> CameraHubError:
    """Map pytapo's plain exceptions (it raises `Exception` with a message) to our typed errors."""
    if isinstance(err, requests.ConnectionError | requests.Timeout | OSError):
        return Unreachable("the camera's control port did not answer")
    message = str(err)
    if match := _SUSPENDED.search(message):
        return LockedOut(float(match.group(1)))
    if _PYTAPO_AUTH_MESSAGE in message:
        return AuthFailed("cloud_password")
    return ControlUnsupported("the camera's control login is not one pytapo speaks")


def classify_kasa_error(err: Exception) -> CameraHubError:
    if (changed := certificate_change_in(err)) is not None:
        return changed
    if getattr(err, "error_code", None) in (SmartErrorCode.DEVICE_BLOCKED, SmartErrorCode.SYSTEM_BLOCKED):
        # python-kasa raises the suspension as DeviceError ("Device blocked for N seconds").
        seconds = re.search(r"(\d+) seconds", str(err))
        return LockedOut(float(seconds.group(1)) if seconds else 30 * 60)
    if isinstance(err, AuthenticationError):
        if str(err).startswith(_KASA_NO_CHALLENGE):
            # The camera answered the first login without a challenge: a login it does not speak
            # (firmware that refuses third-party control), not a rejected password.
            return ControlUnsupported("the camera's control login is not one python-kasa speaks")
        return AuthFailed("cloud_password")
    if isinstance(err, TimeoutError | OSError) or type(err).__name__ == "_ConnectionError":
        return Unreachable("the camera's control port did not answer")
    return ControlUnsupported("the camera's control login is not one python-kasa speaks")


class PytapoSession:
    def __init__(self, tapo: Tapo, method: ControlMethod, run_blocking: RunBlocking) -> None:
        self._tapo = tapo
        self.method = method
        self._run_blocking = run_blocking

    async def call_many(self, requests: list[Request]) -> list[tuple[dict[str, Any], int]]:
        batch = {"requests": [{"method": method, "params": params} for method, params in requests]}
        try:
            responses = await self._run_blocking(self._tapo.executeFunction, "multipleRequest", batch)
        except Exception as err:
            raise classify_pytapo_error(err) from err
        return [(response.get("result") or {}, int(response.get("error_code", 0))) for response in responses]

    async def close(self) -> None:
        try:
            await self._run_blocking(self._tapo.close)
        except Exception:
            _LOGGER.debug("closing the pytapo session failed", exc_info=True)


class KasaSession:
    method = ControlMethod.KASA

    def __init__(self, device: Device) -> None:
        self._device = device

    async def call_many(self, requests: list[Request]) -> list[tuple[dict[str, Any], int]]:
        # python-kasa batches a dict of method → params; one method per request here. It logs in
        # again by itself when the session expired: not into a lockout the camera announced.
        _check_not_suspended(self._device.host)
        try:
            answers = await self._device.protocol.query(dict(requests))
        except KasaException as err:
            error = classify_kasa_error(err)
            _note_suspension(self._device.host, error)
            raise error from err
        results: list[tuple[dict[str, Any], int]] = []
        for method, _ in requests:
            answer = answers.get(method)
            if isinstance(answer, SmartErrorCode):
                results.append(({}, int(answer)))
            else:
                results.append((answer or {}, 0))
        return results

    async def close(self) -> None:
        await self._device.disconnect()


def _pytapo_method(tapo: Tapo) -> ControlMethod:
    """Name what pytapo used; its "pytapo" transport covers two logins."""
    transport = tapo.transport.method
    if transport == "klap":
        return ControlMethod.KLAP
    if transport == "tpap":
        return ControlMethod.TPAP
    return ControlMethod.SECURE if tapo.transport._isSecureConnection() else ControlMethod.LEGACY  # noqa: SLF001


async def _login_pytapo(
    host: str,
    port: int,
    cloud_password: str,
    transport: str | None,
    run_blocking: RunBlocking,
    event_loop_owner: Any,
) -> PytapoSession:
    """One pytapo login; `transport` None lets pytapo probe for it (KLAP cameras)."""
    kwargs: dict[str, Any] = {
        "controlPort": port,
        "cloudPassword": cloud_password,
        "retryStok": False,
        "printWarnInformation": False,
        # pytapo runs its async transports on this owner's loop (HA's) instead of a private one.
        "hass": event_loop_owner,
    }
    if transport is not None:
        kwargs["transportMethod"] = transport
        kwargs["isKLAP"] = transport == "klap"
    try:
        tapo = await run_blocking(lambda: Tapo(host, CONTROL_USER, cloud_password, **kwargs))
    except Exception as err:
        raise classify_pytapo_error(err) from err
    return PytapoSession(tapo, _pytapo_method(tapo), run_blocking)


def offers_no_known_login(discover: dict[str, Any] | None) -> bool:
    """True when the discover answer lists only logins no library speaks (firmware that refuses
    third-party control), so a login would be doomed and would count toward the lockout.

    No answer at all says nothing: KLAP cameras serve plain HTTP, and pytapo finds them itself.
    """
    if not isinstance(discover, dict) or tpap_from_discover(discover) is not None:
        return False
    data = (discover.get("result") or {}).get("data") or {}
    offered = {str(t) for t in data.get("encrypt_type") or []} if isinstance(data, dict) else set()
    return bool(offered) and not offered & _KNOWN_ENCRYPT_TYPES


def _check_not_suspended(host: str) -> None:
    if (left := _suspended_until.get(host, 0.0) - time.monotonic()) > 0:
        raise LockedOut(left)


def _note_suspension(host: str, err: CameraHubError) -> None:
    if isinstance(err, LockedOut):
        _suspended_until[host] = time.monotonic() + err.seconds_left


async def _login_kasa(host: str, port: int, cloud_password: str, session: Any) -> KasaSession:
    config = DeviceConfig(
        host,
        port_override=port,
        credentials=Credentials(CONTROL_USER, cloud_password),
        connection_type=DeviceConnectionParameters(
            DeviceFamily.SmartIpCamera, DeviceEncryptionType.Aes, https=True
        ),
        http_client=session,
    )
    try:
        device = await Device.connect(config=config)
    except KasaException as err:
        raise classify_kasa_error(err) from err
    return KasaSession(device)


@dataclass
class Discovery:
    """A camera's answer to the login probe, kept for the next attempt.

    The probe counts toward the camera's lockout like a failed login, so a config flow asks once
    and reuses the answer when the user corrects a typo.
    """

    host: str = ""
    answer: dict[str, Any] | None = None
    asked: bool = False


# A login attempt: a pytapo transport name, "auto" (pytapo probes itself) or "kasa".
_KNOWN_ATTEMPTS = {
    ControlMethod.SECURE: "pytapo",
    ControlMethod.LEGACY: "pytapo",
    ControlMethod.KLAP: "klap",
    ControlMethod.TPAP: "tpap",
    ControlMethod.KASA: "kasa",
}


async def _attempts_for_new_camera(
    host: str, port: int, run_blocking: RunBlocking, discovery: Discovery
) -> list[str]:
    """Choose the logins from the camera's discover answer, so no attempt is wasted on a login the
    firmware does not have. (This is pytapo's own choice, made once here with pytapo's helpers,
    because pytapo would otherwise probe again before every attempt.)
    """
    if not discovery.asked or discovery.host != host:
        discovery.host, discovery.asked = host, True
        discovery.answer = await run_blocking(discover_login, host, port)
    answer = discovery.answer
    if answer is None:
        return ["auto", "kasa"]  # no HTTPS login probe answer: KLAP cameras; pytapo finds them itself
    if offers_no_known_login(answer):
        raise ControlUnsupported("the camera offers only control logins no library speaks yet")
    if tpap_from_discover(answer) is not None:
        return ["tpap"]
    if legacy_login_offered(answer):
        # The encrypt_type 3 ("secure") login, which both libraries speak: python-kasa costs the
        # camera one counted request per attempt, pytapo two (its own probe, then the challenge).
        return ["kasa", "pytapo"]
    return ["pytapo", "kasa"]  # the older hashed login


# pytapo logins over HTTPS, whose certificate is checked before the login (pinning.py): not "auto"
# (no discover answer: a KLAP camera on plain HTTP) nor "klap".
_PYTAPO_HTTPS_ATTEMPTS = {"pytapo", "tpap"}


async def _attempt(
    attempt: str, host: str, port: int, cloud_password: str, run_blocking: RunBlocking, extras: dict[str, Any]
) -> ControlSession:
    if attempt == "kasa":
        return await _login_kasa(host, port, cloud_password, extras["http_session"])
    pin: CertificatePin | None = extras["pin"]
    if pin is not None and attempt in _PYTAPO_HTTPS_ATTEMPTS:
        await async_check_presented(host, port, pin, run_blocking)
    transport = None if attempt == "auto" else attempt
    return await _login_pytapo(
        host, port, cloud_password, transport, run_blocking, extras["event_loop_owner"]
    )


async def open_control(
    host: str,
    port: int,
    cloud_password: str,
    *,
    known: ControlMethod | None,
    run_blocking: RunBlocking,
    http_session: Any = None,
    event_loop_owner: Any = None,
    discovery: Discovery | None = None,
    pin: CertificatePin | None = None,
) -> ControlSession:
    """Log in with the first method that works. Raises the first decisive error, or ControlUnsupported.

    Lockout budget (Tapo cameras suspend logins after about five failed login-phase requests in a
    row): a known camera gets exactly one login with its known method; a new one gets one discover
    probe, then the logins its answer allows. A rejected password always stops the chain: trying
    another method would only spend the budget the user needs to type the right one. A changed
    certificate stops it too: every other method would talk to the same impostor.
    """
    _check_not_suspended(host)
    extras = {"http_session": http_session, "event_loop_owner": event_loop_owner, "pin": pin}
    tried: list[str] = []
    if known is not None and known in _KNOWN_ATTEMPTS:
        tried.append(_KNOWN_ATTEMPTS[known])
        try:
            return await _attempt(tried[0], host, port, cloud_password, run_blocking, extras)
        except CertificateChanged:
            raise
        except ControlUnsupported:
            _LOGGER.debug("%s no longer speaks its known control login %s", host, known)
        except LockedOut as err:
            _note_suspension(host, err)
            raise
    attempts = await _attempts_for_new_camera(host, port, run_blocking, discovery or Discovery())
    for attempt in (a for a in attempts if a not in tried):
        try:
            return await _attempt(attempt, host, port, cloud_password, run_blocking, extras)
        except CertificateChanged:
            raise
        except ControlUnsupported:
            _LOGGER.debug("control login %s not understood by %s", attempt, host)
            tried.append(attempt)
        except AuthFailed:
            if attempt == "kasa" and tried:
                # pytapo could not even speak this login, so python-kasa's rejection says nothing
                # about the password.
                break
            raise
        except LockedOut as err:
            _note_suspension(host, err)
            raise
    raise ControlUnsupported("no control login the libraries know works with this firmware")
