"""RTP for the WebRTC viewers of one camera, without aiortc's per-viewer media loop.

aiortc's `RTCRtpSender` runs one task per viewer that awaits the track, packetizes the access unit,
builds an `RtpPacket` object, serializes it and sends it down three layers of coroutines: about 50 µs
of CPU per packet per viewer, so 10 viewers of one camera cost 2.4× one (bench/README.md). Here:

- the camera's access unit is packetized once (`Packetizer`), however many viewers get it;
- a viewer that has caught up with live is handed each packet in the one event-loop callback that
  delivers it from the hub (`PacketSubscription.hand_over`): no task wakes per viewer;
- per viewer only the 12-byte header and its extensions, SRTP and one `sendto` remain.

A viewer still replaying the GOP cache has its own paced loop until it has caught up.

aiortc keeps doing the rest: ICE, DTLS, SRTP keys, receiver reports, sender reports (from the
counters kept here) and NACK retransmissions (from the history kept here). The coupling to aiortc's
private attributes lives in `SharedRtpSender` only; aiortc is pinned (manifest.json) and
tests/streaming/test_rtp_sender.py checks every attribute used, the bytes against aiortc's own
serializer, sender reports and retransmissions.
"""

# This module is the one place that reaches into aiortc's and aioice's internals (see above).
# ruff: noqa: SLF001

from __future__ import annotations

import asyncio
import struct
import time
from collections.abc import Callable
from typing import Any, Protocol

from aioice.ice import StunProtocol
from aiortc import RTCRtpSender
from aiortc.codecs.h264 import H264Encoder
from aiortc.mediastreams import MediaStreamError
from aiortc.rtcdtlstransport import State as DtlsState
from aiortc.rtcrtpparameters import RTCRtpCodecParameters, RTCRtpSendParameters
from aiortc.rtcrtpsender import random_sequence_number
from aiortc.rtp import RTP_HISTORY_SIZE, RtpPacket, wrap_rtx
from aiortc.utils import random32, uint16_add, uint32_add

from .frames import EncodedPacket

_MID_URI = "urn:ietf:params:rtp-hdrext:sdes:mid"
_ABS_SEND_TIME_URI = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
_RTP_HEADER = struct.Struct("!BBHII")
_VERSION_2_WITH_EXTENSION = 0x90
_ONE_BYTE_PROFILE = 0xBEDE
# aiortc's name-mangled `RTCRtpSender` attributes this module reads or writes (all through `_private`).
_SENDER_PRIVATE = "_RTCRtpSender__"
SENDER_PRIVATE_ATTRIBUTES = (
    "packet_count",
    "octet_count",
    "rtp_timestamp",
    "ntp_timestamp",
    "rtp_started",
    "rtp_exited",
    "rtx_payload_type",
    "rtx_sequence_number",
    "rtp_header_extensions_map",
)
_PACKET_COUNT, _OCTET_COUNT, _RTP_TIMESTAMP, _NTP_TIMESTAMP = (
    _SENDER_PRIVATE + name for name in SENDER_PRIVATE_ATTRIBUTES[:4]
)
# Seconds between 1900 (NTP's epoch) and 1970 (Unix time).
_NTP_EPOCH_OFFSET = 2_208_988_800


def ntp_now() -> int:
    """The wall clock as a 64-bit NTP timestamp (aiortc's `clock.current_ntp_time`, without datetime)."""
    return int((time.time() + _NTP_EPOCH_OFFSET) * (1 << 32))


class Packetizer:
    """One camera's access units as RTP payloads, packetized once for all of its viewers.

    Live viewers are handed the same packet one after another, so remembering the last one is enough;
    a replaying viewer's older packets are packetized for it alone.
    """

    def __init__(self) -> None:
        self._last: EncodedPacket | None = None
        self._last_payloads: list[bytes] = []
        self.packetized = 0

    def payloads(self, packet: EncodedPacket) -> list[bytes]:
        if packet is not self._last:
            self._last = packet
            self._last_payloads = H264Encoder._packetize(H264Encoder._split_bitstream(packet.data))
            self.packetized += 1
        return self._last_payloads


