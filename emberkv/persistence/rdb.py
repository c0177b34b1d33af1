"""Sans-IO codec for Redis RDB files (format version 10, Redis 7.0) and for
DUMP/RESTORE payloads.

Values use a neutral model; the server converts them to and from its own
data structures:

    string  bytes
    list    list[bytes]
    set     list[bytes] (any iterable of bytes when writing)
    hash    dict[bytes, bytes]
    zset    list[tuple[bytes, float]]          (member, score)
    stream  StreamData

The writer produces the encodings Redis 7.0 itself writes (QUICKLIST_2 lists
of listpack nodes, listpack hashes/zsets under the size thresholds, INTSET
sets, integer-encoded and LZF-compressed strings, STREAM_LISTPACKS_2).  The
reader accepts every encoding Redis has ever written into RDB versions 1-10:
zipmap, ziplist, intset, listpack, quicklist 1/2, stream listpacks 1/2, text
doubles, second-resolution expires, and so on.
"""

from __future__ import annotations

import struct
import time
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Iterable, Iterator, NamedTuple

from . import lzf
from .crc64 import crc64

__all__ = [
    "RDB_VERSION", "RDBError", "RDBReader", "RDBWriter", "EncodingLimits",
    "AuxField", "SelectDB", "ResizeDB", "KeyRecord", "FunctionLibrary", "ModuleAux", "FieldTTLHash",
    "StreamData", "GroupData", "dump_payload", "restore_payload",
    "listpack_encode", "listpack_decode",
]

RDB_VERSION = 10
REDIS_VERSION = b"7.0.15"

# Value types (first byte of a key record and of a DUMP payload).
TYPE_STRING = 0
TYPE_LIST = 1
TYPE_SET = 2
TYPE_ZSET = 3
TYPE_HASH = 4
TYPE_ZSET_2 = 5
TYPE_MODULE = 6
TYPE_MODULE_2 = 7
TYPE_HASH_ZIPMAP = 9
TYPE_LIST_ZIPLIST = 10
TYPE_SET_INTSET = 11
TYPE_ZSET_ZIPLIST = 12
TYPE_HASH_ZIPLIST = 13
TYPE_LIST_QUICKLIST = 14
TYPE_STREAM_LISTPACKS = 15
TYPE_HASH_LISTPACK = 16
TYPE_ZSET_LISTPACK = 17
TYPE_LIST_QUICKLIST_2 = 18
TYPE_STREAM_LISTPACKS_2 = 19
# Redis 7.4's hashes with field expiry: written only for a hash that has field TTLs (Redis 7.0
# has no such hashes, so files without them stay readable by it).
TYPE_HASH_METADATA = 24
TYPE_HASH_LISTPACK_EX = 25

# Opcodes between key records.
OPCODE_FUNCTION2 = 245
OPCODE_FUNCTION = 246      # 7.0 release candidates only
OPCODE_MODULE_AUX = 247
OPCODE_IDLE = 248
OPCODE_FREQ = 249
OPCODE_AUX = 250
OPCODE_RESIZEDB = 251
OPCODE_EXPIRETIME_MS = 252
OPCODE_EXPIRETIME = 253
OPCODE_SELECTDB = 254
OPCODE_EOF = 255

_MODULE_OPCODE_EOF = 0
_MODULE_OPCODE_SINT = 1
_MODULE_OPCODE_UINT = 2
_MODULE_OPCODE_FLOAT = 3
_MODULE_OPCODE_DOUBLE = 4
_MODULE_OPCODE_STRING = 5

_QUICKLIST_PLAIN = 1
_QUICKLIST_PACKED = 2
_STREAM_FLAG_DELETED = 1
_STREAM_FLAG_SAMEFIELDS = 2

_TYPE_NAMES = {
    TYPE_STRING: "string",
    TYPE_LIST: "list", TYPE_LIST_ZIPLIST: "list", TYPE_LIST_QUICKLIST: "list",
    TYPE_LIST_QUICKLIST_2: "list",
    TYPE_SET: "set", TYPE_SET_INTSET: "set",
    TYPE_ZSET: "zset", TYPE_ZSET_2: "zset", TYPE_ZSET_ZIPLIST: "zset", TYPE_ZSET_LISTPACK: "zset",
    TYPE_HASH: "hash", TYPE_HASH_ZIPMAP: "hash", TYPE_HASH_ZIPLIST: "hash",
    TYPE_HASH_LISTPACK: "hash", TYPE_HASH_METADATA: "hash", TYPE_HASH_LISTPACK_EX: "hash",
    TYPE_STREAM_LISTPACKS: "stream", TYPE_STREAM_LISTPACKS_2: "stream",
}

_U64 = 1 << 64
_EOF_MESSAGE = "Unexpected EOF reading RDB file"
_DUMP_MESSAGE = "DUMP payload version or checksum are wrong"


class RDBError(Exception):
    """Malformed, truncated or unsupported RDB data."""


# ----------------------------------------------------------------- value model

StreamID = tuple[int, int]


@dataclass
class GroupData:
    name: bytes
    last_id: StreamID = (0, 0)
    entries_read: int = -1          # -1: unknown (SCG_INVALID_ENTRIES_READ)
    # (id, delivery_time_ms, delivery_count, consumer_name)
    pel: list[tuple[StreamID, int, int, bytes]] = field(default_factory=list)
    # (name, seen_time_ms, pending_ids)
    consumers: list[tuple[bytes, int, list[StreamID]]] = field(default_factory=list)


@dataclass
class StreamData:
    # (id, [field1, value1, field2, value2, ...]) for every live entry, in ID order
    entries: list[tuple[StreamID, list[bytes]]] = field(default_factory=list)
    length: int = 0                 # as stored; the writer uses len(entries)
    last_id: StreamID = (0, 0)
    first_id: StreamID = (0, 0)
    max_deleted_id: StreamID = (0, 0)
    entries_added: int = 0
    groups: list[GroupData] = field(default_factory=list)


# Items yielded by RDBReader.items().

class AuxField(NamedTuple):
    key: bytes
    value: bytes


class SelectDB(NamedTuple):
    index: int


class ResizeDB(NamedTuple):
    db_size: int
    expires_size: int


class KeyRecord(NamedTuple):
    db: int
    key: bytes
    type_name: str
    value: Any
    expire_ms: int | None = None    # absolute unix time in ms
    lru_idle: int | None = None     # seconds
    lfu_freq: int | None = None     # 0..255


class FunctionLibrary(NamedTuple):
    code: bytes


class ModuleAux(NamedTuple):
    """Module auxiliary data; its content is skipped."""
    module_type: str
    when: int


