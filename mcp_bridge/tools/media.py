"""Pictures, clips and event history."""

from __future__ import annotations

import asyncio
import contextlib
import io
import time
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastmcp import Context
from fastmcp.exceptions import ToolError
from fastmcp.utilities.types import Image
from pydantic import Field

from mcp_bridge.ha_client import Camera, HAClient, HANotFound, redact_url
from mcp_bridge.tools._common import (
    CameraName,
    camera_ref,
    require,
    require_online,
    resolve_camera,
    tool_errors,
)

MAX_IMAGE_BYTES = 1_000_000
MAX_IMAGE_SIDE = 1568
MAX_CLIP_SECONDS = 60
# What a cloud camera says about the picture it serves (docs/entities.md).
PICTURE_KIND = "picture_kind"
PICTURE_TAKEN_AT = "picture_taken_at"
# Event attributes every event entity has; the rest are the brand's (subtype, caption, …).
_HA_EVENT_ATTRIBUTES = frozenset({"event_type", "event_types", "device_class", "friendly_name", "icon"})

Width = Annotated[
    int, Field(ge=160, le=MAX_IMAGE_SIDE, description="Picture width in pixels, 160-1568 (default 1024).")
]
Seconds = Annotated[
    int, Field(ge=1, le=MAX_CLIP_SECONDS, description="Clip length in seconds, 1-60 (default 10).")
]
Hours = Annotated[int, Field(ge=1, le=168, description="How far back to look, in hours (default 24).")]
Limit = Annotated[
    int, Field(ge=1, le=100, description="At most this many events, newest first (default 20).")
]


def jpeg_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a JPEG's SOF marker, or None if `data` is not a JPEG."""
    if data[:2] != b"\xff\xd8":
        return None
    pos = 2
    while pos + 9 < len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height = int.from_bytes(data[pos + 5 : pos + 7], "big")
            width = int.from_bytes(data[pos + 7 : pos + 9], "big")
            return width, height
        pos += 2 + length
    return None


def fit_jpeg(data: bytes, width: int) -> bytes:
    """Re-encode with Pillow, only when HA's answer is larger than `width` / MAX_IMAGE_SIDE or 1 MB."""
    size = jpeg_size(data)
    if size is not None and max(size) <= MAX_IMAGE_SIDE and size[0] <= width and len(data) <= MAX_IMAGE_BYTES:
        return data
    try:
        from PIL import Image as PILImage  # noqa: PLC0415 - needed only when HA could not scale the picture
    except ImportError:
        raise ToolError(
            "Home Assistant sent a picture larger than Claude accepts and Pillow is not installed to shrink "
            "it; install Pillow next to camera-hub-mcp."
        ) from None
    picture = PILImage.open(io.BytesIO(data)).convert("RGB")
    picture.thumbnail((min(width, MAX_IMAGE_SIDE), MAX_IMAGE_SIDE))
    for quality in (85, 70, 55, 40):
        out = io.BytesIO()
        picture.save(out, "JPEG", quality=quality)
        if out.tell() <= MAX_IMAGE_BYTES:
            return out.getvalue()
    raise ToolError("The camera's picture stays over 1 MB even at low quality; ask for a smaller width.")


def _privacy_on(client: HAClient, cam: Camera) -> bool:
    state = client.state(cam.entities.get("privacy"))
    return state is not None and state.state == "on"


@tool_errors
async def get_snapshot(
    client: HAClient, camera: CameraName, width: Width = 1024
) -> Image | list[Image | str]:
    """Take a picture with a camera now and return it as a JPEG image you can look at.

    Use it whenever the user wants to see something ("show me the garden camera", "is the door open?").
    Cloud cameras may return an older picture (an event's); a line then says what it is and its age.
    """
    cam = await resolve_camera(client, camera)
    if (entity_id := cam.camera_entity) is None:
        raise ToolError(f"'{cam.name}' has no camera entity to take pictures with.")
    require_online(client, cam)
    if _privacy_on(client, cam):
        raise ToolError(
            f"'{cam.name}' is in privacy mode, so it shows no picture; turn it off with set_privacy_mode."
        )
    data, content_type = await client.camera_image(entity_id, width)
    if content_type not in ("image/jpeg", "image/jpg"):
        raise ToolError(f"'{cam.name}' sent {content_type or 'no picture'} instead of a JPEG picture.")
    image = Image(data=await asyncio.to_thread(fit_jpeg, data, width), format="jpeg")
    # Read after the picture: a cloud camera labels the picture it just served (picture_kind/_taken_at).
    state = await client.get_json(f"/api/states/{entity_id}")
    if (label := picture_label(cam.name, (state or {}).get("attributes") or {})) is not None:
        return [image, label]
    return image


def picture_label(name: str, attributes: dict[str, Any], now: datetime | None = None) -> str | None:
    """ "Front door: event picture taken 3 min ago (2026-12-01T10:02:00+00:00)" for a cloud picture;
    None for a live camera's (it has no picture attributes)."""
    kind, taken = attributes.get(PICTURE_KIND), attributes.get(PICTURE_TAKEN_AT)
    if not isinstance(kind, str) or not isinstance(taken, str):
        return None
    try:
        taken_at = datetime.fromisoformat(taken).astimezone(UTC)
    except ValueError:
        return f"{name}: {kind} picture (taken at an unknown time)"
    age = max(0.0, ((now or datetime.now(UTC)) - taken_at).total_seconds())
    return f"{name}: {kind} picture taken {_age(age)} ({taken_at.isoformat(timespec='seconds')})"


