"""Tests of the integration inside HA's test harness (pytest-homeassistant-custom-component).

Every camera is a real `python -m camsim tapo` process on 127.0.0.1 with kernel-chosen ports,
driven by the real libraries (pytapo, python-kasa, onvif-zeep-async). camsim's state endpoint is
plain blocking HTTP, so tests reach it through the executor (HA forbids blocking I/O in its loop).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers.device_registry import format_mac
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

from camsim.device import Config, TapoDevice
from custom_components.camera_hub.const import CONF_BRAND, DOMAIN, ENTRY_MINOR_VERSION, ENTRY_VERSION
from custom_components.camera_hub.vendors.tapo import control as tapo_control
from custom_components.camera_hub.vendors.tapo.const import (
    CONF_CLOUD_PASSWORD,
    CONF_CONTROL_METHOD,
    CONF_CONTROL_PORT,
    CONF_ONVIF_PORT,
    CONF_RTSP_PORT,
)
from tests.helpers.camsim import Sim, start_sim, stop_sim

from .furbo_fixtures import furbosim  # noqa: F401 - the fixture, for every test here
from .ring_fixtures import freezer, ringsim  # noqa: F401 - the fixtures, for every test here

USERNAME = "camuser"
PASSWORD = "campass"
CLOUD_PASSWORD = "cloudpass"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let HA load custom_components/camera_hub in every test of this folder."""


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """HA's snapshot format (ids and timestamps masked), stored in snapshots/ next to the tests."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.fixture(autouse=True)
def forget_suspensions() -> Iterator[None]:
    """The per-host lockout memory is process-wide; camsim hosts repeat between tests."""
    tapo_control._suspended_until.clear()
    yield
    tapo_control._suspended_until.clear()


type StartSim = Callable[..., Awaitable[Sim]]


@pytest.fixture
def camsim(hass: HomeAssistant) -> Iterator[StartSim]:
    """Start camsim processes (`await camsim("--model", "C100")`); all are stopped after the test."""
    sims: list[Sim] = []

    async def start(*args: str, host: str = "127.0.0.1") -> Sim:
        sim = await hass.async_add_executor_job(lambda: start_sim(*args, host=host))
        sims.append(sim)
        return sim

    yield start
    for sim in sims:
        stop_sim(sim)


def state_of(hass: HomeAssistant, entity_id: str) -> State:
    state = hass.states.get(entity_id)
    assert state is not None, f"{entity_id} has no state"
    return state


def kill(sim: Sim) -> None:
    """Stop a camsim process early (blocking: run it in the executor), leaving its ports dead."""
    sim.process.terminate()
    sim.process.wait(10)


async def sim_state(hass: HomeAssistant, sim: Sim) -> dict[str, Any]:
    return await hass.async_add_executor_job(sim.state)


async def sim_inject(hass: HomeAssistant, sim: Sim, **faults: Any) -> dict[str, Any]:
    return await hass.async_add_executor_job(lambda: sim.inject(**faults))


def sim_mac(sim: Sim, model: str = "C200") -> str:
    """The MAC camsim reports (derived from its host and model), formatted as HA stores it."""
    return format_mac(TapoDevice(Config(host=sim.host, model=model)).mac.replace("-", ":"))


def flow_input(sim: Sim, **overrides: Any) -> dict[str, Any]:
    """What a user types into the Tapo step for `sim`."""
    data: dict[str, Any] = {
        CONF_HOST: sim.host,
        CONF_USERNAME: USERNAME,
        CONF_PASSWORD: PASSWORD,
        CONF_CLOUD_PASSWORD: CLOUD_PASSWORD,
        "advanced": {
            CONF_CONTROL_PORT: sim.info["control_port"],
            CONF_ONVIF_PORT: sim.info["onvif_port"],
            CONF_RTSP_PORT: sim.info["rtsp_port"],
        },
    }
    data.update(overrides)
    return data


def entry_data(sim: Sim, **overrides: Any) -> dict[str, Any]:
    """A stored entry's data for `sim`, as the config flow would have created it."""
    data: dict[str, Any] = {
        CONF_HOST: sim.host,
        CONF_USERNAME: USERNAME,
        CONF_PASSWORD: PASSWORD,
        CONF_CLOUD_PASSWORD: CLOUD_PASSWORD,
        CONF_CONTROL_PORT: sim.info["control_port"],
        CONF_ONVIF_PORT: sim.info["onvif_port"],
        CONF_RTSP_PORT: sim.info["rtsp_port"],
        CONF_BRAND: "tapo",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def mock_entry(
    sim: Sim, *, model: str = "C200", title: str | None = None, **overrides: Any
) -> MockConfigEntry:
    """A config entry for `sim` (unique id = its MAC); `control_method=None` leaves it unknown."""
    mac = sim_mac(sim, model)
    overrides.setdefault(CONF_CONTROL_METHOD, None)
    return MockConfigEntry(
        domain=DOMAIN,
        title=title or f"Tapo {model}",
        unique_id=mac,
        data=entry_data(sim, **overrides),
        version=ENTRY_VERSION,
        minor_version=ENTRY_MINOR_VERSION,
    )


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> MockConfigEntry:
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def unload(hass: HomeAssistant, *entries: MockConfigEntry) -> None:
    """Unload entries so the backend closes its pytapo/ONVIF sessions (verify_cleanup checks)."""
    for entry in entries:
        if entry.state in (ConfigEntryState.LOADED, ConfigEntryState.SETUP_RETRY):
            await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


@pytest.fixture
async def c200(hass: HomeAssistant, camsim: StartSim) -> AsyncIterator[tuple[Sim, MockConfigEntry]]:
    """A C200 on secure firmware, set up; unloaded after the test."""
    sim = await camsim()
    entry = await setup_entry(hass, mock_entry(sim, control_method="secure"))
    yield sim, entry
    await unload(hass, entry)
