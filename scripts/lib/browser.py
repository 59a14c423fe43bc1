"""Home Assistant's real frontend in Debian's Chromium, driven by Playwright: shared by tests and bench.

- `chromium()` starts the system browser (Playwright's own browser builds cannot be downloaded here).
- `FrontendWatch` records what a person would call broken: console errors, uncaught exceptions,
  WebSocket commands that failed (`{"type": "result", "success": false}`) and any request that leaves
  the machine.
- `login` goes through HA's real login page.
- `live_player` says which transport the frontend chose for a camera (`ha-web-rtc-player`,
  `ha-hls-player`, or an MJPEG `<img>`), `wait_until_live` that it shows camsim's live picture.
- `glass_to_glass` reads camsim's burned-in clock (camsim/timestamp.py) from every painted frame and
  compares it with the wall clock at paint time; `open_player` puts a player of a chosen transport on
  the page to measure it.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Browser, ConsoleMessage, Locator, Page, Request, WebSocket, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

CHROMIUM = "/usr/bin/chromium"
# Headless, and nothing Chromium itself would fetch from the internet (shared/notes/ENVIRONMENT.md).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]
# The element of HA's frontend that holds the current panel, on every page.
PANEL = "partial-panel-resolver"
PLAYERS = "ha-web-rtc-player, ha-hls-player, hui-image img"
TRANSPORTS = {"HA-WEB-RTC-PLAYER": "webrtc", "HA-HLS-PLAYER": "hls"}


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, with a fresh profile; closed on exit."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


# HA frontend 20260930.5: `ha-web-rtc-player` re-runs its async `_startWebRtc` when the dashboard's
# masonry layout re-attaches a card while the first start is still negotiating; the second
# `setLocalDescription` on the same RTCPeerConnection throws. Seen as two `get_client_config` for one
# entity 30 ms apart, before any answer from the integration; the player's video plays regardless
# (the tests assert that separately). Only these messages, only as page errors, are set apart.
_FRONTEND_WEBRTC_RESTART_RACE = (
    "The order of m-lines in subsequent offer doesn't match",
    "The SDP does not match the previously generated SDP",
)

# When the frontend itself throws (the race above), it maps the error's stack through its source maps,
# which point at its sources on GitHub: a request off this machine that only follows such an error.
_FRONTEND_SOURCES = "https://raw.githubusercontent.com/home-assistant/frontend/"


@dataclass
class FrontendWatch:
    """Everything that went wrong in a page since it was attached (or since the last `take`)."""

    problems: list[str] = field(default_factory=list)
    # Known bugs of HA's frontend itself, recorded apart (and reported) instead of failing the test.
    upstream_bugs: list[str] = field(default_factory=list)
    _commands: dict[int, str] = field(default_factory=dict)

    @classmethod
    def attach(cls, page: Page) -> FrontendWatch:
        watch = cls()
        page.on("console", watch._console)
        page.on("pageerror", watch._page_error)
        page.on("websocket", watch._websocket)
        page.on("request", watch._request)
        return watch

    def take(self) -> list[str]:
        problems, self.problems = self.problems, []
        return problems

    def _page_error(self, error: Exception) -> None:
        text = f"page error: {error}"
        if any(marker in str(error) for marker in _FRONTEND_WEBRTC_RESTART_RACE):
            self.upstream_bugs.append(text)
        else:
            self.problems.append(text)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            url = str(message.location.get("url"))
            self._problem(f"console error: {message.text} ({url})", url)

    def _request(self, request: Request) -> None:
        host = urlsplit(request.url).hostname or ""
        if request.url.startswith(("http:", "https:", "ws:", "wss:")) and not host.startswith("127."):
            self._problem(f"request off this machine: {request.url}", request.url)

    def _problem(self, text: str, url: str) -> None:
        """A problem, unless it is the frontend mapping the stack of its own known error."""
        if url.startswith(_FRONTEND_SOURCES) and self.upstream_bugs:
            self.upstream_bugs.append(text)
        else:
            self.problems.append(text)

    def _websocket(self, ws: WebSocket) -> None:
        ws.on("framesent", self._sent)
        ws.on("framereceived", self._received)

    def _sent(self, payload: str | bytes) -> None:
        for message in _messages(payload):
            if "id" in message and "type" in message:
                self._commands[message["id"]] = message["type"]

    def _received(self, payload: str | bytes) -> None:
        for message in _messages(payload):
            if message.get("type") == "result" and message.get("success") is False:
                command = self._commands.get(message.get("id", -1), "?")
                self.problems.append(f"WebSocket {command} failed: {message.get('error')}")


def _messages(payload: str | bytes) -> list[dict[str, Any]]:
    """HA's WebSocket frames hold one JSON message, or a list of them when it coalesces."""
    try:
        decoded = json.loads(payload)
    except ValueError:
        return []
    items = decoded if isinstance(decoded, list) else [decoded]
    return [item for item in items if isinstance(item, dict)]


