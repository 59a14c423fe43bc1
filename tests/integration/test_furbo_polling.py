"""A Furbo account's polling through the real HA against furbosim (`python -m camsim furbo`) over real
sockets: which event types can fire, what each poll costs, the hourly calendar and account refresh,
80001 while polling, an unreadable license answer, the Doggie Diary in the media browser, and the
one MobileId per install. Nothing of ours is mocked; the clock is frozen and ticked."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta
from http import HTTPStatus
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import media_source
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import EVENT_STATE_CHANGED, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from camsim.furbo import catalog
from custom_components.camera_hub.const import DOMAIN
from custom_components.camera_hub.vendors.furbo.connection import _MOBILE_ID, async_mobile_id
from custom_components.camera_hub.vendors.furbo.models import (
    LISTABLE_EVENT_NAMES,
    OTHER_EVENT,
    Species,
    event_types,
    vocabulary,
)
from scripts.lib.sims import Sim

from .conftest import sim_inject, sim_state, state_of
from .furbo_fixtures import StartFurbo
from .furbo_fixtures import next_furbo_poll as next_poll
from .test_furbo import add_account

LOGIN_PATH = "/v5/account/read/login"
EVENTS_PATH = "/furbo_event/v2/list"
ACTIVITY_PATH = "/v2/calendar/activity-report/get"
LICENSE_PATH = "/v3/service/license"
DIARY_PATH = "/doggie_diary/report"
# furbosim's calendar refuses a repeat call within 10 s of real time; HA's clock here is frozen and
# ticked an hour in a fraction of a second, so the tests that read the calendar's values turn that off
# (its refusal is injected where a test wants one).
NO_CALENDAR_WINDOW = ("--calendar-window", "0")

# Our client opens real sockets to furbosim on 127.0.0.1.
pytestmark = pytest.mark.usefixtures("socket_enabled")


def entity_of(hass: HomeAssistant, platform: str, camera_id: str, key: str) -> str:
    entity_id = er.async_get(hass).async_get_entity_id(platform, DOMAIN, f"{camera_id}_{key}")
    assert entity_id is not None, f"{platform} {key} of {camera_id}"
    return entity_id


def per_path(state: dict[str, Any]) -> Counter[str]:
    return Counter(state["counters"]["per_path"])


def spent(before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
    """The requests furbosim answered between two of its states, by path (the device list's path
    names the account: shown as "devices")."""
    counted = per_path(after) - per_path(before)
    return {("devices" if path.endswith("/device") else path): n for path, n in counted.items()}


def requests_since(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """furbosim's log of the requests between two of its states (method, path, status)."""
    count = after["counters"]["requests_total"] - before["counters"]["requests_total"]
    return list(after["requests"][-count:]) if count else []


def camera_ids(state: dict[str, Any]) -> dict[str, str]:
    return {device["ProductId"]: device["Id"] for device in state["devices"]}


# --- 1. every offered event type can fire -------------------------------------------------------


def test_the_names_the_poll_asks_for_are_the_ones_furbo_accepts() -> None:
    """furbosim refuses any other EventName with 12001, as Furbo does (its vocabulary: shared notes)."""
    assert set(LISTABLE_EVENT_NAMES) == set(catalog.EVENT_NAMES)


@pytest.mark.parametrize("species", list(Species))
def test_offered_event_types_are_those_of_the_names_asked_for(species: Species) -> None:
    names = vocabulary(species)
    asked = {names[name] for name in LISTABLE_EVENT_NAMES if name in names}
    assert set(event_types(species)) == asked | {OTHER_EVENT}
    # Whatever the list answers maps to an offered type (HA refuses to fire any other).
    assert set(names.values()) <= set(event_types(species))
    assert not {"eating", "chewing", "pee_poo", "seizure"} & set(event_types(species)), "never fetched"


