"""One real, onboarded `hass` process per pytest session, shared by tests/e2e and tests/bridge.

Registered in tests/conftest.py (`pytest_plugins`), so every directory gets the same session fixture
rather than one per conftest that imports it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp
import pytest
import pytest_socket

from scripts.lib.hass import HassProcess, camera_hub_deprecations, start_onboarded


@contextmanager
def sockets_allowed() -> Iterator[None]:
    """Session fixtures run where HA's test plugin has blocked sockets; lift it for their setup."""
    pytest_socket.enable_socket()
    try:
        yield
    finally:
        pytest_socket.socket_allow_hosts(["127.0.0.1"])
        pytest_socket.disable_socket(allow_unix_socket=True)


@pytest.fixture(scope="session")
def real_hass(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HassProcess]:
    """A real, onboarded Home Assistant with this working tree's integration; `.url`, `.token`."""
    with sockets_allowed():
        hass = asyncio.run(start_onboarded(tmp_path_factory.mktemp("hass-config")))
    try:
        yield hass
    finally:
        hass.stop()
    assert_no_camera_hub_deprecations(hass.config_dir)


def assert_no_camera_hub_deprecations(config_dir: Path) -> None:
    """Fail when a real `hass` (the pinned HA or the newest, scripts/test runs both) logged that Camera
    Hub uses something deprecated; unit tests have their own guard (tests/helpers/deprecation_guard.py)."""
    found = [
        line
        for log in sorted(config_dir.rglob("hass.stdout.log"))
        for line in camera_hub_deprecations(log.read_text(errors="replace"))
    ]
    assert not found, "\n".join(found)


async def remove_entries(hass: HassProcess, entry_ids: list[str]) -> None:
    """Delete config entries a test added to the shared `hass` (already gone is fine)."""
    headers = {"Authorization": f"Bearer {hass.token}"}
    async with aiohttp.ClientSession(hass.url, headers=headers) as session:
        for entry_id in entry_ids:
            async with session.delete(f"/api/config/config_entries/entry/{entry_id}") as resp:
                assert resp.status in (200, 404), await resp.text()
