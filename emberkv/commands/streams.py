"""Stream commands: XADD, XRANGE, XREAD, consumer groups (XGROUP, XREADGROUP, XACK, XCLAIM...), XINFO."""

from __future__ import annotations

from bisect import bisect_left
from time import time as _time

from ..datatypes.stream import (INVALID_ENTRIES_READ, M64, MAX_ID, Group, Stream, format_id,
                                ids_in_range)
from ..protocol.reply import NULL_ARRAY, OK, CommandError, Error, PairMap, Status
from ..server.server import N_NEW, N_STREAM
from .common import (NO_SUCH_KEY, SYNTAX, TIMEOUT_NEGATIVE, WRONGTYPE, err, get_typed,
                     parse_int)
from .registry import command, container

STREAM = b"stream"
INVALID_ID = b"ERR Invalid stream ID specified as stream command argument"
XADD_ID_TOO_SMALL = b"ERR The ID specified in XADD is equal or smaller than the target stream top item"
TOO_LARGE = b"ERR Elements are too large to be stored"
UNBALANCED = (b"ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' "
              b"must be specified.")
GROUP_GONE = b"NOGROUP the consumer group this client was blocked on no longer exists"
KEY_GONE = b"UNBLOCKED the stream key no longer exists"
XGROUP_NEEDS_KEY = (b"ERR The XGROUP subcommand requires the key to exist. Note that for CREATE "
                    b"you may want to use the MKSTREAM option to create an empty stream "
                    b"automatically.")
BLOCKED_DEFAULT_COUNT = 1000   # entries served to a blocked XREAD without COUNT
LONG_MAX = (1 << 63) - 1
_SPACES = b" \t\n\x0b\x0c\r"


def _now_ms() -> int:
    # Redis's stream code reads the wall clock (mstime), even while loading or in scripts.
    return int(_time() * 1000)


# --- ID parsing -----------------------------------------------------------------------

def _str2ull(b: bytes):
    """Redis's string2ull: a strict int64 that is negative fails, otherwise strtoull rules."""
    if b.isdigit():
        v = int(b)
        return v if v <= M64 else None
    if not b:
        return None
    if b[0] == 45 and len(b) > 1 and 49 <= b[1] <= 57 and b[1:].isdigit() and int(b) >= -(1 << 63):
        return None
    s = b.lstrip(_SPACES)
    neg = s[:1] == b"-"
    if neg or s[:1] == b"+":
        s = s[1:]
    if not s.isdigit():
        return None
    v = int(s)
    if v > M64:
        return None
    return (-v) & M64 if neg else v


def _parse_id(b: bytes, missing_seq: int = 0, strict: bool = False, allow_auto_seq: bool = False):
    """<ms>[-<seq>] (or - / + unless strict) -> (id, seq_given); raises the invalid-ID error."""
    if len(b) > 127:
        err(INVALID_ID)
    if b"\0" in b:
        b = b[:b.index(b"\0")]   # Redis parses a C string copy
    if b == b"-" or b == b"+":
        if strict:
            err(INVALID_ID)
        return (0 if b == b"-" else MAX_ID), True
    dash = b.find(b"-")
    if dash < 0:
        ms = _str2ull(b)
        if ms is None:
            err(INVALID_ID)
        return (ms << 64) | missing_seq, True
    ms = _str2ull(b[:dash])
    if ms is None:
        err(INVALID_ID)
    tail = b[dash + 1:]
    if allow_auto_seq and tail == b"*":
        return ms << 64, False
    seq = _str2ull(tail)
    if seq is None:
        err(INVALID_ID)
    return (ms << 64) | seq, True


def parse_id(b: bytes, missing_seq: int = 0, strict: bool = False) -> int:
    return _parse_id(b, missing_seq, strict)[0]


def _try_strict_id(b: bytes):
    try:
        return _parse_id(b, 0, True)[0]
    except CommandError:
        return None


def _parse_start(b: bytes) -> int:
    """Range start: '(' makes it exclusive."""
    if len(b) > 1 and b[0] == 40:
        v = parse_id(b[1:], 0, True)
        if v == MAX_ID:
            err(b"ERR invalid start ID for the interval")
        return v + 1
    return parse_id(b, 0)


def _parse_end(b: bytes) -> int:
    if len(b) > 1 and b[0] == 40:
        v = parse_id(b[1:], M64, True)
        if v == 0:
            err(b"ERR invalid end ID for the interval")
        return v - 1
    return parse_id(b, M64)


# --- helpers ----------------------------------------------------------------------------------

def _lookup_write(c, key: bytes):
    """The stream at ``key`` or None; WRONGTYPE for other types (no hit/miss stats)."""
    v = c.db.lookup(key)
    if v is not None and (type(v) is bytes or v.kind != STREAM):
        err(WRONGTYPE)
    return v


def _create(c, key: bytes) -> Stream:
    s = Stream()
    db = c.db
    db.set(key, s)
    c.server.notify(N_NEW, b"new", key, db.index)
    return s


def _entries_reply(entries) -> list:
    return [[format_id(i), fv] for i, fv in entries]


def _subcommand_error(argv):
    err(b"ERR unknown subcommand or wrong number of arguments for '%s'. Try %s HELP."
        % (argv[1][:128], argv[0].upper()))


def _no_self_propagation(server) -> None:
    """The command is replicated through the effects it queued, never as itself."""
    if server.pending_propagate is None:
        server.pending_propagate = []


