"""One coordinator per camera: batched state reads, pushed motion, and the stream-only upgrade."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .const import CONF_CONTROL_METHOD, CONTROL_RETRY_INTERVAL, DOMAIN, ISSUE_CONTROL_REFUSED, UPDATE_INTERVAL
from .helpers import remember_rejected_credential
from .streaming.frames import FrameHub
from .vendors.base import AuthFailed, CameraHubError, CameraState, ControlMethod, LockedOut, NotSupported
from .vendors.tapo import TapoBackend

_LOGGER = logging.getLogger(__name__)


@dataclass(kw_only=True)
class CameraHubData:
    backend: TapoBackend
    coordinator: CameraHubCoordinator
    # One frame hub per stream ("hd", "sd"): every viewer and snapshot of that stream shares it.
    hubs: dict[str, FrameHub]


type CameraHubConfigEntry = ConfigEntry[CameraHubData]
type MotionListener = Callable[[bool], None]


class CameraHubCoordinator(DataUpdateCoordinator[CameraState]):
    """Reads one camera's state in one request; motion arrives by push from ONVIF."""

    config_entry: CameraHubConfigEntry

    def __init__(self, hass: HomeAssistant, entry: CameraHubConfigEntry, backend: TapoBackend) -> None:
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {backend.settings.host}",
            update_interval=UPDATE_INTERVAL,
        )
        self.backend = backend
        self._motion_listeners: list[MotionListener] = []
        self._unsubscribe_motion: Callable[[], Awaitable[None]] | None = None
        self._next_control_retry = dt_util.utcnow() + CONTROL_RETRY_INTERVAL

    async def _async_update_data(self) -> CameraState:
        if (
            self.backend.control_method is ControlMethod.STREAM_ONLY
            and dt_util.utcnow() >= self._next_control_retry
        ):
            await self.async_retry_control()
        try:
            return await self.backend.async_read_state()
        except AuthFailed as err:
            remember_rejected_credential(self.hass, self.config_entry, err)
            raise ConfigEntryAuthFailed(translation_domain=DOMAIN, translation_key="auth_failed") from err
        except LockedOut as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="locked_out",
                translation_placeholders={"minutes": str(err.minutes_left)},
            ) from err
        except CameraHubError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="update_failed",
                translation_placeholders={"error": str(err)},
            ) from err

    async def async_retry_control(self) -> bool:
        """A stream-only camera tries its control login again; on success the entry reloads with it.

        Runs every 15 minutes, and at once when the user confirms the repair. True when it worked.
        """
        self._next_control_retry = dt_util.utcnow() + CONTROL_RETRY_INTERVAL
        try:
            upgraded = await self.backend.async_retry_control()
        except CameraHubError as err:
            _LOGGER.debug("control retry for %s failed: %s", self.backend.settings.host, err)
            return False
        if not upgraded:
            return False
        _LOGGER.info(
            "%s now accepts control logins (%s)", self.backend.settings.host, self.backend.control_method
        )
        entry = self.config_entry
        ir.async_delete_issue(self.hass, DOMAIN, f"{ISSUE_CONTROL_REFUSED}_{entry.entry_id}")
        # Reloading adds the control entities; the stored method makes the next login a single one.
        self.hass.config_entries.async_update_entry(
            entry, data={**entry.data, CONF_CONTROL_METHOD: self.backend.control_method.value}
        )
        self.hass.config_entries.async_schedule_reload(entry.entry_id)
        return True

    # --- motion push ----------------------------------------------------------------------

    def start_motion_events(self) -> None:
        try:
            self._unsubscribe_motion = self.backend.subscribe_motion(self._handle_motion)
        except NotSupported:
            self._unsubscribe_motion = None

    async def async_shutdown(self) -> None:
        if self._unsubscribe_motion is not None:
            await self._unsubscribe_motion()
            self._unsubscribe_motion = None
        await super().async_shutdown()

    @callback
    def _handle_motion(self, active: bool) -> None:
        for listener in list(self._motion_listeners):
            listener(active)

    @callback
    def async_add_motion_listener(self, listener: MotionListener) -> CALLBACK_TYPE:
        self._motion_listeners.append(listener)
        return lambda: self._motion_listeners.remove(listener)
