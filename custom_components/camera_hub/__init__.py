"""Camera Hub: Tapo, Ring, Furbo and USB cameras as Home Assistant devices.

An entry is one connection (a Tapo camera, a Ring or Furbo account, this host's USB webcams) holding
one or more cameras; the brand registry (vendors/) makes the connection, cameras.py runs its cameras.
"""

from __future__ import annotations

import logging
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryError, ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.typing import ConfigType

from .cameras import (
    CameraHubConfigEntry,
    CameraHubData,
    async_keep_warm,
    async_start_cameras,
    async_stop_cameras,
    async_watch_cameras,
)
from .const import CONF_AUTH_FAILED, CONF_BRAND, DOMAIN, ENTRY_MINOR_VERSION, ENTRY_VERSION
from .helpers import remember_learned, remember_rejected_credential
from .services import async_setup_services
from .vendors import brand_of
from .vendors.base import AuthFailed, CameraHubError, LockedOut

_LOGGER = logging.getLogger(__name__)

PLATFORMS: list[Platform] = [
    Platform.BUTTON,
    Platform.CAMERA,
    Platform.EVENT,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)

# Version 1 (Tapo only) named the brand "vendor"; entity unique ids (`<camera id>_<key>`) and device
# identifiers did not change with version 2: a Tapo camera's id is still its MAC.
_V1_BRAND_KEY = "vendor"


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions once, whatever the number of cameras."""
    async_setup_services(hass)
    return True


async def async_migrate_entry(hass: HomeAssistant, entry: CameraHubConfigEntry) -> bool:
    """Bring an entry of an older version into today's shape, keeping every id it gave HA."""
    if entry.version > ENTRY_VERSION:
        return False  # made by a newer Camera Hub: refuse rather than guess
    if entry.version == 1:
        data: dict[str, Any] = {k: v for k, v in entry.data.items() if k != _V1_BRAND_KEY}
        # Every version-1 entry was a Tapo camera (the first ones did not even say so).
        data[CONF_BRAND] = entry.data.get(_V1_BRAND_KEY) or "tapo"
        hass.config_entries.async_update_entry(
            entry, data=data, version=ENTRY_VERSION, minor_version=ENTRY_MINOR_VERSION
        )
        _LOGGER.debug("Migrated %s to version %s.%s", entry.title, ENTRY_VERSION, ENTRY_MINOR_VERSION)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: CameraHubConfigEntry) -> bool:
    """Connect, set up every camera the connection holds, then create their entities."""
    if credential := entry.data.get(CONF_AUTH_FAILED):
        raise ConfigEntryAuthFailed(translation_domain=DOMAIN, translation_key=f"invalid_{credential}")
    brand = brand_of(entry.data)
    if brand is None:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="unknown_brand",
            translation_placeholders={"brand": str(entry.data.get(CONF_BRAND))},
        )
    connection = brand.connect(hass, entry)
    try:
        await connection.async_connect()
    except AuthFailed as err:
        remember_rejected_credential(hass, entry, err)
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key=f"invalid_{err.credential}"
        ) from err
    except LockedOut as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="locked_out",
            translation_placeholders={"minutes": str(err.minutes_left)},
        ) from err
    except CameraHubError as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="unreachable_setup",
            translation_placeholders={"host": connection.address},
        ) from err

    remember_learned(hass, entry, connection)
    entry.runtime_data = CameraHubData(brand=brand, connection=connection)
    try:
        await async_start_cameras(hass, entry)
    except BaseException:
        await async_stop_cameras(entry)
        await connection.async_close()
        raise
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    async_watch_cameras(hass, entry)
    for camera in entry.runtime_data.cameras.values():
        await async_keep_warm(entry, camera)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: CameraHubConfigEntry) -> bool:
    """Unload the entry's cameras and close the connection."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        await async_stop_cameras(entry)
        await entry.runtime_data.connection.async_close()
    return unloaded


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: CameraHubConfigEntry, device_entry: dr.DeviceEntry
) -> bool:
    """Let the user delete a camera the connection no longer reports (an account's stale camera).

    A single-camera entry's device goes with its entry, a hub device with its account, and a camera
    the connection still reports would only come back.
    """
    brand = brand_of(entry.data)
    if brand is None or brand.single_camera or entry.state is not ConfigEntryState.LOADED:
        return False
    connection = entry.runtime_data.connection
    ids = {identifier for domain, identifier in device_entry.identifiers if domain == DOMAIN}
    hub = connection.hub
    if not ids or (hub is not None and hub.id in ids):
        return False
    return not ids & connection.cameras.keys()


async def async_remove_entry(hass: HomeAssistant, entry: CameraHubConfigEntry) -> None:
    for (domain, issue_id), issue in list(ir.async_get(hass).issues.items()):
        if domain == DOMAIN and (issue.data or {}).get("entry_id") == entry.entry_id:
            ir.async_delete_issue(hass, DOMAIN, issue_id)
