"""String commands."""

from __future__ import annotations

import math

from ..protocol.reply import OK, Error
from ..util.longdouble import add_ld, format_ld_human, parse_ld
from ..server.server import N_GENERIC, N_STRING
from .common import (LLONG_MAX, LLONG_MIN, NOT_FLOAT, NOT_INT, SYNTAX, WRONGTYPE, check_string_for_write,
                     err, format_float, get_string, lookup_read, parse_float, parse_int, read_miss,
                     try_int)
from .registry import command

MAX_STRING = b"ERR string exceeds maximum allowed size (proto-max-bulk-len)"


def _set_done(c, key):
    server = c.server
    server.signal_modified(c.db, key)
    server.notify(N_STRING, b"set", key, c.db.index)
    server.dirty += 1


def _parse_expire(c, argv, i, name, unit):
    """Absolute expiry in ms from an EX/PX/EXAT/PXAT argument."""
    v = parse_int(argv[i])
    if v <= 0:
        err(b"ERR invalid expire time in '%s' command" % name)
    if unit in (b"ex", b"exat"):
        if v > LLONG_MAX // 1000:
            err(b"ERR invalid expire time in '%s' command" % name)
        v *= 1000
    if unit in (b"ex", b"px"):
        now = c.server.now_ms()
        if v > LLONG_MAX - now:
            err(b"ERR invalid expire time in '%s' command" % name)
        v += now
    return v


@command("set", -3, "write denyoom", 1, 1, 1, group="string", summary="Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.")
def set_(c, argv):
    db = c.db
    key = argv[1]
    if len(argv) == 3:
        db.set(key, argv[2])
        server = c.server
        if server.watched_keys or server.tracking is not None or server.blocking.waiting:
            server.signal_modified(db, key)
        if server.notify_flags:
            server.notify(N_STRING, b"set", key, db.index)
        server.dirty += 1
        return OK
    nx = xx = get = keepttl = False
    expire = None
    unit = None
    i = 3
    n = len(argv)
    while i < n:
        opt = argv[i].lower()
        if opt == b"nx" and not xx:
            nx = True
        elif opt == b"xx" and not nx:
            xx = True
        elif opt == b"get":
            get = True
        elif opt == b"keepttl" and unit is None:
            keepttl = True
        elif opt in (b"ex", b"px", b"exat", b"pxat") and unit is None and not keepttl and i + 1 < n:
            unit = opt
            i += 1
            expire = i
        else:
            err(SYNTAX)
        i += 1
    if expire is not None:
        expire = _parse_expire(c, argv, expire, b"set", unit)
    old = lookup_read(c, key) if get else db.lookup(key)
    if get and old is not None and type(old) is not bytes:
        err(WRONGTYPE)
    if (nx and old is not None) or (xx and old is None):
        return old if get else None
    db.set(key, argv[2], keepttl=keepttl)
    _set_done(c, key)
    server = c.server
    if expire is not None:
        db.set_expire(key, expire)
        server.notify(N_GENERIC, b"expire", key, db.index)
        if unit != b"pxat":
            server.also_propagate(db.index, [b"SET", key, argv[2], b"PXAT", b"%d" % expire]
                                  + ([b"GET"] if get else []))
    return old if get else OK


@command("setnx", 3, "write denyoom fast", 1, 1, 1, group="string", summary="Set the string value of a key only when the key doesn't exist.")
def setnx(c, argv):
    if c.db.lookup(argv[1]) is not None:
        return 0
    c.db.set(argv[1], argv[2])
    _set_done(c, argv[1])
    return 1


def _setex(c, argv, unit):
    secs = parse_int(argv[2])
    if secs <= 0:
        err(b"ERR invalid expire time in '%s' command" % argv[0].lower())
    when = _parse_expire(c, argv, 2, argv[0].lower(), unit)
    db = c.db
    db.set(argv[1], argv[3])
    db.set_expire(argv[1], when)
    _set_done(c, argv[1])
    c.server.notify(N_GENERIC, b"expire", argv[1], db.index)
    c.server.also_propagate(db.index, [b"SET", argv[1], argv[3], b"PXAT", b"%d" % when])
    return OK


@command("setex", 4, "write denyoom", 1, 1, 1, group="string", since="2.0.0", summary="Sets the string value and expiration time of a key. Creates the key if it doesn't exist.")
def setex(c, argv):
    return _setex(c, argv, b"ex")


@command("psetex", 4, "write denyoom", 1, 1, 1, group="string", since="2.6.0", summary="Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist.")
def psetex(c, argv):
    return _setex(c, argv, b"px")


