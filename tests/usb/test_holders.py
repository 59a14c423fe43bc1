"""holders() against real processes holding a real file open, reached through a by-id style symlink."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from custom_components.camera_hub.vendors.usb.holders import describe, holders

# Opens the file, says so, and holds it until its stdin closes.
HOLD = "import sys; f = open(sys.argv[1], 'rb'); print('open', flush=True); sys.stdin.read()"


@pytest.fixture
def device(tmp_path: Path) -> Path:
    node = tmp_path / "video0"
    node.write_bytes(b"")
    link = tmp_path / "by-id" / "usb-Test_Webcam-video-index0"
    link.parent.mkdir()
    link.symlink_to(Path("..") / "video0")
    return link


@pytest.fixture
def holder(device: Path) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(device)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    assert process.stdout.readline() == "open\n"
    yield process
    process.communicate(timeout=10)


def test_names_the_process_holding_the_device(device: Path, holder: subprocess.Popen[str]) -> None:
    found = holders(device)

    assert [entry.pid for entry in found] == [holder.pid]
    assert found[0].name == Path(sys.executable).name[:15]  # comm: the name execve was given
    assert str(device) in found[0].command
    assert describe(found) == f"{found[0].name} (pid {holder.pid})"


def test_nobody_after_the_holder_closed_it(device: Path, holder: subprocess.Popen[str]) -> None:
    holder.communicate(timeout=10)

    assert holders(device) == ()
    assert describe(holders(device)) == ""


def test_own_process_only_when_asked(device: Path) -> None:
    with device.open("rb"):
        assert holders(device) == ()
        assert [entry.name for entry in holders(device, include_self=True)] != []