def _propagate_claim(c, key, gname, entry_arg, nack, g) -> None:
    """Replicate a PEL change as an idempotent XCLAIM."""
    c.server.also_propagate(c.db.index, [
        b"XCLAIM", key, gname, nack.consumer.name, b"0", entry_arg,
        b"TIME", b"%d" % nack.delivery_time, b"RETRYCOUNT", b"%d" % nack.delivery_count,
        b"FORCE", b"JUSTID", b"LASTID", format_id(g.last_id)])


def _propagate_group_id(c, key, gname, g) -> None:
    c.server.also_propagate(c.db.index, [
        b"XGROUP", b"SETID", key, gname, format_id(g.last_id),
        b"ENTRIESREAD", b"%d" % g.entries_read])


def _new_consumer(c, key, g: Group, name: bytes, now: int):
    consumer = g.create_consumer(name, now)
    server = c.server
    server.dirty += 1
    server.notify(N_STREAM, b"xgroup-createconsumer", key, c.db.index)
    return consumer


def _get_or_create_consumer(c, key, g: Group, name: bytes, now: int):
    consumer = g.consumers.get(name)
    if consumer is None:
        return _new_consumer(c, key, g, name, now)
    consumer.seen_time = now
    return consumer


# --- XADD / XTRIM ----------------------------------------------------------------------------

class _TrimArgs:
    __slots__ = ("strategy", "maxlen", "minid", "approx", "limit", "arg_idx", "nomkstream",
                 "entry_id", "seq_given", "id_pos")

    def __init__(self):
        self.strategy = False    # MAXLEN or MINID given
        self.maxlen = None
        self.minid = None
        self.approx = False
        self.limit = 0
        self.arg_idx = 0
        self.nomkstream = False
        self.entry_id = None     # explicit XADD ID, None for '*'
        self.seq_given = True
        self.id_pos = 0


def _parse_trim(c, argv, xadd: bool) -> _TrimArgs:
    a = _TrimArgs()
    n = len(argv)
    i = 2
    limit_given = False
    while i < n:
        more = n - 1 - i
        opt = argv[i]
        if xadd and opt == b"*":
            break
        lo = opt.lower()
        if (lo == b"maxlen" or lo == b"minid") and more:
            if a.strategy:
                err(b"ERR syntax error, MAXLEN and MINID options at the same time are not "
                    b"compatible")
            a.approx = False
            nxt = argv[i + 1]
            if more >= 2 and nxt == b"~":
                a.approx = True
                i += 1
            elif more >= 2 and nxt == b"=":
                i += 1
            if lo == b"maxlen":
                maxlen = parse_int(argv[i + 1])
                if maxlen < 0:
                    err(b"ERR The MAXLEN argument must be >= 0.")
                a.maxlen = maxlen
            else:
                a.minid = parse_id(argv[i + 1], 0, True)
            a.strategy = True
            i += 1
            a.arg_idx = i
        elif lo == b"limit" and more:
            a.limit = parse_int(argv[i + 1])
            if a.limit < 0:
                err(b"ERR The LIMIT argument must be >= 0.")
            limit_given = True
            i += 1
        elif xadd and lo == b"nomkstream":
            a.nomkstream = True
        elif xadd:
            a.entry_id, a.seq_given = _parse_id(opt, 0, True, True)
            break
        else:
            err(SYNTAX)
        i += 1
    a.id_pos = i
    if a.limit and not a.strategy:
        err(b"ERR syntax error, LIMIT cannot be used without specifying a trimming strategy")
    if not xadd and not a.strategy:
        err(b"ERR syntax error, XTRIM must be called with a trimming strategy")
    if c.is_master or c.server.loading:
        a.limit = 0   # the primary (or the AOF) already rewrote the trim to an exact one
    elif limit_given:
        if not a.approx:
            err(b"ERR syntax error, LIMIT cannot be used without the special ~ option")
    elif a.approx:
        # Bound the work of an approximate trim, as Redis does (100 nodes' worth).
        limit = 100 * c.server.config.stream_node_max_entries
        a.limit = 10000 if limit <= 0 else min(limit, 1000000)
    else:
        a.limit = 0
    return a


def _trim(s: Stream, a: _TrimArgs) -> int:
    return s.trim(a.maxlen, a.minid, a.approx, a.limit)


def _exact_trim_arg(s: Stream, a: _TrimArgs) -> bytes:
    """What an approximate trim did, as an exact threshold (for AOF and replicas)."""
    if a.maxlen is not None:
        return b"%d" % s.length
    first = s.first_entry_id(with_tombstones=True)
    return format_id(MAX_ID if first is None else first)


EXHAUSTED = b"ERR The stream has exhausted the last possible ID, unable to add more items"


@command("xadd", -5, "write denyoom fast", 1, 1, 1, group="stream", since="5.0.0",
         tips=("nondeterministic_output",),
         summary="Appends an entry to a stream, creating the stream if needed.")
def xadd(c, argv):
    if argv[2] != b"*":
        return _xadd_with_options(c, argv)
    # XADD key * field value ...: the common case, kept short.
    if not len(argv) & 1:
        err(b"ERR wrong number of arguments for 'xadd' command")
    db = c.db
    key = argv[1]
    server = c.server
    s = db.lookup(key)
    if s is None:
        s = _create(c, key)
    elif type(s) is bytes or s.kind != STREAM:
        err(WRONGTYPE)
    last = s.last_id
    ms = int(_time() * 1000)
    if ms > last >> 64:
        new_id = ms << 64
        reply = b"%d-0" % ms
    else:
        if last == MAX_ID:
            err(EXHAUSTED)
        new_id = last + 1
        reply = format_id(new_id)
    cfg = server.config
    if not s.append(new_id, tuple(argv[3:]), cfg.stream_node_max_entries,
                    cfg.stream_node_max_bytes):
        err(TOO_LARGE)
    server.signal_modified(db, key)
    server.notify(N_STREAM, b"xadd", key, db.index)
    server.dirty += 1
    if server.propagation_sinks:
        server.also_propagate(db.index, [argv[0], key, reply, *argv[3:]])
    server.signal_ready(db, key)
    return reply


