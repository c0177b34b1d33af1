"""Redis streams: entries in append-only nodes, consumer groups with pending-entry lists.

IDs are 128-bit ints, ``ms << 64 | seq``, so they sort and compare natively.

Entries live in nodes that mirror Redis's listpack nodes: a node takes new
entries until it holds ``stream-node-max-entries`` entries (live or deleted)
or its listpack would reach ``stream-node-max-bytes``.  Deleting an entry only
flags it (a tombstone) unless it was the node's last live entry, in which case
the node goes away.  Keeping Redis's node boundaries is what makes approximate
trimming (``MAXLEN ~``), XINFO's radix-tree counters and RDB dumps come out the
same as Redis's.  Within a node, ``ids`` and ``vals`` are parallel lists
(``vals[i]`` is the flat field/value tuple), so a seek is two bisects.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort

M64 = (1 << 64) - 1
MAX_ID = (1 << 128) - 1
# Listpacks cannot exceed 1 GiB; a node-max-bytes of 0 or above it means "this cap".
LISTPACK_MAX_SIZE = 1 << 30
INVALID_ENTRIES_READ = -1


def make_id(ms: int, seq: int) -> int:
    return (ms << 64) | seq


def format_id(i: int) -> bytes:
    return b"%d-%d" % (i >> 64, i & M64)


# --- listpack sizes -----------------------------------------------------------------
# Only sizes are modelled: a node's byte size decides when Redis opens a new node.

def _int_size(v: int) -> int:
    """Bytes of an integer listpack element (encoding plus back-length)."""
    if 0 <= v <= 127:
        return 2
    if -4096 <= v <= 4095:
        return 3
    if -32768 <= v <= 32767:
        return 4
    if -8388608 <= v <= 8388607:
        return 5
    if -2147483648 <= v <= 2147483647:
        return 6
    return 10


def _backlen_size(n: int) -> int:
    if n <= 127:
        return 1
    if n < 16383:
        return 2
    if n < 2097151:
        return 3
    if n < 268435455:
        return 4
    return 5


def _str_size(s: bytes) -> int:
    """Bytes of a string listpack element; strings that look like int64 are stored as ints."""
    n = len(s)
    if n < 21 and n:
        c0 = s[0]
        if (49 <= c0 <= 57 and s.isdigit()) or (c0 == 45 and n > 1 and 49 <= s[1] <= 57
                                                and s[1:].isdigit()) or s == b"0":
            v = int(s)
            if -(1 << 63) <= v < (1 << 63):
                return _int_size(v)
    if n < 64:
        return n + 2
    enc = n + 2 if n < 4096 else n + 5
    return enc + _backlen_size(enc)


def _signed64(x: int) -> int:
    x &= M64
    return x - (1 << 64) if x >= (1 << 63) else x


def _entry_size(entry_id: int, master_id: int, fv, same_fields: bool) -> int:
    """Listpack bytes of one entry as streamAppendItem lays it out."""
    nfields = len(fv) >> 1
    size = 2 + _int_size(_signed64((entry_id >> 64) - (master_id >> 64))) \
        + _int_size(_signed64(entry_id - master_id))
    if same_fields:
        for i in range(1, len(fv), 2):
            size += _str_size(fv[i])
        return size + _int_size(nfields + 3)
    for x in fv:
        size += _str_size(x)
    return size + _int_size(nfields) + _int_size(2 * nfields + 4)


class _Node:
    """One listpack's worth of entries; ``ids[0]`` is its master ID (its radix-tree key)."""
    __slots__ = ("ids", "vals", "fields", "live", "dead", "nbytes", "sized", "pending")

    def __init__(self, entry_id: int, fv: tuple):
        self.ids = [entry_id]
        self.vals = [fv]
        self.fields = fv[0::2]         # master fields: later entries with the same ones are cheaper
        self.live = 1
        self.dead: set = set()         # indexes of tombstones
        # header + terminator + master entry (count and deleted are added by byte_size)
        nbytes = 7 + _int_size(len(self.fields)) + 2
        for f in self.fields:
            nbytes += _str_size(f)
        self.nbytes = nbytes + _entry_size(entry_id, entry_id, fv, True)
        # Sizing every entry is slow, so entries past ``sized`` are only counted by an
        # upper bound (``pending``) until the node might be near its byte limit.
        self.sized = 1
        self.pending = 0

    def settle(self) -> None:
        """Replace the pending upper bound by the exact size of the unsized entries."""
        ids, vals, fields = self.ids, self.vals, self.fields
        master = ids[0]
        nbytes = self.nbytes
        for i in range(self.sized, len(ids)):
            fv = vals[i]
            nbytes += _entry_size(ids[i], master, fv, fv[0::2] == fields)
        self.nbytes = nbytes
        self.sized = len(ids)
        self.pending = 0

    def byte_size(self) -> int:
        if self.pending:
            self.settle()
        return self.nbytes + _int_size(self.live) + _int_size(len(self.dead))

    def copy(self) -> "_Node":
        n = _Node.__new__(_Node)
        n.ids = self.ids[:]
        n.vals = self.vals[:]
        n.fields = self.fields
        n.live = self.live
        n.dead = set(self.dead)
        n.nbytes = self.nbytes
        n.sized = self.sized
        n.pending = self.pending
        return n


