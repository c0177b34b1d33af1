"""List commands, blocking pops included (Redis 7.0 semantics)."""

from __future__ import annotations

from itertools import islice

from ..datatypes.listtype import ListValue
from ..protocol.reply import NULL_ARRAY, OK
from ..server.server import N_GENERIC, N_LIST
from .common import (LLONG_MIN, NO_SUCH_KEY, NOT_POSITIVE, OUT_OF_RANGE, SYNTAX, WRONGTYPE, err,
                     get_typed, parse_int, parse_timeout)
from .registry import command

LIST = b"list"
LEFT, RIGHT = True, False


def _writable(db, key):
    """The list at ``key`` for a write (no hit/miss stats), None if missing."""
    v = db.lookup(key)
    if v is not None and v.__class__ is not ListValue and (type(v) is bytes or v.kind != LIST):
        err(WRONGTYPE)
    return v


def _is_list(v) -> bool:
    return v.__class__ is ListValue or (type(v) is not bytes and v.kind == LIST)


def _parse_positive(b: bytes, error: bytes = NOT_POSITIVE) -> int:
    """getPositiveLongFromObjectOrReply: one message for non-integers and negatives."""
    v = parse_int(b, error)
    if v < 0:
        err(error)
    return v


def _parse_where(b: bytes) -> bool:
    w = b.lower()
    if w == b"left":
        return LEFT
    if w == b"right":
        return RIGHT
    err(SYNTAX)


def _modified(c, key) -> None:
    """signal_modified, skipped when nobody (WATCH, tracking, waiters) could care."""
    server = c.server
    if server.watched_keys or server.tracking is not None or server.blocking.waiting:
        server.signal_modified(c.db, key)


def _removed(c, key, left: bool, v, count: int) -> None:
    """After popping ``count`` elements: event, delete when empty, WATCH, dirty."""
    server = c.server
    db = c.db
    if server.notify_flags:
        server.notify(N_LIST, b"lpop" if left else b"rpop", key, db.index)
    if not v:
        db.delete(key)
        server.notify(N_GENERIC, b"del", key, db.index)
    _modified(c, key)
    server.dirty += count


# --- pushes -------------------------------------------------------------------------------------

def _push(c, argv, left: bool, existing_only: bool):
    db = c.db
    key = argv[1]
    v = db.lookup(key)
    if v is None:
        if existing_only:
            return 0
        v = ListValue()
        db.set(key, v)
    elif v.__class__ is not ListValue and (type(v) is bytes or v.kind != LIST):
        err(WRONGTYPE)
    n = len(argv) - 2
    if n == 1:
        if left:
            v.appendleft(argv[2])
        else:
            v.append(argv[2])
    elif left:
        v.extendleft(islice(argv, 2, None))
    else:
        v.extend(islice(argv, 2, None))
    server = c.server
    server.dirty += n
    if server.watched_keys or server.tracking is not None or server.blocking.waiting:
        server.signal_modified(db, key)
    if server.notify_flags:
        server.notify(N_LIST, b"lpush" if left else b"rpush", key, db.index)
    if server.blocking.waiting:
        server.blocking.signal_ready(db, key)
    return len(v)


@command("lpush", -3, "write denyoom fast", 1, 1, 1, group="list", since="1.0.0",
         summary="Adds elements to the head of a list, creating it if needed.")
def lpush(c, argv):
    return _push(c, argv, LEFT, False)


@command("rpush", -3, "write denyoom fast", 1, 1, 1, group="list", since="1.0.0",
         summary="Adds elements to the tail of a list, creating it if needed.")
def rpush(c, argv):
    return _push(c, argv, RIGHT, False)


@command("lpushx", -3, "write denyoom fast", 1, 1, 1, group="list", since="2.2.0",
         summary="Adds elements to the head of a list that already exists.")
def lpushx(c, argv):
    return _push(c, argv, LEFT, True)


@command("rpushx", -3, "write denyoom fast", 1, 1, 1, group="list", since="2.2.0",
         summary="Adds elements to the tail of a list that already exists.")
def rpushx(c, argv):
    return _push(c, argv, RIGHT, True)


# --- pops ---------------------------------------------------------------------------------------