def _xadd_with_options(c, argv):
    a = _parse_trim(c, argv, True)
    fpos = a.id_pos + 1
    nf = len(argv) - fpos
    if nf < 2 or nf & 1:
        err(b"ERR wrong number of arguments for 'xadd' command")
    explicit = a.entry_id
    if explicit == 0 and a.seq_given:
        err(b"ERR The ID specified in XADD must be greater than 0-0")
    db = c.db
    key = argv[1]
    server = c.server
    s = db.lookup(key)
    if s is None:
        if a.nomkstream:
            return None
        s = _create(c, key)
    elif type(s) is bytes or s.kind != STREAM:
        err(WRONGTYPE)
    last = s.last_id
    if last == MAX_ID:
        err(EXHAUSTED)
    if explicit is None:
        ms = int(_time() * 1000)
        new_id = ms << 64 if ms > last >> 64 else last + 1
    else:
        if a.seq_given or explicit >> 64 != last >> 64:
            new_id = explicit
        elif last & M64 == M64:
            err(TOO_LARGE)   # what Redis reports when the sequence would overflow
        else:
            new_id = last + 1
        if new_id <= last:
            err(XADD_ID_TOO_SMALL)
    cfg = server.config
    if not s.append(new_id, tuple(argv[fpos:]), cfg.stream_node_max_entries,
                    cfg.stream_node_max_bytes):
        err(TOO_LARGE)
    reply = format_id(new_id)
    idx = db.index
    server.signal_modified(db, key)
    server.notify(N_STREAM, b"xadd", key, idx)
    server.dirty += 1
    if a.strategy and _trim(s, a):
        server.notify(N_STREAM, b"xtrim", key, idx)
    if server.propagation_sinks and (explicit is None or not a.seq_given or a.approx):
        prop = list(argv)
        prop[fpos - 1] = reply
        if a.approx:
            prop[a.arg_idx - 1] = b"="
            prop[a.arg_idx] = _exact_trim_arg(s, a)
        server.also_propagate(idx, prop)
    server.signal_ready(db, key)
    return reply


@command("xtrim", -4, "write", 1, 1, 1, group="stream", since="5.0.0",
         tips=("nondeterministic_output",),
         summary="Removes the oldest entries of a stream by length or by ID.")
def xtrim(c, argv):
    a = _parse_trim(c, argv, False)
    key = argv[1]
    s = _lookup_write(c, key)
    if s is None:
        return 0
    deleted = _trim(s, a)
    if deleted:
        server = c.server
        server.notify(N_STREAM, b"xtrim", key, c.db.index)
        if a.approx and server.propagation_sinks:
            prop = list(argv)
            prop[a.arg_idx - 1] = b"="
            prop[a.arg_idx] = _exact_trim_arg(s, a)
            server.also_propagate(c.db.index, prop)
        server.signal_modified(c.db, key)
        server.dirty += deleted
    return deleted


@command("xdel", -3, "write fast", 1, 1, 1, group="stream", since="5.0.0",
         summary="Deletes entries from a stream by ID.")
def xdel(c, argv):
    key = argv[1]
    s = _lookup_write(c, key)
    if s is None:
        return 0
    ids = [parse_id(a, 0, True) for a in argv[2:]]
    deleted = 0
    first_gone = False
    for i in ids:
        if s.delete(i):
            if i == s.first_id:
                first_gone = True
            deleted += 1
    if deleted:
        if first_gone or not s.length:
            s.refresh_first_id()
        server = c.server
        server.signal_modified(c.db, key)
        server.notify(N_STREAM, b"xdel", key, c.db.index)
        server.dirty += deleted
    return deleted


@command("xlen", 2, "readonly fast", 1, 1, 1, group="stream", since="5.0.0",
         summary="Returns how many entries a stream holds.")
def xlen(c, argv):
    s = get_typed(c, argv[1], STREAM)
    return 0 if s is None else s.length


def _xrange(c, argv, rev: bool):
    start = _parse_start(argv[3] if rev else argv[2])
    end = _parse_end(argv[2] if rev else argv[3])
    count = -1
    j = 4
    n = len(argv)
    while j < n:
        if argv[j].lower() == b"count" and j + 1 < n:
            count = max(parse_int(argv[j + 1]), 0)
            j += 2
        else:
            err(SYNTAX)
    s = get_typed(c, argv[1], STREAM)
    if s is None:
        return []
    if count == 0:
        return NULL_ARRAY
    return _entries_reply(s.entries(start, end, max(count, 0), rev))


@command("xrange", -4, "readonly", 1, 1, 1, group="stream", since="5.0.0",
         summary="Returns the entries of a stream between two IDs.")
def xrange(c, argv):
    return _xrange(c, argv, False)


@command("xrevrange", -4, "readonly", 1, 1, 1, group="stream", since="5.0.0",
         summary="Returns the entries of a stream between two IDs, newest first.")
def xrevrange(c, argv):
    return _xrange(c, argv, True)


# --- XREAD / XREADGROUP --------------------------------------------------------------------------

