"""TP-Link Tapo cameras: control API when a login works, ONVIF and RTSP always.

Connecting tries the control login chain (control.py) with the cloud password, then ONVIF with
the camera account. When no control login works but the streams do, the camera runs in
stream-only mode: live view, and pan/tilt, presets and motion events through ONVIF where the camera
offers them. `async_retry_control` upgrades a stream-only camera later without a restart.

The control API's certificate is pinned on first contact (pinning.py): one the camera presents later
that differs puts the camera in stream-only mode too, until its owner accepts it in the repair.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from ...streaming.probe import probe_rtsp
from ...streaming.stream_url import CachedStreamUrl
from ..base import (
    CameraEvent,
    CameraHubError,
    CameraState,
    Capabilities,
    CommandFailed,
    ControlUnsupported,
    DeviceIdentity,
    Direction,
    EventCallback,
    Limitation,
    NotSupported,
    RtspVideo,
    Unreachable,
    Unsubscribe,
    VideoSource,
)
from .const import CONTROL_RETRY_INTERVAL, ISSUE_CERTIFICATE_CHANGED, ISSUE_CONTROL_REFUSED, ControlMethod
from .control import ControlSession, Discovery, Request, open_control
from .onvif import OnvifClient
from .pinning import CertificateChanged, CertificatePin, RunBlocking, short

_LOGGER = logging.getLogger(__name__)

STREAM_PATHS = {"hd": "stream1", "sd": "stream2"}
_ONVIF_MOVE_SECONDS = 0.3
_DIRECTION_VECTORS = {
    Direction.LEFT: (-1, 0),
    Direction.RIGHT: (1, 0),
    Direction.UP: (0, 1),
    Direction.DOWN: (0, -1),
}
# The control API's answers for "this camera has no such feature" (no motor, unknown method).
_UNSUPPORTED_CODES = {-40106, -40210, -64304, -64324}
_ON = "on"
MANUFACTURER = "TP-Link"
MOTION = "motion"


@dataclass(frozen=True, kw_only=True)
class TapoSettings:
    host: str
    username: str
    password: str
    cloud_password: str
    control_port: int = 443
    onvif_port: int = 2020
    rtsp_port: int = 554
    control_method: ControlMethod | None = None
    certificate_pin: str | None = None  # SHA-256 of the control API's certificate, once pinned


def with_credentials(url: str, username: str, password: str) -> str:
    """Put the camera account into an RTSP URL (percent-encoded, as userinfo must be)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{quote(username, safe='')}:{quote(password, safe='')}@{host}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _enabled(result: dict[str, Any], module: str, section: str, key: str = "enabled") -> bool | None:
    value = result.get(module, {}).get(section, {}).get(key)
    return None if value is None else value == _ON


def _preset_map(result: dict[str, Any]) -> dict[str, str]:
    preset = result.get("preset", {}).get("preset", {})
    return {str(i): str(n) for i, n in zip(preset.get("id", []), preset.get("name", []), strict=False)}


_SWITCHES: dict[str, tuple[str, str, str]] = {
    # key: (set method, module, section) — the get side is in _READS
    "privacy": ("setLensMaskConfig", "lens_mask", "lens_mask_info"),
    "motion_detection": ("setDetectionConfig", "motion_detection", "motion_det"),
    "person_detection": ("setPersonDetectionConfig", "people_detection", "detection"),
    "led": ("setLedStatus", "led", "config"),
}
_READS: list[Request] = [
    ("getLensMaskConfig", {"lens_mask": {"name": ["lens_mask_info"]}}),
    ("getDetectionConfig", {"motion_detection": {"name": ["motion_det"]}}),
    ("getPersonDetectionConfig", {"people_detection": {"name": ["detection"]}}),
    ("getLedStatus", {"led": {"name": ["config"]}}),
    ("getLightFrequencyInfo", {"image": {"name": "common"}}),
    ("getPresetConfig", {"preset": {"name": ["preset"]}}),
]