_new_tuple = tuple.__new__      # builds a NamedTuple without its Python-level __new__


@dataclass(frozen=True)
class EncodingLimits:
    """Redis's *-max-listpack-* style thresholds (7.0 defaults)."""
    hash_max_listpack_entries: int = 128
    hash_max_listpack_value: int = 64
    zset_max_listpack_entries: int = 128
    zset_max_listpack_value: int = 64
    set_max_intset_entries: int = 512
    list_max_listpack_size: int = -2       # < 0: -1..-5 = 4..64 KiB per node; > 0: entries per node
    stream_node_max_bytes: int = 4096
    stream_node_max_entries: int = 100


DEFAULT_LIMITS = EncodingLimits()


# ------------------------------------------------------------ integer strings

def _as_int64(s: bytes) -> int | None:
    """The integer s spells in canonical form (Redis string2ll), else None."""
    if 0 < len(s) <= 20 and (s.isdigit() or (s[0] == 45 and s[1:].isdigit())):
        value = int(s)
        if b"%d" % value == s and -(1 << 63) <= value < (1 << 63):
            return value
    return None


# ------------------------------------------------------------- RDB primitives

_SHORT_LENGTHS = [bytes((n,)) for n in range(64)]
_pack_int8 = struct.Struct("<Bb").pack
_pack_int16 = struct.Struct("<Bh").pack
_pack_int32 = struct.Struct("<Bi").pack
_pack_i64 = struct.Struct("<q").pack
_pack_u64_le = struct.Struct("<Q").pack
_pack_double = struct.Struct("<d").pack
_pack_stream_id = struct.Struct(">QQ").pack
_unpack_i32 = struct.Struct("<i").unpack_from
_unpack_i64 = struct.Struct("<q").unpack_from
_unpack_double = struct.Struct("<d").unpack_from
_unpack_stream_id = struct.Struct(">QQ").unpack_from


def _encode_length(n: int) -> bytes:
    if n < 64:
        return _SHORT_LENGTHS[n]
    if n < 16384:
        return bytes((0x40 | (n >> 8), n & 0xFF))
    if n <= 0xFFFFFFFF:
        return b"\x80" + n.to_bytes(4, "big")
    return b"\x81" + n.to_bytes(8, "big")


def _encode_string(s: bytes, compress: bool) -> bytes:
    """A string as Redis's rdbSaveRawString writes it."""
    n = len(s)
    if n < 12 and n and s[0] < 58:          # cheap pre-check: digits and '-' sort below ':'
        value = _as_int64(s)
        if value is not None:
            if -128 <= value <= 127:
                return _pack_int8(0xC0, value)
            if -32768 <= value <= 32767:
                return _pack_int16(0xC1, value)
            if -2147483648 <= value <= 2147483647:
                return _pack_int32(0xC2, value)
    if n > 20 and compress:
        packed = lzf.compress(s, n - 4)
        if packed is not None:
            return b"\xc3" + _encode_length(len(packed)) + _encode_length(n) + packed
    if n < 64:
        return _SHORT_LENGTHS[n] + s
    return _encode_length(n) + s


# ------------------------------------------------------------------- listpack

_SHORT_BACKLEN = [bytes((n,)) for n in range(128)]


def _lp_backlen(size: int) -> bytes:
    if size <= 127:
        return _SHORT_BACKLEN[size]
    if size < 16383:
        return bytes((size >> 7, (size & 127) | 128))
    if size < 2097151:
        return bytes((size >> 14, ((size >> 7) & 127) | 128, (size & 127) | 128))
    if size < 268435455:
        return bytes((size >> 21, ((size >> 14) & 127) | 128, ((size >> 7) & 127) | 128,
                      (size & 127) | 128))
    return bytes((size >> 28, ((size >> 21) & 127) | 128, ((size >> 14) & 127) | 128,
                  ((size >> 7) & 127) | 128, (size & 127) | 128))


def _lp_int_entry(v: int) -> bytes:
    if 0 <= v <= 127:
        return bytes((v, 1))
    if -4096 <= v <= 4095:
        v &= 0x1FFF
        return bytes((0xC0 | (v >> 8), v & 0xFF, 2))
    if -32768 <= v <= 32767:
        return b"\xf1" + v.to_bytes(2, "little", signed=True) + b"\x03"
    if -8388608 <= v <= 8388607:
        return b"\xf2" + v.to_bytes(3, "little", signed=True) + b"\x04"
    if -2147483648 <= v <= 2147483647:
        return b"\xf3" + v.to_bytes(4, "little", signed=True) + b"\x05"
    return b"\xf4" + v.to_bytes(8, "little", signed=True) + b"\x09"


def _lp_entry(item: bytes | int) -> bytes:
    """One encoded listpack entry including its backlen.  Strings that spell
    a canonical 64-bit integer are stored as integers, like lpAppend does."""
    if type(item) is int:
        return _lp_int_entry(item)
    value = _as_int64(item)
    if value is not None:
        return _lp_int_entry(value)
    n = len(item)
    if n < 64:
        return bytes((0x80 | n,)) + item + _SHORT_BACKLEN[n + 1]
    if n < 4096:
        return bytes((0xE0 | (n >> 8), n & 0xFF)) + item + _lp_backlen(n + 2)
    return b"\xf0" + n.to_bytes(4, "little") + item + _lp_backlen(n + 5)


def _lp_assemble(entries: list[bytes], count: int) -> bytes:
    body = b"".join(entries)
    return struct.pack("<IH", len(body) + 7, count if count < 65535 else 65535) + body + b"\xff"


def listpack_encode(items: Iterable[bytes | int]) -> bytes:
    """Encode a listpack blob (as Redis 7.0 lays it out in memory and in RDB)."""
    entries = [_lp_entry(item) for item in items]
    return _lp_assemble(entries, len(entries))


