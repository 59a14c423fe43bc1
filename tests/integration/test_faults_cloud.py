"""Cloud outages of Ring and Furbo accounts, driven from ringsim's and furbosim's state endpoints.

HTTP 500s and requests that hang past the client's timeout; the 401 and 429 cases are tested where
each brand's behaviour lives (docs/faults.md lists which test covers which fault). Each test states
its bound on the requests sent to the cloud during the outage. HA's clock is frozen and moved with
`advance` (test_faults_tapo.py), so a five-minute outage and the clients' own timeouts take seconds.
"""

from __future__ import annotations

from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from custom_components.camera_hub.const import DOMAIN

from .conftest import sim_inject, sim_state
from .furbo_fixtures import StartFurbo
from .ring_fixtures import RING_LIBRARY_WARNINGS, RingSim, StartRing, add_ring_account
from .test_faults_tapo import advance
from .test_furbo import add_account

pytestmark = [
    pytest.mark.usefixtures("socket_enabled"),
    RING_LIBRARY_WARNINGS,
    # ring-doorbell's own BasicAuth (aiohttp deprecates it); the library's call, not Camera Hub's.
    pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning"),
]

OUTAGE = 300  # seconds
RING_API = "/clients_api"
FURBO_API = "/"
# Real seconds, while HA's frozen clock runs far faster (`HURRY`): far beyond both clients'
# timeouts (ring-doorbell's 10 s, Camera Hub's Furbo client's 20 s), yet over before teardown.
HANG = {"seconds": 5, "count": 10_000}
# A cloud that never answers: HA's clock moves a second per 10 real ms while requests wait.
HURRY: dict[str, Any] = {"patience": 1, "nudge": 1.0}


def cameras(hass: HomeAssistant, entry: ConfigEntry) -> list[str]:
    return [
        e.entity_id
        for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
        if e.domain == "camera"
    ]


def unavailable(hass: HomeAssistant, entity_ids: list[str]) -> list[str]:
    return [
        e
        for e in entity_ids
        if (state := hass.states.get(e)) is not None and state.state == STATE_UNAVAILABLE
    ]


def coordinator_lines(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "custom_components.camera_hub.coordinator" and text in r.getMessage()
    ]


async def ring_requests(hass: HomeAssistant, sim: RingSim) -> int:
    """Requests to Ring's API that were answered, plus those a stall held (counted on arrival)."""
    state = await sim.state(hass)
    answered = [r for r in state["requests"] if str(r["path"]).startswith(RING_API)]
    return len(answered) + int(state["counters"]["requests_stalled"])


def ring_fault(kind: str) -> dict[str, Any]:
    if kind == "500":
        return {"fail": {"status": 500, "count": 10_000, "path": RING_API}}
    return {"stall": {**HANG, "path": RING_API}}


@pytest.mark.parametrize("kind", ["500", "timeout"])
async def test_ring_cloud_outage(
    hass: HomeAssistant,
    ringsim: StartRing,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    kind: str,
) -> None:
    """Ring answers 500, or not at all, for five minutes.

    Bound: one device-list request per camera coordinator and one history read per camera per
    60 s poll, plus the device-list timer's: ≤ 3 × cameras + 1 requests a minute. No login, no
    reauthentication; the stored token is the one from before.
    """
    sim = await ringsim()
    entry = await add_ring_account(hass, sim)
    stored = dict(entry.data)
    watched = cameras(hass, entry)
    assert watched
    assert not unavailable(hass, watched)
    before = await ring_requests(hass, sim)
    grants = (await sim.state(hass))["counters"]["password_grants"]
    caplog.clear()

    await sim.inject(hass, **ring_fault(kind))
    await advance(hass, freezer, OUTAGE, step=5, **HURRY)

    assert sorted(unavailable(hass, watched)) == sorted(watched)
    sent = await ring_requests(hass, sim) - before
    if kind == "timeout":  # a held request is also logged once it ends: count it once
        sent = (await sim.state(hass))["counters"]["requests_stalled"]
    minutes = OUTAGE // 60 + 1
    assert 1 <= sent <= (3 * len(watched) + 1) * minutes
    failures = coordinator_lines(caplog, "Error fetching")
    assert len(failures) == len(watched)  # once per camera

    await sim.inject(hass)  # {}: Ring answers again
    await advance(hass, freezer, 120, step=5)

    assert not unavailable(hass, watched)
    assert len(coordinator_lines(caplog, "recovered")) == len(watched)
    assert len(coordinator_lines(caplog, "Error fetching")) == len(watched)
    assert entry.state is ConfigEntryState.LOADED
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert (await sim.state(hass))["counters"]["password_grants"] == grants
    # Nothing stored is lost or changed (the push listener may add its credentials meanwhile).
    assert {key: entry.data.get(key) for key in stored} == stored


def furbo_fault(kind: str) -> dict[str, Any]:
    if kind == "500":
        return {"fail": {"status": 500, "count": 10_000, "path": FURBO_API}}
    return {"stall": {**HANG, "path": FURBO_API}}


@pytest.mark.parametrize("kind", ["500", "timeout"])
async def test_furbo_cloud_outage(
    hass: HomeAssistant,
    furbosim: StartFurbo,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    kind: str,
) -> None:
    """Furbo answers 500, or not at all, for five minutes.

    Bound: the account polls once for all its cameras; a failed poll is asked again at the next
    coordinator tick (60 s), each poll stopping at its first failed request: ≤ 1 request a minute
    per camera. No login (the token was not refused); the stored token is kept.
    """
    sim = await furbosim("--no-mfa", "--devices", "dog")
    await add_account(hass, sim)
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    stored = dict(entry.data)
    watched = cameras(hass, entry)
    assert watched
    assert not unavailable(hass, watched)
    before = (await sim_state(hass, sim))["counters"]
    caplog.clear()

    await sim_inject(hass, sim, **furbo_fault(kind))
    await advance(hass, freezer, OUTAGE, step=5, **HURRY)

    assert sorted(unavailable(hass, watched)) == sorted(watched)
    during = (await sim_state(hass, sim))["counters"]
    minutes = OUTAGE // 60 + 1
    if kind == "timeout":
        sent = during["requests_stalled"]
    else:
        sent = during["requests_total"] - before["requests_total"]
    assert 1 <= sent <= len(watched) * minutes
    assert during["logins"] == before["logins"]
    assert len(coordinator_lines(caplog, "Error fetching")) == len(watched)

    await sim_inject(hass, sim)  # {}: Furbo answers again
    await advance(hass, freezer, 120, step=5)

    assert not unavailable(hass, watched)
    assert len(coordinator_lines(caplog, "recovered")) == len(watched)
    assert len(coordinator_lines(caplog, "Error fetching")) == len(watched)
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert (await sim_state(hass, sim))["counters"]["logins"] == before["logins"]
    assert dict(entry.data) == stored
