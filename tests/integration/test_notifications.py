"""Keyspace notifications (notify-keyspace-events) over TCP, compared with a real Redis 7.0."""

from __future__ import annotations

import time

import pytest

from tests.conftest import Raw

# Generic and string commands whose events (names, order, classes) must match Redis.
COMMANDS = [
    ("SET", "a", "1"), ("SET", "a", "2"), ("SET", "b", "x", "EX", "100"), ("SET", "c", "v", "GET"),
    ("SET", "c", "w", "GET"), ("GET", "nokey"), ("GET", "a"), ("MGET", "a", "zz", "yy"), ("EXISTS", "zz"),
    ("TYPE", "zz"), ("TTL", "zz"), ("PTTL", "a"), ("TOUCH", "zz", "a"), ("STRLEN", "zz"),
    ("GETRANGE", "zz", "0", "1"), ("GETDEL", "zz"), ("GETDEL", "a"), ("GETEX", "zz"), ("GETSET", "n1", "v"),
    ("GETSET", "n1", "v2"), ("SETNX", "n2", "v"), ("SETNX", "n2", "v"), ("SETEX", "n3", "10", "v"),
    ("PSETEX", "n4", "10000", "v"), ("MSET", "m1", "1", "m2", "2"), ("MSETNX", "m3", "1", "m4", "2"),
    ("MSETNX", "m3", "1"), ("APPEND", "ap", "x"), ("APPEND", "ap", "y"), ("SETRANGE", "sr", "0", ""),
    ("SETRANGE", "sr", "2", "ab"), ("SETRANGE", "sr", "0", ""), ("INCR", "i"), ("DECR", "i"),
    ("INCRBY", "i", "5"), ("DECRBY", "i", "2"), ("INCRBYFLOAT", "f", "1.5"), ("LCS", "zz", "yy"),
    ("EXPIRE", "i", "100"), ("PEXPIRE", "i", "100000"), ("EXPIREAT", "i", "99999999999"), ("PERSIST", "i"),
    ("PERSIST", "i"), ("EXPIRE", "i", "0"), ("SET", "e", "1"), ("PEXPIREAT", "e", "1"),
    ("GETEX", "n3", "PERSIST"), ("GETEX", "n3", "EX", "100"), ("GETEX", "n3", "PXAT", "1"),
    ("RENAME", "m1", "r1"), ("RENAMENX", "r1", "m2"), ("RENAMENX", "r1", "r2"), ("COPY", "r2", "cp"),
    ("COPY", "zz", "cp2"), ("MOVE", "cp", "1"), ("DEL", "r2", "zz", "m2"), ("UNLINK", "m3"), ("SET", "x", "1"),
    ("SWAPDB", "0", "1"), ("SWAPDB", "0", "1"), ("OBJECT", "ENCODING", "zz"), ("FLUSHDB",), ("SET", "y", "1"),
    ("FLUSHALL",), ("SET", "k", "v", "PX", "100000", "GET"), ("SET", "k", "v", "KEEPTTL"),
    ("SET", "k", "v", "NX"), ("SET", "k2", "v", "XX"), ("SET", "k", "v", "XX", "GET"),
]


def collect(port, flags, commands):
    actor, sub = Raw(port), Raw(port)
    try:
        actor.call("FLUSHALL")
        actor.call("CONFIG", "SET", "notify-keyspace-events", flags)
        sub.call("PSUBSCRIBE", "*")
        for cmd in commands:
            actor.call(*cmd)
        actor.call("PUBLISH", "__end__", "x")
        events = []
        while True:
            m = sub.read_reply()
            if b"__end__" in m:
                return events
            events.append(m)
    finally:
        actor.call("CONFIG", "SET", "notify-keyspace-events", "")
        actor.close()
        sub.close()


@pytest.mark.parametrize("flags", ["KEA", "KEAmn", "Kg$", "E$", "Eg", "Em", "En", "KEx", "KA", "AE"])
def test_event_streams_match_redis(ember, real_redis, r, rr, flags):
    ours = collect(ember.port, flags, COMMANDS)
    theirs = collect(real_redis.port, flags, COMMANDS)
    assert ours == theirs


@pytest.mark.parametrize("value", ["gKE", "$lshzxeKE", "KA", "EA", "AKEmn", "", "Kgn", "AEm", "Ed"])
def test_config_get_renders_flags_like_redis(r, rr, value):
    r.config_set("notify-keyspace-events", value)
    rr.config_set("notify-keyspace-events", value)
    assert r.config_get("notify-keyspace-events") == rr.config_get("notify-keyspace-events")
    rr.config_set("notify-keyspace-events", "")


def test_invalid_flag_rejected_like_redis(raw, raw_redis):
    a = raw.call("CONFIG", "SET", "notify-keyspace-events", "KEZ")
    b = raw_redis.call("CONFIG", "SET", "notify-keyspace-events", "KEZ")
    assert a == b


