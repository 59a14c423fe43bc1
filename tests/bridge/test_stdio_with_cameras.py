"""The bridge as Claude Desktop runs it, with cameras: a stdio subprocess driven by the MCP SDK client."""

from __future__ import annotations

import base64
import json
import statistics
import subprocess
import time
from pathlib import Path

import pytest
from mcp_types import ImageContent, TextContent

from camsim import timestamp
from mcp_bridge.tools.media import MAX_IMAGE_BYTES, MAX_IMAGE_SIDE, jpeg_size
from scripts.lib.hass import ROOT, HassProcess
from tests.bridge.conftest import Cameras, media_dir, stdio_bridge, wait_for
from tests.bridge.test_server import TOOL_NAMES

pytestmark = pytest.mark.usefixtures("socket_enabled")

SNAPSHOT_CALLS = 20
OLDEST_PYTHON = ROOT / ".venv-bridge-py311" / "bin" / "python"


async def test_snapshot_decodes_as_camsims_picture_and_ptz_moves_camsim(
    real_hass: HassProcess, cameras: Cameras, tmp_path: Path
) -> None:
    sim = cameras.ptz
    with (tmp_path / "bridge.stderr").open("w") as errlog:
        async with stdio_bridge(real_hass, errlog) as (session, startup):
            tools = await session.list_tools()
            assert {tool.name for tool in tools.tools} == TOOL_NAMES

            listed = await session.call_tool("list_cameras", {})
            assert not listed.is_error
            names = {camera["name"] for camera in json.loads(_text(listed))["cameras"]}
            assert {cameras.ptz_name, cameras.fixed_name} <= names

            shot = await session.call_tool("get_snapshot", {"camera": cameras.ptz_name})
            assert not shot.is_error, shot
            (image,) = shot.content
            assert isinstance(image, ImageContent)
            assert image.mime_type == "image/jpeg"
            jpeg = base64.b64decode(image.data)
            size = jpeg_size(jpeg)
            assert size is not None
            assert max(size) <= MAX_IMAGE_SIDE
            assert len(jpeg) <= MAX_IMAGE_BYTES
            assert abs(timestamp.read(jpeg) / 1000 - time.time()) < 15

            # Warm camera: the round trip Claude waits for, client → bridge → HA → frame hub and back.
            rounds = []
            for _ in range(SNAPSHOT_CALLS):
                started = time.perf_counter()
                result = await session.call_tool("get_snapshot", {"camera": cameras.ptz_name})
                rounds.append(time.perf_counter() - started)
                assert not result.is_error
            p50_ms = statistics.median(rounds) * 1000

            pan = sim.state()["pan"]
            moved = await session.call_tool(
                "ptz_move", {"camera": "tapo_c210", "direction": "left", "step": 10}
            )
            assert not moved.is_error, _text(moved)
            await wait_for(lambda: sim.state()["pan"] < pan, what="camsim panning left")
            await session.call_tool("ptz_home", {"camera": "tapo_c210"})
            await wait_for(lambda: sim.state()["pan"] == 0, what="camsim going home")
    print(f"\nstdio bridge: spawn → initialized {startup:.2f} s; get_snapshot p50 {p50_ms:.1f} ms")
    assert real_hass.token not in (tmp_path / "bridge.stderr").read_text()


async def test_bridge_runs_on_python_311(real_hass: HassProcess, cameras: Cameras, tmp_path: Path) -> None:
    """Claude Desktop users' uvx may pick Python 3.11; the bridge must not use newer syntax or APIs."""
    assert OLDEST_PYTHON.exists(), "scripts/lib/provision.sh makes .venv-bridge-py311; run scripts/test"
    assert "version_info = 3.11." in (OLDEST_PYTHON.parents[1] / "pyvenv.cfg").read_text()
    with (tmp_path / "bridge.stderr").open("w") as errlog:
        async with stdio_bridge(real_hass, errlog, python=str(OLDEST_PYTHON)) as (session, _):
            tools = await session.list_tools()
            assert {tool.name for tool in tools.tools} == TOOL_NAMES
            shot = await session.call_tool("get_snapshot", {"camera": cameras.fixed_name})
            assert not shot.is_error, shot
            (image,) = shot.content
            assert isinstance(image, ImageContent)
            assert abs(timestamp.read(base64.b64decode(image.data)) / 1000 - time.time()) < 15


async def test_record_clip_lands_as_a_playable_mp4_with_progress(
    real_hass: HassProcess, cameras: Cameras, tmp_path: Path
) -> None:
    reports: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        reports.append((progress, total, message))

    with (tmp_path / "bridge.stderr").open("w") as errlog:
        async with stdio_bridge(real_hass, errlog) as (session, _):
            result = await session.call_tool(
                "record_clip", {"camera": cameras.ptz_name, "seconds": 2}, progress_callback=on_progress
            )
    assert not result.is_error, _text(result)
    answer = json.loads(_text(result))
    clip = Path(answer["file"])
    assert clip.parent == media_dir(real_hass)
    assert clip.name.startswith("camera_hub-tapo_c210-")
    assert clip.suffix == ".mp4"
    assert reports, "no progress notifications reached the client"
    assert reports[-1][:2] == (2, 2)
    assert all(total == 2 for _, total, _ in reports)

    # HA finishes writing the file after the clip's end; wait until ffprobe can read it.
    probe = await wait_for(lambda: _probe(clip), within=30, what="a playable MP4")
    video = [s for s in probe["streams"] if s["codec_type"] == "video"]
    assert video, probe
    assert video[0]["codec_name"] == "h264"
    assert 1.0 <= float(probe["format"]["duration"]) <= 6.0


def _probe(path: Path) -> dict[str, object] | None:
    if not path.exists():
        return None
    run = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode != 0:
        return None
    probe: dict[str, object] = json.loads(run.stdout)
    return probe if probe.get("format") else None


def _text(result: object) -> str:
    content = result.content[0]  # type: ignore[attr-defined]
    assert isinstance(content, TextContent)
    return content.text
