"""camsim's ONVIF server against onvif-zeep-async, called the way Home Assistant's onvif integration does.

The tests share one `python -m camsim tapo` process per module (starting one takes seconds) and talk
to it over real sockets; effects are checked through camsim's state endpoint, not through the ONVIF
answers alone. Tests therefore compare counters and positions with their values before the action.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from onvif import ONVIFCamera, ONVIFError
from zeep.exceptions import Fault, TransportError

from camsim.device import Config, TapoDevice
from tests.helpers.camsim import Sim, running_sim

pytestmark = pytest.mark.usefixtures("socket_enabled")

USERNAME = "camuser"
PASSWORD = "campass"
MOTION_TOPIC = "tns1:RuleEngine/CellMotionDetector/Motion"
DEADLINE_SECONDS = 10.0


@pytest.fixture(scope="module")
def sim() -> Iterator[Sim]:
    with running_sim() as sim:
        yield sim


async def connect(sim: Sim, password: str = PASSWORD) -> ONVIFCamera:
    camera = ONVIFCamera(sim.host, sim.info["onvif_port"], USERNAME, password)
    await camera.update_xaddrs()
    return camera


@pytest.fixture
async def camera(sim: Sim) -> AsyncIterator[ONVIFCamera]:
    camera = await connect(sim)
    yield camera
    await camera.close()


async def main_profile_token(camera: ONVIFCamera) -> str:
    media = await camera.create_media_service()
    return str((await media.GetProfiles())[0].token)


def subcodes(fault: Fault) -> list[str]:
    return [code.localname for code in fault.subcodes or []]


def is_motion(message: Any) -> bool | None:
    """The IsMotion value of a CellMotionDetector notification, None for any other topic."""
    if message.Topic._value_1 != MOTION_TOPIC:
        return None
    items = message.Message._value_1.Data.SimpleItem
    value: str = next(item.Value for item in items if item.Name == "IsMotion")
    return value == "true"


async def next_motion_value(pullpoint: Any) -> bool:
    """Long-poll until a motion notification arrives; fail after DEADLINE_SECONDS."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while (left := deadline - time.monotonic()) > 0:
        response = await pullpoint.PullMessages(
            {"MessageLimit": 1, "Timeout": dt.timedelta(seconds=max(1, int(left)))}
        )
        for message in response.NotificationMessage or []:
            if (value := is_motion(message)) is not None:
                return value
    pytest.fail("no motion notification before the deadline")


# --- device service -----------------------------------------------------------------------------


async def test_device_information_identifies_the_camera(sim: Sim, camera: ONVIFCamera) -> None:
    expected = TapoDevice(Config(host=sim.host))
    devicemgmt = await camera.create_devicemgmt_service()

    info = await devicemgmt.GetDeviceInformation()
    interfaces = await devicemgmt.GetNetworkInterfaces()

    assert (info.Manufacturer, info.Model) == ("tp-link", "C200")
    assert info.FirmwareVersion == expected.firmware_version
    assert info.SerialNumber == expected.device_id
    assert info.HardwareId
    assert interfaces[0].Enabled
    assert interfaces[0].Info.HwAddress == expected.mac.replace("-", ":").lower()


async def test_clock_is_readable_without_credentials(sim: Sim) -> None:
    camera = ONVIFCamera(sim.host, sim.info["onvif_port"], None, None)
    try:
        devicemgmt = await camera.create_devicemgmt_service()
        clock = await devicemgmt.authless_GetSystemDateAndTime()
    finally:
        await camera.close()

    utc = clock.UTCDateTime
    camera_time = dt.datetime(
        utc.Date.Year,
        utc.Date.Month,
        utc.Date.Day,
        utc.Time.Hour,
        utc.Time.Minute,
        utc.Time.Second,
        tzinfo=dt.UTC,
    )
    assert abs(camera_time - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)


