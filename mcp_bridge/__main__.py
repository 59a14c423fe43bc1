"""camera-hub-mcp: serve Camera Hub's tools over stdio or streamable HTTP, or check the setup (doctor).

Logs go to stderr only: over stdio, stdout is the MCP transport.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import hmac
import importlib.metadata
import json
import logging
import os
import secrets
import shutil
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcp_bridge.ha_client import DOMAIN, HAClient, HAError, redact_url

_LOGGER = logging.getLogger("camera_hub_mcp")
DEFAULT_HA_URL = "http://homeassistant.local:8123"
HA_ACCESS_ADVICE = (
    "create one in Home Assistant under your profile → Security → Long-lived access tokens, "
    "then set HA_TOKEN or pass --token-file"
)


class UsageError(Exception):
    """A setup mistake the person starting the bridge can fix; printed as one line."""


@dataclass
class Settings:
    command: str
    ha_url: str
    token: str
    transport: str
    host: str
    port: int
    auth_token_file: Path | None
    allow_destructive: bool
    allowed_hosts: list[str] = field(default_factory=list)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="camera-hub-mcp",
        description="MCP server that lets Claude see and drive Camera Hub cameras through Home Assistant. "
        "`camera-hub-mcp doctor` checks the connection and prints the Claude Desktop configuration.",
    )
    parser.add_argument("--ha-url", help=f"Home Assistant's URL (env HA_URL; default {DEFAULT_HA_URL})")
    token = parser.add_mutually_exclusive_group()
    token.add_argument("--token", help="long-lived HA access token (env HA_TOKEN; prefer --token-file)")
    token.add_argument("--token-file", type=Path, help="file holding the long-lived HA access token")
    parser.add_argument("--transport", choices=("stdio", "http"), default="stdio")
    parser.add_argument("--host", default="127.0.0.1", help="HTTP address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="HTTP port (default 8765)")
    parser.add_argument(
        "--auth-token-file",
        type=Path,
        help="HTTP bearer token clients must send; a new random token is written there if it is missing",
    )
    parser.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a host name or address clients use to reach the HTTP bridge besides localhost and the bound "
        "address (repeatable; e.g. the machine's LAN name when binding 0.0.0.0)",
    )
    parser.add_argument(
        "--allow-destructive", action="store_true", help="enable remove_camera and reboot_camera"
    )
    return parser


def parse_settings(argv: Sequence[str], environ: dict[str, str]) -> Settings:
    args = list(argv)
    command = "serve"
    if args and args[0] in ("doctor", "serve"):
        command = args.pop(0)
    ns = build_parser().parse_args(args)
    if ns.token_file is not None:
        try:
            token = ns.token_file.read_text().strip()
        except OSError as err:
            raise UsageError(f"Cannot read the token file {ns.token_file}: {err.strerror}.") from None
    else:
        token = (ns.token or environ.get("HA_TOKEN") or "").strip()
    if not token:
        raise UsageError(f"No Home Assistant token: {HA_ACCESS_ADVICE}.")
    ha_url = (ns.ha_url or environ.get("HA_URL") or DEFAULT_HA_URL).strip()
    if not ha_url.startswith(("http://", "https://")):
        raise UsageError(
            f"The Home Assistant URL must start with http:// or https://, not {redact_url(ha_url)!r}."
        )
    return Settings(
        command=command,
        ha_url=ha_url,
        token=token,
        transport=ns.transport,
        host=ns.host,
        port=ns.port,
        auth_token_file=ns.auth_token_file,
        allow_destructive=ns.allow_destructive,
        allowed_hosts=list(ns.allowed_host),
    )


def load_or_create_bearer(path: Path | None) -> str:
    """The HTTP bearer token from `path`, generating one there (mode 0600) if the file is missing."""
    if path is None:
        raise UsageError(
            "Streamable HTTP needs a bearer token: pass --auth-token-file FILE (a new token is written there "
            "if FILE does not exist)."
        )
    if path.exists():
        token = path.read_text().strip()
        if len(token) < 16:
            raise UsageError(f"The bearer token in {path} is too short; use at least 16 characters.")
        return token
    token = secrets.token_urlsafe(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(token + "\n")
    _LOGGER.warning(
        "Generated a new bearer token into %s; MCP clients must send it as 'Authorization: Bearer'.", path
    )
    return token


def _bearer_auth(expected: str) -> Any:
    from fastmcp.server.auth import AccessToken, TokenVerifier  # noqa: PLC0415 - only HTTP needs auth

    class BearerToken(TokenVerifier):
        """Accepts exactly one static token, compared in constant time."""

        async def verify_token(self, token: str) -> AccessToken | None:
            if hmac.compare_digest(token.encode(), expected.encode()):
                return AccessToken(token="bearer", client_id="camera-hub-mcp", scopes=[])  # noqa: S106
            return None

    return BearerToken()


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while the server is built, then freeze what was built.

    Importing fastmcp and the MCP SDK builds about 600 pydantic models that live as long as the
    process. The collector would walk them over and over while they are made (0.2-0.3 s of a 1.8 s
    start on a 2-core machine) and again in every later full collection; frozen, they are skipped.
    """
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


