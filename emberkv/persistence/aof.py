"""Redis 7 multi-part append-only file: a manifest, one base file, incr files.

::

    <dir>/<appenddirname>/
        appendonly.aof.manifest      "file <name> seq <n> type b|h|i" per line
        appendonly.aof.3.base.rdb    the dataset when the last rewrite began
                                     (.base.aof: RESP commands, aof-use-rdb-preamble no)
        appendonly.aof.3.incr.aof    every write since, as RESP commands

The server holds one ``AppendOnly`` as ``server.aof``.  Writes reach it as
propagated commands (a sink in ``server.propagation_sinks``) and collect in a
buffer.  The buffer is written before any reply leaves the server
(``server.before_reply``), and under ``appendfsync always`` also fsynced
there, so an acknowledged write survives kill -9 (every policy) or a power
loss (``always``).  ``everysec`` fsyncs from a background thread once a second.

BGREWRITEAOF forks a child (through ``server.rdb``) that writes a new base;
at the fork the parent switches to a new incr file, so nothing needs
buffering; when the child is done the manifest is replaced atomically and the
old files are deleted.
"""

from __future__ import annotations

import errno
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor

from ..commands import registry
from ..config import ConfigError
from ..protocol.reply import CommandError
from ..server.client import Client
from .convert import to_neutral
from .snapshot import (LoadError, LoadingInfo, _delay, _unlink, fatal_exit, fsync_dir,
                       load_rdb_steps, run_loading, write_rdb)

AOF_OFF, AOF_ON, AOF_WAIT_REWRITE = 0, 1, 2
ITEMS_PER_COMMAND = 64              # elements per RPUSH/SADD/ZADD/HMSET in a rewritten AOF
REWRITE_LIMIT_FAILURES = 3          # consecutive failures before automatic retries slow down
_READ_BLOCK = 4 << 20
_SELECT = b"*2\r\n$6\r\nSELECT\r\n"


def resp_command(argv) -> bytes:
    parts = [b"*%d\r\n" % len(argv)]
    for a in argv:
        parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(parts)


class AOFFormatError(Exception):
    """Bytes that are not a RESP command where one should start."""


# ------------------------------------------------------------------------ manifest

class ManifestError(Exception):
    pass


class Manifest:
    """The list of files making the AOF, in load order: base, then incr files."""

    def __init__(self):
        self.base: tuple[str, int] | None = None
        self.incrs: list[tuple[str, int]] = []
        self.history: list[tuple[str, int]] = []
        self.base_seq = 0
        self.incr_seq = 0

    def copy(self) -> "Manifest":
        m = Manifest()
        m.base = self.base
        m.incrs = list(self.incrs)
        m.history = list(self.history)
        m.base_seq, m.incr_seq = self.base_seq, self.incr_seq
        return m

    def is_empty(self) -> bool:
        return self.base is None and not self.incrs

    @classmethod
    def parse(cls, text: bytes) -> "Manifest":
        from ..protocol.request import split_args
        m = cls()
        for lineno, raw in enumerate(text.split(b"\n"), 1):
            line = raw.strip(b" \t\r")
            if not line or line.startswith(b"#"):
                continue
            argv = split_args(line)
            if not argv or len(argv) % 2:
                raise ManifestError("Invalid AOF manifest file format", lineno, line)
            fields = {}
            for i in range(0, len(argv), 2):
                fields[argv[i].decode(errors="replace")] = argv[i + 1]
            try:
                name = fields["file"].decode()
                seq = int(fields["seq"])
                kind = fields["type"].decode()
            except (KeyError, ValueError, UnicodeDecodeError):
                raise ManifestError("Invalid AOF manifest file format", lineno, line) from None
            if "/" in name:
                raise ManifestError("File can't be a path, just a filename", lineno, line)
            if kind == "b":
                if m.base is not None:
                    raise ManifestError("Found duplicate base file information", lineno, line)
                m.base = (name, seq)
                m.base_seq = seq
            elif kind == "h":
                m.history.append((name, seq))
            elif kind == "i":
                if seq <= m.incr_seq:
                    raise ManifestError("Found a non-monotonic sequence number", lineno, line)
                m.incrs.append((name, seq))
                m.incr_seq = seq
            else:
                raise ManifestError("Unknown AOF file type", lineno, line)
        return m

    def format(self) -> bytes:
        lines = []
        if self.base is not None:
            lines.append(_manifest_line(self.base, "b"))
        lines += [_manifest_line(h, "h") for h in self.history]
        lines += [_manifest_line(i, "i") for i in self.incrs]
        return "".join(lines).encode()


def _manifest_line(item: tuple[str, int], kind: str) -> str:
    name, seq = item
    if any(ch in name for ch in " \t\r\n\"'\\") or not name.isprintable():
        name = '"%s"' % name.encode("unicode_escape").decode().replace('"', '\\"')
    return "file %s seq %d type %s\n" % (name, seq, kind)


# --------------------------------------------------------------- rewrite as RESP

