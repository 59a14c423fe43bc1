"""The HA client and the tool functions against a real Home Assistant process, no cameras needed.

The session's HA may hold cameras of other modules (tests/e2e, the bridge's `cameras` fixture): nothing
here assumes it has none.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fastmcp.exceptions import ToolError

from mcp_bridge.__main__ import main
from mcp_bridge.ha_client import HAClient, HAUnreachable, TokenRejected, group_cameras
from mcp_bridge.tools import cameras, media, ptz, system
from scripts.lib.hass import HassProcess, camera_hub_entities, free_port

pytestmark = pytest.mark.usefixtures("socket_enabled")

WRONG_TOKEN = "wrong-token-6f1d3c0e9b8a7f65"


async def test_connects_and_reports_the_ha_version(ha: HAClient) -> None:
    assert ha.ha_version == "2026.10.4"
    config = await ha.config()
    assert config["version"] == "2026.10.4"
    assert config["allowlist_external_dirs"]


async def test_list_cameras_lists_exactly_the_camera_hub_cameras(
    ha: HAClient, real_hass: HassProcess
) -> None:
    main_cameras = {
        entity_id.split(".", 1)[1]
        for entity_id in await camera_hub_entities(real_hass)
        if entity_id.startswith("camera.") and not entity_id.endswith("_sd_stream")
    }
    listed = (await cameras.list_cameras(ha))["cameras"]
    assert {camera.id for camera in listed} == main_cameras


async def test_unknown_camera_gets_an_error_listing_the_candidates(ha: HAClient) -> None:
    with pytest.raises(ToolError, match=r"^No Camera Hub camera is called 'garden'; known cameras: "):
        await media.get_snapshot(ha, "garden")
    with pytest.raises(ToolError, match=r"^No Camera Hub camera is called 'camera.garden'; known cameras: "):
        await ptz.ptz_move(ha, "camera.garden", "left")
    with pytest.raises(ToolError, match=r"^No Camera Hub camera is called 'garden'; known cameras: "):
        await system.reboot_camera(ha, "garden")


async def test_rejected_token_is_one_sentence_without_the_token(
    real_hass: HassProcess, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with HAClient(real_hass.url, WRONG_TOKEN) as client:
        with pytest.raises(TokenRejected) as ws_error:
            await client.ensure_connected()
        with pytest.raises(TokenRejected) as rest_error:
            await client.config()
        with pytest.raises(ToolError) as tool_error:
            await cameras.list_cameras(client)
    for error in (ws_error.value, rest_error.value, tool_error.value):
        assert str(error) == (
            f"Home Assistant at {real_hass.url} rejected the access token; create a new long-lived token in "
            "your HA profile (Security tab) and pass it with HA_TOKEN or --token-file."
        )
    assert tool_error.value.__cause__ is None
    assert WRONG_TOKEN not in caplog.text


async def test_unreachable_ha_is_one_sentence(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    url = f"http://127.0.0.1:{free_port()}"
    async with HAClient(url, WRONG_TOKEN) as client:
        with pytest.raises(HAUnreachable) as error:
            await client.ensure_connected()
        with pytest.raises(ToolError) as tool_error:
            await media.get_snapshot(client, "garden")
    expected = (
        f"Home Assistant at {url} is not reachable; check that it is running and that HA_URL "
        "(or --ha-url) is right."
    )
    assert str(error.value) == expected
    assert str(tool_error.value) == expected
    assert WRONG_TOKEN not in caplog.text


async def test_urls_shown_in_errors_lose_their_userinfo() -> None:
    url = f"http://user:{WRONG_TOKEN}@127.0.0.1:{free_port()}"
    async with HAClient(url, WRONG_TOKEN) as client:
        with pytest.raises(HAUnreachable) as error:
            await client.config()
    assert WRONG_TOKEN not in str(error.value)


async def test_add_camera_returns_the_flows_message(ha: HAClient) -> None:
    # Until the Tapo step lands, the flow aborts; the tool relays the integration's own sentence.
    with pytest.raises(ToolError) as error:
        await system.add_camera(
            ha, "127.0.0.1", "camuser", "campass", "cloudpass", free_port(), free_port(), free_port()
        )
    assert "campass" not in str(error.value)
    assert str(error.value).startswith("Camera Hub could not add the camera: ")


def test_doctor_reports_version_and_prints_config_without_the_token(
    real_hass: HassProcess, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HA_URL", real_hass.url)
    monkeypatch.setenv("HA_TOKEN", real_hass.token)
    assert main(["doctor"]) == 0
    out, err = capsys.readouterr()
    assert f"✓ Home Assistant 2026.10.4 at {real_hass.url} accepted the token." in out
    assert '"mcpServers"' in out
    assert '"HA_TOKEN": "<your long-lived Home Assistant token>"' in out
    assert real_hass.token not in out + err


def test_doctor_with_a_wrong_token_says_so(
    real_hass: HassProcess, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HA_TOKEN", raising=False)
    assert main(["doctor", "--ha-url", real_hass.url, "--token", WRONG_TOKEN]) == 1
    out, err = capsys.readouterr()
    assert "✗ Home Assistant at" in out
    assert "rejected the access token" in out
    assert WRONG_TOKEN not in out + err


def test_cli_without_a_token_explains_how_to_get_one(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HA_TOKEN", raising=False)
    assert main(["--ha-url", "http://127.0.0.1:8123"]) == 2
    assert "No Home Assistant token" in capsys.readouterr().err


def test_http_without_a_bearer_token_file_refuses_to_start(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HA_TOKEN", WRONG_TOKEN)
    assert main(["--transport", "http"]) == 2
    err = capsys.readouterr().err
    assert "Streamable HTTP needs a bearer token" in err
    assert WRONG_TOKEN not in err


def test_cameras_are_grouped_from_the_registries_per_the_entity_contract() -> None:
    devices: list[dict[str, Any]] = [
        {
            "id": "d1",
            "name": "Front door",
            "identifiers": [["camera_hub", "AA:BB"]],
            "config_entries": ["e1"],
            "manufacturer": "TP-Link",
            "model": "C200",
            "disabled_by": None,
        },
        {
            "id": "d2",
            "name": "Garage",
            "identifiers": [["camera_hub", "CC:DD"]],
            "config_entries": ["e2"],
            "manufacturer": "TP-Link",
            "model": "C110",
            "disabled_by": None,
        },
        {"id": "d3", "name": "Hue bridge", "identifiers": [["hue", "x"]], "config_entries": ["e3"]},
    ]
    entities = [
        {"ei": "camera.front_door", "pl": "camera_hub", "di": "d1"},
        {"ei": "button.front_door_pan_left", "pl": "camera_hub", "di": "d1", "tk": "pan_left"},
        {"ei": "button.front_door_pan_right", "pl": "camera_hub", "di": "d1", "tk": "pan_right"},
        {"ei": "button.front_door_tilt_up", "pl": "camera_hub", "di": "d1", "tk": "tilt_up"},
        {"ei": "button.front_door_tilt_down", "pl": "camera_hub", "di": "d1", "tk": "tilt_down"},
        {"ei": "select.front_door_preset", "pl": "camera_hub", "di": "d1", "tk": "preset"},
        {"ei": "switch.front_door_privacy", "pl": "camera_hub", "di": "d1", "tk": "privacy"},
        {"ei": "event.front_door_motion", "pl": "camera_hub", "di": "d1", "tk": "motion"},
        # No translation key (device class restart): known by its unique id `<identifier>_reboot`.
        {"ei": "button.front_door_restart", "pl": "camera_hub", "di": "d1"},
        {"ei": "camera.garage", "pl": "camera_hub", "di": "d2"},
        {"ei": "light.hue", "pl": "hue", "di": "d3"},
    ]
    unique_ids = {"camera.front_door": "AA:BB_hd", "button.front_door_restart": "AA:BB_reboot"}
    front, garage = group_cameras(["e1", "e2"], devices, entities, unique_ids)
    assert front.slug == "front_door"
    assert front.config_entry_id == "e1"
    assert front.capabilities == [
        "snapshot",
        "record",
        "pan",
        "tilt",
        "presets",
        "privacy",
        "reboot",
        "motion_events",
        "events",
    ]
    assert front.entities["reboot"] == "button.front_door_restart"
    assert front.camera_entity == "camera.front_door"
    assert front.event_entities == ["event.front_door_motion"]
    assert garage.capabilities == ["snapshot", "record"]
    assert dict(garage.entities) == {"camera": "camera.garage"}


def test_an_accounts_own_device_is_no_camera_and_a_still_camera_takes_the_pictures() -> None:
    devices: list[dict[str, Any]] = [
        {"id": "h", "name": "demo@furbo.test", "identifiers": [["camera_hub", "furbo-account"]]},
        {"id": "f", "name": "Dog cam", "identifiers": [["camera_hub", "F1"]], "config_entries": ["e1"]},
    ]
    entities = [
        {"ei": "camera.dog_cam_last_event", "pl": "camera_hub", "di": "f", "tk": "last_event"},
        {"ei": "event.dog_cam_pet_event", "pl": "camera_hub", "di": "f", "tk": "pet_event"},
        {"ei": "switch.dog_cam_barking_alert", "pl": "camera_hub", "di": "f", "tk": "smart_alert"},
    ]
    (dog,) = group_cameras(["e1"], devices, entities)
    assert dog.name == "Dog cam"
    assert dog.slug == "dog_cam"
    assert dog.camera_entity == "camera.dog_cam_last_event"
    assert "snapshot" in dog.capabilities
    assert "events" in dog.capabilities
    assert "record" not in dog.capabilities  # a still is no stream to record