async def test_every_offered_event_type_fires(
    hass: HomeAssistant, furbosim: StartFurbo, freezer: FrozenDateTimeFactory
) -> None:
    sim = await furbosim("--no-mfa", "--devices", "dog,cat")
    await add_account(hass, sim)
    cameras = camera_ids(await sim_state(hass, sim))
    fired: dict[str, list[str]] = {}
    entities = {}
    for product, species, unknown_name in (
        ("FB0030", Species.DOG, "Barking"),
        ("FBC0030", Species.CAT, "Meowing"),
    ):
        camera = cameras[product]
        entities[camera] = entity_of(hass, "event", camera, "pet")
        fired[entities[camera]] = []
        for name in LISTABLE_EVENT_NAMES:
            if name in vocabulary(species):
                await sim_inject(hass, sim, add_event={"device_id": camera, "name": name})
        # A name the list reports that no vocabulary knows yet fires as "other".
        await sim_inject(
            hass, sim, add_event={"device_id": camera, "name": unknown_name, "types": ["SniffingAround"]}
        )

    @callback
    def record(event: Event[Any]) -> None:
        if event.data["entity_id"] in fired and (new := event.data["new_state"]) is not None:
            fired[event.data["entity_id"]].append(new.attributes["event_type"])

    unsubscribe = hass.bus.async_listen(EVENT_STATE_CHANGED, record)
    try:
        await next_poll(hass, freezer)
    finally:
        unsubscribe()

    for entity_id in entities.values():
        offered = state_of(hass, entity_id).attributes["event_types"]
        assert set(fired[entity_id]) == set(offered), entity_id
    assert state_of(hass, entities[cameras["FB0030"]]).attributes["event_types"] == list(
        event_types(Species.DOG)
    )


async def test_the_list_naming_an_event_dogactivity_fires_pet_activity(
    hass: HomeAssistant, furbosim: StartFurbo, freezer: FrozenDateTimeFactory
) -> None:
    """ha-furbo's live sample reports Types ["DogActivity"], a name the request cannot carry."""
    sim = await furbosim("--no-mfa", "--devices", "dog")
    await add_account(hass, sim)
    dog = camera_ids(await sim_state(hass, sim))["FB0030"]
    await sim_inject(
        hass, sim, add_event={"device_id": dog, "name": "DogMoveAbove10Sec", "types": ["DogActivity"]}
    )
    await next_poll(hass, freezer)
    event = state_of(hass, entity_of(hass, "event", dog, "pet"))
    assert event.attributes["event_type"] == "pet_activity"
    assert event.attributes["furbo_type"] == "DogActivity"


# --- 6. what a poll costs -----------------------------------------------------------------------


async def test_a_poll_is_one_request_and_the_account_hourly(
    hass: HomeAssistant, furbosim: StartFurbo, freezer: FrozenDateTimeFactory
) -> None:
    """Between hours a poll is the one event-list request for every camera; devices, subscriptions,
    each camera's alerts and the calendar are read once an hour."""
    sim = await furbosim("--no-mfa", "--devices", "dog,cat")
    await add_account(hass, sim)
    before = await sim_state(hass, sim)
    for minute in range(5, 60, 5):
        await next_poll(hass, freezer)
        after = await sim_state(hass, sim)
        assert spent(before, after) == {EVENTS_PATH: 1}, f"{minute} min"
        before = after
    await next_poll(hass, freezer)  # an hour after setup
    after = await sim_state(hass, sim)
    assert spent(before, after) == {
        EVENTS_PATH: 1,
        "devices": 1,
        LICENSE_PATH: 1,
        "/v5/device/alert-setting": 2,  # one per camera
        ACTIVITY_PATH: 1,
    }


