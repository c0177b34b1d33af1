"""RDB snapshots: SAVE, BGSAVE (a forked child), save points, loading at start-up.

The server holds one ``Snapshotter`` as ``server.rdb``.  It also owns the
single background child a server may have at a time (Redis allows one fork:
an RDB save or an AOF rewrite), so the AOF code forks through it too.

A BGSAVE child writes ``temp-<pid>.rdb`` from the copy-on-write image of the
parent's memory, fsyncs it and renames it over ``dbfilename``; the parent
keeps serving and reaps the child from its cron without blocking.  Progress
(keys written, copy-on-write bytes) comes back through a pipe.

Loading runs inside the event loop in slices (``run_loading``), so clients
that connect meanwhile get ``-LOADING`` and INFO shows the progress.
"""

from __future__ import annotations

import gc
import os
import resource
import signal
import time
from itertools import islice
from typing import Callable, Iterator

from .convert import encoding_limits, from_neutral, to_neutral
from .rdb import (AuxField, FunctionLibrary, KeyRecord, ModuleAux, RDBError, RDBReader, RDBWriter,
                  REDIS_VERSION, SelectDB)

BGSAVE_RETRY_DELAY = 5          # seconds before a failed BGSAVE is retried by a save point
LOAD_SLICE_SECONDS = 0.05       # event-loop time given to loading before serving clients again
_YIELD_EVERY = 1024             # keys between two looks at the clock while loading
_PROGRESS_EVERY = 65536         # keys between two progress reports of a saving child
MISCONF_RDB = (b"MISCONF Redis is configured to save RDB snapshots, but it's currently unable to "
               b"persist to disk. Commands that may modify the data set are disabled, because this "
               b"instance is configured to report errors during writes if RDB snapshotting fails "
               b"(stop-writes-on-bgsave-error option). Please check the Redis logs for details "
               b"about the RDB error.")


class SaveError(Exception):
    """Writing a snapshot failed; the message was already logged."""


class LoadError(Exception):
    """A data file can't be loaded; the server must not start with partial data."""


def _delay(usec: int) -> None:
    """rdb-key-save-delay / key-load-delay: sleep per key (negative: sleep 1us once in -usec)."""
    if usec < 0:
        usec = 1 if int.from_bytes(os.urandom(4), "little") % -usec == 0 else 0
    if usec:
        time.sleep(usec / 1e6)


# ------------------------------------------------------------------------ writing

def function_codes(server) -> list:
    """Function library sources to persist (kept as loaded when no engine runs them)."""
    engine = getattr(server, "functions", None)
    if engine is not None and hasattr(engine, "library_codes"):
        return list(engine.library_codes())
    return list(server.rdb.kept_functions) if getattr(server, "rdb", None) else []


def write_rdb(server, fh, *, aof_base: bool = False, progress: Callable | None = None) -> int:
    """Write the whole dataset as an RDB stream to ``fh``; returns the number of keys."""
    config = server.config
    writer = RDBWriter(fh, compress=config.rdbcompression, checksum=config.rdbchecksum,
                       limits=encoding_limits(config))
    writer.write_header({b"redis-ver": REDIS_VERSION, b"redis-bits": 64, b"ctime": int(time.time()),
                         b"used-mem": server.used_memory(), b"aof-base": int(aof_base)})
    for code in function_codes(server):
        writer.write_function(code)
    policy = config.maxmemory_policy
    lru = policy in ("allkeys-lru", "volatile-lru")
    lfu = "lfu" in policy
    delay = config.rdb_key_save_delay
    total = 0
    for db in server.dbs:
        if not len(db):
            continue
        data = getattr(db, "data", None)
        if data is None or lru or lfu or delay:
            total += _write_db_generic(writer, db, lru, lfu, delay, progress, total)
        else:
            total += _write_db_lean(writer, db, data, progress, total)
    writer.finish()
    return total


