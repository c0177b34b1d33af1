"""The disk engine: the ``Database`` interface over one ordered key-value store.

One ``DiskEngine`` per server owns the store, the decoded-value cache and the
write batch being built; each logical database is a ``DiskDatabase`` over a
physical namespace of it (see encoding.py for the record layouts).

Writes of a command go to ``overlay`` (puts and deletes keyed by store key)
and to the journals of cached collections; reads look at the cache, then the
overlay, then the store, so a command sees its own writes before they are
committed.  While a batch is pending, ``server.before_reply`` holds every
reply; once per event-loop turn the batch is written atomically (one
WriteBatch, with an fsync under ``disk-sync always``) and the held replies go
out: a group commit, like Redis's beforeSleep.  ``everysec`` syncs the
write-ahead log from a thread once a second.  Either way a reply only leaves
after its write reached the OS, so acknowledged writes survive kill -9.

Commits, conversions of plain values to journaled ones and cache evictions
happen only between commands (``server.current_client`` is None): a command
may hold a collection object across its own calls into the keyspace.
"""

from __future__ import annotations

import os
import shutil
import random
import threading
import time
import weakref
from collections import OrderedDict

from ..base import Database
from . import encoding as enc
from .encoding import FLAG_EXPIRE, FLAG_FIELD_TTL, HASH, STREAM, STRING
from .journal import JOURNALED, Entry, kind_of, load_value, meta_bytes, to_journaled, write_all, \
    write_dirty
from .store import Store

_MISSING = object()
_ATIME_KEEP = 1 << 17          # access times remembered (OBJECT IDLETIME / LRU); oldest dropped
_CURSORS_KEEP = 1024           # SCAN resume points kept per database
_EXPIRES_SAMPLE = 256          # keys DiskDatabase.expires shows
_AUTO_COMMIT_OPS = 50000       # a batch this big is written even in the middle of a command
_GC_JOBS_PER_TICK = 32
_FIELD_TTL_WALK_EVERY = 5.0    # seconds between walks of the field-TTL index
_GC_POINT_DELETE_MAX = 64      # smaller stale collections are deleted key by key (no range tombstone)
# Stream commands that never touch consumer groups: their writes skip rewriting the groups record.
_NO_GROUP_CHANGE = frozenset(("xadd", "xtrim", "xdel", "xsetid"))


