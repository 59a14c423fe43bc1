"""camsim ring, the simulated Ring cloud, driven by the unmodified ring_doorbell library over HTTPS.

The simulator runs in its own process (as the integration's tests run it); the library gets an aiohttp
session whose resolver sends Ring's hosts to the simulator and which trusts only its CA
(camsim/ring/client.py), its one injection point.
"""

from __future__ import annotations

import asyncio
import time
import urllib.error
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import aiohttp
import av
import pytest
from ring_doorbell import AuthenticationError, Requires2FAError, Ring, RingError
from ring_doorbell.auth import Auth

from camsim import timestamp
from camsim.ring.client import cloud_session
from scripts.lib.sims import Sim, start_ring_sim, stop_sim

pytestmark = [
    pytest.mark.usefixtures("socket_enabled"),
    # ring_doorbell 0.9.14 passes aiohttp's deprecated `auth=`; not ours to fix.
    pytest.mark.filterwarnings("ignore:The 'auth' parameter is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning"),
]

DEADLINE = 10.0
USER_AGENT = "camsim-tests/1.0"


@pytest.fixture(scope="module")
def module_sim() -> Iterator[Sim]:
    sim = start_ring_sim()
    yield sim
    stop_sim(sim)


@pytest.fixture
def sim(module_sim: Sim) -> Sim:
    module_sim.inject()
    module_sim.inject(two_factor="none")
    return module_sim


@pytest.fixture
async def session(module_sim: Sim) -> AsyncIterator[aiohttp.ClientSession]:
    async with cloud_session(module_sim.info["cloud_file"]) as session:
        yield session


def new_auth(
    session: aiohttp.ClientSession, token: dict[str, Any] | None = None, updates: list[Any] | None = None
) -> Auth:
    updater: Callable[[dict[str, Any]], None] | None = updates.append if updates is not None else None
    return Auth(USER_AGENT, token, updater, hardware_id=str(uuid.uuid4()), http_client_session=session)


async def logged_in(sim: Sim, session: aiohttp.ClientSession, updates: list[Any] | None = None) -> Ring:
    auth = new_auth(session, updates=updates)
    await auth.async_fetch_token(sim.info["email"], sim.info["password"])
    ring = Ring(auth)
    await ring.async_update_data()
    return ring


def device(ring: Ring, kind: str) -> Any:
    return next(d for d in ring.devices().all_devices if d.kind == kind)


async def test_login_without_2fa_lists_every_device_kind(sim: Sim, session: aiohttp.ClientSession) -> None:
    updates: list[Any] = []
    ring = await logged_in(sim, session, updates)

    devices = ring.devices()
    assert [d.model for d in devices.doorbots] == ["Doorbell Pro"]
    assert sorted(d.model for d in devices.stickup_cams) == ["Floodlight Cam Plus", "Stick Up Cam Battery"]
    assert [d.model for d in devices.chimes] == ["Chime"]
    assert {d.id for d in devices.all_devices} == {d["id"] for d in sim.info["devices"]}
    assert updates[0]["scope"] == ["client"]
    assert ring.active_alerts() == []
    paths = [r["path"] for r in sim.state()["requests"]]
    assert "/clients_api/session" in paths
    assert "/clients_api/ring_devices" in paths


async def test_wrong_password_is_an_authentication_error(sim: Sim, session: aiohttp.ClientSession) -> None:
    with pytest.raises(AuthenticationError, match="invalid user credentials"):
        await new_auth(session).async_fetch_token(sim.info["email"], "wrong")


async def test_two_factor_sends_a_code_and_refuses_a_wrong_one(
    sim: Sim, session: aiohttp.ClientSession
) -> None:
    sim.inject(two_factor="sms")
    auth = new_auth(session)
    sent_before = sim.state()["counters"]["codes_sent"]

    with pytest.raises(Requires2FAError):
        await auth.async_fetch_token(sim.info["email"], sim.info["password"])
    state = sim.state()
    code = state["last_code"]
    assert state["counters"]["codes_sent"] == sent_before + 1
    assert code is not None
    assert any(r["path"] == "/oauth/token" and r["status"] == 412 for r in state["requests"])

    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(AuthenticationError, match="Verification Code is invalid or expired"):
        await auth.async_fetch_token(sim.info["email"], sim.info["password"], wrong)

    token = await auth.async_fetch_token(sim.info["email"], sim.info["password"], code)
    assert token["access_token"]
    ring = Ring(auth)
    await ring.async_update_data()
    assert len(ring.devices().video_devices) == 3


