"""camsim furbo, the simulated Furbo cloud, seen by a plain aiohttp client over HTTPS (trusting only the
simulator's CA), with the simulator in its own process as the integration's tests run it.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import ssl
import time
import urllib.error
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import av
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from camsim import timestamp
from scripts.lib.sims import Sim, start_furbo_sim, stop_sim

pytestmark = pytest.mark.usefixtures("socket_enabled")

APP_AUTHORIZATION = "Basic dG9tb2Z1bnJkOmhhcHB5UGV0MTIz"
DEADLINE = 10.0


@dataclass
class Answer:
    status: int
    body: dict[str, Any]

    @property
    def code(self) -> Any:
        return self.body.get("Code")


class Cloud:
    """What a Furbo client needs: the cloud file's base URLs and key, and a session trusting the CA."""

    def __init__(self, sim: Sim, session: aiohttp.ClientSession) -> None:
        self.sim = sim
        self.session = session
        self.file = json.loads(Path(sim.info["cloud_file"]).read_text())
        key = serialization.load_pem_public_key(self.file["public_key"].encode())
        assert isinstance(key, rsa.RSAPublicKey)
        self.public_key = key
        self.account_id = ""
        self.token = ""

    def encrypt(self, password: str) -> str:
        return (
            base64.b64encode(self.public_key.encrypt(password.encode(), padding.PKCS1v15())).decode() + "\n"
        )

    async def post(
        self, path: str, body: dict[str, Any], *, form: bool = False, base: str = "product"
    ) -> Answer:
        sending: dict[str, Any] = {"data": body} if form else {"json": body}
        async with self.session.post(
            f"{self.file[base]}{path}", headers={"Authorization": APP_AUTHORIZATION}, **sending
        ) as response:
            return Answer(response.status, await response.json(content_type=None))

    async def authed(self, path: str, body: dict[str, Any] | None = None, **kwargs: Any) -> Answer:
        return await self.post(
            path, {"AccountId": self.account_id, "CognitoToken": self.token, **(body or {})}, **kwargs
        )

    async def start_login(self, mobile_id: str, password: str | None = None) -> Answer:
        credentials = {
            "Email": self.sim.info["email"],
            "EncPassword": self.encrypt(password or self.sim.info["password"]),
            "MobileId": mobile_id,
        }
        return await self.post("/v5/account/read/login", credentials)

    async def finish_login(self, mobile_id: str, auth_code: str) -> Answer:
        credentials = {
            "Email": self.sim.info["email"],
            "EncPassword": self.encrypt(self.sim.info["password"]),
            "MobileId": mobile_id,
            "MfaAuthCode": auth_code,
        }
        return await self.post("/v2/account/login", credentials)

    async def login(self, mobile_id: str | None = None) -> str:
        """Log in, through the emailed-code step if the account asks; keeps and returns the MobileId."""
        mobile_id = mobile_id or str(uuid.uuid4()).upper()
        answer = await self.start_login(mobile_id)
        if answer.code == 12101:
            sent = await self.post(
                "/v4/account/mfa/login/send-code", {**_candidate(answer), "Model": "Android"}
            )
            code = self.sim.state()["last_code"]
            verified = await self.post("/v4/account/mfa/verify", {**_candidate(sent), "Code": code})
            answer = await self.finish_login(mobile_id, verified.body["MfaAuthCode"])
        assert answer.status == 200, answer.body
        self.account_id = answer.body["AccountId"]
        self.token = answer.body["CognitoToken"]
        return mobile_id

    async def fetch(self, url: str) -> tuple[int, bytes]:
        async with self.session.get(url) as response:
            return response.status, await response.read()


def _candidate(answer: Answer) -> dict[str, Any]:
    return {"MfaAuthCodeCandidate": answer.body["MfaAuthCodeCandidate"]}


@pytest.fixture(scope="module")
def module_sim() -> Iterator[Sim]:
    sim = start_furbo_sim("--devices", "dog,cat,mini", "--lockout-after", "3", "--lockout-seconds", "600")
    try:
        yield sim
    finally:
        stop_sim(sim)


@pytest.fixture
def sim(module_sim: Sim) -> Iterator[Sim]:
    yield module_sim
    module_sim.inject(mfa=True, subscription=True)
    module_sim.inject()  # every fault off (and the calendar limiter forgets), for the next test


