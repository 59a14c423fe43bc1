"""Furbo accounts through the real config flow and setup, against furbosim (`python -m camsim furbo`)
as its own process over real sockets; our own client, unmocked, reaches it through the one seam."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant import config_entries
from homeassistant.components.camera import async_get_image
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers import translation
from pytest_homeassistant_custom_component.components.diagnostics import get_diagnostics_for_config_entry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.camera_hub.const import DOMAIN
from custom_components.camera_hub.vendors.furbo.connection import async_mobile_id
from custom_components.camera_hub.vendors.furbo.const import (
    CONF_ACCOUNT_ID,
    CONF_ENC_PASSWORD,
    CONF_EVENT_INTERVAL,
    CONF_TOKEN,
)
from scripts.lib.sims import Sim

from .conftest import sim_inject, sim_state, state_of
from .furbo_fixtures import StartFurbo
from .furbo_fixtures import next_furbo_poll as next_poll

EMAIL = "demo@furbo.test"
PASSWORD = "furbopass"
EVENTS_PATH = "/furbo_event/v2/list"

# Our client opens real sockets to furbosim on 127.0.0.1.
pytestmark = pytest.mark.usefixtures("socket_enabled")


async def _start_flow(hass: HomeAssistant) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": config_entries.SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert "furbo" in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"next_step_id": "furbo"})
    assert result["step_id"] == "furbo"
    return dict(result)


async def add_account(hass: HomeAssistant, sim: Sim, password: str = PASSWORD) -> dict[str, Any]:
    """Through the real flow: credentials, then the e-mailed code (read from furbosim) if asked."""
    result = await _start_flow(hass)
    result = dict(
        await hass.config_entries.flow.async_configure(
            result["flow_id"], {"email": EMAIL, "password": password}
        )
    )
    if result.get("step_id") == "furbo_code":
        code = (await sim_state(hass, sim))["last_code"]
        result = dict(await hass.config_entries.flow.async_configure(result["flow_id"], {"code": code}))
    await hass.async_block_till_done()
    return result


async def test_flow_without_code_creates_account_with_devices_and_models(
    hass: HomeAssistant, furbosim: StartFurbo, device_registry: dr.DeviceRegistry
) -> None:
    sim = await furbosim("--no-mfa")
    result = await add_account(hass, sim)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == EMAIL
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    assert entry.state is ConfigEntryState.LOADED
    assert "password" not in entry.data
    assert PASSWORD not in str(entry.data)
    assert entry.data[CONF_ENC_PASSWORD]
    models = {
        device.model
        for device in dr.async_entries_for_config_entry(device_registry, entry.entry_id)
        if device.via_device_id is not None
    }
    assert models == {"Furbo 360", "Furbo 360 Cat", "Furbo Mini Cat"}
    assert (await sim_state(hass, sim))["counters"]["codes_sent"] == 0


async def test_flow_with_code_wrong_code_then_right(hass: HomeAssistant, furbosim: StartFurbo) -> None:
    sim = await furbosim("--devices", "dog")
    result = await _start_flow(hass)
    result = dict(
        await hass.config_entries.flow.async_configure(
            result["flow_id"], {"email": EMAIL, "password": PASSWORD}
        )
    )
    assert result["step_id"] == "furbo_code"
    state = await sim_state(hass, sim)
    assert state["counters"]["codes_sent"] == 1
    code = state["last_code"]
    wrong = "000000" if code != "000000" else "111111"
    result = dict(await hass.config_entries.flow.async_configure(result["flow_id"], {"code": wrong}))
    assert result["step_id"] == "furbo_code"
    assert result["errors"] == {"base": "furbo_invalid_code"}
    result = dict(await hass.config_entries.flow.async_configure(result["flow_id"], {"code": code}))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()


async def test_flow_wrong_password_and_lockout(hass: HomeAssistant, furbosim: StartFurbo) -> None:
    await furbosim("--no-mfa")
    result = await _start_flow(hass)
    result = dict(
        await hass.config_entries.flow.async_configure(
            result["flow_id"], {"email": EMAIL, "password": "nope"}
        )
    )
    assert result["errors"] == {"base": "furbo_invalid_auth"}
    for _ in range(6):
        result = dict(
            await hass.config_entries.flow.async_configure(
                result["flow_id"], {"email": EMAIL, "password": "nope"}
            )
        )
    assert result["errors"] == {"base": "furbo_too_many_attempts"}
    assert int(result["description_placeholders"]["minutes"]) >= 1


async def test_flow_rate_limited(hass: HomeAssistant, furbosim: StartFurbo) -> None:
    sim = await furbosim("--no-mfa")
    await sim_inject(hass, sim, rate_limit={"code": 80002, "time_wait": 30, "count": 1})
    result = await _start_flow(hass)
    result = dict(
        await hass.config_entries.flow.async_configure(
            result["flow_id"], {"email": EMAIL, "password": PASSWORD}
        )
    )
    assert result["errors"] == {"base": "furbo_rate_limited"}
    assert result["description_placeholders"] == {"seconds": "30"}


async def test_alert_switches_read_and_written(
    hass: HomeAssistant, furbosim: StartFurbo, entity_registry: er.EntityRegistry
) -> None:
    sim = await furbosim("--no-mfa", "--devices", "dog,cat")
    await add_account(hass, sim)
    state = await sim_state(hass, sim)
    dog_id = next(d["Id"] for d in state["devices"] if d["ProductId"] == "FB0030")
    entity_id = entity_registry.async_get_entity_id("switch", DOMAIN, f"{dog_id}_alert_Barking")
    assert entity_id is not None
    assert state_of(hass, entity_id).state == "on"
    await hass.services.async_call("switch", "turn_off", {"entity_id": entity_id}, blocking=True)
    assert (await sim_state(hass, sim))["alerts"][dog_id]["Barking"] == "0"
    assert state_of(hass, entity_id).state == "off"
    cat_switches = [
        entry.unique_id
        for entry in er.async_entries_for_config_entry(
            entity_registry, hass.config_entries.async_entries(DOMAIN)[0].entry_id
        )
        if entry.domain == "switch" and "alert_Meowing" in entry.unique_id
    ]
    assert len(cat_switches) == 1


async def test_event_added_arrives_on_next_poll(
    hass: HomeAssistant, furbosim: StartFurbo, freezer: FrozenDateTimeFactory
) -> None:
    sim = await furbosim("--no-mfa", "--devices", "dog")
    await add_account(hass, sim)
    state = await sim_state(hass, sim)
    dog_id = state["devices"][0]["Id"]
    entity_id = er.async_get(hass).async_get_entity_id("event", DOMAIN, f"{dog_id}_pet")
    assert entity_id is not None
    assert state_of(hass, entity_id).state == "unknown"
    await sim_inject(
        hass, sim, add_event={"device_id": dog_id, "name": "Barking", "caption": "barking at the mail"}
    )
    await next_poll(hass, freezer)
    event = state_of(hass, entity_id)
    assert event.attributes["event_type"] == "barking"
    assert event.attributes["caption"] == "barking at the mail"
    assert event.attributes["furbo_type"] == "Barking"
    # When Furbo saw it (an aware ISO time), as the cloud wrote it in the account's zone.
    added = next(e for e in (await sim_state(hass, sim))["events"] if e["caption"] == "barking at the mail")
    taken_at = datetime.fromisoformat(event.attributes["taken_at"])
    assert taken_at.tzinfo is not None
    assert taken_at.astimezone(ZoneInfo("Europe/London")).strftime("%Y-%m-%d %H:%M:%S") == added["local_time"]
    assert event.attributes["thumbnail"].startswith("/api/camera_hub/media/")
    assert "Signature" not in str(event.attributes)


async def test_token_expiry_logs_in_silently(
    hass: HomeAssistant, furbosim: StartFurbo, freezer: FrozenDateTimeFactory
) -> None:
    sim = await furbosim("--devices", "dog")  # with the code step: this MobileId becomes trusted
    await add_account(hass, sim)
    logins = (await sim_state(hass, sim))["counters"]["logins"]
    await sim_inject(hass, sim, expire_tokens=True)
    await next_poll(hass, freezer)
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    assert entry.state is ConfigEntryState.LOADED
    assert not list(hass.config_entries.flow.async_progress_by_handler(DOMAIN))
    assert (await sim_state(hass, sim))["counters"]["logins"] == logins + 1


async def test_code_demanded_on_relogin_starts_reauth_asking_only_the_code(
    hass: HomeAssistant, furbosim: StartFurbo, freezer: FrozenDateTimeFactory
) -> None:
    sim = await furbosim("--devices", "dog")
    await add_account(hass, sim)
    await sim_inject(hass, sim, expire_tokens=True, mfa=True)
    await next_poll(hass, freezer)
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert len(flows) == 1
    assert flows[0]["context"]["source"] == "reauth"
    flow_id = flows[0]["flow_id"]
    refused_logins = (await sim_state(hass, sim))["counters"]["per_path"]["/v5/account/read/login"]
    await next_poll(hass, freezer)  # the refused account does not try again on its own
    assert (await sim_state(hass, sim))["counters"]["per_path"]["/v5/account/read/login"] == refused_logins
    result = dict(await hass.config_entries.flow.async_configure(flow_id))
    assert result["step_id"] == "furbo_reauth_confirm"
    result = dict(await hass.config_entries.flow.async_configure(flow_id, {}))
    assert result["step_id"] == "furbo_code"
    schema: Any = result["data_schema"]
    assert set(schema.schema) == {"code"}
    code = (await sim_state(hass, sim))["last_code"]
    result = dict(await hass.config_entries.flow.async_configure(flow_id, {"code": code}))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert hass.config_entries.async_entries(DOMAIN)[0].state is ConfigEntryState.LOADED


async def test_no_subscription_raises_notice(
    hass: HomeAssistant, furbosim: StartFurbo, issue_registry: ir.IssueRegistry
) -> None:
    sim = await furbosim("--no-mfa", "--devices", "dog", "--no-subscription")
    await add_account(hass, sim)
    issues = [issue for (domain, _), issue in issue_registry.issues.items() if domain == DOMAIN]
    assert [issue.translation_key for issue in issues] == ["furbo_no_subscription"]


async def test_rate_limit_backs_off_with_bounded_requests(
    hass: HomeAssistant, furbosim: StartFurbo, freezer: FrozenDateTimeFactory
) -> None:
    sim = await furbosim("--no-mfa", "--devices", "dog")
    await add_account(hass, sim)
    await sim_inject(
        hass, sim, rate_limit={"code": 80002, "time_wait": 1, "count": 1000, "path": "/furbo_event"}
    )
    before = (await sim_state(hass, sim))["counters"]["per_path"].get("/furbo_event/v2/list", 0)
    # Ten minutes of coordinator ticks: the first poll is refused, then the account waits (60 s,
    # 120 s, 240 s …) instead of asking on every tick.
    for _ in range(10):
        await next_poll(hass, freezer, timedelta(seconds=60))
    after = (await sim_state(hass, sim))["counters"]["per_path"].get("/furbo_event/v2/list", 0)
    assert 1 <= after - before <= 3


async def test_missing_events_key_yields_no_events_no_error(
    hass: HomeAssistant, furbosim: StartFurbo, freezer: FrozenDateTimeFactory
) -> None:
    sim = await furbosim("--no-mfa", "--devices", "dog")
    await add_account(hass, sim)
    dog_id = (await sim_state(hass, sim))["devices"][0]["Id"]
    entity_id = er.async_get(hass).async_get_entity_id("event", DOMAIN, f"{dog_id}_pet")
    assert entity_id is not None
    await sim_inject(hass, sim, events_key=None, add_event={"device_id": dog_id, "name": "Barking"})
    await next_poll(hass, freezer)
    assert state_of(hass, entity_id).state == "unknown"
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    camera = entry.runtime_data.cameras[dog_id]
    assert camera.coordinator.last_update_success
    assert camera.backend.diagnostics()["account"]["events_key_missing"] >= 1


async def test_expired_media_link_is_refetched(hass: HomeAssistant, furbosim: StartFurbo) -> None:
    sim = await furbosim("--no-mfa", "--devices", "dog")
    await add_account(hass, sim)
    dog_id = (await sim_state(hass, sim))["devices"][0]["Id"]
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    backend = entry.runtime_data.cameras[dog_id].backend
    library = backend.media()
    assert library is not None
    items = await library.async_items()
    clip = next(item for item in items if item.id.startswith("event:"))
    await sim_inject(hass, sim, expire_links=True)
    body = await library.async_open(clip.id)
    data = b"".join([chunk async for chunk in body.chunks])
    assert body.content_type == "video/mp4"
    assert b"ftyp" in data[:64]
    picture = await backend.video("hd").picture()
    assert picture is not None
    assert picture.kind == "event"
    assert picture.jpeg[:2] == b"\xff\xd8"


async def test_expired_code_says_so_and_sends_a_new_one(hass: HomeAssistant, furbosim: StartFurbo) -> None:
    sim = await furbosim("--devices", "dog", "--code-ttl", "0")
    result = await _start_flow(hass)
    result = dict(
        await hass.config_entries.flow.async_configure(
            result["flow_id"], {"email": EMAIL, "password": PASSWORD}
        )
    )
    first = (await sim_state(hass, sim))["last_code"]
    result = dict(await hass.config_entries.flow.async_configure(result["flow_id"], {"code": first}))
    assert result["step_id"] == "furbo_code"
    assert result["errors"] == {"base": "furbo_code_expired"}
    state = await sim_state(hass, sim)
    assert state["counters"]["codes_sent"] == 2
    assert result["description_placeholders"]["email"] == EMAIL


async def test_diagnostics_redact_secrets_and_count_requests(
    hass: HomeAssistant, furbosim: StartFurbo, hass_client: ClientSessionGenerator
) -> None:
    sim = await furbosim("--no-mfa", "--devices", "dog")
    await add_account(hass, sim)
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    text = json.dumps(diagnostics)
    secrets = [
        EMAIL,
        entry.data[CONF_ENC_PASSWORD],
        entry.data[CONF_TOKEN],
        entry.data[CONF_ACCOUNT_ID],
        await async_mobile_id(hass),
    ]
    assert not [secret for secret in secrets if secret in text]
    assert "Signature" not in text
    account = diagnostics["cameras"][0]["account"]
    counters = (await sim_state(hass, sim))["counters"]
    # Everything furbosim answered but the config flow's login (its own client) came from the account.
    flow_login = counters["per_path"]["/v5/account/read/login"]
    assert account["requests_last_hour"] == counters["requests_total"] - flow_login


def event_polls(state: dict[str, Any]) -> int:
    """How often the account asked furbosim for new events (once per batched poll)."""
    return int(state["counters"]["per_path"].get(EVENTS_PATH, 0))


async def set_options(hass: HomeAssistant, entry: ConfigEntry, **values: Any) -> dict[str, Any]:
    """The options dialog as the frontend drives it: open, submit (the fields not given keep their
    defaults), and wait for the reload a change causes."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    result = await hass.config_entries.options.async_configure(result["flow_id"], values)
    await hass.async_block_till_done()
    return dict(result)