def _streams_keys(argv, search_from: int = 1) -> list:
    """Key positions: the first half of what follows the STREAMS keyword."""
    for i in range(search_from, len(argv)):
        if argv[i].lower() == b"streams":
            first = i + 1
            n = (len(argv) - first) // 2
            return list(range(first, first + n))
    return []


def _group_read(c, s: Stream, key, gname, g: Group, consumer, start: int, count: int,
                noack: bool, now: int) -> list:
    """Serve new entries to a consumer: advance the group, record them as pending."""
    propagate = bool(c.server.propagation_sinks)
    out = []
    moved = False
    for entry_id, fv in s.entries(start, MAX_ID, count):
        if entry_id > g.last_id:
            s.deliver(g, entry_id)
            moved = True
        idb = format_id(entry_id)
        out.append([idb, fv])
        if not noack:
            nack = g.add_pending(entry_id, consumer, now)
            if propagate:
                _propagate_claim(c, key, gname, idb, nack, g)
    if noack and moved and propagate:
        _propagate_group_id(c, key, gname, g)
    return out


def _history(s: Stream, consumer, start: int, count: int, now: int) -> list:
    """A consumer re-reading its own pending entries (deleted ones come back as nil)."""
    out = []
    for entry_id in ids_in_range(consumer.pel_ids, start, MAX_ID, count):
        fv = s.get(entry_id)
        if fv is None:
            out.append([format_id(entry_id), NULL_ARRAY])
        else:
            nack = consumer.pel[entry_id]
            nack.delivery_time = now
            nack.delivery_count += 1
            out.append([format_id(entry_id), fv])
    return out


def _xread(c, argv, group_mode: bool):
    n = len(argv)
    timeout = None
    count = 0
    first_key = 0
    nkeys = 0
    noack = False
    gname = cname = None
    i = 1
    while i < n:
        more = n - i - 1
        opt = argv[i].lower()
        if opt == b"block" and more:
            if c.in_script:
                err(b"ERR %s command is not allowed with BLOCK option from scripts" % argv[0])
            i += 1
            timeout = parse_int(argv[i], b"ERR timeout is not an integer or out of range")
            if timeout < 0:
                err(TIMEOUT_NEGATIVE)
        elif opt == b"count" and more:
            i += 1
            count = max(parse_int(argv[i]), 0)
        elif opt == b"streams" and more:
            first_key = i + 1
            nkeys = n - first_key
            if nkeys & 1:
                err(UNBALANCED)
            nkeys >>= 1
            break
        elif opt == b"group" and more >= 2:
            if not group_mode:
                err(b"ERR The GROUP option is only supported by XREADGROUP. You called XREAD "
                    b"instead.")
            gname, cname = argv[i + 1], argv[i + 2]
            i += 2
        elif opt == b"noack":
            if not group_mode:
                err(b"ERR The NOACK option is only supported by XREADGROUP. You called XREAD "
                    b"instead.")
            noack = True
        else:
            err(SYNTAX)
        i += 1
    if not first_key:
        err(SYNTAX)
    if group_mode and gname is None:
        err(b"ERR Missing GROUP option for XREADGROUP")

    server = c.server
    keys = argv[first_key:first_key + nkeys]
    ids = []
    groups = []
    for k in range(nkeys):
        key = keys[k]
        ida = argv[first_key + nkeys + k]
        s = get_typed(c, key, STREAM)
        g = None
        if group_mode:
            g = None if s is None else s.groups.get(gname)
            if g is None:
                err(b"NOGROUP No such key '%s' or consumer group '%s' in XREADGROUP with GROUP "
                    b"option" % (key, gname))
        groups.append(g)
        if ida == b"$":
            if group_mode:
                err(b"ERR The $ ID is meaningless in the context of XREADGROUP: you want to read "
                    b"the history of this consumer by specifying a proper ID, or use the > ID "
                    b"to get new messages. The $ ID would just return an empty result set.")
            ids.append(0 if s is None else s.last_id)
        elif ida == b"+":
            # Redis 7.4: "+" reads the last entry of the stream.
            if group_mode:
                err(b"ERR The + ID is meaningless in the context of XREADGROUP: you want to read "
                    b"the history of this consumer by specifying a proper ID, or use the > ID "
                    b"to get new messages. The + ID would just return an empty result set.")
            if s is None:
                ids.append(0)
            elif s.length:
                ids.append(s.last_valid_id() - 1)
            else:
                ids.append(s.last_id)
        elif ida == b">":
            if not group_mode:
                err(b"ERR The > ID can be specified only when calling XREADGROUP using the "
                    b"GROUP <group> <consumer> option.")
            ids.append(MAX_ID)   # Redis's marker for ">": the group's last ID is used
        else:
            ids.append(parse_id(ida, 0, True))

    if group_mode:
        _no_self_propagation(server)
    now = _now_ms()
    served = []
    for k in range(nkeys):
        key = keys[k]
        s = get_typed(c, key, STREAM)
        if s is None:
            continue
        gt = ids[k]
        history = False
        if group_mode:
            g = groups[k]
            if gt != MAX_ID:
                history = True
            elif s.length and s.last_valid_id() > g.last_id:
                gt = g.last_id
            else:
                continue
            consumer = g.consumers.get(cname)
            if consumer is None:
                consumer = _new_consumer(c, key, g, cname, now)
                if noack and server.propagation_sinks:
                    server.also_propagate(c.db.index, [b"XGROUP", b"CREATECONSUMER", key, gname,
                                                       cname])
            else:
                consumer.seen_time = now
            if history:
                entries = _history(s, consumer, gt + 1, count, now)
            else:
                entries = _group_read(c, s, key, gname, g, consumer, gt + 1, count, noack, now)
            server.dirty += 1
        else:
            if not s.length or s.last_valid_id() <= gt:
                continue
            entries = _entries_reply(s.entries(gt + 1, MAX_ID, count))
        served.append([key, entries])
    if served:
        return PairMap(served)
    if timeout is None or c.in_exec:
        return NULL_ARRAY
    return _block(c, keys, ids, group_mode, gname, cname, count, noack, timeout)