@command("get", 2, "readonly fast", 1, 1, 1, group="string", summary="Returns the string value of a key.")
def get(c, argv):
    v = c.db.lookup(argv[1])
    if v is None:
        c.server.stats.keyspace_misses += 1
        if c.server.notify_flags:
            c.server.notify(1 << 12, b"keymiss", argv[1], c.db.index)
        return None
    c.server.stats.keyspace_hits += 1
    if type(v) is not bytes:
        err(WRONGTYPE)
    return v


@command("getset", 3, "write denyoom fast", 1, 1, 1, group="string", summary="Returns the previous string value of a key after setting it to a new value.")
def getset(c, argv):
    old = get_string(c, argv[1])
    c.db.set(argv[1], argv[2])
    _set_done(c, argv[1])
    c.server.also_propagate(c.db.index, [b"SET", argv[1], argv[2]])
    return old


@command("getdel", 2, "write fast", 1, 1, 1, group="string", since="6.2.0", summary="Returns the string value of a key after deleting the key.")
def getdel(c, argv):
    v = get_string(c, argv[1])
    if v is None:
        return None
    db = c.db
    db.delete(argv[1])
    server = c.server
    server.signal_modified(db, argv[1])
    server.notify(N_GENERIC, b"del", argv[1], db.index)
    server.dirty += 1
    server.also_propagate(db.index, [b"DEL", argv[1]])
    return v


@command("getex", -2, "write fast", 1, 1, 1, group="string", since="6.2.0", summary="Returns the string value of a key after setting its expiration time.")
def getex(c, argv):
    unit = None
    expire = None
    persist = False
    i = 2
    while i < len(argv):
        opt = argv[i].lower()
        if opt in (b"ex", b"px", b"exat", b"pxat") and unit is None and not persist and i + 1 < len(argv):
            unit = opt
            expire = i + 1
            i += 2
        elif opt == b"persist" and unit is None and not persist:
            persist = True
            i += 1
        else:
            err(SYNTAX)
    if expire is not None:
        expire = _parse_expire(c, argv, expire, b"getex", unit)
    key = argv[1]
    v = get_string(c, key)
    if v is None:
        return None
    db = c.db
    server = c.server
    if expire is not None:
        if expire <= server.now_ms() and not server.is_replica():
            db.delete(key)
            server.signal_modified(db, key)
            server.notify(N_GENERIC, b"del", key, db.index)
            server.also_propagate(db.index, [b"DEL", key])
        else:
            db.set_expire(key, expire)
            server.signal_modified(db, key)
            server.notify(N_GENERIC, b"expire", key, db.index)
            server.also_propagate(db.index, [b"PEXPIREAT", key, b"%d" % expire])
        server.dirty += 1
    elif persist:
        if db.persist(key):
            server.signal_modified(db, key)
            server.notify(N_GENERIC, b"persist", key, db.index)
            server.also_propagate(db.index, [b"PERSIST", key])
            server.dirty += 1
    return v


@command("mget", -2, "readonly fast", 1, -1, 1, group="string", summary="Atomically returns the string values of one or more keys.")
def mget(c, argv):
    lookup = c.db.lookup
    out = []
    misses = 0
    for key in argv[1:]:
        v = lookup(key)
        if v is None:
            read_miss(c, key)
            misses += 1
        out.append(v if type(v) is bytes else None)
    c.server.stats.keyspace_hits += len(out) - misses
    return out


@command("mset", -3, "write denyoom", 1, -1, 2, group="string", since="1.0.1", summary="Atomically creates or modifies the string values of one or more keys.")
def mset(c, argv):
    if len(argv) % 2 == 0:
        err(b"ERR wrong number of arguments for 'mset' command")
    db = c.db
    server = c.server
    if server.notify_flags:
        # Events interleave per key ("new" then "set"), as Redis emits them.
        for i in range(1, len(argv), 2):
            db.set(argv[i], argv[i + 1])
            _set_done(c, argv[i])
        return OK
    store = db.set
    for i in range(1, len(argv), 2):
        store(argv[i], argv[i + 1])
    if server.watched_keys or server.tracking is not None or server.blocking.waiting:
        for i in range(1, len(argv), 2):
            server.signal_modified(db, argv[i])
    server.dirty += len(argv) // 2
    return OK


