"""A Furbo password changed in Furbo's app, and the media browser's error paths, through the real HA
and furbosim (`python -m camsim furbo`) over real sockets: the state endpoint changes the account's
password, fails or cuts the cloud's answers; nothing of ours is mocked."""

from __future__ import annotations

import base64
import logging
from datetime import timedelta
from http import HTTPStatus
from typing import Any

import aiohttp
import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant import config_entries
from homeassistant.components import media_source
from homeassistant.components.media_player.errors import BrowseError
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.camera_hub.const import CONF_AUTH_FAILED, DOMAIN
from custom_components.camera_hub.media_source import PART_MEDIA, media_url
from custom_components.camera_hub.vendors.furbo.const import (
    CONF_ACCOUNT_ID,
    CONF_EMAIL,
    CONF_ENC_PASSWORD,
    CONF_EVENT_INTERVAL,
    CONF_TOKEN,
)
from scripts.lib.sims import Sim

from .conftest import sim_inject, sim_state
from .furbo_fixtures import POLL, StartFurbo
from .furbo_fixtures import next_furbo_poll as next_poll

EMAIL = "demo@furbo.test"
PASSWORD = "furbopass"
NEW_PASSWORD = "changed-in-the-app"
LOGIN_PATH = "/v5/account/read/login"
SEND_CODE_PATH = "/v4/account/mfa/login/send-code"
# strings.json's media_not_found as HA shows it (HA drops the final full stop of an error message).
NOT_FOUND = "This recording is no longer available (its camera or account was removed or is not loaded)"

# Our client opens real sockets to furbosim on 127.0.0.1.
pytestmark = pytest.mark.usefixtures("socket_enabled")


async def _sign_in(hass: HomeAssistant) -> dict[str, Any]:
    """The user flow's Furbo step, submitted with the account's e-mail and password."""
    flow = hass.config_entries.flow
    result = await flow.async_init(DOMAIN, context={"source": config_entries.SOURCE_USER})
    result = await flow.async_configure(result["flow_id"], {"next_step_id": "furbo"})
    assert result["step_id"] == "furbo"
    return dict(await flow.async_configure(result["flow_id"], {"email": EMAIL, "password": PASSWORD}))


async def _add_account(hass: HomeAssistant, sim: Sim) -> ConfigEntry:
    """Through the real flow: credentials, then the e-mailed code (read from furbosim) if asked."""
    result = await _sign_in(hass)
    if result.get("step_id") == "furbo_code":
        code = (await sim_state(hass, sim))["last_code"]
        result = dict(await hass.config_entries.flow.async_configure(result["flow_id"], {"code": code}))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    assert entry.state is ConfigEntryState.LOADED
    return entry


async def _password_changed_in_the_app(
    hass: HomeAssistant, sim: Sim, freezer: FrozenDateTimeFactory, delta: timedelta = POLL, **more: Any
) -> str:
    """The person changes the password in Furbo's app; the next silent re-login is refused and a
    reauth flow starts. Returns that flow's id."""
    await sim_inject(hass, sim, password=NEW_PASSWORD, expire_tokens=True, **more)
    await next_poll(hass, freezer, delta)
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert len(flows) == 1
    assert flows[0]["context"]["source"] == config_entries.SOURCE_REAUTH
    return flows[0]["flow_id"]


async def _to_password_step(hass: HomeAssistant, flow_id: str) -> dict[str, Any]:
    result: dict[str, Any] = dict(await hass.config_entries.flow.async_configure(flow_id))
    assert result["step_id"] == "furbo_reauth_confirm"
    # Submitting tries the stored password first: Furbo refuses it, so the new one is asked for.
    result = dict(await hass.config_entries.flow.async_configure(flow_id, {}))
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "furbo_reauth_password"
    assert result["errors"] == {}
    assert result["description_placeholders"]["email"] == EMAIL
    schema: Any = result["data_schema"]
    assert {str(key) for key in schema.schema} == {"password"}, "only the password, not the e-mail"
    return result


# --- reauthentication after the password was changed ------------------------------------------------


