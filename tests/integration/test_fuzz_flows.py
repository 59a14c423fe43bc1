"""Bad input to every config-flow and options field (issue 14, "Bad input"), property-based.

Each brand's steps are driven through HA's own flow manager against the brand's simulator, with
arbitrary values where a person (or a script speaking the flow API) could type anything: every
example must end in a form (with translated errors where there are any), HA's schema refusal
(`InvalidData`, which the frontend shows next to the field) or a clean abort — never another
exception — and no entry may be created or changed by input that is not valid.

Hypothesis and HA's function-scoped `hass`: the examples of one test share that `hass` and its
simulator (starting either per example would cost seconds each). That is safe because every
example leaves the shared state as it found it, and the test checks it: the example's flow is
aborted if still open, the entries are compared with what was there before (options are reset after
an accepted value), and the simulators keep no state a later example depends on (lockouts are set
out of reach). Hence `HealthCheck.function_scoped_fixture` is suppressed on purpose.

Hosts: HA's test plugin disables DNS and this machine sends nothing off loopback, so the Tapo host is
a loopback address or text that can never be a host name; DNS-resolvable junk is left to the person.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from homeassistant.config_entries import SOURCE_USER, ConfigEntryDisabler
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData, UnknownFlow
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.camera_hub.const import (
    CONF_BRAND,
    CONF_KEEP_WARM,
    CONF_LIVE_STREAM,
    CONF_LIVE_VIEW,
    CONF_SNAPSHOT_MAX_AGE,
    CONF_STREAM_LINGER,
    DOMAIN,
    ENTRY_MINOR_VERSION,
    ENTRY_VERSION,
)
from custom_components.camera_hub.vendors.furbo.const import (
    CONF_EVENT_INTERVAL,
    MAX_EVENT_INTERVAL,
    MIN_EVENT_INTERVAL,
)
from custom_components.camera_hub.vendors.usb.host import DESCRIPTION_ENV
from scripts.lib.sims import Sim, start_furbo_sim, stop_sim
from tests.helpers.fuzz import HYPOTHESIS_WARNINGS, fuzz_settings, text_and_values
from tests.usb.sim import running_usb_sim

from .conftest import PASSWORD, USERNAME, StartSim, flow_input
from .ring_fixtures import RING_LIBRARY_WARNINGS, RingSim, StartRing

pytestmark = [
    pytest.mark.usefixtures("socket_enabled"),
    pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning"),
    RING_LIBRARY_WARNINGS,
    HYPOTHESIS_WARNINGS,
]

FUZZ = fuzz_settings(25)
STRINGS = json.loads(
    (Path(__file__).parents[2] / "custom_components" / "camera_hub" / "strings.json").read_text()
)

# What a field can receive through the flow API (JSON: no NaN or infinity literals, but strings
# that number coercion turns into them).
NASTY_TEXT = (
    ["", " ", "nan", "NaN", "inf", "-inf", "1e999", "-1", "0", "65536", "1.5", "\x00", "\n", "😀",
     "' OR 1=1 --", "<script>x</script>", "../../etc/passwd", "%s%n", "a" * 5000]
)  # fmt: skip
TEXT, VALUE = text_and_values(NASTY_TEXT, max_size=30)
# A text field's value: mostly text, sometimes any other JSON.
ANY_TEXT = st.one_of(TEXT, TEXT, TEXT, VALUE)
EXTRA_KEYS = st.dictionaries(st.text(min_size=1, max_size=10), VALUE, max_size=2)
# Text that no resolver could take for a host name (whitespace or a control character in it).
NOT_A_HOST = st.one_of(
    st.sampled_from(["", " ", "a b", "\x00", "host\nname", "\t"]),
    st.builds(lambda a, sep, b: a + sep + b, st.text(max_size=8), st.sampled_from([" ", "\t", "\x00"]), TEXT),
)


def form(fields: Mapping[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """A submission: mostly every field (so most examples get past HA's schema to the brand's code),
    sometimes some missing with unknown keys along."""
    every = st.fixed_dictionaries(dict(fields))
    partial = st.builds(
        lambda extra, known: {**extra, **known}, EXTRA_KEYS, st.fixed_dictionaries({}, optional=dict(fields))
    )
    return st.one_of(every, every, every, partial)


def outcome(result: Mapping[str, Any]) -> str:
    return f"{result['type']} {result.get('step_id') or result.get('reason')} {result.get('errors') or ''}"


def translated_errors(section: str, errors: Mapping[str, str] | None) -> None:
    known = STRINGS[section]["error"]
    for error in (errors or {}).values():
        assert error in known, f"error {error!r} has no text in strings.json {section}.error"


async def submit(hass: HomeAssistant, flow_id: str, user_input: dict[str, Any]) -> dict[str, Any] | None:
    """The step's result, or None when HA's schema refused the input (a field error in the frontend)."""
    try:
        return dict(await hass.config_entries.flow.async_configure(flow_id, user_input))
    except InvalidData:
        return None


def close(hass: HomeAssistant, flow_id: str) -> None:
    with contextlib.suppress(UnknownFlow):  # the flow may have ended itself (an abort)
        hass.config_entries.flow.async_abort(flow_id)


def close_options(hass: HomeAssistant, flow_id: str) -> None:
    with contextlib.suppress(UnknownFlow):  # it may have ended by storing the options
        hass.config_entries.options.async_abort(flow_id)


async def brand_form(hass: HomeAssistant, brand: str) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"next_step_id": brand})
    assert result["type"] is FlowResultType.FORM, result
    return dict(result)


async def assert_refused(
    hass: HomeAssistant, start: Callable[[], Awaitable[dict[str, Any]]], user_input: dict[str, Any]
) -> dict[str, Any] | None:
    """Open a flow at a step, submit `user_input`: a form or an abort, translated; nothing stored."""
    opened = await start()
    result = await submit(hass, opened["flow_id"], user_input)
    if currently_in_test_context():  # the regression tests below share this helper
        event(f"{opened['step_id']}: " + ("schema refusal" if result is None else outcome(result)))
    try:
        if result is not None:
            assert result["type"] in (FlowResultType.FORM, FlowResultType.ABORT), result
            translated_errors("config", result.get("errors"))
            if result["type"] is FlowResultType.ABORT:
                assert result["reason"] in STRINGS["config"]["abort"], result
    finally:
        close(hass, opened["flow_id"])
    assert hass.config_entries.async_entries(DOMAIN) == []
    return result


# --- Tapo ------------------------------------------------------------------------------------


@pytest.fixture
async def tapo_sim(hass: HomeAssistant, camsim: StartSim) -> Sim:
    # Lockout out of reach: wrong passwords are most of the examples, and each must reach the login.
    return await camsim("--lockout-after", "100000")


@settings(FUZZ, max_examples=30)
@given(
    data=st.data(),
    fields=form(
        {
            "username": st.one_of(st.just(USERNAME), ANY_TEXT),
            "password": ANY_TEXT.filter(lambda p: p != PASSWORD),
            "cloud_password": ANY_TEXT,
        }
    ),
)
async def test_tapo_step_refuses_bad_input(
    hass: HomeAssistant, tapo_sim: Sim, data: st.DataObject, fields: dict[str, Any]
) -> None:
    ports = st.one_of(
        st.integers(-1, 70000),
        st.just(tapo_sim.info["control_port"]),
        st.sampled_from(["80", "0x50", ""]),
        VALUE,
    )
    not_text = st.one_of(st.none(), st.booleans(), st.integers(), st.lists(TEXT, max_size=2))
    host = data.draw(
        st.one_of(NOT_A_HOST, st.sampled_from([tapo_sim.host, "127.0.0.2", "::1"]), not_text), label="host"
    )
    advanced = data.draw(
        st.one_of(
            form({"control_port": ports, "onvif_port": ports, "rtsp_port": ports}),
            VALUE,
            st.just(flow_input(tapo_sim)["advanced"]),
        ),
        label="advanced",
    )
    await assert_refused(
        hass, lambda: brand_form(hass, "tapo"), {**fields, "host": host, "advanced": advanced}
    )


# --- USB -------------------------------------------------------------------------------------


@pytest.fixture
async def webcam(hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    """One simulated webcam, small and slow; discovery pointed at it."""
    manager = running_usb_sim("--size", "160x120", "--fps", "5")
    sim = await hass.async_add_executor_job(manager.__enter__)
    monkeypatch.setenv(DESCRIPTION_ENV, sim.info["description"])
    yield sim.devices[0]
    await hass.async_add_executor_job(manager.__exit__, None, None, None)


async def usb_mode_form(hass: HomeAssistant, device: str) -> dict[str, Any]:
    result = await brand_form(hass, "usb")
    result = dict(await hass.config_entries.flow.async_configure(result["flow_id"], {"device": device}))
    assert result["step_id"] == "usb_mode", result
    return result


@pytest.fixture
async def webcam_modes(hass: HomeAssistant, webcam: str) -> list[str]:
    """The capture modes the form offers for the webcam: choosing one (or none: the default) adds it."""
    result = await usb_mode_form(hass, webcam)
    close(hass, result["flow_id"])
    return list(result["data_schema"].schema["mode"].config["options"])


@FUZZ
@given(device_input=form({"device": ANY_TEXT}), mode=ANY_TEXT)
async def test_usb_steps_refuse_bad_input(
    hass: HomeAssistant, webcam: str, webcam_modes: list[str], device_input: dict[str, Any], mode: Any
) -> None:
    assume(device_input.get("device") != webcam)
    assume(mode not in webcam_modes)
    await assert_refused(hass, lambda: brand_form(hass, "usb"), device_input)
    await assert_refused(hass, lambda: usb_mode_form(hass, webcam), {"mode": mode})


# --- Ring ------------------------------------------------------------------------------------


@pytest.fixture
async def ring(hass: HomeAssistant, ringsim: StartRing) -> RingSim:
    return await ringsim("--two-factor", "sms")


async def ring_code_form(hass: HomeAssistant, ring: RingSim) -> dict[str, Any]:
    """The right e-mail and password: Ring sends a code and the flow asks for it."""
    result = await brand_form(hass, "ring")
    result = dict(
        await hass.config_entries.flow.async_configure(
            result["flow_id"], {"email": ring.email, "password": ring.password}
        )
    )
    assert str(result["step_id"]).startswith("ring_2fa"), result
    return result


# Ring sends at most 10 codes in 10 minutes (ringsim too): beyond, every example would test only that.
@settings(FUZZ, max_examples=6)
@given(data=st.data(), code=form({"code": st.one_of(ANY_TEXT, st.integers())}))
async def test_ring_steps_refuse_bad_input(
    hass: HomeAssistant, ring: RingSim, data: st.DataObject, code: dict[str, Any]
) -> None:
    login = data.draw(
        form(
            {
                "email": st.one_of(st.just(ring.email), ANY_TEXT),
                "password": ANY_TEXT.filter(lambda p: p != ring.password),
            }
        ),
        label="login",
    )

    await assert_refused(hass, lambda: brand_form(hass, "ring"), login)
    await assert_refused(hass, lambda: ring_code_form(hass, ring), code)


# --- Furbo -----------------------------------------------------------------------------------


@pytest.fixture
async def furbo(hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Sim]:
    sim = await hass.async_add_executor_job(
        lambda: start_furbo_sim("--mfa", "--lockout-after", "100000", "--devices", "dog")
    )
    for key, value in sim.info["env"].items():
        monkeypatch.setenv(key, value)
    yield sim
    await hass.async_add_executor_job(stop_sim, sim)


@FUZZ
@given(data=st.data(), code=form({"code": st.one_of(ANY_TEXT, st.integers())}))
async def test_furbo_steps_refuse_bad_input(
    hass: HomeAssistant, furbo: Sim, data: st.DataObject, code: dict[str, Any]
) -> None:
    email, password = str(furbo.info["email"]), str(furbo.info["password"])
    login = data.draw(
        form(
            {
                "email": st.one_of(st.just(email), ANY_TEXT),
                "password": ANY_TEXT.filter(lambda p: p != password),
            }
        ),
        label="login",
    )

    async def code_form() -> dict[str, Any]:
        result = await brand_form(hass, "furbo")
        result = dict(
            await hass.config_entries.flow.async_configure(
                result["flow_id"], {"email": email, "password": password}
            )
        )
        assert result["step_id"] == "furbo_code", result
        return result

    await assert_refused(hass, lambda: brand_form(hass, "furbo"), login)
    # Junk could match the e-mailed six-digit code only by a one-in-a-million chance.
    await assert_refused(hass, code_form, code)


# --- Options (every brand's shared fields, and Furbo's polling interval) -------------------------

OPTION_VALUES = st.one_of(
    ANY_TEXT,
    st.booleans(),
    st.floats(-1e6, 1e6),
    st.integers(-10, 5000),
    st.sampled_from(["hd", "sd", "webrtc", "hls"]),
)


def options_stored_are_sane(options: Mapping[str, Any], brand: str) -> None:
    """What an accepted options form stored: only the fields, each a value the setting can use."""
    assert options[CONF_LIVE_STREAM] in ("hd", "sd")
    assert options[CONF_LIVE_VIEW] in ("webrtc", "hls")
    assert isinstance(options[CONF_KEEP_WARM], bool)
    for key, top in ((CONF_SNAPSHOT_MAX_AGE, 60), (CONF_STREAM_LINGER, 600)):
        assert math.isfinite(options[key]), options
        assert 0 <= options[key] <= top, options
    if brand == "furbo":
        assert MIN_EVENT_INTERVAL <= options[CONF_EVENT_INTERVAL] <= MAX_EVENT_INTERVAL, options


def add_options_entry(hass: HomeAssistant, brand: str) -> MockConfigEntry:
    """An entry of `brand`, disabled, so an accepted form's reload sets nothing up: only the options
    flow is under test."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=brand,
        unique_id=f"fuzz-{brand}",
        data={CONF_BRAND: brand},
        version=ENTRY_VERSION,
        minor_version=ENTRY_MINOR_VERSION,
        disabled_by=ConfigEntryDisabler.USER,
    )
    entry.add_to_hass(hass)
    return entry


