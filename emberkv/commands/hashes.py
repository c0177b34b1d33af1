"""Hash commands, including Redis 7.4's per-field expiry (HEXPIRE family).

Field expiry follows Redis 7.4: a command that reads one field deletes it if
its time has passed (propagated as HDEL, announced as ``hexpired``; a hash
left empty is deleted), whole-hash reads (HGETALL, HSCAN...) skip expired
fields, HRANDFIELD deletes them all first, and HLEN/HDEL see fields not yet
deleted.  A cron hook deletes expired fields in the background, following a
queue of hashes ordered by their next field expiry.
"""

from __future__ import annotations

import heapq
import random
import weakref

from ..datatypes.hashtype import HashValue
from ..protocol.reply import OK, CommandError, Pairs
from ..server.server import N_GENERIC, N_HASH, on_server_init
from ..util.glob import glob_matcher
from ..util.longdouble import add_ld, format_ld_human, parse_ld
from ..util.scan import ScanCursors
from .common import (LLONG_MAX, LLONG_MIN, NOT_FLOAT, NOT_INT, SYNTAX, WRONGTYPE, err, get_typed,
                     parse_int)
from .keys import parse_scan_cursor, parse_scan_options
from .registry import command

_LONG_MAX = 2**63 - 1
# Redis 7.4 caps field expiry times at EB_EXPIRE_TIME_MAX >> 2 ms.
_HFE_MAX_MS = 0x0000FFFFFFFFFFFF >> 2
# Fields expired per cron tick at most, so one huge hash cannot stall the server.
_ACTIVE_EXPIRE_QUOTA = 1000
# Keys examined per cron tick when looking for hashes that left the expiry queue.
_SWEEP_KEYS_PER_TICK = 500


def _arity_error(name: bytes):
    err(b"ERR wrong number of arguments for '%s' command" % name)


# --- field expiry bookkeeping ---------------------------------------------------------------

def _expire_fields(server, db, key: bytes, h, now: int, limit: int = -1) -> int:
    """Delete ``h``'s fields whose time has passed; delete the key if none remain."""
    fields = h.pop_expired(now, limit)
    if not fields:
        return 0
    idx = db.index
    for f in fields:
        server.propagate(idx, [b"HDEL", key, f])
    server.notify(N_HASH, b"hexpired", key, idx)
    if not len(h):
        db.delete(key)
        server.notify(N_GENERIC, b"del", key, idx)
    server.signal_modified(db, key)
    return len(fields)


class HashFieldExpiry:
    """Active expiry of hash fields: a queue of (next field expiry, db, key, hash).

    An entry is only a hint: it holds the hash weakly and is dropped when the
    key no longer holds that hash.  Each hash remembers its earliest queued
    time (``sched``), which keeps later, redundant entries out of the queue.
    Hashes that leave the queue while they still have field TTLs (RENAME,
    MOVE, SWAPDB, COPY, loading) are found again by a slow sweep of the
    in-memory keyspace, which runs only while such hashes may exist.
    """

    def __init__(self, server):
        self.server = server
        self.heap: list = []
        self._seq = 0
        self._compact_at = 1024
        self._sweep = True  # start with one pass: the dataset may have been loaded
        self._sweep_db = 0
        self._sweep_keys = None
        self._sweep_pos = 0
        self._sweep_found = False

    def track(self, db, key: bytes, h) -> None:
        when = h.next_expire()
        if when is None:
            return
        self._sweep = True
        if h.sched is None or when < h.sched:
            h.sched = when
            self._seq += 1
            heapq.heappush(self.heap, (when, self._seq, db.index, key, weakref.ref(h)))
            if len(self.heap) > self._compact_at:
                self._compact()

    def _compact(self) -> None:
        """Drop entries of freed hashes and superseded entries of live ones."""
        keep = []
        for entry in self.heap:
            h = entry[4]()
            if h is not None and h.sched == entry[0]:
                keep.append(entry)
        heapq.heapify(keep)
        self.heap = keep
        self._compact_at = max(1024, 2 * len(keep))

    def cron(self) -> None:
        server = self.server
        if not server.may_expire() or not getattr(server, "active_expire_enabled", True):
            return
        if self._sweep:
            self._sweep_step(_SWEEP_KEYS_PER_TICK)
        heap = self.heap
        now = server.now_ms()
        quota = _ACTIVE_EXPIRE_QUOTA
        while heap and heap[0][0] < now and quota > 0:
            when, _, idx, key, ref = heapq.heappop(heap)
            h = ref()
            if h is None:
                continue
            if h.sched == when:
                h.sched = None
            db = server.dbs[idx]
            if db.lookup_notouch(key) is not h:
                continue
            quota -= _expire_fields(server, db, key, h, now, quota)
            if len(h):
                self.track(db, key, h)

    def _sweep_step(self, budget: int) -> None:
        dbs = self.server.dbs
        while budget > 0:
            db = dbs[self._sweep_db]
            data = getattr(db, "data", None)  # only engines that keep values in memory
            if self._sweep_keys is None:
                self._sweep_keys = list(data) if isinstance(data, dict) else []
                self._sweep_pos = 0
            keys, pos = self._sweep_keys, self._sweep_pos
            end = min(len(keys), pos + budget)
            for k in keys[pos:end]:
                v = data.get(k)
                if v is not None and type(v) is not bytes and v.kind == b"hash" and v.has_ttl():
                    self._sweep_found = True
                    if v.sched is None:
                        self.track(db, k, v)
            budget -= end - pos
            self._sweep_pos = end
            if end < len(keys):
                return
            self._sweep_keys = None
            self._sweep_db += 1
            if self._sweep_db >= len(dbs):
                self._sweep_db = 0
                if not self._sweep_found and not self.heap:
                    self._sweep = False
                self._sweep_found = False
                return


