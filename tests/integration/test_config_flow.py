"""The config flow against camsim: vendor menu, Tapo step and errors, DHCP, reauth, reconfigure, options."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from homeassistant.config_entries import SOURCE_DHCP, SOURCE_USER, ConfigEntryState, ConfigFlowResult
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.dhcp import DhcpServiceInfo

from custom_components.camera_hub.const import (
    CONF_AUTH_FAILED,
    CONF_BRAND,
    CONF_LIVE_STREAM,
    CONF_SNAPSHOT_MAX_AGE,
    DOMAIN,
)
from custom_components.camera_hub.vendors import BRANDS
from custom_components.camera_hub.vendors.tapo.const import (
    CONF_ADVANCED,
    CONF_CERT_PIN,
    CONF_CLOUD_PASSWORD,
    CONF_CONTROL_METHOD,
    CONF_CONTROL_PORT,
    CONF_ONVIF_PORT,
    CONF_RTSP_PORT,
)
from tests.helpers.camsim import Sim

from .conftest import (
    CLOUD_PASSWORD,
    PASSWORD,
    USERNAME,
    StartSim,
    flow_input,
    kill,
    mock_entry,
    setup_entry,
    sim_mac,
    sim_state,
    unload,
)

pytestmark = [
    pytest.mark.usefixtures("socket_enabled"),
    # pytapo talks to the camera's self-signed certificate without verification, as it must
    pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning"),
]


async def tapo_form(hass: HomeAssistant) -> ConfigFlowResult:
    """Open the flow and pick Tapo from the vendor menu."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"next_step_id": "tapo"})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "tapo"
    return result


async def submit(hass: HomeAssistant, sim: Sim, **overrides: Any) -> ConfigFlowResult:
    result = await tapo_form(hass)
    return await hass.config_entries.flow.async_configure(result["flow_id"], flow_input(sim, **overrides))


async def unload_all(hass: HomeAssistant) -> None:
    await unload(hass, *hass.config_entries.async_entries(DOMAIN))


async def test_user_step_is_a_vendor_menu(hass: HomeAssistant) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})

    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "user"
    assert result["menu_options"] == list(BRANDS) == ["tapo", "usb", "ring", "furbo"]


@pytest.mark.parametrize(
    ("firmware", "method"),
    # The secure login goes through python-kasa first: it costs the camera's lockout counter one
    # request per attempt where pytapo's costs two (see vendors/tapo_control.py).
    [("secure", "kasa"), ("legacy", "legacy"), ("klap", "klap"), ("tpap", "tpap")],
)
async def test_tapo_creates_an_entry_per_firmware(
    hass: HomeAssistant, camsim: StartSim, firmware: str, method: str
) -> None:
    sim = await camsim("--firmware", firmware)

    result = await submit(hass, sim)

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Tapo C200"
    assert result["result"].unique_id == sim_mac(sim)
    # The control API's certificate is pinned on first contact; KLAP is plain HTTP, nothing to pin.
    certificate = (await sim_state(hass, sim))["control_certificate_sha256"]
    pin = {} if firmware == "klap" else {CONF_CERT_PIN: certificate}
    assert result["data"] == {
        CONF_HOST: sim.host,
        CONF_USERNAME: USERNAME,
        CONF_PASSWORD: PASSWORD,
        CONF_CLOUD_PASSWORD: CLOUD_PASSWORD,
        CONF_CONTROL_PORT: sim.info["control_port"],
        CONF_ONVIF_PORT: sim.info["onvif_port"],
        CONF_RTSP_PORT: sim.info["rtsp_port"],
        CONF_BRAND: "tapo",
        CONF_CONTROL_METHOD: method,
        **pin,
    }
    await hass.async_block_till_done()
    assert result["result"].state is ConfigEntryState.LOADED
    await unload_all(hass)


async def test_wrong_cloud_password(hass: HomeAssistant, camsim: StartSim) -> None:
    sim = await camsim()

    result = await submit(hass, sim, **{CONF_CLOUD_PASSWORD: "not-the-cloud-password"})

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_cloud_password"}
    assert hass.config_entries.async_entries(DOMAIN) == []
    state = await sim_state(hass, sim)
    # No password-carrying login was sent: pytapo checks the camera's proof (device_confirm) of
    # the cloud password first. The discover probes and the challenge still count on the camera.
    assert state["counters"]["login_ok"] == 0
    assert state["counters"]["login_failed"] < 5
    assert state["locked_out_seconds"] == 0


async def test_wrong_camera_account(hass: HomeAssistant, camsim: StartSim) -> None:
    sim = await camsim()

    result = await submit(hass, sim, **{CONF_PASSWORD: "not-the-camera-password"})

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_camera_account"}
    assert hass.config_entries.async_entries(DOMAIN) == []


async def test_nothing_listening(hass: HomeAssistant, camsim: StartSim) -> None:
    """Ports of a camsim that has been stopped: nothing answers there any more."""
    sim = await camsim()
    dead = flow_input(sim)
    await hass.async_add_executor_job(kill, sim)

    result = await tapo_form(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], dead)

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}


