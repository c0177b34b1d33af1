"""MEMORY command and maxmemory eviction."""

from __future__ import annotations

import random
import sys

from ..protocol.reply import OK, Status, Verbatim
from ..server.server import N_EVICTED
from .common import SYNTAX, err, parse_int
from .registry import command, container


def value_size(v, samples: int = 5) -> int:
    """Approximate bytes used by a value (sampled for big collections, as Redis does)."""
    if type(v) is bytes:
        return sys.getsizeof(v)
    size = sys.getsizeof(v)
    try:
        n = len(v)
    except TypeError:
        return size
    if n == 0:
        return size
    items = v.sample_items(samples) if hasattr(v, "sample_items") else []
    if not items:
        return size + 64 * n
    per = sum(sys.getsizeof(x) for x in items) / len(items)
    return int(size + per * n)


container("memory", since="4.0.0", summary="A container for memory diagnostics commands.")


@command("memory|usage", -3, "readonly", 2, 2, 1, since="4.0.0",
         summary="Estimates the memory usage of a key.")
def memory_usage(c, argv):
    samples = 5
    i = 3
    while i < len(argv):
        if argv[i].lower() == b"samples" and i + 1 < len(argv):
            samples = parse_int(argv[i + 1])
            if samples < 0:
                err(SYNTAX)
            if samples == 0:
                samples = 1 << 30
            i += 2
        else:
            err(SYNTAX)
    v = c.db.lookup_notouch(argv[2])
    if v is None:
        return None
    return value_size(v, samples) + sys.getsizeof(argv[2]) + 16


@command("memory|stats", 2, "readonly", since="4.0.0", summary="Returns details about memory usage.")
def memory_stats(c, argv):
    server = c.server
    used = server.used_memory()
    out = {
        b"peak.allocated": max(server.peak_memory, used), b"total.allocated": used,
        b"startup.allocated": 0, b"replication.backlog": 0, b"clients.slaves": 0,
        b"clients.normal": 0, b"cluster.links": 0, b"aof.buffer": 0, b"lua.caches": 0,
        b"functions.caches": 0, b"overhead.total": 0,
    }
    for db in server.dbs:
        if len(db):
            out[b"db.%d" % db.index] = {b"overhead.hashtable.main": 0, b"overhead.hashtable.expires": 0}
    out.update({
        b"keys.count": sum(len(db) for db in server.dbs), b"keys.bytes-per-key": 0,
        b"dataset.bytes": used, b"dataset.percentage": 100.0, b"peak.percentage": 100.0,
        b"allocator.allocated": used, b"allocator.active": used, b"allocator.resident": used,
        b"allocator-fragmentation.ratio": 1.0, b"allocator-fragmentation.bytes": 0,
        b"allocator.rss-ratio": 1.0, b"allocator.rss-bytes": 0, b"rss-overhead.ratio": 1.0,
        b"rss-overhead.bytes": 0, b"fragmentation": 1.0, b"fragmentation.bytes": 0,
    })
    return out


@command("memory|doctor", 2, "", since="4.0.0", summary="Outputs a memory problems report.")
def memory_doctor(c, argv):
    return Verbatim(b"Hi Sam, I can't find any memory issue in your instance. "
                    b"I can only account for what occurs on this base.\n")


@command("memory|malloc-stats", 2, "", since="4.0.0", summary="Returns the allocator statistics.")
def memory_malloc_stats(c, argv):
    return Verbatim(b"Stats not supported for the current allocator\n")


@command("memory|purge", 2, "", since="4.0.0", summary="Asks the allocator to release memory.")
def memory_purge(c, argv):
    import gc
    gc.collect()
    return OK


@command("memory|help", 2, "loading stale", since="4.0.0", summary="Returns helpful text about the different subcommands.")
def memory_help(c, argv):
    lines = [
        "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DOCTOR", "    Return memory problems reports.",
        "MALLOC-STATS", "    Return internal statistics report from the memory allocator.",
        "PURGE", "    Attempt to purge dirty pages for reclamation by the allocator.",
        "STATS", "    Return information about the memory usage of the server.",
        "USAGE <key> [SAMPLES <count>]",
        "    Return memory in bytes used by <key> and its value. Nested values are",
        "    sampled up to <count> times (default: 5, 0 means sample all).",
        "HELP", "    Print this help.",
    ]
    return [Status(l.encode()) for l in lines]


def evict_until_ok(server) -> bool:
    """Apply maxmemory-policy until used memory is under maxmemory (approximate: RSS based).

    Returns False when nothing more can be evicted (the caller replies -OOM).
    """
    maxmem = server.config.maxmemory
    used = server._estimate_memory()
    if used <= maxmem:
        return True
    policy = server.config.maxmemory_policy
    if policy == "noeviction":
        return False
    volatile = policy.startswith("volatile")
    samples = server.config.maxmemory_samples
    for _ in range(64):  # bounded work per command
        dbs = [db for db in server.dbs if (db.expires_count() if volatile else len(db))]
        if not dbs:
            return False
        best = None
        for db in dbs:
            pool = list(db.expires) if volatile else None
            for _ in range(samples):
                key = random.choice(pool) if pool else db.random_key()
                if key is None:
                    continue
                if policy.endswith("random"):
                    score = 0
                elif policy.endswith("ttl"):
                    score = -(db.get_expire(key) or 0)
                elif policy.endswith("lfu"):
                    score = -db.lfu.get(key, 5)
                else:
                    score = db.idle_ms(key)
                if best is None or score > best[0]:
                    best = (score, db, key)
        if best is None:
            return False
        _, db, key = best
        if db.delete(key):
            server.stats.evicted_keys += 1
            server.signal_modified(db, key)
            server.notify(N_EVICTED, b"evicted", key, db.index)
            server.propagate(db.index, [b"DEL", key])
        used = server._estimate_memory(refresh=True)
        if used <= maxmem:
            return True
    return server._estimate_memory() <= maxmem