def _write_db_lean(writer, db, data: dict, progress, done: int) -> int:
    """The common case for the memory engine: walk its dicts directly."""
    expires = db.expires
    writer.select_db(db.index, len(data), len(expires))
    write_key = writer.write_key
    get_expire = expires.get if expires else _no_expire
    items = iter(data.items())
    n = len(data)
    for start in range(0, n, _PROGRESS_EVERY):
        for key, value in islice(items, _PROGRESS_EVERY):
            if type(value) is bytes:
                write_key(key, "string", value, get_expire(key))
            else:
                kind, neutral = to_neutral(value)
                write_key(key, kind, neutral, get_expire(key))
        if progress is not None:
            progress(done + min(n, start + _PROGRESS_EVERY))
    return n


def _no_expire(key) -> None:
    return None


def _write_db_generic(writer, db, lru: bool, lfu: bool, delay: int, progress, done: int) -> int:
    """Any engine, with LRU/LFU metadata, test delays and progress reports."""
    data = getattr(db, "data", None)
    if data is not None:
        pairs = data.items()
        expires = db.expires
        writer.select_db(db.index, len(data), len(expires))
        get_expire = expires.get
    else:
        pairs = ((k, db.lookup_notouch(k)) for k in db.iter_keys())
        writer.select_db(db.index, len(db), db.expires_count())
        get_expire = db.get_expire
    lfu_counters = getattr(db, "lfu", None) if lfu else None
    n = 0
    for key, value in pairs:
        if value is None:
            continue
        kind, neutral = ("string", value) if type(value) is bytes else to_neutral(value)
        idle = db.idle_ms(key) // 1000 if lru else None
        freq = (lfu_counters.get(key, 5) if lfu_counters is not None else 5) if lfu else None
        writer.write_key(key, kind, neutral, get_expire(key), idle, freq)
        n += 1
        if delay:
            _delay(delay)
        if progress is not None and not n & 1023:
            progress(done + n)
    return n


def fsync_dir(path: str) -> None:
    fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_rdb_file(server, filename: str, progress: Callable | None = None) -> int:
    """SAVE: write temp-<pid>.rdb, fsync, rename over ``filename``.  Raises SaveError."""
    tmp = "temp-%d.rdb" % os.getpid()
    try:
        fh = open(tmp, "wb")
    except OSError as e:
        server.log_warning("Failed opening the temp RDB file %s (in server root dir %s) for saving: %s"
                           % (tmp, _cwd(), e.strerror))
        raise SaveError(str(e)) from None
    op = "rdbSaveRio"
    try:
        with fh:
            keys = write_rdb(server, fh, progress=progress)
            op = "fsync"
            fh.flush()
            os.fsync(fh.fileno())
        op = "rename"
        try:
            os.replace(tmp, filename)
        except OSError as e:
            server.log_warning("Error moving temp DB file %s on the final destination %s "
                               "(in server root dir %s): %s" % (tmp, filename, _cwd(), e.strerror))
            raise SaveError(str(e)) from None
        op = "fsyncFileDir"
        fsync_dir(filename)
    except (OSError, RDBError) as e:
        server.log_warning("Write error saving DB on disk(%s): %s"
                           % (op, getattr(e, "strerror", None) or e))
        _unlink(tmp)
        raise SaveError(str(e)) from None
    except SaveError:
        _unlink(tmp)
        raise
    server.log_notice("DB saved on disk")
    return keys