class _RaxShape:
    """Node count of the radix tree Redis keeps its stream nodes in (XINFO radix-tree-nodes).

    Only the tree's shape is modelled, following rax.c's insert/split and
    remove/recompress steps, because the count depends on the history of
    insertions and deletions, not just on the current keys.
    """
    __slots__ = ("head", "numnodes")

    class N:
        __slots__ = ("chars", "kids", "compr", "key")

        def __init__(self, chars=b"", kids=None, compr=False, key=False):
            self.chars = chars
            self.kids = kids if kids is not None else []
            self.compr = compr
            self.key = key

    def __init__(self):
        self.head = self.N()
        self.numnodes = 1

    def _walk(self, s: bytes, stack: list | None):
        """Follow ``s``: (node, chars consumed, split position, parent, child index)."""
        h, parent, pidx, i, j, n = self.head, None, 0, 0, 0, len(s)
        while h.chars and i < n:
            if h.compr:
                j = 0
                while j < len(h.chars) and i < n and h.chars[j] == s[i]:
                    j += 1
                    i += 1
                if j != len(h.chars):
                    break
                k = 0
            else:
                k = h.chars.find(s[i])
                if k < 0:
                    j = 0
                    break
                i += 1
            if stack is not None:
                stack.append(h)
            parent, pidx, h, j = h, k, h.kids[k], 0
        return h, i, j, parent, pidx

    def _relink(self, parent, pidx, node) -> None:
        if parent is None:
            self.head = node
        else:
            parent.kids[pidx] = node

    def insert(self, s: bytes) -> None:
        N = self.N
        h, i, j, parent, pidx = self._walk(s, None)
        n = len(s)
        if i == n and (not h.compr or j == 0):
            h.key = True
            return
        if h.compr:
            # Split the compressed node where the new key diverges.
            nxt = h.kids[0]
            post_len = len(h.chars) - j - 1
            if post_len:
                nxt = N(h.chars[j + 1:], [nxt], post_len > 1)
                self.numnodes += 1
            split = N(h.chars[j:j + 1], [nxt], False, j == 0 and h.key)
            if j:
                self._relink(parent, pidx, N(h.chars[:j], [split], j > 1, h.key))
                self.numnodes += 1
            else:
                self._relink(parent, pidx, split)
            h = split
        while i < n:
            child = N()
            if not h.chars and n - i > 1:
                h.chars, h.kids, h.compr = s[i:], [child], True
                i = n
            else:
                k = bisect_left(h.chars, s[i])
                h.chars = h.chars[:k] + s[i:i + 1] + h.chars[k:]
                h.kids.insert(k, child)
                i += 1
            self.numnodes += 1
            h = child
        h.key = True

    def remove(self, s: bytes) -> None:
        stack: list = []
        h, i, j, _, _ = self._walk(s, stack)
        if i != len(s) or (h.compr and j) or not h.key:
            return
        h.key = False
        try_compress = False
        if not h.chars:
            child = None
            while h is not self.head:
                child = h
                self.numnodes -= 1
                h = stack.pop()
                if h.key or (not h.compr and len(h.chars) != 1):
                    break
            if child is not None:
                if h.compr:
                    h.chars, h.kids, h.compr = b"", [], False
                else:
                    k = h.kids.index(child)
                    h.chars = h.chars[:k] + h.chars[k + 1:]
                    del h.kids[k]
                if len(h.chars) == 1 and not h.key:
                    try_compress = True
        elif len(h.chars) == 1:
            try_compress = True
        if not try_compress:
            return
        # Climb to the top of the chain of pass-through nodes, then merge it down.
        parent = None
        while stack:
            parent = stack.pop()
            if parent.key or (not parent.compr and len(parent.chars) != 1):
                break
            h = parent
            parent = None
        start = h
        chars, count, node = [start.chars], 1, start
        while node.chars:
            node = node.kids[-1]
            if node.key or (not node.compr and len(node.chars) != 1):
                break
            count += 1
            chars.append(node.chars)
        if count < 2:
            return
        merged = self.N(b"".join(chars), None, True)
        node = start
        for _ in range(count):
            node = node.kids[-1]
        merged.kids = [node]
        self.numnodes += 1 - count
        if parent is None:
            self.head = merged
        else:
            parent.kids[parent.kids.index(start)] = merged


