"""Ring when things go wrong, through the real core and the unmodified ring-doorbell against ringsim:
a push outage filled by the history (and no duplicate when the late push arrives), a push receiver
that gives up for good replaced by our watchdog, the push channel's diagnostic sensor, the flow's
"too many codes" and a reauth through the code step, the history's pace and its 429 backoff, and the
small things (no media without a subscription, the siren switched off).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import media_source
from homeassistant.components.camera import async_get_image
from homeassistant.components.media_player.errors import BrowseError
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON, EntityCategory
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, State, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from camsim import timestamp
from custom_components.camera_hub.const import CONF_SNAPSHOT_MAX_AGE, DOMAIN
from custom_components.camera_hub.vendors.ring.const import PUSH_STATES
from scripts.lib.webrtc_client import WebRtcViewer

from .conftest import state_of
from .ring_fixtures import RING_LIBRARY_WARNINGS, RingSim, StartRing, add_ring_account, start_ring_flow
from .test_ring import backends, entity_id, next_poll, ring_id, submit
from .test_ring_events import event_entity, fired
from .test_ring_live import camera_entity, offer, sessions_open

pytestmark = [pytest.mark.usefixtures("socket_enabled"), RING_LIBRARY_WARNINGS]

WAIT = 60.0  # the watchdog's path: three reconnects of the library (3 s apart), our 5 s backoff
ASK_EVERY = 0.1
SUBSCRIPTION_PATH = "/clients_api/device"


async def until(hass: HomeAssistant, condition: Callable[[], Awaitable[bool]], what: str) -> None:
    """Ask `condition` until it holds (another process's state, or a poll of ours), within WAIT. The
    pause between asks is the executor's: under the frozen clock the loop's own timers never fire."""
    for _ in range(round(WAIT / ASK_EVERY)):
        if await condition():
            return
        await hass.async_add_executor_job(time.sleep, ASK_EVERY)
    raise AssertionError(f"never: {what}")


async def until_connected(hass: HomeAssistant, sim: RingSim) -> None:
    async def connected() -> bool:
        return int((await sim.state(hass))["counters"]["push_connections"]) == 1

    await until(hass, connected, "the push listener logged in at ringsim")


def record_states(hass: HomeAssistant, entity: str) -> list[State]:
    """Every state the entity takes from now on (an event entity: one per firing)."""
    states: list[State] = []

    @callback
    def changed(event: Event[EventStateChangedData]) -> None:
        if (new := event.data["new_state"]) is not None:
            states.append(new)

    async_track_state_change_event(hass, [entity], changed)
    return states


async def subscriptions(hass: HomeAssistant, sim: RingSim) -> list[int]:
    """The statuses of the listener's push subscriptions at Ring (PATCH /clients_api/device)."""
    return [r["status"] for r in await sim.requests(hass, SUBSCRIPTION_PATH) if r["method"] == "PATCH"]


# --- 1. the history fills a push outage ------------------------------------------------------------


async def test_a_ding_during_a_push_outage_comes_from_history_once_and_the_late_push_is_no_duplicate(
    hass: HomeAssistant, ringsim: StartRing, freezer: FrozenDateTimeFactory
) -> None:
    sim = await ringsim("--devices", "doorbell")
    await add_ring_account(hass, sim)
    await until_connected(hass, sim)
    doorbell = sim.device("doorbell")
    ding = event_entity(hass, sim, "ding")
    fires = record_states(hass, ding)

    # Google holds pushes (the socket stays up): the ding waits at Google, not at us.
    await sim.inject(hass, push={"hold": True})
    state = await sim.inject(hass, ding={"device_id": doorbell["id"]})
    assert state["push_held"] == 1
    await next_poll(hass, freezer)

    assert len(fires) == 1
    assert fires[0].attributes["event_type"] == "ring"
    assert fires[0].attributes["source"] == "history"
    assert datetime.fromisoformat(fires[0].attributes["created"])
    ding_id = fires[0].attributes["id"]

    # Push delivery comes back with the held ding; the listener acknowledges it and drops it.
    delivered = (await sim.state(hass))["counters"]["push_delivered"]
    await sim.inject(hass, push={"hold": False})
    await until(
        hass, lambda: _counter_above(hass, sim, "push_delivered", delivered), "the late push acknowledged"
    )
    await hass.async_block_till_done()
    await next_poll(hass, freezer)

    assert len(fires) == 1, [f.attributes for f in fires]
    assert state_of(hass, ding).attributes["id"] == ding_id

    # And push delivers the next ding itself, in real time.
    await sim.inject(hass, ding={"device_id": doorbell["id"]})

    async def pushed() -> bool:
        return len(fires) == 2

    await until(hass, pushed, "the next ding pushed")
    assert "source" not in fires[1].attributes
    assert fires[1].attributes["id"] != ding_id


async def _counter_above(hass: HomeAssistant, sim: RingSim, name: str, value: int) -> bool:
    return int((await sim.state(hass))["counters"][name]) > value


# --- 2. the watchdog replaces a receiver that gave up ----------------------------------------------


async def test_a_receiver_that_gives_up_for_good_is_replaced_and_a_later_ding_arrives(
    hass: HomeAssistant, ringsim: StartRing
) -> None:
    """Google ends the MCS session three times in a row: firebase-messaging stops its reading task for
    good (its `started` stays True, python-ring-doorbell #526). The watchdog starts a new listener."""
    sim = await ringsim("--devices", "doorbell")
    entry = await add_ring_account(hass, sim)
    await until_connected(hass, sim)
    assert await subscriptions(hass, sim) == [204]
    backend = backends(entry)[ring_id(sim.device("doorbell"))]

    await sim.inject(hass, push={"close": 3})

    async def failing() -> bool:
        return int(backend.diagnostics()["push_failures"]) >= 1

    await until(hass, failing, "the lost receiver counted as a failure")
    assert backend.diagnostics()["push_state"] in ("connecting", "failed")

    async def subscribed_again() -> bool:
        return await subscriptions(hass, sim) == [204, 204]

    await until(hass, subscribed_again, "a second listener subscribed at Ring")
    await until_connected(hass, sim)

    ding = event_entity(hass, sim, "ding")
    state = await fired(hass, ding, sim.inject(hass, ding={"device_id": sim.device("doorbell")["id"]}))
    assert state.attributes["event_type"] == "ring"
    diagnostics = backend.diagnostics()
    assert diagnostics["push_state"] == "connected"
    assert diagnostics["push_failures"] == 0  # connected again: the run of failures is over
    assert diagnostics["push_disconnects"] >= 1


# --- 3. the push channel's diagnostic sensor ---------------------------------------------------------


async def test_the_push_sensor_is_a_diagnostic_enum_that_follows_the_channel_as_it_changes(
    hass: HomeAssistant, ringsim: StartRing, entity_registry: er.EntityRegistry
) -> None:
    """No poll brings the changes: the push channel tells the coordinator, which asks Ring nothing."""
    sim = await ringsim("--devices", "doorbell")
    # Ring keeps the first subscription waiting, then refuses it; the second one is accepted.
    await sim.inject(
        hass,
        stall={"path": SUBSCRIPTION_PATH, "count": 1, "seconds": 3},
        fail={"path": SUBSCRIPTION_PATH, "count": 1, "status": 503},
    )
    await add_ring_account(hass, sim)
    asked_at_setup = await cloud_requests(hass, sim)
    camera_id = ring_id(sim.device("doorbell"))
    push = entity_id(entity_registry, "sensor", f"{camera_id}_push")
    states = record_states(hass, push)
    registered = entity_registry.async_get(push)
    assert registered is not None
    assert registered.entity_category is EntityCategory.DIAGNOSTIC
    assert state_of(hass, push).attributes["options"] == list(PUSH_STATES)
    assert state_of(hass, push).attributes["device_class"] == "enum"
    assert state_of(hass, push).state == "connecting"

    await until(hass, lambda: reads(hass, push, "connected"), f"{push} is connected")

    assert [s.state for s in states] == ["failed", "connecting", "connected"]
    assert await subscriptions(hass, sim) == [503, 204]
    assert await cloud_requests(hass, sim) == asked_at_setup  # no poll either: it reads the device list


async def test_the_push_sensor_says_connected_after_setup(
    hass: HomeAssistant,
    ringsim: StartRing,
    freezer: FrozenDateTimeFactory,
    entity_registry: er.EntityRegistry,
) -> None:
    """The clock stands still (no poll): the listener's login at ringsim is shown as it happens."""
    sim = await ringsim("--devices", "doorbell")
    await add_ring_account(hass, sim)
    asked_at_setup = await cloud_requests(hass, sim)
    push = entity_id(entity_registry, "sensor", f"{ring_id(sim.device('doorbell'))}_push")
    states = record_states(hass, push)
    await until_connected(hass, sim)

    await until(hass, lambda: reads(hass, push, "connected"), f"{push} is connected")

    assert [s.state for s in states] == ["connected"]
    assert await cloud_requests(hass, sim) == asked_at_setup


async def connected_push_sensor(
    hass: HomeAssistant, ringsim: StartRing, entity_registry: er.EntityRegistry
) -> tuple[RingSim, str, list[dict[str, Any]], list[State]]:
    """A doorbell account whose push sensor reads "connected": the sim, the sensor, the requests Ring
    has had so far, and every state the sensor takes from now on."""
    sim = await ringsim("--devices", "doorbell")
    await add_ring_account(hass, sim)
    push = entity_id(entity_registry, "sensor", f"{ring_id(sim.device('doorbell'))}_push")
    await until(hass, lambda: reads(hass, push, "connected"), f"{push} is connected")
    return sim, push, await cloud_requests(hass, sim), record_states(hass, push)


async def test_the_push_sensor_follows_a_receiver_that_gives_up_without_a_poll(
    hass: HomeAssistant, ringsim: StartRing, entity_registry: er.EntityRegistry
) -> None:
    """Google ends three MCS sessions in a row: the sensor leaves "connected" as the socket goes, says
    "failed" once the receiver gave up, and "connected" when the watchdog's new listener logged in;
    each as it happens, and no request to Ring for it."""
    sim, push, asked_before, states = await connected_push_sensor(hass, ringsim, entity_registry)

    await sim.inject(hass, push={"close": 3})

    async def connected_again() -> bool:
        return await subscriptions(hass, sim) == [204, 204] and await reads(hass, push, "connected")

    await until(hass, connected_again, f"{push} connected through a second listener")
    seen = [s.state for s in states]
    assert seen[0] == "connecting", seen
    assert "failed" in seen, seen
    assert await cloud_requests(hass, sim) == asked_before


async def test_the_push_sensor_follows_a_dropped_socket_without_a_poll(
    hass: HomeAssistant, ringsim: StartRing, entity_registry: er.EntityRegistry
) -> None:
    """Google drops the MCS connection: "connecting" while the client re-opens it, "connected" once it
    logged in again; no request to Ring for it."""
    sim, push, asked_before, states = await connected_push_sensor(hass, ringsim, entity_registry)

    await sim.inject(hass, push={"drop": True})

    async def back() -> bool:
        return [s.state for s in states] == ["connecting", "connected"]

    await until(hass, back, f"{push} connecting, then connected again")
    assert await cloud_requests(hass, sim) == asked_before


async def reads(hass: HomeAssistant, entity: str, expected: str) -> bool:
    return state_of(hass, entity).state == expected


async def cloud_requests(hass: HomeAssistant, sim: RingSim) -> list[dict[str, Any]]:
    """Ringsim's request log less the push channel's own traffic (FCM check-in and registration at
    Google, the subscription at Ring): the device list, histories, health, snapshots."""
    return [
        r
        for r in (await sim.state(hass))["requests"]
        if "google" not in str(r.get("host", "")) and not str(r["path"]).startswith(SUBSCRIPTION_PATH)
    ]


# --- 4. the flow: too many codes, reauth through the code step -----------------------------------


async def test_too_many_codes_is_its_own_error(
    hass: HomeAssistant, ringsim: StartRing, caplog: pytest.LogCaptureFixture
) -> None:
    """Ring sends about ten codes in ten minutes; then its answer (429, "too many requests from
    dependency service") is shown as such, not as a wrong password or an outage."""
    sim = await ringsim("--two-factor", "sms")
    for _ in range(10):
        flow = await start_ring_flow(hass)
        flow = await submit(hass, flow, {"email": sim.email, "password": sim.password})
        assert flow["step_id"] == "ring_2fa_sms"
        hass.config_entries.flow.async_abort(flow["flow_id"])
    assert (await sim.state(hass))["counters"]["codes_sent"] == 10

    flow = await start_ring_flow(hass)
    flow = await submit(hass, flow, {"email": sim.email, "password": sim.password})

    assert flow["type"] is FlowResultType.FORM
    assert flow["step_id"] == "ring"
    assert flow["errors"] == {"base": "too_many_codes"}
    assert (await sim.state(hass))["counters"]["codes_sent"] == 10
    assert sim.password not in caplog.text


async def test_reauth_passes_the_code_step(
    hass: HomeAssistant,
    ringsim: StartRing,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sim = await ringsim("--two-factor", "email", "--devices", "doorbell")
    entry = await add_ring_account(hass, sim)
    refused = dict(entry.data["token"])
    await sim.inject(hass, expire_access_tokens=True, revoke_refresh_tokens=True)
    await next_poll(hass, freezer)
    flow = dict(
        next(
            f
            for f in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
            if f["context"]["source"] == SOURCE_REAUTH
        )
    )
    assert flow["step_id"] == "ring_reauth_confirm"

    flow = await submit(hass, flow, {"password": sim.password})
    assert flow["type"] is FlowResultType.FORM
    assert flow["step_id"] == "ring_2fa_email"
    code = (await sim.state(hass))["last_code"]
    flow = await submit(hass, flow, {"code": code})

    assert flow["type"] is FlowResultType.ABORT
    assert flow["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.data["token"]["refresh_token"] != refused["refresh_token"]
    assert code not in str(dict(entry.data))
    # (Not the six-digit code: any run of digits in the log could match it by chance.)
    for secret in (sim.password, refused["refresh_token"], entry.data["token"]["access_token"]):
        assert secret not in caplog.text


# --- 6. the history's pace and its 429 backoff -------------------------------------------------------


async def test_history_is_asked_at_most_once_a_minute_per_camera_and_backs_off_on_429(
    hass: HomeAssistant, ringsim: StartRing, freezer: FrozenDateTimeFactory
) -> None:
    sim = await ringsim("--devices", "doorbell,floodlight,battery")
    entry = await add_ring_account(hass, sim)
    cameras = [sim.device(preset) for preset in ("doorbell", "floodlight", "battery")]

    async def asked() -> list[int]:
        """History requests so far, per camera."""
        requests = await sim.requests(hass, "/clients_api/doorbots/")
        return [sum(r["path"] == _history(c) for r in requests) for c in cameras]

    # Extra state reads within the minute (a switch, a refresh asked for) ask Ring no history.
    assert await asked() == [1, 1, 1]
    for camera in entry.runtime_data.cameras.values():
        await camera.coordinator.async_refresh()
        await camera.coordinator.async_refresh()
    assert await asked() == [1, 1, 1]
    for _ in range(5):
        await next_poll(hass, freezer)
    assert await asked() == [6, 6, 6]  # one a minute each

    doorbell = _history(cameras[0])
    await sim.inject(hass, fail={"status": 429, "count": 1000, "path": doorbell})
    before = (await asked())[0]
    for _ in range(10):
        await next_poll(hass, freezer)
    refused = (await asked())[0] - before
    # Every poll would be 10; waiting 1, 2, 4, 8 minutes asks 4 times in 10 minutes.
    assert 3 <= refused <= 5, refused
    assert entry.state is ConfigEntryState.LOADED

    await sim.inject(hass)  # {}: Ring answers again
    for _ in range(10):
        await next_poll(hass, freezer)
    assert (await sim.requests(hass, doorbell))[-1]["status"] == 200


def _history(device: dict[str, Any]) -> str:
    return f"/clients_api/doorbots/{device['id']}/history"


# --- 7. small things ---------------------------------------------------------------------------------


async def test_a_camera_without_subscription_has_no_media(hass: HomeAssistant, ringsim: StartRing) -> None:
    sim = await ringsim("--devices", "doorbell")
    state = await sim.inject(
        hass, add_device={"kind": "stickup_cam_v4", "description": "Shed", "subscribed": False}
    )
    shed = next(d for d in state["devices"] if d["description"] == "Shed")
    entry = await add_ring_account(hass, sim)
    assert await async_setup_component(hass, "media_source", {})
    assert backends(entry)[ring_id(shed)].media() is None
    assert backends(entry)[ring_id(sim.device("doorbell"))].media() is not None

    root = await media_source.async_browse_media(hass, f"media-source://{DOMAIN}")

    titles = [child.title for child in root.children or []]
    assert "Shed" not in titles
    assert sim.device("doorbell")["description"] in titles
    with pytest.raises(BrowseError):
        await media_source.async_browse_media(
            hass, f"media-source://{DOMAIN}/{entry.entry_id}|{_b64(ring_id(shed))}"
        )


def _b64(text: str) -> str:
    """A camera id as the media source's content ids carry it."""
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


async def test_the_siren_switches_off(
    hass: HomeAssistant, ringsim: StartRing, entity_registry: er.EntityRegistry
) -> None:
    sim = await ringsim("--devices", "floodlight")
    await add_ring_account(hass, sim)
    floodlight = sim.device("floodlight")
    siren = entity_id(entity_registry, "switch", f"{ring_id(floodlight)}_siren")

    def seconds_left(state: dict[str, Any]) -> int:
        device = next(d for d in state["devices"] if d["id"] == floodlight["id"])
        return int(device["siren_status"]["seconds_remaining"])

    await hass.services.async_call("switch", "turn_on", {"entity_id": siren}, blocking=True)
    await hass.async_block_till_done()
    assert seconds_left(await sim.state(hass)) > 0
    assert state_of(hass, siren).state == STATE_ON

    await hass.services.async_call("switch", "turn_off", {"entity_id": siren}, blocking=True)
    await hass.async_block_till_done()

    assert seconds_left(await sim.state(hass)) == 0
    assert state_of(hass, siren).state == STATE_OFF
    offs = await sim.requests(hass, f"/clients_api/doorbots/{floodlight['id']}/siren_off")
    assert [r["status"] for r in offs] == [200]


async def test_a_wired_snapshot_serves_30_s_whatever_a_shorter_freshness_says(
    hass: HomeAssistant, ringsim: StartRing, entity_registry: er.EntityRegistry
) -> None:
    """As the README says: "Snapshot freshness" 0 asks the backend on every image, and Ring is still
    asked for a new snapshot at most every 30 s (each costs four requests and wakes the camera)."""
    sim = await ringsim("--devices", "doorbell")
    entry = await add_ring_account(hass, sim)
    hass.config_entries.async_update_entry(entry, options={**entry.options, CONF_SNAPSHOT_MAX_AGE: 0})
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    camera = entity_id(entity_registry, "camera", f"{ring_id(sim.device('doorbell'))}_hd")
    first = await async_get_image(hass, camera)
    taken = state_of(hass, camera).attributes["picture_taken_at"]
    asked = len(await sim.requests(hass, "/clients_api/snapshots/"))

    second = await async_get_image(hass, camera)

    assert second.content == first.content
    assert state_of(hass, camera).attributes["picture_taken_at"] == taken
    assert len(await sim.requests(hass, "/clients_api/snapshots/")) == asked


# --- 5. live-view keep-alive ---------------------------------------------------------------------------

# Ring ends a live view not pinged for this long (code 6); the library pings every 5 s.
PING_TIMEOUT = 7.0


@pytest.mark.usefixtures("real_network_adapters")  # the viewer's ICE needs this host's addresses
async def test_a_live_view_held_past_rings_ping_timeout_stays_open(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator, ringsim: StartRing
) -> None:
    sim = await ringsim("--devices", "doorbell")
    await add_ring_account(hass, sim)
    pings_before = int((await sim.inject(hass, quirks={"ping_timeout": PING_TIMEOUT}))["counters"]["pings"])
    camera = camera_entity(hass, sim)
    ws = await hass_ws_client(hass)
    viewer = WebRtcViewer()
    try:
        _, _, event = await offer(ws, viewer, camera)
        assert event["type"] == "answer", event
        await viewer.accept(event["answer"])
        await viewer.next_frame(within=WAIT)

        async def pinged_past_the_timeout() -> bool:
            # The second ping comes ~10 s after the answer: past the 7 s Ring would wait for the first.
            return int((await sim.state(hass))["counters"]["pings"]) - pings_before >= 2

        await until(hass, pinged_past_the_timeout, "two keep-alive pings")
        assert await sessions_open(hass, sim) == 1
        assert await a_current_frame(viewer), "the live view went stale"
    finally:
        await viewer.close()


async def a_current_frame(viewer: WebRtcViewer) -> bool:
    """Whether the viewer gets a frame of ringsim's clock from the last 5 s, reading past the frames
    that queued up while the test waited (aiortc keeps every decoded frame; ~30 a second)."""
    for _ in range(round(WAIT * 30)):
        frame = await viewer.next_frame(within=WAIT)
        if time.time() * 1000 - timestamp.read(frame) < 5000:
            return True
    return False
