"""The secrets sweep: one HA with a Tapo camera, a Ring account and a Furbo account, all signed in
with sentinel passwords through the real flows (a wrong sentinel password first, each), used the
way a person does (pictures, diagnostics, a failed login); then no sentinel — neither what the user
typed nor what the clouds handed back (tokens, the push channel's keys) — may appear anywhere a
person, a log collector or a bug report can see it.

Where it looks: every log record at INFO and above from every logger and at DEBUG from Camera Hub's
own (libraries' DEBUG output is theirs: docs/security.md says what they log), exception texts in
those records, flow results (errors and placeholders), entity states and attributes, diagnostics
of every entry and device, repair issues, and everything HA would write to `.storage` except the
config entries, which must hold the credentials.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from homeassistant.components.camera import async_get_image
from homeassistant.config_entries import SOURCE_USER, ConfigEntry
from homeassistant.const import CONF_PASSWORD, EVENT_HOMEASSISTANT_FINAL_WRITE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.camera_hub.const import DOMAIN
from custom_components.camera_hub.vendors.tapo.const import CONF_CLOUD_PASSWORD
from scripts.lib.sims import Sim

from .conftest import StartSim, flow_input, sim_state
from .furbo_fixtures import StartFurbo
from .ring_fixtures import RING_LIBRARY_WARNINGS, StartRing

pytestmark = [
    pytest.mark.usefixtures("socket_enabled"),
    pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning"),
    RING_LIBRARY_WARNINGS,
]

TAPO_PASSWORD = "Sentinel-tapo-account-7QwX"
TAPO_CLOUD_PASSWORD = "Sentinel-tplink-cloud-3KpV"
RING_PASSWORD = "Sentinel-ring-account-9ZrT"
FURBO_PASSWORD = "Sentinel-furbo-account-5MhN"
WRONG_PASSWORD = "Sentinel-wrong-guess-1XcB"
TYPED = (TAPO_PASSWORD, TAPO_CLOUD_PASSWORD, RING_PASSWORD, FURBO_PASSWORD, WRONG_PASSWORD)

# Keys whose values in an entry's data are secrets the clouds or the user handed over.
SECRET_KEY_PARTS = ("password", "token", "credential", "secret", "private", "auth", "cognito", "key")


async def configure(hass: HomeAssistant, flow_id: str, data: dict[str, Any]) -> dict[str, Any]:
    return dict(await hass.config_entries.flow.async_configure(flow_id, data))


async def open_brand_step(hass: HomeAssistant, brand: str) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    return await configure(hass, result["flow_id"], {"next_step_id": brand})


async def add_tapo(hass: HomeAssistant, sim: Sim, flows: list[dict[str, Any]]) -> None:
    form = await open_brand_step(hass, "tapo")
    wrong = await configure(
        hass,
        form["flow_id"],
        flow_input(sim, **{CONF_PASSWORD: WRONG_PASSWORD, CONF_CLOUD_PASSWORD: WRONG_PASSWORD}),
    )
    flows.append(wrong)
    assert wrong["type"] is FlowResultType.FORM
    assert wrong["errors"], wrong
    right = await configure(
        hass,
        form["flow_id"],
        flow_input(sim, **{CONF_PASSWORD: TAPO_PASSWORD, CONF_CLOUD_PASSWORD: TAPO_CLOUD_PASSWORD}),
    )
    flows.append(right)
    assert right["type"] is FlowResultType.CREATE_ENTRY, right


def secrets_in(data: Any, key: str = "") -> Iterator[str]:
    """Every string stored under a secret-looking key, however deep (tokens, push keys)."""
    if isinstance(data, dict):
        for child_key, value in data.items():
            yield from secrets_in(
                value, key if any(p in key for p in SECRET_KEY_PARTS) else str(child_key).lower()
            )
    elif isinstance(data, list):
        for value in data:
            yield from secrets_in(value, key)
    elif isinstance(data, str) and len(data) >= 8 and any(part in key for part in SECRET_KEY_PARTS):
        yield data


def shown_to_frontend(result: dict[str, Any]) -> dict[str, Any]:
    """A flow result without the entry's data (where credentials belong), as HA's flow view sends it."""
    return {
        k: v for k, v in result.items() if k not in {"data", "result", "context", "data_schema", "options"}
    }


def log_text(caplog: pytest.LogCaptureFixture) -> str:
    formatter = logging.Formatter()
    lines = []
    for record in caplog.records:
        lines.append(record.getMessage())
        if record.exc_info:
            lines.append(formatter.formatException(record.exc_info))
    return "\n".join(lines)


async def test_no_secret_leaves_the_config_entries(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
    camsim: StartSim,
    ringsim: StartRing,
    furbosim: StartFurbo,
    device_registry: dr.DeviceRegistry,
    issue_registry: ir.IssueRegistry,
) -> None:
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="custom_components.camera_hub")
    flows: list[dict[str, Any]] = []

    tapo = await camsim("--password", TAPO_PASSWORD, "--cloud-password", TAPO_CLOUD_PASSWORD)
    await add_tapo(hass, tapo, flows)

    ring = await ringsim("--password", RING_PASSWORD, "--two-factor", "sms")
    form = await open_brand_step(hass, "ring")
    wrong = await configure(hass, form["flow_id"], {"email": ring.email, "password": WRONG_PASSWORD})
    flows.append(wrong)
    assert wrong["errors"], wrong
    result = await configure(hass, form["flow_id"], {"email": ring.email, "password": RING_PASSWORD})
    flows.append(result)
    assert str(result["step_id"]).startswith("ring_2fa"), result
    result = await configure(hass, form["flow_id"], {"code": (await ring.state(hass))["last_code"]})
    flows.append(result)
    assert result["type"] is FlowResultType.CREATE_ENTRY, result

    furbo = await furbosim("--password", FURBO_PASSWORD)
    form = await open_brand_step(hass, "furbo")
    wrong = await configure(hass, form["flow_id"], {"email": furbo.info["email"], "password": WRONG_PASSWORD})
    flows.append(wrong)
    assert wrong["errors"], wrong
    result = await configure(
        hass, form["flow_id"], {"email": furbo.info["email"], "password": FURBO_PASSWORD}
    )
    flows.append(result)
    if result.get("step_id") == "furbo_code":
        result = await configure(hass, form["flow_id"], {"code": (await sim_state(hass, furbo))["last_code"]})
        flows.append(result)
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done()

    entries: list[ConfigEntry] = hass.config_entries.async_entries(DOMAIN)
    assert {e.data.get("brand") for e in entries} >= {"tapo", "ring", "furbo"}
    cloud_handed = {s for e in entries for s in secrets_in(dict(e.data)) if s not in TYPED}
    assert cloud_handed, "the clouds' tokens were expected in the entries"
    sentinels = set(TYPED) | cloud_handed

    # Used as a person does: every camera's picture (Tapo's through an RTSP URL holding the password).
    for state in hass.states.async_all("camera"):
        await async_get_image(hass, state.entity_id)
    diagnostics = []
    for entry in entries:
        diagnostics.append(await get_diagnostics_for_config_entry(hass, hass_client, entry))
        for device in dr.async_entries_for_config_entry(device_registry, entry.entry_id):
            diagnostics.append(await get_diagnostics_for_device(hass, hass_client, entry, device))
    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.async_block_till_done()

    seen = {
        "logs": log_text(caplog),
        "flow results": json.dumps([shown_to_frontend(f) for f in flows], default=str),
        "entity states": json.dumps([s.as_dict() for s in hass.states.async_all()], default=str),
        "diagnostics": json.dumps(diagnostics, default=str),
        "repair issues": json.dumps([i.to_json() for i in issue_registry.issues.values()], default=str),
        ".storage": json.dumps(
            {k: v for k, v in hass_storage.items() if k != "core.config_entries"}, default=str
        ),
    }
    leaks = [
        f"{where}: {sentinel[:12]}…"
        for sentinel in sentinels
        for form_of_it in {sentinel, quote(sentinel, safe="")}
        for where, text in seen.items()
        if form_of_it in text
    ]
    assert not leaks, leaks
    assert len(seen["logs"]) > 1000, "the sweep read almost no log: the capture is not working"