async def test_changed_password_reauth_asks_for_the_new_one_and_keeps_everything_else(
    hass: HomeAssistant, furbosim: StartFurbo, freezer: FrozenDateTimeFactory
) -> None:
    sim = await furbosim("--no-mfa", "--devices", "dog")
    entry = await _add_account(hass, sim)
    interval = timedelta(seconds=600)  # not the default: the reload must keep it
    hass.config_entries.async_update_entry(
        entry, options={CONF_EVENT_INTERVAL: interval.total_seconds()}, title="Our dog"
    )
    await hass.async_block_till_done()
    before = dict(entry.data)

    flow_id = await _password_changed_in_the_app(hass, sim, freezer, interval)
    await _to_password_step(hass, flow_id)

    result: dict[str, Any] = dict(
        await hass.config_entries.flow.async_configure(flow_id, {"password": "still-the-old-one"})
    )
    assert result["step_id"] == "furbo_reauth_password"
    assert result["errors"] == {"base": "furbo_invalid_auth"}
    assert entry.data[CONF_ENC_PASSWORD] == before[CONF_ENC_PASSWORD], "nothing stored on a refusal"

    logins = (await sim_state(hass, sim))["counters"]["logins"]
    result = dict(await hass.config_entries.flow.async_configure(flow_id, {"password": NEW_PASSWORD}))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()

    assert entry.state is ConfigEntryState.LOADED, "reloaded with the new password"
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert entry.data[CONF_ENC_PASSWORD] != before[CONF_ENC_PASSWORD]
    assert NEW_PASSWORD not in str(entry.data)
    assert PASSWORD not in str(entry.data)
    assert CONF_AUTH_FAILED not in entry.data
    assert entry.data[CONF_EMAIL] == EMAIL
    assert entry.data[CONF_ACCOUNT_ID] == before[CONF_ACCOUNT_ID]
    assert entry.data[CONF_TOKEN] != before[CONF_TOKEN], "the reauth's own login"
    assert entry.title == "Our dog", "a renamed entry keeps its name"
    assert entry.options == {CONF_EVENT_INTERVAL: interval.total_seconds()}
    assert entry.runtime_data.cameras, "its camera is back"
    # The flow's login, then the reloaded entry polls with that token: no further login needed.
    assert (await sim_state(hass, sim))["counters"]["logins"] == logins + 1

    # The stored (encrypted) new password is what the next silent re-login uses.
    await sim_inject(hass, sim, expire_tokens=True)
    await next_poll(hass, freezer, interval)
    assert entry.state is ConfigEntryState.LOADED
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert (await sim_state(hass, sim))["counters"]["logins"] == logins + 2


async def test_changed_password_then_the_emailed_code(
    hass: HomeAssistant, furbosim: StartFurbo, freezer: FrozenDateTimeFactory
) -> None:
    sim = await furbosim("--devices", "dog")
    entry = await _add_account(hass, sim)
    # Furbo forgets the trusted phone as well: the new password is followed by the code step.
    flow_id = await _password_changed_in_the_app(hass, sim, freezer, mfa=True)
    await _to_password_step(hass, flow_id)
    codes_sent = (await sim_state(hass, sim))["counters"]["codes_sent"]

    result: dict[str, Any] = dict(
        await hass.config_entries.flow.async_configure(flow_id, {"password": NEW_PASSWORD})
    )
    assert result["step_id"] == "furbo_code"
    assert result["description_placeholders"]["email"] == EMAIL
    state = await sim_state(hass, sim)
    assert state["counters"]["codes_sent"] == codes_sent + 1
    result = dict(await hass.config_entries.flow.async_configure(flow_id, {"code": state["last_code"]}))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


async def test_reauth_confirm_says_when_furbo_cannot_be_reached_then_the_old_password_works_again(
    hass: HomeAssistant, furbosim: StartFurbo, freezer: FrozenDateTimeFactory
) -> None:
    sim = await furbosim("--no-mfa", "--devices", "dog")
    entry = await _add_account(hass, sim)
    stored = entry.data[CONF_ENC_PASSWORD]
    flow_id = await _password_changed_in_the_app(hass, sim, freezer)
    result: dict[str, Any] = dict(await hass.config_entries.flow.async_configure(flow_id))
    assert result["step_id"] == "furbo_reauth_confirm"

    await sim_inject(hass, sim, fail={"path": LOGIN_PATH, "status": 500, "count": 1})
    result = dict(await hass.config_entries.flow.async_configure(flow_id, {}))
    assert result["step_id"] == "furbo_reauth_confirm"
    assert result["errors"] == {"base": "cannot_connect"}
    assert result["description_placeholders"]["email"] == EMAIL

    await sim_inject(hass, sim, rate_limit={"code": 80002, "time_wait": 30, "count": 1, "path": LOGIN_PATH})
    result = dict(await hass.config_entries.flow.async_configure(flow_id, {}))
    assert result["errors"] == {"base": "furbo_rate_limited"}
    assert result["description_placeholders"]["seconds"] == "30"

    # Meanwhile the person changed the password back: the stored one works, nothing more is asked.
    await sim_inject(hass, sim, password=PASSWORD)
    result = dict(await hass.config_entries.flow.async_configure(flow_id, {}))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.data[CONF_ENC_PASSWORD] == stored, "the stored password was kept"