def _rax_key(node_id: int) -> bytes:
    return node_id.to_bytes(16, "big")


# --- consumer groups --------------------------------------------------------------------

class Nack:
    """A pending entry: delivered to ``consumer`` and not yet acknowledged."""
    __slots__ = ("delivery_time", "delivery_count", "consumer")

    def __init__(self, consumer, delivery_time: int, delivery_count: int = 1):
        self.consumer = consumer
        self.delivery_time = delivery_time
        self.delivery_count = delivery_count


def _sorted_add(ids: list, x: int) -> None:
    if not ids or x > ids[-1]:
        ids.append(x)
    else:
        insort(ids, x)


def _sorted_remove(ids: list, x: int) -> None:
    if ids[-1] == x:
        ids.pop()
    else:
        del ids[bisect_left(ids, x)]


class Consumer:
    __slots__ = ("name", "seen_time", "pel", "pel_ids")

    def __init__(self, name: bytes, seen_time: int):
        self.name = name
        self.seen_time = seen_time
        self.pel: dict = {}       # id -> Nack (shared with the group's PEL)
        self.pel_ids: list = []   # the same ids, sorted


class Group:
    __slots__ = ("last_id", "entries_read", "pel", "pel_ids", "consumers")

    def __init__(self, last_id: int, entries_read: int = INVALID_ENTRIES_READ):
        self.last_id = last_id
        self.entries_read = entries_read
        self.pel: dict = {}        # id -> Nack
        self.pel_ids: list = []    # sorted ids of the PEL
        self.consumers: dict = {}  # name -> Consumer

    def consumer(self, name: bytes):
        return self.consumers.get(name)

    def create_consumer(self, name: bytes, now_ms: int) -> Consumer | None:
        """A new consumer, or None if the name is taken."""
        if name in self.consumers:
            return None
        c = self.consumers[name] = Consumer(name, now_ms)
        return c

    def delete_consumer(self, name: bytes) -> int:
        """Remove a consumer and its pending entries; returns how many were pending."""
        c = self.consumers.pop(name)
        for i in c.pel_ids:
            del self.pel[i]
            _sorted_remove(self.pel_ids, i)
        return len(c.pel_ids)

    def sorted_consumers(self) -> list:
        return [self.consumers[k] for k in sorted(self.consumers)]

    def add_pending(self, entry_id: int, consumer: Consumer, now_ms: int,
                    delivery_count: int = 1) -> Nack:
        """Record a delivery to ``consumer``; an entry pending elsewhere changes owner."""
        nack = self.pel.get(entry_id)
        if nack is None:
            nack = Nack(consumer, now_ms, delivery_count)
            self.pel[entry_id] = nack
            _sorted_add(self.pel_ids, entry_id)
        else:
            self._unlink(entry_id, nack)
            nack.consumer = consumer
            nack.delivery_time = now_ms
            nack.delivery_count = delivery_count
        consumer.pel[entry_id] = nack
        _sorted_add(consumer.pel_ids, entry_id)
        return nack

    def _unlink(self, entry_id: int, nack: Nack) -> None:
        owner = nack.consumer
        if owner is not None and owner.pel.pop(entry_id, None) is not None:
            _sorted_remove(owner.pel_ids, entry_id)

    def transfer(self, entry_id: int, nack: Nack, consumer: Consumer) -> None:
        """Give a pending entry (possibly ownerless, from XCLAIM FORCE) to ``consumer``."""
        if nack.consumer is not consumer:
            self._unlink(entry_id, nack)
            nack.consumer = consumer
            consumer.pel[entry_id] = nack
            _sorted_add(consumer.pel_ids, entry_id)

    def force_pending(self, entry_id: int, now_ms: int) -> Nack:
        """An ownerless PEL entry (XCLAIM FORCE fills in the owner)."""
        nack = Nack(None, now_ms)
        self.pel[entry_id] = nack
        _sorted_add(self.pel_ids, entry_id)
        return nack

    def ack(self, entry_id: int) -> bool:
        nack = self.pel.pop(entry_id, None)
        if nack is None:
            return False
        _sorted_remove(self.pel_ids, entry_id)
        self._unlink(entry_id, nack)
        return True

    def copy(self) -> "Group":
        g = Group(self.last_id, self.entries_read)
        for name, c in self.consumers.items():
            nc = g.consumers[name] = Consumer(name, c.seen_time)
            nc.pel_ids = c.pel_ids[:]
        for i in self.pel_ids:
            old = self.pel[i]
            owner = g.consumers[old.consumer.name] if old.consumer is not None else None
            nack = g.pel[i] = Nack(owner, old.delivery_time, old.delivery_count)
            if owner is not None:
                owner.pel[i] = nack
        g.pel_ids = self.pel_ids[:]
        return g


