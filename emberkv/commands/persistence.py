"""Persistence commands: SAVE, BGSAVE, BGREWRITEAOF, DUMP, RESTORE, MIGRATE, INFO persistence."""

from __future__ import annotations

import socket
import time

from ..persistence import aof as _aof  # noqa: F401  (registers the AOF subsystem)
from ..persistence import snapshot as _snapshot  # noqa: F401  (registers the RDB subsystem)
from ..persistence.convert import encoding_limits, from_neutral, to_neutral
from ..persistence.rdb import RDBError, dump_payload, restore_payload
from ..protocol.reply import OK, Error, Status
from ..server.server import N_GENERIC, on_server_init
from .common import SYNTAX, err, lookup_read, parse_int
from .registry import command
from .server import info_section

BUSYKEY = b"BUSYKEY Target key name already exists."
MIGRATE_CACHE_ITEMS = 64
MIGRATE_CACHE_TTL = 10


# --- SAVE / BGSAVE / BGREWRITEAOF -------------------------------------------------------------

@command("save", 1, "admin noscript no_multi", group="server", since="1.0.0",
         summary="Synchronously saves the database(s) to disk.")
def save(c, argv):
    rdb = c.server.rdb
    if rdb.child is not None and rdb.child.kind == "rdb":
        err(b"ERR Background save already in progress")
    if rdb.save():
        return OK
    return Error(b"ERR")


@command("bgsave", -1, "admin noscript", group="server", since="1.0.0",
         summary="Asynchronously saves the database(s) to disk.")
def bgsave(c, argv):
    schedule = False
    if len(argv) > 1:
        if len(argv) == 2 and argv[1].lower() == b"schedule":
            schedule = True
        else:
            err(SYNTAX)
    rdb = c.server.rdb
    if rdb.child is not None and rdb.child.kind == "rdb":
        err(b"ERR Background save already in progress")
    if rdb.child is not None or c.in_exec:
        if schedule or c.in_exec:
            rdb.bgsave_scheduled = True
            return Status(b"Background saving scheduled")
        err(b"ERR Another child process is active (AOF?): can't BGSAVE right now. "
            b"Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.")
    if rdb.bgsave():
        return Status(b"Background saving started")
    return Error(b"ERR")


@command("bgrewriteaof", 1, "admin noscript", group="server", since="1.0.0",
         summary="Asynchronously rewrites the append-only file to disk.")
def bgrewriteaof(c, argv):
    server = c.server
    child = server.rdb.child
    aof = server.aof
    if child is not None and child.kind == "aof":
        err(b"ERR Background append only file rewriting already in progress")
    if child is not None or c.in_exec:
        aof.rewrite_scheduled = True
        aof.consecutive_failures = 0    # a manual request is not held back by earlier failures
        return Status(b"Background append only file rewriting scheduled")
    if aof.rewrite_background():
        return Status(b"Background append only file rewriting started")
    err(b"ERR Can't execute an AOF background rewriting. Please check the server logs for more "
        b"information.")


# --- INFO persistence -----------------------------------------------------------------------------

@info_section("persistence")
def _info_persistence(server):
    rdb = server.rdb
    fields = rdb.info_fields() + server.aof.info_fields()
    if server.loading and rdb.loading_info is not None:
        fields += rdb.loading_info.fields()
    return fields


# --- DUMP / RESTORE -----------------------------------------------------------------------------------

def serialize(server, value) -> bytes:
    config = server.config
    kind, neutral = to_neutral(value)
    return dump_payload(kind, neutral, compress=config.rdbcompression,
                        limits=encoding_limits(config))


@command("dump", 2, "readonly", 1, 1, 1, acl="@keyspace", since="2.6.0",
         summary="Returns a serialized representation of the value stored at a key.",
         tips=("nondeterministic_output",))
def dump(c, argv):
    v = lookup_read(c, argv[1])
    if v is None:
        return None
    return serialize(c.server, v)


@command("restore", -4, "write denyoom", 1, 1, 1, acl="@keyspace @dangerous", since="2.6.0",
         summary="Creates a key from the serialized representation of a value.")
