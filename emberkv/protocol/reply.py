"""Typed reply values and their RESP2 / RESP3 renderings.

Command bodies return plain Python values; the connection renders them for the
protocol the client negotiated.  Mapping:

    bytes            bulk string
    int              integer
    None             null (RESP2 ``$-1``)
    list / tuple     array
    dict             map (RESP2: flat array)
    float            double (RESP2: bulk string, ``%.17g``)
    Status           simple string (``+OK``)
    Error            error reply
    NULL_ARRAY       null array (RESP2 ``*-1``)
    SetReply         set (RESP2: array)
    Verbatim         verbatim string (RESP2: bulk)
    Push             out-of-band push (RESP2: array)
    Bool             boolean (RESP2: integer 0/1)
    BigNumber        big number (RESP2: bulk)
    DoubleText       double given as its exact text (RESP2: bulk)
    Raw              already-encoded bytes, written as they are
"""

from __future__ import annotations

import math


class Status(bytes):
    """A simple-string reply such as ``+OK``."""
    __slots__ = ()


class Error(bytes):
    """An error reply; the text starts with its code (``ERR ...``)."""
    __slots__ = ()


class Verbatim(bytes):
    """Verbatim text (RESP3 ``=``), rendered as a bulk string in RESP2."""
    __slots__ = ()


class BigNumber(bytes):
    __slots__ = ()


class DoubleText(bytes):
    """A double whose text is already formatted (GEOPOS coordinates): RESP3 ``,``, RESP2 bulk."""
    __slots__ = ()


class Raw(bytes):
    """Pre-encoded protocol bytes, identical in RESP2 and RESP3."""
    __slots__ = ()


class SetReply(list):
    """A set reply (RESP3 ``~``); an array in RESP2."""
    __slots__ = ()


class Push(list):
    """An out-of-band push message (RESP3 ``>``); an array in RESP2."""
    __slots__ = ()


class MapReply(list):
    """A map given as a flat key/value list, for maps whose keys may repeat or are lists."""
    __slots__ = ()


class Pairs(list):
    """Flat ``[a1, b1, a2, b2, ...]``: a flat array in RESP2, an array of 2-element arrays
    in RESP3 (WITHSCORES / WITHVALUES replies)."""
    __slots__ = ()


class PairMap(list):
    """A map given as ``[[key, value], ...]``: a map in RESP3, an array of 2-element
    arrays in RESP2 (XREAD / XREADGROUP replies)."""
    __slots__ = ()


class Bool:
    __slots__ = ("value",)

    def __init__(self, value: bool):
        self.value = bool(value)


class _NullArray:
    __slots__ = ()

    def __repr__(self):
        return "NULL_ARRAY"


NULL_ARRAY = _NullArray()

OK = Status(b"OK")
QUEUED = Status(b"QUEUED")
PONG = Status(b"PONG")


class CommandError(Exception):
    """Raised by command bodies; becomes an error reply, never a disconnect."""

    def __init__(self, message: str | bytes):
        if isinstance(message, str):
            message = message.encode()
        super().__init__(message)
        self.message = message


def format_double(d: float) -> bytes:
    """Redis 7.0's ``addReplyDouble`` text: %.17g, with inf spelled out."""
    if d != d:
        # printf shows the sign of a NaN (Lua's 0/0 is -nan on x86).
        return b"-nan" if math.copysign(1.0, d) < 0 else b"nan"
    if d == float("inf"):
        return b"inf"
    if d == float("-inf"):
        return b"-inf"
    return b"%.17g" % d


def _error_line(v: bytes) -> bytes:
    # Error texts must stay on one line (clients split on CRLF).
    if b"\r" in v or b"\n" in v:
        v = v.replace(b"\r", b" ").replace(b"\n", b" ")
    return b"-" + v + b"\r\n"


def _not_plain_bulk():
    raise TypeError  # leaves the all-bulk fast path for the per-element encoder


def _array(v, out: list, encode) -> None:
    """An array header and its elements (``encode`` is encode2 or encode3)."""
    out.append(b"*%d\r\n" % len(v))
    try:
        # Arrays of bulk strings dominate (LRANGE, MGET, HGETALL): one comprehension.
        out.append(b"".join([b"$%d\r\n%b\r\n" % (len(item), item) if type(item) is bytes
                             else _not_plain_bulk() for item in v]))
    except TypeError:  # some element is not a plain bulk string
        for item in v:
            if type(item) is bytes:
                out.append(b"$%d\r\n%b\r\n" % (len(item), item))
            else:
                encode(item, out)


