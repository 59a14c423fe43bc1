"""Camera Hub's actions, registered once as entity services of the camera platform."""

from __future__ import annotations

from typing import Any

import probatio as vol
from homeassistant.components.camera.const import DOMAIN as CAMERA_DOMAIN
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import service

from .const import DOMAIN
from .vendors.base import Direction

_PRESET: dict[Any, Any] = {vol.Required("preset"): cv.string}


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    def register(name: str, method: str, schema: dict[Any, Any] | None = None) -> None:
        service.async_register_platform_entity_service(
            hass, DOMAIN, name, entity_domain=CAMERA_DOMAIN, schema=schema or {}, func=method
        )

    register(
        "ptz_move",
        "async_ptz_move",
        {
            vol.Required("direction"): vol.In([d.value for d in Direction]),
            vol.Optional("step", default=15): vol.All(vol.Coerce(int), vol.Range(min=1, max=90)),
        },
    )
    register("ptz_stop", "async_ptz_stop")
    register("ptz_home", "async_ptz_home")
    register("go_to_preset", "async_go_to_preset", _PRESET)
    register(
        "save_preset", "async_save_preset", {vol.Required("name"): vol.All(cv.string, vol.Length(1, 32))}
    )
    register("delete_preset", "async_delete_preset", _PRESET)
