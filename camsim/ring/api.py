"""The HTTPS side of the simulated Ring cloud: one aiohttp app, routed on the `Host` header.

oauth.ring.com (password grant with Ring's 2FA dance, refresh grant), api.ring.com (session, devices,
dings, groups, health, history, recordings, snapshots, light, siren, settings, push subscription),
prd-api-us.prd.rings.solutions (the signalling ticket), api.prod.signalling.ring.devices.a2z.com (the
signalling WebSocket, signalling.py) and Google's FCM hosts (handed to the push service). Shapes follow
ring_doorbell 0.9.14's readers and dgreif/ring's notes (../shared/notes/ring.md, sections 1, 2, 5).

Recordings are served at `https://127.0.0.1:<port>/media/<ding id>.mp4` on any Host: that is the URL
`share/play` hands out, because ffmpeg (which HA uses for camera images) resolves names itself and
never sees a test's resolver; ffmpeg does not verify certificates by default, so the IP URL just works.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from ..malformed import malformed_reply
from . import catalog, media
from .account import Account, Accounts

_LOGGER = logging.getLogger(__name__)

OAUTH_HOST = "oauth.ring.com"
API_HOST = "api.ring.com"
APP_HOST = "app.ring.com"
APP_API_HOST = "prd-api-us.prd.rings.solutions"
SIGNALLING_HOST = "api.prod.signalling.ring.devices.a2z.com"
RING_HOSTS = (OAUTH_HOST, API_HOST, APP_HOST, APP_API_HOST, SIGNALLING_HOST)
CLIENT_ID = "ring_official_android"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# The account a request is for, found once by the outermost middleware (see `RingCloud.account_of`).
ACCOUNT: web.RequestKey[Account] = web.RequestKey("account", Account)

_HTML_ERROR = "<html><head><title>{status}</title></head><body><h1>{status} {reason}</h1></body></html>"


def _host(request: web.Request) -> str:
    return (request.headers.get("Host") or "").partition(":")[0].lower()


def _error(status: int, error: str, description: str | None = None) -> web.Response:
    body = {"error": error} if description is None else {"error": error, "error_description": description}
    return web.json_response(body, status=status)


class RingCloud:
    """The request handlers; `media_base` is filled in once the HTTPS port is bound."""

    def __init__(
        self,
        accounts: Accounts,
        recordings: media.Recordings,
        signalling: Handler,
        google: Handler,
        google_hosts: frozenset[str],
    ) -> None:
        self.accounts = accounts
        self.recordings = recordings
        self.signalling = signalling
        self.google = google
        self.google_hosts = google_hosts
        self.media_base = ""
        self._siren_until: dict[int, float] = {}

    def build_app(self) -> web.Application:
        app = web.Application(
            middlewares=[self._account_middleware, self._log_middleware, self._fault_middleware]
        )
        app.router.add_get("/media/{ding_id:\\d+}.mp4", self.media_file)
        app.add_domain(OAUTH_HOST, self._oauth_app())
        app.add_domain(API_HOST, self._api_app())
        app.add_domain(APP_HOST, self._api_app())
        app.add_domain(APP_API_HOST, self._app_api_app())
        app.add_domain(SIGNALLING_HOST, self._signalling_app())
        for host in sorted(self.google_hosts):
            google = web.Application()
            google.router.add_route("*", "/{tail:.*}", self.google)
            app.add_domain(host, google)
        return app

    # --- middlewares -------------------------------------------------------------------------

    @web.middleware
    async def _account_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        request[ACCOUNT] = await self.account_of(request)
        return await handler(request)

    async def account_of(self, request: web.Request) -> Account:
        """The account a request is for: by its bearer token, the OAuth form's e-mail or refresh
        token, the signalling ticket or the recording's ding id; anything else is the first's."""
        accounts = self.accounts
        host = _host(request)
        authorization = request.headers.get("Authorization", "")
        if authorization.startswith("Bearer "):
            return accounts.by_access_token(authorization.removeprefix("Bearer ").strip())
        if host == OAUTH_HOST and request.method == "POST":
            form = await request.post()  # aiohttp keeps it: the handler reads the same form
            if form.get("grant_type") == "refresh_token":
                return accounts.by_refresh_token(str(form.get("refresh_token", "")))
            return accounts.by_email(str(form.get("username", "")))
        if host == SIGNALLING_HOST:
            return accounts.by_ticket(request.query.get("token", "")) or accounts.first
        if (ding_id := request.match_info.get("ding_id", "")).isdigit():
            return accounts.by_ding(int(ding_id)) or accounts.first
        return accounts.first

    @web.middleware
    async def _log_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as err:
            status = err.status
            raise
        finally:
            # The path only: queries carry tickets and tokens.
            request[ACCOUNT].log_request(request.method, _host(request), request.path, status)

    @web.middleware
    async def _fault_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if _host(request) not in RING_HOSTS:
            return await handler(request)
        stall, fail = request[ACCOUNT].take_fault(request.path)
        if stall is not None:
            await asyncio.sleep(stall.seconds)
        if fail is not None:
            phrase = _REASONS.get(fail.status, "Error")
            if fail.html:
                return web.Response(
                    status=fail.status,
                    text=_HTML_ERROR.format(status=fail.status, reason=phrase),
                    content_type="text/html",
                )
            return _error(fail.status, phrase)
        reply = await handler(request)
        if (kind := request[ACCOUNT].take_malformed(request.path)) is None:
            return reply
        return await malformed_reply(request, reply, kind)

    # --- oauth.ring.com ----------------------------------------------------------------------

    def _oauth_app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/oauth/token", self.token)
        return app

    async def token(self, request: web.Request) -> web.Response:
        if not _client_authenticated(request.headers.get("Authorization", "")):
            return _error(401, "invalid_client", "Client authentication failed")
        form = await request.post()
        grant = form.get("grant_type")
        account = request[ACCOUNT]
        if grant == "password":
            username, password = str(form.get("username", "")), str(form.get("password", ""))
            return self._password_grant(request, account, username, password)
        if grant == "refresh_token":
            return self._refresh_grant(account, str(form.get("refresh_token", "")))
        return _error(400, "unsupported_grant_type", "The authorization grant type is not supported")

    @staticmethod
    def _password_grant(request: web.Request, account: Account, username: str, password: str) -> web.Response:
        account.counters["password_grants"] += 1
        if username.lower() != account.config.email.lower() or password != account.config.password:
            return _error(401, "access_denied", "invalid user credentials")
        if account.two_factor != "none":
            code = request.headers.get("2fa-code")
            if code:
                if not account.code_valid(code):
                    return _error(400, "Verification Code is invalid or expired")
            elif not account.send_code():
                return _error(429, "access_denied", "too many requests from dependency service")
            else:
                return web.json_response(_code_prompt(account), status=412)
        if hardware_id := request.headers.get("hardware_id"):
            account.hardware_ids.add(hardware_id)
        return web.json_response(account.issue_tokens())

    @staticmethod
    def _refresh_grant(account: Account, refresh_token: str) -> web.Response:
        account.counters["refresh_grants"] += 1
        if refresh_token not in account.refresh_tokens:
            return _error(401, "invalid_grant", "token is invalid or does not exists")
        return web.json_response(account.issue_tokens())

    # --- api.ring.com ------------------------------------------------------------------------

    def _api_app(self) -> web.Application:
        app = web.Application(middlewares=[self._bearer_middleware])
        route = app.router
        route.add_post("/clients_api/session", self.session)
        route.add_get("/clients_api/ring_devices", self.ring_devices)
        route.add_get("/clients_api/dings/active", self.dings_active)
        route.add_get("/groups/v1/locations/{location}/groups", self.groups)
        route.add_get("/clients_api/doorbots/{id:\\d+}/health", self.health)
        route.add_get("/clients_api/chimes/{id:\\d+}/health", self.health)
        route.add_get("/clients_api/doorbots/{id:\\d+}/history", self.history)
        route.add_get("/clients_api/dings/{ding_id:\\d+}/share/play", self.share_play)
        route.add_get("/clients_api/dings/{ding_id:\\d+}/recording", self.media_file)
        route.add_post("/clients_api/snapshots/timestamps", self.snapshot_timestamps)
        route.add_get("/clients_api/snapshots/image/{id:\\d+}", self.snapshot_image)
        route.add_put("/clients_api/doorbots/{id:\\d+}/floodlight_light_{state:on|off}", self.light)
        route.add_put("/clients_api/doorbots/{id:\\d+}/siren_{state:on|off}", self.siren)
        route.add_put("/clients_api/doorbots/{id:\\d+}", self.doorbot_settings)
        route.add_get("/devices/v1/devices/{id:\\d+}/settings", self.device_settings)
        route.add_patch("/devices/v1/devices/{id:\\d+}/settings", self.patch_device_settings)
        route.add_patch("/clients_api/device", self.push_subscription)
        route.add_post("/clients_api/chimes/{id:\\d+}/play_sound", self.play_sound)
        return app

    @web.middleware
    async def _bearer_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        authorization = request.headers.get("Authorization", "")
        token = authorization.removeprefix("Bearer ").strip()
        if not authorization.startswith("Bearer ") or not request[ACCOUNT].access_valid(token):
            return _error(401, "Unauthorized")
        return await handler(request)

    def _device(self, request: web.Request) -> dict[str, Any]:
        device = request[ACCOUNT].devices.get(int(request.match_info["id"]))
        if device is None:
            raise web.HTTPNotFound(
                text=json.dumps({"error": "device not found"}), content_type="application/json"
            )
        return device

    async def session(self, request: web.Request) -> web.Response:
        body = await request.json()
        hardware_id = body.get("device", {}).get("hardware_id")
        if not hardware_id:
            return _error(400, "hardware_id missing")
        account = request[ACCOUNT]
        account.hardware_ids.add(hardware_id)
        email = account.config.email
        return web.json_response(
            {
                "profile": {
                    "id": account.profile_id,
                    "email": email,
                    "first_name": "Camsim",
                    "last_name": "Demo",
                    "hardware_id": hardware_id,
                    "features": {"remote_logging_format_storing": False},
                }
            },
            status=201,
        )

    async def ring_devices(self, request: web.Request) -> web.Response:
        self._decay_sirens()
        return web.json_response(request[ACCOUNT].ring_devices())

    async def dings_active(self, request: web.Request) -> web.Response:
        return web.json_response(request[ACCOUNT].active_dings())

    async def groups(self, _: web.Request) -> web.Response:
        return web.json_response({"device_groups": []})

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response(catalog.health(self._device(request)))

    async def history(self, request: web.Request) -> web.Response:
        device = self._device(request)
        try:
            limit = int(request.query.get("limit", "30"))
            older = request.query.get("older_than")
            older_than = int(older) if older else None
        except ValueError:
            return _error(400, "invalid parameters")
        return web.json_response(request[ACCOUNT].history(device["id"], limit, older_than))

    async def share_play(self, request: web.Request) -> web.Response:
        ding_id = int(request.match_info["ding_id"])
        if request[ACCOUNT].event(ding_id) is None:
            return _error(404, "recording not found")
        return web.json_response({"url": f"{self.media_base}/media/{ding_id}.mp4"})

    async def media_file(self, request: web.Request) -> web.StreamResponse:
        event = request[ACCOUNT].event(int(request.match_info["ding_id"]))
        if event is None:
            return _error(404, "recording not found")
        path = await self.recordings.clip(event.id, event.created)
        return web.FileResponse(path, headers={"Content-Type": "video/mp4"})

    async def snapshot_timestamps(self, request: web.Request) -> web.Response:
        body = await request.json()
        account = request[ACCOUNT]
        stamps = []
        for device_id in body.get("doorbot_ids", []):
            if account.camera(int(device_id)) is not None:
                taken = account.snapshot_timestamp(int(device_id))
                stamps.append({"doorbot_id": int(device_id), "timestamp": int(taken * 1000)})
        return web.json_response({"timestamps": stamps})

    async def snapshot_image(self, request: web.Request) -> web.Response:
        device = self._device(request)
        snapshot = request[ACCOUNT].snapshots.get(device["id"])
        if snapshot is None:
            return _error(404, "no snapshot")
        return web.Response(body=await media.snapshot_jpeg(snapshot.taken), content_type="image/jpeg")

    async def light(self, request: web.Request) -> web.Response:
        device = self._device(request)
        if device["kind"] not in catalog.LIGHT_KINDS:
            return _error(400, "device has no light")
        device["led_status"] = request.match_info["state"]
        return web.json_response({})

    async def siren(self, request: web.Request) -> web.Response:
        device = self._device(request)
        if "siren_status" not in device:
            return _error(400, "device has no siren")
        if request.match_info["state"] == "on":
            duration = int(request.query.get("duration", "30"))
            self._siren_until[device["id"]] = time.time() + duration
            device["siren_status"] = {"seconds_remaining": duration}
        else:
            self._siren_until.pop(device["id"], None)
            device["siren_status"] = {"seconds_remaining": 0}
        return web.json_response({})

    def _decay_sirens(self) -> None:
        now = time.time()
        for device_id, until in list(self._siren_until.items()):
            device = self.accounts.device(device_id)
            if device is None:
                del self._siren_until[device_id]
                continue
            device["siren_status"] = {"seconds_remaining": max(0, round(until - now))}

    async def doorbot_settings(self, request: web.Request) -> web.Response:
        """`PUT /clients_api/doorbots/{id}?doorbot[settings][name]=value`: the library's volume setters."""
        device = self._device(request)
        for key, value in request.query.items():
            if key.startswith("doorbot[settings][") and key.endswith("]"):
                name = key.removeprefix("doorbot[settings][")[:-1]
                device["settings"][name] = int(value) if value.isdigit() else value
        return web.json_response({})

    async def device_settings(self, request: web.Request) -> web.Response:
        device = self._device(request)
        settings = device.get("settings", {})
        return web.json_response(
            {
                "video_settings": {"clip_length_max": 60, "clip_length_min": 15},
                "motion_settings": {
                    "motion_detection_enabled": settings.get("motion_detection_enabled", False)
                },
                "volume_settings": {"doorbell_volume": settings.get("doorbell_volume", 5)},
            }
        )

    async def patch_device_settings(self, request: web.Request) -> web.Response:
        device = self._device(request)
        body = await request.json()
        motion = body.get("motion_settings", {})
        if "motion_detection_enabled" in motion:
            device["settings"]["motion_detection_enabled"] = bool(motion["motion_detection_enabled"])
        volume = body.get("volume_settings", {})
        if "doorbell_volume" in volume:
            device["settings"]["doorbell_volume"] = int(volume["doorbell_volume"])
        return web.json_response({})

    async def push_subscription(self, request: web.Request) -> web.Response:
        body = await request.json()
        token = body.get("device", {}).get("push_notification_token")
        if not token:
            return _error(400, "push_notification_token missing")
        account = request[ACCOUNT]
        account.push_token = token
        account.push_tokens.add(token)
        return web.Response(status=204)

    async def play_sound(self, request: web.Request) -> web.Response:
        self._device(request)
        return web.Response(status=204)

    # --- prd-api-us.prd.rings.solutions and the signalling host ------------------------------

    def _app_api_app(self) -> web.Application:
        app = web.Application(middlewares=[self._bearer_middleware])
        app.router.add_post("/api/v1/clap/ticket/request/signalsocket", self.ticket)
        return app

    async def ticket(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"ticket": request[ACCOUNT].new_ticket(), "host": SIGNALLING_HOST, "subscriptionTopics": []}
        )

    def _signalling_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/ws", self.signalling)
        return app


_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def _code_prompt(account: Account) -> dict[str, Any]:
    mode = account.two_factor
    if mode == "email":
        name, _, domain = account.config.email.partition("@")
        where = f"{name[:1]}***@{domain}"
    elif mode == "sms":
        where = "+1xxxxxxxx89"
    else:
        where = ""
    return {"next_time_in_secs": 60, "phone": where, "tsv_state": mode}


def _client_authenticated(authorization: str) -> bool:
    """Ring's OAuth client is `ring_official_android` with an empty secret, sent as Basic auth."""
    if not authorization.startswith("Basic "):
        return False
    try:
        decoded = base64.b64decode(authorization.removeprefix("Basic ")).decode()
    except ValueError:
        return False
    return decoded.partition(":")[0] == CLIENT_ID
