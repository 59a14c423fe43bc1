"""Ring live view: the browser's WebRTC offer answered by Ring's cloud, through the library's signalling.

ring-doorbell's `RingWebRtcStream` speaks Ring's signalling (ticket, WebSocket, `live_view`, trickled
candidates, `activate_session`, pings). Three things it gets wrong are fixed here, in a subclass, without
touching the library:

- It corrects the answer's direction on the first media line only (a consumed `re.finditer`), and Ring
  answers recvonly offers with `a=sendrecv`: Chrome ≥143 refuses such answers ("Incompatible send
  direction"). Every media line (and every directional `a=extmap`) is normalised to what the offer allows.
- On Ring's `close` message its reader awaits itself ("Task cannot await on itself"): the browser never
  hears of it and later live views break. Here the reader reports the close as an error and tears the
  session down without awaiting itself.
- A socket that simply ends, or a ping into a closed socket, ends silently or as a stray task error.

Every browser session has its own signalling socket, so sessions of one camera are independent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable, Coroutine
from typing import Any

from ring_doorbell import RingError, RingGeneric
from ring_doorbell.webrtcstream import RingWebRtcMessage, RingWebRtcStream
from webrtc_models import RTCIceCandidateInit
from websockets.exceptions import ConnectionClosed, WebSocketException

from ..base import (
    CommandFailed,
    Picture,
    Unreachable,
    WebRtcAnswer,
    WebRtcCandidate,
    WebRtcError,
    WebRtcMessage,
)

_LOGGER = logging.getLogger(__name__)

type Send = Callable[[WebRtcMessage], None]
type PictureSource = Callable[[], Coroutine[Any, Any, Picture | None]]

# (sends, receives) of each SDP direction attribute.
_DIRECTIONS: dict[str, tuple[bool, bool]] = {
    "sendrecv": (True, True),
    "sendonly": (True, False),
    "recvonly": (False, True),
    "inactive": (False, False),
}
_NAMES = {flags: name for name, flags in _DIRECTIONS.items()}
_DIRECTION_LINE = re.compile(r"^a=(sendrecv|sendonly|recvonly|inactive)\r?\n?$")
_EXTMAP_LINE = re.compile(r"^a=extmap:(\d+)/(sendrecv|sendonly|recvonly|inactive)( .*)?(\r?\n?)$", re.DOTALL)

ERROR_CLOSED = "ring_closed"
ERROR_ENDED = "ring_ended"


# --- the answer's directions ----------------------------------------------------------------


def _split_sections(sdp: str) -> list[list[str]]:
    """The session part, then one list of lines (with their endings) per media section."""
    sections: list[list[str]] = [[]]
    for line in sdp.splitlines(keepends=True):
        if line.startswith("m="):
            sections.append([])
        sections[-1].append(line)
    return sections


def _direction_of(lines: list[str]) -> str | None:
    for line in lines:
        if match := _DIRECTION_LINE.match(line):
            return match.group(1)
    return None


def _intersect(a: str, b: str) -> str:
    (send_a, recv_a), (send_b, recv_b) = _DIRECTIONS[a], _DIRECTIONS[b]
    return _NAMES[(send_a and send_b, recv_a and recv_b)]


def _allowed_by(offered: str) -> str:
    """The widest answer direction RFC 3264 allows for an offered direction (the mirror image)."""
    sends, receives = _DIRECTIONS[offered]
    return _NAMES[(receives, sends)]


def _is_rejected(section: list[str]) -> bool:
    """A media line with port 0: declined, its attributes do not matter."""
    parts = section[0].split()
    return len(parts) > 1 and parts[1] == "0"


def _normalised_section(section: list[str], direction: str, newline: str) -> list[str]:
    """`section` with exactly `direction`, and directional extmaps no wider than it."""
    lines: list[str] = []
    for line in section:
        if _DIRECTION_LINE.match(line):
            continue
        if match := _EXTMAP_LINE.match(line):
            narrowed = _intersect(match.group(2), direction)
            line = f"a=extmap:{match.group(1)}/{narrowed}{match.group(3) or ''}{match.group(4)}"
        lines.append(line)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += newline
    lines.append(f"a={direction}{newline}")
    return lines


def _extmap_wider_than(section: list[str], direction: str) -> bool:
    return any(
        (match := _EXTMAP_LINE.match(line)) is not None
        and _intersect(match.group(2), direction) != match.group(2)
        for line in section
    )


def answer_matching_offer(offer: str, answer: str) -> str:
    """`answer` with every media line's direction narrowed to what the offer's same line allows.

    An offer's recvonly line answered sendrecv becomes sendonly (Ring does that on every line; the
    library fixes only the first). Lines already compatible keep their direction.
    """
    offer_sections = _split_sections(offer)
    answer_sections = _split_sections(answer)
    newline = "\r\n" if "\r\n" in answer else "\n"
    offer_default = _direction_of(offer_sections[0]) or "sendrecv"
    answer_default = _direction_of(answer_sections[0]) or "sendrecv"
    fixed = [answer_sections[0]]
    for index, section in enumerate(answer_sections[1:], start=1):
        if index >= len(offer_sections) or _is_rejected(section):
            fixed.append(section)
            continue
        offered = _direction_of(offer_sections[index]) or offer_default
        answered = _direction_of(section) or answer_default
        wanted = _intersect(answered, _allowed_by(offered))
        if wanted == _direction_of(section) and not _extmap_wider_than(section, wanted):
            fixed.append(section)
        else:
            fixed.append(_normalised_section(section, wanted, newline))
    return "".join(line for section in fixed for line in section)


# --- one live view ----------------------------------------------------------------------------


class _RingSignalling(RingWebRtcStream):
    """The library's signalling for one browser session, with the answer, close and teardown fixed."""

    def __init__(self, device: RingGeneric, send: Send, on_ended: Callable[[], None]):
        # keep_alive_timeout=None: ping for as long as the browser watches (Ring ends an unpinged
        # session with close code 6); the session ends when the browser leaves.
        super().__init__(
            device._ring,  # noqa: SLF001 - the library's own stream needs the account, as its device passes it
            device.device_api_id,
            keep_alive_timeout=None,
            on_message_callback=self._deliver,
        )
        self._send = send
        self._on_ended = on_ended
        self._leaving = False  # the browser left: nothing more to tell it
        self._told_error = False

    def _deliver(self, message: RingWebRtcMessage) -> None:
        if self._leaving:
            return
        if message.answer is not None:
            self._send(WebRtcAnswer(sdp=message.answer))
        elif message.candidate:
            candidate = RTCIceCandidateInit(message.candidate, sdp_m_line_index=message.sdp_m_line_index or 0)
            self._send(WebRtcCandidate(candidate=candidate))

    def _tell_error(self, code: str, message: str) -> None:
        if self._leaving or self._told_error:
            return
        self._told_error = True
        self._send(WebRtcError(code=code, message=message))

    def force_correct_sdp_answer(self) -> None:
        """Every media line, not only the first (the library's loop reuses a consumed iterator)."""
        if isinstance(self.sdp, str) and isinstance(self.sdp_offer, str):
            self.sdp = answer_matching_offer(self.sdp_offer, self.sdp)

    async def handle_close_message(self, message: dict[str, Any]) -> None:
        """Ring ended the session: tell the browser. Teardown follows when the reader ends, which it
        does as Ring closes the socket (the library would await its own reader task here)."""
        reason = (message.get("body") or {}).get("reason") or {}
        code, text = reason.get("code"), reason.get("text") or "no reason given"
        _LOGGER.debug("Ring closed live view of %s: code %s", self.device_api_id, code)
        self.is_alive = False
        self._tell_error(ERROR_CLOSED, f"Ring ended the live view (code {code}: {text})")
        if (websocket := self.websocket) is not None:
            await websocket.close()  # from the reader itself: ends the reader's loop, nothing awaits it

    async def reader(self) -> None:
        try:
            await super().reader()
        except ConnectionClosed:
            pass  # a socket Ring broke off: reported below like one it closed
        except (KeyError, TypeError, ValueError) as err:
            _LOGGER.debug("Ring sent a live-view message Camera Hub cannot read: %s", type(err).__name__)
        except AttributeError:
            if self.websocket is not None:
                raise
            # The browser closed the session while Ring's answer was being handled: the library then
            # sends its "activate" on the socket it has just dropped (seen with HA 2026.11's frontend,
            # which starts a live view twice and closes the first at once).
        finally:
            self._tell_error(ERROR_ENDED, "Ring ended the live view")
            await self._release(from_reader=True)

    async def pinger(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            await super().pinger()

    async def leave(self) -> None:
        """The browser left: close the socket (Ring hangs up) and wait for the reader to finish."""
        self._leaving = True
        await self._release(from_reader=False)

    async def _release(self, *, from_reader: bool) -> None:
        self.is_alive = False
        if (ping_task := self.ping_task) is not None:
            self.ping_task = None
            ping_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ping_task
        if (websocket := self.websocket) is not None:
            self.websocket = None
            with contextlib.suppress(WebSocketException, OSError):
                await websocket.close()
        read_task, self.read_task = self.read_task, None
        if read_task is not None and not from_reader:
            with contextlib.suppress(asyncio.CancelledError):
                await read_task
        if from_reader:
            self._on_ended()


class RingLiveView:
    """A Ring camera's live view (`CloudWebRtcVideo`): one signalling socket per browser session."""

    def __init__(self, device: RingGeneric, *, picture: PictureSource) -> None:
        self._device = device
        self._picture = picture
        self._sessions: dict[str, _RingSignalling] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def session_ids(self) -> list[str]:
        return list(self._sessions)

    async def async_offer(self, session_id: str, offer_sdp: str, send: Send) -> None:
        def ended() -> None:
            if self._sessions.get(session_id) is stream:
                del self._sessions[session_id]

        stream = _RingSignalling(self._device, send, ended)
        self._sessions[session_id] = stream
        try:
            await stream.generate(offer_sdp)
        except RingError as err:
            # The cause may carry the signalling URL, whose query holds the ticket: not in the message.
            _LOGGER.debug("Ring live view not opened: %s", type(err.__cause__).__name__)
            ended()
            await stream.leave()
            raise Unreachable("Ring did not open a live view") from None

    async def async_candidate(self, session_id: str, candidate: RTCIceCandidateInit) -> None:
        if (stream := self._sessions.get(session_id)) is None:
            raise CommandFailed("no Ring live view with this session id")
        if not candidate.candidate:
            return  # end of candidates: Ring's signalling has no message for it
        index = candidate.sdp_m_line_index
        if index is None and candidate.sdp_mid is not None and candidate.sdp_mid.isdigit():
            index = int(candidate.sdp_mid)
        if index is None:
            raise CommandFailed("a candidate for Ring needs its media line index")
        try:
            await stream.on_ice_candidate(candidate.candidate, index)
        except (ConnectionClosed, TimeoutError, AssertionError) as err:
            raise CommandFailed("the Ring live view has ended") from err

    def close_session(self, session_id: str) -> None:
        if (stream := self._sessions.pop(session_id, None)) is None:
            return
        task = asyncio.get_running_loop().create_task(stream.leave(), name="ring live view close")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def async_close(self) -> None:
        """End every session and wait until their sockets are closed (the account is unloading)."""
        for session_id in list(self._sessions):
            self.close_session(session_id)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def async_picture(self) -> Picture | None:
        return await self._picture()