def restore(c, argv):
    server = c.server
    replace = absttl = False
    idle = freq = -1
    i = 4
    while i < len(argv):
        opt = argv[i].lower()
        more = len(argv) - i - 1
        if opt == b"replace":
            replace = True
        elif opt == b"absttl":
            absttl = True
        elif opt == b"idletime" and more >= 1 and freq == -1:
            idle = parse_int(argv[i + 1])
            if idle < 0:
                err(b"ERR Invalid IDLETIME value, must be >= 0")
            i += 1
        elif opt == b"freq" and more >= 1 and idle == -1:
            freq = parse_int(argv[i + 1])
            if not 0 <= freq <= 255:
                err(b"ERR Invalid FREQ value, must be >= 0 and <= 255")
            i += 1
        else:
            err(SYNTAX)
        i += 1
    key = argv[1]
    db = c.db
    if not replace and db.lookup(key) is not None:
        err(BUSYKEY)
    ttl = parse_int(argv[2])
    if ttl < 0:
        err(b"ERR Invalid TTL value, must be >= 0")
    try:
        kind, neutral = restore_payload(argv[3])
        value = from_neutral(kind, neutral, server.config)
    except RDBError as e:
        if str(e) == "DUMP payload version or checksum are wrong":
            err(b"ERR DUMP payload version or checksum are wrong")
        err(b"ERR Bad data format")
    deleted = db.delete(key) if replace else False
    now = server.now_ms()
    if ttl and not absttl:
        ttl += now
    if ttl and ttl <= now and not server.loading and not server.is_replica():
        # Born expired: nothing to create, but a replaced key is gone.
        if deleted:
            server.also_propagate(db.index, [b"DEL", key])
            server.signal_modified(db, key)
            server.notify(N_GENERIC, b"del", key, db.index)
            server.dirty += 1
        return OK
    db.set(key, value)
    if ttl:
        db.set_expire(key, ttl)
        if not absttl:
            # Replicas and the AOF get the expiry as an absolute time.
            server.also_propagate(db.index, [argv[0], key, b"%d" % ttl] + argv[3:] + [b"ABSTTL"])
    if "lfu" in server.config.maxmemory_policy:
        if freq >= 0 and hasattr(db, "lfu"):
            db.lfu[key] = freq
    elif idle >= 0 and hasattr(db, "set_idle"):
        db.set_idle(key, idle)
    server.signal_modified(db, key)
    server.notify(N_GENERIC, b"restore", key, db.index)
    server.signal_ready(db, key)
    server.dirty += 1
    return OK


# --- MIGRATE -------------------------------------------------------------------------------------------

class _CachedSocket:
    __slots__ = ("sock", "last_dbid", "last_use", "pending")

    def __init__(self, sock):
        self.sock = sock
        self.last_dbid = -1
        self.last_use = time.time()
        self.pending = b""

    def readline(self) -> bytes:
        """One reply line (without CRLF); raises OSError on timeout or a closed connection."""
        while b"\r\n" not in self.pending:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed")
            self.pending += chunk
        line, self.pending = self.pending.split(b"\r\n", 1)
        return line


def _migrate_cache(server) -> dict:
    return server.migrate_sockets


def _migrate_socket(server, host: bytes, port: bytes, timeout_ms: int):
    cache = _migrate_cache(server)
    name = host + b":" + port
    cs = cache.get(name)
    if cs is not None:
        cs.last_use = time.time()
        return cs
    if len(cache) >= MIGRATE_CACHE_ITEMS:
        _close_cached(server, next(iter(cache)))
    try:
        sock = socket.create_connection((host.decode(), int(port)), timeout=timeout_ms / 1000)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    cs = cache[name] = _CachedSocket(sock)
    return cs


def _close_cached(server, name: bytes) -> None:
    cs = _migrate_cache(server).pop(name, None)
    if cs is not None:
        try:
            cs.sock.close()
        except OSError:
            pass


def _migrate_keys(argv) -> list:
    i = 6
    while i < len(argv):
        o = argv[i].lower()
        if o == b"auth":
            i += 1
        elif o == b"auth2":
            i += 2
        elif o == b"keys":
            if not argv[3]:
                return list(range(i + 1, len(argv)))
            break
        i += 1
    return [3]


def _bulk(parts: list) -> bytes:
    out = [b"*%d\r\n" % len(parts)]
    for p in parts:
        out.append(b"$%d\r\n%s\r\n" % (len(p), p))
    return b"".join(out)


