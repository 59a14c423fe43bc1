"""Two accounts of one cloud in one Home Assistant: the simulated cloud serves both (`--accounts 2`),
the integration reaches it through its one seam, and each account comes in through the real config
flow (its own e-mail, password and code). What `scripts/develop --ring N --furbo N` relies on."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant import config_entries
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er

from custom_components.camera_hub.const import DOMAIN
from scripts.lib.sims import Sim

from .conftest import sim_state
from .furbo_fixtures import StartFurbo
from .ring_fixtures import RING_LIBRARY_WARNINGS, RingSim, StartRing, add_ring_account

pytestmark = [
    pytest.mark.usefixtures("socket_enabled"),
    RING_LIBRARY_WARNINGS,
    # ring_doorbell 0.9.14 builds aiohttp's deprecated BasicAuth for its OAuth client; not ours to fix.
    pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning"),
]


def cameras_of(hass: HomeAssistant, entry: ConfigEntry) -> dict[str, str]:
    """camera entity id → its device's name, for one entry."""
    devices = dr.async_get(hass)
    found: dict[str, str] = {}
    for entity in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id):
        if entity.domain != "camera" or entity.device_id is None:
            continue
        device = devices.async_get(entity.device_id)
        assert device is not None
        found[entity.entity_id] = str(device.name)
    return found


async def test_two_ring_accounts_load_side_by_side_with_every_camera(
    hass: HomeAssistant, ringsim: StartRing
) -> None:
    cloud = await ringsim("--accounts", "2", "--devices", "doorbell,battery", "--two-factor", "sms")
    first, second = (RingSim(account) for account in cloud.sim.accounts)

    entries = [await add_ring_account(hass, first), await add_ring_account(hass, second)]

    assert [entry.title for entry in entries] == [first.email, second.email]
    assert all(entry.state is ConfigEntryState.LOADED for entry in entries)
    assert entries[0].unique_id != entries[1].unique_id
    for entry, account in zip(entries, (first, second), strict=True):
        cameras = cameras_of(hass, entry)
        assert sorted(cameras.values()) == sorted(d["description"] for d in account.devices)
        for entity_id in cameras:
            assert hass.states.get(entity_id) is not None, entity_id
        state = await account.state(hass)
        assert state["counters"]["password_grants"] == 2  # its own login: the 412, then with its code
    assert len(hass.states.async_entity_ids("camera")) == 4


async def furbo_flow(hass: HomeAssistant, account: Sim) -> dict[str, Any]:
    """The real Furbo flow for one announced account: its e-mail and password, then its e-mailed code."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": config_entries.SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"next_step_id": "furbo"})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"email": account.info["email"], "password": account.info["password"]}
    )
    assert result.get("step_id") == "furbo_code", result
    code = (await sim_state(hass, account))["last_code"]
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"code": code})
    await hass.async_block_till_done()
    return dict(result)


async def test_two_furbo_accounts_load_side_by_side_with_every_camera(
    hass: HomeAssistant,
    furbosim: StartFurbo,
) -> None:
    cloud = await furbosim("--accounts", "2", "--devices", "dog,cat")
    first, second = cloud.accounts

    results = [await furbo_flow(hass, first), await furbo_flow(hass, second)]

    assert [r["type"] for r in results] == [FlowResultType.CREATE_ENTRY] * 2
    entries = [r["result"] for r in results]
    assert [entry.title for entry in entries] == [first.info["email"], second.info["email"]]
    assert all(entry.state is ConfigEntryState.LOADED for entry in entries)
    for entry, account in zip(entries, (first, second), strict=True):
        cameras = cameras_of(hass, entry)
        # each Furbo's "Last event" camera, on the device named as the account names it
        assert sorted(set(cameras.values())) == sorted(d["name"] for d in account.info["devices"])
        for entity_id in cameras:
            assert hass.states.get(entity_id) is not None, entity_id
    assert len(hass.states.async_entity_ids("camera")) == 4
