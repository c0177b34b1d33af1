"""HyperLogLog commands: PFADD, PFCOUNT, PFMERGE, PFSELFTEST, PFDEBUG.

HLLs are ordinary string values in Redis's exact byte layout; the encoding
work lives in ``emberkv.datatypes.hyperloglog``.  Redis edits HLL strings in
place, so every store here keeps the key's TTL.
"""

from __future__ import annotations

from ..datatypes import hyperloglog as hll
from ..protocol.reply import OK, Status
from ..server.server import N_STRING
from .common import WRONGTYPE, err
from .registry import command

NOT_HLL = b"WRONGTYPE Key is not a valid HyperLogLog string value."
CORRUPT = b"INVALIDOBJ Corrupted HLL object detected"


def _raise(e: hll.InvalidHLL):
    err(NOT_HLL if e.kind == "wrongtype" else CORRUPT)


def _read_values(c, keys) -> list:
    """Values of ``keys`` (None when missing), checked in order as Redis does.

    A non-string key fails with the generic WRONGTYPE, but only after the keys
    before it were validated as HLLs, so the first bad key decides the error.
    """
    values = []
    stats = c.server.stats
    lookup = c.db.lookup
    for key in keys:
        v = lookup(key)
        if v is None:
            stats.keyspace_misses += 1
        else:
            stats.keyspace_hits += 1
            if type(v) is not bytes:
                if values:
                    try:
                        hll.pfcount(values + [None])  # multi-key form validates every value
                    except hll.InvalidHLL as e:
                        _raise(e)
                err(WRONGTYPE)
        values.append(v)
    return values


@command("pfadd", -2, "write denyoom fast", 1, 1, 1, group="hyperloglog", since="2.8.9",
         summary="Adds elements to a HyperLogLog, creating the key if needed.")
def pfadd(c, argv):
    key = argv[1]
    db = c.db
    old = db.lookup(key)
    if old is not None and type(old) is not bytes:
        err(WRONGTYPE)
    try:
        new, changed = hll.pfadd(old, argv[2:], c.server.config.hll_sparse_max_bytes)
    except hll.InvalidHLL as e:
        if e.value is not None:
            # Redis found the corruption after editing the string in place.
            db.set(key, e.value, keepttl=True)
        _raise(e)
    if not changed:
        return 0
    db.set(key, new, keepttl=True)
    server = c.server
    # Hot path: skip the hook calls when nobody watches, tracks or listens.
    if server.watched_keys or server.tracking is not None:
        server.signal_modified(db, key)
    if server.notify_flags:
        server.notify(N_STRING, b"pfadd", key, db.index)
    server.dirty += 1
    return 1


@command("pfcount", -2, "readonly may_replicate", 1, -1, 1, group="hyperloglog", since="2.8.9",
         summary="Returns the approximate number of distinct elements added to HyperLogLogs.")
def pfcount(c, argv):
    keys = argv[1:]
    values = _read_values(c, keys)
    try:
        card, refreshed = hll.pfcount(values)
    except hll.InvalidHLL as e:
        _raise(e)
    if len(keys) == 1 and refreshed[0] is not None:
        # The cached cardinality lives in the value: storing it is a (silent) write.
        db = c.db
        db.set(keys[0], refreshed[0], keepttl=True)
        c.server.signal_modified(db, keys[0])
        c.server.dirty += 1
    return card


@command("pfmerge", -2, "write denyoom", 1, -1, 1, group="hyperloglog", since="2.8.9",
         summary="Merges HyperLogLogs into one, stored in the destination key.")
def pfmerge(c, argv):
    # The destination is one of the inputs (its current registers are kept).
    values = _read_values(c, argv[1:])
    try:
        merged = hll.pfmerge(values, c.server.config.hll_sparse_max_bytes)
    except hll.InvalidHLL as e:
        _raise(e)
    key = argv[1]
    db = c.db
    db.set(key, merged, keepttl=True)
    server = c.server
    server.signal_modified(db, key)
    # Redis reports a merge as a mass PFADD.
    server.notify(N_STRING, b"pfadd", key, db.index)
    server.dirty += 1
    return OK


@command("pfselftest", 1, "admin", group="hyperloglog", since="2.8.9",
         summary="Runs an internal consistency check of the HyperLogLog implementation.")
def pfselftest(c, argv):
    try:
        hll.selftest()
    except AssertionError as e:
        err(b"ERR " + str(e).encode())
    return OK


@command("pfdebug", 3, "write denyoom admin", 2, 2, 1, group="hyperloglog", since="2.8.9",
         summary="Inspects or converts the internal representation of a HyperLogLog.")
def pfdebug(c, argv):
    sub = argv[1].lower()
    key = argv[2]
    db = c.db
    v = db.lookup(key)
    if v is None:
        err(b"ERR The specified key does not exist")
    if type(v) is not bytes:
        err(WRONGTYPE)
    try:
        encoding = hll.encoding(v)
        if sub == b"getreg" or sub == b"todense":
            converted = encoding == "sparse"
            if converted:
                v = hll.to_dense(v)
                db.set(key, v, keepttl=True)
                c.server.dirty += 1  # the encoding change must reach replicas and the AOF
            if sub == b"todense":
                return 1 if converted else 0
            return hll.registers(v)
        if sub == b"decode":
            if encoding != "sparse":
                err(b"ERR HLL encoding is not sparse")
            return hll.decode_sparse(v).encode()
        if sub == b"encoding":
            return Status(encoding.encode())
    except hll.InvalidHLL as e:
        _raise(e)
    err(b"ERR Unknown PFDEBUG subcommand '%s'" % argv[1])
