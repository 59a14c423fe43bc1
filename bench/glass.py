"""Glass-to-glass latency in Chromium, per transport: camsim's burned-in clock against the wall clock
when the browser paints the frame (scripts/lib/browser.py). Keys under `"webrtc"` in the results."""

from __future__ import annotations

import asyncio
from typing import Any

from scripts.lib.browser import chromium, login, measure_transports
from scripts.lib.hass import HassProcess


def _measure(hass: HassProcess, camera: str, frames: int) -> dict[str, Any]:
    assert hass.credentials is not None
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        login(page, f"{hass.url}/profile/general", hass.credentials.username, hass.credentials.password)
        return measure_transports(page, camera, frames=frames)


async def glass_to_glass_ms(hass: HassProcess, camera: str, frames: int = 100) -> dict[str, Any]:
    """p50/p95 (ms) for WebRTC, HLS and MJPEG of `camera`, in one browser, one after another."""
    # Playwright's sync API runs its own event loop: give it a thread of its own.
    return await asyncio.to_thread(_measure, hass, camera, frames)
