"""HyperLogLog commands over TCP; stored bytes and replies compared with a real Redis 7.0."""

from __future__ import annotations

import random

import pytest


def same(raw, raw_redis, *cmds):
    for cmd in cmds:
        mine, theirs = raw.call(*cmd), raw_redis.call(*cmd)
        assert mine == theirs, (cmd, mine[:200], theirs[:200])


def make_list(raw, raw_redis, key):
    """A non-string key on both servers (skips while EmberKV has no collection type yet)."""
    for cmd in (("RPUSH", key, "a"), ("SADD", key, "a"), ("HSET", key, "a", "1"), ("ZADD", key, "1", "a")):
        if raw.call(*cmd).startswith(b":"):
            assert raw_redis.call(*cmd).startswith(b":")
            return
    pytest.skip("no collection command available yet")


def test_pfadd_pfcount_basics(r):
    assert r.pfadd("h") == 1
    assert r.exists("h") == 1
    assert r.type("h") == b"string"
    assert r.pfadd("h") == 0
    assert r.pfcount("h") == 0
    assert r.pfadd("h", "a", "b", "c") == 1
    assert r.pfadd("h", "a", "b", "c") == 0
    assert r.pfadd("h", "") == 1
    assert r.pfcount("h") == 4
    assert r.pfcount("missing") == 0


def test_same_bytes_as_redis(raw, raw_redis):
    rng = random.Random(1)
    same(raw, raw_redis, ("PFADD", "h"), ("GET", "h"))
    for n in (1, 5, 50, 300, 1500, 4000):
        elements = ["e%d" % rng.getrandbits(40) for _ in range(n)]
        same(raw, raw_redis, ("PFADD", "h", *elements), ("GET", "h"), ("PFCOUNT", "h"), ("GET", "h"))


def test_cache_invalidation(r):
    r.pfadd("h", "a", "b", "c")
    assert r.getrange("h", 15, 15) == b"\x80"
    r.pfcount("h")
    assert r.getrange("h", 15, 15) == b"\x00"
    r.pfadd("h", "a", "b", "c")
    assert r.getrange("h", 15, 15) == b"\x00"
    r.pfadd("h", "1", "2", "3")
    assert r.getrange("h", 15, 15) == b"\x80"


def test_pfcount_cache_refresh_is_a_write(r):
    def dirty():
        return r.info("persistence")["rdb_changes_since_last_save"]

    r.pfadd("h", "x")
    base = dirty()
    r.pfcount("h")
    assert dirty() == base + 1
    r.pfcount("h")  # cached now: read only
    assert dirty() == base + 1
    r.pfcount("h", "missing")  # union: never cached
    assert dirty() == base + 1


def test_ttl_is_kept(r):
    r.pfadd("h", "a")
    r.expire("h", 100)
    r.pfadd("h", "b")
    r.pfcount("h")
    r.pfmerge("h", "h")
    assert 0 < r.ttl("h") <= 100


def test_pfmerge(raw, raw_redis):
    rng = random.Random(2)
    sizes = {"s1": 10, "s2": 200, "d1": 3000, "d2": 5000}
    for key, n in sizes.items():
        same(raw, raw_redis, ("PFADD", key, *["%s-%d" % (key, rng.getrandbits(30)) for _ in range(n)]))
    same(raw, raw_redis,
         ("PFMERGE", "m1", "s1", "s2"), ("GET", "m1"), ("PFCOUNT", "m1"),
         ("PFMERGE", "m2", "s1", "d1"), ("GET", "m2"), ("PFCOUNT", "m2"),
         ("PFMERGE", "s1", "s2", "missing"), ("GET", "s1"),
         ("PFMERGE", "m3"), ("GET", "m3"), ("PFMERGE", "m4", "missing"), ("GET", "m4"),
         ("PFMERGE", "d1", "d2"), ("GET", "d1"),
         ("PFCOUNT", "s1", "s2", "d1", "d2", "missing"), ("PFCOUNT", "s2", "s2"))


def test_union_count_is_accurate(r):
    for i in range(3):
        r.pfadd("u%d" % i, *["%d-%d" % (i, j) for j in range(2000)])
    card = r.pfcount("u0", "u1", "u2")
    assert abs(card - 6000) < 6000 * 0.05


