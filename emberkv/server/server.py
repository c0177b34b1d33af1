"""The server: databases, clients, the command pipeline, cron, hooks for every subsystem."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections import deque
from time import perf_counter

from .. import __version__, REDIS_VERSION
from ..commands import registry
from ..config import (Config, NOTIFY_KEYEVENT, NOTIFY_KEYSPACE, NOTIFY_FLAGS)
from ..protocol.reply import CommandError, Error, Push, encode2
from .blocking import BLOCKED, BlockingManager
from .client import REPLY_OFF, REPLY_ON, REPLY_SKIP, REPLY_SKIP_NEXT
from .connection import Connection

# Keyspace-notification classes, as bit flags.
N_GENERIC = NOTIFY_FLAGS["g"]
N_STRING = NOTIFY_FLAGS["$"]
N_LIST = NOTIFY_FLAGS["l"]
N_SET = NOTIFY_FLAGS["s"]
N_HASH = NOTIFY_FLAGS["h"]
N_ZSET = NOTIFY_FLAGS["z"]
N_EXPIRED = NOTIFY_FLAGS["x"]
N_EVICTED = NOTIFY_FLAGS["e"]
N_STREAM = NOTIFY_FLAGS["t"]
N_KEYMISS = NOTIFY_FLAGS["m"]
N_MODULE = NOTIFY_FLAGS["d"]
N_NEW = NOTIFY_FLAGS["n"]

_PUBSUB_ALLOWED = {b"subscribe", b"unsubscribe", b"psubscribe", b"punsubscribe", b"ssubscribe",
                   b"sunsubscribe", b"ping", b"quit", b"reset"}
_MULTI_IMMEDIATE = {"exec", "discard", "multi", "watch", "quit", "reset"}
_MULTI_OOM_EXEMPT = {"exec", "discard", "quit", "reset"}
_LOG_LEVELS = {"debug": 0, "verbose": 1, "notice": 2, "warning": 3}
_LOG_MARK = {0: ".", 1: "-", 2: "*", 3: "#"}


class Stats:
    def __init__(self):
        self.reset()
        self.total_connections_received = 0
        self.rejected_connections = 0

    def reset(self):
        self.total_commands_processed = 0
        self.total_connections_received = getattr(self, "total_connections_received", 0)
        self.rejected_connections = getattr(self, "rejected_connections", 0)
        self.expired_keys = 0
        self.expired_stale_perc = 0.0
        self.expired_time_cap_reached_count = 0
        self.evicted_keys = 0
        self.evicted_clients = 0
        self.keyspace_hits = 0
        self.keyspace_misses = 0
        self.pubsub_channels = 0
        self.total_error_replies = 0
        self.unexpected_error_replies = 0
        self.dump_payload_sanitizations = 0
        self.total_reads_processed = 0
        self.total_writes_processed = 0
        self.client_qbuf_limit_disconnections = 0
        self.client_outbuf_limit_disconnections = 0
        self.sync_full = 0
        self.sync_partial_ok = 0
        self.sync_partial_err = 0
        self.net_input_bytes = 0
        self.net_output_bytes = 0
        self.total_active_defrag_time = 0
        self.io_threaded_reads_processed = 0
        self.io_threaded_writes_processed = 0
        self.expire_cycle_cpu_milliseconds = 0


class Server:
    def __init__(self, config: Config | None = None):
        self.config = config or Config()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.start_time = time.time()
        self.pid = os.getpid()
        self.run_id = os.urandom(20).hex()
        self.clients: dict[int, object] = {}
        self._next_id = 0
        self.stats = Stats()
        self.errorstats: dict[bytes, int] = {}
        self.dirty = 0
        self.lastsave = int(time.time())
        self.lru_clock = int(time.monotonic())
        self.touch_enabled = True
        self.lfu_enabled = False
        self.frozen_time_ms = None     # set while a script runs: time stands still
        self.paused_until = 0.0
        self.pause_all = False
        self.loading = False
        self.shutdown_asked = None
        self.monitors: list = []
        self.watched_keys: dict = {}   # (db, key) -> set[Client]
        self.tracking = None           # client-side caching table, when built
        self.acl = None                # ACL subsystem, when built
        self.propagation_sinks: list = []   # callables(db_index, argv)
        self.pending_propagate = None
        self.slowlog: deque = deque()
        self.slowlog_next_id = 0
        self.latency_events: dict = {}
        self.blocking = BlockingManager(self)
        self.listeners: list = []
        self.unix_listener = None
        self.cron_hooks: list = []     # callables run every cron tick
        self.shutdown_hooks: list = [] # callables(save: bool|None) before exit
        self.startup_hooks: list = []  # callables run once the listeners are up (data loading)
        self.flushall_hooks: list = [] # callables run after FLUSHALL emptied the databases
        self.command_gates: list = []  # callables(c, cmd) -> error bytes or None, while extra_gates
        self.before_reply = None       # callable(conn, data) before replies are written; True: it holds them
        self.ops_samples: deque = deque(maxlen=16)
        self._ops_last = (time.monotonic(), 0, 0, 0)
        self.instantaneous = (0, 0.0, 0.0)
        self.used_memory_cache = 0
        self.peak_memory = 0
        self.notify_flags = 0
        self.current_client = None
        self.exec_depth = 0
        self.commands_processed = 0
        self.lazyfree_queue: list = []
        self.lazyfreed_objects = 0
        self._qbuf_checked = 0.0
        self._commands = registry.COMMANDS
        self.gates = False
        self.extra_gates = False       # set by subsystems that need _gated checks
        self.slowlog_threshold = 10000
        self.latency_threshold = 0
        self._log_fh = None
        if self.config.engine == "disk":
            from ..engine.disk import open_databases
            self.dbs = open_databases(self)
        else:
            from ..engine.memory import MemoryDatabase
            self.dbs = [MemoryDatabase(i, self) for i in range(self.config.databases)]
        from .pubsub import PubSub
        self.pubsub = PubSub(self)
        self.config.listeners["notify-keyspace-events"] = self._set_notify
        self.config.listeners["maxmemory-policy"] = self._set_policy
        self.config.listeners["port"] = self._change_port
        self._set_notify(self.config.values["notify-keyspace-events"], 0)
        for name in ("maxmemory", "slowlog-log-slower-than", "latency-monitor-threshold"):
            self.config.listeners[name] = self.update_gates
        self.config.listeners["maxmemory"] = self._set_maxmemory
        self.update_gates()
        for init in _SUBSYSTEM_INITS:
            init(self)

    # --- engine hooks ---------------------------------------------------------------
    def now_ms(self) -> int:
        f = self.frozen_time_ms
        return f if f is not None else int(time.time() * 1000)

    def may_expire(self) -> bool:
        """Replicas and paused servers keep logically expired keys (they read as missing)."""
        if self.paused_until and time.monotonic() < self.paused_until:
            return False
        return not self.is_replica()

    def is_replica(self) -> bool:
        return False

    def key_expired(self, db, key) -> None:
        self.stats.expired_keys += 1
        self.notify(N_EXPIRED, b"expired", key, db.index)
        self.signal_modified(db, key, expired=True)
        self.propagate(db.index, [b"DEL", key])

    def lfu_touch(self, db, key) -> None:
        db.lfu[key] = min(255, db.lfu.get(key, 5) + 1)

    def _set_policy(self, value, old) -> None:
        self.lfu_enabled = "lfu" in value

    def _change_port(self, value, old) -> None:
        """CONFIG SET port: bind the new port first; keep the old listeners if that fails."""
        from ..config import ConfigError
        if self.loop is None or not self.loop.is_running():
            return
        socks = []
        try:
            for a in (self.config.bind.split() or ["*"]):
                host = a.lstrip("-")
                host = {"*": "0.0.0.0", "::*": "::"}.get(host, host)
                family = socket.AF_INET6 if ":" in host else socket.AF_INET
                sock = socket.socket(family, socket.SOCK_STREAM)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    sock.bind((host, value))
                except OSError:
                    sock.close()
                    if a.startswith("-"):
                        continue
                    raise
                sock.listen(self.config.tcp_backlog)
                sock.setblocking(False)
                socks.append(sock)
        except OSError:
            for sock in socks:
                sock.close()
            raise ConfigError("Unable to listen on this port. Check server logs.")
        for l in self.listeners:
            l.close()
        self.listeners = []

        async def serve(sock):
            srv = await self.loop.create_server(lambda: Connection(self), sock=sock)
            self.listeners.append(srv)
        for sock in socks:
            self.loop.create_task(serve(sock))

    # --- clients ---------------------------------------------------------------------
    def next_client_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def auth_required_for_default(self) -> bool:
        if self.acl is not None:
            return self.acl.default_requires_auth()
        return bool(self.config.requirepass)

    def accept_client(self, c) -> bool:
        self.stats.total_connections_received += 1
        if len(self.clients) >= self.config.maxclients:
            self.stats.rejected_connections += 1
            c.conn.transport.write(b"-ERR max number of clients reached\r\n")
            c.conn.close_after_flush()
            return False
        self.clients[c.id] = c
        return True

    def remove_client(self, c) -> None:
        self.clients.pop(c.id, None)
        self.blocking.client_gone(c)
        self.unwatch_all(c)
        if c.pubsub_count:
            self.pubsub.client_gone(c)
        if c.is_monitor:
            try:
                self.monitors.remove(c)
            except ValueError:
                pass
        if c.tracking is not None and self.tracking is not None:
            self.tracking.client_gone(c)

    # --- the command pipeline ------------------------------------------------------------
    def execute(self, c, argv: list) -> None:
        """Run one request from client ``c`` and queue its reply."""
        commands = self._commands
        cmd = commands.get(argv[0])
        if cmd is None:
            cmd = commands.get(argv[0].lower())
            if cmd is None:
                return self._reject(c, argv, None, _unknown_command(argv))
        if cmd.subcommands is not None:
            if len(argv) == 1:
                if cmd.func is None:
                    return self._reject(c, argv, cmd, _arity_error(cmd))
            else:
                sub = cmd.subcommands.get(argv[1].lower())
                if sub is None:
                    return self._reject(c, argv, cmd, _unknown_sub(argv))
                cmd = sub
        arity = cmd.arity
        n = len(argv)
        if (arity > 0 and arity != n) or n < -arity:
            return self._reject(c, argv, cmd, _arity_error(cmd))
        c.cur_cmd = cmd
        if self.gates or not c.authenticated or c.in_multi or (
                c.resp == 2 and (c.channels or c.patterns or c.shard_channels)):
            # Rare conditions, checked only when something is set.
            if self._gated(c, cmd, argv):
                return
        self.call(c, cmd, argv)
        if self.blocking.ready and self.exec_depth == 0:
            self.blocking.serve_ready()

    def _gated(self, c, cmd, argv) -> bool:
        """Checks that apply only in special states; True when the command was handled."""
        if not c.authenticated and not cmd.no_auth and self.auth_required_for_default():
            # Like Redis, a login is needed only while the default user has a password or is off.
            self._reject(c, argv, cmd, b"NOAUTH Authentication required.")
            return True
        if c.in_multi and cmd.no_multi:
            self._reject(c, argv, cmd, b"ERR Command not allowed inside a transaction")
            return True
        if self.acl is not None:
            err = self.acl.check_command(c, cmd, argv)
            if err is not None:
                self._reject(c, argv, cmd, err)
                return True
        if self.config.maxmemory:
            # Evict before any command, as Redis does; refuse only those that may grow memory.
            # Queueing inside MULTI uses memory too; EXEC is refused only for what it queued.
            if not self.free_memory_if_needed() and (
                    cmd.denyoom or (c.in_multi and cmd.name not in _MULTI_OOM_EXEMPT)
                    or (cmd.name == "exec" and any(q[0].denyoom for q in c.multi_queue))):
                self._reject(c, argv, cmd, b"OOM command not allowed when used memory > 'maxmemory'.")
                return True
        if self.extra_gates:
            for gate in self.command_gates:
                err = gate(c, cmd)
                if err is not None:
                    self._reject(c, argv, cmd, err)
                    return True
        if self.loading and not cmd.allow_loading:
            self._reject(c, argv, cmd, b"LOADING Redis is loading the dataset in memory")
            return True
        if c.resp == 2 and (c.channels or c.patterns or c.shard_channels) and \
                cmd.fullname.encode() not in _PUBSUB_ALLOWED:
            self._reject(c, argv, cmd, (
                "ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / "
                "RESET are allowed in this context" % cmd.fullname).encode())
            return True
        # A pause holds writes even before they would be queued in MULTI, as in Redis.
        if self.paused_until and self._pause_applies(c, cmd, argv):
            self.blocking.postpone(c, argv, cmd)
            return True
        if c.in_multi and cmd.name not in _MULTI_IMMEDIATE:
            c.multi_queue.append((cmd, argv))
            self.reply_to(c, _QUEUED)
            return True
        return False

    def _set_maxmemory(self, value, old) -> None:
        self.update_gates()
        if value and self.loop is not None:
            # As in Redis, a lower limit starts evicting now, not at the next write.
            self.loop.call_soon(self.free_memory_if_needed)

    def update_gates(self, *_args) -> None:
        """Recompute whether any rare per-command check is active (called when state changes)."""
        self.gates = bool((self.acl is not None and self.acl.enforcing) or self.config.maxmemory
                          or self.loading or self.paused_until or self.extra_gates)
        self.slowlog_threshold = self.config.slowlog_log_slower_than
        self.latency_threshold = self.config.latency_monitor_threshold

    def call(self, c, cmd, argv: list, send_reply: bool = True):
        """Execute ``cmd`` with stats, slowlog, monitor feed and propagation.

        The reply is queued to ``c`` and returned; EXEC passes ``send_reply=False``
        to collect the replies of its queued commands into one array.
        """
        dirty = self.dirty
        self.exec_depth += 1
        self.pending_propagate = None
        caller = self.current_client
        self.current_client = c
        t0 = perf_counter()
        try:
            reply = cmd.func(c, argv)
        except CommandError as e:
            reply = Error(e.message)
        except Exception as e:  # a bug must not take the server down
            self.log_warning("Error executing %r: %r" % (argv[:2], e))
            import traceback
            traceback.print_exc()
            reply = Error(b"ERR internal error: " + repr(e).encode()[:200])
        usec = (perf_counter() - t0) * 1e6
        self.exec_depth -= 1
        self.current_client = caller
        cmd.calls += 1
        cmd.usec += usec
        c.last_cmd = cmd
        self.commands_processed += 1
        rt = type(reply)
        if c.reply_mode == REPLY_ON and send_reply:
            # The two most common replies, written without a call into the encoder.
            if reply is _OK:
                c.out.append(b"+OK\r\n")
                rt = None
            elif rt is bytes:
                c.out.append(b"$%d\r\n%b\r\n" % (len(reply), reply))
                rt = None
        if rt is None:
            pass
        elif rt is Error:
            cmd.failed_calls += 1
            self.count_error_reply(reply, None)
            if send_reply:
                self.reply_to(c, reply)
        elif reply is BLOCKED:
            cmd.calls -= 1
            if c.blocked is not None and c.blocked.argv is None:
                c.blocked.argv = argv  # SLOWLOG shows the blocking command when it is served
        elif not send_reply:
            pass
        elif c.reply_mode == REPLY_ON:
            c.encode(reply, c.out)
        else:
            self.reply_to(c, reply)
        if c.tracking is not None:
            # Remember the keys it read; deliver invalidations deferred until after the reply.
            self.tracking.after_call(c, cmd, argv)
        if self.dirty != dirty and self.propagation_sinks:
            pending = self.pending_propagate
            if pending is None:
                self.propagate(c.db.index, argv)
            else:
                for item in pending:
                    self.propagate(item[0], item[1])
        if self.monitors and not cmd.skip_monitor and not cmd.admin:
            self.feed_monitors(c, argv)
        if usec >= self.slowlog_threshold >= 0 and not cmd.skip_slowlog:
            self.slowlog_add(c, argv, int(usec))
        if self.latency_threshold and usec >= self.latency_threshold * 1000:
            self.latency_add("fast-command" if cmd.fast else "command", int(usec) // 1000)
        return reply

    def run_retry(self, w):
        """Retry a blocked command (it runs as its client, with stats and propagation)."""
        c = w.client
        dirty = self.dirty
        self.pending_propagate = None
        caller = self.current_client
        self.current_client = c
        t0 = perf_counter()
        try:
            reply = w.retry()
        except CommandError as e:
            reply = Error(e.message)
        finally:
            self.current_client = caller
        if reply is not None:
            usec = (perf_counter() - t0) * 1e6
            if w.cmd is not None:
                w.cmd.calls += 1
                w.cmd.usec += usec
            if w.argv is not None and usec >= self.slowlog_threshold >= 0:
                self.slowlog_add(c, w.argv, int(usec))
            if self.dirty != dirty and self.propagation_sinks and self.pending_propagate:
                for item in self.pending_propagate:
                    self.propagate(item[0], item[1])
        return reply

    def _reject(self, c, argv, cmd, err: bytes) -> None:
        if cmd is not None:
            cmd.rejected_calls += 1
        if c.in_multi:
            c.multi_error = True
            if cmd is not None and cmd.name == "exec":
                # A refused EXEC ends the transaction, naming the reason.
                self.discard_transaction(c)
                err = b"EXECABORT Transaction discarded because of: " + err
        self.count_error(err.split(b" ", 1)[0])
        self.stats.total_error_replies += 1
        self.reply_to(c, Error(err))

    def _pause_applies(self, c, cmd, argv) -> bool:
        if time.monotonic() >= self.paused_until:
            self.unpause()
            return False
        if c.is_replica or c.is_master:
            return False
        if self.pause_all:
            return True
        if cmd.name == "exec":
            return any(self._may_write(q[0], q[1]) for q in c.multi_queue)
        return self._may_write(cmd, argv)

    def _may_write(self, cmd, argv) -> bool:
        """Write or may-replicate; scripts by the flags they declare (Redis's getCommandFlags)."""
        if cmd.group == "scripting" and len(argv) > 1:
            flags = self._declared_script_flags(cmd.name, argv[1])
            if flags is not None:
                from ..scripting.engine import EVAL_COMPAT, NO_WRITES
                if not flags & EVAL_COMPAT:
                    return not flags & NO_WRITES
        return cmd.is_write or cmd.may_replicate

    def _declared_script_flags(self, name: str, what: bytes):
        scripting = getattr(self, "scripting", None)
        if scripting is None:
            return None
        from ..scripting.engine import parse_shebang_flags, sha1hex
        if name in ("fcall", "fcall_ro"):
            fi = scripting.functions.get(what.lower())
            return fi.flags if fi is not None else None
        if name in ("evalsha", "evalsha_ro"):
            script = scripting.scripts.get(what) or scripting.scripts.get(what.lower())
            return script.flags if script is not None else None
        if name in ("eval", "eval_ro"):
            script = scripting.scripts.get(sha1hex(what))
            if script is not None:
                return script.flags
            try:
                return parse_shebang_flags(what)[0]
            except CommandError:
                return None
        return None

    def unpause(self) -> None:
        self.paused_until = 0.0
        self.pause_all = False
        self.update_gates()
        self.blocking.release_paused()

    def reply_to(self, c, reply) -> None:
        mode = c.reply_mode
        if mode == REPLY_ON:
            c.encode(reply, c.out)
        elif mode == REPLY_SKIP_NEXT:
            c.reply_mode = REPLY_SKIP
        elif mode == REPLY_SKIP:
            c.reply_mode = REPLY_ON

    def count_error(self, code: bytes) -> None:
        if len(self.errorstats) < 128 or code in self.errorstats:
            self.errorstats[code] = self.errorstats.get(code, 0) + 1
        else:
            self.errorstats[b"ERRORSTATS_DISABLED"] = 1

    def count_error_reply(self, reply: bytes, cmd) -> None:
        self.stats.total_error_replies += 1
        code = reply.split(b" ", 1)[0]
        self.count_error(code)
        if cmd is not None:
            cmd.failed_calls += 1

    # --- hooks for command bodies ---------------------------------------------------------
    def signal_modified(self, db, key, expired: bool = False) -> None:
        """A key changed: invalidate WATCH and client-side caches.

        ``expired`` is set when the key is being deleted because its TTL passed.
        """
        if self.watched_keys:
            k = (db.index, key)
            clients = self.watched_keys.get(k)
            if clients:
                for c in clients:
                    if c.watched.get(k):
                        # Watched while already expired: its deletion is no logical change.
                        if expired:
                            c.watched[k] = False
                            continue
                    c.watch_dirty = True
        if self.tracking is not None:
            self.tracking.invalidate(key, expired)
        if self.blocking.waiting:
            self.blocking.keys_deleted(db, key)

    def signal_flushed(self, db_index: int | None) -> None:
        """FLUSHDB/FLUSHALL, called before the data goes: watched keys that exist turn dirty."""
        for (idx, key), clients in list(self.watched_keys.items()):
            if db_index is None or idx == db_index:
                if self._key_state(self.dbs[idx], key) is not None:
                    self._touch_watchers(clients, (idx, key), None)
        if self.tracking is not None:
            self.tracking.invalidate_all()
        for idx, key in list(self.blocking.waiting):
            if db_index is None or idx == db_index:
                self.blocking.keys_deleted(self.dbs[idx], key)

    def signal_swapped(self, a: int, b: int) -> None:
        """SWAPDB, called before the swap: a watched key is touched if either side has it."""
        for (idx, key), clients in list(self.watched_keys.items()):
            if idx == a or idx == b:
                emptied = self._key_state(self.dbs[idx], key)
                replaced = self._key_state(self.dbs[b if idx == a else a], key)
                if emptied is not None or replaced is not None:
                    self._touch_watchers(clients, (idx, key), replaced, emptied is None)

    def _touch_watchers(self, clients, k, replaced, was_missing: bool = False) -> None:
        for c in list(clients):
            if c.watched.get(k):
                if replaced is None:
                    c.watched[k] = False    # an expired key is now gone: no logical change
                    continue
                if replaced == "stale":
                    continue                # still expired on the other side
            elif was_missing and replaced == "stale":
                c.watched[k] = True         # nothing replaced by an expired key
                continue
            c.watch_dirty = True

    def _key_state(self, db, key):
        """'live', 'stale' (past its TTL, not yet deleted) or None (absent), without expiring it."""
        when = db.get_expire(key)
        if when is not None and self.now_ms() > when:
            return "stale"
        return "live" if db.lookup_notouch(key) is not None else None

    def signal_ready(self, db, key) -> None:
        if self.blocking.waiting:
            self.blocking.signal_ready(db, key)

    def notify(self, cls: int, event: bytes, key: bytes, dbid: int) -> None:
        f = self.notify_flags
        if not (f & cls):
            return
        if f & NOTIFY_KEYSPACE:
            self.pubsub.publish(b"__keyspace@%d__:%s" % (dbid, key), event)
        if f & NOTIFY_KEYEVENT:
            self.pubsub.publish(b"__keyevent@%d__:%s" % (dbid, event), key)

    def _set_notify(self, value, old) -> None:
        self.notify_flags = value
        for db in self.dbs:
            db.notify_new = bool(value & N_NEW)

    def key_added(self, db, key) -> None:
        self.notify(N_NEW, b"new", key, db.index)

    def propagate(self, db_index: int, argv: list) -> None:
        for sink in self.propagation_sinks:
            sink(db_index, argv)

    def also_propagate(self, db_index: int, argv: list) -> None:
        """Replace the command's own propagation with these argvs (called by command bodies)."""
        if self.pending_propagate is None:
            self.pending_propagate = []
        self.pending_propagate.append((db_index, argv))

    # --- WATCH ------------------------------------------------------------------------------
    def watch(self, c, key) -> None:
        k = (c.db.index, key)
        if k in c.watched:
            return
        # Remember keys already expired when watched: EXEC ignores their expiry.
        c.watched[k] = self._key_state(c.db, key) == "stale"
        s = self.watched_keys.get(k)
        if s is None:
            s = self.watched_keys[k] = set()
        s.add(c)

    def watched_key_expired(self, c) -> bool:
        """True if a key that was alive when WATCHed has passed its TTL since."""
        for (idx, key), was_expired in c.watched.items():
            if not was_expired and self._key_state(self.dbs[idx], key) == "stale":
                return True
        return False

    def discard_transaction(self, c) -> None:
        c.in_multi = False
        c.multi_queue = []
        c.multi_error = False
        self.unwatch_all(c)

    def unwatch_all(self, c) -> None:
        for k in c.watched:
            s = self.watched_keys.get(k)
            if s is not None:
                s.discard(c)
                if not s:
                    del self.watched_keys[k]
        c.watched = {}
        c.watch_dirty = False

    # --- MONITOR / SLOWLOG / LATENCY -----------------------------------------------------------
    def feed_monitors(self, c, argv) -> None:
        now = time.time()
        if c.unix:
            origin = "unix:%s" % self.config.unixsocket
        else:
            origin = c.addr
        if c.in_script:
            origin = "lua"
        line = b"%.6f [%d %s] %s" % (now, c.db.index, origin.encode(),
                                      b" ".join(repr_arg(a) for a in argv))
        for m in list(self.monitors):
            if not m.closing:
                m.send_raw(b"+" + line + b"\r\n")

    def slowlog_add(self, c, argv, usec: int) -> None:
        maxlen = self.config.slowlog_max_len
        if maxlen <= 0:
            return
        args = []
        for i, a in enumerate(argv[:32]):
            if i == 31 and len(argv) > 32:
                args.append(b"... (%d more arguments)" % (len(argv) - 31))
                break
            if len(a) > 128:
                a = a[:128] + b"... (%d more bytes)" % (len(a) - 128)
            args.append(a)
        self.slowlog.appendleft((self.slowlog_next_id, int(time.time()), usec, args,
                                 c.addr.encode(), (c.name or b"")))
        self.slowlog_next_id += 1
        while len(self.slowlog) > maxlen:
            self.slowlog.pop()

    def latency_add(self, event: str, ms: int) -> None:
        now = int(time.time())
        hist = self.latency_events.get(event)
        if hist is None:
            hist = self.latency_events[event] = {"samples": deque(maxlen=160), "max": 0}
        s = hist["samples"]
        if s and s[-1][0] == now:
            if ms > s[-1][1]:
                s[-1] = (now, ms)
        else:
            s.append((now, ms))
        hist["max"] = max(hist["max"], ms)

    # --- memory ---------------------------------------------------------------------------------
    def used_memory(self) -> int:
        return _allocated_bytes() or self.used_memory_cache or _rss_bytes()

    def _estimate_memory(self, refresh: bool = False) -> int:
        return _allocated_bytes() or _rss_bytes()

    def free_memory_if_needed(self) -> bool:
        """Evict per maxmemory-policy until under maxmemory; False if still over."""
        from ..commands.memory import evict_until_ok
        return evict_until_ok(self)

    # --- logging ---------------------------------------------------------------------------------
    def log(self, level: int, msg: str) -> None:
        if level < _LOG_LEVELS.get(self.config.loglevel, 2):
            return
        now = time.time()
        ts = time.strftime("%d %b %Y %H:%M:%S", time.localtime(now)) + ".%03d" % (int(now * 1000) % 1000)
        line = "%d:M %s %s %s\n" % (self.pid, ts, _LOG_MARK[level], msg)
        fh = self._log_fh
        if fh is None:
            if self.config.logfile:
                try:
                    fh = self._log_fh = open(self.config.logfile, "a", buffering=1)
                except OSError:
                    fh = sys.stdout
            else:
                fh = sys.stdout
        try:
            fh.write(line)
            fh.flush()
        except Exception:
            pass

    def log_notice(self, msg: str) -> None:
        self.log(2, msg)

    def log_warning(self, msg: str) -> None:
        self.log(3, msg)

    def log_verbose(self, msg: str) -> None:
        self.log(1, msg)

    # --- cron -------------------------------------------------------------------------------------
    def cron(self) -> None:
        hz = max(1, min(500, self.config.hz or 10))
        try:
            self._cron_tick(hz)
        except Exception as e:  # keep the timer alive whatever happens
            self.log_warning("cron error: %r" % e)
        self.loop.call_later(1.0 / hz, self.cron)

    def _cron_tick(self, hz: int) -> None:
        self.lru_clock = int(time.monotonic())
        if self.paused_until and time.monotonic() >= self.paused_until:
            self.unpause()
        # Active expiry: about 25% of one tick's time, spread over the databases.
        if self.may_expire():
            started = time.monotonic()
            deadline = started + 0.25 / hz
            effort = self.config.active_expire_effort
            for db in self.dbs:
                if db.expires_count():
                    n = db.active_expire(deadline, batch=20 + 5 * (effort - 1))
                    if time.monotonic() > deadline:
                        self.stats.expired_time_cap_reached_count += 1
                        break
            spent_ms = int((time.monotonic() - started) * 1000)
            if self.latency_threshold and spent_ms >= self.latency_threshold:
                self.latency_add("expire-cycle", spent_ms)
        if self.lazyfree_queue:
            # Big values unlinked by UNLINK/FLUSH ASYNC are released here, off the command path.
            self.lazyfreed_objects += len(self.lazyfree_queue)
            self.lazyfree_queue = []
        self._resize_query_buffers()
        self._sample_ops()
        timeout = self.config.timeout
        if timeout:
            now = time.time()
            for c in list(self.clients.values()):
                if (c.blocked is None and not c.pubsub_count and not c.is_replica
                        and not c.is_master and now - c.last_interaction > timeout):
                    self.log_verbose("Closing idle client")
                    c.close("idle")
        for hook in self.cron_hooks:
            hook()
        if self.shutdown_asked is not None:
            self.finish_shutdown()

    def free_lazily(self, value) -> None:
        """Queue a big value for release by cron (UNLINK and the lazyfree-lazy-* options)."""
        self.lazyfree_queue.append(value)

    def _resize_query_buffers(self) -> None:
        """Redis's clientsCronResizeQueryBuffer, applied to the query-buffer accounting that
        CLIENT LIST reports: idle buffers are released, oversized ones shrink to their peak."""
        now = time.time()
        if now - self._qbuf_checked < 0.1 or not self.clients:
            return
        self._qbuf_checked = now
        for c in self.clients.values():
            if not c.qbuf:
                continue
            if now - c.last_interaction > 2:
                c.qbuf = 0
            elif c.qbuf > 32768 and c.qbuf // 2 > c.qbuf_peak:
                c.qbuf = max(c.qbuf_peak, 16384)
            c.qbuf_peak = 0

    def _sample_ops(self) -> None:
        now = time.monotonic()
        t, cmds, nin, nout = self._ops_last
        if now - t < 0.1:
            return
        tot_in = sum(c.tot_net_in for c in self.clients.values())
        tot_out = sum(c.tot_net_out for c in self.clients.values())
        self.stats.net_input_bytes = getattr(self, "_closed_in", 0) + tot_in
        self.stats.net_output_bytes = getattr(self, "_closed_out", 0) + tot_out
        dt = now - t
        ops = (self.commands_processed - cmds) / dt
        self.ops_samples.append(ops)
        self.instantaneous = (int(sum(self.ops_samples) / len(self.ops_samples)), 0.0, 0.0)
        self._ops_last = (now, self.commands_processed, tot_in, tot_out)
        self.used_memory_cache = _rss_bytes()
        calibrate_pymalloc()
        self.peak_memory = max(self.peak_memory, self.used_memory_cache)

    # --- start / stop ------------------------------------------------------------------------------
    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        cfg = self.config
        port = cfg.port
        if port:
            addrs = cfg.bind.split() or ["*"]
            for a in addrs:
                optional = a.startswith("-")
                host = a.lstrip("-")
                if host == "*":
                    host = "0.0.0.0"
                elif host == "::*":
                    host = "::"
                try:
                    srv = await self.loop.create_server(
                        lambda: Connection(self), host, port, reuse_address=True,
                        backlog=cfg.tcp_backlog)
                    self.listeners.append(srv)
                except OSError as e:
                    if optional:
                        continue
                    self.log_warning("Warning: Could not create server TCP listening socket %s:%d: %s"
                                     % (host, port, e.strerror))
                    raise SystemExit(1)
        if cfg.unixsocket:
            try:
                os.unlink(cfg.unixsocket)
            except OSError:
                pass
            srv = await self.loop.create_unix_server(lambda: Connection(self, unix=True),
                                                      cfg.unixsocket)
            if cfg.unixsocketperm:
                os.chmod(cfg.unixsocket, cfg.unixsocketperm)
            self.unix_listener = srv
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                self.loop.add_signal_handler(sig, self._on_signal, sig)
            except (NotImplementedError, RuntimeError):
                pass
        self.loop.call_later(0.1, self.cron)
        self.log_notice("Ready to accept connections")

    def _on_signal(self, sig) -> None:
        name = "SIGTERM" if sig == signal.SIGTERM else "SIGINT"
        self.log_warning("Received %s scheduling shutdown..." % name)
        self.shutdown_asked = None  # default: save if save points are set
        self.finish_shutdown(save=None)

    def finish_shutdown(self, save: bool | None = None) -> bool:
        """Save if asked (or save points are set and save is None), then stop the loop."""
        self.log_warning("User requested shutdown...")
        for hook in self.shutdown_hooks:
            try:
                if hook(save) is False:
                    return False
            except Exception as e:
                self.log_warning("Error during shutdown: %r" % e)
                return False
        if self.config.unixsocket:
            try:
                os.unlink(self.config.unixsocket)
            except OSError:
                pass
        if self.config.pidfile:
            try:
                os.unlink(self.config.pidfile)
            except OSError:
                pass
        self.log_warning("EmberKV is now ready to exit, bye bye...")
        for srv in self.listeners:
            srv.close()
        if self.unix_listener is not None:
            self.unix_listener.close()
        for c in list(self.clients.values()):
            if c.conn is not None:
                c.conn.close_after_flush()
        self.loop.call_soon(self.loop.stop)
        return True


# Subsystems (ACL, tracking, persistence...) register an initializer here.
_SUBSYSTEM_INITS: list = []


def on_server_init(fn):
    _SUBSYSTEM_INITS.append(fn)
    return fn


from ..protocol.reply import OK as _OK, QUEUED as _QUEUED  # noqa: E402


def _unknown_command(argv) -> bytes:
    args = b""
    for a in argv[1:]:
        if len(args) >= 128:
            break
        args += b"'" + a[:128 - len(args)] + b"' "
    msg = b"ERR unknown command '" + argv[0][:128] + b"', with args beginning with: " + args
    return msg.replace(b"\r", b" ").replace(b"\n", b" ")


def _unknown_sub(argv) -> bytes:
    msg = (b"ERR unknown subcommand '" + argv[1][:128] + b"'. Try " + argv[0].upper() + b" HELP.")
    return msg.replace(b"\r", b" ").replace(b"\n", b" ")


def _arity_error(cmd) -> bytes:
    return b"ERR wrong number of arguments for '%s' command" % cmd.fullname.encode()


def repr_arg(a: bytes) -> bytes:
    """sdscatrepr: a quoted, escaped rendering of one argument."""
    out = bytearray(b'"')
    for ch in a:
        if ch == 0x5C:
            out += b"\\\\"
        elif ch == 0x22:
            out += b'\\"'
        elif ch == 0x0A:
            out += b"\\n"
        elif ch == 0x0D:
            out += b"\\r"
        elif ch == 0x09:
            out += b"\\t"
        elif ch == 0x07:
            out += b"\\a"
        elif ch == 0x08:
            out += b"\\b"
        elif 32 <= ch < 127:
            out.append(ch)
        else:
            out += b"\\x%02x" % ch
    out += b'"'
    return bytes(out)


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _load_mallinfo():
    try:
        import ctypes

        class _MallInfo2(ctypes.Structure):
            _fields_ = [(n, ctypes.c_size_t) for n in (
                "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
                "uordblks", "fordblks", "keepcost")]

        libc = ctypes.CDLL(None)
        fn = libc.mallinfo2
        fn.restype = _MallInfo2
        return fn
    except Exception:
        return None


_mallinfo2 = _load_mallinfo()


_pymalloc = {"bytes": 0, "blocks": 0, "at": 0.0, "cost": 0.0}


def calibrate_pymalloc() -> None:
    """Measure the bytes held in pymalloc's arenas (invisible to mallinfo).

    It walks every arena, so it runs from cron, less often the longer it takes.
    """
    now = time.monotonic()
    if now - _pymalloc["at"] < max(1.0, _pymalloc["cost"] * 100):
        return
    t0 = time.perf_counter()
    r, w = os.pipe()
    saved = os.dup(2)
    try:
        os.dup2(w, 2)
        sys._debugmallocstats()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(w)
    chunks = []
    while True:
        b = os.read(r, 65536)
        if not b:
            break
        chunks.append(b)
    os.close(r)
    for line in b"".join(chunks).decode(errors="replace").splitlines():
        if line.startswith("# bytes in allocated blocks"):
            _pymalloc["bytes"] = int(line.split("=")[1].strip().replace(",", ""))
            _pymalloc["blocks"] = sys.getallocatedblocks()
    _pymalloc["at"] = now
    _pymalloc["cost"] = time.perf_counter() - t0


def _allocated_bytes() -> int:
    """Bytes in use: malloc'd (glibc mallinfo2) plus pymalloc's arenas (calibrated estimate).

    Unlike RSS this falls after mass deletes, so maxmemory/noeviction behave.
    """
    if _mallinfo2 is None:
        return 0
    m = _mallinfo2()
    small = _pymalloc["bytes"] + (sys.getallocatedblocks() - _pymalloc["blocks"]) * 48
    return m.uordblks + m.hblkhd + max(0, small)


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[1]) * _PAGE
    except OSError:
        return 0