@on_server_init
def _install_field_expiry(server) -> None:
    server.hash_field_expiry = HashFieldExpiry(server)
    server.cron_hooks.append(server.hash_field_expiry.cron)


def _hash_read(c, key: bytes):
    h = get_typed(c, key, b"hash")
    if h is not None and h.sched is None and h.has_ttl():
        c.server.hash_field_expiry.track(c.db, key, h)
    return h


def _hash_write(c, key: bytes):
    v = c.db.lookup(key)
    if v is None:
        return None
    if type(v) is bytes or v.kind != b"hash":
        err(WRONGTYPE)
    if v.sched is None and v.has_ttl():
        c.server.hash_field_expiry.track(c.db, key, v)
    return v


def _written(c, key: bytes, event: bytes, dirty: int) -> None:
    server = c.server
    server.signal_modified(c.db, key)
    server.notify(N_HASH, event, key, c.db.index)
    server.dirty += dirty


def _now(c) -> int:
    return c.server.now_ms()


def _is_expired(h, field: bytes, now: int) -> bool:
    when = h.field_expire(field)
    return when is not None and when < now


def _drop_expired(c, key: bytes, h, field: bytes, notify: bool = True) -> bool:
    """Lazy expiry of one field (Redis 7.4): True when ``field`` is logically expired.

    A master deletes it (propagating HDEL) and deletes the hash if it was the
    last field; a replica only hides it.
    """
    if not _is_expired(h, field, _now(c)):
        return False
    server = c.server
    if not server.may_expire() or server.loading:
        return True
    db = c.db
    h.delete(field)
    server.propagate(db.index, [b"HDEL", key, field])
    if notify:
        server.notify(N_HASH, b"hexpired", key, db.index)
    if not len(h):
        db.delete(key)
        if notify:
            server.notify(N_GENERIC, b"del", key, db.index)
    server.signal_modified(db, key)
    return True


def _expire_all(c, key: bytes, h):
    """Delete every expired field first (HRANDFIELD does this); None if the hash vanished."""
    server = c.server
    now = _now(c)
    when = h.next_expire()
    if when is None or when >= now:
        return h
    if not server.may_expire() or server.loading:
        h = h.copy()  # a replica hides expired fields but leaves deleting them to its master
        h.pop_expired(now)
        return h if len(h) else None
    _expire_fields(server, c.db, key, h, now)
    return h if len(h) else None


def _live_items(c, h):
    """(field, value) pairs of the fields that have not expired."""
    if not h.has_ttl():
        return h.items()
    now = _now(c)
    return [(f, v) for f, v in h.items() if not _is_expired(h, f, now)]


# --- basic commands -------------------------------------------------------------------------

