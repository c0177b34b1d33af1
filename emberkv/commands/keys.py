"""Generic keyspace commands: DEL, EXISTS, TYPE, RENAME, COPY, MOVE, SCAN, EXPIRE family, OBJECT..."""

from __future__ import annotations

from ..protocol.reply import OK, Error, Status
from ..server.server import N_GENERIC
from ..util.glob import glob_matcher
from .common import (DB_INDEX, LLONG_MAX, LLONG_MIN, NO_SUCH_KEY, SYNTAX, err, lookup_read,
                     parse_int, try_int, type_name)
from .registry import command, container


def delete_key(c, db, key, event=b"del") -> bool:
    if db.delete(key):
        server = c.server
        server.signal_modified(db, key)
        server.notify(N_GENERIC, event, key, db.index)
        server.dirty += 1
        return True
    return False


def free_effort(v) -> int:
    """Roughly how many allocations freeing ``v`` costs (Redis's lazyfreeGetFreeEffort)."""
    if type(v) is bytes:
        return 1
    if v.kind == b"stream":
        return getattr(v, "node_count", len(v)) + len(getattr(v, "groups", ()) or ())
    if v.kind == b"list":
        return len(v) // 128 + 1
    return len(v)


LAZYFREE_THRESHOLD = 64


def _delete_keys(c, argv, lazy: bool) -> int:
    db = c.db
    server = c.server
    n = 0
    for key in argv[1:]:
        v = db.lookup_notouch(key)
        if v is not None and delete_key(c, db, key):
            n += 1
            if lazy and free_effort(v) > LAZYFREE_THRESHOLD:
                server.free_lazily(v)
    return n


@command("del", -2, "write", 1, -1, 1, acl="@keyspace", summary="Deletes one or more keys.")
def del_(c, argv):
    return _delete_keys(c, argv, c.server.config.lazyfree_lazy_user_del)


@command("unlink", -2, "write fast", 1, -1, 1, acl="@keyspace", since="4.0.0",
         summary="Asynchronously deletes one or more keys.")
def unlink(c, argv):
    return _delete_keys(c, argv, True)


@command("exists", -2, "readonly fast", 1, -1, 1, acl="@keyspace", since="1.0.0",
         summary="Determines whether one or more keys exist.")
def exists(c, argv):
    n = 0
    for key in argv[1:]:
        if lookup_read(c, key, touch=False) is not None:
            n += 1
    return n


@command("type", 2, "readonly fast", 1, 1, 1, acl="@keyspace", summary="Determines the type of value stored at a key.")
def type_(c, argv):
    v = lookup_read(c, argv[1], touch=False)
    if v is None:
        return Status(b"none")
    return Status(type_name(v))


@command("touch", -2, "readonly fast", 1, -1, 1, acl="@keyspace", since="3.2.1",
         summary="Returns the number of existing keys out of those specified after updating the time they were last accessed.")
def touch(c, argv):
    n = 0
    for key in argv[1:]:
        if lookup_read(c, key) is not None:
            n += 1
    return n


def _rename(c, argv, nx: bool):
    db = c.db
    src, dst = argv[1], argv[2]
    v = db.lookup_notouch(src)
    if v is None:
        err(NO_SUCH_KEY)
    if src == dst:
        return 0 if nx else OK
    expire = db.get_expire(src)
    if db.lookup_notouch(dst) is not None:
        if nx:
            return 0
        db.delete(dst)
    db.pop(src)
    db.set(dst, v)
    if expire is not None:
        db.set_expire(dst, expire)
    server = c.server
    server.signal_modified(db, src)
    server.signal_modified(db, dst)
    server.notify(N_GENERIC, b"rename_from", src, db.index)
    server.notify(N_GENERIC, b"rename_to", dst, db.index)
    server.signal_ready(db, dst)
    server.dirty += 1
    return 1 if nx else OK


@command("rename", 3, "write", 1, 2, 1, acl="@keyspace", summary="Renames a key and overwrites the destination.")
def rename(c, argv):
    return _rename(c, argv, False)


@command("renamenx", 3, "write fast", 1, 2, 1, acl="@keyspace", summary="Renames a key only when the target key name doesn't exist.")
def renamenx(c, argv):
    return _rename(c, argv, True)


def copy_value(v):
    return v if type(v) is bytes else v.copy()


@command("copy", -3, "write denyoom", 1, 2, 1, acl="@keyspace", since="6.2.0",
         summary="Copies the value of a key to a new key.")
