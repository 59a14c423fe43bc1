"""Pan, tilt and presets, through the integration's entity actions (docs/entities.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastmcp.exceptions import ToolError
from pydantic import Field

from mcp_bridge.ha_client import Camera, HAClient
from mcp_bridge.tools._common import (
    CameraName,
    camera_ref,
    require,
    require_online,
    resolve_camera,
    tool_errors,
)

Direction = Annotated[
    Literal["left", "right", "up", "down"],
    Field(description="Where to point the camera: left, right, up or down."),
]
Step = Annotated[int, Field(ge=1, le=90, description="How far, in degrees (roughly): 1-90, default 15.")]
PresetRef = Annotated[
    str, Field(description="The preset's name (as get_camera_status lists them) or its id.")
]
PresetName = Annotated[str, Field(min_length=1, max_length=32, description="A name for the new preset.")]


async def _ptz_camera(client: HAClient, name: str, what: str, *, needs: tuple[str, ...] = ()) -> Camera:
    cam = await resolve_camera(client, name)
    if needs:
        require(cam, *needs, what=what)
    elif not {"pan", "tilt"} & set(cam.capabilities):
        raise ToolError(f"'{cam.name}' cannot {what}: it has no pan/tilt motor.")
    require_online(client, cam)
    return cam


async def _act(client: HAClient, cam: Camera, service: str, **data: Any) -> dict[str, Any]:
    await client.call_service("camera_hub", service, {"entity_id": cam.camera_entity, **data})
    return {**camera_ref(cam), "done": service, **data}


def _preset_options(client: HAClient, cam: Camera) -> list[str]:
    state = client.state(cam.entities.get("preset"))
    return [str(option) for option in (state.attributes.get("options") or [])] if state else []


@tool_errors
async def ptz_move(
    client: HAClient, camera: CameraName, direction: Direction, step: Step = 15
) -> dict[str, Any]:
    """Turn a pan/tilt camera one step left, right, up or down.

    Use it when the user wants to look somewhere else; call get_snapshot afterwards to show the new view.
    """
    axis = ("pan_left", "pan_right") if direction in ("left", "right") else ("tilt_up", "tilt_down")
    cam = await _ptz_camera(client, camera, f"move {direction}", needs=axis)
    return await _act(client, cam, "ptz_move", direction=direction, step=step)


@tool_errors
async def ptz_stop(client: HAClient, camera: CameraName) -> dict[str, Any]:
    """Stop a pan/tilt movement that is still running. Use it if the camera keeps turning."""
    cam = await _ptz_camera(client, camera, "stop moving")
    return await _act(client, cam, "ptz_stop")


@tool_errors
async def ptz_home(client: HAClient, camera: CameraName) -> dict[str, Any]:
    """Turn a pan/tilt camera back to its home position, e.g. for "reset the view"."""
    cam = await _ptz_camera(client, camera, "go home")
    return await _act(client, cam, "ptz_home")


@tool_errors
async def ptz_go_to_preset(client: HAClient, camera: CameraName, preset: PresetRef) -> dict[str, Any]:
    """Point a camera at one of its saved presets (e.g. "pan the living room camera to the door preset")."""
    cam = await _ptz_camera(client, camera, "go to presets", needs=("preset",))
    options = _preset_options(client, cam)
    if options and not preset.isdigit() and preset not in options:
        match = [o for o in options if o.lower() == preset.lower()]
        if len(match) != 1:
            raise ToolError(f"'{cam.name}' has no preset '{preset}'; its presets are: {', '.join(options)}.")
        preset = match[0]
    return await _act(client, cam, "go_to_preset", preset=preset)


@tool_errors
async def ptz_save_preset(client: HAClient, camera: CameraName, name: PresetName) -> dict[str, Any]:
    """Save where the camera points now as a named preset, so ptz_go_to_preset can return to it later."""
    cam = await _ptz_camera(client, camera, "save presets", needs=("preset",))
    return await _act(client, cam, "save_preset", name=name)


@tool_errors
async def ptz_delete_preset(client: HAClient, camera: CameraName, preset: PresetRef) -> dict[str, Any]:
    """Delete one of the camera's saved presets, by name or id. Only when the user asks to remove it."""
    cam = await _ptz_camera(client, camera, "delete presets", needs=("preset",))
    return await _act(client, cam, "delete_preset", preset=preset)