def _hset(c, argv, name: bytes):
    n = len(argv)
    if n % 2:
        _arity_error(name)
    key = argv[1]
    h = _hash_write(c, key)
    if h is None:
        h = HashValue()
        c.db.set(key, h)
    created = 0
    hset_ = h.set
    for i in range(2, n, 2):
        if hset_(argv[i], argv[i + 1]):
            created += 1
    if h.listpack:
        h.check_encoding(c.server.config, argv[2:])
    _written(c, key, b"hset", (n - 2) // 2)
    return created


@command("hset", -4, "write denyoom fast", 1, 1, 1, group="hash", since="2.0.0",
         summary="Sets fields of a hash, creating the hash when needed; returns how many fields were new.")
def hset(c, argv):
    return _hset(c, argv, b"hset")


@command("hmset", -4, "write denyoom fast", 1, 1, 1, group="hash", since="2.0.0",
         summary="Sets fields of a hash (deprecated form of HSET that replies OK).")
def hmset(c, argv):
    _hset(c, argv, b"hmset")
    return OK


def _hash_for_field_write(c, key: bytes, field: bytes):
    """(hash or None, expired) for a command about to write ``field``: the field's lazy
    expiry is applied first, so ``expired`` tells to ignore its current value."""
    h = _hash_write(c, key)
    if h is None or not h.has_ttl() or not _drop_expired(c, key, h, field):
        return h, False
    return (h if len(h) else None), True


@command("hsetnx", 4, "write denyoom fast", 1, 1, 1, group="hash", since="2.0.0",
         summary="Sets a hash field only when the field does not exist yet.")
def hsetnx(c, argv):
    key, field, value = argv[1], argv[2], argv[3]
    h, expired = _hash_for_field_write(c, key, field)
    if h is None:
        h = HashValue()
        c.db.set(key, h)
    elif field in h and not expired:
        return 0
    h.set(field, value)
    if h.listpack:
        h.check_encoding(c.server.config, (field, value))
    _written(c, key, b"hset", 1)
    return 1


def _field_value(c, key: bytes, h, field: bytes, notify: bool = True):
    if h.has_ttl() and _drop_expired(c, key, h, field, notify):
        return None
    return h.get(field)


@command("hget", 3, "readonly fast", 1, 1, 1, group="hash", since="2.0.0",
         summary="Returns the value of a hash field.")
def hget(c, argv):
    h = _hash_read(c, argv[1])
    if h is None:
        return None
    return _field_value(c, argv[1], h, argv[2])


@command("hmget", -3, "readonly fast", 1, 1, 1, group="hash", since="2.0.0",
         summary="Returns the values of several hash fields.")
def hmget(c, argv):
    key = argv[1]
    h = _hash_read(c, key)
    if h is None:
        return [None] * (len(argv) - 2)
    if not h.has_ttl():
        get = h.get
        return [get(f) for f in argv[2:]]
    out = []
    expired = False
    for f in argv[2:]:
        if not len(h):
            out.append(None)
        elif _drop_expired(c, key, h, f, notify=False):
            expired = True
            out.append(None)
        else:
            out.append(h.get(f))
    if expired:  # one event for the whole command, as Redis 7.4 sends
        c.server.notify(N_HASH, b"hexpired", key, c.db.index)
        if not len(h):
            c.server.notify(N_GENERIC, b"del", key, c.db.index)
    return out


@command("hgetall", 2, "readonly", 1, 1, 1, group="hash", since="2.0.0",
         summary="Returns every field and value of a hash.")
def hgetall(c, argv):
    h = _hash_read(c, argv[1])
    if h is None:
        return {}
    return dict(_live_items(c, h))


@command("hkeys", 2, "readonly", 1, 1, 1, group="hash", since="2.0.0",
         summary="Returns every field name of a hash.")
def hkeys(c, argv):
    h = _hash_read(c, argv[1])
    if h is None:
        return []
    return list(h.fields()) if not h.has_ttl() else [f for f, _ in _live_items(c, h)]


@command("hvals", 2, "readonly", 1, 1, 1, group="hash", since="2.0.0",
         summary="Returns every value of a hash.")
def hvals(c, argv):
    h = _hash_read(c, argv[1])
    if h is None:
        return []
    return list(h.values()) if not h.has_ttl() else [v for _, v in _live_items(c, h)]


@command("hlen", 2, "readonly fast", 1, 1, 1, group="hash", since="2.0.0",
         summary="Returns how many fields a hash has (counting expired ones not deleted yet).")
def hlen(c, argv):
    h = _hash_read(c, argv[1])
    return 0 if h is None else len(h)


@command("hexists", 3, "readonly fast", 1, 1, 1, group="hash", since="2.0.0",
         summary="Tells whether a hash field exists.")
def hexists(c, argv):
    h = _hash_read(c, argv[1])
    return 0 if h is None or _field_value(c, argv[1], h, argv[2]) is None else 1


@command("hstrlen", 3, "readonly fast", 1, 1, 1, group="hash", since="3.2.0",
         summary="Returns the length in bytes of a hash field's value.")
def hstrlen(c, argv):
    h = _hash_read(c, argv[1])
    if h is None:
        return 0
    v = _field_value(c, argv[1], h, argv[2])
    return 0 if v is None else len(v)


@command("hdel", -3, "write fast", 1, 1, 1, group="hash", since="2.0.0",
         summary="Deletes fields from a hash; the hash is deleted when no field is left.")
def hdel(c, argv):
    key = argv[1]
    h = _hash_write(c, key)
    if h is None:
        return 0
    deleted = 0
    for f in argv[2:]:
        if h.delete(f):
            deleted += 1
            if not len(h):
                break
    if deleted:
        _written(c, key, b"hdel", deleted)
        if not len(h):
            c.db.delete(key)
            c.server.notify(N_GENERIC, b"del", key, c.db.index)
    return deleted


@command("hincrby", 4, "write denyoom fast", 1, 1, 1, group="hash", since="2.0.0",
         summary="Adds an integer to a hash field's value (a missing field counts as 0).")
def hincrby(c, argv):
    key, field = argv[1], argv[2]
    incr = parse_int(argv[3])
    h, expired = _hash_for_field_write(c, key, field)
    cur = None if h is None or expired else h.get(field)
    if cur is None:
        value = 0
    else:
        value = parse_int(cur, b"ERR hash value is not an integer")
    if (incr < 0 and value < 0 and incr < LLONG_MIN - value) or (
            incr > 0 and value > 0 and incr > LLONG_MAX - value):
        err(b"ERR increment or decrement would overflow")
    value += incr
    _store_number(c, key, h, field, b"%d" % value, b"hincrby")
    return value


@command("hincrbyfloat", 4, "write denyoom fast", 1, 1, 1, group="hash", since="2.6.0",
         summary="Adds a floating point number to a hash field's value (a missing field counts as 0).")
def hincrbyfloat(c, argv):
    key, field = argv[1], argv[2]
    incr = parse_ld(argv[3])
    if incr is None:
        err(NOT_FLOAT)
    if isinstance(incr, float):
        err(b"ERR value is NaN or Infinity")
    h, expired = _hash_for_field_write(c, key, field)
    cur = None if h is None or expired else h.get(field)
    if cur is None:
        value = 0
    else:
        value = parse_ld(cur)
        if value is None:
            err(b"ERR hash value is not a float")
    value = add_ld(value, incr)
    if isinstance(value, float):
        err(b"ERR increment would produce NaN or Infinity")
    text = format_ld_human(value)
    _store_number(c, key, h, field, text, b"hincrbyfloat")
    # Replicas and the AOF get the result, not the float arithmetic.
    c.server.also_propagate(c.db.index, [b"HSET", key, field, text])
    return text


def _store_number(c, key: bytes, h, field: bytes, text: bytes, event: bytes) -> None:
    if h is None:
        h = HashValue()
        c.db.set(key, h)
    when = h.field_expire(field)
    h.set(field, text)
    if when is not None:  # unlike HSET, HINCRBY* keep the field's expiry (Redis 7.4)
        h.set_field_expire(field, when)
    if h.listpack:
        h.check_encoding(c.server.config, (field, text))
    _written(c, key, event, 1)


# --- HRANDFIELD / HSCAN ---------------------------------------------------------------------

def range_long(b: bytes, lo: int, hi: int, msg: bytes | None = None) -> int:
    """getRangeLongFromObjectOrReply: ``msg`` replaces both error texts when given."""
    try:
        v = parse_int(b)
    except CommandError:
        err(msg or NOT_INT)
    if v < lo or v > hi:
        err(msg or b"ERR value is out of range, value must between %d and %d" % (lo, hi))
    return v


# Same thresholds as t_hash.c: above 3x the count, sample; below, remove from a copy.
_SUB_STRATEGY_MUL = 3


def random_pairs(items: list, count: int, unique: bool) -> list:
    """HRANDFIELD / ZRANDMEMBER sampling over ``items`` (a list of (a, b) pairs)."""
    size = len(items)
    if not unique or count == 1:
        return [random.choice(items) for _ in range(count)]
    if count >= size:
        return items
    if count * _SUB_STRATEGY_MUL > size:
        keep = items[:]
        random.shuffle(keep)
        return keep[:count]
    return random.sample(items, count)


@command("hrandfield", -2, "readonly", 1, 1, 1, group="hash", since="6.2.0",
         summary="Returns random fields (optionally with values) from a hash.")
def hrandfield(c, argv):
    if len(argv) >= 3:
        n = range_long(argv[2], -_LONG_MAX, _LONG_MAX)
        withvalues = False
        if len(argv) > 4 or (len(argv) == 4 and argv[3].lower() != b"withvalues"):
            err(SYNTAX)
        if len(argv) == 4:
            withvalues = True
            if n < -(_LONG_MAX // 2) or n > _LONG_MAX // 2:
                err(b"ERR value is out of range")
        h = _hash_read(c, argv[1])
        if h is not None and h.has_ttl():
            h = _expire_all(c, argv[1], h)
        if h is None or n == 0:
            return []
        picked = random_pairs(list(h.items()), abs(n), n > 0)
        if not withvalues:
            return [f for f, _ in picked]
        out = Pairs()
        for f, v in picked:
            out.append(f)
            out.append(v)
        return out
    h = _hash_read(c, argv[1])
    if h is not None and h.has_ttl():
        h = _expire_all(c, argv[1], h)
    if h is None:
        return None
    return random.choice(list(h.fields()))


@command("hscan", -3, "readonly", 1, 1, 1, group="hash", since="2.8.0",
         summary="Iterates over the fields and values of a hash.")
def hscan(c, argv):
    cursor = parse_scan_cursor(argv[2])
    h = _hash_read(c, argv[1])
    if h is None:
        return [b"0", []]
    pattern, count, _, novalues = parse_scan_options(argv, 3, allow_novalues=True)
    if h.listpack:
        nxt, batch = 0, list(h.fields())
    else:
        nxt, batch = scan_cursors(h).step(cursor, count, h.fields)
    match = glob_matcher(pattern) if pattern is not None and pattern != b"*" else None
    out = []
    get = h.get
    now = _now(c) if h.has_ttl() else None
    for f in batch:
        if match is not None and not match(f):
            continue
        v = get(f)
        if v is None or (now is not None and _is_expired(h, f, now)):
            continue
        out.append(f)
        if not novalues:
            out.append(v)
    return [b"%d" % nxt, out]


def scan_cursors(obj) -> ScanCursors:
    """The object's own scan snapshots, so a cursor never walks another key's data."""
    cursors = obj.cursors
    if cursors is None:
        cursors = obj.cursors = ScanCursors(keep=8)
    return cursors


# --- field expiry (Redis 7.4) -------------------------------------------------------------

_NO_FIELDS_ARG = b"ERR Mandatory argument FIELDS is missing or not at the right position"
_NUMFIELDS_MISMATCH = b"ERR The `numfields` parameter must match the number of arguments"


def _fields_arg(argv, at: int, msg: bytes) -> list:
    """Parse ``FIELDS numfields field...`` where argv[at] is numfields."""
    if argv[at - 1].lower() != b"fields":
        err(_NO_FIELDS_ARG)
    n = range_long(argv[at], 1, _LONG_MAX, msg)
    if n != len(argv) - at - 1:
        err(_NUMFIELDS_MISMATCH)
    return argv[at + 1:]


def _hexpire(c, argv, basetime: int, unit_ms: int):
    server = c.server
    key = argv[1]
    name = argv[0].lower()
    h = _hash_write(c, key)
    when = parse_int(argv[2])
    if when < 0:
        err(b"ERR invalid expire time, must be >= 0")
    if unit_ms == 1000:
        if when > _HFE_MAX_MS // 1000:
            err(b"ERR invalid expire time in '%s' command" % name)
        when *= 1000
    if when > _HFE_MAX_MS - basetime:
        err(b"ERR invalid expire time in '%s' command" % name)
    when += basetime
    at = 4
    cond = argv[3].lower()
    if cond in (b"nx", b"xx", b"gt", b"lt"):
        at += 1
    else:
        cond = None
    fields = _fields_arg(argv, at, b"ERR Parameter `numFields` should be greater than 0")
    if h is None:
        return [-2] * len(fields)
    h.ex = True
    past = when <= server.now_ms() and not server.loading and not server.is_replica()
    db = c.db
    replies = []
    updated = []
    deleted = 0
    for f in fields:
        if f not in h:
            replies.append(-2)
            continue
        prev = h.field_expire(f)
        if prev is None:
            if cond == b"xx" or cond == b"gt":
                replies.append(0)
                continue
        elif cond == b"nx" or (cond == b"gt" and prev >= when) or (cond == b"lt" and prev <= when):
            replies.append(0)
            continue
        if past:
            h.delete(f)
            server.also_propagate(db.index, [b"HDEL", key, f])
            deleted += 1
            replies.append(2)
        else:
            h.set_field_expire(f, when)
            updated.append(f)
            replies.append(1)
    if deleted or updated:
        server.dirty += deleted + len(updated)
        server.signal_modified(db, key)
        if deleted and not len(h):
            db.delete(key)
            server.notify(N_HASH, b"hdel", key, db.index)
            server.notify(N_GENERIC, b"del", key, db.index)
        else:
            server.notify(N_HASH, b"hdel" if deleted else b"hexpire", key, db.index)
            server.hash_field_expiry.track(db, key, h)
        if updated:
            prop = [b"HPEXPIREAT", key, b"%d" % when]
            if cond is not None:
                prop.append(argv[3])
            prop += [b"FIELDS", b"%d" % len(updated)]
            prop += updated
            server.also_propagate(db.index, prop)
    return replies


@command("hexpire", -6, "write denyoom fast", 1, 1, 1, group="hash", since="7.4.0",
         summary="Sets a time to live in seconds on hash fields.")
def hexpire(c, argv):
    return _hexpire(c, argv, c.server.now_ms(), 1000)


@command("hpexpire", -6, "write denyoom fast", 1, 1, 1, group="hash", since="7.4.0",
         summary="Sets a time to live in milliseconds on hash fields.")
def hpexpire(c, argv):
    return _hexpire(c, argv, c.server.now_ms(), 1)


@command("hexpireat", -6, "write denyoom fast", 1, 1, 1, group="hash", since="7.4.0",
         summary="Sets an absolute expiry time (unix seconds) on hash fields.")
def hexpireat(c, argv):
    return _hexpire(c, argv, 0, 1000)


@command("hpexpireat", -6, "write denyoom fast", 1, 1, 1, group="hash", since="7.4.0",
         summary="Sets an absolute expiry time (unix milliseconds) on hash fields.")
def hpexpireat(c, argv):
    return _hexpire(c, argv, 0, 1)


def _httl(c, argv, basetime: int, unit_ms: int):
    h = _hash_read(c, argv[1])
    fields = _fields_arg(argv, 3, b"ERR Number of fields must be a positive integer")
    if h is None:
        return [-2] * len(fields)
    out = []
    now = _now(c)
    for f in fields:
        if f not in h:
            out.append(-2)
            continue
        when = h.field_expire(f)
        if when is None:
            out.append(-1)
        elif when < now:  # expired, not deleted yet
            out.append(-2)
        elif unit_ms == 1000:
            out.append((when + 999 - basetime) // 1000)
        else:
            out.append(when - basetime)
    return out


@command("httl", -5, "readonly fast", 1, 1, 1, group="hash", since="7.4.0",
         summary="Returns the remaining time to live of hash fields, in seconds.")
def httl(c, argv):
    return _httl(c, argv, c.server.now_ms(), 1000)


@command("hpttl", -5, "readonly fast", 1, 1, 1, group="hash", since="7.4.0",
         summary="Returns the remaining time to live of hash fields, in milliseconds.")
def hpttl(c, argv):
    return _httl(c, argv, c.server.now_ms(), 1)


@command("hexpiretime", -5, "readonly fast", 1, 1, 1, group="hash", since="7.4.0",
         summary="Returns the absolute expiry time of hash fields as unix seconds.")
def hexpiretime(c, argv):
    return _httl(c, argv, 0, 1000)


@command("hpexpiretime", -5, "readonly fast", 1, 1, 1, group="hash", since="7.4.0",
         summary="Returns the absolute expiry time of hash fields as unix milliseconds.")
def hpexpiretime(c, argv):
    return _httl(c, argv, 0, 1)


@command("hpersist", -5, "write fast", 1, 1, 1, group="hash", since="7.4.0",
         summary="Removes the time to live of hash fields.")
def hpersist(c, argv):
    key = argv[1]
    h = _hash_write(c, key)
    fields = _fields_arg(argv, 3, b"ERR Number of fields must be a positive integer")
    if h is None:
        return [-2] * len(fields)
    out = []
    changed = False
    now = _now(c)
    for f in fields:
        if f not in h or _is_expired(h, f, now):
            out.append(-2)
        elif h.persist_field(f):
            out.append(1)
            changed = True
        else:
            out.append(-1)
    if changed:
        _written(c, key, b"hpersist", 1)
    return out
