"""The Furbo brand's keys and limits."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

BRAND: Final = "furbo"

# Entry data: the account, the password only as the cloud's public key encrypted it (the login
# sends exactly that, so a silent re-login needs nothing more), and the latest session.
CONF_EMAIL: Final = "email"
CONF_ENC_PASSWORD: Final = "enc_password"  # noqa: S105 - a key name, not a password
CONF_ACCOUNT_ID: Final = "account_id"
CONF_TOKEN: Final = "token"  # noqa: S105 - a key name

# Options: how often the account's one batched poll runs (Furbo has no push for third parties).
CONF_EVENT_INTERVAL: Final = "event_interval"
DEFAULT_EVENT_INTERVAL: Final = 300
MIN_EVENT_INTERVAL: Final = 60
MAX_EVENT_INTERVAL: Final = 3600

# The cameras' coordinators ask this often; the account polls the cloud only when its interval is due.
UPDATE_INTERVAL: Final = timedelta(seconds=MIN_EVENT_INTERVAL)
# The calendar host refused 5-minute polling for hours (80002): hourly at most. The device list and
# the subscriptions change rarely too.
CALENDAR_INTERVAL: Final = timedelta(hours=1)
ACCOUNT_INTERVAL: Final = timedelta(hours=1)
# 80002's TimeWait understates the wait: back off at least this, doubling per refusal, up to the cap.
RATE_LIMIT_MIN_WAIT: Final = timedelta(seconds=60)
RATE_LIMIT_MAX_WAIT: Final = timedelta(hours=1)
# How far back the first poll and the media browser look.
FIRST_POLL_WINDOW: Final = timedelta(hours=24)
MEDIA_WINDOW: Final = timedelta(days=7)

# The MobileId: made once per Home Assistant install and reused by every Furbo entry (a new one per
# login looks like a new phone and uses up the account's device bindings).
MOBILE_ID_STORE: Final = "camera_hub.furbo_mobile_id"

TO_REDACT: Final = frozenset({CONF_EMAIL, CONF_ENC_PASSWORD, CONF_ACCOUNT_ID, CONF_TOKEN, "mobile_id"})
