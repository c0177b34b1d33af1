"""Bitmap commands: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO.

Bitmaps are ordinary string values; bit 0 is the most significant bit of byte 0.
Whole-string work (counting, searching, combining) goes through big-int and
regex primitives that run in C, so nothing loops per byte in Python.
"""

from __future__ import annotations

import re

from ..server.server import N_GENERIC, N_STRING
from .common import SYNTAX, check_string_for_write, err, get_string, parse_int
from .registry import command

BAD_OFFSET = b"ERR bit offset is not an integer or out of range"
BAD_BIT = b"ERR bit is not an integer or out of range"
BAD_BITFIELD_TYPE = (b"ERR Invalid bitfield type. Use something like i16 u8. "
                     b"Note that u64 is not supported but i64 is.")

_MASK64 = (1 << 64) - 1
# Popcounts of huge strings are done in slices so the temporary int stays small.
_POPCOUNT_CHUNK = 1 << 20
_NOT_TABLE = bytes(255 - i for i in range(256))
_NONZERO_BYTE = re.compile(rb"[^\x00]")
_NONFF_BYTE = re.compile(rb"[^\xff]")


def _obeys_without_limits(c) -> bool:
    """Redis's mustObeyClient: the master link and AOF loading skip the size limit."""
    return c.is_master or c.server.loading


def _bit_offset(c, arg: bytes, bits: int = 0) -> int:
    """getBitOffsetFromArgument: '#N' means N*bits when ``bits`` is given (BITFIELD)."""
    use_hash = bits > 0 and arg[:1] == b"#"
    offset = parse_int(arg[1:] if use_hash else arg, BAD_OFFSET)
    if use_hash:
        # C multiplies in 64 bits; keep its wrap-around so the limit check sees the same value.
        offset = ((offset * bits + (1 << 63)) & _MASK64) - (1 << 63)
    if offset < 0 or (not _obeys_without_limits(c)
                      and (offset >> 3) >= c.server.config.proto_max_bulk_len):
        err(BAD_OFFSET)
    return offset


def _popcount(data, start: int, end: int) -> int:
    """Set bits in data[start:end] (bytes indexes)."""
    view = memoryview(data)
    total = 0
    for i in range(start, end, _POPCOUNT_CHUNK):
        total += int.from_bytes(view[i:min(i + _POPCOUNT_CHUNK, end)], "big").bit_count()
    return total


def _key_written(c, key: bytes, event: bytes, changes: int = 1) -> None:
    server = c.server
    server.signal_modified(c.db, key)
    server.notify(N_STRING, event, key, c.db.index)
    server.dirty += changes


@command("setbit", 4, "write denyoom", 1, 1, 1, group="bitmap", since="2.2.0",
         summary="Sets or clears the bit at an offset of a string, creating the key if needed.")
def setbit(c, argv):
    offset = _bit_offset(c, argv[2])
    on = parse_int(argv[3], BAD_BIT)
    if on & ~1:
        err(BAD_BIT)
    key = argv[1]
    old = check_string_for_write(c, key)
    byte = offset >> 3
    mask = 0x80 >> (offset & 7)
    if old is not None and byte < len(old):
        was = old[byte] & mask
        if bool(was) == bool(on):
            return 1 if was else 0
        buf = bytearray(old)
    else:
        was = 0
        buf = bytearray(old or b"")
        buf.extend(bytes(byte + 1 - len(buf)))
    if on:
        buf[byte] |= mask
    else:
        buf[byte] &= ~mask
    c.db.set(key, bytes(buf), keepttl=True)
    _key_written(c, key, b"setbit")
    return 1 if was else 0


@command("getbit", 3, "readonly fast", 1, 1, 1, group="bitmap", since="2.2.0",
         summary="Returns the bit at an offset of a string.")
def getbit(c, argv):
    offset = _bit_offset(c, argv[2])
    v = get_string(c, argv[1])
    byte = offset >> 3
    if v is None or byte >= len(v):
        return 0
    return 1 if v[byte] & (0x80 >> (offset & 7)) else 0


def _parse_unit(arg: bytes) -> bool:
    """True for BIT, False for BYTE."""
    unit = arg.lower()
    if unit == b"bit":
        return True
    if unit == b"byte":
        return False
    err(SYNTAX)


def _clamp(start: int, end: int, total: int) -> tuple[int, int]:
    """Negative indexes count from the end; the result is clamped to [0, total-1]."""
    if start < 0:
        start += total
    if end < 0:
        end += total
    start = max(start, 0)
    end = max(end, 0)
    if end >= total:
        end = total - 1
    return start, end


@command("bitcount", -2, "readonly", 1, 1, 1, group="bitmap", since="2.6.0",
         summary="Counts the set bits of a string, optionally within a range.")