@pytest.fixture(params=["tapo", "furbo"])
def options_entry(hass: HomeAssistant, request: pytest.FixtureRequest) -> MockConfigEntry:
    return add_options_entry(hass, request.param)


_SHARED_OPTIONS = [
    CONF_LIVE_STREAM,
    CONF_LIVE_VIEW,
    CONF_SNAPSHOT_MAX_AGE,
    CONF_STREAM_LINGER,
    CONF_KEEP_WARM,
]


@FUZZ
@given(user_input=form(dict.fromkeys([*_SHARED_OPTIONS, CONF_EVENT_INTERVAL], OPTION_VALUES)))
async def test_options_refuse_bad_input(
    hass: HomeAssistant, options_entry: MockConfigEntry, user_input: dict[str, Any]
) -> None:
    brand = options_entry.data[CONF_BRAND]
    before = dict(options_entry.options)
    opened = await hass.config_entries.options.async_init(options_entry.entry_id)
    try:
        result: dict[str, Any] | None = dict(
            await hass.config_entries.options.async_configure(opened["flow_id"], user_input)
        )
    except InvalidData:
        result = None
    finally:
        close_options(hass, opened["flow_id"])
    await hass.async_block_till_done()
    if result is not None and result["type"] is FlowResultType.CREATE_ENTRY:
        options_stored_are_sane(options_entry.options, brand)
        hass.config_entries.async_update_entry(options_entry, options=before)
        return
    if result is not None:
        assert result["type"] is FlowResultType.FORM, result
        translated_errors("options", result.get("errors"))
    assert dict(options_entry.options) == before
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


