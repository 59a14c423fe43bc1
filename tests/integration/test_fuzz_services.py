"""Bad data to every Camera Hub action (services.py / services.yaml), property-based (issue 14).

Arbitrary data, sent the way an automation or the API sends it, to a real camera (camsim C200 with
pan/tilt) set up in HA: the action either runs (the data was valid), or HA's schema refuses it with
`vol.Invalid` (the frontend names the field), or the integration refuses it with a
`ServiceValidationError` / `HomeAssistantError` whose message is translated. Nothing else may
escape, and a refused action leaves the camera as it was.

Hypothesis and the function-scoped `hass`: the examples share the test's `hass` and its camera
(setting up a camera per example would cost seconds each); a refused example changes nothing, which
the test checks, and an accepted one leaves a camera the next example can use as well (it moves, or
saves a preset). Hence `HealthCheck.function_scoped_fixture` is suppressed on purpose.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import probatio as vol
import pytest
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from hypothesis import event, given
from hypothesis import strategies as st
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.camera_hub.const import DOMAIN
from tests.helpers.camsim import Sim
from tests.helpers.fuzz import HYPOTHESIS_WARNINGS, fuzz_settings, text_and_values

from .conftest import sim_state

pytestmark = [
    pytest.mark.usefixtures("socket_enabled"),
    pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning"),
    HYPOTHESIS_WARNINGS,
]

FUZZ = fuzz_settings(300)
CAMERA = "camera.tapo_c200"
ROOT = Path(__file__).parents[2]
STRINGS = json.loads((ROOT / "custom_components" / "camera_hub" / "strings.json").read_text())
# The device state an action could change (camsim's state endpoint).
DEVICE_STATE = ("pan", "tilt", "presets", "privacy", "motion_detection", "led", "reboots")

NASTY_TEXT = (
    ["", " ", "nan", "inf", "-1", "0", "91", "1e999", "99999999999999999999", "\x00", "\n", "😀",
     "left", "LEFT", " left", "Door", "a" * 33, "a" * 5000, "%s", "camera.tapo_c200", "all", "none"]
)  # fmt: skip
TEXT, VALUE = text_and_values(NASTY_TEXT, max_size=40)
# Mostly the right type with edge values (to reach the integration), sometimes anything at all.
FIELDS = {
    "direction": st.one_of(st.sampled_from(["left", "right", "up", "down"]), TEXT, VALUE),
    "step": st.one_of(st.integers(-5, 100), st.sampled_from([1, 90, "15", 15.5, "1e3"]), VALUE),
    "preset": st.one_of(TEXT, st.integers(-5, 2**40), VALUE),
    "name": st.one_of(TEXT, VALUE),
}
NO_EXTRA_KEYS: st.SearchStrategy[dict[str, Any]] = st.just({})


# Each action's own fields: a call mostly carries those (so it gets past HA's "extra keys"), at times
# another action's or unknown ones.
ACTION_FIELDS = {
    "ptz_move": ("direction", "step"),
    "ptz_stop": (),
    "ptz_home": (),
    "go_to_preset": ("preset",),
    "save_preset": ("name",),
    "delete_preset": ("preset",),
}
OTHER_KEYS = st.dictionaries(
    st.sampled_from([*FIELDS, "entity_id ", "framerate"]) | st.text(max_size=10), VALUE
)
# Text or a list of it: HA's own target validation (cv.comp_entity_ids) raises TypeError on a number
# or a boolean before any integration sees the call — HA core's to fix, not ours.
TARGET = st.one_of(st.just(CAMERA), st.just(CAMERA), st.just(CAMERA), TEXT, st.lists(TEXT, max_size=3))


def call(service: str) -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    """`service` with data: its fields (each maybe missing), rarely other keys, and a target."""
    own = {name: FIELDS[name] for name in ACTION_FIELDS[service]}
    return st.builds(
        lambda extra, known, target: (service, {**extra, **known, ATTR_ENTITY_ID: target}),
        st.one_of(NO_EXTRA_KEYS, NO_EXTRA_KEYS, NO_EXTRA_KEYS, OTHER_KEYS),
        st.fixed_dictionaries({}, optional=own),
        TARGET,
    )


def device_state(state: dict[str, Any]) -> dict[str, Any]:
    return {key: state.get(key) for key in DEVICE_STATE}


@FUZZ
@given(action=st.sampled_from(list(ACTION_FIELDS)).flatmap(call))
async def test_actions_refuse_bad_data_cleanly(
    hass: HomeAssistant, c200: tuple[Sim, MockConfigEntry], action: tuple[str, dict[str, Any]]
) -> None:
    sim, _ = c200
    service, data = action
    before = device_state(await sim_state(hass, sim))
    refusal = await refusal_of(hass, service, data)
    if refusal is None:
        event(f"{service} ran")
        return  # valid data: the action ran
    if isinstance(refusal, HomeAssistantError):
        event(f"refused by Camera Hub: {refusal.translation_key}")
        assert refusal.translation_domain == DOMAIN, repr(refusal)
        assert refusal.translation_key in STRINGS["exceptions"], repr(refusal)
    else:
        event("refused by the schema")
        assert str(refusal), "a schema refusal names what is wrong"
    await hass.async_block_till_done()
    assert device_state(await sim_state(hass, sim)) == before


async def refusal_of(hass: HomeAssistant, service: str, data: dict[str, Any]) -> Exception | None:
    """None if the action ran; the refusal if it was one of the two kinds allowed (others propagate)."""
    try:
        await hass.services.async_call(DOMAIN, service, data, blocking=True)
    except (vol.Invalid, HomeAssistantError) as err:
        return err
    return None