def ids_in_range(ids: list, start: int, end: int, count: int = 0) -> list:
    """Sorted ``ids`` between start and end inclusive, at most ``count`` (0 = all)."""
    lo = bisect_left(ids, start)
    hi = bisect_right(ids, end, lo)
    if count and hi - lo > count:
        hi = lo + count
    return ids[lo:hi]


# --- the stream --------------------------------------------------------------------------

class Stream:
    kind = b"stream"
    __slots__ = ("_nodes", "_starts", "_rax", "length", "last_id", "first_id",
                 "max_deleted_id", "entries_added", "groups")

    def __init__(self):
        self._nodes: list[_Node] = []
        self._starts: list[int] = []     # master ID of each node, for bisect
        self._rax = _RaxShape()
        self.length = 0
        self.last_id = 0                 # last ID ever generated (0 = none yet)
        self.first_id = 0                # first live entry's ID, 0 when empty
        self.max_deleted_id = 0
        self.entries_added = 0
        self.groups: dict = {}           # name -> Group

    # --- datatype protocol ------------------------------------------------------------
    def __len__(self) -> int:
        return self.length

    def __bool__(self) -> bool:
        # An empty stream still exists (Redis keeps it, with its groups and last ID).
        return True

    def encoding(self, config) -> bytes:
        return b"stream"

    def copy(self) -> "Stream":
        s = Stream()
        s._nodes = [n.copy() for n in self._nodes]
        s._starts = self._starts[:]
        # Redis rebuilds the tree by inserting the nodes in order (streamDup).
        for k in s._starts:
            s._rax.insert(_rax_key(k))
        s.length = self.length
        s.last_id = self.last_id
        s.first_id = self.first_id
        s.max_deleted_id = self.max_deleted_id
        s.entries_added = self.entries_added
        s.groups = {name: g.copy() for name, g in self.groups.items()}
        return s

    def sample_items(self, n: int) -> list:
        out = []
        for node in self._nodes:
            for v in node.vals:
                out.append(v)
                if len(out) >= n:
                    return out
        return out

    # --- appends ----------------------------------------------------------------------------
    def append(self, entry_id: int, fv: tuple, max_entries: int, max_bytes: int) -> bool:
        """Add an entry (``entry_id`` > last_id, checked by the caller).

        False when the entry is too large for a listpack.
        """
        raw_size = sum(map(len, fv))
        if raw_size > LISTPACK_MAX_SIZE:
            return False
        nodes = self._nodes
        tail = nodes[-1] if nodes else None
        if tail is not None:
            if max_entries and len(tail.ids) >= max_entries:
                tail = None
            else:
                if max_bytes <= 0 or max_bytes > LISTPACK_MAX_SIZE:
                    max_bytes = LISTPACK_MAX_SIZE
                # 20 bytes bound the node's count and deleted fields.
                if tail.nbytes + tail.pending + raw_size + 20 >= max_bytes and \
                        tail.byte_size() + raw_size >= max_bytes:
                    tail = None
        if tail is None:
            nodes.append(_Node(entry_id, fv))
            self._starts.append(entry_id)
            self._rax.insert(_rax_key(entry_id))
        else:
            # A listpack element of n bytes takes at most n * 9/8 + 2; an entry adds at most
            # 34 for its flags, ID deltas, field count and back-count.
            tail.pending += raw_size + (raw_size >> 3) + 2 * len(fv) + 35
            tail.ids.append(entry_id)
            tail.vals.append(fv)
            tail.live += 1
        self.length += 1
        self.entries_added += 1
        self.last_id = entry_id
        if self.length == 1:
            self.first_id = entry_id
        return True

    # --- lookups ----------------------------------------------------------------------------
    def _locate(self, entry_id: int):
        """(node, index) of a live entry, or (None, -1)."""
        k = bisect_right(self._starts, entry_id) - 1
        if k < 0:
            return None, -1
        node = self._nodes[k]
        i = bisect_left(node.ids, entry_id)
        if i < len(node.ids) and node.ids[i] == entry_id and i not in node.dead:
            return node, i
        return None, -1

    def get(self, entry_id: int):
        """The field/value tuple of a live entry, or None."""
        node, i = self._locate(entry_id)
        return None if node is None else node.vals[i]

    def exists(self, entry_id: int) -> bool:
        return self._locate(entry_id)[0] is not None

    def entries(self, start: int, end: int, count: int = 0, rev: bool = False) -> list:
        """Live entries with start <= id <= end as (id, fields_values), at most ``count``."""
        out: list = []
        if start > end or not self.length:
            return out
        nodes = self._nodes
        starts = self._starts
        if not rev:
            k = max(bisect_right(starts, start) - 1, 0)
            first = True
            for k in range(k, len(nodes)):
                node = nodes[k]
                ids = node.ids
                if ids[0] > end:
                    break
                lo = bisect_left(ids, start) if first else 0
                first = False
                hi = bisect_right(ids, end, lo)
                if node.dead:
                    dead = node.dead
                    vals = node.vals
                    for i in range(lo, hi):
                        if i not in dead:
                            out.append((ids[i], vals[i]))
                            if len(out) == count:
                                return out
                else:
                    if count and len(out) + hi - lo >= count:
                        hi = lo + count - len(out)
                        out.extend(zip(ids[lo:hi], node.vals[lo:hi]))
                        return out
                    out.extend(zip(ids[lo:hi], node.vals[lo:hi]))
        else:
            k = bisect_right(starts, end) - 1
            first = True
            while k >= 0:
                node = nodes[k]
                ids = node.ids
                if ids[-1] < start and not first:
                    break
                hi = bisect_right(ids, end) if first else len(ids)
                first = False
                lo = bisect_left(ids, start, 0, hi)
                dead = node.dead
                vals = node.vals
                for i in range(hi - 1, lo - 1, -1):
                    if i not in dead:
                        out.append((ids[i], vals[i]))
                        if len(out) == count:
                            return out
                k -= 1
        return out

    def first_entry_id(self, with_tombstones: bool = False) -> int | None:
        """ID of the first entry (optionally counting tombstones), None when there is none."""
        for node in self._nodes:
            if with_tombstones:
                return node.ids[0]
            if node.live:
                for i in range(len(node.ids)):
                    if i not in node.dead:
                        return node.ids[i]
        return None

    def last_valid_id(self) -> int:
        """ID of the last live entry, 0 when there is none."""
        for node in reversed(self._nodes):
            if node.live:
                for i in range(len(node.ids) - 1, -1, -1):
                    if i not in node.dead:
                        return node.ids[i]
        return 0

    # --- deletion -----------------------------------------------------------------------------
    def delete(self, entry_id: int) -> bool:
        """XDEL one entry: flag it, or drop its node if it was the node's last live entry."""
        k = bisect_right(self._starts, entry_id) - 1
        if k < 0:
            return False
        node = self._nodes[k]
        i = bisect_left(node.ids, entry_id)
        if i >= len(node.ids) or node.ids[i] != entry_id or i in node.dead:
            return False
        if node.live == 1:
            self._drop_node(k)
        else:
            node.dead.add(i)
            node.live -= 1
        self.length -= 1
        if entry_id > self.max_deleted_id:
            self.max_deleted_id = entry_id
        return True

    def _drop_node(self, k: int) -> None:
        self._rax.remove(_rax_key(self._starts[k]))
        del self._nodes[k]
        del self._starts[k]

    def refresh_first_id(self) -> None:
        """Recompute the recorded first entry after deletions."""
        if not self.length:
            self.first_id = 0
        else:
            self.first_id = self.first_entry_id() or 0

    def trim(self, maxlen: int | None = None, minid: int | None = None,
             approx: bool = False, limit: int = 0) -> int:
        """XTRIM/XADD trimming by MAXLEN or MINID; returns the number of entries removed.

        With ``approx`` only whole nodes go; ``limit`` caps the entries removed (0 = none).
        """
        deleted = 0
        nodes = self._nodes
        by_len = maxlen is not None
        while nodes:
            if by_len and self.length <= maxlen:
                break
            node = nodes[0]
            entries = node.live
            if limit and deleted + entries > limit:
                break
            if by_len:
                whole = self.length - entries >= maxlen
            else:
                whole = node.ids[-1] < minid   # the last entry, tombstone or not
            if whole:
                self._drop_node(0)
                self.length -= entries
                deleted += entries
                continue
            if approx:
                break
            dead = node.dead
            for i, entry_id in enumerate(node.ids):
                if by_len:
                    if self.length <= maxlen:
                        break
                elif entry_id >= minid:
                    break
                if i not in dead:
                    dead.add(i)
                    node.live -= 1
                    self.length -= 1
                    deleted += 1
            break
        if not self.length:
            self.first_id = 0
        elif deleted:
            self.first_id = self.first_entry_id() or 0
        return deleted

    # --- metadata ------------------------------------------------------------------------------
    @property
    def node_count(self) -> int:
        """Listpack nodes (XINFO radix-tree-keys)."""
        return len(self._nodes)

    @property
    def rax_nodes(self) -> int:
        """Radix tree nodes (XINFO radix-tree-nodes)."""
        return self._rax.numnodes

    def has_tombstones_between(self, start: int, end: int = MAX_ID) -> bool:
        """streamRangeHasTombstones: may deleted entries lie in [start, end]?"""
        if not self.length or not self.max_deleted_id:
            return False
        if self.first_id > self.max_deleted_id:
            return False
        return start <= self.max_deleted_id <= end

    def estimate_entries_read(self, entry_id: int) -> int:
        """How many entries were added up to ``entry_id`` (a group's read counter), or -1."""
        if not self.entries_added:
            return 0
        if not self.length and entry_id <= self.last_id:
            return self.entries_added
        if entry_id == self.last_id:
            return self.entries_added
        if entry_id > self.last_id:
            return INVALID_ENTRIES_READ
        if not self.max_deleted_id or self.max_deleted_id < self.first_id:
            if entry_id < self.first_id:
                return self.entries_added - self.length
            if entry_id == self.first_id:
                return self.entries_added - self.length + 1
        return INVALID_ENTRIES_READ

    def group_lag(self, g: Group) -> int | None:
        """Entries not yet delivered to the group, None when it cannot be known."""
        if not self.entries_added:
            return 0
        if g.entries_read != INVALID_ENTRIES_READ and not self.has_tombstones_between(g.last_id):
            return self.entries_added - g.entries_read
        read = self.estimate_entries_read(g.last_id)
        if read != INVALID_ENTRIES_READ:
            return self.entries_added - read
        return None

    def deliver(self, g: Group, entry_id: int) -> None:
        """Advance a group past ``entry_id``, keeping its read counter as Redis does."""
        if entry_id > g.last_id:
            if g.entries_read != INVALID_ENTRIES_READ and \
                    not self.has_tombstones_between(entry_id):
                g.entries_read += 1
            elif self.entries_added:
                g.entries_read = self.estimate_entries_read(entry_id)
            g.last_id = entry_id

    def sorted_groups(self) -> list:
        """(name, Group) in Redis's order (byte order of names)."""
        return [(k, self.groups[k]) for k in sorted(self.groups)]

    # --- raw node access (persistence) --------------------------------------------------------
    def iter_nodes(self):
        """Each node as (master_id, master_fields, [(id, fields_values, deleted), ...])."""
        for node in self._nodes:
            dead = node.dead
            yield (node.ids[0], tuple(node.fields),
                   [(node.ids[i], node.vals[i], i in dead) for i in range(len(node.ids))])

    def load_node(self, entries: list) -> None:
        """Append a whole node from [(id, fields_values, deleted), ...] (RDB loading).

        The first entry's fields become the master fields; counters such as
        length and last_id are the loader's to set.
        """
        first_id, first_fv, first_dead = entries[0]
        node = _Node(first_id, tuple(first_fv))
        if first_dead:
            node.dead.add(0)
            node.live = 0
        for entry_id, fv, deleted in entries[1:]:
            if deleted:
                node.dead.add(len(node.ids))
            else:
                node.live += 1
            node.ids.append(entry_id)
            node.vals.append(tuple(fv))
        node.settle()
        self._nodes.append(node)
        self._starts.append(first_id)
        self._rax.insert(_rax_key(first_id))
