"""How much of an answer a vendor library may read: a body cap for the aiohttp sessions we hand out.

aiohttp's `read()`, `json()` and `text()` keep whatever a server sends, and the libraries we give
sessions to (ring-doorbell, python-kasa) call them on every answer: a broken proxy or a hostile
device could fill Home Assistant's memory. `BodyCap` is a client middleware for those sessions: a
declared `Content-Length` over the cap is refused before a byte of the body is read, and a body of
undeclared length fails as soon as it passes the cap. The error is an `aiohttp.ClientPayloadError`,
so each library reports it as the failed request it is.

pytapo reads through `requests` sessions it makes itself, so nothing can be put in its way
(docs/security.md).
"""

from __future__ import annotations

import aiohttp

MB = 1024 * 1024


class BodyTooLarge(aiohttp.ClientPayloadError):
    """An answer's body is over the cap of the session that received it."""

    def __init__(self, host: str | None, limit: int) -> None:
        super().__init__(f"the answer from {host or 'the server'} is larger than {limit // MB} MB")


class BodyCap:
    """aiohttp client middleware: no answer body over `limit` bytes is read."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    async def __call__(
        self, request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
    ) -> aiohttp.ClientResponse:
        response = await handler(request)
        if response.content_length is None:
            response.content = _CappedContent(response.content, self.limit, request.url.host)  # type: ignore[assignment]
        elif response.content_length > self.limit:
            response.close()
            raise BodyTooLarge(request.url.host, self.limit)
        return response


class _CappedContent:
    """A body of undeclared length: `read()` (what `ClientResponse.read` calls) stops at the cap.

    Everything else is the stream's own: readers that take it chunk by chunk hold one chunk at a time.
    """

    def __init__(self, content: aiohttp.StreamReader, limit: int, host: str | None) -> None:
        self._content = content
        self._limit = limit
        self._host = host
        self._read = 0

    async def read(self, n: int = -1) -> bytes:
        if n >= 0:
            return self._counted(await self._content.read(n))
        chunks = []
        while chunk := await self._content.readany():
            chunks.append(self._counted(chunk))
        return b"".join(chunks)

    def _counted(self, chunk: bytes) -> bytes:
        self._read += len(chunk)
        if self._read > self._limit:
            raise BodyTooLarge(self._host, self._limit)
        return chunk

    def __getattr__(self, name: str) -> object:
        return getattr(self._content, name)
