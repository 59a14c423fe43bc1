"""Which cameras there are and how they are doing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from mcp_bridge.ha_client import Camera, HAClient
from mcp_bridge.tools._common import (
    CameraName,
    camera_ref,
    require,
    require_online,
    resolve_camera,
    tool_errors,
)

Enabled = Annotated[bool, Field(description="true to turn it on, false to turn it off.")]

_STATUS_ENTITIES = ("privacy", "motion_detection", "person_detection", "led", "night_vision", "preset")


class CameraSummary(BaseModel):
    id: str
    name: str
    vendor: str | None
    model: str | None
    online: bool
    privacy: bool | None
    capabilities: list[str]


class CameraStatus(CameraSummary):
    entity_id: str | None
    firmware: str | None
    state: str | None
    settings: dict[str, str]
    presets: list[str]
    last_motion: str | None
    control_method: str | None
    entities: dict[str, str]


def _iso(timestamp: float) -> str | None:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds") if timestamp else None


def summarize(client: HAClient, camera: Camera) -> CameraSummary:
    main = client.state(camera.camera_entity)
    privacy = client.state(camera.entities.get("privacy"))
    return CameraSummary(
        id=camera.slug,
        name=camera.name,
        vendor=camera.manufacturer,
        model=camera.model,
        online=main is not None and main.available,
        privacy=None if privacy is None or not privacy.available else privacy.state == "on",
        capabilities=camera.capabilities,
    )


@tool_errors
async def list_cameras(client: HAClient) -> dict[str, list[CameraSummary]]:
    """List the Camera Hub cameras in Home Assistant: id, name, vendor/model, online, privacy, capabilities.

    Use this first when the user talks about "the cameras" or names one you have not seen yet; pass the
    `id` (or name) to the other tools.
    """
    return {"cameras": [summarize(client, camera) for camera in await client.cameras()]}


@tool_errors
async def get_camera_status(client: HAClient, camera: CameraName) -> CameraStatus:
    """Everything known about one camera: online, privacy, detection, night vision, presets, last motion.

    Use it to answer questions about a camera's settings or to check before acting (e.g. which presets exist).
    """
    cam = await resolve_camera(client, camera)
    summary = summarize(client, cam)
    settings: dict[str, str] = {}
    presets: list[str] = []
    for key in _STATUS_ENTITIES:
        state = client.state(cam.entities.get(key))
        if state is None:
            continue
        settings[key] = state.state
        if key == "preset":
            presets = [str(option) for option in state.attributes.get("options") or []]
    motion = client.state(cam.entities.get("motion"))
    method = client.state(cam.entities.get("control_method"))
    main = client.state(cam.camera_entity)
    fields: dict[str, Any] = summary.model_dump()
    return CameraStatus(
        **fields,
        entity_id=cam.camera_entity,
        firmware=cam.sw_version,
        state=main.state if main else None,
        settings=settings,
        presets=presets,
        last_motion=motion.state if motion and motion.state not in ("unknown", "unavailable") else None,
        control_method=method.state if method else None,
        entities=dict(cam.entities),
    )


async def _switch(client: HAClient, name: str, key: str, enabled: bool, what: str) -> dict[str, Any]:
    cam = await resolve_camera(client, name)
    (entity_id,) = require(cam, key, what=what)
    require_online(client, cam, entity_id)
    await client.call_service("switch", "turn_on" if enabled else "turn_off", {"entity_id": entity_id})
    return {**camera_ref(cam), key: enabled}


@tool_errors
async def set_privacy_mode(client: HAClient, camera: CameraName, enabled: Enabled) -> dict[str, Any]:
    """Turn a camera's privacy mode on (lens masked, no picture or recording) or off.

    Use it for "stop watching the living room" (on) or "turn the living room camera back on" (off).
    """
    return await _switch(client, camera, "privacy", enabled, "switch privacy mode")


@tool_errors
async def set_motion_detection(client: HAClient, camera: CameraName, enabled: Enabled) -> dict[str, Any]:
    """Turn a camera's motion detection on or off (whether it reports motion events)."""
    return await _switch(client, camera, "motion_detection", enabled, "switch motion detection")
