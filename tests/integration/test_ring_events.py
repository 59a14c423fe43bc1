"""Ring events in real time: ringsim pushes over its FCM (MCS) socket to the unmodified ring-doorbell
listener, and the doorbell's event entities fire — also after the socket was dropped and after pushes
the library cannot read (three in a row would shut its FCM client down for good).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from datetime import datetime
from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, State, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import async_track_state_change_event
from ring_doorbell import RingEvent

from custom_components.camera_hub.const import DOMAIN
from custom_components.camera_hub.vendors.ring.events import camera_event

from .ring_fixtures import RING_LIBRARY_WARNINGS, RingSim, StartRing, add_ring_account

pytestmark = [pytest.mark.usefixtures("socket_enabled"), RING_LIBRARY_WARNINGS]

WAIT = 30.0


@pytest.fixture
async def ring_account(hass: HomeAssistant, ringsim: StartRing) -> AsyncIterator[tuple[RingSim, ConfigEntry]]:
    sim = await ringsim("--devices", "doorbell")
    entry = await add_ring_account(hass, sim)
    await until_push_connections(hass, sim, 1)
    yield sim, entry
    await hass.config_entries.async_unload(entry.entry_id)  # the push channel stops with it
    await hass.async_block_till_done()


def event_entity(hass: HomeAssistant, sim: RingSim, key: str) -> str:
    unique_id = f"ring_{sim.device('doorbell')['id']}_{key}"
    found = er.async_get(hass).async_get_entity_id("event", DOMAIN, unique_id)
    assert found is not None, f"no event entity with unique id {unique_id}"
    return found


async def until_push_connections(hass: HomeAssistant, sim: RingSim, expected: int) -> None:
    """ringsim's count of logged-in MCS sockets (another process's: nothing to await but asking)."""
    async with asyncio.timeout(WAIT):
        while (await sim.state(hass))["counters"]["push_connections"] != expected:  # noqa: ASYNC110
            await asyncio.sleep(0.1)


async def fired(hass: HomeAssistant, entity_id: str, trigger: Awaitable[Any]) -> State:
    """The entity's next state after `trigger` (its event firing), within WAIT."""
    changes: asyncio.Queue[State] = asyncio.Queue()

    @callback
    def changed(event: Event[EventStateChangedData]) -> None:
        if (new := event.data["new_state"]) is not None:
            changes.put_nowait(new)

    unsubscribe = async_track_state_change_event(hass, [entity_id], changed)
    try:
        await trigger
        async with asyncio.timeout(WAIT):
            return await changes.get()
    finally:
        unsubscribe()


async def test_a_pushed_ding_and_motion_fire_their_event_entities(
    hass: HomeAssistant, ring_account: tuple[RingSim, ConfigEntry]
) -> None:
    sim, _ = ring_account
    doorbell = sim.device("doorbell")
    ding = event_entity(hass, sim, "ding")

    state = await fired(hass, ding, sim.inject(hass, ding={"device_id": doorbell["id"]}))
    assert state.attributes["event_type"] == "ring"
    assert state.attributes["id"]
    assert datetime.fromisoformat(state.attributes["created"])  # the push's time: not the history poll's
    assert "source" not in state.attributes

    motion = event_entity(hass, sim, "motion")
    state = await fired(
        hass, motion, sim.inject(hass, motion={"device_id": doorbell["id"], "subtype": "human"})
    )
    assert state.attributes["event_type"] == "motion"
    assert state.attributes["subtype"] == "human"


async def test_after_a_dropped_connection_the_listener_reconnects_and_a_later_ding_arrives(
    hass: HomeAssistant, ring_account: tuple[RingSim, ConfigEntry]
) -> None:
    sim, _ = ring_account
    dropped = await sim.inject(hass, push={"drop": True})
    assert dropped["counters"]["push_connections"] == 0
    await until_push_connections(hass, sim, 1)

    ding = event_entity(hass, sim, "ding")
    state = await fired(hass, ding, sim.inject(hass, ding={"device_id": sim.device("doorbell")["id"]}))
    assert state.attributes["event_type"] == "ring"


