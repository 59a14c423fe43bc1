"""TLS to cameras and clouds, through a real HA and the simulators over real sockets.

Tapo: the control API's self-signed certificate is pinned on first contact (trust on first use) and
must stay the same; camsim's `rotate_certificate` gives its control port a new one, as a reset does
(or as a machine answering in the camera's place would). Clouds: our production sessions verify
Ring's and Furbo's certificates, so the simulated clouds' throwaway CA is trusted only through the
development seam.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from http import HTTPStatus
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from homeassistant.components.camera import async_get_image
from homeassistant.config_entries import SOURCE_USER, ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.components.diagnostics import get_diagnostics_for_config_entry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.camera_hub.cameras import CameraRuntime
from custom_components.camera_hub.const import DOMAIN
from custom_components.camera_hub.vendors.furbo.cloud import FurboClient, furbo_cloud, new_mobile_id
from custom_components.camera_hub.vendors.furbo.errors import FurboUnreachable
from custom_components.camera_hub.vendors.ring.cloud import CLOUD_ENV as RING_CLOUD_ENV
from custom_components.camera_hub.vendors.ring.cloud import ring_http_session
from custom_components.camera_hub.vendors.tapo.const import (
    CONF_CERT_PIN,
    CONF_CONTROL_METHOD,
    ISSUE_CERTIFICATE_CHANGED,
    ISSUE_CONTROL_REFUSED,
)
from tests.helpers.camsim import Sim

from .conftest import StartSim, flow_input, mock_entry, setup_entry, sim_inject, sim_state, unload
from .furbo_fixtures import StartFurbo
from .ring_fixtures import StartRing

pytestmark = [
    pytest.mark.usefixtures("socket_enabled"),
    pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning"),
]
INTEGRATION = Path(__file__).resolve().parents[2] / "custom_components" / DOMAIN


# --- helpers ---------------------------------------------------------------------------------


async def certificate_of(hass: HomeAssistant, sim: Sim) -> str:
    """The SHA-256 of the certificate camsim's control port serves right now."""
    certificate: str = (await sim_state(hass, sim))["control_certificate_sha256"]
    assert re.fullmatch(r"[0-9a-f]{64}", certificate)
    return certificate


async def logins(hass: HomeAssistant, sim: Sim) -> tuple[int, int]:
    """Logins the camera has seen (succeeded, failed): a refused certificate must add none."""
    counters = (await sim_state(hass, sim))["counters"]
    return counters["login_ok"], counters["login_failed"]


async def rotate(hass: HomeAssistant, sim: Sim) -> str:
    before = await certificate_of(hass, sim)
    await sim_inject(hass, sim, rotate_certificate=True)
    after = await certificate_of(hass, sim)
    assert after != before
    return after


async def reload(hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()


def camera_of(entry: ConfigEntry[Any]) -> CameraRuntime:
    cameras: dict[str, CameraRuntime] = entry.runtime_data.cameras
    [camera] = cameras.values()
    return camera


def domain_issues(issue_registry: ir.IssueRegistry) -> list[ir.IssueEntry]:
    return [issue for (domain, _), issue in issue_registry.issues.items() if domain == DOMAIN]


async def fix_flow_step(client: Any, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(path, json=body)
    assert response.status == HTTPStatus.OK, await response.text()
    result: dict[str, Any] = await response.json()
    return result


async def add_through_flow(hass: HomeAssistant, sim: Sim) -> ConfigEntry[Any]:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"next_step_id": "tapo"})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], flow_input(sim))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    entry: ConfigEntry[Any] = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    return entry


async def assert_streams(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, entry: ConfigEntry[Any]
) -> None:
    """Live view does not depend on the control API: a picture comes from the RTSP stream."""
    camera = entity_registry.async_get_entity_id("camera", DOMAIN, f"{entry.unique_id}_hd")
    assert camera is not None
    image = await async_get_image(hass, camera)
    assert image.content[:2] == b"\xff\xd8"