async def test_too_many_codes_is_refused_by_the_dependency_service() -> None:
    sim = start_ring_sim("--two-factor", "email", "--devices", "doorbell")
    try:
        async with cloud_session(sim.info["cloud_file"]) as session:
            auth = new_auth(session)
            refusal = None
            for _ in range(11):
                try:
                    await auth.async_fetch_token(sim.info["email"], sim.info["password"])
                except Requires2FAError:
                    continue
                except AuthenticationError as err:
                    refusal = err
                    break
            assert refusal is not None
            assert "too many requests from dependency service" in str(refusal)
            assert sim.state()["counters"]["codes_sent"] == 10
    finally:
        stop_sim(sim)


async def test_an_expired_stored_token_is_refreshed_before_the_first_call(
    sim: Sim, session: aiohttp.ClientSession
) -> None:
    first: list[Any] = []
    await logged_in(sim, session, first)
    stored = dict(first[-1])
    stored["expires_at"] = time.time() - 60  # as if saved yesterday
    refreshes = sim.state()["counters"]["refresh_grants"]

    updates: list[Any] = []
    ring = Ring(new_auth(session, stored, updates))
    await ring.async_update_data()

    assert sim.state()["counters"]["refresh_grants"] == refreshes + 1
    assert updates[-1]["access_token"] != stored["access_token"]
    assert len(ring.devices().all_devices) == 4


async def test_a_401_refreshes_the_token_and_the_next_call_works(
    sim: Sim, session: aiohttp.ClientSession
) -> None:
    updates: list[Any] = []
    ring = await logged_in(sim, session, updates)
    sim.inject(expire_access_tokens=True)

    with pytest.raises(RingError, match="401"):
        await ring.async_update_devices()
    assert len(updates) == 2  # login, then the refresh the 401 caused
    await ring.async_update_devices()
    assert len(ring.devices().all_devices) == 4


async def test_a_revoked_refresh_token_is_an_authentication_error(
    sim: Sim, session: aiohttp.ClientSession
) -> None:
    ring = await logged_in(sim, session)
    sim.inject(expire_access_tokens=True, revoke_refresh_tokens=True)

    with pytest.raises(AuthenticationError):
        await ring.async_update_devices()


async def test_faults_rate_limit_and_html_errors(sim: Sim, session: aiohttp.ClientSession) -> None:
    ring = await logged_in(sim, session)
    sim.inject(fail={"status": 429, "count": 1, "path": "/clients_api/ring_devices"})
    with pytest.raises(RingError, match="429"):
        await ring.async_update_devices()
    await ring.async_update_devices()

    sim.inject(fail={"status": 503, "count": 2, "html": True})
    with pytest.raises(RingError, match="503"):
        await ring.async_update_dings()
    async with session.get("https://api.ring.com/clients_api/ring_devices") as response:
        assert response.status == 503
        assert response.content_type == "text/html"
    statuses = [(r["path"], r["status"]) for r in sim.state()["requests"]]
    assert ("/clients_api/ring_devices", 429) in statuses
    assert ("/clients_api/dings/active", 503) in statuses


async def test_a_stalled_request_times_out_and_the_next_one_is_answered(
    sim: Sim, session: aiohttp.ClientSession
) -> None:
    sim.inject(stall={"seconds": 60, "count": 1, "path": "/groups"})
    with pytest.raises(TimeoutError):
        async with session.get(
            "https://api.ring.com/groups/v1/locations/x/groups", timeout=aiohttp.ClientTimeout(total=0.5)
        ):
            pass
    async with session.get("https://api.ring.com/groups/v1/locations/x/groups") as response:
        assert response.status == 401  # answered (no token sent), no longer stalled


async def test_health_and_history_with_older_than(sim: Sim, session: aiohttp.ClientSession) -> None:
    ring = await logged_in(sim, session)
    doorbell = device(ring, "lpd_v1")
    await doorbell.async_update_health_data()
    assert doorbell.wifi_name == "camsim-wifi"
    assert doorbell.wifi_signal_category == "good"

    history = await doorbell.async_history(limit=10)
    assert [entry["kind"] for entry in history] == ["ding", "motion"]
    assert history[0]["recording"]["status"] == "ready"
    older = await doorbell.async_history(limit=10, older_than=history[0]["id"])
    assert [entry["id"] for entry in older] == [history[1]["id"]]


