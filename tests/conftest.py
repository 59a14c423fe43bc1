"""Test setup shared by every test: our integration first, the deprecation guard, the one real `hass`."""

from __future__ import annotations

# Import the integration from the working tree before HA looks for `custom_components` in its
# test config dir (see shared/notes/ENVIRONMENT.md).
import custom_components.camera_hub  # noqa: F401

pytest_plugins = ["tests.helpers.deprecation_guard", "tests.helpers.real_hass", "pytester"]
