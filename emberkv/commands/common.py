"""Helpers shared by command bodies: argument parsing, typed lookups, Redis's error texts."""

from __future__ import annotations

import math

from ..protocol.reply import CommandError, Error

# Error texts, byte-identical to Redis 7.0.
WRONGTYPE = b"WRONGTYPE Operation against a key holding the wrong kind of value"
SYNTAX = b"ERR syntax error"
NOT_INT = b"ERR value is not an integer or out of range"
NOT_FLOAT = b"ERR value is not a valid float"
NO_SUCH_KEY = b"ERR no such key"
OUT_OF_RANGE = b"ERR index out of range"
DB_INDEX = b"ERR DB index is out of range"
OVERFLOW = b"ERR increment or decrement would overflow"
NOT_POSITIVE = b"ERR value is out of range, must be positive"
INVALID_EXPIRE = b"ERR invalid expire time in '%s' command"
TIMEOUT_NOT_FLOAT = b"ERR timeout is not a float or out of range"
TIMEOUT_NEGATIVE = b"ERR timeout is negative"

LLONG_MIN = -(2**63)
LLONG_MAX = 2**63 - 1


def err(text: bytes | str):
    """Raise an error reply."""
    raise CommandError(text)


def parse_int(b: bytes, error: bytes = NOT_INT) -> int:
    """Redis's string2ll: strict decimal, no leading '+', spaces or zeros, fits in int64."""
    n = len(b)
    if 0 < n < 19 and b.isdigit() and (b[0] != 0x30 or n == 1):
        return int(b)
    if 1 < n <= 20 and b[0] == 0x2D:
        if b[1:].isdigit() and b[1] != 0x30:
            v = int(b)
            if v >= LLONG_MIN:
                return v
    elif n == 19 and b.isdigit() and b[0] != 0x30:
        v = int(b)
        if v <= LLONG_MAX:
            return v
    raise CommandError(error)


def try_int(b: bytes):
    """parse_int that returns None instead of raising."""
    try:
        return parse_int(b)
    except CommandError:
        return None


def parse_float(b: bytes, error: bytes = NOT_FLOAT) -> float:
    """Redis's strtod rules: no surrounding spaces, inf accepted, NaN and overflow rejected."""
    if not b or b[0] in _WS or b[-1] in _WS or b"_" in b:
        raise CommandError(error)
    try:
        v = float(b)
    except ValueError:
        raise CommandError(error)
    if v != v or (math.isinf(v) and b"inf" not in b.lower()):
        raise CommandError(error)
    return v


_WS = b" \t\r\n\x0b\x0c"


def parse_timeout(b: bytes) -> float:
    """Blocking timeout in seconds (float); negative rejected; 0 means forever."""
    try:
        v = float(b)
    except ValueError:
        raise CommandError(TIMEOUT_NOT_FLOAT)
    if math.isnan(v) or math.isinf(v) or b"_" in b:
        raise CommandError(TIMEOUT_NOT_FLOAT)
    if v < 0:
        raise CommandError(TIMEOUT_NEGATIVE)
    return v


def format_float(v: float) -> bytes:
    """INCRBYFLOAT/HINCRBYFLOAT text: plain decimal notation, trailing zeros trimmed."""
    if math.isinf(v):
        return b"inf" if v > 0 else b"-inf"
    r = repr(v)
    if "e" in r or "E" in r:
        from decimal import Decimal
        r = format(Decimal(r), "f")
    if "." in r:
        r = r.rstrip("0").rstrip(".")
    if r == "-0":
        r = "0"
    return r.encode()


def type_name(v) -> bytes:
    if type(v) is bytes:
        return b"string"
    return v.kind


def get_typed(c, key: bytes, kind: bytes):
    """Value of ``key`` if it has type ``kind`` (b'list', b'hash', ...), None if missing."""
    v = c.db.lookup(key)
    if v is None:
        c.server.stats.keyspace_misses += 1
        return None
    c.server.stats.keyspace_hits += 1
    if type(v) is bytes:
        if kind != b"string":
            raise CommandError(WRONGTYPE)
    elif v.kind != kind:
        raise CommandError(WRONGTYPE)
    return v


def get_string(c, key: bytes):
    v = c.db.lookup(key)
    if v is None:
        c.server.stats.keyspace_misses += 1
        return None
    c.server.stats.keyspace_hits += 1
    if type(v) is not bytes:
        raise CommandError(WRONGTYPE)
    return v


def check_string_for_write(c, key: bytes):
    """Current string value (or None), raising WRONGTYPE for other types; no stats."""
    v = c.db.lookup(key)
    if v is not None and type(v) is not bytes:
        raise CommandError(WRONGTYPE)
    return v


def key_written(c, key: bytes, event: bytes, cls: int) -> None:
    """After a write: WATCH/tracking invalidation, notification, dirty counter."""
    server = c.server
    server.signal_modified(c.db, key)
    server.notify(cls, event, key, c.db.index)
    server.dirty += 1


def now_ms(c) -> int:
    return c.server.now_ms()