def _pop(c, argv, left: bool):
    n = len(argv)
    if n > 3:
        err(b"ERR wrong number of arguments for '%s' command" % argv[0].lower())
    db = c.db
    key = argv[1]
    if n == 2:
        v = db.lookup(key)
        if v is None:
            return None
        if v.__class__ is not ListValue and (type(v) is bytes or v.kind != LIST):
            err(WRONGTYPE)
        value = v.popleft() if left else v.pop()
        server = c.server
        if server.notify_flags:
            server.notify(N_LIST, b"lpop" if left else b"rpop", key, db.index)
        if not v:
            db.delete(key)
            server.notify(N_GENERIC, b"del", key, db.index)
        if server.watched_keys or server.tracking is not None or server.blocking.waiting:
            server.signal_modified(db, key)
        server.dirty += 1
        return value
    count = _parse_positive(argv[2])
    v = _writable(db, key)
    if v is None:
        return NULL_ARRAY
    if count == 0:
        return []
    out = v.pop_head(count) if left else v.pop_tail(count)
    _removed(c, key, left, v, len(out))
    return out


@command("lpop", -2, "write fast", 1, 1, 1, group="list", since="1.0.0",
         summary="Removes and returns elements from the head of a list.")
def lpop(c, argv):
    return _pop(c, argv, LEFT)


@command("rpop", -2, "write fast", 1, 1, 1, group="list", since="1.0.0",
         summary="Removes and returns elements from the tail of a list.")
def rpop(c, argv):
    return _pop(c, argv, RIGHT)


# --- reads --------------------------------------------------------------------------------------

@command("llen", 2, "readonly fast", 1, 1, 1, group="list", since="1.0.0",
         summary="Returns how many elements a list holds.")
def llen(c, argv):
    v = get_typed(c, argv[1], LIST)
    return 0 if v is None else len(v)


def _range(v, start: int, end: int) -> list:
    n = len(v)
    if start < 0:
        start += n
    if end < 0:
        end += n
    if start < 0:
        start = 0
    if start > end or start >= n:
        return []
    if end >= n:
        end = n - 1
    return v.slice(start, end)


@command("lrange", 4, "readonly", 1, 1, 1, group="list", since="1.0.0",
         summary="Returns a range of elements of a list.")
def lrange(c, argv):
    start = parse_int(argv[2])
    end = parse_int(argv[3])
    v = get_typed(c, argv[1], LIST)
    if v is None:
        return []
    return _range(v, start, end)


@command("lindex", 3, "readonly", 1, 1, 1, group="list", since="1.0.0",
         summary="Returns the element at a position of a list.")
def lindex(c, argv):
    v = get_typed(c, argv[1], LIST)
    if v is None:
        return None
    i = parse_int(argv[2])
    n = len(v)
    if i < 0:
        i += n
    if 0 <= i < n:
        return v[i]
    return None


@command("lpos", -3, "readonly", 1, 1, 1, group="list", since="6.0.6",
         summary="Returns the positions of elements in a list that equal a given value.")
def lpos(c, argv):
    rank, count, maxlen = 1, -1, 0
    i = 3
    n = len(argv)
    while i < n:
        opt = argv[i].lower()
        more = i + 1 < n
        if opt == b"rank" and more:
            i += 1
            rank = parse_int(argv[i])
            if rank == 0:
                err(b"ERR RANK can't be zero: use 1 to start from the first match, 2 from the "
                    b"second ... or use negative to start from the end of the list")
        elif opt == b"count" and more:
            i += 1
            count = _parse_positive(argv[i], b"ERR COUNT can't be negative")
        elif opt == b"maxlen" and more:
            i += 1
            maxlen = _parse_positive(argv[i], b"ERR MAXLEN can't be negative")
        else:
            err(SYNTAX)
        i += 1
    reverse = rank < 0
    if rank == LLONG_MIN:
        # Redis negates LONG_MIN in place (it stays negative): every match qualifies and,
        # with COUNT, the stop test overflows, so all matches come back.
        rank, count_limit = 1, 0
    else:
        rank = abs(rank)
        count_limit = count
    v = get_typed(c, argv[1], LIST)
    if v is None:
        return [] if count != -1 else None
    ele = argv[2]
    llen = len(v)
    found = []
    matches = 0
    it = reversed(v) if reverse else iter(v)
    if maxlen:
        it = islice(it, maxlen)
    for index, e in enumerate(it):
        if e == ele:
            matches += 1
            if matches >= rank:
                found.append(llen - index - 1 if reverse else index)
                if count == -1 or (count_limit and matches - rank + 1 >= count_limit):
                    break
    if count != -1:
        return found
    return found[0] if found else None