# --- What the fuzzing found (each fixed; these keep it fixed) ---------------------------------


async def test_furbo_password_too_long_for_rsa_is_a_wrong_password(hass: HomeAssistant, furbo: Sim) -> None:
    """The app RSA-encrypts the password in one block; a longer one raised ValueError out of the flow."""
    result = await assert_refused(
        hass, lambda: brand_form(hass, "furbo"), {"email": furbo.info["email"], "password": "x" * 300}
    )
    assert result is not None
    assert result["errors"] == {"base": "furbo_invalid_auth"}


@pytest.mark.parametrize("code", ["12\x0034", "123\n456", "１２３４５６", "123456" * 10])
async def test_ring_code_that_cannot_be_sent_is_a_wrong_code(
    hass: HomeAssistant, ring: RingSim, code: str
) -> None:
    """ring-doorbell sends the code in a header: a control character made aiohttp raise ValueError."""
    codes_before = (await ring.state(hass))["counters"]["codes_sent"]
    result = await assert_refused(hass, lambda: ring_code_form(hass, ring), {"code": code})
    assert result is not None
    assert result["errors"] == {"base": "invalid_code"}
    assert str(result["step_id"]).startswith("ring_2fa")
    assert (await ring.state(hass))["counters"]["codes_sent"] == codes_before + 1  # the form's own code


@pytest.mark.parametrize(
    ("brand", "field"),
    [
        ("tapo", CONF_SNAPSHOT_MAX_AGE),
        ("tapo", CONF_STREAM_LINGER),
        ("furbo", CONF_SNAPSHOT_MAX_AGE),
        ("furbo", CONF_EVENT_INTERVAL),
    ],
)
async def test_options_refuse_nan(hass: HomeAssistant, brand: str, field: str) -> None:
    """The number selector turns "nan" into NaN and lets it past min/max: it was stored (or, as Furbo's
    interval, raised ValueError in int())."""
    entry = add_options_entry(hass, brand)
    opened = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(opened["flow_id"], {field: "nan"})
    close_options(hass, opened["flow_id"])
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {field: "not_a_number"}
    assert dict(entry.options) == {}