class TapoBackend:
    """One Tapo camera (see module docstring)."""

    def __init__(
        self,
        settings: TapoSettings,
        run_blocking: RunBlocking,
        *,
        http_session: Any = None,
        event_loop_owner: Any = None,
        discovery: Discovery | None = None,
        pin: CertificatePin | None = None,
        on_certificate_changed: Callable[[], None] | None = None,
    ) -> None:
        """`http_session` carries python-kasa's logins; when `pin` is given it is the pin that
        session's connector checks, and the backend closes the session with itself.
        `on_certificate_changed` is told once when a running control session meets another
        certificate (the entry reloads, and comes back stream-only with the repair)."""
        self.settings = settings
        self._discovery = discovery
        self._run_blocking = run_blocking
        self._http_session = http_session
        self._event_loop_owner = event_loop_owner
        self.pin = pin
        self._on_certificate_changed = on_certificate_changed
        self._control: ControlSession | None = None
        self._onvif: OnvifClient | None = None
        self._stream_urls = {stream: CachedStreamUrl(self._lookup_factory(stream)) for stream in STREAM_PATHS}
        self._videos = {
            stream: RtspVideo(
                url=partial(self.async_stream_url, stream), invalidate=self.invalidate_stream_url
            )
            for stream in STREAM_PATHS
        }
        self.identity = DeviceIdentity(name=settings.host, manufacturer=MANUFACTURER, model="Tapo camera")
        self.capabilities = Capabilities(streams=tuple(STREAM_PATHS))
        self.control_method = ControlMethod.STREAM_ONLY
        self.control_error: CameraHubError | None = None
        self._has_motor = False

    # --- connecting -----------------------------------------------------------------------

    async def async_connect(self, *, check_stream: bool = False) -> None:
        """Control login, then ONVIF, then the plain RTSP stream: always with `check_stream` (the
        connection doctor), otherwise only when neither control nor ONVIF answered.
        """
        try:
            await self._connect_control()
        except ControlUnsupported as err:
            self.control_error = err
        await self._connect_onvif()
        if check_stream or (self._control is None and self._onvif is None):
            await self._check_stream()
        self.capabilities = self._capabilities()

    async def _check_stream(self) -> None:
        """Open the HD stream once: tells a wrong camera account (RTSP 401) from a dead stream."""
        await self._run_blocking(probe_rtsp, await self.async_stream_url("hd"))

    @property
    def onvif_available(self) -> bool:
        return self._onvif is not None

    async def _connect_control(self) -> None:
        s = self.settings
        self._control = await open_control(
            s.host,
            s.control_port,
            s.cloud_password,
            known=s.control_method,
            run_blocking=self._run_blocking,
            http_session=self._http_session,
            event_loop_owner=self._event_loop_owner,
            discovery=self._discovery,
            pin=self.pin,
        )
        self.control_method = self._control.method
        self.control_error = None
        await self._read_identity()

    async def _connect_onvif(self) -> None:
        s = self.settings
        client = OnvifClient(s.host, s.onvif_port, s.username, s.password)
        try:
            info = await client.connect()
        except Unreachable, CommandFailed:
            # ONVIF switched off or absent: streams fall back to the standard Tapo RTSP paths.
            await client.close()
            return
        except BaseException:
            await client.close()
            raise
        self._onvif = client
        if self._control is None:
            self.identity = DeviceIdentity(
                mac=info["serial"],
                manufacturer=MANUFACTURER,
                model=info["model"],
                firmware=info["firmware"],
                name=info["model"],
            )

    async def _read_identity(self) -> None:
        [(result, code), (_, motor_code)] = await self._call(
            [
                ("getDeviceInfo", {"device_info": {"name": ["basic_info"]}}),
                ("getMotorCapability", {"motor": {"name": ["capability"]}}),
            ]
        )
        self._has_motor = motor_code == 0
        info = result.get("device_info", {}).get("basic_info", {})
        if code or not info.get("mac"):
            raise CommandFailed("the camera did not describe itself")
        self.identity = DeviceIdentity(
            mac=str(info["mac"]).replace("-", ":").upper(),
            manufacturer=MANUFACTURER,
            model=str(info.get("device_model", "Tapo camera")),
            firmware=str(info.get("sw_version", "")),
            hardware=info.get("hw_version"),
            serial=info.get("dev_id"),
            name=str(info.get("device_alias") or info.get("device_model") or self.settings.host),
        )

    async def async_retry_control(self) -> bool:
        """Stream-only cameras: try the control login again; True when it now works."""
        try:
            await self._connect_control()
        except ControlUnsupported as err:
            self.control_error = err
            return False
        self.capabilities = self._capabilities()
        return True

    @property
    def limitation(self) -> Limitation | None:
        """Stream-only mode: the owner turns on Third-Party Compatibility, control logins then work;
        or, after a certificate change, accepts the new certificate."""
        if self.control_method is not ControlMethod.STREAM_ONLY:
            return None
        if isinstance(changed := self.control_error, CertificateChanged) and self.pin is not None:
            return Limitation(
                issue=ISSUE_CERTIFICATE_CHANGED,
                placeholders={
                    "host": self.settings.host,
                    "pinned": short(changed.pinned),
                    "presented": short(changed.presented),
                },
                retry_interval=CONTROL_RETRY_INTERVAL,
                # Exactly the certificate the owner was shown, not whichever comes next.
                accept=partial(self.pin.trust, changed.presented),
            )
        return Limitation(
            issue=ISSUE_CONTROL_REFUSED,
            placeholders={"host": self.settings.host},
            retry_interval=CONTROL_RETRY_INTERVAL,
        )

    async def async_retry_limited(self) -> bool:
        return await self.async_retry_control()

    def diagnostics(self) -> dict[str, Any]:
        return {
            "control_method": self.control_method.value,
            "control_error": str(self.control_error) if self.control_error else None,
            "onvif": self.onvif_available,
            # Not a secret, but a fingerprint identifies the device: its first digits only.
            "certificate_pin": short(self.pin.trusted) if self.pin and self.pin.trusted else None,
            "certificate_changed": isinstance(self.control_error, CertificateChanged),
        }

    def _capabilities(self) -> Capabilities:
        control = self._control is not None
        onvif = self._onvif
        motor = self._has_motor if control else bool(onvif and onvif.has_ptz)
        return Capabilities(
            pan_tilt=motor,
            presets=motor,
            calibrate=motor and control,
            continuous_move=bool(onvif and onvif.has_ptz),
            privacy=control,
            motion_detection=control,
            person_detection=control,
            led=control,
            night_vision=control,
            reboot=control,
            motion_events=bool(onvif and onvif.has_events),
            streams=tuple(STREAM_PATHS),
            control_methods=tuple(method.value for method in ControlMethod),
        )

    async def async_close(self) -> None:
        if self._control is not None:
            await self._control.close()
        if self._onvif is not None:
            await self._onvif.close()
        if self.pin is not None and self._http_session is not None:
            await self._http_session.close()

    @property
    def settings_to_store(self) -> TapoSettings:
        """Settings with the control method that worked, so the next start costs one login."""
        return replace(self.settings, control_method=self.control_method)

    # --- control API ----------------------------------------------------------------------

    async def _call(self, requests: list[Request]) -> list[tuple[dict[str, Any], int]]:
        if self._control is None:
            raise NotSupported("the camera's control API is not available (stream-only mode)")
        try:
            return await self._control.call_many(requests)
        except CertificateChanged:
            if self._on_certificate_changed is not None:
                on_changed, self._on_certificate_changed = self._on_certificate_changed, None
                on_changed()
            raise

    async def _command(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        [(result, code)] = await self._call([(method, params)])
        if code in _UNSUPPORTED_CODES:
            raise NotSupported(f"the camera does not support {method}")
        if code:
            raise CommandFailed(f"the camera answered {method} with error {code}")
        return result

    async def async_read_state(self) -> CameraState:
        if self._control is None:
            presets = await self._onvif.presets() if self._onvif and self._onvif.has_ptz else {}
            return CameraState(presets=presets)
        answers = dict(zip((m for m, _ in _READS), await self._call(_READS), strict=True))

        def ok(method: str) -> dict[str, Any]:
            result, code = answers[method]
            return {} if code else result

        return CameraState(
            privacy=_enabled(ok("getLensMaskConfig"), "lens_mask", "lens_mask_info"),
            motion_detection=_enabled(ok("getDetectionConfig"), "motion_detection", "motion_det"),
            person_detection=_enabled(ok("getPersonDetectionConfig"), "people_detection", "detection"),
            led=_enabled(ok("getLedStatus"), "led", "config"),
            night_vision=ok("getLightFrequencyInfo").get("image", {}).get("common", {}).get("inf_type"),
            presets=_preset_map(ok("getPresetConfig")),
        )

    async def async_set_switch(self, key: str, on: bool) -> None:
        method, module, section = _SWITCHES[key]
        await self._command(method, {module: {section: {"enabled": _ON if on else "off"}}})

    async def async_set_night_vision(self, mode: str) -> None:
        await self._command("setDayNightModeConfig", {"image": {"common": {"inf_type": mode}}})

    async def async_move(self, direction: Direction, step: int) -> None:
        dx, dy = _DIRECTION_VECTORS[direction]
        if self._control is not None:
            move = {"x_coord": str(dx * step), "y_coord": str(dy * step)}
            await self._command("motorMove", {"motor": {"move": move}})
            return
        onvif = self._require_onvif_ptz()
        # ONVIF has no step move on Tapo cameras: a short continuous move, then stop.
        await onvif.continuous_move(dx * 0.5, dy * 0.5)
        await asyncio.sleep(_ONVIF_MOVE_SECONDS * step / 15)
        await onvif.stop()

    async def async_stop(self) -> None:
        await self._require_onvif_ptz().stop()

    async def async_home(self) -> None:
        if self._onvif is not None and self._onvif.has_ptz:
            await self._onvif.home()
            return
        await self.async_calibrate()

    async def async_calibrate(self) -> None:
        await self._command("manualCalibrate", {"motor": {"manual_cali": ""}})

    async def async_go_to_preset(self, preset_id: str) -> None:
        if self._control is None:
            await self._require_onvif_ptz().go_to_preset(preset_id)
            return
        await self._command("motorMoveToPreset", {"preset": {"goto_preset": {"id": preset_id}}})

    async def async_save_preset(self, name: str) -> str:
        if self._control is None:
            return await self._require_onvif_ptz().save_preset(name)
        result = await self._command(
            "addMotorPostion", {"preset": {"set_preset": {"name": name, "save_ptz": "1"}}}
        )
        return str(result.get("id", ""))

    async def async_delete_preset(self, preset_id: str) -> None:
        if self._control is None:
            await self._require_onvif_ptz().delete_preset(preset_id)
            return
        await self._command("deletePreset", {"preset": {"remove_preset": {"id": [preset_id]}}})

    async def async_reboot(self) -> None:
        await self._command("rebootDevice", {"system": {"reboot": "null"}})

    def _require_onvif_ptz(self) -> OnvifClient:
        if self._onvif is None or not self._onvif.has_ptz:
            raise NotSupported("the camera offers no pan/tilt over ONVIF")
        return self._onvif

    # --- streams and events ---------------------------------------------------------------

    def _lookup_factory(self, stream: str) -> Callable[[], Awaitable[str]]:
        async def lookup() -> str:
            s = self.settings
            url = f"rtsp://{s.host}:{s.rtsp_port}/{STREAM_PATHS[stream]}"
            if self._onvif is not None and (
                uri := await self._onvif.stream_uri(list(STREAM_PATHS).index(stream))
            ):
                # The camera names its stream as it sees itself (its own address and port);
                # keep its path but reach it where the user configured (port forwarding).
                reported = urlsplit(uri)
                url = urlunsplit(("rtsp", f"{s.host}:{s.rtsp_port}", reported.path, reported.query, ""))
            return with_credentials(url, s.username, s.password)

        return lookup

    def media(self) -> None:
        return None  # no recordings Camera Hub can browse

    def video(self, stream: str) -> VideoSource | None:
        return self._videos.get(stream)

    async def async_stream_url(self, stream: str) -> str:
        return await self._stream_urls[stream].get()

    def invalidate_stream_url(self) -> None:
        for cached in self._stream_urls.values():
            cached.invalidate()

    def subscribe_events(self, callback: EventCallback) -> Unsubscribe:
        onvif = self._onvif
        if onvif is None or not onvif.has_events:
            raise NotSupported("the camera offers no motion events")

        def on_motion(active: bool) -> None:
            callback(CameraEvent(type=MOTION, active=active))

        task = asyncio.create_task(self._pull_motion_forever(onvif, on_motion), name="camera_hub motion")

        async def unsubscribe() -> None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

        return unsubscribe

    async def _pull_motion_forever(self, onvif: OnvifClient, callback: Callable[[bool], None]) -> None:
        backoff = 1.0
        while True:
            try:
                await onvif.pull_motion(callback)
                backoff = 1.0
            except CameraHubError as err:
                _LOGGER.debug("motion subscription to %s ended: %s", self.settings.host, err)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 300.0)
