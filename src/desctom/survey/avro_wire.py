"""Avro's binary encoding of the primitive values DESC TOM writes by hand (fast paths that build
message bytes without a schema walk: the fake brokers, the live-survey simulator, the decoder's
in-memory containers)."""

from __future__ import annotations


def zigzag_long(value: int) -> bytes:
    """An Avro ``long`` (or ``int``): zigzag, then a little-endian base-128 varint."""
    n = ((value << 1) ^ (value >> 63)) & 0xFFFFFFFFFFFFFFFF
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def avro_string(text: str) -> bytes:
    """An Avro ``string``: its UTF-8 byte length, then the bytes."""
    raw = text.encode()
    return zigzag_long(len(raw)) + raw
