"""Which host's webcams discovery looks at: this one, or a recorded/simulated one (the seam).

`CAMERA_HUB_V4L2_DESCRIPTION=<path to a description JSON>` (camsim usb prints it as `description`)
makes discovery enumerate the webcams that description records instead of this host's, with the
description's `root` (default: its directory) standing in for `/` — where its `dev/` and `sys/`
are. Tests and `scripts/develop` set it; it is the only difference from a real host: the same scan,
the same flow, the same capture path (a FIFO from camsim is read as MJPEG, a real node via V4L2).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .discovery import Scan, scan
from .recorded import RecordedHost

DESCRIPTION_ENV = "CAMERA_HUB_V4L2_DESCRIPTION"


def scan_host() -> Scan:
    """Look at this host's webcams, or at the recorded host the environment names (blocking)."""
    description = os.environ.get(DESCRIPTION_ENV)
    if not description:
        return scan()
    path = Path(description)
    data = json.loads(path.read_text())
    root = Path(data.get("root") or path.parent)
    return scan(root, RecordedHost.from_description(data, root).opener)