async def test_a_ding_lands_in_history_and_active_dings(sim: Sim, session: aiohttp.ClientSession) -> None:
    ring = await logged_in(sim, session)
    doorbell = device(ring, "lpd_v1")
    sim.inject(ding={"device_id": doorbell.id})

    history = await doorbell.async_history(limit=1)
    assert history[0]["kind"] == "ding"
    await ring.async_update_dings()
    alerts = ring.active_alerts()
    assert [(a.id, a.doorbot_id, a.kind) for a in alerts] == [(history[0]["id"], doorbell.id, "ding")]


async def test_recordings_are_real_mp4s_carrying_the_event_time(
    sim: Sim, session: aiohttp.ClientSession
) -> None:
    ring = await logged_in(sim, session)
    doorbell = device(ring, "lpd_v1")
    newest = (await doorbell.async_history(limit=1))[0]
    url = await doorbell.async_recording_url(newest["id"])
    assert url is not None

    def first_frame_millis() -> int:
        # The system ffmpeg HA runs does not verify certificates by default; PyAV's bundled one does.
        with av.open(url, timeout=DEADLINE, options={"ca_file": sim.info["ca_file"]}) as container:
            frame = next(container.decode(video=0))
            assert container.streams.video[0].codec_context.name == "h264"
            return timestamp.read(frame)

    created = newest["created_at"].timestamp()
    assert abs(await asyncio.to_thread(first_frame_millis) / 1000 - created) < 1

    downloaded = await ring.async_query(f"/clients_api/dings/{newest['id']}/recording")
    assert downloaded.content[4:8] == b"ftyp"


async def test_wired_snapshot_is_fresh_and_battery_has_none(sim: Sim, session: aiohttp.ClientSession) -> None:
    ring = await logged_in(sim, session)
    asked = time.time()

    picture = await device(ring, "cocoa_floodlight").async_get_snapshot()
    assert picture is not None
    assert timestamp.read(picture) / 1000 > asked
    assert await device(ring, "stickup_cam_lunar").async_get_snapshot() is None
    assert sim.state()["counters"]["snapshots_taken"] >= 1


async def test_light_siren_and_motion_detection(sim: Sim, session: aiohttp.ClientSession) -> None:
    ring = await logged_in(sim, session)
    floodlight = device(ring, "cocoa_floodlight")
    await floodlight.async_set_light(True)
    await floodlight.async_set_siren(30)
    await floodlight.async_set_motion_detection(False)

    await ring.async_update_devices()
    floodlight = device(ring, "cocoa_floodlight")
    assert floodlight.light is True
    assert floodlight.siren > 0
    assert floodlight.motion_detection is False

    await floodlight.async_set_light(False)
    await floodlight.async_set_siren(0)
    await floodlight.async_set_motion_detection(True)
    await ring.async_update_devices()
    floodlight = device(ring, "cocoa_floodlight")
    assert (floodlight.light, floodlight.siren, floodlight.motion_detection) == (False, 0, True)


async def test_devices_added_and_removed_through_the_state_endpoint(
    sim: Sim, session: aiohttp.ClientSession
) -> None:
    ring = await logged_in(sim, session)
    state = sim.inject(add_device={"kind": "stickup_cam_v4", "description": "Garage"})
    garage = next(d for d in state["devices"] if d["description"] == "Garage")

    # The library builds its device objects once per Ring; a new Ring over the same login sees the change.
    fresh = Ring(ring.auth)
    await fresh.async_update_data()
    assert device(fresh, "stickup_cam_v4").name == "Garage"

    sim.inject(remove_device=garage["id"])
    await ring.async_update_devices()
    assert garage["id"] not in ring.devices_data["stickup_cams"]


async def test_push_subscription_is_204_and_recorded(sim: Sim, session: aiohttp.ClientSession) -> None:
    ring = await logged_in(sim, session)
    body = {
        "device": {
            "metadata": {"api_version": "11", "pn_service": "fcm"},
            "os": "android",
            "push_notification_token": "fcm-token-from-test",
        }
    }
    response = await ring.async_query("/clients_api/device", method="PATCH", json=body)
    assert response.status_code == 204
    assert sim.state()["push_subscribed"] is True