def listpack_decode(lp: bytes) -> list[bytes | int]:
    """Decode a listpack blob; integer entries come back as int."""
    size = len(lp)
    if size < 7 or int.from_bytes(lp[0:4], "little") != size or lp[-1] != 0xFF:
        raise RDBError("Listpack integrity check failed")
    out: list[bytes | int] = []
    append = out.append
    pos = 6
    end = size - 1
    while pos < end:
        b = lp[pos]
        if b < 0x80:
            append(b)
            pos += 2
            continue
        if b < 0xC0:
            n = b & 0x3F
            start = pos + 1
            append(lp[start:start + n])
            entry_size = n + 1
        elif b < 0xE0:
            v = ((b & 0x1F) << 8) | lp[pos + 1]
            append(v - 8192 if v >= 4096 else v)
            entry_size = 2
        elif b < 0xF0:
            n = ((b & 0x0F) << 8) | lp[pos + 1]
            start = pos + 2
            append(lp[start:start + n])
            entry_size = n + 2
        elif b == 0xF0:
            n = int.from_bytes(lp[pos + 1:pos + 5], "little")
            start = pos + 5
            append(lp[start:start + n])
            entry_size = n + 5
        elif 0xF1 <= b <= 0xF4:
            width = (2, 3, 4, 8)[b - 0xF1]
            append(int.from_bytes(lp[pos + 1:pos + 1 + width], "little", signed=True))
            entry_size = width + 1
        else:
            raise RDBError("Listpack integrity check failed: bad entry encoding")
        if entry_size <= 127:
            pos += entry_size + 1
        elif entry_size < 16383:
            pos += entry_size + 2
        elif entry_size < 2097151:
            pos += entry_size + 3
        elif entry_size < 268435455:
            pos += entry_size + 4
        else:
            pos += entry_size + 5
    if pos != end:
        raise RDBError("Listpack integrity check failed: entries overrun")
    declared = lp[4] | (lp[5] << 8)
    if declared != 65535 and declared != len(out):
        raise RDBError("Listpack integrity check failed: wrong element count")
    return out


def _as_bytes(items: list[bytes | int]) -> list[bytes]:
    return [b"%d" % item if type(item) is int else item for item in items]


# -------------------------------------------------- legacy compact encodings

def _ziplist_decode(zl: bytes) -> list[bytes | int]:
    size = len(zl)
    if size < 11 or int.from_bytes(zl[0:4], "little") != size or zl[-1] != 0xFF:
        raise RDBError("Ziplist integrity check failed")
    out: list[bytes | int] = []
    pos = 10
    while zl[pos] != 0xFF:
        pos += 1 if zl[pos] < 254 else 5          # previous entry length
        b = zl[pos]
        kind = b >> 6
        if kind == 0:
            start = pos + 1
            n = b & 0x3F
        elif kind == 1:
            start = pos + 2
            n = ((b & 0x3F) << 8) | zl[pos + 1]
        elif kind == 2:
            start = pos + 5
            n = int.from_bytes(zl[pos + 1:pos + 5], "big")
        else:
            if 0xF1 <= b <= 0xFD:
                out.append((b & 0x0F) - 1)
                pos += 1
                continue
            width = {0xC0: 2, 0xD0: 4, 0xE0: 8, 0xF0: 3, 0xFE: 1}.get(b)
            if width is None:
                raise RDBError("Ziplist integrity check failed: bad entry encoding")
            out.append(int.from_bytes(zl[pos + 1:pos + 1 + width], "little", signed=True))
            pos += 1 + width
            continue
        if start + n > size - 1:
            raise RDBError("Ziplist integrity check failed: entry overrun")
        out.append(zl[start:start + n])
        pos = start + n
    if pos != size - 1:
        raise RDBError("Ziplist integrity check failed: trailing data")
    return out


def _intset_decode(blob: bytes) -> list[int]:
    if len(blob) < 8:
        raise RDBError("Intset integrity check failed")
    width = int.from_bytes(blob[0:4], "little")
    count = int.from_bytes(blob[4:8], "little")
    code = {2: "h", 4: "i", 8: "q"}.get(width)
    if code is None or len(blob) != 8 + width * count:
        raise RDBError("Intset integrity check failed")
    return list(struct.unpack_from("<%d%s" % (count, code), blob, 8))


def _intset_encode(values: list[int]) -> bytes:
    values = sorted(set(values))
    low, high = values[0], values[-1]
    if -32768 <= low and high <= 32767:
        width, code = 2, "h"
    elif -2147483648 <= low and high <= 2147483647:
        width, code = 4, "i"
    else:
        width, code = 8, "q"
    return struct.pack("<II%d%s" % (len(values), code), width, len(values), *values)


def _zipmap_decode(zm: bytes) -> dict[bytes, bytes]:
    out: dict[bytes, bytes] = {}
    pos = 1                         # skip the (possibly stale) length byte

    def read_len() -> int:
        nonlocal pos
        b = zm[pos]
        if b < 254:
            pos += 1
            return b
        if b == 254:
            n = int.from_bytes(zm[pos + 1:pos + 5], "little")
            pos += 5
            return n
        raise RDBError("Zipmap integrity check failed")

    while zm[pos] != 0xFF:
        key_len = read_len()
        key = zm[pos:pos + key_len]
        pos += key_len
        value_len = read_len()
        free = zm[pos]
        value = zm[pos + 1:pos + 1 + value_len]
        if len(key) != key_len or len(value) != value_len:
            raise RDBError("Zipmap integrity check failed")
        pos += 1 + value_len + free
        out[key] = value
    return out


# -------------------------------------------------------------- value writers

def _encode_list(items: Iterable[bytes], compress: bool, limits: EncodingLimits) -> tuple[int, bytes]:
    fill = limits.list_max_listpack_size
    if fill < 0:
        max_bytes = 4096 << (min(-fill, 5) - 1)
        max_entries = 65535                 # quicklistNode.count is a 16-bit field
    else:
        max_bytes = 8192                    # quicklist's safety limit for count-based nodes
        max_entries = min(max(fill, 1), 65535)
    parts: list[bytes] = []
    nodes = 0
    entries: list[bytes] = []
    node_size = 7
    for item in items:
        entry = _lp_entry(item)
        if entries and (node_size + len(entry) > max_bytes or len(entries) >= max_entries):
            parts.append(b"\x02" + _encode_string(_lp_assemble(entries, len(entries)), compress))
            nodes += 1
            entries = []
            node_size = 7
        entries.append(entry)
        node_size += len(entry)
    if not entries:
        raise RDBError("refusing to write an empty list")
    parts.append(b"\x02" + _encode_string(_lp_assemble(entries, len(entries)), compress))
    return TYPE_LIST_QUICKLIST_2, _encode_length(nodes + 1) + b"".join(parts)


def _encode_set(members: Iterable[bytes], compress: bool, limits: EncodingLimits) -> tuple[int, bytes]:
    members = list(members)
    if not members:
        raise RDBError("refusing to write an empty set")
    if len(members) <= limits.set_max_intset_entries:
        ints = [_as_int64(m) for m in members]
        if None not in ints:
            return TYPE_SET_INTSET, _encode_string(_intset_encode(ints), compress)
    parts = [_encode_length(len(members))]
    parts += [_encode_string(m, compress) for m in members]
    return TYPE_SET, b"".join(parts)