def copy(c, argv):
    server = c.server
    src, dst = argv[1], argv[2]
    dstdb = c.db
    replace = False
    i = 3
    while i < len(argv):
        opt = argv[i].lower()
        if opt == b"replace":
            replace = True
            i += 1
        elif opt == b"db" and i + 1 < len(argv):
            idx = try_int(argv[i + 1])
            if idx is None or not 0 <= idx < len(server.dbs):
                err(DB_INDEX if idx is not None else b"ERR value is not an integer or out of range")
            dstdb = server.dbs[idx]
            i += 2
        else:
            err(SYNTAX)
    if src == dst and dstdb is c.db:
        err(b"ERR source and destination objects are the same")
    v = lookup_read(c, src)
    if v is None:
        return 0
    if dstdb.lookup_notouch(dst) is not None:
        if not replace:
            return 0
        dstdb.delete(dst)
    expire = c.db.get_expire(src)
    dstdb.set(dst, copy_value(v))
    if expire is not None:
        dstdb.set_expire(dst, expire)
    server.signal_modified(dstdb, dst)
    server.notify(N_GENERIC, b"copy_to", dst, dstdb.index)
    server.signal_ready(dstdb, dst)
    server.dirty += 1
    return 1


@command("move", 3, "write fast", 1, 1, 1, acl="@keyspace", summary="Moves a key to another database.")
def move(c, argv):
    server = c.server
    idx = try_int(argv[2])
    if idx is None or not 0 <= idx < len(server.dbs):
        err(DB_INDEX if idx is not None else b"ERR value is not an integer or out of range")
    dst = server.dbs[idx]
    src = c.db
    if dst is src:
        err(b"ERR source and destination objects are the same")
    key = argv[1]
    v = src.lookup_notouch(key)
    if v is None:
        return 0
    if dst.lookup_notouch(key) is not None:
        return 0
    expire = src.get_expire(key)
    src.pop(key)
    dst.set(key, v)
    if expire is not None:
        dst.set_expire(key, expire)
    server.signal_modified(src, key)
    server.signal_modified(dst, key)
    server.notify(N_GENERIC, b"move_from", key, src.index)
    server.notify(N_GENERIC, b"move_to", key, dst.index)
    server.signal_ready(dst, key)
    server.dirty += 1
    return 1


@command("swapdb", 3, "write fast", acl="@keyspace @dangerous", since="4.0.0",
         summary="Swaps two Redis databases.")
def swapdb(c, argv):
    server = c.server
    a = try_int(argv[1])
    if a is None:
        err(b"ERR invalid first DB index")
    b = try_int(argv[2])
    if b is None:
        err(b"ERR invalid second DB index")
    n = len(server.dbs)
    if not (0 <= a < n and 0 <= b < n):
        err(DB_INDEX)
    if a != b:
        da, dbb = server.dbs[a], server.dbs[b]
        server.signal_swapped(a, b)
        da.swap_contents(dbb)
        # Clients blocked on keys that now exist in the swapped db must be retried.
        for (idx, key) in list(server.blocking.waiting):
            if idx in (a, b):
                server.signal_ready(server.dbs[idx], key)
        server.dirty += 1
    return OK


@command("keys", 2, "readonly", acl="@keyspace @dangerous", summary="Returns all key names that match a pattern.")
def keys(c, argv):
    match = glob_matcher(argv[1])
    return [k for k in c.db.iter_keys() if match(k)]


def parse_scan_cursor(b: bytes) -> int:
    """strtoul rules, as Redis parses cursors: a sign is allowed ("-1" wraps to 2**64-1),
    "" reads as 0, leading blanks and anything after the digits are rejected."""
    s = b.split(b"\x00", 1)[0]
    digits = s[1:] if s[:1] in (b"+", b"-") else s
    if not s:
        return 0
    if not digits.isdigit() or int(digits) > 2**64 - 1:
        err(b"ERR invalid cursor")
    v = int(digits)
    return (2**64 - v) % 2**64 if s[:1] == b"-" else v


def parse_scan_options(argv, start: int, allow_type: bool = False, allow_novalues: bool = False):
    """MATCH / COUNT / TYPE (/ NOVALUES) options shared by SCAN, SSCAN, HSCAN, ZSCAN."""
    pattern = None
    count = 10
    typ = None
    novalues = False
    i = start
    while i < len(argv):
        opt = argv[i].lower()
        more = len(argv) - i - 1
        if opt == b"count" and more >= 1:
            count = parse_int(argv[i + 1])
            if count < 1:
                err(SYNTAX)
            i += 2
        elif opt == b"match" and more >= 1:
            pattern = argv[i + 1]
            i += 2
        elif opt == b"type" and more >= 1 and allow_type:
            typ = argv[i + 1].lower()
            i += 2
        elif opt == b"novalues" and allow_novalues:
            novalues = True
            i += 1
        else:
            err(SYNTAX)
    return pattern, count, typ, novalues


@command("scan", -2, "readonly", acl="@keyspace", since="2.8.0",
         summary="Iterates over the key names in the database.")