@command("msetnx", -3, "write denyoom", 1, -1, 2, group="string", since="1.0.1", summary="Atomically modifies the string values of one or more keys only when all keys don't exist.")
def msetnx(c, argv):
    if len(argv) % 2 == 0:
        err(b"ERR wrong number of arguments for 'msetnx' command")
    db = c.db
    for i in range(1, len(argv), 2):
        if db.lookup(argv[i]) is not None:
            return 0
    for i in range(1, len(argv), 2):
        db.set(argv[i], argv[i + 1])
        _set_done(c, argv[i])
    return 1


def _check_size(c, size: int):
    if size > c.server.config.proto_max_bulk_len:
        err(MAX_STRING)


@command("append", 3, "write denyoom fast", 1, 1, 1, group="string", since="2.0.0", summary="Appends a string to the value of a key. Creates the key if it doesn't exist.")
def append(c, argv):
    key = argv[1]
    old = check_string_for_write(c, key)
    if old is None:
        new = argv[2]
    else:
        _check_size(c, len(old) + len(argv[2]))
        new = old + argv[2]
    c.db.set(key, new, keepttl=True)
    server = c.server
    server.signal_modified(c.db, key)
    server.notify(N_STRING, b"append", key, c.db.index)
    server.dirty += 1
    return len(new)


@command("strlen", 2, "readonly fast", 1, 1, 1, group="string", since="2.2.0", summary="Returns the length of a string value.")
def strlen(c, argv):
    v = get_string(c, argv[1])
    return 0 if v is None else len(v)


def _getrange(v: bytes, start: int, end: int) -> bytes:
    n = len(v)
    if start < 0 and end < 0 and start > end:
        return b""
    if start < 0:
        start = n + start
    if end < 0:
        end = n + end
    if start < 0:
        start = 0
    if end < 0:
        end = 0
    if end >= n:
        end = n - 1
    if start > end or n == 0:
        return b""
    return v[start:end + 1]


@command("getrange", 4, "readonly", 1, 1, 1, group="string", since="2.4.0", summary="Returns a substring of the string stored at a key.")
def getrange(c, argv):
    start = parse_int(argv[2])
    end = parse_int(argv[3])
    v = get_string(c, argv[1])
    if v is None:
        return b""
    return _getrange(v, start, end)


@command("substr", 4, "readonly", 1, 1, 1, group="string", since="1.0.0", summary="Returns a substring from a string value.")
def substr(c, argv):
    return getrange(c, argv)


@command("setrange", 4, "write denyoom", 1, 1, 1, group="string", since="2.2.0", summary="Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.")
def setrange(c, argv):
    key = argv[1]
    offset = parse_int(argv[2])
    value = argv[3]
    if offset < 0:
        err(b"ERR offset is out of range")
    old = check_string_for_write(c, key)
    if old is None:
        if not value:
            return 0
        _check_size(c, offset + len(value))
        new = bytes(offset) + value
    else:
        if not value:
            return len(old)
        _check_size(c, offset + len(value))
        buf = bytearray(old)
        if len(buf) < offset + len(value):
            buf.extend(bytes(offset + len(value) - len(buf)))
        buf[offset:offset + len(value)] = value
        new = bytes(buf)
    c.db.set(key, new, keepttl=True)
    server = c.server
    server.signal_modified(c.db, key)
    server.notify(N_STRING, b"setrange", key, c.db.index)
    server.dirty += 1
    return len(new)


def _incr(c, key, delta: int):
    db = c.db
    old = db.lookup(key)
    if old is None:
        cur = 0
    elif type(old) is not bytes:
        err(WRONGTYPE)
    elif old.isdigit() and len(old) < 19 and (old[0] != 48 or len(old) == 1):
        cur = int(old)  # the common case: a canonical non-negative integer
    else:
        cur = try_int(old) if len(old) <= 20 else None
        if cur is None:
            err(NOT_INT)
    new = cur + delta
    if new > LLONG_MAX or new < LLONG_MIN:
        err(b"ERR increment or decrement would overflow")
    nb = b"%d" % new
    db.set(key, nb, keepttl=True)
    server = c.server
    if server.watched_keys or server.tracking is not None:
        server.signal_modified(db, key)
    if server.notify_flags:
        server.notify(N_STRING, b"incrby", key, db.index)
    server.dirty += 1
    return new


@command("incr", 2, "write denyoom fast", 1, 1, 1, group="string", summary="Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.")
def incr(c, argv):
    return _incr(c, argv[1], 1)


@command("decr", 2, "write denyoom fast", 1, 1, 1, group="string", summary="Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.")
def decr(c, argv):
    return _incr(c, argv[1], -1)


@command("incrby", 3, "write denyoom fast", 1, 1, 1, group="string", summary="Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.")
def incrby(c, argv):
    return _incr(c, argv[1], parse_int(argv[2]))


