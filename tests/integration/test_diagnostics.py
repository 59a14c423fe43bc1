"""Diagnostics: useful for a bug report, and never a secret or an identifier."""

from __future__ import annotations

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from .conftest import CLOUD_PASSWORD, PASSWORD, USERNAME, StartSim, mock_entry, setup_entry, sim_mac, unload

pytestmark = [
    pytest.mark.usefixtures("socket_enabled"),
    pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning"),
]


async def test_diagnostics_are_redacted(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, camsim: StartSim
) -> None:
    sim = await camsim()
    entry = await setup_entry(hass, mock_entry(sim, control_method="secure"))

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)

    assert diagnostics["brand"] == "tapo"
    [camera] = diagnostics["cameras"]
    assert camera["control_method"] == "secure"
    assert camera["onvif"] is True
    assert camera["capabilities"]["pan_tilt"] is True
    assert camera["device"]["model"] == "C200"
    assert camera["device"]["manufacturer"] == "TP-Link"
    assert camera["camera_id"] == "**REDACTED**"
    assert diagnostics["entry"]["data"]["cloud_password"] == "**REDACTED**"
    assert diagnostics["entry"]["data"]["password"] == "**REDACTED**"
    # The device's own diagnostics: its camera's part.
    [device] = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    device_diagnostics = await get_diagnostics_for_device(hass, hass_client, entry, device)
    assert device_diagnostics["camera"] == camera

    shown = repr(diagnostics) + repr(device_diagnostics)
    for secret in (CLOUD_PASSWORD, PASSWORD, USERNAME, sim_mac(sim), sim_mac(sim).upper(), sim.host):
        assert secret not in shown, secret
    await unload(hass, entry)
