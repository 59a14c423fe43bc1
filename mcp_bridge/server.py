"""FastMCP wiring: which tool functions are exposed, with which annotations, around one HA client."""

from __future__ import annotations

import inspect
import typing
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import mcp_types as mt
from fastmcp import FastMCP
from fastmcp.exceptions import ToolError, ValidationError
from fastmcp.server.auth import AuthProvider
from fastmcp.server.middleware import CallNext, Middleware, MiddlewareContext
from fastmcp.tools import ToolResult
from mcp_types import ToolAnnotations
from pydantic import ValidationError as PydanticValidationError

from mcp_bridge.ha_client import HAClient
from mcp_bridge.tools import cameras, media, ptz, system

INSTRUCTIONS = (
    "Camera Hub cameras in the user's Home Assistant. Start with list_cameras; name a camera by its id or "
    "name. get_snapshot returns a picture you can look at."
)


def _hints(
    *, read_only: bool = False, destructive: bool = False, idempotent: bool = False
) -> ToolAnnotations:
    return ToolAnnotations(
        read_only_hint=read_only,
        destructive_hint=destructive,
        idempotent_hint=idempotent,
        open_world_hint=False,
    )


READ = _hints(read_only=True, idempotent=True)
ACT = _hints()
SET = _hints(idempotent=True)

TOOLS: list[tuple[Callable[..., Awaitable[Any]], ToolAnnotations]] = [
    (cameras.list_cameras, READ),
    (cameras.get_camera_status, READ),
    (media.get_snapshot, READ),
    (ptz.ptz_move, ACT),
    (ptz.ptz_stop, SET),
    (ptz.ptz_home, SET),
    (ptz.ptz_go_to_preset, SET),
    (ptz.ptz_save_preset, ACT),
    (ptz.ptz_delete_preset, _hints(destructive=True, idempotent=True)),
    (cameras.set_privacy_mode, SET),
    (cameras.set_motion_detection, SET),
    (media.record_clip, ACT),
    (media.get_recent_events, READ),
    (system.add_camera, ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False)),
    (system.remove_camera, _hints(destructive=True, idempotent=True)),
    (system.reboot_camera, _hints(destructive=True)),
]
GATED = frozenset({"remove_camera", "reboot_camera"})


def bind(
    fn: Callable[..., Awaitable[Any]], client: HAClient, refusal: str | None = None
) -> Callable[..., Awaitable[Any]]:
    """`fn` with `client` bound as its first argument and its signature kept for FastMCP.

    The docstring is not copied: `build_server` passes it as the description, which spares FastMCP
    parsing it with griffe (a 0.1 s import at every start) to find sections ours do not have.
    """
    hints = typing.get_type_hints(fn, include_extras=True)
    signature = inspect.signature(fn)
    params = [p.replace(annotation=hints[p.name]) for p in list(signature.parameters.values())[1:]]

    async def tool(**kwargs: Any) -> Any:
        if refusal is not None:
            raise ToolError(refusal)
        return await fn(client, **kwargs)

    tool.__name__ = tool.__qualname__ = fn.__name__
    tool.__annotations__ = {p.name: p.annotation for p in params} | {"return": hints["return"]}
    tool.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=params, return_annotation=hints["return"]
    )
    return tool


def argument_problems(tool: str, error: PydanticValidationError) -> str:
    """One sentence naming each bad argument and what it should be, never the value that was sent
    (pydantic's own text spans lines, links its docs and echoes the input — a password, say)."""
    problems = []
    for item in error.errors(include_url=False, include_input=False, include_context=False):
        where = ".".join(str(part) for part in item["loc"]) or "the arguments"
        problems.append(f"{where}: {item['msg'][:1].lower()}{item['msg'][1:]}")
    return f"{tool} cannot use these arguments ({'; '.join(problems)}); see the tool's input schema."


class OneSentenceArgumentErrors(Middleware):
    """Bad arguments reach the model as one `ToolError` sentence instead of pydantic's report."""

    async def on_call_tool(
        self,
        context: MiddlewareContext[mt.CallToolRequestParams],
        call_next: CallNext[mt.CallToolRequestParams, ToolResult],
    ) -> ToolResult:
        try:
            return await call_next(context)
        except ValidationError as err:
            if not isinstance(err.__cause__, PydanticValidationError):
                raise
            raise ToolError(argument_problems(context.message.name, err.__cause__)) from None


def build_server(
    client: HAClient, *, allow_destructive: bool = False, auth: AuthProvider | None = None
) -> FastMCP[Any]:
    @asynccontextmanager
    async def lifespan(_: FastMCP[Any]) -> AsyncIterator[dict[str, Any]]:
        await client.start()
        try:
            yield {"ha": client}
        finally:
            await client.close()

    mcp: FastMCP[Any] = FastMCP("camera-hub", instructions=INSTRUCTIONS, lifespan=lifespan, auth=auth)
    mcp.add_middleware(OneSentenceArgumentErrors())
    for fn, hints in TOOLS:
        refusal = None
        if fn.__name__ in GATED and not allow_destructive:
            refusal = (
                f"{fn.__name__} is turned off in this bridge; the person running it can restart "
                "camera-hub-mcp with --allow-destructive to allow it."
            )
        mcp.tool(
            bind(fn, client, refusal),
            description=inspect.getdoc(fn),
            annotations=hints,
            output_schema=None,
        )
    return mcp