async def test_refused_firmware_offers_stream_only(hass: HomeAssistant, camsim: StartSim) -> None:
    sim = await camsim("--firmware", "refused")

    result = await submit(hass, sim)

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "stream_only"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_CONTROL_METHOD] == "stream_only"
    await hass.async_block_till_done()
    assert result["result"].state is ConfigEntryState.LOADED
    # A refused login is not a failed one: nothing counted toward the lockout.
    assert (await sim_state(hass, sim))["counters"]["login_failed"] == 0
    await unload_all(hass)


async def test_locked_out_names_the_minutes_left(hass: HomeAssistant, camsim: StartSim) -> None:
    """Wrong tries lock the camera; the right password then gets "locked_out", not a login.

    camsim counts every login-phase request (discover probes, challenges) as a failed login until
    one succeeds; the first wrong try costs 2 (Camera Hub's discover, python-kasa's challenge), so
    with `--lockout-after 2` it fails on the password and locks the camera, and the second try runs
    into the suspension.
    """
    sim = await camsim("--lockout-after", "2", "--lockout-seconds", "600")
    wrong = {CONF_CLOUD_PASSWORD: "not-the-cloud-password"}

    result = await submit(hass, sim, **wrong)
    assert result["errors"] == {"base": "invalid_cloud_password"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], flow_input(sim, **wrong))
    assert result["errors"] == {"base": "locked_out"}
    state = await sim_state(hass, sim)
    assert state["locked_out_seconds"] > 0

    result = await hass.config_entries.flow.async_configure(result["flow_id"], flow_input(sim))

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "locked_out"}
    assert result["description_placeholders"] == {"minutes": "10"}
    # Camera Hub remembered the suspension and sent no login into it.
    assert (await sim_state(hass, sim))["counters"] == state["counters"]
    assert state["counters"]["login_ok"] == 0


async def test_already_configured_updates_the_host(hass: HomeAssistant, camsim: StartSim) -> None:
    sim = await camsim()
    entry = mock_entry(sim, host="192.0.2.10")
    entry.add_to_hass(hass)

    result = await submit(hass, sim)

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_HOST] == sim.host


def dhcp_info(ip: str, mac: str) -> DhcpServiceInfo:
    """What HA's DHCP watcher passes: the MAC without separators."""
    return DhcpServiceInfo(ip=ip, hostname="tapo_c200", macaddress=mac.replace(":", ""))


async def test_dhcp_discovery_prefills_the_host(hass: HomeAssistant, camsim: StartSim) -> None:
    sim = await camsim()

    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_DHCP}, data=dhcp_info(sim.host, sim_mac(sim))
    )

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "tapo"
    assert result["data_schema"] is not None
    schema = result["data_schema"].schema
    host_key = next(key for key in schema if key == CONF_HOST)
    assert host_key.default() == sim.host
    assert hass.config_entries.flow.async_get(result["flow_id"])["context"]["title_placeholders"] == {
        "name": "tapo_c200"
    }
    result = await hass.config_entries.flow.async_configure(result["flow_id"], flow_input(sim))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == sim_mac(sim)
    await hass.async_block_till_done()
    await unload_all(hass)


async def test_dhcp_discovery_of_a_known_camera_updates_its_host(
    hass: HomeAssistant, camsim: StartSim
) -> None:
    sim = await camsim()
    entry = mock_entry(sim, host="192.0.2.10")
    entry.add_to_hass(hass)

    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_DHCP}, data=dhcp_info("192.0.2.77", sim_mac(sim))
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_HOST] == "192.0.2.77"


async def test_reauth_cloud_password(hass: HomeAssistant, camsim: StartSim) -> None:
    # A high lockout threshold: this test is about the flow; the login budget is test_lockout's.
    sim = await camsim("--lockout-after", "20")
    entry = await setup_entry(hass, mock_entry(sim, cloud_password="old-cloud-password"))
    assert entry.state == ConfigEntryState.SETUP_ERROR
    [flow] = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert flow["context"]["source"] == "reauth"
    # Setup remembered which credential the camera rejected; fixing it clears the mark.
    old_data = {k: v for k, v in entry.data.items() if k != CONF_AUTH_FAILED}

    result = await hass.config_entries.flow.async_configure(flow["flow_id"])
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["reauth_cloud_password", "reauth_camera_account"]
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {"next_step_id": "reauth_cloud_password"}
    )
    assert result["step_id"] == "reauth_cloud_password"
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_CLOUD_PASSWORD: "still-wrong"}
    )
    assert result["errors"] == {"base": "invalid_cloud_password"}
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_CLOUD_PASSWORD: CLOUD_PASSWORD}
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    certificate = (await sim_state(hass, sim))["control_certificate_sha256"]  # pinned on this first contact
    assert entry.data == {
        **old_data,
        CONF_CLOUD_PASSWORD: CLOUD_PASSWORD,
        CONF_CONTROL_METHOD: "kasa",
        CONF_CERT_PIN: certificate,
    }
    assert entry.state == ConfigEntryState.LOADED
    await unload(hass, entry)


