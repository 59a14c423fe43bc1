"""Bridge fixtures: the real `hass` process of the end-to-end tests, and an HA client bound to it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from mcp_bridge.ha_client import HAClient
from scripts.lib.hass import HassProcess
from tests.e2e.conftest import real_hass

__all__ = ["real_hass"]


@pytest.fixture
async def ha(real_hass: HassProcess) -> AsyncIterator[HAClient]:
    """A connected bridge client for the real HA."""
    async with HAClient(real_hass.url, real_hass.token) as client:
        await client.ensure_connected()
        yield client