async def serve(settings: Settings) -> None:
    http = settings.transport == "http"
    bearer = load_or_create_bearer(settings.auth_token_file) if http else None
    if http and settings.host not in ("127.0.0.1", "::1", "localhost"):
        _LOGGER.warning(
            "Serving on %s, reachable from other machines; the bearer token protects it. Clients must "
            "name it localhost, %s or an --allowed-host (others are refused as DNS rebinding).",
            settings.host,
            settings.host,
        )
    client = HAClient(settings.ha_url, settings.token)
    with collector_paused():
        from mcp_bridge.server import build_server  # noqa: PLC0415 - keep `doctor` and `--help` fast

        auth = _bearer_auth(bearer) if bearer is not None else None
        mcp = build_server(client, allow_destructive=settings.allow_destructive, auth=auth)
    if not http:
        await mcp.run_async(transport="stdio", show_banner=False)
        return
    _LOGGER.info("Serving MCP on http://%s:%d/mcp", settings.host, settings.port)
    # DNS rebinding (the MCP transport spec's warning): a web page whose name an attacker points at
    # this machine must not reach the bridge. Every request's Host must be localhost, the bound
    # address or an --allowed-host (else 421), and a browser's Origin must be the bridge's own
    # (else 403). FastMCP leaves this guard off unless asked.
    await mcp.run_async(
        transport="http",
        host=settings.host,
        port=settings.port,
        path="/mcp",
        show_banner=False,
        host_origin_protection=True,
        allowed_hosts=settings.allowed_hosts,
    )


def claude_desktop_config(ha_url: str) -> dict[str, Any]:
    """The `mcpServers` block for Claude Desktop on this machine; the token stays a placeholder."""
    script = Path(sys.executable).parent / "camera-hub-mcp"
    found = script if script.exists() else shutil.which("camera-hub-mcp")
    server: dict[str, Any] = (
        {"command": str(Path(found).absolute())} if found else {"command": "uvx", "args": ["camera-hub-mcp"]}
    )
    server["env"] = {"HA_URL": redact_url(ha_url), "HA_TOKEN": "<your long-lived Home Assistant token>"}
    return {"mcpServers": {"camera-hub": server}}


def bridge_version() -> str | None:
    """This bridge's version, None when it runs from a source tree that was never installed."""
    try:
        return importlib.metadata.version("camera-hub-mcp")
    except importlib.metadata.PackageNotFoundError:
        return None


async def integration_version(client: HAClient) -> str | None:
    """The Camera Hub integration's manifest version as Home Assistant reports it, None if it does not."""
    try:
        manifest = await client.ws_command({"type": "manifest/get", "integration": DOMAIN})
    except HAError:
        return None
    version = manifest.get("version") if isinstance(manifest, dict) else None
    return version if isinstance(version, str) else None


def versions_line(bridge: str | None, integration: str | None) -> str:
    """doctor's line on the two parts' versions: they are released together and should be equal."""
    if bridge is not None and integration is not None:
        if bridge == integration:
            return (
                f"✓ camera-hub-mcp {bridge} and the Camera Hub integration {integration}: the same version."
            )
        return (
            f"⚠ camera-hub-mcp {bridge}, but Home Assistant runs the Camera Hub integration {integration}: "
            "upgrade both to the same version (README → Upgrade)."
        )
    known = [
        f"camera-hub-mcp {bridge or 'version unknown (run from a source tree)'}",
        f"the Camera Hub integration {integration}"
        if integration
        else "Home Assistant did not report the Camera Hub integration's version",
    ]
    return f"• {'; '.join(known)}."


async def doctor(settings: Settings) -> int:
    """Check URL and token, list the cameras, print the Claude Desktop block. Returns the exit code."""
    shown = redact_url(settings.ha_url)
    ok = True
    async with HAClient(settings.ha_url, settings.token) as client:
        try:
            await client.ensure_connected()
            config = await client.config()
            cameras = await client.cameras()
        except HAError as err:
            print(f"✗ {err}")
            print(versions_line(bridge_version(), None))
            ok = False
        else:
            print(f"✓ Home Assistant {config.get('version', '?')} at {shown} accepted the token.")
            print(versions_line(bridge_version(), await integration_version(client)))
            if not cameras:
                print(
                    "• No Camera Hub cameras yet: add one in Home Assistant (Settings → Devices & services → "
                    "Add integration → Camera Hub)."
                )
            for camera in cameras:
                state = client.state(camera.camera_entity)
                online = "online" if state is not None and state.available else "offline"
                model = " ".join(filter(None, (camera.manufacturer, camera.model))) or "unknown model"
                caps = ", ".join(camera.capabilities) or "none"
                print(f"✓ {camera.name} ({camera.slug}): {model}, {online}; can: {caps}")
    print("\nClaude Desktop (claude_desktop_config.json):")
    print(json.dumps(claude_desktop_config(settings.ha_url), indent=2, ensure_ascii=False))
    server = claude_desktop_config(settings.ha_url)["mcpServers"]["camera-hub"]
    command = " ".join([server["command"], *server.get("args", [])])
    print("\nClaude Code:")
    print(f"  claude mcp add camera-hub --env HA_URL={shown} --env HA_TOKEN=<token> -- {command}")
    return 0 if ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("aiohttp").setLevel(logging.WARNING)
    try:
        settings = parse_settings(sys.argv[1:] if argv is None else argv, dict(os.environ))
        if settings.command == "doctor":
            return asyncio.run(doctor(settings))
        asyncio.run(serve(settings))
    except UsageError as err:
        print(f"camera-hub-mcp: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