class FieldTTLHash(dict):
    """A neutral hash whose fields may expire: ``ttl`` maps field -> absolute unix ms (the
    attribute the server's hash has too, so the writer takes either)."""

    __slots__ = ("ttl",)

    def __init__(self, pairs=(), ttl=None):
        super().__init__(pairs)
        self.ttl = ttl or {}


def _encode_hash_with_ttls(mapping, ttls: dict, compress: bool) -> tuple[int, bytes]:
    """RDB_TYPE_HASH_METADATA as Redis 7.4 writes it: the earliest expiry (8 bytes, ms), the
    count, then per field a length-encoded TTL (0: none, else expiry - earliest + 1), the field
    and the value."""
    live = [(f, w) for f, w in ttls.items() if f in mapping]
    if not live:
        return None
    earliest = min(w for _f, w in live)
    parts = [struct.pack("<Q", earliest), _encode_length(len(mapping))]
    get = ttls.get
    for f, v in mapping.items():
        when = get(f)
        parts.append(_encode_length(0 if when is None else when - earliest + 1))
        parts.append(_encode_string(f, compress))
        parts.append(_encode_string(v, compress))
    return TYPE_HASH_METADATA, b"".join(parts)


def _encode_hash(mapping: dict[bytes, bytes], compress: bool, limits: EncodingLimits) -> tuple[int, bytes]:
    if not mapping:
        raise RDBError("refusing to write an empty hash")
    ttls = getattr(mapping, "ttl", None)
    if ttls:
        encoded = _encode_hash_with_ttls(mapping, ttls, compress)
        if encoded is not None:
            return encoded
    max_value = limits.hash_max_listpack_value
    if len(mapping) <= limits.hash_max_listpack_entries and all(
            len(f) <= max_value and len(v) <= max_value for f, v in mapping.items()):
        entries = []
        for f, v in mapping.items():
            entries.append(_lp_entry(f))
            entries.append(_lp_entry(v))
        return TYPE_HASH_LISTPACK, _encode_string(_lp_assemble(entries, len(entries)), compress)
    parts = [_encode_length(len(mapping))]
    for f, v in mapping.items():
        parts.append(_encode_string(f, compress))
        parts.append(_encode_string(v, compress))
    return TYPE_HASH, b"".join(parts)