def _block(c, keys, ids, group_mode, gname, cname, count, noack, timeout_ms):
    server = c.server
    db = c.db
    wait_ids: dict = {}
    for key, gt in zip(keys, ids):
        wait_ids.setdefault(key, gt)   # a repeated key waits with its first ID
    order = list(wait_ids)
    # Only an XADD (seen as a new entries_added, or another stream object) can serve a
    # waiter; other changes to the key merely re-check it, as Redis only signals on XADD.
    seen = {}
    for key in order:
        v = db.lookup_notouch(key)
        is_stream = v is not None and type(v) is not bytes and v.kind == STREAM
        seen[key] = (v, v.entries_added) if is_stream else None
    limit = count or BLOCKED_DEFAULT_COUNT

    def retry():
        ready = server.blocking.serving_key
        if ready is not None and ready[0] == db.index and ready[1] in wait_ids:
            candidates = (ready[1],)
        else:
            candidates = order
        for key in candidates:
            v = db.lookup_notouch(key)
            is_stream = v is not None and type(v) is not bytes and v.kind == STREAM
            if group_mode:
                if not is_stream:
                    return Error(KEY_GONE)
                g = v.groups.get(gname)
                if g is None:
                    return Error(GROUP_GONE)
            elif not is_stream:
                continue
            state = (v, v.entries_added)
            if seen[key] == state:
                continue
            seen[key] = state
            gt = g.last_id if group_mode else wait_ids[key]
            if v.last_id <= gt:
                continue
            if group_mode:
                now = _now_ms()
                consumer = g.consumers.get(cname)
                if consumer is None:
                    consumer = _new_consumer(c, key, g, cname, now)
                    if noack and server.propagation_sinks:
                        server.also_propagate(db.index, [b"XGROUP", b"CREATECONSUMER", key,
                                                         gname, cname])
                else:
                    consumer.seen_time = now
                entries = _group_read(c, v, key, gname, g, consumer, gt + 1, limit, noack, now)
                server.dirty += 1
            else:
                entries = _entries_reply(v.entries(gt + 1, MAX_ID, limit))
            return PairMap([[key, entries]])
        return None

    deadline = server.loop.time() + timeout_ms / 1000.0 if timeout_ms else 0
    blocked = server.blocking.block(c, order, deadline, retry, NULL_ARRAY)
    if group_mode:
        c.blocked.unblock_on_delete = True
    return blocked


@command("xread", -4, "readonly blocking", 0, 0, 0, group="stream", since="5.0.0",
         keys_fn=_streams_keys,
         summary="Reads entries newer than given IDs from one or more streams, optionally waiting.")
def xread(c, argv):
    return _xread(c, argv, False)


@command("xreadgroup", -7, "write blocking", 0, 0, 0, group="stream", since="5.0.0",
         keys_fn=lambda argv: _streams_keys(argv, 4),
         summary="Reads entries from streams as a consumer of a group, optionally waiting.")
def xreadgroup(c, argv):
    return _xread(c, argv, True)


# --- consumer groups ------------------------------------------------------------------------------

container("xgroup", group="stream", since="5.0.0", summary="Consumer group management.")


def _xgroup_prelude(c, argv, sub: bytes):
    """Options, key and group checks shared by the XGROUP subcommands (as xgroupCommand)."""
    n = len(argv)
    mkstream = False
    entries_read = INVALID_ENTRIES_READ
    i = 5
    while i < n:
        opt = argv[i].lower()
        if sub == b"create" and opt == b"mkstream":
            mkstream = True
            i += 1
        elif sub in (b"create", b"setid") and opt == b"entriesread" and i + 1 < n:
            entries_read = parse_int(argv[i + 1])
            if entries_read < 0 and entries_read != INVALID_ENTRIES_READ:
                err(b"ERR value for ENTRIESREAD must be positive or -1")
            i += 2
        else:
            _subcommand_error(argv)
    s = _lookup_write(c, argv[2])
    g = None
    if not mkstream:
        if s is None:
            err(XGROUP_NEEDS_KEY)
        g = s.groups.get(argv[3])
        if g is None and sub in (b"setid", b"createconsumer", b"delconsumer"):
            err(b"NOGROUP No such consumer group '%s' for key name '%s'" % (argv[3], argv[2]))
    return s, g, entries_read


@command("xgroup|create", -5, "write denyoom", 2, 2, 1, group="stream", since="5.0.0",
         summary="Creates a consumer group.")
def xgroup_create(c, argv):
    s, _, entries_read = _xgroup_prelude(c, argv, b"create")
    if len(argv) > 8:
        _subcommand_error(argv)
    key, gname = argv[2], argv[3]
    if argv[4] == b"$":
        gid = 0 if s is None else s.last_id
    else:
        gid = parse_id(argv[4], 0, True)
    server = c.server
    if s is None:
        s = _create(c, key)
        server.signal_modified(c.db, key)
        server.signal_ready(c.db, key)
    if gname in s.groups:
        err(b"BUSYGROUP Consumer Group name already exists")
    s.groups[gname] = Group(gid, entries_read)
    server.dirty += 1
    server.notify(N_STREAM, b"xgroup-create", key, c.db.index)
    return OK


