"""The deprecation guard fails a test in which HA reports a deprecated call."""

from __future__ import annotations

import pytest

CALLS_DEPRECATED_HA_API = """
from homeassistant.core import HomeAssistant
from homeassistant.helpers.sun import get_astral_location


async def test_uses_deprecated_helper(hass: HomeAssistant) -> None:
    get_astral_location(hass)  # deprecated in HA 2026.x, removed in 2027.7
"""

CALLS_CURRENT_HA_API = """
from homeassistant.core import HomeAssistant
from homeassistant.helpers.sun import get_astral_observer


async def test_uses_current_helper(hass: HomeAssistant) -> None:
    get_astral_observer(hass)
"""


def _run(pytester: pytest.Pytester, source: str) -> pytest.RunResult:
    pytester.makeconftest('pytest_plugins = ["tests.helpers.deprecation_guard"]')
    pytester.makepyfile(test_inner=source)
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-o", "asyncio_mode=auto")


def test_guard_fails_a_test_calling_a_deprecated_api(pytester: pytest.Pytester) -> None:
    result = _run(pytester, CALLS_DEPRECATED_HA_API)

    assert result.ret != 0
    result.stdout.fnmatch_lines(
        [
            "*Home Assistant reported deprecated usage:*",
            "*The deprecated function get_astral_location was called*",
        ]
    )


def test_guard_passes_a_test_using_current_apis(pytester: pytest.Pytester) -> None:
    result = _run(pytester, CALLS_CURRENT_HA_API)

    result.assert_outcomes(passed=1)


# What HA's event platform logs about a doorbell event entity without the "ring" type (the entity
# platforms' wording for entity-level deprecations), logged here as HA logs it.
ENTITY_STOPS_WORKING = """
import logging


async def test_an_entity_ha_will_stop_accepting() -> None:
    logging.getLogger("homeassistant.components.event").warning(
        "Entity event.front_door_ding is a doorbell event entity but does not support the 'ring' event "
        "type. This will stop working in Home Assistant 2027.4, please create a bug report"
    )
"""


def test_guard_fails_a_test_whose_entity_ha_will_stop_accepting(pytester: pytest.Pytester) -> None:
    result = _run(pytester, ENTITY_STOPS_WORKING)

    assert result.ret != 0
    result.stdout.fnmatch_lines(
        ["*Home Assistant reported deprecated usage:*", "*stop working in Home Assistant*"]
    )
