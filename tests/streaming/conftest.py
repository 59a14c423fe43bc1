"""Shared by the WebRTC tests: one small H.264 camsim per test module and a frame hub on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from custom_components.camera_hub.streaming.frames import FrameHub
from tests.helpers.camsim import Sim, running_sim
from tests.streaming.test_frames import url_of, wait_sessions_open, workers

WEBRTC_SIM_ARGS = ("--gop", "2", "--fps", "15", "--size", "320x180")


@pytest.fixture(scope="module")
def webrtc_sim() -> Iterator[Sim]:
    with running_sim(*WEBRTC_SIM_ARGS) as running:
        yield running


@pytest.fixture
async def hub(webrtc_sim: Sim) -> AsyncIterator[FrameHub]:
    """A frame hub on `webrtc_sim`; after the test, no worker and no RTSP session is left."""
    hub = FrameHub(url_of(webrtc_sim), linger=0, name="test camera")
    try:
        yield hub
    finally:
        await hub.async_stop()
        assert not workers()
        await wait_sessions_open(webrtc_sim, 0)