@command("decrby", 3, "write denyoom fast", 1, 1, 1, group="string", summary="Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.")
def decrby(c, argv):
    d = parse_int(argv[2])
    if d == LLONG_MIN:
        err(b"ERR decrement would overflow")
    return _incr(c, argv[1], -d)


@command("incrbyfloat", 3, "write denyoom fast", 1, 1, 1, group="string", since="2.6.0", summary="Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.")
def incrbyfloat(c, argv):
    key = argv[1]
    old = check_string_for_write(c, key)
    nb = incr_long_double(old, argv[2], NOT_FLOAT)
    c.db.set(key, nb, keepttl=True)
    server = c.server
    server.signal_modified(c.db, key)
    server.notify(N_STRING, b"incrbyfloat", key, c.db.index)
    server.dirty += 1
    server.also_propagate(c.db.index, [b"SET", key, nb, b"KEEPTTL"])
    return nb


def incr_long_double(old: bytes | None, incr: bytes, value_error: bytes) -> bytes:
    """Redis's long double increment; returns the new value's text (shared with HINCRBYFLOAT)."""
    cur = parse_ld(old) if old is not None else 0
    if cur is None:
        err(value_error)
    inc = parse_ld(incr)
    if inc is None:
        err(NOT_FLOAT)
    new = add_ld(cur, inc)
    if isinstance(new, float) and (math.isinf(new) or math.isnan(new)):
        err(b"ERR increment would produce NaN or Infinity")
    return format_ld_human(new)


@command("lcs", -3, "readonly", 1, 2, 1, group="string", since="7.0.0", summary="Finds the longest common substring.")
def lcs(c, argv):
    getlen = getidx = withmatchlen = False
    minmatchlen = 0
    i = 3
    while i < len(argv):
        opt = argv[i].lower()
        if opt == b"idx":
            getidx = True
        elif opt == b"len":
            getlen = True
        elif opt == b"withmatchlen":
            withmatchlen = True
        elif opt == b"minmatchlen" and i + 1 < len(argv):
            minmatchlen = parse_int(argv[i + 1])
            if minmatchlen < 0:
                minmatchlen = 0
            i += 1
        else:
            err(SYNTAX)
        i += 1
    va = lookup_read(c, argv[1])
    vb = lookup_read(c, argv[2])
    if (va is not None and type(va) is not bytes) or (vb is not None and type(vb) is not bytes):
        err(b"ERR The specified keys must contain string values")
    a = va or b""
    b = vb or b""
    if getidx and getlen:
        err(b"ERR If you want both the length and indexes, please just use IDX.")
    n, m = len(a), len(b)
    # Dynamic programming table of LCS lengths, row by row (a[i-1], b[j-1]).
    table = [[0] * (m + 1) for _ in range(n + 1)]
    for i2 in range(1, n + 1):
        ai = a[i2 - 1]
        row, prev = table[i2], table[i2 - 1]
        for j in range(1, m + 1):
            if ai == b[j - 1]:
                row[j] = prev[j - 1] + 1
            else:
                row[j] = row[j - 1] if row[j - 1] > prev[j] else prev[j]
    length = table[n][m]
    if getlen:
        return length
    # Walk back from the end collecting the common string and the match ranges,
    # emitting a range when it stops being contiguous (Redis's exact walk).
    out = bytearray(length)
    idx = length
    i2, j = n, m
    matches = []
    none = n  # sentinel: no range in progress
    a_start = a_end = b_start = b_end = none
    while i2 > 0 and j > 0:
        emit = False
        if a[i2 - 1] == b[j - 1]:
            out[idx - 1] = a[i2 - 1]
            if a_start == none:
                a_start = a_end = i2 - 1
                b_start = b_end = j - 1
            elif a_start == i2 and b_start == j:
                a_start -= 1
                b_start -= 1
            else:
                emit = True
            if a_start == 0 or b_start == 0:
                emit = True
            idx -= 1
            i2 -= 1
            j -= 1
        else:
            if table[i2 - 1][j] > table[i2][j - 1]:
                i2 -= 1
            else:
                j -= 1
            if a_start != none:
                emit = True
        if emit:
            mlen = a_end - a_start + 1
            if minmatchlen == 0 or mlen >= minmatchlen:
                item = [[a_start, a_end], [b_start, b_end]]
                if withmatchlen:
                    item.append(mlen)
                matches.append(item)
            a_start = none
    if getidx:
        return {b"matches": matches, b"len": length}
    return bytes(out)