@pytest.fixture
async def cloud(sim: Sim) -> AsyncIterator[Cloud]:
    context = ssl.create_default_context(cafile=sim.info["ca_file"])
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as session:
        yield Cloud(sim, session)


def test_announcement_and_cloud_file(sim: Sim) -> None:
    info = sim.info
    cloud_file = json.loads(Path(info["cloud_file"]).read_text())

    assert info["kind"] == "furbo"
    assert info["env"] == {"CAMERA_HUB_FURBO_CLOUD": info["cloud_file"]}
    assert [(d["name"], d["product_id"]) for d in info["devices"]] == [
        ("Living Room", "FB0030"),
        ("Kitchen", "FBC0030"),
        ("Bedroom", "MC0030"),
    ]
    base = f"https://127.0.0.1:{info['port']}"
    assert (cloud_file["product"], cloud_file["pet_gpt"], cloud_file["event_handler"]) == (base, base, base)
    assert cloud_file["public_key"].startswith("-----BEGIN PUBLIC KEY-----")
    assert cloud_file["ca_file"] == info["ca_file"]


async def test_the_certificate_is_refused_without_the_simulators_ca(sim: Sim) -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await session.post(f"https://127.0.0.1:{sim.info['port']}/v2/account/info")


async def test_calls_without_the_app_authorization_are_refused(cloud: Cloud) -> None:
    async with cloud.session.post(f"{cloud.file['product']}/v5/account/read/login", json={}) as response:
        assert response.status == 401


async def test_login_asks_a_new_mobile_id_for_the_emailed_code_then_trusts_it(cloud: Cloud) -> None:
    mobile_id = str(uuid.uuid4()).upper()
    codes_before = cloud.sim.state()["counters"]["codes_sent"]

    first = await cloud.start_login(mobile_id)
    assert (first.status, first.code) == (400, 12101)
    assert first.body["AccountId"] == cloud.sim.state()["account_id"]

    await cloud.login(mobile_id)
    assert cloud.sim.state()["counters"]["codes_sent"] == codes_before + 1

    again = await cloud.start_login(mobile_id)
    assert again.status == 200
    assert again.body["AccountId"] == cloud.account_id
    assert again.body["CognitoToken"] not in ("", cloud.token)
    assert cloud.sim.state()["counters"]["codes_sent"] == codes_before + 1


async def test_mfa_switch_demands_the_code_again_from_a_trusted_mobile_id(cloud: Cloud) -> None:
    mobile_id = await cloud.login()
    cloud.sim.inject(mfa=True)

    assert (await cloud.start_login(mobile_id)).code == 12101


async def test_login_without_the_code_step(cloud: Cloud) -> None:
    cloud.sim.inject(mfa=False)
    logins_before = cloud.sim.state()["counters"]["logins"]

    answer = await cloud.start_login(str(uuid.uuid4()).upper())

    assert answer.status == 200
    assert set(answer.body) >= {"AccountId", "CognitoToken", "DeviceBindingLimit"}
    assert cloud.sim.state()["counters"]["logins"] == logins_before + 1


async def test_the_first_login_path_also_takes_the_verified_code(cloud: Cloud) -> None:
    """The app's capture sends MfaAuthCode to /v5/account/read/login as well."""
    mobile_id = str(uuid.uuid4()).upper()
    first = await cloud.start_login(mobile_id)
    sent = await cloud.post("/v4/account/mfa/login/send-code", {**_candidate(first), "Model": "Android"})
    verified = await cloud.post(
        "/v4/account/mfa/verify", {**_candidate(sent), "Code": cloud.sim.state()["last_code"]}
    )
    credentials = {
        "Email": "demo@furbo.test",
        "EncPassword": cloud.encrypt("furbopass"),
        "MobileId": mobile_id,
    }

    answer = await cloud.post("/v5/account/read/login", {**credentials, **verified.body})
    reused = await cloud.post("/v5/account/read/login", {**credentials, **verified.body})

    assert answer.status == 200
    assert "CognitoToken" in answer.body
    assert reused.code == 12103  # an MfaAuthCode works once


