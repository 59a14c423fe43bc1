"""Constants shared by the Camera Hub integration (brand-neutral; a brand's own live in its package)."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

DOMAIN: Final = "camera_hub"

# Config entries: version 2 is an entry per connection holding cameras, with a brand (see
# async_migrate_entry for version 1, the Tapo-only shape).
ENTRY_VERSION: Final = 2
ENTRY_MINOR_VERSION: Final = 1

# Which brand an entry belongs to: a key of the brand registry (vendors/__init__.py).
CONF_BRAND: Final = "brand"
# Set when a stored credential was rejected: until reauthentication, setup does not try again
# (each try would count toward a lockout), not even after a restart.
CONF_AUTH_FAILED: Final = "auth_failed"

# Options
CONF_LIVE_STREAM: Final = "live_stream"
# How the frontend plays live view: native WebRTC from the frame hub (default), or HA's HLS stream
# for setups where WebRTC cannot connect (it opens a second camera session and lags seconds).
CONF_LIVE_VIEW: Final = "live_view"
LIVE_VIEW_WEBRTC: Final = "webrtc"
LIVE_VIEW_HLS: Final = "hls"
CONF_SNAPSHOT_MAX_AGE: Final = "snapshot_max_age"
CONF_KEEP_WARM: Final = "keep_warm"
CONF_STREAM_LINGER: Final = "stream_linger"
DEFAULT_STREAM_LINGER: Final = 30.0
DEFAULT_LIVE_STREAM: Final = "hd"
DEFAULT_SNAPSHOT_MAX_AGE: Final = 2.0

# Reads are cheap (one batched request) but every camera polled adds up; events are pushed.
UPDATE_INTERVAL: Final = timedelta(seconds=30)
