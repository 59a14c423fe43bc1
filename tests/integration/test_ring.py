"""Ring accounts through the real core and the unmodified ring-doorbell, against ringsim.

ringsim (`python -m camsim ring`, its own process) is a Ring cloud over HTTPS: OAuth with the 2FA
dance, sessions, the device list, history with real MP4 recordings, snapshots, switches, faults on
demand and a request log. The integration reaches it through its one seam (CAMERA_HUB_RING_CLOUD,
set by the `ringsim` fixture); everything after that is production code.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.camera import async_get_image
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntry, ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import translation
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.components.diagnostics import get_diagnostics_for_config_entry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.camera_hub.const import DOMAIN
from custom_components.camera_hub.vendors.ring.backend import RingBackend
from custom_components.camera_hub.vendors.ring.const import UPDATE_INTERVAL

from .conftest import state_of
from .ring_fixtures import RING_LIBRARY_WARNINGS, StartRing, add_ring_account, start_ring_flow

pytestmark = [pytest.mark.usefixtures("socket_enabled"), RING_LIBRARY_WARNINGS]

DEVICES_PATH = "/clients_api/ring_devices"


def ring_id(device: dict[str, Any]) -> str:
    return f"ring_{device['id']}"


def backends(entry: ConfigEntry) -> dict[str, RingBackend]:
    cameras = entry.runtime_data.connection.cameras
    assert all(isinstance(b, RingBackend) for b in cameras.values())
    return dict(cameras)


def entity_id(entity_registry: er.EntityRegistry, platform: str, unique_id: str) -> str:
    found = entity_registry.async_get_entity_id(platform, DOMAIN, unique_id)
    assert found is not None, unique_id
    return found


async def next_poll(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Ring's pace: every camera's coordinator and the device-list timer run once."""
    freezer.tick(UPDATE_INTERVAL + timedelta(seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


async def submit(hass: HomeAssistant, flow: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    return dict(await hass.config_entries.flow.async_configure(flow["flow_id"], data))


# --- the flow ---------------------------------------------------------------------------------------


async def test_account_without_2fa_stores_the_token_not_the_password(
    hass: HomeAssistant, ringsim: StartRing, device_registry: dr.DeviceRegistry
) -> None:
    sim = await ringsim()
    entry = await add_ring_account(hass, sim)

    assert entry.state is ConfigEntryState.LOADED
    assert entry.title == sim.email
    assert set(entry.data) == {"brand", "email", "token", "hardware_id"} | (
        {"listen_credentials"} if "listen_credentials" in entry.data else set()
    )
    assert entry.data["token"]["access_token"]
    assert sim.password not in json.dumps(dict(entry.data))
    counters = (await sim.state(hass))["counters"]
    assert counters["password_grants"] == 1
    assert counters["codes_sent"] == 0

    chime = sim.device("chime")
    for device in sim.devices:
        registered = device_registry.async_get_device_by_identifier((DOMAIN, ring_id(device)), entry.entry_id)
        if device is chime:
            assert registered is None, "a chime is no camera"
        else:
            assert registered is not None, device
            assert registered.name == device["description"]
            assert registered.manufacturer == "Ring"
    assert set(backends(entry)) == {ring_id(d) for d in sim.devices if d is not chime}
    assert {sim.device(p)["kind"] for p in ("doorbell", "floodlight", "battery")} <= {
        b.device.kind for b in backends(entry).values()
    }


async def test_2fa_says_the_channel_and_refuses_a_wrong_code(hass: HomeAssistant, ringsim: StartRing) -> None:
    sim = await ringsim("--two-factor", "sms")
    flow = await start_ring_flow(hass)

    flow = await submit(hass, flow, {"email": sim.email, "password": sim.password})
    assert flow["type"] is FlowResultType.FORM
    assert flow["step_id"] == "ring_2fa_sms"
    assert flow["description_placeholders"] == {"email": sim.email}
    state = await sim.state(hass)
    assert state["counters"]["codes_sent"] == 1
    code = state["last_code"]
    wrong = "000000" if code != "000000" else "111111"

    flow = await submit(hass, flow, {"code": wrong})
    assert flow["type"] is FlowResultType.FORM
    assert flow["step_id"] == "ring_2fa_sms"
    assert flow["errors"] == {"base": "invalid_code"}

    flow = await submit(hass, flow, {"code": code})
    assert flow["type"] is FlowResultType.CREATE_ENTRY
    assert code not in json.dumps(flow["data"])
    assert sim.password not in json.dumps(flow["data"])


@pytest.mark.parametrize(
    ("mode", "step_id", "says"),
    [
        ("sms", "ring_2fa_sms", "text message"),
        ("email", "ring_2fa_email", "e-mailed"),
        ("totp", "ring_2fa_totp", "authenticator app"),
    ],
)
async def test_2fa_channel_from_rings_answer_is_its_own_translated_step(
    hass: HomeAssistant, ringsim: StartRing, mode: str, step_id: str, says: str
) -> None:
    """The frontend gets a step id per channel and shows that step's translated text; only the
    account's e-mail is a placeholder (no English channel words inserted into another language)."""
    sim = await ringsim("--two-factor", mode)
    flow = await start_ring_flow(hass)
    flow = await submit(hass, flow, {"email": sim.email, "password": sim.password})
    assert flow["step_id"] == step_id
    assert flow["description_placeholders"] == {"email": sim.email}
    description = (await flow_step_translations(hass))[
        f"component.{DOMAIN}.config.step.{step_id}.description"
    ]
    assert says in description
    assert description.format(email=sim.email)  # every placeholder it uses is one the flow gives


async def test_every_2fa_step_is_translated_without_a_channel_placeholder(hass: HomeAssistant) -> None:
    """Including `ring_2fa`, for a 412 that names no channel (ringsim always names one)."""
    translations = await flow_step_translations(hass)
    for step_id in ("ring_2fa", "ring_2fa_sms", "ring_2fa_email", "ring_2fa_totp"):
        assert f"component.{DOMAIN}.config.step.{step_id}.title" in translations
        assert "{channel}" not in translations[f"component.{DOMAIN}.config.step.{step_id}.description"]
        assert translations[f"component.{DOMAIN}.config.step.{step_id}.data.code"]


async def flow_step_translations(hass: HomeAssistant) -> dict[str, str]:
    """The config-flow texts HA serves the frontend for Camera Hub (English)."""
    return await translation.async_get_translations(hass, "en", "config", [DOMAIN])


async def test_wrong_password(hass: HomeAssistant, ringsim: StartRing) -> None:
    sim = await ringsim()
    flow = await start_ring_flow(hass)
    flow = await submit(hass, flow, {"email": sim.email, "password": "not-" + sim.password})
    assert flow["type"] is FlowResultType.FORM
    assert flow["errors"] == {"base": "invalid_auth"}
    assert (await sim.state(hass))["counters"]["codes_sent"] == 0


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 429, "count": 5, "path": "/oauth", "html": True},
        {"status": 503, "count": 5, "path": "/oauth", "html": True},
        {"status": 500, "count": 5, "path": "/oauth", "html": False},
    ],
    ids=["html-429", "html-503", "500"],
)
async def test_ring_outage_is_cannot_connect_not_2fa(
    hass: HomeAssistant, ringsim: StartRing, fault: dict[str, Any]
) -> None:
    """The library turns any body without a token into "requires 2FA"; Camera Hub reads Ring's answer."""
    sim = await ringsim()
    await sim.inject(hass, fail=fault)
    flow = await start_ring_flow(hass)
    flow = await submit(hass, flow, {"email": sim.email, "password": sim.password})
    assert flow["type"] is FlowResultType.FORM
    assert flow["step_id"] == "ring"
    assert flow["errors"] == {"base": "cannot_connect"}


