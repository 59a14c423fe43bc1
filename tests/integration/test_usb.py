"""USB webcams through the real core: the config flow, an entry of two webcams, the shared device, faults.

Every webcam is a real `python -m camsim usb` process: FIFOs carrying MJPEG, laid out like a V4L2 host
(sysfs, /dev nodes, by-id links) and described in a devices.json. The integration finds them through
its one seam, `CAMERA_HUB_V4L2_DESCRIPTION` (vendors/usb/host.py); everything after that — the scan,
the flow's one-frame probe, the frame hub reading the FIFO, the presence checks — is production code.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from homeassistant import config_entries
from homeassistant.components.camera import async_get_image
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator, WebSocketGenerator

from bench.measure import mjpeg_frames
from custom_components.camera_hub.const import DOMAIN
from custom_components.camera_hub.vendors.usb.const import UPDATE_INTERVAL
from custom_components.camera_hub.vendors.usb.host import DESCRIPTION_ENV
from tests.usb.sim import UsbSim, running_usb_sim

from .test_multi_camera import remove_device

pytestmark = pytest.mark.usefixtures("socket_enabled")

# Small and slow enough for two cores shared by several test runs; the bench measures 1280×720@30.
SIM_ARGS = ("--size", "320x240", "--fps", "15")
FIRST = "usb-camsim_Webcam_CS0001-video-index0"
SECOND = "usb-camsim_Webcam_CS0002-video-index0"

type StartUsb = Callable[..., Awaitable[UsbSim]]


@pytest.fixture
def usb_sim(hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch) -> Iterator[StartUsb]:
    """Start `camsim usb` and point discovery at it (the seam); stopped after the test."""
    stack: list[Any] = []

    async def start(*args: str) -> UsbSim:
        manager = running_usb_sim(*SIM_ARGS, *args)
        sim = await hass.async_add_executor_job(manager.__enter__)
        stack.append(manager)
        monkeypatch.setenv(DESCRIPTION_ENV, sim.info["description"])
        return sim

    yield start
    for manager in reversed(stack):
        manager.__exit__(None, None, None)


async def state_of(hass: HomeAssistant, sim: UsbSim, index: int = 0) -> dict[str, Any]:
    return await hass.async_add_executor_job(sim.device_state, sim.devices[index])


async def inject(hass: HomeAssistant, sim: UsbSim, **faults: Any) -> None:
    await hass.async_add_executor_job(sim.inject, faults)


async def start_flow(hass: HomeAssistant) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": config_entries.SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert "usb" in result["menu_options"]
    return dict(await hass.config_entries.flow.async_configure(result["flow_id"], {"next_step_id": "usb"}))


async def add_webcam(hass: HomeAssistant, path: str) -> dict[str, Any]:
    """The whole flow for one webcam, with the default mode."""
    result = await start_flow(hass)
    assert result["step_id"] == "usb", result
    result = dict(await hass.config_entries.flow.async_configure(result["flow_id"], {"device": path}))
    assert result["step_id"] == "usb_mode"
    mode = result["data_schema"]({})["mode"]  # the default the form offers
    return dict(await hass.config_entries.flow.async_configure(result["flow_id"], {"mode": mode}))


def usb_entry(hass: HomeAssistant) -> config_entries.ConfigEntry[Any]:
    entry = hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, "usb")
    assert entry is not None
    return entry


def camera_entity(entity_registry: er.EntityRegistry, camera_id: str) -> str:
    entity_id = entity_registry.async_get_entity_id("camera", DOMAIN, f"{camera_id}_hd")
    assert entity_id is not None, camera_id
    return entity_id


@pytest.fixture
async def two_webcams(hass: HomeAssistant, usb_sim: StartUsb) -> AsyncIterator[UsbSim]:
    """Two webcams added through the flow into one entry; unloaded after the test."""
    sim = await usb_sim("--devices", "2")
    for path in sim.devices:
        await add_webcam(hass, path)
        await hass.async_block_till_done()
    yield sim
    entry = usb_entry(hass)
    if entry.state is ConfigEntryState.LOADED:
        await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def next_update(hass: HomeAssistant) -> None:
    """Let the webcams' coordinators run their next presence check."""
    async_fire_time_changed(hass, dt_util.utcnow() + UPDATE_INTERVAL + timedelta(seconds=1))
    await hass.async_block_till_done(wait_background_tasks=True)


def own_fds_on(node: str) -> int:
    """Descriptors this process (where HA runs in these tests) has open on the device node."""
    target = os.path.realpath(node)
    count = 0
    for fd in Path("/proc/self/fd").iterdir():
        try:
            count += os.readlink(fd) == target
        except OSError:
            continue
    return count