def form_default(result: dict[str, Any], field: str) -> Any:
    schema: Any = result["data_schema"]
    marker = next(key for key in schema.schema if key == field)
    return marker.default()


async def test_polling_interval_is_an_option_and_the_next_poll_follows_it(
    hass: HomeAssistant, furbosim: StartFurbo, freezer: FrozenDateTimeFactory
) -> None:
    sim = await furbosim("--no-mfa", "--devices", "dog")
    await add_account(hass, sim)
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    opened: dict[str, Any] = dict(await hass.config_entries.options.async_init(entry.entry_id))
    # The core's stream options and, after them, the brand's: Furbo's interval at its default.
    schema: Any = opened["data_schema"]
    assert {"live_stream", "snapshot_max_age", CONF_EVENT_INTERVAL} <= {str(key) for key in schema.schema}
    assert form_default(opened, CONF_EVENT_INTERVAL) == 300
    hass.config_entries.options.async_abort(opened["flow_id"])

    before = event_polls(await sim_state(hass, sim))
    await next_poll(hass, freezer, timedelta(seconds=60))
    await next_poll(hass, freezer, timedelta(seconds=60))
    assert event_polls(await sim_state(hass, sim)) == before, "300 s: no poll two minutes in"

    logins = (await sim_state(hass, sim))["counters"]["logins"]
    result = await set_options(hass, entry, **{CONF_EVENT_INTERVAL: 120})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_EVENT_INTERVAL] == 120
    assert entry.state is ConfigEntryState.LOADED
    dog_id = (await sim_state(hass, sim))["devices"][0]["Id"]
    assert entry.runtime_data.cameras[dog_id].backend.diagnostics()["account"]["event_interval_s"] == 120
    # The reloaded account reuses its session (no login) and polls once as it starts.
    state = await sim_state(hass, sim)
    assert state["counters"]["logins"] == logins
    started = event_polls(state)
    assert started == before + 1

    polls = []
    for _ in range(4):
        await next_poll(hass, freezer, timedelta(seconds=60))
        polls.append(event_polls(await sim_state(hass, sim)) - started)
    assert polls == [0, 1, 1, 2], "every 120 s from the reload"

    again = await hass.config_entries.options.async_init(entry.entry_id)
    assert form_default(dict(again), CONF_EVENT_INTERVAL) == 120
    hass.config_entries.options.async_abort(again["flow_id"])


