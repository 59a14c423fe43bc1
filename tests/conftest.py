"""Test setup shared by every test: our integration first, the deprecation guard, the one real `hass`."""

from __future__ import annotations

# Import the integration from the working tree before HA looks for `custom_components` in its
# test config dir (see shared/notes/ENVIRONMENT.md).
import custom_components.camera_hub  # noqa: F401

pytest_plugins = ["tests.helpers.deprecation_guard", "tests.helpers.real_hass", "pytester"]

import ifaddr  # noqa: E402 - captured before HA's test plugin replaces it
import pytest  # noqa: E402

# HA's test plugin replaces `ifaddr.get_adapters` for the whole session (one fake 10.10.10.10
# adapter). aiortc's ICE gathers host candidates through it, so WebRTC tests need the real one.
_REAL_GET_ADAPTERS = ifaddr.get_adapters


@pytest.fixture
def real_network_adapters(monkeypatch: pytest.MonkeyPatch) -> None:
    """This host's real network adapters for aiortc's ICE (see above)."""
    monkeypatch.setattr(ifaddr, "get_adapters", _REAL_GET_ADAPTERS)