async def test_an_alert_changed_in_furbos_app_shows_within_the_hour(
    hass: HomeAssistant, furbosim: StartFurbo, freezer: FrozenDateTimeFactory
) -> None:
    sim = await furbosim("--no-mfa", "--devices", "dog")
    await add_account(hass, sim)
    dog = camera_ids(await sim_state(hass, sim))["FB0030"]
    switch = entity_of(hass, "switch", dog, "alert_Barking")
    assert state_of(hass, switch).state == "on"
    # Our own switch: written to Furbo and shown at once, without reading the settings back.
    before = await sim_state(hass, sim)
    await hass.services.async_call("switch", "turn_off", {"entity_id": switch}, blocking=True)
    after = await sim_state(hass, sim)
    assert spent(before, after) == {"/v5/device/alert-setting/update": 1}
    assert state_of(hass, switch).state == "off"
    assert after["alerts"][dog]["Barking"] == "0"
    # The person turns it back on in Furbo's app: not read back at every poll, but within the hour.
    await sim_inject(hass, sim, set_alert={"device_id": dog, "name": "Barking", "value": "1"})
    for _ in range(11):  # 55 minutes after setup
        await next_poll(hass, freezer)
    assert state_of(hass, switch).state == "off"
    await next_poll(hass, freezer)  # the hourly refresh
    assert state_of(hass, switch).state == "on"


# --- 2. the calendar, hourly, and the activity sensors ------------------------------------------


def events_on_today(state: dict[str, Any], camera: str | None = None) -> int:
    """furbosim's events of HA's today (HA runs in the account's zone here), of one camera or all."""
    today = dt_util.now().date().isoformat()
    return sum(
        1
        for event in state["events"]
        if event["local_time"].startswith(today) and camera in (None, event["device_id"])
    )


def reading(hass: HomeAssistant, camera: str, key: str) -> int:
    return int(state_of(hass, entity_of(hass, "sensor", camera, key)).state)


async def test_calendar_once_an_hour_feeds_the_activity_sensors(
    hass: HomeAssistant, furbosim: StartFurbo, freezer: FrozenDateTimeFactory
) -> None:
    # Furbo's dates are the account's (Europe/London); HA in the same zone has the same "today".
    await hass.config.async_set_time_zone("Europe/London")
    sim = await furbosim("--no-mfa", "--devices", "dog,cat", *NO_CALENDAR_WINDOW)
    await add_account(hass, sim)
    state = await sim_state(hass, sim)
    dog, cat = camera_ids(state)["FB0030"], camera_ids(state)["FBC0030"]
    assert per_path(state)[ACTIVITY_PATH] == 1, "the setup's poll"
    assert reading(hass, dog, "events_today") == events_on_today(state, dog)
    assert reading(hass, cat, "events_today") == events_on_today(state, cat)
    activity = events_on_today(state)
    assert reading(hass, dog, "account_activity_today") == activity
    assert reading(hass, cat, "account_activity_today") == activity, "the account's, on every camera"

    await sim_inject(hass, sim, add_event={"device_id": dog, "name": "Barking"})
    await next_poll(hass, freezer)
    state = await sim_state(hass, sim)
    assert reading(hass, dog, "events_today") == events_on_today(state, dog), "every poll"
    assert reading(hass, dog, "account_activity_today") == activity, "the calendar waits for its hour"

    for _ in range(10):  # 55 minutes after setup
        await next_poll(hass, freezer)
    assert per_path(await sim_state(hass, sim))[ACTIVITY_PATH] == 1
    await next_poll(hass, freezer)  # 60 minutes
    state = await sim_state(hass, sim)
    assert per_path(state)[ACTIVITY_PATH] == 2
    assert reading(hass, dog, "account_activity_today") == events_on_today(state) == activity + 1
    for _ in range(12):  # 120 minutes
        await next_poll(hass, freezer)
    assert per_path(await sim_state(hass, sim))[ACTIVITY_PATH] == 3