@pytest.mark.parametrize(
    ("seconds", "error"),
    [
        (59, "furbo_event_interval_too_short"),
        (0, "furbo_event_interval_too_short"),
        (3601, "furbo_event_interval_too_long"),
    ],
)
async def test_polling_interval_out_of_bounds_is_a_field_error(
    hass: HomeAssistant, furbosim: StartFurbo, seconds: int, error: str
) -> None:
    sim = await furbosim("--no-mfa", "--devices", "dog")
    await add_account(hass, sim)
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    options = dict(entry.options)
    result = await set_options(hass, entry, **{CONF_EVENT_INTERVAL: seconds})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_EVENT_INTERVAL: error}
    assert dict(entry.options) == options
    translations = await translation.async_get_translations(hass, "en", "options", [DOMAIN])
    assert translations[f"component.{DOMAIN}.options.error.{error}"]
    # The form keeps what was typed next to the error; the minimum itself is accepted.
    schema: Any = result["data_schema"]
    typed = next(key for key in schema.schema if key == CONF_EVENT_INTERVAL)
    assert typed.description == {"suggested_value": seconds}
    result = dict(
        await hass.config_entries.options.async_configure(result["flow_id"], {CONF_EVENT_INTERVAL: 60})
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_EVENT_INTERVAL] == 60