async def test_ring_unreachable(hass: HomeAssistant, ringsim: StartRing) -> None:
    sim = await ringsim()
    await hass.async_add_executor_job(sim.sim.process.terminate)
    await hass.async_add_executor_job(sim.sim.process.wait, 10)
    flow = await start_ring_flow(hass)
    flow = await submit(hass, flow, {"email": sim.email, "password": sim.password})
    assert flow["errors"] == {"base": "cannot_connect"}


async def test_ring_refusing_connections(
    hass: HomeAssistant, ringsim: StartRing, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Ring's address answers nothing: the cloud file (kept) points at a port that is closed."""
    sim = await ringsim()
    kept = tmp_path / "ring-cloud.json"
    await hass.async_add_executor_job(shutil.copyfile, os.environ["CAMERA_HUB_RING_CLOUD"], kept)
    await hass.async_add_executor_job(sim.sim.process.terminate)
    await hass.async_add_executor_job(sim.sim.process.wait, 10)
    monkeypatch.setenv("CAMERA_HUB_RING_CLOUD", str(kept))
    flow = await start_ring_flow(hass)
    flow = await submit(hass, flow, {"email": sim.email, "password": sim.password})
    assert flow["errors"] == {"base": "cannot_connect"}


async def test_same_account_twice_is_already_configured(hass: HomeAssistant, ringsim: StartRing) -> None:
    sim = await ringsim()
    await add_ring_account(hass, sim)
    flow = await start_ring_flow(hass)
    flow = await submit(hass, flow, {"email": sim.email.upper(), "password": sim.password})
    assert flow["type"] is FlowResultType.ABORT
    assert flow["reason"] == "already_configured"


async def test_one_hardware_id_per_install(hass: HomeAssistant, ringsim: StartRing) -> None:
    """Made once, kept by HA's storage, reused by every Ring entry of this install."""
    sim = await ringsim()
    first = await add_ring_account(hass, sim)
    hardware_id = first.data["hardware_id"]
    await hass.config_entries.async_remove(first.entry_id)
    await hass.async_block_till_done()

    second = await add_ring_account(hass, sim)

    assert second.data["hardware_id"] == hardware_id


# --- tokens -----------------------------------------------------------------------------------------


async def test_token_refresh_is_written_back(
    hass: HomeAssistant, ringsim: StartRing, freezer: FrozenDateTimeFactory
) -> None:
    sim = await ringsim()
    entry = await add_ring_account(hass, sim)
    old_token = dict(entry.data["token"])

    await sim.inject(hass, expire_access_tokens=True)
    await next_poll(hass, freezer)

    assert (await sim.state(hass))["counters"]["refresh_grants"] >= 1
    assert entry.data["token"]["access_token"] != old_token["access_token"]
    assert entry.state is ConfigEntryState.LOADED
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)


