"""The "control refused" repair: the user turns on Third-Party Compatibility, confirms, control starts."""

from __future__ import annotations

import json
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.camera_hub.const import DOMAIN
from custom_components.camera_hub.vendors.tapo.const import CONF_CONTROL_METHOD, ISSUE_CONTROL_REFUSED

from .conftest import StartSim, mock_entry, setup_entry, sim_inject, sim_state, unload

pytestmark = [
    pytest.mark.usefixtures("socket_enabled"),
    pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning"),
]
INTEGRATION = Path(__file__).resolve().parents[2] / "custom_components" / DOMAIN


async def fix_flow_step(client: Any, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(path, json=body)
    assert response.status == HTTPStatus.OK, await response.text()
    result: dict[str, Any] = await response.json()
    return result


async def test_confirming_the_repair_retries_control_at_once(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    camsim: StartSim,
    issue_registry: ir.IssueRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    assert await async_setup_component(hass, "repairs", {})
    sim = await camsim("--firmware", "refused")
    entry = await setup_entry(hass, mock_entry(sim, control_method="stream_only"))
    issue_id = f"{ISSUE_CONTROL_REFUSED}_{entry.entry_id}"
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.is_fixable

    client = await hass_client()
    flow = await fix_flow_step(client, "/api/repairs/issues/fix", {"handler": DOMAIN, "issue_id": issue_id})
    assert flow["step_id"] == "confirm"
    assert flow["description_placeholders"] == {"name": entry.title, "host": sim.host}

    # Confirmed before the setting is on: the camera still refuses, and says so.
    flow = await fix_flow_step(client, f"/api/repairs/issues/fix/{flow['flow_id']}", {})
    assert flow["type"] == "form"
    assert flow["errors"] == {"base": "still_refused"}
    assert (await sim_state(hass, sim))["counters"]["login_failed"] == 0

    await sim_inject(hass, sim, firmware="secure")
    flow = await fix_flow_step(client, f"/api/repairs/issues/fix/{flow['flow_id']}", {})
    assert flow["type"] == "create_entry"
    await hass.async_block_till_done()  # the reload the upgrade scheduled

    assert entry.state == ConfigEntryState.LOADED
    assert entry.data[CONF_CONTROL_METHOD] == "kasa"
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
    assert entity_registry.async_get_entity_id("switch", DOMAIN, f"{entry.unique_id}_privacy") is not None
    await unload(hass, entry)


async def test_repair_of_an_unloaded_camera_aborts(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, camsim: StartSim
) -> None:
    assert await async_setup_component(hass, "repairs", {})
    sim = await camsim("--firmware", "refused")
    entry = await setup_entry(hass, mock_entry(sim, control_method="stream_only"))
    issue_id = f"{ISSUE_CONTROL_REFUSED}_{entry.entry_id}"
    await unload(hass, entry)

    client = await hass_client()
    flow = await fix_flow_step(client, "/api/repairs/issues/fix", {"handler": DOMAIN, "issue_id": issue_id})
    assert flow["type"] == "abort"
    assert flow["reason"] == "not_loaded"


def test_translations_match_strings() -> None:
    """HA shows translations/en.json; strings.json is the source. They must not drift apart."""
    strings = json.loads((INTEGRATION / "strings.json").read_text())
    assert json.loads((INTEGRATION / "translations" / "en.json").read_text()) == strings
