"""Hash commands over TCP: replies compared byte-for-byte with real Redis 7.0 where Redis has the
command, and checked against Redis 7.4's documented behaviour for per-field expiry (HEXPIRE...)."""

from __future__ import annotations

import time

import pytest

SEQUENCES = {
    "hset_hget": [
        ("HSET", "h", "a", "1", "b", "2"), ("HSET", "h", "a", "9", "c", "3"), ("HSET", "h", "a"),
        ("HSET", "h"), ("HMSET", "h", "d", "4"), ("HMSET", "h", "d"), ("HGET", "h", "a"), ("HGET", "h", "zz"),
        ("HGET", "nokey", "a"), ("HMGET", "h", "a", "zz", "b"), ("HMGET", "nokey", "a", "b"),
        ("HGETALL", "h"), ("HGETALL", "nokey"), ("HKEYS", "h"), ("HVALS", "h"), ("HKEYS", "nokey"),
        ("HLEN", "h"), ("HLEN", "nokey"), ("HEXISTS", "h", "a"), ("HEXISTS", "h", "zz"),
        ("HEXISTS", "nokey", "a"), ("HSTRLEN", "h", "a"), ("HSTRLEN", "h", "zz"), ("HSTRLEN", "nokey", "a"),
    ],
    "hsetnx_hdel": [
        ("HSETNX", "h", "a", "1"), ("HSETNX", "h", "a", "2"), ("HGET", "h", "a"), ("HSET", "h", "b", "2"),
        ("HDEL", "h", "zz"), ("HDEL", "h", "a", "zz", "a"), ("HDEL", "h", "b", "c"), ("EXISTS", "h"),
        ("HDEL", "nokey", "a"), ("HDEL", "h"),
    ],
    "hincrby": [
        ("HINCRBY", "h", "n", "5"), ("HINCRBY", "h", "n", "-10"), ("HINCRBY", "h", "n", "x"),
        ("HINCRBY", "h", "n", "9223372036854775807"), ("HINCRBY", "h", "n", "-9223372036854775808"),
        ("HSET", "h", "big", "9223372036854775807"), ("HINCRBY", "h", "big", "1"),
        ("HSET", "h", "s", " 1"), ("HINCRBY", "h", "s", "1"), ("HSET", "h", "s", "1 "), ("HINCRBY", "h", "s", "1"),
        ("HSET", "h", "z", "01"), ("HINCRBY", "h", "z", "1"), ("HSET", "h", "e", ""), ("HINCRBY", "h", "e", "1"),
        ("HINCRBY", "h", "n", ""), ("HGETALL", "h"),
    ],
    "hincrbyfloat": [
        ("HINCRBYFLOAT", "h", "f", "0.1"), ("HINCRBYFLOAT", "h", "f", "0.2"), ("HINCRBYFLOAT", "h", "f", "1e3"),
        ("HINCRBYFLOAT", "h", "f", "-1000.3"), ("HINCRBYFLOAT", "h", "f", "abc"), ("HINCRBYFLOAT", "h", "f", "inf"),
        ("HINCRBYFLOAT", "h", "f", "nan"), ("HINCRBYFLOAT", "h", "f", ""), ("HINCRBYFLOAT", "h", "f", " 1"),
        ("HSET", "h", "s", "abc"), ("HINCRBYFLOAT", "h", "s", "1"), ("HSET", "h", "i", "10"),
        ("HINCRBYFLOAT", "h", "i", "0.5"), ("HSET", "h", "m", "1.7976931348623157e308"),
        ("HINCRBYFLOAT", "h", "m", "1.7976931348623157e308"), ("HINCRBYFLOAT", "h", "g", "5.0e3"),
        ("HINCRBYFLOAT", "h", "g", "-0.00001"), ("HINCRBYFLOAT", "h", "x", "1.23456789012345678"),
        ("HINCRBYFLOAT", "h", "neg", "-0.0"), ("HSET", "h", "hex", "0x10"), ("HINCRBYFLOAT", "h", "hex", "1"),
        ("HMGET", "h", "f", "s", "i", "m", "g", "x", "neg", "hex"),
    ],
    "wrongtype": [
        ("SET", "s", "v"), ("HSET", "s", "a", "1"), ("HGET", "s", "a"), ("HMGET", "s", "a"), ("HGETALL", "s"),
        ("HKEYS", "s"), ("HVALS", "s"), ("HLEN", "s"), ("HEXISTS", "s", "a"), ("HSTRLEN", "s", "a"),
        ("HSETNX", "s", "a", "1"), ("HDEL", "s", "a"), ("HINCRBY", "s", "a", "1"), ("HINCRBY", "s", "a", "x"),
        ("HINCRBYFLOAT", "s", "a", "1"), ("HINCRBYFLOAT", "s", "a", "x"), ("HRANDFIELD", "s"),
        ("HRANDFIELD", "s", "3"), ("HSCAN", "s", "0"), ("HSCAN", "s", "x"), ("HMSET", "s", "a", "1"),
    ],
    "hrandfield_errors": [
        ("HSET", "h", "a", "1"), ("HRANDFIELD", "nokey"), ("HRANDFIELD", "nokey", "3"),
        ("HRANDFIELD", "nokey", "-3", "WITHVALUES"), ("HRANDFIELD", "h", "x"),
        ("HRANDFIELD", "h", "1", "withvalue"), ("HRANDFIELD", "h", "1", "withvalues", "x"),
        ("HRANDFIELD", "h", "-9223372036854775808"), ("HRANDFIELD", "h", "9223372036854775807", "withvalues"),
        ("HRANDFIELD", "h", "-4611686018427387904", "withvalues"), ("HRANDFIELD", "h", "0"),
        ("HRANDFIELD", "h", "0", "withvalues"), ("HRANDFIELD", "h"), ("HRANDFIELD", "h", "5", "WITHVALUES"),
        ("HRANDFIELD", "h", "-3", "WITHVALUES"), ("HRANDFIELD", "h", "-2"),
    ],
    "hscan": [
        ("HSET", "h", "a", "1", "b", "2", "c", "3"), ("HSCAN", "h", "0"), ("HSCAN", "h", "0", "MATCH", "a*"),
        ("HSCAN", "h", "0", "COUNT", "1"), ("HSCAN", "h", "0", "COUNT", "0"), ("HSCAN", "h", "0", "COUNT", "x"),
        ("HSCAN", "h", "0", "FOO"), ("HSCAN", "h", "abc"), ("HSCAN", "nokey", "0"),
        ("HSCAN", "nokey", "0", "COUNT", "0"),
    ],
}