def test_keyspace_and_keyevent_channels(r, ember):
    sub = Raw(ember.port)
    try:
        r.config_set("notify-keyspace-events", "KEA")
        sub.call("SELECT", "3")
        sub.call("PSUBSCRIBE", "__key*@9__:*")
        r.execute_command("SELECT", "9")
        r.set("foo", "bar")
        assert sub.read_reply() == (b"*4\r\n$8\r\npmessage\r\n$12\r\n__key*@9__:*\r\n$18\r\n"
                                    b"__keyspace@9__:foo\r\n$3\r\nset\r\n")
        assert sub.read_reply() == (b"*4\r\n$8\r\npmessage\r\n$12\r\n__key*@9__:*\r\n$18\r\n"
                                    b"__keyevent@9__:set\r\n$3\r\nfoo\r\n")
    finally:
        r.execute_command("SELECT", "0")
        sub.close()


def test_notifications_reach_subscribers_with_reply_off(r, ember):
    sub = Raw(ember.port)
    try:
        r.config_set("notify-keyspace-events", "KA")
        sub.cmd("CLIENT", "REPLY", "OFF")
        assert sub.call("PSUBSCRIBE", "*") == b"*3\r\n$10\r\npsubscribe\r\n$1\r\n*\r\n:1\r\n"
        r.set("foo", "bar")
        assert sub.read_reply().endswith(b"$18\r\n__keyspace@0__:foo\r\n$3\r\nset\r\n")
    finally:
        sub.close()


def wait_for(pred, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.02)
    return False


def test_expired_event_from_lazy_expiry(r, ember):
    sub = Raw(ember.port)
    try:
        r.config_set("hz", "1")    # make the lazy path the likely one
        r.config_set("notify-keyspace-events", "Ex")
        sub.call("PSUBSCRIBE", "*")
        r.psetex("foo", 50, "1")
        time.sleep(0.1)
        assert r.get("foo") is None
        assert sub.read_reply().endswith(b"$22\r\n__keyevent@0__:expired\r\n$3\r\nfoo\r\n")
    finally:
        r.config_set("hz", "10")
        sub.close()


def test_expired_event_from_active_expiry(r, ember):
    sub = Raw(ember.port)
    try:
        r.config_set("notify-keyspace-events", "Ex")
        sub.call("PSUBSCRIBE", "*")
        r.psetex("foo", 100, "1")
        assert sub.read_reply().endswith(b"$22\r\n__keyevent@0__:expired\r\n$3\r\nfoo\r\n")
        assert r.info("stats")["expired_keys"] >= 1
    finally:
        sub.close()


def test_evicted_event(r, ember):
    sub = Raw(ember.port)
    try:
        r.config_set("notify-keyspace-events", "Ee")
        r.config_set("maxmemory-policy", "allkeys-lru")
        sub.call("PSUBSCRIBE", "*")
        r.set("foo", "bar")
        r.config_set("maxmemory", "1")
        try:
            r.set("other", "x")
        except Exception:
            pass
        assert sub.read_reply().endswith(b"$22\r\n__keyevent@0__:evicted\r\n$3\r\nfoo\r\n")
    finally:
        r.config_set("maxmemory", "0")
        r.config_set("maxmemory-policy", "noeviction")
        sub.close()


def test_new_event_only_on_creation(r, ember):
    sub = Raw(ember.port)
    try:
        r.config_set("notify-keyspace-events", "En")
        sub.call("PSUBSCRIBE", "*")
        r.set("foo", "bar")
        r.set("foo", "baz")
        r.set("bar", "bar")
        assert sub.read_reply().endswith(b"$18\r\n__keyevent@0__:new\r\n$3\r\nfoo\r\n")
        assert sub.read_reply().endswith(b"$18\r\n__keyevent@0__:new\r\n$3\r\nbar\r\n")
    finally:
        sub.close()


def test_keymiss_events(r, ember):
    sub = Raw(ember.port)
    try:
        r.config_set("notify-keyspace-events", "Km")
        sub.call("PSUBSCRIBE", "*")
        r.get("nope")
        r.set("x", "1")                      # writes never raise keymiss
        r.incr("y")
        r.mget("x", "z")
        r.publish("__end__", "1")
        got = []
        while True:
            m = sub.read_reply()
            if b"__end__" in m:
                break
            got.append(m.split(b"\r\n")[6])
        assert got == [b"__keyspace@0__:nope", b"__keyspace@0__:z"]
    finally:
        sub.close()


def test_notifications_inside_multi_keep_order(raw, raw_redis):
    outs = []
    for conn in (raw, raw_redis):
        conn.call("CONFIG", "SET", "notify-keyspace-events", "KEA")
        conn.call("HELLO", "3")
        conn.call("PSUBSCRIBE", "__keyspace*")
        conn.call("MULTI")
        conn.call("SET", "a", "1")
        conn.call("INCR", "a")
        conn.cmd("EXEC")
        outs.append([conn.read_reply() for _ in range(3)])
        conn.call("CONFIG", "SET", "notify-keyspace-events", "")
    assert outs[0] == outs[1]
