"""Bitmap commands over TCP, compared byte for byte with a real Redis 7.0."""

from __future__ import annotations

import random

import pytest


def make_list(raw, raw_redis, key="l"):
    """A non-string key on both servers (skips while EmberKV has no collection type yet)."""
    for cmd in (("RPUSH", key, "a"), ("SADD", key, "a"), ("HSET", key, "a", "1"), ("ZADD", key, "1", "a")):
        if raw.call(*cmd).startswith(b":"):
            assert raw_redis.call(*cmd).startswith(b":")
            return
    pytest.skip("no collection command available yet")


def same(raw, raw_redis, *cmds):
    """Run each command on both servers; every reply must be byte-identical."""
    for cmd in cmds:
        mine, theirs = raw.call(*cmd), raw_redis.call(*cmd)
        assert mine == theirs, (cmd, mine, theirs)


def test_setbit_getbit_basics(r):
    assert r.setbit("k", 7, 1) == 0
    assert r.get("k") == b"\x01"
    assert r.setbit("k", 7, 0) == 1
    assert r.getbit("k", 7) == 0
    assert r.getbit("k", 1000) == 0
    assert r.getbit("missing", 3) == 0
    r.setbit("k", 100, 1)
    assert r.strlen("k") == 13
    assert r.get("k")[12] == 0x08


def test_setbit_keeps_ttl(r):
    r.set("k", "a", ex=100)
    r.setbit("k", 1, 0)
    assert 0 < r.ttl("k") <= 100


def test_setbit_getbit_errors(raw, raw_redis):
    same(raw, raw_redis,
         ("SETBIT", "k", "-1", "1"), ("SETBIT", "k", "x", "1"), ("SETBIT", "k", "1", "2"),
         ("SETBIT", "k", "1", "-1"), ("SETBIT", "k", "1", "a"), ("SETBIT", "k", "4294967296", "1"),
         ("SETBIT", "k", "4294967295", "x"), ("GETBIT", "k", "-1"), ("GETBIT", "k", "4294967296"),
         ("GETBIT", "k", "+1"), ("GETBIT", "k", "01"))


def test_wrongtype(raw, raw_redis):
    make_list(raw, raw_redis)
    same(raw, raw_redis, ("SETBIT", "l", "1", "1"), ("GETBIT", "l", "1"),
         ("SETBIT", "l", "-1", "1"), ("GETBIT", "l", "x"),
         ("BITCOUNT", "l"), ("BITCOUNT", "l", "x", "y"), ("BITPOS", "l", "1"), ("BITPOS", "l", "3"),
         ("SET", "a", "x"), ("BITOP", "or", "d", "a", "l"), ("BITOP", "or", "l", "a"), ("TYPE", "l"),
         ("BITFIELD", "l", "GET", "u8", "0"), ("BITFIELD", "l", "SET", "u8", "0", "1"),
         ("BITFIELD_RO", "l", "GET", "u8", "0"), ("BITFIELD", "l"), ("BITFIELD", "l", "GET", "u99", "0"))


def test_offset_limit_follows_proto_max_bulk_len(raw, raw_redis):
    for conn in (raw, raw_redis):
        conn.call("CONFIG", "SET", "proto-max-bulk-len", "2000000")
    try:
        same(raw, raw_redis, ("SETBIT", "k", "16000000", "1"), ("SETBIT", "k", "15999999", "1"),
             ("STRLEN", "k"), ("BITFIELD", "k", "SET", "u8", "16000000", "1"),
             ("BITFIELD", "k", "GET", "u8", "#2000000"), ("BITFIELD", "k", "GET", "u8", "#1999999"))
    finally:
        for conn in (raw, raw_redis):
            conn.call("CONFIG", "SET", "proto-max-bulk-len", "536870912")


