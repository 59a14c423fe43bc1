"""Faults of a running Tapo camera, driven from camsim's state endpoint, through a real HA.

Each test states the bound on what Camera Hub sends the camera during the fault (docs/faults.md
has them all in one table). HA's clock is frozen (`freezer`) and moved in steps: five minutes of an
outage take seconds, and every timer falls due in order (coordinator polls, python-kasa's retry
delays, the motion listener's backoff). Between steps the loop gets a moment of real time for the
sockets to camsim, a separate process whose clock is not frozen.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.camera import async_get_image
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator, WebSocketGenerator

from bench.measure import mjpeg_frames
from camsim import timestamp
from custom_components.camera_hub.const import DOMAIN
from custom_components.camera_hub.vendors.tapo.const import CONTROL_RETRY_INTERVAL, ISSUE_CONTROL_REFUSED
from scripts.lib.webrtc_client import WebRtcViewer
from tests.helpers.camsim import Sim

from .conftest import StartSim, mock_entry, setup_entry, sim_inject, sim_state, state_of, unload
from .test_webrtc import offer, webrtc_sessions

pytestmark = [
    pytest.mark.usefixtures("socket_enabled"),
    pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning"),
]

CAMERA = "camera.tapo_c200"
CONTROL_METHOD = "sensor.tapo_c200_control_method"
OUTAGE = 300  # seconds: "offline for 5 minutes"
POLL = 30  # seconds: Tapo's update interval
FAILED_READ = "Error fetching camera_hub Tapo C200 data"
RECOVERED = "Fetching camera_hub Tapo C200 data recovered"


# --- the frozen clock -------------------------------------------------------------------------


async def real_moment(hass: HomeAssistant) -> None:
    """A few real milliseconds for the loop's sockets: with the clock frozen, asyncio's own timers
    wait for the next step, but replies from camsim arrive in real time. (An executor wait that HA
    does not track, so it never counts as HA being busy.)"""
    await hass.loop.run_in_executor(None, threading.Event().wait, 0.01)


async def settle(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, *, patience: int = 5, nudge: float = 0.1
) -> None:
    """Wait until HA is idle. A task asleep on the frozen clock (python-kasa's retry delay) gets it
    moved `nudge` seconds after every `patience` × 10 real milliseconds without progress: by
    default slowly enough that a reply from camsim arrives before a client's own timeout falls
    due, even on a busy machine; a test of a cloud that never answers moves it faster. At most
    1200 nudges."""
    idle = asyncio.ensure_future(hass.async_block_till_done(wait_background_tasks=True))
    for _ in range(1200):
        for _ in range(patience):
            await real_moment(hass)
            if idle.done():
                return
        freezer.tick(nudge)
        async_fire_time_changed(hass)
    idle.cancel()
    raise AssertionError(f"HA did not settle within {1200 * nudge:.0f} seconds of its time")


async def advance(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    seconds: float,
    step: float = 1,
    *,
    patience: int = 5,
    nudge: float = 0.1,
) -> None:
    """Let `seconds` of HA's time pass in `step`s, each step running what falls due until idle."""
    for _ in range(round(seconds / step)):
        freezer.tick(step)
        async_fire_time_changed(hass)
        await settle(hass, freezer, patience=patience, nudge=nudge)


# --- what the user sees -----------------------------------------------------------------------


def entry_state(entry: MockConfigEntry) -> ConfigEntryState:
    """The entry's state now (a call, so a type checker does not carry an earlier assert over)."""
    state: ConfigEntryState = entry.state
    return state


def entity_ids(hass: HomeAssistant, entry: MockConfigEntry) -> list[str]:
    return [e.entity_id for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)]


def unavailable(hass: HomeAssistant, entry: MockConfigEntry) -> set[str]:
    return {
        entity_id
        for entity_id in entity_ids(hass, entry)
        if (state := hass.states.get(entity_id)) is not None and state.state == STATE_UNAVAILABLE
    }


