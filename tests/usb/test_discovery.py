"""Discovery against recorded real webcams: the real enumeration code, the kernel's answers replayed."""

from __future__ import annotations

import errno
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import pytest

from custom_components.camera_hub.vendors.usb.discovery import (
    CaptureDevice,
    CaptureMode,
    capture_modes,
    list_capture_devices,
    preferred_mode,
    scan,
)
from tests.usb.recording import WEBCAMS, lay_out

LOGITECH_RATES = tuple(Fraction(fps) for fps in (30, 24, 20, 15, 10, Fraction(15, 2), 5))


@pytest.fixture
def host_root(tmp_path: Path) -> Path:
    return tmp_path


def devices_of(root: Path) -> dict[str, CaptureDevice]:
    host = lay_out(WEBCAMS, root)
    return {device.name: device for device in list_capture_devices(root, host.opener)}


def test_capture_nodes_only_metadata_nodes_skipped(host_root: Path) -> None:
    devices = devices_of(host_root)

    assert list(devices) == [
        "HD Pro Webcam C920",
        "Integrated_Webcam_HD: Integrate",
        "USB 2.0 Camera: USB Camera",
        "mmal service 16.1",
    ]
    assert [Path(device.node).name for device in devices.values()] == ["video0", "video2", "video4", "video6"]


def test_stable_path_is_the_by_id_link_else_the_node(host_root: Path) -> None:
    devices = devices_of(host_root)

    c920 = devices["HD Pro Webcam C920"]
    assert c920.path == str(host_root / "dev/v4l/by-id/usb-046d_HD_Pro_Webcam_C920_8A1B2C3D-video-index0")
    assert c920.node == str(host_root / "dev/video0")
    assert c920.has_stable_path
    pi = devices["mmal service 16.1"]
    assert pi.path == pi.node == str(host_root / "dev/video6")
    assert not pi.has_stable_path


def test_c920_formats_sizes_and_rates(host_root: Path) -> None:
    c920 = devices_of(host_root)["HD Pro Webcam C920"]

    assert (c920.driver, c920.bus_info) == ("uvcvideo", "usb-0000:00:14.0-2")
    assert [(fmt.fourcc, fmt.description, fmt.compressed) for fmt in c920.formats] == [
        ("YUYV", "YUYV 4:2:2", False),
        ("H264", "H.264", True),
        ("MJPG", "Motion-JPEG", True),
    ]
    yuyv = c920.format("YUYV")
    assert yuyv is not None
    # Largest first; 2304x1536 comes at 2 fps only.
    assert [(size.width, size.height, size.rates) for size in yuyv.sizes[:2]] == [
        (2304, 1536, (Fraction(2),)),
        (2304, 1296, (Fraction(2),)),
    ]
    mjpeg = c920.format("MJPG")
    assert mjpeg is not None
    assert [(size.width, size.height) for size in mjpeg.sizes] == [
        (1920, 1080),
        (1280, 720),
        (640, 480),
        (160, 90),
    ]
    assert all(size.rates == LOGITECH_RATES for size in mjpeg.sizes)


def test_stepwise_sizes_become_common_sizes_with_rates_from_the_range(host_root: Path) -> None:
    pi = devices_of(host_root)["mmal service 16.1"]

    assert [fmt.fourcc for fmt in pi.formats] == ["YU12", "YUYV", "RGB3", "JPEG", "H264", "MJPG"]
    mjpeg = pi.format("MJPG")
    assert mjpeg is not None
    assert (mjpeg.sizes[0].width, mjpeg.sizes[0].height) == (1920, 1080)
    assert (mjpeg.sizes[-1].width, mjpeg.sizes[-1].height) == (320, 240)
    assert mjpeg.sizes[0].rates == tuple(Fraction(fps) for fps in (60, 30, 25, 20, 15, 10, 5))


def test_preferred_mode_is_mjpeg_720p30_where_offered(host_root: Path) -> None:
    devices = devices_of(host_root)

    expected = CaptureMode("MJPG", 1280, 720, Fraction(30))
    assert {name: preferred_mode(device) for name, device in devices.items()} == dict.fromkeys(
        devices, expected
    )
    assert expected.input_format == "mjpeg"


def test_preferred_mode_falls_back_to_h264_then_yuyv(host_root: Path) -> None:
    devices = devices_of(host_root)
    c920 = devices["HD Pro Webcam C920"]
    laptop = devices["Integrated_Webcam_HD: Integrate"]

    without_mjpeg = replace(c920, formats=c920.formats[:2])
    assert preferred_mode(without_mjpeg) == CaptureMode("H264", 1280, 720, Fraction(30))
    yuyv_only = replace(laptop, formats=laptop.formats[1:])
    # Nothing larger than 640x480 in YUYV: the largest size within 1280x720 that keeps 30 fps.
    assert preferred_mode(yuyv_only) == CaptureMode("YUYV", 640, 480, Fraction(30))
    c920_yuyv = replace(c920, formats=c920.formats[:1])
    # 1920x1080 YUYV runs at 5 fps: a smaller size that stays fluid wins.
    assert preferred_mode(c920_yuyv) == CaptureMode("YUYV", 640, 480, Fraction(30))
    assert preferred_mode(c920, size=(1920, 1080), fps=15) == CaptureMode("MJPG", 1920, 1080, Fraction(15))
    assert preferred_mode(replace(c920, formats=())) is None


def test_capture_modes_list_usable_formats_in_preference_order(host_root: Path) -> None:
    c920 = devices_of(host_root)["HD Pro Webcam C920"]

    modes = capture_modes(c920)

    assert [mode.fourcc for mode in modes] == sorted(
        (mode.fourcc for mode in modes), key=["MJPG", "H264", "YUYV"].index
    )
    assert CaptureMode("MJPG", 1920, 1080, Fraction(30)) == modes[0]
    assert CaptureMode("YUYV", 2304, 1536, Fraction(2)) in modes


def test_scan_explains_nodes_missing_from_dev_and_unreadable_nodes(host_root: Path) -> None:
    host = lay_out(WEBCAMS, host_root)
    (host_root / "dev" / "video4").unlink()  # as in a container where only some nodes were passed
    # A node nothing answers for (no driver behind it): open fails with ENODEV.
    (host_root / "dev" / "video7").touch()
    (host_root / "sys" / "class" / "video4linux" / "video7").mkdir()

    result = scan(host_root, host.opener)

    assert "USB 2.0 Camera: USB Camera" not in {device.name for device in result.devices}
    assert result.not_in_dev == ("video4",)
    assert [(Path(node.node).name, node.error) for node in result.unreadable] == [
        ("video7", "No such device")
    ]


def test_without_sysfs_nodes_are_found_in_dev(host_root: Path) -> None:
    host = lay_out(WEBCAMS, host_root)
    for entry in sorted((host_root / "sys" / "class" / "video4linux").iterdir()):
        (entry / "name").unlink()
        entry.rmdir()
    (host_root / "sys" / "class" / "video4linux").rmdir()

    assert len(list_capture_devices(host_root, host.opener)) == 4


def test_real_ioctls_on_a_node_that_is_no_video_device(host_root: Path) -> None:
    """The default opener really opens and really calls ioctl: a plain file answers ENOTTY."""
    (host_root / "sys" / "class" / "video4linux" / "video0").mkdir(parents=True)
    (host_root / "dev").mkdir()
    (host_root / "dev" / "video0").write_bytes(b"")

    result = scan(host_root)

    assert result.devices == ()
    assert [(node.node, node.errno) for node in result.unreadable] == [
        (str(host_root / "dev/video0"), errno.ENOTTY)
    ]
