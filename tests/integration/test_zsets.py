"""Sorted set commands over TCP, compared byte-for-byte with real Redis 7.0 (RESP2 and RESP3)."""

from __future__ import annotations

import threading
import time

import pytest

SEQUENCES = {
    "zadd_options": [
        ("ZADD", "z", "1", "a", "2", "b", "3", "c"), ("ZADD", "z", "NX", "XX", "1", "a"),
        ("ZADD", "z", "GT", "NX", "1", "a"), ("ZADD", "z", "LT", "NX", "1", "a"), ("ZADD", "z", "GT", "LT", "1", "a"),
        ("ZADD", "z", "INCR", "1", "a", "2", "b"), ("ZADD", "z", "1"), ("ZADD", "z", "1", "a", "2"),
        ("ZADD", "z"), ("ZADD", "z", "abc", "a"), ("ZADD", "z", "nan", "a"), ("ZADD", "z", "", "a"),
        ("ZADD", "z", " 1", "a"), ("ZADD", "z", "1 ", "a"), ("ZADD", "z", "0x10", "hx"), ("ZADD", "z", "1e400", "o"),
        ("ZADD", "z", "1e-400", "u"), ("ZADD", "z", "4e-320", "d"), ("ZADD", "z", "inf", "pi", "-inf", "ni"),
        ("ZADD", "z", "+Infinity", "pi2"), ("ZADD", "z", "1_0", "us"), ("ZADD", "z", "CH", "5", "a", "6", "b", "7", "n"),
        ("ZADD", "z", "XX", "10", "a", "11", "zz"), ("ZADD", "z", "XX", "CH", "12", "a", "11", "zz"),
        ("ZADD", "z", "GT", "1", "a"), ("ZADD", "z", "LT", "1", "a"), ("ZADD", "z", "GT", "CH", "100", "a"),
        ("ZADD", "z", "LT", "XX", "CH", "0", "a", "0", "new"), ("ZADD", "z", "INCR", "5", "a"),
        ("ZADD", "z", "INCR", "GT", "-1", "a"), ("ZADD", "z", "INCR", "LT", "-1", "a"),
        ("ZADD", "z", "INCR", "NX", "1", "a"), ("ZADD", "z", "INCR", "XX", "1", "missing"),
        ("ZADD", "nokey", "XX", "1", "a"), ("ZADD", "nokey", "XX", "INCR", "1", "a"), ("EXISTS", "nokey"),
        ("ZADD", "z", "INCR", "-inf", "pi"), ("ZINCRBY", "z", "1", "pi"), ("ZINCRBY", "z", "-inf", "pi"),
        ("ZINCRBY", "z", "nx", "a"), ("ZINCRBY", "z", "1.5", "newm"), ("ZINCRBY", "z", "x", "a"),
        ("ZADD", "z", "-0", "negzero"), ("ZSCORE", "z", "negzero"), ("ZRANGE", "z", "0", "-1", "WITHSCORES"),
    ],
    "zrange_forms": [
        ("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "-inf", "ninf", "+inf", "pinf"),
        ("ZRANGE", "z", "0", "-1", "WITHSCORES"), ("ZRANGE", "z", "0", "-1", "REV", "WITHSCORES"),
        ("ZRANGE", "z", "2", "1"), ("ZRANGE", "z", "-100", "100"), ("ZRANGE", "z", "-2", "-1"),
        ("ZRANGE", "z", "0", "-1", "LIMIT", "0", "1"), ("ZRANGE", "z", "0", "-1", "LIMIT", "0", "-1"),
        ("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "WITHSCORES"), ("ZRANGE", "z", "(1", "(4", "BYSCORE"),
        ("ZRANGE", "z", "+inf", "-inf", "BYSCORE", "REV", "WITHSCORES"),
        ("ZRANGE", "z", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", "1", "2", "WITHSCORES"),
        ("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "-1", "2"),
        ("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "2", "0"),
        ("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "20", "2"),
        ("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "1", "-5"),
        ("ZRANGE", "z", "(inf", "+inf", "BYSCORE"), ("ZRANGE", "z", "-inf", "(-inf", "BYSCORE"),
        ("ZRANGE", "z", "(3", "3", "BYSCORE"), ("ZRANGE", "z", "3", "3", "BYSCORE"),
        ("ZRANGE", "z", "-", "+", "BYLEX"), ("ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES"),
        ("ZRANGE", "z", "0", "-1", "BYSCORE", "BYSCORE"), ("ZRANGE", "z", "0", "-1", "REV", "REV"),
        ("ZRANGE", "z", "0", "-1", "BYLEX", "BYSCORE"), ("ZRANGE", "z", "0", "-1", "FOO"),
        ("ZRANGE", "z", "0", "-1", "LIMIT", "1"), ("ZRANGE", "z", "a", "b", "BYSCORE"),
        ("ZRANGE", "z", "", "", "BYSCORE"), ("ZRANGE", "z", " 1", " 5", "BYSCORE"),
        ("ZRANGE", "z", "1 ", "5", "BYSCORE"), ("ZRANGE", "z", "(", "(", "BYSCORE"),
        ("ZRANGE", "z", "0x1", "0x3", "BYSCORE"), ("ZRANGE", "z", "1e400", "2e400", "BYSCORE"),
        ("ZRANGE", "z", "nan", "1", "BYSCORE"), ("ZRANGE", "z", "a", "1"), ("ZRANGE", "z", "0", "1", "LIMIT", "x", "1"),
        ("ZRANGEBYSCORE", "z", "-inf", "+inf", "WITHSCORES", "LIMIT", "1", "3"),
        ("ZRANGEBYSCORE", "z", "-inf", "+inf", "REV"), ("ZREVRANGEBYSCORE", "z", "+inf", "-inf", "WITHSCORES"),
        ("ZREVRANGEBYSCORE", "z", "5", "1"), ("ZREVRANGEBYSCORE", "z", "(5", "(1", "LIMIT", "1", "1"),
        ("ZRANGEBYSCORE", "z", "5", "1"), ("ZREVRANGE", "z", "0", "2", "WITHSCORES"), ("ZREVRANGE", "z", "0", "2", "REV"),
        ("ZRANGEBYSCORE", "nokey", "0", "1"), ("ZRANGE", "nokey", "0", "-1"),
    ],
    "lex": [
        ("ZADD", "l", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e", "0", "f", "0", "g", "0", ""),
        ("ZRANGEBYLEX", "l", "-", "+"), ("ZRANGEBYLEX", "l", "[b", "(f"), ("ZRANGEBYLEX", "l", "(b", "[f", "LIMIT", "1", "2"),
        ("ZREVRANGEBYLEX", "l", "+", "-"), ("ZREVRANGEBYLEX", "l", "[f", "(b"),
        ("ZREVRANGEBYLEX", "l", "[f", "(b", "LIMIT", "1", "10"), ("ZRANGEBYLEX", "l", "+", "-"),
        ("ZRANGEBYLEX", "l", "-", "-"), ("ZRANGEBYLEX", "l", "+", "+"), ("ZRANGEBYLEX", "l", "b", "f"),
        ("ZRANGEBYLEX", "l", "[b", "+x"), ("ZRANGEBYLEX", "l", "[", "(b"), ("ZRANGEBYLEX", "l", "(", "+"),
        ("ZRANGEBYLEX", "l", "[c", "[c"), ("ZRANGEBYLEX", "l", "(c", "[c"), ("ZRANGEBYLEX", "l", "[d", "[c"),
        ("ZLEXCOUNT", "l", "-", "+"), ("ZLEXCOUNT", "l", "[b", "[d"), ("ZLEXCOUNT", "l", "(b", "(b"),
        ("ZLEXCOUNT", "l", "a", "b"), ("ZLEXCOUNT", "nokey", "-", "+"), ("ZRANGE", "l", "[g", "[b", "BYLEX", "REV"),
        ("ZREMRANGEBYLEX", "l", "[a", "(c"), ("ZREMRANGEBYLEX", "l", "a", "c"), ("ZRANGE", "l", "0", "-1"),
        ("ZADD", "mixed", "1", "a", "2", "c", "3", "b", "0", "d"), ("ZRANGEBYLEX", "mixed", "-", "+"),
        ("ZRANGEBYLEX", "mixed", "[b", "[c"), ("ZREVRANGEBYLEX", "mixed", "[c", "[b"),
        ("ZLEXCOUNT", "mixed", "[b", "[c"), ("ZRANGEBYLEX", "mixed", "[b", "+"),
    ],
    "rank_score_count": [
        ("ZADD", "z", "1", "a", "2", "b", "3", "c"), ("ZRANK", "z", "b"), ("ZRANK", "z", "nope"),
        ("ZREVRANK", "z", "a"), ("ZRANK", "nokey", "b"), ("ZSCORE", "z", "a"), ("ZSCORE", "z", "nope"),
        ("ZSCORE", "nokey", "a"), ("ZMSCORE", "z", "a", "nope", "b"), ("ZMSCORE", "nokey", "a", "b"),
        ("ZMSCORE", "z"), ("ZCARD", "z"), ("ZCARD", "nokey"), ("ZCOUNT", "z", "-inf", "+inf"),
        ("ZCOUNT", "z", "(1", "3"), ("ZCOUNT", "z", "3", "1"), ("ZCOUNT", "z", "a", "b"), ("ZCOUNT", "nokey", "1", "2"),
        ("ZADD", "f", "1.1", "x", "1e-5", "y", "123456789012345678", "w", "0.1", "v"),
        ("ZRANGE", "f", "0", "-1", "WITHSCORES"), ("ZSCORE", "f", "v"),
    ],
    "removals": [
        ("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"), ("ZREM", "z", "a", "nope"),
        ("ZREM", "nokey", "a"), ("ZREMRANGEBYRANK", "z", "0", "0"), ("ZREMRANGEBYRANK", "z", "5", "1"),
        ("ZREMRANGEBYRANK", "z", "a", "1"), ("ZREMRANGEBYRANK", "z", "-1", "-1"), ("ZREMRANGEBYSCORE", "z", "-inf", "(3"),
        ("ZREMRANGEBYSCORE", "z", "a", "b"), ("ZREMRANGEBYSCORE", "nokey", "0", "1"), ("ZRANGE", "z", "0", "-1"),
        ("ZREMRANGEBYSCORE", "z", "-inf", "+inf"), ("EXISTS", "z"), ("ZADD", "z", "1", "a"), ("ZREM", "z", "a", "a"),
        ("EXISTS", "z"),
    ],
    "setops": [
        ("ZADD", "a", "1", "x", "2", "y", "3", "z"), ("ZADD", "b", "10", "y", "20", "z", "30", "w"),
        ("ZUNION", "2", "a", "b"), ("ZUNION", "2", "a", "b", "WITHSCORES"),
        ("ZUNION", "2", "a", "b", "WEIGHTS", "2", "3", "WITHSCORES"), ("ZUNION", "2", "a", "b", "WEIGHTS", "2"),
        ("ZUNION", "2", "a", "b", "AGGREGATE", "MIN", "WITHSCORES"), ("ZUNION", "2", "a", "b", "AGGREGATE", "max"),
        ("ZUNION", "2", "a", "b", "AGGREGATE", "foo"), ("ZUNION", "0", "a", "b"), ("ZUNION", "-1", "a"),
        ("ZUNION", "3", "a", "b"), ("ZUNION", "abc", "a"), ("ZUNION", "2", "a", "nokey", "WITHSCORES"),
        ("ZINTER", "2", "a", "b", "WITHSCORES"), ("ZINTER", "2", "a", "b", "WEIGHTS", "1", "-1", "WITHSCORES"),
        ("ZINTER", "2", "a", "nokey"), ("ZDIFF", "2", "a", "b", "WITHSCORES"), ("ZDIFF", "2", "a", "b", "WEIGHTS", "1", "2"),
        ("ZDIFF", "1", "a", "WITHSCORES"), ("ZDIFF", "2", "a", "a"), ("ZINTERCARD", "2", "a", "b"),
        ("ZINTERCARD", "2", "a", "b", "LIMIT", "1"), ("ZINTERCARD", "2", "a", "b", "LIMIT", "-1"),
        ("ZINTERCARD", "2", "a", "b", "LIMIT", "abc"), ("ZINTERCARD", "2", "a", "b", "WITHSCORES"),
        ("ZINTERCARD", "0", "a"), ("ZUNIONSTORE", "dst", "2", "a", "b"), ("ZRANGE", "dst", "0", "-1", "WITHSCORES"),
        ("ZINTERSTORE", "dst", "2", "a", "b", "WEIGHTS", "1", "2"), ("ZRANGE", "dst", "0", "-1", "WITHSCORES"),
        ("ZDIFFSTORE", "dst", "2", "a", "b"), ("ZRANGE", "dst", "0", "-1", "WITHSCORES"),
        ("ZUNIONSTORE", "dst", "2", "a", "b", "WITHSCORES"), ("ZINTERSTORE", "dst", "2", "nokey", "nokey2"),
        ("EXISTS", "dst"), ("ZADD", "inf1", "inf", "x"), ("ZADD", "inf2", "-inf", "x"),
        ("ZUNION", "2", "inf1", "inf2", "WITHSCORES"), ("ZINTER", "2", "inf1", "inf2", "WITHSCORES"),
        ("ZUNION", "2", "inf1", "inf2", "WEIGHTS", "0", "0", "WITHSCORES"),
        ("ZINTER", "2", "inf1", "inf1", "AGGREGATE", "MIN", "WEIGHTS", "0", "1", "WITHSCORES"),
        ("ZUNION", "2", "a", "b", "WEIGHTS", "nan", "1"), ("ZUNION", "2", "a", "a", "WITHSCORES"),
        ("ZINTER", "2", "a", "a", "WITHSCORES"), ("SET", "str", "v"), ("ZUNION", "2", "a", "str"),
        ("ZUNION", "2", "nokey", "str", "FOO"), ("ZUNIONSTORE", "str", "1", "a"), ("TYPE", "str"),
        ("ZUNIONSTORE", "dst"), ("ZUNION", "1"),
    ],
    "zrangestore": [
        ("ZADD", "a", "1", "x", "2", "y", "3", "z"), ("ZRANGESTORE", "d", "a", "0", "-1"), ("ZRANGE", "d", "0", "-1", "WITHSCORES"),
        ("ZRANGESTORE", "d", "a", "(1", "+inf", "BYSCORE", "LIMIT", "0", "1"), ("ZRANGE", "d", "0", "-1", "WITHSCORES"),
        ("ZRANGESTORE", "d", "a", "+", "-", "BYLEX", "REV"), ("ZRANGE", "d", "0", "-1"),
        ("ZRANGESTORE", "d", "a", "0", "-1", "WITHSCORES"), ("ZRANGESTORE", "d", "nokey", "0", "-1"), ("EXISTS", "d"),
        ("SET", "str", "v"), ("ZRANGESTORE", "d", "str", "0", "-1"), ("ZRANGESTORE", "str", "a", "5", "6"), ("EXISTS", "str"),
        ("ZRANGESTORE", "d", "a", "0", "-1", "LIMIT", "0", "1"), ("ZRANGESTORE", "d", "a", "0"),
    ],
    "pops": [
        ("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"), ("ZPOPMIN", "z"), ("ZPOPMAX", "z"),
        ("ZPOPMIN", "z", "2"), ("ZPOPMIN", "z", "0"), ("ZPOPMIN", "z", "-1"), ("ZPOPMIN", "z", "abc"),
        ("ZPOPMIN", "z", "1", "2"), ("ZPOPMIN", "nokey"), ("ZPOPMIN", "nokey", "3"), ("ZPOPMAX", "z", "100"),
        ("EXISTS", "z"), ("ZADD", "a", "1", "x", "2", "y", "3", "z"), ("ZMPOP", "1", "a", "MIN"),
        ("ZMPOP", "2", "nokey", "a", "MAX", "COUNT", "10"), ("ZMPOP", "1", "nokey", "MIN"), ("ZMPOP", "0", "a", "MIN"),
        ("ZMPOP", "1", "a", "FOO"), ("ZMPOP", "1", "a", "MIN", "COUNT", "0"), ("ZMPOP", "1", "a", "MIN", "COUNT", "1", "COUNT", "2"),
        ("ZMPOP", "2", "a"), ("ZMPOP", "1", "a", "MIN", "COUNT"), ("BZPOPMIN", "nokey", "0.01"),
        ("BZPOPMIN", "nokey", "-1"), ("BZPOPMIN", "nokey", "abc"), ("ZADD", "a", "1", "x"), ("BZPOPMIN", "a", "0"),
        ("BZMPOP", "0.01", "1", "nokey", "MIN"), ("ZADD", "a", "1", "x", "2", "y"), ("BZMPOP", "0", "1", "a", "MAX", "COUNT", "5"),
        ("BZMPOP", "0", "0", "a", "MAX"), ("BZMPOP", "x", "1", "a", "MAX"), ("BZMPOP", "0", "1", "a", "MAX", "COUNT", "-2"),
        ("SET", "str", "v"), ("BZMPOP", "0", "1", "str", "MAX"), ("BZPOPMAX", "str", "0"), ("ZPOPMIN", "str"),
        ("ZMPOP", "2", "nokey", "str", "MIN"),
    ],
    "wrongtype": [
        ("SET", "s", "v"), ("ZADD", "s", "1", "a"), ("ZADD", "s", "x", "a"), ("ZINCRBY", "s", "1", "a"),
        ("ZREM", "s", "a"), ("ZCARD", "s"), ("ZSCORE", "s", "a"), ("ZMSCORE", "s", "a"), ("ZRANK", "s", "a"),
        ("ZCOUNT", "s", "0", "1"), ("ZCOUNT", "s", "x", "1"), ("ZLEXCOUNT", "s", "-", "+"), ("ZRANGE", "s", "0", "1"),
        ("ZRANGE", "s", "0", "1", "FOO"), ("ZRANGEBYSCORE", "s", "0", "1"), ("ZRANGEBYLEX", "s", "-", "+"),
        ("ZREMRANGEBYRANK", "s", "0", "1"), ("ZREMRANGEBYSCORE", "s", "0", "1"), ("ZREMRANGEBYLEX", "s", "-", "+"),
        ("ZRANDMEMBER", "s"), ("ZRANDMEMBER", "s", "1"), ("ZSCAN", "s", "0"), ("ZINTERCARD", "1", "s"),
        ("ZPOPMAX", "s", "1"), ("ZMPOP", "1", "s", "MAX"),
    ],
    "zrandmember_zscan": [
        ("ZADD", "a", "1", "x", "2", "y", "3", "z"), ("ZRANDMEMBER", "nokey"), ("ZRANDMEMBER", "nokey", "5"),
        ("ZRANDMEMBER", "nokey", "0"), ("ZRANDMEMBER", "a", "-9223372036854775808"), ("ZRANDMEMBER", "a", "5", "withscore"),
        ("ZRANDMEMBER", "a", "9223372036854775807", "withscores"), ("ZRANDMEMBER", "a", "-4611686018427387904", "withscores"),
        ("ZRANDMEMBER", "a", "0"), ("ZRANDMEMBER", "a", "10", "WITHSCORES"), ("ZRANDMEMBER", "a", "3"),
        ("ZSCAN", "a", "0"), ("ZSCAN", "a", "0", "MATCH", "x"), ("ZSCAN", "a", "0", "NOVALUES"), ("ZSCAN", "nokey", "0"),
        ("ZADD", "sc", "1.5", "a", "123456789012345678", "b", "-0", "c", "1e20", "d", "0.1", "e"), ("ZSCAN", "sc", "0"),
        ("ZRANGE", "sc", "0", "-1", "WITHSCORES"),
    ],
}


def _run(raw, raw_redis, seq):
    for cmd in seq:
        assert raw.call(*cmd) == raw_redis.call(*cmd), cmd


@pytest.mark.parametrize("name", sorted(SEQUENCES))
def test_sequence_matches_redis(raw, raw_redis, name):
    _run(raw, raw_redis, SEQUENCES[name])


@pytest.mark.parametrize("name", sorted(SEQUENCES))
def test_sequence_matches_redis_resp3(raw, raw_redis, name):
    raw.call("HELLO", "3")
    raw_redis.call("HELLO", "3")
    _run(raw, raw_redis, SEQUENCES[name])


@pytest.mark.parametrize("name", ["zrange_forms", "setops", "pops", "removals", "zrandmember_zscan"])
def test_skiplist_encoding_matches_redis(raw, raw_redis, name):
    for conn in (raw, raw_redis):
        conn.call("CONFIG", "SET", "zset-max-listpack-entries", "0")
    try:
        # A big set's ZSCAN order is Redis's hash table order: not comparable.
        _run(raw, raw_redis, [cmd for cmd in SEQUENCES[name] if cmd[0] != "ZSCAN"])
        assert raw.call("OBJECT", "ENCODING", "a") == raw_redis.call("OBJECT", "ENCODING", "a")
    finally:
        for conn in (raw, raw_redis):
            conn.call("CONFIG", "SET", "zset-max-listpack-entries", "128")


def test_withscore_rank_7_2(raw):
    raw.call("ZADD", "z", "1", "a", "2.5", "b", "3", "c")
    assert raw.call("ZRANK", "z", "b", "WITHSCORE") == b"*2\r\n:1\r\n$3\r\n2.5\r\n"
    assert raw.call("ZREVRANK", "z", "a", "withscore") == b"*2\r\n:2\r\n$1\r\n1\r\n"
    assert raw.call("ZRANK", "z", "nope", "WITHSCORE") == b"*-1\r\n"
    assert raw.call("ZRANK", "nokey", "a", "WITHSCORE") == b"*-1\r\n"
    assert raw.call("ZRANK", "z", "b", "FOO") == b"-ERR syntax error\r\n"
    assert raw.call("ZRANK", "z", "b", "WITHSCORE", "x") == b"-ERR wrong number of arguments for 'zrank' command\r\n"
    raw.call("HELLO", "3")
    assert raw.call("ZRANK", "z", "c", "WITHSCORE") == b"*2\r\n:2\r\n,3\r\n"
    assert raw.call("ZRANK", "z", "nope", "WITHSCORE") == b"_\r\n"


def test_encodings(r):
    r.zadd("small", {"a": 1})
    assert r.object("encoding", "small") == b"listpack"
    r.zadd("long", {"m" * 65: 1})
    assert r.object("encoding", "long") == b"skiplist"
    r.zadd("big", {f"m{i}": i for i in range(129)})
    assert r.object("encoding", "big") == b"skiplist"
    r.zremrangebyrank("big", 0, 100)
    assert r.object("encoding", "big") == b"skiplist"
    r.zunionstore("u", ["big"])
    assert r.object("encoding", "u") == b"listpack"  # computed results fit the size again
    r.zrangestore("rs", "big", 0, -1)
    assert r.object("encoding", "rs") == b"listpack"


def test_big_set_ranks_and_ranges(r, rr):
    for client in (r, rr):
        client.zadd("z", {f"m{i:05d}": (i * 7919) % 1000 for i in range(3000)})
        client.zadd("z", {f"m{i:05d}": -i for i in range(0, 3000, 3)})
        client.zrem("z", *[f"m{i:05d}" for i in range(1, 3000, 11)])
    for cmd in [("ZRANGE", "z", 100, 120, "WITHSCORES"), ("ZREVRANGE", "z", 5, 9),
                ("ZRANGEBYSCORE", "z", "(10", "20", "LIMIT", 3, 5), ("ZCOUNT", "z", -500, 500),
                ("ZRANK", "z", "m01500"), ("ZREVRANK", "z", "m00002"), ("ZCARD", "z"),
                ("ZREMRANGEBYRANK", "z", 10, 20), ("ZREMRANGEBYSCORE", "z", "(100", 200),
                ("ZRANGE", "z", -30, -1, "WITHSCORES"), ("ZPOPMIN", "z", 3), ("ZPOPMAX", "z", 3)]:
        assert r.execute_command(*cmd) == rr.execute_command(*cmd), cmd


def test_zrandmember_shapes(r, r3, raw):
    r.zadd("z", {f"m{i}": i for i in range(10)})
    members = {f"m{i}".encode() for i in range(10)}
    assert r.zrandmember("z") in members
    got = r.zrandmember("z", 5)
    assert len(set(got)) == 5 and set(got) <= members
    assert len(set(r.zrandmember("z", 8))) == 8
    got = r.zrandmember("z", -30)
    assert len(got) == 30 and set(got) <= members
    reply = raw.call("ZRANDMEMBER", "z", "-4", "WITHSCORES")
    assert reply.startswith(b"*8\r\n")
    bulks = reply.split(b"\r\n")[2:-1:2]
    for m, s in zip(bulks[::2], bulks[1::2]):
        assert s == m[1:]
    nested = r3.execute_command("ZRANDMEMBER", "z", 3, "WITHSCORES")
    assert len(nested) == 3 and all(p[1] == float(p[0][1:]) for p in nested)


def test_zscan_big_set(r):
    r.zadd("z", {f"m{i}": i / 2 for i in range(500)})
    seen = {}
    cursor = 0
    while True:
        cursor, batch = r.zscan("z", cursor, count=20)
        seen.update(batch)
        if cursor == 0:
            break
    assert len(seen) == 500 and seen[b"m3"] == 1.5


def _events(p):
    out = []
    while True:
        m = p.get_message(timeout=0.3)
        if m is None:
            return out
        out.append((m["channel"].split(b":", 1)[1], m["data"]))


def test_keyspace_events(r):
    r.config_set("notify-keyspace-events", "KEA")
    p = r.pubsub()
    p.psubscribe("__keyevent@0__:*")
    p.get_message(timeout=1)
    r.zadd("z", {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5})
    r.zadd("z", {"a": 1})  # no change: no event
    r.zincrby("z", 1, "a")
    r.zrem("z", "nope")
    r.zrem("z", "a")
    r.zremrangebyscore("z", 2, 2)
    r.zremrangebyrank("z", 0, 0)
    r.zadd("l", {"x": 0, "y": 0})
    r.zremrangebylex("l", "[x", "[x")
    r.zpopmin("z")
    r.zpopmax("z", 5)
    r.zadd("s", {"a": 1})
    r.zunionstore("u", ["s"])
    r.zinterstore("i", ["s"])
    r.zdiffstore("d", ["s"])
    r.zrangestore("rs", "s", 0, -1)
    r.zinterstore("u", ["s", "nokey"])
    assert _events(p) == [
        (b"zadd", b"z"), (b"zincr", b"z"), (b"zrem", b"z"), (b"zremrangebyscore", b"z"),
        (b"zremrangebyrank", b"z"), (b"zadd", b"l"), (b"zremrangebylex", b"l"), (b"zpopmin", b"z"),
        (b"zpopmax", b"z"), (b"del", b"z"), (b"zadd", b"s"), (b"zunionstore", b"u"), (b"zinterstore", b"i"),
        (b"zdiffstore", b"d"), (b"zrangestore", b"rs"), (b"del", b"u")]
    p.close()


def _blocked_call(port, *args, result):
    from tests.conftest import Raw
    c = Raw(port)
    result.append(c.call(*args))
    c.close()


def _wait_blocked(r, n=1):
    deadline = time.time() + 5
    while time.time() < deadline:
        if int(r.info("clients")["blocked_clients"]) >= n:
            return
        time.sleep(0.01)
    raise AssertionError("client did not block")


def test_bzpopmin_blocks_until_zadd(r, ember):
    result = []
    t = threading.Thread(target=_blocked_call, args=(ember.port, "BZPOPMIN", "z1", "z2", 0), kwargs={"result": result})
    t.start()
    _wait_blocked(r)
    r.zadd("z2", {"b": 2, "a": 1})
    t.join(5)
    assert result == [b"*3\r\n$2\r\nz2\r\n$1\r\na\r\n$1\r\n1\r\n"]
    assert r.zrange("z2", 0, -1) == [b"b"]


def test_bzmpop_blocks_and_times_out(r, ember):
    result = []
    t = threading.Thread(target=_blocked_call, args=(ember.port, "BZMPOP", 0, 2, "z1", "z2", "MAX", "COUNT", 5),
                         kwargs={"result": result})
    t.start()
    _wait_blocked(r)
    r.zadd("z1", {"a": 1, "b": 2})
    t.join(5)
    assert result == [b"*2\r\n$2\r\nz1\r\n*2\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"]
    assert r.exists("z1") == 0
    t0 = time.time()
    assert r.execute_command("BZPOPMAX", "z1", 0.2) is None
    assert time.time() - t0 >= 0.15


def test_blocked_pop_ignores_other_types_and_empty_transactions(r, ember):
    result = []
    t = threading.Thread(target=_blocked_call, args=(ember.port, "BZPOPMIN", "z", 0), kwargs={"result": result})
    t.start()
    _wait_blocked(r)
    with r.pipeline(transaction=True) as pipe:
        pipe.zadd("z", {"foo": 0})
        pipe.delete("z")
        pipe.set("z", "str")
        pipe.execute()
    time.sleep(0.1)
    assert result == []
    r.delete("z")
    r.zadd("z", {"bar": 1})
    t.join(5)
    assert result == [b"*3\r\n$1\r\nz\r\n$3\r\nbar\r\n$1\r\n1\r\n"]


def test_blocking_pop_inside_multi_does_not_block(r):
    with r.pipeline(transaction=True) as pipe:
        pipe.execute_command("BZPOPMIN", "nokey", 0)
        pipe.execute_command("BZMPOP", 0, 1, "nokey", "MIN")
        assert pipe.execute() == [None, None]


def test_propagation_of_pops():
    from emberkv.commands import load_all
    from emberkv.server.client import Client
    from emberkv.server.server import Server
    load_all()
    server = Server()
    sent = []
    server.propagation_sinks.append(lambda db, argv: sent.append(argv))
    client = Client(server, None, 1)

    def run(*args):
        server.execute(client, [a if isinstance(a, bytes) else str(a).encode() for a in args])

    run("ZADD", "a", 1, "x", 2, "y", 3, "z")
    run("ZMPOP", 1, "a", "MIN")
    run("BZPOPMAX", "a", 0)
    run("BZMPOP", 0, 1, "a", "MIN", "COUNT", 10)
    run("ZMPOP", 1, "a", "MIN")
    assert sent[1:] == [[b"ZPOPMIN", b"a", b"1"], [b"ZPOPMAX", b"a"], [b"ZPOPMIN", b"a", b"1"]]
