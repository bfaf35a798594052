"""A small CBOR (RFC 8949) codec: enough for the Smithy RPC v2 CBOR protocol of AWS SDKs.

The fault proxy uses it to translate CloudWatch requests of SDKs that speak rpc-v2-cbor (the Go SDK v2
that YACE uses) into the awsJson1_0 protocol moto understands, and moto's answers back.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Tagged:
    tag: int
    value: Any


class CBORDecodeError(ValueError):
    pass


def _head(major: int, length: int) -> bytes:
    if length < 24:
        return bytes([major << 5 | length])
    for info, fmt in ((24, ">B"), (25, ">H"), (26, ">I"), (27, ">Q")):
        if length < 1 << (8 * struct.calcsize(fmt)):
            return bytes([major << 5 | info]) + struct.pack(fmt, length)
    raise ValueError(f"length too large: {length}")


def dumps(value: Any) -> bytes:
    out = bytearray()
    _encode(value, out)
    return bytes(out)


def _encode(value: Any, out: bytearray) -> None:
    if value is None:
        out.append(0xF6)
    elif value is True:
        out.append(0xF5)
    elif value is False:
        out.append(0xF4)
    elif isinstance(value, int):
        out += _head(0, value) if value >= 0 else _head(1, -1 - value)
    elif isinstance(value, float):
        out.append(0xFB)
        out += struct.pack(">d", value)
    elif isinstance(value, str):
        raw = value.encode()
        out += _head(3, len(raw)) + raw
    elif isinstance(value, bytes | bytearray):
        out += _head(2, len(value)) + bytes(value)
    elif isinstance(value, list | tuple):
        out += _head(4, len(value))
        for item in value:
            _encode(item, out)
    elif isinstance(value, dict):
        out += _head(5, len(value))
        for key, item in value.items():
            _encode(key, out)
            _encode(item, out)
    elif isinstance(value, Tagged):
        out += _head(6, value.tag)
        _encode(value.value, out)
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as CBOR")


_BREAK = object()


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise CBORDecodeError("truncated CBOR")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def length(self, info: int) -> int | None:
        if info < 24:
            return info
        if info == 31:
            return None  # indefinite
        sizes = {24: 1, 25: 2, 26: 4, 27: 8}
        if info not in sizes:
            raise CBORDecodeError(f"bad additional info {info}")
        return int.from_bytes(self.take(sizes[info]), "big")

    def item(self) -> Any:
        initial = self.take(1)[0]
        major, info = initial >> 5, initial & 0x1F
        if major == 7:
            return self.simple(info)
        n = self.length(info)
        if major == 0:
            return n
        if major == 1:
            assert n is not None
            return -1 - n
        if major in (2, 3):
            if n is None:
                chunks = []
                while (chunk := self.item()) is not _BREAK:
                    chunks.append(chunk)
                return b"".join(chunks) if major == 2 else "".join(chunks)
            raw = self.take(n)
            return raw if major == 2 else raw.decode()
        if major == 4:
            items = []
            while n is None or len(items) < n:
                item = self.item()
                if item is _BREAK:
                    break
                items.append(item)
            return items
        if major == 5:
            mapping: dict[Any, Any] = {}
            while n is None or len(mapping) < n:
                key = self.item()
                if key is _BREAK:
                    break
                mapping[key] = self.item()
            return mapping
        assert n is not None
        return Tagged(n, self.item())

    def simple(self, info: int) -> Any:
        if info == 20:
            return False
        if info == 21:
            return True
        if info in (22, 23):
            return None
        if info == 25:
            return _half(int.from_bytes(self.take(2), "big"))
        if info == 26:
            return struct.unpack(">f", self.take(4))[0]
        if info == 27:
            return struct.unpack(">d", self.take(8))[0]
        if info == 31:
            return _BREAK
        raise CBORDecodeError(f"unsupported simple value {info}")


def _half(bits: int) -> float:
    sign = -1.0 if bits & 0x8000 else 1.0
    exponent = (bits >> 10) & 0x1F
    fraction = bits & 0x3FF
    if exponent == 0:
        return sign * fraction * 2.0**-24
    if exponent == 31:
        return sign * math.inf if fraction == 0 else math.nan
    return sign * (1 + fraction / 1024) * 2.0 ** (exponent - 15)


def loads(data: bytes) -> Any:
    if not data:
        return None
    reader = _Reader(data)
    value = reader.item()
    if reader.pos != len(data):
        raise CBORDecodeError("trailing bytes after CBOR item")
    return value
