"""ringsim's events reach the unmodified ring_doorbell listener over the full push path: FCM check-in and
registration (through the library's session), Ring's push subscription (PATCH 204), the MCS TLS socket,
and Ring's v2 data messages built by ringsim (camsim/ring/events.py).

The one seam is firebase-messaging's MCS_HOST/MCS_PORT, taken from the cloud file as the integration does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import firebase_messaging.fcmpushclient as fcm
import pytest
from ring_doorbell import Ring, RingEvent, RingEventListener
from ring_doorbell.auth import Auth

from camsim.ring.client import cloud_session
from scripts.lib.sims import Sim, start_ring_sim, stop_sim

pytestmark = [
    pytest.mark.usefixtures("socket_enabled"),
    # ring_doorbell 0.9.14 passes aiohttp's deprecated `auth=`; not ours to fix.
    pytest.mark.filterwarnings("ignore:The 'auth' parameter is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning"),
]

DEADLINE = 10.0


@pytest.fixture(scope="module")
def module_sim() -> Iterator[Sim]:
    sim = start_ring_sim("--devices", "doorbell,floodlight")
    yield sim
    stop_sim(sim)


@pytest.fixture
def sim(module_sim: Sim, monkeypatch: pytest.MonkeyPatch) -> Sim:
    module_sim.inject()
    for name, value in module_sim.info["env"].items():
        monkeypatch.setenv(name, value)
    host, port = json.loads(Path(module_sim.info["cloud_file"]).read_text())["mcs"]
    monkeypatch.setattr(fcm, "MCS_HOST", host)
    monkeypatch.setattr(fcm, "MCS_PORT", port)
    return module_sim


async def wait_for(condition: Callable[[], Any], what: str, within: float = DEADLINE) -> Any:
    """Poll `condition` until truthy; fail after `within` seconds."""
    deadline = time.monotonic() + within
    while not (result := await asyncio.to_thread(condition)):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
    return result


@contextlib.asynccontextmanager
async def _listener(sim: Sim) -> AsyncIterator[tuple[Ring, list[RingEvent], RingEventListener]]:
    """The unmodified library's listener, logged in at ringsim's MCS socket."""
    async with cloud_session(sim.info["cloud_file"]) as session:
        auth = Auth("camsim-tests/1.0", hardware_id=str(uuid.uuid4()), http_client_session=session)
        await auth.async_fetch_token(sim.info["email"], sim.info["password"])
        ring = Ring(auth)
        await ring.async_update_data()
        received: list[RingEvent] = []
        listener = RingEventListener(ring)
        listener.add_notification_callback(received.append)
        assert await listener.start()
        try:
            await wait_for(lambda: sim.state()["counters"]["push_connections"] == 1, "the MCS login")
            yield ring, received, listener
        finally:
            await listener.stop()
            # stop() only cancels the client's tasks; they hang up on their way out.
            await wait_for(lambda: sim.state()["counters"]["push_connections"] == 0, "the client to hang up")


@pytest.fixture
async def listening(sim: Sim) -> AsyncIterator[tuple[Ring, list[RingEvent]]]:
    async with _listener(sim) as (ring, received, _):
        yield ring, received


async def test_ding_and_person_motion_arrive_as_ring_events(
    sim: Sim, listening: tuple[Ring, list[RingEvent]]
) -> None:
    ring, received = listening
    doorbell, floodlight = (d["id"] for d in sim.info["devices"])
    assert sim.state()["push_subscribed"] is True

    await asyncio.to_thread(sim.inject, ding={"device_id": doorbell})
    await asyncio.to_thread(sim.inject, motion={"device_id": floodlight, "subtype": "human"})
    await wait_for(lambda: len(received) == 2, "two events")

    assert [(e.doorbot_id, e.kind, e.state) for e in received] == [
        (doorbell, "ding", "button_press"),
        (floodlight, "motion", "human"),
    ]
    await wait_for(lambda: sim.state()["counters"]["push_delivered"] == 2, "the client's acks")
    assert {e.id for e in ring.active_alerts()} == {e.id for e in received}


async def test_a_dropped_push_socket_reconnects_and_events_flow_again(
    sim: Sim, listening: tuple[Ring, list[RingEvent]]
) -> None:
    _, received = listening
    doorbell = sim.info["devices"][0]["id"]
    await asyncio.to_thread(sim.inject, push={"drop": True})
    await wait_for(lambda: sim.state()["counters"]["push_connections"] == 1, "the client to log in again")

    await asyncio.to_thread(sim.inject, ding={"device_id": doorbell})
    await wait_for(lambda: received, "the ding after the reconnect")
    assert received[0].kind == "ding"


async def test_a_malformed_push_is_lost_and_the_next_one_arrives(
    sim: Sim, listening: tuple[Ring, list[RingEvent]]
) -> None:
    _, received = listening
    doorbell = sim.info["devices"][0]["id"]
    await asyncio.to_thread(sim.inject, push={"malformed": True})
    await asyncio.to_thread(sim.inject, ding={"device_id": doorbell})
    await asyncio.to_thread(sim.inject, motion={"device_id": doorbell})
    await wait_for(lambda: received, "the well-formed event")

    assert [e.kind for e in received] == ["motion"]
    subscriptions = [r for r in sim.state()["requests"] if r["path"] == "/clients_api/device"]
    assert subscriptions[-1]["status"] == 204


async def test_an_intercom_unlock_arrives_for_an_added_intercom(
    sim: Sim, listening: tuple[Ring, list[RingEvent]]
) -> None:
    ring, received = listening
    state = await asyncio.to_thread(
        sim.inject, add_device={"kind": "intercom_handset_audio", "description": "Building Door"}
    )
    intercom = next(d for d in state["devices"] if d["description"] == "Building Door")
    try:
        fresh = Ring(ring.auth)
        await fresh.async_update_data()
        assert [d.name for d in fresh.devices().other] == ["Building Door"]

        await asyncio.to_thread(sim.inject, intercom_unlock={"device_id": intercom["id"]})
        await wait_for(lambda: received, "the unlock")
        assert [(e.doorbot_id, e.kind) for e in received] == [(intercom["id"], "intercom_unlock")]
    finally:
        await asyncio.to_thread(sim.inject, remove_device=intercom["id"])


async def test_held_pushes_arrive_late_once_released(
    sim: Sim, listening: tuple[Ring, list[RingEvent]]
) -> None:
    """`push: {"hold": true}`: Google keeps pushes (the socket stays up); releasing delivers them."""
    _, received = listening
    doorbell = sim.info["devices"][0]["id"]
    await asyncio.to_thread(sim.inject, push={"hold": True})
    state = await asyncio.to_thread(sim.inject, ding={"device_id": doorbell})
    assert state["push_held"] == 1
    assert state["counters"]["push_connections"] == 1
    assert not received

    state = await asyncio.to_thread(sim.inject, push={"hold": False})
    assert state["push_held"] == 0
    await wait_for(lambda: received, "the held ding")
    assert [e.kind for e in received] == ["ding"]


async def test_three_closed_sessions_make_the_client_give_up_for_good(sim: Sim) -> None:
    """`push: {"close": 3}`: Google ends the open session, then each new one right after its login;
    firebase-messaging gives up after three in a row: its reading task ends, `started` stays True."""
    async with _listener(sim) as (_, _, listener):
        receiver = listener._receiver  # the library's FCM client, observed only
        assert receiver is not None
        reading = receiver.tasks[0]
        await asyncio.to_thread(sim.inject, push={"close": 3})
        # The client reconnects 3 s after each login: about 6 s to give up.
        await wait_for(reading.done, "the reading task to end", within=30.0)
        assert not receiver.do_listen
        assert listener.started  # python-ring-doorbell #526: the listener does not notice
        assert sim.state()["counters"]["push_connections"] == 0
