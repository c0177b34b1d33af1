"""Helpers shared by command bodies: argument parsing, typed lookups, Redis's error texts."""

from __future__ import annotations

import math

from ..config import NOTIFY_FLAGS
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
    """Blocking timeout in seconds; 0 means forever.

    As Redis's getTimeoutFromObjectOrReply: strtold syntax (hex floats and inf
    included), rounded up to whole milliseconds, so -0.0001 is 0 (forever) and
    values whose milliseconds overflow int64 (inf, 1e16) read as negative.
    """
    v = _strtold(b)
    if v is None:
        raise CommandError(TIMEOUT_NOT_FLOAT)
    if math.isinf(v):
        raise CommandError(TIMEOUT_NEGATIVE)
    if v == 0:
        tiny = _decimal(b)
        if tiny is None or not tiny:
            return 0.0
        ms = math.ceil(tiny * 1000)
    else:
        ms = math.ceil(v * 1000)
    if ms < 0 or ms > LLONG_MAX:
        raise CommandError(TIMEOUT_NEGATIVE)
    return ms / 1000


# strtold's range (x86 80-bit long double): beyond it a text is not a number at all.
_LDBL_MAX_EXP10 = 4932
_LDBL_MIN_EXP10 = -4951


def _decimal(b: bytes):
    from decimal import Decimal, InvalidOperation
    try:
        return Decimal(b.decode("ascii"))
    except (InvalidOperation, UnicodeDecodeError, ValueError):
        return None


def _strtold(b: bytes):
    """Value of ``b`` under C strtold's full-string rules, as a float (None if rejected)."""
    if not b or len(b) >= 5120 or b[0] in _WS or b[-1] in _WS or b"_" in b:
        return None
    body = b.lstrip(b"+-")
    try:
        if body[:2] in (b"0x", b"0X"):
            v = float.fromhex(b.decode("ascii"))
        else:
            v = float(b)
    except (ValueError, UnicodeDecodeError, OverflowError):
        return None
    if v != v:
        return None
    if math.isinf(v) and b"inf" not in body.lower():
        d = _decimal(b)
        if d is None or d.adjusted() > _LDBL_MAX_EXP10:
            return None
    elif v == 0:
        d = _decimal(b)
        if d is not None and d and d.adjusted() < _LDBL_MIN_EXP10:
            return None
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


_KEYMISS = NOTIFY_FLAGS["m"]


def read_miss(c, key: bytes) -> None:
    """A read found no key: count the miss and fire the "keymiss" event, as lookupKeyRead does."""
    server = c.server
    server.stats.keyspace_misses += 1
    if server.notify_flags & _KEYMISS:
        server.notify(_KEYMISS, b"keymiss", key, c.db.index)


def lookup_read(c, key: bytes, touch: bool = True):
    """Value or None for a read: hit/miss stats and "keymiss" like Redis's lookupKeyRead."""
    v = c.db.lookup(key) if touch else c.db.lookup_notouch(key)
    if v is None:
        read_miss(c, key)
    else:
        c.server.stats.keyspace_hits += 1
    return v


def get_typed(c, key: bytes, kind: bytes):
    """Value of ``key`` if it has type ``kind`` (b'list', b'hash', ...), None if missing."""
    v = c.db.lookup(key)
    if v is None:
        read_miss(c, key)
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
        read_miss(c, key)
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