async def test_a_password_encrypted_with_another_key_is_refused(cloud: Cloud) -> None:
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - the app key's size
    other = other_key.public_key()
    encrypted = base64.b64encode(other.encrypt(b"furbopass", padding.PKCS1v15())).decode()
    body = {"Email": "demo@furbo.test", "EncPassword": encrypted, "MobileId": str(uuid.uuid4()).upper()}

    answer = await cloud.post("/v5/account/read/login", body)

    assert (answer.status, answer.code) == (400, 12002)


async def test_wrong_code_then_stale_candidate(cloud: Cloud) -> None:
    first = await cloud.start_login(str(uuid.uuid4()).upper())
    sent = await cloud.post("/v4/account/mfa/login/send-code", {**_candidate(first), "Model": "Android"})
    code = cloud.sim.state()["last_code"]
    wrong = "000000" if code != "000000" else "111111"

    assert (await cloud.post("/v4/account/mfa/verify", {**_candidate(sent), "Code": wrong})).code == 12102
    # Sending again replaces the candidate: the one the client held is stale now.
    await cloud.post("/v4/account/mfa/login/send-code", {**_candidate(sent), "Model": "Android"})
    stale = await cloud.post(
        "/v4/account/mfa/verify", {**_candidate(sent), "Code": cloud.sim.state()["last_code"]}
    )
    assert (stale.status, stale.code) == (400, 12103)


async def test_wrong_password_is_12002_until_too_many_attempts_lock_the_account(cloud: Cloud) -> None:
    mobile_id = str(uuid.uuid4()).upper()
    for _ in range(3):  # --lockout-after 3
        assert (await cloud.start_login(mobile_id, password="wrong")).code == 12002

    locked = await cloud.start_login(mobile_id)  # the right password, during the cooldown

    assert (locked.status, locked.code) == (400, 80001)
    assert locked.body["TimeWait"] > 0
    cloud.sim.inject()
    assert (await cloud.start_login(mobile_id)).code == 12101


async def test_expired_tokens_are_12002(cloud: Cloud) -> None:
    await cloud.login()
    assert (await cloud.authed("/v2/account/info")).status == 200

    cloud.sim.inject(expire_tokens=True)

    refused = await cloud.authed("/v2/account/info")
    assert (refused.status, refused.code) == (400, 12002)
    assert (
        await cloud.post("/v2/account/info", {"AccountId": cloud.account_id, "CognitoToken": "made-up"})
    ).code == 12002


async def test_account_devices_and_license(cloud: Cloud) -> None:
    await cloud.login()

    info = await cloud.authed("/v2/account/info")
    devices = await cloud.post(f"/v2/account/{cloud.account_id}/device", {"CognitoToken": cloud.token})
    license_on = await cloud.authed("/v3/service/license")
    cloud.sim.inject(subscription=False)
    license_off = await cloud.authed("/v3/service/license")

    assert info.body["Email"] == "demo@furbo.test"
    assert info.body["Timezone"] == "Europe/London"
    assert devices.body["AccountLicenseOn"] is True
    listed = devices.body["DeviceList"]
    assert [(d["Id"], d["ProductId"], d["DeviceName"]) for d in listed] == [
        (d["id"], d["product_id"], d["name"]) for d in cloud.sim.info["devices"]
    ]
    assert all(len(d["Id"]) == 12 for d in listed)
    for device_id, plans in license_on.body["DevicesLicense"].items():
        assert device_id in {d["Id"] for d in listed}
        assert plans[0]["SubscriptionStatus"] == "Active"
    assert all(plans == [] for plans in license_off.body["DevicesLicense"].values())


async def test_alert_settings_follow_the_cameras_vocabulary(cloud: Cloud) -> None:
    await cloud.login()
    dog, cat, _ = (d["id"] for d in cloud.sim.info["devices"])

    dog_alerts = (await cloud.authed("/v5/device/alert-setting", {"DeviceId": dog})).body
    cat_alerts = (await cloud.authed("/v5/device/alert-setting", {"DeviceId": cat})).body
    updated = await cloud.authed(
        "/v5/device/alert-setting/update", {"DeviceId": dog, "Name": "Barking", "Value": "0"}
    )
    cooldown = await cloud.authed(
        "/v5/device/alert-setting/update", {"DeviceId": dog, "Name": "Frequency:Barking", "Value": "3600"}
    )

    assert dog_alerts["Barking"] == "1"
    assert "Meowing" not in dog_alerts
    assert cat_alerts["Meowing"] == "1"
    assert "Barking" not in cat_alerts
    assert updated.body == {"Barking": "0"}
    assert cooldown.body == {"Frequency:Barking": "3600"}
    assert cloud.sim.state()["alerts"][dog]["Barking"] == "0"
    assert (await cloud.authed("/v5/device/alert-setting", {"DeviceId": dog})).body[
        "Frequency:Barking"
    ] == "3600"


