"""ringsim for integration tests: a simulated Ring cloud account in its own process, and the way in.

`python -m camsim ring` announces an `env` (CAMERA_HUB_RING_CLOUD: the cloud file the integration's
one seam reads; wss_proxy: the signalling WebSocket's way in; SSL_CERT_FILE: its throwaway CA); the
`ringsim` fixture starts it and sets that env with monkeypatch, so the unmodified ring-doorbell talks
to it over real sockets. conftest.py imports the fixture for every test of this folder; a test module
needs `pytestmark = [pytest.mark.usefixtures("socket_enabled"), RING_LIBRARY_WARNINGS]`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant import config_entries
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from camsim.ring.catalog import PRESETS
from custom_components.camera_hub.const import DOMAIN
from scripts.lib.sims import Sim, start_ring_sim, stop_sim

# ring-doorbell 0.9.14 (unmodified, as HA core pins it) passes `auth=BasicAuth(...)` to aiohttp, which
# aiohttp 3.14 deprecates; the call is the library's, not Camera Hub's.
RING_LIBRARY_WARNINGS = pytest.mark.filterwarnings(
    "ignore:The 'auth' parameter is deprecated:DeprecationWarning"
)


@dataclass
class RingSim:
    """One running ringsim (one Ring account) and its announcement."""

    sim: Sim

    @property
    def info(self) -> dict[str, Any]:
        return self.sim.info

    @property
    def email(self) -> str:
        return str(self.info["email"])

    @property
    def password(self) -> str:
        return str(self.info["password"])

    @property
    def devices(self) -> list[dict[str, Any]]:
        return list(self.info["devices"])

    def device(self, preset: str) -> dict[str, Any]:
        """The announced device of a `--devices` preset ("doorbell", "floodlight", "battery", "chime")."""
        kind = PRESETS[preset][0]
        for device in self.devices:
            if device["kind"] == kind:
                return device
        raise AssertionError(f"ringsim has no {preset} ({kind}): {self.devices}")

    async def state(self, hass: HomeAssistant) -> dict[str, Any]:
        return await hass.async_add_executor_job(self.sim.state)

    async def inject(self, hass: HomeAssistant, **changes: Any) -> dict[str, Any]:
        return await hass.async_add_executor_job(lambda: self.sim.inject(**changes))

    async def requests(self, hass: HomeAssistant, path_prefix: str) -> list[dict[str, Any]]:
        """The logged requests whose path starts with `path_prefix` (the log keeps the newest 500)."""
        state = await self.state(hass)
        return [r for r in state["requests"] if str(r["path"]).startswith(path_prefix)]


type StartRing = Callable[..., Awaitable[RingSim]]


@pytest.fixture
async def ringsim(hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[StartRing]:
    """Start ringsim (`await ringsim("--two-factor", "sms")`) with its env set; stopped after the test,
    once the Ring entries are unloaded (their push sockets closed first, so ringsim exits at once)."""
    sims: list[Sim] = []

    async def start(*args: str) -> RingSim:
        sim = await hass.async_add_executor_job(lambda: start_ring_sim(*args))
        sims.append(sim)
        for name, value in sim.info["env"].items():
            monkeypatch.setenv(name, str(value))
        return RingSim(sim)

    yield start
    await unload_entries(hass)
    await hass.async_block_till_done()
    for sim in sims:
        await hass.async_add_executor_job(stop_sim, sim)


async def unload_entries(hass: HomeAssistant) -> None:
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.state is ConfigEntryState.LOADED:
            await hass.config_entries.async_unload(entry.entry_id)


@pytest.fixture
async def freezer(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> AsyncIterator[FrozenDateTimeFactory]:
    """The frozen clock, with Camera Hub's entries unloaded before it is released.

    Tests tick it minutes ahead; released first, it would put every timer of the still-loaded
    entry (the push client's, the snapshot retries) those minutes in the future, and the teardown's
    wait for pending tasks would spin until real time caught up (seen as CI hangs). conftest.py
    makes it every integration test's `freezer`.
    """
    yield freezer
    await unload_entries(hass)


async def start_ring_flow(hass: HomeAssistant) -> dict[str, Any]:
    """The config flow's first Ring form (brand menu → ring)."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": config_entries.SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"next_step_id": "ring"})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "ring"
    return dict(result)


async def add_ring_account(hass: HomeAssistant, sim: RingSim) -> ConfigEntry:
    """The real config flow end to end (the code step too when ringsim asks for one); set up and loaded."""
    result = await start_ring_flow(hass)
    result = dict(
        await hass.config_entries.flow.async_configure(
            result["flow_id"], {"email": sim.email, "password": sim.password}
        )
    )
    if str(result.get("step_id", "")).startswith("ring_2fa"):
        code = (await sim.state(hass))["last_code"]
        result = dict(await hass.config_entries.flow.async_configure(result["flow_id"], {"code": code}))
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done()
    entry = result["result"]
    assert isinstance(entry, ConfigEntry)
    return entry
