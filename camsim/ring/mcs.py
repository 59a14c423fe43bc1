"""Google's MCS wire protocol (the mtalk push socket), server side, as firebase-messaging speaks it.

Each message on the socket is a one-byte tag, a varint length and a serialized protobuf; the very first
message in each direction is preceded by the protocol version byte. Tags and message classes are the
library's own (`firebase_messaging.proto.mcs_pb2`), so the simulator cannot drift from what it parses.
"""

from __future__ import annotations

import asyncio

from firebase_messaging.proto.mcs_pb2 import (
    Close,
    DataMessageStanza,
    HeartbeatAck,
    HeartbeatPing,
    IqStanza,
    LoginRequest,
    LoginResponse,
    StreamErrorStanza,
)
from google.protobuf.message import DecodeError, Message

VERSION = 41
_TAGS: dict[type[Message], int] = {
    HeartbeatPing: 0,
    HeartbeatAck: 1,
    LoginRequest: 2,
    LoginResponse: 3,
    Close: 4,
    IqStanza: 7,
    DataMessageStanza: 8,
    StreamErrorStanza: 10,
}
_CLASSES = {tag: cls for cls, tag in _TAGS.items()}
# A varint for a 32-bit length never needs more than five bytes; more means garbage on the socket.
_VARINT_MAX_BYTES = 5
# Pushes are small; a client claiming more is not speaking MCS.
_MAX_MESSAGE = 1 << 20


class ProtocolError(Exception):
    """The peer sent something that is not MCS as firebase-messaging speaks it."""


def encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def frame(message: Message, *, with_version: bool) -> bytes:
    payload = bytes(message.SerializeToString())
    header = bytes([VERSION, _TAGS[type(message)]]) if with_version else bytes([_TAGS[type(message)]])
    return header + encode_varint(len(payload)) + payload


class McsStream:
    """One client's socket: framed protobuf messages in both directions, with the stream-id count."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._version_read = False
        self._version_sent = False
        self.received = 0

    async def read(self) -> Message:
        """The next message; raises ProtocolError on garbage, IncompleteReadError when the socket ends."""
        if not self._version_read:
            (version,) = await self._reader.readexactly(1)
            if version != VERSION:
                raise ProtocolError(f"MCS version {version}, expected {VERSION}")
            self._version_read = True
        (tag,) = await self._reader.readexactly(1)
        size = await self._read_varint()
        if size > _MAX_MESSAGE:
            raise ProtocolError(f"message of {size} bytes")
        payload = await self._reader.readexactly(size)
        if (cls := _CLASSES.get(tag)) is None:
            raise ProtocolError(f"unknown MCS tag {tag}")
        message = cls()
        try:
            message.ParseFromString(payload)
        except DecodeError as err:
            raise ProtocolError(f"undecodable {cls.__name__}") from err
        self.received += 1
        return message

    async def send(self, message: Message) -> None:
        self._writer.write(frame(message, with_version=not self._version_sent))
        self._version_sent = True
        await self._writer.drain()

    def close(self) -> None:
        self._writer.close()

    async def _read_varint(self) -> int:
        value = 0
        for index in range(_VARINT_MAX_BYTES):
            (byte,) = await self._reader.readexactly(1)
            value |= (byte & 0x7F) << (7 * index)
            if not byte & 0x80:
                return value
        raise ProtocolError("varint longer than five bytes")
