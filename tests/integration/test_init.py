"""Setup, unload and reload; stream-only mode and its upgrade; parallel setup of several cameras."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.camera_hub.const import DOMAIN, UPDATE_INTERVAL
from custom_components.camera_hub.vendors.tapo.const import (
    CONF_CONTROL_METHOD,
    CONTROL_RETRY_INTERVAL,
    ISSUE_CONTROL_REFUSED,
)

from .conftest import StartSim, kill, mock_entry, setup_entry, sim_inject, sim_state, state_of, unload

pytestmark = [
    pytest.mark.usefixtures("socket_enabled"),
    pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning"),
]

CONTROL_ONLY = {"switch", "select.night_vision", "button.calibrate", "button.reboot"}


def entity_keys(entity_registry: er.EntityRegistry, entry: MockConfigEntry) -> set[str]:
    """`<platform>.<description key>` of every entity the entry registered."""
    return {
        f"{e.domain}.{e.unique_id.removeprefix(f'{entry.unique_id}_')}"
        for e in er.async_entries_for_config_entry(entity_registry, entry.entry_id)
    }


def entity_id(entity_registry: er.EntityRegistry, entry: MockConfigEntry, domain: str, key: str) -> str:
    found = entity_registry.async_get_entity_id(domain, DOMAIN, f"{entry.unique_id}_{key}")
    assert found is not None, f"no {domain} entity with key {key}"
    return found


async def test_setup_unload_reload(hass: HomeAssistant, camsim: StartSim) -> None:
    sim = await camsim()
    entry = await setup_entry(hass, mock_entry(sim))

    assert entry.state == ConfigEntryState.LOADED
    # The login that worked is stored, so the next start costs one login instead of a probe.
    assert entry.data[CONF_CONTROL_METHOD] == "kasa"  # the secure login, through python-kasa
    assert hass.states.get("camera.tapo_c200") is not None
    logins = (await sim_state(hass, sim))["counters"]["login_ok"]

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state == ConfigEntryState.LOADED
    assert (await sim_state(hass, sim))["counters"]["login_ok"] == logins + 1

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state == ConfigEntryState.NOT_LOADED
    assert state_of(hass, "camera.tapo_c200").state == STATE_UNAVAILABLE


async def test_python_kasa_logs_in_over_a_session_from_ha_that_closes_with_the_entry(
    hass: HomeAssistant, camsim: StartSim
) -> None:
    """inject-websession: python-kasa gets HA's aiohttp session instead of making its own."""
    sim = await camsim()
    entry = await setup_entry(hass, mock_entry(sim))
    assert entry.data[CONF_CONTROL_METHOD] == "kasa"
    session = entry.runtime_data.connection.backend._control._device.config.http_client
    assert isinstance(session, aiohttp.ClientSession)
    assert not session.closed
    assert session.cookie_jar.quote_cookie is False  # python-kasa's jar settings, for IP-address hosts

    await unload(hass, entry)
    assert session.closed


async def test_camera_offline_at_startup_retries(hass: HomeAssistant, camsim: StartSim) -> None:
    sim = await camsim()
    await sim_inject(hass, sim, offline=True)

    entry = await setup_entry(hass, mock_entry(sim, control_method="secure"))

    assert entry.state == ConfigEntryState.SETUP_RETRY
    assert entry.reason == f"The camera at {sim.host} did not answer; retrying"
    await unload(hass, entry)