@pytest.mark.parametrize(
    ("device", "name", "value"),
    [
        (1, "Barking", "1"),
        (0, "NoSuchAlert", "1"),
        (0, "Barking", "2"),
        (0, "Frequency:Barking", "60"),
        (None, "Barking", "1"),
    ],
)
async def test_alert_update_refuses_unknown_names_values_and_devices(
    cloud: Cloud, device: int | None, name: str, value: str
) -> None:
    await cloud.login()
    device_id = "FFFFFFFFFFFF" if device is None else cloud.sim.info["devices"][device]["id"]

    answer = await cloud.authed(
        "/v5/device/alert-setting/update", {"DeviceId": device_id, "Name": name, "Value": value}
    )

    assert (answer.status, answer.code) == (400, 12001)


async def test_calendar_refuses_a_repeat_call_within_the_window(cloud: Cloud) -> None:
    await cloud.login()
    london_day = cloud.sim.state()["events"][-1]["local_time"][:10]  # the account's timezone

    first = await cloud.authed(
        "/v1/calendar/notable-events/get", {"Date": london_day}, form=True, base="pet_gpt"
    )
    repeat = await cloud.authed(
        "/v1/calendar/notable-events/get", {"Date": london_day}, form=True, base="pet_gpt"
    )
    other_path = await cloud.authed(
        "/v1/calendar/daily-summary/get", {"Date": london_day}, form=True, base="pet_gpt"
    )

    assert first.status == 200
    assert {e["LocalTime"][:10] for e in first.body["Events"]} == {london_day}
    assert all(e["Thumbnail"].startswith(cloud.file["pet_gpt"]) for e in first.body["Events"])
    assert (repeat.status, repeat.code) == (400, 80002)
    assert "TimeWait" in repeat.body
    assert other_path.status == 200
    assert isinstance(other_path.body["Summary"], str)


async def test_calendar_form_endpoints_refuse_json(cloud: Cloud) -> None:
    await cloud.login()

    answer = await cloud.authed("/v1/calendar/notable-events/get", {"Date": "2026-01-01"}, base="pet_gpt")

    assert answer.code == 12002  # the form fields, token included, are not where the cloud reads them


async def test_activity_report_counts_events_per_hour(cloud: Cloud) -> None:
    await cloud.login()
    events = cloud.sim.state()["events"]
    day = events[0]["local_time"][:10]
    expected = sum(1 for e in events if e["local_time"][:10] == day and e["name"] == "Barking")

    report = (await cloud.authed("/v2/calendar/activity-report/get", {"Dates": [day]}, base="pet_gpt")).body[
        day
    ]

    assert len(report["DataTimeList"]) == 24
    assert report["Error"] is None
    assert sum(report["Data"].get("Barking", [0])) == expected


async def test_event_list_with_clips_thumbnails_and_the_vocabulary(cloud: Cloud) -> None:
    await cloud.login()
    dog = cloud.sim.info["devices"][0]["id"]
    added = cloud.sim.inject(
        add_event={"device_id": dog, "name": "Barking", "caption": "barking at the mail"}
    )
    newest = added["events"][-1]

    answer = await cloud.authed(
        "/furbo_event/v2/list",
        {"DeviceIds": [dog], "EventNames": ["Barking", "PersonDetection"], "Limit": 200},
        base="event_handler",
    )
    events = answer.body["Events"]

    assert answer.status == 200
    assert events[0]["Id"] == newest["id"]
    assert events[0]["Caption"] == "barking at the mail"
    assert events[0]["LocalTime"] == newest["local_time"]
    assert {e["DeviceId"] for e in events} == {dog}
    assert {t for e in events for t in e["Types"]} == {"Barking", "PersonDetection"}
    assert answer.body["EventTypes"]["Barking"] == sum(1 for e in events if e["Types"] == ["Barking"])
    assert events[0]["VideoCodec"] == "h264"
    assert events[0]["Videos"][0].split("?")[0].endswith(".mp4")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"DeviceIds": []},
        {"DeviceIds": ["0"]},
        {"DeviceIds": None, "EventNames": ["Barking"]},
        {"EventNames": ["Sneezing"]},
    ],
)
async def test_event_list_refuses_missing_devices_and_unknown_names(
    cloud: Cloud, body: dict[str, Any]
) -> None:
    await cloud.login()
    if body.get("EventNames") == ["Sneezing"]:
        body = {**body, "DeviceIds": [cloud.sim.info["devices"][0]["id"]]}

    answer = await cloud.authed("/furbo_event/v2/list", body, base="event_handler")

    assert (answer.status, answer.code) == (400, 12001)


