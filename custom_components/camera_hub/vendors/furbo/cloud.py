"""Our own client for Furbo's cloud (no library exists): three HTTPS hosts, every call a POST.

The client takes its base URLs, the public key its password encryption uses and an SSL context as
parameters (`FurboCloud`); production passes Furbo's. `furbo_cloud()` is the one development seam:
the env var CAMERA_HUB_FURBO_CLOUD naming a cloud file (furbosim's) replaces all of them.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import ssl
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .errors import (
    CODE_CODE_EXPIRED,
    CODE_CODE_REQUIRED,
    CODE_CODE_WRONG,
    CODE_RATE_LIMITED,
    CODE_TOKEN_INVALID,
    CODE_TOO_MANY_ATTEMPTS,
    FurboApiError,
    FurboCodeExpired,
    FurboCodeRequired,
    FurboCodeWrong,
    FurboPasswordRejected,
    FurboRateLimited,
    FurboTokenInvalid,
    FurboTooManyAttempts,
    FurboUnreachable,
)
from .models import (
    LISTABLE_EVENT_NAMES,
    CodeChallenge,
    Device,
    DeviceList,
    Diary,
    EventPage,
    Login,
    activity_totals,
    parse_diaries,
    parse_event_page,
    parse_licenses,
)

_LOGGER = logging.getLogger(__name__)

CLOUD_ENV = "CAMERA_HUB_FURBO_CLOUD"

PRODUCT_URL = "https://product.furbo.co"
PET_GPT_URL = "https://pet-gpt.furbo.co"
EVENT_HANDLER_URL = "https://event-handler.furbo.co"
# The app's own key for encrypting the password at login (public: it ships inside the app).
PUBLIC_KEY = (
    "-----BEGIN PUBLIC KEY-----\n"
    "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDwg8rbwkNIBmtGaS9GBURspabtzLdKCl24iZL9FFLsxexYqm2rb79wmVHptJg5"
    "JdrxufmIx9aZgnE/I9CiI7EWHzAKdupsya6LEQUg++rY18T8zvVaZnLzAqZC4+93SX5BGljDQ/khc0KH/ZvaJBDuHZGtI4J08wIK"
    "/8lLmDZ6lwIDAQAB\n"
    "-----END PUBLIC KEY-----\n"
)
# The app's static client id ("tomofunrd:happyPet123"): identifies the app, not the user.
APP_AUTHORIZATION = "Basic dG9tb2Z1bnJkOmhhcHB5UGV0MTIz"
USER_AGENT = "okhttp/4.12.0"
TIMEOUT = aiohttp.ClientTimeout(total=20)
# The API's answers are a few KB (an event page of 200 events ~100 KB), its pictures ~100 KB; anything
# far beyond is a broken or hostile answer, refused before it fills memory.
MAX_ANSWER_BYTES = 4 * 1024 * 1024
MAX_PICTURE_BYTES = 16 * 1024 * 1024
EVENTS_LIMIT = 200
MEDIA_CHUNK = 64 * 1024


@dataclass(frozen=True, kw_only=True)
class FurboCloud:
    """Where the cloud is and how to trust it."""

    product: str = PRODUCT_URL
    pet_gpt: str = PET_GPT_URL
    event_handler: str = EVENT_HANDLER_URL
    public_key: str = PUBLIC_KEY
    ca_file: str | None = None  # None: the system's trust store (production)

    @property
    def simulated(self) -> bool:
        return self.ca_file is not None

    def ssl_context(self) -> ssl.SSLContext | None:
        """None: aiohttp's default verification. Blocking (reads the CA file): run in an executor."""
        return ssl.create_default_context(cafile=self.ca_file) if self.ca_file else None


def furbo_cloud() -> FurboCloud:
    """Furbo's cloud, or the one a cloud file in CAMERA_HUB_FURBO_CLOUD names (development only)."""
    path = os.environ.get(CLOUD_ENV)
    if not path:
        return FurboCloud()
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    return FurboCloud(
        product=raw["product"],
        pet_gpt=raw["pet_gpt"],
        event_handler=raw["event_handler"],
        public_key=raw["public_key"],
        ca_file=raw["ca_file"],
    )


# PKCS#1 v1.5 padding takes 11 bytes of an RSA block.
_PKCS1V15_OVERHEAD = 11