# --- in-place edits ------------------------------------------------------------------------------

@command("lset", 4, "write denyoom", 1, 1, 1, group="list", since="1.0.0",
         summary="Replaces the element at a position of a list.")
def lset(c, argv):
    db = c.db
    key = argv[1]
    v = _writable(db, key)
    if v is None:
        err(NO_SUCH_KEY)
    i = parse_int(argv[2])
    n = len(v)
    if i < 0:
        i += n
    if not 0 <= i < n:
        err(OUT_OF_RANGE)
    v[i] = argv[3]
    server = c.server
    _modified(c, key)
    server.notify(N_LIST, b"lset", key, db.index)
    server.dirty += 1
    return OK


@command("linsert", 5, "write denyoom", 1, 1, 1, group="list", since="2.2.0",
         summary="Inserts an element before or after another element of a list.")
def linsert(c, argv):
    where = argv[2].lower()
    if where == b"after":
        after = True
    elif where == b"before":
        after = False
    else:
        err(SYNTAX)
    db = c.db
    key = argv[1]
    v = _writable(db, key)
    if v is None:
        return 0
    try:
        i = v.index(argv[3])
    except ValueError:
        return -1
    v.insert(i + 1 if after else i, argv[4])
    server = c.server
    _modified(c, key)
    server.notify(N_LIST, b"linsert", key, db.index)
    server.dirty += 1
    return len(v)


@command("lrem", 4, "write", 1, 1, 1, group="list", since="1.0.0",
         summary="Removes elements equal to a value from a list.")
def lrem(c, argv):
    count = parse_int(argv[2])
    db = c.db
    key = argv[1]
    v = _writable(db, key)
    if v is None:
        return 0
    removed = v.remove_value(argv[3], count)
    server = c.server
    if removed:
        server.dirty += removed
        _modified(c, key)
        server.notify(N_LIST, b"lrem", key, db.index)
        if not v:
            db.delete(key)
            server.notify(N_GENERIC, b"del", key, db.index)
    return removed


@command("ltrim", 4, "write", 1, 1, 1, group="list", since="1.0.0",
         summary="Keeps only a range of elements of a list.")
def ltrim(c, argv):
    start = parse_int(argv[2])
    end = parse_int(argv[3])
    db = c.db
    key = argv[1]
    v = _writable(db, key)
    if v is None:
        return OK
    n = len(v)
    if start < 0:
        start += n
    if end < 0:
        end += n
    if start < 0:
        start = 0
    removed = v.trim(start, end)
    server = c.server
    server.notify(N_LIST, b"ltrim", key, db.index)
    if not v:
        db.delete(key)
        server.notify(N_GENERIC, b"del", key, db.index)
    _modified(c, key)
    server.dirty += removed
    return OK


# --- moves --------------------------------------------------------------------------------------

def _move(c, src: bytes, dst: bytes, wherefrom: bool, whereto: bool):
    """LMOVE's body once the source is known to hold elements (dst type checked here)."""
    db = c.db
    sv = db.lookup(src)
    dv = db.lookup(dst)
    if dv is not None and not _is_list(dv):
        err(WRONGTYPE)
    value = sv.popleft() if wherefrom else sv.pop()
    server = c.server
    if dv is None:
        dv = ListValue()
        db.set(dst, dv)
    _modified(c, dst)
    if whereto:
        dv.appendleft(value)
    else:
        dv.append(value)
    server.notify(N_LIST, b"lpush" if whereto else b"rpush", dst, db.index)
    server.signal_ready(db, dst)
    server.notify(N_LIST, b"lpop" if wherefrom else b"rpop", src, db.index)
    if not sv:
        db.delete(src)
        server.notify(N_GENERIC, b"del", src, db.index)
    _modified(c, src)
    server.dirty += 1
    return value


def _lmove(c, src, dst, wherefrom, whereto):
    sv = _writable(c.db, src)
    if sv is None:
        return None
    return _move(c, src, dst, wherefrom, whereto)