@command("migrate", -6, "write", 3, 3, 1, acl="@keyspace @dangerous", since="2.6.0",
         summary="Atomically transfers a key from one Redis instance to another.",
         keys_fn=_migrate_keys, tips=("nondeterministic_output",))
def migrate(c, argv):
    server = c.server
    copy = replace = False
    username = password = None
    first_key, num_keys = 3, 1
    j = 6
    while j < len(argv):
        o = argv[j].lower()
        more = len(argv) - 1 - j
        if o == b"copy":
            copy = True
        elif o == b"replace":
            replace = True
        elif o == b"auth":
            if not more:
                err(SYNTAX)
            j += 1
            password = argv[j]
        elif o == b"auth2":
            if more < 2:
                err(SYNTAX)
            username, password = argv[j + 1], argv[j + 2]
            j += 2
        elif o == b"keys":
            if argv[3]:
                err(b"ERR When using MIGRATE KEYS option, the key argument must be set to the "
                    b"empty string")
            first_key = j + 1
            num_keys = len(argv) - j - 1
            break
        else:
            err(SYNTAX)
        j += 1
    timeout = parse_int(argv[5])
    dbid = parse_int(argv[4])
    if timeout <= 0:
        timeout = 1000
    db = c.db
    found = []
    for key in argv[first_key:first_key + num_keys]:
        v = lookup_read(c, key)
        if v is not None:
            found.append((key, v))
    if not found:
        return Status(b"NOKEY")
    may_retry = True
    while True:
        cs = _migrate_socket(server, argv[1], argv[2], timeout)
        if cs is None:
            err(b"IOERR error or timeout connecting to the client")
        cmd = []
        if password is not None:
            cmd.append(_bulk([b"AUTH", username, password] if username is not None
                             else [b"AUTH", password]))
        select = cs.last_dbid != dbid
        if select:
            cmd.append(_bulk([b"SELECT", b"%d" % dbid]))
        sent = []
        now = server.now_ms()
        for key, v in found:
            ttl = 0
            when = db.get_expire(key)
            if when is not None:
                ttl = when - now
                if ttl < 0:
                    continue
                ttl = max(ttl, 1)
            sent.append(key)
            parts = [b"RESTORE", key, b"%d" % ttl, serialize(server, v)]
            if replace:
                parts.append(b"REPLACE")
            cmd.append(_bulk(parts))
        write_error = False
        socket_error = False
        error_from_target = None
        acked = []
        read = 0
        timed_out = False
        try:
            cs.sock.settimeout(timeout / 1000)
            try:
                cs.sock.sendall(b"".join(cmd))
            except OSError:
                write_error = True
                raise
            auth_reply = cs.readline() if password is not None else b"+OK"
            select_reply = cs.readline() if select else b"+OK"
            for key in sent:
                reply = cs.readline()
                read += 1
                failed = next((r for r in (auth_reply, select_reply, reply) if r[:1] == b"-"), None)
                if failed is not None:
                    if error_from_target is None:
                        cs.last_dbid = -1
                        error_from_target = failed[1:]
                elif not copy:
                    acked.append(key)
        except OSError as e:
            socket_error = True
            timed_out = isinstance(e, socket.timeout)
        if not copy and acked:
            for key in acked:
                db.delete(key)
                server.signal_modified(db, key)
                server.notify(N_GENERIC, b"del", key, db.index)
                server.dirty += 1
            # Replicas and the AOF see the keys that left as a DEL.
            server.also_propagate(db.index, [b"DEL"] + acked)
        if socket_error:
            _close_cached(server, argv[1] + b":" + argv[2])
            if error_from_target is None and read == 0 and may_retry and not timed_out:
                may_retry = False
                continue
            if error_from_target is None:
                err(b"IOERR error or timeout %s to target instance"
                    % (b"writing" if write_error else b"reading"))
        if error_from_target is not None:
            err(b"ERR Target instance replied with error: " + error_from_target)
        cs.last_dbid = dbid
        return OK


def _close_idle_migrate_sockets(server) -> None:
    cache = server.migrate_sockets
    if not cache:
        return
    now = time.time()
    for name in [n for n, cs in cache.items() if now - cs.last_use > MIGRATE_CACHE_TTL]:
        _close_cached(server, name)


@on_server_init
def _install_migrate(server) -> None:
    server.migrate_sockets = {}
    server.cron_hooks.append(lambda: _close_idle_migrate_sockets(server))