def encode2(v, out: list) -> None:
    """Append the RESP2 encoding of ``v`` to ``out``."""
    t = type(v)
    if t is bytes:
        out.append(b"$%d\r\n%b\r\n" % (len(v), v))
    elif t is int:
        out.append(b":%d\r\n" % v)
    elif t is Status:
        out.append(b"+" + v + b"\r\n")
    elif v is None:
        out.append(b"$-1\r\n")
    elif t is list or t is tuple or t is SetReply or t is Push or t is MapReply or t is Pairs \
            or t is PairMap:
        _array(v, out, encode2)
    elif t is Error:
        out.append(_error_line(v))
    elif t is dict:
        out.append(b"*%d\r\n" % (2 * len(v)))
        for k, item in v.items():
            encode2(k, out)
            encode2(item, out)
    elif t is float:
        s = format_double(v)
        out.append(b"$%d\r\n%b\r\n" % (len(s), s))
    elif v is NULL_ARRAY:
        out.append(b"*-1\r\n")
    elif t is Raw:
        out.append(v)
    elif t is Verbatim or t is BigNumber or t is DoubleText:
        out.append(b"$%d\r\n%b\r\n" % (len(v), v))
    elif t is Bool:
        out.append(b":1\r\n" if v.value else b":0\r\n")
    elif t is str:
        encode2(v.encode(), out)
    elif t is bool:
        out.append(b":1\r\n" if v else b":0\r\n")
    elif t is bytearray or t is memoryview:
        encode2(bytes(v), out)
    else:
        raise TypeError(f"cannot encode reply of type {t!r}")


def encode3(v, out: list) -> None:
    """Append the RESP3 encoding of ``v`` to ``out``."""
    t = type(v)
    if t is bytes:
        out.append(b"$%d\r\n%b\r\n" % (len(v), v))
    elif t is int:
        out.append(b":%d\r\n" % v)
    elif t is Status:
        out.append(b"+" + v + b"\r\n")
    elif v is None or v is NULL_ARRAY:
        out.append(b"_\r\n")
    elif t is list or t is tuple:
        _array(v, out, encode3)
    elif t is Error:
        out.append(_error_line(v))
    elif t is dict:
        out.append(b"%%%d\r\n" % len(v))
        for k, item in v.items():
            encode3(k, out)
            encode3(item, out)
    elif t is Pairs:
        out.append(b"*%d\r\n" % (len(v) // 2))
        for i in range(0, len(v), 2):
            out.append(b"*2\r\n")
            encode3(v[i], out)
            encode3(v[i + 1], out)
    elif t is MapReply:
        out.append(b"%%%d\r\n" % (len(v) // 2))
        for item in v:
            encode3(item, out)
    elif t is PairMap:
        out.append(b"%%%d\r\n" % len(v))
        for k, item in v:
            encode3(k, out)
            encode3(item, out)
    elif t is float:
        out.append(b"," + format_double(v) + b"\r\n")
    elif t is SetReply:
        out.append(b"~%d\r\n" % len(v))
        for item in v:
            encode3(item, out)
    elif t is Push:
        out.append(b">%d\r\n" % len(v))
        for item in v:
            encode3(item, out)
    elif t is Raw:
        out.append(v)
    elif t is Verbatim:
        out.append(b"=%d\r\ntxt:%b\r\n" % (len(v) + 4, v))
    elif t is BigNumber:
        out.append(b"(" + v + b"\r\n")
    elif t is DoubleText:
        out.append(b"," + v + b"\r\n")
    elif t is Bool:
        out.append(b"#t\r\n" if v.value else b"#f\r\n")
    elif t is str:
        encode3(v.encode(), out)
    elif t is bool:
        out.append(b"#t\r\n" if v else b"#f\r\n")
    elif t is bytearray or t is memoryview:
        encode3(bytes(v), out)
    else:
        raise TypeError(f"cannot encode reply of type {t!r}")


def render(v, resp: int = 2) -> bytes:
    out: list = []
    (encode3 if resp == 3 else encode2)(v, out)
    return b"".join(out)