async def test_expired_code_whose_resend_fails_still_says_expired(
    hass: HomeAssistant, furbosim: StartFurbo
) -> None:
    sim = await furbosim("--devices", "dog", "--code-ttl", "0")
    result = await _sign_in(hass)
    assert result["step_id"] == "furbo_code"
    state = await sim_state(hass, sim)
    await sim_inject(hass, sim, fail={"path": SEND_CODE_PATH, "status": 500, "count": 1})
    code = {"code": state["last_code"]}
    result = dict(await hass.config_entries.flow.async_configure(result["flow_id"], code))
    assert result["step_id"] == "furbo_code"
    assert result["errors"] == {"base": "furbo_code_expired"}
    after = await sim_state(hass, sim)
    assert after["counters"]["codes_sent"] == state["counters"]["codes_sent"], "the resend was refused"
    assert after["counters"]["per_path"][SEND_CODE_PATH] == state["counters"]["per_path"][SEND_CODE_PATH] + 1
    hass.config_entries.flow.async_abort(result["flow_id"])


# --- the media browser's error paths -------------------------------------------------------------


async def _media_account(hass: HomeAssistant, furbosim: StartFurbo) -> tuple[Sim, ConfigEntry, str]:
    """One dog camera with its seeded event clips, and HA's media source set up."""
    sim = await furbosim("--no-mfa", "--devices", "dog")
    entry = await _add_account(hass, sim)
    assert await async_setup_component(hass, "media_source", {})
    dog_id = (await sim_state(hass, sim))["devices"][0]["Id"]
    return sim, entry, dog_id


async def _first_clip(hass: HomeAssistant, entry: ConfigEntry) -> media_source.BrowseMediaSource:
    root = await media_source.async_browse_media(hass, f"media-source://{DOMAIN}")
    assert root.children
    folder = next(child for child in root.children if entry.entry_id in child.media_content_id)
    items = await media_source.async_browse_media(hass, folder.media_content_id)
    assert items.children
    clip = next(child for child in items.children if child.media_content_type == "video/mp4")
    assert isinstance(clip, media_source.BrowseMediaSource)
    return clip


def _secrets_of(entry: ConfigEntry) -> list[str]:
    return [PASSWORD, entry.data[CONF_ENC_PASSWORD], entry.data[CONF_TOKEN], "Signature", "Expires="]


async def bad_gateway_text(client: Any, url: str, entry: ConfigEntry) -> str:
    """The media view's 502 for `url`: its text, checked to name no secret of the account."""
    response = await client.get(url)
    assert response.status == HTTPStatus.BAD_GATEWAY
    text = str(await response.text())
    for secret in _secrets_of(entry):
        assert secret not in text
    return text


async def test_malformed_or_unknown_identifiers_are_not_found(
    hass: HomeAssistant, furbosim: StartFurbo
) -> None:
    _, entry, _ = await _media_account(hass, furbosim)
    clip = await _first_clip(hass, entry)
    entry_id, camera, item, content_type = clip.media_content_id.removeprefix(
        f"media-source://{DOMAIN}/"
    ).split("|")
    unknown = base64.urlsafe_b64encode(b"no-such-camera").decode().rstrip("=")  # well encoded, unknown

    for identifier in (
        f"{entry_id}|{camera}",  # a folder, not an item
        f"{entry_id}|A|{item}|{content_type}",  # not base64 (one character too many)
        f"{entry_id}|{camera}|_w|{content_type}",  # base64, but not UTF-8
        f"{entry_id}|{unknown}|{item}|{content_type}",  # no such camera
        f"not-an-entry|{camera}|{item}|{content_type}",  # no such entry
    ):
        with pytest.raises(media_source.Unresolvable) as unresolved:
            await media_source.async_resolve_media(hass, f"media-source://{DOMAIN}/{identifier}", None)
        assert unresolved.value.translation_key == "media_not_found", identifier
        assert str(unresolved.value) == NOT_FOUND

    for identifier in (
        entry_id,  # no camera part
        f"{entry_id}|A",  # not base64
        f"{entry_id}|{camera}|{item}",  # an item is not a folder
        f"{entry_id}|{unknown}",  # no such camera
    ):
        with pytest.raises(BrowseError) as unbrowsable:
            await media_source.async_browse_media(hass, f"media-source://{DOMAIN}/{identifier}")
        assert unbrowsable.value.translation_key == "media_not_found", identifier
        assert str(unbrowsable.value) == NOT_FOUND

    # A real item's identifier once its entry is unloaded: its camera is gone from the browser too.
    assert await hass.config_entries.async_unload(entry.entry_id)
    with pytest.raises(media_source.Unresolvable) as unresolved:
        await media_source.async_resolve_media(hass, clip.media_content_id, None)
    assert unresolved.value.translation_key == "media_not_found"


