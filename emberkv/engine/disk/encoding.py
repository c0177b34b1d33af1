"""Byte layouts of the disk engine's records (after Kvrocks / Pika).

Every record lives in one ordered key space; the first byte says what it is:

    m <pid:4> <key>                                   metadata of a user key
    s <pid:4> <klen:4> <key> <version:8> <subkey>     one member of a collection
    z <pid:4> <klen:4> <key> <version:8> <score:8> <member>   sorted-set score index
    x <pid:4> <expire_ms:8> <key>                     expiry index (soonest first)
    y <pid:4> <key>                                   hashes whose fields have TTLs
    g <seq:8>                                         stale ranges waiting for the GC
    #c <pid:4>                                        key / expiry counters of a database
    #s                                                engine state (versions, db map)
    #i                                                "the dataset was imported" marker

``pid`` is a physical namespace: a logical database (SELECT index) maps to
one, so FLUSHDB and SWAPDB only change the mapping.  A collection's members
are tagged with the version of its metadata; deleting or overwriting the key
writes new metadata and leaves the old members to the GC.

Metadata value::

    kind:1 flags:1 [expire_ms:8 if FLAG_EXPIRE]
    string:      payload
    collection:  version:8 count:8 + per kind: hash next_seq:8 | list head:8 |
                 stream last_id:16 first_id:16 max_deleted_id:16 entries_added:8

The expiry is optional (strings without a TTL pay 2 bytes of header, not 18:
with tens of millions of keys that is what the block cache holds).
"""

from __future__ import annotations

import struct

STRING, HASH, SET, ZSET, LIST, STREAM = range(6)
KIND_NAMES = {HASH: b"hash", SET: b"set", ZSET: b"zset", LIST: b"list", STREAM: b"stream"}
KIND_OF = {v: k for k, v in KIND_NAMES.items()}

FLAG_EXPIRE = 1
FLAG_COMPACT = 2        # listpack (hash, zset) or intset (set): Redis's sticky small encoding
FLAG_FIELD_TTL = 4      # a hash with field expiry times (listed in the ``y`` index)

STATE_KEY = b"#s"
IMPORTED_KEY = b"#i"
COUNT_PREFIX = b"#c"
GC_PREFIX = b"g"

_U64 = struct.Struct(">Q")
_U32 = struct.Struct(">I")
_QQ = struct.Struct(">QQ")
_COLL = struct.Struct(">QQ")          # version, count
_STREAM_TAIL = struct.Struct(">QQQQQQQ")  # last/first/max_deleted ids as hi,lo pairs + added
_M64 = (1 << 64) - 1
_BIAS = 1 << 63


def u64(n: int) -> bytes:
    return _U64.pack(n)


def pid_bytes(pid: int) -> bytes:
    return _U32.pack(pid)


# ------------------------------------------------------------------------ keys

def meta_prefix(pid: int) -> bytes:
    return b"m" + _U32.pack(pid)


def sub_prefix(tag: bytes, pid: int, key: bytes, version: int) -> bytes:
    """Start of a collection's members (``tag`` b"s") or score index (b"z")."""
    return b"%s%s%s%s%s" % (tag, _U32.pack(pid), _U32.pack(len(key)), key, _U64.pack(version))


def expire_prefix(pid: int) -> bytes:
    return b"x" + _U32.pack(pid)


def field_ttl_key(pid: int, key: bytes) -> bytes:
    return b"y" + _U32.pack(pid) + key


def expire_key(pid: int, when: int, key: bytes) -> bytes:
    return b"x%s%s%s" % (_U32.pack(pid), _U64.pack(when), key)


def count_key(pid: int) -> bytes:
    return COUNT_PREFIX + _U32.pack(pid)


def gc_key(seq: int) -> bytes:
    return GC_PREFIX + _U64.pack(seq)


def next_prefix(prefix: bytes) -> bytes:
    """The smallest key greater than every key starting with ``prefix``."""
    p = bytearray(prefix)
    while p and p[-1] == 0xFF:
        p.pop()
    if not p:
        return b"\xff" * (len(prefix) + 1)
    p[-1] += 1
    return bytes(p)


# ------------------------------------------------------------------ metadata

def encode_string(value: bytes, expire: int | None) -> bytes:
    if expire is None:
        return b"\x00\x00" + value
    return b"\x00\x01" + _U64.pack(expire) + value


def header_size(raw: bytes) -> int:
    return 10 if raw[1] & FLAG_EXPIRE else 2


