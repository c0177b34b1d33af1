"""Set commands (Redis 7.0 semantics)."""

from __future__ import annotations

from ..datatypes.settype import SetValue, is_canonical_int
from ..protocol.reply import SetReply
from ..server.server import N_GENERIC, N_SET
from ..util.glob import glob_matcher
from ..util.scan import ScanCursors
from .common import (NOT_POSITIVE, SYNTAX, WRONGTYPE, err, get_typed, lookup_read, parse_int)
from .keys import parse_scan_cursor, parse_scan_options
from .lists import _numkeys_positions
from .registry import command

SET = b"set"
LONG_MAX = 2**63 - 1
# How much bigger than the rest a pop must be for SPOP to rebuild the set from the survivors.
SPOP_MOVE_STRATEGY_MUL = 5


def _writable(db, key):
    """The set at ``key`` for a write (no hit/miss stats), None if missing."""
    v = db.lookup(key)
    if v is not None and v.__class__ is not SetValue and (type(v) is bytes or v.kind != SET):
        err(WRONGTYPE)
    return v


def _is_set(v) -> bool:
    return v.__class__ is SetValue or (type(v) is not bytes and v.kind == SET)


def _max_intset(c) -> int:
    return c.server.config.set_max_intset_entries


def _modified(server, db, key) -> None:
    if server.watched_keys or server.tracking is not None or server.blocking.waiting:
        server.signal_modified(db, key)


def _delete_emptied(server, db, key) -> None:
    db.delete(key)
    server.notify(N_GENERIC, b"del", key, db.index)


# --- single-set writes -----------------------------------------------------------------------

@command("sadd", -3, "write denyoom fast", 1, 1, 1, group="set", since="1.0.0",
         summary="Adds members to a set, creating it if needed.")
def sadd(c, argv):
    db = c.db
    key = argv[1]
    max_intset = c.server.config.set_max_intset_entries
    v = db.lookup(key)
    if v is None:
        v = SetValue((), is_canonical_int(argv[2]))
        db.set(key, v)
    elif v.__class__ is not SetValue and (type(v) is bytes or v.kind != SET):
        err(WRONGTYPE)
    if len(argv) == 3:
        added = 1 if v.add_member(argv[2], max_intset) else 0
    else:
        added = v.add_members(argv[2:], max_intset)
    if added:
        server = c.server
        _modified(server, db, key)
        if server.notify_flags:
            server.notify(N_SET, b"sadd", key, db.index)
        server.dirty += added
    return added


@command("srem", -3, "write fast", 1, 1, 1, group="set", since="1.0.0",
         summary="Removes members from a set.")
def srem(c, argv):
    db = c.db
    key = argv[1]
    v = _writable(db, key)
    if v is None:
        return 0
    if len(argv) == 3:
        removed = 1 if v.remove_member(argv[2]) else 0
    else:
        removed = v.remove_members(argv[2:])
    if removed:
        server = c.server
        _modified(server, db, key)
        server.notify(N_SET, b"srem", key, db.index)
        if not v:
            _delete_emptied(server, db, key)
        server.dirty += removed
    return removed


@command("smove", 4, "write fast", 1, 2, 1, group="set", since="1.0.0",
         summary="Moves a member from one set to another.")
def smove(c, argv):
    db = c.db
    src, dst, member = argv[1], argv[2], argv[3]
    sv = db.lookup(src)
    dv = db.lookup(dst)
    if sv is None:
        return 0
    if not _is_set(sv) or (dv is not None and not _is_set(dv)):
        err(WRONGTYPE)
    if src == dst:
        return 1 if member in sv else 0
    if not sv.remove_member(member):
        return 0
    server = c.server
    server.notify(N_SET, b"srem", src, db.index)
    if not sv:
        _delete_emptied(server, db, src)
    if dv is None:
        dv = SetValue((), is_canonical_int(member))
        db.set(dst, dv)
    _modified(server, db, src)
    server.dirty += 1
    if dv.add_member(member, _max_intset(c)):
        server.dirty += 1
        _modified(server, db, dst)
        server.notify(N_SET, b"sadd", dst, db.index)
    return 1


# --- single-set reads -------------------------------------------------------------------------

@command("sismember", 3, "readonly fast", 1, 1, 1, group="set", since="1.0.0",
         summary="Tells whether a value is a member of a set.")
def sismember(c, argv):
    v = get_typed(c, argv[1], SET)
    return 1 if v is not None and argv[2] in v else 0


@command("smismember", -3, "readonly fast", 1, 1, 1, group="set", since="6.2.0",
         summary="Tells, for each of several values, whether it is a member of a set.")
