"""Scripted command sequences run on EmberKV and on real Redis: replies must be byte-identical."""

import pytest

SEQUENCES = {
    "set_get_options": [
        ("SET", "k", "v"), ("GET", "k"), ("SET", "k", "v2", "NX"), ("SET", "k", "v3", "XX", "GET"),
        ("SET", "n", "1", "XX"), ("SET", "k", "v", "EX", "0"), ("SET", "k", "v", "EX", "abc"),
        ("SET", "k", "v", "PX", "100", "EX", "10"), ("SET", "k", "v", "NX", "XX"), ("SET", "k", "v", "KEEPTTL", "EX", "1"),
        ("SET", "k", "v", "FOO"), ("SET", "k"), ("SET", "k", "v", "GET", "NX"), ("GET", "missing"),
        ("SET", "k", "v", "EX", "9223372036854775807"), ("SET", "k", "v", "PXAT", "-1"),
    ],
    "getset_getdel_getex": [
        ("GETSET", "a", "1"), ("GETSET", "a", "2"), ("GETDEL", "a"), ("GETDEL", "a"), ("SET", "a", "x"),
        ("GETEX", "a", "PERSIST"), ("GETEX", "a", "EX", "-1"), ("GETEX", "a", "FOO"), ("GETEX", "nokey", "EX", "10"),
        ("GETEX", "a", "EX", "100", "PX", "10"), ("TTL", "a"),
    ],
    "mset_msetnx_mget": [
        ("MSET", "a", "1", "b", "2"), ("MGET", "a", "b", "c"), ("MSET", "a"), ("MSETNX", "c", "3", "a", "9"),
        ("MSETNX", "c", "3", "d", "4"), ("MGET", "a", "b", "c", "d"), ("MSETNX", "x"),
    ],
    "incr_family": [
        ("INCR", "i"), ("INCRBY", "i", "10"), ("DECR", "i"), ("DECRBY", "i", "5"), ("INCRBY", "i", "x"),
        ("SET", "s", "abc"), ("INCR", "s"), ("SET", "big", "9223372036854775807"), ("INCR", "big"),
        ("DECRBY", "i", "-9223372036854775808"), ("SET", "sp", " 1"), ("INCR", "sp"), ("SET", "lz", "01"), ("INCR", "lz"),
        ("INCRBYFLOAT", "f", "1.5"), ("INCRBYFLOAT", "f", "0.1"), ("INCRBYFLOAT", "f", "-1.6"), ("INCRBYFLOAT", "f", "abc"),
        ("INCRBYFLOAT", "f", "1e3"), ("INCRBYFLOAT", "f", "+inf"), ("GET", "f"), ("SET", "e", "1e5"), ("INCRBYFLOAT", "e", "1"),
        ("INCRBYFLOAT", "h", "5.0e3"), ("INCRBYFLOAT", "h", "-0.00001"),
    ],
    "append_strlen_ranges": [
        ("APPEND", "s", "hello"), ("APPEND", "s", " world"), ("STRLEN", "s"), ("STRLEN", "none"),
        ("GETRANGE", "s", "0", "4"), ("GETRANGE", "s", "-5", "-1"), ("GETRANGE", "s", "5", "2"),
        ("GETRANGE", "s", "-100", "100"), ("GETRANGE", "s", "0", "-100"), ("SUBSTR", "s", "1", "3"),
        ("GETRANGE", "none", "0", "-1"), ("SETRANGE", "s", "6", "WORLD"), ("GET", "s"), ("SETRANGE", "n", "3", "x"),
        ("GET", "n"), ("SETRANGE", "n", "-1", "x"), ("SETRANGE", "e", "0", ""), ("EXISTS", "e"), ("SETRANGE", "s", "1", ""),
    ],
    "lcs": [
        ("MSET", "a", "ohmytext", "b", "mynewtext"), ("LCS", "a", "b"), ("LCS", "a", "b", "LEN"),
        ("LCS", "a", "b", "IDX"), ("LCS", "a", "b", "IDX", "MINMATCHLEN", "4"),
        ("LCS", "a", "b", "IDX", "WITHMATCHLEN"), ("LCS", "a", "b", "IDX", "LEN"), ("LCS", "a", "missing"),
        ("LCS", "a", "b", "FOO"),
    ],
    "keys_generic": [
        ("MSET", "a", "1", "b", "2", "c", "3"), ("DEL", "a", "x"), ("EXISTS", "a", "b", "b"), ("TYPE", "b"), ("TYPE", "x"),
        ("RENAME", "b", "bb"), ("RENAME", "x", "y"), ("RENAMENX", "bb", "c"), ("RENAMENX", "bb", "d"), ("RENAME", "c", "c"),
        ("COPY", "d", "e"), ("COPY", "d", "e"), ("COPY", "d", "e", "REPLACE"), ("COPY", "d", "d"), ("COPY", "d", "z", "DB", "99"),
        ("MOVE", "d", "1"), ("MOVE", "d", "1"), ("MOVE", "e", "0"), ("SELECT", "1"), ("GET", "d"), ("SELECT", "0"),
        ("SELECT", "99"), ("SELECT", "x"), ("DBSIZE",), ("TOUCH", "e", "nope"), ("UNLINK", "e"), ("KEYS", "*"),
        ("RANDOMKEY",), ("SWAPDB", "0", "1"), ("GET", "d"), ("SWAPDB", "0", "x"), ("SWAPDB", "0", "100"),
        ("FLUSHDB", "FOO"), ("FLUSHDB", "ASYNC"), ("DBSIZE",), ("RANDOMKEY",),
    ],
    "expire_family": [
        ("SET", "k", "v"), ("EXPIRE", "k", "100"), ("TTL", "k"), ("PTTL", "nokey"), ("TTL", "nokey"),
        ("EXPIRE", "k", "50", "GT"), ("EXPIRE", "k", "200", "GT"), ("TTL", "k"), ("EXPIRE", "k", "300", "LT"),
        ("EXPIRE", "k", "10", "LT"), ("TTL", "k"), ("EXPIRE", "k", "10", "NX"), ("EXPIRE", "k", "10", "XX"),
        ("EXPIRE", "k", "10", "NX", "XX"), ("EXPIRE", "k", "10", "GT", "LT"), ("EXPIRE", "k", "10", "FOO"),
        ("PERSIST", "k"), ("PERSIST", "k"), ("TTL", "k"), ("EXPIRE", "k", "10", "GT"), ("EXPIRE", "k", "10", "LT"),
        ("EXPIRE", "k", "9223372036854775807"), ("EXPIRE", "k", "-9223372036854775808"),
        ("PEXPIRE", "k", "9223372036854775807"), ("EXPIRE", "k", "abc"),
        ("EXPIREAT", "k", "1"), ("EXISTS", "k"), ("SET", "k", "v"), ("PEXPIREAT", "k", "99999999999999"),
        ("PEXPIRETIME", "k"), ("EXPIRETIME", "k"), ("EXPIRETIME", "nokey"), ("SET", "k", "v"), ("EXPIRETIME", "k"),
        ("EXPIRE", "k", "-1"), ("GET", "k"), ("SET", "k", "v", "EX", "100"), ("SET", "k", "v2", "KEEPTTL"), ("TTL", "k"),
        ("SET", "k", "v3"), ("TTL", "k"),
    ],
    "wrong_arity_and_unknown": [
        ("GET",), ("GET", "a", "b"), ("FOOBAR", "a", "b"), ("CONFIG",), ("CONFIG", "FOO"), ("CLIENT", "BAR"),
        ("OBJECT", "FOO", "k"), ("PING", "a", "b"), ("ECHO",), ("EXPIRE", "k"),
    ],
    "object_and_misc": [
        ("SET", "n", "123"), ("SET", "s", "hello"), ("SET", "l", "x" * 60), ("OBJECT", "ENCODING", "n"),
        ("OBJECT", "ENCODING", "s"), ("OBJECT", "ENCODING", "l"), ("OBJECT", "ENCODING", "nokey"),
        ("OBJECT", "FREQ", "n"), ("OBJECT", "REFCOUNT", "nokey"), ("PING",), ("PING", "hi"), ("ECHO", "x"),
    ],
    "scan_basic": [
        ("MSET", "a1", "1", "a2", "2", "b1", "3"), ("SCAN", "0", "COUNT", "100", "MATCH", "zz*"),
        ("SCAN", "abc"), ("SCAN", "0", "COUNT", "0"), ("SCAN", "0", "FOO", "bar"), ("SCAN", "0", "TYPE", "list"),
    ],
}


@pytest.mark.parametrize("name", sorted(SEQUENCES))
def test_sequence_matches_redis(name, raw, raw_redis):
    for cmd in SEQUENCES[name]:
        mine = raw.call(*cmd)
        theirs = raw_redis.call(*cmd)
        assert mine == theirs, (cmd, mine, theirs)


def test_keys_and_scan_results_as_sets(r, rr):
    for c in (r, rr):
        c.mset({f"key:{i}": i for i in range(300)})
        c.set("other", 1)
    assert sorted(r.keys("key:1*")) == sorted(rr.keys("key:1*"))
    assert sorted(r.scan_iter(match="key:2?", count=7)) == sorted(rr.scan_iter(match="key:2?", count=7))
