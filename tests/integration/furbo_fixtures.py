"""furbosim for integration tests: a simulated Furbo cloud in its own process, and its pace.

`python -m camsim furbo` announces an `env` (CAMERA_HUB_FURBO_CLOUD: the cloud file the integration's
one seam reads); the `furbosim` fixture starts it (`await furbosim("--devices", "dog")`) and sets that
env with monkeypatch, so the integration's own client talks to it over real sockets. conftest.py
imports the fixture for every test of this folder.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.camera_hub.const import DOMAIN
from scripts.lib.sims import Sim, start_furbo_sim, stop_sim

POLL = timedelta(seconds=300)  # an account's default event polling interval

type StartFurbo = Callable[..., Awaitable[Sim]]


@pytest.fixture
def furbosim(hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch) -> Iterator[StartFurbo]:
    """Start furbosim processes; the announcement's env goes into this (HA's) process, as documented."""
    sims: list[Sim] = []

    async def start(*args: str) -> Sim:
        sim = await hass.async_add_executor_job(lambda: start_furbo_sim(*args))
        sims.append(sim)
        for key, value in sim.info["env"].items():
            monkeypatch.setenv(key, value)
        return sim

    yield start
    for sim in sims:
        stop_sim(sim)


async def next_furbo_poll(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta = POLL
) -> None:
    """Let `delta` pass; the coordinators' reads run the account's poll, waited for until it is done
    (its HTTP requests are real I/O that HA's block_till_done does not track)."""
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.state is ConfigEntryState.LOADED:
            async with entry.runtime_data.connection.poll_lock:
                pass
    await hass.async_block_till_done()