def shown(hass: HomeAssistant, entry: MockConfigEntry) -> set[str]:
    """The entities HA shows (an entity disabled by default has no state)."""
    return {entity_id for entity_id in entity_ids(hass, entry) if hass.states.get(entity_id) is not None}


def logged(caplog: pytest.LogCaptureFixture, text: str, level: int = logging.INFO) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= level and text in r.getMessage()]


def camera_hub_problems(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.name.startswith("custom_components.camera_hub")
    ]


async def counters(hass: HomeAssistant, sim: Sim) -> dict[str, Any]:
    return dict((await sim_state(hass, sim))["counters"])


async def kasa_camera(hass: HomeAssistant, camsim: StartSim) -> tuple[Sim, MockConfigEntry]:
    """A camera set up as the config flow leaves it (the secure login through python-kasa)."""
    sim = await camsim()
    entry = await setup_entry(hass, mock_entry(sim, control_method="kasa"))
    assert entry.state is ConfigEntryState.LOADED
    return sim, entry


# --- the faults -------------------------------------------------------------------------------


async def test_offline_for_five_minutes(
    hass: HomeAssistant, camsim: StartSim, freezer: FrozenDateTimeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """Bound: at most 4 control connections per 30 s poll (python-kasa's try and 3 retries) and the
    motion listener's resubscriptions (backoff 1, 2, 4 … s): ≤ 50 requests in 5 minutes, no login."""
    sim, entry = await kasa_camera(hass, camsim)
    stored = dict(entry.data)
    before = await counters(hass, sim)
    caplog.clear()

    await sim_inject(hass, sim, offline=True)
    await advance(hass, freezer, OUTAGE)

    assert unavailable(hass, entry) == shown(hass, entry)
    during = await counters(hass, sim)
    assert 1 <= during["offline_requests"] - before["offline_requests"] <= 50
    assert logged(caplog, FAILED_READ) == [
        f"{FAILED_READ}: Reading the camera failed: the camera's control port did not answer"
    ]

    await sim_inject(hass, sim, offline=False)
    await advance(hass, freezer, POLL)

    assert not unavailable(hass, entry)
    assert len(logged(caplog, RECOVERED)) == 1
    assert len(logged(caplog, FAILED_READ)) == 1
    after = await counters(hass, sim)
    # The session survived the outage: no new login, none failed.
    assert (after["login_ok"], after["login_failed"]) == (before["login_ok"], before["login_failed"])
    assert dict(entry.data) == stored
    await unload(hass, entry)


async def test_ha_restart_with_the_camera_offline(
    hass: HomeAssistant, camsim: StartSim, freezer: FrozenDateTimeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """Bound: HA's own setup retries (5, 10, 20 … s, then every 80 s) each cost one login attempt
    that cannot connect (python-kasa's try and 3 retries): ≤ 40 control connections in 5 minutes.
    The camera comes back: the next retry loads the entry, with the data it had."""
    sim, entry = await kasa_camera(hass, camsim)
    stored = dict(entry.data)
    await unload(hass, entry)
    await sim_inject(hass, sim, offline=True)
    before = await counters(hass, sim)
    caplog.clear()

    # Set up as a task: python-kasa's retry delays run on the frozen clock that `advance` moves.
    setup = asyncio.ensure_future(hass.config_entries.async_setup(entry.entry_id))
    await advance(hass, freezer, OUTAGE, step=5)
    assert setup.done()

    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert unavailable(hass, entry) == shown(hass, entry)
    assert 1 <= (await counters(hass, sim))["offline_requests"] - before["offline_requests"] <= 40
    # HA's own words, one line at INFO per retry (5, 10, 20, 40, 80, 80 … s); nothing louder.
    assert 1 <= len(logged(caplog, "not ready yet: The camera at")) <= 7
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and "camera_hub" in r.name]

    await sim_inject(hass, sim, offline=False)
    await advance(hass, freezer, 2 * 80, step=5)

    assert entry_state(entry) is ConfigEntryState.LOADED  # by HA's next retry, by itself
    assert not unavailable(hass, entry)
    assert dict(entry.data) == stored
    state = await sim_state(hass, sim)
    assert state["counters"]["login_ok"] == before["login_ok"] + 1  # the one login of the setup that worked
    assert state["locked_out_seconds"] == 0
    await unload(hass, entry)


async def test_firmware_switching_to_refused_while_running(
    hass: HomeAssistant,
    camsim: StartSim,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    issue_registry: ir.IssueRegistry,
) -> None:
    """An update leaves the camera refusing the control login (its sessions end with the update).

    Camera Hub falls back to stream-only mode (live view, ONVIF pan/tilt and motion) with the
    "control refused" repair, keeps the credentials (no reauthentication: the password was never
    rejected) and tries the control login again every 15 minutes. Bound: the refused re-login of
    the failing read and the reload's discover probe, then one login per 15 minutes.
    """
    sim, entry = await kasa_camera(hass, camsim)
    stored = dict(entry.data)
    before = await counters(hass, sim)
    caplog.clear()

    await sim_inject(hass, sim, firmware="refused", expire_sessions=True)
    await advance(hass, freezer, POLL)
    await advance(hass, freezer, POLL)  # the reload the failed read scheduled has run

    assert entry.state is ConfigEntryState.LOADED
    assert state_of(hass, CONTROL_METHOD).state == "stream_only"
    assert state_of(hass, CAMERA).state != STATE_UNAVAILABLE
    assert issue_registry.async_get_issue(DOMAIN, f"{ISSUE_CONTROL_REFUSED}_{entry.entry_id}") is not None
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)  # no reauthentication
    assert dict(entry.data) == stored
    assert len(logged(caplog, FAILED_READ)) == 1
    assert (await counters(hass, sim))["login_failed"] == before["login_failed"]

    await sim_inject(hass, sim, firmware="secure")
    await advance(hass, freezer, CONTROL_RETRY_INTERVAL.total_seconds() + POLL, step=15)
    await advance(hass, freezer, POLL)

    assert state_of(hass, CONTROL_METHOD).state == "kasa"
    assert issue_registry.async_get_issue(DOMAIN, f"{ISSUE_CONTROL_REFUSED}_{entry.entry_id}") is None
    assert dict(entry.data) == stored
    await unload(hass, entry)


