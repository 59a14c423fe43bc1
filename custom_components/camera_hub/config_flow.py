"""Config flow: a vendor menu first, then one step per vendor."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult

from .const import DOMAIN, VENDOR_STEPS


class CameraHubConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a camera: pick the brand, then answer that brand's questions."""

    VERSION = 1

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show the vendor menu."""
        return self.async_show_menu(step_id="user", menu_options=list(VENDOR_STEPS))

    async def async_step_tapo(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Tapo cameras: the connection steps land with the Tapo backend."""
        return self.async_abort(reason="vendor_not_available")