def bitcount(c, argv):
    v = get_string(c, argv[1])
    if v is None:
        return 0
    n = len(argv)
    if n == 2:
        return _popcount(v, 0, len(v))
    if n not in (4, 5):
        err(SYNTAX)
    start = parse_int(argv[2])
    end = parse_int(argv[3])
    if start < 0 and end < 0 and start > end:
        return 0
    in_bits = n == 5 and _parse_unit(argv[4])
    if not in_bits:
        start, end = _clamp(start, end, len(v))
        return _popcount(v, start, end + 1) if start <= end else 0
    start, end = _clamp(start, end, len(v) * 8)
    if start > end:
        return 0
    first, last = start >> 3, end >> 3
    count = _popcount(v, first, last + 1)
    # Take away the bits of the edge bytes that fall outside the bit range.
    count -= (v[first] >> (8 - (start & 7))).bit_count()
    count -= (v[last] & ((1 << (7 - (end & 7))) - 1)).bit_count()
    return count


def _first_bit(v: bytes, bit: int, start: int, end: int) -> int:
    """Position of the first bit equal to ``bit`` in bit range [start, end], else -1."""
    first, last = start >> 3, end >> 3
    flip = 0 if bit else 0xFF  # searching clear bits = searching set bits of the complement
    head_mask = 0xFF >> (start & 7)
    tail_mask = (0xFF00 >> ((end & 7) + 1)) & 0xFF
    if first == last:
        b = (v[first] ^ flip) & head_mask & tail_mask
        return first * 8 + 8 - b.bit_length() if b else -1
    b = (v[first] ^ flip) & head_mask
    if b:
        return first * 8 + 8 - b.bit_length()
    found = (_NONZERO_BYTE if bit else _NONFF_BYTE).search(v, first + 1, last)
    if found:
        i = found.start()
        return i * 8 + 8 - (v[i] ^ flip).bit_length()
    b = (v[last] ^ flip) & tail_mask
    return last * 8 + 8 - b.bit_length() if b else -1


@command("bitpos", -3, "readonly", 1, 1, 1, group="bitmap", since="2.8.7",
         summary="Finds the first set or clear bit of a string, optionally within a range.")
def bitpos(c, argv):
    bit = parse_int(argv[2])
    if bit != 0 and bit != 1:
        err(b"ERR The bit argument must be 1 or 0.")
    v = get_string(c, argv[1])
    if v is None:
        # A missing key is an endless run of zeros.
        return -1 if bit else 0
    n = len(argv)
    end_given = False
    if n == 3:
        start, end = 0, len(v) * 8 - 1
    elif n <= 6:
        start = parse_int(argv[3])
        in_bits = n == 6 and _parse_unit(argv[5])
        if n >= 5:
            end = parse_int(argv[4])
            end_given = True
        else:
            end = len(v) * 8 - 1 if in_bits else len(v) - 1
        if in_bits:
            start, end = _clamp(start, end, len(v) * 8)
        else:
            start, end = _clamp(start, end, len(v))
            if start <= end:
                start, end = start * 8, end * 8 + 7
    else:
        err(SYNTAX)
    if start > end:
        return -1
    pos = _first_bit(v, bit, start, end)
    if pos == -1 and bit == 0 and not end_given:
        # Without an explicit end the string counts as padded with zeros on the right.
        return end + 1
    return pos


_BITOPS = {b"and": int.__and__, b"or": int.__or__, b"xor": int.__xor__, b"not": None}


@command("bitop", -4, "write denyoom", 2, -1, 1, group="bitmap", since="2.6.0",
         summary="Combines strings bitwise (AND, OR, XOR, NOT) and stores the result in a key.")
def bitop(c, argv):
    opname = argv[1].lower()
    if opname not in _BITOPS:
        err(SYNTAX)
    if opname == b"not" and len(argv) != 4:
        err(b"ERR BITOP NOT must be called with a single source key.")
    sources = [get_string(c, key) or b"" for key in argv[3:]]
    maxlen = max(len(s) for s in sources)
    dest = argv[2]
    db = c.db
    server = c.server
    if maxlen == 0:
        if db.delete(dest):
            server.signal_modified(db, dest)
            server.notify(N_GENERIC, b"del", dest, db.index)
            server.dirty += 1
        return 0
    if opname == b"not":
        result = sources[0].translate(_NOT_TABLE)
    else:
        op = _BITOPS[opname]
        # Shorter strings are zero padded on the right: shift them up as big-endian ints.
        acc = None
        for s in sources:
            value = int.from_bytes(s, "big") << (8 * (maxlen - len(s)))
            acc = value if acc is None else op(acc, value)
        result = acc.to_bytes(maxlen, "big")
    db.set(dest, result)
    server.signal_modified(db, dest)
    server.notify(N_STRING, b"set", dest, db.index)
    server.dirty += 1
    return maxlen


# ------------------------------------------------------------------ BITFIELD

_WRAP, _SAT, _FAIL = 0, 1, 2
_OVERFLOW_TYPES = {b"wrap": _WRAP, b"sat": _SAT, b"fail": _FAIL}
_GET, _SET, _INCRBY = 0, 1, 2
_OPCODES = {b"get": (_GET, 2), b"set": (_SET, 3), b"incrby": (_INCRBY, 3)}