def _cwd() -> str:
    try:
        return os.getcwd()
    except OSError:
        return "unknown"


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def private_dirty_bytes() -> int:
    """Memory this process wrote since the fork (copy-on-write cost)."""
    try:
        with open("/proc/self/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Private_Dirty:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


# ------------------------------------------------------------------------- loading

class LoadingInfo:
    """What INFO persistence reports while a data file loads."""

    def __init__(self, total_bytes: int):
        self.start_time = int(time.time())
        self.total_bytes = total_bytes
        self.loaded_bytes = 0
        self.rdb_used_mem = 0
        self.base_bytes = 0        # bytes of earlier files (AOF base + incr files)

    def fields(self) -> list:
        perc = 0.0
        remaining = 1
        if self.total_bytes:
            perc = self.loaded_bytes / self.total_bytes * 100
            remaining = self.total_bytes - self.loaded_bytes
        elif self.rdb_used_mem:
            perc = min(99.99, self.loaded_bytes / self.rdb_used_mem * 100)
            remaining = max(1, self.rdb_used_mem - self.loaded_bytes)
        elapsed = int(time.time()) - self.start_time
        eta = 1 if elapsed == 0 else elapsed * remaining // (self.loaded_bytes + 1)
        return [("loading_start_time", self.start_time), ("loading_total_bytes", self.total_bytes),
                ("loading_rdb_used_mem", self.rdb_used_mem),
                ("loading_loaded_bytes", self.loaded_bytes),
                ("loading_loaded_perc", "%.2f" % perc), ("loading_eta_seconds", eta)]


def load_rdb_steps(server, fh, *, preamble: bool = False, info: LoadingInfo | None = None
                   ) -> Iterator[None]:
    """Load an RDB stream into the (empty) keyspace, yielding now and then.

    Keys already expired are skipped, except in an AOF base, where the commands
    that follow may still refer to them (Redis keeps them too).  Returns
    (keys loaded, keys expired, bytes of ``fh`` consumed) through StopIteration.
    """
    config = server.config
    reader = RDBReader(fh, checksum=config.rdbchecksum)
    dbs = server.dbs
    db = dbs[0]
    now_ms = int(time.time() * 1000)
    lfu = "lfu" in config.maxmemory_policy
    delay = config.key_load_delay
    expired = 0
    tick = 0
    data, atime = _direct_dicts(db)
    clock = server.lru_clock
    for item in reader.items():
        if type(item) is KeyRecord:
            _index, key, kind, value, expire, idle, freq = item
            tick += 1
            if not tick & (_YIELD_EVERY - 1):
                if info is not None:
                    info.loaded_bytes = info.base_bytes + _position(fh)
                yield
                clock = server.lru_clock
            if expire is not None and expire < now_ms and not preamble:
                expired += 1
                continue
            if kind != "string":
                value = from_neutral(kind, value, config)
            if expire is not None:
                db.set(key, value)
                db.set_expire(key, expire)
            elif data is not None:
                data[key] = value
                atime[key] = clock
            else:
                db.set(key, value)
            if idle is not None or freq is not None:
                _set_lru_lfu(db, key, idle, freq, lfu)
            if delay:
                _delay(delay)
        elif type(item) is SelectDB:
            if item.index >= len(dbs):
                raise LoadError("FATAL: Data file was created with a Redis server configured to "
                                "handle more than %d databases. Exiting" % len(dbs))
            db = dbs[item.index]
            data, atime = _direct_dicts(db)
        elif type(item) is AuxField:
            _log_aux(server, item, info)
        elif type(item) is FunctionLibrary:
            _load_function(server, item.code)
        elif type(item) is ModuleAux:
            raise LoadError("The RDB file contains AUX module data I can't load: no matching "
                            "module '%s'" % item.module_type)
    loaded = tick - expired
    consumed = rdb_consumed(_position(fh), reader)
    if info is not None:
        info.loaded_bytes = info.base_bytes + consumed
    return loaded, expired, consumed


def _set_lru_lfu(db, key: bytes, idle, freq, lfu: bool) -> None:
    """Like Redis: the LFU counter under an LFU policy, the idle time under any other."""
    if lfu:
        if freq is not None and hasattr(db, "lfu"):
            db.lfu[key] = freq
    elif idle is not None and hasattr(db, "set_idle"):
        db.set_idle(key, idle)


def _direct_dicts(db) -> tuple:
    """The memory engine's value and access-time dicts, filled directly while loading (no
    "new key" events, as Redis's loader); (None, None) for other engines."""
    data = getattr(db, "data", None)
    atime = getattr(db, "atime", None)
    if type(data) is dict and type(atime) is dict:
        return data, atime
    return None, None


def _position(fh) -> int:
    try:
        return fh.tell()
    except (OSError, ValueError):
        return 0


def _log_aux(server, item: AuxField, info) -> None:
    key, value = item
    try:
        if key == b"redis-ver":
            server.log_notice("Loading RDB produced by version %s" % value.decode(errors="replace"))
        elif key == b"ctime":
            age = int(time.time()) - int(value)
            server.log_notice("RDB age %d seconds" % max(age, 0))
        elif key == b"used-mem":
            server.log_notice("RDB memory usage when created %.2f Mb" % (int(value) / 1048576))
            if info is not None:
                info.rdb_used_mem = int(value)
    except ValueError:
        pass


def _load_function(server, code: bytes) -> None:
    engine = getattr(server, "functions", None)
    if engine is not None and hasattr(engine, "load_library"):
        engine.load_library(code, replace=True)
    else:
        server.rdb.kept_functions.append(code)


def rdb_consumed(fh_pos: int, reader: RDBReader) -> int:
    """Bytes of the file the reader has consumed (what follows may be an AOF tail).

    The reader reads ahead in blocks: subtract what it holds unread."""
    src = reader._src
    return fh_pos - (len(src.buf) - src.pos)


def run_loading(server, steps: Iterator, on_done: Callable, on_error: Callable) -> None:
    """Drive a loading generator in event-loop slices; clients get -LOADING meanwhile."""
    server.loading = True
    server.update_gates()
    loop = server.loop

    def step():
        deadline = time.perf_counter() + LOAD_SLICE_SECONDS
        try:
            while time.perf_counter() < deadline:
                next(steps)
        except StopIteration as stop:
            server.loading = False
            server.update_gates()
            on_done(stop.value)
            return
        except (LoadError, RDBError, OSError) as e:
            server.loading = False
            server.update_gates()
            on_error(e)
            return
        loop.call_soon(step)

    loop.call_soon(step)


def fatal_exit(server, code: int = 1) -> None:
    """Stop the server now: it must not run on a partial or unreadable dataset."""
    try:
        import sys
        sys.stdout.flush()
    except Exception:
        pass
    os._exit(code)


# ---------------------------------------------------------------------- the child

class Child:
    __slots__ = ("pid", "kind", "pipe", "start", "keys_processed", "keys_total", "cow",
                 "cow_updated", "on_done", "buf")

    def __init__(self, pid: int, kind: str, pipe: int, keys_total: int, on_done: Callable):
        self.pid = pid
        self.kind = kind                # "rdb" or "aof"
        self.pipe = pipe
        self.start = time.time()
        self.keys_processed = 0
        self.keys_total = keys_total
        self.cow = 0
        self.cow_updated = 0.0
        self.on_done = on_done          # fn(exitcode, bysignal, child)
        self.buf = b""

    def drain(self) -> None:
        """Read progress lines: b"keys <n> <cow>\\n"."""
        while True:
            try:
                chunk = os.read(self.pipe, 4096)
            except BlockingIOError:
                break
            except OSError:
                break
            if not chunk:
                break
            self.buf += chunk
        *lines, self.buf = self.buf.split(b"\n")
        for line in lines:
            parts = line.split()
            if len(parts) == 3 and parts[0] == b"keys":
                self.keys_processed = int(parts[1])
                self.cow = int(parts[2])
                self.cow_updated = time.time()


# ------------------------------------------------------------------- the subsystem

class Snapshotter:
    def __init__(self, server):
        self.server = server
        self.child: Child | None = None
        self.dirty_at_save = 0          # server.dirty when the last successful save began
        self.dirty_before_bgsave = 0
        self.last_bgsave_ok = True
        self.last_bgsave_try = 0
        self.bgsave_scheduled = False
        self.saves = 0
        self.last_save_seconds = -1
        self.last_cow = 0
        self.last_load_loaded = 0
        self.last_load_expired = 0
        self.loading_info: LoadingInfo | None = None
        self.kept_functions: list = []
        self.peak_cow = 0
        self.gate_active = False
        server.total_forks = 0
        server.latest_fork_usec = 0

    # --- configuration ------------------------------------------------------------
    def save_params(self) -> list:
        parts = str(self.server.config.save).split()
        return [(int(parts[i]), int(parts[i + 1])) for i in range(0, len(parts) - 1, 2)]

    def changes_since_save(self) -> int:
        return self.server.dirty - self.dirty_at_save

    # --- the child ----------------------------------------------------------------
    def fork(self, kind: str, work: Callable, on_done: Callable) -> int:
        """Fork a child running ``work(report)`` (returns an exit code); raises OSError."""
        server = self.server
        r, w = os.pipe()
        total = sum(len(db) for db in server.dbs)
        t0 = time.perf_counter()
        try:
            pid = os.fork()
        except OSError:
            os.close(r)
            os.close(w)
            raise
        if pid == 0:
            code = 1
            try:
                os.close(r)
                _prepare_child(server, keep=(w,))
                server.pid = os.getpid()

                def report(keys: int) -> None:
                    os.write(w, b"keys %d %d\n" % (keys, private_dirty_bytes()))

                code = work(report)
                report(total)
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        server.latest_fork_usec = int((time.perf_counter() - t0) * 1e6)
        server.total_forks += 1
        os.close(w)
        os.set_blocking(r, False)
        self.child = Child(pid, kind, r, total, on_done)
        self.peak_cow = 0
        return pid

    def kill_child(self, remove_temp: bool = True) -> None:
        """Stop the child now (SIGUSR1, which is no error) and forget it."""
        child = self.child
        if child is None:
            return
        try:
            os.kill(child.pid, signal.SIGUSR1)
            os.waitpid(child.pid, 0)
        except OSError:
            pass
        os.close(child.pipe)
        self.child = None
        if remove_temp:
            _unlink("temp-%d.rdb" % child.pid)
            _unlink("temp-rewriteaof-bg-%d.aof" % child.pid)

    def reap(self) -> None:
        """Cron: collect a finished child without blocking."""
        child = self.child
        if child is None:
            return
        try:
            pid, status = os.waitpid(child.pid, os.WNOHANG)
        except ChildProcessError:
            pid, status = child.pid, 1 << 8
        child.drain()
        self.peak_cow = max(self.peak_cow, child.cow)
        if pid == 0:
            return
        os.close(child.pipe)
        self.child = None
        if os.WIFSIGNALED(status):
            exitcode, bysignal = 0, os.WTERMSIG(status)
        else:
            exitcode, bysignal = os.WEXITSTATUS(status), 0
        child.on_done(exitcode, bysignal, child)

    # --- SAVE / BGSAVE --------------------------------------------------------------
    def save(self) -> bool:
        """Synchronous save in the server process."""
        server = self.server
        self.saves += 1
        dirty = server.dirty
        try:
            save_rdb_file(server, server.config.dbfilename)
        except SaveError:
            return False
        self.dirty_at_save = dirty
        server.lastsave = int(time.time())
        self.last_bgsave_ok = True
        self.update_gate()
        return True

    def bgsave(self) -> bool:
        """Fork a saving child; False (logged) when the fork fails."""
        server = self.server
        if self.child is not None:
            return False
        self.saves += 1
        self.dirty_before_bgsave = server.dirty
        self.last_bgsave_try = int(time.time())
        filename = server.config.dbfilename

        def work(report):
            try:
                save_rdb_file(server, filename, progress=report)
            except SaveError:
                return 1
            return 0

        try:
            pid = self.fork("rdb", work, self._bgsave_done)
        except OSError as e:
            self.last_bgsave_ok = False
            self.update_gate()
            server.log_warning("Can't save in background: fork: %s" % e.strerror)
            return False
        server.log_notice("Background saving started by pid %d" % pid)
        return True

    def _bgsave_done(self, exitcode: int, bysignal: int, child: Child) -> None:
        server = self.server
        if not bysignal and exitcode == 0:
            server.log_notice("Background saving terminated with success")
            self.dirty_at_save = self.dirty_before_bgsave
            server.lastsave = int(time.time())
            self.last_bgsave_ok = True
        elif not bysignal:
            server.log_warning("Background saving error")
            self.last_bgsave_ok = False
        else:
            server.log_warning("Background saving terminated by signal %d" % bysignal)
            _unlink("temp-%d.rdb" % child.pid)
            if bysignal != signal.SIGUSR1:
                self.last_bgsave_ok = False
        self.last_save_seconds = int(time.time() - child.start)
        self.last_cow = child.cow
        self.update_gate()

    # --- cron -------------------------------------------------------------------------
    def cron(self) -> None:
        server = self.server
        self.reap()
        if self.child is not None or server.loading:
            return
        now = time.time()
        retry_ok = self.last_bgsave_ok or now - self.last_bgsave_try > BGSAVE_RETRY_DELAY
        if self.bgsave_scheduled and retry_ok:
            if self.bgsave():
                self.bgsave_scheduled = False
            return
        aof = getattr(server, "aof", None)
        if aof is not None and aof.cron_rewrite():
            return
        changes = self.changes_since_save()
        if not changes or not retry_ok:
            return
        for seconds, wanted in self.save_params():
            if changes >= wanted and now - server.lastsave > seconds:
                server.log_notice("%d changes in %d seconds. Saving..." % (wanted, seconds))
                self.bgsave()
                return

    # --- MISCONF ----------------------------------------------------------------------
    def write_error(self) -> bytes | None:
        """The MISCONF error writes get now, or None."""
        server = self.server
        config = server.config
        if config.stop_writes_on_bgsave_error and not self.last_bgsave_ok and self.save_params():
            return MISCONF_RDB
        aof = getattr(server, "aof", None)
        if aof is not None:
            return aof.write_error()
        return None

    def update_gate(self) -> None:
        """Register the per-command check only while writes must be refused.

        ``server.extra_gates`` stays true exactly while some subsystem has a gate
        in ``server.command_gates`` (the scripting engine follows the same rule)."""
        server = self.server
        active = self.write_error() is not None
        if active != self.gate_active:
            self.gate_active = active
            gates = server.command_gates
            if active:
                gates.append(self.command_gate)
            else:
                gates.remove(self.command_gate)
            server.extra_gates = bool(gates)
            server.update_gates()

    def command_gate(self, c, cmd) -> bytes | None:
        if not (cmd.is_write or cmd.name == "ping" or (
                cmd.name == "exec" and any(q[0].is_write for q in c.multi_queue))):
            return None
        if c.is_master:
            return None
        return self.write_error()

    # --- FLUSHALL / SHUTDOWN -----------------------------------------------------------
    def on_flushall(self) -> None:
        """FLUSHALL: a running BGSAVE is now stale; with save points, save the empty set."""
        server = self.server
        if self.child is not None and self.child.kind == "rdb":
            self.kill_child()
        if self.save_params():
            self.save()
            # The FLUSHALL itself still counts as one change, as in Redis.
            self.dirty_at_save = server.dirty - 1

    def on_shutdown(self, save: bool | None) -> bool:
        server = self.server
        if server.loading:
            save = False
        child = self.child
        aof = getattr(server, "aof", None)
        if child is not None and child.kind == "rdb":
            server.log_warning("There is a child saving an .rdb. Killing it!")
            self.kill_child()
        elif child is not None and child.kind == "aof":
            if aof is not None and aof.waiting_rewrite():
                server.log_warning("Writing initial AOF, can't exit.")
                return False
            server.log_warning("There is a child rewriting the AOF. Killing it!")
            self.kill_child()
        if aof is not None:
            aof.prepare_shutdown()
        if save or (save is None and self.save_params()):
            server.log_notice("Saving the final RDB snapshot before exiting.")
            if not self.save():
                server.log_warning("Error trying to save the DB, can't exit.")
                return False
        return True

    # --- start-up ---------------------------------------------------------------------
    def startup(self) -> None:
        """Load the dataset: the AOF when appendonly is on, else dbfilename."""
        server = self.server
        aof = getattr(server, "aof", None)
        if aof is not None:
            # Read even with appendonly off: turning it on later continues the same sequence.
            aof.load_manifest()
            if server.config.appendonly:
                aof.load_at_startup()
                return
        self.load_file(server.config.dbfilename, on_done=lambda: None)

    def load_file(self, filename: str, on_done: Callable) -> bool:
        """Start loading an RDB file in slices; False when there is none."""
        server = self.server
        try:
            fh = open(filename, "rb")
        except FileNotFoundError:
            return False
        except OSError as e:
            server.log_warning("Fatal error loading the DB: %s. Exiting." % e.strerror)
            fatal_exit(server)
            return False
        size = os.fstat(fh.fileno()).st_size
        info = self.loading_info = LoadingInfo(size)
        started = time.perf_counter()

        def done(result):
            fh.close()
            self.loading_info = None
            self.last_load_loaded, self.last_load_expired = result[:2]
            server.log_notice("Done loading RDB, keys loaded: %d, keys expired: %d."
                              % (self.last_load_loaded, self.last_load_expired))
            server.log_notice("DB loaded from disk: %.3f seconds" % (time.perf_counter() - started))
            on_done()

        def failed(e):
            fh.close()
            self.loading_info = None
            report_load_failure(server, filename, e)
            fatal_exit(server)

        run_loading(server, load_rdb_steps(server, fh, info=info), done, failed)
        return True

    def info_fields(self) -> list:
        server = self.server
        child = self.child
        rdb_child = child is not None and child.kind == "rdb"
        now = time.time()
        fork_perc = 0.0
        if child is not None and child.keys_total:
            fork_perc = child.keys_processed * 100.0 / child.keys_total
        loading = int(server.loading)
        return [
            ("loading", loading), ("async_loading", 0),
            ("current_cow_peak", self.peak_cow if child is not None else 0),
            ("current_cow_size", child.cow if child is not None else 0),
            ("current_cow_size_age", int(now - child.cow_updated) if child is not None and
             child.cow_updated else 0),
            ("current_fork_perc", "%.2f" % fork_perc),
            ("current_save_keys_processed", child.keys_processed if child is not None else 0),
            ("current_save_keys_total", child.keys_total if child is not None else 0),
            ("rdb_changes_since_last_save", self.changes_since_save()),
            ("rdb_bgsave_in_progress", int(rdb_child)),
            ("rdb_last_save_time", server.lastsave),
            ("rdb_last_bgsave_status", "ok" if self.last_bgsave_ok else "err"),
            ("rdb_last_bgsave_time_sec", self.last_save_seconds),
            ("rdb_current_bgsave_time_sec", int(now - child.start) if rdb_child else -1),
            ("rdb_saves", self.saves), ("rdb_last_cow_size", self.last_cow),
            ("rdb_last_load_keys_expired", self.last_load_expired),
            ("rdb_last_load_keys_loaded", self.last_load_loaded),
        ]


def report_load_failure(server, filename: str, e: Exception) -> None:
    msg = str(e)
    if "Unexpected EOF" in msg:
        server.log_warning("Short read or OOM loading DB. Unrecoverable error, aborting now.")
    server.log_warning("Internal error in RDB reading file %s -> %s" % (filename, msg))
    server.log_warning("Fatal error loading the DB (%s): %s. Exiting." % (filename, msg))


def _prepare_child(server, keep: tuple) -> None:
    """In a fresh child: no signal handlers of the parent's loop, no inherited sockets, no GC."""
    gc.disable()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1):
        signal.signal(sig, signal.SIG_DFL)
    try:
        signal.set_wakeup_fd(-1)
    except (ValueError, OSError):
        pass
    log = getattr(server, "_log_fh", None)
    keep_fds = set(keep)
    if log is not None:
        try:
            keep_fds.add(log.fileno())
        except (OSError, ValueError):
            pass
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if limit == resource.RLIM_INFINITY or limit > 1 << 20:
        limit = 1 << 20
    low = 3
    for fd in sorted(keep_fds):
        if fd >= low:
            os.closerange(low, fd)
            low = fd + 1
    os.closerange(low, limit)


# --------------------------------------------------------------------- registration

def _install(server) -> None:
    rdb = server.rdb = Snapshotter(server)
    server.cron_hooks.append(rdb.cron)
    server.shutdown_hooks.append(rdb.on_shutdown)
    server.flushall_hooks.append(rdb.on_flushall)
    server.startup_hooks.append(rdb.startup)
    server.config.add_listener("save", lambda new, old: rdb.update_gate())
    server.config.add_listener("stop-writes-on-bgsave-error", lambda new, old: rdb.update_gate())
    server.config.add_listener("dir", _chdir)


def _chdir(new, old) -> None:
    # Like Redis, the working directory is where every data file lives.
    from ..config import ConfigError
    try:
        os.chdir(new)
    except OSError as e:
        raise ConfigError(e.strerror or str(e)) from None


def register() -> None:
    from ..server.server import on_server_init
    on_server_init(_install)


register()