def test_bitcount(raw, raw_redis):
    same(raw, raw_redis,
         ("BITCOUNT", "no"), ("BITCOUNT", "no", "a", "b"), ("BITCOUNT", "no", "1"),
         ("SET", "s", "foobar"), ("BITCOUNT", "s"), ("BITCOUNT", "s", "0", "0"),
         ("BITCOUNT", "s", "1", "1"), ("BITCOUNT", "s", "1", "-2"), ("BITCOUNT", "s", "-3", "-1"),
         ("BITCOUNT", "s", "-1", "-3"), ("BITCOUNT", "s", "5", "30"), ("BITCOUNT", "s", "-100", "100"),
         ("BITCOUNT", "s", "5", "30", "bit"), ("BITCOUNT", "s", "1", "1", "BIT"),
         ("BITCOUNT", "s", "3", "46", "bit"), ("BITCOUNT", "s", "-13", "-2", "bit"),
         ("BITCOUNT", "s", "0", "-1", "byte"), ("BITCOUNT", "s", "0", "-1", "bits"),
         ("BITCOUNT", "s", "-1", "-2", "bits"), ("BITCOUNT", "s", "1"), ("BITCOUNT", "s", "0", "1", "bit", "x"),
         ("BITCOUNT", "s", "a", "1"), ("BITCOUNT", "s", "1", "b"),
         ("SET", "e", ""), ("BITCOUNT", "e"), ("BITCOUNT", "e", "0", "-1"), ("BITCOUNT", "e", "0", "-1", "bit"))


def test_bitcount_random_ranges(raw, raw_redis):
    rng = random.Random(7)
    data = bytes(rng.getrandbits(8) for _ in range(200))
    same(raw, raw_redis, ("SET", "s", data))
    for _ in range(150):
        a, b = rng.randint(-1700, 1700), rng.randint(-1700, 1700)
        unit = rng.choice([(), ("BIT",), ("byte",)])
        same(raw, raw_redis, ("BITCOUNT", "s", a, b, *unit))


def test_bitpos(raw, raw_redis):
    same(raw, raw_redis,
         ("BITPOS", "no", "0"), ("BITPOS", "no", "1"), ("BITPOS", "no", "2"), ("BITPOS", "no", "x"),
         ("BITPOS", "no", "1", "a", "b"),
         ("SET", "s", b"\xff\xf0\x00"), ("BITPOS", "s", "0"), ("BITPOS", "s", "1", "2"),
         ("BITPOS", "s", "0", "0", "0"), ("BITPOS", "s", "0", "0", "1"),
         ("SET", "f", b"\xff\xff\xff"), ("BITPOS", "f", "0"), ("BITPOS", "f", "0", "0"),
         ("BITPOS", "f", "0", "0", "-1"), ("BITPOS", "f", "0", "0", "-1", "bit"),
         ("BITPOS", "f", "0", "3", "bit"), ("BITPOS", "f", "0", "5", "2"), ("BITPOS", "f", "1", "5", "2"),
         ("SET", "z", b"\x00\x00\x00"), ("BITPOS", "z", "1"), ("BITPOS", "z", "0", "1"),
         ("BITPOS", "z", "1", "7", "15", "bit"), ("BITPOS", "z", "0", "7", "15", "BIT"),
         ("BITPOS", "z", "0", "1", "-1", "bits"), ("BITPOS", "z", "0", "1", "2", "bit", "x"),
         ("BITPOS", "z", "0", "x"), ("BITPOS", "z", "0", "1", "x"), ("BITPOS", "z", "0", "x", "1", "nope"),
         ("SET", "e", ""), ("BITPOS", "e", "0"), ("BITPOS", "e", "1"), ("BITPOS", "e", "0", "0", "-1", "bit"))


def test_bitpos_random_ranges(raw, raw_redis):
    rng = random.Random(11)
    for trial in range(6):
        fill = rng.choice([0, 0xFF, None])
        data = bytes(fill if fill is not None and rng.random() < 0.9 else rng.getrandbits(8)
                     for _ in range(rng.randint(1, 40)))
        same(raw, raw_redis, ("SET", "s", data))
        for _ in range(60):
            bit = rng.randint(0, 1)
            args = [rng.randint(-400, 400) for _ in range(rng.randint(0, 2))]
            unit = (rng.choice(["bit", "byte"]),) if len(args) == 2 and rng.random() < 0.5 else ()
            same(raw, raw_redis, ("BITPOS", "s", bit, *args, *unit))


