"""Camera Hub: Tapo, Ring, Furbo and USB cameras as Home Assistant devices."""

from __future__ import annotations

import logging

from homeassistant.const import CONF_HOST, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.typing import ConfigType

from .const import (
    CONF_AUTH_FAILED,
    CONF_CONTROL_METHOD,
    CONF_KEEP_WARM,
    CONF_LIVE_STREAM,
    CONF_STREAM_LINGER,
    DEFAULT_LIVE_STREAM,
    DEFAULT_STREAM_LINGER,
    DOMAIN,
    ISSUE_CONTROL_REFUSED,
)
from .coordinator import CameraHubConfigEntry, CameraHubCoordinator, CameraHubData
from .helpers import remember_rejected_credential, tapo_backend, tapo_http_session
from .services import async_setup_services
from .streaming.frames import FrameHub
from .vendors.base import AuthFailed, CameraHubError, ControlMethod, LockedOut
from .vendors.tapo import TapoBackend

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


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions once, whatever the number of cameras."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: CameraHubConfigEntry) -> bool:
    """Connect to one camera, then create its entities."""
    if credential := entry.data.get(CONF_AUTH_FAILED):
        raise ConfigEntryAuthFailed(translation_domain=DOMAIN, translation_key=f"invalid_{credential}")
    backend = tapo_backend(hass, entry.data, tapo_http_session(hass))
    try:
        await backend.async_connect()
    except AuthFailed as err:
        await backend.async_close()
        remember_rejected_credential(hass, entry, err)
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key=f"invalid_{err.credential}"
        ) from err
    except LockedOut as err:
        await backend.async_close()
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="locked_out",
            translation_placeholders={"minutes": str(err.minutes_left)},
        ) from err
    except CameraHubError as err:
        await backend.async_close()
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="unreachable_setup",
            translation_placeholders={"host": entry.data[CONF_HOST]},
        ) from err

    _remember_control_method(hass, entry, backend)
    _report_stream_only(hass, entry, backend)

    coordinator = CameraHubCoordinator(hass, entry, backend)
    hubs = {stream: _frame_hub(entry, backend, stream) for stream in backend.capabilities.streams}
    entry.runtime_data = CameraHubData(backend=backend, coordinator=coordinator, hubs=hubs)
    try:
        await coordinator.async_config_entry_first_refresh()
    except BaseException:
        await backend.async_close()
        raise
    coordinator.start_motion_events()
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    if entry.options.get(CONF_KEEP_WARM):
        await hubs[entry.options.get(CONF_LIVE_STREAM, DEFAULT_LIVE_STREAM)].async_start_warm()
    return True


def _frame_hub(entry: CameraHubConfigEntry, backend: TapoBackend, stream: str) -> FrameHub:
    async def url() -> str:
        return await backend.async_stream_url(stream)

    return FrameHub(
        url,
        linger=float(entry.options.get(CONF_STREAM_LINGER, DEFAULT_STREAM_LINGER)),
        on_upstream_error=backend.invalidate_stream_url,
        name=f"{entry.title} {stream}",
    )


def _remember_control_method(hass: HomeAssistant, entry: CameraHubConfigEntry, backend: TapoBackend) -> None:
    """Store the login that worked, so the next start tries it first and costs one login."""
    method = backend.control_method
    if method is not ControlMethod.STREAM_ONLY and entry.data.get(CONF_CONTROL_METHOD) != method.value:
        hass.config_entries.async_update_entry(entry, data={**entry.data, CONF_CONTROL_METHOD: method.value})


def _report_stream_only(hass: HomeAssistant, entry: CameraHubConfigEntry, backend: TapoBackend) -> None:
    issue_id = f"{ISSUE_CONTROL_REFUSED}_{entry.entry_id}"
    if backend.control_method is not ControlMethod.STREAM_ONLY:
        ir.async_delete_issue(hass, DOMAIN, issue_id)
        return
    _LOGGER.warning(
        "%s refuses every control login Camera Hub knows; streaming only until control works", entry.title
    )
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=True,
        severity=ir.IssueSeverity.WARNING,
        translation_key=ISSUE_CONTROL_REFUSED,
        translation_placeholders={"name": entry.title, "host": entry.data[CONF_HOST]},
        data={"entry_id": entry.entry_id},
    )


async def async_unload_entry(hass: HomeAssistant, entry: CameraHubConfigEntry) -> bool:
    """Unload one camera and close its connections."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        for hub in entry.runtime_data.hubs.values():
            await hub.async_stop()
        await entry.runtime_data.coordinator.async_shutdown()
        await entry.runtime_data.backend.async_close()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: CameraHubConfigEntry) -> None:
    ir.async_delete_issue(hass, DOMAIN, f"{ISSUE_CONTROL_REFUSED}_{entry.entry_id}")