async def test_event_list_key_can_be_omitted_and_subscription_empties_it(cloud: Cloud) -> None:
    await cloud.login()
    request = {"DeviceIds": [cloud.sim.info["devices"][1]["id"]], "EventNames": ["Meowing", "CatActivity"]}

    cloud.sim.inject(events_key=None)
    omitted = await cloud.authed("/furbo_event/v2/list", request, base="event_handler")
    cloud.sim.inject(events_key="Events", subscription=False)
    unsubscribed = await cloud.authed("/furbo_event/v2/list", request, base="event_handler")

    assert omitted.status == 200
    assert "Events" not in omitted.body
    assert unsubscribed.body["Events"] == []


async def test_media_links_serve_real_files_until_they_expire(cloud: Cloud) -> None:
    await cloud.login()
    cat = cloud.sim.info["devices"][1]["id"]
    added = cloud.sim.inject(add_event={"device_id": cat, "name": "CatActivity"})
    request = {"DeviceIds": [cat], "EventNames": ["CatActivity"], "Limit": 1}
    event = (await cloud.authed("/furbo_event/v2/list", request, base="event_handler")).body["Events"][0]
    assert event["Id"] == added["events"][-1]["id"]

    thumb_status, thumb = await cloud.fetch(event["Thumbnail"])
    clip_status, clip = await cloud.fetch(event["Videos"][0])
    tampered_status, _ = await cloud.fetch(event["Thumbnail"].replace("Signature=", "Signature=x"))
    cloud.sim.inject(expire_links=True)
    expired_status, _ = await cloud.fetch(event["Thumbnail"])
    fresh = (await cloud.authed("/furbo_event/v2/list", request, base="event_handler")).body["Events"][0]
    fresh_status, _ = await cloud.fetch(fresh["Thumbnail"])

    assert thumb_status == 200
    assert thumb[:2] == b"\xff\xd8"
    # The picture carries the event's own time: it is this event's thumbnail.
    assert abs(timestamp.read(thumb) / 1000 - event["CreatedTime"]) < 1
    assert clip_status == 200
    container = av.open(io.BytesIO(clip), "r")
    assert container.streams.video[0].codec_context.name == "h264"
    assert len(list(container.decode(video=0))) > 10
    assert tampered_status == 403
    assert expired_status == 403
    assert fresh_status == 200


async def test_diary_has_a_timelapse_for_each_day_of_the_past_week(cloud: Cloud) -> None:
    await cloud.login()

    answer = await cloud.authed("/doggie_diary/report", {"Language": "en"}, form=True, base="event_handler")
    diaries = answer.body["Diaries"]
    cloud.sim.inject(subscription=False)
    unsubscribed = await cloud.authed(
        "/doggie_diary/report", {"Language": "en"}, form=True, base="event_handler"
    )

    assert answer.body["ResultCode"] == 0
    assert len(diaries) == 7
    assert diaries[0]["DiaryDate"] > diaries[6]["DiaryDate"]
    assert all(diary["IsValid"] for diary in diaries)
    status, body = await cloud.fetch(diaries[0]["TimeLapseUrl"])
    assert status == 200
    assert body[4:8] == b"ftyp"
    assert unsubscribed.body["Diaries"] == []