async def test_reauth_camera_account(hass: HomeAssistant, camsim: StartSim) -> None:
    sim = await camsim("--lockout-after", "20")
    entry = await setup_entry(hass, mock_entry(sim, password="old-camera-password", control_method="secure"))
    assert entry.state == ConfigEntryState.SETUP_ERROR
    [flow] = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    old_data = {k: v for k, v in entry.data.items() if k != CONF_AUTH_FAILED}

    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {"next_step_id": "reauth_camera_account"}
    )
    assert result["step_id"] == "reauth_camera_account"
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_USERNAME: USERNAME, CONF_PASSWORD: "still-wrong"}
    )
    assert result["errors"] == {"base": "invalid_camera_account"}
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_USERNAME: USERNAME, CONF_PASSWORD: PASSWORD}
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    certificate = (await sim_state(hass, sim))["control_certificate_sha256"]  # pinned on this first contact
    assert entry.data == {**old_data, CONF_PASSWORD: PASSWORD, CONF_CERT_PIN: certificate}
    assert entry.state == ConfigEntryState.LOADED
    await unload(hass, entry)


def reconfigure_input(sim: Sim) -> dict[str, Any]:
    return {
        CONF_HOST: sim.host,
        CONF_ADVANCED: {
            CONF_CONTROL_PORT: sim.info["control_port"],
            CONF_ONVIF_PORT: sim.info["onvif_port"],
            CONF_RTSP_PORT: sim.info["rtsp_port"],
        },
    }


async def test_reconfigure_to_new_ports(hass: HomeAssistant, camsim: StartSim) -> None:
    """The same camera (same MAC) now reached on other ports, as after a new port forwarding."""
    old, new = await camsim(), await camsim()
    entry = await setup_entry(hass, mock_entry(old, control_method="secure"))
    assert entry.state == ConfigEntryState.LOADED

    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], reconfigure_input(new))
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_CONTROL_PORT] == new.info["control_port"]
    assert entry.data[CONF_ONVIF_PORT] == new.info["onvif_port"]
    assert entry.data[CONF_RTSP_PORT] == new.info["rtsp_port"]
    assert entry.state == ConfigEntryState.LOADED
    # The reloaded entry talks to the new camera process.
    assert (await sim_state(hass, new))["counters"]["login_ok"] >= 2
    await unload(hass, entry)


async def test_reconfigure_to_another_camera_aborts(hass: HomeAssistant, camsim: StartSim) -> None:
    mine, other = await camsim(), await camsim("--model", "C100")
    entry = await setup_entry(hass, mock_entry(mine, control_method="secure"))
    old_data = dict(entry.data)

    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], reconfigure_input(other))

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_camera"
    assert entry.data == old_data
    await unload(hass, entry)


async def test_options_flow_stores_and_reloads(hass: HomeAssistant, camsim: StartSim) -> None:
    sim = await camsim()
    entry = await setup_entry(hass, mock_entry(sim, control_method="secure"))
    assert await async_stream_source(hass, "camera.tapo_c200") == stream_url(sim, "stream1")

    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["step_id"] == "init"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_LIVE_STREAM: "sd", CONF_SNAPSHOT_MAX_AGE: 5.0}
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_LIVE_STREAM] == "sd"
    assert entry.options[CONF_SNAPSHOT_MAX_AGE] == 5.0
    assert entry.state == ConfigEntryState.LOADED
    # After the reload the main camera entity streams SD.
    assert await async_stream_source(hass, "camera.tapo_c200") == stream_url(sim, "stream2")
    await unload(hass, entry)


async def async_stream_source(hass: HomeAssistant, entity_id: str) -> str | None:
    from homeassistant.components.camera import async_get_stream_source  # noqa: PLC0415

    return await async_get_stream_source(hass, entity_id)


def stream_url(sim: Sim, path: str) -> str:
    return f"rtsp://{USERNAME}:{PASSWORD}@{sim.host}:{sim.info['rtsp_port']}/{path}"


def closed_port() -> int:
    """A loopback port nothing listens on (the kernel just handed it out and it was closed again)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("camera_password", "rtsp_answers", "error"),
    [
        ("not-the-camera-password", True, "invalid_camera_account"),
        (None, False, "cannot_connect"),
    ],
)
async def test_stream_check_without_control_or_onvif(
    hass: HomeAssistant, camsim: StartSim, camera_password: str | None, rtsp_answers: bool, error: str
) -> None:
    """With control refused and ONVIF off, only the RTSP stream can vouch for the camera account."""
    sim = await camsim("--firmware", "refused")
    data = flow_input(sim)
    data["advanced"][CONF_ONVIF_PORT] = closed_port()
    if camera_password:
        data[CONF_PASSWORD] = camera_password
    if not rtsp_answers:
        data["advanced"][CONF_RTSP_PORT] = closed_port()

    result = await tapo_form(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], data)

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    assert hass.config_entries.async_entries(DOMAIN) == []