def scan(c, argv):
    cursor = parse_scan_cursor(argv[1])
    pattern, count, typ, _ = parse_scan_options(argv, 2, allow_type=True)
    db = c.db
    nxt, batch = db.scan(cursor, count)
    match = glob_matcher(pattern) if pattern is not None and pattern != b"*" else None
    out = []
    for k in batch:
        if match is not None and not match(k):
            continue
        v = db.lookup_notouch(k)
        if v is None:
            continue
        if typ is not None and type_name(v) != typ:
            continue
        out.append(k)
    return [b"%d" % nxt, out]


@command("randomkey", 1, "readonly", acl="@keyspace", summary="Returns a random key name from the database.")
def randomkey(c, argv):
    return c.db.random_key()


@command("dbsize", 1, "readonly fast", acl="@keyspace", summary="Returns the number of keys in the database.")
def dbsize(c, argv):
    return len(c.db)


def _flush_mode(argv):
    if len(argv) > 2:
        err(SYNTAX)
    if len(argv) == 2 and argv[1].lower() not in (b"async", b"sync"):
        err(SYNTAX)


@command("flushdb", -1, "write", acl="@keyspace @dangerous", summary="Removes all keys from the current database.")
def flushdb(c, argv):
    _flush_mode(argv)
    server = c.server
    server.signal_flushed(c.db.index)
    n = c.db.clear()
    server.dirty += n
    server.also_propagate(c.db.index, [b"FLUSHDB"])
    return OK


@command("flushall", -1, "write", acl="@keyspace @dangerous", summary="Removes all keys from all databases.")
def flushall(c, argv):
    _flush_mode(argv)
    server = c.server
    server.signal_flushed(None)
    n = 0
    for db in server.dbs:
        n += db.clear()
    server.dirty += n + 1
    server.also_propagate(c.db.index, [b"FLUSHALL"])
    for hook in getattr(server, "flushall_hooks", ()):
        hook()
    return OK


# --- expiry ------------------------------------------------------------------------------------

def _expire_generic(c, argv, basetime: int, unit_seconds: bool):
    server = c.server
    key = argv[1]
    when = parse_int(argv[2])
    nx = xx = gt = lt = False
    for opt in argv[3:]:
        o = opt.lower()
        if o == b"nx":
            nx = True
        elif o == b"xx":
            xx = True
        elif o == b"gt":
            gt = True
        elif o == b"lt":
            lt = True
        else:
            err(b"ERR Unsupported option " + opt)
    if nx and (xx or gt or lt):
        err(b"ERR NX and XX, GT or LT options at the same time are not compatible")
    if gt and lt:
        err(b"ERR GT and LT options at the same time are not compatible")
    name = argv[0].lower()
    if unit_seconds:
        if when > LLONG_MAX // 1000 or when < -(-LLONG_MIN // 1000):
            err(b"ERR invalid expire time in '%s' command" % name)
        when *= 1000
    if when > LLONG_MAX - basetime:
        err(b"ERR invalid expire time in '%s' command" % name)
    when += basetime
    db = c.db
    if db.lookup_notouch(key) is None:
        return 0
    current = db.get_expire(key)
    if nx and current is not None:
        return 0
    if xx and current is None:
        return 0
    if gt and (current is None or when <= current):
        return 0
    if lt and current is not None and when >= current:
        return 0
    if when <= server.now_ms() and not server.loading and not server.is_replica():
        db.delete(key)
        server.signal_modified(db, key)
        server.notify(N_GENERIC, b"del", key, db.index)
        server.dirty += 1
        server.also_propagate(db.index, [b"DEL", key])
        return 1
    db.set_expire(key, when)
    server.signal_modified(db, key)
    server.notify(N_GENERIC, b"expire", key, db.index)
    server.dirty += 1
    server.also_propagate(db.index, [b"PEXPIREAT", key, b"%d" % when])
    return 1


@command("expire", -3, "write fast", 1, 1, 1, acl="@keyspace", summary="Sets the expiration time of a key in seconds.")
def expire(c, argv):
    return _expire_generic(c, argv, c.server.now_ms(), True)


@command("pexpire", -3, "write fast", 1, 1, 1, acl="@keyspace", since="2.6.0",
         summary="Sets the expiration time of a key in milliseconds.")
def pexpire(c, argv):
    return _expire_generic(c, argv, c.server.now_ms(), False)


@command("expireat", -3, "write fast", 1, 1, 1, acl="@keyspace", since="1.2.0",
         summary="Sets the expiration time of a key to a Unix timestamp.")
def expireat(c, argv):
    return _expire_generic(c, argv, 0, True)