async def test_interval_stored_before_the_options_hook_keeps_working(
    hass: HomeAssistant, furbosim: StartFurbo
) -> None:
    """Earlier versions stored it under the same options key through Reconfigure: nothing to migrate."""
    sim = await furbosim("--no-mfa", "--devices", "dog")
    await add_account(hass, sim)
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    hass.config_entries.async_update_entry(entry, options={**entry.options, CONF_EVENT_INTERVAL: 900})
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    dog_id = (await sim_state(hass, sim))["devices"][0]["Id"]
    assert entry.runtime_data.cameras[dog_id].backend.diagnostics()["account"]["event_interval_s"] == 900
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert form_default(dict(result), CONF_EVENT_INTERVAL) == 900
    hass.config_entries.options.async_abort(result["flow_id"])


async def test_reconfigure_takes_new_sign_in_details_for_the_same_account(
    hass: HomeAssistant, furbosim: StartFurbo
) -> None:
    sim = await furbosim("--devices", "dog")
    await add_account(hass, sim)
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    stored = entry.data[CONF_ENC_PASSWORD]
    result: dict[str, Any] = dict(
        await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": config_entries.SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
        )
    )
    assert result["step_id"] == "furbo_reconfigure"
    schema: Any = result["data_schema"]
    assert {str(key) for key in schema.schema} == {"email", "password"}, "credentials only, no interval"

    result = dict(
        await hass.config_entries.flow.async_configure(
            result["flow_id"], {"email": EMAIL, "password": "nope"}
        )
    )
    assert result["errors"] == {"base": "furbo_invalid_auth"}

    await sim_inject(hass, sim, mfa=True)
    result = dict(
        await hass.config_entries.flow.async_configure(
            result["flow_id"], {"email": EMAIL, "password": PASSWORD}
        )
    )
    assert result["step_id"] == "furbo_code"
    code = (await sim_state(hass, sim))["last_code"]
    result = dict(await hass.config_entries.flow.async_configure(result["flow_id"], {"code": code}))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "furbo_reconfigured"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.title == EMAIL
    assert entry.data[CONF_ENC_PASSWORD] != stored  # encrypted anew (PKCS#1 v1.5 padding is random)
    assert PASSWORD not in str(entry.data)