_LLONG_HALF = float((2 ** 63 - 1) // 2)


def _score_entry(score: float) -> bytes:
    """A zset score in a listpack: an integer when exact (double2ll), else
    the %.17g text (inf/-inf included), as zzlInsertAt stores it."""
    if -_LLONG_HALF <= score <= _LLONG_HALF and score == int(score):
        return _lp_int_entry(int(score))
    if score != score:
        raise RDBError("refusing to write a NaN zset score")
    text = b"inf" if score == float("inf") else b"-inf" if score == float("-inf") else b"%.17g" % score
    return bytes((0x80 | len(text),)) + text + _SHORT_BACKLEN[len(text) + 1]


def _encode_zset(pairs: Iterable[tuple[bytes, float]], compress: bool,
                 limits: EncodingLimits) -> tuple[int, bytes]:
    pairs = list(pairs)
    if not pairs:
        raise RDBError("refusing to write an empty zset")
    max_value = limits.zset_max_listpack_value
    if len(pairs) <= limits.zset_max_listpack_entries and all(len(m) <= max_value for m, _ in pairs):
        entries = []
        # listpack zsets are kept ordered by (score, member); Redis trusts the order
        for member, score in sorted(pairs, key=lambda pair: (pair[1], pair[0])):
            entries.append(_lp_entry(member))
            entries.append(_score_entry(score))
        return TYPE_ZSET_LISTPACK, _encode_string(_lp_assemble(entries, len(entries)), compress)
    parts = [_encode_length(len(pairs))]
    for member, score in pairs:
        if score != score:
            raise RDBError("refusing to write a NaN zset score")
        parts.append(_encode_string(member, compress))
        parts.append(_pack_double(score))
    return TYPE_ZSET_2, b"".join(parts)


def _stream_node(master_id: StreamID, master_fields: list[bytes], count: int,
                 entries: list[bytes]) -> bytes:
    head = [_lp_int_entry(count), _lp_int_entry(0), _lp_int_entry(len(master_fields))]
    head += [_lp_entry(f) for f in master_fields]
    head.append(_lp_int_entry(0))
    return _lp_assemble(head + entries, len(head) + len(entries))


def _encode_stream(stream: StreamData, compress: bool, limits: EncodingLimits) -> tuple[int, bytes]:
    max_bytes = limits.stream_node_max_bytes
    max_entries = limits.stream_node_max_entries
    nodes: list[bytes] = []
    master_id: StreamID | None = None
    master_fields: list[bytes] = []
    node_entries: list[bytes] = []
    node_count = 0
    node_bytes = 0

    def close_node() -> None:
        blob = _stream_node(master_id, master_fields, node_count, node_entries)
        nodes.append(_encode_string(_pack_stream_id(*master_id), compress)
                     + _encode_string(blob, compress))

    for entry_id, fields_values in stream.entries:
        numfields = len(fields_values) // 2
        if master_id is not None and (
                node_bytes + sum(map(len, fields_values)) >= max_bytes or node_count >= max_entries):
            close_node()
            master_id = None
        if master_id is None:
            master_id = entry_id
            master_fields = list(fields_values[0::2])
            node_entries = []
            node_count = 0
            # header, end byte, count/deleted/num-fields, the fields, terminator
            node_bytes = 7 + 6 + sum(len(_lp_entry(f)) for f in master_fields) + 2
        fields = fields_values[0::2]
        same = fields == master_fields
        piece = [_lp_int_entry(_STREAM_FLAG_SAMEFIELDS if same else 0),
                 _lp_int_entry(_wrap_int64(entry_id[0] - master_id[0])),
                 _lp_int_entry(_wrap_int64(entry_id[1] - master_id[1]))]
        if same:
            piece += [_lp_entry(v) for v in fields_values[1::2]]
            piece.append(_lp_int_entry(numfields + 3))
        else:
            piece.append(_lp_int_entry(numfields))
            piece += [_lp_entry(x) for x in fields_values]
            piece.append(_lp_int_entry(2 * numfields + 4))
        node_entries += piece
        node_bytes += sum(map(len, piece))
        node_count += 1
    if master_id is not None:
        close_node()

    out = [_encode_length(len(nodes))]
    out += nodes
    out += [_encode_length(len(stream.entries)),
            _encode_length(stream.last_id[0]), _encode_length(stream.last_id[1]),
            _encode_length(stream.first_id[0]), _encode_length(stream.first_id[1]),
            _encode_length(stream.max_deleted_id[0]), _encode_length(stream.max_deleted_id[1]),
            _encode_length(stream.entries_added),
            _encode_length(len(stream.groups))]
    for group in stream.groups:
        out += [_encode_string(group.name, compress),
                _encode_length(group.last_id[0]), _encode_length(group.last_id[1]),
                _encode_length(group.entries_read % _U64),
                _encode_length(len(group.pel))]
        for entry_id, delivery_time, delivery_count, _owner in sorted(group.pel):
            out += [_pack_stream_id(*entry_id), _pack_i64(delivery_time), _encode_length(delivery_count)]
        out.append(_encode_length(len(group.consumers)))
        for name, seen_time, pending in sorted(group.consumers, key=lambda c: c[0]):
            out += [_encode_string(name, compress), _pack_i64(seen_time), _encode_length(len(pending))]
            out += [_pack_stream_id(*entry_id) for entry_id in sorted(pending)]
    return TYPE_STREAM_LISTPACKS_2, b"".join(out)


def _wrap_int64(v: int) -> int:
    """uint64 difference as the int64 Redis stores (two's complement)."""
    v %= _U64
    return v - _U64 if v >= (1 << 63) else v


def _encode_value(type_name: str, value: Any, compress: bool,
                  limits: EncodingLimits) -> tuple[int, bytes]:
    if type_name == "string":
        return TYPE_STRING, _encode_string(value, compress)
    encoder = _VALUE_ENCODERS.get(type_name)
    if encoder is None:
        raise RDBError("unsupported value type %r" % (type_name,))
    return encoder(value, compress, limits)


_VALUE_ENCODERS = {
    "list": _encode_list,
    "set": _encode_set,
    "hash": _encode_hash,
    "zset": _encode_zset,
    "stream": _encode_stream,
}


# -------------------------------------------------------------------- writer

_FLUSH_AT = 1 << 20


class RDBWriter:
    """Writes an RDB file to a binary file object, in this order:
    write_header(), write_function()*, then per DB select_db() and
    write_key()*, and finish()."""

    def __init__(self, fh: BinaryIO, compress: bool = True, checksum: bool = True,
                 limits: EncodingLimits = DEFAULT_LIMITS):
        self._fh = fh
        self._compress = compress
        self._checksum = checksum
        self._limits = limits
        self._buf = bytearray()
        self._crc = 0

    def _flush(self) -> None:
        if self._checksum:
            self._crc = crc64(self._buf, self._crc)
        self._fh.write(self._buf)
        self._buf = bytearray()

    def write_header(self, aux: dict | None = None) -> None:
        """Magic plus AUX fields (redis-ver, redis-bits, ctime, used-mem,
        aof-base by default); keys and values may be bytes, str or int."""
        if aux is None:
            aux = {b"redis-ver": REDIS_VERSION, b"redis-bits": 64, b"ctime": int(time.time()),
                   b"used-mem": 0, b"aof-base": 0}
        buf = self._buf
        buf += b"REDIS%04d" % RDB_VERSION
        for key, value in aux.items():
            buf.append(OPCODE_AUX)
            buf += _encode_string(_to_bytes(key), self._compress)
            buf += _encode_string(_to_bytes(value), self._compress)

    def write_function(self, code: bytes) -> None:
        self._buf.append(OPCODE_FUNCTION2)
        self._buf += _encode_string(code, self._compress)

    def select_db(self, index: int, db_size: int, expires_size: int) -> None:
        buf = self._buf
        buf.append(OPCODE_SELECTDB)
        buf += _encode_length(index)
        buf.append(OPCODE_RESIZEDB)
        buf += _encode_length(db_size)
        buf += _encode_length(expires_size)

    def write_key(self, key: bytes, type_name: str, value: Any, expire_ms: int | None = None,
                  lru_idle: int | None = None, lfu_freq: int | None = None) -> None:
        """One key; expire_ms is an absolute unix time in ms, lru_idle is in seconds."""
        buf = self._buf
        if expire_ms is not None:
            buf.append(OPCODE_EXPIRETIME_MS)
            buf += _pack_i64(expire_ms)
        if lru_idle is not None:
            buf.append(OPCODE_IDLE)
            buf += _encode_length(lru_idle)
        if lfu_freq is not None:
            buf.append(OPCODE_FREQ)
            buf.append(lfu_freq)
        if type_name == "string":
            buf.append(TYPE_STRING)
            buf += _encode_string(key, self._compress)
            buf += _encode_string(value, self._compress)
        else:
            rdb_type, payload = _encode_value(type_name, value, self._compress, self._limits)
            buf.append(rdb_type)
            buf += _encode_string(key, self._compress)
            buf += payload
        if len(buf) >= _FLUSH_AT:
            self._flush()

    def finish(self) -> None:
        """EOF opcode and checksum (zero when checksums are off); flushes but
        does not close the file object."""
        self._buf.append(OPCODE_EOF)
        self._flush()
        self._fh.write(_pack_u64_le(self._crc if self._checksum else 0))
        self._fh.flush()


def _to_bytes(value: bytes | str | int) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, int):
        return b"%d" % value
    return str(value).encode()


# -------------------------------------------------------------------- reader

_READ_BLOCK = 1 << 20


class _Source:
    """Buffered input with the running checksum of everything consumed."""

    __slots__ = ("fh", "buf", "pos", "checksum", "crc", "crc_from")

    def __init__(self, fh: BinaryIO | None, data: bytes = b"", checksum: bool = False):
        self.fh = fh
        self.buf = data
        self.pos = 0
        self.checksum = checksum
        self.crc = 0
        self.crc_from = 0

    def refill(self, n: int) -> None:
        """Make at least n bytes available at pos (or raise at end of input)."""
        buf, pos = self.buf, self.pos
        if self.checksum and pos > self.crc_from:
            self.crc = crc64(memoryview(buf)[self.crc_from:pos], self.crc)
        chunks = [buf[pos:]]
        have = len(buf) - pos
        while have < n:
            chunk = self.fh.read(max(n - have, _READ_BLOCK)) if self.fh is not None else b""
            if not chunk:
                raise RDBError(_EOF_MESSAGE)
            chunks.append(chunk)
            have += len(chunk)
        self.buf = b"".join(chunks)
        self.pos = 0
        self.crc_from = 0

    def read(self, n: int) -> bytes:
        pos = self.pos
        end = pos + n
        if end > len(self.buf):
            self.refill(n)
            pos = 0
            end = n
        self.pos = end
        return self.buf[pos:end]

    def byte(self) -> int:
        pos = self.pos
        if pos >= len(self.buf):
            self.refill(1)
            pos = 0
        self.pos = pos + 1
        return self.buf[pos]

    def checksum_through_pos(self) -> int:
        if self.pos > self.crc_from:
            self.crc = crc64(memoryview(self.buf)[self.crc_from:self.pos], self.crc)
            self.crc_from = self.pos
        return self.crc


