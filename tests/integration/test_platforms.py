"""Every platform against camsim: the entity set (snapshots), and each entity driving the camera."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from homeassistant.components.button.const import SERVICE_PRESS
from homeassistant.components.camera import async_get_image, async_get_stream_source
from homeassistant.components.select import ATTR_OPTION, SERVICE_SELECT_OPTION
from homeassistant.components.select import DOMAIN as SELECT_DOMAIN
from homeassistant.const import ATTR_ENTITY_ID, SERVICE_TURN_OFF, SERVICE_TURN_ON, STATE_UNKNOWN
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, State, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity_registry import RegistryEntryDisabler
from homeassistant.helpers.event import async_track_state_change_event
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion

from camsim import timestamp
from custom_components.camera_hub.const import DOMAIN
from tests.helpers.camsim import Sim

from .conftest import (
    CLOUD_PASSWORD,
    PASSWORD,
    USERNAME,
    StartSim,
    mock_entry,
    setup_entry,
    sim_inject,
    sim_state,
    state_of,
    unload,
)

pytestmark = [
    pytest.mark.usefixtures("socket_enabled"),
    pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning"),
]

CAMERA = "camera.tapo_c200"
WAIT_SECONDS = 10.0  # upper bound for a push from camsim; a pass takes milliseconds
# Attributes that change every run: the camera's access token (also inside the picture URL).
VOLATILE = ("access_token", "entity_picture")


def stable(state: State | None) -> State | None:
    if state is None:
        return None
    attributes = {k: ("<volatile>" if k in VOLATILE else v) for k, v in state.attributes.items()}
    return State(state.entity_id, state.state, attributes)


def assert_entity_set(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    entry: MockConfigEntry,
) -> None:
    """`snapshot_platform` for all platforms at once: registry entries and states, sorted."""
    entries = sorted(
        er.async_entries_for_config_entry(entity_registry, entry.entry_id), key=lambda e: e.entity_id
    )
    assert entries
    for entity in entries:
        assert entity == snapshot(name=f"{entity.entity_id}-entry")
        assert stable(hass.states.get(entity.entity_id)) == snapshot(name=f"{entity.entity_id}-state")


async def test_c200_entity_set(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    c200: tuple[Sim, MockConfigEntry],
) -> None:
    _, entry = c200
    assert_entity_set(hass, entity_registry, snapshot, entry)


async def test_c100_entity_set(
    hass: HomeAssistant, camsim: StartSim, entity_registry: er.EntityRegistry, snapshot: SnapshotAssertion
) -> None:
    """A fixed camera: no pan/tilt buttons, no calibrate, no preset select."""
    sim = await camsim("--model", "C100")
    entry = await setup_entry(hass, mock_entry(sim, model="C100", control_method="secure"))

    assert_entity_set(hass, entity_registry, snapshot, entry)
    keys = {
        e.unique_id.removeprefix(f"{entry.unique_id}_")
        for e in er.async_entries_for_config_entry(entity_registry, entry.entry_id)
    }
    assert not {"pan_left", "pan_right", "tilt_up", "tilt_down", "calibrate", "preset"} & keys
    assert {"privacy", "led", "reboot", "control_method", "hd", "sd"} <= keys
    await unload(hass, entry)


async def test_sd_stream_is_disabled_by_default(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, c200: tuple[Sim, MockConfigEntry]
) -> None:
    sd = entity_registry.async_get("camera.tapo_c200_sd_stream")
    assert sd is not None
    assert sd.disabled_by is RegistryEntryDisabler.INTEGRATION
    assert hass.states.get("camera.tapo_c200_sd_stream") is None


async def call(hass: HomeAssistant, domain: str, service: str, entity_id: str, **data: Any) -> None:
    await hass.services.async_call(domain, service, {ATTR_ENTITY_ID: entity_id, **data}, blocking=True)
    await hass.async_block_till_done()


@pytest.mark.parametrize(
    ("entity_id", "camsim_key"),
    [
        ("switch.tapo_c200_privacy_mode", "privacy"),
        ("switch.tapo_c200_motion_detection", "motion_detection"),
        ("switch.tapo_c200_person_detection", "person_detection"),
        ("switch.tapo_c200_status_led", "led"),
    ],
)
async def test_switches_toggle_the_camera(
    hass: HomeAssistant, c200: tuple[Sim, MockConfigEntry], entity_id: str, camsim_key: str
) -> None:
    sim, _ = c200
    initial = (await sim_state(hass, sim))[camsim_key]
    assert state_of(hass, entity_id).state == ("on" if initial else "off")

    for on in (not initial, initial):
        await call(hass, "switch", SERVICE_TURN_ON if on else SERVICE_TURN_OFF, entity_id)
        assert (await sim_state(hass, sim))[camsim_key] is on
        assert state_of(hass, entity_id).state == ("on" if on else "off")


async def test_pan_tilt_buttons_and_calibrate(hass: HomeAssistant, c200: tuple[Sim, MockConfigEntry]) -> None:
    sim, _ = c200
    # Each press is one 15-degree step of the motor.
    for key, position in [
        ("pan_right", (15, 0)),
        ("pan_right", (30, 0)),
        ("pan_left", (15, 0)),
        ("tilt_up", (15, 15)),
        ("tilt_down", (15, 0)),
        ("tilt_down", (15, -15)),
    ]:
        await call(hass, "button", SERVICE_PRESS, f"button.tapo_c200_{key}")
        state = await sim_state(hass, sim)
        assert (state["pan"], state["tilt"]) == position, key

    await call(hass, "button", SERVICE_PRESS, "button.tapo_c200_calibrate_motor")
    state = await sim_state(hass, sim)
    assert (state["pan"], state["tilt"]) == (0, 0)


async def test_preset_select_moves_to_a_preset(
    hass: HomeAssistant, c200: tuple[Sim, MockConfigEntry]
) -> None:
    sim, _ = c200
    preset = "select.tapo_c200_preset"
    assert state_of(hass, preset).attributes["options"] == []
    # Save two positions through the action, then move away.
    await call(hass, "button", SERVICE_PRESS, "button.tapo_c200_pan_left")
    await call(hass, DOMAIN, "save_preset", CAMERA, name="Door")
    await call(hass, "button", SERVICE_PRESS, "button.tapo_c200_pan_right")
    await call(hass, "button", SERVICE_PRESS, "button.tapo_c200_pan_right")
    await call(hass, DOMAIN, "save_preset", CAMERA, name="Garden")
    assert state_of(hass, preset).attributes["options"] == ["Door", "Garden"]
    assert state_of(hass, preset).state == STATE_UNKNOWN

    await call(hass, SELECT_DOMAIN, SERVICE_SELECT_OPTION, preset, **{ATTR_OPTION: "Door"})
    assert (await sim_state(hass, sim))["pan"] == -15
    await call(hass, SELECT_DOMAIN, SERVICE_SELECT_OPTION, preset, **{ATTR_OPTION: "Garden"})
    assert (await sim_state(hass, sim))["pan"] == 15


async def test_night_vision_select(hass: HomeAssistant, c200: tuple[Sim, MockConfigEntry]) -> None:
    sim, _ = c200
    night_vision = "select.tapo_c200_night_vision"
    state = state_of(hass, night_vision)
    assert state.state == "auto"
    assert state.attributes["options"] == ["auto", "on", "off"]

    for mode in ("on", "off", "auto"):
        await call(hass, SELECT_DOMAIN, SERVICE_SELECT_OPTION, night_vision, **{ATTR_OPTION: mode})
        assert (await sim_state(hass, sim))["night_vision"] == mode
        assert state_of(hass, night_vision).state == mode


async def test_reboot_button(hass: HomeAssistant, c200: tuple[Sim, MockConfigEntry]) -> None:
    sim, _ = c200
    state = state_of(hass, "button.tapo_c200_restart")
    assert state.attributes["device_class"] == "restart"

    await call(hass, "button", SERVICE_PRESS, "button.tapo_c200_restart")

    assert (await sim_state(hass, sim))["reboots"] == 1


async def test_control_method_sensor(hass: HomeAssistant, c200: tuple[Sim, MockConfigEntry]) -> None:
    state = state_of(hass, "sensor.tapo_c200_control_method")
    assert state.state == "secure"
    assert state.attributes["device_class"] == "enum"
    assert "stream_only" in state.attributes["options"]


async def wait_for_state_change(hass: HomeAssistant, entity_id: str) -> State:
    """The entity's next state, arriving from camsim over a real socket (bounded wait, no sleep)."""
    changed: asyncio.Future[State] = hass.loop.create_future()

    @callback
    def on_change(event: Event[EventStateChangedData]) -> None:
        if (new := event.data["new_state"]) is not None and not changed.done():
            changed.set_result(new)

    unsubscribe = async_track_state_change_event(hass, [entity_id], on_change)
    try:
        async with asyncio.timeout(WAIT_SECONDS):
            return await changed
    finally:
        unsubscribe()


