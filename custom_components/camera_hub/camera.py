"""Live view and snapshots (HD, and SD disabled by default), plus the PTZ and preset actions.

Live view in the frontend is native WebRTC from the frame hub for H.264 sources (the camera's own
packets, streaming/webrtc.py), HA's HLS when the user chose it (option "Live view"), or MJPEG from the
hub for sources without H.264 (USB MJPEG webcams). `stream_source` stays the RTSP URL wherever there
is one, for HA's recorder, HomeKit and go2rtc.

Cloud brands: a `CloudWebRtcVideo` (Ring) is answered by the brand's cloud (native WebRTC passed through,
no `stream_source`: there is no RTSP), its stills from the cloud; a `StillVideo` (Furbo) is a camera
entity named for what it shows ("Last event"), without live view. Their attributes say what the
picture is and when it was taken (`picture_kind`, `picture_taken_at`).

Each entity belongs to one camera of the entry (`self.camera`, a `cameras.CameraRuntime`): its backend
(`self.camera.backend`, and `.video(stream)` for the stream's video source), its coordinator and the
frame hub of its stream (`self.camera.hubs[stream]`).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from homeassistant.components.camera import Camera, CameraEntityDescription
from homeassistant.components.camera.const import CameraEntityFeature
from homeassistant.components.camera.webrtc import (
    WebRTCAnswer,
    WebRTCCandidate,
    WebRTCError,
    WebRTCMessage,
    WebRTCSendMessage,
)
from homeassistant.components.web_rtc import async_get_ice_servers
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util
from webrtc_models import RTCIceCandidateInit

from .cameras import CameraHubConfigEntry, CameraRuntime
from .const import (
    CONF_LIVE_STREAM,
    CONF_LIVE_VIEW,
    CONF_SNAPSHOT_MAX_AGE,
    DEFAULT_LIVE_STREAM,
    DEFAULT_SNAPSHOT_MAX_AGE,
    DOMAIN,
    LIVE_VIEW_WEBRTC,
)
from .entity import CameraHubEntity
from .streaming.frames import Frame, FrameHub
from .streaming.webrtc import IceServer, WebRtcError, WebRtcServer
from .vendors.base import (
    CameraHubError,
    CaptureVideo,
    CloudWebRtcVideo,
    Direction,
    Picture,
    RtspVideo,
    StillVideo,
    VideoSource,
    WebRtcAnswer,
    WebRtcCandidate,
    WebRtcMessage,
)

PARALLEL_UPDATES = 0
_BOUNDARY = "camerahubframe"

HD = CameraEntityDescription(key="hd", name=None)
SD = CameraEntityDescription(key="sd", translation_key="sd_stream", entity_registry_enabled_default=False)


class _MultipartParts:
    """Each frame as one MJPEG part, built once for all of a camera's viewers.

    The hub hands every viewer the same frame object, so the part of the newest frame serves them
    all: each further viewer costs no copy of the picture (a 1280x720 JPEG is ~80 KB, 30 a second).
    """

    def __init__(self) -> None:
        self._frame: Frame | None = None
        self._part = b""

    def of(self, frame: Frame) -> bytes:
        if frame is not self._frame:
            self._part = mjpeg_part(frame.jpeg)
            self._frame = frame
        return self._part


def mjpeg_part(jpeg: bytes) -> bytes:
    header = f"--{_BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
    return b"".join((header.encode(), jpeg, b"\r\n"))


async def mjpeg_response(request: web.Request) -> web.StreamResponse:
    """A prepared multipart response: write `mjpeg_part`s to it."""
    response = web.StreamResponse()
    response.content_type = "multipart/x-mixed-replace"
    response.headers["Content-Type"] = f"multipart/x-mixed-replace;boundary={_BOUNDARY}"
    await response.prepare(request)
    return response


async def async_setup_entry(
    hass: HomeAssistant, entry: CameraHubConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    max_age = float(entry.options.get(CONF_SNAPSHOT_MAX_AGE, DEFAULT_SNAPSHOT_MAX_AGE))
    live_stream = entry.options.get(CONF_LIVE_STREAM, DEFAULT_LIVE_STREAM)
    webrtc = entry.options.get(CONF_LIVE_VIEW, LIVE_VIEW_WEBRTC) == LIVE_VIEW_WEBRTC

    @callback
    def add(camera: CameraRuntime) -> None:
        streams = camera.backend.capabilities.streams
        if not streams:
            return
        # The main entity streams what the user chose for live view; the SD entity is always SD.
        chosen = [(HD, live_stream if live_stream in streams else streams[0])]
        if "sd" in streams:
            chosen.append((SD, "sd"))
        async_add_entities(
            _camera_entity(camera, description, stream, max_age, webrtc) for description, stream in chosen
        )

    entry.async_on_unload(entry.runtime_data.async_for_each_camera(add))


def _camera_entity(
    camera: CameraRuntime, description: CameraEntityDescription, stream: str, max_age: float, webrtc: bool
) -> CameraHubCamera:
    """The entity class decides the frontend's player: HA fixes it per class (native WebRTC or not)."""
    video = camera.backend.video(stream)
    if isinstance(video, StillVideo):
        # Keyed by its stream like every camera entity (the unique id stays if the brand gains live
        # view), named for what it shows.
        still = CameraEntityDescription(key=description.key, translation_key=video.translation_key)
        return CameraHubStillCamera(camera, still, stream, max_age)
    if isinstance(video, CloudWebRtcVideo):
        return CameraHubCloudCamera(camera, description, stream, max_age)
    if webrtc and stream in camera.hubs and _carries_h264(video):
        return CameraHubWebRtcCamera(camera, description, stream, max_age)
    return CameraHubCamera(camera, description, stream, max_age)


