"""The automation examples in the README are valid Home Assistant configuration."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_automations() -> list[dict[str, object]]:
    text = README.read_text()
    section = text.split("### What people use it for, with automations", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert block is not None, "the README lost its automation examples"
    automations: list[dict[str, object]] = yaml.safe_load(block.group(1))["automation"]
    return automations


async def test_readme_automations_load_and_are_enabled(hass: HomeAssistant) -> None:
    automations = readme_automations()
    assert await async_setup_component(hass, "automation", {"automation": automations})
    await hass.async_block_till_done()
    states = [hass.states.get(entity_id) for entity_id in hass.states.async_entity_ids("automation")]
    assert sorted(state.attributes["friendly_name"] for state in states if state) == sorted(
        str(automation["alias"]) for automation in automations
    )
    assert {state.state for state in states if state} == {"on"}
    # Turning them off detaches the sunset trigger's timer, which would otherwise outlive the test.
    await hass.services.async_call("automation", "turn_off", {"entity_id": "all"}, blocking=True)