# --- the flow -----------------------------------------------------------------------------------


async def test_flow_lists_webcams_then_adds_each_to_one_entry(
    hass: HomeAssistant,
    usb_sim: StartUsb,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    sim = await usb_sim("--devices", "2")

    result = await start_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "usb"
    options = result["data_schema"].schema["device"].config["options"]
    assert [(o["value"], o["label"]) for o in options] == [
        (sim.devices[0], "camsim Webcam 1 — Motion-JPEG up to 320×240 at 15 fps"),
        (sim.devices[1], "camsim Webcam 2 — Motion-JPEG up to 320×240 at 15 fps"),
    ]
    result = dict(
        await hass.config_entries.flow.async_configure(result["flow_id"], {"device": sim.devices[0]})
    )
    assert result["step_id"] == "usb_mode"
    modes = result["data_schema"].schema["mode"].config["options"]
    assert modes == [{"value": "MJPG:320x240@15", "label": "MJPEG 320×240 at 15 fps"}]
    result = dict(
        await hass.config_entries.flow.async_configure(result["flow_id"], {"mode": "MJPG:320x240@15"})
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "USB webcams"
    assert result["data"] == {
        "brand": "usb",
        "cameras": {
            FIRST: {
                "path": sim.devices[0],  # the stable by-id path, not /dev/video0
                "name": "camsim Webcam 1",
                "fourcc": "MJPG",
                "width": 320,
                "height": 240,
                "fps": "15",
            }
        },
    }
    await hass.async_block_till_done()

    # The second webcam joins the same entry; the list offers only what is not added yet.
    result = await start_flow(hass)
    assert [o["value"] for o in result["data_schema"].schema["device"].config["options"]] == [sim.devices[1]]
    result = await add_webcam(hass, sim.devices[1])
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "usb_added"
    assert result["description_placeholders"] == {"name": "camsim Webcam 2"}
    await hass.async_block_till_done()

    entries = hass.config_entries.async_entries(DOMAIN)
    assert len(entries) == 1
    assert set(entries[0].data["cameras"]) == {FIRST, SECOND}
    assert entries[0].state is ConfigEntryState.LOADED
    for camera_id, name in ((FIRST, "camsim Webcam 1"), (SECOND, "camsim Webcam 2")):
        device = device_registry.async_get_device_by_identifier((DOMAIN, camera_id), usb_entry(hass).entry_id)
        assert device is not None
        assert (device.name, device.manufacturer) == (name, "camsim")
        entity = entity_registry.async_get(camera_entity(entity_registry, camera_id))
        assert entity is not None
        assert entity.device_id == device.id
    # A webcam has a picture and nothing else to control.
    assert {e.domain for e in er.async_entries_for_config_entry(entity_registry, entries[0].entry_id)} == {
        "camera"
    }

    # Everything added: the flow says so.
    result = await start_flow(hass)
    assert result["step_id"] == "usb_none"
    assert result["errors"] == {"base": "usb_all_added"}
    await hass.config_entries.async_unload(entries[0].entry_id)


def lay_out_host(root: Path, *, sysfs: list[str], dev: list[str]) -> Path:
    """A host whose kernel lists `sysfs` nodes and whose /dev has `dev` (nothing recorded behind them)."""
    for name in sysfs:
        (root / "sys/class/video4linux" / name).mkdir(parents=True)
    (root / "dev").mkdir(parents=True)
    for name in dev:
        (root / "dev" / name).touch()
    description = root / "devices.json"
    description.write_text(json.dumps({"devices": []}))
    return description


@pytest.mark.parametrize(
    ("sysfs", "dev", "error", "placeholders"),
    [
        ([], [], "usb_none", {}),
        # The kernel has the webcam, this container's /dev does not: not passed through.
        (["video0", "video1"], [], "usb_not_in_dev", {"nodes": "/dev/video0, /dev/video1"}),
        # A node that exists but cannot be asked what it is.
        (["video0"], ["video0"], "usb_unreadable", {"nodes": "{root}/dev/video0", "error": "No such device"}),
    ],
)
async def test_flow_explains_why_nothing_was_found(
    hass: HomeAssistant,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sysfs: list[str],
    dev: list[str],
    error: str,
    placeholders: dict[str, str],
) -> None:
    monkeypatch.setenv(DESCRIPTION_ENV, str(lay_out_host(tmp_path, sysfs=sysfs, dev=dev)))

    result = await start_flow(hass)

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "usb_none"
    assert result["errors"] == {"base": error}
    expected = {k: v.format(root=tmp_path) for k, v in placeholders.items()}
    assert result["description_placeholders"] == expected
    # Submitting looks again (here: still nothing).
    result = dict(await hass.config_entries.flow.async_configure(result["flow_id"], {}))
    assert result["errors"] == {"base": error}


async def test_flow_names_the_program_holding_a_busy_webcam(hass: HomeAssistant, usb_sim: StartUsb) -> None:
    sim = await usb_sim()
    busy = (await hass.async_add_executor_job(sim.inject, {"busy": sim.devices[0]}))["devices"][
        sim.devices[0]
    ]

    result = await add_webcam(hass, sim.devices[0])

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "usb_busy"}
    assert result["description_placeholders"]["holder"] == f"camsim-holder (pid {busy['busy']['pid']})"
    # Once the other program lets go, the same form adds it.
    await inject(hass, sim)
    result = dict(
        await hass.config_entries.flow.async_configure(result["flow_id"], {"mode": "MJPG:320x240@15"})
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(usb_entry(hass).entry_id)


# --- one device, many viewers; its own bytes ----------------------------------------------------


async def test_viewers_get_the_webcams_own_jpeg_bytes(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    two_webcams: UsbSim,
    entity_registry: er.EntityRegistry,
) -> None:
    """Passthrough: every frame a viewer gets hashes to a frame camsim wrote into the FIFO.

    camsim records the SHA-256 of each JPEG it writes (a second reader of the FIFO would split the
    bytes, so the device's side is the only honest witness): equal hashes mean no decode, no encode.
    """
    client = await hass_client()
    received: list[bytes] = []
    async with client.get(f"/api/camera_proxy_stream/{camera_entity(entity_registry, FIRST)}") as response:
        assert response.status == 200
        async for frame in mjpeg_frames(response):
            received.append(frame)
            if len(received) == 10:
                break
    written = set((await state_of(hass, two_webcams, 0))["recent_sha256"])
    assert [hashlib.sha256(frame).hexdigest() in written for frame in received] == [True] * 10
    assert len({hashlib.sha256(frame).digest() for frame in received}) == 10  # ten distinct frames


async def test_one_device_open_for_many_viewers_and_snapshots(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    two_webcams: UsbSim,
    entity_registry: er.EntityRegistry,
) -> None:
    entity_id = camera_entity(entity_registry, FIRST)
    client = await hass_client()
    counts: list[int] = [0] * 5
    three_each = asyncio.Event()

    async def viewer(index: int) -> None:
        async with client.get(f"/api/camera_proxy_stream/{entity_id}") as response:
            async for _ in mjpeg_frames(response):
                counts[index] += 1
                if min(counts) >= 3:
                    three_each.set()
                if three_each.is_set():
                    return

    viewers = [asyncio.create_task(viewer(i)) for i in range(5)]
    images = await asyncio.gather(*(async_get_image(hass, entity_id) for _ in range(5)))
    async with asyncio.timeout(15):
        await three_each.wait()
    state = await state_of(hass, two_webcams, 0)
    hub = usb_entry(hass).runtime_data.cameras[FIRST].hubs["hd"]
    node = state["node"]
    fds = await hass.async_add_executor_job(own_fds_on, node)
    await asyncio.gather(*viewers)

    assert all(image.content.startswith(b"\xff\xd8") for image in images)
    assert state["readers"] == 1  # processes with the device open: HA only
    assert fds == 1  # and HA has it open once
    assert hub.upstream_sessions == 1
    assert (await state_of(hass, two_webcams, 1))["readers"] == 0  # the other webcam was not opened


# --- faults -------------------------------------------------------------------------------------


async def test_unplug_makes_the_camera_unavailable_and_replug_brings_it_back(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    two_webcams: UsbSim,
    entity_registry: er.EntityRegistry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sim = two_webcams
    first, second = camera_entity(entity_registry, FIRST), camera_entity(entity_registry, SECOND)
    client = await hass_client()
    response = await client.get(f"/api/camera_proxy_stream/{first}")
    frames = mjpeg_frames(response)
    await anext(frames)

    await inject(hass, sim, unplug=sim.devices[0])
    before_unplug = set((await state_of(hass, sim, 0))["recent_sha256"])
    await next_update(hass)
    assert hass.states.get(first).state == STATE_UNAVAILABLE  # type: ignore[union-attr]
    assert hass.states.get(second).state != STATE_UNAVAILABLE  # type: ignore[union-attr]
    await next_update(hass)
    logged = [
        r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and "plugged" in r.getMessage()
    ]
    # Logged once, by HA's coordinator, in the translated words.
    assert logged == [
        f"Error fetching camera_hub camsim Webcam 1 data: camsim Webcam 1 is not plugged in "
        f"({sim.devices[0]} is missing); it comes back by itself when plugged in"
    ]

    await inject(hass, sim, replug=sim.devices[0])
    await next_update(hass)
    assert hass.states.get(first).state != STATE_UNAVAILABLE  # type: ignore[union-attr]
    # The viewer that stayed connected gets pictures again: the hub reopened the device by itself.
    async with asyncio.timeout(10):
        async for frame in frames:
            digest = hashlib.sha256(frame).hexdigest()
            if digest not in before_unplug:  # not one queued before the unplug
                break
    assert digest in (await state_of(hass, sim, 0))["recent_sha256"]
    response.close()


async def test_a_webcam_held_by_another_program_is_unavailable_and_named(
    hass: HomeAssistant,
    two_webcams: UsbSim,
    entity_registry: er.EntityRegistry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sim = two_webcams
    held = (await hass.async_add_executor_job(sim.inject, {"busy": sim.devices[1]}))["devices"][
        sim.devices[1]
    ]

    await next_update(hass)

    assert hass.states.get(camera_entity(entity_registry, SECOND)).state == STATE_UNAVAILABLE  # type: ignore[union-attr]
    assert f"camsim Webcam 2 is in use by camsim-holder (pid {held['busy']['pid']})" in caplog.text
    await inject(hass, sim)
    await next_update(hass)
    assert hass.states.get(camera_entity(entity_registry, SECOND)).state != STATE_UNAVAILABLE  # type: ignore[union-attr]


async def test_a_silent_webcam_gives_no_snapshot_within_a_bounded_wait_then_unavailable(
    hass: HomeAssistant, two_webcams: UsbSim, entity_registry: er.EntityRegistry
) -> None:
    sim = two_webcams
    entity_id = camera_entity(entity_registry, FIRST)
    await inject(hass, sim, stall=sim.devices[0])

    async with asyncio.timeout(20):  # never a hang: HA's own snapshot timeout ends the request
        with pytest.raises(HomeAssistantError):
            await async_get_image(hass, entity_id, timeout=8)
    await next_update(hass)

    assert hass.states.get(entity_id).state == STATE_UNAVAILABLE  # type: ignore[union-attr]
    await inject(hass, sim)
    image = await async_get_image(hass, entity_id)
    assert image.content.startswith(b"\xff\xd8")


# --- reconfigure and device removal --------------------------------------------------------------


async def test_reconfigure_removes_a_webcam_whose_device_may_then_be_deleted(
    hass: HomeAssistant,
    two_webcams: UsbSim,
    device_registry: dr.DeviceRegistry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    entry = usb_entry(hass)
    assert await async_setup_component(hass, "config", {})
    ws = await hass_ws_client(hass)
    second = device_registry.async_get_device_by_identifier((DOMAIN, SECOND), usb_entry(hass).entry_id)
    assert second is not None
    assert not await remove_device(hass, ws, entry, second)  # still configured: it would come back

    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    assert result["step_id"] == "usb_reconfigure"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"camera": SECOND})
    assert result["step_id"] == "usb_camera"
    assert result["data_schema"] is not None
    assert [o["value"] for o in result["data_schema"].schema["mode"].config["options"]] == [
        "MJPG:320x240@15",
        "remove",
    ]
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"mode": "remove"})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()

    assert set(entry.data["cameras"]) == {FIRST}
    assert entry.state is ConfigEntryState.LOADED
    assert await remove_device(hass, ws, entry, second)
    assert device_registry.async_get_device_by_identifier((DOMAIN, SECOND), usb_entry(hass).entry_id) is None
    first = device_registry.async_get_device_by_identifier((DOMAIN, FIRST), usb_entry(hass).entry_id)
    assert first is not None
    assert not await remove_device(hass, ws, entry, first)


async def test_an_entry_whose_webcam_is_unplugged_at_start_still_loads(
    hass: HomeAssistant, usb_sim: StartUsb, entity_registry: er.EntityRegistry
) -> None:
    sim = await usb_sim()
    await add_webcam(hass, sim.devices[0])
    await hass.async_block_till_done()
    entry = usb_entry(hass)
    await hass.config_entries.async_unload(entry.entry_id)
    await inject(hass, sim, unplug=sim.devices[0])

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await next_update(hass)

    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get(camera_entity(entity_registry, FIRST)).state == STATE_UNAVAILABLE  # type: ignore[union-attr]
    await hass.config_entries.async_unload(entry.entry_id)
