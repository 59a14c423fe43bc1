"""Ring's constants: entry data keys, polling rates Ring tolerates, kinds that are no cameras."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

BRAND: Final = "ring"
MANUFACTURER: Final = "Ring"

# Entry data besides HA's `email` (the entry's title) and `token` (the OAuth token Ring issued,
# refreshed and written back): this HA install's hardware id (Ring lists each hardware id as an
# authorised client), and the push channel's registration (FCM credentials), reused after a restart.
CONF_HARDWARE_ID: Final = "hardware_id"
CONF_LISTEN_CREDENTIALS: Final = "listen_credentials"
CONF_CODE: Final = "code"

# What AuthFailed names when Ring refuses the stored token (`invalid_ring_token` explains it).
CREDENTIAL_TOKEN: Final = "ring_token"  # noqa: S105 - a name, not a secret

# How the library introduces itself to Ring (HA core's ring integration uses the same pattern).
USER_AGENT: Final = "Home Assistant/camera_hub-integration"

# Ring asks clients not to poll faster than once a minute (HA core polls devices and history every
# minute); the device list, each camera's history and health share this pace.
UPDATE_INTERVAL: Final = timedelta(seconds=60)
# Cameras' coordinators tick together: a device list younger than this serves every one of them.
DEVICES_FRESH_FOR: Final = timedelta(seconds=45)
HISTORY_INTERVAL: Final = timedelta(seconds=60)
HEALTH_INTERVAL: Final = timedelta(minutes=10)
# After a 429 Ring is asked again after 1, 2, 4 … minutes, never later than this.
BACKOFF_FIRST: Final = timedelta(seconds=60)
BACKOFF_MAX: Final = timedelta(minutes=16)
HISTORY_LIMIT: Final = 10

# How long the siren sounds when switched on (Ring allows 0–120 s).
SIREN_SECONDS: Final = 30

# The hardware id is one per HA install, shared by every Ring entry (Ring lists it as one client).
HARDWARE_ID_STORE_KEY: Final = "camera_hub.ring_hardware_id"
HARDWARE_ID_STORE_VERSION: Final = 1

# Push listener state (the diagnostic "push" reading) and the notice raised after repeated failure.
PUSH_STATES: Final = ("connected", "connecting", "failed", "stopped")
PUSH_FAILURES_NOTICE: Final = 3
ISSUE_PUSH_FAILING: Final = "ring_push_failing"

# Event types (event entities) and their specs' keys.
# A doorbell event entity fires HA's standard "ring" (DoorbellEventType.RING); HA warns about one
# that does not since 2026.10 and stops accepting it in 2027.4. The entity keeps Ring's name, "Ding".
EVENT_DING: Final = "ring"
EVENT_MOTION: Final = "motion"
EVENT_INTERCOM_UNLOCK: Final = "intercom_unlock"