async def test_services_are_served_from_onvif_service_as_on_tapo(sim: Sim, camera: ONVIFCamera) -> None:
    base = f"http://{sim.host}:{sim.info['onvif_port']}"

    capabilities = await camera.get_capabilities()

    assert camera.xaddrs["http://www.onvif.org/ver10/media/wsdl"] == f"{base}/onvif/service"
    assert camera.xaddrs["http://www.onvif.org/ver10/events/wsdl"] == f"{base}/onvif/service"
    assert camera.xaddrs["http://www.onvif.org/ver20/ptz/wsdl"] == f"{base}/onvif/service"
    assert capabilities is not None
    assert capabilities["Events"]["WSPullPointSupport"] is True
    assert capabilities["PTZ"]["XAddr"] == f"{base}/onvif/service"


async def test_every_request_is_counted(sim: Sim, camera: ONVIFCamera) -> None:
    before = sim.state()["counters"]["onvif_requests"]
    devicemgmt = await camera.create_devicemgmt_service()

    await devicemgmt.GetScopes()
    await devicemgmt.GetDeviceInformation()

    assert sim.state()["counters"]["onvif_requests"] == before + 2


# --- authentication and failures ----------------------------------------------------------------


async def test_wrong_password_is_an_auth_fault(sim: Sim) -> None:
    camera = await connect(sim, password="not-the-password")
    try:
        devicemgmt = await camera.create_devicemgmt_service()
        with pytest.raises(Fault) as raised:
            await devicemgmt.GetDeviceInformation()
    finally:
        await camera.close()

    assert "NotAuthorized" in subcodes(raised.value)


async def test_unknown_operation_is_action_not_supported(camera: ONVIFCamera) -> None:
    devicemgmt = await camera.create_devicemgmt_service()

    with pytest.raises(Fault) as raised:
        await devicemgmt.GetDNS()

    assert "ActionNotSupported" in subcodes(raised.value)


async def test_offline_camera_answers_nothing(sim: Sim, camera: ONVIFCamera) -> None:
    devicemgmt = await camera.create_devicemgmt_service()

    sim.inject(offline=True)
    with pytest.raises(TransportError):
        await devicemgmt.GetDeviceInformation()
    sim.inject()

    assert (await devicemgmt.GetDeviceInformation()).Model == "C200"


# --- media service ------------------------------------------------------------------------------


async def test_profiles_are_main_and_minor_stream(camera: ONVIFCamera) -> None:
    media = await camera.create_media_service()

    profiles = await media.GetProfiles()

    assert [p.Name for p in profiles] == ["mainStream", "minorStream"]
    sizes = [
        (p.VideoEncoderConfiguration.Resolution.Width, p.VideoEncoderConfiguration.Resolution.Height)
        for p in profiles
    ]
    assert sizes == [(640, 360), (320, 180)]
    assert {p.VideoEncoderConfiguration.Encoding for p in profiles} == {"H264"}
    assert all(p.PTZConfiguration.DefaultContinuousPanTiltVelocitySpace for p in profiles)


async def test_stream_uris_point_at_rtsp_and_are_counted(sim: Sim, camera: ONVIFCamera) -> None:
    media = await camera.create_media_service()
    before = sim.state()["counters"]["get_stream_uri"]
    uris = []

    for profile in await media.GetProfiles():
        request = media.create_type("GetStreamUri")
        request.ProfileToken = profile.token
        request.StreamSetup = {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}
        uris.append((await media.GetStreamUri(request)).Uri)

    assert uris == sim.info["rtsp"]
    assert sim.state()["counters"]["get_stream_uri"] == before + 2


async def test_no_onvif_snapshot_like_a_real_tapo(camera: ONVIFCamera) -> None:
    media = await camera.create_media_service()

    capabilities = await media.GetServiceCapabilities()

    assert capabilities.SnapshotUri is False
    assert await camera.get_snapshot_uri(await main_profile_token(camera)) is None


# --- PTZ ----------------------------------------------------------------------------------------