@pytest.mark.parametrize("name", sorted(SEQUENCES))
def test_sequence_matches_redis(raw, raw_redis, name):
    for cmd in SEQUENCES[name]:
        assert raw.call(*cmd) == raw_redis.call(*cmd), cmd


@pytest.mark.parametrize("name", ["hset_hget", "hrandfield_errors", "hincrbyfloat"])
def test_sequence_matches_redis_resp3(raw, raw_redis, name):
    raw.call("HELLO", "3")
    raw_redis.call("HELLO", "3")
    for cmd in SEQUENCES[name]:
        if cmd[0] == "HRANDFIELD" and len(cmd) > 2 and cmd[2].lstrip("-").isdigit() and cmd[1] == "h" \
                and int(cmd[2]) < 0:
            continue  # random repetitions: shape checked separately
        assert raw.call(*cmd) == raw_redis.call(*cmd), cmd


def test_hgetall_resp3_map(r3):
    r3.hset("h", mapping={"a": "1", "b": "2"})
    assert r3.hgetall("h") == {b"a": b"1", b"b": b"2"}


def test_hincrbyfloat_long_double_results(r, rr):
    for incr in ["10.5", "3.0e3", "0.00001", "-4999.99999", "1.5e-10", "123456789.987654321"]:
        assert r.hincrbyfloat("h", "f", incr) == rr.hincrbyfloat("h", "f", incr)
        assert r.hget("h", "f") == rr.hget("h", "f")