@command("xgroup|setid", -5, "write", 2, 2, 1, group="stream", since="5.0.0",
         summary="Sets the last-delivered ID of a consumer group.")
def xgroup_setid(c, argv):
    s, g, entries_read = _xgroup_prelude(c, argv, b"setid")
    if len(argv) not in (5, 7):
        _subcommand_error(argv)
    g.last_id = s.last_id if argv[4] == b"$" else parse_id(argv[4], 0)
    g.entries_read = entries_read
    c.server.dirty += 1
    c.server.notify(N_STREAM, b"xgroup-setid", argv[2], c.db.index)
    return OK


@command("xgroup|destroy", 4, "write", 2, 2, 1, group="stream", since="5.0.0",
         summary="Deletes a consumer group.")
def xgroup_destroy(c, argv):
    s, g, _ = _xgroup_prelude(c, argv, b"destroy")
    if g is None:
        return 0
    del s.groups[argv[3]]
    server = c.server
    server.dirty += 1
    server.notify(N_STREAM, b"xgroup-destroy", argv[2], c.db.index)
    server.signal_ready(c.db, argv[2])   # blocked XREADGROUPs get NOGROUP
    return 1


@command("xgroup|createconsumer", 5, "write denyoom", 2, 2, 1, group="stream", since="6.2.0",
         summary="Creates a consumer in a consumer group.")
def xgroup_createconsumer(c, argv):
    _, g, _ = _xgroup_prelude(c, argv, b"createconsumer")
    if argv[4] in g.consumers:
        return 0
    _new_consumer(c, argv[2], g, argv[4], _now_ms())
    return 1


@command("xgroup|delconsumer", 5, "write", 2, 2, 1, group="stream", since="5.0.0",
         summary="Deletes a consumer from a consumer group.")
def xgroup_delconsumer(c, argv):
    _, g, _ = _xgroup_prelude(c, argv, b"delconsumer")
    if argv[4] not in g.consumers:
        return 0
    pending = g.delete_consumer(argv[4])
    c.server.dirty += 1
    c.server.notify(N_STREAM, b"xgroup-delconsumer", argv[2], c.db.index)
    return pending


_XGROUP_HELP = [
    "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
    "HELP",
    "    Prints this help.",
]


@command("xgroup|help", 2, "loading stale", group="stream", since="5.0.0",
         summary="Describes the XGROUP subcommands.")
def xgroup_help(c, argv):
    return [Status(line.encode()) for line in _XGROUP_HELP]


@command("xsetid", -3, "write denyoom fast", 1, 1, 1, group="stream", since="5.0.0",
         summary="Sets a stream's last ID and, optionally, its counters.")
def xsetid(c, argv):
    new_last = parse_id(argv[2], 0, True)
    max_deleted = 0
    entries_added = -1
    i = 3
    n = len(argv)
    while i < n:
        more = n - 1 - i
        opt = argv[i].lower()
        if opt == b"entriesadded" and more:
            entries_added = parse_int(argv[i + 1])
            if entries_added < 0:
                err(b"ERR entries_added must be positive")
            i += 2
        elif opt == b"maxdeletedid" and more:
            max_deleted = parse_id(argv[i + 1], 0, True)
            if new_last < max_deleted:
                err(b"ERR The ID specified in XSETID is smaller than the provided "
                    b"max_deleted_entry_id")
            i += 2
        else:
            err(SYNTAX)
    s = _lookup_write(c, argv[1])
    if s is None:
        err(NO_SUCH_KEY)
    if s.length:
        if new_last < s.last_valid_id():
            err(b"ERR The ID specified in XSETID is smaller than the target stream top item")
        if entries_added != -1 and s.length > entries_added:
            err(b"ERR The entries_added specified in XSETID is smaller than the target stream "
                b"length")
    s.last_id = new_last
    if entries_added != -1:
        s.entries_added = entries_added
    if max_deleted:
        s.max_deleted_id = max_deleted
    c.server.dirty += 1
    c.server.notify(N_STREAM, b"xsetid", argv[1], c.db.index)
    return OK


@command("xack", -4, "write fast", 1, 1, 1, group="stream", since="5.0.0",
         summary="Acknowledges pending entries of a consumer group.")
def xack(c, argv):
    s = get_typed(c, argv[1], STREAM)
    g = None if s is None else s.groups.get(argv[2])
    if g is None:
        return 0
    ids = [parse_id(a, 0, True) for a in argv[3:]]
    acked = 0
    for i in ids:
        if g.ack(i):
            acked += 1
    c.server.dirty += acked
    return acked


def _group_or_nogroup(c, argv) -> tuple:
    s = get_typed(c, argv[1], STREAM)
    g = None if s is None else s.groups.get(argv[2])
    if g is None:
        err(b"NOGROUP No such key '%s' or consumer group '%s'" % (argv[1], argv[2]))
    return s, g


@command("xpending", -3, "readonly", 1, 1, 1, group="stream", since="5.0.0",
         tips=("nondeterministic_output",),
         summary="Reports the pending entries of a consumer group.")