@command("lmove", 5, "write denyoom", 1, 2, 1, group="list", since="6.2.0",
         summary="Pops an element from one end of a list and pushes it onto another list.")
def lmove(c, argv):
    wherefrom = _parse_where(argv[3])
    whereto = _parse_where(argv[4])
    return _lmove(c, argv[1], argv[2], wherefrom, whereto)


@command("rpoplpush", 3, "write denyoom", 1, 2, 1, group="list", since="1.2.0",
         summary="Pops the last element of a list and pushes it onto the head of another list.")
def rpoplpush(c, argv):
    return _lmove(c, argv[1], argv[2], RIGHT, LEFT)


# --- multi-key pops -----------------------------------------------------------------------------

def _atoi(b: bytes) -> int:
    """C atoi: leading blanks, a sign, then digits up to the first non-digit."""
    s = b.lstrip(b" \t\n\v\f\r")
    neg = s[:1] == b"-"
    if s[:1] in (b"-", b"+"):
        s = s[1:]
    n = 0
    for ch in s:
        if not 0x30 <= ch <= 0x39:
            break
        n = n * 10 + ch - 0x30
    return -n if neg else n


def _numkeys_positions(argv, count_at: int) -> list:
    """genericGetKeys for LMPOP/BLMPOP/SINTERCARD: no keys when numkeys is unusable."""
    if len(argv) <= count_at:
        return []
    num = _atoi(argv[count_at])
    first = count_at + 1
    if num < 1 or num > len(argv) - first:
        return []
    return list(range(first, first + num))


def _parse_mpop(argv, numkeys_at: int):
    """LMPOP/BLMPOP arguments: (keys, left, count)."""
    numkeys = parse_int(argv[numkeys_at], b"ERR numkeys should be greater than 0")
    if numkeys < 1:
        err(b"ERR numkeys should be greater than 0")
    where_at = numkeys_at + numkeys + 1
    if where_at >= len(argv):
        err(SYNTAX)
    left = _parse_where(argv[where_at])
    count = -1
    j = where_at + 1
    while j < len(argv):
        if count == -1 and argv[j].lower() == b"count" and j + 1 < len(argv):
            j += 1
            count = parse_int(argv[j], b"ERR count should be greater than 0")
            if count < 1:
                err(b"ERR count should be greater than 0")
        else:
            err(SYNTAX)
        j += 1
    if count == -1:
        count = 1
    return argv[numkeys_at + 1:where_at], left, count


def _pop_range_with_key(c, key, v, left: bool, count: int) -> list:
    """[key, [elements]] for LMPOP-style pops, propagated as [LR]POP key count."""
    out = v.pop_head(count) if left else v.pop_tail(count)
    _removed(c, key, left, v, len(out))
    c.server.also_propagate(c.db.index, [b"LPOP" if left else b"RPOP", key, b"%d" % len(out)])
    return [key, out]


@command("lmpop", -4, "write", 0, 0, 0, group="list", since="7.0.0",
         summary="Pops elements from the first non-empty list among several.",
         keys_fn=lambda argv: _numkeys_positions(argv, 1))
def lmpop(c, argv):
    keys, left, count = _parse_mpop(argv, 1)
    db = c.db
    for key in keys:
        v = _writable(db, key)
        if v:
            return _pop_range_with_key(c, key, v, left, count)
    return NULL_ARRAY


# --- blocking pops ------------------------------------------------------------------------------

def _serve_order(c, keys) -> list:
    """Keys to try when retrying: the key that just became ready first, as Redis serves it."""
    k = c.server.blocking.serving_key
    if k is not None and k[0] == c.db.index and k[1] in keys:
        return [k[1]]
    return keys


def _block(c, keys, timeout: float, retry, timeout_reply):
    server = c.server
    # Far-future deadlines (Redis accepts up to ~292 million years) just mean "forever".
    deadline = server.loop.time() + timeout if 0 < timeout < 1e10 else 0
    return server.blocking.block(c, keys, deadline, retry, timeout_reply)