def meta_expire(raw: bytes) -> int | None:
    return _U64.unpack_from(raw, 2)[0] if raw[1] & FLAG_EXPIRE else None


def string_payload(raw: bytes) -> bytes:
    return raw[10:] if raw[1] & FLAG_EXPIRE else raw[2:]


def with_expire(raw: bytes, expire: int | None) -> bytes:
    """The same metadata with another expiry (None removes it)."""
    body = raw[header_size(raw):]
    flags = raw[1] & ~FLAG_EXPIRE
    if expire is None:
        return bytes((raw[0], flags)) + body
    return bytes((raw[0], flags | FLAG_EXPIRE)) + _U64.pack(expire) + body


def encode_collection(kind: int, compact: bool, expire: int | None, version: int, count: int,
                      extra: bytes = b"", field_ttl: bool = False) -> bytes:
    flags = (FLAG_COMPACT if compact else 0) | (FLAG_FIELD_TTL if field_ttl else 0)
    if expire is None:
        head = bytes((kind, flags))
    else:
        head = bytes((kind, flags | FLAG_EXPIRE)) + _U64.pack(expire)
    return head + _COLL.pack(version, count) + extra


def decode_collection(raw: bytes) -> tuple[int, int, bytes]:
    """(version, count, kind-specific tail) of collection metadata."""
    off = header_size(raw)
    version, count = _COLL.unpack_from(raw, off)
    return version, count, raw[off + 16:]


# ------------------------------------------------------------------ members

def list_index(i: int) -> bytes:
    """List positions may go negative (LPUSH): biased so byte order is numeric order."""
    return _U64.pack(i + _BIAS)


def list_index_value(b: bytes) -> int:
    return _U64.unpack(b)[0] - _BIAS


_D = struct.Struct(">d")


def score_bytes(score: float) -> bytes:
    """A double as 8 bytes that sort like the numbers (sign bit flipped, negatives inverted)."""
    n = _U64.unpack(_D.pack(score))[0]
    n = n ^ _M64 if n & _BIAS else n | _BIAS
    return _U64.pack(n)


def score_from_bytes(b: bytes, off: int = 0) -> float:
    n = _U64.unpack_from(b, off)[0]
    n = n ^ _BIAS if n & _BIAS else n ^ _M64
    return _D.unpack(_U64.pack(n))[0]


def raw_score(score: float) -> bytes:
    return _D.pack(score)


def raw_score_value(b: bytes) -> float:
    return _D.unpack(b)[0]


# A hash field's value: seq:8 (insertion order; the top bit says a field TTL follows)
# [ttl_ms:8] payload.  Fields reload in the order they were inserted, like a listpack.
def hash_value(seq: int, ttl: int | None, value: bytes) -> bytes:
    if ttl is None:
        return _U64.pack(seq) + value
    return _QQ.pack(seq | _BIAS, ttl) + value


def decode_hash_value(b: bytes) -> tuple[int, int | None, bytes]:
    seq = _U64.unpack_from(b)[0]
    if seq & _BIAS:
        return seq ^ _BIAS, _U64.unpack_from(b, 8)[0], b[16:]
    return seq, None, b[8:]


def hash_seq(b: bytes) -> int:
    return _U64.unpack_from(b)[0] & ~_BIAS


# ------------------------------------------------------------------ streams

def stream_tail(last_id: int, first_id: int, max_deleted_id: int, entries_added: int) -> bytes:
    return _STREAM_TAIL.pack(last_id >> 64, last_id & _M64, first_id >> 64, first_id & _M64,
                             max_deleted_id >> 64, max_deleted_id & _M64, entries_added)


def decode_stream_tail(b: bytes) -> tuple[int, int, int, int]:
    a, b_, c, d, e, f, added = _STREAM_TAIL.unpack_from(b)
    return (a << 64) | b_, (c << 64) | d, (e << 64) | f, added


STREAM_NODE = b"\x00"     # + master id (16 bytes): one node's entries
STREAM_GROUPS = b"\x01"   # consumer groups, consumers and PELs in one record


def stream_id_bytes(i: int) -> bytes:
    return i.to_bytes(16, "big")


def _put_blob(out: list, b: bytes) -> None:
    out.append(_U32.pack(len(b)))
    out.append(b)