async def test_forced_rate_limit_and_failure_then_cleared(cloud: Cloud) -> None:
    await cloud.login()
    cloud.sim.inject(rate_limit={"code": 80002, "time_wait": 30, "count": 1, "path": "/v2/account/info"})

    limited = await cloud.authed("/v2/account/info")
    after = await cloud.authed("/v2/account/info")
    cloud.sim.inject(fail={"status": 503, "count": 5, "path": "/v3/service/license"})
    failed = await cloud.authed("/v3/service/license")
    cloud.sim.inject()
    cleared = await cloud.authed("/v3/service/license")

    assert (limited.status, limited.code, limited.body["TimeWait"]) == (400, 80002, 30)
    assert after.status == 200
    assert failed.status == 503
    assert cleared.status == 200


async def test_control_device_and_p2p_answer_like_the_real_cloud(cloud: Cloud) -> None:
    await cloud.login()
    dog = cloud.sim.info["devices"][0]["id"]

    control = await cloud.authed("/v3/account/control_device", {"DeviceId": dog, "Action": "AnythingAtAll"})
    first = await cloud.authed("/v5/device/p2p_connection/get", {"DeviceId": dog})
    second = await cloud.authed("/v5/device/p2p_connection/get", {"DeviceId": dog})

    assert control.body == {"Success": True}
    assert first.body["P2PAccountId"] == dog
    assert first.body["P2PAccountKey"] != second.body["P2PAccountKey"]


def test_state_endpoint_refuses_unknown_keys_and_events(sim: Sim) -> None:
    with pytest.raises(urllib.error.HTTPError) as unknown_key:
        sim.inject(snow=True)
    with pytest.raises(urllib.error.HTTPError) as unknown_name:
        sim.inject(add_event={"device_id": sim.info["devices"][0]["id"], "name": "Sneezing"})

    assert unknown_key.value.code == 400
    assert unknown_name.value.code == 400


async def test_pet_profiles_follow_the_cameras(cloud: Cloud) -> None:
    await cloud.login()

    answer = await cloud.authed("/v3/pet/profile/get", {"LastUpdatedTime": 0})

    assert {pet["Species"] for pet in answer.body["PetProfiles"]} == {"Dog", "Cat"}


async def test_state_counts_and_logs_requests_by_path_without_secrets(cloud: Cloud) -> None:
    before = cloud.sim.state()["counters"]
    await cloud.login()
    await cloud.authed("/v2/account/info")
    await cloud.authed("/v2/account/info")

    state = cloud.sim.state()
    counters = state["counters"]

    assert counters["per_path"]["/v2/account/info"] == before["per_path"].get("/v2/account/info", 0) + 2
    assert counters["requests_total"] >= before["requests_total"] + 3
    assert counters["logins"] == before["logins"] + 1
    assert state["requests"][-1] == {"method": "POST", "path": "/v2/account/info", "status": 200}
    assert cloud.token not in json.dumps(state)


@pytest.fixture(scope="module")
def short_lived_sim() -> Iterator[Sim]:
    """A second account whose codes expire at once and whose tokens and links last a second."""
    sim = start_furbo_sim("--devices", "dog", "--code-ttl", "0", "--token-ttl", "1", "--link-ttl", "1")
    try:
        yield sim
    finally:
        stop_sim(sim)


@pytest.fixture
async def short_lived(short_lived_sim: Sim) -> AsyncIterator[Cloud]:
    context = ssl.create_default_context(cafile=short_lived_sim.info["ca_file"])
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as session:
        yield Cloud(short_lived_sim, session)
    short_lived_sim.inject(mfa=True)


async def wait_until_refused(request: Any) -> Any:
    """Repeat `request()` (a coroutine function) until it stops answering 200; its last answer."""
    deadline = time.monotonic() + DEADLINE
    while (answer := await request()).status == 200:
        assert time.monotonic() < deadline, "still valid long after its lifetime"
        await asyncio.sleep(0.1)
    return answer


async def test_an_expired_code_is_12103(short_lived: Cloud) -> None:
    first = await short_lived.start_login(str(uuid.uuid4()).upper())
    sent = await short_lived.post(
        "/v4/account/mfa/login/send-code", {**_candidate(first), "Model": "Android"}
    )

    code = short_lived.sim.state()["last_code"]
    answer = await short_lived.post("/v4/account/mfa/verify", {**_candidate(sent), "Code": code})

    assert (answer.status, answer.code) == (400, 12103)


