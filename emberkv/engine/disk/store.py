"""A thin storage interface over RocksDB (rocksdict): the only module that imports it.

Options follow the measurements in tools/storage/RESULTS.md: a block cache, a
10-bit bloom filter for point lookups, LZ4, dynamic level sizes.  rocksdict releases the
GIL while it writes or syncs, so the everysec WAL sync runs on a thread.

Iterators come from ``Rdict.iter()``, which pins its own snapshot when
created; ``Snapshot.iter()`` is avoided (in rocksdict 0.3.29 it sees later
writes).  Two iterators opened back to back, with no write in between, see
the same state.
"""

from __future__ import annotations

import os
import shutil
import threading

import rocksdict

_MB = 1 << 20


class Store:
    def __init__(self, path: str, cache_bytes: int, read_only: bool = False):
        self.path = os.path.abspath(path)
        opt = rocksdict.Options(raw_mode=True)
        opt.create_if_missing(True)
        table = rocksdict.BlockBasedOptions()
        self.block_cache = rocksdict.Cache(max(cache_bytes, 1 * _MB))
        table.set_block_cache(self.block_cache)
        table.set_bloom_filter(10, False)
        # Index and filter blocks stay outside the block cache, held by the open tables (about
        # 2 bytes per key): charged to a cache that data blocks churn through, they were evicted
        # and re-read on most lookups once the data outgrew the cache (20M keys: 4x slower GETs).
        table.set_cache_index_and_filter_blocks(False)
        # A hash index inside each data block: a point lookup finds its key without the
        # binary search over restart points (new tables only; old ones read as before).
        table.set_data_block_index_type(rocksdict.DataBlockIndexType.binary_and_hash())
        table.set_data_block_hash_ratio(0.75)
        opt.set_block_based_table_factory(table)
        opt.set_compression_type(rocksdict.DBCompressionType.lz4())
        opt.set_level_compaction_dynamic_level_bytes(True)
        opt.increase_parallelism(max(2, os.cpu_count() or 2))
        # Memtables are the other big consumer of RAM: bounded with the cache budget.
        opt.set_write_buffer_size(min(32 * _MB, max(4 * _MB, cache_bytes // 4)))
        opt.set_max_write_buffer_number(3)
        opt.set_keep_log_file_num(2)
        # The options go to the default column family explicitly: without ``column_families``,
        # rocksdict reopens an existing store with the options saved in its OPTIONS file, which
        # cannot name our block cache (RocksDB then reads through an internal 8 MB one).
        families = {"default": opt}
        if read_only:
            self.db = rocksdict.Rdict(self.path, opt, column_families=families,
                                      access_type=rocksdict.AccessType.read_only())
        else:
            self.db = rocksdict.Rdict(self.path, opt, column_families=families)
        self._sync_opts = rocksdict.WriteOptions()
        self._sync_opts.sync = True
        self._nosync_opts = rocksdict.WriteOptions()
        self._nosync_opts.sync = False
        self._lock = threading.Lock()
        # get(key) -> bytes | None: Rdict.get itself, the hottest call (no extra Python frame).
        self.get = self.db.get

    # --- reads ----------------------------------------------------------------------
    def iterate(self, lower: bytes, upper: bytes):
        """A pinned iterator over [lower, upper), positioned at ``lower``, and the read options
        it was made with: the caller must keep both alive (the iterator does not own its
        bounds, and reads freed memory once the options are gone)."""
        ro = rocksdict.ReadOptions()
        ro.set_iterate_lower_bound(lower)
        ro.set_iterate_upper_bound(upper)
        it = self.db.iter(ro)
        it.seek(lower)
        return it, ro

    def items(self, lower: bytes, upper: bytes):
        """(key, value) pairs of [lower, upper) from one pinned iterator."""
        it, _bounds = self.iterate(lower, upper)
        while it.valid():
            yield it.key(), it.value()
            it.next()

    def raw_iterator(self):
        """An unbounded pinned iterator (for a snapshot read of several ranges)."""
        return self.db.iter(rocksdict.ReadOptions())

    # --- writes ---------------------------------------------------------------------
    def write(self, ops: dict, ranges=(), sync: bool = False) -> None:
        """Apply puts (value bytes) and deletes (None) and range deletions atomically."""
        opts = self._sync_opts if sync else self._nosync_opts
        if len(ops) == 1 and not ranges:
            for k, v in ops.items():
                if v is None:
                    self.db.delete(k, opts)
                else:
                    self.db.put(k, v, opts)
            return
        wb = rocksdict.WriteBatch(raw_mode=True)
        put, delete = wb.put, wb.delete
        for k, v in ops.items():
            if v is None:
                delete(k)
            else:
                put(k, v)
        for start, end in ranges:
            wb.delete_range(start, end)
        self.db.write(wb, opts)

    def sync_wal(self) -> None:
        """Make every committed write durable (fsync of the write-ahead log)."""
        with self._lock:
            self.db.flush_wal(True)

    # --- maintenance --------------------------------------------------------------------
    def block_cache_usage(self) -> int:
        return self.block_cache.get_usage()

    def set_block_cache_size(self, n: int) -> None:
        self.block_cache.set_capacity(max(n, 1 * _MB))

    def checkpoint(self, path: str) -> None:
        """A consistent copy of the whole store at ``path`` (hard links where possible)."""
        if os.path.exists(path):
            shutil.rmtree(path)
        rocksdict.Checkpoint(self.db).create_checkpoint(path)

    def disk_usage(self) -> int:
        total = 0
        try:
            for entry in os.scandir(self.path):
                if entry.is_file():
                    total += entry.stat().st_size
        except OSError:
            pass
        return total

    def property(self, name: str) -> int:
        try:
            return self.db.property_int_value(name) or 0
        except Exception:
            return 0

    def close(self) -> None:
        try:
            self.db.flush_wal(True)
            self.db.close()
        except Exception:
            pass