@pytest.fixture(scope="module")
def two_accounts() -> Iterator[Sim]:
    """One ringsim serving two accounts, each with the code step."""
    sim = start_ring_sim("--accounts", "2", "--devices", "doorbell,battery", "--two-factor", "sms")
    yield sim
    stop_sim(sim)


async def logged_in_with_code(account: Sim, session: aiohttp.ClientSession) -> tuple[Ring, str]:
    """Log `account` in through its own code; returns the Ring and its access token."""
    auth = new_auth(session)
    with pytest.raises(Requires2FAError):
        await auth.async_fetch_token(account.info["email"], account.info["password"])
    token = await auth.async_fetch_token(
        account.info["email"], account.info["password"], account.state()["last_code"]
    )
    ring = Ring(auth)
    await ring.async_update_data()
    return ring, str(token["access_token"])


async def test_two_accounts_in_one_cloud_have_their_own_logins_codes_and_devices(two_accounts: Sim) -> None:
    first, second = two_accounts.accounts
    async with cloud_session(two_accounts.info["cloud_file"]) as session:
        ring_1, _ = await logged_in_with_code(first, session)
        ring_2, _ = await logged_in_with_code(second, session)
        # The first account's code does not open the second account.
        auth = new_auth(session)
        with pytest.raises(Requires2FAError):
            await auth.async_fetch_token(first.info["email"], first.info["password"])
        with pytest.raises(AuthenticationError, match="Verification Code is invalid"):
            await auth.async_fetch_token(
                second.info["email"], second.info["password"], first.state()["last_code"]
            )

    ids_1 = {d.id for d in ring_1.devices().all_devices}
    ids_2 = {d.id for d in ring_2.devices().all_devices}
    names_1 = {d.name for d in ring_1.devices().all_devices}
    names_2 = {d.name for d in ring_2.devices().all_devices}
    assert first.info["email"] != second.info["email"]
    assert first.info["password"] != second.info["password"]
    assert ids_1 == {d["id"] for d in first.info["devices"]}
    assert ids_2 == {d["id"] for d in second.info["devices"]}
    assert not ids_1 & ids_2
    assert not names_1 & names_2
    assert names_2 == {"Front Door (home 2)", "Back Garden (home 2)"}
    assert two_accounts.info["email"] == first.info["email"]  # the top of the line is the first account


async def test_one_accounts_token_does_not_reach_the_other_accounts_devices(two_accounts: Sim) -> None:
    first, second = two_accounts.accounts
    foreign = second.info["devices"][0]["id"]
    own = first.info["devices"][0]["id"]
    async with cloud_session(two_accounts.info["cloud_file"]) as session:
        ring_1, token_1 = await logged_in_with_code(first, session)
        headers = {"Authorization": f"Bearer {token_1}"}
        api = "https://api.ring.com/clients_api/doorbots"
        async with session.get(f"{api}/{foreign}/health", headers=headers) as response:
            foreign_health = response.status
        async with session.get(f"{api}/{own}/health", headers=headers) as response:
            own_health = response.status
        foreign_ding = second.state()["devices"][0]["id"]
        second_state = second.inject(ding={"device_id": foreign_ding})
        await ring_1.async_update_dings()

    assert (foreign_health, own_health) == (404, 200)
    assert ring_1.active_alerts() == []  # the second account's ding is not the first's
    assert second_state["email"] == second.info["email"]
    assert all(r["path"] != f"/clients_api/doorbots/{foreign}/health" for r in second.state()["requests"])
    assert any(r["path"] == f"/clients_api/doorbots/{foreign}/health" for r in first.state()["requests"])


def test_the_state_endpoint_addresses_an_account_and_refuses_an_unknown_one(two_accounts: Sim) -> None:
    first, second = two_accounts.accounts
    doorbell_2 = second.info["devices"][0]["id"]

    with pytest.raises(urllib.error.HTTPError) as other_account_device:
        first.inject(ding={"device_id": doorbell_2})
    second.inject(ding={"device_id": doorbell_2})
    missing = Sim(
        two_accounts.process,
        {**two_accounts.info, "state_url": f"{two_accounts.info['state_url']}accounts/3/"},
    )
    with pytest.raises(urllib.error.HTTPError) as unknown:
        missing.state()

    assert other_account_device.value.code == 400
    assert unknown.value.code == 404
    assert two_accounts.state()["email"] == first.info["email"]  # `/` is the first account
