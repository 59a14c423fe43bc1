"""Recordings and clips the brands' clouds keep (Ring recordings, Furbo clips and Doggie Diary), in HA's
media browser: Camera Hub → a camera → its items, newest first.

Clouds hand out signed links that expire, so a link is never given to the browser: an item resolves to
this integration's own authenticated view, which asks the brand to open the item on every request (the
brand fetches a fresh link each time). Thumbnails go the same way.
"""

from __future__ import annotations

import base64
import binascii
import logging
from http import HTTPStatus
from typing import TYPE_CHECKING

from aiohttp import web
from homeassistant.components.media_player.const import MediaClass
from homeassistant.components.media_player.errors import BrowseError
from homeassistant.components.media_source import (
    BrowseMediaSource,
    MediaSource,
    MediaSourceItem,
    PlayMedia,
    Unresolvable,
)
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers.http import HomeAssistantView

from .const import DOMAIN
from .vendors.base import CameraHubError, MediaItem, MediaLibrary

if TYPE_CHECKING:
    from .cameras import CameraHubConfigEntry, CameraRuntime

_LOGGER = logging.getLogger(__name__)

MEDIA_URL = "/api/camera_hub/media/{entry_id}/{camera}/{item}/{part}"
PART_MEDIA = "media"
PART_THUMBNAIL = "thumbnail"
_SEPARATOR = "|"


async def async_get_media_source(hass: HomeAssistant) -> CameraHubMediaSource:
    """HA's media_source calls this once; the view that serves the items is registered with it."""
    hass.http.register_view(CameraHubMediaView(hass))
    return CameraHubMediaSource(hass)


def _encode(text: str) -> str:
    """An id made safe for a media content id and a URL path segment (ids may hold any character)."""
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(text: str) -> str:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError) as err:
        raise ValueError(text) from err


def media_url(entry_id: str, camera_id: str, item_id: str, part: str) -> str:
    return MEDIA_URL.format(entry_id=entry_id, camera=_encode(camera_id), item=_encode(item_id), part=part)


def _media_cameras(hass: HomeAssistant) -> list[tuple[CameraHubConfigEntry, CameraRuntime]]:
    """Every loaded camera whose brand keeps recordings for it."""
    entries: list[CameraHubConfigEntry] = hass.config_entries.async_entries(DOMAIN)
    return [
        (entry, camera)
        for entry in entries
        if entry.state is ConfigEntryState.LOADED
        for camera in entry.runtime_data.cameras.values()
        if camera.backend.capabilities.media
    ]


def _library(hass: HomeAssistant, entry_id: str, camera_id: str) -> tuple[CameraRuntime, MediaLibrary] | None:
    for entry, camera in _media_cameras(hass):
        if entry.entry_id == entry_id and camera.id == camera_id:
            library = camera.backend.media()
            return (camera, library) if library is not None else None
    return None


def _media_class(content_type: str) -> MediaClass:
    return MediaClass.IMAGE if content_type.startswith("image/") else MediaClass.VIDEO


