"""TP-Link Tapo cameras: one camera per entry, control API (pytapo, python-kasa), ONVIF and RTSP.

- backend.py     TapoBackend: the camera behind the CameraBackend protocol (stream-only fallback)
- control.py     the control API's login chain and its lockout budget
- pinning.py     the control API's certificate, pinned on first contact (trust on first use)
- onvif.py       stream URIs, PTZ and motion events over ONVIF
- connection.py  the entry's Connection: HA's executor and HTTP session for the backend
- flow.py        the config-flow steps (connection doctor, DHCP, stream-only, reauth, reconfigure)
"""

from __future__ import annotations

from ...const import UPDATE_INTERVAL
from ..base import BrandSpec
from .connection import TapoConnection
from .const import CONF_CERT_PIN, CONF_CLOUD_PASSWORD
from .flow import BRAND, TapoFlow

TAPO = BrandSpec(
    key=BRAND,
    connect=TapoConnection,
    single_camera=True,
    update_interval=UPDATE_INTERVAL,
    reauth_step="tapo_reauth",
    reconfigure_step="tapo_reconfigure",
    to_redact=frozenset(
        {
            CONF_CLOUD_PASSWORD,  # the TP-Link account: control API and cloud
            CONF_CERT_PIN,  # identifies the camera; the backend's part shows its first digits
        }
    ),
)

__all__ = ["TAPO", "TapoFlow"]
