"""Turn backend errors into Home Assistant errors a person can read (translated, never raw)."""

from __future__ import annotations

from typing import NoReturn

from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .const import DOMAIN
from .vendors.base import AuthFailed, CameraHubError, LockedOut, NotSupported, Unreachable


def raise_for(err: CameraHubError) -> NoReturn:
    """Raise the HA error that explains `err`."""
    if isinstance(err, NotSupported):
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="not_supported") from err
    if isinstance(err, AuthFailed):
        raise HomeAssistantError(translation_domain=DOMAIN, translation_key="auth_failed") from err
    if isinstance(err, LockedOut):
        minutes = str(round(err.seconds_left / 60) or 1)
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="locked_out",
            translation_placeholders={"minutes": minutes},
        ) from err
    if isinstance(err, Unreachable):
        raise HomeAssistantError(translation_domain=DOMAIN, translation_key="unreachable") from err
    raise HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="command_failed",
        translation_placeholders={"error": str(err)},
    ) from err
