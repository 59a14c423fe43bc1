"""Repair for a camera that runs limited (Tapo: control refused, or a changed certificate): the user
fixes the cause or consents, confirms, and Camera Hub retries at once. The issue's text is the brand's
(strings.json, by translation key)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import probatio as vol
from homeassistant.components.repairs import RepairsFlow, RepairsFlowResult
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant

if TYPE_CHECKING:
    from .cameras import CameraHubConfigEntry, CameraRuntime
    from .vendors.base import Limitation


class LimitationRepairFlow(RepairsFlow):
    """Confirm that the cause is fixed; the camera's `async_retry_limited` runs right then."""

    def __init__(self, entry_id: str, camera_id: str | None) -> None:
        self._entry_id = entry_id
        self._camera_id = camera_id
        # What the form showed: a confirmation consents to that (e.g. one certificate), not to
        # whatever the limitation became since.
        self._shown: Limitation | None = None

    async def async_step_init(self, user_input: dict[str, str] | None = None) -> RepairsFlowResult:
        # HA passes the issue id as input here; the user has not confirmed anything yet.
        return await self.async_step_confirm()

    def _camera(self) -> CameraRuntime | None:
        entry: CameraHubConfigEntry | None = self.hass.config_entries.async_get_entry(self._entry_id)
        if entry is None or entry.state is not ConfigEntryState.LOADED:
            return None
        cameras = entry.runtime_data.cameras
        if self._camera_id is None:  # an issue raised before entries held cameras: the only one
            return next(iter(cameras.values()), None)
        return cameras.get(self._camera_id)

    async def async_step_confirm(self, user_input: dict[str, str] | None = None) -> RepairsFlowResult:
        camera = self._camera()
        if camera is None:
            return self.async_abort(reason="not_loaded")
        errors: dict[str, str] = {}
        if user_input is not None:
            if self._shown is not None and self._shown.accept is not None:
                self._shown.accept()
            if await camera.coordinator.async_retry_limited():
                return self.async_create_entry(data={})
            errors["base"] = "still_refused"
        limitation = self._shown = camera.backend.limitation
        placeholders = {"name": camera.coordinator.title, **(limitation.placeholders if limitation else {})}
        return self.async_show_form(
            step_id="confirm",
            data_schema=vol.Schema({}),
            errors=errors,
            description_placeholders=placeholders,
        )


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, str | int | float | None] | None
) -> RepairsFlow:
    if data is None or not isinstance(entry_id := data.get("entry_id"), str):
        raise ValueError(f"repair issue {issue_id} carries no config entry")
    camera_id = data.get("camera_id")
    return LimitationRepairFlow(entry_id, camera_id if isinstance(camera_id, str) else None)