async def test_unreadable_pushes_do_not_stop_later_events(
    hass: HomeAssistant, ring_account: tuple[RingSim, ConfigEntry]
) -> None:
    sim, _ = ring_account
    doorbell_id = sim.device("doorbell")["id"]
    # Three in a row: the library's FCM client shuts down for good after three failing callbacks.
    for _ in range(3):
        await sim.inject(hass, push={"malformed": True}, ding={"device_id": doorbell_id})
    async with asyncio.timeout(WAIT):  # acknowledged: the listener has read (and dropped) all three
        while (await sim.state(hass))["counters"]["push_delivered"] < 3:  # noqa: ASYNC110
            await asyncio.sleep(0.1)

    ding = event_entity(hass, sim, "ding")
    state = await fired(hass, ding, sim.inject(hass, ding={"device_id": doorbell_id}))
    assert state.attributes["event_type"] == "ring"
    assert (await sim.state(hass))["counters"]["push_connections"] == 1


def test_ring_event_kinds_map_to_camera_event_types() -> None:
    def ring_event(kind: str, state: str) -> RingEvent:
        return RingEvent(
            id=7, doorbot_id=42, device_name="Front", device_kind="lpd_v2", now=0.0, expires_in=180,
            kind=kind, state=state,
        )  # fmt: skip

    found = camera_event(ring_event("motion", "human"))
    assert found is not None
    camera_id, event = found
    assert camera_id == "ring_42"
    assert (event.type, event.attributes["subtype"], event.attributes["id"]) == ("motion", "human", "7")
    assert event.attributes["created"] == "1970-01-01T00:00:00+00:00"
    # The legacy ding push comes with its action as the kind (ring-doorbell compares `action.lower`).
    legacy = camera_event(ring_event("com.ring.push.HANDLE_NEW_DING", "ding"))
    assert legacy is not None
    assert legacy[1].type == "ring"
    unlock = camera_event(ring_event("intercom_unlock", "unlock"))
    assert unlock is not None
    assert unlock[1].type == "intercom_unlock"
    assert "subtype" not in unlock[1].attributes
    assert camera_event(ring_event("alarm_siren", "on")) is None


async def test_a_failed_start_is_retried_with_backoff_and_events_then_arrive(
    hass: HomeAssistant, ringsim: StartRing
) -> None:
    sim = await ringsim("--devices", "doorbell")
    # Ring refuses the first push subscription: the listener does not start, and is started again.
    await sim.inject(hass, fail={"status": 503, "count": 1, "path": "/clients_api/device"})
    entry = await add_ring_account(hass, sim)
    try:
        await until_push_connections(hass, sim, 1)
        subscriptions = [
            r["status"] for r in await sim.requests(hass, "/clients_api/device") if r["method"] == "PATCH"
        ]
        assert subscriptions == [503, 204]

        ding = event_entity(hass, sim, "ding")
        state = await fired(hass, ding, sim.inject(hass, ding={"device_id": sim.device("doorbell")["id"]}))
        assert state.attributes["event_type"] == "ring"
    finally:
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()


async def test_an_intercom_unlock_fires_the_intercoms_event_entity(
    hass: HomeAssistant, ringsim: StartRing
) -> None:
    sim = await ringsim("--devices", "doorbell")
    state = await sim.inject(
        hass, add_device={"kind": "intercom_handset_audio", "description": "Building Door"}
    )
    intercom = next(d for d in state["devices"] if d["description"] == "Building Door")
    entry = await add_ring_account(hass, sim)
    try:
        await until_push_connections(hass, sim, 1)
        unique_id = f"ring_{intercom['id']}_intercom_unlock"
        unlock = er.async_get(hass).async_get_entity_id("event", DOMAIN, unique_id)
        assert unlock is not None, f"no event entity with unique id {unique_id}"

        fired_state = await fired(
            hass, unlock, sim.inject(hass, intercom_unlock={"device_id": intercom["id"]})
        )
        assert fired_state.attributes["event_type"] == "intercom_unlock"
        assert "subtype" not in fired_state.attributes
    finally:
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
