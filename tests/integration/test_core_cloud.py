"""The brand-blind core serving what a cloud brand declares, end to end through a real brand and its
simulator: event specs, readings, cloud pictures, recordings in the media browser, diagnostics.

Ring (ringsim in its own process, the unmodified ring-doorbell) is the brand here; these tests assert
the core's part (which entity fires, what the media view serves, what the attributes say), the brand's
own tests (test_ring.py) assert Ring's.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import media_source
from homeassistant.components.camera.const import StreamType
from homeassistant.components.http.auth import async_sign_path
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import STATE_UNKNOWN, EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.components.diagnostics import get_diagnostics_for_config_entry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator, WebSocketGenerator

from custom_components.camera_hub.const import DOMAIN
from custom_components.camera_hub.vendors.ring.const import UPDATE_INTERVAL
from scripts.lib.webrtc_client import WebRtcViewer

from .conftest import state_of
from .ring_fixtures import RingSim, StartRing, add_ring_account

pytestmark = [
    pytest.mark.usefixtures("socket_enabled"),
    # ring-doorbell 0.9.14 (unmodified) passes `auth=` to aiohttp, which deprecates it: the library's call.
    pytest.mark.filterwarnings("ignore:The 'auth' parameter is deprecated:DeprecationWarning"),
]


def camera_id(device: dict[str, Any]) -> str:
    """The camera id Ring's brand gives a device (docs/entities.md: unique ids `<camera id>_<key>`)."""
    return f"ring_{device['id']}"


def entity(entity_registry: er.EntityRegistry, platform: str, unique_id: str) -> str:
    found = entity_registry.async_get_entity_id(platform, DOMAIN, unique_id)
    assert found is not None, f"no {platform} entity with unique id {unique_id}"
    return found