def write_aof_commands(server, fh, progress=None) -> int:
    """The dataset as the commands that rebuild it (aof-use-rdb-preamble no)."""
    from .snapshot import function_codes
    write = fh.write
    for code in function_codes(server):
        write(resp_command([b"FUNCTION", b"LOAD", code]))
    n = 0
    for db in server.dbs:
        if not len(db):
            continue
        write(_SELECT + b"$%d\r\n%d\r\n" % (len(b"%d" % db.index), db.index))
        data = getattr(db, "data", None)
        pairs = data.items() if data is not None else (
            (k, db.lookup_notouch(k)) for k in db.iter_keys())
        for key, value in pairs:
            if value is None:
                continue
            for argv in value_commands(key, value):
                write(resp_command(argv))
            when = db.get_expire(key)
            if when is not None:
                write(resp_command([b"PEXPIREAT", key, b"%d" % when]))
            n += 1
            if progress is not None and not n & 1023:
                progress(n)
    return n


def value_commands(key: bytes, value):
    """Commands recreating one value."""
    kind, v = to_neutral(value)
    if kind == "string":
        yield [b"SET", key, v]
    elif kind in ("list", "set"):
        verb = b"RPUSH" if kind == "list" else b"SADD"
        items = list(v)
        for i in range(0, len(items), ITEMS_PER_COMMAND):
            yield [verb, key] + items[i:i + ITEMS_PER_COMMAND]
    elif kind == "zset":
        for i in range(0, len(v), ITEMS_PER_COMMAND):
            argv = [b"ZADD", key]
            for member, score in v[i:i + ITEMS_PER_COMMAND]:
                argv += [b"%.17g" % score, member]
            yield argv
    elif kind == "hash":
        items = list(v.items())
        for i in range(0, len(items), ITEMS_PER_COMMAND):
            argv = [b"HMSET", key]
            for f, val in items[i:i + ITEMS_PER_COMMAND]:
                argv += [f, val]
            yield argv
        ttls = getattr(v, "ttl", None)
        if ttls:
            by_time: dict = {}
            for f, when in ttls.items():
                if f in v:
                    by_time.setdefault(when, []).append(f)
            for when, fields in sorted(by_time.items()):
                for i in range(0, len(fields), ITEMS_PER_COMMAND):
                    part = fields[i:i + ITEMS_PER_COMMAND]
                    yield [b"HPEXPIREAT", key, b"%d" % when, b"FIELDS", b"%d" % len(part)] + part
    elif kind == "stream":
        yield from _stream_commands(key, v)


def _sid(i) -> bytes:
    return b"%d-%d" % i


def _stream_commands(key: bytes, s):
    if s.entries:
        for entry_id, fv in s.entries:
            yield [b"XADD", key, _sid(entry_id)] + list(fv)
    else:
        # An empty stream exists too: create it with an entry trimmed away at once.
        yield [b"XADD", key, b"MAXLEN", b"0", b"0-1", b"x", b"y"]
    yield [b"XSETID", key, _sid(s.last_id), b"ENTRIESADDED", b"%d" % s.entries_added,
           b"MAXDELETEDID", _sid(s.max_deleted_id)]
    for g in s.groups:
        yield [b"XGROUP", b"CREATE", key, g.name, _sid(g.last_id), b"ENTRIESREAD",
               b"%d" % g.entries_read]
        pel = {entry_id: (dtime, count) for entry_id, dtime, count, _owner in g.pel}
        for name, _seen, pending in g.consumers:
            if not pending:
                yield [b"XGROUP", b"CREATECONSUMER", key, g.name, name]
            for entry_id in pending:
                dtime, count = pel[entry_id]
                yield [b"XCLAIM", key, g.name, name, b"0", _sid(entry_id), b"TIME", b"%d" % dtime,
                       b"RETRYCOUNT", b"%d" % count, b"JUSTID", b"FORCE"]


# ---------------------------------------------------------------- RESP parsing

def parse_commands(buf: bytes, pos: int):
    """Complete commands from ``buf[pos:]`` as (argv, end offset).

    Stops at an incomplete command (the caller reads more) and raises
    AOFFormatError where the bytes cannot be a command.  Lines starting with
    '#' are annotations (aof-timestamp-enabled) and are skipped.
    """
    n = len(buf)
    find = buf.find
    while pos < n:
        first = buf[pos]
        if first == 35:                                   # '#'
            nl = find(b"\n", pos)
            if nl < 0:
                return
            pos = nl + 1
            continue
        if first != 42:                                   # '*'
            raise AOFFormatError(pos)
        nl = find(b"\r\n", pos)
        if nl < 0:
            return
        try:
            argc = int(buf[pos + 1:nl])
        except ValueError:
            raise AOFFormatError(pos) from None
        if argc < 1:
            raise AOFFormatError(pos)
        p = nl + 2
        argv = []
        for _ in range(argc):
            if p >= n:
                return
            if buf[p] != 36:                              # '$'
                raise AOFFormatError(p)
            nl = find(b"\r\n", p)
            if nl < 0:
                return
            try:
                size = int(buf[p + 1:nl])
            except ValueError:
                raise AOFFormatError(p) from None
            start = nl + 2
            end = start + size
            if end + 2 > n:
                return
            if buf[end:end + 2] != b"\r\n":
                raise AOFFormatError(end)
            argv.append(buf[start:end])
            p = end + 2
        yield argv, p
        pos = p


# -------------------------------------------------------------------- subsystem