def test_bitop(raw, raw_redis):
    same(raw, raw_redis,
         ("SET", "a", b"\x0f\xf0abc"), ("SET", "b", b"\xff"), ("SET", "c", "12345678901234567890123456789012345"),
         ("BITOP", "AND", "d", "a", "b"), ("GET", "d"), ("BITOP", "or", "d", "a", "b", "c"), ("GET", "d"),
         ("BITOP", "xor", "d", "a", "b", "c", "missing"), ("GET", "d"),
         ("BITOP", "and", "d", "a", "missing"), ("GET", "d"),
         ("BITOP", "not", "d", "a"), ("GET", "d"), ("BITOP", "not", "d", "a", "b"),
         ("BITOP", "nand", "d", "a"), ("BITOP", "not", "d", "missing"), ("EXISTS", "d"),
         ("SET", "e", ""), ("BITOP", "or", "d", "e", "missing"), ("EXISTS", "d"),
         ("BITOP", "or", "a", "a"), ("GET", "a"))


def test_bitop_clears_ttl_of_destination(r):
    r.set("d", "x", ex=100)
    r.set("a", "y")
    assert r.bitop("OR", "d", "a") == 1
    assert r.ttl("d") == -1


def test_bitop_large_strings(r):
    rng = random.Random(3)
    a = bytes(rng.getrandbits(8) for _ in range(100_000))
    b = bytes(rng.getrandbits(8) for _ in range(70_000))
    r.set("a", a)
    r.set("b", b)
    r.bitop("XOR", "d", "a", "b")
    expect = bytes(x ^ y for x, y in zip(a, b + bytes(30_000)))
    assert r.get("d") == expect
    assert r.bitcount("d") == sum(bin(x).count("1") for x in expect)


def test_bitfield_basics(raw, raw_redis):
    same(raw, raw_redis,
         ("BITFIELD", "k"), ("BITFIELD", "k", "GET", "u8", "0"), ("EXISTS", "k"),
         ("BITFIELD", "k", "SET", "i8", "0", "-100", "GET", "u8", "0", "GET", "i8", "0"),
         ("BITFIELD", "k", "SET", "u2", "#3", "7", "GET", "u2", "#3", "INCRBY", "i5", "100", "1"),
         ("GET", "k"),
         ("BITFIELD", "k", "INCRBY", "u2", "100", "1", "OVERFLOW", "SAT", "INCRBY", "u2", "102", "1"),
         ("BITFIELD", "k", "SET", "i64", "0", "-9223372036854775808", "GET", "i64", "0",
          "INCRBY", "i64", "0", "-1", "OVERFLOW", "SAT", "INCRBY", "i64", "0", "-1"),
         ("BITFIELD", "k", "SET", "u63", "3", "9223372036854775807", "GET", "u63", "3", "GET", "i64", "3"),
         ("BITFIELD", "k", "OVERFLOW", "FAIL", "SET", "u8", "0", "256", "SET", "i8", "0", "-129",
          "INCRBY", "u8", "0", "-1000", "SET", "u8", "0", "-1"),
         ("BITFIELD", "k", "OVERFLOW", "SAT", "SET", "u8", "0", "-1", "GET", "u8", "0",
          "SET", "i3", "5", "-100", "GET", "i3", "5"),
         ("BITFIELD", "k", "OVERFLOW", "WRAP", "SET", "u8", "0", "-1", "GET", "u8", "0",
          "SET", "i3", "5", "-100", "GET", "i3", "5", "INCRBY", "i3", "5", "9223372036854775807"),
         ("GET", "k"))


def test_bitfield_errors(raw, raw_redis):
    same(raw, raw_redis,
         ("BITFIELD", "k", "GET"), ("BITFIELD", "k", "GET", "u8"), ("BITFIELD", "k", "SET", "u8", "0"),
         ("BITFIELD", "k", "FOO", "u8", "0"), ("BITFIELD", "k", "OVERFLOW"), ("BITFIELD", "k", "OVERFLOW", "x"),
         ("BITFIELD", "k", "GET", "u64", "0"), ("BITFIELD", "k", "GET", "i65", "0"),
         ("BITFIELD", "k", "GET", "i0", "0"), ("BITFIELD", "k", "GET", "U8", "0"),
         ("BITFIELD", "k", "GET", "i", "0"), ("BITFIELD", "k", "GET", "u8", "-1"),
         ("BITFIELD", "k", "GET", "u8", "#-1"), ("BITFIELD", "k", "GET", "u8", "#x"),
         ("BITFIELD", "k", "SET", "u8", "0", "x"), ("BITFIELD", "k", "INCRBY", "u8", "0", "1.5"),
         ("BITFIELD", "k", "SET", "u8", "0", "1", "GET", "u99", "0"), ("EXISTS", "k"),
         ("BITFIELD_RO", "k", "SET", "u8", "0", "1"), ("BITFIELD_RO", "k", "GET", "u8", "0"),
         ("BITFIELD_RO", "k"), ("BITFIELD_RO", "k", "GET", "u8"),
         ("BITFIELD_RO", "k", "OVERFLOW", "SAT", "INCRBY", "u8", "0", "1"))