def xpending(c, argv):
    n = len(argv)
    if n != 3 and (n < 6 or n > 9):
        err(SYNTAX)
    minidle = 0
    cname = None
    if n >= 6:
        at = 3
        if argv[3].lower() == b"idle":
            minidle = parse_int(argv[4])
            if n < 8:
                err(SYNTAX)
            at = 5
        count = max(parse_int(argv[at + 2]), 0)
        start = _parse_start(argv[at])
        end = _parse_end(argv[at + 1])
        if at + 3 < n:
            cname = argv[at + 3]
    s, g = _group_or_nogroup(c, argv)
    if n == 3:
        if not g.pel:
            return [0, None, None, NULL_ARRAY]
        owners = [[cons.name, b"%d" % len(cons.pel)] for cons in g.sorted_consumers() if cons.pel]
        return [len(g.pel), format_id(g.pel_ids[0]), format_id(g.pel_ids[-1]), owners]
    if cname is not None:
        owner = g.consumers.get(cname)
        if owner is None:
            return []
        pel, pel_ids = owner.pel, owner.pel_ids
    else:
        pel, pel_ids = g.pel, g.pel_ids
    now = _now_ms()
    out = []
    if not count:
        return out
    for entry_id in pel_ids[bisect_left(pel_ids, start):]:
        if entry_id > end:
            break
        nack = pel[entry_id]
        idle = now - nack.delivery_time
        if minidle and idle < minidle:
            continue
        out.append([format_id(entry_id), nack.consumer.name, max(idle, 0), nack.delivery_count])
        if len(out) == count:
            break
    return out


@command("xclaim", -6, "write fast", 1, 1, 1, group="stream", since="5.0.0",
         tips=("nondeterministic_output",),
         summary="Transfers pending entries of a consumer group to another consumer.")
def xclaim(c, argv):
    s, g = _group_or_nogroup(c, argv)
    minidle = max(parse_int(argv[4], b"ERR Invalid min-idle-time argument for XCLAIM"), 0)
    n = len(argv)
    ids = []
    j = 5
    while j < n:
        i = _try_strict_id(argv[j])
        if i is None:
            break
        ids.append(i)
        j += 1
    server = c.server
    now = _now_ms()
    delivery = -1
    retrycount = -1
    force = justid = False
    last_id = 0
    while j < n:
        more = n - 1 - j
        opt = argv[j].lower()
        if opt == b"force":
            force = True
        elif opt == b"justid":
            justid = True
        elif opt == b"idle" and more:
            j += 1
            delivery = now - parse_int(argv[j], b"ERR Invalid IDLE option argument for XCLAIM")
        elif opt == b"time" and more:
            j += 1
            delivery = parse_int(argv[j], b"ERR Invalid TIME option argument for XCLAIM")
        elif opt == b"retrycount" and more:
            j += 1
            retrycount = parse_int(argv[j], b"ERR Invalid RETRYCOUNT option argument for XCLAIM")
        elif opt == b"lastid" and more:
            j += 1
            last_id = parse_id(argv[j], 0, True)
        else:
            err(b"ERR Unrecognized XCLAIM option '%s'" % argv[j])
        j += 1
    key, gname = argv[1], argv[2]
    propagate = bool(server.propagation_sinks)
    _no_self_propagation(server)
    propagate_last_id = False
    if last_id > g.last_id:
        g.last_id = last_id
        propagate_last_id = True
    if delivery < 0 or delivery > now:
        delivery = now   # absent or nonsensical times mean "delivered now"
    consumer = None
    out = []
    for k, entry_id in enumerate(ids):
        nack = g.pel.get(entry_id)
        entry_arg = argv[5 + k]
        fv = s.get(entry_id)
        if fv is None:
            if nack is not None:
                # The entry is gone: drop it from the PEL (replicated as the claim of nothing).
                if propagate:
                    _propagate_claim(c, key, gname, entry_arg, nack, g)
                propagate_last_id = False
                server.dirty += 1
                g.ack(entry_id)
            continue
        if force and nack is None:
            nack = g.force_pending(entry_id, now)
        if nack is None:
            continue
        if nack.consumer is not None and minidle and now - nack.delivery_time < minidle:
            continue
        if consumer is None:
            consumer = _get_or_create_consumer(c, key, g, argv[3], now)
        g.transfer(entry_id, nack, consumer)
        nack.delivery_time = delivery
        if retrycount >= 0:
            nack.delivery_count = retrycount
        elif not justid:
            nack.delivery_count += 1
        out.append(format_id(entry_id) if justid else [format_id(entry_id), fv])
        if propagate:
            _propagate_claim(c, key, gname, entry_arg, nack, g)
        propagate_last_id = False
        server.dirty += 1
    if propagate_last_id:
        if propagate:
            _propagate_group_id(c, key, gname, g)
        server.dirty += 1
    return out


@command("xautoclaim", -6, "write fast", 1, 1, 1, group="stream", since="6.2.0",
         tips=("nondeterministic_output",),
         summary="Transfers idle pending entries of a consumer group, scanning like a cursor.")
