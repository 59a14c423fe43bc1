"""Lockout safety: a wrong password stops at reauth, and a suspended camera gets no logins.

How camsim counts (camsim/control.py): like a real Tapo camera it treats every login-phase request
as an attempt. The discover probe and each first (challenge) login of the encrypt_type 3 scheme
count as failed until a login that carries the password (the secure `digest_passwd` login, the
legacy hashed login, TPAP's SPAKE2+ share, KLAP's handshake2) succeeds and resets the streak;
after `--lockout-after` failures in a row (5 by default) it answers "temporarily suspended".

"A wrong password reaches camsim at most twice" means two *logins* with it: the stored method
once, and (because a firmware update that changed the login looks like a rejected password to the
old method) pytapo's probe once. With the secure firmware each of those costs camsim two counted
requests and pytapo never sends the password itself (it first checks the camera's proof of the
password, `device_confirm`, and stops there), so the whole setup must stay below the threshold.
"""

from __future__ import annotations

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.camera_hub.const import DOMAIN

from .conftest import StartSim, mock_entry, setup_entry, sim_state, unload

pytestmark = [
    pytest.mark.usefixtures("socket_enabled"),
    pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning"),
]

LOCKOUT_AFTER = 5  # camsim's default, a real camera's too


@pytest.mark.parametrize(
    ("firmware", "most_counted"),
    [
        # two logins x (the encrypt_type probe + the challenge) - see the module docstring
        ("secure", 4),
        # the SPAKE2+ register and share of the known method, then pytapo's probe
        ("tpap", 2),
        # KLAP cannot tell a wrong password before handshake2, which the client never sends
        ("klap", 0),
    ],
)
async def test_wrong_stored_cloud_password_stops_at_reauth(
    hass: HomeAssistant, camsim: StartSim, freezer: FrozenDateTimeFactory, firmware: str, most_counted: int
) -> None:
    sim = await camsim("--firmware", firmware)
    entry = await setup_entry(
        hass, mock_entry(sim, cloud_password="changed-meanwhile", control_method=firmware)
    )

    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert entry.reason == "The camera rejected the TP-Link cloud password"
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
    state = await sim_state(hass, sim)
    assert state["counters"]["login_ok"] == 0
    assert state["counters"]["login_failed"] <= most_counted < LOCKOUT_AFTER
    assert state["locked_out_seconds"] == 0

    # Nothing retries on its own: the entry waits for the user.
    freezer.tick(3600)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert (await sim_state(hass, sim))["counters"] == state["counters"]


async def test_reloads_during_a_lockout_send_no_logins(
    hass: HomeAssistant, camsim: StartSim, freezer: FrozenDateTimeFactory
) -> None:
    """Once the camera said "suspended", Camera Hub remembers it per host and waits it out."""
    sim = await camsim("--lockout-after", "2", "--lockout-seconds", "900")
    entry = await setup_entry(hass, mock_entry(sim, cloud_password="wrong", control_method="secure"))
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    state = await sim_state(hass, sim)
    assert state["locked_out_seconds"] > 0
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert entry.reason == "The camera has temporarily locked logins; trying again in about 15 minutes"
    counters = state["counters"]

    for _ in range(3):
        await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.SETUP_RETRY
    # HA's own setup retries (its backoff timer) do not log in either.
    freezer.tick(600)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)

    assert (await sim_state(hass, sim))["counters"] == counters
    await unload(hass, entry)
