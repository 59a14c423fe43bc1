"""Home Assistant over REST and one reconnecting WebSocket; camera_hub devices grouped per camera.

Every error raised here is an `HAError` whose text is one sentence a person can act on. Tokens never
appear in any message or log line.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import re
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import aiohttp

_LOGGER = logging.getLogger(__name__)

DOMAIN = "camera_hub"
MAIN_CAMERA = "camera"
"""Key of the device's main camera entity in `Camera.entities` (it has no translation key)."""
_MAIN_CAMERA_KEY = "hd"
"""The main camera entity's key in its unique id (docs/entities.md)."""
_SD_CAMERA = "sd_stream"

_CONNECT_TIMEOUT = 10.0
_REQUEST_TIMEOUT = 30.0
_BACKOFF_FIRST = 0.5
_BACKOFF_MAX = 30.0
_EVENT_HISTORY = 100


class HAError(Exception):
    """A failure talking to Home Assistant, worded for a person."""


class HAUnreachable(HAError):
    """HA does not answer at the configured URL."""


class TokenRejected(HAError):
    """HA answered 401 / auth_invalid: the access token is wrong, expired or revoked."""


class HANotFound(HAError):
    """HA answered 404: the API, entity or integration is not there."""


class HARequestFailed(HAError):
    """HA answered a request with an error message (a failed action, an invalid field)."""


def redact_url(url: str) -> str:
    """The URL without userinfo, query or fragment: safe to show."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def slugify(text: str) -> str:
    """HA-style slug: "Front door" → "front_door"."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


@dataclass
class EntityState:
    """One entity's state as the `subscribe_entities` stream describes it."""

    entity_id: str
    state: str
    attributes: dict[str, Any] = field(default_factory=dict)
    last_changed: float = 0.0
    last_updated: float = 0.0

    @property
    def available(self) -> bool:
        return self.state != "unavailable"


@dataclass(frozen=True)
class Camera:
    """A camera_hub device and its enabled entities, keyed by translation key (`camera` for the main one)."""

    device_id: str
    name: str
    slug: str
    manufacturer: str | None
    model: str | None
    sw_version: str | None
    config_entry_id: str | None
    entities: Mapping[str, str]
    recordable: bool = True  # the main camera's `recordable` attribute; True while unknown

    @property
    def camera_entity(self) -> str | None:
        """The entity that shows the camera's picture: its main camera, or a cloud camera's still
        ("Last event") where it has no live one."""
        if main := self.entities.get(MAIN_CAMERA):
            return main
        return next(
            (e for key, e in self.entities.items() if e.startswith("camera.") and key != _SD_CAMERA), None
        )

    @property
    def capabilities(self) -> list[str]:
        """What the bridge can do with this camera, derived from which entities exist (docs/entities.md)."""
        has = self.entities.__contains__
        caps = {
            "snapshot": self.camera_entity is not None,
            "record": has(MAIN_CAMERA) and self.recordable,
            "pan": has("pan_left") and has("pan_right"),
            "tilt": has("tilt_up") and has("tilt_down"),
            "presets": has("preset"),
            "privacy": has("privacy"),
            "motion_detection": has("motion_detection"),
            "person_detection": has("person_detection"),
            "night_vision": has("night_vision"),
            "led": has("led"),
            "reboot": has("reboot"),
            "motion_events": has("motion"),
            "events": bool(self.event_entities),
            "light": has("light"),
            "siren": has("siren"),
        }
        return [name for name, present in caps.items() if present]

    @property
    def event_entities(self) -> list[str]:
        return sorted(entity_id for entity_id in self.entities.values() if entity_id.startswith("event."))


def is_camera_hub_device(device: Mapping[str, Any]) -> bool:
    identifiers = device.get("identifiers") or []
    return device.get("disabled_by") is None and any(ident[0] == DOMAIN for ident in identifiers)


def _key_from_unique_id(device: Mapping[str, Any], unique_id: str | None) -> str | None:
    """The entity's key per docs/entities.md: its unique id is `<device identifier>_<key>`."""
    if not unique_id:
        return None
    for domain, identifier in device.get("identifiers") or []:
        if domain == DOMAIN and unique_id.startswith(f"{identifier}_"):
            key = unique_id[len(identifier) + 1 :]
            return MAIN_CAMERA if key == _MAIN_CAMERA_KEY else key
    return None


