"""What keeps `camera-hub-mcp` quick to start (the time itself is measured in bench/, not here)."""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import Iterator

import pytest

from mcp_bridge.__main__ import collector_paused


@pytest.fixture(autouse=True)
def _restore_collector() -> Iterator[None]:
    yield
    gc.unfreeze()
    gc.enable()


def test_collector_is_paused_while_building_then_frozen_objects_are_skipped() -> None:
    frozen_before = gc.get_freeze_count()
    with collector_paused():
        assert not gc.isenabled()
        built = [{"model": i} for i in range(1000)]
    assert gc.isenabled()
    assert gc.get_freeze_count() >= frozen_before + len(built)


def test_collector_comes_back_when_building_fails() -> None:
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("build failed")
    assert gc.isenabled()


def test_building_the_server_does_not_parse_docstrings_with_griffe() -> None:
    code = (
        "import sys\n"
        "from mcp_bridge.ha_client import HAClient\n"
        "from mcp_bridge.server import build_server\n"
        "build_server(HAClient('http://127.0.0.1:1', 'token'))\n"
        "print('griffe' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
