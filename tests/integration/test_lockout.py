"""Lockout safety: a wrong password stops at reauth, and a suspended camera gets no logins.

How camsim counts (camsim/control.py): like a real Tapo camera it treats every login-phase request
as an attempt. The discover probe and each first (challenge) login of the encrypt_type 3 scheme
count as failed until a login that carries the password (the secure `digest_passwd` login, the
legacy hashed login, TPAP's SPAKE2+ share, KLAP's handshake2) succeeds and resets the streak;
after `--lockout-after` failures in a row (5 by default) it answers "temporarily suspended".

The budget Camera Hub keeps (custom_components/camera_hub/vendors/tapo/control.py): a camera with
a stored login method gets exactly one login with it; a new camera gets one discover probe, whose
answer the config flow keeps for the user's next attempt, then the login that answer allows. So a
wrong stored password costs at most two counted requests and stops at reauthentication, and a typo
followed by the right password stays below the threshold — on every firmware.
"""

from __future__ import annotations

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.camera_hub.const import CONF_AUTH_FAILED, DOMAIN
from custom_components.camera_hub.vendors.tapo.const import CONF_CLOUD_PASSWORD

from .conftest import StartSim, flow_input, mock_entry, setup_entry, sim_state, unload
from .test_config_flow import tapo_form

pytestmark = [
    pytest.mark.usefixtures("socket_enabled"),
    pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning"),
]

LOCKOUT_AFTER = 5  # camsim's default, a real camera's too


@pytest.mark.parametrize(
    ("firmware", "most_counted"),
    [
        # one login: pytapo's encrypt_type probe + the challenge
        ("secure", 2),
        ("legacy", 2),
        # pytapo tries two hashes of the password in one TPAP login
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
    # The wrong password got the entry into reauthentication and locked the camera.
    assert entry.data[CONF_AUTH_FAILED] == "cloud_password"
    # The user enters the right password (as reauthentication would), while the camera is locked.
    hass.config_entries.async_update_entry(
        entry,
        data={
            k: v for k, v in {**entry.data, CONF_CLOUD_PASSWORD: "cloudpass"}.items() if k != CONF_AUTH_FAILED
        },
    )
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


@pytest.mark.parametrize("firmware", ["secure", "legacy", "tpap", "klap"])
async def test_a_typo_then_the_right_password_does_not_lock_the_camera(
    hass: HomeAssistant, camsim: StartSim, firmware: str
) -> None:
    sim = await camsim("--firmware", firmware)
    form = await tapo_form(hass)

    typo = await hass.config_entries.flow.async_configure(
        form["flow_id"], flow_input(sim, **{CONF_CLOUD_PASSWORD: "cloudpas"})
    )
    assert typo["errors"] == {"base": "invalid_cloud_password"}
    result = await hass.config_entries.flow.async_configure(form["flow_id"], flow_input(sim))

    assert result["type"] is FlowResultType.CREATE_ENTRY
    state = await sim_state(hass, sim)
    assert state["locked_out_seconds"] == 0
    assert state["counters"]["login_ok"] >= 1
    await unload(hass, *hass.config_entries.async_entries(DOMAIN))


async def test_reauth_after_a_changed_password_does_not_lock_the_camera(
    hass: HomeAssistant, camsim: StartSim
) -> None:
    """The whole story: password changed in the app, HA restarts twice, the user re-enters it."""
    sim = await camsim()
    entry = await setup_entry(hass, mock_entry(sim, cloud_password="old-password", control_method="secure"))
    for _ in range(2):  # restarts: the rejected credential is remembered, the camera is not asked
        await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done()
    [flow] = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    await hass.config_entries.flow.async_configure(flow["flow_id"], {"next_step_id": "reauth_cloud_password"})
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_CLOUD_PASSWORD: "cloudpass"}
    )
    await hass.async_block_till_done()

    assert result["reason"] == "reauth_successful"
    assert entry.state is ConfigEntryState.LOADED
    assert (await sim_state(hass, sim))["locked_out_seconds"] == 0
    await unload(hass, entry)
