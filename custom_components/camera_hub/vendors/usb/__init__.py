"""USB webcams on the Home Assistant host: V4L2 capture devices, opened once and shared.

- discovery.py  which capture devices the host has, their stable paths, formats, sizes and rates
- v4l2.py       the four V4L2 ioctls discovery needs; recorded.py plays recorded answers back
- holders.py    which processes hold a device open (the words for "busy")
- host.py       the seam: this host, or a recorded/simulated one (CAMERA_HUB_V4L2_DESCRIPTION)
- backend.py    UsbBackend: one webcam behind the CameraBackend protocol (picture and presence)
- connection.py the entry's Connection: the webcams the user chose
- flow.py       the config-flow steps (pick a webcam, its mode; reconfigure a mode, remove one)
"""

from __future__ import annotations

from ..base import BrandSpec
from .connection import UsbConnection
from .const import BRAND, UPDATE_INTERVAL
from .flow import UsbFlow

USB = BrandSpec(
    key=BRAND,
    connect=UsbConnection,
    single_camera=False,
    update_interval=UPDATE_INTERVAL,
    reconfigure_step="usb_reconfigure",
)

__all__ = ["USB", "UsbFlow"]
