"""Lay out a recorded host: the /dev and /sys entries a description names, under a test's root."""

from __future__ import annotations

import json
from pathlib import Path

from custom_components.camera_hub.vendors.usb.recorded import RecordedHost

WEBCAMS = Path(__file__).with_name("webcams.json")


def lay_out(description: Path, root: Path) -> RecordedHost:
    """Create root/dev/videoN, root/dev/v4l/by-id links and root/sys/class/video4linux entries."""
    data = json.loads(description.read_text())
    dev, sysfs, by_id = root / "dev", root / "sys" / "class" / "video4linux", root / "dev" / "v4l" / "by-id"
    by_id.mkdir(parents=True, exist_ok=True)
    sysfs.mkdir(parents=True, exist_ok=True)
    for device in data["devices"]:
        for node in device["nodes"]:
            name = node["node"]
            (dev / name).touch()
            (sysfs / name).mkdir()
            (sysfs / name / "name").write_text(node["querycap"]["card"] + "\n")
            if node["by_id"]:
                # udev's links are relative: ../../videoN
                (by_id / node["by_id"]).symlink_to(Path("..") / ".." / name)
    return RecordedHost.from_description(data, root)