@command("pexpireat", -3, "write fast", 1, 1, 1, acl="@keyspace", since="2.6.0",
         summary="Sets the expiration time of a key to a Unix milliseconds timestamp.")
def pexpireat(c, argv):
    return _expire_generic(c, argv, 0, False)


def _ttl_generic(c, argv, ms: bool, absolute: bool):
    db = c.db
    key = argv[1]
    if lookup_read(c, key, touch=False) is None:
        return -2
    when = db.get_expire(key)
    if when is None:
        return -1
    ttl = when if absolute else when - c.server.now_ms()
    if ttl < 0:
        ttl = 0
    return ttl if ms else (ttl + 500) // 1000


@command("ttl", 2, "readonly fast", 1, 1, 1, acl="@keyspace", summary="Returns the expiration time in seconds of a key.")
def ttl(c, argv):
    return _ttl_generic(c, argv, False, False)


@command("pttl", 2, "readonly fast", 1, 1, 1, acl="@keyspace", since="2.6.0",
         summary="Returns the expiration time in milliseconds of a key.")
def pttl(c, argv):
    return _ttl_generic(c, argv, True, False)


@command("expiretime", 2, "readonly fast", 1, 1, 1, acl="@keyspace", since="7.0.0",
         summary="Returns the expiration time of a key as a Unix timestamp.")
def expiretime(c, argv):
    return _ttl_generic(c, argv, False, True)


@command("pexpiretime", 2, "readonly fast", 1, 1, 1, acl="@keyspace", since="7.0.0",
         summary="Returns the expiration time of a key as a Unix milliseconds timestamp.")
def pexpiretime(c, argv):
    return _ttl_generic(c, argv, True, True)


@command("persist", 2, "write fast", 1, 1, 1, acl="@keyspace", since="2.2.0",
         summary="Removes the expiration time of a key.")
def persist(c, argv):
    db = c.db
    key = argv[1]
    if db.lookup_notouch(key) is None:
        return 0
    if db.persist(key):
        server = c.server
        server.signal_modified(db, key)
        server.notify(N_GENERIC, b"persist", key, db.index)
        server.dirty += 1
        return 1
    return 0


# --- OBJECT ----------------------------------------------------------------------------------------
container("object", since="2.2.3", summary="A container for object introspection commands.")


def string_encoding(v: bytes) -> bytes:
    if len(v) <= 20 and try_int(v) is not None:
        return b"int"
    return b"embstr" if len(v) <= 44 else b"raw"


def encoding_of(server, v) -> bytes:
    if type(v) is bytes:
        return string_encoding(v)
    return v.encoding(server.config)


@command("object|encoding", 3, "readonly", 2, 2, 1, acl="@keyspace", since="2.2.3",
         summary="Returns the internal encoding of a Redis object.")
def object_encoding(c, argv):
    v = c.db.lookup_notouch(argv[2])
    if v is None:
        return None
    return encoding_of(c.server, v)


@command("object|freq", 3, "readonly", 2, 2, 1, acl="@keyspace", since="4.0.0",
         summary="Returns the logarithmic access frequency counter of a Redis object.")
def object_freq(c, argv):
    v = c.db.lookup_notouch(argv[2])
    if v is None:
        return None
    if "lfu" not in c.server.config.maxmemory_policy:
        err(b"ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please "
            b"note that when switching between policies at runtime LRU and LFU data will take "
            b"some time to adjust.")
    return c.db.lfu.get(argv[2], 5) if hasattr(c.db, "lfu") else 0


@command("object|idletime", 3, "readonly", 2, 2, 1, acl="@keyspace", since="2.2.3",
         summary="Returns the time since the last access to a Redis object.")
def object_idletime(c, argv):
    v = c.db.lookup_notouch(argv[2])
    if v is None:
        return None
    if "lfu" in c.server.config.maxmemory_policy:
        err(b"ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that "
            b"when switching between policies at runtime LRU and LFU data will take some time "
            b"to adjust.")
    return c.db.idle_ms(argv[2]) // 1000


@command("object|refcount", 3, "readonly", 2, 2, 1, acl="@keyspace", since="2.2.3",
         summary="Returns the reference count of a value of a key.")
def object_refcount(c, argv):
    v = c.db.lookup_notouch(argv[2])
    if v is None:
        return None
    if type(v) is bytes and len(v) <= 5 and try_int(v) is not None and 0 <= int(v) < 10000:
        return 2147483647  # shared integers, as Redis reports OBJ_SHARED_REFCOUNT
    return 1


@command("object|help", 2, "loading stale", acl="@keyspace", since="6.2.0",
         summary="Returns helpful text about the different subcommands.")
def object_help(c, argv):
    lines = [
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        "HELP",
        "    Print this help.",
    ]
    return [Status(l.encode()) for l in lines]