def _read_length(src: _Source) -> int:
    b = src.byte()
    kind = b >> 6
    if kind == 0:
        return b
    if kind == 1:
        return ((b & 0x3F) << 8) | src.byte()
    if b == 0x80:
        return int.from_bytes(src.read(4), "big")
    if b == 0x81:
        return int.from_bytes(src.read(8), "big")
    raise RDBError("Unknown length encoding %d in rdbLoadLen()" % b)


def _read_string(src: _Source) -> bytes:
    buf = src.buf
    pos = src.pos
    if pos < len(buf):
        b = buf[pos]
        if b < 64:
            end = pos + 1 + b
            if end <= len(buf):
                src.pos = end
                return buf[pos + 1:end]
    return _read_string_slow(src)


def _read_string_slow(src: _Source) -> bytes:
    b = src.byte()
    kind = b >> 6
    if kind == 0:
        return src.read(b)
    if kind == 1:
        return src.read(((b & 0x3F) << 8) | src.byte())
    if b == 0x80:
        return src.read(int.from_bytes(src.read(4), "big"))
    if b == 0x81:
        return src.read(int.from_bytes(src.read(8), "big"))
    encoding = b & 0x3F
    if kind != 3 or encoding > 3:
        raise RDBError("Unknown RDB string encoding type %d" % b)
    if encoding == 0:
        return b"%d" % int.from_bytes(src.read(1), "little", signed=True)
    if encoding == 1:
        return b"%d" % int.from_bytes(src.read(2), "little", signed=True)
    if encoding == 2:
        return b"%d" % int.from_bytes(src.read(4), "little", signed=True)
    compressed_len = _read_length(src)
    plain_len = _read_length(src)
    try:
        return lzf.decompress(src.read(compressed_len), plain_len)
    except lzf.LZFError as exc:
        raise RDBError("Invalid LZF compressed string: %s" % exc) from None


def _read_text_double(src: _Source) -> float:
    n = src.byte()
    if n == 253:
        return float("nan")
    if n == 254:
        return float("inf")
    if n == 255:
        return float("-inf")
    return float(src.read(n))


def _read_ms_time(src: _Source) -> int:
    return _unpack_i64(src.read(8))[0]


def _module_type_name(module_id: int) -> str:
    charset = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    module_id >>= 10
    name = []
    for _ in range(9):
        name.append(charset[module_id & 63])
        module_id >>= 6
    return "".join(reversed(name))


def _module_value_error(src: _Source) -> RDBError:
    name = _module_type_name(_read_length(src))
    return RDBError("The RDB file contains module data of module type '%s', "
                    "which cannot be loaded" % name)


def _skip_module_value(src: _Source) -> None:
    """Skip a self-describing (module v2 / module aux) value up to its EOF opcode."""
    while True:
        opcode = _read_length(src)
        if opcode == _MODULE_OPCODE_EOF:
            return
        if opcode in (_MODULE_OPCODE_SINT, _MODULE_OPCODE_UINT):
            _read_length(src)
        elif opcode == _MODULE_OPCODE_STRING:
            _read_string(src)
        elif opcode == _MODULE_OPCODE_FLOAT:
            src.read(4)
        elif opcode == _MODULE_OPCODE_DOUBLE:
            src.read(8)
        else:
            raise RDBError("Unknown module value opcode %d" % opcode)


def _pairs_to_dict(items: list[bytes | int]) -> dict[bytes, bytes]:
    if len(items) % 2:
        raise RDBError("odd number of elements in a hash encoding")
    items = _as_bytes(items)
    return dict(zip(items[0::2], items[1::2]))


def _read_hash_metadata(src) -> FieldTTLHash:
    earliest = struct.unpack("<Q", src.read(8))[0]
    out = FieldTTLHash()
    ttls = out.ttl
    for _ in range(_read_length(src)):
        ttl = _read_length(src)
        field_name = _read_string(src)
        if field_name in out:
            raise RDBError("Duplicate hash fields detected")
        out[field_name] = _read_string(src)
        if ttl:
            when = ttl + earliest - 1
            if when > _MAX_FIELD_EXPIRE:
                raise RDBError("invalid expireAt time")
            ttls[field_name] = when
    return out


# Redis keeps field expiry times in 48 bits.
_MAX_FIELD_EXPIRE = (1 << 48) - 1


def _triplets_to_hash(items: list[bytes | int]) -> FieldTTLHash:
    """A listpack of (field, value, ttl) triplets; ttl 0 means none."""
    if len(items) % 3:
        raise RDBError("Hash listpack integrity check failed.")
    fields = _as_bytes(items[0::3])
    return FieldTTLHash(zip(fields, _as_bytes(items[1::3])),
                        {f: int(ttl) for f, ttl in zip(fields, items[2::3]) if int(ttl)})


def _pairs_to_zset(items: list[bytes | int]) -> list[tuple[bytes, float]]:
    if len(items) % 2:
        raise RDBError("odd number of elements in a zset encoding")
    members = _as_bytes(items[0::2])
    return [(member, float(score)) for member, score in zip(members, items[1::2])]


def _read_stream_id(src: _Source) -> StreamID:
    return (_read_length(src), _read_length(src))


def _stream_entries_from_listpack(master_id: StreamID, lp: bytes,
                                  out: list[tuple[StreamID, list[bytes]]]) -> None:
    items = listpack_decode(lp)
    master_ms, master_seq = master_id
    count, deleted, num_master_fields = items[0], items[1], items[2]
    pos = 3 + num_master_fields
    master_fields = _as_bytes(items[3:pos])
    if items[pos] != 0:
        raise RDBError("Stream listpack integrity check failed: no master terminator")
    pos += 1
    for _ in range(count + deleted):
        flags, ms_diff, seq_diff = items[pos], items[pos + 1], items[pos + 2]
        pos += 3
        if flags & _STREAM_FLAG_SAMEFIELDS:
            values = _as_bytes(items[pos:pos + num_master_fields])
            pos += num_master_fields
            fields_values = [None] * (2 * num_master_fields)
            fields_values[0::2] = master_fields
            fields_values[1::2] = values
        else:
            numfields = items[pos]
            fields_values = _as_bytes(items[pos + 1:pos + 1 + 2 * numfields])
            pos += 1 + 2 * numfields
        pos += 1                                        # lp-count
        if not flags & _STREAM_FLAG_DELETED:
            out.append((((master_ms + ms_diff) % _U64, (master_seq + seq_diff) % _U64),
                        fields_values))
    if pos != len(items):
        raise RDBError("Stream listpack integrity check failed: trailing elements")