async def test_refused_refresh_starts_reauth_and_reauth_renews_the_token(
    hass: HomeAssistant, ringsim: StartRing, freezer: FrozenDateTimeFactory
) -> None:
    sim = await ringsim()
    entry = await add_ring_account(hass, sim)

    await sim.inject(hass, expire_access_tokens=True, revoke_refresh_tokens=True)
    await next_poll(hass, freezer)

    flows = [
        f
        for f in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if f["context"]["source"] == SOURCE_REAUTH
    ]
    assert len(flows) == 1
    flow = dict(flows[0])
    assert flow["step_id"] == "ring_reauth_confirm"
    grants_before = (await sim.state(hass))["counters"]["password_grants"]
    refused_token = dict(entry.data["token"])

    flow = await submit(hass, flow, {"password": "wrong"})
    assert flow["errors"] == {"base": "invalid_auth"}
    flow = await submit(hass, flow, {"password": sim.password})
    assert flow["type"] is FlowResultType.ABORT
    assert flow["reason"] == "reauth_successful"
    await hass.async_block_till_done()

    assert (await sim.state(hass))["counters"]["password_grants"] == grants_before + 2
    assert "auth_failed" not in entry.data
    assert entry.data["token"]["refresh_token"] != refused_token["refresh_token"]
    assert sim.password not in json.dumps(dict(entry.data))
    assert entry.state is ConfigEntryState.LOADED


# --- devices ----------------------------------------------------------------------------------------


