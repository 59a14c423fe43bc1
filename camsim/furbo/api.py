"""The Furbo cloud's HTTP surface: product, pet-gpt and event-handler paths on one aiohttp app.

The three real hosts' paths do not collide, so one HTTPS port serves them all (the client takes three
base URLs). Every API call is a POST carrying the app's static `Authorization` header; bodies are JSON
except the calendar's notable-events / daily-summary and the diary, which are form-encoded (a JSON
body there has none of the fields, so it is refused like a request missing them). Signed media links
are plain GETs, as CloudFront's are.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ..malformed import malformed_reply
from . import catalog, media
from .account import MAX_EVENT_LIMIT, Account, Accounts, CloudError, Event, invalid_request

# The app's client id "tomofunrd:happyPet123" (not a user secret: it ships in every copy of the app).
APP_AUTHORIZATION = "Basic dG9tb2Z1bnJkOmhhcHB5UGV0MTIz"

Body = dict[str, Any]
Handler = Callable[[web.Request, Body], Awaitable[Body]]

ACCOUNTS_KEY: web.AppKey[Accounts] = web.AppKey("accounts", Accounts)
# The account a request is for, found once by the outermost middleware (`_account`).
ACCOUNT: web.RequestKey[Account] = web.RequestKey("account", Account)
SIGNER_KEY: web.AppKey[media.LinkSigner] = web.AppKey("signer", media.LinkSigner)
PRIVATE_KEY: web.AppKey[rsa.RSAPrivateKey] = web.AppKey("private_key", rsa.RSAPrivateKey)
CLIP_KEY: web.AppKey[Path] = web.AppKey("clip", Path)


def build_app(
    accounts: Accounts, signer: media.LinkSigner, private_key: rsa.RSAPrivateKey, clip: Path
) -> web.Application:
    app = web.Application(middlewares=[_account, _record, _refusals])
    app[ACCOUNTS_KEY] = accounts
    app[SIGNER_KEY] = signer
    app[PRIVATE_KEY] = private_key
    app[CLIP_KEY] = clip
    routes: list[tuple[str, Handler, bool]] = [
        # path, handler, form-encoded
        ("/v5/account/read/login", _read_login, False),
        ("/v4/account/mfa/login/send-code", _send_code, False),
        ("/v4/account/mfa/verify", _verify, False),
        ("/v2/account/login", _login, False),
        ("/v2/account/info", _account_info, False),
        ("/v2/account/{account_id}/device", _devices, False),
        ("/v3/service/license", _license, False),
        ("/v5/device/alert-setting", _alert_settings, False),
        ("/v5/device/alert-setting/update", _update_alert, False),
        ("/v1/calendar/notable-events/get", _notable_events, True),
        ("/v1/calendar/daily-summary/get", _daily_summary, True),
        ("/v2/calendar/activity-report/get", _activity_report, False),
        ("/furbo_event/v2/list", _event_list, False),
        ("/doggie_diary/report", _diary, True),
        ("/v3/account/control_device", _control_device, False),
        ("/v5/device/p2p_connection/get", _p2p_connection, False),
        ("/v3/pet/profile/get", _pet_profiles, False),
    ]
    for path, handler, form in routes:
        app.router.add_post(path, _endpoint(handler, form))
    app.router.add_get("/media/{account_id}/{kind}/{name}", _media)
    return app


# --- plumbing ---------------------------------------------------------------------------------------


@web.middleware
async def _account(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Find the request's account: the AccountId in its path (devices, media links) or body, else its
    Email, else its code candidate; a request naming none goes to the first account."""
    accounts = request.app[ACCOUNTS_KEY]
    if "account_id" in request.match_info:
        request[ACCOUNT] = accounts.by_id(request.match_info["account_id"])
    elif request.method == "POST":
        request[ACCOUNT] = accounts.for_body(await _peek_body(request))
    else:
        request[ACCOUNT] = accounts.first
    return await handler(request)


async def _peek_body(request: web.Request) -> Body:
    """The body as either kind of endpoint reads it (aiohttp keeps it for the handler); {} if unreadable."""
    try:
        if request.content_type == "application/json":
            return await _json_body(request)
        return await _form_body(request)
    except CloudError:
        return {}


