"""End-to-end tests: a real `hass` process, started once per session and shared.

The `real_hass` fixture lives in tests/helpers/real_hass.py (a plugin registered in tests/conftest.py),
so tests/e2e and tests/bridge share one process.
"""
