"""An entry holding several cameras (an account), through the real core: devices, per-camera runtime,
cameras appearing and leaving, and the user deleting a stale camera's device.

No brand ships with several cameras per entry yet, so this registers a brand in the test only: an
"account" whose cameras are real camsim Tapo cameras driven by the real Tapo backend. Only which
cameras the account reports is the test's to decide (as Ring's app adding or removing a device).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
from homeassistant.components.camera import async_get_image
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import SERVICE_TURN_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.camera_hub.const import (
    CONF_BRAND,
    DOMAIN,
    ENTRY_MINOR_VERSION,
    ENTRY_VERSION,
    UPDATE_INTERVAL,
)
from custom_components.camera_hub.vendors import BRANDS
from custom_components.camera_hub.vendors.base import BrandSpec, CameraBackend, DeviceIdentity, Hub
from custom_components.camera_hub.vendors.tapo.backend import TapoBackend
from custom_components.camera_hub.vendors.tapo.connection import tapo_backend
from tests.helpers.camsim import Sim

from .conftest import StartSim, entry_data, setup_entry, sim_state, state_of, unload

pytestmark = [
    pytest.mark.usefixtures("socket_enabled"),
    pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning"),
]

BRAND = "test_account"
HUB_ID = "test-account-1"


class AccountConnection:
    """An account of two cameras; `reported` is what the account lists right now."""

    opened: list[AccountConnection] = []  # noqa: RUF012 - the test's handle on the live connection

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
        # Each backend has its own HTTP session: it checks that camera's own pinned certificate.
        self.backends: dict[str, TapoBackend] = {
            camera_id: tapo_backend(hass, data) for camera_id, data in entry.data["cameras"].items()
        }
        self.reported = set(entry.data["reported"])
        self.hub = Hub(
            id=HUB_ID,
            identity=DeviceIdentity(name="Test account", manufacturer="Camera Hub tests", model="Account"),
        )
        self._on_change: Callable[[], None] | None = None
        AccountConnection.opened.append(self)

    @property
    def address(self) -> str:
        return "the test account"

    @property
    def cameras(self) -> Mapping[str, CameraBackend]:
        return {camera_id: b for camera_id, b in self.backends.items() if camera_id in self.reported}

    async def async_connect(self) -> None:
        for backend in self.backends.values():
            await backend.async_connect()

    async def async_close(self) -> None:
        for backend in self.backends.values():
            await backend.async_close()

    def entry_data_updates(self) -> Mapping[str, Any]:
        return {}

    def subscribe_cameras(self, on_change: Callable[[], None]) -> Callable[[], None] | None:
        self._on_change = on_change

        def unsubscribe() -> None:
            self._on_change = None

        return unsubscribe

    def report(self, *camera_ids: str) -> None:
        """The account now lists these cameras (as after a change in the brand's app)."""
        self.reported = set(camera_ids)
        assert self._on_change is not None
        self._on_change()


@pytest.fixture
def account_brand() -> Iterator[None]:
    AccountConnection.opened.clear()
    BRANDS[BRAND] = BrandSpec(
        key=BRAND, connect=AccountConnection, single_camera=False, update_interval=UPDATE_INTERVAL
    )
    yield
    del BRANDS[BRAND]


async def account_entry(hass: HomeAssistant, sims: dict[str, Sim], reported: list[str]) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Test account",
        unique_id=HUB_ID,
        data={
            CONF_BRAND: BRAND,
            "cameras": {
                camera_id: entry_data(sim, control_method="secure", brand=None)
                for camera_id, sim in sims.items()
            },
            "reported": reported,
        },
        version=ENTRY_VERSION,
        minor_version=ENTRY_MINOR_VERSION,
    )
    return await setup_entry(hass, entry)


def camera_entity(
    entity_registry: er.EntityRegistry, camera_id: str, domain: str = "camera", key: str = "hd"
) -> str:
    entity_id = entity_registry.async_get_entity_id(domain, DOMAIN, f"{camera_id}_{key}")
    assert entity_id is not None, f"{camera_id} has no {domain} {key}"
    return entity_id


async def remove_device(hass: HomeAssistant, ws: Any, entry: MockConfigEntry, device: dr.DeviceEntry) -> bool:
    """HA's "delete device" (config/device_registry/remove_config_entry); True when it was allowed."""
    await ws.send_json_auto_id(
        {
            "type": "config/device_registry/remove_config_entry",
            "config_entry_id": entry.entry_id,
            "device_id": device.id,
        }
    )
    response = await ws.receive_json()
    return bool(response["success"])


def device_of(device_registry: dr.DeviceRegistry, entry: MockConfigEntry, identifier: str) -> dr.DeviceEntry:
    device = device_registry.async_get_device_by_identifier((DOMAIN, identifier), entry.entry_id)
    assert device is not None, identifier
    return device