@web.middleware
async def _record(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Count and log every request by path only: queries carry link signatures, bodies carry secrets."""
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as err:
        status = err.status
        raise
    finally:
        request[ACCOUNT].record(request.method, request.path, status)


@web.middleware
async def _refusals(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    account = request[ACCOUNT]
    if (stall := account.stall_for(request.path)) > 0:
        await asyncio.sleep(stall)
    try:
        forced = account.forced_error(request.path)
        if forced is not None:
            raise forced
        if request.method == "POST" and request.headers.get("Authorization") != APP_AUTHORIZATION:
            raise CloudError(None, "Unauthorized", status=401)
        response = await handler(request)
    except CloudError as err:
        response = web.json_response(err.body(), status=err.status)
    if (kind := account.malformed_reply(request.path)) is not None:
        return await malformed_reply(request, response, kind)
    return response


def _endpoint(handler: Handler, form: bool) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def endpoint(request: web.Request) -> web.Response:
        body = await (_form_body(request) if form else _json_body(request))
        return web.json_response(await handler(request, body))

    return endpoint


async def _json_body(request: web.Request) -> Body:
    if request.content_type != "application/json":
        return {}
    try:
        body = await request.json()
    except ValueError as err:
        raise invalid_request() from err
    return body if isinstance(body, dict) else {}


async def _form_body(request: web.Request) -> Body:
    if request.content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return {}
    return {key: value for key, value in (await request.post()).items() if isinstance(value, str)}


def _authorized(request: web.Request, body: Body) -> Account:
    account = request[ACCOUNT]
    account.authorize(body.get("AccountId"), body.get("CognitoToken"))
    return account


def _password(request: web.Request, body: Body) -> str | None:
    """The password the client encrypted with the public key, or None when it does not decrypt."""
    encrypted = body.get("EncPassword")
    if not isinstance(encrypted, str):
        return None
    try:
        # The app's base64 ends with a newline; b64decode ignores it.
        plain = request.app[PRIVATE_KEY].decrypt(base64.b64decode(encrypted), padding.PKCS1v15())
        return plain.decode()
    except ValueError, binascii.Error, UnicodeDecodeError:
        return None


def _date(value: Any) -> str:
    if not isinstance(value, str):
        raise invalid_request()
    try:
        return datetime.date.fromisoformat(value).isoformat()
    except ValueError as err:
        raise invalid_request() from err


def _link(signer: media.LinkSigner, account: Account, kind: str, name: str) -> str:
    """A signed link to one of the account's files (the path names the account, so does the signature)."""
    return signer.sign(f"/media/{account.account_id}/{kind}/{name}")


def _thumbnail(signer: media.LinkSigner, account: Account, event: Event) -> str:
    return _link(signer, account, "thumb", f"{event.id}.jpg")


# --- login ------------------------------------------------------------------------------------------


async def _read_login(request: web.Request, body: Body) -> Body:
    account = request[ACCOUNT]
    account.check_password(body.get("Email"), _password(request, body))
    if body.get("MfaAuthCode") is not None:  # the app's capture also sends it here
        return account.finish_login(body.get("MobileId"), body.get("MfaAuthCode"))
    return account.start_login(body.get("MobileId"))


async def _send_code(request: web.Request, body: Body) -> Body:
    return request[ACCOUNT].send_code(body.get("MfaAuthCodeCandidate"))


async def _verify(request: web.Request, body: Body) -> Body:
    return request[ACCOUNT].verify_code(body.get("MfaAuthCodeCandidate"), body.get("Code"))


async def _login(request: web.Request, body: Body) -> Body:
    account = request[ACCOUNT]
    account.check_password(body.get("Email"), _password(request, body))
    return account.finish_login(body.get("MobileId"), body.get("MfaAuthCode"))


# --- account and devices ----------------------------------------------------------------------------


async def _account_info(request: web.Request, body: Body) -> Body:
    account = _authorized(request, body)
    return {
        "AccountId": account.account_id,
        "Email": account.config.email,
        "Locale": "en_gb",
        "ServiceRegion": "UK",
        "Timezone": account.config.timezone,
        "TwoStepAuthEnabled": account.config.mfa,
        "Type": "FURBO_V2",
    }


async def _devices(request: web.Request, body: Body) -> Body:
    account = request[ACCOUNT]
    account.authorize(request.match_info["account_id"], body.get("CognitoToken"))
    return {
        "AccountLicenseOn": account.config.subscription,
        "DeviceList": [camera.listing() for camera in account.cameras.values()],
    }


async def _license(request: web.Request, body: Body) -> Body:
    account = _authorized(request, body)
    renewal = datetime.datetime.now(account.zone).replace(microsecond=0) + datetime.timedelta(days=24)
    plan = {
        "ServiceName": "NST Standard",
        "ServicePlanName": "NST Standard Monthly Plan",
        "SubscriptionStatus": "Active",
        "TimeLeftDays": 24,
        "IsAutoRenew": True,
        "LicenseType": "SUBSCRIPTION",
        "NextBillingAttempt": renewal.replace(tzinfo=None).isoformat(),
    }
    licenses = [plan] if account.config.subscription else []
    return {
        "AccountLicense": [],
        "DevicesLicense": {camera_id: list(licenses) for camera_id in account.cameras},
    }


async def _alert_settings(request: web.Request, body: Body) -> Body:
    camera = _authorized(request, body).camera(body.get("DeviceId"))
    return dict(camera.alerts)


async def _update_alert(request: web.Request, body: Body) -> Body:
    camera = _authorized(request, body).camera(body.get("DeviceId"))
    name, value = body.get("Name"), body.get("Value")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if name not in camera.alerts or not isinstance(value, str) or not catalog.valid_alert_value(name, value):
        raise invalid_request()
    camera.alerts[name] = value
    return {name: value}


async def _control_device(request: web.Request, body: Body) -> Body:
    # Like the real cloud: success for any action string, and nothing happens.
    _authorized(request, body).camera(body.get("DeviceId"))
    return {"Success": True}


async def _p2p_connection(request: web.Request, body: Body) -> Body:
    camera = _authorized(request, body).camera(body.get("DeviceId"))
    # Reissued on every call, as the real key is; nothing can connect with these.
    return {
        "AuthKey": secrets.token_hex(4),
        "P2PAccountId": camera.id,
        "P2PAccountKey": secrets.token_hex(16),
    }


async def _pet_profiles(request: web.Request, body: Body) -> Body:
    account = _authorized(request, body)
    species = {camera.product.species for camera in account.cameras.values()}
    pets = {
        "dog": {"Name": "Biscuit", "Species": "Dog", "Breed": "Beagle"},
        "cat": {"Name": "Miso", "Species": "Cat", "Breed": "Tabby"},
    }
    return {"PetProfiles": [pets[kind] for kind in sorted(species)]}


# --- pet-gpt calendar -------------------------------------------------------------------------------


async def _notable_events(request: web.Request, body: Body) -> Body:
    account = _authorized(request, body)
    date = _date(body.get("Date"))
    account.check_calendar(request.path)
    signer = request.app[SIGNER_KEY]
    return {
        "Events": [
            {
                "Id": event.id,
                "DeviceId": event.device_id,
                "Caption": event.caption,
                "ActionCaption": event.action_caption,
                "LocationCaption": event.location_caption,
                "LocalTime": account.local_time(event.at),
                "Duration": event.duration_ms,
                "Labels": [],
                "Thumbnail": _thumbnail(signer, account, event),
            }
            for event in account.events_on(date)
        ]
    }


async def _daily_summary(request: web.Request, body: Body) -> Body:
    account = _authorized(request, body)
    date = _date(body.get("Date"))
    account.check_calendar(request.path)
    events = account.events_on(date)
    if not events:
        return {"Summary": ""}
    counts = Counter(event.name for event in events)
    parts = ", ".join(f"{name} {count}x" for name, count in counts.most_common())
    return {"Summary": f"A day with {len(events)} notable moments: {parts}."}


async def _activity_report(request: web.Request, body: Body) -> Body:
    account = _authorized(request, body)
    dates = body.get("Dates")
    if not isinstance(dates, list) or not dates:
        raise invalid_request()
    days = [_date(value) for value in dates]
    account.check_calendar(request.path)
    report: Body = {}
    for day in days:
        hourly: dict[str, list[int]] = {}
        for event in account.events_on(day):
            hour = int(account.local_time(event.at)[11:13])
            hourly.setdefault(event.name, [0] * 24)[hour] += 1
        report[day] = {
            "Data": hourly,
            "DataTimeList": [f"{day} {hour:02d}:00:00" for hour in range(24)],
            "Error": None,
        }
    return report


# --- event-handler ----------------------------------------------------------------------------------


async def _event_list(request: web.Request, body: Body) -> Body:
    account = _authorized(request, body)
    device_ids = body.get("DeviceIds")
    if (
        not isinstance(device_ids, list)
        or not device_ids
        or any(d not in account.cameras for d in device_ids)
    ):
        raise invalid_request()
    names = body.get("EventNames") or []
    if not isinstance(names, list) or any(name not in catalog.EVENT_NAMES for name in names):
        raise invalid_request()
    limit = body.get("Limit", 200)
    if not isinstance(limit, int) or not 0 < limit <= MAX_EVENT_LIMIT:
        raise invalid_request()
    events = account.list_events(
        device_ids, names, _epoch(body, "StartAfter"), _epoch(body, "EndBefore"), limit
    )
    signer = request.app[SIGNER_KEY]
    answer: Body = {"EventTypes": dict(Counter(event.name for event in events))}
    if account.events_key is not None:
        answer[account.events_key] = [
            {
                "Id": event.id,
                "DeviceId": event.device_id,
                "Caption": event.caption,
                "Types": list(event.types or (event.name,)),
                "LocalTime": account.local_time(event.at),
                "CreatedTime": int(event.at),
                "Duration": event.duration_ms,
                "Thumbnail": _thumbnail(signer, account, event),
                "Videos": [_link(signer, account, "clip", f"{event.id}.mp4")],
                "VideoCodec": "h264",
            }
            for event in events
        ]
    return answer


def _epoch(body: Body, key: str) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise invalid_request()
    return float(value)


async def _diary(request: web.Request, body: Body) -> Body:
    """The rolling week of daily timelapses, yesterday first (fields as in ha-furbo's live sample)."""
    account = _authorized(request, body)
    signer = request.app[SIGNER_KEY]
    today = datetime.datetime.now(account.zone).date()
    days = [today - datetime.timedelta(days=days_ago) for days_ago in range(1, 8)]
    diaries = [
        {
            "DiaryDate": day.isoformat(),
            "Weekday": day.isoweekday(),
            "IsValid": True,
            "TimeLapseUrl": _link(signer, account, "diary", f"{day.isoformat()}.mp4"),
        }
        for day in days
    ]
    return {"ResultCode": 0, "Diaries": diaries if account.config.subscription else []}


# --- signed media -----------------------------------------------------------------------------------


async def _media(request: web.Request) -> web.StreamResponse:
    signer = request.app[SIGNER_KEY]
    query = request.query
    allowed = signer.allows(
        request.path, query.get("Expires", ""), query.get("Signature", ""), query.get("Key-Pair-Id", "")
    )
    if not allowed:
        # CloudFront's refusal of an expired or tampered link: 403 with an XML body.
        return web.Response(status=403, text=_ACCESS_DENIED, content_type="text/xml")
    kind, name = request.match_info["kind"], request.match_info["name"]
    if kind == "thumb" and name.endswith(".jpg"):
        event = _event_named(request[ACCOUNT], name.removesuffix(".jpg"))
        return web.Response(body=media.thumbnail_jpeg(int(event.at * 1000)), content_type="image/jpeg")
    if kind == "clip" and name.endswith(".mp4"):
        _event_named(request[ACCOUNT], name.removesuffix(".mp4"))
        return await _clip(request)
    if kind == "diary" and name.endswith(".mp4"):
        return await _clip(request)
    raise web.HTTPNotFound


async def _clip(request: web.Request) -> web.StreamResponse:
    if not request[ACCOUNT].cut_short(request.path):
        return web.FileResponse(request.app[CLIP_KEY], headers={"Content-Type": "video/mp4"})
    # The `cut_media` fault: the whole length announced, half of it sent, then the connection closed.
    data = request.app[CLIP_KEY].read_bytes()
    response = web.StreamResponse(headers={"Content-Type": "video/mp4"})
    response.content_length = len(data)
    response.force_close()
    await response.prepare(request)
    await response.write(data[: len(data) // 2])
    await response.write_eof()
    return response


def _event_named(account: Account, stem: str) -> Event:
    event = account.event(int(stem)) if stem.isdigit() else None
    if event is None:
        raise web.HTTPNotFound
    return event


_ACCESS_DENIED = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    "<Error><Code>AccessDenied</Code><Message>Access denied</Message></Error>"
)