def smismember(c, argv):
    v = get_typed(c, argv[1], SET)
    if v is None:
        return [0] * (len(argv) - 2)
    return [1 if m in v else 0 for m in argv[2:]]


@command("scard", 2, "readonly fast", 1, 1, 1, group="set", since="1.0.0",
         summary="Returns how many members a set has.")
def scard(c, argv):
    v = get_typed(c, argv[1], SET)
    return 0 if v is None else len(v)


@command("smembers", 2, "readonly", 1, 1, 1, group="set", since="1.0.0",
         summary="Returns every member of a set.")
def smembers(c, argv):
    v = get_typed(c, argv[1], SET)
    if v is None:
        return SetReply()
    return SetReply(v.ordered(_max_intset(c)))


# --- random members ---------------------------------------------------------------------------

@command("spop", -2, "write fast", 1, 1, 1, group="set", since="1.0.0",
         summary="Removes and returns random members of a set.")
def spop(c, argv):
    if len(argv) == 3:
        return _spop_count(c, argv)
    if len(argv) > 3:
        err(SYNTAX)
    db = c.db
    key = argv[1]
    v = _writable(db, key)
    if v is None:
        return None
    member = v.pop_random()
    server = c.server
    if server.notify_flags:
        server.notify(N_SET, b"spop", key, db.index)
    server.also_propagate(db.index, [b"SREM", key, member])
    if not v:
        _delete_emptied(server, db, key)
    _modified(server, db, key)
    server.dirty += 1
    return member


def _spop_count(c, argv):
    count = parse_int(argv[2], NOT_POSITIVE)
    if count < 0:
        err(NOT_POSITIVE)
    db = c.db
    key = argv[1]
    v = _writable(db, key)
    if v is None or count == 0:
        return SetReply()
    server = c.server
    size = len(v)
    max_intset = _max_intset(c)
    server.notify(N_SET, b"spop", key, db.index)
    server.dirty += min(count, size)
    if count >= size:
        out = v.ordered(max_intset)
        _delete_emptied(server, db, key)
        server.also_propagate(db.index, [b"DEL", key])
        _modified(server, db, key)
        return SetReply(out)
    remaining = size - count
    if remaining * SPOP_MOVE_STRATEGY_MUL > count:
        out = [v.pop_random() for _ in range(count)]
    else:
        # Popping most of the set: pick the survivors instead, then hand out the rest.
        kept = set(v.random_sample(remaining))
        out = [m for m in v.ordered(max_intset) if m not in kept]
        v.remove_members(out)
        v.recheck_encoding(max_intset)
    for m in out:
        server.also_propagate(db.index, [b"SREM", key, m])
    _modified(server, db, key)
    return SetReply(out)


@command("srandmember", -2, "readonly", 1, 1, 1, group="set", since="1.0.0",
         summary="Returns random members of a set without removing them.")
def srandmember(c, argv):
    if len(argv) > 3:
        err(SYNTAX)
    if len(argv) == 2:
        v = get_typed(c, argv[1], SET)
        return None if v is None else v.random_member()
    count = parse_int(argv[2])
    if count < -LONG_MAX:
        err(b"ERR value is out of range, value must between -9223372036854775807 and "
            b"9223372036854775807")
    v = get_typed(c, argv[1], SET)
    if v is None or count == 0:
        return []
    if count < 0 or count == 1:
        # Repeats allowed: independent picks, in random order.
        return v.random_members(-count if count < 0 else 1)
    if count >= len(v):
        return v.ordered(_max_intset(c))
    return v.random_sample(count)


# --- algebra ----------------------------------------------------------------------------------

def _read_sets(c, keys) -> list:
    """Each key's set (None when missing); WRONGTYPE if any key holds another type."""
    out = []
    for key in keys:
        v = lookup_read(c, key)
        if v is not None and not _is_set(v):
            err(WRONGTYPE)
        out.append(v)
    return out


def _store(c, dst: bytes, result, event: bytes) -> int:
    """Save an algebra result at ``dst`` (deleting it when the result is empty)."""
    server = c.server
    db = c.db
    n = len(result)
    if n:
        db.set(dst, SetValue.build(result, _max_intset(c)))
        server.signal_modified(db, dst)
        server.notify(N_SET, event, dst, db.index)
        server.dirty += 1
    elif db.delete(dst):
        server.dirty += 1
        server.signal_modified(db, dst)
        server.notify(N_GENERIC, b"del", dst, db.index)
    return n


def _reply_set(c, result) -> SetReply:
    """A computed set as Redis replies it: intset-sized results of integers come out sorted."""
    return SetReply(SetValue.build(result, _max_intset(c)).ordered(_max_intset(c)))


