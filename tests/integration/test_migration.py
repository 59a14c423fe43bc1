"""Version-1 entries (Tapo only, brand stored as "vendor") become today's shape and keep every id."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.camera_hub.const import CONF_BRAND, DOMAIN, ENTRY_MINOR_VERSION, ENTRY_VERSION

from .conftest import StartSim, entry_data, setup_entry, sim_mac, state_of, unload

pytestmark = [
    pytest.mark.usefixtures("socket_enabled"),
    pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning"),
]

# What a version-1 C200 entry had registered (keys of the unique ids `<MAC>_<key>`), under entity
# ids the user chose: dashboards and automations refer to these.
OLD_ENTITIES = {
    ("camera", "hd"): "camera.front_door",
    ("switch", "privacy"): "switch.front_door_privacy",
    ("button", "pan_left"): "button.front_door_left",
    ("event", "motion"): "event.front_door_motion",
    ("sensor", "control_method"): "sensor.front_door_login",
}


def v1_data(data: dict[str, Any], vendor: str | None) -> dict[str, Any]:
    old = {k: v for k, v in data.items() if k != CONF_BRAND}
    if vendor is not None:
        old["vendor"] = vendor
    return old


@pytest.mark.parametrize("vendor", ["tapo", None], ids=["vendor-tapo", "no-vendor-key"])
async def test_version_1_entry_keeps_its_device_and_entities(
    hass: HomeAssistant,
    camsim: StartSim,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
    vendor: str | None,
) -> None:
    sim = await camsim()
    mac = sim_mac(sim)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Front door",
        unique_id=mac,
        data=v1_data(entry_data(sim, control_method="kasa"), vendor),
        version=1,
        minor_version=1,
    )
    entry.add_to_hass(hass)
    device = device_registry.async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, mac)},
        connections={(dr.CONNECTION_NETWORK_MAC, mac)},
        manufacturer="TP-Link",
        model="C200",
        name="Front door",
    )
    for (domain, key), entity_id in OLD_ENTITIES.items():
        entity = entity_registry.async_get_or_create(
            domain,
            DOMAIN,
            f"{mac}_{key}",
            config_entry=entry,
            device_id=device.id,
            suggested_object_id=entity_id.split(".", 1)[1],
        )
        assert entity.entity_id == entity_id

    await setup_entry(hass, entry)

    assert entry.state is ConfigEntryState.LOADED
    assert (entry.version, entry.minor_version) == (ENTRY_VERSION, ENTRY_MINOR_VERSION)
    assert entry.data[CONF_BRAND] == "tapo"
    assert "vendor" not in entry.data
    assert entry.unique_id == mac
    # The same device, not a second one.
    assert [d.id for d in dr.async_entries_for_config_entry(device_registry, entry.entry_id)] == [device.id]
    entities = er.async_entries_for_config_entry(entity_registry, entry.entry_id)
    unique_ids = [e.unique_id for e in entities]
    assert len(unique_ids) == len(set(unique_ids)), "duplicated entities"
    assert all(uid.startswith(f"{mac}_") for uid in unique_ids)
    assert {e.device_id for e in entities} == {device.id}
    for (domain, key), entity_id in OLD_ENTITIES.items():
        assert entity_registry.async_get_entity_id(domain, DOMAIN, f"{mac}_{key}") == entity_id
        assert state_of(hass, entity_id).state != "unavailable", entity_id
    # Nothing was created next to the old ones under a new id (`camera.front_door_2`, …).
    assert not [e.entity_id for e in entities if e.entity_id.endswith("_2")]
    assert state_of(hass, "sensor.front_door_login").state == "kasa"
    await unload(hass, entry)


async def test_entry_of_a_newer_version_is_not_touched(hass: HomeAssistant, camsim: StartSim) -> None:
    sim = await camsim()
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="From the future",
        unique_id=sim_mac(sim),
        data=entry_data(sim, control_method="kasa"),
        version=ENTRY_VERSION + 1,
    )
    data = dict(entry.data)

    await setup_entry(hass, entry)

    assert entry.state is ConfigEntryState.MIGRATION_ERROR
    assert dict(entry.data) == data