async def test_devices_added_and_removed_in_ring_follow(
    hass: HomeAssistant,
    ringsim: StartRing,
    freezer: FrozenDateTimeFactory,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    sim = await ringsim()
    entry = await add_ring_account(hass, sim)
    before = set(backends(entry))

    state = await sim.inject(hass, add_device={"kind": "stickup_cam_v4", "description": "Garage"})
    garage = next(d for d in state["devices"] if d.get("description") == "Garage")
    await next_poll(hass, freezer)

    assert set(backends(entry)) == before | {ring_id(garage)}
    device = device_registry.async_get_device_by_identifier((DOMAIN, ring_id(garage)), entry.entry_id)
    assert device is not None
    assert device.name == "Garage"
    light = entity_id(entity_registry, "switch", f"{ring_id(garage)}_light")
    assert state_of(hass, light).state in (STATE_ON, STATE_OFF)

    await sim.inject(hass, remove_device=garage["id"])
    await next_poll(hass, freezer)

    assert set(backends(entry)) == before
    assert state_of(hass, light).state == STATE_UNAVAILABLE
    # The device stays until its owner deletes it (never deleted automatically).
    assert (
        device_registry.async_get_device_by_identifier((DOMAIN, ring_id(garage)), entry.entry_id) is not None
    )


async def test_switches_drive_ring(
    hass: HomeAssistant, ringsim: StartRing, entity_registry: er.EntityRegistry
) -> None:
    sim = await ringsim()
    await add_ring_account(hass, sim)
    floodlight = sim.device("floodlight")
    doorbell = sim.device("doorbell")

    def ring_device(state: dict[str, Any], device: dict[str, Any]) -> dict[str, Any]:
        return next(d for d in state["devices"] if d["id"] == device["id"])

    light = entity_id(entity_registry, "switch", f"{ring_id(floodlight)}_light")
    await hass.services.async_call("switch", "turn_on", {"entity_id": light}, blocking=True)
    assert ring_device(await sim.state(hass), floodlight)["led_status"] == "on"
    await hass.async_block_till_done()
    assert state_of(hass, light).state == STATE_ON

    siren = entity_id(entity_registry, "switch", f"{ring_id(floodlight)}_siren")
    await hass.services.async_call("switch", "turn_on", {"entity_id": siren}, blocking=True)
    assert ring_device(await sim.state(hass), floodlight)["siren_status"]["seconds_remaining"] > 0

    motion = entity_id(entity_registry, "switch", f"{ring_id(doorbell)}_motion_detection")
    was_on = state_of(hass, motion).state == STATE_ON
    await hass.services.async_call("switch", "toggle", {"entity_id": motion}, blocking=True)
    settings = ring_device(await sim.state(hass), doorbell)["settings"]
    assert settings["motion_detection_enabled"] is (not was_on)


# --- pictures ---------------------------------------------------------------------------------------


def camera_of(entity_registry: er.EntityRegistry, device: dict[str, Any]) -> str:
    return entity_id(entity_registry, "camera", f"{ring_id(device)}_hd")


async def test_wired_camera_snapshot_is_taken_now(
    hass: HomeAssistant, ringsim: StartRing, entity_registry: er.EntityRegistry
) -> None:
    sim = await ringsim()
    entry = await add_ring_account(hass, sim)
    wired = next(d for d in sim.devices if (b := backends(entry).get(ring_id(d))) and not b.battery_powered)
    camera = camera_of(entity_registry, wired)
    asked = dt_util.utcnow()

    image = await async_get_image(hass, camera)

    assert image.content[:2] == b"\xff\xd8"
    attributes = state_of(hass, camera).attributes
    assert attributes["picture_kind"] == "snapshot"
    taken = datetime.fromisoformat(attributes["picture_taken_at"])
    assert taken >= asked.replace(microsecond=0)
    assert (await sim.state(hass))["counters"]["snapshots_taken"] >= 1


async def test_battery_camera_shows_its_newest_event_dated_by_the_event(
    hass: HomeAssistant, ringsim: StartRing, entity_registry: er.EntityRegistry
) -> None:
    sim = await ringsim()
    battery = sim.device("battery")
    before = dt_util.utcnow().replace(microsecond=0)
    # Recorded before the account is added: the first poll at setup learns of it (no clock ticking,
    # whose frozen timers once hung this test's teardown).
    await sim.inject(hass, motion={"device_id": battery["id"], "subtype": "human"})
    entry = await add_ring_account(hass, sim)
    assert backends(entry)[ring_id(battery)].battery_powered
    camera = camera_of(entity_registry, battery)

    image = await async_get_image(hass, camera)

    assert image.content[:2] == b"\xff\xd8"
    attributes = state_of(hass, camera).attributes
    assert attributes["picture_kind"] in ("event", "recording")
    taken = datetime.fromisoformat(attributes["picture_taken_at"])
    # ringsim dates the event by its own clock, the moment it was injected.
    assert before - timedelta(seconds=5) <= taken <= before + timedelta(seconds=30)
    assert (await sim.state(hass))["counters"]["snapshots_taken"] == 0


# --- rate limits ------------------------------------------------------------------------------------


async def test_429_backs_off_and_logs_once(
    hass: HomeAssistant,
    ringsim: StartRing,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sim = await ringsim()
    entry = await add_ring_account(hass, sim)
    listed_before = len(await sim.requests(hass, DEVICES_PATH))
    await sim.inject(hass, fail={"status": 429, "count": 1000, "path": DEVICES_PATH})

    polls = 10
    for _ in range(polls):
        await next_poll(hass, freezer)

    rate_limited = len(await sim.requests(hass, DEVICES_PATH)) - listed_before
    # Without backoff every poll asks (10); backing off 1, 2, 4, 8 minutes asks 4 times in 10 minutes.
    assert 1 <= rate_limited <= 5
    warnings = [
        r for r in caplog.records if r.levelno == logging.WARNING and "rate limiting" in r.getMessage()
    ]
    assert len(warnings) == 1
    assert entry.state is ConfigEntryState.LOADED

    await sim.inject(hass)  # {}: faults cleared
    for _ in range(10):
        await next_poll(hass, freezer)
    assert any(r["status"] == 200 for r in (await sim.requests(hass, DEVICES_PATH))[-3:])


# --- diagnostics ------------------------------------------------------------------------------------


async def test_diagnostics_redact_the_account(
    hass: HomeAssistant, ringsim: StartRing, hass_client: ClientSessionGenerator
) -> None:
    sim = await ringsim()
    entry = await add_ring_account(hass, sim)

    text = json.dumps(await get_diagnostics_for_config_entry(hass, hass_client, entry))

    token = entry.data["token"]
    for secret in (token["access_token"], token["refresh_token"], entry.data["hardware_id"], sim.email):
        assert secret not in text
    assert "ring" in text


# --- history and recordings -------------------------------------------------------------------------


async def test_history_delivers_an_event_push_missed_once(
    hass: HomeAssistant,
    ringsim: StartRing,
    freezer: FrozenDateTimeFactory,
    entity_registry: er.EntityRegistry,
) -> None:
    """Whatever the push channel's state, a ding reaches its event entity exactly once."""
    sim = await ringsim()
    await add_ring_account(hass, sim)
    doorbell = sim.device("doorbell")
    ding = entity_id(entity_registry, "event", f"{ring_id(doorbell)}_ding")
    await next_poll(hass, freezer)  # the baseline: events from before are not news
    before = state_of(hass, ding).state

    await sim.inject(hass, ding={"device_id": doorbell["id"]})
    await next_poll(hass, freezer)
    after_first_poll = state_of(hass, ding)
    await next_poll(hass, freezer)

    assert after_first_poll.state != before
    assert after_first_poll.attributes["event_type"] == "ring"
    assert state_of(hass, ding).state == after_first_poll.state  # not delivered twice


async def test_recordings_of_a_subscribed_camera(
    hass: HomeAssistant, ringsim: StartRing, freezer: FrozenDateTimeFactory
) -> None:
    sim = await ringsim()
    entry = await add_ring_account(hass, sim)
    battery = sim.device("battery")
    await sim.inject(hass, motion={"device_id": battery["id"], "subtype": "motion"})
    await next_poll(hass, freezer)
    library = backends(entry)[ring_id(battery)].media()
    assert library is not None

    items = await library.async_items()
    body = await library.async_open(items[0].id)

    assert items[0].content_type == "video/mp4"
    data = b"".join([chunk async for chunk in body.chunks])
    assert data[4:8] == b"ftyp"
    assert body.size == len(data)
