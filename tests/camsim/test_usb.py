"""camsim's simulated USB webcams, seen through the integration's tools: PyAV's mjpeg demuxer,
holders(), and the state endpoint's faults. camsim runs as a subprocess, as scripts/develop runs it.
"""

from __future__ import annotations

import os
import select
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path

import av
import pytest

from camsim import timestamp
from custom_components.camera_hub.vendors.usb.discovery import CaptureMode, preferred_mode, scan
from custom_components.camera_hub.vendors.usb.holders import holders
from custom_components.camera_hub.vendors.usb.recorded import RecordedHost
from tests.usb.sim import DEADLINE, Reader, UsbSim, running_usb_sim, wait_for

pytestmark = pytest.mark.usefixtures("socket_enabled")

FPS = 30
SIZE = "640x360"


@pytest.fixture(scope="module")
def module_sim() -> Iterator[UsbSim]:
    with running_usb_sim("--devices", "2", "--size", SIZE, "--fps", str(FPS)) as sim:
        yield sim


@pytest.fixture
def sim(module_sim: UsbSim) -> Iterator[UsbSim]:
    yield module_sim
    module_sim.inject({})  # every fault off: the next test starts with both webcams plugged and idle


def test_ready_line_names_stable_paths_that_lead_to_fifos(sim: UsbSim) -> None:
    info = sim.info
    root = Path(info["root"])

    assert info["kind"] == "usb"
    assert (info["size"], info["fps"], info["format"]) == (SIZE, FPS, "mjpeg")
    assert sim.devices == [
        str(root / "dev/v4l/by-id/usb-camsim_Webcam_CS0001-video-index0"),
        str(root / "dev/v4l/by-id/usb-camsim_Webcam_CS0002-video-index0"),
    ]
    for path in sim.devices:
        assert Path(path).is_symlink()
        assert stat.S_ISFIFO(Path(path).stat().st_mode)
    assert Path(info["description"]).is_file()
    assert set(sim.state()["devices"]) == set(sim.devices)


def test_pyav_reads_jpegs_carrying_a_recent_capture_time(sim: UsbSim) -> None:
    path = sim.devices[0]
    reader = Reader(path).start()
    try:
        packets = reader.wait_packets(5)
        received = time.time() * 1000

        assert all(packet.startswith(b"\xff\xd8") and packet.endswith(b"\xff\xd9") for packet in packets)
        captured = timestamp.read(packets[-1])
        # Written at its capture time; the demuxer hands a frame on when the next one starts.
        assert received - 2000 < captured <= received
        assert [timestamp.read(packet) for packet in packets] == sorted({timestamp.read(p) for p in packets})
        assert sim.device_state(path)["readers"] == 1
        assert sim.device_state(path)["frames_written"] >= 5
    finally:
        reader.stop()
    wait_for(lambda: sim.device_state(path)["readers"] == 0, "the reader to be gone from /proc")


def test_decoded_frame_carries_the_timestamp(sim: UsbSim) -> None:
    reader = Reader(sim.devices[1]).start()
    try:
        packet = reader.wait_packets(1)[0]
    finally:
        reader.stop()
    decoder = av.CodecContext.create("mjpeg", "r")
    frame = decoder.decode(av.Packet(packet))[0]

    assert (frame.width, frame.height) == (640, 360)
    assert abs(timestamp.read(frame) - time.time() * 1000) < 5000


def test_unplug_ends_the_stream_and_replug_brings_it_back_at_the_same_path(sim: UsbSim) -> None:
    path = sim.devices[0]
    reader = Reader(path).start()
    reader.wait_packets(2)

    state = sim.inject({"unplug": path})

    assert state["devices"][path]["plugged"] is False
    assert reader.ended.wait(DEADLINE), "the reader did not see the end of the stream"
    assert reader.error is None  # EOF, not an error: as when a V4L2 read fails with ENODEV
    assert not os.path.lexists(path)
    assert not Path(state["devices"][path]["node"]).exists()

    sim.inject({"replug": path})
    again = Reader(path).start()
    try:
        assert timestamp.read(again.wait_packets(2)[-1]) > timestamp.read(reader.packets[-1])
    finally:
        again.stop()


