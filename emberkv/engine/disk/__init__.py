"""The disk engine (``engine disk``): every Redis type on an embedded ordered KV store.

The dataset lives in ``<dir>/emberkv-disk/`` (RocksDB through rocksdict); RAM
holds a bounded cache of decoded collections plus RocksDB's block cache, both
sized from ``disk-cache-size``.  Command code is shared with the memory
engine: collections are the same classes, journaled (see journal.py).
"""

from __future__ import annotations

import atexit

from .database import DiskDatabase, DiskEngine

__all__ = ["DiskDatabase", "DiskEngine", "open_databases", "STORE_DIR"]

STORE_DIR = "emberkv-disk"


def open_databases(server) -> list:
    """Open (or create) the store under the working directory; the databases over it."""
    engine = DiskEngine(server, STORE_DIR)
    server.disk_engine = engine
    server.cron_hooks.append(engine.cron)
    server.shutdown_hooks.append(engine.on_shutdown)
    server.startup_hooks.append(engine.startup)
    atexit.register(engine.close)
    _register_info()
    return engine.dbs


def _info_disk(server) -> list:
    engine = getattr(server, "disk_engine", None)
    return engine.info_fields() if engine is not None else []


def _register_info() -> None:
    from ...commands.server import info_section
    info_section("disk")(_info_disk)