def _carries_h264(video: VideoSource | None) -> bool:
    """RTSP cameras send H.264 (an H.265 one gets a clear error on its first offer); webcams say."""
    if isinstance(video, RtspVideo):
        return True
    return isinstance(video, CaptureVideo) and video.input_format == "h264"


class CameraHubCamera(CameraHubEntity, Camera):
    """Snapshots and MJPEG from the hub; live view over HA's HLS where there is an RTSP URL."""

    def __init__(
        self,
        camera: CameraRuntime,
        description: CameraEntityDescription,
        stream: str,
        max_age: float,
    ) -> None:
        CameraHubEntity.__init__(self, camera, description)
        Camera.__init__(self)
        self._stream = stream
        self._max_age = max_age
        self._last_good: bytes | None = None
        self._mjpeg_parts = _MultipartParts()
        if self._has_stream(camera.backend.video(stream)):
            self._attr_supported_features = CameraEntityFeature.STREAM

    def _has_stream(self, video: VideoSource | None) -> bool:
        """Whether the frontend gets a stream player (else it shows the hub's MJPEG)."""
        return isinstance(video, RtspVideo)

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        # Whether HA's `camera.record` can save this camera (it records the stream source: an RTSP
        # URL). The STREAM feature does not say it: cloud WebRTC cameras have it for the player.
        return {RECORDABLE: isinstance(self.backend.video(self._stream), RtspVideo)}

    async def stream_source(self) -> str | None:
        video = self.backend.video(self._stream)
        if not isinstance(video, RtspVideo):
            return None
        try:
            return await video.url()
        except CameraHubError:
            return None

    @property
    def _hub(self) -> FrameHub | None:
        return self.camera.hubs.get(self._stream)

    async def async_camera_image(self, width: int | None = None, height: int | None = None) -> bytes | None:
        """The hub's newest frame when fresh enough; otherwise the next one, which concurrent requests
        share (one upstream, one JPEG encode). A failed wait returns the last good picture, or None:
        never a broken image.
        """
        if (hub := self._hub) is None:
            return None
        frame = await hub.snapshot(self._max_age)
        if frame is not None:
            self._last_good = frame.jpeg
        return self._last_good

    async def handle_async_mjpeg_stream(self, request: web.Request) -> web.StreamResponse | None:
        """MJPEG for any number of viewers from the one upstream; a slow viewer skips frames."""
        if (hub := self._hub) is None:
            return await super().handle_async_mjpeg_stream(request)
        response = await mjpeg_response(request)
        async for frame in hub.frames():
            await response.write(self._mjpeg_parts.of(frame))
        return response

    # --- entity actions (registered in services.py) ---------------------------------------

    async def async_ptz_move(self, direction: str, step: int) -> None:
        await self.async_command(self.backend.async_move(Direction(direction), step))

    async def async_ptz_stop(self) -> None:
        await self.async_command(self.backend.async_stop())

    async def async_ptz_home(self) -> None:
        await self.async_command(self.backend.async_home())

    async def async_go_to_preset(self, preset: str) -> None:
        await self.async_command(self.backend.async_go_to_preset(self._preset_id(preset)))

    async def async_save_preset(self, name: str) -> None:
        await self.async_command(self.backend.async_save_preset(name))

    async def async_delete_preset(self, preset: str) -> None:
        await self.async_command(self.backend.async_delete_preset(self._preset_id(preset)))

    def _preset_id(self, preset: str) -> str:
        """A preset named by id or by name."""
        presets = self.coordinator.data.presets
        if preset in presets:
            return preset
        for preset_id, name in presets.items():
            if name.casefold() == preset.casefold():
                return preset_id
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unknown_preset",
            translation_placeholders={"preset": preset, "presets": ", ".join(presets.values()) or "-"},
        )