def login(page: Page, url: str, username: str, password: str) -> None:
    """Open `url`, which sends a new browser to HA's login page; log in there; back at `url`."""
    page.goto(url)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(url)


def open_page(page: Page, url: str, ready: str, timeout_ms: float = 30_000) -> None:
    """Go to `url` and wait for `ready` (a selector); a frontend stuck at "Loading…" fails here."""
    page.goto(url)
    try:
        page.locator(ready).first.wait_for(timeout=timeout_ms)
    except Exception as err:
        stuck = page.get_by_text("Loading").count() > 0
        why = " (stuck at Loading…)" if stuck else ""
        raise AssertionError(f"{url} never showed {ready!r}{why}") from err


def live_player(container: Locator) -> tuple[str, Locator]:
    """The transport the frontend chose inside `container` and the element that shows the frames.

    `webrtc` or `hls` (the player's <video>), `mjpeg` (an <img> on /api/camera_proxy_stream) or
    `still` (an <img> of snapshots).
    """
    # ha-camera-stream may hold several players and hide all but one (and falls back to MJPEG when
    # a stream fails), so the visible one is the transport in use.
    player = container.locator(f"{PLAYERS} >> visible=true").first
    # Eight tiles negotiate at once (Ring's through its cloud): under a loaded CI machine the last
    # players appear well after the first.
    try:
        player.wait_for(timeout=60_000)
    except PlaywrightTimeoutError as err:
        raise AssertionError(f"no player became visible: {what_the_tile_shows(container)}") from err
    tag = player.evaluate("el => el.tagName")
    if tag in TRANSPORTS:
        return TRANSPORTS[tag], player.locator("video")
    src = str(player.get_attribute("src") or "")
    return ("mjpeg" if "camera_proxy_stream" in src else "still"), player


def what_the_tile_shows(container: Locator) -> str:
    """A camera card's entity, its state as the frontend has it, the player elements inside the card
    (shown or hidden) and any text it shows (an error, "unavailable"): what a failed wait saw."""
    seen = container.evaluate(
        """el => {
          const entity = el._config && el._config.camera_image;
          const state = document.querySelector('home-assistant').hass.states[entity];
          const deep = (root, out) => {
            for (const node of root.querySelectorAll('*')) {
              if (/-PLAYER$|^IMG$|^VIDEO$|^HA-ALERT$/.test(node.tagName)) {
                const box = node.getBoundingClientRect();
                const src = (node.getAttribute('src') || '').split('?')[0];
                const loaded = node.complete && node.naturalWidth > 0;
                const img = node.tagName === 'IMG' ? ` ${src} loaded=${loaded}` : '';
                out.push(node.tagName.toLowerCase() + (node.checkVisibility() ? '' : ' (hidden)')
                         + ` ${Math.round(box.width)}x${Math.round(box.height)}` + img);
              }
              if (node.shadowRoot) deep(node.shadowRoot, out);
            }
            return out;
          };
          return {entity, state: state && state.state, elements: deep(el.shadowRoot || el, []),
                  text: (el.shadowRoot || el).textContent.replace(/\\s+/g, ' ').trim().slice(0, 300)};
        }"""
    )
    return json.dumps(seen)