def _bpop(c, keys, left: bool, timeout: float, count: int):
    """BLPOP/BRPOP (count -1: [key, element]) and BLMPOP (count >= 1: [key, [elements]])."""
    db = c.db
    for key in keys:
        v = _writable(db, key)
        if v:
            return _serve_bpop(c, key, v, left, count)
    if c.in_exec or c.in_script:
        return NULL_ARRAY

    def retry():
        d = c.db
        for key in _serve_order(c, keys):
            v = d.lookup(key)
            if v and _is_list(v):
                return _serve_bpop(c, key, v, left, count)
        return None

    return _block(c, keys, timeout, retry, NULL_ARRAY)


def _serve_bpop(c, key, v, left, count):
    if count != -1:
        return _pop_range_with_key(c, key, v, left, count)
    value = v.popleft() if left else v.pop()
    _removed(c, key, left, v, 1)
    c.server.also_propagate(c.db.index, [b"LPOP" if left else b"RPOP", key])
    return [key, value]


@command("blpop", -3, "write noscript blocking", 1, -2, 1, group="list", since="2.0.0",
         summary="Pops the first element of the first non-empty list, waiting for one if needed.")
def blpop(c, argv):
    timeout = parse_timeout(argv[-1])
    return _bpop(c, argv[1:-1], LEFT, timeout, -1)


@command("brpop", -3, "write noscript blocking", 1, -2, 1, group="list", since="2.0.0",
         summary="Pops the last element of the first non-empty list, waiting for one if needed.")
def brpop(c, argv):
    timeout = parse_timeout(argv[-1])
    return _bpop(c, argv[1:-1], RIGHT, timeout, -1)


@command("blmpop", -5, "write blocking", 0, 0, 0, group="list", since="7.0.0",
         summary="Pops elements from the first non-empty list among several, waiting for one if needed.",
         keys_fn=lambda argv: _numkeys_positions(argv, 2))
def blmpop(c, argv):
    keys, left, count = _parse_mpop(argv, 2)
    timeout = parse_timeout(argv[1])
    return _bpop(c, keys, left, timeout, count)


def _blmove(c, src, dst, wherefrom, whereto, timeout, as_rpoplpush: bool, where_args=None):
    if _writable(c.db, src) is not None:
        value = _move(c, src, dst, wherefrom, whereto)
        _propagate_move(c, src, dst, wherefrom, whereto, as_rpoplpush, where_args)
        return value
    if c.in_exec or c.in_script:
        return None

    def retry():
        if not _is_list_with_items(c.db.lookup(src)):
            return None
        value = _move(c, src, dst, wherefrom, whereto)
        _propagate_move(c, src, dst, wherefrom, whereto, as_rpoplpush, None)
        return value

    # Redis answers every timed-out list pop with a null array, BLMOVE included.
    return _block(c, [src], timeout, retry, NULL_ARRAY)


def _is_list_with_items(v) -> bool:
    return v is not None and _is_list(v) and len(v) > 0


def _propagate_move(c, src, dst, wherefrom, whereto, as_rpoplpush, where_args):
    """Propagate as LMOVE (the caller's own LEFT/RIGHT words when served at once) or RPOPLPUSH."""
    if as_rpoplpush:
        argv = [b"RPOPLPUSH", src, dst]
    elif where_args is not None:
        argv = [b"LMOVE", src, dst, where_args[0], where_args[1]]
    else:
        argv = [b"LMOVE", src, dst, b"left" if wherefrom else b"right",
                b"left" if whereto else b"right"]
    c.server.also_propagate(c.db.index, argv)


@command("blmove", 6, "write denyoom noscript blocking", 1, 2, 1, group="list", since="6.2.0",
         summary="Moves an element from one list to another, waiting for one if needed.")
def blmove(c, argv):
    wherefrom = _parse_where(argv[3])
    whereto = _parse_where(argv[4])
    timeout = parse_timeout(argv[5])
    return _blmove(c, argv[1], argv[2], wherefrom, whereto, timeout, False, (argv[3], argv[4]))


@command("brpoplpush", 4, "write denyoom noscript blocking", 1, 2, 1, group="list", since="2.2.0",
         summary="Pops the last element of a list onto the head of another, waiting for one if needed.")
def brpoplpush(c, argv):
    timeout = parse_timeout(argv[3])
    return _blmove(c, argv[1], argv[2], RIGHT, LEFT, timeout, True)