@pytest.mark.usefixtures("account_brand")
async def test_an_account_entry_holds_each_camera_as_its_own_device(
    hass: HomeAssistant,
    camsim: StartSim,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    front, back = await asyncio.gather(camsim("--model", "C200"), camsim("--model", "C100"))
    entry = await account_entry(hass, {"cam-front": front, "cam-back": back}, ["cam-front", "cam-back"])
    assert entry.state is ConfigEntryState.LOADED

    hub = device_of(device_registry, entry, HUB_ID)
    cameras = {
        camera_id: device_of(device_registry, entry, camera_id) for camera_id in ("cam-front", "cam-back")
    }
    assert {d.id for d in dr.async_entries_for_config_entry(device_registry, entry.entry_id)} == {
        hub.id,
        *(d.id for d in cameras.values()),
    }
    assert {d.via_device_id for d in cameras.values()} == {hub.id}
    assert {d.model for d in cameras.values()} == {"C200", "C100"}
    assert {d.manufacturer for d in cameras.values()} == {"TP-Link"}
    # Capabilities decide per camera: only the C200 has a motor.
    assert entity_registry.async_get_entity_id("button", DOMAIN, "cam-front_pan_left") is not None
    assert entity_registry.async_get_entity_id("button", DOMAIN, "cam-back_pan_left") is None
    for camera_id, device in cameras.items():
        entity = entity_registry.async_get(camera_entity(entity_registry, camera_id))
        assert entity is not None
        assert entity.device_id == device.id

    # Each camera has its own coordinator and frame hubs, and talks to its own device.
    runtime = entry.runtime_data
    assert runtime.cameras["cam-front"].coordinator is not runtime.cameras["cam-back"].coordinator
    assert runtime.cameras["cam-front"].hubs["hd"] is not runtime.cameras["cam-back"].hubs["hd"]
    sessions = {
        name: (await sim_state(hass, sim))["counters"]["rtsp_sessions_total"]
        for name, sim in (("front", front), ("back", back))
    }
    image = await async_get_image(hass, camera_entity(entity_registry, "cam-back"))
    assert image.content_type == "image/jpeg"
    assert (await sim_state(hass, back))["counters"]["rtsp_sessions_total"] == sessions["back"] + 1
    assert (await sim_state(hass, front))["counters"]["rtsp_sessions_total"] == sessions["front"]

    privacy = camera_entity(entity_registry, "cam-back", "switch", "privacy")
    await hass.services.async_call("switch", SERVICE_TURN_ON, {"entity_id": privacy}, blocking=True)
    assert (await sim_state(hass, back))["privacy"] is True
    assert (await sim_state(hass, front))["privacy"] is False
    assert state_of(hass, privacy).state == "on"
    await unload(hass, entry)


@pytest.mark.usefixtures("account_brand")
async def test_cameras_join_and_leave_and_only_a_stale_one_can_be_deleted(
    hass: HomeAssistant,
    camsim: StartSim,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    assert await async_setup_component(hass, "config", {})
    front, back = await asyncio.gather(camsim("--model", "C200"), camsim("--model", "C100"))
    entry = await account_entry(hass, {"cam-front": front, "cam-back": back}, ["cam-front"])
    [connection] = AccountConnection.opened
    assert device_registry.async_get_device_by_identifier((DOMAIN, "cam-back"), entry.entry_id) is None

    # A camera added to the account later gets its device and entities without a reload.
    connection.report("cam-front", "cam-back")
    await hass.async_block_till_done(wait_background_tasks=True)
    back_camera = camera_entity(entity_registry, "cam-back")
    back_privacy = camera_entity(entity_registry, "cam-back", "switch", "privacy")
    assert state_of(hass, back_camera).state != "unavailable"
    assert state_of(hass, back_privacy).state == "off"
    back_device = device_of(device_registry, entry, "cam-back")
    registered = {e.entity_id for e in er.async_entries_for_config_entry(entity_registry, entry.entry_id)}

    # It leaves the account: its entities go unavailable (HA keeps them), its device stays.
    connection.report("cam-front")
    await hass.async_block_till_done(wait_background_tasks=True)
    assert state_of(hass, back_camera).state == "unavailable"
    assert state_of(hass, back_privacy).state == "unavailable"
    assert device_of(device_registry, entry, "cam-back").id == back_device.id
    assert entity_registry.async_get(back_camera) is not None
    assert "cam-back" not in entry.runtime_data.cameras

    # It comes back: the same entities under the same ids, nothing duplicated.
    connection.report("cam-front", "cam-back")
    await hass.async_block_till_done(wait_background_tasks=True)
    assert state_of(hass, back_camera).state != "unavailable"
    assert {
        e.entity_id for e in er.async_entries_for_config_entry(entity_registry, entry.entry_id)
    } == registered

    ws = await hass_ws_client(hass)
    # A camera the account still lists cannot be deleted (it would only come back), nor the account.
    assert not await remove_device(hass, ws, entry, back_device)
    assert not await remove_device(hass, ws, entry, device_of(device_registry, entry, HUB_ID))

    # Gone for good: the user may delete it, and only it.
    connection.report("cam-front")
    await hass.async_block_till_done(wait_background_tasks=True)
    assert await remove_device(hass, ws, entry, back_device)
    assert device_registry.async_get_device_by_identifier((DOMAIN, "cam-back"), entry.entry_id) is None
    assert entity_registry.async_get(back_camera) is None
    assert not await remove_device(hass, ws, entry, device_of(device_registry, entry, "cam-front"))
    assert state_of(hass, camera_entity(entity_registry, "cam-front")).state != "unavailable"
    await unload(hass, entry)


async def test_a_single_camera_entry_refuses_device_removal(
    hass: HomeAssistant,
    device_registry: dr.DeviceRegistry,
    hass_ws_client: WebSocketGenerator,
    c200: tuple[Sim, MockConfigEntry],
) -> None:
    """A Tapo camera is its entry: the user deletes the entry, not the device."""
    assert await async_setup_component(hass, "config", {})
    _, entry = c200
    [device] = dr.async_entries_for_config_entry(device_registry, entry.entry_id)

    assert not await remove_device(hass, await hass_ws_client(hass), entry, device)
    assert device_registry.async_get(device.id) is not None
