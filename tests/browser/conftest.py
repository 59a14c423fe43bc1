"""The `scripts/develop` demo in Debian's Chromium: one demo, one browser, one logged-in page per module.

The demo runs as `scripts/develop` runs it (its own process, simulated cameras on their own loopback
network, the Cameras dashboard), so the browser sees exactly what a person trying the README sees.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_socket
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize

from scripts.lib.browser import FrontendWatch, chromium, login
from scripts.lib.hass import free_port
from scripts.lib.sims import stop_process
from tests.helpers.develop import start_develop
from tests.helpers.real_hass import assert_no_camera_hub_deprecations, sockets_allowed

# Loopback network of the demo's cameras: not scripts/develop's default (a developer's demo may be
# running) nor tests/e2e/test_develop.py's.
NETWORK = "127.0.8"
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
# Set by scripts/screenshots: the directory the dashboard's screenshots are written to.
SCREENSHOTS_ENV = "CAMERA_HUB_SCREENSHOTS"


@dataclass
class Demo:
    ready: dict[str, Any]
    data: Path

    @property
    def username(self) -> str:
        return str(self.ready["username"])

    @property
    def password(self) -> str:
        return str(self.ready["password"])

    def url(self, path: str) -> str:
        return f"{self.ready['ha_url']}{path}"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    data = tmp_path_factory.mktemp("demo")
    with sockets_allowed():
        port = free_port()
    argv = ["--port", str(port), "--data", str(data), "--camera-network", NETWORK]
    process, ready = start_develop(*argv)
    try:
        yield Demo(ready, data)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        stop_process(process, timeout=60)
    assert_no_camera_hub_deprecations(data)


class InBrowser:
    """Runs calls in the one thread that owns Playwright.

    Playwright's sync API keeps its event loop marked as running in the thread that started it, and
    pytest-asyncio's fixtures (HA's test plugin has async autouse ones) then refuse to run there. So
    the browser lives in a thread of its own, and tests hand it their steps: `in_browser(fn, *args)`.
    """

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chromium")

    def __call__[T](self, fn: Callable[..., T], *args: Any) -> T:
        return self._executor.submit(fn, *args).result()

    def shutdown(self) -> None:
        self._executor.shutdown()


@dataclass
class Session:
    browser: Browser
    context: BrowserContext
    page: Page
    watch: FrontendWatch


def _start(stack: ExitStack, demo: Demo) -> Session:
    """Chromium, and a page logged in as the demo user through HA's login page (the Cameras dashboard)."""
    browser = stack.enter_context(chromium())
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    watch = FrontendWatch.attach(page)
    login(page, demo.ready["dashboard_url"], demo.username, demo.password)
    return Session(browser, context, page, watch)


@pytest.fixture(scope="module")
def in_browser() -> Iterator[InBrowser]:
    runner = InBrowser()
    try:
        yield runner
    finally:
        runner.shutdown()


@pytest.fixture(scope="module")
def session(in_browser: InBrowser, demo: Demo) -> Iterator[Session]:
    stack = ExitStack()
    try:
        yield in_browser(_start, stack, demo)
    finally:
        in_browser(stack.close)


@pytest.fixture
def page(in_browser: InBrowser, session: Session) -> Iterator[Page]:
    """The logged-in page; the test fails if the frontend logged an error or a WebSocket command failed."""
    in_browser(session.watch.take)
    yield session.page
    assert in_browser(session.watch.take) == []


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots and the transport/latency report go (docs/screenshots via scripts/screenshots)."""
    if target := os.environ.get(SCREENSHOTS_ENV):
        path = Path(target)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("browser")


@pytest.fixture(autouse=True)
def verify_cleanup() -> None:
    """Replaces HA's test plugin's check for threads a test left behind, which is about `hass` run
    inside the test process: here HA runs in its own process, and Playwright's event loop (in the
    browser's thread) starts its executor threads whenever it first needs them."""


@pytest.fixture(autouse=True)
def camera_network(socket_enabled: None, demo: Demo) -> None:
    """Tests read the cameras' state (camsim's state_url) on their own loopback addresses."""
    pytest_socket.socket_allow_hosts(["127.0.0.1", *(sim["host"] for sim in demo.ready["simulators"])])