async def test_tokens_expire_after_their_ttl(short_lived: Cloud) -> None:
    short_lived.sim.inject(mfa=False)
    await short_lived.login()

    answer = await wait_until_refused(lambda: short_lived.authed("/v2/account/info"))

    assert (answer.status, answer.code) == (400, 12002)


async def test_links_expire_after_their_ttl(short_lived: Cloud) -> None:
    short_lived.sim.inject(mfa=False)
    await short_lived.login()
    dog = short_lived.sim.info["devices"][0]["id"]
    request = {"DeviceIds": [dog], "EventNames": ["Barking"], "Limit": 1}
    event = (await short_lived.authed("/furbo_event/v2/list", request, base="event_handler")).body["Events"][
        0
    ]

    async def fetch_clip() -> Answer:
        status, _ = await short_lived.fetch(event["Videos"][0])
        return Answer(status, {})

    assert (await wait_until_refused(fetch_clip)).status == 403


@pytest.fixture(scope="module")
def two_accounts() -> Iterator[Sim]:
    """One furbosim serving two accounts (each with the emailed-code step)."""
    sim = start_furbo_sim("--accounts", "2", "--devices", "dog,cat")
    try:
        yield sim
    finally:
        stop_sim(sim)


@pytest.fixture
async def two_clouds(two_accounts: Sim) -> AsyncIterator[tuple[Cloud, Cloud]]:
    """A client of each account, both logged in through their own emailed codes."""
    first, second = two_accounts.accounts
    context = ssl.create_default_context(cafile=two_accounts.info["ca_file"])
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as session:
        one, two = Cloud(first, session), Cloud(second, session)
        await one.login()
        await two.login()
        yield one, two


async def test_two_accounts_log_in_separately_and_list_disjoint_cameras(
    two_accounts: Sim, two_clouds: tuple[Cloud, Cloud]
) -> None:
    one, two = two_clouds
    first, second = two_accounts.accounts

    listed_1 = await one.post(f"/v2/account/{one.account_id}/device", {"CognitoToken": one.token})
    listed_2 = await two.post(f"/v2/account/{two.account_id}/device", {"CognitoToken": two.token})
    cameras_1 = {(d["Id"], d["DeviceName"]) for d in listed_1.body["DeviceList"]}
    cameras_2 = {(d["Id"], d["DeviceName"]) for d in listed_2.body["DeviceList"]}

    assert (first.info["email"], first.info["password"]) == ("demo@furbo.test", "furbopass")
    assert (second.info["email"], second.info["password"]) == ("demo+2@furbo.test", "furbopass2")
    assert one.account_id == first.info["account_id"] != two.account_id == second.info["account_id"]
    assert cameras_1 == {(d["id"], d["name"]) for d in first.info["devices"]}
    assert cameras_2 == {(d["id"], d["name"]) for d in second.info["devices"]}
    assert {name for _, name in cameras_2} == {"Living Room (home 2)", "Kitchen (home 2)"}
    assert not {i for i, _ in cameras_1} & {i for i, _ in cameras_2}
    assert not {n for _, n in cameras_1} & {n for _, n in cameras_2}
    assert two_accounts.info["account_id"] == first.info["account_id"]  # the top is the first account


async def test_one_accounts_token_and_code_are_refused_for_the_other(
    two_accounts: Sim, two_clouds: tuple[Cloud, Cloud]
) -> None:
    one, two = two_clouds
    first, second = two_accounts.accounts
    foreign_camera = second.info["devices"][0]["id"]

    crossed_devices = await one.post(f"/v2/account/{two.account_id}/device", {"CognitoToken": one.token})
    crossed_info = await one.post(
        "/v2/account/info", {"AccountId": two.account_id, "CognitoToken": one.token}
    )
    foreign_alerts = await one.authed("/v5/device/alert-setting", {"DeviceId": foreign_camera})
    second.inject(mfa=True)  # the second account asks its trusted MobileIds for a code again
    asked = await two.start_login(str(uuid.uuid4()).upper())
    sent = await two.post("/v4/account/mfa/login/send-code", {**_candidate(asked), "Model": "Android"})
    codes = (first.state()["last_code"], second.state()["last_code"])
    with_first_code = await two.post("/v4/account/mfa/verify", {**_candidate(sent), "Code": codes[0]})

    assert (crossed_devices.status, crossed_devices.code) == (400, 12002)
    assert (crossed_info.status, crossed_info.code) == (400, 12002)
    assert foreign_alerts.code == 12001  # not a camera of the first account
    assert codes[0] != codes[1]
    assert with_first_code.code == 12102


