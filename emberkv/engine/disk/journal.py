"""Collections of the disk engine: the in-memory classes, journaled.

Command bodies mutate collections in place (``h.set``, ``v.appendleft``...),
exactly as with the memory engine.  Here each collection is a subclass of its
in-memory class whose mutating methods also note *what* changed in the
collection's ``Entry``: which hash fields, set members, sorted-set members
(with the score they had), list positions or stream nodes.  When the batch
is committed the engine writes just those members from the live object;
mutations that move many positions at once (LINSERT, LREM, rotate, clear...)
ask for a full rewrite under a new version instead.

An object whose ``_e`` is None journals nothing: that is how fresh objects,
deleted keys and evicted cache entries behave.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import deque

from sortedcontainers import SortedList

from ...datatypes.hashtype import HashValue
from ...datatypes.listtype import ListValue
from ...datatypes.settype import SetValue
from ...datatypes.stream import Stream
from ...datatypes.zset import ZSet
from . import encoding as enc
from .encoding import HASH, LIST, SET, STREAM, ZSET

ELEMENT_OVERHEAD = 72       # rough bytes of Python objects per element, for the cache budget


class Entry:
    """A collection held in the decoded-value cache, and what changed since the last commit."""

    __slots__ = ("engine", "pid", "key", "mkey", "kind", "version", "persisted", "expire", "obj",
                 "dirty", "rewrite", "plain", "registered", "size", "unit", "head", "next_seq",
                 "groups_dirty", "groups_stored", "ttl_indexed")

    def __init__(self, engine, pid: int, key: bytes, mkey: bytes, kind: int, version: int, obj):
        self.engine = engine
        self.pid = pid
        self.key = key
        self.mkey = mkey
        self.kind = kind
        self.version = version
        self.persisted = False      # members of ``version`` are in the store
        self.expire = None
        self.obj = obj
        self.dirty = {} if kind == HASH or kind == ZSET else set()
        self.rewrite = False        # write every member under a fresh version at commit
        self.plain = False          # obj is not journaled (a value handed to set())
        self.registered = False     # waiting in engine.dirty for the next commit
        self.size = 0
        self.unit = ELEMENT_OVERHEAD + 16
        self.head = 0               # list: store position of the first element
        self.next_seq = 0           # hash: insertion counter
        self.groups_dirty = False   # stream: consumer groups to write again
        self.groups_stored = False  # stream: a groups record exists in the store
        self.ttl_indexed = False    # hash: listed in the field-TTL index

    # --- journal ----------------------------------------------------------------------------
    def register(self) -> None:
        if not self.registered:
            self.registered = True
            self.engine.register(self)

    def touch(self, member) -> None:
        """Set member, list position or stream node whose record must be written again."""
        if not self.rewrite:
            self.dirty.add(member)
        if not self.registered:
            self.register()

    def touch_field(self, field: bytes, new: bool) -> None:
        """A hash field changed; a new field gets the next insertion number."""
        if not self.rewrite:
            if new:
                self.dirty[field] = self.next_seq
                self.next_seq += 1
            elif field not in self.dirty:
                self.dirty[field] = None   # keeps its stored number
        if not self.registered:
            self.register()

    def touch_score(self, member: bytes, old) -> None:
        """A sorted-set member changed; ``old`` is the score it had (None: absent)."""
        if not self.rewrite and member not in self.dirty:
            self.dirty[member] = old
        if not self.registered:
            self.register()

    def touch_meta(self) -> None:
        if not self.registered:
            self.register()

    def mark_rewrite(self) -> None:
        self.rewrite = True
        self.dirty.clear()
        if not self.registered:
            self.register()

    def detach(self) -> None:
        """The key is gone or evicted: further changes to the object are not journaled."""
        obj = self.obj
        if not self.plain and getattr(obj, "_e", None) is self:
            obj._e = None


# --------------------------------------------------------------------------- hashes

class DiskHash(HashValue):
    __slots__ = ("_e",)

    def __init__(self, pairs=None):
        HashValue.__init__(self, pairs)
        self._e = None

    def set(self, field, value):
        e = self._e
        if e is not None:
            e.touch_field(field, field not in self.d)
        return HashValue.set(self, field, value)

    def delete(self, field):
        e = self._e
        if e is not None and field in self.d:
            e.touch_field(field, False)
        return HashValue.delete(self, field)

    def set_field_expire(self, field, when_ms):
        e = self._e
        if e is not None:
            e.touch_field(field, False)
        HashValue.set_field_expire(self, field, when_ms)

    def persist_field(self, field):
        done = HashValue.persist_field(self, field)
        e = self._e
        if done and e is not None:
            e.touch_field(field, False)
        return done

    def pop_expired(self, now_ms, limit=-1):
        out = HashValue.pop_expired(self, now_ms, limit)
        e = self._e
        if e is not None:
            for f in out:
                e.touch_field(f, False)
        return out


# ----------------------------------------------------------------------------- sets

def _members(it):
    return it if type(it) is list or type(it) is tuple else list(it)


class DiskSet(SetValue):
    __slots__ = ("_e",)

    def __init__(self, members=(), intset=None):
        SetValue.__init__(self, members, intset)
        self._e = None

    def _touch_all(self, members) -> None:
        e = self._e
        if e is not None:
            if e.rewrite:
                e.touch_meta()
                return
            touch = e.touch
            for m in members:
                touch(m)

    # SetValue's own API (it calls set.add/set.discard directly, bypassing the builtins below)
    def add_members(self, members, max_intset):
        members = _members(members)
        self._touch_all(members)
        return SetValue.add_members(self, members, max_intset)

    def add_member(self, member, max_intset):
        e = self._e
        if e is not None:
            e.touch(member)
        return SetValue.add_member(self, member, max_intset)

    def remove_members(self, members):
        members = _members(members)
        self._touch_all(members)
        return SetValue.remove_members(self, members)

    def remove_member(self, member):
        e = self._e
        if e is not None:
            e.touch(member)
        return SetValue.remove_member(self, member)

    def _discard_indexed(self, m):
        e = self._e
        if e is not None:
            e.touch(m)
        SetValue._discard_indexed(self, m)

    def recheck_encoding(self, max_intset):
        SetValue.recheck_encoding(self, max_intset)
        e = self._e
        if e is not None:
            e.touch_meta()

    # builtin set mutators
    def add(self, member):
        e = self._e
        if e is not None:
            e.touch(member)
        set.add(self, member)

    def discard(self, member):
        e = self._e
        if e is not None:
            e.touch(member)
        set.discard(self, member)

    def remove(self, member):
        set.remove(self, member)
        e = self._e
        if e is not None:
            e.touch(member)

    def pop(self):
        m = set.pop(self)
        e = self._e
        if e is not None:
            e.touch(m)
        return m

    def clear(self):
        set.clear(self)
        e = self._e
        if e is not None:
            e.mark_rewrite()

    def update(self, *others):
        others = [_members(o) for o in others]
        for o in others:
            self._touch_all(o)
        set.update(self, *others)

    def difference_update(self, *others):
        others = [_members(o) for o in others]
        for o in others:
            self._touch_all(o)
        set.difference_update(self, *others)

    def symmetric_difference_update(self, other):
        other = _members(other)
        self._touch_all(other)
        set.symmetric_difference_update(self, other)

    def intersection_update(self, *others):
        set.intersection_update(self, *others)
        e = self._e
        if e is not None:
            e.mark_rewrite()

    def __ior__(self, other):
        self.update(other)
        return self

    def __isub__(self, other):
        self.difference_update(other)
        return self

    def __ixor__(self, other):
        self.symmetric_difference_update(other)
        return self

    def __iand__(self, other):
        self.intersection_update(other)
        return self


# ---------------------------------------------------------------------- sorted sets

class DiskZSet(ZSet):
    __slots__ = ("_e",)

    def __init__(self, items=None, listpack: bool = True):
        ZSet.__init__(self, items, listpack)
        self._e = None

    def add(self, member, score):
        e = self._e
        if e is not None:
            e.touch_score(member, self.scores.get(member))
        return ZSet.add(self, member, score)

    def remove(self, member):
        e = self._e
        if e is not None:
            old = self.scores.get(member)
            if old is not None:
                e.touch_score(member, old)
        return ZSet.remove(self, member)

    def remove_index_range(self, i, j):
        e = self._e
        if e is not None:
            for score, member in self.order[i:j]:
                e.touch_score(member, score)
        return ZSet.remove_index_range(self, i, j)

    def pop(self, count, from_max=False):
        out = ZSet.pop(self, count, from_max)
        e = self._e
        if e is not None:
            for member, score in out:
                e.touch_score(member, score)
        return out


# ---------------------------------------------------------------------------- lists

class DiskList(ListValue):
    """Positions are numbered in the store from ``Entry.head``; pushes and pops at the ends
    touch one position each, anything that shifts the middle asks for a rewrite."""

    __slots__ = ("_e",)

    def __init__(self, iterable=(), maxlen=None):
        deque.__init__(self, iterable)
        self._e = None

    def append(self, x):
        deque.append(self, x)
        e = self._e
        if e is not None:
            e.touch(e.head + len(self) - 1)

    def appendleft(self, x):
        deque.appendleft(self, x)
        e = self._e
        if e is not None:
            e.head -= 1
            e.touch(e.head)

    def pop(self):
        x = deque.pop(self)
        e = self._e
        if e is not None:
            e.touch(e.head + len(self))
        return x

    def popleft(self):
        x = deque.popleft(self)
        e = self._e
        if e is not None:
            e.touch(e.head)
            e.head += 1
        return x

    def extend(self, iterable):
        items = list(iterable)
        deque.extend(self, items)
        e = self._e
        if e is not None and items:
            if e.rewrite:
                e.touch_meta()
                return
            end = e.head + len(self)
            for i in range(end - len(items), end):
                e.touch(i)

    def extendleft(self, iterable):
        items = list(iterable)
        deque.extendleft(self, items)
        e = self._e
        if e is not None and items:
            e.head -= len(items)
            if e.rewrite:
                e.touch_meta()
                return
            for i in range(e.head, e.head + len(items)):
                e.touch(i)

    def __setitem__(self, index, value):
        deque.__setitem__(self, index, value)
        e = self._e
        if e is not None:
            if index < 0:
                index += len(self)
            e.touch(e.head + index)

    def __iadd__(self, other):
        self.extend(other)
        return self

    def _shifted(self) -> None:
        e = self._e
        if e is not None:
            e.mark_rewrite()

    def insert(self, i, x):
        deque.insert(self, i, x)
        self._shifted()

    def remove(self, value):
        deque.remove(self, value)
        self._shifted()

    def rotate(self, n=1):
        deque.rotate(self, n)
        self._shifted()

    def reverse(self):
        deque.reverse(self)
        self._shifted()

    def clear(self):
        deque.clear(self)
        self._shifted()

    def __delitem__(self, index):
        deque.__delitem__(self, index)
        self._shifted()

    def __imul__(self, n):
        deque.__imul__(self, n)
        self._shifted()
        return self


# -------------------------------------------------------------------------- streams

class DiskStream(Stream):
    """Nodes are the unit of storage: a change rewrites the nodes it touched (a node holds
    at most stream-node-max-entries entries), never the whole stream."""

    __slots__ = ("_e",)

    def __init__(self):
        Stream.__init__(self)
        self._e = None

    def append(self, entry_id, fv, max_entries, max_bytes):
        ok = Stream.append(self, entry_id, fv, max_entries, max_bytes)
        e = self._e
        if ok and e is not None:
            e.touch(self._starts[-1])
        return ok

    def delete(self, entry_id):
        e = self._e
        if e is not None:
            k = bisect_right(self._starts, entry_id) - 1
            if k >= 0:
                e.touch(self._starts[k])
        return Stream.delete(self, entry_id)

    def _drop_node(self, k):
        e = self._e
        if e is not None:
            e.touch(self._starts[k])
        Stream._drop_node(self, k)

    def trim(self, maxlen=None, minid=None, approx=False, limit=0):
        n = Stream.trim(self, maxlen, minid, approx, limit)
        e = self._e
        if n and e is not None and self._starts:
            e.touch(self._starts[0])    # the node trimmed entry by entry
        return n

    def load_node(self, entries):
        Stream.load_node(self, entries)
        e = self._e
        if e is not None:
            e.touch(entries[0][0])


JOURNALED = {DiskHash, DiskSet, DiskZSet, DiskList, DiskStream}


def kind_of(obj) -> int:
    return enc.KIND_OF[obj.kind]


def to_journaled(obj):
    """A journaled object with the same contents as ``obj`` (a plain collection)."""
    t = type(obj)
    if t in JOURNALED:
        return obj
    kind = obj.kind
    if kind == b"hash":
        h = DiskHash()
        h.d = dict(obj.d)
        h.listpack = obj.listpack
        if obj.ttl:
            h.ttl = dict(obj.ttl)
            h._heap = list(obj._heap)
        return h
    if kind == b"set":
        return DiskSet(obj, obj._intset)
    if kind == b"zset":
        z = DiskZSet(listpack=obj.listpack)
        z.scores = dict(obj.scores)
        z.order = obj.order.copy()
        return z
    if kind == b"list":
        return DiskList(obj)
    s = DiskStream()
    for slot in ("_nodes", "_starts", "_rax", "length", "last_id", "first_id", "max_deleted_id",
                 "entries_added", "groups"):
        setattr(s, slot, getattr(obj, slot))
    return s


# ------------------------------------------------------------------- serialization

def meta_bytes(e: Entry) -> bytes:
    obj = e.obj
    kind = e.kind
    if kind == HASH:
        return enc.encode_collection(HASH, obj.listpack, e.expire, e.version, len(obj),
                                     enc.u64(e.next_seq), bool(obj.ttl))
    if kind == SET:
        return enc.encode_collection(SET, obj._intset, e.expire, e.version, len(obj))
    if kind == ZSET:
        return enc.encode_collection(ZSET, obj.listpack, e.expire, e.version, len(obj))
    if kind == LIST:
        return enc.encode_collection(LIST, False, e.expire, e.version, len(obj),
                                     enc.list_index(e.head))
    return enc.encode_collection(STREAM, False, e.expire, e.version, len(obj),
                                 enc.stream_tail(obj.last_id, obj.first_id, obj.max_deleted_id,
                                                 obj.entries_added))


def write_all(e: Entry, ops: dict) -> int:
    """Every member of ``e.obj`` under ``e.version``; returns the bytes written."""
    obj = e.obj
    kind = e.kind
    sp = enc.sub_prefix(b"s", e.pid, e.key, e.version)
    total = 0
    if kind == HASH:
        ttl = obj.ttl
        seq = 0
        for f, v in obj.d.items():
            ops[sp + f] = enc.hash_value(seq, ttl.get(f) if ttl else None, v)
            seq += 1
            total += len(f) + len(v)
        e.next_seq = seq
    elif kind == SET:
        for m in obj:
            ops[sp + m] = b""
            total += len(m)
    elif kind == ZSET:
        zp = enc.sub_prefix(b"z", e.pid, e.key, e.version)
        raw, sb = enc.raw_score, enc.score_bytes
        for s, m in obj.order:
            ops[sp + m] = raw(s)
            ops[zp + sb(s) + m] = b""
            total += len(m) + 8
    elif kind == LIST:
        e.head = 0
        idx = enc.list_index
        for i, v in enumerate(obj):
            ops[sp + idx(i)] = v
            total += len(v)
    else:
        for master, node in zip(obj._starts, obj._nodes):
            ops[sp + enc.STREAM_NODE + enc.stream_id_bytes(master)] = \
                enc.encode_stream_node(node.ids, node.vals, node.dead)
            total += sum(len(x) for fv in node.vals for x in fv)
        if obj.groups:
            ops[sp + enc.STREAM_GROUPS] = enc.encode_groups(obj.groups)
        e.groups_stored = bool(obj.groups)
        e.groups_dirty = False
    n = len(obj) or 1
    e.unit = ELEMENT_OVERHEAD + total // n
    return total


def write_dirty(e: Entry, ops: dict, store_get) -> None:
    """The members noted in ``e.dirty``, as they are now in ``e.obj``."""
    obj = e.obj
    kind = e.kind
    sp = enc.sub_prefix(b"s", e.pid, e.key, e.version)
    dirty = e.dirty
    if kind == HASH:
        d, ttl = obj.d, obj.ttl
        for f, seq in dirty.items():
            k = sp + f
            v = d.get(f)
            if v is None:
                ops[k] = None
                continue
            if seq is None:
                old = store_get(k)
                if old is None:
                    seq = e.next_seq
                    e.next_seq += 1
                else:
                    seq = enc.hash_seq(old)
            ops[k] = enc.hash_value(seq, ttl.get(f) if ttl else None, v)
    elif kind == SET:
        for m in dirty:
            ops[sp + m] = b"" if m in obj else None
    elif kind == ZSET:
        zp = enc.sub_prefix(b"z", e.pid, e.key, e.version)
        scores = obj.scores
        raw, sb = enc.raw_score, enc.score_bytes
        for m, old in dirty.items():
            new = scores.get(m)
            old_b = None if old is None else raw(old)
            new_b = None if new is None else raw(new)
            if old_b == new_b:
                continue
            if old is not None:
                ops[zp + sb(old) + m] = None
            if new is None:
                ops[sp + m] = None
            else:
                ops[sp + m] = new_b
                ops[zp + sb(new) + m] = b""
    elif kind == LIST:
        head, n = e.head, len(obj)
        idx = enc.list_index
        for pos in dirty:
            i = pos - head
            ops[sp + idx(pos)] = obj[i] if 0 <= i < n else None
    else:
        starts = obj._starts
        for master in dirty:
            k = bisect_left(starts, master)
            key = sp + enc.STREAM_NODE + enc.stream_id_bytes(master)
            if k < len(starts) and starts[k] == master:
                node = obj._nodes[k]
                ops[key] = enc.encode_stream_node(node.ids, node.vals, node.dead)
            else:
                ops[key] = None
        if e.groups_dirty:
            if obj.groups:
                ops[sp + enc.STREAM_GROUPS] = enc.encode_groups(obj.groups)
                e.groups_stored = True
            elif e.groups_stored:
                ops[sp + enc.STREAM_GROUPS] = None
                e.groups_stored = False
            e.groups_dirty = False
    dirty.clear()


def load_value(e: Entry, raw_meta: bytes, store, journaled: bool = True):
    """Build ``e``'s collection from its members in the store (``e.version`` already set).

    Returns the object and the bytes read (for the cache budget)."""
    kind = e.kind
    compact = bool(raw_meta[1] & enc.FLAG_COMPACT)
    _version, count, tail = enc.decode_collection(raw_meta)
    sp = enc.sub_prefix(b"s", e.pid, e.key, e.version)
    cut = len(sp)
    total = 0
    if kind == ZSET:
        zp = enc.sub_prefix(b"z", e.pid, e.key, e.version)
        zcut = len(zp)
        pairs = []
        scores = {}
        sfb = enc.score_from_bytes
        for k, _v in store.items(zp, enc.next_prefix(zp)):
            s = sfb(k, zcut)
            m = k[zcut + 8:]
            pairs.append((s, m))
            scores[m] = s
            total += len(m) + 8
        z = (DiskZSet if journaled else ZSet)(listpack=compact)
        z.scores = scores
        z.order = SortedList(pairs)
        obj = z
    else:
        rows = store.items(sp, enc.next_prefix(sp))
        if kind == HASH:
            fields = []
            ttls = []
            dec = enc.decode_hash_value
            for k, v in rows:
                seq, ttl, value = dec(v)
                f = k[cut:]
                fields.append((seq, f, value))
                if ttl is not None:
                    ttls.append((f, ttl))
                total += len(k) - cut + len(value)
            fields.sort(key=_first)
            h = (DiskHash if journaled else HashValue)()
            h.d = {f: v for _s, f, v in fields}
            h.listpack = compact
            for f, ttl in ttls:
                HashValue.set_field_expire(h, f, ttl)
            e.next_seq = enc._U64.unpack(tail[:8])[0]
            e.ttl_indexed = bool(raw_meta[1] & enc.FLAG_FIELD_TTL)
            obj = h
        elif kind == SET:
            members = [k[cut:] for k, _v in rows]
            total = sum(map(len, members))
            obj = (DiskSet if journaled else SetValue)(members, compact)
        elif kind == LIST:
            values = [v for _k, v in rows]
            total = sum(map(len, values))
            e.head = enc.list_index_value(tail[:8])
            obj = (DiskList if journaled else ListValue)(values)
        else:
            s = DiskStream() if journaled else Stream()
            groups = None
            for k, v in rows:
                sub = k[cut:]
                if sub[:1] == enc.STREAM_NODE:
                    Stream.load_node(s, enc.decode_stream_node(v))
                    total += len(v)
                else:
                    groups = v
            s.last_id, s.first_id, s.max_deleted_id, s.entries_added = enc.decode_stream_tail(tail)
            s.length = count
            if groups is not None:
                s.groups = enc.decode_groups(groups)
                e.groups_stored = True
            obj = s
    n = len(obj) or 1
    e.unit = ELEMENT_OVERHEAD + total // n
    e.size = e.unit * n + 200
    return obj


def _first(t):
    return t[0]