async def test_dog_and_cat_vocabularies_readings_and_last_event_picture(
    hass: HomeAssistant, furbosim: StartFurbo, entity_registry: er.EntityRegistry
) -> None:
    sim = await furbosim("--no-mfa", "--devices", "dog,cat")
    await add_account(hass, sim)
    devices = {d["ProductId"]: d["Id"] for d in (await sim_state(hass, sim))["devices"]}

    def entity(platform: str, device_id: str, key: str) -> str:
        entity_id = entity_registry.async_get_entity_id(platform, DOMAIN, f"{device_id}_{key}")
        assert entity_id is not None
        return entity_id

    dog_types = state_of(hass, entity("event", devices["FB0030"], "pet")).attributes["event_types"]
    cat_types = state_of(hass, entity("event", devices["FBC0030"], "pet")).attributes["event_types"]
    assert "barking" in dog_types
    assert "meowing" not in dog_types
    assert "meowing" in cat_types
    assert "barking" not in cat_types
    assert state_of(hass, entity("sensor", devices["FB0030"], "subscription")).state == "active"
    entities = er.async_entries_for_device(entity_registry, _device_of(hass, devices["FB0030"]))
    camera_entity = next(e.entity_id for e in entities if e.domain == "camera")
    image = await async_get_image(hass, camera_entity)
    assert image.content_type == "image/jpeg"
    assert image.content[:2] == b"\xff\xd8"


def _device_of(hass: HomeAssistant, camera_id: str) -> str:
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    device = next(
        device
        for device in dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
        if (DOMAIN, camera_id) in device.identifiers
    )
    return device.id