async def test_stream_only_creates_an_issue_and_upgrades_later(
    hass: HomeAssistant,
    camsim: StartSim,
    entity_registry: er.EntityRegistry,
    issue_registry: ir.IssueRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    sim = await camsim("--firmware", "refused")
    entry = await setup_entry(hass, mock_entry(sim, control_method="stream_only"))

    assert entry.state == ConfigEntryState.LOADED
    issue = issue_registry.async_get_issue(DOMAIN, f"{ISSUE_CONTROL_REFUSED}_{entry.entry_id}")
    assert issue is not None
    assert issue.translation_key == ISSUE_CONTROL_REFUSED
    assert issue.translation_placeholders == {"name": entry.title, "host": sim.host}
    # Only what RTSP and ONVIF give: streams, ONVIF pan/tilt and presets, motion events.
    assert entity_keys(entity_registry, entry) == {
        "camera.hd",
        "camera.sd",
        "button.pan_left",
        "button.pan_right",
        "button.tilt_up",
        "button.tilt_down",
        "select.preset",
        "event.motion",
        "sensor.control_method",
    }
    sensor = entity_id(entity_registry, entry, "sensor", "control_method")
    assert state_of(hass, sensor).state == "stream_only"

    # The owner turns on Third-Party Compatibility; before the retry interval nothing changes.
    await sim_inject(hass, sim, firmware="secure")
    freezer.tick(UPDATE_INTERVAL)
    async_fire_time_changed(hass)
    # The coordinator refreshes in a background task, and talks to camsim over real sockets.
    await hass.async_block_till_done(wait_background_tasks=True)
    assert (await sim_state(hass, sim))["counters"]["login_ok"] == 0
    assert state_of(hass, sensor).state == "stream_only"

    freezer.tick(CONTROL_RETRY_INTERVAL)
    async_fire_time_changed(hass)
    # The coordinator refreshes in a background task, and talks to camsim over real sockets.
    await hass.async_block_till_done(wait_background_tasks=True)
    await hass.async_block_till_done()  # the reload the upgrade scheduled

    assert entry.state == ConfigEntryState.LOADED
    assert entry.data[CONF_CONTROL_METHOD] == "kasa"
    assert issue_registry.async_get_issue(DOMAIN, f"{ISSUE_CONTROL_REFUSED}_{entry.entry_id}") is None
    keys = entity_keys(entity_registry, entry)
    assert {
        "switch.privacy",
        "switch.motion_detection",
        "switch.person_detection",
        "switch.led",
        "select.night_vision",
        "button.calibrate",
        "button.reboot",
    } <= keys
    assert state_of(hass, sensor).state == "kasa"
    privacy = entity_id(entity_registry, entry, "switch", "privacy")
    assert state_of(hass, privacy).state == "off"
    await unload(hass, entry)


async def test_stream_only_without_control_retries_keeps_the_issue(
    hass: HomeAssistant, camsim: StartSim, issue_registry: ir.IssueRegistry, freezer: FrozenDateTimeFactory
) -> None:
    """A retry that is refused again changes nothing and sends no counted login."""
    sim = await camsim("--firmware", "refused")
    entry = await setup_entry(hass, mock_entry(sim, control_method="stream_only"))

    freezer.tick(CONTROL_RETRY_INTERVAL + UPDATE_INTERVAL)
    async_fire_time_changed(hass)
    # The coordinator refreshes in a background task, and talks to camsim over real sockets.
    await hass.async_block_till_done(wait_background_tasks=True)

    assert entry.state == ConfigEntryState.LOADED
    assert entry.data[CONF_CONTROL_METHOD] == "stream_only"
    assert issue_registry.async_get_issue(DOMAIN, f"{ISSUE_CONTROL_REFUSED}_{entry.entry_id}") is not None
    counters = (await sim_state(hass, sim))["counters"]
    assert counters["login_ok"] == counters["login_failed"] == 0
    await unload(hass, entry)


async def test_parallel_setup_with_one_camera_unreachable(hass: HomeAssistant, camsim: StartSim) -> None:
    models = ("C200", "C100", "C210")
    sims = await asyncio.gather(*(camsim("--model", model) for model in models))
    dead = await camsim("--model", "C220")
    entries = [
        mock_entry(sim, model=model, control_method="secure") for sim, model in zip(sims, models, strict=True)
    ]
    unreachable = mock_entry(dead, model="C220", control_method="secure")
    await hass.async_add_executor_job(kill, dead)
    for entry in (*entries, unreachable):
        entry.add_to_hass(hass)

    # Setting up the integration sets up every entry of it, concurrently.
    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()

    assert [entry.state for entry in entries] == [ConfigEntryState.LOADED] * 3
    assert unreachable.state is ConfigEntryState.SETUP_RETRY
    for model in models:
        assert hass.states.get(f"camera.tapo_{model.lower()}") is not None
    await unload(hass, *entries, unreachable)