class AppendOnly:
    def __init__(self, server):
        self.server = server
        self.state = AOF_OFF
        self.manifest = Manifest()
        self.fd = -1
        self.buf = bytearray()
        self.selected_db = -1
        self.current_size = 0
        self.base_size = 0
        self.incr_size = 0          # bytes in the incr file being written
        self.fsynced_size = 0       # of which fsynced
        self.last_fsync = time.monotonic()
        self.last_retry = 0.0
        self.fsync_job = None
        self.unsynced = False       # written under appendfsync always, not yet fsynced
        self.held: list = []        # (connection, reply bytes) waiting for that fsync
        self.commit_scheduled = False
        self.hook = self.before_reply   # one bound method, so it can be recognised with `is`
        self.write_ok = True
        self.write_errno = 0
        self.bio_fsync_ok = True
        self.bio_errno = 0
        self.rewrite_scheduled = False
        self.rewrite_start = -1.0
        self.last_rewrite_seconds = -1
        self.last_bgrewrite_ok = True
        self.rewrites = 0
        self.consecutive_failures = 0
        self.limit_delay_minutes = 0
        self.next_limited_rewrite = 0.0
        self.last_cow = 0
        self.delayed_fsync = 0
        self._bio = None

    # --- names and paths ---------------------------------------------------------------
    @property
    def dirname(self) -> str:
        return self.server.config.appenddirname

    @property
    def filename(self) -> str:
        return self.server.config.appendfilename

    def path(self, name: str) -> str:
        return os.path.join(self.dirname, name)

    def _base_name(self, seq: int) -> str:
        ext = ".base.rdb" if self.server.config.aof_use_rdb_preamble else ".base.aof"
        return "%s.%d%s" % (self.filename, seq, ext)

    def _incr_name(self, seq: int) -> str:
        return "%s.%d.incr.aof" % (self.filename, seq)

    def _temp_incr_name(self) -> str:
        return "temp-%s.incr" % self.filename

    def _make_dir(self) -> bool:
        try:
            os.makedirs(self.dirname, exist_ok=True)
            return True
        except OSError as e:
            self.server.log_warning("Can't open or create append-only dir %s: %s"
                                    % (self.dirname, e.strerror))
            return False

    @property
    def bio(self) -> ThreadPoolExecutor:
        """One background thread, FIFO like Redis's bio: fsyncs and closes of old files."""
        if self._bio is None:
            self._bio = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aof-bio")
        return self._bio

    # --- manifest ------------------------------------------------------------------------
    def load_manifest(self) -> None:
        """Read the manifest at start-up (even with appendonly off); fatal when malformed."""
        path = self.path(self.filename + ".manifest")
        try:
            with open(path, "rb") as fh:
                text = fh.read()
        except FileNotFoundError:
            return
        except OSError as e:
            self.server.log_warning("Fatal error: can't open the AOF manifest %s for reading: %s"
                                    % (path, e.strerror))
            fatal_exit(self.server)
            return
        try:
            self.manifest = Manifest.parse(text)
        except ManifestError as e:
            msg, lineno, line = e.args
            self.server.log_warning("\n*** FATAL AOF MANIFEST FILE ERROR ***\n"
                                    "Reading the manifest file, at line %d\n>>> '%s'\n%s"
                                    % (lineno, line.decode(errors="replace"), msg))
            fatal_exit(self.server)

    def persist_manifest(self, m: Manifest) -> bool:
        """Write the manifest to a temp file, fsync, rename, fsync the directory."""
        tmp = self.path("temp-%s.manifest" % self.filename)
        final = self.path(self.filename + ".manifest")
        try:
            with open(tmp, "wb") as fh:
                fh.write(m.format())
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, final)
            fsync_dir(final)
        except OSError as e:
            self.server.log_warning("Can't persist the AOF manifest file %s: %s" % (final, e.strerror))
            _unlink(tmp)
            return False
        return True

    def _delete_history(self) -> None:
        m = self.manifest
        if not m.history or self.server.config.aof_disable_auto_gc:
            return
        for name, _seq in m.history:
            self.server.log_notice("Removing the history file %s in the background" % name)
            _unlink(self.path(name))
        m = m.copy()
        m.history = []
        if self.persist_manifest(m):
            self.manifest = m

    # --- the write path ----------------------------------------------------------------
    def feed(self, db_index: int, argv: list) -> None:
        """Propagation sink: append one command (and a SELECT when the DB changes)."""
        if self.state == AOF_WAIT_REWRITE and not self._rewriting():
            return
        buf = self.buf
        if db_index != self.selected_db:
            idx = b"%d" % db_index
            buf += _SELECT + b"$%d\r\n%s\r\n" % (len(idx), idx)
            self.selected_db = db_index
        buf += b"*%d\r\n" % len(argv)
        for a in argv:
            buf += b"$%d\r\n%s\r\n" % (len(a), a)
        self.server.before_reply = self.hook

    def _rewriting(self) -> bool:
        child = self.server.rdb.child
        return child is not None and child.kind == "aof"

    def before_reply(self, conn, data: bytes) -> bool:
        """Runs before reply bytes leave (``server.before_reply``).

        The buffer is written first, whatever the policy.  Under appendfsync
        always the reply is held (True) and released by ``commit`` after one
        fsync shared by every connection served in this event-loop turn, the
        group commit Redis does in beforeSleep.
        """
        server = self.server
        if self.buf:
            self.flush()
        if not self.unsynced and not self.held:
            self._unhook()
            return False
        client = conn.client
        if client is None or client.closing or client.close_after_reply:
            self.commit()               # the connection closes right after: no later turn
            return False
        self.held.append((conn, data))
        if server.before_reply is None:
            # Another hook may have called us through its chain: later replies of this turn
            # must queue behind the ones held here.
            server.before_reply = self.hook
        if not self.commit_scheduled:
            self.commit_scheduled = True
            self.server.loop.call_soon(self.commit)
        return True

    def commit(self) -> None:
        """fsync what was written, then send the replies waiting for it, in order."""
        self.commit_scheduled = False
        if self.buf:
            self.flush(retry=True)
        if self.unsynced and self.fd >= 0:
            try:
                os.fdatasync(self.fd)
            except OSError as e:
                self.server.log_warning("Can't persist AOF for fsync error when the AOF fsync "
                                        "policy is 'always': %s. Exiting..." % e.strerror)
                fatal_exit(self.server)
            self.fsynced_size = self.incr_size
            self.last_fsync = time.monotonic()
        self.unsynced = False
        held, self.held = self.held, []
        for conn, data in held:
            if conn.transport is not None:
                conn.transport.write(data)
        if not self.buf:
            self._unhook()

    def _unhook(self) -> None:
        """Stop being called before replies, unless another subsystem's hook is in place."""
        if self.server.before_reply is self.hook:
            self.server.before_reply = None

    def flush(self, retry: bool = False) -> None:
        """Write the buffer to the incr file (commit() fsyncs it under appendfsync always)."""
        server = self.server
        buf = self.buf
        if not buf or self.fd < 0:
            return
        if not self.write_ok and not retry:
            return  # a failed write is retried from cron, once a second
        policy = server.config.appendfsync
        written = 0
        try:
            while written < len(buf):
                written += os.write(self.fd, buf[written:] if written else buf)
        except OSError as e:
            self._write_failed(e, written, policy)
            return
        self.buf = bytearray()
        self.incr_size += written
        self.current_size += written
        if not self.write_ok:
            server.log_warning("AOF write error looks solved, Redis can write again.")
            self.write_ok = True
            server.rdb.update_gate()
        if policy == "always":
            self.unsynced = True

    def _write_failed(self, e: OSError, written: int, policy: str) -> None:
        server = self.server
        server.log_warning("Error writing to the AOF file: %s" % e.strerror)
        if policy == "always":
            server.log_warning("Can't recover from AOF write error when the AOF fsync policy is "
                               "'always'. Exiting...")
            fatal_exit(server)
        if written:
            # Drop the partial command from the file; if that fails, keep what was written.
            try:
                os.ftruncate(self.fd, self.incr_size)
            except OSError:
                del self.buf[:written]
                self.incr_size += written
                self.current_size += written
        self.write_errno = e.errno or errno.EIO
        if self.write_ok:
            self.write_ok = False
            server.rdb.update_gate()

    def _fsync_in_background(self) -> None:
        fd, size = self.fd, self.incr_size

        def job():
            try:
                os.fdatasync(fd)
            except OSError as e:
                self.bio_fsync_ok = False
                self.bio_errno = e.errno or errno.EIO
                return
            if not self.bio_fsync_ok:
                self.bio_fsync_ok = True
            self.fsynced_size = max(self.fsynced_size, size)

        self.fsync_job = self.bio.submit(job)
        self.last_fsync = time.monotonic()

    def _close_in_background(self, fd: int) -> None:
        def job():
            try:
                os.fdatasync(fd)
            except OSError:
                pass
            os.close(fd)
        self.bio.submit(job)

    def cron(self) -> None:
        if self.state == AOF_OFF:
            return
        now = time.monotonic()
        if self.buf:
            # Once a second after a failed write; otherwise what no reply flushed (expiry DELs).
            retry = not self.write_ok and now - self.last_retry >= 1
            if retry:
                self.last_retry = now
            self.flush(retry=retry)
        if self.unsynced or self.held:
            self.commit()
        if self.write_ok and self.server.config.appendfsync == "everysec" and self.fd >= 0 and \
                self.incr_size > self.fsynced_size and now - self.last_fsync >= 1:
            if self.fsync_job is not None and not self.fsync_job.done():
                self.delayed_fsync += 1
            else:
                self._fsync_in_background()
        # A background fsync may have failed (or recovered) since the last tick.
        self.server.rdb.update_gate()

    def write_error(self) -> bytes | None:
        if self.state == AOF_OFF:
            return None
        if not self.write_ok:
            return b"MISCONF Errors writing to the AOF file: " + os.strerror(self.write_errno).encode()
        if not self.bio_fsync_ok:
            return b"MISCONF Errors writing to the AOF file: " + os.strerror(self.bio_errno).encode()
        return None

    # --- open / close ---------------------------------------------------------------------
    def _open_append(self, name: str) -> int:
        return os.open(self.path(name), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def _switch_fd(self, fd: int, size: int = 0) -> None:
        old = self.fd
        self.fd = fd
        self.incr_size = self.fsynced_size = size
        self.selected_db = -1
        if old >= 0:
            self._close_in_background(old)

    def start_sink(self) -> None:
        if self.feed not in self.server.propagation_sinks:
            self.server.propagation_sinks.append(self.feed)

    def stop_sink(self) -> None:
        try:
            self.server.propagation_sinks.remove(self.feed)
        except ValueError:
            pass

    def enable(self) -> bool:
        """CONFIG SET appendonly yes: rewrite the whole dataset as the new base first."""
        server = self.server
        rdb = server.rdb
        self.state = AOF_WAIT_REWRITE
        self.start_sink()
        if rdb.child is not None and rdb.child.kind != "aof":
            self.rewrite_scheduled = True
            server.log_warning("AOF was enabled but there is already another background operation. "
                               "An AOF background was scheduled to start when possible.")
        elif server.current_client is not None and server.current_client.in_exec:
            self.rewrite_scheduled = True
            server.log_warning("AOF was enabled during a transaction. An AOF background was "
                               "scheduled to start when possible.")
        else:
            if rdb.child is not None:
                server.log_warning("AOF was enabled but there is already an AOF rewriting in "
                                   "background. Stopping background AOF and starting a rewrite now.")
                rdb.kill_child()
            if not self.rewrite_background():
                self.state = AOF_OFF
                self.stop_sink()
                server.log_warning("Redis needs to enable the AOF but can't trigger a background AOF "
                                   "rewrite operation. Check the above logs for more info about the "
                                   "error.")
                return False
        self.last_fsync = time.monotonic()
        if not self.write_ok or not self.bio_fsync_ok:
            server.log_warning("AOF reopen, just ignore the last error.")
            self.write_ok = self.bio_fsync_ok = True
        rdb.update_gate()
        return True

    def disable(self) -> None:
        """CONFIG SET appendonly no."""
        server = self.server
        self.commit()
        if self.fd >= 0:
            try:
                os.fdatasync(self.fd)
            except OSError as e:
                server.log_warning("Fail to fsync the AOF file: %s" % e.strerror)
            self._close_in_background(self.fd)
        self.fd = -1
        self.selected_db = -1
        self.state = AOF_OFF
        self.rewrite_scheduled = False
        self.incr_size = self.fsynced_size = 0
        self.stop_sink()
        child = server.rdb.child
        if child is not None and child.kind == "aof":
            server.log_notice("Killing running AOF rewrite child: %d" % child.pid)
            server.rdb.kill_child()
            _unlink(self.path(self._temp_incr_name()))
        self.buf = bytearray()
        self._unhook()
        server.rdb.update_gate()

    def _on_config(self, new, old) -> None:
        if new and self.state == AOF_OFF:
            if not self.enable():
                raise ConfigError("Unable to turn on AOF. Check server logs.")
        elif not new and self.state != AOF_OFF:
            self.disable()

    def waiting_rewrite(self) -> bool:
        return self.state == AOF_WAIT_REWRITE

    def prepare_shutdown(self) -> None:
        if self.state == AOF_OFF:
            return
        self.server.log_notice("Calling fsync() on the AOF file.")
        self.commit()
        if self.fd >= 0:
            try:
                os.fdatasync(self.fd)
            except OSError as e:
                self.server.log_warning("Fail to fsync the AOF file: %s." % e.strerror)
        if self._bio is not None:
            self._bio.shutdown(wait=True)
            self._bio = None

    # --- rewrite ---------------------------------------------------------------------------
    def _open_new_incr(self) -> bool:
        """At the fork: later writes go to a fresh incr file (temp while turning AOF on)."""
        if self.state == AOF_OFF:
            return True
        if self.state == AOF_WAIT_REWRITE:
            name, m = self._temp_incr_name(), None
            flags = os.O_WRONLY | os.O_TRUNC | os.O_CREAT
        else:
            m = self.manifest.copy()
            m.incr_seq += 1
            name = self._incr_name(m.incr_seq)
            m.incrs.append((name, m.incr_seq))
            flags = os.O_WRONLY | os.O_TRUNC | os.O_CREAT | os.O_APPEND
        try:
            fd = os.open(self.path(name), flags, 0o644)
        except OSError as e:
            self.server.log_warning("Can't open the append-only file %s: %s" % (name, e.strerror))
            return False
        if m is not None:
            if not self.persist_manifest(m):
                os.close(fd)
                return False
            self.manifest = m
        self.server.log_notice("Creating AOF incr file %s on background rewrite" % name)
        self._switch_fd(fd)
        return True

    def rewrite_background(self) -> bool:
        server = self.server
        rdb = server.rdb
        if rdb.child is not None:
            return False
        if not self._make_dir():
            self.last_bgrewrite_ok = False
            return False
        # Everything written so far belongs to the old files, which the new base replaces;
        # replies waiting for an fsync get it on the old file before it is switched.
        self.commit()
        if self.buf:
            return False
        if not self._open_new_incr():
            return False
        preamble = server.config.aof_use_rdb_preamble

        def work(report):
            tmp = "temp-rewriteaof-bg-%d.aof" % os.getpid()
            try:
                with open(tmp, "wb") as fh:
                    if preamble:
                        write_rdb(server, fh, aof_base=True, progress=report)
                    else:
                        write_aof_commands(server, fh, progress=report)
                    fh.flush()
                    os.fsync(fh.fileno())
            except Exception as e:
                server.log_warning("Write error writing append only file on disk: %s"
                                   % (getattr(e, "strerror", None) or e))
                _unlink(tmp)
                return 1
            server.log_notice("Successfully created the temporary AOF base file %s" % tmp)
            return 0

        try:
            pid = rdb.fork("aof", work, self._rewrite_done)
        except OSError as e:
            self.last_bgrewrite_ok = False
            server.log_warning("Can't rewrite append only file in background: fork: %s" % e.strerror)
            return False
        server.log_notice("Background append only file rewriting started by pid %d" % pid)
        self.rewrite_scheduled = False
        self.rewrite_start = time.time()
        return True

    def _rewrite_done(self, exitcode: int, bysignal: int, child) -> None:
        server = self.server
        if not bysignal and exitcode == 0:
            server.log_notice("Background AOF rewrite terminated with success")
            if self._install_new_base(child.pid):
                self.last_bgrewrite_ok = True
                self.consecutive_failures = 0
                self.rewrites += 1
                server.log_notice("Background AOF rewrite finished successfully")
                if self.state == AOF_WAIT_REWRITE:
                    self.state = AOF_ON
            else:
                self.last_bgrewrite_ok = False
                self.consecutive_failures += 1
        else:
            if bysignal:
                server.log_warning("Background AOF rewrite terminated by signal %d" % bysignal)
                failed = bysignal != signal.SIGUSR1  # SIGUSR1: stopped on purpose
            else:
                server.log_warning("Background AOF rewrite terminated with error")
                failed = True
            if failed:
                self.last_bgrewrite_ok = False
                self.consecutive_failures += 1
        _unlink("temp-rewriteaof-bg-%d.aof" % child.pid)
        if self.state == AOF_WAIT_REWRITE:
            # The first base failed: what the temp incr collected is useless; start over.
            self.buf = bytearray()
            if self.fd >= 0:
                self._close_in_background(self.fd)
                self.fd = -1
            _unlink(self.path(self._temp_incr_name()))
            self.rewrite_scheduled = True
        self.last_rewrite_seconds = int(time.time() - self.rewrite_start)
        self.rewrite_start = -1.0
        self.last_cow = child.cow

    def _install_new_base(self, pid: int) -> bool:
        server = self.server
        tmp = "temp-rewriteaof-bg-%d.aof" % pid
        m = self.manifest.copy()
        if m.base is not None:
            m.history.append(m.base)
        m.base_seq += 1
        base_name = self._base_name(m.base_seq)
        m.base = (base_name, m.base_seq)
        try:
            os.rename(tmp, self.path(base_name))
        except OSError as e:
            server.log_warning("Error trying to rename the temporary AOF base file %s into %s: %s"
                               % (tmp, base_name, e.strerror))
            return False
        server.log_notice("Successfully renamed the temporary AOF base file %s into %s"
                          % (tmp, base_name))
        new_incr = None
        if self.state == AOF_WAIT_REWRITE:
            m.incr_seq += 1
            new_incr = self._incr_name(m.incr_seq)
            try:
                os.rename(self.path(self._temp_incr_name()), self.path(new_incr))
            except OSError as e:
                server.log_warning("Error trying to rename the temporary AOF incr file %s into %s: %s"
                                   % (self._temp_incr_name(), new_incr, e.strerror))
                _unlink(self.path(base_name))
                return False
            m.incrs.append((new_incr, m.incr_seq))
            server.log_notice("Successfully renamed the temporary AOF incr file %s into %s"
                              % (self._temp_incr_name(), new_incr))
        # Every incr file but the one being written now is covered by the new base.
        keep = 1 if self.fd >= 0 else 0
        covered = m.incrs[:len(m.incrs) - keep] if keep else m.incrs
        m.history += covered
        m.incrs = m.incrs[len(covered):]
        if not self.persist_manifest(m):
            _unlink(self.path(base_name))
            if new_incr is not None:
                _unlink(self.path(new_incr))
            return False
        self.manifest = m
        if self.state != AOF_OFF:
            self.current_size = _size(self.path(base_name)) + self.incr_size
            self.base_size = self.current_size
        self._delete_history()
        return True

    def rewrite_limited(self) -> bool:
        """After repeated failures, automatic rewrites wait 1, 2, 4... up to 60 minutes."""
        if self.consecutive_failures < REWRITE_LIMIT_FAILURES:
            self.limit_delay_minutes = 0
            self.next_limited_rewrite = 0.0
            return False
        now = time.time()
        if self.next_limited_rewrite:
            if now < self.next_limited_rewrite:
                return True
            self.next_limited_rewrite = 0.0
            return False
        self.limit_delay_minutes = min(60, self.limit_delay_minutes * 2 or 1)
        self.next_limited_rewrite = now + self.limit_delay_minutes * 60
        self.server.log_warning("Background AOF rewrite has repeatedly failed and triggered the "
                                "limit, will retry in %d minutes" % self.limit_delay_minutes)
        return True

    def cron_rewrite(self) -> bool:
        """From the RDB cron when no child runs: a scheduled or automatic rewrite."""
        config = self.server.config
        if self.rewrite_scheduled and not self.rewrite_limited():
            return self.rewrite_background()
        if self.state == AOF_ON and config.auto_aof_rewrite_percentage and \
                self.current_size > config.auto_aof_rewrite_min_size:
            base = self.base_size or 1
            growth = self.current_size * 100 // base - 100
            if growth >= config.auto_aof_rewrite_percentage and not self.rewrite_limited():
                self.server.log_notice("Starting automatic rewriting of AOF on %d%% growth" % growth)
                return self.rewrite_background()
        return False

    # --- loading -----------------------------------------------------------------------------
    def _upgrade_legacy(self) -> None:
        """A pre-7.0 single appendonly.aof in dir becomes the base of a new manifest."""
        name = self.filename
        m = self.manifest
        legacy_only = (m.base is not None and not m.incrs and m.base[0] == name
                       and not os.path.exists(self.path(name)))
        if not os.path.isfile(name) or not (not os.path.isdir(self.dirname) or m.is_empty()
                                            or legacy_only):
            return
        if not self._make_dir():
            fatal_exit(self.server)
        m = Manifest()
        m.base = (name, 1)
        m.base_seq = 1
        # Manifest first: if we stop before the rename, the next start sees this case again.
        if not self.persist_manifest(m):
            fatal_exit(self.server)
        try:
            os.rename(name, self.path(name))
        except OSError as e:
            self.server.log_warning("Error trying to rename the old AOF file %s into dir %s: %s"
                                    % (name, self.dirname, e.strerror))
            fatal_exit(self.server)
        self.manifest = m
        self.server.log_notice("Successfully migrated an old-style AOF file (%s) into the AOF "
                               "directory (%s)." % (name, self.dirname))

    def load_at_startup(self) -> None:
        server = self.server
        self._upgrade_legacy()
        m = self.manifest
        files = ([m.base[0]] if m.base is not None else []) + [name for name, _ in m.incrs]
        if not files:
            self._open_on_start()
            return
        total = 0
        for name in files:
            try:
                total += os.stat(self.path(name)).st_size
            except FileNotFoundError:
                server.log_warning("The append log file %s doesn't exist: No such file or directory"
                                   % name)
                fatal_exit(server)
                return
        if total == 0:
            self._open_on_start()
            return
        info = server.rdb.loading_info = LoadingInfo(total)
        started = time.perf_counter()
        # Nothing expires while the AOF replays (every time in it is absolute), as in Redis.
        server.frozen_time_ms = 0

        def done(_result):
            server.frozen_time_ms = None
            server.rdb.loading_info = None
            server.rdb.dirty_at_save = server.dirty
            server.log_notice("DB loaded from append only file: %.3f seconds"
                              % (time.perf_counter() - started))
            self.base_size = _size(self.path(m.base[0])) if m.base is not None else 0
            self._open_on_start()

        def failed(e):
            server.frozen_time_ms = None
            if str(e):
                server.log_warning(str(e))
            fatal_exit(server)

        run_loading(server, self._load_files(files, info), done, failed)

    def _load_files(self, files: list, info: LoadingInfo):
        has_base = self.manifest.base is not None
        for i, name in enumerate(files):
            started = time.perf_counter()
            truncated = yield from self._load_one(name, info)
            if truncated and i != len(files) - 1:
                raise LoadError("Fatal error: the truncated file is not the last file")
            self.server.log_notice("DB loaded from %s file %s: %.3f seconds" % (
                "base" if has_base and i == 0 else "incr", name, time.perf_counter() - started))
            info.base_bytes += _size(self.path(name))

    def _load_one(self, name: str, info: LoadingInfo):
        """Replay one file; returns True when a torn tail was cut off."""
        server = self.server
        path = self.path(name)
        try:
            fh = open(path, "rb")
        except OSError as e:
            raise LoadError("Fatal error: can't open the append log file %s for reading: %s"
                            % (name, e.strerror)) from None
        with fh:
            if fh.read(5) == b"REDIS":
                old_style = name == self.filename
                server.log_notice("Reading RDB preamble from AOF file..." if old_style else
                                  "Reading RDB base file on AOF loading...")
                fh.seek(0)
                try:
                    _loaded, _expired, offset = yield from load_rdb_steps(
                        server, fh, preamble=True, info=info)
                except Exception as e:
                    server.log_warning(
                        "Error reading the RDB preamble of the AOF file %s, AOF loading aborted" % name
                        if old_style else
                        "Error reading the RDB base file %s, AOF loading aborted" % name)
                    raise LoadError(str(e)) from None
                if old_style:
                    server.log_notice("Reading the remaining AOF tail...")
                fh.seek(offset)
            else:
                fh.seek(0)
                offset = 0
            return (yield from self._replay(fh, name, offset, info))

    def _replay(self, fh, name: str, offset: int, info: LoadingInfo):
        """Run the commands of one file from ``offset`` as a fake client, like Redis."""
        server = self.server
        client = Client(server, None, 0)
        client.in_exec = True               # never block
        client.authenticated = True
        caller = server.current_client
        valid_up_to = offset                # end of the last command fully applied
        before_multi = offset
        multi = None                        # queued commands while inside MULTI
        buf = b""
        buf_start = offset                  # file offset of buf[0]
        pos = 0
        eof = False
        count = 0
        try:
            while True:
                try:
                    for argv, end in parse_commands(buf, pos):
                        pos = end
                        cmd = registry.lookup(argv)
                        if cmd is None:
                            raise LoadError("Unknown command '%s' reading the append only file %s"
                                            % (argv[0].decode(errors="replace"), name))
                        cmd_name = cmd.fullname
                        if cmd_name == "multi":
                            before_multi = valid_up_to
                            multi = []
                        elif cmd_name == "exec" and multi is not None:
                            for qcmd, qargv in multi:
                                self._apply(client, qcmd, qargv)
                            multi = None
                        elif multi is not None:
                            multi.append((cmd, argv))
                        else:
                            self._apply(client, cmd, argv)
                        valid_up_to = buf_start + end
                        count += 1
                        if not count & 1023:
                            info.loaded_bytes = info.base_bytes + buf_start + end
                            yield
                except AOFFormatError:
                    raise LoadError("Bad file format reading the append only file %s: make a backup "
                                    "of your AOF file, then use ./redis-check-aof --fix "
                                    "<filename.manifest>" % name) from None
                if eof:
                    break
                chunk = fh.read(_READ_BLOCK)
                if not chunk:
                    eof = True
                    if pos >= len(buf) and multi is None:
                        break
                    continue
                buf = buf[pos:] + chunk
                buf_start += pos
                pos = 0
        finally:
            server.current_client = caller
        info.loaded_bytes = info.base_bytes + buf_start + len(buf)
        if multi is not None and pos >= len(buf):
            server.log_warning("Revert incomplete MULTI/EXEC transaction in AOF file %s" % name)
            valid_up_to = before_multi
        elif pos >= len(buf):
            return False
        elif multi is not None:
            valid_up_to = before_multi
        return self._truncate_tail(name, valid_up_to)

    def _apply(self, client, cmd, argv) -> None:
        self.server.current_client = client
        try:
            cmd.func(client, argv)
        except CommandError:
            pass
        if self.server.config.key_load_delay:
            _delay(self.server.config.key_load_delay)

    def _truncate_tail(self, name: str, valid_up_to: int) -> bool:
        server = self.server
        if server.config.aof_load_truncated:
            server.log_warning("!!! Warning: short read while loading the AOF file %s!!!" % name)
            server.log_warning("!!! Truncating the AOF %s at offset %d !!!" % (name, valid_up_to))
            try:
                os.truncate(self.path(name), valid_up_to)
            except OSError as e:
                server.log_warning("Error truncating the AOF file %s: %s" % (name, e.strerror))
            else:
                server.log_warning("AOF %s loaded anyway because aof-load-truncated is enabled" % name)
                return True
        raise LoadError(
            "Unexpected end of file reading the append only file %s. You can: 1) Make a backup of "
            "your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively "
            "you can set the 'aof-load-truncated' configuration option to yes and restart the "
            "server." % name)

    def _open_on_start(self) -> None:
        """After loading: make sure a base exists, open the last incr file, start logging."""
        server = self.server
        if not self._make_dir():
            fatal_exit(server)
        m = self.manifest
        if m.base is None and not m.incrs:
            m = m.copy()
            m.base_seq += 1
            base_name = self._base_name(m.base_seq)
            tmp = self.path("temp-" + base_name)
            try:
                with open(tmp, "wb") as fh:
                    if server.config.aof_use_rdb_preamble:
                        write_rdb(server, fh, aof_base=True)
                    else:
                        write_aof_commands(server, fh)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, self.path(base_name))
            except OSError as e:
                server.log_warning("Can't create the AOF base file %s: %s" % (base_name, e.strerror))
                fatal_exit(server)
            m.base = (base_name, m.base_seq)
            server.log_notice("Creating AOF base file %s on server start" % base_name)
            self.base_size = _size(self.path(base_name))
        if m.incrs:
            name = m.incrs[-1][0]
            server.log_notice("Opening AOF incr file %s on server start" % name)
        else:
            m = m.copy()
            m.incr_seq += 1
            name = self._incr_name(m.incr_seq)
            m.incrs.append((name, m.incr_seq))
            server.log_notice("Creating AOF incr file %s on server start" % name)
        try:
            fd = self._open_append(name)
        except OSError as e:
            server.log_warning("Can't open the append-only file %s: %s" % (name, e.strerror))
            fatal_exit(server)
            return
        if m is not self.manifest:
            if not self.persist_manifest(m):
                fatal_exit(server)
            self.manifest = m
        size = os.fstat(fd).st_size
        self._switch_fd(fd, size)
        self.current_size = self.base_size + sum(_size(self.path(n)) for n, _ in m.incrs)
        self.state = AOF_ON
        self.start_sink()
        self._delete_history()

    # --- INFO --------------------------------------------------------------------------------
    def info_fields(self) -> list:
        child = self.server.rdb.child
        rewriting = child is not None and child.kind == "aof"
        out = [
            ("aof_enabled", int(self.state != AOF_OFF)),
            ("aof_rewrite_in_progress", int(rewriting)),
            ("aof_rewrite_scheduled", int(self.rewrite_scheduled)),
            ("aof_last_rewrite_time_sec", self.last_rewrite_seconds),
            ("aof_current_rewrite_time_sec", int(time.time() - self.rewrite_start) if rewriting else -1),
            ("aof_last_bgrewrite_status", "ok" if self.last_bgrewrite_ok else "err"),
            ("aof_rewrites", self.rewrites),
            ("aof_rewrites_consecutive_failures", self.consecutive_failures),
            ("aof_last_write_status", "ok" if self.write_ok and self.bio_fsync_ok else "err"),
            ("aof_last_cow_size", self.last_cow),
            ("module_fork_in_progress", 0), ("module_fork_last_cow_size", 0),
        ]
        if self.server.config.appendonly:
            pending = int(self.fsync_job is not None and not self.fsync_job.done())
            out += [("aof_current_size", self.current_size), ("aof_base_size", self.base_size),
                    ("aof_pending_rewrite", int(self.rewrite_scheduled)),
                    ("aof_buffer_length", len(self.buf)), ("aof_pending_bio_fsync", pending),
                    ("aof_delayed_fsync", self.delayed_fsync)]
        return out


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def _install(server) -> None:
    aof = server.aof = AppendOnly(server)
    server.cron_hooks.append(aof.cron)
    server.config.add_listener("appendonly", aof._on_config)


def register() -> None:
    from ..server.server import on_server_init
    on_server_init(_install)


register()