def test_hrandfield_shapes(r, r3, raw):
    r.hset("h", mapping={f"f{i}": f"v{i}" for i in range(10)})
    fields = {f"f{i}".encode() for i in range(10)}
    assert r.hrandfield("h") in fields
    got = r.hrandfield("h", 5)
    assert len(got) == 5 and len(set(got)) == 5 and set(got) <= fields
    got = r.hrandfield("h", 8)  # close to the size: the "remove from a copy" strategy
    assert len(set(got)) == 8
    got = r.hrandfield("h", -30)
    assert len(got) == 30 and set(got) <= fields
    reply = raw.call("HRANDFIELD", "h", "-4", "WITHVALUES")
    assert reply.startswith(b"*8\r\n")
    bulks = reply.split(b"\r\n")[2:-1:2]
    for f, v in zip(bulks[::2], bulks[1::2]):
        assert v == b"v" + f[1:]
    assert sorted(r.execute_command("HRANDFIELD", "h", 20)) == sorted(fields)
    nested = r3.execute_command("HRANDFIELD", "h", 3, "WITHVALUES")
    assert len(nested) == 3 and all(len(p) == 2 and p[1] == b"v" + p[0][1:] for p in nested)


def test_hscan_big_hash_returns_everything(r):
    r.hset("h", mapping={f"f{i}": i for i in range(1000)})
    assert r.object("encoding", "h") == b"hashtable"
    seen = {}
    cursor = 0
    calls = 0
    while True:
        cursor, batch = r.hscan("h", cursor, count=50)
        seen.update(batch)
        calls += 1
        if cursor == 0:
            break
    assert calls > 5
    assert len(seen) == 1000 and seen[b"f7"] == b"7"
    cursor, keys = r.hscan("h", 0, match="f99*", count=5000, no_values=True)
    assert cursor == 0 and sorted(keys) == sorted([b"f99"] + [b"f99%d" % i for i in range(10)])


def test_encoding_conversions(r):
    r.config_set("hash-max-listpack-entries", 4)
    r.config_set("hash-max-listpack-value", 8)
    try:
        r.hset("small", mapping={"a": 1, "b": 2})
        assert r.object("encoding", "small") == b"listpack"
        r.hset("small", mapping={"c": 3, "d": 4, "e": 5})
        assert r.object("encoding", "small") == b"hashtable"
        r.hdel("small", "a", "b", "c")
        assert r.object("encoding", "small") == b"hashtable"  # never converted back
        r.hset("v", "f", "123456789")
        assert r.object("encoding", "v") == b"hashtable"
        r.hincrbyfloat("inc", "f", "0.000005")
        assert r.object("encoding", "inc") == b"listpack"
        r.hincrbyfloat("inc2", "f", "0.0000005")
        assert r.object("encoding", "inc2") == b"hashtable"
        r.hsetnx("nx", "abcdefghi", 1)
        assert r.object("encoding", "nx") == b"hashtable"
    finally:
        r.config_set("hash-max-listpack-entries", 128)
        r.config_set("hash-max-listpack-value", 64)


def test_keyspace_events(r):
    r.config_set("notify-keyspace-events", "KEA")
    p = r.pubsub()
    p.psubscribe("__keyevent@0__:*")
    p.get_message(timeout=1)
    r.hset("h", "a", "1")
    r.hsetnx("h", "b", "1")
    r.hsetnx("h", "b", "2")  # no change, no event
    r.hincrby("h", "a", 1)
    r.hincrbyfloat("h", "a", 1.5)
    r.hdel("h", "zz")  # nothing deleted, no event
    r.hdel("h", "a", "b")
    events = []
    while True:
        m = p.get_message(timeout=0.5)
        if m is None:
            break
        events.append((m["channel"].split(b":", 1)[1], m["data"]))
    assert events == [(b"hset", b"h"), (b"hset", b"h"), (b"hincrby", b"h"), (b"hincrbyfloat", b"h"),
                      (b"hdel", b"h"), (b"del", b"h")]
    p.close()