def encrypt_password(public_key: str, password: str) -> str:
    """RSA PKCS#1 v1.5 with the cloud's public key, base64: what the login sends and the entry keeps
    (the plain password is never stored; only the cloud's private key can read this)."""
    key = serialization.load_pem_public_key(public_key.encode())
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("the Furbo public key is not an RSA key")
    plain = password.encode()
    if len(plain) > key.key_size // 8 - _PKCS1V15_OVERHEAD:
        # Too long for one RSA block, so never a password the app could send: wrong, not an error.
        raise FurboPasswordRejected
    return base64.b64encode(key.encrypt(plain, padding.PKCS1v15())).decode()


def new_mobile_id() -> str:
    """A client identity like the app's (uppercase UUID4)."""
    return str(uuid.uuid4()).upper()


class RequestCounter:
    """Requests sent in the last hour, for diagnostics: polling must not get the account blocked."""

    def __init__(self) -> None:
        self._sent: deque[float] = deque()

    def count(self) -> None:
        self._sent.append(time.monotonic())

    @property
    def last_hour(self) -> int:
        horizon = time.monotonic() - 3600
        while self._sent and self._sent[0] < horizon:
            self._sent.popleft()
        return len(self._sent)


def _code(body: Any) -> int | None:
    code = body.get("Code") if isinstance(body, Mapping) else None
    if isinstance(code, str) and code.isdigit():
        return int(code)
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def _time_wait(body: Mapping[str, Any]) -> float:
    value = body.get("TimeWait")
    if not isinstance(value, (int, float, str)):
        return 0.0
    try:
        return max(float(value), 0.0)
    except TypeError, ValueError:
        return 0.0


def _required(body: Mapping[str, Any], key: str, path: str, status: int) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise FurboUnreachable(f"Furbo's answer on {path} ({status}) lacks {key}")
    return value


