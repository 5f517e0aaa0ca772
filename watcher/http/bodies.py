"""Reading a response body under a size cap, on the wire and after decompression.

The client asks only for ``gzip`` and ``deflate`` and decompresses itself, with zlib's ``max_length``, so a
compression bomb is stopped while it is being inflated: no call ever produces more than the cap allows.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator

ACCEPT_ENCODING = "gzip, deflate"


class BodyTooLarge(Exception):
    """The body passed its cap; ``where`` says whether on the wire or once decompressed."""

    def __init__(self, where: str, cap: int):
        self.where, self.cap = where, cap
        super().__init__(f"body passed the cap of {cap} bytes {where}")


class UnsupportedEncoding(Exception):
    """The server used a content coding this client did not ask for."""


class CappedDecoder:
    """Inflates one content coding, refusing to produce more than ``cap`` bytes in total."""

    def __init__(self, encoding: str, cap: int):
        self.cap = cap
        self.produced = 0
        coding = encoding.strip().lower()
        self._deflate = coding == "deflate"
        if coding in ("", "identity"):
            self._z = None
        elif coding in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif self._deflate:
            self._z = zlib.decompressobj()
        else:
            raise UnsupportedEncoding(f"content-encoding {encoding!r} was not asked for")

    def feed(self, data: bytes) -> bytes:
        if self._z is None:
            return self._count(data)
        if self._deflate and data:
            self._pick_deflate_flavour(data)
            self._deflate = False
        out = []
        while data:
            room = self.cap - self.produced + 1
            try:
                chunk = self._z.decompress(data, room)
            except zlib.error as exc:
                raise UnsupportedEncoding(f"broken compressed body: {exc}") from exc
            out.append(self._count(chunk))
            data = self._z.unconsumed_tail
        return b"".join(out)

    def finish(self) -> bytes:
        if self._z is None:
            return b""
        try:
            tail = self._z.flush(self.cap - self.produced + 1)
        except zlib.error as exc:
            raise UnsupportedEncoding(f"broken compressed body: {exc}") from exc
        return self._count(tail)

    def _pick_deflate_flavour(self, data: bytes) -> None:
        """``deflate`` is meant to be zlib-wrapped, but some servers send raw deflate; accept both. A zlib header
        is two bytes: method 8 in the low bits of the first, and the pair a multiple of 31."""
        wrapped = len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] * 256 + data[1]) % 31 == 0
        if not wrapped:
            self._z = zlib.decompressobj(-zlib.MAX_WBITS)

    def _count(self, chunk: bytes) -> bytes:
        self.produced += len(chunk)
        if self.produced > self.cap:
            raise BodyTooLarge("after decompression" if self._z is not None else "on the wire", self.cap)
        return chunk


async def read_capped(raw: AsyncIterator[bytes], encoding: str, cap: int) -> bytes:
    """Read raw (still encoded) chunks, capping both their total and the decoded total at ``cap`` bytes."""
    decoder = CappedDecoder(encoding, cap)
    parts: list[bytes] = []
    wire = 0
    async for chunk in raw:
        wire += len(chunk)
        if wire > cap:
            raise BodyTooLarge("on the wire", cap)
        parts.append(decoder.feed(chunk))
    parts.append(decoder.finish())
    return b"".join(parts)