async def set_privacy(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, entry: ConfigEntry[Any]
) -> None:
    switch = entity_registry.async_get_entity_id("switch", DOMAIN, f"{entry.unique_id}_privacy")
    assert switch is not None
    await hass.services.async_call("switch", "turn_on", {"entity_id": switch}, blocking=True)


# --- Tapo: trust on first use ----------------------------------------------------------------


async def test_first_setup_pins_and_a_reload_with_the_same_certificate_works(
    hass: HomeAssistant,
    camsim: StartSim,
    issue_registry: ir.IssueRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    sim = await camsim()

    entry = await add_through_flow(hass, sim)

    pinned = await certificate_of(hass, sim)
    assert entry.data[CONF_CERT_PIN] == pinned
    await reload(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    assert entry.data[CONF_CERT_PIN] == pinned
    assert camera_of(entry).backend.control_method == "kasa"
    assert domain_issues(issue_registry) == []
    await set_privacy(hass, entity_registry, entry)
    assert (await sim_state(hass, sim))["privacy"] is True
    await unload(hass, entry)


@pytest.mark.parametrize(("firmware", "method"), [("secure", "kasa"), ("legacy", "legacy"), ("tpap", "tpap")])
async def test_a_changed_certificate_refuses_control_keeps_the_stream_and_raises_a_repair(
    hass: HomeAssistant,
    camsim: StartSim,
    issue_registry: ir.IssueRegistry,
    entity_registry: er.EntityRegistry,
    firmware: str,
    method: str,
) -> None:
    """python-kasa's connection is checked before its login; pytapo's logins (legacy, TPAP) after a
    probe of our own. Either way no login reaches a camera with another certificate."""
    sim = await camsim("--firmware", firmware)
    pinned = await certificate_of(hass, sim)
    entry = await setup_entry(hass, mock_entry(sim, control_method=method, **{CONF_CERT_PIN: pinned}))
    assert camera_of(entry).backend.control_method == method
    presented = await rotate(hass, sim)
    logins_before = await logins(hass, sim)

    await reload(hass, entry)

    assert entry.state is ConfigEntryState.LOADED
    camera = camera_of(entry)
    assert camera.backend.control_method == "stream_only"
    assert not camera.backend.capabilities.privacy
    assert await logins(hass, sim) == logins_before, "a login went to the changed certificate"
    assert entry.data[CONF_CERT_PIN] == pinned
    assert entry.data[CONF_CONTROL_METHOD] == method  # the next start still costs one login
    await assert_streams(hass, entity_registry, entry)
    issue = issue_registry.async_get_issue(DOMAIN, f"{ISSUE_CERTIFICATE_CHANGED}_{entry.entry_id}")
    assert issue is not None
    assert issue.is_fixable
    assert issue.translation_key == ISSUE_CERTIFICATE_CHANGED
    assert issue.translation_placeholders == {
        "name": entry.title,
        "host": sim.host,
        "pinned": pinned[:8],
        "presented": presented[:8],
    }
    assert issue_registry.async_get_issue(DOMAIN, f"{ISSUE_CONTROL_REFUSED}_{entry.entry_id}") is None

    # The periodic retry checks again but never trusts the new certificate by itself.
    assert not await camera.coordinator.async_retry_limited()
    assert camera.backend.control_method == "stream_only"
    assert entry.data[CONF_CERT_PIN] == pinned
    assert await logins(hass, sim) == logins_before
    await unload(hass, entry)


async def test_a_change_met_while_running_reloads_into_stream_only(
    hass: HomeAssistant,
    camsim: StartSim,
    issue_registry: ir.IssueRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """camsim's rotation ends open connections (as a reset does): the next read opens a new one."""
    sim = await camsim()
    pinned = await certificate_of(hass, sim)
    entry = await setup_entry(hass, mock_entry(sim, control_method="kasa", **{CONF_CERT_PIN: pinned}))
    await rotate(hass, sim)
    logins_before = await logins(hass, sim)

    await camera_of(entry).coordinator.async_refresh()
    await hass.async_block_till_done()  # the reload it scheduled

    assert entry.state is ConfigEntryState.LOADED
    assert camera_of(entry).backend.control_method == "stream_only"
    assert await logins(hass, sim) == logins_before
    assert issue_registry.async_get_issue(DOMAIN, f"{ISSUE_CERTIFICATE_CHANGED}_{entry.entry_id}") is not None
    await assert_streams(hass, entity_registry, entry)
    await unload(hass, entry)


async def test_confirming_the_repair_pins_the_new_certificate_and_control_returns(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    camsim: StartSim,
    issue_registry: ir.IssueRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    assert await async_setup_component(hass, "repairs", {})
    sim = await camsim()
    pinned = await certificate_of(hass, sim)
    entry = await setup_entry(hass, mock_entry(sim, control_method="kasa", **{CONF_CERT_PIN: pinned}))
    presented = await rotate(hass, sim)
    await reload(hass, entry)
    issue_id = f"{ISSUE_CERTIFICATE_CHANGED}_{entry.entry_id}"
    client = await hass_client()

    flow = await fix_flow_step(client, "/api/repairs/issues/fix", {"handler": DOMAIN, "issue_id": issue_id})
    assert flow["step_id"] == "confirm"
    assert flow["description_placeholders"] == {
        "name": entry.title,
        "host": sim.host,
        "pinned": pinned[:8],
        "presented": presented[:8],
    }
    flow = await fix_flow_step(client, f"/api/repairs/issues/fix/{flow['flow_id']}", {})
    assert flow["type"] == "create_entry"
    await hass.async_block_till_done()  # the reload that brings the control entities back

    assert entry.state is ConfigEntryState.LOADED
    assert entry.data[CONF_CERT_PIN] == presented
    assert camera_of(entry).backend.control_method == "kasa"
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
    await set_privacy(hass, entity_registry, entry)
    assert (await sim_state(hass, sim))["privacy"] is True
    await reload(hass, entry)  # and the new pin holds on the next start
    assert camera_of(entry).backend.control_method == "kasa"
    await unload(hass, entry)


async def test_confirming_trusts_only_the_certificate_that_was_shown(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, camsim: StartSim
) -> None:
    assert await async_setup_component(hass, "repairs", {})
    sim = await camsim()
    pinned = await certificate_of(hass, sim)
    entry = await setup_entry(hass, mock_entry(sim, control_method="kasa", **{CONF_CERT_PIN: pinned}))
    await rotate(hass, sim)
    await reload(hass, entry)
    client = await hass_client()
    issue_id = f"{ISSUE_CERTIFICATE_CHANGED}_{entry.entry_id}"
    flow = await fix_flow_step(client, "/api/repairs/issues/fix", {"handler": DOMAIN, "issue_id": issue_id})

    third = await rotate(hass, sim)  # changed again while the owner read the first one
    logins_before = await logins(hass, sim)
    flow = await fix_flow_step(client, f"/api/repairs/issues/fix/{flow['flow_id']}", {})

    assert flow["type"] == "form"
    assert flow["errors"] == {"base": "still_refused"}
    assert await logins(hass, sim) == logins_before
    assert entry.data[CONF_CERT_PIN] == pinned
    assert flow["description_placeholders"]["presented"] == third[:8]  # now shown: the third one
    flow = await fix_flow_step(client, f"/api/repairs/issues/fix/{flow['flow_id']}", {})
    assert flow["type"] == "create_entry"
    await hass.async_block_till_done()
    assert entry.data[CONF_CERT_PIN] == third
    assert camera_of(entry).backend.control_method == "kasa"
    await unload(hass, entry)


@pytest.mark.parametrize(("firmware", "method"), [("secure", "kasa"), ("legacy", "legacy"), ("tpap", "tpap")])
async def test_an_entry_from_before_pinning_pins_on_its_next_contact(
    hass: HomeAssistant, camsim: StartSim, issue_registry: ir.IssueRegistry, firmware: str, method: str
) -> None:
    sim = await camsim("--firmware", firmware)
    entry = mock_entry(sim, control_method=method)
    assert CONF_CERT_PIN not in entry.data

    await setup_entry(hass, entry)

    assert entry.state is ConfigEntryState.LOADED
    assert entry.data[CONF_CERT_PIN] == await certificate_of(hass, sim)
    assert camera_of(entry).backend.control_method == method
    assert domain_issues(issue_registry) == []  # no prompt
    await unload(hass, entry)


async def test_klap_cameras_have_nothing_to_pin(hass: HomeAssistant, camsim: StartSim) -> None:
    """KLAP firmware serves its control API over plain HTTP (docs/security.md)."""
    sim = await camsim("--firmware", "klap")
    entry = await setup_entry(hass, mock_entry(sim, control_method="klap"))

    assert camera_of(entry).backend.control_method == "klap"
    assert CONF_CERT_PIN not in entry.data
    await unload(hass, entry)


async def test_diagnostics_show_only_the_pins_first_digits(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, camsim: StartSim
) -> None:
    sim = await camsim()
    entry = await setup_entry(hass, mock_entry(sim, control_method="kasa"))
    pinned = entry.data[CONF_CERT_PIN]

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)

    [camera] = diagnostics["cameras"]
    assert camera["certificate_pin"] == pinned[:8]
    assert camera["certificate_changed"] is False
    assert diagnostics["entry"]["data"][CONF_CERT_PIN] == "**REDACTED**"
    assert pinned[:9] not in json.dumps(diagnostics)
    await unload(hass, entry)


# --- clouds: always verified -------------------------------------------------------------------


async def test_ring_production_session_refuses_a_certificate_it_cannot_verify(
    hass: HomeAssistant, ringsim: StartRing, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ringsim's certificate is signed by a throwaway CA: trusted through the development seam only."""
    await ringsim()
    cloud_file = Path(os.environ[RING_CLOUD_ENV])
    cloud = json.loads(await hass.async_add_executor_job(cloud_file.read_text))
    address = f"https://{cloud['address'][0]}:{cloud['address'][1]}/"

    simulated = await ring_http_session(hass)
    try:
        async with simulated.session.get(address) as response:
            assert response.status  # trusted through the seam: an HTTP answer, whatever it says
    finally:
        await simulated.close()

    monkeypatch.delenv(RING_CLOUD_ENV)
    production = await ring_http_session(hass)
    assert not production.simulated
    try:
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            async with production.session.get(address):
                pass
    finally:
        await production.close()


async def test_furbo_production_client_refuses_a_certificate_it_cannot_verify(
    hass: HomeAssistant,
    furbosim: StartFurbo,
) -> None:
    await furbosim()
    cloud = await hass.async_add_executor_job(furbo_cloud)
    assert cloud.ca_file is not None
    production = replace(cloud, ca_file=None)  # Furbo's URLs (here furbosim's), the system's trust

    client = FurboClient(async_get_clientsession(hass), production, production.ssl_context())

    with pytest.raises(FurboUnreachable) as caught:
        await client.async_login("someone@example.com", "not-even-sent", new_mobile_id())
    assert isinstance(caught.value.__cause__, aiohttp.ClientConnectorCertificateError)


def test_nothing_outside_the_tapo_pin_turns_certificate_checks_off() -> None:
    """Only the Tapo control API (self-signed, checked by its pin instead) may skip chain checks."""
    allowed = {INTEGRATION / "vendors" / "tapo" / "pinning.py"}
    switches_off = re.compile(
        r"verify_ssl\s*=\s*False|ssl\s*=\s*False|CERT_NONE|verify\s*=\s*False|check_hostname\s*=\s*False"
    )
    offenders = [
        f"{path.relative_to(INTEGRATION)}:{number}"
        for path in sorted(INTEGRATION.rglob("*.py"))
        if path not in allowed
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if switches_off.search(line)
    ]
    assert offenders == []