# --- Redis 7.4 hash field expiry (no reference server: expected values from the 7.4 docs) --------

def test_hexpire_reply_codes(r):
    r.hset("h", mapping={"a": 1, "b": 2, "c": 3})
    assert r.execute_command("HEXPIRE", "h", 100, "FIELDS", 2, "a", "nofield") == [1, -2]
    assert r.execute_command("HEXPIRE", "h", 200, "NX", "FIELDS", 2, "a", "b") == [0, 1]
    assert r.execute_command("HEXPIRE", "h", 300, "XX", "FIELDS", 2, "a", "c") == [1, 0]
    assert r.execute_command("HEXPIRE", "h", 100, "GT", "FIELDS", 2, "a", "c") == [0, 0]
    assert r.execute_command("HEXPIRE", "h", 500, "GT", "FIELDS", 1, "a") == [1]
    assert r.execute_command("HEXPIRE", "h", 50, "LT", "FIELDS", 2, "a", "c") == [1, 1]
    assert r.execute_command("HTTL", "h", "FIELDS", 4, "a", "b", "c", "nofield") == [50, 200, 50, -2]
    pttl = r.execute_command("HPTTL", "h", "FIELDS", 1, "b")
    assert 199000 < pttl[0] <= 200000
    now = time.time()
    at = r.execute_command("HEXPIRETIME", "h", "FIELDS", 1, "b")[0]
    assert abs(at - (now + 200)) <= 2
    pat = r.execute_command("HPEXPIRETIME", "h", "FIELDS", 1, "b")[0]
    assert abs(pat - at * 1000) < 1000
    assert r.execute_command("HPERSIST", "h", "FIELDS", 3, "a", "nofield", "a") == [1, -2, -1]
    assert r.execute_command("HTTL", "h", "FIELDS", 1, "a") == [-1]
    # A time in the past deletes the field (2); the last field takes the key with it.
    assert r.execute_command("HEXPIRE", "h", 0, "FIELDS", 1, "a") == [2]
    assert r.execute_command("HPEXPIREAT", "h", 1, "FIELDS", 2, "b", "c") == [2, 2]
    assert r.exists("h") == 0
    assert r.execute_command("HEXPIRE", "h", 10, "FIELDS", 1, "a") == [-2]
    assert r.execute_command("HTTL", "h", "FIELDS", 2, "a", "b") == [-2, -2]
    assert r.execute_command("HPERSIST", "h", "FIELDS", 1, "a") == [-2]


def test_hexpire_absolute_forms(r):
    r.hset("h", mapping={"a": 1, "b": 2})
    future = int(time.time()) + 1000
    assert r.execute_command("HEXPIREAT", "h", future, "FIELDS", 1, "a") == [1]
    assert r.execute_command("HEXPIRETIME", "h", "FIELDS", 1, "a") == [future]
    assert r.execute_command("HPEXPIREAT", "h", future * 1000 + 5, "FIELDS", 1, "b") == [1]
    assert r.execute_command("HPEXPIRETIME", "h", "FIELDS", 2, "a", "b") == [future * 1000, future * 1000 + 5]
    assert r.execute_command("HEXPIRETIME", "h", "FIELDS", 1, "b") == [future + 1]


