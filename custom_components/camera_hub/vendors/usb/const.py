"""USB webcams: the brand's keys and timings."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

BRAND: Final = "usb"
# One entry holds every webcam of this Home Assistant host.
ENTRY_UNIQUE_ID: Final = "usb"
ENTRY_TITLE: Final = "USB webcams"

# Entry data: camera id → the chosen webcam (see connection.UsbCamera).
CONF_CAMERAS: Final = "cameras"
CONF_PATH: Final = "path"
CONF_NAME: Final = "name"
CONF_FOURCC: Final = "fourcc"
CONF_WIDTH: Final = "width"
CONF_HEIGHT: Final = "height"
CONF_FPS: Final = "fps"

# Presence (a stat and a look at /proc) is cheap: unplugging shows within this, replugging too.
UPDATE_INTERVAL: Final = timedelta(seconds=10)
# A device that keeps a reader waiting this long, while someone watches, makes its camera unavailable.
NO_FRAMES_AFTER: Final = 5.0
# How long the config flow waits for a first frame when it tries the chosen mode.
PROBE_TIMEOUT: Final = 3.0
