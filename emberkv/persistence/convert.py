"""Conversion between in-memory values and the neutral model of ``rdb.py``.

Saving hands the codec views that need no copying where the collection
already behaves like the neutral type: a list is an iterable of bytes, a set
an iterable of members, a hash anything with ``len`` and ``items()``.  Zsets
and streams are translated.  Loading builds the collection classes of
``emberkv.datatypes`` and picks their encoding from the current config.

A hash with field TTLs (Redis 7.4's field expiry) is written as Redis 7.4 writes it
(RDB_TYPE_HASH_METADATA), which Redis 7.4 and later load; hashes without them keep the
Redis 7.0 encodings.
"""

from __future__ import annotations

from typing import Any

from .rdb import EncodingLimits, GroupData, RDBError, StreamData

_M64 = (1 << 64) - 1


def encoding_limits(config) -> EncodingLimits:
    """The writer's encoding thresholds from the live config."""
    return EncodingLimits(
        hash_max_listpack_entries=config.hash_max_listpack_entries,
        hash_max_listpack_value=config.hash_max_listpack_value,
        zset_max_listpack_entries=config.zset_max_listpack_entries,
        zset_max_listpack_value=config.zset_max_listpack_value,
        set_max_intset_entries=config.set_max_intset_entries,
        list_max_listpack_size=config.list_max_listpack_size,
        stream_node_max_bytes=config.stream_node_max_bytes,
        stream_node_max_entries=config.stream_node_max_entries,
    )


# --------------------------------------------------------------------- saving

def to_neutral(value) -> tuple[str, Any]:
    """(type name, neutral value) for any keyspace value."""
    if type(value) is bytes:
        return "string", value
    kind = value.kind
    if kind == b"list" or kind == b"set" or kind == b"hash":
        return kind.decode(), value
    if kind == b"zset":
        return "zset", list(value.items())
    if kind == b"stream":
        return "stream", stream_to_neutral(value)
    raise RDBError("can't serialize a value of type %r" % kind)


def _sid(i: int) -> tuple[int, int]:
    return (i >> 64, i & _M64)


def stream_to_neutral(s) -> StreamData:
    entries = []
    for _master, _fields, items in s.iter_nodes():
        for entry_id, fv, deleted in items:
            if not deleted:
                entries.append((_sid(entry_id), list(fv)))
    groups = []
    for name, g in s.sorted_groups():
        # An ownerless PEL entry only exists inside XCLAIM FORCE; RDB has no way to say it.
        pel = [(_sid(i), nack.delivery_time, nack.delivery_count, nack.consumer.name)
               for i in g.pel_ids for nack in (g.pel[i],) if nack.consumer is not None]
        consumers = [(c.name, c.seen_time, [_sid(i) for i in c.pel_ids])
                     for c in g.sorted_consumers()]
        groups.append(GroupData(name=name, last_id=_sid(g.last_id), entries_read=g.entries_read,
                                pel=pel, consumers=consumers))
    return StreamData(entries=entries, length=len(entries), last_id=_sid(s.last_id),
                      first_id=_sid(s.first_id), max_deleted_id=_sid(s.max_deleted_id),
                      entries_added=s.entries_added, groups=groups)


# -------------------------------------------------------------------- loading

def from_neutral(type_name: str, value: Any, config):
    """A keyspace value built from the codec's neutral value."""
    if type_name == "string":
        return value if type(value) is bytes else bytes(value)
    builder = _BUILDERS.get(type_name)
    if builder is None:
        raise RDBError("can't load a value of type %r" % type_name)
    return builder(value, config)


def _build_list(items, config):
    from ..datatypes.listtype import ListValue
    return ListValue(items)


def _build_set(members, config):
    from ..datatypes.settype import SetValue
    return SetValue.build(members, config.set_max_intset_entries)


def _build_hash(mapping, config):
    from ..datatypes.hashtype import HashValue
    h = HashValue(mapping)
    ttls = getattr(mapping, "ttl", None)
    if ttls:
        # Expired ones stay until the field-expiry sweep (or a read) removes them, as in Redis.
        for f, when in ttls.items():
            h.set_field_expire(f, when)
        h.ex = True
    return h.fit_encoding(config)


def _build_zset(pairs, config):
    from ..datatypes.zset import ZSet
    return ZSet(pairs).fit_encoding(config)


def _build_stream(data: StreamData, config):
    from ..datatypes.stream import Group, Stream, make_id
    s = Stream()
    max_entries = config.stream_node_max_entries
    max_bytes = config.stream_node_max_bytes
    for (ms, seq), fv in data.entries:
        s.append(make_id(ms, seq), tuple(fv), max_entries, max_bytes)
    s.last_id = make_id(*data.last_id)
    s.first_id = make_id(*data.first_id) if data.entries else 0
    s.max_deleted_id = make_id(*data.max_deleted_id)
    s.entries_added = data.entries_added
    for gd in data.groups:
        g = Group(make_id(*gd.last_id), gd.entries_read)
        for name, seen_time, _pending in gd.consumers:
            g.create_consumer(name, seen_time)
        for (ms, seq), delivery_time, delivery_count, owner in sorted(gd.pel):
            entry_id = make_id(ms, seq)
            consumer = g.consumers.get(owner)
            if consumer is None:
                g.force_pending(entry_id, delivery_time).delivery_count = delivery_count
            else:
                g.add_pending(entry_id, consumer, delivery_time, delivery_count)
        s.groups[gd.name] = g
    return s


_BUILDERS = {
    "list": _build_list,
    "set": _build_set,
    "hash": _build_hash,
    "zset": _build_zset,
    "stream": _build_stream,
}
