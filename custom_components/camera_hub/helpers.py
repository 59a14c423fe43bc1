"""Glue between Home Assistant and the brands: backend errors as HA errors a person can read
(translated, never raw), and what a connection learned written back to its entry."""

from __future__ import annotations

from typing import NoReturn

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .const import CONF_AUTH_FAILED, DOMAIN
from .vendors.base import AuthFailed, CameraHubError, Connection, LockedOut, NotSupported, Unreachable


def raise_for(err: CameraHubError) -> NoReturn:
    """Raise the HA error that explains `err`."""
    if isinstance(err, NotSupported):
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="not_supported") from err
    if isinstance(err, AuthFailed):
        raise HomeAssistantError(translation_domain=DOMAIN, translation_key="auth_failed") from err
    if isinstance(err, LockedOut):
        minutes = str(err.minutes_left)
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


def remember_rejected_credential(hass: HomeAssistant, entry: ConfigEntry, err: AuthFailed) -> None:
    """Keep setup from trying a rejected credential again (see CONF_AUTH_FAILED)."""
    if entry.data.get(CONF_AUTH_FAILED) != err.credential:
        hass.config_entries.async_update_entry(entry, data={**entry.data, CONF_AUTH_FAILED: err.credential})


def remember_learned(hass: HomeAssistant, entry: ConfigEntry, connection: Connection) -> None:
    """Store what the connection learned (Tapo: the login that worked) where it differs."""
    updates = connection.entry_data_updates()
    if any(entry.data.get(key) != value for key, value in updates.items()):
        hass.config_entries.async_update_entry(entry, data={**entry.data, **updates})