@pytest.mark.parametrize("cmd,error", [
    (("HEXPIRE", "h", "x", "FIELDS", "1", "a"), b"ERR value is not an integer or out of range"),
    (("HEXPIRE", "h", "-1", "FIELDS", "1", "a"), b"ERR invalid expire time, must be >= 0"),
    (("HEXPIRE", "h", "9223372036854775807", "FIELDS", "1", "a"),
     b"ERR invalid expire time in 'hexpire' command"),
    (("HPEXPIREAT", "h", "70368744177664", "FIELDS", "1", "a"),
     b"ERR invalid expire time in 'hpexpireat' command"),
    (("HEXPIRE", "h", "10", "FIELD", "1", "a"),
     b"ERR Mandatory argument FIELDS is missing or not at the right position"),
    (("HEXPIRE", "h", "10", "NX", "XX", "FIELDS", "1", "a"),
     b"ERR Mandatory argument FIELDS is missing or not at the right position"),
    (("HEXPIRE", "h", "10", "FIELDS", "0", "a"), b"ERR Parameter `numFields` should be greater than 0"),
    (("HEXPIRE", "h", "10", "FIELDS", "x", "a"), b"ERR Parameter `numFields` should be greater than 0"),
    (("HEXPIRE", "h", "10", "FIELDS", "2", "a"),
     b"ERR The `numfields` parameter must match the number of arguments"),
    (("HTTL", "h", "FIELDS", "0", "a"), b"ERR Number of fields must be a positive integer"),
    (("HTTL", "h", "FIELDZ", "1", "a"),
     b"ERR Mandatory argument FIELDS is missing or not at the right position"),
    (("HPERSIST", "h", "FIELDS", "3", "a"), b"ERR The `numfields` parameter must match the number of arguments"),
    (("HEXPIRE", "h", "10", "FIELDS", "1"), b"ERR wrong number of arguments for 'hexpire' command"),
    (("HTTL", "h", "FIELDS", "1"), b"ERR wrong number of arguments for 'httl' command"),
])
def test_hexpire_errors(raw, cmd, error):
    raw.call("HSET", "h", "a", "1")
    assert raw.call(*cmd) == b"-" + error + b"\r\n"


def test_hexpire_wrongtype(raw):
    raw.call("SET", "s", "v")
    for cmd in [("HEXPIRE", "s", "10", "FIELDS", "1", "a"), ("HTTL", "s", "FIELDS", "1", "a"),
                ("HPERSIST", "s", "FIELDS", "1", "a"), ("HPEXPIRETIME", "s", "FIELDS", "1", "a")]:
        assert raw.call(*cmd).startswith(b"-WRONGTYPE")


def test_fields_expire_lazily(r):
    """Redis 7.4's lazy expiry: a command reading a field deletes it when expired; whole-hash
    reads skip expired fields; HLEN counts the fields not deleted yet."""
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    try:
        r.hset("h", mapping={"a": 1, "b": 2, "c": 3})
        assert r.execute_command("HPEXPIRE", "h", 50, "FIELDS", 2, "a", "b") == [1, 1]
        time.sleep(0.15)
        assert r.hgetall("h") == {b"c": b"3"}
        assert r.hkeys("h") == [b"c"] and r.hvals("h") == [b"3"]
        assert r.hlen("h") == 3
        assert r.execute_command("HTTL", "h", "FIELDS", 2, "a", "c") == [-2, -1]
        assert r.hget("h", "a") is None
        assert r.hlen("h") == 2
        assert r.hexists("h", "b") == 0
        assert r.hlen("h") == 1
        assert r.hmget("h", "a", "b", "c") == [None, None, b"3"]
        r.execute_command("HPEXPIRE", "h", 30, "FIELDS", 1, "c")
        time.sleep(0.1)
        assert r.exists("h") == 1
        assert r.hstrlen("h", "c") == 0
        assert r.exists("h") == 0  # its last field expired: the hash is gone
        r.hset("h2", mapping={"a": 5, "b": 6})
        r.execute_command("HPEXPIRE", "h2", 20, "FIELDS", 1, "a")
        time.sleep(0.06)
        assert r.hincrby("h2", "a", 1) == 1  # the expired value is not used
        assert r.hsetnx("h2", "a", 9) == 0
        assert r.execute_command("HTTL", "h2", "FIELDS", 1, "a") == [-1]
    finally:
        r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")


