"""One coordinator per camera: batched state reads, pushed events and state, lifting a limitation, and
the brand's notices as repair issues while reads report them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .helpers import remember_learned, remember_rejected_credential
from .vendors.base import (
    AuthFailed,
    CameraBackend,
    CameraEvent,
    CameraHubError,
    CameraState,
    Connection,
    ControlUnsupported,
    LockedOut,
    Notice,
    NotSupported,
    PushesState,
    Unsubscribe,
)

if TYPE_CHECKING:
    from .cameras import CameraHubConfigEntry

_LOGGER = logging.getLogger(__name__)

type EventListener = Callable[[CameraEvent], None]

# Marks a repair issue as a notice's (`issue.data["kind"]`), so notices and limitations never clear
# each other's issues.
_NOTICE = "notice"


class CameraHubCoordinator(DataUpdateCoordinator[CameraState]):
    """Reads one camera's state in one request; events arrive by push from the backend."""

    config_entry: CameraHubConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: CameraHubConfigEntry,
        *,
        camera_id: str,
        title: str,
        backend: CameraBackend,
        connection: Connection,
        update_interval: timedelta | None,
        single_camera: bool,
    ) -> None:
        super().__init__(
            hass, _LOGGER, config_entry=entry, name=f"{DOMAIN} {title}", update_interval=update_interval
        )
        self.camera_id = camera_id
        self.title = title  # what repair issues call the camera
        self.backend = backend
        self._connection = connection
        self._single_camera = single_camera
        self._event_listeners: list[EventListener] = []
        self._unsubscribe_events: Unsubscribe | None = None
        self._unsubscribe_state: Unsubscribe | None = None
        self._next_retry: datetime | None = None

    async def _async_update_data(self) -> CameraState:
        if (
            self.backend.limitation is not None
            and self._next_retry is not None
            and dt_util.utcnow() >= self._next_retry
        ):
            await self.async_retry_limited()
        try:
            state = await self.backend.async_read_state()
        except AuthFailed as err:
            remember_rejected_credential(self.hass, self.config_entry, err)
            raise ConfigEntryAuthFailed(translation_domain=DOMAIN, translation_key="auth_failed") from err
        except ControlUnsupported as err:
            # The firmware stopped speaking the control login while running (an update, Third-Party
            # Compatibility turned off): start again, which finds the reduced mode and raises its
            # repair issue, rather than fail every read while the streams still work.
            self.hass.config_entries.async_schedule_reload(self.config_entry.entry_id)
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="update_failed",
                translation_placeholders={"error": str(err)},
            ) from err
        except LockedOut as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="locked_out",
                translation_placeholders={"minutes": str(err.minutes_left)},
            ) from err
        except CameraHubError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key=err.translation_key or "update_failed",
                translation_placeholders=dict(err.placeholders)
                if err.translation_key
                else {"error": str(err)},
            ) from err
        self._async_report_notices(state.notices)
        return state

    # --- limitations: a repair issue while the camera runs with less than it has -----------

    def _issue_id(self, key: str) -> str:
        entry_id = self.config_entry.entry_id
        return f"{key}_{entry_id}" if self._single_camera else f"{key}_{entry_id}_{self.camera_id}"

    @callback
    def async_report_limitation(self) -> None:
        """Raise the limitation's repair issue, or clear this camera's issues when it has none."""
        limitation = self.backend.limitation
        if limitation is None:
            self._next_retry = None
            self._async_delete_issues()
            return
        self._next_retry = dt_util.utcnow() + limitation.retry_interval
        _LOGGER.warning("%s runs with fewer features than it has (%s)", self.title, limitation.issue)
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            self._issue_id(limitation.issue),
            is_fixable=True,
            severity=ir.IssueSeverity.WARNING,
            translation_key=limitation.issue,
            translation_placeholders={"name": self.title, **limitation.placeholders},
            data={"entry_id": self.config_entry.entry_id, "camera_id": self.camera_id},
        )

    @callback
    def _async_delete_issues(self) -> None:
        entry_id = self.config_entry.entry_id
        for (domain, issue_id), issue in list(ir.async_get(self.hass).issues.items()):
            data = issue.data or {}
            if (
                domain == DOMAIN
                and data.get("entry_id") == entry_id
                and data.get("camera_id") in (None, self.camera_id)
                and data.get("kind") != _NOTICE
            ):
                ir.async_delete_issue(self.hass, DOMAIN, issue_id)

    # --- notices: a repair issue for as long as the camera's reads report it ------------------

    @callback
    def _async_report_notices(self, notices: tuple[Notice, ...]) -> None:
        """Raise an issue per reported notice; delete this camera's notice issues no longer reported
        (also those left from before a restart)."""
        entry_id = self.config_entry.entry_id
        reported = {self._issue_id(notice.issue): notice for notice in notices}
        for (domain, issue_id), issue in list(ir.async_get(self.hass).issues.items()):
            data = issue.data or {}
            if (
                domain == DOMAIN
                and data.get("kind") == _NOTICE
                and data.get("entry_id") == entry_id
                and data.get("camera_id") == self.camera_id
                and issue_id not in reported
            ):
                ir.async_delete_issue(self.hass, DOMAIN, issue_id)
        for issue_id, notice in reported.items():
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity(notice.severity),
                translation_key=notice.issue,
                translation_placeholders={"name": self.title, **notice.placeholders},
                learn_more_url=notice.learn_more_url,
                data={"entry_id": entry_id, "camera_id": self.camera_id, "kind": _NOTICE},
            )

    async def async_retry_limited(self) -> bool:
        """Try to lift the camera's limitation; on success the entry reloads with full capabilities.

        Runs every `retry_interval` of the limitation, and at once when the user confirms the
        repair. True when it worked (or there was nothing to lift).
        """
        limitation = self.backend.limitation
        if limitation is None:
            return True
        self._next_retry = dt_util.utcnow() + limitation.retry_interval
        try:
            lifted = await self.backend.async_retry_limited()
        except CameraHubError as err:
            _LOGGER.debug("retry of %s's %s failed: %s", self.title, limitation.issue, err)
            return False
        if not lifted:
            return False
        _LOGGER.info("%s works fully again (%s)", self.title, self.backend.control_method)
        self._async_delete_issues()
        # Reloading adds the entities that were missing; what the connection learned makes the next
        # start cheap (Tapo: a single login with the method that worked).
        remember_learned(self.hass, self.config_entry, self._connection)
        self.hass.config_entries.async_schedule_reload(self.config_entry.entry_id)
        return True

    # --- pushed events and state -----------------------------------------------------------

    def start_events(self) -> None:
        try:
            self._unsubscribe_events = self.backend.subscribe_events(self._handle_event)
        except NotSupported:
            self._unsubscribe_events = None
        if isinstance(self.backend, PushesState):
            self._unsubscribe_state = self.backend.subscribe_state(self._async_state_pushed)

    @callback
    def _async_state_pushed(self, state: CameraState) -> None:
        """A state the backend had without asking: shown now. Not `async_set_updated_data`, which
        would postpone the next poll (and with it what only polls bring, Ring's history) each time."""
        if self.data is None or state == self.data:
            return
        self.data = state
        self._async_report_notices(state.notices)
        self.async_update_listeners()

    async def async_shutdown(self) -> None:
        if self._unsubscribe_state is not None:
            await self._unsubscribe_state()
            self._unsubscribe_state = None
        # A notice lasts while a running camera reports it: not past its unload or its leaving.
        self._async_report_notices(())
        if self._unsubscribe_events is not None:
            await self._unsubscribe_events()
            self._unsubscribe_events = None
        await super().async_shutdown()

    @callback
    def _handle_event(self, event: CameraEvent) -> None:
        for listener in list(self._event_listeners):
            listener(event)

    @callback
    def async_add_event_listener(self, listener: EventListener) -> CALLBACK_TYPE:
        self._event_listeners.append(listener)
        return lambda: self._event_listeners.remove(listener)