def xautoclaim(c, argv):
    minidle = max(parse_int(argv[4], b"ERR Invalid min-idle-time argument for XAUTOCLAIM"), 0)
    cursor = _parse_start(argv[5])
    count = 100
    justid = False
    n = len(argv)
    j = 6
    while j < n:
        more = n - 1 - j
        opt = argv[j].lower()
        if opt == b"count" and more:
            count = parse_int(argv[j + 1], b"ERR COUNT must be > 0")
            if not 1 <= count <= LONG_MAX // 16:
                err(b"ERR COUNT must be > 0")
            j += 1
        elif opt == b"justid":
            justid = True
        else:
            err(SYNTAX)
        j += 1
    s, g = _group_or_nogroup(c, argv)
    server = c.server
    key, gname = argv[1], argv[2]
    propagate = bool(server.propagation_sinks)
    _no_self_propagation(server)
    now = _now_ms()
    attempts = count * 10
    consumer = None
    claimed = []
    deleted = []
    pel_ids = g.pel_ids
    while attempts and count:
        attempts -= 1
        i = bisect_left(pel_ids, cursor)
        if i >= len(pel_ids):
            break
        entry_id = pel_ids[i]
        nack = g.pel[entry_id]
        fv = s.get(entry_id)
        if fv is None:
            if propagate:
                _propagate_claim(c, key, gname, format_id(entry_id), nack, g)
            server.dirty += 1
            g.ack(entry_id)
            deleted.append(format_id(entry_id))
            count -= 1
            continue
        cursor = entry_id + 1
        if minidle and now - nack.delivery_time < minidle:
            continue
        if consumer is None:
            consumer = _get_or_create_consumer(c, key, g, argv[3], now)
        g.transfer(entry_id, nack, consumer)
        nack.delivery_time = now
        if not justid:
            nack.delivery_count += 1
        claimed.append(format_id(entry_id) if justid else [format_id(entry_id), fv])
        count -= 1
        if propagate:
            _propagate_claim(c, key, gname, format_id(entry_id), nack, g)
        server.dirty += 1
    i = bisect_left(pel_ids, cursor)
    next_cursor = pel_ids[i] if i < len(pel_ids) else 0
    return [format_id(next_cursor), claimed, deleted]


# --- XINFO --------------------------------------------------------------------------------------

container("xinfo", group="stream", since="5.0.0", summary="Stream introspection.")


def _xinfo_stream_lookup(c, key):
    s = get_typed(c, key, STREAM)
    if s is None:
        err(NO_SUCH_KEY)
    return s


@command("xinfo|stream", -3, "readonly", 2, 2, 1, group="stream", since="5.0.0",
         summary="Describes a stream, optionally with all its entries and groups.")
def xinfo_stream(c, argv):
    s = _xinfo_stream_lookup(c, argv[2])
    opts = argv[3:]
    full = bool(opts)
    count = 10
    if full:
        if len(opts) not in (1, 3) or opts[0].lower() != b"full":
            _subcommand_error(argv)
        if len(opts) == 3:
            if opts[1].lower() != b"count":
                _subcommand_error(argv)
            count = parse_int(opts[2])
            if count < 0:
                count = 10
    info = {
        b"length": s.length,
        b"radix-tree-keys": s.node_count,
        b"radix-tree-nodes": s.rax_nodes,
        b"last-generated-id": format_id(s.last_id),
        b"max-deleted-entry-id": format_id(s.max_deleted_id),
        b"entries-added": s.entries_added,
        b"recorded-first-entry-id": format_id(s.first_id),
    }
    if not full:
        info[b"groups"] = len(s.groups)
        first = s.entries(0, MAX_ID, 1)
        last = s.entries(0, MAX_ID, 1, rev=True)
        info[b"first-entry"] = _entries_reply(first)[0] if first else None
        info[b"last-entry"] = _entries_reply(last)[0] if last else None
        return info
    info[b"entries"] = _entries_reply(s.entries(0, MAX_ID, count))
    groups = []
    for name, g in s.sorted_groups():
        pending = [[format_id(i), g.pel[i].consumer.name, g.pel[i].delivery_time,
                    g.pel[i].delivery_count] for i in (g.pel_ids[:count] if count else g.pel_ids)]
        consumers = []
        for cons in g.sorted_consumers():
            ids = cons.pel_ids[:count] if count else cons.pel_ids
            consumers.append({
                b"name": cons.name,
                b"seen-time": cons.seen_time,
                b"pel-count": len(cons.pel),
                b"pending": [[format_id(i), cons.pel[i].delivery_time, cons.pel[i].delivery_count]
                             for i in ids],
            })
        groups.append({
            b"name": name,
            b"last-delivered-id": format_id(g.last_id),
            b"entries-read": None if g.entries_read == INVALID_ENTRIES_READ else g.entries_read,
            b"lag": s.group_lag(g),
            b"pel-count": len(g.pel),
            b"pending": pending,
            b"consumers": consumers,
        })
    info[b"groups"] = groups
    return info


@command("xinfo|groups", 3, "readonly", 2, 2, 1, group="stream", since="5.0.0",
         summary="Lists the consumer groups of a stream.")
def xinfo_groups(c, argv):
    s = _xinfo_stream_lookup(c, argv[2])
    return [{
        b"name": name,
        b"consumers": len(g.consumers),
        b"pending": len(g.pel),
        b"last-delivered-id": format_id(g.last_id),
        b"entries-read": None if g.entries_read == INVALID_ENTRIES_READ else g.entries_read,
        b"lag": s.group_lag(g),
    } for name, g in s.sorted_groups()]


@command("xinfo|consumers", 4, "readonly", 2, 2, 1, group="stream", since="5.0.0",
         tips=("nondeterministic_output",),
         summary="Lists the consumers of a consumer group.")
def xinfo_consumers(c, argv):
    s = _xinfo_stream_lookup(c, argv[2])
    g = s.groups.get(argv[3])
    if g is None:
        err(b"NOGROUP No such consumer group '%s' for key name '%s'" % (argv[3], argv[2]))
    now = _now_ms()
    return [{b"name": cons.name, b"pending": len(cons.pel), b"idle": max(now - cons.seen_time, 0)}
            for cons in g.sorted_consumers()]


_XINFO_HELP = [
    "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
    "HELP",
    "    Prints this help.",
]


@command("xinfo|help", 2, "loading stale", group="stream", since="5.0.0",
         summary="Describes the XINFO subcommands.")
def xinfo_help(c, argv):
    return [Status(line.encode()) for line in _XINFO_HELP]