def _intersection(sets, limit: int = 0):
    """Members common to every set (all present), iterating the smallest as Redis does."""
    sets = sorted(sets, key=len)
    first = sets[0]
    others = [s for s in sets[1:] if s is not first]
    if not limit:
        return first.intersection(*others) if others else set(first)
    out = []
    for m in first:
        for s in others:
            if m not in s:
                break
        else:
            out.append(m)
            if len(out) >= limit:
                break
    return out


def _sinter(c, keys, dst=None):
    sets = _read_sets(c, keys)
    if any(s is None for s in sets):
        if dst is not None:
            return _store(c, dst, (), b"sinterstore")
        return SetReply()
    result = _intersection(sets)
    if dst is not None:
        return _store(c, dst, result, b"sinterstore")
    return _reply_set(c, result)


@command("sinter", -2, "readonly", 1, -1, 1, group="set", since="1.0.0",
         summary="Returns the members common to several sets.")
def sinter(c, argv):
    return _sinter(c, argv[1:])


@command("sinterstore", -3, "write denyoom", 1, -1, 1, group="set", since="1.0.0",
         summary="Stores the members common to several sets in a key.")
def sinterstore(c, argv):
    return _sinter(c, argv[2:], argv[1])


@command("sintercard", -3, "readonly", 0, 0, 0, group="set", since="7.0.0",
         summary="Counts the members common to several sets, optionally up to a limit.",
         keys_fn=lambda argv: _numkeys_positions(argv, 1))
def sintercard(c, argv):
    numkeys = parse_int(argv[1], b"ERR numkeys should be greater than 0")
    if numkeys < 1:
        err(b"ERR numkeys should be greater than 0")
    if numkeys > len(argv) - 2:
        err(b"ERR Number of keys can't be greater than number of args")
    limit = 0
    j = 2 + numkeys
    while j < len(argv):
        if argv[j].lower() == b"limit" and j + 1 < len(argv):
            j += 1
            limit = parse_int(argv[j], b"ERR LIMIT can't be negative")
            if limit < 0:
                err(b"ERR LIMIT can't be negative")
        else:
            err(SYNTAX)
        j += 1
    sets = _read_sets(c, argv[2:2 + numkeys])
    if any(s is None for s in sets):
        return 0
    return len(_intersection(sets, limit))


def _union(sets):
    present = [s for s in sets if s is not None]
    if not present:
        return set()
    return present[0].union(*present[1:])


def _difference(keys, sets):
    first = sets[0]
    if first is None or any(k == keys[0] for k in keys[1:]):
        return set()
    others = [s for s in sets[1:] if s is not None]
    return first.difference(*others)


@command("sunion", -2, "readonly", 1, -1, 1, group="set", since="1.0.0",
         summary="Returns the members of the union of several sets.")
def sunion(c, argv):
    return _reply_set(c, _union(_read_sets(c, argv[1:])))


@command("sunionstore", -3, "write denyoom", 1, -1, 1, group="set", since="1.0.0",
         summary="Stores the union of several sets in a key.")
def sunionstore(c, argv):
    return _store(c, argv[1], _union(_read_sets(c, argv[2:])), b"sunionstore")


@command("sdiff", -2, "readonly", 1, -1, 1, group="set", since="1.0.0",
         summary="Returns the members of the first set that are in none of the others.")
def sdiff(c, argv):
    keys = argv[1:]
    return _reply_set(c, _difference(keys, _read_sets(c, keys)))


@command("sdiffstore", -3, "write denyoom", 1, -1, 1, group="set", since="1.0.0",
         summary="Stores the difference of several sets in a key.")
def sdiffstore(c, argv):
    keys = argv[2:]
    return _store(c, argv[1], _difference(keys, _read_sets(c, keys)), b"sdiffstore")


# --- SSCAN ------------------------------------------------------------------------------------

def _cursors(v) -> ScanCursors:
    cursors = v.cursors
    if cursors is None:
        cursors = v.cursors = ScanCursors(keep=8)
    return cursors


@command("sscan", -3, "readonly", 1, 1, 1, group="set", since="2.8.0",
         summary="Iterates over the members of a set.")
def sscan(c, argv):
    cursor = parse_scan_cursor(argv[2])
    v = get_typed(c, argv[1], SET)
    if v is None:
        return [b"0", []]
    pattern, count, _, _ = parse_scan_options(argv, 3)
    max_intset = _max_intset(c)
    if v.is_intset(max_intset):
        # Redis replies with a whole intset at once.
        nxt, batch = 0, v.ordered(max_intset)
    else:
        nxt, batch = _cursors(v).step(cursor, count, lambda: v)
    if pattern is not None and pattern != b"*":
        match = glob_matcher(pattern)
        batch = [m for m in batch if match(m)]
    return [b"%d" % nxt, batch]
