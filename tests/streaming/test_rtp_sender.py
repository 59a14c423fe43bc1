"""The shared RTP path (streaming/rtp_sender.py): what it writes is what aiortc would have written.

The shared sender reaches into aiortc's private state (pinned aiortc); these tests fail first when
an aiortc upgrade moves it: the bytes against aiortc's own serializer, the sender reports and
retransmissions a real aiortc viewer receives, and one packetization per access unit per camera.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from aioice.ice import StunProtocol
from aiortc.rtcrtpparameters import RTCRtcpParameters, RTCRtpHeaderExtensionParameters, RTCRtpSendParameters
from aiortc.rtp import HeaderExtensionsMap, RtpPacket

from custom_components.camera_hub.streaming.frames import FrameHub
from custom_components.camera_hub.streaming.rtp_sender import (
    SENDER_PRIVATE_ATTRIBUTES,
    RtpHeader,
    SharedRtpSender,
    ntp_now,
)
from custom_components.camera_hub.streaming.webrtc import WebRtcServer
from scripts.lib.webrtc_client import WebRtcViewer
from tests.streaming.test_frames import poll
from tests.streaming.test_webrtc import connect

pytestmark = pytest.mark.usefixtures("socket_enabled", "real_network_adapters")

MID = "urn:ietf:params:rtp-hdrext:sdes:mid"
ABS_SEND_TIME = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"


def parameters(*extensions: tuple[str, int], mid: str = "0") -> RTCRtpSendParameters:
    return RTCRtpSendParameters(
        headerExtensions=[RTCRtpHeaderExtensionParameters(uri=uri, id=ext_id) for uri, ext_id in extensions],
        muxId=mid,
        rtcp=RTCRtcpParameters(cname="test"),
    )


@pytest.mark.parametrize(
    ("extensions", "mid"),
    [
        (((MID, 4), (ABS_SEND_TIME, 2)), "0"),
        (((ABS_SEND_TIME, 3), (MID, 1)), "video12"),
        (((MID, 9),), "1"),
        (((ABS_SEND_TIME, 14),), "0"),
        ((), "0"),
    ],
)
@pytest.mark.parametrize("marker", [False, True])
def test_header_bytes_are_aiortcs(extensions: tuple[tuple[str, int], ...], mid: str, marker: bool) -> None:
    params = parameters(*extensions, mid=mid)
    ntp = ntp_now()
    payload = b"\x65" + bytes(range(200))
    ours = RtpHeader(0xDEADBEEF, params, 102).build(40_000, 0xFFFF_FFF0, marker, ntp) + payload

    packet = RtpPacket(
        payload_type=102, marker=int(marker), sequence_number=40_000, timestamp=0xFFFF_FFF0, ssrc=0xDEADBEEF
    )
    packet.payload = payload
    packet.extensions.mid = mid
    packet.extensions.abs_send_time = (ntp >> 14) & 0xFFFFFF
    extension_ids = HeaderExtensionsMap()
    extension_ids.configure(params)
    assert ours == packet.serialize(extension_ids)


def sender_of(server: WebRtcServer, session_id: str) -> SharedRtpSender:
    sender = server.peer_connection(session_id).getTransceivers()[0].sender
    assert isinstance(sender, SharedRtpSender)
    return sender


async def all_live(server: WebRtcServer) -> None:
    async def live() -> bool:
        return all(server.track(session_id).live for session_id in server.session_ids)

    await poll(live, "every viewer takes live packets straight from the hub")


async def test_viewers_share_one_packetization_and_keep_playing_when_one_leaves(hub: FrameHub) -> None:
    server = WebRtcServer(hub)
    viewers = [await connect(server, f"s{i}") for i in range(3)]
    try:
        for viewer in viewers:
            await viewer.next_frame()
        await all_live(server)
        sender = sender_of(server, "s0")
        for name in SENDER_PRIVATE_ATTRIBUTES:
            assert hasattr(sender, "_RTCRtpSender__" + name), f"aiortc no longer has {name}"
        nominated = sender.transport.transport._connection._nominated
        assert all(isinstance(pair.protocol, StunProtocol) for pair in nominated.values())

        track = server.track("s0")
        packetized_before, sent_before = server.packetizer.packetized, track.sent_packets
        for _ in range(15):
            await viewers[0].next_frame()
        packetized = server.packetizer.packetized - packetized_before
        sent = track.sent_packets - sent_before
        assert sent >= 10
        # Once per access unit for the three viewers (±1 for the window's edges), not three times.
        assert packetized <= sent + 1

        await viewers[2].close()
        server.close("s2")
        for viewer in viewers[:2]:
            for _ in range(5):
                await viewer.next_frame()
    finally:
        for viewer in viewers:
            await viewer.close()
        await server.async_close_all()


async def remote_outbound(viewer: WebRtcViewer) -> Any:
    """What the viewer last read from the sender's RTCP sender report."""
    for receiver in viewer.pc.getReceivers():  # only the video one hears from a sender
        for stats in (await receiver.getStats()).values():
            if stats.type == "remote-outbound-rtp":
                return stats
    return None


async def test_sender_reports_count_what_the_viewer_was_sent(hub: FrameHub) -> None:
    server = WebRtcServer(hub)
    viewer = await connect(server, "s0")
    try:
        await viewer.next_frame()
        sender = sender_of(server, "s0")

        async def reported() -> bool:
            stats = await remote_outbound(viewer)
            return stats is not None and stats.packetsSent > 20

        await poll(reported, "the viewer got a sender report counting the packets sent")
        stats = await remote_outbound(viewer)
        sent = vars(sender)["_RTCRtpSender__packet_count"]
        assert 20 < stats.packetsSent <= sent
        assert stats.bytesSent > stats.packetsSent * 10  # octets of payload, not packets
    finally:
        await viewer.close()
        await server.async_close_all()


async def test_a_lost_packet_is_resent_as_it_was_first_sent(
    hub: FrameHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: dict[int, bytes] = {}
    original = SharedRtpSender.direct_send

    def recording(self: SharedRtpSender) -> Callable[[bytes], None]:
        send = original(self)

        def record(data: bytes) -> None:
            sent[int.from_bytes(data[2:4])] = data
            send(data)

        return record

    monkeypatch.setattr(SharedRtpSender, "direct_send", recording)
    server = WebRtcServer(hub)
    viewer = await connect(server, "s0")
    try:
        await viewer.next_frame()
        sender = sender_of(server, "s0")
        lane = sender._lane
        assert lane is not None
        sequence_number = max(sent)
        packet = lane.packet(sequence_number)
        assert packet is not None
        packet.extensions.mid = sender._parameters.muxId
        assert (
            packet.serialize(vars(sender)["_RTCRtpSender__rtp_header_extensions_map"])
            == sent[sequence_number]
        )

        dtls_state = vars(sender.transport)
        before = dtls_state["_RTCDtlsTransport__tx_packets"]
        await sender._retransmit(sequence_number)  # what a NACK from the browser runs
        assert dtls_state["_RTCDtlsTransport__tx_packets"] == before + 1
        await sender._retransmit((sequence_number + 30_000) % 65_536)  # never sent
        assert dtls_state["_RTCDtlsTransport__tx_packets"] == before + 1
        await asyncio.wait_for(viewer.next_frame(), 10)
    finally:
        await viewer.close()
        await server.async_close_all()
