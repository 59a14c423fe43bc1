"""Constants shared by the Camera Hub integration."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

DOMAIN: Final = "camera_hub"

# Config-flow menu entries, one per supported vendor, in the order the menu shows them.
# A vendor appears here together with its `async_step_<vendor>` and its module in vendors/.
VENDOR_STEPS: Final[tuple[str, ...]] = ("tapo",)

CONF_VENDOR: Final = "vendor"
CONF_CLOUD_PASSWORD: Final = "cloud_password"  # noqa: S105 - a config key, not a secret
CONF_CONTROL_PORT: Final = "control_port"
CONF_ONVIF_PORT: Final = "onvif_port"
CONF_RTSP_PORT: Final = "rtsp_port"
CONF_CONTROL_METHOD: Final = "control_method"
CONF_ADVANCED: Final = "advanced"
# Set when the camera rejected a stored credential: until reauthentication, setup does not try
# again (each try would count toward the camera's lockout), not even after a restart.
CONF_AUTH_FAILED: Final = "auth_failed"

# Options
CONF_LIVE_STREAM: Final = "live_stream"
CONF_SNAPSHOT_MAX_AGE: Final = "snapshot_max_age"
CONF_KEEP_WARM: Final = "keep_warm"
CONF_STREAM_LINGER: Final = "stream_linger"
DEFAULT_STREAM_LINGER: Final = 30.0
DEFAULT_LIVE_STREAM: Final = "hd"
DEFAULT_SNAPSHOT_MAX_AGE: Final = 2.0

DEFAULT_CONTROL_PORT: Final = 443
DEFAULT_ONVIF_PORT: Final = 2020
DEFAULT_RTSP_PORT: Final = 554

# Reads are cheap (one batched request) but every camera polled adds up; events are pushed.
UPDATE_INTERVAL: Final = timedelta(seconds=30)
# A stream-only camera retries its control login this rarely: each failed try counts toward the
# camera's lockout, and the fix (a setting in the Tapo app) takes a person anyway.
CONTROL_RETRY_INTERVAL: Final = timedelta(minutes=15)

ISSUE_CONTROL_REFUSED: Final = "control_refused"
