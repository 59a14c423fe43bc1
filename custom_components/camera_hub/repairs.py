"""Repair for a camera that refuses control: the user fixes it in the Tapo app, then we retry at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

import probatio as vol
from homeassistant.components.repairs import RepairsFlow, RepairsFlowResult
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_HOST
from homeassistant.core import HomeAssistant

if TYPE_CHECKING:
    from .coordinator import CameraHubConfigEntry


class ControlRefusedRepairFlow(RepairsFlow):
    """Confirm that Third-Party Compatibility is on; a control login is tried right then."""

    def __init__(self, entry_id: str) -> None:
        self._entry_id = entry_id

    async def async_step_init(self, user_input: dict[str, str] | None = None) -> RepairsFlowResult:
        # HA passes the issue id as input here; the user has not confirmed anything yet.
        return await self.async_step_confirm()

    async def async_step_confirm(self, user_input: dict[str, str] | None = None) -> RepairsFlowResult:
        entry: CameraHubConfigEntry | None = self.hass.config_entries.async_get_entry(self._entry_id)
        if entry is None or entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="not_loaded")
        errors: dict[str, str] = {}
        if user_input is not None:
            if await entry.runtime_data.coordinator.async_retry_control():
                return self.async_create_entry(data={})
            errors["base"] = "still_refused"
        return self.async_show_form(
            step_id="confirm",
            data_schema=vol.Schema({}),
            errors=errors,
            description_placeholders={"name": entry.title, "host": entry.data[CONF_HOST]},
        )


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, str | int | float | None] | None
) -> RepairsFlow:
    if data is None or not isinstance(entry_id := data.get("entry_id"), str):
        raise ValueError(f"repair issue {issue_id} carries no config entry")
    return ControlRefusedRepairFlow(entry_id)