def _age(seconds: float) -> str:
    if seconds < 90:
        return "just now" if seconds < 10 else f"{seconds:.0f} s ago"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.0f} h ago"
    return f"{seconds / 86400:.0f} days ago"


@tool_errors
async def record_clip(
    client: HAClient, camera: CameraName, seconds: Seconds = 10, ctx: Context | None = None
) -> dict[str, Any]:
    """Record a video clip (MP4, at most 60 s) from a camera into Home Assistant's media folder.

    Use it when the user wants a recording rather than a still picture; it returns where the file is.
    Reports progress while recording.
    """
    cam = await resolve_camera(client, camera)
    (entity_id,) = require(cam, "camera", what="record")
    if "record" not in cam.capabilities:
        raise ToolError(
            f"'{cam.name}' cannot record: Home Assistant has no video stream of it to save (its live view "
            f"is not a stream HA can record); it can: {', '.join(cam.capabilities)}. Use get_snapshot for "
            "a picture."
        )
    require_online(client, cam)
    if _privacy_on(client, cam):
        raise ToolError(f"'{cam.name}' is in privacy mode, so there is nothing to record; turn it off first.")
    config = await client.config()
    www = f"{str(config.get('config_dir', '')).rstrip('/')}/www"
    # www is served without login at /local/: never record there.
    dirs = [d for d in config.get("allowlist_external_dirs") or [] if d.rstrip("/") != www]
    base = next((d for d in dirs if d.rstrip("/").endswith("media")), dirs[0] if dirs else None)
    if base is None:
        raise ToolError(
            "Home Assistant allows no private folder to record into; add `media_dirs` or "
            "`allowlist_external_dirs` to configuration.yaml."
        )
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    path = f"{base.rstrip('/')}/camera_hub-{cam.slug}-{stamp}.mp4"
    await client.call_service(
        "camera", "record", {"entity_id": entity_id, "filename": path, "duration": seconds}
    )
    # camera.record returns once recording started; the file is complete `seconds` later.
    started = time.monotonic()
    while (elapsed := time.monotonic() - started) < seconds:
        if ctx is not None:
            await ctx.report_progress(elapsed, seconds, f"recording {cam.name}: {elapsed:.0f}/{seconds} s")
        await asyncio.sleep(min(1.0, seconds - elapsed))
    if ctx is not None:
        await ctx.report_progress(seconds, seconds, "recording finished; HA is writing the file")
    return {
        **camera_ref(cam),
        "file": path,
        "seconds": seconds,
        "note": "Home Assistant writes the MP4 on its own disk when the clip ends (Media → Local media).",
    }


@tool_errors
async def get_recent_events(
    client: HAClient, camera: CameraName, hours: Hours = 24, limit: Limit = 20
) -> dict[str, Any]:
    """Recent events of a camera (motion, doorbell rings, intercom unlocks, pet activity), newest first,
    with their times and details (e.g. person/motion subtype, caption).

    Use it for "was there motion at the front door tonight?" or "when did someone last ring?".
    """
    cam = await resolve_camera(client, camera)
    event_entities = cam.event_entities
    if not event_entities:
        raise ToolError(f"'{cam.name}' reports no events (it has no motion or doorbell event entity).")
    start = datetime.now(UTC) - timedelta(hours=hours)
    events: list[dict[str, Any]] = []
    source = "history"
    try:
        history = await client.get_json(
            f"/api/history/period/{start.isoformat()}",
            {"filter_entity_id": ",".join(event_entities), "significant_changes_only": "0"},
        )
        for series in history or []:
            for item in series:
                if item.get("state") not in ("unknown", "unavailable", None):
                    events.append(_event(item["entity_id"], item["state"], item.get("attributes") or {}))
    except HANotFound:
        source = "since the bridge started (HA's `history:` integration is off)"
        for entity_id in event_entities:
            for seen in client.seen_events(entity_id):
                events.append(_event(entity_id, seen.state, seen.attributes))
    cutoff = start.isoformat()
    events = sorted((e for e in events if e["time"] >= cutoff), key=lambda e: e["time"], reverse=True)
    return {**camera_ref(cam), "source": source, "events": events[:limit]}


def _event(entity_id: str, state: str, attributes: dict[str, Any]) -> dict[str, Any]:
    kind = attributes.get("event_type") or entity_id.rsplit("_", 1)[-1]
    when = state
    with contextlib.suppress(ValueError):
        when = datetime.fromisoformat(state).astimezone(UTC).isoformat(timespec="seconds")
    event: dict[str, Any] = {"time": when, "type": kind, "entity_id": entity_id}
    if "active" in attributes:
        event["active"] = attributes["active"]
    details = {
        k: _shareable(v) for k, v in attributes.items() if k not in _HA_EVENT_ATTRIBUTES and k != "active"
    }
    if details:
        event["details"] = details
    return event


def _shareable(value: Any) -> Any:
    """A cloud's signed link loses its query (the signature); nothing else in an event is secret."""
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        return redact_url(value)
    if isinstance(value, dict):
        return {k: _shareable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shareable(v) for v in value]
    return value
