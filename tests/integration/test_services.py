"""Camera Hub's actions (entity services on the camera entity) against camsim."""

from __future__ import annotations

from typing import Any

import probatio as vol
import pytest
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.camera_hub.const import DOMAIN
from tests.helpers.camsim import Sim

from .conftest import StartSim, mock_entry, setup_entry, sim_state, state_of, unload

pytestmark = [
    pytest.mark.usefixtures("socket_enabled"),
    pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning"),
]

CAMERA = "camera.tapo_c200"


async def act(hass: HomeAssistant, service: str, entity_id: str = CAMERA, **data: Any) -> None:
    await hass.services.async_call(DOMAIN, service, {ATTR_ENTITY_ID: entity_id, **data}, blocking=True)
    await hass.async_block_till_done()


async def position(hass: HomeAssistant, sim: Sim) -> tuple[int, int]:
    state = await sim_state(hass, sim)
    return state["pan"], state["tilt"]


async def test_ptz_move_and_home(hass: HomeAssistant, c200: tuple[Sim, MockConfigEntry]) -> None:
    sim, _ = c200

    await act(hass, "ptz_move", direction="right", step=30)
    assert await position(hass, sim) == (30, 0)
    await act(hass, "ptz_move", direction="up")  # the default step is 15
    assert await position(hass, sim) == (30, 15)
    await act(hass, "ptz_move", direction="left", step=10)
    await act(hass, "ptz_move", direction="down", step=5)
    assert await position(hass, sim) == (20, 10)

    await act(hass, "ptz_home")
    assert await position(hass, sim) == (0, 0)


async def test_ptz_move_validates_its_fields(hass: HomeAssistant, c200: tuple[Sim, MockConfigEntry]) -> None:
    sim, _ = c200
    with pytest.raises(vol.Invalid):
        await act(hass, "ptz_move", direction="sideways")
    with pytest.raises(vol.Invalid):
        await act(hass, "ptz_move", direction="left", step=91)
    assert await position(hass, sim) == (0, 0)


async def test_presets_by_name_and_by_id(hass: HomeAssistant, c200: tuple[Sim, MockConfigEntry]) -> None:
    sim, _ = c200
    await act(hass, "ptz_move", direction="left", step=40)
    await act(hass, "save_preset", name="Door")
    await act(hass, "ptz_move", direction="right", step=50)
    await act(hass, "ptz_move", direction="right", step=50)
    await act(hass, "save_preset", name="Garden")
    presets = (await sim_state(hass, sim))["presets"]
    assert sorted(presets.values()) == ["Door", "Garden"]
    door_id = next(i for i, name in presets.items() if name == "Door")
    garden_id = next(i for i, name in presets.items() if name == "Garden")
    assert state_of(hass, "select.tapo_c200_preset").attributes["options"] == ["Door", "Garden"]

    await act(hass, "go_to_preset", preset="door")  # names match regardless of case
    assert await position(hass, sim) == (-40, 0)
    await act(hass, "go_to_preset", preset=garden_id)
    assert await position(hass, sim) == (60, 0)

    await act(hass, "delete_preset", preset="Garden")
    assert (await sim_state(hass, sim))["presets"] == {door_id: "Door"}
    await act(hass, "delete_preset", preset=door_id)
    assert (await sim_state(hass, sim))["presets"] == {}
    assert state_of(hass, "select.tapo_c200_preset").attributes["options"] == []


async def test_unknown_preset(hass: HomeAssistant, c200: tuple[Sim, MockConfigEntry]) -> None:
    sim, _ = c200
    await act(hass, "save_preset", name="Door")

    for service in ("go_to_preset", "delete_preset"):
        with pytest.raises(ServiceValidationError) as caught:
            await act(hass, service, preset="Attic")
        assert caught.value.translation_domain == DOMAIN
        assert caught.value.translation_key == "unknown_preset"
        assert caught.value.translation_placeholders == {"preset": "Attic", "presets": "Door"}
    assert list((await sim_state(hass, sim))["presets"].values()) == ["Door"]


@pytest.mark.parametrize(
    ("service", "data"),
    [
        ("ptz_move", {"direction": "left"}),
        ("ptz_home", {}),
        ("save_preset", {"name": "Door"}),
    ],
)
async def test_actions_on_a_fixed_camera_are_not_supported(
    hass: HomeAssistant, camsim: StartSim, service: str, data: dict[str, Any]
) -> None:
    sim = await camsim("--model", "C100")
    entry = await setup_entry(hass, mock_entry(sim, model="C100", control_method="secure"))

    with pytest.raises(ServiceValidationError) as caught:
        await act(hass, service, "camera.tapo_c100", **data)

    assert caught.value.translation_domain == DOMAIN
    assert caught.value.translation_key == "not_supported"
    state = await sim_state(hass, sim)
    assert (state["pan"], state["tilt"], state["presets"]) == (0, 0, {})
    await unload(hass, entry)


async def test_stream_only_camera_moves_and_keeps_presets_over_onvif(
    hass: HomeAssistant, camsim: StartSim, entity_registry: er.EntityRegistry
) -> None:
    """Control refused by the firmware: pan/tilt and presets still work through ONVIF PTZ."""
    sim = await camsim("--firmware", "refused")
    entry = await setup_entry(hass, mock_entry(sim, control_method="stream_only"))
    # Without the control API the device is named from ONVIF, so its entity ids differ.
    camera = entity_registry.async_get_entity_id("camera", DOMAIN, f"{entry.unique_id}_hd")
    assert camera is not None

    await act(hass, "ptz_move", camera, direction="right", step=30)
    await act(hass, "ptz_stop", camera)
    pan, tilt = await position(hass, sim)
    assert pan > 0
    assert tilt == 0

    await act(hass, "save_preset", camera, name="Door")
    presets = (await sim_state(hass, sim))["presets"]
    assert list(presets.values()) == ["Door"]
    await act(hass, "ptz_home", camera)
    assert await position(hass, sim) == (0, 0)
    await act(hass, "go_to_preset", camera, preset="Door")
    assert await position(hass, sim) == (pan, tilt)

    await act(hass, "delete_preset", camera, preset="Door")
    assert (await sim_state(hass, sim))["presets"] == {}
    await unload(hass, entry)