def _estimate_entries_read(stream: StreamData, group_last_id: StreamID) -> int:
    """streamEstimateDistanceFromFirstEverEntry, for pre-7.0 stream groups."""
    if not stream.entries_added:
        return 0
    if not stream.length and group_last_id <= stream.last_id:
        return stream.entries_added
    if group_last_id == stream.last_id:
        return stream.entries_added
    if group_last_id > stream.last_id:
        return -1
    if stream.max_deleted_id == (0, 0) or stream.max_deleted_id < stream.first_id:
        if group_last_id < stream.first_id:
            return stream.entries_added - stream.length
        if group_last_id == stream.first_id:
            return stream.entries_added - stream.length + 1
    return -1


def _read_stream(src: _Source, rdb_type: int) -> StreamData:
    stream = StreamData()
    for _ in range(_read_length(src)):
        node_key = _read_string(src)
        if len(node_key) != 16:
            raise RDBError("Stream node key entry is not the size of a stream ID")
        lp = _read_string(src)
        _stream_entries_from_listpack(_unpack_stream_id(node_key), lp, stream.entries)
    stream.length = _read_length(src)
    stream.last_id = _read_stream_id(src)
    if rdb_type == TYPE_STREAM_LISTPACKS_2:
        stream.first_id = _read_stream_id(src)
        stream.max_deleted_id = _read_stream_id(src)
        stream.entries_added = _read_length(src)
    else:
        stream.entries_added = stream.length
        stream.first_id = stream.entries[0][0] if stream.entries else (0, 0)
    for _ in range(_read_length(src)):
        group = GroupData(name=_read_string(src), last_id=_read_stream_id(src))
        if rdb_type == TYPE_STREAM_LISTPACKS_2:
            entries_read = _read_length(src)
            group.entries_read = entries_read - _U64 if entries_read >= (1 << 63) else entries_read
        else:
            group.entries_read = _estimate_entries_read(stream, group.last_id)
        nacks: dict[StreamID, list] = {}
        for _ in range(_read_length(src)):
            entry_id = _unpack_stream_id(src.read(16))
            delivery_time = _read_ms_time(src)
            nacks[entry_id] = [entry_id, delivery_time, _read_length(src), b""]
        for _ in range(_read_length(src)):
            name = _read_string(src)
            seen_time = _read_ms_time(src)
            pending = []
            for _ in range(_read_length(src)):
                entry_id = _unpack_stream_id(src.read(16))
                nack = nacks.get(entry_id)
                if nack is None:
                    raise RDBError("Consumer entry not found in group global PEL")
                nack[3] = name
                pending.append(entry_id)
            group.consumers.append((name, seen_time, pending))
        group.pel = [tuple(nack) for nack in nacks.values()]
        stream.groups.append(group)
    return stream


def _read_quicklist(src: _Source, rdb_type: int) -> list[bytes]:
    out: list[bytes] = []
    for _ in range(_read_length(src)):
        container = _read_length(src) if rdb_type == TYPE_LIST_QUICKLIST_2 else _QUICKLIST_PACKED
        blob = _read_string(src)
        if container == _QUICKLIST_PLAIN:
            out.append(blob)
        elif container != _QUICKLIST_PACKED:
            raise RDBError("Quicklist integrity check failed")
        elif rdb_type == TYPE_LIST_QUICKLIST_2:
            out += _as_bytes(listpack_decode(blob))
        else:
            out += _as_bytes(_ziplist_decode(blob))
    return out


def _read_value(src: _Source, rdb_type: int) -> Any:
    """Decode one value of the given RDB type (an empty collection, which
    Redis skips on load, comes back empty)."""
    if rdb_type == TYPE_STRING:
        return _read_string(src)
    if rdb_type in (TYPE_LIST_QUICKLIST_2, TYPE_LIST_QUICKLIST):
        return _read_quicklist(src, rdb_type)
    if rdb_type in (TYPE_LIST, TYPE_SET):
        return [_read_string(src) for _ in range(_read_length(src))]
    if rdb_type == TYPE_HASH:
        out = {}
        for _ in range(_read_length(src)):
            field_name = _read_string(src)
            out[field_name] = _read_string(src)
        return out
    if rdb_type == TYPE_HASH_METADATA:
        return _read_hash_metadata(src)
    if rdb_type == TYPE_HASH_LISTPACK_EX:
        src.read(8)     # the earliest field expiry, implied by the triplets
        return _triplets_to_hash(listpack_decode(_read_string(src)))
    if rdb_type in (TYPE_ZSET_2, TYPE_ZSET):
        out = []
        binary = rdb_type == TYPE_ZSET_2
        for _ in range(_read_length(src)):
            member = _read_string(src)
            score = _unpack_double(src.read(8))[0] if binary else _read_text_double(src)
            if score != score:
                raise RDBError("Zset with NAN score detected")
            out.append((member, score))
        return out
    if rdb_type in (TYPE_STREAM_LISTPACKS_2, TYPE_STREAM_LISTPACKS):
        return _read_stream(src, rdb_type)
    if rdb_type in (TYPE_MODULE, TYPE_MODULE_2):
        raise _module_value_error(src)
    blob_decoder = _BLOB_DECODERS.get(rdb_type)
    if blob_decoder is None:
        raise RDBError("Unknown RDB encoding type %d" % rdb_type)
    return blob_decoder(_read_string(src))


_BLOB_DECODERS = {
    TYPE_HASH_ZIPMAP: _zipmap_decode,
    TYPE_LIST_ZIPLIST: lambda blob: _as_bytes(_ziplist_decode(blob)),
    TYPE_SET_INTSET: lambda blob: [b"%d" % v for v in _intset_decode(blob)],
    TYPE_ZSET_ZIPLIST: lambda blob: _pairs_to_zset(_ziplist_decode(blob)),
    TYPE_HASH_ZIPLIST: lambda blob: _pairs_to_dict(_ziplist_decode(blob)),
    TYPE_HASH_LISTPACK: lambda blob: _pairs_to_dict(listpack_decode(blob)),
    TYPE_ZSET_LISTPACK: lambda blob: _pairs_to_zset(listpack_decode(blob)),
}