class FurboClient:
    """One account's calls. Holds the session token; raises only the typed errors of errors.py."""

    def __init__(self, session: aiohttp.ClientSession, cloud: FurboCloud, ssl_context: ssl.SSLContext | None):
        self._session = session
        self.cloud = cloud
        self._ssl: ssl.SSLContext | bool = ssl_context if ssl_context is not None else True
        self.login: Login | None = None
        self.requests = RequestCounter()

    # --- the wire ------------------------------------------------------------------------

    async def _post(
        self, base: str, path: str, payload: Mapping[str, Any], *, form: bool = False
    ) -> dict[str, Any]:
        """POST and return the JSON object; every refusal as its typed error, bodies never in messages."""
        headers = {"Authorization": APP_AUTHORIZATION, "User-Agent": USER_AGENT}
        body: dict[str, Any] = {"data": dict(payload)} if form else {"json": dict(payload)}
        self.requests.count()
        try:
            async with self._session.post(
                f"{base}{path}", headers=headers, timeout=TIMEOUT, ssl=self._ssl, **body
            ) as response:
                status = response.status
                data = json.loads(await read_capped(response, MAX_ANSWER_BYTES, f"Furbo's answer on {path}"))
        except (aiohttp.ClientError, TimeoutError, ValueError) as err:
            raise FurboUnreachable(f"Furbo did not answer on {path}: {type(err).__name__}") from err
        if not isinstance(data, dict):
            raise FurboUnreachable(f"Furbo's answer on {path} ({status}) is not an object")
        if status == 200:
            return data
        raise self._refusal(path, status, data)

    @staticmethod
    def _refusal(path: str, status: int, body: Mapping[str, Any]) -> Exception:
        code = _code(body)
        if code == CODE_CODE_REQUIRED:
            account_id, candidate = body.get("AccountId"), body.get("MfaAuthCodeCandidate")
            if isinstance(account_id, str) and isinstance(candidate, str) and account_id and candidate:
                return FurboCodeRequired(account_id, candidate)
        if code == CODE_RATE_LIMITED:
            return FurboRateLimited(path, _time_wait(body))
        if code == CODE_TOO_MANY_ATTEMPTS:
            return FurboTooManyAttempts(_time_wait(body))
        if code == CODE_TOKEN_INVALID or status == 401:
            return FurboTokenInvalid(f"Furbo refused the session token on {path}")
        if status >= 500:
            return FurboUnreachable(f"Furbo answered {status} on {path}")
        return FurboApiError(path, status, code)

    def _auth(self) -> dict[str, str]:
        if self.login is None:
            raise FurboTokenInvalid("not logged in to Furbo")
        return {"AccountId": self.login.account_id, "CognitoToken": self.login.token}

    # --- login -----------------------------------------------------------------------------

    def encrypt(self, password: str) -> str:
        return encrypt_password(self.cloud.public_key, password)

    async def async_login(self, email: str, enc_password: str, mobile_id: str) -> Login:
        """Log in; raises FurboCodeRequired when the account wants its e-mailed code first."""
        path = "/v5/account/read/login"
        payload = {"Email": email, "EncPassword": enc_password, "MobileId": mobile_id}
        try:
            data = await self._post(self.cloud.product, path, payload)
        except FurboApiError as err:
            raise self._login_refusal(err) from err
        except FurboTokenInvalid as err:
            # The login endpoint answers 12002 for a wrong e-mail or password.
            raise FurboPasswordRejected() from err
        return self._logged_in(data, path)

    async def async_send_code(self, challenge: CodeChallenge) -> CodeChallenge:
        """Make Furbo e-mail the code; the answer may carry a fresh candidate."""
        path = "/v4/account/mfa/login/send-code"
        data = await self._post(
            self.cloud.product, path, {"MfaAuthCodeCandidate": challenge.candidate, "Model": "Android"}
        )
        candidate = data.get("MfaAuthCodeCandidate")
        if isinstance(candidate, str) and candidate:
            return CodeChallenge(account_id=challenge.account_id, candidate=candidate)
        return challenge

    async def async_login_with_code(
        self, email: str, enc_password: str, mobile_id: str, challenge: CodeChallenge, code: str
    ) -> Login:
        verify_path = "/v4/account/mfa/verify"
        try:
            verified = await self._post(
                self.cloud.product, verify_path, {"MfaAuthCodeCandidate": challenge.candidate, "Code": code}
            )
        except FurboApiError as err:
            raise self._code_refusal(err) from err
        auth_code = _required(verified, "MfaAuthCode", verify_path, 200)
        path = "/v2/account/login"
        payload = {
            "Email": email,
            "EncPassword": enc_password,
            "MobileId": mobile_id,
            "MfaAuthCode": auth_code,
        }
        try:
            data = await self._post(self.cloud.product, path, payload)
        except FurboApiError as err:
            raise self._login_refusal(err) from err
        except FurboTokenInvalid as err:
            raise FurboPasswordRejected() from err
        return self._logged_in(data, path)

    def _login_refusal(self, err: FurboApiError) -> Exception:
        if err.code in (CODE_CODE_WRONG, CODE_CODE_EXPIRED):
            return self._code_refusal(err)
        return FurboPasswordRejected()

    @staticmethod
    def _code_refusal(err: FurboApiError) -> Exception:
        if err.code == CODE_CODE_EXPIRED:
            return FurboCodeExpired()
        if err.code == CODE_CODE_WRONG:
            return FurboCodeWrong()
        return err

    def _logged_in(self, data: Mapping[str, Any], path: str) -> Login:
        login = Login(
            account_id=_required(data, "AccountId", path, 200),
            token=_required(data, "CognitoToken", path, 200),
        )
        _LOGGER.debug("Logged in to Furbo (%s); the answer carried: %s", path, ", ".join(sorted(data)))
        self.login = login
        return login

    # --- account ---------------------------------------------------------------------------

    async def async_devices(self) -> DeviceList:
        auth = self._auth()
        path = f"/v2/account/{auth['AccountId']}/device"
        data = await self._post(self.cloud.product, path, {"CognitoToken": auth["CognitoToken"]})
        raw = data.get("DeviceList")
        if not isinstance(raw, list):
            raise FurboUnreachable(f"Furbo's answer on {path} lacks DeviceList")
        devices = tuple(
            Device(
                id=str(item["Id"]),
                name=str(item.get("DeviceName") or "Furbo"),
                product_id=str(item.get("ProductId") or ""),
                firmware=str(item.get("FirmwareVersion") or ""),
            )
            for item in raw
            if isinstance(item, Mapping) and item.get("Id")
        )
        license_on = data.get("AccountLicenseOn")
        return DeviceList(devices=devices, license_on=license_on if isinstance(license_on, bool) else None)

    async def async_licensed_devices(self) -> set[str] | None:
        """Devices with an active subscription (events need it); None when the answer cannot be
        read, so an unreadable answer is "unknown", never a false "no subscription"."""
        path = "/v3/service/license"
        data = await self._post(self.cloud.product, path, self._auth())
        return parse_licenses(data)

    async def async_alert_settings(self, device_id: str) -> dict[str, str]:
        path = "/v5/device/alert-setting"
        data = await self._post(self.cloud.product, path, {**self._auth(), "DeviceId": device_id})
        return {str(key): str(value) for key, value in data.items() if isinstance(value, (str, int))}

    async def async_set_alert(self, device_id: str, name: str, on: bool) -> None:
        path = "/v5/device/alert-setting/update"
        payload = {**self._auth(), "DeviceId": device_id, "Name": name, "Value": "1" if on else "0"}
        await self._post(self.cloud.product, path, payload)

    # --- events, calendar, diary -------------------------------------------------------------

    async def async_events(
        self, device_ids: Sequence[str], *, start: int | None = None, end: int | None = None
    ) -> EventPage:
        """Every camera's events in one call (epoch seconds; the cloud's window is ours to choose)."""
        payload: dict[str, Any] = {
            **self._auth(),
            "DeviceIds": list(device_ids),
            "EventNames": list(LISTABLE_EVENT_NAMES),
            "Limit": EVENTS_LIMIT,
        }
        if start is not None:
            payload["StartAfter"] = start
        if end is not None:
            payload["EndBefore"] = end
        data = await self._post(self.cloud.event_handler, "/furbo_event/v2/list", payload)
        return parse_event_page(data)

    async def async_activity_today(self, day: str) -> int | None:
        """The account's activity count for `day` (YYYY-MM-DD); the calendar host wants hourly at most."""
        path = "/v2/calendar/activity-report/get"
        data = await self._post(self.cloud.pet_gpt, path, {**self._auth(), "Dates": [day]})
        return activity_totals(data, day)

    async def async_diaries(self) -> list[Diary]:
        path = "/doggie_diary/report"
        data = await self._post(self.cloud.event_handler, path, {**self._auth(), "Language": "en"}, form=True)
        return parse_diaries(data)

    # --- signed links ----------------------------------------------------------------------

    async def async_open_link(self, url: str) -> aiohttp.ClientResponse | None:
        """GET a signed link; None when it expired (403/404: fetch a fresh one). The caller closes it."""
        self.requests.count()
        try:
            response = await self._session.get(url, timeout=TIMEOUT, ssl=self._ssl)
        except (aiohttp.ClientError, TimeoutError) as err:
            raise FurboUnreachable(f"a Furbo media link did not answer: {type(err).__name__}") from err
        if response.status in (401, 403, 404, 410):
            response.release()
            return None
        if response.status != 200:
            response.release()
            raise FurboUnreachable(f"a Furbo media link answered {response.status}")
        return response