async def test_lockout_while_running(
    hass: HomeAssistant, camsim: StartSim, freezer: FrozenDateTimeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """The camera suspends logins (someone else's wrong password) and ends its sessions.

    Bound: the one login that learns of the lockout (≤ 2 requests); none more until the time the
    camera gave has passed, then one login, which works. (A login into a lockout can extend it on
    real cameras.)
    """
    lockout = 900
    sim, entry = await kasa_camera(hass, camsim)
    stored = dict(entry.data)
    before = await counters(hass, sim)
    caplog.clear()

    await sim_inject(hass, sim, lockout=lockout, expire_sessions=True)
    await advance(hass, freezer, OUTAGE, step=5)

    assert unavailable(hass, entry) == shown(hass, entry)
    during = await counters(hass, sim)
    # python-kasa's one login: its handshake as the user, then as its default account.
    assert 1 <= during["login_blocked"] - before["login_blocked"] <= 2
    assert during["login_failed"] == before["login_failed"]
    [message] = logged(caplog, FAILED_READ)
    assert "locked logins" in message
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)

    await sim_inject(hass, sim, unlock=True)  # the camera's own clock ran out
    # Learned at the first poll after the fault, the lockout ends 900 s after that poll.
    await advance(hass, freezer, lockout - OUTAGE + 2 * POLL, step=5)

    assert not unavailable(hass, entry)
    after = await counters(hass, sim)
    assert after["login_blocked"] == during["login_blocked"]
    assert after["login_ok"] == before["login_ok"] + 1
    assert len(logged(caplog, RECOVERED)) == 1
    assert dict(entry.data) == stored
    await unload(hass, entry)