def group_cameras(
    entry_ids: Iterable[str],
    devices: Iterable[Mapping[str, Any]],
    entities: Iterable[Mapping[str, Any]],
    unique_ids: Mapping[str, str] | None = None,
) -> list[Camera]:
    """Build cameras from registry listings: devices identified by camera_hub, their enabled entities.

    An entity is keyed by its translation key; one without (the main camera, the restart button) by the
    key in its unique id, from `unique_ids` (entity id → unique id).
    """
    entries = set(entry_ids)
    unique_ids = unique_ids or {}
    ours = {str(device["id"]): device for device in devices if is_camera_hub_device(device)}
    by_device: dict[str, dict[str, str]] = {device_id: {} for device_id in ours}
    for (
        entity
    ) in entities:  # `list_for_display` keys: ei entity id, pl platform, di device, tk translation key
        if entity.get("pl") != DOMAIN or entity.get("di") not in by_device:
            continue
        entity_id = str(entity["ei"])
        key = (
            entity.get("tk")
            or _key_from_unique_id(ours[str(entity["di"])], unique_ids.get(entity_id))
            or (MAIN_CAMERA if entity_id.startswith("camera.") else entity_id)
        )
        by_device[str(entity["di"])].setdefault(str(key), entity_id)
    cameras = []
    for device_id, device in ours.items():
        name = str(device.get("name_by_user") or device.get("name") or device_id)
        entity_map = by_device[device_id]
        if not any(entity_id.startswith("camera.") for entity_id in entity_map.values()):
            continue  # an account's own device (Ring, Furbo), or a camera without a picture entity yet
        main = entity_map.get(MAIN_CAMERA)
        slug = main.split(".", 1)[1] if main else slugify(name)
        entry_id = next((e for e in device.get("config_entries") or [] if e in entries), None)
        cameras.append(
            Camera(
                device_id=device_id,
                name=name,
                slug=slug,
                manufacturer=device.get("manufacturer"),
                model=device.get("model"),
                sw_version=device.get("sw_version"),
                config_entry_id=entry_id,
                entities=dict(sorted(entity_map.items())),
            )
        )
    return sorted(cameras, key=lambda camera: camera.name.lower())