class _Reader:
    __slots__ = ("b", "pos")

    def __init__(self, b: bytes):
        self.b = b
        self.pos = 0

    def u32(self) -> int:
        v = _U32.unpack_from(self.b, self.pos)[0]
        self.pos += 4
        return v

    def u64(self) -> int:
        v = _U64.unpack_from(self.b, self.pos)[0]
        self.pos += 8
        return v

    def i64(self) -> int:
        v = self.u64()
        return v - (1 << 64) if v & _BIAS else v

    def id128(self) -> int:
        v = int.from_bytes(self.b[self.pos:self.pos + 16], "big")
        self.pos += 16
        return v

    def byte(self) -> int:
        v = self.b[self.pos]
        self.pos += 1
        return v

    def blob(self) -> bytes:
        n = self.u32()
        v = self.b[self.pos:self.pos + n]
        self.pos += n
        return v


def encode_stream_node(ids: list, vals: list, dead) -> bytes:
    """One node: count, then per entry id:16 deleted:1 nitems:4 and length-prefixed items."""
    out = [_U32.pack(len(ids))]
    for i, (entry_id, fv) in enumerate(zip(ids, vals)):
        out.append(entry_id.to_bytes(16, "big"))
        out.append(b"\x01" if i in dead else b"\x00")
        out.append(_U32.pack(len(fv)))
        for x in fv:
            _put_blob(out, x)
    return b"".join(out)


def decode_stream_node(b: bytes) -> list:
    """[(id, fields_values, deleted), ...] as Stream.load_node takes them."""
    r = _Reader(b)
    out = []
    for _ in range(r.u32()):
        entry_id = r.id128()
        deleted = r.byte() == 1
        fv = tuple(r.blob() for _ in range(r.u32()))
        out.append((entry_id, fv, deleted))
    return out


def encode_groups(groups: dict) -> bytes:
    """Every consumer group of a stream (with consumers and pending entries)."""
    out = [_U32.pack(len(groups))]
    for name, g in groups.items():
        _put_blob(out, name)
        out.append(g.last_id.to_bytes(16, "big"))
        out.append(_U64.pack(g.entries_read & _M64))
        out.append(_U32.pack(len(g.consumers)))
        for c in g.consumers.values():
            _put_blob(out, c.name)
            out.append(_U64.pack(c.seen_time & _M64))
        out.append(_U32.pack(len(g.pel_ids)))
        for entry_id in g.pel_ids:
            nack = g.pel[entry_id]
            out.append(entry_id.to_bytes(16, "big"))
            out.append(_QQ.pack(nack.delivery_time & _M64, nack.delivery_count & _M64))
            if nack.consumer is None:
                out.append(b"\x00")
            else:
                out.append(b"\x01")
                _put_blob(out, nack.consumer.name)
    return b"".join(out)


def decode_groups(b: bytes) -> dict:
    from ...datatypes.stream import Group
    r = _Reader(b)
    groups = {}
    for _ in range(r.u32()):
        name = r.blob()
        g = Group(r.id128(), r.i64())
        for _ in range(r.u32()):
            cname = r.blob()
            g.create_consumer(cname, r.i64())
        for _ in range(r.u32()):
            entry_id = r.id128()
            delivery_time, delivery_count = r.i64(), r.i64()
            if r.byte():
                g.add_pending(entry_id, g.consumers[r.blob()], delivery_time, delivery_count)
            else:
                g.force_pending(entry_id, delivery_time).delivery_count = delivery_count
        groups[name] = g
    return groups


# -------------------------------------------------------------- engine state

def encode_state(next_version: int, next_pid: int, gc_seq: int, pids: list) -> bytes:
    return _U64.pack(next_version) + _U32.pack(next_pid) + _U64.pack(gc_seq) + \
        _U32.pack(len(pids)) + b"".join(_U32.pack(p) for p in pids)


def decode_state(b: bytes) -> tuple[int, int, int, list]:
    r = _Reader(b)
    next_version, next_pid, gc_seq = r.u64(), r.u32(), r.u64()
    pids = [r.u32() for _ in range(r.u32())]
    return next_version, next_pid, gc_seq, pids


def encode_counts(keys: int, expires: int) -> bytes:
    return _QQ.pack(keys, expires)


def decode_counts(b: bytes) -> tuple[int, int]:
    return _QQ.unpack(b)


def encode_gc(count: int, ranges: list) -> bytes:
    """A GC job: how many records it covers (a hint) and the [start, end) ranges to drop."""
    out = [_U64.pack(count), _U32.pack(len(ranges))]
    for start, end in ranges:
        _put_blob(out, start)
        _put_blob(out, end)
    return b"".join(out)


def decode_gc(b: bytes) -> tuple[int, list]:
    r = _Reader(b)
    count = r.u64()
    return count, [(r.blob(), r.blob()) for _ in range(r.u32())]