class DiskEngine:
    def __init__(self, server, path: str):
        self.server = server
        cfg = server.config
        budget = max(cfg.disk_cache_size, 1 << 20)
        # Up to half the budget holds decoded collections in Python; RocksDB's block cache
        # gets the rest, including whatever the decoded cache leaves unused (all of it for a
        # dataset of strings), resized by the cron.
        self.cache_budget = budget // 2
        self.block_cache_capacity = budget
        self.store = Store(path, budget)
        self.path = self.store.path
        # Where a fork's checkpoint goes; one left by a crash is removed.
        self.fork_snapshot_path = self.path + ".fork-snapshot"
        shutil.rmtree(self.fork_snapshot_path, ignore_errors=True)
        self.sync_mode = cfg.disk_sync
        self.cache: OrderedDict = OrderedDict()   # mkey -> Entry (collections only)
        self.cache_bytes = 0
        self.overlay: dict = {}                   # store key -> bytes | None (pending batch)
        self.dirty: dict = {}                     # mkey -> Entry with journaled changes
        self.counts: dict = {}                    # pid -> [keys, expires]
        self.counts_dirty: set = set()
        self.state_dirty = False
        self.hits = self.misses = 0
        self.commits = 0
        self.read_only = False
        self._next_hook = None
        self.held: list = []            # (connection, reply bytes) waiting for the commit
        self.release_scheduled = False
        self.unsynced = False
        self.imported = self.store.get(enc.IMPORTED_KEY) is not None
        self.gc_jobs_done = 0
        self.gc_jobs_pending = sum(1 for _ in self.store.items(
            enc.GC_PREFIX, enc.next_prefix(enc.GC_PREFIX)))
        self.gc_pending = bool(self.gc_jobs_pending)
        raw = self.store.get(enc.STATE_KEY)
        if raw is None:
            self.next_version, self.next_pid, self.gc_seq, self.pids = 1, 1, 0, []
        else:
            self.next_version, self.next_pid, self.gc_seq, self.pids = enc.decode_state(raw)
        while len(self.pids) < cfg.databases:
            self.pids.append(self.new_pid())
        for pid in self.pids:
            raw = self.store.get(enc.count_key(pid))
            self.counts[pid] = list(enc.decode_counts(raw)) if raw is not None else [0, 0]
        self.dbs = [DiskDatabase(i, self, self.pids[i]) for i in range(cfg.databases)]
        self._ttl_walk = [(db, b"y" + enc.pid_bytes(db.pid)) for db in self.dbs]
        self._ttl_walk_next = time.monotonic() + _FIELD_TTL_WALK_EVERY
        self._stop = threading.Event()
        self._syncer = threading.Thread(target=self._sync_loop, name="emberkv-disk-sync",
                                        daemon=True)
        self._syncer.start()
        cfg.add_listener("disk-sync", self._set_sync)
        cfg.add_listener("disk-cache-size", self._set_cache_size)
        # Bound methods made once: they are compared by identity with what the server holds.
        self._hook = self._before_reply
        self._rearm_sink = self._rearm
        self.fork_snapshot = None       # checkpoint directory a BGSAVE child reads
        ref = weakref.ref(self)
        os.register_at_fork(before=lambda: _before_fork(ref),
                            after_in_child=lambda: _child_after_fork(ref))

    # --- ids ------------------------------------------------------------------------------
    def new_version(self) -> int:
        v = self.next_version
        self.next_version = v + 1
        self.state_dirty = True
        return v

    def new_pid(self) -> int:
        p = self.next_pid
        self.next_pid = p + 1
        self.state_dirty = True
        return p

    # --- the batch --------------------------------------------------------------------------
    def register(self, e: Entry) -> None:
        self.dirty[e.mkey] = e
        self.arm()

    def arm(self) -> None:
        """Make sure the batch is committed before the next reply is written."""
        server = self.server
        current = server.before_reply
        if current is not self._hook:
            self._next_hook = current      # chain whatever was there (the AOF's hook)
            server.before_reply = self._hook
        sinks = server.propagation_sinks
        if sinks:
            # The AOF's sink installs its own hook after each write: come back after it.
            sink = self._rearm_sink
            if sinks[-1] is not sink:
                if sink in sinks:
                    sinks.remove(sink)
                sinks.append(sink)
            elif len(sinks) == 1:
                sinks.pop()     # nobody else listens any more

    def _rearm(self, db_index, argv) -> None:
        if self.overlay or self.dirty:
            self.arm()

    def _before_reply(self, conn, data: bytes) -> bool:
        """``server.before_reply``: the batch must be committed before this reply leaves.

        Replies are held (True) and released by ``_release`` after one commit shared by every
        connection served in this event-loop turn: one write (and under disk-sync always one
        fsync) for the whole group, as Redis does in beforeSleep.  Chained behind the AOF's
        hook, the commit happens here and the AOF decides about the reply."""
        server = self.server
        nxt = self._next_hook
        self._next_hook = None
        server.before_reply = None
        if server.current_client is not None:
            # A reply written while a command runs (a busy script serving other clients,
            # pub/sub): it does not wait; the batch is committed after the command.
            if self.overlay or self.dirty:
                self.arm()
            return nxt(conn, data) if nxt is not None else False
        client = conn.client
        if (nxt is not None or server.config.appendonly or client is None or client.closing
                or client.close_after_reply):
            # The connection closes right after this reply (QUIT...): no later turn for it.
            self.commit()
            return nxt(conn, data) if nxt is not None else False
        self.held.append((conn, data))
        if not self.release_scheduled:
            self.release_scheduled = True
            server.loop.call_soon(self._release)
        server.before_reply = self._hook
        return True

    def _release(self) -> None:
        self.release_scheduled = False
        self.commit()
        held, self.held = self.held, []
        for conn, data in held:
            transport = conn.transport
            if transport is not None and not transport.is_closing():
                transport.write(data)
        server = self.server
        if server.before_reply is self._hook and not (self.overlay or self.dirty):
            server.before_reply = None

    def pending(self) -> bool:
        return bool(self.overlay or self.dirty or self.counts_dirty or self.state_dirty)

    def maybe_autocommit(self) -> None:
        if len(self.overlay) > _AUTO_COMMIT_OPS:
            self.commit()

    def commit(self) -> None:
        """Write the batch atomically (fsync under disk-sync always); convert plain values and
        evict from the cache when no command is running."""
        if self.read_only:
            return
        between = self.server.current_client is None
        if not self.pending():
            if between and self.cache_bytes > self.cache_budget:
                self._evict()
            return
        ops = self.overlay
        if not self.imported and not self.server.loading:
            # Whatever the start-up loaded is in the store now: never import dump.rdb again.
            ops[enc.IMPORTED_KEY] = b"1"
            self.imported = True
        keep = []
        cache = self.cache
        for e in self.dirty.values():
            e.registered = False
            if e.plain:
                if between:
                    obj = e.obj = to_journaled(e.obj)
                    obj._e = e
                    e.plain = False
                    self.track_field_ttl(e)     # a new object: the old one's hint is void
                else:
                    keep.append(e)          # not journaled yet: rewritten again next time
            if e.rewrite:
                if e.persisted:
                    self._gc_version(e.pid, e.key, e.version, len(e.obj))
                    e.version = self.new_version()
                write_all(e, ops)
                e.persisted = True
                e.rewrite = e.plain
            else:
                write_dirty(e, ops, self.store.get)
            ops[e.mkey] = meta_bytes(e)
            if e.kind == HASH:
                has_ttl = bool(e.obj.ttl)
                if has_ttl != e.ttl_indexed:
                    ops[enc.field_ttl_key(e.pid, e.key)] = b"" if has_ttl else None
                    e.ttl_indexed = has_ttl
            size = e.unit * len(e.obj) + 200
            if e.mkey in cache:
                self.cache_bytes += size - e.size
            e.size = size
        for pid in self.counts_dirty:
            c = self.counts.get(pid)
            if c is not None:
                ops[enc.count_key(pid)] = enc.encode_counts(c[0], c[1])
        if self.state_dirty:
            ops[enc.STATE_KEY] = enc.encode_state(self.next_version, self.next_pid, self.gc_seq,
                                                  self.pids)
        self.store.write(ops, sync=self.sync_mode == "always")
        self.commits += 1
        self.overlay = {}
        self.dirty = {}
        self.counts_dirty = set()
        self.state_dirty = False
        self.unsynced = True
        if keep:
            for e in keep:
                e.registered = True
                self.dirty[e.mkey] = e
            self.arm()
        if between and self.cache_bytes > self.cache_budget:
            self._evict()

    # --- cache ------------------------------------------------------------------------------
    def cache_put(self, e: Entry) -> None:
        old = self.cache.pop(e.mkey, None)
        if old is not None:
            self.cache_bytes -= old.size
        self.cache[e.mkey] = e
        self.cache_bytes += e.size

    def cache_drop(self, e: Entry) -> None:
        if self.cache.pop(e.mkey, None) is not None:
            self.cache_bytes -= e.size
        if e.registered:
            self.dirty.pop(e.mkey, None)
            e.registered = False
        e.detach()

    def _evict(self) -> None:
        """Drop least recently used clean entries until the cache fits its budget."""
        cache = self.cache
        target = self.cache_budget * 9 // 10
        victims = []
        total = self.cache_bytes
        for mkey, e in cache.items():
            if total <= target:
                break
            if not e.registered:
                victims.append(e)
                total -= e.size
        for e in victims:
            self.cache_drop(e)

    # --- GC ---------------------------------------------------------------------------------
    def _gc_job(self, count: int, ranges: list) -> None:
        self.gc_seq += 1
        self.state_dirty = True
        self.overlay[enc.gc_key(self.gc_seq)] = enc.encode_gc(count, ranges)
        self.gc_pending = True
        self.gc_jobs_pending += 1

    def _gc_version(self, pid: int, key: bytes, version: int, count: int) -> None:
        """The members of an old version of a key are garbage now."""
        ranges = []
        for tag in (b"s", b"z"):
            p = enc.sub_prefix(tag, pid, key, version)
            ranges.append((p, enc.next_prefix(p)))
        self._gc_job(count, ranges)

    def gc_namespace(self, pid: int) -> None:
        ranges = []
        for tag in (b"m", b"s", b"z", b"x", b"y"):
            p = tag + enc.pid_bytes(pid)
            ranges.append((p, enc.next_prefix(p)))
        self._gc_job(1 << 62, ranges)

    def gc_step(self) -> int:
        """Reclaim a bounded number of stale ranges; returns how many jobs ran."""
        if not self.gc_pending:
            return 0
        ops: dict = {}
        ranges = []
        jobs = 0
        store = self.store
        for k, v in store.items(enc.GC_PREFIX, enc.next_prefix(enc.GC_PREFIX)):
            count, job_ranges = enc.decode_gc(v)
            for start, end in job_ranges:
                if count <= _GC_POINT_DELETE_MAX:
                    for sk, _sv in store.items(start, end):
                        ops[sk] = None
                else:
                    ranges.append((start, end))
            ops[k] = None
            jobs += 1
            if jobs >= _GC_JOBS_PER_TICK:
                break
        if jobs:
            store.write(ops, ranges)
            self.gc_jobs_done += jobs
            self.gc_jobs_pending = max(0, self.gc_jobs_pending - jobs)
        else:
            self.gc_pending = False
        return jobs

    # --- hash field expiry -----------------------------------------------------------------
    def track_field_ttl(self, e: Entry) -> None:
        """Queue a hash with field TTLs for active field expiry (hashes.HashFieldExpiry finds
        memory-engine hashes by sweeping their dicts; here the engine tells it)."""
        obj = e.obj
        if e.kind != HASH or not obj.ttl:
            return
        queue = getattr(self.server, "hash_field_expiry", None)
        if queue is None:
            return
        for db in self.dbs:
            if db.pid == e.pid:
                obj.sched = None    # its queued hint may name another key or database
                queue.track(db, e.key, obj)
                return

    def _walk_field_ttls(self, budget: int = 64) -> None:
        """After start-up, load the hashes listed in the field-TTL index (a few per tick)."""
        while budget > 0 and self._ttl_walk:
            db, after = self._ttl_walk[0]
            yp = b"y" + enc.pid_bytes(db.pid)
            cut = len(yp)
            done = True
            for k, _v in self.store.items(after, enc.next_prefix(yp)):
                if k == after:
                    continue
                db.lookup_notouch(k[cut:])      # loading it queues it (DiskDatabase._load)
                budget -= 1
                if budget <= 0:
                    self._ttl_walk[0] = (db, k)
                    done = False
                    break
            if done:
                self._ttl_walk.pop(0)

    # --- streams ------------------------------------------------------------------------------
    def stream_access(self, e: Entry) -> None:
        """Stream commands also change fields and consumer groups directly, so any stream a
        writing command looks at has its metadata (and groups) written again."""
        c = self.server.current_client
        cmd = c.cur_cmd if c is not None else None
        if cmd is not None and cmd.is_readonly and not c.in_exec:
            return
        if cmd is None or c.in_exec or cmd.name not in _NO_GROUP_CHANGE:
            e.groups_dirty = True
        e.touch_meta()

    # --- cron / shutdown ------------------------------------------------------------------------
    def drop_fork_snapshot(self) -> None:
        if os.path.isdir(self.fork_snapshot_path):
            shutil.rmtree(self.fork_snapshot_path, ignore_errors=True)
        self.fork_snapshot = None

    def cron(self) -> None:
        if self.read_only:
            return
        self.commit()
        self.fit_block_cache()
        if self.fork_snapshot is not None and getattr(
                getattr(self.server, "rdb", None), "child", None) is None:
            self.drop_fork_snapshot()     # the child that read it is gone
        if self._ttl_walk:
            self._walk_field_ttls()
        elif time.monotonic() > self._ttl_walk_next:
            # Evicted hashes leave the field-expiry queue (it holds them weakly): walk again.
            self._ttl_walk_next = time.monotonic() + _FIELD_TTL_WALK_EVERY
            self._ttl_walk = [(db, b"y" + enc.pid_bytes(db.pid)) for db in self.dbs]
        if not self.imported and not self.server.loading:
            self.state_dirty = True     # a commit that records the import
            self.commit()
        if self.gc_step():
            self.unsynced = True

    def _set_sync(self, value, old) -> None:
        self.sync_mode = value
        if value == "always":
            self.unsynced = True
            self.sync_now()

    def fit_block_cache(self) -> None:
        """Give the block cache the part of the budget the decoded cache does not use (in 8 MB
        steps, so a busy cron does not resize it all the time)."""
        budget = max(self.server.config.disk_cache_size, 1 << 20)
        step = min(8 << 20, max(budget // 16, 1 << 20))
        decoded = min(self.cache_bytes, self.cache_budget)
        want = max(budget - decoded, budget - self.cache_budget)
        want = max(step, want // step * step) if budget >= step else budget
        if want != self.block_cache_capacity:
            self.block_cache_capacity = want
            self.store.set_block_cache_size(want)

    def _set_cache_size(self, value, old) -> None:
        budget = max(value, 1 << 20)
        self.cache_budget = budget // 2
        self.fit_block_cache()
        if self.cache_bytes > self.cache_budget:
            self.arm()      # evict after this command

    def sync_now(self) -> None:
        if self.unsynced:
            self.unsynced = False
            self.store.sync_wal()

    def _sync_loop(self) -> None:
        """disk-sync everysec: fsync the write-ahead log once a second (rocksdict releases the
        GIL meanwhile, so the event loop goes on)."""
        while not self._stop.wait(1.0):
            if self.sync_mode == "everysec":
                try:
                    self.sync_now()
                except Exception:
                    pass

    def on_shutdown(self, save) -> bool:
        self.commit()
        self.unsynced = True
        self.sync_now()
        return True

    def close(self) -> None:
        self._stop.set()
        if not self.read_only:
            self.commit()
            self.store.close()

    # --- start-up: import dump.rdb once ------------------------------------------------------
    def startup(self) -> None:
        """Runs before the snapshot loader: once the store holds the dataset, skip loading it."""
        server = self.server
        if not self.imported:
            return      # first start: the RDB loader imports dump.rdb through DiskDatabase.set
        rdb = getattr(server, "rdb", None)
        hooks = server.startup_hooks
        for i, hook in enumerate(hooks):
            if rdb is not None and hook == rdb.startup:
                hooks[i] = self._startup_without_load
        server.log_notice("DB loaded from the disk engine (%s)" % self.path)

    def _startup_without_load(self) -> None:
        aof = getattr(self.server, "aof", None)
        if aof is None:
            return
        aof.load_manifest()
        if self.server.config.appendonly and hasattr(aof, "_open_on_start"):
            aof._open_on_start()

    # --- INFO -----------------------------------------------------------------------------------
    def info_fields(self) -> list:
        lookups = self.hits + self.misses
        return [
            ("disk_engine_dir", self.path),
            ("disk_sync", self.sync_mode),
            ("disk_used_bytes", self.store.disk_usage()),
            ("disk_live_data_bytes", self.store.property("rocksdb.estimate-live-data-size")),
            ("disk_cache_budget", self.server.config.disk_cache_size),
            ("disk_value_cache_bytes", self.cache_bytes),
            ("disk_value_cache_keys", len(self.cache)),
            ("disk_value_cache_hits", self.hits),
            ("disk_value_cache_misses", self.misses),
            ("disk_value_cache_hit_rate", "%.4f" % (self.hits / lookups if lookups else 0.0)),
            ("disk_block_cache_bytes", self.store.block_cache_usage()),
            ("disk_block_cache_capacity", self.block_cache_capacity),
            ("disk_memtable_bytes", self.store.property("rocksdb.cur-size-all-mem-tables")),
            ("disk_compaction_pending", self.store.property("rocksdb.compaction-pending")),
            ("disk_running_compactions", self.store.property("rocksdb.num-running-compactions")),
            ("disk_commits", self.commits),
            ("disk_gc_jobs_pending", self.gc_jobs_pending),
            ("disk_gc_jobs_done", self.gc_jobs_done),
            ("disk_pending_ops", len(self.overlay) + len(self.dirty)),
        ]


_KEEP_IN_CHILD: list = []


def _before_fork(ref) -> None:
    """In the parent, just before a BGSAVE or AOF-rewrite child is forked: commit what is
    pending and take a checkpoint (hard links to the immutable table files plus a flushed
    memtable), so the child reads exactly the dataset of the fork instant, as Redis's child
    does -- an AOF rewrite depends on it, since every later write goes to the new
    incremental file."""
    engine = ref()
    if engine is None or engine.read_only:
        return
    engine.commit()
    engine.drop_fork_snapshot()
    try:
        engine.store.checkpoint(engine.fork_snapshot_path)
        engine.fork_snapshot = engine.fork_snapshot_path
    except Exception as e:      # the child falls back to the live store, opened read-only
        engine.server.log_warning("Disk engine: checkpoint for the child failed: %s" % e)
        engine.fork_snapshot = None


def _child_after_fork(ref) -> None:
    """In a forked child: the parent's RocksDB handle is unusable (its threads are gone and
    the child closes inherited descriptors), so reads go to a read-only open of the
    checkpoint taken just before the fork.  Nothing is written."""
    engine = ref()
    if engine is None:
        return
    engine.read_only = True
    engine._stop.set()
    # Never drop the parent's handle here: its destructor would wait forever for a flush
    # by background threads that do not exist in the child.
    _KEEP_IN_CHILD.append(engine.store)
    engine.store = _ReadOnlyStore(engine.fork_snapshot or engine.path)
    engine.fork_snapshot = None     # the parent's to remove
    engine.cache = OrderedDict()
    engine.cache_bytes = 0
    engine.overlay = {}
    engine.dirty = {}


class _ReadOnlyStore:
    def __init__(self, path: str):
        self.path = path
        self._store = None

    def __getattr__(self, name):
        if self._store is None:
            self._store = Store(self.path, 8 << 20, read_only=True)
        return getattr(self._store, name)


# ------------------------------------------------------------------------------- a database

class DiskDatabase(Database):
    __slots__ = ("index", "engine", "hooks", "pid", "_mp", "atime", "lfu", "notify_new",
                 "_cursors", "_cursor_seq", "_x_low")
    # No ``data`` attribute: snapshot writers and sweeps take the generic, engine-neutral path.

    def __init__(self, index: int, engine: DiskEngine, pid: int):
        self.index = index
        self.engine = engine
        self.hooks = engine.server
        self.pid = pid
        self._mp = enc.meta_prefix(pid)
        self.atime: dict = {}       # key -> access clock, for the keys used most recently
        self.lfu: dict = {}         # key -> LFU counter (LFU policies, RESTORE FREQ)
        self.notify_new = False
        self._cursors: OrderedDict = OrderedDict()   # SCAN cursor -> store key to resume at
        self._cursor_seq = 0
        self._x_low = 0             # every expiry index entry before this time was handled

    # --- finding a key --------------------------------------------------------------------
    def _find(self, mkey: bytes):
        """The cached Entry, the raw metadata bytes, or None."""
        eng = self.engine
        e = eng.cache.get(mkey)
        if e is not None:
            return e
        raw = eng.overlay.get(mkey, _MISSING)
        if raw is _MISSING:
            raw = eng.store.get(mkey)
        return raw

    def _load(self, mkey: bytes, key: bytes, raw: bytes) -> Entry:
        """Materialize a collection from its members (and keep it in the cache)."""
        eng = self.engine
        eng.misses += 1
        kind = raw[0]
        version, _count, _tail = enc.decode_collection(raw)
        e = Entry(eng, self.pid, key, mkey, kind, version, None)
        e.persisted = True
        e.expire = enc.meta_expire(raw)
        e.obj = load_value(e, raw, eng.store)
        e.obj._e = e
        eng.cache_put(e)
        if e.ttl_indexed:
            eng.track_field_ttl(e)
        if eng.overlay.pop(mkey, _MISSING) is not _MISSING:
            e.touch_meta()      # its pending metadata now lives in the entry
        elif eng.cache_bytes > eng.cache_budget:
            eng.arm()           # evict once this command is done
        return e

    def _value(self, mkey, key, found):
        """The value for a found record (loading a collection if needed)."""
        if type(found) is Entry:
            return found.obj
        if found[0] == STRING:
            return enc.string_payload(found)
        return self._load(mkey, key, found).obj

    def _remember_access(self, key, clock: int) -> None:
        at = self.atime
        at.pop(key, None)
        at[key] = clock
        if len(at) > _ATIME_KEEP:
            for k in list(at)[:_ATIME_KEEP // 8]:
                del at[k]

    def _touch_access(self, key) -> None:
        hooks = self.hooks
        self._remember_access(key, hooks.lru_clock)
        if hooks.lfu_enabled:
            hooks.lfu_touch(self, key)

    # --- reads -----------------------------------------------------------------------------
    def lookup(self, key):
        return self._lookup(key, True)

    def lookup_notouch(self, key):
        return self._lookup(key, False)

    def _lookup(self, key, touch: bool):
        mkey = self._mp + key
        eng = self.engine
        e = eng.cache.get(mkey)
        if e is not None:
            when = e.expire
            if when is not None and self.hooks.now_ms() > when:
                if self.hooks.may_expire():
                    self._expire(key)
                return None
            eng.hits += 1
            eng.cache.move_to_end(mkey)
            if e.kind == STREAM:
                eng.stream_access(e)
            if touch and self.hooks.touch_enabled:
                self._touch_access(key)
            return e.obj
        raw = eng.overlay.get(mkey, _MISSING)
        if raw is _MISSING:
            raw = eng.store.get(mkey)
        if raw is None:
            return None
        if raw[1] & FLAG_EXPIRE and self.hooks.now_ms() > enc.meta_expire(raw):
            if self.hooks.may_expire():
                self._expire(key)
            return None
        if touch and self.hooks.touch_enabled:
            self._touch_access(key)
        if raw[0] == STRING:
            return enc.string_payload(raw)
        if eng.read_only:
            return self._snapshot_value(key, raw, eng.store)
        e = self._load(mkey, key, raw)
        if e.kind == STREAM:
            eng.stream_access(e)
        return e.obj

    def contains(self, key) -> bool:
        found = self._find(self._mp + key)
        if found is None:
            return False
        when = found.expire if type(found) is Entry else enc.meta_expire(found)
        if when is not None and self.hooks.now_ms() > when:
            if self.hooks.may_expire():
                self._expire(key)
            return False
        return True

    def is_expired(self, key) -> bool:
        when = self.get_expire(key)
        return when is not None and self.hooks.now_ms() > when

    def __len__(self) -> int:
        return self.engine.counts[self.pid][0]

    # --- writes ------------------------------------------------------------------------------
    def _count(self, keys: int, expires: int) -> None:
        eng = self.engine
        c = eng.counts[self.pid]
        c[0] += keys
        c[1] += expires
        eng.counts_dirty.add(self.pid)

    def _forget(self, mkey: bytes, key: bytes, found) -> int | None:
        """Drop what a key holds (members go to the GC); returns its expiry."""
        eng = self.engine
        if type(found) is Entry:
            eng.cache_drop(found)
            if found.persisted:
                eng._gc_version(self.pid, key, found.version, len(found.obj))
            if found.ttl_indexed:
                eng.overlay[enc.field_ttl_key(self.pid, key)] = None
            return found.expire
        if found[0] != STRING:
            version, count, _tail = enc.decode_collection(found)
            eng._gc_version(self.pid, key, version, count)
            if found[1] & FLAG_FIELD_TTL:
                eng.overlay[enc.field_ttl_key(self.pid, key)] = None
        return enc.meta_expire(found)

    def set(self, key, value, keepttl: bool = False) -> None:
        mkey = self._mp + key
        eng = self.engine
        found = self._find(mkey)
        if type(found) is Entry and found.obj is value:
            # The same collection stored again: only the TTL may change.
            if not keepttl and found.expire is not None:
                self._drop_expire(key, found.expire)
                found.expire = None
                found.touch_meta()
            return
        expire = None
        if found is None:
            self._count(1, 0)
            if self.notify_new:
                self.hooks.key_added(self, key)
        else:
            old_expire = self._forget(mkey, key, found)
            if old_expire is not None:
                if keepttl:
                    expire = old_expire
                else:
                    self._drop_expire(key, old_expire)
        if type(value) is bytes:
            eng.overlay[mkey] = enc.encode_string(value, expire)
        else:
            eng.overlay.pop(mkey, None)
            e = Entry(eng, self.pid, key, mkey, kind_of(value), eng.new_version(), value)
            e.expire = expire
            if type(value) in JOURNALED and value._e is None:
                value._e = e
                eng.track_field_ttl(e)      # RENAME / MOVE: same hash, another key
            else:
                if type(value) in JOURNALED:
                    value = e.obj = value.copy()     # held by another key: never share
                e.plain = True
            e.size = e.unit * len(value) + 200
            e.mark_rewrite()
            eng.cache_put(e)
        eng.arm()
        self._remember_access(key, self.hooks.lru_clock)
        if len(eng.overlay) > _AUTO_COMMIT_OPS:
            eng.maybe_autocommit()

    def _drop_expire(self, key, when: int) -> None:
        self.engine.overlay[enc.expire_key(self.pid, when, key)] = None
        self._count(0, -1)

    def delete(self, key) -> bool:
        mkey = self._mp + key
        found = self._find(mkey)
        if found is None:
            return False
        self._remove(mkey, key, found)
        return True

    def _remove(self, mkey, key, found) -> None:
        eng = self.engine
        expire = self._forget(mkey, key, found)
        eng.overlay[mkey] = None
        if expire is not None:
            self._drop_expire(key, expire)
        self._count(-1, 0)
        self.atime.pop(key, None)
        if self.lfu:
            self.lfu.pop(key, None)
        eng.arm()
        if len(eng.overlay) > _AUTO_COMMIT_OPS:
            eng.maybe_autocommit()

    def pop(self, key):
        mkey = self._mp + key
        found = self._find(mkey)
        if found is None:
            return None
        if type(found) is bytes and found[0] != STRING:
            found = self._load(mkey, key, found)
        value = found.obj if type(found) is Entry else enc.string_payload(found)
        self._remove(mkey, key, found)
        return value

    def clear(self) -> int:
        """FLUSHDB: the database moves to a fresh namespace; the old one goes to the GC."""
        eng = self.engine
        n = len(self)
        old = self.pid
        for e in [e for e in eng.cache.values() if e.pid == old]:
            eng.cache_drop(e)
        new = eng.new_pid()
        eng.pids[self.index] = new
        eng.gc_namespace(old)
        eng.counts.pop(old, None)
        eng.counts_dirty.discard(old)
        eng.overlay[enc.count_key(old)] = None
        eng.counts[new] = [0, 0]
        eng.counts_dirty.add(new)
        self.pid = new
        self._mp = enc.meta_prefix(new)
        self._cursors.clear()
        self.atime = {}
        self.lfu = {}
        self._x_low = 0
        eng.arm()
        return n

    def swap_contents(self, other) -> None:
        """SWAPDB: the two databases exchange namespaces (O(1))."""
        eng = self.engine
        for attr in ("pid", "_mp", "atime", "lfu", "_cursors", "_x_low"):
            a, b = getattr(self, attr), getattr(other, attr)
            setattr(self, attr, b)
            setattr(other, attr, a)
        eng.pids[self.index] = self.pid
        eng.pids[other.index] = other.pid
        eng.state_dirty = True
        eng.arm()
        for e in list(eng.cache.values()):
            if e.kind == HASH and (e.pid == self.pid or e.pid == other.pid):
                eng.track_field_ttl(e)

    # --- expiry ------------------------------------------------------------------------------
    def get_expire(self, key):
        found = self._find(self._mp + key)
        if found is None:
            return None
        return found.expire if type(found) is Entry else enc.meta_expire(found)

    def _change_expire(self, key, when):
        """Set (or, with None, remove) the expiry; returns the previous one (or _MISSING)."""
        mkey = self._mp + key
        found = self._find(mkey)
        if found is None:
            return _MISSING
        eng = self.engine
        if type(found) is Entry:
            prev = found.expire
            found.expire = when
            found.touch_meta()
        else:
            prev = enc.meta_expire(found)
            eng.overlay[mkey] = enc.with_expire(found, when)
        if prev is not None:
            eng.overlay[enc.expire_key(self.pid, prev, key)] = None
        if when is not None:
            eng.overlay[enc.expire_key(self.pid, when, key)] = b""
            if when < self._x_low:
                self._x_low = when
        self._count(0, (when is not None) - (prev is not None))
        eng.arm()
        return prev

    def set_expire(self, key, when_ms: int) -> None:
        self._change_expire(key, when_ms)

    def persist(self, key) -> bool:
        if self.get_expire(key) is None:
            return False
        self._change_expire(key, None)
        return True

    def expires_count(self) -> int:
        return self.engine.counts[self.pid][1]

    @property
    def expires(self) -> dict:
        """A sample of keys with a TTL (the soonest ones): key -> expiry ms.  What INFO's avg_ttl
        and the volatile-* eviction policies read; the full set lives in the expiry index."""
        eng = self.engine
        if not self.expires_count():
            return {}
        eng.commit()
        xp = enc.expire_prefix(self.pid)
        cut = len(xp) + 8
        out = {}
        for k, _v in eng.store.items(xp, enc.next_prefix(xp)):
            out[k[cut:]] = enc._U64.unpack_from(k, len(xp))[0]
            if len(out) >= _EXPIRES_SAMPLE:
                break
        return out

    def _expire(self, key) -> None:
        self.delete(key)
        self.hooks.key_expired(self, key)

    def active_expire(self, deadline: float, batch: int = 20, threshold: float = 0.1) -> int:
        """Walk the expiry index from the soonest time: every entry before now is due (or stale)."""
        eng = self.engine
        if eng.read_only:
            return 0
        eng.commit()    # expiry index entries still in the batch must be seen
        now = self.hooks.now_ms()
        xp = enc.expire_prefix(self.pid)
        lower = enc.expire_key(self.pid, self._x_low, b"")
        upper = enc.expire_key(self.pid, now, b"")
        expired = seen = 0
        cut = len(xp) + 8
        low = now
        for k, _v in eng.store.items(lower, upper):
            when = enc._U64.unpack_from(k, len(xp))[0]
            key = k[cut:]
            found = self._find(self._mp + key)
            current = None if found is None else (
                found.expire if type(found) is Entry else enc.meta_expire(found))
            if current == when:
                self._expire(key)
                expired += 1
            elif eng.overlay.get(k, _MISSING) is _MISSING:
                eng.overlay[k] = None       # left behind by a change of TTL
                eng.arm()
            seen += 1
            if not seen % 16 and time.monotonic() > deadline:
                low = when
                break
        self._x_low = low
        return expired

    # --- iteration -----------------------------------------------------------------------------
    def iter_keys(self):
        """Every live key, from a pinned snapshot of the store (the batch is committed first)."""
        self.engine.commit()
        return self._iter_keys(self.engine.store, self._mp, self.hooks.now_ms())

    @staticmethod
    def _iter_keys(store, mp, now):
        cut = len(mp)
        for k, v in store.items(mp, enc.next_prefix(mp)):
            if v[1] & FLAG_EXPIRE and now > enc.meta_expire(v):
                continue
            yield k[cut:]

    def scan(self, cursor: int, count: int):
        """Keys in store order from where the cursor stopped: a key present for the whole
        iteration is returned exactly once."""
        eng = self.engine
        eng.commit()
        mp = self._mp
        start = mp if cursor == 0 else self._cursors.pop(cursor, mp)
        it, _bounds = eng.store.iterate(start, enc.next_prefix(mp))
        cut = len(mp)
        out = []
        while it.valid() and len(out) < count:
            out.append(it.key()[cut:])
            it.next()
        if not it.valid():
            return 0, out
        self._cursor_seq += 1
        cid = self._cursor_seq
        self._cursors[cid] = it.key()
        while len(self._cursors) > _CURSORS_KEEP:
            self._cursors.popitem(last=False)
        return cid, out

    def random_key(self):
        eng = self.engine
        for _ in range(100):
            if not len(self):
                return None
            eng.commit()
            key = self._random_store_key()
            if key is None:
                return None
            when = self.get_expire(key)
            if when is not None and self.hooks.now_ms() > when and self.hooks.may_expire():
                self._expire(key)
                continue
            return key
        return None

    def _random_store_key(self):
        store = self.engine.store
        mp = self._mp
        end = enc.next_prefix(mp)
        cut = len(mp)
        if len(self) <= 64:
            keys = [k for k, _v in store.items(mp, end)]
            return random.choice(keys)[cut:] if keys else None
        # A random descent: split the range of existing keys at the midpoint of their bytes
        # and keep a random side, until one key is left.  Clusters of keys far apart in
        # byte space are all reachable (a single random seek would favour the key after
        # the biggest gap).
        it, _bounds = store.iterate(mp, end)
        if not it.valid():
            return None
        lo = it.key()
        it.seek_to_last()
        hi = it.key()
        for _ in range(64):
            if lo >= hi:
                break
            width = max(len(lo), len(hi)) + 1
            a = int.from_bytes(lo.ljust(width, b"\x00"), "big")
            b = int.from_bytes(hi.ljust(width, b"\x00"), "big")
            it.seek(((a + b + 1) // 2).to_bytes(width, "big"))     # above lo, at most hi+pad
            if not it.valid() or it.key() > hi:
                it.seek(hi)
            m = it.key()
            if random.getrandbits(1):
                lo = m
            else:
                it.prev()
                hi = it.key()
        return (lo if random.getrandbits(1) else hi)[cut:]

    def iter_items(self):
        """(db index, key, value, expire ms) of every key, expired ones included, from one
        consistent snapshot of the store; values are plain (unjournaled) collections.

        For a snapshot writer that does not fork (BGSAVE on the disk engine): call it on the
        event-loop thread, which commits the batch and pins the snapshot right away; the
        returned iterator may then be consumed anywhere (another thread), while writes go on."""
        eng = self.engine
        eng.commit()
        store = eng.store
        mp = self._mp
        # Both iterators are made here, back to back: they pin the same state of the store.
        metas, bounds = store.iterate(mp, enc.next_prefix(mp))
        source = _PinnedSource(store.raw_iterator())
        return self._snapshot_items(metas, bounds, source)

    def _snapshot_items(self, metas, _bounds, source):
        cut = len(self._mp)
        while metas.valid():
            key = metas.key()[cut:]
            raw = metas.value()
            expire = enc.meta_expire(raw)
            if raw[0] == STRING:
                yield self.index, key, enc.string_payload(raw), expire
            else:
                yield self.index, key, self._snapshot_value(key, raw, source), expire
            metas.next()

    def _snapshot_value(self, key, raw, source):
        version, _count, _tail = enc.decode_collection(raw)
        e = Entry(self.engine, self.pid, key, self._mp + key, raw[0], version, None)
        return load_value(e, raw, source, journaled=False)

    # --- metadata --------------------------------------------------------------------------------
    def idle_ms(self, key) -> int:
        t = self.atime.get(key)
        if t is None:
            return 0
        return max(0, self.hooks.lru_clock - t) * 1000

    def touch(self, key) -> None:
        self._remember_access(key, self.hooks.lru_clock)

    def set_idle(self, key, seconds: int) -> None:
        self._remember_access(key, self.hooks.lru_clock - seconds)


class _PinnedSource:
    """``items(lower, upper)`` over one pinned iterator, so several ranges share a snapshot."""

    def __init__(self, it):
        self.it = it

    def items(self, lower: bytes, upper: bytes):
        it = self.it
        it.seek(lower)
        while it.valid():
            k = it.key()
            if k >= upper:
                break
            yield k, it.value()
            it.next()
