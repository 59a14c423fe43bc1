"""Bad arguments to every MCP tool (issue 14, "Bad input"), property-based, against the real `hass`.

The FastMCP server runs in process (as in test_server.py), its client calls each tool with arbitrary
arguments, and the session's real HA holds the two camsim cameras of conftest.py. Every call must
answer with one message a person can read — a single line ending in a full stop, no traceback, no
pydantic report, no password echoed — and nothing may change: the config entries, the flows in
progress and both cameras' state (position, presets, privacy, detection, LED, reboots) are compared
before and after every example. Tools that act on a camera therefore get arguments that cannot
reach it: a camera name that names none, or a real camera with an argument that is out of its
range or of another type, or an argument the tool does not have. Read-only tools get anything and
may answer.

Hypothesis and function-scoped fixtures: the examples share the test's MCP client (its HA client
caches the registry), which no example can change, because the test checks that nothing changed.
Hence `HealthCheck.function_scoped_fixture` is suppressed on purpose.

`add_camera` runs HA's real Tapo flow, so its host is text no resolver could take for a host name, or
not text at all: this machine sends nothing off loopback, and hypothesis must not pick a real host.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest
from fastmcp import Client
from hypothesis import event, given
from hypothesis import strategies as st

from mcp_bridge.ha_client import Camera, HAClient
from mcp_bridge.server import build_server
from scripts.lib.hass import HassProcess
from tests.bridge.conftest import Cameras
from tests.helpers.fuzz import HYPOTHESIS_WARNINGS, fuzz_settings, text_and_values

pytestmark = [
    pytest.mark.usefixtures("socket_enabled"),
    HYPOTHESIS_WARNINGS,
]

FUZZ = fuzz_settings(100)
DEVICE_STATE = ("pan", "tilt", "presets", "privacy", "motion_detection", "led", "reboots")
MAX_MESSAGE = 1000

NASTY_TEXT = (
    ["", " ", "\n", "\x00", "nan", "-1", "0", "1e999", "😀", "' OR 1=1 --", "<script>", "%s", "../..",
     "camera.", "tapo", "left", "a" * 33, "a" * 3000]
)  # fmt: skip
TEXT, VALUE = text_and_values(NASTY_TEXT, max_size=30)
# Mostly the right type (to get past the schema), sometimes anything at all.
PLAUSIBLE: dict[str, st.SearchStrategy[Any]] = {
    "direction": st.one_of(st.sampled_from(["left", "right", "up", "down", "LEFT", "sideways"]), VALUE),
    "step": st.one_of(st.integers(-10, 120), st.sampled_from(["15", 15.5]), VALUE),
    "preset": st.one_of(TEXT, st.integers(-2, 10**12).map(str), VALUE),
    "name": st.one_of(TEXT, VALUE),
    "enabled": st.one_of(st.booleans(), st.sampled_from(["true", "off", 2]), VALUE),
    "width": st.one_of(st.integers(-10, 5000), VALUE),
    "seconds": st.one_of(st.integers(-5, 120), VALUE),
    "hours": st.one_of(st.integers(-5, 500), VALUE),
    "limit": st.one_of(st.integers(-5, 500), VALUE),
}
# Values each constrained argument refuses whatever the camera (so an acting tool cannot act).
OUT_OF_RANGE: dict[str, st.SearchStrategy[Any]] = {
    "direction": st.sampled_from(["LEFT", "sideways", "", "left ", 0, None, ["left"]]),
    "step": st.one_of(st.integers(max_value=0), st.integers(min_value=91), st.sampled_from(["x", 1.5, None])),
    "name": st.one_of(st.just(""), st.text(min_size=33, max_size=60), st.integers(), st.none()),
    "enabled": st.sampled_from([None, "maybe", 2, [True], {"on": True}]),
    "width": st.one_of(st.integers(max_value=159), st.integers(min_value=1569), st.sampled_from(["wide"])),
    "seconds": st.one_of(st.integers(max_value=0), st.integers(min_value=61), st.sampled_from(["10s"])),
}
READ_ONLY = {
    "list_cameras": (),
    "get_camera_status": ("camera",),
    "get_snapshot": ("camera", "width"),
    "get_recent_events": ("camera", "hours", "limit"),
}
ACTING = {
    "ptz_move": ("camera", "direction", "step"),
    "ptz_stop": ("camera",),
    "ptz_home": ("camera",),
    "ptz_go_to_preset": ("camera", "preset"),
    "ptz_save_preset": ("camera", "name"),
    "ptz_delete_preset": ("camera", "preset"),
    "set_privacy_mode": ("camera", "enabled"),
    "set_motion_detection": ("camera", "enabled"),
    "record_clip": ("camera", "seconds"),
    "remove_camera": ("camera",),
    "reboot_camera": ("camera",),
}
# Host names that never reach a resolver (the flow's connection fails on the text itself).
NOT_A_HOST = st.sampled_from(["", " ", "a b", "\x00", "[::1", "host\nname"])
SECRET = "pw-"  # every generated password starts so: it must never come back in a message


@pytest.fixture
async def mcp_client(real_hass: HassProcess, cameras: Cameras) -> AsyncIterator[Client[Any]]:
    """The bridge with its destructive tools on: their refusal of bad arguments is under test."""
    server = build_server(HAClient(real_hass.url, real_hass.token), allow_destructive=True)
    async with Client(server) as client:
        yield client


@pytest.fixture
async def known(real_hass: HassProcess, cameras: Cameras) -> list[Camera]:
    async with HAClient(real_hass.url, real_hass.token) as ha:
        return await ha.cameras()


def names_a_camera(name: Any, known: list[Camera]) -> bool:
    """Whether the bridge could take `name` for a camera (resolve_camera's rules, taken wide)."""
    if not isinstance(name, str) or not (wanted := name.strip().lower()):
        return False
    return any(
        wanted in camera.name.lower()
        or wanted in camera.slug.lower()
        or wanted == camera.device_id.lower()
        or wanted in (entity.lower() for entity in camera.entities.values())
        for camera in known
    )


def real_camera(known: list[Camera]) -> st.SearchStrategy[str]:
    return st.sampled_from([name for c in known for name in (c.name, c.slug, c.name.upper())])


def arguments(fields: Mapping[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """Each argument present or not (mostly present), and now and then one the tool does not have."""
    extra = st.one_of(
        st.just({}), st.just({}), st.dictionaries(st.sampled_from(["zoom", "Camera", ""]), VALUE)
    )
    return st.builds(
        lambda present, optional, unknown: {**unknown, **optional, **present},
        st.fixed_dictionaries({k: v for k, v in fields.items() if k == "camera"}),
        st.fixed_dictionaries({}, optional={k: v for k, v in fields.items() if k != "camera"}),
        extra,
    )


async def ha_now(ha: HAClient, cameras: Cameras) -> dict[str, Any]:
    """What no refused call may change: entries, flows in progress, both cameras' state."""
    entries = await ha.get_json("/api/config/config_entries/entry")
    flows = await ha.ws_command({"type": "config_entries/flow/progress"})
    devices = {}
    for sim in (cameras.ptz, cameras.fixed):
        state = await asyncio.to_thread(sim.state)
        devices[sim.info["control_port"]] = {key: state.get(key) for key in DEVICE_STATE}
    return {
        "entries": sorted((e["entry_id"], e["state"]) for e in entries),
        "flows": sorted(f["flow_id"] for f in flows),
        "devices": devices,
    }


def assert_one_message(text: str, arguments: Mapping[str, Any]) -> None:
    """One line a person can read, ending in a full stop; what the caller sent may be quoted back."""
    shown = text
    for value in arguments.values():
        if isinstance(value, str) and value:
            shown = shown.replace(value, "«argument»")
    assert shown, "an empty error"
    for leak in ("Traceback", 'File "', "validation error for", "pydantic.dev", "input_value"):
        assert leak not in shown, text
    assert "\n" not in shown, text
    assert shown.rstrip().endswith("."), text
    assert len(shown) <= MAX_MESSAGE, text


async def call(client: Client[Any], tool: str, args: dict[str, Any]) -> tuple[bool, str]:
    result = await client.call_tool(tool, args, raise_on_error=False)
    text = " ".join(getattr(part, "text", "") for part in result.content)
    return result.is_error, text


@FUZZ
@given(data=st.data(), tool=st.sampled_from(sorted(READ_ONLY)))
async def test_read_only_tools_answer_any_arguments_with_one_message(
    mcp_client: Client[Any],
    ha: HAClient,
    cameras: Cameras,
    known: list[Camera],
    data: st.DataObject,
    tool: str,
) -> None:
    camera = st.one_of(real_camera(known), TEXT, VALUE)
    fields = {name: camera if name == "camera" else PLAUSIBLE[name] for name in READ_ONLY[tool]}
    args = data.draw(arguments(fields), label="arguments")
    before = await ha_now(ha, cameras)

    failed, text = await call(mcp_client, tool, args)

    event(f"{tool}: {'refused' if failed else 'answered'}")
    if failed:
        assert_one_message(text, args)
    assert await ha_now(ha, cameras) == before


@FUZZ
@given(data=st.data(), tool=st.sampled_from(sorted(ACTING)))
async def test_acting_tools_refuse_bad_arguments_with_one_message_and_change_nothing(
    mcp_client: Client[Any],
    ha: HAClient,
    cameras: Cameras,
    known: list[Camera],
    data: st.DataObject,
    tool: str,
) -> None:
    names = ACTING[tool]
    no_camera = st.one_of(TEXT, VALUE).filter(lambda name: not names_a_camera(name, known))
    ways = [
        arguments({name: no_camera if name == "camera" else PLAUSIBLE[name] for name in names}),
        # A real camera with an argument the tool does not have.
        st.builds(
            lambda args, extra: {**args, **extra},
            arguments({name: real_camera(known) if name == "camera" else PLAUSIBLE[name] for name in names}),
            st.dictionaries(st.sampled_from(["zoom", "force", "Camera"]), VALUE, min_size=1),
        ),
    ]
    for bad in (name for name in names if name in OUT_OF_RANGE):
        # A real camera with this argument out of its range.
        fields = {name: PLAUSIBLE[name] for name in names if name != "camera"}
        ways.append(
            st.builds(
                lambda args, camera, value, bad=bad: {**args, "camera": camera, bad: value},
                st.fixed_dictionaries({}, optional=fields),
                real_camera(known),
                OUT_OF_RANGE[bad],
            )
        )
    args = data.draw(st.one_of(ways), label="arguments")
    before = await ha_now(ha, cameras)

    failed, text = await call(mcp_client, tool, args)

    event(f"{tool}: {text[:40]}")
    assert failed, f"{tool} acted on {args}: {text}"
    assert_one_message(text, args)
    assert await ha_now(ha, cameras) == before


@FUZZ
@given(
    host=st.one_of(NOT_A_HOST, st.none(), st.integers(), st.lists(TEXT, max_size=2)),
    username=st.one_of(TEXT, VALUE),
    password=st.one_of(TEXT.map(lambda p: SECRET + p), VALUE),
    optional=st.fixed_dictionaries(
        {},
        optional={
            "cloud_password": st.one_of(TEXT.map(lambda p: SECRET + p), VALUE),
            "control_port": st.one_of(st.integers(-5, 70000), VALUE),
            "onvif_port": st.one_of(st.integers(-5, 70000), VALUE),
            "rtsp_port": st.one_of(st.integers(-5, 70000), VALUE),
        },
    ),
)
async def test_add_camera_refuses_bad_arguments_with_one_message_and_adds_nothing(
    mcp_client: Client[Any],
    ha: HAClient,
    cameras: Cameras,
    host: Any,
    username: Any,
    password: Any,
    optional: dict[str, Any],
) -> None:
    args = {"host": host, "username": username, "password": password, **optional}
    before = await ha_now(ha, cameras)

    failed, text = await call(mcp_client, "add_camera", args)

    event(f"add_camera: {text[:50]}")
    assert failed, text
    assert SECRET not in text, "a password came back in the message"
    assert_one_message(text, {k: v for k, v in args.items() if "password" not in k})
    assert await ha_now(ha, cameras) == before


async def test_argument_errors_are_one_sentence_without_the_values_sent(mcp_client: Client[Any]) -> None:
    """What the fuzzing found first: FastMCP passed pydantic's report through — several lines, links
    to pydantic's docs, and every refused value quoted back (a password sent as a number, say)."""
    failed, text = await call(
        mcp_client, "add_camera", {"host": "a b", "username": "u", "password": 31415926, "zoom": 1}
    )

    assert failed
    assert text == (
        "add_camera cannot use these arguments (password: input should be a valid string; zoom: unexpected "
        "keyword argument); see the tool's input schema."
    )
