"""USB webcam faults through the real core: unplugged across an HA restart, then plugged back in.

Unplugging while a viewer watches, and replugging, is test_usb.py's
`test_unplug_makes_the_camera_unavailable_and_replug_brings_it_back` (the viewer gets pictures again
on the same response); an entry loading with its webcam unplugged is
`test_an_entry_whose_webcam_is_unplugged_at_start_still_loads`. This file adds the rest of the story:
five minutes unplugged, the webcam comes back by itself, the log says each change once, and the
entry keeps what it stored.
"""

from __future__ import annotations

import logging

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from .test_faults_tapo import advance
from .test_usb import (  # usb_sim: the fixture
    FIRST,
    StartUsb,
    add_webcam,
    camera_entity,
    inject,
    own_fds_on,
    usb_entry,
    usb_sim,  # noqa: F401
)

pytestmark = pytest.mark.usefixtures("socket_enabled")

OUTAGE = 300  # seconds
UNPLUGGED = "is not plugged in"


def coordinator_lines(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "custom_components.camera_hub.coordinator"
        and r.levelno >= logging.INFO
        and text in r.getMessage()
    ]


async def test_restart_while_unplugged_then_replug(
    hass: HomeAssistant,
    usb_sim: StartUsb,  # noqa: F811 - the fixture imported above
    entity_registry: er.EntityRegistry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Bound: nothing opens the device while it is unplugged and nobody watches (the 10 s health
    check looks for its stable path); a viewer's hub retries the open at most every 2 s, a local
    call that costs the device nothing (streaming/frames.py, CAPTURE_BACKOFF_MAX)."""
    sim = await usb_sim()
    await add_webcam(hass, sim.devices[0])
    await hass.async_block_till_done()
    entry = usb_entry(hass)
    stored = dict(entry.data)
    camera = camera_entity(entity_registry, FIRST)
    await hass.config_entries.async_unload(entry.entry_id)
    await inject(hass, sim, unplug=sim.devices[0])
    caplog.clear()

    assert await hass.config_entries.async_setup(entry.entry_id)  # HA starts with the webcam unplugged
    await advance(hass, freezer, OUTAGE, step=5)

    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get(camera).state == STATE_UNAVAILABLE  # type: ignore[union-attr]
    assert len(coordinator_lines(caplog, UNPLUGGED)) == 1
    hub = entry.runtime_data.cameras[FIRST].hubs["hd"]
    assert hub.upstream_sessions == 0

    await inject(hass, sim, replug=sim.devices[0])
    await advance(hass, freezer, 20, step=5)

    assert hass.states.get(camera).state != STATE_UNAVAILABLE  # type: ignore[union-attr]
    assert len(coordinator_lines(caplog, "recovered")) == 1
    assert len(coordinator_lines(caplog, UNPLUGGED)) == 1
    assert dict(entry.data) == stored
    assert own_fds_on(sim.devices[0]) == 0  # still nobody watching: the device stays closed
    await hass.config_entries.async_unload(entry.entry_id)
