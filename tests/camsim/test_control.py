"""camsim's control port against the real client libraries, unmodified.

Each test starts `python -m camsim tapo` in its own process and talks to it over real sockets:
pytapo (synchronous, choosing its transport by itself, as Home Assistant's Tapo integration uses
it) and python-kasa (asynchronous, connecting as a Tapo camera over its SSL AES transport).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import pytest
from kasa import AuthenticationError, Credentials, Device, DeviceConfig, DeviceError, KasaException, Module
from kasa.deviceconfig import DeviceConnectionParameters, DeviceEncryptionType, DeviceFamily
from kasa.exceptions import SmartErrorCode
from pytapo import Tapo

from tests.helpers.camsim import Sim, running_sim

pytestmark = [
    pytest.mark.usefixtures("socket_enabled"),
    # pytapo talks to the camera's self-signed certificate without verification, as it must
    pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning"),
]

CLOUD_PASSWORD = "cloudpass"


@contextmanager
def pytapo_client(sim: Sim, password: str = CLOUD_PASSWORD) -> Iterator[Tapo]:
    """A pytapo client that lets pytapo pick the transport, closed with its private loop."""
    tapo = Tapo(sim.host, "admin", password, cloudPassword=password, controlPort=sim.info["control_port"])
    try:
        yield tapo
    finally:
        tapo.close()
        loop = tapo.asyncHandler._loop  # pytapo keeps no public handle on its loop
        if loop is not None:
            loop.close()


def pytapo_login_error(sim: Sim, password: str = CLOUD_PASSWORD) -> str:
    """The message of pytapo's failed login; async tests run it in a thread (it runs a loop)."""
    with pytest.raises(Exception) as caught, pytapo_client(sim, password):  # noqa: PT011 - pytapo raises bare Exception
        pass
    return str(caught.value)


def kasa_config(sim: Sim, password: str = CLOUD_PASSWORD) -> DeviceConfig:
    return DeviceConfig(
        sim.host,
        port_override=sim.info["control_port"],
        credentials=Credentials("admin", password),
        connection_type=DeviceConnectionParameters(
            DeviceFamily.SmartIpCamera, DeviceEncryptionType.Aes, https=True
        ),
    )


@asynccontextmanager
async def kasa_camera(sim: Sim, password: str = CLOUD_PASSWORD) -> AsyncIterator[Device]:
    device = await Device.connect(config=kasa_config(sim, password))
    try:
        yield device
    finally:
        await device.disconnect()


async def kasa_login_error(sim: Sim, password: str = CLOUD_PASSWORD) -> KasaException:
    with pytest.raises(KasaException) as caught:
        async with kasa_camera(sim, password):
            pass
    return caught.value


def model_of(basic_info: dict[str, Any]) -> str:
    # KLAP firmware answers the flat SMART-device form, the others the camera form.
    info = basic_info.get("device_info", {}).get("basic_info", basic_info)
    return str(info["device_model"])


@pytest.mark.parametrize(
    ("firmware", "transport"),
    [("secure", "pytapo"), ("legacy", "pytapo"), ("klap", "klap"), ("tpap", "tpap")],
)
def test_pytapo_drives_the_camera(firmware: str, transport: str) -> None:
    with running_sim("--firmware", firmware, "--model", "C210") as sim, pytapo_client(sim) as tapo:
        assert tapo.transport.method == transport
        assert model_of(tapo.getBasicInfo()) == "C210"

        tapo.moveMotor(20, 5)
        tapo.moveMotorStep(180)  # one step to the left
        assert (sim.state()["pan"], sim.state()["tilt"]) == (10, 5)

        tapo.savePreset("door")
        assert tapo.getPresets() == {"1": "door"}
        assert sim.state()["presets"] == {"1": "door"}
        tapo.moveMotor(30, 0)
        tapo.setPreset("1")
        assert sim.state()["pan"] == 10
        tapo.deletePreset("1")
        assert sim.state()["presets"] == {}

        tapo.setPrivacyMode(True)
        assert tapo.getPrivacyMode()["enabled"] == "on"
        assert sim.state()["privacy"] is True
        assert sim.state()["counters"]["login_ok"] >= 1


def test_fixed_camera_has_no_presets() -> None:
    with running_sim("--model", "C100") as sim, pytapo_client(sim) as tapo:
        assert tapo.presets == {}
        with pytest.raises(Exception, match="UNSUPPORTED_METHOD"):
            tapo.moveMotor(10, 0)
        assert sim.state()["pan"] == 0


async def test_kasa_connects_as_a_tapo_camera() -> None:
    with running_sim() as sim:
        async with kasa_camera(sim) as camera:
            assert camera.model == "C200"
            url = camera.modules[Module.Camera].stream_rtsp_url(Credentials("camuser", "campass"))
            assert url == f"rtsp://camuser:campass@{sim.host}:554/stream1"

            pan_tilt = camera.modules[Module.PanTilt]
            await pan_tilt.pan(30)
            await pan_tilt.tilt(-10)
            assert (sim.state()["pan"], sim.state()["tilt"]) == (30, -10)

            await camera.modules[Module.LensMask].set_enabled(True)
            await camera.update()
            assert sim.state()["privacy"] is True
            assert camera.modules[Module.Camera].is_on is False


async def test_wrong_cloud_password_is_an_auth_error_in_both_libraries() -> None:
    with running_sim() as sim:
        assert await asyncio.to_thread(pytapo_login_error, sim, "wrong") == "Invalid authentication data"
        # discover and both challenge logins of pytapo's retry each cost an attempt
        assert sim.state()["counters"]["login_failed"] == 3

        assert isinstance(await kasa_login_error(sim, "wrong"), AuthenticationError)
        assert sim.state()["counters"] == sim.state()["counters"] | {"login_ok": 0, "login_failed": 4}


async def test_refused_firmware_fails_every_login() -> None:
    with running_sim("--firmware", "refused") as sim:
        assert await asyncio.to_thread(pytapo_login_error, sim) == "Invalid authentication data"
        assert isinstance(await kasa_login_error(sim), AuthenticationError)
        counters = sim.state()["counters"]
        assert (counters["login_ok"], counters["login_failed"]) == (0, 0)
        assert sim.state()["locked_out_seconds"] == 0


async def test_lockout_suspends_correct_logins_until_unlocked() -> None:
    with running_sim("--lockout-after", "3") as sim:
        for _ in range(3):
            assert isinstance(await kasa_login_error(sim, "wrong"), AuthenticationError)
        assert sim.state()["counters"]["login_failed"] == 3
        assert sim.state()["locked_out_seconds"] > 0

        suspended = await asyncio.to_thread(pytapo_login_error, sim)
        assert suspended.startswith("Temporary Suspension: Try again in ")
        blocked = await kasa_login_error(sim)
        assert isinstance(blocked, DeviceError)
        assert blocked.error_code is SmartErrorCode.DEVICE_BLOCKED
        # answers while suspended do not extend the count
        assert sim.state()["counters"]["login_failed"] == 3

        sim.inject(unlock=True)
        async with kasa_camera(sim) as camera:
            assert camera.model == "C200"
        assert sim.state()["counters"]["login_ok"] == 1


async def test_offline_camera_does_not_answer() -> None:
    with running_sim() as sim:
        sim.inject(offline=True)
        error = await kasa_login_error(sim)
        assert not isinstance(error, (AuthenticationError, DeviceError))
        sim.inject()
        async with kasa_camera(sim) as camera:
            assert camera.model == "C200"