def test_fields_expire_actively_with_events(r):
    r.config_set("notify-keyspace-events", "KEA")
    p = r.pubsub()
    p.psubscribe("__keyevent@0__:*")
    p.get_message(timeout=1)
    r.hset("h", mapping={"a": 1, "b": 2})
    r.execute_command("HPEXPIRE", "h", 50, "FIELDS", 1, "a")
    r.execute_command("HPERSIST", "h", "FIELDS", 1, "a")
    r.execute_command("HPEXPIRE", "h", 50, "FIELDS", 2, "a", "b")
    r.execute_command("HEXPIRE", "other", 10, "FIELDS", 1, "a")  # no key: no event
    events = []
    deadline = time.time() + 3
    while time.time() < deadline and (b"del", b"h") not in events:
        m = p.get_message(timeout=0.2)  # never touching "h": only the cron can expire it
        if m is not None:
            events.append((m["channel"].split(b":", 1)[1], m["data"]))
    assert events == [(b"hset", b"h"), (b"hexpire", b"h"), (b"hpersist", b"h"), (b"hexpire", b"h"),
                      (b"hexpired", b"h"), (b"del", b"h")]
    r.hset("h2", mapping={"a": 1, "b": 2})
    r.execute_command("HEXPIRE", "h2", 0, "FIELDS", 1, "a")
    r.execute_command("HEXPIRE", "h2", 0, "FIELDS", 1, "b")
    events = []
    while True:
        m = p.get_message(timeout=0.3)
        if m is None:
            break
        events.append((m["channel"].split(b":", 1)[1], m["data"]))
    assert events == [(b"hset", b"h2"), (b"hdel", b"h2"), (b"hdel", b"h2"), (b"del", b"h2")]
    p.close()


def test_overwriting_a_field_clears_its_ttl(r):
    r.hset("h", mapping={"a": 1, "b": 2, "c": 3, "d": 4})
    r.execute_command("HEXPIRE", "h", 100, "FIELDS", 4, "a", "b", "c", "d")
    r.hset("h", "a", "new")
    r.hsetnx("h", "c", "ignored")
    # HINCRBY and HINCRBYFLOAT keep the expiry, as in Redis 7.4
    assert r.hincrby("h", "b", 1) == 3
    assert r.hincrbyfloat("h", "d", 0.5) == 4.5
    assert r.execute_command("HTTL", "h", "FIELDS", 4, "a", "b", "c", "d") == [-1, 100, 100, 100]
    r.hdel("h", "c")
    r.hset("h", "c", "again")
    assert r.execute_command("HTTL", "h", "FIELDS", 1, "c") == [-1]


def test_field_ttls_survive_copy_and_rename(r):
    r.hset("h", mapping={"a": 1, "b": 2})
    r.execute_command("HEXPIRE", "h", 100, "FIELDS", 1, "a")
    r.copy("h", "h2")
    r.rename("h", "h3")
    for key in ("h2", "h3"):
        assert r.execute_command("HTTL", key, "FIELDS", 2, "a", "b") == [100, -1]
    r.execute_command("HPEXPIRE", "h2", 30, "FIELDS", 1, "a")
    assert r.execute_command("HTTL", "h3", "FIELDS", 1, "a") == [100]  # the copy is independent


@pytest.mark.parametrize("how", ["rename", "copy", "move", "swapdb"])
def test_active_expiry_follows_keys_moved_around(r, how):
    r.hset("h", "a", "1")
    r.execute_command("HPEXPIRE", "h", 80, "FIELDS", 1, "a")
    if how == "rename":
        r.rename("h", "h2")
        where, key = 0, "h2"
    elif how == "copy":
        r.copy("h", "h2")
        where, key = 0, "h2"
    elif how == "move":
        r.move("h", 1)
        where, key = 1, "h"
    else:
        r.swapdb(0, 1)
        where, key = 1, "h"
    r.execute_command("SELECT", where)
    try:
        deadline = time.time() + 3
        while r.exists(key) and time.time() < deadline:  # EXISTS never expires fields itself
            time.sleep(0.05)
        assert r.exists(key) == 0
    finally:
        r.execute_command("SELECT", 0)