async def read_all(response: aiohttp.ClientResponse) -> bytes:
    """A media link's body (an event's picture), at most MAX_PICTURE_BYTES."""
    try:
        return await read_capped(response, MAX_PICTURE_BYTES, "a Furbo media link's answer")
    finally:
        response.release()


async def read_capped(response: aiohttp.ClientResponse, limit: int, what: str) -> bytes:
    """The body, refused past `limit` bytes: aiohttp's read() keeps whatever the server sends, so a
    broken or hostile answer could fill HA's memory."""
    if response.content_length is not None and response.content_length > limit:
        raise FurboUnreachable(f"{what} is larger than {limit // (1024 * 1024)} MB")
    body = bytearray()
    async for chunk in response.content.iter_chunked(64 * 1024):
        body += chunk
        if len(body) > limit:
            raise FurboUnreachable(f"{what} is larger than {limit // (1024 * 1024)} MB")
    return bytes(body)


async def chunks(response: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    try:
        async for chunk in response.content.iter_chunked(MEDIA_CHUNK):
            yield chunk
    except (aiohttp.ClientError, TimeoutError) as err:
        # Our error, so the media view cuts its viewer's download itself instead of aiohttp logging
        # a traceback for the request.
        raise FurboUnreachable(f"a Furbo media download broke off: {type(err).__name__}") from err
    finally:
        response.release()