def test_unplug_ends_the_wait_of_a_reader_of_a_stalled_device(sim: UsbSim) -> None:
    path = sim.devices[1]
    sim.inject({"stall": path})
    fd = os.open(path, os.O_RDONLY)  # returns once camsim's writer has the other end
    try:
        with ThreadPoolExecutor(1) as pool:
            first_read = pool.submit(os.read, fd, 1)  # blocks: open, but no frames
            assert sim.device_state(path)["readers"] == 1

            sim.inject({"unplug": path})

            assert first_read.result(timeout=DEADLINE) == b""  # EOF, not a hang
    finally:
        os.close(fd)


def test_stalled_device_opens_but_sends_nothing_until_cleared(sim: UsbSim) -> None:
    path = sim.devices[0]
    sim.inject({"stall": path})
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        written = sim.device_state(path)["frames_written"]
        # Five frame intervals of silence: a negative can only be observed for a while.
        readable, _, _ = select.select([fd], [], [], 5 / FPS)
        assert readable == []
        assert sim.device_state(path)["frames_written"] == written

        sim.inject({})

        readable, _, _ = select.select([fd], [], [], DEADLINE)
        assert readable == [fd]
        assert os.read(fd, 2) == b"\xff\xd8"
    finally:
        os.close(fd)


def test_busy_device_is_held_by_a_named_process_that_holders_finds(sim: UsbSim) -> None:
    path = sim.devices[1]

    state = sim.inject({"busy": path})

    busy = state["devices"][path]["busy"]
    assert busy["name"] == "camsim-holder"
    found = holders(path)
    assert [(holder.pid, holder.name) for holder in found] == [(busy["pid"], "camsim-holder")]
    assert sim.device_state(path)["readers"] == 1  # the holder; camsim's own writer is not counted

    sim.inject({})

    assert holders(path) == ()
    assert not Path(f"/proc/{busy['pid']}").exists()


def test_discovery_enumerates_the_simulated_webcams(sim: UsbSim) -> None:
    root = Path(sim.info["root"])
    host = RecordedHost.load(Path(sim.info["description"]), root)

    found = scan(root, host.opener)

    assert [device.path for device in found.devices] == sim.devices
    assert [device.name for device in found.devices] == ["camsim Webcam 1", "camsim Webcam 2"]
    assert {preferred_mode(device) for device in found.devices} == {
        CaptureMode("MJPG", 640, 360, Fraction(FPS))
    }
    assert found.unreadable == ()
    assert sim.device_state(sim.devices[0])["readers"] == 0  # enumeration never opens a FIFO

    sim.inject({"unplug": sim.devices[0]})
    assert [device.path for device in scan(root, host.opener).devices] == sim.devices[1:]


def test_stops_on_sigterm_leaving_no_files_and_no_children(tmp_path: Path) -> None:
    directory = tmp_path / "webcams"
    with running_usb_sim("--devices", "1", "--size", SIZE, "--dir", str(directory)) as sim:
        holder = sim.inject({"busy": sim.devices[0]})["devices"][sim.devices[0]]["busy"]["pid"]
        fd = os.open(sim.devices[0], os.O_RDONLY | os.O_NONBLOCK)
        try:
            sim.process.terminate()
            assert sim.process.wait(timeout=DEADLINE) == 0
            readable, _, _ = select.select([fd], [], [], DEADLINE)
            assert (readable, os.read(fd, 1)) == ([fd], b"")  # the writer is gone: EOF
        finally:
            os.close(fd)

    assert not directory.exists()
    assert not Path(f"/proc/{holder}").exists()


def test_keeps_a_given_directory_and_what_else_is_in_it(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with running_usb_sim("--devices", "1", "--size", SIZE, "--dir", str(tmp_path)):
        pass

    assert sorted(entry.name for entry in tmp_path.iterdir()) == ["notes.txt"]


def test_help_lists_the_usb_kind() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "camsim", "usb", "--help"], capture_output=True, text=True, check=True
    )
    assert "--devices" in result.stdout
    assert "--state-port" in result.stdout
