"""What every tool group shares: naming a camera, turning HA failures into `ToolError`, parameters."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, ParamSpec, TypeVar

from fastmcp.exceptions import ToolError
from pydantic import Field

from mcp_bridge.ha_client import Camera, EntityState, HAClient, HAError

P = ParamSpec("P")
R = TypeVar("R")

CameraName = Annotated[
    str,
    Field(description="The camera: its name, its id from list_cameras, or an entity id."),
]


def tool_errors(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Let HA failures reach the model as `ToolError` with their one sentence, without a traceback chain."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(*args, **kwargs)
        except HAError as err:
            raise ToolError(str(err)) from None

    return wrapper


async def resolve_camera(client: HAClient, name: str) -> Camera:
    """Find the one camera `name` means, or raise a `ToolError` that lists the candidates."""
    cameras = await client.cameras()
    wanted = name.strip().lower()
    for matches in (
        [c for c in cameras if wanted in (c.device_id.lower(), c.slug.lower())],
        [c for c in cameras if wanted in (e.lower() for e in c.entities.values())],
        [c for c in cameras if c.name.lower() == wanted],
        [c for c in cameras if wanted and (wanted in c.name.lower() or wanted in c.slug)],
    ):
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            names = ", ".join(f"'{c.name}' ({c.slug})" for c in matches)
            raise ToolError(f"'{name}' could mean several cameras: {names}; name one of them exactly.")
    known = ", ".join(f"'{c.name}' ({c.slug})" for c in cameras) or "none — Camera Hub has no cameras yet"
    raise ToolError(f"No Camera Hub camera is called '{name}'; known cameras: {known}.")


def require(camera: Camera, *keys: str, what: str) -> list[str]:
    """The entity ids for `keys`, or a `ToolError` saying the camera cannot do `what`."""
    missing = [key for key in keys if key not in camera.entities]
    if missing:
        raise ToolError(
            f"'{camera.name}' cannot {what} (it has no {', '.join(missing)} entity); "
            f"it can: {', '.join(camera.capabilities) or 'nothing yet'}."
        )
    return [camera.entities[key] for key in keys]


def require_online(client: HAClient, camera: Camera, entity_id: str | None = None) -> EntityState | None:
    """Raise a `ToolError` if HA reports the camera (or one of its entities) unavailable."""
    state = client.state(entity_id or camera.camera_entity)
    if state is not None and not state.available:
        raise ToolError(
            f"'{camera.name}' is offline (Home Assistant reports it unavailable); check that the camera has "
            "power and network, then try again."
        )
    return state


def camera_ref(camera: Camera) -> dict[str, Any]:
    return {"camera": camera.slug, "name": camera.name}
