"""The disk engine beyond what the shared suite checks: restarts, a dataset much larger than
its cache, eviction and reload of collections, RDB import/export, GC, INFO disk."""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import time

import pytest

from ..durability.helpers import (Node, describe, make_dir, populate, stop_leftover_nodes,
                                  wait_bgsave, wait_for)


@pytest.fixture(autouse=True)
def _no_leftover_servers():
    yield
    stop_leftover_nodes()


def _node(workdir: str, *extra: str) -> Node:
    return Node(workdir, ["--engine", "disk", *extra])


@pytest.fixture
def workdir():
    d = make_dir("emberkv-disk-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _info_disk(r) -> dict:
    return r.info("disk")


def test_every_type_survives_a_restart(workdir):
    node = _node(workdir)
    try:
        populate(node.port)
        before = describe(node.port)
        sizes = [node.client(db).dbsize() for db in range(16)]
    finally:
        node.stop()
    node = _node(workdir)
    try:
        assert describe(node.port) == before
        assert [node.client(db).dbsize() for db in range(16)] == sizes
        assert "DB loaded from the disk engine" in node.log_text()
    finally:
        node.stop()


def test_same_dataset_as_the_memory_engine(workdir):
    mem_dir = make_dir("emberkv-mem-")
    mem = Node(mem_dir)
    disk = _node(workdir, "--disk-cache-size", "1mb")
    try:
        populate(mem.port)
        populate(disk.port)
        assert describe(disk.port) == describe(mem.port)
    finally:
        mem.stop()
        disk.stop()
        shutil.rmtree(mem_dir, ignore_errors=True)


def _big_dataset(r, seed: int = 1):
    """About 20 MB over every type, written in pipelined batches; returns the expected values."""
    rnd = random.Random(seed)
    expect = {}
    p = r.pipeline(transaction=False)
    for i in range(100_000):
        k = b"s:%06d" % i
        v = rnd.randbytes(100)
        p.set(k, v)
        expect[k] = ("string", v)
        if i % 5000 == 4999:
            p.execute()
    for i in range(300):
        k = b"h:%03d" % i
        fields = {b"f%03d" % j: rnd.randbytes(rnd.randint(10, 200)) for j in range(100)}
        p.hset(k, mapping=fields)
        expect[k] = ("hash", fields)
        k = b"l:%03d" % i
        items = [rnd.randbytes(rnd.randint(10, 150)) for _ in range(80)]
        p.rpush(k, *items)
        expect[k] = ("list", items)
        k = b"z:%03d" % i
        members = {b"m%04d" % j: float(rnd.randint(-1000, 1000)) / 8 for j in range(100)}
        p.zadd(k, members)
        expect[k] = ("zset", members)
        k = b"t:%03d" % i
        members = {rnd.randbytes(40) for _ in range(100)}
        p.sadd(k, *members)
        expect[k] = ("set", members)
        p.execute()
    return expect


def _check(r, expect) -> None:
    p = r.pipeline(transaction=False)
    keys = list(expect)
    for start in range(0, len(keys), 2000):
        chunk = keys[start:start + 2000]
        for k in chunk:
            kind = expect[k][0]
            if kind == "string":
                p.get(k)
            elif kind == "hash":
                p.hgetall(k)
            elif kind == "list":
                p.lrange(k, 0, -1)
            elif kind == "zset":
                p.zrange(k, 0, -1, withscores=True)
            else:
                p.smembers(k)
        for k, got in zip(chunk, p.execute()):
            kind, want = expect[k]
            if kind == "zset":
                got = dict(got)
            assert got == want, k


def test_dataset_many_times_the_cache_survives_restart(workdir):
    node = _node(workdir, "--disk-cache-size", "1mb")
    try:
        r = node.client()
        expect = _big_dataset(r)
        # Values are read back through the small cache: collections are evicted and reloaded.
        _check(r, expect)
        disk = _info_disk(r)
        assert disk["disk_value_cache_bytes"] < 2 << 20
        assert disk["disk_value_cache_misses"] > 0
        assert r.dbsize() == len(expect)
    finally:
        node.stop()
    node = _node(workdir, "--disk-cache-size", "1mb")
    try:
        r = node.client()
        assert r.dbsize() == len(expect)
        _check(r, expect)
    finally:
        node.stop()


def test_mutations_after_eviction_reach_the_store(workdir):
    node = _node(workdir, "--disk-cache-size", "1mb")
    try:
        r = node.client()
        filler = b"x" * 2000
        for i in range(50):
            r.rpush("l", i)
            r.hset("h", "f%d" % i, i)
            r.sadd("s", i)
            r.zadd("z", {"m%d" % i: i})
            r.xadd("x", {"n": i}, id="1-%d" % (i + 1))
            # Big collections between the writes push the small ones out of the cache.
            r.hset("big:%d" % (i % 5), mapping={"k%d" % j: filler for j in range(300)})
        r.lpop("l")
        r.rpop("l")
        r.lset("l", 3, "three")
        r.linsert("l", "BEFORE", "three", "ins")
        r.hdel("h", "f1")
        r.srem("s", 2)
        r.zincrby("z", 100, "m3")
        r.zrem("z", "m4")
        r.xdel("x", "1-5")
        r.xgroup_create("x", "g", id="0")
        r.xreadgroup("g", "c", {"x": ">"}, count=3)
        before = describe(node.port, dbs=[0])
    finally:
        node.stop()
    node = _node(workdir, "--disk-cache-size", "1mb")
    try:
        assert describe(node.port, dbs=[0]) == before
    finally:
        node.stop()


def test_hash_field_order_survives_reload(workdir):
    node = _node(workdir)
    try:
        r = node.client()
        r.hset("h", mapping={"z": 1, "a": 2, "m": 3})
        r.hset("h", "a", 20)       # an update keeps its place
        r.hdel("h", "z")
        r.hset("h", "z", 4)        # a re-added field goes last
        order = r.hkeys("h")
        assert order == [b"a", b"m", b"z"]
    finally:
        node.stop()
    node = _node(workdir)
    try:
        assert node.client().hkeys("h") == order
        assert node.client().object("encoding", "h") == b"listpack"
    finally:
        node.stop()


def test_flush_swap_and_expiry_survive_restart(workdir):
    node = _node(workdir)
    try:
        r0, r1, r2 = node.client(0), node.client(1), node.client(2)
        r0.set("a", 1)
        r1.set("b", 2)
        r1.rpush("bl", 1, 2)
        r2.set("c", 3)
        r0.swapdb(0, 1)
        r2.flushdb()
        r2.set("after-flush", 1)
        r0.set("ttl", 1, px=200)
        r0.set("keep", 1, ex=1000)
        time.sleep(0.5)
        wait_for(lambda: r0.dbsize() == 3)       # active expiry removed "ttl"
    finally:
        node.stop()
    node = _node(workdir)
    try:
        r0, r1, r2 = node.client(0), node.client(1), node.client(2)
        assert sorted(r0.keys()) == [b"b", b"bl", b"keep"]
        assert r0.lrange("bl", 0, -1) == [b"1", b"2"]
        assert r1.keys() == [b"a"]
        assert r2.keys() == [b"after-flush"]
        assert 990 < r0.ttl("keep") <= 1000
        keyspace = r0.info("keyspace")["db0"]
        assert (keyspace["keys"], keyspace["expires"]) == (3, 1)
        assert 990_000 < keyspace["avg_ttl"] <= 1_000_000
    finally:
        node.stop()


def test_imports_dump_rdb_once(workdir):
    mem = Node(workdir)
    try:
        populate(mem.port)
        want = describe(mem.port)
        mem.client().save()
    finally:
        mem.stop()
    node = _node(workdir)
    try:
        assert describe(node.port) == want
        node.client().set("str:small", "changed")
        node.client().delete("list:big")
    finally:
        node.stop()
    node = _node(workdir)     # dump.rdb is still there: the store wins
    try:
        r = node.client()
        assert r.get("str:small") == b"changed"
        assert not r.exists("list:big")
    finally:
        node.stop()


def test_imports_a_real_redis_aof_once(workdir):
    real = Node(workdir, ["--appendonly", "yes"], redis_server=True)
    try:
        populate(real.port)
        r = real.client()
        for i in range(50):
            r.incr("counter")       # replayed twice would read 100
        want = describe(real.port)
    finally:
        real.stop()
    node = _node(workdir, "--appendonly", "yes")
    try:
        assert describe(node.port) == want
        node.client().incr("counter")
    finally:
        node.stop()
    node = _node(workdir, "--appendonly", "yes")   # the store wins; the AOF is not replayed
    try:
        r = node.client()
        assert r.get("counter") == b"51"
        assert r.info("disk")["disk_used_bytes"] > 0
    finally:
        node.stop()


@pytest.mark.parametrize("background", [False, True])
def test_save_writes_an_rdb_redis_loads(workdir, background):
    node = _node(workdir)
    try:
        populate(node.port)
        want = describe(node.port)
        r = node.client()
        if background:
            r.bgsave()
            wait_bgsave(r)
        else:
            r.save()
    finally:
        node.stop()
    rdb = os.path.join(workdir, "dump.rdb")
    check = subprocess.run(["redis-check-rdb", rdb], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    real = Node(workdir, redis_server=True)
    try:
        assert describe(real.port) == want
    finally:
        real.stop()


def test_bgsave_child_saves_the_dataset_of_the_fork_instant(workdir):
    node = _node(workdir)
    try:
        r = node.client()
        for i in range(200):
            r.set("before:%d" % i, i)
        r.rpush("counter-list", "a")
        r.config_set("rdb-key-save-delay", "2000")     # a slow child: 0.4 s for 200 keys
        r.bgsave()
        # Written while the child runs: must not be in this snapshot.
        for i in range(50):
            r.set("after:%d" % i, i)
        r.rpush("counter-list", "b")
        r.delete("before:0")
        wait_bgsave(r)
        wait_for(lambda: not os.path.isdir(os.path.join(workdir, "emberkv-disk.fork-snapshot")))
    finally:
        node.stop()
    real = Node(workdir, redis_server=True)
    try:
        rr = real.client()
        assert rr.dbsize() == 201
        assert rr.exists("before:0") == 1
        assert rr.exists("after:0") == 0
        assert rr.lrange("counter-list", 0, -1) == [b"a"]
    finally:
        real.stop()


def test_aof_rewrite_on_the_disk_engine_applies_each_write_once(workdir):
    node = _node(workdir, "--appendonly", "yes")
    try:
        r = node.client()
        for i in range(100):
            r.incr("n")
            r.rpush("l", i)
        r.config_set("rdb-key-save-delay", "100000")
        r.bgrewriteaof()
        for i in range(100):
            r.incr("n")
            r.rpush("l", i)
        r.config_set("rdb-key-save-delay", "0")
        wait_for(lambda: r.info("persistence")["aof_rewrite_in_progress"] == 0, timeout=30)
        assert r.get("n") == b"200"
    finally:
        node.stop()
    # Real Redis replays our multi-part AOF (base + incremental): each write exactly once.
    real = Node(workdir, ["--appendonly", "yes"], redis_server=True)
    try:
        rr = real.client()
        assert rr.get("n") == b"200"
        assert rr.llen("l") == 200
    finally:
        real.stop()


def test_block_cache_is_used_after_a_restart(workdir):
    node = _node(workdir)
    try:
        r = node.client()
        r.mset({"k:%d" % i: "v" * 100 for i in range(5000)})
    finally:
        node.stop()
    node = _node(workdir)       # reopens an existing store: our cache, not RocksDB's default
    try:
        r = node.client()
        assert len(r.mget(["k:%d" % i for i in range(5000)])) == 5000
        assert _info_disk(r)["disk_block_cache_bytes"] > 100_000
    finally:
        node.stop()


def test_deleted_collections_are_garbage_collected(workdir):
    node = _node(workdir)
    try:
        r = node.client()
        for i in range(20):
            r.rpush("l%d" % i, *range(500))
            r.hset("h%d" % i, mapping={"f%d" % j: j for j in range(10)})
        r.delete(*["l%d" % i for i in range(20)])
        r.set("h0", "now a string")
        r.flushdb()
        wait_for(lambda: _info_disk(r)["disk_gc_jobs_done"] >= 22)
        assert _info_disk(r)["disk_gc_jobs_pending"] == 0
    finally:
        node.stop()


def test_disk_sync_always_and_info(workdir):
    node = _node(workdir, "--disk-sync", "always")
    try:
        r = node.client()
        p = r.pipeline(transaction=False)
        for i in range(200):
            p.incr("n")
            p.rpush("l", i)
        p.execute()
        assert r.get("n") == b"200"
        assert r.llen("l") == 200
        disk = _info_disk(r)
        assert disk["disk_sync"] == "always"
        assert disk["disk_used_bytes"] > 0
        assert r.config_get("engine") == {"engine": "disk"}
        r.config_set("disk-sync", "no")
        r.config_set("disk-cache-size", "8mb")
        assert _info_disk(r)["disk_sync"] == "no"
        assert _info_disk(r)["disk_cache_budget"] == 8 << 20
        # A write and QUIT in one packet: both replies arrive before the connection closes.
        with socket.create_connection(("127.0.0.1", node.port)) as s:
            s.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nq\r\n$1\r\n1\r\n*1\r\n$4\r\nQUIT\r\n")
            got = b""
            while True:
                chunk = s.recv(100)
                if not chunk:
                    break
                got += chunk
        assert got == b"+OK\r\n+OK\r\n"
    finally:
        node.stop()


def test_scan_and_randomkey_over_many_keys(workdir):
    node = _node(workdir)
    try:
        r = node.client()
        p = r.pipeline(transaction=False)
        for i in range(5000):
            p.set("k:%d" % i, i)
        p.execute()
        seen = set()
        cursor = 0
        while True:
            cursor, keys = r.scan(cursor, count=97)
            seen.update(keys)
            r.set("new:%d" % len(seen), 1)     # writes during the scan
            if cursor == 0:
                break
        assert {b"k:%d" % i for i in range(5000)} <= seen
        picks = {r.randomkey() for _ in range(200)}
        assert len(picks) > 50
    finally:
        node.stop()


def test_field_ttls_expire_after_a_restart(workdir):
    node = _node(workdir)
    try:
        r = node.client()
        r.hset("h", "a", 1)
        r.execute_command("HPEXPIRE", "h", 1500, "FIELDS", 1, "a")
    finally:
        node.stop()
    node = _node(workdir)
    try:
        r = node.client()
        # Only EXISTS looks at "h" (it never expires fields itself): the engine's walk of its
        # field-TTL index queues the hash for active field expiry, which deletes it.
        wait_for(lambda: r.exists("h") == 0, 10)
    finally:
        node.stop()


def _random_command(rnd: random.Random, n: int) -> list:
    k = "k%d" % rnd.randrange(6)
    k2 = "k%d" % rnd.randrange(6)
    v = rnd.choice(["a", "b", "c", "1", "2", "-3", "x" * rnd.randrange(1, 80)])
    i = str(rnd.randrange(-4, 5))
    table = [
        ["RPUSH", k, v, v + "!"], ["LPUSH", k, v], ["LPOP", k], ["RPOP", k, "2"], ["LSET", k, i, v],
        ["LINSERT", k, "AFTER", v, "ins"], ["LREM", k, i, v], ["LTRIM", k, i, "-2"],
        ["LMOVE", k, k2, "LEFT", "RIGHT"], ["LRANGE", k, "0", "-1"],
        ["HSET", k, v, n, "f" + i, v], ["HDEL", k, v], ["HINCRBY", k, "n", i], ["HGETALL", k],
        ["SADD", k, v, i], ["SREM", k, v], ["SMOVE", k, k2, i], ["SINTERSTORE", k2, k, k],
        ["SUNIONSTORE", k, k, k2], ["SORT", k, "ALPHA"],     # set order is per process
        ["ZADD", k, i, v], ["ZINCRBY", k, i, "m" + v[:3]], ["ZREM", k, v], ["ZPOPMIN", k],
        ["ZREMRANGEBYSCORE", k, "-1", "1"], ["ZUNIONSTORE", k2, "2", k, k2],
        ["ZRANGE", k, "0", "-1", "WITHSCORES"],
        ["XADD", k, "MAXLEN", "~", "20", "%d-1" % n, "f", v], ["XDEL", k, "%d-1" % rnd.randrange(n + 1)],
        ["XTRIM", k, "MAXLEN", "5"], ["XRANGE", k, "-", "+"], ["XLEN", k],
        ["RENAME", k, k2], ["COPY", k, k2, "REPLACE"], ["DEL", k], ["EXPIRE", k, "1000"],
        ["PERSIST", k], ["TTL", k], ["TYPE", k], ["OBJECT", "ENCODING", k], ["EXISTS", k, k2],
        ["DBSIZE"], ["SET", k, v], ["APPEND", k, v], ["GET", k],
    ]
    return [str(a) for a in rnd.choice(table)]


@pytest.mark.parametrize("seed", [42, 7, 2024])
def test_random_commands_match_the_memory_engine_through_evictions_and_restarts(workdir, seed):
    """The same random commands on both engines give byte-identical replies, while a 1 MB cache
    keeps evicting the collections (filler hashes in db 1) and the disk server restarts now and
    then."""
    from ..conftest import Raw
    mem_dir = make_dir("emberkv-mem-")
    mem = Node(mem_dir)
    disk = _node(workdir, "--disk-cache-size", "1mb")
    rnd = random.Random(seed)
    filler = {"f%d" % j: "y" * 1500 for j in range(250)}
    try:
        a, b = Raw(mem.port), Raw(disk.port)
        fill = disk.client(1)
        for f in range(4):
            fill.hset("filler:%d" % f, mapping=filler)
        for n in range(1, 3001):
            cmd = _random_command(rnd, n)
            ra, rb = a.call(*cmd), b.call(*cmd)
            assert ra == rb, (n, cmd, ra, rb)
            if n % 7 == 0:
                fill.hlen("filler:%d" % rnd.randrange(4))     # evicts the others
            if n % 1000 == 0:
                b.close()
                disk.stop()
                disk = _node(workdir, "--disk-cache-size", "1mb")
                b = Raw(disk.port)
                fill = disk.client(1)
        assert describe(disk.port, dbs=[0]) == describe(mem.port, dbs=[0])
    finally:
        mem.stop()
        disk.stop()
        shutil.rmtree(mem_dir, ignore_errors=True)