class CameraHubMediaSource(MediaSource):
    """Identifiers: `<entry id>|<camera id>` for a camera's folder, plus `|<item id>|<content type>` for
    an item (ids base64url-encoded)."""

    name = "Camera Hub"

    def __init__(self, hass: HomeAssistant) -> None:
        super().__init__(DOMAIN)
        self.hass = hass

    async def async_resolve_media(self, item: MediaSourceItem) -> PlayMedia:
        parts = (item.identifier or "").split(_SEPARATOR)
        if len(parts) != 4:
            raise Unresolvable(translation_domain=DOMAIN, translation_key="media_not_found")
        entry_id, camera, item_id, content_type = parts
        try:
            camera_id, item_id = _decode(camera), _decode(item_id)
        except ValueError as err:
            raise Unresolvable(translation_domain=DOMAIN, translation_key="media_not_found") from err
        if _library(self.hass, entry_id, camera_id) is None:
            raise Unresolvable(translation_domain=DOMAIN, translation_key="media_not_found")
        # HA signs this path for the player; the view opens the item afresh on every request.
        return PlayMedia(media_url(entry_id, camera_id, item_id, PART_MEDIA), content_type)

    async def async_browse_media(self, item: MediaSourceItem) -> BrowseMediaSource:
        if not item.identifier:
            return self._root()
        parts = item.identifier.split(_SEPARATOR)
        try:
            entry_id, camera_id = parts[0], _decode(parts[1])
        except (IndexError, ValueError) as err:
            raise BrowseError(translation_domain=DOMAIN, translation_key="media_not_found") from err
        if len(parts) != 2 or (found := _library(self.hass, entry_id, camera_id)) is None:
            raise BrowseError(translation_domain=DOMAIN, translation_key="media_not_found")
        camera, library = found
        try:
            items = await library.async_items()
        except CameraHubError as err:
            raise BrowseError(
                translation_domain=DOMAIN,
                translation_key="media_unavailable",
                translation_placeholders={"error": str(err)},
            ) from err
        newest_first = sorted(items, key=lambda media: media.taken_at, reverse=True)
        return self._folder(
            f"{entry_id}{_SEPARATOR}{_encode(camera_id)}",
            camera.coordinator.title,
            [self._item(entry_id, camera_id, media) for media in newest_first],
        )

    def _root(self) -> BrowseMediaSource:
        children = [
            self._folder(f"{entry.entry_id}{_SEPARATOR}{_encode(camera.id)}", camera.coordinator.title, None)
            for entry, camera in _media_cameras(self.hass)
        ]
        return self._folder(None, self.name, children)

    def _folder(
        self, identifier: str | None, title: str, children: list[BrowseMediaSource] | None
    ) -> BrowseMediaSource:
        return BrowseMediaSource(
            domain=DOMAIN,
            identifier=identifier,
            media_class=MediaClass.DIRECTORY,
            media_content_type="",
            title=title,
            can_play=False,
            can_expand=True,
            children=children,
            children_media_class=MediaClass.DIRECTORY if identifier is None else MediaClass.VIDEO,
        )

    def _item(self, entry_id: str, camera_id: str, media: MediaItem) -> BrowseMediaSource:
        identifier = _SEPARATOR.join((entry_id, _encode(camera_id), _encode(media.id), media.content_type))
        return BrowseMediaSource(
            domain=DOMAIN,
            identifier=identifier,
            media_class=_media_class(media.content_type),
            media_content_type=media.content_type,
            title=media.title,
            can_play=True,
            can_expand=False,
            thumbnail=media_url(entry_id, camera_id, media.id, PART_THUMBNAIL) if media.thumbnail else None,
        )


class CameraHubMediaView(HomeAssistantView):
    """Streams an item (or its thumbnail) from the brand's cloud, opened afresh on every request.

    Authenticated: a logged-in frontend, or the signed path HA's media source hands a player.
    """

    requires_auth = True
    url = MEDIA_URL
    name = "api:camera_hub:media"

    def __init__(self, hass: HomeAssistant) -> None:
        self.hass = hass

    async def get(
        self, request: web.Request, entry_id: str, camera: str, item: str, part: str
    ) -> web.StreamResponse:
        if part not in (PART_MEDIA, PART_THUMBNAIL):
            return web.Response(status=HTTPStatus.NOT_FOUND)
        try:
            camera_id, item_id = _decode(camera), _decode(item)
        except ValueError:
            return web.Response(status=HTTPStatus.NOT_FOUND)
        if (found := _library(self.hass, entry_id, camera_id)) is None:
            return web.Response(status=HTTPStatus.NOT_FOUND)
        _, library = found
        try:
            body = await library.async_open(item_id, thumbnail=part == PART_THUMBNAIL)
        except CameraHubError as err:
            # The brand's message names no credential or signed link (CameraHubError's contract).
            _LOGGER.debug("opening %s of %s failed: %s", part, camera_id, err)
            return web.Response(status=HTTPStatus.BAD_GATEWAY, text=str(err))
        response = web.StreamResponse(headers={"Cache-Control": "no-store"})
        response.content_type = body.content_type
        if body.size is not None:
            response.content_length = body.size
        await response.prepare(request)
        try:
            async for chunk in body.chunks:
                await response.write(chunk)
        except CameraHubError as err:
            # The headers are sent: cut the connection rather than end a truncated file as if whole.
            _LOGGER.debug("streaming %s of %s broke off: %s", part, camera_id, err)
            if (transport := request.transport) is not None:
                transport.close()
            return response
        finally:
            # A viewer who leaves early must not keep the cloud's download open.
            if (aclose := getattr(body.chunks, "aclose", None)) is not None:
                await aclose()
        await response.write_eof()
        return response