class CameraHubWebRtcCamera(CameraHubCamera):
    """Live view over native WebRTC: the hub's H.264 packets to each browser, untouched."""

    def __init__(
        self,
        camera: CameraRuntime,
        description: CameraEntityDescription,
        stream: str,
        max_age: float,
    ) -> None:
        super().__init__(camera, description, stream, max_age)
        self._webrtc = WebRtcServer(camera.hubs[stream], name=camera.device_info.get("name") or stream)

    def _has_stream(self, video: VideoSource | None) -> bool:
        return True  # the frontend shows a player only for cameras that support streaming

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()

        async def close_sessions(_: Event) -> None:
            await self._webrtc.async_close_all()

        self.async_on_remove(self.hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, close_sessions))

    async def async_will_remove_from_hass(self) -> None:
        await self._webrtc.async_close_all()
        await super().async_will_remove_from_hass()

    async def async_handle_async_webrtc_offer(
        self, offer_sdp: str, session_id: str, send_message: WebRTCSendMessage
    ) -> None:
        """Answer the browser's offer with a peer connection fed by the hub (errors go to the browser)."""
        ice_servers = [
            IceServer(urls=s.urls, username=s.username, credential=s.credential)
            for s in async_get_ice_servers(self.hass)
        ]
        try:
            answer = await self._webrtc.async_answer(offer_sdp, session_id, ice_servers)
        except WebRtcError as err:
            send_message(WebRTCError(err.code, str(err)))
            return
        send_message(WebRTCAnswer(answer))

    async def async_on_webrtc_candidate(self, session_id: str, candidate: RTCIceCandidateInit) -> None:
        try:
            await self._webrtc.async_add_candidate(
                session_id, candidate.candidate, candidate.sdp_mid, candidate.sdp_m_line_index
            )
        except WebRtcError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="webrtc_failed",
                translation_placeholders={"error": str(err)},
            ) from err

    @callback
    def close_webrtc_session(self, session_id: str) -> None:
        self._webrtc.close(session_id)


# --- cloud pictures: what the picture is and when it was taken, never an old one passed as new ----

# How long a still camera waits before asking its cloud again after no picture came back.
PICTURE_RETRY = 5.0
RECORDABLE = "recordable"
PICTURE_KIND = "picture_kind"
PICTURE_TAKEN_AT = "picture_taken_at"


class CloudPictureCamera(CameraHubCamera):
    """Stills the brand's cloud keeps: fetched at most once per `max_age` (concurrent requests share one
    fetch); the attributes describe exactly the picture served. A failed fetch serves the previous
    picture, still labelled with its own time, or none."""

    def __init__(
        self,
        camera: CameraRuntime,
        description: CameraEntityDescription,
        stream: str,
        max_age: float,
    ) -> None:
        super().__init__(camera, description, stream, max_age)
        self._picture: Picture | None = None
        self._next_fetch = -math.inf  # monotonic: when the cloud may be asked again
        self._fetch_lock = asyncio.Lock()

    async def _async_fetch_picture(self) -> Picture | None:
        raise NotImplementedError

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        recordable = super().extra_state_attributes or {}
        if (picture := self._picture) is None:
            return recordable
        taken_at = dt_util.as_utc(picture.taken_at).isoformat(timespec="seconds")
        return {**recordable, PICTURE_KIND: picture.kind, PICTURE_TAKEN_AT: taken_at}

    async def async_camera_image(self, width: int | None = None, height: int | None = None) -> bytes | None:
        async with self._fetch_lock:
            if time.monotonic() >= self._next_fetch:
                await self._async_refresh_picture()
        return self._picture.jpeg if self._picture else None

    async def handle_async_mjpeg_stream(self, request: web.Request) -> web.StreamResponse | None:
        """Pictures as they change, for as long as the viewer stays. Home Assistant's own still stream
        ends at the first missing picture, which leaves the browser's tile broken until the page is
        reloaded; a cloud that did not answer when the page opened is a pause here, not an error (the
        cloud is still asked at most once per `max_age`)."""
        response = await mjpeg_response(request)
        sent: bytes | None = None
        while request.transport is not None and not request.transport.is_closing():
            image = await self.async_camera_image()
            if image is not None and image != sent:
                part = mjpeg_part(image)
                # Chromium drops the first part of a multipart image (HA's own still stream works
                # around it the same way): the first picture goes out twice.
                await response.write(part + part if sent is None else part)
                sent = image
            await asyncio.sleep(self.frame_interval)
        return response

    async def _async_refresh_picture(self) -> None:
        # Failed attempts are paced too (`PICTURE_RETRY` at least): viewers waiting for a picture never
        # turn into a stream of requests to the cloud.
        started = time.monotonic()
        self._next_fetch = started + max(self._max_age, PICTURE_RETRY)
        try:
            picture = await self._async_fetch_picture()
        except CameraHubError as err:
            self.coordinator.logger.debug("%s: no picture from the cloud: %s", self.entity_id, err)
            return
        if picture is not None:
            self._next_fetch = started + self._max_age
        if picture is None or picture == self._picture:
            return
        changed = self._picture is None or (picture.kind, picture.taken_at) != (
            self._picture.kind,
            self._picture.taken_at,
        )
        self._picture = picture
        if changed:
            # Before the bytes go out: whoever reads the state after the picture sees what it is.
            self.async_write_ha_state()