class HAClient:
    """One aiohttp session and one authenticated WebSocket to Home Assistant.

    `start()` returns at once and connects in the background (a bridge must start even while HA is
    down); every call waits briefly for the connection and raises an `HAError` if it cannot get one.
    A rejected token stops the reconnect loop: retrying a bad token helps no one.
    """

    def __init__(self, url: str, token: str, *, connect_timeout: float = _CONNECT_TIMEOUT) -> None:
        self.url = redact_url(url).rstrip("/")  # userinfo would clash with the bearer header
        self._token = token
        self._connect_timeout = connect_timeout
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._runner: asyncio.Task[None] | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._connected = asyncio.Event()
        self._attempt_done = asyncio.Event()
        self._wake = asyncio.Event()
        self._last_error: HAError | None = None
        self._fatal: HAError | None = None
        self._states: dict[str, EntityState] = {}
        self._events: dict[str, deque[EntityState]] = {}
        self._cameras: list[Camera] = []
        self._registry_stale = True
        self._registry_lock = asyncio.Lock()
        self._states_sub: int | None = None
        self._states_ready = asyncio.Event()
        self._subscribed: frozenset[str] = frozenset()
        self.ha_version: str | None = None

    @property
    def shown_url(self) -> str:
        return redact_url(self.url)

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(headers={"Authorization": f"Bearer {self._token}"})
        if self._runner is None:
            self._runner = asyncio.create_task(self._run(), name="camera-hub-mcp websocket")

    async def close(self) -> None:
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
            self._runner = None
        if self._ws is not None:
            await self._ws.close()
            self._ws = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> HAClient:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def ensure_connected(self) -> None:
        """Return once the WebSocket is up; raise the reason if the next attempt fails."""
        if self._connected.is_set():
            return
        if self._fatal is not None:
            raise self._fatal
        await self.start()
        attempt = self._attempt_done
        self._wake.set()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._connect_timeout):
                while not self._connected.is_set() and self._fatal is None:
                    await attempt.wait()
                    if self._last_error is not None:
                        break
                    attempt = self._attempt_done
        if self._connected.is_set():
            return
        raise self._fatal or self._last_error or self._unreachable()

    def _unreachable(self) -> HAUnreachable:
        return HAUnreachable(
            f"Home Assistant at {self.shown_url} is not reachable; check that it is running and that "
            "HA_URL (or --ha-url) is right."
        )

    def _no_answer(self) -> HAUnreachable:
        return HAUnreachable(
            f"Home Assistant at {self.shown_url} did not answer within {_REQUEST_TIMEOUT:.0f} s."
        )

    def _rejected(self) -> TokenRejected:
        return TokenRejected(
            f"Home Assistant at {self.shown_url} rejected the access token; create a new long-lived token "
            "in your HA profile (Security tab) and pass it with HA_TOKEN or --token-file."
        )

    async def _run(self) -> None:
        delay = _BACKOFF_FIRST
        while True:
            try:
                await self._connect_and_read()
                delay = _BACKOFF_FIRST
            except TokenRejected as err:
                self._fatal = err
                _LOGGER.error("%s", err)
                self._finish_attempt(err)
                return
            except HAError as err:
                self._finish_attempt(err)
                _LOGGER.warning("%s Retrying in %.1f s.", err, delay)
            finally:
                self._drop_connection()
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wake.wait()
            delay = min(delay * 2, _BACKOFF_MAX)

    def _finish_attempt(self, error: HAError | None) -> None:
        self._last_error = error
        done, self._attempt_done = self._attempt_done, asyncio.Event()
        done.set()

    def _drop_connection(self) -> None:
        self._connected.clear()
        self._ws = None
        self._states_sub = None
        self._subscribed = frozenset()
        self._registry_stale = True
        for future in self._pending.values():
            if not future.done():
                future.set_exception(self._unreachable())
        self._pending.clear()

    async def _connect_and_read(self) -> None:
        assert self._session is not None
        ws_url = re.sub(r"^http", "ws", self.url) + "/api/websocket"
        try:
            async with asyncio.timeout(self._connect_timeout):
                ws = await self._session.ws_connect(ws_url, max_msg_size=0)
                if (await ws.receive_json()).get("type") != "auth_required":
                    raise self._unreachable()
                await ws.send_json({"type": "auth", "access_token": self._token})
                reply = await ws.receive_json()
        except (aiohttp.ClientError, TimeoutError, ValueError, TypeError) as err:
            _LOGGER.debug("WebSocket connect failed: %s", type(err).__name__)
            raise self._unreachable() from None
        if reply.get("type") != "auth_ok":
            await ws.close()
            raise self._rejected()
        self.ha_version = reply.get("ha_version")
        self._ws = ws
        _LOGGER.info("Connected to Home Assistant %s at %s", self.ha_version, self.shown_url)
        reader = asyncio.create_task(self._read(ws), name="camera-hub-mcp websocket reader")
        try:
            await self._command({"type": "subscribe_events", "event_type": "device_registry_updated"})
            await self._command({"type": "subscribe_events", "event_type": "entity_registry_updated"})
            await self._refresh_registry()
            self._connected.set()
            self._finish_attempt(None)
            await reader
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
            await ws.close()
        raise self._unreachable()

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            payload = message.json()
            for item in payload if isinstance(payload, list) else [payload]:
                self._dispatch(item)

    def _dispatch(self, message: dict[str, Any]) -> None:
        msg_id = message.get("id")
        if message.get("type") == "result":
            future = self._pending.pop(msg_id, None) if isinstance(msg_id, int) else None
            if future is not None and not future.done():
                if message.get("success"):
                    future.set_result(message.get("result"))
                else:
                    error = message.get("error") or {}
                    future.set_exception(_ws_error(error))
        elif message.get("type") == "event":
            event = message.get("event") or {}
            if msg_id == self._states_sub and msg_id is not None:
                self._apply_states(event)
                self._states_ready.set()
            elif event.get("event_type") in ("device_registry_updated", "entity_registry_updated"):
                self._registry_stale = True

    def _apply_states(self, event: Mapping[str, Any]) -> None:
        for entity_id, compressed in (event.get("a") or {}).items():
            self._store(
                EntityState(
                    entity_id,
                    str(compressed.get("s")),
                    dict(compressed.get("a") or {}),
                    float(compressed.get("lc") or 0),
                    float(compressed.get("lu") or compressed.get("lc") or 0),
                )
            )
        for entity_id, diff in (event.get("c") or {}).items():
            old = self._states.get(entity_id)
            if old is None:
                continue
            added = diff.get("+") or {}
            attributes = {**old.attributes, **(added.get("a") or {})}
            for key in (diff.get("-") or {}).get("a") or []:
                attributes.pop(key, None)
            last_changed = float(added.get("lc") or old.last_changed)
            self._store(
                EntityState(
                    entity_id,
                    str(added.get("s", old.state)),
                    attributes,
                    last_changed,
                    float(added.get("lu") or added.get("lc") or old.last_updated),
                )
            )
        for entity_id in event.get("r") or []:
            self._states.pop(entity_id, None)

    def _store(self, state: EntityState) -> None:
        self._states[state.entity_id] = state
        if state.entity_id.startswith("event.") and state.available and state.state != "unknown":
            seen = self._events.setdefault(state.entity_id, deque(maxlen=_EVENT_HISTORY))
            if not seen or seen[-1].state != state.state:
                seen.append(state)

    async def _command(self, message: dict[str, Any]) -> Any:
        ws = self._ws
        if ws is None:
            raise self._unreachable()
        msg_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = future
        try:
            await ws.send_json({**message, "id": msg_id})
            async with asyncio.timeout(_REQUEST_TIMEOUT):
                return await future
        except (aiohttp.ClientError, ConnectionError):
            raise self._unreachable() from None
        except TimeoutError:
            raise self._no_answer() from None
        finally:
            self._pending.pop(msg_id, None)

    async def ws_command(self, message: dict[str, Any]) -> Any:
        """Send one WebSocket command (without `id`) and return its result."""
        await self.ensure_connected()
        return await self._command(message)

    # -- registry and state ---------------------------------------------------------------------

    async def _refresh_registry(self) -> None:
        async with self._registry_lock:
            entries, devices, display = await asyncio.gather(
                self._command({"type": "config_entries/get", "domain": DOMAIN}),
                self._command({"type": "config/device_registry/list"}),
                self._command({"type": "config/entity_registry/list_for_display"}),
            )
            ours = {str(device["id"]) for device in devices if is_camera_hub_device(device)}
            listed = display.get("entities", [])
            # Entities without a translation key (the restart button) are known by their unique id.
            bare = sorted(
                str(e["ei"])
                for e in listed
                if e.get("pl") == DOMAIN and e.get("di") in ours and not e.get("tk")
            )
            unique_ids: dict[str, str] = {}
            if bare:
                found = await self._command(
                    {"type": "config/entity_registry/get_entries", "entity_ids": bare}
                )
                unique_ids = {
                    entity_id: str(entry["unique_id"])
                    for entity_id, entry in (found or {}).items()
                    if entry and entry.get("unique_id")
                }
            cameras = group_cameras((entry["entry_id"] for entry in entries), devices, listed, unique_ids)
            wanted = frozenset(e for camera in cameras for e in camera.entities.values())
            if wanted != self._subscribed:
                if self._states_sub is not None:
                    await self._command({"type": "unsubscribe_events", "subscription": self._states_sub})
                    self._states_sub = None
                if wanted:
                    # Register the id before sending: the initial states arrive right after the result.
                    sub_id = next(self._ids)
                    self._states_sub = sub_id
                    self._states_ready = asyncio.Event()
                    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
                    self._pending[sub_id] = future
                    assert self._ws is not None
                    await self._ws.send_json(
                        {"id": sub_id, "type": "subscribe_entities", "entity_ids": sorted(wanted)}
                    )
                    try:
                        async with asyncio.timeout(_REQUEST_TIMEOUT):
                            await future
                            # The states come in the first event, right after the result: a camera
                            # just added must not read as offline for want of them.
                            await self._states_ready.wait()
                    except TimeoutError:
                        raise self._no_answer() from None
                self._subscribed = wanted
            self._cameras = cameras
            self._registry_stale = False

    async def cameras(self) -> list[Camera]:
        """The camera_hub cameras, from the registries (re-read when HA reports a registry change)."""
        await self.ensure_connected()
        if self._registry_stale:
            await self._refresh_registry()
        return [replace(camera, recordable=self._recordable(camera)) for camera in self._cameras]

    def _recordable(self, camera: Camera) -> bool:
        """Whether HA can record the camera (it needs a stream source: Ring's cloud WebRTC and USB
        webcams have none), as the integration says in the main camera's `recordable` attribute."""
        state = self.state(camera.entities.get(MAIN_CAMERA))
        return state is None or state.attributes.get("recordable", True) is not False

    def registry_changed(self) -> None:
        """Re-read the registries on the next `cameras()`: this client just added or removed a camera.

        HA's registry events reach the WebSocket after the REST answer that caused them.
        """
        self._registry_stale = True

    def state(self, entity_id: str | None) -> EntityState | None:
        return self._states.get(entity_id) if entity_id else None

    def seen_events(self, entity_id: str) -> list[EntityState]:
        return list(self._events.get(entity_id, ()))

    # -- REST ------------------------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        *,
        payload: Any = None,
        params: Mapping[str, str] | None = None,
    ) -> tuple[int, bytes, str]:
        await self.start()
        assert self._session is not None
        try:
            async with self._session.request(
                method,
                self.url + path,
                json=payload,
                params=params,
                timeout=aiohttp.ClientTimeout(_REQUEST_TIMEOUT),
            ) as resp:
                body = await resp.read()
                status, content_type = resp.status, resp.content_type
        except (aiohttp.ClientError, TimeoutError):
            raise self._unreachable() from None
        if status == 401:
            raise self._rejected()
        if status == 403:
            raise HARequestFailed(
                "Home Assistant refused this request; the token must belong to an administrator."
            )
        if status == 404:
            raise HANotFound(f"Home Assistant has no {path.split('?', maxsplit=1)[0]}.")
        if status >= 400:
            raise HARequestFailed(_rest_message(body, status))
        return status, body, content_type

    async def get_json(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        _, body, _ = await self._request("GET", path, params=params)
        return _loads(body)

    async def post_json(self, path: str, body: Any) -> Any:
        _, data, _ = await self._request("POST", path, payload=body)
        return _loads(data)

    async def delete_json(self, path: str) -> Any:
        _, data, _ = await self._request("DELETE", path)
        return _loads(data)

    async def config(self) -> dict[str, Any]:
        """`GET /api/config`: version, media dirs, allowlisted dirs, components."""
        result: dict[str, Any] = await self.get_json("/api/config")
        self.ha_version = result.get("version", self.ha_version)
        return result

    async def camera_image(self, entity_id: str, width: int | None = None) -> tuple[bytes, str]:
        params = {"width": str(width)} if width else None
        _, body, content_type = await self._request(
            "GET", f"/api/camera_proxy/{quote(entity_id)}", params=params
        )
        return body, content_type

    async def call_service(
        self, domain: str, service: str, data: Mapping[str, Any], *, return_response: bool = False
    ) -> Any:
        """`POST /api/services/<domain>/<service>`; the service response if asked for."""
        path = f"/api/services/{quote(domain)}/{quote(service)}"
        if return_response:
            path += "?return_response"
        result = await self.post_json(path, dict(data))
        return result.get("service_response") if return_response and isinstance(result, dict) else result


def _loads(body: bytes) -> Any:
    return json.loads(body) if body else None


def _rest_message(body: bytes, status: int) -> str:
    with contextlib.suppress(ValueError, AttributeError):
        message = _loads(body).get("message")
        if message:
            return f"Home Assistant answered: {str(message).rstrip('.')}."
    return f"Home Assistant answered HTTP {status}."


def _ws_error(error: Mapping[str, Any]) -> HAError:
    code = error.get("code")
    message = str(error.get("message") or code or "unknown error").rstrip(".")
    if code == "unauthorized":
        return HARequestFailed(
            "Home Assistant refused this request; the token must belong to an administrator."
        )
    if code in ("unknown_command", "not_found"):
        return HANotFound(f"Home Assistant answered: {message}.")
    return HARequestFailed(f"Home Assistant answered: {message}.")