async def test_rtsp_session_dropped_mid_view(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    c200: tuple[Sim, MockConfigEntry],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The camera drops the viewer's RTSP session (a Wi-Fi blip): the MJPEG viewer's picture pauses
    and goes on, newer, on the same HTTP response. Bound: one new RTSP session for the hub."""
    sim, entry = c200
    client = await hass_client()
    response = await client.get(f"/api/camera_proxy_stream/{CAMERA}")
    frames = mjpeg_frames(response)
    async with asyncio.timeout(20):
        await anext(frames)
    assert (await counters(hass, sim))["rtsp_sessions_total"] == 1
    caplog.clear()

    dropped_at = time.time() * 1000
    await sim_inject(hass, sim, rtsp_kick=True)
    async with asyncio.timeout(20):
        async for frame in frames:
            if timestamp.read(frame) > dropped_at:  # a picture the camera took after the drop
                break

    assert response.status == 200  # the same response: a pause, not an error
    assert (await counters(hass, sim))["rtsp_sessions_total"] == 2
    assert state_of(hass, CAMERA).state != STATE_UNAVAILABLE
    assert not camera_hub_problems(caplog)
    response.close()
    await unload(hass, entry)


@pytest.mark.usefixtures("real_network_adapters")
async def test_rtsp_session_dropped_mid_webrtc_view(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    c200: tuple[Sim, MockConfigEntry],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The same drop under a WebRTC viewer: its video pauses and goes on, newer, in the same peer
    connection and HA session; nothing reaches the browser as an error. Every picture after the drop
    is whole (its burned-in clock reads): the new RTSP session starts between keyframes, and the
    viewer resumes at its first keyframe. Bound: one new RTSP session."""
    sim, entry = c200
    ws = await hass_ws_client(hass)
    viewer = WebRtcViewer()
    try:
        session_id, event = await offer(ws, viewer, CAMERA)
        assert event["type"] == "answer", event
        await viewer.accept(event["answer"])
        await viewer.next_frame()
        assert (await counters(hass, sim))["rtsp_sessions_total"] == 1
        caplog.clear()

        dropped_at = time.time() * 1000
        await sim_inject(hass, sim, rtsp_kick=True)
        async with asyncio.timeout(20):
            while timestamp.read(await viewer.next_frame()) <= dropped_at:
                continue  # pictures taken before the drop, still on their way

        assert viewer.pc.connectionState == "connected"
        assert webrtc_sessions(hass, CAMERA) == [session_id]  # the same session: a pause, not an error
        assert (await counters(hass, sim))["rtsp_sessions_total"] == 2
        assert state_of(hass, CAMERA).state != STATE_UNAVAILABLE
        assert not camera_hub_problems(caplog)
    finally:
        await viewer.close()
    await unload(hass, entry)


async def test_onvif_answering_slowly(
    hass: HomeAssistant, c200: tuple[Sim, MockConfigEntry], caplog: pytest.LogCaptureFixture
) -> None:
    """ONVIF takes 5 s per answer: the first picture waits for the stream URI, later ones do not ask
    again (the URI is cached). Bound: one GetStreamUri per stream; the control API is unaffected."""
    sim, entry = c200
    before = await counters(hass, sim)
    caplog.clear()

    await sim_inject(hass, sim, onvif_delay=5)
    first = await async_get_image(hass, CAMERA, timeout=30)
    second = await async_get_image(hass, CAMERA, timeout=30)

    assert first.content[:2] == second.content[:2] == b"\xff\xd8"
    assert (await counters(hass, sim))["get_stream_uri"] - before["get_stream_uri"] == 1
    assert state_of(hass, CAMERA).state != STATE_UNAVAILABLE
    assert not camera_hub_problems(caplog)
    await sim_inject(hass, sim, onvif_delay=0)
    await unload(hass, entry)
