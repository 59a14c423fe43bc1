"""Ring doorbells and cameras: one entry per Ring account, through ring-doorbell (HA core's library).

- cloud.py       the one seam: where the HTTP session comes from (Ring's cloud, or ringsim's)
- connection.py  RingConnection: login, token written back, device list → cameras, push listener
- backend.py     RingBackend: one camera — state, switches, pictures with their age, recordings
- live.py        RingLiveView: WebRTC live view through Ring's signalling
- events.py      RingPush: ding/motion/intercom events from Ring's push channel, watched
- flow.py        the config-flow steps (e-mail and password, verification code, reauth)
"""

from __future__ import annotations

from homeassistant.const import CONF_TOKEN

from ..base import BrandSpec
from .connection import RingConnection
from .const import BRAND, CONF_HARDWARE_ID, CONF_LISTEN_CREDENTIALS, UPDATE_INTERVAL
from .flow import RingFlow

RING = BrandSpec(
    key=BRAND,
    connect=RingConnection,
    single_camera=False,
    update_interval=UPDATE_INTERVAL,
    reauth_step="ring_reauth",
    # The token logs in as the account; the hardware id is the client Ring authorised; the push
    # registration lets anyone receive the account's notifications.
    to_redact=frozenset({CONF_TOKEN, CONF_HARDWARE_ID, CONF_LISTEN_CREDENTIALS}),
)

__all__ = ["RING", "RingFlow"]