def _bitfield_type(arg: bytes) -> tuple[bool, int]:
    """(signed, bits) from 'i16' / 'u8'; u64 is refused as its values do not fit a reply."""
    sign = arg[:1]
    if sign not in (b"i", b"u"):
        err(BAD_BITFIELD_TYPE)
    bits = parse_int(arg[1:], BAD_BITFIELD_TYPE)
    signed = sign == b"i"
    if bits < 1 or bits > (64 if signed else 63):
        err(BAD_BITFIELD_TYPE)
    return signed, bits


def _read_field(buf, offset: int, bits: int, signed: bool) -> int:
    first = offset >> 3
    last = (offset + bits - 1) >> 3
    chunk = buf[first:last + 1]
    width = (last - first + 1) * 8
    value = int.from_bytes(chunk, "big") << (width - 8 * len(chunk))  # zero padding past the end
    value = (value >> (width - (offset & 7) - bits)) & ((1 << bits) - 1)
    if signed and value >> (bits - 1):
        value -= 1 << bits
    return value


def _write_field(buf: bytearray, offset: int, bits: int, value: int) -> None:
    first = offset >> 3
    last = (offset + bits - 1) >> 3
    width = (last - first + 1) * 8
    shift = width - (offset & 7) - bits
    mask = ((1 << bits) - 1) << shift
    word = int.from_bytes(buf[first:last + 1], "big")
    word = (word & ~mask) | ((value << shift) & mask)
    buf[first:last + 1] = word.to_bytes(last - first + 1, "big")


def _overflowed(value: int, incr: int, bits: int, signed: bool, owtype: int):
    """(overflowed, replacement) following Redis's checks for a result of value+incr."""
    if signed:
        top = (1 << (bits - 1)) - 1
        bottom = -top - 1
    else:
        top = (1 << bits) - 1
        bottom = 0
    total = value + incr
    if total > top or value > top:
        saturated = top
    elif total < bottom:
        saturated = bottom
    else:
        return False, total
    if owtype == _SAT:
        return True, saturated
    wrapped = total & ((1 << bits) - 1)
    if signed and wrapped >> (bits - 1):
        wrapped -= 1 << bits
    return True, wrapped


def _bitfield(c, argv, readonly_command: bool):
    ops = []
    owtype = _WRAP
    writes = False
    highest_bit = 0
    i = 2
    n = len(argv)
    while i < n:
        remaining = n - i - 1
        sub = argv[i].lower()
        spec = _OPCODES.get(sub)
        if spec is not None and remaining >= spec[1]:
            opcode = spec[0]
        elif sub == b"overflow" and remaining >= 1:
            owtype = _OVERFLOW_TYPES.get(argv[i + 1].lower())
            if owtype is None:
                err(b"ERR Invalid OVERFLOW type specified")
            i += 2
            continue
        else:
            err(SYNTAX)
        signed, bits = _bitfield_type(argv[i + 1])
        offset = _bit_offset(c, argv[i + 2], bits)
        value = 0
        if opcode != _GET:
            writes = True
            highest_bit = max(highest_bit, offset + bits - 1)
            value = parse_int(argv[i + 3])
        ops.append((opcode, signed, bits, offset, value, owtype))
        i += 3 if opcode == _GET else 4

    key = argv[1]
    if not writes:
        v = get_string(c, key) or b""
        return [_read_field(v, op[3], op[2], op[1]) for op in ops]
    if readonly_command:
        err(b"ERR BITFIELD_RO only supports the GET subcommand")

    old = check_string_for_write(c, key)
    buf = bytearray(old or b"")
    needed = (highest_bit >> 3) + 1
    # Creating or growing the string counts as a change for every write.
    grown = old is None or len(buf) < needed
    if len(buf) < needed:
        buf.extend(bytes(needed - len(buf)))
    changes = 0
    replies = []
    for opcode, signed, bits, offset, value, ow in ops:
        if opcode == _GET:
            replies.append(_read_field(buf, offset, bits, signed))
            continue
        current = _read_field(buf, offset, bits, signed)
        if opcode == _INCRBY:
            overflow, new = _overflowed(current, value, bits, signed, ow)
            reply = new
        else:
            # SET takes the argument as int64, or as its uint64 bit pattern for unsigned fields.
            overflow, new = _overflowed(value if signed else value & _MASK64, 0, bits, signed, ow)
            reply = current
        if overflow and ow == _FAIL:
            replies.append(None)
            continue
        replies.append(reply)
        _write_field(buf, offset, bits, new & ((1 << bits) - 1))
        if grown or new != current:
            changes += 1
    if grown or changes:
        c.db.set(key, bytes(buf), keepttl=True)
    if changes:
        _key_written(c, key, b"setbit", changes)
    return replies


@command("bitfield", -2, "write denyoom", 1, 1, 1, group="bitmap", since="3.2.0",
         summary="Reads, writes and increments integer fields of arbitrary width inside a string.")
def bitfield(c, argv):
    return _bitfield(c, argv, False)


@command("bitfield_ro", -2, "readonly fast", 1, 1, 1, group="bitmap", since="6.0.0",
         summary="Reads integer fields of arbitrary width inside a string.")
def bitfield_ro(c, argv):
    return _bitfield(c, argv, True)
