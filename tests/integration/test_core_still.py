"""The brand-blind core with a still-only cloud camera, end to end through Furbo and furbosim: notices as
repair issues raised and cleared, the "Last event" camera and what its attributes say, the brand's
toggles as named switches, clips through the media view with expired links fetched again.

furbosim (`python -m camsim furbo`, its own process) is the cloud; the integration reaches it through
its one seam (CAMERA_HUB_FURBO_CLOUD). These tests assert the core's part; test_furbo*.py the brand's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant import config_entries
from homeassistant.components import media_source
from homeassistant.components.camera import async_get_image
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.camera_hub.const import DOMAIN
from scripts.lib.sims import Sim, start_furbo_sim, stop_sim

from .conftest import state_of

pytestmark = pytest.mark.usefixtures("socket_enabled")


@pytest.fixture
def furbosim(hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sim]:
    """One simulated Furbo account with a dog camera and no emailed-code step, its env set for HA."""
    sim = start_furbo_sim("--no-mfa", "--devices", "dog")
    for name, value in sim.info["env"].items():
        monkeypatch.setenv(name, str(value))
    yield sim
    stop_sim(sim)


async def inject(hass: HomeAssistant, sim: Sim, **changes: Any) -> dict[str, Any]:
    return await hass.async_add_executor_job(lambda: sim.inject(**changes))


@pytest.fixture
async def account(hass: HomeAssistant, furbosim: Sim) -> ConfigEntry:
    """The account added through the real config flow (brand menu → furbo → e-mail and password)."""
    flow = await hass.config_entries.flow.async_init(DOMAIN, context={"source": config_entries.SOURCE_USER})
    flow = await hass.config_entries.flow.async_configure(flow["flow_id"], {"next_step_id": "furbo"})
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {"email": furbosim.info["email"], "password": furbosim.info["password"]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done()
    entry = result["result"]
    assert isinstance(entry, ConfigEntry)
    return entry


def dog_id(entry: ConfigEntry) -> str:
    (camera_id,) = entry.runtime_data.cameras
    return str(camera_id)


async def hourly_read(hass: HomeAssistant, entry: ConfigEntry, freezer: FrozenDateTimeFactory) -> None:
    """An hour on (Furbo's account refresh, where subscriptions are read), then the camera's state read,
    which runs the account's poll before it answers."""
    freezer.tick(timedelta(hours=1, minutes=1))
    (camera,) = entry.runtime_data.cameras.values()
    await camera.coordinator.async_refresh()
    await hass.async_block_till_done()


async def refused_pictures(hass: HomeAssistant, sim: Sim) -> int:
    state = await hass.async_add_executor_job(sim.state)
    return sum(
        1
        for r in state["requests"]
        if "/thumb/" in r["path"] and r["status"] == HTTPStatus.INTERNAL_SERVER_ERROR
    )


def notice_issues(hass: HomeAssistant, entry: ConfigEntry) -> list[ir.IssueEntry]:
    return [
        issue
        for (domain, _), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN and (issue.data or {}).get("entry_id") == entry.entry_id
    ]


async def test_a_notice_is_a_repair_issue_while_reported(
    hass: HomeAssistant, furbosim: Sim, account: ConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    assert notice_issues(hass, account) == []

    await inject(hass, furbosim, subscription=False)
    await hourly_read(hass, account, freezer)
    (issue,) = notice_issues(hass, account)
    assert issue.translation_key == "furbo_no_subscription"
    assert issue.is_fixable is False
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["name"]  # the camera's name, for the text

    await inject(hass, furbosim, subscription=True)
    await hourly_read(hass, account, freezer)
    assert notice_issues(hass, account) == []


async def test_the_last_event_camera_says_what_its_picture_is(
    hass: HomeAssistant, furbosim: Sim, account: ConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    camera = entity_registry.async_get_entity_id("camera", DOMAIN, f"{dog_id(account)}_hd")
    assert camera is not None
    assert camera.endswith("_last_event"), "named for what it shows, not as a live camera"
    assert state_of(hass, camera).attributes.get("supported_features", 0) == 0, "no stream"

    image = await async_get_image(hass, camera)

    assert image.content[:2] == b"\xff\xd8"
    attributes = state_of(hass, camera).attributes
    assert attributes["picture_kind"] == "event"
    taken = datetime.fromisoformat(attributes["picture_taken_at"])
    assert taken.utcoffset() == timedelta(0)
    assert taken <= dt_util.utcnow()


async def test_the_last_event_stream_waits_for_a_picture_the_cloud_did_not_give(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    furbosim: Sim,
    account: ConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """The dashboard's MJPEG stream of a still camera: a picture the cloud refuses when the page opens
    is a pause in that stream, not its end (Home Assistant's own still stream ends at once, and the
    browser's tile stays broken until a reload); the picture follows when the cloud answers again."""
    camera = entity_registry.async_get_entity_id("camera", DOMAIN, f"{dog_id(account)}_hd")
    assert camera is not None
    await inject(hass, furbosim, fail={"status": 500, "count": 1000, "path": "/media/"})
    client = await hass_client()

    async with client.get(f"/api/camera_proxy_stream/{camera}") as response:
        assert response.status == HTTPStatus.OK

        async with asyncio.timeout(30):  # the cloud refused the picture: the stream stays open
            while not await refused_pictures(hass, furbosim):  # noqa: ASYNC110 - furbosim is another process
                await asyncio.sleep(0.05)
        await inject(hass, furbosim)  # Furbo answers again
        async with asyncio.timeout(30):
            first = await response.content.readuntil(b"\r\n\r\n")
            assert b"Content-Type: image/jpeg" in first
            assert (await response.content.readexactly(2)) == b"\xff\xd8"


async def test_toggles_are_switches_named_by_their_placeholders(
    hass: HomeAssistant, account: ConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    prefix = f"{dog_id(account)}_"
    toggles = [
        e
        for e in er.async_entries_for_config_entry(entity_registry, account.entry_id)
        if e.domain == "switch" and e.translation_key == "smart_alert" and e.unique_id.startswith(prefix)
    ]
    assert toggles, "the account's smart alerts"
    enabled = [e for e in toggles if e.disabled_by is None]
    assert enabled
    for entry in enabled:
        state = state_of(hass, entry.entity_id)
        assert state.name.endswith(" alert")
        assert "{alert}" not in state.name
        assert state.state in ("on", "off")
        assert entry.entity_category is EntityCategory.CONFIG


async def test_an_expired_clip_link_is_fetched_again_not_served_broken(
    hass: HomeAssistant,
    furbosim: Sim,
    account: ConfigEntry,
    hass_client: ClientSessionGenerator,
) -> None:
    assert await async_setup_component(hass, "media_source", {})
    root = await media_source.async_browse_media(hass, f"media-source://{DOMAIN}")
    (folder,) = root.children or []
    items = await media_source.async_browse_media(hass, folder.media_content_id)
    assert items.children
    clip = next(item for item in items.children if item.media_content_type == "video/mp4")
    played = await media_source.async_resolve_media(hass, clip.media_content_id, None)
    client = await hass_client()
    first = await client.get(played.url)
    assert first.status == HTTPStatus.OK
    body = await first.read()

    await inject(hass, furbosim, expire_links=True)
    again = await client.get(played.url)

    assert again.status == HTTPStatus.OK
    assert await again.read() == body
    if clip.thumbnail:
        thumbnail = await client.get(clip.thumbnail)
        assert thumbnail.status == HTTPStatus.OK
        assert (await thumbnail.read())[:2] == b"\xff\xd8"
