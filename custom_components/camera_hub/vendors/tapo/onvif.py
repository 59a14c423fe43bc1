"""ONVIF with onvif-zeep-async: stream URIs, PTZ and PullPoint motion events.

Tapo cameras keep ONVIF working when their control login changes, so this is both the stream-URI
source and the fallback for pan/tilt, presets and motion events in stream-only mode. The camera
account (not the cloud password) authenticates here.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

import aiohttp
from onvif import ONVIFCamera
from onvif.exceptions import ONVIFAuthError, ONVIFError, ONVIFTimeoutError
from zeep.exceptions import Fault, TransportError

from ..base import AuthFailed, CameraHubError, CommandFailed, Unreachable

_LOGGER = logging.getLogger(__name__)

_PULL_TIMEOUT = dt.timedelta(seconds=20)
_SUBSCRIPTION_LIFETIME = dt.timedelta(minutes=10)
_MOTION_TOPIC_SUFFIXES = ("MotionAlarm", "CellMotionDetector/Motion")
_MOTION_ITEMS = ("IsMotion", "State")


def _not_authorized(fault: Fault) -> bool:
    # zeep gives the subcodes as lxml QNames, whose str() is not their name.
    return any("NotAuthorized" in str(getattr(code, "text", code)) for code in fault.subcodes or ())


def classify_onvif_error(err: Exception) -> CameraHubError:
    if isinstance(err, ONVIFAuthError) or (isinstance(err, Fault) and _not_authorized(err)):
        return AuthFailed("camera_account")
    if isinstance(err, ONVIFTimeoutError | aiohttp.ClientError | TransportError | OSError | TimeoutError):
        return Unreachable("the camera's ONVIF service did not answer")
    if isinstance(err, ONVIFError) and isinstance(err.__cause__, ONVIFAuthError):
        return AuthFailed("camera_account")
    return CommandFailed(f"ONVIF request failed: {type(err).__name__}")


def motion_from_message(message: Any) -> bool | None:
    """`True`/`False` for a motion change, `None` for any other event.

    A new subscription first reports the current state ("Initialized"); that is not a change.
    """
    topic = str(getattr(getattr(message, "Topic", None), "_value_1", "") or "")
    if not topic.endswith(_MOTION_TOPIC_SUFFIXES):
        return None
    body = getattr(getattr(message, "Message", None), "_value_1", None)
    if getattr(body, "PropertyOperation", None) == "Initialized":
        return None
    data = getattr(body, "Data", None)
    for item in getattr(data, "SimpleItem", None) or []:
        if item.Name in _MOTION_ITEMS:
            return str(item.Value).lower() == "true"
    return None


class OnvifClient:
    """One camera's ONVIF services; every method raises only our typed errors."""

    def __init__(self, host: str, port: int, username: str, password: str) -> None:
        self._camera = ONVIFCamera(host, port, username, password)
        self._profiles: list[Any] = []
        self.has_ptz = False
        self.has_events = False

    async def _call(self, coro: Any) -> Any:
        try:
            return await coro
        except (ONVIFError, Fault, TransportError, aiohttp.ClientError, OSError, TimeoutError) as err:
            raise classify_onvif_error(err) from err

    async def connect(self) -> dict[str, str]:
        """Learn the services and profiles; returns the device information."""
        await self._call(self._camera.update_xaddrs())
        device = await self._call(self._camera.create_devicemgmt_service())
        info = await self._call(device.GetDeviceInformation())
        media = await self._call(self._camera.create_media_service())
        self._profiles = list(await self._call(media.GetProfiles()))
        self.has_ptz = any(getattr(p, "PTZConfiguration", None) for p in self._profiles)
        self.has_events = "http://www.onvif.org/ver10/events/wsdl" in self._camera.xaddrs
        return {
            "manufacturer": str(info.Manufacturer),
            "model": str(info.Model),
            "firmware": str(info.FirmwareVersion),
            "serial": str(info.SerialNumber),
        }

    async def stream_uri(self, index: int) -> str | None:
        """RTSP URI of the `index`th profile (0 = main stream, as cameras list them), if there is one."""
        if index >= len(self._profiles):
            return None
        media = await self._call(self._camera.create_media_service())
        request = media.create_type("GetStreamUri")
        request.ProfileToken = self._profiles[index].token
        request.StreamSetup = {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}
        return str((await self._call(media.GetStreamUri(request))).Uri)

    async def _ptz(self) -> Any:
        return await self._call(self._camera.create_ptz_service())

    def _token(self) -> str:
        return str(self._profiles[0].token)

    async def continuous_move(self, pan: float, tilt: float) -> None:
        ptz = await self._ptz()
        velocity = {"PanTilt": {"x": pan, "y": tilt}}
        await self._call(ptz.ContinuousMove({"ProfileToken": self._token(), "Velocity": velocity}))

    async def stop(self) -> None:
        ptz = await self._ptz()
        await self._call(ptz.Stop({"ProfileToken": self._token(), "PanTilt": True, "Zoom": True}))

    async def home(self) -> None:
        ptz = await self._ptz()
        await self._call(ptz.GotoHomePosition({"ProfileToken": self._token()}))

    async def presets(self) -> dict[str, str]:
        ptz = await self._ptz()
        presets = await self._call(ptz.GetPresets({"ProfileToken": self._token()}))
        return {str(p.token): str(p.Name) for p in presets or []}

    async def go_to_preset(self, preset_id: str) -> None:
        ptz = await self._ptz()
        await self._call(ptz.GotoPreset({"ProfileToken": self._token(), "PresetToken": preset_id}))

    async def save_preset(self, name: str) -> str:
        ptz = await self._ptz()
        return str(await self._call(ptz.SetPreset({"ProfileToken": self._token(), "PresetName": name})))

    async def delete_preset(self, preset_id: str) -> None:
        ptz = await self._ptz()
        await self._call(ptz.RemovePreset({"ProfileToken": self._token(), "PresetToken": preset_id}))

    async def pull_motion(self, on_motion: Callable[[bool], None]) -> None:
        """Long-poll motion events until cancelled; resubscribes when the subscription is lost."""
        lost = asyncio.Event()
        creating = asyncio.ensure_future(
            self._call(self._camera.create_pullpoint_manager(_SUBSCRIPTION_LIFETIME, lost.set))
        )
        try:
            manager = await asyncio.shield(creating)
        except asyncio.CancelledError:
            # Cancelled mid-creation, onvif-zeep-async would never close the new service's HTTP
            # session (an unload right after setup): let it finish, then end the subscription.
            with contextlib.suppress(CameraHubError):
                await (await creating).shutdown()
            raise
        try:
            service = manager.get_service()
            while not lost.is_set():
                reply = await self._call(service.PullMessages({"MessageLimit": 20, "Timeout": _PULL_TIMEOUT}))
                for message in getattr(reply, "NotificationMessage", None) or []:
                    if (active := motion_from_message(message)) is not None:
                        on_motion(active)
        finally:
            await asyncio.shield(manager.shutdown())

    async def close(self) -> None:
        await self._camera.close()