def test_hrandfield_and_hscan_skip_expired_fields(r):
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    try:
        r.hset("h", mapping={f"f{i}": i for i in range(10)})
        r.execute_command("HPEXPIRE", "h", 20, "FIELDS", 5, "f0", "f1", "f2", "f3", "f4")
        time.sleep(0.08)
        assert sorted(r.hrandfield("h", 100)) == [b"f5", b"f6", b"f7", b"f8", b"f9"]
        assert sorted(r.hscan("h", 0)[1]) == [b"f5", b"f6", b"f7", b"f8", b"f9"]
    finally:
        r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")


# --- propagation (in process: what replicas and the AOF receive) ----------------------------------

def _server_with_sink():
    from emberkv.commands import load_all
    from emberkv.server.client import Client
    from emberkv.server.server import Server
    load_all()
    server = Server()
    sent = []
    server.propagation_sinks.append(lambda db, argv: sent.append(argv))
    client = Client(server, None, 1)

    def run(*args):
        argv = [a if isinstance(a, bytes) else str(a).encode() for a in args]
        client.out.clear()
        server.execute(client, argv)
        return b"".join(client.out)
    return server, run, sent


def test_propagation_rewrites():
    server, run, sent = _server_with_sink()
    run("HSET", "h", "f", "1.5")
    run("HINCRBYFLOAT", "h", "f", "0.1")
    assert sent[-1] == [b"HSET", b"h", b"f", b"1.6"]
    server.frozen_time_ms = 1_000_000
    run("HSET", "e", "a", "1", "b", "2", "c", "3")
    sent.clear()
    assert run("HEXPIRE", "e", 10, "NX", "FIELDS", 3, "a", "zz", "b") == b"*3\r\n:1\r\n:-2\r\n:1\r\n"
    assert sent == [[b"HPEXPIREAT", b"e", b"1010000", b"NX", b"FIELDS", b"2", b"a", b"b"]]
    sent.clear()
    run("HPEXPIREAT", "e", 5, "FIELDS", 2, "a", "c")
    assert sent == [[b"HDEL", b"e", b"a"], [b"HDEL", b"e", b"c"]]
    sent.clear()
    assert run("HEXPIRE", "e", 10, "NX", "FIELDS", 1, "b") == b"*1\r\n:0\r\n"
    assert sent == []
    # Lazy expiry (time moves past b's expiry) propagates an HDEL, then the key is gone.
    server.frozen_time_ms = 1_020_000
    sent.clear()
    assert run("HLEN", "e") == b":1\r\n"
    assert run("HGET", "e", "b") == b"$-1\r\n"
    assert sent == [[b"HDEL", b"e", b"b"]]
    assert run("EXISTS", "e") == b":0\r\n"


def test_active_expiry_cron_hook():
    server, run, sent = _server_with_sink()
    server.frozen_time_ms = 5_000
    run("HSET", "h", "a", "1", "b", "2", "c", "3")
    run("HPEXPIRE", "h", 100, "FIELDS", 2, "a", "b")
    run("HPEXPIRE", "h", 300, "FIELDS", 1, "c")
    assert server.hash_field_expiry.cron in server.cron_hooks
    sent.clear()
    server.frozen_time_ms = 5_200
    server.hash_field_expiry.cron()
    assert sorted(sent) == [[b"HDEL", b"h", b"a"], [b"HDEL", b"h", b"b"]]
    assert run("HKEYS", "h") == b"*1\r\n$1\r\nc\r\n"
    server.frozen_time_ms = 5_400
    server.hash_field_expiry.cron()
    assert run("EXISTS", "h") == b":0\r\n"