# Reads camsim's clock band from a frame (a port of camsim.timestamp.read); `readStamp(el)` draws the
# <video>/<img> into a canvas at its own size and returns the epoch milliseconds, or null.
READ_STAMP_JS = """
const readStamp = (el) => {
  const BLOCKS = 64, START = [1, 0, 1, 1], END = [1, 1, 0, 1];
  const w = el.videoWidth || el.naturalWidth, h = el.videoHeight || el.naturalHeight;
  if (!w || !h || (el.readyState !== undefined && el.readyState < 2)) return null;
  const band = Math.max(1, Math.round(w * 2 / BLOCKS));
  const canvas = el.__stampCanvas || (el.__stampCanvas = document.createElement("canvas"));
  if (canvas.width !== w || canvas.height !== band) { canvas.width = w; canvas.height = band; }
  const g = canvas.getContext("2d", {willReadFrequently: true});
  g.drawImage(el, 0, 0, w, h);
  const r0 = Math.floor(band / 4), r1 = Math.max(r0 + 1, Math.floor(3 * band / 4));
  const px = g.getImageData(0, r0, w, r1 - r0).data;
  const levels = [];
  for (let i = 0; i < BLOCKS; i++) {
    const left = Math.floor(i * w / BLOCKS), right = Math.floor((i + 1) * w / BLOCKS);
    const margin = Math.floor((right - left) / 4);
    const a = left + margin, b = Math.max(a + 1, right - margin);
    let sum = 0, n = 0;
    for (let y = 0; y < r1 - r0; y++) for (let x = a; x < b; x++) {
      const k = (y * w + x) * 4; sum += 0.299 * px[k] + 0.587 * px[k + 1] + 0.114 * px[k + 2]; n++;
    }
    levels.push(sum / n);
  }
  const guards = [...START.map((bit, i) => [bit, levels[i]]), ...END.map((bit, i) => [bit, levels[60 + i]])];
  const white = Math.min(...guards.filter(([bit]) => bit).map(([, l]) => l));
  const black = Math.max(...guards.filter(([bit]) => !bit).map(([, l]) => l));
  if (white - black < 64) return null;
  const bits = levels.map((l) => (l > (white + black) / 2 ? 1 : 0));
  if (START.some((bit, i) => bits[i] !== bit) || END.some((bit, i) => bits[60 + i] !== bit)) return null;
  let millis = 0, crcBits = 0;
  for (let i = 4; i < 52; i++) millis = millis * 2 + bits[i];
  for (let i = 52; i < 60; i++) crcBits = crcBits * 2 + bits[i];
  let crc = 0;
  for (let j = 5; j >= 0; j--) {
    crc ^= Math.floor(millis / 2 ** (8 * j)) % 256;
    for (let k = 0; k < 8; k++) crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
  }
  return crc === crcBits ? millis : null;
};
"""

# True once the element has shown `count` different camsim clocks, each at most `maxAgeMs` old when
# read: the picture moves, and it is live (not a poster or a stale snapshot).
IS_LIVE_JS = (
    "([el, count, maxAgeMs]) => {"
    + READ_STAMP_JS
    + """
  const stamp = readStamp(el);
  if (stamp === null || Date.now() - stamp > maxAgeMs) return false;
  el.__liveStamps = el.__liveStamps || new Set();
  el.__liveStamps.add(stamp);
  return el.__liveStamps.size >= count;
}"""
)


def wait_until_live(
    element: Locator, timeout_ms: float = 30_000, frames: int = 3, max_age_ms: int = 10_000
) -> None:
    """Wait until `element` (a <video> or <img>) shows camsim's picture, moving and live."""
    element.evaluate("el => { delete el.__liveStamps; }")
    element.page.wait_for_function(
        IS_LIVE_JS, arg=[element.element_handle(), frames, max_age_ms], polling=100, timeout=timeout_ms
    )


# Collects `frames` latencies: wall clock when a frame is painted minus the clock burned into it.
# <video>: requestVideoFrameCallback gives each presented frame and its display time. <img> (MJPEG)
# has no such callback: it is read on every animation frame and a new clock counts once.
GLASS_TO_GLASS_JS = (
    "([el, frames, timeoutMs]) => {"
    + READ_STAMP_JS
    + """
  return new Promise((resolve) => {
    const samples = [];
    let last = null, done = false;
    const finish = () => { if (!done) { done = true; resolve(samples); } };
    setTimeout(finish, timeoutMs);
    const record = (paintedAt) => {
      const stamp = readStamp(el);
      if (stamp !== null && stamp !== last) { samples.push(paintedAt - stamp); last = stamp; }
      if (samples.length >= frames) finish();
    };
    if (el.tagName === "VIDEO") {
      const step = (now, meta) => {
        record(performance.timeOrigin + meta.expectedDisplayTime);
        if (!done) el.requestVideoFrameCallback(step);
      };
      el.requestVideoFrameCallback(step);
    } else {
      const step = (now) => { record(performance.timeOrigin + now); if (!done) requestAnimationFrame(step); };
      requestAnimationFrame(step);
    }
  });
}"""
)