async def test_browsing_when_the_cloud_fails_says_so_without_secrets(
    hass: HomeAssistant, furbosim: StartFurbo
) -> None:
    sim, entry, _ = await _media_account(hass, furbosim)
    root = await media_source.async_browse_media(hass, f"media-source://{DOMAIN}")
    assert root.children
    folder = root.children[0].media_content_id
    await sim_inject(hass, sim, fail={"path": "/furbo_event", "status": 500, "count": 1})
    with pytest.raises(BrowseError) as caught:
        await media_source.async_browse_media(hass, folder)
    assert caught.value.translation_key == "media_unavailable"
    message = str(caught.value)
    assert message.startswith("The camera's cloud did not list its recordings: ")
    assert "500" in message
    for secret in _secrets_of(entry):
        assert secret not in message
    # The fault was one answer: the next browse lists the clips again.
    assert (await media_source.async_browse_media(hass, folder)).children


async def test_media_view_not_found_for_unknown_part_camera_or_encoding(
    hass: HomeAssistant, furbosim: StartFurbo, hass_client: ClientSessionGenerator
) -> None:
    sim, entry, dog_id = await _media_account(hass, furbosim)
    clip = await _first_clip(hass, entry)
    played = await media_source.async_resolve_media(hass, clip.media_content_id, None)
    base, _, part = played.url.rpartition("/")
    assert part == PART_MEDIA
    _, _, _, _, _, camera, item = base.split("/")
    client = await hass_client()
    requests_before = (await sim_state(hass, sim))["counters"]["requests_total"]
    for url in (
        f"{base}/poster",  # no such part
        f"/api/camera_hub/media/{entry.entry_id}/A/{item}/media",  # camera not base64
        f"/api/camera_hub/media/{entry.entry_id}/{camera}/_w/media",  # item not UTF-8
        media_url(entry.entry_id, "no-such-camera", "event:1", PART_MEDIA),
        media_url("no-such-entry", dog_id, "event:1", PART_MEDIA),
    ):
        response = await client.get(url)
        assert response.status == HTTPStatus.NOT_FOUND, url
    assert (await sim_state(hass, sim))["counters"]["requests_total"] == requests_before, "cloud not asked"

    response = await client.get(played.url)
    assert response.status == HTTPStatus.OK
    assert (await response.read())[4:8] == b"ftyp"


async def test_media_view_answers_502_with_a_readable_message_when_the_cloud_fails(
    hass: HomeAssistant, furbosim: StartFurbo, hass_client: ClientSessionGenerator
) -> None:
    sim, entry, _ = await _media_account(hass, furbosim)
    clip = await _first_clip(hass, entry)
    played = await media_source.async_resolve_media(hass, clip.media_content_id, None)
    client = await hass_client()

    # The signed link itself fails (CloudFront answers 500).
    await sim_inject(hass, sim, fail={"path": "/media/", "status": 500, "count": 1})
    assert await bad_gateway_text(client, played.url, entry) == "a Furbo media link answered 500"

    # Every link Furbo hands out is refused (expired), even the one fetched afresh.
    await sim_inject(hass, sim, fail={"path": "/media/", "status": 403, "count": 2})
    assert await bad_gateway_text(client, played.url, entry) == "Furbo has no working link for this recording"

    # The thumbnail goes the same way; and the cloud's list itself failing is a 502 as well.
    assert clip.thumbnail is not None
    await sim_inject(hass, sim, fail={"path": "/furbo_event", "status": 500, "count": 1})
    said = await bad_gateway_text(client, clip.thumbnail, entry)
    assert said == "Furbo answered 500 on /furbo_event/v2/list"

    # Faults spent: the same URLs play.
    response = await client.get(played.url)
    assert response.status == HTTPStatus.OK
    response = await client.get(clip.thumbnail)
    assert response.status == HTTPStatus.OK
    assert (await response.read())[:2] == b"\xff\xd8"


async def test_a_download_that_breaks_off_is_cut_not_ended_as_whole(
    hass: HomeAssistant,
    furbosim: StartFurbo,
    hass_client: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sim, entry, _ = await _media_account(hass, furbosim)
    clip = await _first_clip(hass, entry)
    played = await media_source.async_resolve_media(hass, clip.media_content_id, None)
    client = await hass_client()
    whole = await (await client.get(played.url)).read()
    assert whole[4:8] == b"ftyp"

    await sim_inject(hass, sim, cut_media={"path": "/media/", "count": 1})
    response = await client.get(played.url)
    assert response.status == HTTPStatus.OK, "the headers were sent before the cloud broke off"
    assert response.content_length == len(whole)
    # The viewer's download fails; it never ends as a whole (short) file. The view cuts the connection
    # itself: nothing is logged as an error (aiohttp would log a traceback for an error it caught).
    with pytest.raises(aiohttp.ClientPayloadError):
        await response.read()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text

    # The next download is whole again.
    assert await (await client.get(played.url)).read() == whole
    assert entry.state is ConfigEntryState.LOADED