class RtpHeader:
    """A viewer's RTP header and extensions (mid, abs-send-time), written without `RtpPacket`."""

    def __init__(self, ssrc: int, parameters: RTCRtpSendParameters, payload_type: int) -> None:
        self.ssrc = ssrc
        self.payload_type = payload_type
        ids = {ext.uri: ext.id for ext in parameters.headerExtensions}
        mid = (parameters.muxId or "").encode()
        self._mid = bytes([(ids[_MID_URI] << 4) | (len(mid) - 1)]) + mid if _MID_URI in ids and mid else b""
        abs_send_time_id = ids.get(_ABS_SEND_TIME_URI)
        self._abs_send_time = bytes([(abs_send_time_id << 4) | 2]) if abs_send_time_id else b""

    def build(self, sequence_number: int, timestamp: int, marker: bool, ntp: int) -> bytes:
        extensions = self._mid
        if self._abs_send_time:
            extensions += self._abs_send_time + ((ntp >> 14) & 0xFFFFFF).to_bytes(3)
        extensions += b"\x00" * (-len(extensions) % 4)
        first = _RTP_HEADER.pack(
            _VERSION_2_WITH_EXTENSION if extensions else 0x80,
            (0x80 if marker else 0) | self.payload_type,
            sequence_number,
            timestamp,
            self.ssrc,
        )
        if not extensions:
            return first
        return first + struct.pack("!HH", _ONE_BYTE_PROFILE, len(extensions) // 4) + extensions


class LaneSource(Protocol):
    """What `SharedRtpSender` needs from its track (webrtc.HubVideoTrack)."""

    packetizer: Packetizer

    async def stream_to(self, lane: Lane) -> None: ...

    def stop(self) -> None: ...


class Lane:
    """One viewer's RTP stream: header state, counters for sender reports, history for NACKs."""

    def __init__(self, sender: SharedRtpSender, header: RtpHeader, packetizer: Packetizer) -> None:
        self._sender = sender
        self._header = header
        self._packetizer = packetizer
        self._sequence_number = random_sequence_number()
        self._timestamp_origin = random32()
        self._history: dict[int, tuple[int, int, bool, bytes, int]] = {}
        self.ended: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def send(self, packet: EncodedPacket, timestamp: int) -> None:
        """Every RTP packet of one access unit; raises ConnectionError once the viewer is gone."""
        send = self._sender.direct_send()
        payloads = self._packetizer.payloads(packet)
        rtp_timestamp = uint32_add(self._timestamp_origin, timestamp)
        ntp = ntp_now()
        last = len(payloads) - 1
        octets = 0
        for index, payload in enumerate(payloads):
            sequence_number = self._sequence_number
            marker = index == last
            send(self._header.build(sequence_number, rtp_timestamp, marker, ntp) + payload)
            self._history[sequence_number % RTP_HISTORY_SIZE] = (
                sequence_number,
                rtp_timestamp,
                marker,
                payload,
                ntp,
            )
            self._sequence_number = uint16_add(sequence_number, 1)
            octets += len(payload)
        self._sender.count_sent(len(payloads), octets, rtp_timestamp, ntp)

    def send_live(self, packet: EncodedPacket, timestamp: int) -> None:
        """`send` from the hub's delivery callback: a failure ends this viewer, never the others."""
        try:
            self.send(packet, timestamp)
        except ConnectionError as err:
            if not self.ended.done():
                self.ended.set_exception(err)

    def packet(self, sequence_number: int) -> RtpPacket | None:
        """A packet still in the history, rebuilt for a retransmission."""
        entry = self._history.get(sequence_number % RTP_HISTORY_SIZE)
        if entry is None or entry[0] != sequence_number:
            return None
        _, timestamp, marker, payload, ntp = entry
        packet = RtpPacket(
            payload_type=self._header.payload_type,
            marker=int(marker),
            sequence_number=sequence_number,
            timestamp=timestamp,
            ssrc=self._header.ssrc,
            payload=payload,
        )
        packet.extensions.abs_send_time = (ntp >> 14) & 0xFFFFFF
        return packet

    def end(self) -> None:
        if not self.ended.done():
            self.ended.set_result(None)


class SharedRtpSender(RTCRtpSender):
    """An `RTCRtpSender` whose media loop is a `Lane` fed by the camera's hub (see the module doc).

    Made by changing the class of the sender aiortc created (`adopt`): aiortc builds senders itself,
    inside `addTransceiver`.
    """

    _parameters: RTCRtpSendParameters
    _lane: Lane | None

    @classmethod
    def adopt(cls, sender: RTCRtpSender) -> SharedRtpSender:
        sender.__class__ = cls
        assert isinstance(sender, SharedRtpSender)
        sender._lane = None
        return sender

    async def send(self, parameters: RTCRtpSendParameters) -> None:
        self._parameters = parameters
        await super().send(parameters)

    def direct_send(self) -> Callable[[bytes], None]:
        """Encrypt and send one RTP packet now, as `RTCDtlsTransport._send_rtp` would (synchronously)."""
        dtls = self.transport
        if dtls._state != DtlsState.CONNECTED:
            raise ConnectionError("Cannot send encrypted RTP, not connected")
        pair = dtls.transport._connection._nominated.get(1)
        if pair is None:
            raise ConnectionError("Cannot send data, not connected")
        protocol: StunProtocol = pair.protocol
        # aioice's `StunProtocol.send_data` is a coroutine that only calls this, for TURN relays too
        # (the transport is then aioice's TurnTransport, which sends through the relay).
        sendto = protocol.transport.sendto
        protect = dtls._tx_srtp.protect
        address = pair.remote_addr
        return lambda data: sendto(protect(data), address)

    def _private(self, name: str) -> Any:
        return getattr(self, _SENDER_PRIVATE + name)

    def _set_private(self, name: str, value: Any) -> None:
        setattr(self, _SENDER_PRIVATE + name, value)

    def count_sent(self, packets: int, octets: int, rtp_timestamp: int, ntp: int) -> None:
        """What the sender reports (RTCP SR) and `getStats` read."""
        state = vars(self)  # once per access unit per viewer: the instance dict, not four getattr calls
        state[_PACKET_COUNT] += packets
        state[_OCTET_COUNT] += octets
        state[_RTP_TIMESTAMP] = rtp_timestamp
        state[_NTP_TIMESTAMP] = ntp

    async def _run_rtp(self, codec: RTCRtpCodecParameters) -> None:
        source: LaneSource = self.track  # type: ignore[assignment]  # adopted only for HubVideoTrack
        self._private("rtp_started").set()
        assert codec.payloadType is not None  # aiortc gives negotiated codecs their payload type
        self._lane = Lane(self, RtpHeader(self._ssrc, self._parameters, codec.payloadType), source.packetizer)
        try:
            await source.stream_to(self._lane)
        except asyncio.CancelledError, ConnectionError, MediaStreamError:
            pass
        finally:
            self._lane.end()
            source.stop()
            self._private("rtp_exited").set()

    async def _retransmit(self, sequence_number: int) -> None:
        packet = self._lane.packet(sequence_number) if self._lane is not None else None
        if packet is None:
            return
        packet.extensions.mid = self._parameters.muxId
        rtx_payload_type = self._private("rtx_payload_type")
        if rtx_payload_type is not None:
            sequence_number = self._private("rtx_sequence_number")
            packet = wrap_rtx(
                packet, payload_type=rtx_payload_type, sequence_number=sequence_number, ssrc=self._rtx_ssrc
            )
            self._set_private("rtx_sequence_number", uint16_add(sequence_number, 1))
        data = packet.serialize(self._private("rtp_header_extensions_map"))
        await self.transport._send_rtp(data)