def _is_empty(value: Any) -> bool:
    if type(value) is bytes or type(value) is StreamData:
        return False
    return not value


def _read_old_function(src: _Source) -> bytes:
    name = _read_string(src)
    engine = _read_string(src)
    if _read_length(src):
        _read_string(src)           # description, dropped by 7.0 as well
    body = _read_string(src)
    return b"#!%s name=%s\n%s" % (engine, name, body)


class RDBReader:
    """Reads an RDB file from a binary file object.

    for item in RDBReader(fh).items(): ...   yields AuxField, SelectDB,
    ResizeDB, FunctionLibrary, ModuleAux and KeyRecord items.  Keys whose
    value is an empty collection are skipped, as Redis does.  The trailing
    CRC64 is verified when nonzero unless checksum=False (for rdbchecksum no).
    """

    def __init__(self, fh: BinaryIO, checksum: bool = True):
        self._src = _Source(fh, checksum=checksum)
        self.version: int | None = None

    def _read_header(self) -> int:
        magic = self._src.read(9)
        if magic[:5] != b"REDIS" or not magic[5:].isdigit():
            raise RDBError("Wrong signature trying to load DB from file")
        version = int(magic[5:])
        if not 1 <= version <= RDB_VERSION:
            raise RDBError("Can't handle RDB format version %d" % version)
        return version

    def items(self) -> Iterator[Any]:
        try:
            src = self._src
            version = self.version = self._read_header()
            db = 0
            expire_ms = lru_idle = lfu_freq = None
            read_string = _read_string
            while True:
                buf = src.buf
                pos = src.pos
                if pos >= len(buf):
                    src.refill(1)
                    buf = src.buf
                    pos = 0
                opcode = buf[pos]
                pos += 1
                src.pos = pos
                if opcode == TYPE_STRING:
                    # Fast path: short plain key and value, both already buffered.
                    key_len = buf[pos] if pos < len(buf) else 64
                    if key_len < 64:
                        key_end = pos + 1 + key_len
                        value_len = buf[key_end] if key_end < len(buf) else 64
                        if value_len < 64:
                            value_end = key_end + 1 + value_len
                            if value_end <= len(buf):
                                src.pos = value_end
                                yield _new_tuple(KeyRecord, (db, buf[pos + 1:key_end], "string",
                                                             buf[key_end + 1:value_end],
                                                             expire_ms, lru_idle, lfu_freq))
                                expire_ms = lru_idle = lfu_freq = None
                                continue
                    key = read_string(src)
                    yield _new_tuple(KeyRecord, (db, key, "string", read_string(src),
                                                 expire_ms, lru_idle, lfu_freq))
                    expire_ms = lru_idle = lfu_freq = None
                elif opcode < OPCODE_FUNCTION2:
                    key = read_string(src)
                    value = _read_value(src, opcode)
                    if not _is_empty(value):
                        yield _new_tuple(KeyRecord, (db, key, _TYPE_NAMES[opcode], value,
                                                     expire_ms, lru_idle, lfu_freq))
                    expire_ms = lru_idle = lfu_freq = None
                elif opcode == OPCODE_EXPIRETIME_MS:
                    expire_ms = _read_ms_time(src)
                elif opcode == OPCODE_EXPIRETIME:
                    expire_ms = _unpack_i32(src.read(4))[0] * 1000
                elif opcode == OPCODE_SELECTDB:
                    db = _read_length(src)
                    yield SelectDB(db)
                elif opcode == OPCODE_RESIZEDB:
                    yield ResizeDB(_read_length(src), _read_length(src))
                elif opcode == OPCODE_AUX:
                    yield AuxField(read_string(src), read_string(src))
                elif opcode == OPCODE_IDLE:
                    lru_idle = _read_length(src)
                elif opcode == OPCODE_FREQ:
                    lfu_freq = src.byte()
                elif opcode == OPCODE_FUNCTION2:
                    yield FunctionLibrary(read_string(src))
                elif opcode == OPCODE_FUNCTION:
                    yield FunctionLibrary(_read_old_function(src))
                elif opcode == OPCODE_MODULE_AUX:
                    module_id = _read_length(src)
                    if _read_length(src) != _MODULE_OPCODE_UINT:
                        raise RDBError("bad when_opcode in module aux data")
                    when = _read_length(src)
                    _skip_module_value(src)
                    yield ModuleAux(_module_type_name(module_id), when)
                elif opcode == OPCODE_EOF:
                    break
                else:
                    raise RDBError("Unknown RDB opcode %d" % opcode)
            if version >= 5:
                expected = src.checksum_through_pos() if src.checksum else 0
                stored = int.from_bytes(src.read(8), "little")
                if src.checksum and stored and stored != expected:
                    raise RDBError("Wrong RDB checksum expected: (%x) but got (%x)" % (expected, stored))
        except (IndexError, TypeError, ValueError, struct.error) as exc:
            raise RDBError("RDB file is corrupt: %s" % exc) from None


# -------------------------------------------------------------- DUMP/RESTORE

def dump_payload(type_name: str, value: Any, compress: bool = True,
                 limits: EncodingLimits = DEFAULT_LIMITS) -> bytes:
    """The DUMP serialization: type byte, value, RDB version (2 bytes LE) and
    CRC64 of all that (8 bytes LE)."""
    rdb_type, body = _encode_value(type_name, value, compress, limits)
    data = bytes((rdb_type,)) + body + RDB_VERSION.to_bytes(2, "little")
    return data + crc64(data).to_bytes(8, "little")


def restore_payload(payload: bytes) -> tuple[str, Any]:
    """Decode a DUMP payload into (type_name, value)."""
    payload = bytes(payload)
    if len(payload) < 10:
        raise RDBError(_DUMP_MESSAGE)
    version = payload[-10] | (payload[-9] << 8)
    if version > RDB_VERSION or crc64(memoryview(payload)[:-8]) != int.from_bytes(payload[-8:], "little"):
        raise RDBError(_DUMP_MESSAGE)
    src = _Source(None, payload[:-10])
    try:
        rdb_type = src.byte()
        if rdb_type in (TYPE_MODULE, TYPE_MODULE_2):
            module_error = _module_value_error(src)
        else:
            module_error = None
            type_name = _TYPE_NAMES.get(rdb_type)
            value = _read_value(src, rdb_type)
    except (RDBError, IndexError, TypeError, ValueError, struct.error):
        raise RDBError("Bad data format") from None
    if module_error is not None:
        raise module_error
    if type_name is None or _is_empty(value):
        raise RDBError("Bad data format")
    return type_name, value
