"""Adding, removing and rebooting cameras."""

from __future__ import annotations

import contextlib
from typing import Annotated, Any

from fastmcp.exceptions import ToolError
from pydantic import Field

from mcp_bridge.ha_client import DOMAIN, HAClient, HAError
from mcp_bridge.tools._common import (
    CameraName,
    camera_ref,
    require,
    require_online,
    resolve_camera,
    tool_errors,
)

Host = Annotated[
    str, Field(min_length=1, description="The camera's IP address or host name on the local network.")
]
Username = Annotated[
    str, Field(description="The camera account's user name (Tapo app → camera → Advanced → Camera Account).")
]
Password = Annotated[str, Field(description="The camera account's password.")]
CloudPassword = Annotated[
    str | None, Field(description="The TP-Link cloud (Tapo app) password, needed for pan/tilt and settings.")
]
Port = Annotated[
    int | None, Field(ge=1, le=65535, description="Only if port-forwarded; default is standard.")
]
_FLOW = "/api/config/config_entries/flow"


async def _translations(client: HAClient) -> dict[str, str]:
    try:
        result = await client.ws_command(
            {
                "type": "frontend/get_translations",
                "language": "en",
                "category": "config",
                "integration": [DOMAIN],
            }
        )
    except HAError:
        return {}
    return {str(k): str(v) for k, v in (result or {}).get("resources", {}).items()}


async def _explain(client: HAClient, kind: str, key: str, flow: dict[str, Any]) -> str:
    text = (await _translations(client)).get(f"component.{DOMAIN}.config.{kind}.{key}", key)
    for name, value in (flow.get("description_placeholders") or {}).items():
        text = text.replace("{" + name + "}", str(value))
    return text


@tool_errors
async def add_camera(
    client: HAClient,
    host: Host,
    username: Username,
    password: Password,
    cloud_password: CloudPassword = None,
    control_port: Port = None,
    onvif_port: Port = None,
    rtsp_port: Port = None,
) -> dict[str, Any]:
    """Add a TP-Link Tapo camera to Home Assistant through Camera Hub's setup (its config flow).

    Use it only when the user asks to add a camera and gave its address and camera account.
    On failure it returns Camera Hub's explanation of what to change.
    """
    answers: dict[str, Any] = {
        "host": host,
        "username": username,
        "password": password,
        "cloud_password": cloud_password,
    }
    ports = {"control_port": control_port, "onvif_port": onvif_port, "rtsp_port": rtsp_port}
    notes: list[str] = []
    flow = await client.post_json(_FLOW, {"handler": DOMAIN, "show_advanced_options": False})
    flow_id = flow.get("flow_id")
    try:
        if flow.get("type") == "menu":
            flow = await client.post_json(f"{_FLOW}/{flow_id}", {"next_step_id": "tapo"})
        for _ in range(3):  # the Tapo form, then at most a confirmation or two
            if flow.get("type") != "form" or flow.get("errors"):
                break
            reply: dict[str, Any] = {}
            for item in flow.get("data_schema") or []:
                name = item["name"]
                if item.get("type") == "expandable":
                    section = {k: v for k, v in ports.items() if v is not None}
                    reply[name] = {
                        f["name"]: section.get(f["name"], f.get("default")) for f in item["schema"]
                    }
                elif answers.get(name) is not None:
                    reply[name] = answers[name]
                elif item.get("required") and "default" not in item:
                    raise ToolError(f"Camera Hub also needs '{name}' to add this camera.")
            if not reply:  # a confirmation step: say what it warned about
                notes.append(await _explain(client, f"step.{flow.get('step_id')}", "description", flow))
            flow = await client.post_json(f"{_FLOW}/{flow_id}", reply)
        kind = flow.get("type")
        if kind == "create_entry":
            flow_id = None
            client.registry_changed()
            result = flow.get("result") or {}
            return {"added": flow.get("title"), "entry_id": result.get("entry_id"), "notes": notes}
        if kind == "abort":
            flow_id = None
            message = await _explain(client, "abort", flow["reason"], flow)
            raise ToolError(f"Camera Hub could not add the camera: {message}")
        errors = flow.get("errors") or {}
        if errors:
            texts = [await _explain(client, "error", str(key), flow) for key in errors.values()]
            raise ToolError(f"Camera Hub could not add the camera: {' '.join(texts)}")
        raise ToolError(
            f"Camera Hub needs more answers (step '{flow.get('step_id')}'); finish adding it in "
            "Home Assistant under Settings → Devices & services."
        )
    finally:
        if flow_id is not None:
            with contextlib.suppress(HAError):
                await client.delete_json(f"{_FLOW}/{flow_id}")


@tool_errors
async def remove_camera(client: HAClient, camera: CameraName) -> dict[str, Any]:
    """Remove a camera from Home Assistant (deletes its Camera Hub entry, device and entities).

    Use it only when the user explicitly asks to remove or delete that camera.
    """
    cam = await resolve_camera(client, camera)
    if cam.config_entry_id is None:
        raise ToolError(
            f"'{cam.name}' has no Camera Hub entry to remove; remove it in Home Assistant instead."
        )
    others = [c.name for c in await client.cameras() if c.config_entry_id == cam.config_entry_id and c != cam]
    if others:
        raise ToolError(
            f"'{cam.name}' belongs to an account that also holds {', '.join(repr(n) for n in others)}; "
            "removing its entry would remove them all. Remove the camera in the brand's app, or the account "
            "in Home Assistant under Settings → Devices & services."
        )
    result = await client.delete_json(f"/api/config/config_entries/entry/{cam.config_entry_id}")
    client.registry_changed()
    return {**camera_ref(cam), "removed": True, "restart_needed": bool((result or {}).get("require_restart"))}


@tool_errors
async def reboot_camera(client: HAClient, camera: CameraName) -> dict[str, Any]:
    """Restart a camera; it is offline for about a minute. Only when the user asks, e.g. if it misbehaves."""
    cam = await resolve_camera(client, camera)
    (entity_id,) = require(cam, "reboot", what="reboot")
    require_online(client, cam, entity_id)
    await client.call_service("button", "press", {"entity_id": entity_id})
    return {**camera_ref(cam), "rebooting": True}