async def next_poll(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    freezer.tick(UPDATE_INTERVAL + timedelta(seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


async def until_changed(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, entity_id: str, before: str, polls: int = 5
) -> str:
    """Poll (on Ring's schedule, clock advanced) until `entity_id`'s state differs from `before`."""
    for _ in range(polls):
        await next_poll(hass, freezer)
        if (now := state_of(hass, entity_id).state) != before:
            return now
    raise AssertionError(f"{entity_id} stayed {before} for {polls} polls")


async def until(hass: HomeAssistant, sim: RingSim, check: Any, what: str, tries: int = 200) -> None:
    """Ask ringsim's state until `check(state)` holds (each ask is a round trip: no sleeping)."""
    for _ in range(tries):
        if check(await sim.state(hass)):
            return
        await hass.async_block_till_done()
    raise AssertionError(what)


@pytest.fixture
async def ring_account(hass: HomeAssistant, ringsim: StartRing) -> tuple[RingSim, ConfigEntry]:
    sim = await ringsim()
    return sim, await add_ring_account(hass, sim)


async def test_a_ding_fires_the_ding_entity_only_with_the_brands_attributes(
    hass: HomeAssistant,
    ring_account: tuple[RingSim, ConfigEntry],
    entity_registry: er.EntityRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    sim, _ = ring_account
    doorbell = sim.device("doorbell")
    ding = entity(entity_registry, "event", f"{camera_id(doorbell)}_ding")
    motion = entity(entity_registry, "event", f"{camera_id(doorbell)}_motion")
    assert state_of(hass, ding).attributes["device_class"] == "doorbell"
    assert state_of(hass, ding).attributes["event_types"] == ["ring"]  # HA's doorbell standard
    assert state_of(hass, motion).attributes["device_class"] == "motion"
    await next_poll(hass, freezer)  # the history's baseline: what happened before is no news
    motion_before = state_of(hass, motion).state

    await sim.inject(hass, ding={"device_id": doorbell["id"]})
    await until_changed(hass, freezer, ding, STATE_UNKNOWN)

    fired = state_of(hass, ding)
    assert fired.attributes["event_type"] == "ring"
    assert fired.attributes["id"]  # the brand's attribute, passed through as it sent it
    assert datetime.fromisoformat(fired.state) <= dt_util.utcnow()
    assert state_of(hass, motion).state == motion_before, "a ding is no motion"


async def test_readings_are_sensors_with_the_declared_classes(
    hass: HomeAssistant, ring_account: tuple[RingSim, ConfigEntry], entity_registry: er.EntityRegistry
) -> None:
    sim, _ = ring_account
    battery_cam = sim.device("battery")
    battery = entity(entity_registry, "sensor", f"{camera_id(battery_cam)}_battery")
    state = state_of(hass, battery)
    assert state.attributes["device_class"] == "battery"
    assert state.attributes["unit_of_measurement"] == "%"
    assert state.attributes["state_class"] == "measurement"
    assert 0 <= float(state.state) <= 100
    # Declared diagnostic and disabled by default: registered so, with no state.
    signal = entity_registry.async_get(
        entity(entity_registry, "sensor", f"{camera_id(battery_cam)}_wifi_signal")
    )
    assert signal is not None
    assert signal.entity_category == EntityCategory.DIAGNOSTIC
    assert signal.disabled_by is er.RegistryEntryDisabler.INTEGRATION


async def test_recordings_browse_resolve_and_play_through_the_authenticated_view(
    hass: HomeAssistant,
    ring_account: tuple[RingSim, ConfigEntry],
    freezer: FrozenDateTimeFactory,
    hass_client: ClientSessionGenerator,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    sim, _ = ring_account
    assert await async_setup_component(hass, "media_source", {})
    doorbell = sim.device("doorbell")
    await sim.inject(hass, motion={"device_id": doorbell["id"], "subtype": "human"})
    await next_poll(hass, freezer)  # the history poll learns of the recording

    root = await media_source.async_browse_media(hass, f"media-source://{DOMAIN}")
    assert root.children
    folder = next(child for child in root.children if child.title == doorbell["description"])
    items = await media_source.async_browse_media(hass, folder.media_content_id)
    assert items.children, "the motion's recording is listed"
    newest = items.children[0]
    assert newest.can_play
    assert newest.media_content_type == "video/mp4"

    played = await media_source.async_resolve_media(hass, newest.media_content_id, None)
    assert played.mime_type == "video/mp4"
    assert played.url.startswith("/api/camera_hub/media/")

    client = await hass_client()
    response = await client.get(played.url)
    assert response.status == HTTPStatus.OK
    assert response.content_type == "video/mp4"
    mp4 = await response.read()
    assert mp4[4:8] == b"ftyp", "an MP4 file"

    # Without a login the view refuses; a player gets the path signed, as HA's media source signs it.
    assert (await (await hass_client_no_auth()).get(played.url)).status == HTTPStatus.UNAUTHORIZED
    signed = async_sign_path(hass, played.url, timedelta(minutes=1))
    again = await (await hass_client_no_auth()).get(signed)
    assert again.status == HTTPStatus.OK
    assert await again.read() == mp4


async def test_an_unknown_item_is_not_found_and_names_nothing_secret(
    hass: HomeAssistant, ring_account: tuple[RingSim, ConfigEntry], hass_client: ClientSessionGenerator
) -> None:
    _, entry = ring_account
    assert await async_setup_component(hass, "media_source", {})
    with pytest.raises(media_source.Unresolvable) as caught:
        await media_source.async_resolve_media(
            hass, f"media-source://{DOMAIN}/{entry.entry_id}|bm90|aXQ", None
        )
    assert caught.value.translation_key == "media_not_found"
    client = await hass_client()
    response = await client.get(f"/api/camera_hub/media/{entry.entry_id}/bm90/aXQ/media")
    assert response.status == HTTPStatus.NOT_FOUND


async def test_diagnostics_carry_readings_and_notices(
    hass: HomeAssistant,
    ring_account: tuple[RingSim, ConfigEntry],
    hass_client: ClientSessionGenerator,
) -> None:
    sim, entry = ring_account
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    cameras = diagnostics["cameras"]
    assert cameras
    for camera in cameras:
        assert "push" in camera["state"]["readings"]
        assert camera["state"]["notices"] == []
    assert sim.email not in str(diagnostics)
    assert sim.password not in str(diagnostics)


@pytest.mark.usefixtures("real_network_adapters")
async def test_cloud_live_view_is_native_webrtc_answered_by_the_cloud(
    hass: HomeAssistant,
    ring_account: tuple[RingSim, ConfigEntry],
    entity_registry: er.EntityRegistry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    sim, _ = ring_account
    camera = entity(entity_registry, "camera", f"{camera_id(sim.device('doorbell'))}_hd")
    ws = await hass_ws_client(hass)
    await ws.send_json_auto_id({"type": "camera/capabilities", "entity_id": camera})
    reply = await ws.receive_json()
    assert reply["result"]["frontend_stream_types"] == [StreamType.WEB_RTC], "no HLS: Ring has no RTSP"

    viewer = WebRtcViewer()
    try:
        await ws.send_json_auto_id(
            {"type": "camera/webrtc/offer", "entity_id": camera, "offer": await viewer.offer()}
        )
        reply = await ws.receive_json()
        assert reply["success"], reply
        subscription = reply["id"]
        session = await ws.receive_json()
        assert session["event"]["type"] == "session"
        answer = (await ws.receive_json())["event"]
        assert answer["type"] == "answer", answer
        await viewer.accept(answer["answer"])
        assert await viewer.next_frame() is not None, "ringsim's H.264, decoded"
        await until(
            hass, sim, lambda s: s["counters"]["live_sessions_open"] == 1, "the cloud holds the session"
        )

        # The frontend's player leaving: HA closes the session, the brand closes Ring's.
        await ws.send_json_auto_id({"type": "unsubscribe_events", "subscription": subscription})
        while (message := await ws.receive_json())["type"] != "result":
            assert message["event"]["type"] == "candidate", message  # the cloud's candidates, still arriving
        assert message["success"], message
        await until(hass, sim, lambda s: s["counters"]["live_sessions_open"] == 0, "the session was closed")
    finally:
        await viewer.close()


async def test_a_notice_is_a_repair_issue_while_state_reads_report_it(
    hass: HomeAssistant, ringsim: StartRing, issue_registry: ir.IssueRegistry
) -> None:
    """Ring reports its push channel failing (three failed starts) as a notice; the core raises the
    brand's repair issue while reads report it and deletes it once they stop (the channel connected)."""
    sim = await ringsim("--devices", "doorbell")
    # Ring refuses the push subscription three times: the listener retries after 5 s, then 10 s, then 20 s.
    await sim.inject(hass, fail={"status": 503, "count": 3, "path": "/clients_api/device"})
    entry = await add_ring_account(hass, sim)
    (camera,) = entry.runtime_data.cameras.values()
    try:

        def notices() -> list[ir.IssueEntry]:
            return [
                issue
                for (domain, _), issue in issue_registry.issues.items()
                if domain == DOMAIN and (issue.data or {}).get("entry_id") == entry.entry_id
            ]

        async def read_until(wanted: Any, what: str, within: float = 60) -> None:
            deadline = time.monotonic() + within
            while True:
                await camera.coordinator.async_refresh()
                if wanted(notices()):
                    return
                assert time.monotonic() < deadline, what
                await asyncio.sleep(0.5)  # the brand's retries run on real time

        await read_until(lambda found: len(found) == 1, "no repair issue after three failed starts")
        (issue,) = notices()
        assert issue.translation_key == "ring_push_failing"
        assert issue.is_fixable is False
        assert issue.translation_placeholders == {"name": camera.coordinator.title, "failures": "3"}

        await read_until(lambda found: found == [], "the repair issue outlived the failures")
    finally:
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