async def test_calendar_rate_limit_costs_the_events_no_backoff(
    hass: HomeAssistant, furbosim: StartFurbo, freezer: FrozenDateTimeFactory
) -> None:
    await hass.config.async_set_time_zone("Europe/London")
    sim = await furbosim("--no-mfa", "--devices", "dog", *NO_CALENDAR_WINDOW)
    await add_account(hass, sim)
    state = await sim_state(hass, sim)
    dog = camera_ids(state)["FB0030"]
    activity = reading(hass, dog, "account_activity_today")
    await sim_inject(
        hass, sim, rate_limit={"code": 80002, "path": "/v2/calendar", "time_wait": 1, "count": 1}
    )
    for _ in range(12):  # the hourly calendar call is refused
        await next_poll(hass, freezer)
    refused = await sim_state(hass, sim)
    assert per_path(refused)[ACTIVITY_PATH] == 2
    assert refused["requests"][-1] == {"method": "POST", "path": ACTIVITY_PATH, "status": 400}

    # The events are polled at their interval as before: no backoff, the sensors keep their values.
    await sim_inject(hass, sim, add_event={"device_id": dog, "name": "Howling"})
    await next_poll(hass, freezer)
    after = await sim_state(hass, sim)
    assert spent(refused, after) == {EVENTS_PATH: 1}
    assert state_of(hass, entity_of(hass, "event", dog, "pet")).attributes["event_type"] == "howling"
    assert reading(hass, dog, "account_activity_today") == activity
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    account = entry.runtime_data.cameras[dog].backend.diagnostics()["account"]
    assert account["rate_limit_strikes"] == 0
    # The calendar is asked again an hour after the refused call, not sooner.
    for _ in range(10):
        await next_poll(hass, freezer)
    assert per_path(await sim_state(hass, sim))[ACTIVITY_PATH] == 2
    await next_poll(hass, freezer)
    state = await sim_state(hass, sim)
    assert per_path(state)[ACTIVITY_PATH] == 3
    assert reading(hass, dog, "account_activity_today") == events_on_today(state)


# --- 4. 80001 while polling ---------------------------------------------------------------------


