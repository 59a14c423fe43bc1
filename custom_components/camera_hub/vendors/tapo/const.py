"""TP-Link Tapo: the keys of a Tapo entry's data, and the constants only Tapo has."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Final

CONF_CLOUD_PASSWORD: Final = "cloud_password"  # noqa: S105 - a config key, not a secret
CONF_CONTROL_PORT: Final = "control_port"
CONF_ONVIF_PORT: Final = "onvif_port"
CONF_RTSP_PORT: Final = "rtsp_port"
CONF_CONTROL_METHOD: Final = "control_method"
CONF_ADVANCED: Final = "advanced"
# SHA-256 (hex) of the control API's certificate, pinned on first contact (pinning.py); absent in
# entries older than pinning, which pin on their next contact.
CONF_CERT_PIN: Final = "certificate_sha256"

DEFAULT_CONTROL_PORT: Final = 443
DEFAULT_ONVIF_PORT: Final = 2020
DEFAULT_RTSP_PORT: Final = 554

# A stream-only camera retries its control login this rarely: each failed try counts toward the
# camera's lockout, and the fix (a setting in the Tapo app) takes a person anyway.
CONTROL_RETRY_INTERVAL: Final = timedelta(minutes=15)

ISSUE_CONTROL_REFUSED: Final = "control_refused"
ISSUE_CERTIFICATE_CHANGED: Final = "certificate_changed"


class ControlMethod(StrEnum):
    """How Camera Hub talks to the camera's control API; `STREAM_ONLY` when it cannot."""

    SECURE = "secure"
    LEGACY = "legacy"
    KLAP = "klap"
    TPAP = "tpap"
    KASA = "kasa"
    STREAM_ONLY = "stream_only"
