"""Sorted set commands (t_zset.c semantics, Redis 7.0 plus ZRANK/ZREVRANK WITHSCORE from 7.2)."""

from __future__ import annotations

import math
import re

from ..datatypes.zset import LEX_MAX, LEX_MIN, ZSet
from ..protocol.reply import NULL_ARRAY, Pairs, format_double
from ..server.server import N_GENERIC, N_ZSET
from ..util.glob import glob_matcher
from .common import NOT_FLOAT, SYNTAX, WRONGTYPE, err, get_typed, parse_int, parse_timeout
from .hashes import random_pairs, range_long, scan_cursors
from .keys import parse_scan_cursor, parse_scan_options
from .registry import command

_LONG_MAX = 2**63 - 1
_INF = math.inf
_WS = b" \t\n\x0b\x0c\r"

NOT_A_FLOAT_RANGE = b"ERR min or max is not a float"
NOT_A_LEX_RANGE = b"ERR min or max not valid string range item"

# --- number parsing (glibc strtod as Redis uses it) ---------------------------------------------

_DEC = re.compile(rb"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_HEX = re.compile(rb"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?")
_INFINITY = re.compile(rb"[+-]?inf(?:inity)?", re.IGNORECASE)
_NONZERO_DEC = re.compile(rb"[1-9]")
_NONZERO_HEX = re.compile(rb"[1-9a-fA-F]")


def _strtod(b: bytes):
    """(value, range_error) when all of ``b`` is a number strtod accepts, else None."""
    if _DEC.fullmatch(b):
        v = float(b)
        if v == _INF or v == -_INF:
            return v, True
        if v == 0.0 and _NONZERO_DEC.search(b.split(b"e")[0].split(b"E")[0]):
            return v, True
        return v, False
    if _INFINITY.fullmatch(b):
        return float(b), False
    if _HEX.fullmatch(b):
        mantissa = re.split(rb"[pP]", b)[0][2:].lstrip(b"xX")
        try:
            v = float.fromhex(b.decode())
        except OverflowError:
            return (-_INF if b[:1] == b"-" else _INF), True
        return v, v == 0.0 and bool(_NONZERO_HEX.search(mantissa))
    return None


def parse_score(b: bytes, error: bytes = NOT_FLOAT) -> float:
    """Redis's string2d: the whole string, no spaces, no overflow/underflow, no NaN."""
    if b.isdigit() and len(b) < 300:
        return float(b)
    if not b or b[0] in _WS:
        err(error)
    r = _strtod(b)
    if r is None or r[1]:
        err(error)
    return r[0]


def parse_score_bound(b: bytes):
    """One end of a score range: (value, exclusive), as zslParseRange reads it."""
    excl = b[:1] == b"("
    if excl:
        b = b[1:]
    nul = b.find(b"\0")
    if nul >= 0:  # C stops reading at the terminator
        b = b[:nul]
    s = b.lstrip(_WS)
    if not s:
        # strtod converts nothing: fine only when nothing was there at all.
        if b:
            err(NOT_A_FLOAT_RANGE)
        return 0.0, excl
    r = _strtod(s)
    if r is None:
        err(NOT_A_FLOAT_RANGE)
    return r[0], excl


def parse_lex_bound(b: bytes):
    """One end of a lex range: (bytes or LEX_MIN/LEX_MAX, exclusive)."""
    if not b:
        err(NOT_A_LEX_RANGE)
    ch = b[0]
    if ch == 0x2B or ch == 0x2D:  # '+' / '-'
        if len(b) > 1 and b[1] != 0:
            err(NOT_A_LEX_RANGE)
        return (LEX_MAX if ch == 0x2B else LEX_MIN), True
    if ch == 0x28:  # '('
        return b[1:], True
    if ch == 0x5B:  # '['
        return b[1:], False
    err(NOT_A_LEX_RANGE)


def d2string(v: float) -> bytes:
    """Redis's d2string (how a small sorted set stores and ZSCAN prints a score)."""
    if v != v:
        return b"nan"
    if v == _INF:
        return b"inf"
    if v == -_INF:
        return b"-inf"
    if v == 0:
        return b"-0" if math.copysign(1.0, v) < 0 else b"0"
    if -4.611686018427388e18 <= v <= 4.611686018427388e18 and v == int(v):
        return b"%d" % int(v)
    return b"%.17g" % v


# --- lookups & bookkeeping ------------------------------------------------------------------

def _zset_write(c, key: bytes):
    v = c.db.lookup(key)
    if v is not None and (type(v) is bytes or v.kind != b"zset"):
        err(WRONGTYPE)
    return v


def _written(c, key: bytes, event: bytes, dirty: int) -> None:
    server = c.server
    server.signal_modified(c.db, key)
    server.notify(N_ZSET, event, key, c.db.index)
    server.dirty += dirty


def _removed_key(c, key: bytes) -> None:
    c.db.delete(key)
    c.server.notify(N_GENERIC, b"del", key, c.db.index)


def _with_scores(items) -> Pairs:
    out = Pairs()
    for m, s in items:
        out.append(m)
        out.append(s)
    return out


def _store(c, dst: bytes, z: ZSet, event: bytes) -> int:
    """Write a computed sorted set to ``dst`` (deleting ``dst`` when it is empty)."""
    server = c.server
    db = c.db
    if len(z):
        z.fit_encoding(server.config)
        db.set(dst, z)
        server.signal_modified(db, dst)
        server.notify(N_ZSET, event, dst, db.index)
        server.dirty += 1
        server.signal_ready(db, dst)
        return len(z)
    if db.lookup_notouch(dst) is not None and db.delete(dst):
        server.signal_modified(db, dst)
        server.notify(N_GENERIC, b"del", dst, db.index)
        server.dirty += 1
    return 0


# --- ZADD / ZINCRBY / ZREM -----------------------------------------------------------------

_NX, _XX, _CH, _INCR, _GT, _LT = 1, 2, 4, 8, 16, 32
_ZADD_FLAGS = {b"nx": _NX, b"xx": _XX, b"ch": _CH, b"incr": _INCR, b"gt": _GT, b"lt": _LT}


def _zadd(c, argv, flags: int):
    n = len(argv)
    i = 2
    flag_of = _ZADD_FLAGS.get
    while i < n:
        f = flag_of(argv[i].lower())
        if f is None:
            break
        flags |= f
        i += 1
    elements = n - i
    if elements % 2 or not elements:
        err(SYNTAX)
    nx, xx, gt, lt, incr = flags & _NX, flags & _XX, flags & _GT, flags & _LT, flags & _INCR
    if nx and xx:
        err(b"ERR XX and NX options at the same time are not compatible")
    if (gt and nx) or (lt and nx) or (gt and lt):
        err(b"ERR GT, LT, and/or NX options at the same time are not compatible")
    if incr and elements > 2:
        err(b"ERR INCR option supports a single increment-element pair")
    scores = [parse_score(argv[j]) for j in range(i, n, 2)]
    key = argv[1]
    db = c.db
    server = c.server
    cfg = server.config
    max_entries, max_value = cfg.zset_max_listpack_entries, cfg.zset_max_listpack_value
    z = _zset_write(c, key)
    if z is None:
        if xx:
            return None if incr else 0
        z = ZSet(listpack=max_entries != 0 and len(argv[i + 1]) <= max_value)
        db.set(key, z)
        server.signal_ready(db, key)
    added = updated = processed = 0
    score = 0.0
    zscores = z.scores
    j = i + 1
    for s in scores:
        ele = argv[j]
        j += 2
        cur = zscores.get(ele)
        if cur is not None:
            if nx:
                continue
            if incr:
                s += cur
                if s != s:
                    err(b"ERR resulting score is not a number (NaN)")
            if (lt and s >= cur) or (gt and s <= cur):
                continue
            processed += 1
            score = s
            if s != cur:
                z.add(ele, s)
                updated += 1
        elif not xx:
            # Like zsetAdd: convert before inserting what would not fit a listpack.
            if z.listpack and (len(zscores) >= max_entries or len(ele) > max_value):
                z.listpack = False
            z.add(ele, s)
            added += 1
            processed += 1
            score = s
    if added or updated:
        server.signal_modified(db, key)
        server.notify(N_ZSET, b"zincr" if incr else b"zadd", key, db.index)
        server.dirty += added + updated
    if incr:
        return score if processed else None
    return added + updated if flags & _CH else added


@command("zadd", -4, "write denyoom fast", 1, 1, 1, group="sorted_set", since="1.2.0",
         summary="Adds members to a sorted set or updates their scores; creates the key when needed.")
def zadd(c, argv):
    return _zadd(c, argv, 0)


@command("zincrby", 4, "write denyoom fast", 1, 1, 1, group="sorted_set", since="1.2.0",
         summary="Adds a number to a member's score (a missing member starts at 0).")
def zincrby(c, argv):
    return _zadd(c, argv, _INCR)


@command("zrem", -3, "write fast", 1, 1, 1, group="sorted_set", since="1.2.0",
         summary="Removes members from a sorted set; the key is deleted when it becomes empty.")
def zrem(c, argv):
    key = argv[1]
    z = _zset_write(c, key)
    if z is None:
        return 0
    deleted = 0
    for m in argv[2:]:
        if z.remove(m):
            deleted += 1
            if not len(z):
                break
    if deleted:
        _written(c, key, b"zrem", deleted)
        if not len(z):
            _removed_key(c, key)
    return deleted


def _zremrange(c, argv, kind: str):
    key = argv[1]
    if kind == "rank":
        start, stop = parse_int(argv[2]), parse_int(argv[3])
        event = b"zremrangebyrank"
    elif kind == "score":
        lo, lo_ex = parse_score_bound(argv[2])
        hi, hi_ex = parse_score_bound(argv[3])
        event = b"zremrangebyscore"
    else:
        lo, lo_ex = parse_lex_bound(argv[2])
        hi, hi_ex = parse_lex_bound(argv[3])
        event = b"zremrangebylex"
    z = _zset_write(c, key)
    if z is None:
        return 0
    if kind == "rank":
        gone = z.remove_range_by_rank(start, stop)
    elif kind == "score":
        gone = z.remove_range_by_score(lo, hi, lo_ex, hi_ex)
    else:
        gone = z.remove_range_by_lex(lo, hi, lo_ex, hi_ex)
    if gone:
        _written(c, key, event, len(gone))
        if not len(z):
            _removed_key(c, key)
    return len(gone)


@command("zremrangebyrank", 4, "write", 1, 1, 1, group="sorted_set", since="2.0.0",
         summary="Removes the members within a range of ranks.")
def zremrangebyrank(c, argv):
    return _zremrange(c, argv, "rank")


@command("zremrangebyscore", 4, "write", 1, 1, 1, group="sorted_set", since="1.2.0",
         summary="Removes the members within a range of scores.")
def zremrangebyscore(c, argv):
    return _zremrange(c, argv, "score")


@command("zremrangebylex", 4, "write", 1, 1, 1, group="sorted_set", since="2.8.9",
         summary="Removes the members within a lexicographical range.")
def zremrangebylex(c, argv):
    return _zremrange(c, argv, "lex")


# --- single-member reads ------------------------------------------------------------------

@command("zcard", 2, "readonly fast", 1, 1, 1, group="sorted_set", since="1.2.0",
         summary="Returns the number of members in a sorted set.")
def zcard(c, argv):
    z = get_typed(c, argv[1], b"zset")
    return 0 if z is None else len(z)


@command("zscore", 3, "readonly fast", 1, 1, 1, group="sorted_set", since="1.2.0",
         summary="Returns the score of a member.")
def zscore(c, argv):
    z = get_typed(c, argv[1], b"zset")
    return None if z is None else z.score(argv[2])


@command("zmscore", -3, "readonly fast", 1, 1, 1, group="sorted_set", since="6.2.0",
         summary="Returns the scores of several members.")
def zmscore(c, argv):
    z = get_typed(c, argv[1], b"zset")
    if z is None:
        return [None] * (len(argv) - 2)
    get = z.scores.get
    return [get(m) for m in argv[2:]]


def _zrank(c, argv, reverse: bool):
    if len(argv) > 4:
        err(b"ERR wrong number of arguments for '%s' command" % argv[0].lower())
    withscore = False
    if len(argv) == 4:
        if argv[3].lower() != b"withscore":
            err(SYNTAX)
        withscore = True
    z = get_typed(c, argv[1], b"zset")
    rank = None if z is None else z.rank(argv[2], reverse)
    if rank is None:
        return NULL_ARRAY if withscore else None
    if withscore:
        return [rank, z.score(argv[2])]
    return rank


@command("zrank", -3, "readonly fast", 1, 1, 1, group="sorted_set", since="2.0.0",
         summary="Returns a member's rank counted from the lowest score (optionally with its score).")
def zrank(c, argv):
    return _zrank(c, argv, False)


@command("zrevrank", -3, "readonly fast", 1, 1, 1, group="sorted_set", since="2.0.0",
         summary="Returns a member's rank counted from the highest score (optionally with its score).")
def zrevrank(c, argv):
    return _zrank(c, argv, True)


@command("zcount", 4, "readonly fast", 1, 1, 1, group="sorted_set", since="2.0.0",
         summary="Counts the members whose score lies in a range.")
def zcount(c, argv):
    lo, lo_ex = parse_score_bound(argv[2])
    hi, hi_ex = parse_score_bound(argv[3])
    z = get_typed(c, argv[1], b"zset")
    return 0 if z is None else z.count_by_score(lo, hi, lo_ex, hi_ex)


@command("zlexcount", 4, "readonly fast", 1, 1, 1, group="sorted_set", since="2.8.9",
         summary="Counts the members within a lexicographical range.")
def zlexcount(c, argv):
    lo, lo_ex = parse_lex_bound(argv[2])
    hi, hi_ex = parse_lex_bound(argv[3])
    z = get_typed(c, argv[1], b"zset")
    return 0 if z is None else z.count_by_lex(lo, hi, lo_ex, hi_ex)


# --- ZRANGE family --------------------------------------------------------------------------

_RANK, _SCORE, _LEX = 1, 2, 3


def _zrange(c, argv, src_at: int, store: bool, rangetype=None, reverse=None):
    """ZRANGE / ZRANGESTORE and the older Z[REV]RANGE[BYSCORE|BYLEX] forms.

    ``rangetype`` / ``reverse`` of None mean "chosen by BYSCORE/BYLEX/REV options".
    """
    key = argv[src_at]
    withscores = False
    offset, limit = 0, -1
    n = len(argv)
    j = src_at + 3
    while j < n:
        left = n - j - 1
        o = argv[j].lower()
        if not store and o == b"withscores":
            withscores = True
        elif o == b"limit" and left >= 2:
            offset = parse_int(argv[j + 1])
            limit = parse_int(argv[j + 2])
            j += 2
        elif reverse is None and o == b"rev":
            reverse = True
        elif rangetype is None and o == b"bylex":
            rangetype = _LEX
        elif rangetype is None and o == b"byscore":
            rangetype = _SCORE
        else:
            err(SYNTAX)
        j += 1
    reverse = bool(reverse)
    if rangetype is None:
        rangetype = _RANK
    if limit != -1 and rangetype == _RANK:
        err(b"ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
    if withscores and rangetype == _LEX:
        err(b"ERR syntax error, WITHSCORES not supported in combination with BYLEX")
    a, b = argv[src_at + 1], argv[src_at + 2]
    if reverse and rangetype != _RANK:
        a, b = b, a
    if rangetype == _RANK:
        start, stop = parse_int(a), parse_int(b)
    elif rangetype == _SCORE:
        lo, lo_ex = parse_score_bound(a)
        hi, hi_ex = parse_score_bound(b)
    else:
        lo, lo_ex = parse_lex_bound(a)
        hi, hi_ex = parse_lex_bound(b)
    z = get_typed(c, key, b"zset")
    if z is None:
        items = []
    elif rangetype == _RANK:
        items = z.range_by_rank(start, stop, reverse)
    elif rangetype == _SCORE:
        items = z.range_by_score(lo, hi, lo_ex, hi_ex, reverse, offset, limit)
    else:
        items = z.range_by_lex(lo, hi, lo_ex, hi_ex, reverse, offset, limit)
    if store:
        dst = ZSet(listpack=False)
        for m, s in items:
            dst.add(m, s)
        return _store(c, argv[1], dst, b"zrangestore")
    if withscores:
        return _with_scores(items)
    return [m for m, _ in items]


@command("zrange", -4, "readonly", 1, 1, 1, group="sorted_set", since="1.2.0",
         summary="Returns members in a range of ranks, scores (BYSCORE) or names (BYLEX).")
def zrange(c, argv):
    return _zrange(c, argv, 1, False)


@command("zrangestore", -5, "write denyoom", 1, 2, 1, group="sorted_set", since="6.2.0",
         summary="Stores a range of members (as ZRANGE selects them) in another key.")
def zrangestore(c, argv):
    return _zrange(c, argv, 2, True)


@command("zrevrange", -4, "readonly", 1, 1, 1, group="sorted_set", since="1.2.0",
         summary="Returns members in a range of ranks, highest score first.")
def zrevrange(c, argv):
    return _zrange(c, argv, 1, False, _RANK, True)


@command("zrangebyscore", -4, "readonly", 1, 1, 1, group="sorted_set", since="1.0.5",
         summary="Returns members whose score lies in a range.")
def zrangebyscore(c, argv):
    return _zrange(c, argv, 1, False, _SCORE, False)


@command("zrevrangebyscore", -4, "readonly", 1, 1, 1, group="sorted_set", since="2.2.0",
         summary="Returns members whose score lies in a range, highest score first.")
def zrevrangebyscore(c, argv):
    return _zrange(c, argv, 1, False, _SCORE, True)


@command("zrangebylex", -4, "readonly", 1, 1, 1, group="sorted_set", since="2.8.9",
         summary="Returns members within a lexicographical range.")
def zrangebylex(c, argv):
    return _zrange(c, argv, 1, False, _LEX, False)


@command("zrevrangebylex", -4, "readonly", 1, 1, 1, group="sorted_set", since="2.8.9",
         summary="Returns members within a lexicographical range, in reverse order.")
def zrevrangebylex(c, argv):
    return _zrange(c, argv, 1, False, _LEX, True)


# --- ZUNION / ZINTER / ZDIFF -----------------------------------------------------------------

def _read_source(c, key: bytes):
    """A ZUNION/ZINTER/ZDIFF input: a sorted set, a plain set (scores 1) or None."""
    v = c.db.lookup(key)
    stats = c.server.stats
    if v is None:
        stats.keyspace_misses += 1
        return None
    stats.keyspace_hits += 1
    if type(v) is bytes or (v.kind != b"zset" and v.kind != b"set"):
        err(WRONGTYPE)
    return v


def _source_items(v):
    if v is None:
        return ()
    if v.kind == b"zset":
        return v.items(reverse=True)  # Redis walks sorted sets from the top here
    return ((m, 1.0) for m in v)


def _source_score(v, member):
    if v.kind == b"zset":
        return v.score(member)
    return 1.0 if member in v else None


def _aggregate(agg: int, a: float, b: float) -> float:
    if agg == 0:
        r = a + b
        return 0.0 if r != r else r  # inf + -inf counts as 0
    if agg == 1:
        return b if b < a else a
    return b if b > a else a


def _numkeys_sources(c, argv, at: int):
    numkeys = parse_int(argv[at])
    if numkeys < 1:
        err(b"ERR at least 1 input key is needed for '%s' command" % argv[0].lower())
    if numkeys > len(argv) - (at + 1):
        err(SYNTAX)
    return [_read_source(c, k) for k in argv[at + 1:at + 1 + numkeys]]


def _setop(c, argv, at: int, op: str, dst: bytes | None = None, card_only: bool = False):
    srcs = _numkeys_sources(c, argv, at)
    nsrc = len(srcs)
    weights = [1.0] * nsrc
    agg = 0
    withscores = False
    limit = 0
    j = at + 1 + nsrc
    n = len(argv)
    while j < n:
        remaining = n - j
        o = argv[j].lower()
        if op != "diff" and not card_only and remaining >= nsrc + 1 and o == b"weights":
            for k in range(nsrc):
                weights[k] = parse_score(argv[j + 1 + k], b"ERR weight value is not a float")
            j += nsrc + 1
        elif op != "diff" and not card_only and remaining >= 2 and o == b"aggregate":
            a = argv[j + 1].lower()
            if a == b"sum":
                agg = 0
            elif a == b"min":
                agg = 1
            elif a == b"max":
                agg = 2
            else:
                err(SYNTAX)
            j += 2
        elif dst is None and not card_only and o == b"withscores":
            withscores = True
            j += 1
        elif card_only and remaining >= 2 and o == b"limit":
            limit = range_long(argv[j + 1], 0, _LONG_MAX, b"ERR LIMIT can't be negative")
            j += 2
        else:
            err(SYNTAX)

    sizes = [0 if s is None else len(s) for s in srcs]
    result: dict = {}
    if op == "inter":
        # Smallest input first (a stable sort, like Redis's qsort on these inputs).
        order = sorted(range(nsrc), key=sizes.__getitem__)
        first = order[0]
        if sizes[first]:
            base = srcs[first]
            w0 = weights[first]
            rest = [(srcs[k], weights[k]) for k in order[1:]]
            count = 0
            for m, s in _source_items(base):
                score = w0 * s
                if score != score:
                    score = 0.0
                for src, w in rest:
                    if src is base:
                        value = s * w
                    else:
                        value = _source_score(src, m)
                        if value is None:
                            break
                        value *= w
                    score = _aggregate(agg, score, value)
                else:
                    if card_only:
                        count += 1
                        if limit and count >= limit:
                            break
                    else:
                        result[m] = score
            if card_only:
                return count
        elif card_only:
            return 0
    elif op == "union":
        order = sorted(range(nsrc), key=sizes.__getitem__)
        for k in order:
            w = weights[k]
            for m, s in _source_items(srcs[k]):
                score = w * s
                if score != score:
                    score = 0.0
                prev = result.get(m)
                result[m] = score if prev is None else _aggregate(agg, prev, score)
    else:
        base = srcs[0]
        if sizes[0]:
            others = [s for s in srcs[1:] if s is not None and len(s)]
            for m, s in _source_items(base):
                for src in others:
                    if src is base or _source_score(src, m) is not None:
                        break
                else:
                    result[m] = s

    z = ZSet(listpack=False)
    for m, s in result.items():
        z.add(m, s)
    if dst is not None:
        return _store(c, dst, z, b"z%sstore" % op.encode())
    if withscores:
        return _with_scores(z.items())
    return z.members_in_order()


def _store_keys(argv):
    try:
        n = int(argv[2])
    except ValueError:
        return [1]
    return [1] + list(range(3, min(3 + max(n, 0), len(argv))))


def _numkeys_keys(at: int):
    def keys(argv):
        try:
            n = int(argv[at])
        except (ValueError, IndexError):
            return []
        return list(range(at + 1, min(at + 1 + max(n, 0), len(argv))))
    return keys


@command("zunionstore", -4, "write denyoom", 1, 1, 1, group="sorted_set", since="2.0.0",
         keys_fn=_store_keys, summary="Stores the union of sorted sets (and sets) in a key.")
def zunionstore(c, argv):
    return _setop(c, argv, 2, "union", argv[1])


@command("zinterstore", -4, "write denyoom", 1, 1, 1, group="sorted_set", since="2.0.0",
         keys_fn=_store_keys, summary="Stores the intersection of sorted sets (and sets) in a key.")
def zinterstore(c, argv):
    return _setop(c, argv, 2, "inter", argv[1])


@command("zdiffstore", -4, "write denyoom", 1, 1, 1, group="sorted_set", since="6.2.0",
         keys_fn=_store_keys, summary="Stores the difference of sorted sets (and sets) in a key.")
def zdiffstore(c, argv):
    return _setop(c, argv, 2, "diff", argv[1])


@command("zunion", -3, "readonly", group="sorted_set", since="6.2.0", keys_fn=_numkeys_keys(1),
         summary="Returns the union of sorted sets (and sets).")
def zunion(c, argv):
    return _setop(c, argv, 1, "union")


@command("zinter", -3, "readonly", group="sorted_set", since="6.2.0", keys_fn=_numkeys_keys(1),
         summary="Returns the intersection of sorted sets (and sets).")
def zinter(c, argv):
    return _setop(c, argv, 1, "inter")


@command("zintercard", -3, "readonly", group="sorted_set", since="7.0.0", keys_fn=_numkeys_keys(1),
         summary="Returns the size of the intersection of sorted sets (and sets), optionally capped.")
def zintercard(c, argv):
    return _setop(c, argv, 1, "inter", card_only=True)


@command("zdiff", -3, "readonly", group="sorted_set", since="6.2.0", keys_fn=_numkeys_keys(1),
         summary="Returns the members of the first sorted set missing from the others.")
def zdiff(c, argv):
    return _setop(c, argv, 1, "diff")


# --- pops ----------------------------------------------------------------------------------

def _pop_from(c, key: bytes, z, count: int, from_max: bool) -> list:
    """Pop ``count`` elements of ``z`` (stored at ``key``) with Redis's side effects."""
    pairs = z.pop(count, from_max)
    _written(c, key, b"zpopmax" if from_max else b"zpopmin", len(pairs))
    if not len(z):
        _removed_key(c, key)
    return pairs


def _zpop(c, argv, from_max: bool):
    if len(argv) > 3:
        err(SYNTAX)
    count = -1
    if len(argv) == 3:
        count = range_long(argv[2], 0, _LONG_MAX, b"ERR value is out of range, must be positive")
    key = argv[1]
    z = _zset_write(c, key)
    if z is None or count == 0:
        return []
    if count == -1:
        m, s = _pop_from(c, key, z, 1, from_max)[0]
        return [m, s]
    return _with_scores(_pop_from(c, key, z, count, from_max))


@command("zpopmin", -2, "write fast", 1, 1, 1, group="sorted_set", since="5.0.0",
         summary="Removes and returns the members with the lowest scores.")
def zpopmin(c, argv):
    return _zpop(c, argv, False)


@command("zpopmax", -2, "write fast", 1, 1, 1, group="sorted_set", since="5.0.0",
         summary="Removes and returns the members with the highest scores.")
def zpopmax(c, argv):
    return _zpop(c, argv, True)


def _serve_pop(c, keys, from_max: bool, count: int, blocked: bool):
    """Pop from the first non-empty sorted set among ``keys``.

    Returns (key, pairs, ZPOPMIN/ZPOPMAX, popped count) or None.  A waiting
    client skips keys that now hold another type (Redis 7.0 leaves it
    blocked); a first attempt raises WRONGTYPE instead.
    """
    db = c.db
    for key in keys:
        v = db.lookup(key)
        if v is None:
            continue
        if type(v) is bytes or v.kind != b"zset":
            if blocked:
                continue
            err(WRONGTYPE)
        if not len(v):
            continue
        requested = min(count, len(v))
        pairs = _pop_from(c, key, v, requested, from_max)
        cmd = b"ZPOPMAX" if from_max else b"ZPOPMIN"
        return key, pairs, cmd, requested
    return None


def _blocking_pop(c, keys, timeout: float, from_max: bool, count: int, multi: bool):
    """BZPOPMIN/BZPOPMAX (``multi`` False) and BZMPOP (``multi`` True)."""
    def attempt(blocked: bool):
        got = _serve_pop(c, keys, from_max, 1 if count == -1 else count, blocked)
        if got is None:
            return None
        key, pairs, cmd, requested = got
        if count == -1:
            c.server.also_propagate(c.db.index, [cmd, key])
        else:
            c.server.also_propagate(c.db.index, [cmd, key, b"%d" % requested])
        if multi:
            return [key, [[m, s] for m, s in pairs]]
        m, s = pairs[0]
        return [key, m, s]

    reply = attempt(False)
    if reply is not None:
        return reply
    if c.in_exec or c.in_script:
        return NULL_ARRAY
    deadline = c.server.loop.time() + timeout if timeout else 0
    return c.server.blocking.block(c, list(dict.fromkeys(keys)), deadline,
                                   lambda: attempt(True), NULL_ARRAY)


@command("bzpopmin", -3, "write noscript fast blocking", 1, -2, 1, group="sorted_set", since="5.0.0",
         summary="Pops the lowest-scored member of the first non-empty sorted set, or blocks.")
def bzpopmin(c, argv):
    return _blocking_pop(c, argv[1:-1], parse_timeout(argv[-1]), False, -1, False)


@command("bzpopmax", -3, "write noscript fast blocking", 1, -2, 1, group="sorted_set", since="5.0.0",
         summary="Pops the highest-scored member of the first non-empty sorted set, or blocks.")
def bzpopmax(c, argv):
    return _blocking_pop(c, argv[1:-1], parse_timeout(argv[-1]), True, -1, False)


def _parse_mpop(argv, at: int):
    numkeys = range_long(argv[at], 1, _LONG_MAX, b"ERR numkeys should be greater than 0")
    where_at = at + numkeys + 1
    if where_at >= len(argv):
        err(SYNTAX)
    where = argv[where_at].lower()
    if where not in (b"min", b"max"):
        err(SYNTAX)
    count = -1
    j = where_at + 1
    while j < len(argv):
        if count == -1 and argv[j].lower() == b"count" and j + 1 < len(argv):
            count = range_long(argv[j + 1], 1, _LONG_MAX, b"ERR count should be greater than 0")
            j += 2
        else:
            err(SYNTAX)
    return argv[at + 1:at + 1 + numkeys], where == b"max", (1 if count == -1 else count)


@command("zmpop", -4, "write", group="sorted_set", since="7.0.0", keys_fn=_numkeys_keys(1),
         summary="Pops members with the lowest or highest scores from the first non-empty sorted set.")
def zmpop(c, argv):
    keys, from_max, count = _parse_mpop(argv, 1)
    got = _serve_pop(c, keys, from_max, count, False)
    if got is None:
        return NULL_ARRAY
    key, pairs, cmd, requested = got
    c.server.also_propagate(c.db.index, [cmd, key, b"%d" % requested])
    return [key, [[m, s] for m, s in pairs]]


@command("bzmpop", -5, "write blocking", group="sorted_set", since="7.0.0", keys_fn=_numkeys_keys(2),
         summary="Like ZMPOP, but blocks until a sorted set has members or the timeout passes.")
def bzmpop(c, argv):
    keys, from_max, count = _parse_mpop(argv, 2)
    return _blocking_pop(c, keys, parse_timeout(argv[1]), from_max, count, True)


# --- random members & scanning ---------------------------------------------------------------

@command("zrandmember", -2, "readonly", 1, 1, 1, group="sorted_set", since="6.2.0",
         summary="Returns random members (optionally with scores) from a sorted set.")
def zrandmember(c, argv):
    if len(argv) >= 3:
        n = range_long(argv[2], -_LONG_MAX, _LONG_MAX)
        withscores = False
        if len(argv) > 4 or (len(argv) == 4 and argv[3].lower() != b"withscores"):
            err(SYNTAX)
        if len(argv) == 4:
            withscores = True
            if n < -(_LONG_MAX // 2) or n > _LONG_MAX // 2:
                err(b"ERR value is out of range")
        z = get_typed(c, argv[1], b"zset")
        if z is None or n == 0:
            return []
        count = abs(n)
        if n < 0 or count == 1:
            picked = [z.random_item() for _ in range(count)]
        else:
            picked = random_pairs(list(z.items(reverse=True)), count, True)
        if withscores:
            return _with_scores(picked)
        return [m for m, _ in picked]
    z = get_typed(c, argv[1], b"zset")
    if z is None:
        return None
    return z.random_item()[0]


@command("zscan", -3, "readonly", 1, 1, 1, group="sorted_set", since="2.8.0",
         summary="Iterates over the members and scores of a sorted set.")
def zscan(c, argv):
    cursor = parse_scan_cursor(argv[2])
    z = get_typed(c, argv[1], b"zset")
    if z is None:
        return [b"0", []]
    pattern, count, _, _ = parse_scan_options(argv, 3)
    if z.listpack:
        nxt, batch = 0, z.members_in_order()
        fmt = d2string
    else:
        nxt, batch = scan_cursors(z).step(cursor, count, z.scores.keys)
        fmt = format_double
    match = glob_matcher(pattern) if pattern is not None and pattern != b"*" else None
    out = []
    get = z.scores.get
    for m in batch:
        if match is not None and not match(m):
            continue
        s = get(m)
        if s is None:
            continue
        out.append(m)
        out.append(fmt(s))
    return [b"%d" % nxt, out]