async def test_the_state_endpoint_addresses_an_account(
    two_accounts: Sim, two_clouds: tuple[Cloud, Cloud]
) -> None:
    _, two = two_clouds
    first, second = two_accounts.accounts
    camera_2 = second.info["devices"][0]["id"]

    with pytest.raises(urllib.error.HTTPError) as foreign:
        first.inject(add_event={"device_id": camera_2, "name": "Barking"})
    added = second.inject(add_event={"device_id": camera_2, "name": "Barking"})["events"][-1]
    listed = await two.authed(
        "/furbo_event/v2/list",
        {"DeviceIds": [camera_2], "EventNames": ["Barking"], "Limit": 1},
        base="event_handler",
    )
    thumb_status, thumb = await two.fetch(listed.body["Events"][0]["Thumbnail"])
    missing = Sim(
        two_accounts.process,
        {**two_accounts.info, "state_url": f"{two_accounts.info['state_url']}accounts/3/"},
    )
    with pytest.raises(urllib.error.HTTPError) as unknown:
        missing.state()

    assert foreign.value.code == 400
    assert listed.body["Events"][0]["Id"] == added["id"]
    assert added["id"] not in {event["id"] for event in first.state()["events"]}  # ids are the cloud's
    assert thumb_status == 200
    assert thumb[:2] == b"\xff\xd8"
    assert unknown.value.code == 404
    assert two_accounts.state()["account_id"] == first.info["account_id"]  # `/` is the first account


async def test_an_event_can_be_reported_under_other_types_and_is_still_listed_by_its_name(
    cloud: Cloud,
) -> None:
    """ha-furbo's live sample: Types ["DogActivity"], a name the request vocabulary does not have."""
    await cloud.login()
    dog = cloud.sim.info["devices"][0]["id"]
    added = cloud.sim.inject(
        add_event={"device_id": dog, "name": "DogMoveAbove10Sec", "types": ["DogActivity"]}
    )
    newest = added["events"][-1]["id"]

    asked = {"DeviceIds": [dog], "Limit": 200}
    by_name = await cloud.authed(
        "/furbo_event/v2/list", {**asked, "EventNames": ["DogMoveAbove10Sec"]}, base="event_handler"
    )
    other = await cloud.authed(
        "/furbo_event/v2/list", {**asked, "EventNames": ["Barking"]}, base="event_handler"
    )

    assert next(e for e in by_name.body["Events"] if e["Id"] == newest)["Types"] == ["DogActivity"]
    assert newest not in {e["Id"] for e in other.body["Events"]}
    with pytest.raises(urllib.error.HTTPError) as refused:
        cloud.sim.inject(add_event={"device_id": dog, "name": "Barking", "types": "DogActivity"})
    assert refused.value.code == 400


async def test_an_alert_changed_in_the_app_is_what_the_cloud_answers(cloud: Cloud) -> None:
    await cloud.login()
    dog = cloud.sim.info["devices"][0]["id"]
    cloud.sim.inject(set_alert={"device_id": dog, "name": "Barking", "value": "0"})

    answer = await cloud.authed("/v5/device/alert-setting", {"DeviceId": dog})

    assert answer.body["Barking"] == "0"
    for wrong in ({"name": "Sneezing", "value": "0"}, {"name": "Barking", "value": "2"}):
        with pytest.raises(urllib.error.HTTPError) as refused:
            cloud.sim.inject(set_alert={"device_id": dog, **wrong})
        assert refused.value.code == 400
    cloud.sim.inject(set_alert={"device_id": dog, "name": "Barking", "value": "1"})


async def test_the_state_lists_each_mobile_id_a_login_carried_once(cloud: Cloud) -> None:
    cloud.sim.inject(mfa=False)
    phone, other = str(uuid.uuid4()).upper(), str(uuid.uuid4()).upper()

    await cloud.login(phone)
    await cloud.login(phone)
    await cloud.login(other)

    assert cloud.sim.state()["mobile_ids"][-2:] == [phone, other]
