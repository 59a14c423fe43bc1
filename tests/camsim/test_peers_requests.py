"""camsim answers what the peers' clients ask a Tapo camera, so side-by-side figures stay fair.

HA core's `tplink` drives cameras through python-kasa's smartcam device (component negotiation,
then each module's getters on every update); the HACS Tapo integration and Camera Hub's older
firmware paths use pytapo. A method camsim did not know would make a peer fail here where it
works on a real camera: camsim counts each one (`counters.unknown_methods`, names under
`unknown_methods`), and these tests keep that at zero. The bench's password-change fault
(`{"cloud_password": …}`) is proved here too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from kasa import AuthenticationError, Credentials, Device, DeviceConfig, Module
from kasa.deviceconfig import DeviceConnectionParameters, DeviceEncryptionType, DeviceFamily
from pytapo import Tapo

from tests.helpers.camsim import Sim, running_sim

pytestmark = [
    pytest.mark.usefixtures("socket_enabled"),
    # pytapo talks to the camera's self-signed certificate without verification, as it must
    pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning"),
]

CLOUD_PASSWORD = "cloudpass"
NEW_PASSWORD = "changed-in-the-app"


def kasa_camera_config(sim: Sim, password: str = CLOUD_PASSWORD) -> DeviceConfig:
    """What HA's tplink stores for a Tapo camera: the smartcam family over the SSL AES transport."""
    return DeviceConfig(
        sim.host,
        port_override=sim.info["control_port"],
        credentials=Credentials("admin", password),
        connection_type=DeviceConnectionParameters(
            DeviceFamily.SmartIpCamera, DeviceEncryptionType.Aes, https=True, login_version=2
        ),
    )


async def connect_and_update(sim: Sim, password: str = CLOUD_PASSWORD) -> Device:
    """`Device.connect` (negotiation and the first update), then a second update as HA's poll."""
    device = await Device.connect(config=kasa_camera_config(sim, password))
    try:
        await device.update()
    finally:
        await device.disconnect()
    return device


@contextmanager
def pytapo_client(sim: Sim, password: str = CLOUD_PASSWORD) -> Iterator[Tapo]:
    tapo = Tapo(sim.host, "admin", password, cloudPassword=password, controlPort=sim.info["control_port"])
    try:
        yield tapo
    finally:
        tapo.close()
        loop = tapo.asyncHandler._loop  # pytapo keeps no public handle on its loop
        if loop is not None:
            loop.close()


def unknown_methods(sim: Sim) -> tuple[int, dict[str, int]]:
    state = sim.state()
    return state["counters"]["unknown_methods"], state["unknown_methods"]


@pytest.mark.parametrize(
    ("model", "modules"),
    [
        ("C200", {Module.Camera, Module.LensMask, Module.Led, Module.PanTilt, Module.Time}),
        ("C100", {Module.Camera, Module.LensMask, Module.Led, Module.Time}),
    ],
)
async def test_python_kasa_connect_and_update_leave_nothing_unanswered(model: str, modules: set[str]) -> None:
    with running_sim("--model", model) as sim:
        device = await connect_and_update(sim)

        assert device.model == model
        assert modules <= set(device.modules)
        assert (Module.PanTilt in device.modules) == (model == "C200")
        # The getters of the motion, person and last-alert modules were answered, so kasa kept them.
        assert device.features["motion_detection"].value is True
        assert device.features["person_detection"].value is False
        assert device.features["rssi"].value == -45
        assert device.modules[Module.Camera].is_on is True
        assert unknown_methods(sim) == (0, {})


async def test_python_kasa_setters_reach_the_camera() -> None:
    with running_sim() as sim:
        device = await Device.connect(config=kasa_camera_config(sim))
        try:
            await device.modules[Module.Camera].set_state(False)
            await device.modules[Module.Led].set_led(False)
        finally:
            await device.disconnect()
        state = sim.state()
        assert (state["privacy"], state["led"]) == (True, False)
        assert unknown_methods(sim) == (0, {})


def test_pytapo_reads_the_cameras_address() -> None:
    with running_sim() as sim, pytapo_client(sim) as tapo:
        wan = tapo.getDeviceIpAddress()
        assert wan["ipaddr"] == sim.host
        assert wan["mac"] == tapo.getBasicInfo()["device_info"]["basic_info"]["mac"]
        assert unknown_methods(sim) == (0, {})


def test_an_unknown_method_is_refused_and_counted() -> None:
    with running_sim() as sim, pytapo_client(sim) as tapo:
        with pytest.raises(Exception, match=r"-40106|UNSUPPORTED_METHOD"):
            tapo.executeFunction("getNoSuchSetting", {"no_such": {"name": "thing"}})
        assert unknown_methods(sim) == (1, {"getNoSuchSetting": 1})


async def test_changed_cloud_password_refuses_the_old_one() -> None:
    with running_sim("--lockout-after", "10") as sim:
        sim.inject(cloud_password=NEW_PASSWORD)

        with pytest.raises(AuthenticationError):
            await connect_and_update(sim)
        device = await connect_and_update(sim, NEW_PASSWORD)

        assert device.model == "C200"
        assert sim.state()["counters"]["login_ok"] >= 1


def tpap_login_error(sim: Sim, password: str) -> str:
    with pytest.raises(Exception) as caught, pytapo_client(sim, password):  # noqa: PT011 - pytapo raises bare Exception
        pass
    return str(caught.value)


async def test_changed_cloud_password_reaches_the_tpap_login() -> None:
    with running_sim("--firmware", "tpap", "--lockout-after", "10") as sim:
        sim.inject(cloud_password=NEW_PASSWORD)

        assert "nvalid authentication" in await asyncio.to_thread(tpap_login_error, sim, CLOUD_PASSWORD)

        def basic_info_with_new_password() -> str:
            with pytapo_client(sim, NEW_PASSWORD) as tapo:
                return str(tapo.transport.method)

        assert await asyncio.to_thread(basic_info_with_new_password) == "tpap"


def test_an_empty_cloud_password_is_refused() -> None:
    with running_sim() as sim:
        with pytest.raises(Exception, match="400"):
            sim.inject(cloud_password="")
        assert sim.state()["counters"]["login_failed"] == 0