@pytest.mark.parametrize("signed", [True, False])
def test_bitfield_overflow_random(raw, raw_redis, signed):
    rng = random.Random(5 + signed)
    for _ in range(200):
        bits = rng.randint(1, 64 if signed else 63)
        ftype = ("i" if signed else "u") + str(bits)
        offset = rng.randint(0, 40)
        value = rng.randint(-(2**63), 2**63 - 1) if rng.random() < 0.3 else rng.randint(-300, 300)
        incr = rng.randint(-(2**63), 2**63 - 1) if rng.random() < 0.3 else rng.randint(-300, 300)
        mode = rng.choice(["WRAP", "SAT", "FAIL"])
        same(raw, raw_redis,
             ("BITFIELD", "k", "OVERFLOW", mode, "SET", ftype, offset, value, "INCRBY", ftype, offset, incr,
              "GET", ftype, offset), ("GET", "k"))


def test_strings_and_bitmaps_share_bytes(r):
    r.set("k", "@")  # 0x40
    assert r.getbit("k", 1) == 1
    r.setbit("k", 7, 1)
    assert r.get("k") == b"A"
    r.set("n", 255)
    assert r.bitcount("n") == 11  # "255" = 0x32 0x35 0x35
    r.append("k", "B")
    assert r.bitfield("k").get("u16", 0).execute() == [0x4142]


def _bitmap_writes(r):
    r.setbit("a", 0, 0)       # created: counts
    r.setbit("a", 0, 0)       # unchanged
    r.setbit("a", 20, 0)      # grown: counts
    r.bitfield("b").set("i5", 0, 0).execute()           # created
    r.bitfield("b").set("i5", 0, 0).execute()           # unchanged
    r.bitfield("b").incrby("u4", 0, 1).incrby("u4", 4, 1).execute()  # two changes
    r.bitfield("b", default_overflow="FAIL").incrby("u2", 0, 9).execute()  # failed: nothing
    r.set("x", "1")
    r.bitop("NOT", "d", "x")
    r.bitop("AND", "d", "missing")


def test_dirty_counts_only_changes(r):
    def dirty():
        return r.info("persistence")["rdb_changes_since_last_save"]

    base = dirty()
    _bitmap_writes(r)
    assert dirty() == base + 5 + 1 + 1 + 1


def test_keyspace_events(r, raw):
    if raw.call("COMMAND", "INFO", "psubscribe") in (b"*1\r\n*-1\r\n", b"*1\r\n$-1\r\n"):
        pytest.skip("pub/sub is not available yet")
    r.config_set("notify-keyspace-events", "KEA")
    p = r.pubsub()
    p.psubscribe("__keyevent@0__:*")
    p.get_message(timeout=1)
    _bitmap_writes(r)
    events = []
    while True:
        m = p.get_message(timeout=0.5)
        if m is None:
            break
        if m["type"] == "pmessage":
            events.append((m["channel"].split(b":", 1)[1], m["data"]))
    assert events == [(b"setbit", b"a"), (b"setbit", b"a"), (b"setbit", b"b"), (b"setbit", b"b"),
                      (b"set", b"x"), (b"set", b"d"), (b"del", b"d")]
    p.close()


def test_big_bitmap_is_fast(r):
    import time
    r.setbit("big", 8 * 20_000_000 - 1, 1)
    t = time.perf_counter()
    assert r.bitcount("big") == 1
    assert r.bitpos("big", 1) == 8 * 20_000_000 - 1
    assert r.bitpos("big", 0, 100) == 800
    r.bitop("NOT", "inv", "big")
    assert r.bitpos("inv", 0) == 8 * 20_000_000 - 1
    assert r.bitcount("inv", 0, -1, "bit") == 8 * 20_000_000 - 1
    assert time.perf_counter() - t < 5
    r.delete("big", "inv")