async def test_continuous_move_then_stop_pans_the_motor(sim: Sim, camera: ONVIFCamera) -> None:
    token = await main_profile_token(camera)
    ptz = await camera.create_ptz_service()
    await ptz.GotoHomePosition({"ProfileToken": token})

    await ptz.ContinuousMove({"ProfileToken": token, "Velocity": {"PanTilt": {"x": 0.5, "y": 0.0}}})
    await ptz.Stop({"ProfileToken": token, "PanTilt": True, "Zoom": False})
    status = await ptz.GetStatus({"ProfileToken": token})

    assert sim.state()["pan"] > 0
    assert status.MoveStatus.PanTilt == "IDLE"


async def test_presets_and_home_move_the_shared_motor(sim: Sim, camera: ONVIFCamera) -> None:
    token = await main_profile_token(camera)
    ptz = await camera.create_ptz_service()

    await ptz.AbsoluteMove({"ProfileToken": token, "Position": {"PanTilt": {"x": 0.5, "y": 0.0}}})
    # zeep unwraps a response of one element: SetPreset returns the token itself.
    preset = await ptz.SetPreset({"ProfileToken": token, "PresetName": "door"})
    assert sim.state()["presets"] == {preset: "door"}
    assert [(p.token, p.Name) for p in await ptz.GetPresets({"ProfileToken": token})] == [(preset, "door")]

    await ptz.GotoHomePosition({"ProfileToken": token})
    assert (sim.state()["pan"], sim.state()["tilt"]) == (0, 0)

    await ptz.GotoPreset({"ProfileToken": token, "PresetToken": preset})
    assert sim.state()["pan"] == 85

    await ptz.RemovePreset({"ProfileToken": token, "PresetToken": preset})
    assert sim.state()["presets"] == {}
    with pytest.raises(Fault):
        await ptz.GotoPreset({"ProfileToken": token, "PresetToken": preset})


async def test_fixed_camera_has_no_ptz_service() -> None:
    with running_sim("--model", "C100") as sim:
        camera = await connect(sim)
        try:
            media = await camera.create_media_service()
            profiles = await media.GetProfiles()
            capabilities = await camera.get_capabilities()
            with pytest.raises(ONVIFError):
                await camera.create_ptz_service()
        finally:
            await camera.close()

    assert "http://www.onvif.org/ver20/ptz/wsdl" not in camera.xaddrs
    assert capabilities is not None
    assert capabilities.get("PTZ") is None
    assert all(p.PTZConfiguration is None for p in profiles)


# --- events -------------------------------------------------------------------------------------


async def test_motion_reaches_a_pullpoint_subscriber(sim: Sim, camera: ONVIFCamera) -> None:
    manager = await camera.create_pullpoint_manager(dt.timedelta(seconds=60), lambda: None)
    pullpoint = manager.get_service()
    try:
        # A new subscription first reports the current state.
        assert await next_motion_value(pullpoint) is False

        sim.inject(motion=True)
        assert await next_motion_value(pullpoint) is True

        sim.inject(motion=False)
        assert await next_motion_value(pullpoint) is False
    finally:
        await manager.shutdown()

    # Unsubscribe ended the subscription on the camera.
    with pytest.raises(Fault):
        await pullpoint.PullMessages({"MessageLimit": 1, "Timeout": dt.timedelta(seconds=1)})


async def test_pull_messages_without_events_answers_empty_after_its_timeout(camera: ONVIFCamera) -> None:
    manager = await camera.create_pullpoint_manager(dt.timedelta(seconds=60), lambda: None)
    pullpoint = manager.get_service()
    try:
        assert await next_motion_value(pullpoint) is False
        response = await pullpoint.PullMessages({"MessageLimit": 10, "Timeout": dt.timedelta(seconds=1)})
    finally:
        await manager.shutdown()

    assert not response.NotificationMessage
    assert response.TerminationTime > response.CurrentTime