@dataclass(frozen=True)
class Latency:
    p50_ms: float
    p95_ms: float
    frames: int

    def as_dict(self) -> dict[str, float | int]:
        return {"p50": self.p50_ms, "p95": self.p95_ms, "frames": self.frames}


def glass_to_glass(element: Locator, frames: int = 60, timeout_ms: float = 30_000) -> Latency:
    """Camera clock to screen, over `frames` painted frames of `element` (a <video> or MJPEG <img>)."""
    samples: list[float] = element.page.evaluate(
        GLASS_TO_GLASS_JS, [element.element_handle(), frames, timeout_ms]
    )
    if len(samples) < 2:
        raise AssertionError(f"only {len(samples)} frames with a readable clock in {timeout_ms / 1000:.0f} s")
    cuts = statistics.quantiles(samples, n=20, method="inclusive")
    return Latency(round(statistics.median(samples), 1), round(cuts[18], 1), len(samples))


# Puts a player for `entity` of the given transport on top of the current HA page. HA's own players
# (defined once a camera card has been shown) take their settings from the frontend's context, so the
# player goes inside the panel's element tree; MJPEG is the <img> HA's frontend uses, on the entity's
# access token.
OPEN_PLAYER_JS = """
async (panel, [transport, entity]) => {
  const hass = document.querySelector("home-assistant").hass;
  panel.querySelector("#camera-hub-probe")?.remove();
  const box = document.createElement("div");
  box.id = "camera-hub-probe";
  box.style.cssText = "position:fixed;left:0;top:0;width:640px;height:360px;z-index:100000;background:#000";
  panel.append(box);
  if (transport === "mjpeg") {
    const img = document.createElement("img");
    img.src = `/api/camera_proxy_stream/${entity}?token=${hass.states[entity].attributes.access_token}`;
    img.style.cssText = "width:100%;height:100%";
    box.append(img);
    return;
  }
  const tag = {hls: "ha-hls-player", webrtc: "ha-web-rtc-player"}[transport];
  await customElements.whenDefined(tag);
  const player = document.createElement(tag);
  // As HA's ha-camera-stream does: autoplay and playsinline are attributes, the rest properties.
  player.setAttribute("autoplay", "");
  player.setAttribute("playsinline", "");
  Object.assign(player, {hass, entityid: entity, muted: true, controls: false});
  box.append(player);
}
"""


def load_players(page: Page, entity_id: str) -> str:
    """Have the frontend load its camera players (lazily loaded code), through the camera's more-info
    dialog as a person would open it; returns the transport that dialog chose."""
    more_info = "(ha, entityId) => ha.dispatchEvent(new CustomEvent('hass-more-info', {detail: {entityId}}))"
    page.locator("home-assistant").evaluate(more_info, entity_id)
    transport, element = live_player(page.locator("ha-more-info-dialog"))
    wait_until_live(element)
    page.keyboard.press("Escape")
    page.locator("ha-more-info-dialog ha-camera-stream").wait_for(state="detached")
    return transport


def measure_transports(
    page: Page, entity_id: str, transports: tuple[str, ...] = ("webrtc", "hls", "mjpeg"), frames: int = 60
) -> dict[str, dict[str, float | int] | str]:
    """Glass-to-glass of `entity_id` over each transport, one after another on `page` (logged in);
    a transport that does not play gives its error instead of figures."""
    load_players(page, entity_id)
    results: dict[str, dict[str, float | int] | str] = {}
    for transport in transports:
        try:
            element = open_player(page, transport, entity_id)
            wait_until_live(element)
            results[transport] = glass_to_glass(element, frames).as_dict()
        except Exception as err:  # noqa: BLE001 - reported per transport; the others still run
            results[transport] = f"{type(err).__name__}: {str(err).splitlines()[0]}"
        finally:
            close_player(page)
    return results


def open_player(page: Page, transport: str, entity_id: str) -> Locator:
    """A `transport` ("hls", "mjpeg", "webrtc") player of `entity_id` on `page`; its frame element."""
    page.locator(PANEL).evaluate(OPEN_PLAYER_JS, [transport, entity_id])
    probe = page.locator("#camera-hub-probe")
    return probe.locator("img") if transport == "mjpeg" else probe.locator("video")


def close_player(page: Page) -> None:
    page.locator(PANEL).evaluate('panel => panel.querySelector("#camera-hub-probe")?.remove()')