class CameraHubStillCamera(CloudPictureCamera):
    """No live view Camera Hub can show: the newest still the cloud keeps (Furbo: the last event's)."""

    def _has_stream(self, video: VideoSource | None) -> bool:
        return False

    async def _async_fetch_picture(self) -> Picture | None:
        video = self.backend.video(self._stream)
        return await video.picture() if isinstance(video, StillVideo) else None


def _to_ha(message: WebRtcMessage) -> WebRTCMessage:
    match message:
        case WebRtcAnswer(sdp=sdp):
            return WebRTCAnswer(sdp)
        case WebRtcCandidate(candidate=candidate):
            return WebRTCCandidate(candidate)
        case _:
            return WebRTCError(message.code, message.message)


class CameraHubCloudCamera(CloudPictureCamera):
    """Live view answered by the brand's cloud (Ring): HA's offer, candidates and close map one to one
    onto the video source; the browser gets its media from the cloud. Stills are the cloud's."""

    def __init__(
        self,
        camera: CameraRuntime,
        description: CameraEntityDescription,
        stream: str,
        max_age: float,
    ) -> None:
        super().__init__(camera, description, stream, max_age)
        self._sessions: set[str] = set()

    def _has_stream(self, video: VideoSource | None) -> bool:
        return True  # the frontend shows a player only for cameras that support streaming

    def _cloud(self) -> CloudWebRtcVideo:
        video = self.backend.video(self._stream)
        if not isinstance(video, CloudWebRtcVideo):
            raise HomeAssistantError(translation_domain=DOMAIN, translation_key="not_supported")
        return video

    async def _async_fetch_picture(self) -> Picture | None:
        return await self._cloud().async_picture()

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()

        async def close_sessions(_: Event) -> None:
            self._close_all()

        self.async_on_remove(self.hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, close_sessions))

    async def async_will_remove_from_hass(self) -> None:
        self._close_all()
        await super().async_will_remove_from_hass()

    @callback
    def _close_all(self) -> None:
        for session_id in list(self._sessions):
            self.close_webrtc_session(session_id)

    async def async_handle_async_webrtc_offer(
        self, offer_sdp: str, session_id: str, send_message: WebRTCSendMessage
    ) -> None:
        """Hand the browser's offer to the cloud; its answer, candidates and errors go to the browser."""
        self._sessions.add(session_id)

        def send(message: WebRtcMessage) -> None:
            send_message(_to_ha(message))

        try:
            await self._cloud().async_offer(session_id, offer_sdp, send)
        except CameraHubError as err:
            self._sessions.discard(session_id)
            send_message(WebRTCError("camera_hub_offer_failed", str(err)))

    async def async_on_webrtc_candidate(self, session_id: str, candidate: RTCIceCandidateInit) -> None:
        try:
            await self._cloud().async_candidate(session_id, candidate)
        except CameraHubError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="webrtc_failed",
                translation_placeholders={"error": str(err)},
            ) from err

    @callback
    def close_webrtc_session(self, session_id: str) -> None:
        self._sessions.discard(session_id)
        video = self.backend.video(self._stream)
        if isinstance(video, CloudWebRtcVideo):
            video.close_session(session_id)
