"""Furbo pet cameras: an account on Furbo's cloud, our own client (no library exists).

- cloud.py       the client: three hosts, RSA-encrypted password, typed errors; the dev seam
- models.py      the cloud's answers as typed values (tolerant where field names are unconfirmed)
- errors.py      the cloud's result codes as Camera Hub errors
- connection.py  the entry's Connection: login, MobileId, ONE batched poll for every camera, media
- backend.py     FurboBackend: one camera (events, smart alerts, readings, last event's picture)
- flow.py        the config-flow steps (credentials, e-mailed code, reauth with the code only,
                 reconfigure with new credentials) and the account's options (the polling interval)

No live video and no treat toss: Furbo does both over ThroughTek's proprietary P2P SDK.
"""

from __future__ import annotations

from ..base import BrandSpec
from .connection import FurboAccount
from .const import BRAND, TO_REDACT, UPDATE_INTERVAL
from .flow import FURBO_OPTIONS, FurboFlow

FURBO = BrandSpec(
    key=BRAND,
    connect=FurboAccount,
    single_camera=False,
    update_interval=UPDATE_INTERVAL,
    reauth_step="furbo_reauth",
    reconfigure_step="furbo_reconfigure",
    to_redact=TO_REDACT,
    options=FURBO_OPTIONS,
)

__all__ = ["FURBO", "FurboFlow"]