async def test_motion_event_fires(hass: HomeAssistant, c200: tuple[Sim, MockConfigEntry]) -> None:
    """Each start of motion (ONVIF PullPoint, pushed by camsim) is one `motion` event."""
    sim, _ = c200
    motion = "event.tapo_c200_motion"
    assert state_of(hass, motion).state == STATE_UNKNOWN
    # Motion that starts before the subscription exists arrives as its initial state, not as an
    # event; under load the integration may subscribe a little after setup has returned.
    async with asyncio.timeout(WAIT_SECONDS):
        while (await sim_state(hass, sim))["counters"]["pullpoints_open"] == 0:
            pass

    waiting = hass.async_create_task(wait_for_state_change(hass, motion))
    await sim_inject(hass, sim, motion=True)
    first = await waiting

    assert first.attributes["event_type"] == "motion"
    assert first.state != STATE_UNKNOWN

    # Motion ends (no event), then starts again: a second, later event.
    waiting = hass.async_create_task(wait_for_state_change(hass, motion))
    await sim_inject(hass, sim, motion=False)
    await sim_inject(hass, sim, motion=True)
    second = await waiting
    assert second.attributes["event_type"] == "motion"
    assert second.state > first.state


async def test_stream_source_carries_credentials_only_for_the_stream(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, c200: tuple[Sim, MockConfigEntry]
) -> None:
    sim, entry = c200
    assert await async_get_stream_source(hass, CAMERA) == (
        f"rtsp://{USERNAME}:{PASSWORD}@{sim.host}:{sim.info['rtsp_port']}/stream1"
    )

    for entity in er.async_entries_for_config_entry(entity_registry, entry.entry_id):
        if (state := hass.states.get(entity.entity_id)) is None:
            continue
        shown = repr(state.as_dict())
        assert PASSWORD not in shown, entity.entity_id
        assert CLOUD_PASSWORD not in shown, entity.entity_id
        assert "rtsp://" not in shown, entity.entity_id


async def test_snapshots_come_from_the_camera_and_share_one_stream(
    hass: HomeAssistant, c200: tuple[Sim, MockConfigEntry]
) -> None:
    sim, _ = c200
    sessions = (await sim_state(hass, sim))["counters"]["rtsp_sessions_total"]

    images = await asyncio.gather(*(async_get_image(hass, CAMERA) for _ in range(3)))

    for image in images:
        assert image.content_type == "image/jpeg"
        assert abs(timestamp.read(image.content) / 1000 - time.time()) < 30  # camsim's clock
    assert (await sim_state(hass, sim))["counters"]["rtsp_sessions_total"] == sessions + 1


async def test_mjpeg_viewers_get_the_camera_picture(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, c200: tuple[Sim, MockConfigEntry]
) -> None:
    client = await hass_client()
    async with client.get(f"/api/camera_proxy_stream/{CAMERA}") as response:
        assert response.status == 200
        assert response.content_type == "multipart/x-mixed-replace"
        await response.content.readuntil(b"\r\n\r\n")  # the first part's headers
        jpeg = await response.content.readuntil(b"\xff\xd9")
    assert abs(timestamp.read(jpeg) / 1000 - time.time()) < 30