def test_type_errors(raw, raw_redis):
    make_list(raw, raw_redis, "l")
    same(raw, raw_redis,
         ("SET", "str", "bar"), ("PFADD", "str", "1"), ("PFCOUNT", "str"), ("PFMERGE", "x", "str"),
         ("PFMERGE", "str", "x"), ("PFADD", "l", "1"), ("PFCOUNT", "l"), ("PFCOUNT", "str", "l"),
         ("PFCOUNT", "l", "str"), ("PFMERGE", "l", "str"), ("PFMERGE", "x", "l"), ("EXISTS", "x"),
         ("PFADD", "h", "a"), ("APPEND", "h", "junk"), ("PFCOUNT", "h", "l"), ("PFCOUNT", "l", "h"),
         ("PFMERGE", "y", "h", "l"))


def test_corruption_detected(raw, raw_redis):
    same(raw, raw_redis,
         ("PFADD", "h", "a", "b", "c"), ("APPEND", "h", "hello"), ("PFCOUNT", "h"), ("PFADD", "h", "zz"),
         ("PFCOUNT", "h", "missing"), ("PFMERGE", "m", "h"), ("EXISTS", "m"),
         ("DEL", "h"), ("PFADD", "h", "a"), ("SETRANGE", "h", "0", "0123"), ("PFCOUNT", "h"), ("PFADD", "h", "q"),
         ("DEL", "h"), ("PFADD", "h", "a"), ("SETRANGE", "h", "4", "x"), ("PFCOUNT", "h"),
         ("DEL", "h"), ("PFADD", "h", "a"), ("SETRANGE", "h", "4", "\x00"), ("PFCOUNT", "h"),
         ("SET", "short", "HYLL"), ("PFCOUNT", "short"), ("PFADD", "short", "a"))


def test_corruption_fuzz(raw, raw_redis):
    rng = random.Random(4)
    for _ in range(40):
        items = ["%f" % rng.random() for _ in range(rng.randint(0, 2500))]
        same(raw, raw_redis, ("DEL", "h"), ("PFADD", "h", *items))
        length = int(raw.call("STRLEN", "h")[1:-2])
        for _ in range(rng.randint(1, 5)):
            same(raw, raw_redis, ("SETRANGE", "h", rng.randrange(length), bytes([rng.getrandbits(8)])))
        same(raw, raw_redis, ("PFCOUNT", "h"), ("PFADD", "h", "new1", "new2"), ("GET", "h"))


def test_pfdebug(raw, raw_redis):
    same(raw, raw_redis,
         ("PFDEBUG", "ENCODING", "h"), ("PFADD", "h", "a", "b", "c"), ("PFDEBUG", "encoding", "h"),
         ("PFDEBUG", "DECODE", "h"), ("PFDEBUG", "nope", "h"), ("PFDEBUG", "nope", "missing"),
         ("PFDEBUG", "GETREG", "h"), ("PFDEBUG", "ENCODING", "h"), ("PFDEBUG", "DECODE", "h"),
         ("PFDEBUG", "TODENSE", "h"), ("GET", "h"),
         ("PFADD", "h2", "x"), ("PFDEBUG", "TODENSE", "h2"), ("GET", "h2"), ("PFDEBUG", "TODENSE", "h2"),
         ("SET", "s", "x"), ("PFDEBUG", "ENCODING", "s"), ("PFDEBUG", "ENCODING"))


def test_pfselftest(r):
    assert r.execute_command("PFSELFTEST") == b"OK"


def test_dense_promotion_follows_config(raw, raw_redis):
    for conn in (raw, raw_redis):
        conn.call("CONFIG", "SET", "hll-sparse-max-bytes", "100")
    try:
        same(raw, raw_redis, ("PFADD", "h", *["x%d" % i for i in range(60)]), ("PFDEBUG", "ENCODING", "h"),
             ("GET", "h"))
    finally:
        for conn in (raw, raw_redis):
            conn.call("CONFIG", "SET", "hll-sparse-max-bytes", "3000")


def test_request_split_at_bulk_header(raw):
    """A big PFADD arriving in two TCP chunks, cut anywhere, is one request (not inline text)."""
    import time
    args = [b"PFADD", b"h"] + [b"%.17f" % (i / 7) for i in range(12)]
    req = b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)
    for cut in range(1, len(req)):
        raw.send(req[:cut])
        time.sleep(0.001)
        raw.send(req[cut:])
        assert raw.read_reply() in (b":0\r\n", b":1\r\n"), cut
    assert raw.call("PING") == b"+PONG\r\n"