async def test_a_lockout_while_polling_is_shown_and_waited_out(
    hass: HomeAssistant,
    furbosim: StartFurbo,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The token expired and the silent re-login meets 80001 ("too many attempts", 10 minutes): every
    camera is unavailable saying why and for how long, Furbo is asked nothing until the wait is over,
    then one login brings everything back. No reauthentication: the password is not wrong."""
    sim = await furbosim("--no-mfa", "--devices", "dog,cat")
    await add_account(hass, sim)
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    cameras = list(camera_ids(await sim_state(hass, sim)).values())
    switches = [
        entity_of(hass, "switch", camera, "alert_Barking" if i == 0 else "alert_Meowing")
        for i, camera in enumerate(cameras)
    ]
    await sim_inject(
        hass,
        sim,
        expire_tokens=True,
        rate_limit={"code": 80001, "path": LOGIN_PATH, "time_wait": 600, "count": 1},
    )
    caplog.clear()
    await next_poll(hass, freezer)
    locked = await sim_state(hass, sim)
    assert locked["requests"][-1] == {"method": "POST", "path": LOGIN_PATH, "status": 400}
    assert all(state_of(hass, switch).state == STATE_UNAVAILABLE for switch in switches)
    for camera in cameras:
        coordinator = entry.runtime_data.cameras[camera].coordinator
        assert not coordinator.last_update_success
        assert getattr(coordinator.last_exception, "translation_key", None) == "locked_out"
    said = [r.getMessage() for r in caplog.records if "temporarily locked logins" in r.getMessage()]
    assert len(said) == len(cameras), said
    assert all("about 10 minutes" in line for line in said)

    for _ in range(9):  # nine more minutes: still locked, nothing asked
        await next_poll(hass, freezer, timedelta(seconds=60))
        assert all(state_of(hass, switch).state == STATE_UNAVAILABLE for switch in switches)
    assert (await sim_state(hass, sim))["counters"]["requests_total"] == locked["counters"]["requests_total"]

    await next_poll(hass, freezer, timedelta(seconds=60))  # the ten minutes are over
    after = await sim_state(hass, sim)
    assert after["counters"]["logins"] == locked["counters"]["logins"] + 1
    assert all(state_of(hass, switch).state == "on" for switch in switches)
    assert entry.state is ConfigEntryState.LOADED
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)


# --- 7. a license answer that cannot be read ----------------------------------------------------


async def test_an_unreadable_license_answer_is_unknown_not_no_subscription(
    hass: HomeAssistant,
    furbosim: StartFurbo,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
) -> None:
    sim = await furbosim("--no-mfa", "--devices", "dog")
    await sim_inject(hass, sim, malform={"path": LICENSE_PATH, "kind": "wrong_types", "count": 1})
    await add_account(hass, sim)
    dog = camera_ids(await sim_state(hass, sim))["FB0030"]
    sensor = entity_of(hass, "sensor", dog, "subscription")
    assert state_of(hass, sensor).state == STATE_UNKNOWN
    assert not [issue for (domain, _), issue in issue_registry.issues.items() if domain == DOMAIN]
    assert state_of(hass, entity_of(hass, "switch", dog, "alert_Barking")).state == "on", "the rest works"
    await next_poll(hass, freezer, timedelta(hours=1))  # the hourly refresh reads a whole answer
    assert state_of(hass, sensor).state == "active"


# --- 3. the Doggie Diary in the media browser ---------------------------------------------------


async def camera_folders(hass: HomeAssistant) -> dict[str, media_source.BrowseMediaSource]:
    """The media browser's folders by title (the camera's name)."""
    root = await media_source.async_browse_media(hass, f"media-source://{DOMAIN}")
    assert root.children
    return {
        child.title: child for child in root.children if isinstance(child, media_source.BrowseMediaSource)
    }


async def test_doggie_diary_browsed_played_and_played_again_after_links_expired(
    hass: HomeAssistant, furbosim: StartFurbo, hass_client: ClientSessionGenerator
) -> None:
    sim = await furbosim("--no-mfa", "--devices", "dog,cat")
    await add_account(hass, sim)
    assert await async_setup_component(hass, "media_source", {})
    state = await sim_state(hass, sim)
    names = {device["Id"]: device["DeviceName"] for device in state["devices"]}
    first, other = sorted(names)  # the diary is the account's: under its first camera

    folders = await camera_folders(hass)
    listed = await media_source.async_browse_media(hass, folders[names[first]].media_content_id)
    assert listed.children
    diaries = [item for item in listed.children if item.title.startswith("Doggie Diary ")]
    today = dt_util.now().date()
    days = {(today - timedelta(days=n)).isoformat() for n in range(1, 8)}
    assert {item.title.removeprefix("Doggie Diary ") for item in diaries} <= days | {today.isoformat()}
    assert len(diaries) == 7
    assert all(item.media_content_type == "video/mp4" and item.can_play for item in diaries)
    elsewhere = await media_source.async_browse_media(hass, folders[names[other]].media_content_id)
    assert not [item for item in elsewhere.children or [] if item.title.startswith("Doggie Diary")]

    played = await media_source.async_resolve_media(hass, diaries[0].media_content_id, None)
    assert played.mime_type == "video/mp4"
    assert "Signature" not in played.url, "HA's own link, never Furbo's signed one"
    client = await hass_client()
    before = await sim_state(hass, sim)
    response = await client.get(played.url)
    assert response.status == HTTPStatus.OK
    whole = await response.read()
    assert whole[4:8] == b"ftyp"
    after = await sim_state(hass, sim)
    assert spent(before, after)[DIARY_PATH] == 1, "a link fetched for this play"

    # Every link signed so far expires; the same HA link plays, with a link fetched afresh.
    await sim_inject(hass, sim, expire_links=True)
    response = await client.get(played.url)
    assert response.status == HTTPStatus.OK
    assert await response.read() == whole
    again = await sim_state(hass, sim)
    assert spent(after, again)[DIARY_PATH] == 1
    media = [r["status"] for r in requests_since(after, again) if r["path"].startswith("/media/")]
    assert media == [200], "no expired link was used"

    # A link that expires between its fetch and its use is fetched once more, never shown broken.
    await sim_inject(hass, sim, fail={"path": "/media/", "status": 403, "count": 1})
    response = await client.get(played.url)
    assert response.status == HTTPStatus.OK
    assert await response.read() == whole
    last = await sim_state(hass, sim)
    assert spent(again, last)[DIARY_PATH] == 2
    media = [r["status"] for r in requests_since(again, last) if r["path"].startswith("/media/")]
    assert media == [403, 200]


# --- 5. one MobileId per install ----------------------------------------------------------------


async def add_account_of(hass: HomeAssistant, account: Sim) -> ConfigEntry:
    """Through the real flow as `account` (a furbosim account view): credentials, then its code."""
    flow = hass.config_entries.flow
    result = await flow.async_init(DOMAIN, context={"source": "user"})
    result = await flow.async_configure(result["flow_id"], {"next_step_id": "furbo"})
    credentials = {"email": account.info["email"], "password": account.info["password"]}
    result = await flow.async_configure(result["flow_id"], credentials)
    if result.get("step_id") == "furbo_code":
        code = (await sim_state(hass, account))["last_code"]
        result = await flow.async_configure(result["flow_id"], {"code": code})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    entry = result["result"]
    assert isinstance(entry, ConfigEntry)
    return entry


async def test_one_mobile_id_across_restart_reload_and_accounts(
    hass: HomeAssistant, furbosim: StartFurbo, freezer: FrozenDateTimeFactory
) -> None:
    sim = await furbosim("--accounts", "2", "--devices", "dog")  # with the e-mailed code step
    first, second = sim.accounts
    entry = await add_account_of(hass, first)
    mobile_id = await async_mobile_id(hass)
    assert (await sim_state(hass, first))["mobile_ids"] == [mobile_id]

    # A restart: the id is read back from HA's storage, not made anew. The reloaded entry's silent
    # re-login (its token expired) carries it, and Furbo, knowing this phone, asks for no code.
    hass.data.pop(_MOBILE_ID)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    await sim_inject(hass, first, expire_tokens=True)
    logins = (await sim_state(hass, first))["counters"]["logins"]
    await next_poll(hass, freezer)
    state = await sim_state(hass, first)
    assert state["counters"]["logins"] == logins + 1
    assert state["mobile_ids"] == [mobile_id]
    assert await async_mobile_id(hass) == mobile_id
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)

    # A second account in the same HA: the same phone.
    await add_account_of(hass, second)
    assert (await sim_state(hass, second))["mobile_ids"] == [mobile_id]
    assert (await sim_state(hass, first))["mobile_ids"] == [mobile_id]
    assert all(e.state is ConfigEntryState.LOADED for e in hass.config_entries.async_entries(DOMAIN))


async def test_event_list_key_missing_logs_one_debug_line_per_poll(
    hass: HomeAssistant,
    furbosim: StartFurbo,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sim = await furbosim("--no-mfa", "--devices", "dog")
    await add_account(hass, sim)
    dog = camera_ids(await sim_state(hass, sim))["FB0030"]
    await sim_inject(hass, sim, events_key=None, add_event={"device_id": dog, "name": "Barking"})
    caplog.set_level(logging.DEBUG, logger="custom_components.camera_hub.vendors.furbo")
    caplog.clear()
    await next_poll(hass, freezer)
    lines = [r for r in caplog.records if "carried no 'Events' list" in r.getMessage()]
    assert len(lines) == 1
    assert lines[0].levelno == logging.DEBUG
    assert lines[0].getMessage().endswith("its fields: EventTypes")
    ours = [r for r in caplog.records if r.name.startswith("custom_components.camera_hub")]
    assert not [r for r in ours if r.levelno >= logging.WARNING]
    assert state_of(hass, entity_of(hass, "event", dog, "pet")).state == STATE_UNKNOWN
