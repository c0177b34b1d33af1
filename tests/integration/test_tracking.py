"""Client-side caching (CLIENT TRACKING / CACHING / TRACKINGINFO) over TCP."""

from __future__ import annotations

import time

import pytest

from tests.conftest import Raw


@pytest.fixture
def conns(ember, r):
    """A RESP3 tracking client, a RESP2 redirect target subscribed to the invalidation channel,
    and a writer."""
    tracked, redir, writer = Raw(ember.port), Raw(ember.port), Raw(ember.port)
    tracked.call("HELLO", "3")
    redir_id = int(redir.call("CLIENT", "ID")[1:-2])
    redir.call("SUBSCRIBE", "__redis__:invalidate")
    yield tracked, redir, redir_id, writer
    for c in (tracked, redir, writer):
        c.close()
    r.config_set("tracking-table-max-keys", "1000000")


def push(*keys):
    out = b">2\r\n$10\r\ninvalidate\r\n*%d\r\n" % len(keys)
    for k in keys:
        out += b"$%d\r\n%s\r\n" % (len(k), k)
    return out


def message(*keys):
    out = b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*%d\r\n" % len(keys)
    for k in keys:
        out += b"$%d\r\n%s\r\n" % (len(k), k)
    return out


def test_resp3_basic_invalidation(conns):
    tracked, _, _, writer = conns
    assert tracked.call("CLIENT", "TRACKING", "ON") == b"+OK\r\n"
    writer.call("SET", "key1", "1")
    assert tracked.call("GET", "key1") == b"$1\r\n1\r\n"
    writer.call("SET", "key1", "2")
    assert tracked.read_reply() == push(b"key1")
    writer.call("SET", "key1", "3")          # forgotten after one message
    assert tracked.call("PING") == b"+PONG\r\n"


def test_only_read_keys_are_tracked(conns):
    tracked, redir, redir_id, writer = conns
    tracked.call("CLIENT", "TRACKING", "ON", "REDIRECT", redir_id)
    writer.call("SET", "a", "1")
    writer.call("SET", "b", "1")
    tracked.call("GET", "a")
    writer.call("INCR", "b")
    writer.call("INCR", "a")
    assert redir.read_reply() == message(b"a")


def test_redirect_to_resp3_client(conns, ember):
    tracked, _, _, writer = conns
    target = Raw(ember.port)
    try:
        target.call("HELLO", "3")
        tid = int(target.call("CLIENT", "ID")[1:-2])
        tracked.call("CLIENT", "TRACKING", "ON", "REDIRECT", tid)
        tracked.call("GET", "k")
        writer.call("SET", "k", "v")
        assert target.read_reply() == push(b"k")
    finally:
        target.close()


def test_bcast_with_prefixes_one_message_per_prefix(conns):
    tracked, redir, redir_id, writer = conns
    tracked.call("CLIENT", "TRACKING", "ON", "BCAST", "REDIRECT", redir_id, "PREFIX", "a:", "PREFIX", "b:")
    writer.call("MULTI")
    for k in ("a:1", "a:2", "b:1", "b:2", "c:1"):
        writer.call("INCR", k)
    writer.call("EXEC")
    got = sorted([redir.read_reply(), redir.read_reply()])
    assert got == sorted([message(b"a:1", b"a:2"), message(b"b:1", b"b:2")])


def test_bcast_empty_prefix_gets_every_key(conns):
    tracked, redir, redir_id, writer = conns
    tracked.call("CLIENT", "TRACKING", "ON", "BCAST", "REDIRECT", redir_id)
    writer.call("MSET", "x", "1", "y", "2", "z", "3")
    assert redir.read_reply() == message(b"x", b"y", b"z")


def test_noloop_default_mode(conns):
    tracked, redir, redir_id, writer = conns
    tracked.call("CLIENT", "TRACKING", "ON", "REDIRECT", redir_id, "NOLOOP")
    tracked.call("MGET", "o1", "loop", "o2")
    writer.call("SET", "o1", "1")
    tracked.call("SET", "loop", "1")
    writer.call("SET", "o2", "1")
    assert [redir.read_reply(), redir.read_reply()] == [message(b"o1"), message(b"o2")]


def test_noloop_bcast_mode(conns):
    tracked, redir, redir_id, writer = conns
    tracked.call("CLIENT", "TRACKING", "ON", "BCAST", "REDIRECT", redir_id, "NOLOOP")
    writer.call("SET", "o1", "1")
    tracked.call("SET", "loop", "1")
    writer.call("SET", "o2", "1")
    assert [redir.read_reply(), redir.read_reply()] == [message(b"o1"), message(b"o2")]


def test_expired_keys_are_broadcast(conns):
    tracked, redir, redir_id, _ = conns
    tracked.call("CLIENT", "TRACKING", "ON", "BCAST", "REDIRECT", redir_id, "NOLOOP")
    tracked.call("SET", "mykey", "v", "PX", "1")
    tracked.call("SET", "mykeyother", "v")     # own write: filtered by NOLOOP
    assert redir.read_reply() == message(b"mykey")


def test_invalidation_follows_the_reply_of_own_write(conns):
    tracked, _, _, _ = conns
    tracked.call("CLIENT", "TRACKING", "ON")
    tracked.call("SET", "h", "1")
    tracked.call("GET", "h")
    assert tracked.call("DEL", "h") == b":1\r\n"
    assert tracked.read_reply() == push(b"h")


def test_invalidation_after_exec_reply(conns):
    tracked, _, _, _ = conns
    tracked.call("CLIENT", "TRACKING", "ON")
    tracked.call("MSET", "a", "1", "b", "2")
    tracked.call("GET", "a")
    tracked.call("MULTI")
    tracked.call("INCR", "a")
    tracked.call("GET", "b")
    assert tracked.call("EXEC") == b"*2\r\n:2\r\n$1\r\n2\r\n"
    assert tracked.read_reply() == push(b"a")


def test_flush_sends_null(conns):
    tracked, redir, redir_id, writer = conns
    tracked.call("CLIENT", "TRACKING", "ON", "REDIRECT", redir_id)
    tracked.call("GET", "key1")
    writer.call("FLUSHALL")
    # The null is encoded in the tracking client's protocol, as Redis does (RESP3 here).
    assert redir.read_reply() == b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n_\r\n"
    tracked.call("HELLO", "2")
    writer.call("FLUSHDB")
    assert redir.read_reply() == b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n"


def test_flushdb_in_multi_null_after_reply(conns):
    tracked, _, _, _ = conns
    tracked.call("CLIENT", "TRACKING", "ON")
    tracked.call("SET", "a", "1")
    tracked.call("GET", "a")
    tracked.call("MULTI")
    tracked.call("FLUSHDB")
    assert tracked.call("EXEC") == b"*1\r\n+OK\r\n"
    assert tracked.read_reply() == b">2\r\n$10\r\ninvalidate\r\n_\r\n"


def test_optin_and_caching_yes(conns):
    tracked, redir, redir_id, writer = conns
    tracked.call("CLIENT", "TRACKING", "ON", "OPTIN", "REDIRECT", redir_id)
    tracked.call("GET", "k1")                  # not tracked: no CACHING yes
    writer.call("SET", "k1", "1")
    tracked.call("CLIENT", "CACHING", "YES")
    tracked.call("GET", "k2")
    tracked.call("GET", "k3")                  # CACHING covers one command only
    writer.call("SET", "k3", "1")
    writer.call("SET", "k2", "1")
    assert redir.read_reply() == message(b"k2")


def test_optout_and_caching_no(conns):
    tracked, redir, redir_id, writer = conns
    tracked.call("CLIENT", "TRACKING", "ON", "OPTOUT", "REDIRECT", redir_id)
    tracked.call("CLIENT", "CACHING", "NO")
    tracked.call("GET", "k1")
    writer.call("SET", "k1", "1")
    tracked.call("GET", "k2")
    writer.call("SET", "k2", "1")
    assert redir.read_reply() == message(b"k2")


def test_caching_covers_a_whole_transaction(conns):
    tracked, redir, redir_id, writer = conns
    tracked.call("CLIENT", "TRACKING", "ON", "OPTIN", "REDIRECT", redir_id)
    tracked.call("CLIENT", "CACHING", "YES")
    tracked.call("MULTI")
    tracked.call("GET", "t1")
    tracked.call("GET", "t2")
    tracked.call("EXEC")
    writer.call("MSET", "t1", "1", "t2", "2")
    assert [redir.read_reply(), redir.read_reply()] == [message(b"t1"), message(b"t2")]


def test_switching_to_bcast_drops_pending_default_keys(conns):
    tracked, _, _, writer = conns
    tracked.call("CLIENT", "TRACKING", "ON")
    tracked.call("GET", "key1")
    tracked.call("CLIENT", "TRACKING", "OFF")
    tracked.call("CLIENT", "TRACKING", "ON", "BCAST")
    writer.call("INCR", "key1")
    assert tracked.read_reply() == push(b"key1")    # from BCAST, exactly once
    assert tracked.call("PING") == b"+PONG\r\n"


def test_redirect_broken_push(conns, ember):
    tracked, _, _, writer = conns
    target = Raw(ember.port)
    tid = int(target.call("CLIENT", "ID")[1:-2])
    tracked.call("CLIENT", "TRACKING", "ON", "REDIRECT", tid)
    tracked.call("GET", "key1")
    target.call("QUIT")
    target.close()
    time.sleep(0.1)
    writer.call("SET", "key1", "2")
    assert tracked.read_reply() == b">2\r\n$21\r\ntracking-redir-broken\r\n:%d\r\n" % tid
    info = tracked.call("CLIENT", "TRACKINGINFO")
    assert b"broken_redirect" in info


def test_option_errors_match_redis(raw, raw_redis):
    cases = [
        ("CLIENT", "TRACKING", "ON", "PREFIX", "a"),
        ("CLIENT", "TRACKING", "ON", "BCAST", "OPTIN"),
        ("CLIENT", "TRACKING", "ON", "OPTIN", "OPTOUT"),
        ("CLIENT", "TRACKING", "ON", "REDIRECT", "999999"),
        ("CLIENT", "TRACKING", "ON", "REDIRECT", "x"),
        ("CLIENT", "TRACKING", "ON", "REDIRECT", "1", "REDIRECT", "2"),
        ("CLIENT", "TRACKING", "ON", "FOO"),
        ("CLIENT", "TRACKING", "MAYBE"),
        ("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "FOOBAR", "PREFIX", "FOO"),
        ("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "FOO", "PREFIX", "FOOBAR"),
        ("CLIENT", "CACHING", "YES"),
        ("CLIENT", "TRACKING", "ON"),
        ("CLIENT", "CACHING", "YES"),
        ("CLIENT", "CACHING", "NO"),
        ("CLIENT", "CACHING", "MAYBE"),
        ("CLIENT", "TRACKING", "ON", "BCAST"),
        ("CLIENT", "TRACKING", "OFF"),
        ("CLIENT", "TRACKING", "ON", "OPTIN"),
        ("CLIENT", "TRACKING", "ON", "OPTOUT"),
        ("CLIENT", "TRACKING", "OFF"),
        ("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "FOO", "PREFIX", "BAR"),
        ("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "FO"),
        ("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "BARB"),
        ("CLIENT", "TRACKINGINFO"),
        ("CLIENT", "TRACKING", "OFF"),
        ("CLIENT", "TRACKINGINFO"),
        ("CLIENT", "GETREDIR"),
        ("CLIENT", "TRACKING"),
        ("CLIENT", "TRACKINGINFO", "x"),
    ]
    for cmd in cases:
        assert raw.call(*cmd) == raw_redis.call(*cmd), cmd


def test_trackinginfo_flags_and_getredir(conns):
    tracked, _, redir_id, _ = conns
    tracked.call("CLIENT", "TRACKING", "ON", "REDIRECT", redir_id, "NOLOOP")
    assert tracked.call("CLIENT", "TRACKINGINFO") == (
        b"%3\r\n$5\r\nflags\r\n~2\r\n$2\r\non\r\n$6\r\nnoloop\r\n$8\r\nredirect\r\n:"
        + str(redir_id).encode() + b"\r\n$8\r\nprefixes\r\n*0\r\n")
    assert tracked.call("CLIENT", "GETREDIR") == b":%d\r\n" % redir_id
    tracked.call("CLIENT", "TRACKING", "OFF")
    assert tracked.call("CLIENT", "GETREDIR") == b":-1\r\n"
    tracked.call("CLIENT", "TRACKING", "ON", "OPTIN")
    tracked.call("CLIENT", "CACHING", "YES")
    assert b"caching-yes" in tracked.call("CLIENT", "TRACKINGINFO")
    tracked.call("CLIENT", "TRACKING", "OFF")
    tracked.call("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "foo", "PREFIX", "bar")
    assert tracked.call("CLIENT", "TRACKINGINFO").endswith(
        b"$8\r\nprefixes\r\n*2\r\n$3\r\nbar\r\n$3\r\nfoo\r\n")
    assert tracked.call("CLIENT", "GETREDIR") == b":0\r\n"


def test_info_counters(conns, r):
    tracked, _, redir_id, writer = conns
    tracked.call("CLIENT", "TRACKING", "ON", "REDIRECT", redir_id)
    tracked.call("GET", "key1")
    tracked.call("GET", "key2")
    writer.call("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "prefix:")
    info = r.info()
    assert info["tracking_total_keys"] == 2
    assert info["tracking_total_items"] == 2
    assert info["tracking_total_prefixes"] == 1
    assert info["tracking_clients"] == 2
    r.flushall()
    assert r.info()["tracking_total_keys"] == 0


def test_client_list_flags(conns, r):
    tracked, _, redir_id, _ = conns
    tracked.call("CLIENT", "SETNAME", "trk")
    tracked.call("CLIENT", "TRACKING", "ON", "BCAST", "REDIRECT", redir_id)
    line = [c for c in r.client_list() if c["name"] == "trk"][0]
    assert "t" in line["flags"] and "B" in line["flags"]
    assert line["redir"] == str(redir_id)


def test_tracking_table_max_keys(conns, r):
    tracked, redir, redir_id, writer = conns
    tracked.call("CLIENT", "TRACKING", "ON", "REDIRECT", redir_id)
    for i in range(250):
        tracked.call("GET", "key%d" % i)
    r.config_set("tracking-table-max-keys", "1")
    got = [redir.read_reply() for _ in range(249)]
    assert len(set(got)) == 249
    assert r.info()["tracking_total_keys"] == 1


def test_resp2_without_redirect_gets_nothing(ember, r):
    c, writer = Raw(ember.port), Raw(ember.port)
    try:
        c.call("CLIENT", "TRACKING", "ON")
        c.call("GET", "k")
        writer.call("SET", "k", "1")
        assert c.call("PING") == b"+PONG\r\n"
    finally:
        c.close()
        writer.close()


def test_reply_off_still_gets_pushes(conns):
    tracked, _, _, writer = conns
    tracked.call("CLIENT", "TRACKING", "ON")
    writer.call("SET", "foo", "bar")
    tracked.call("GET", "foo")
    tracked.cmd("CLIENT", "REPLY", "OFF")
    writer.call("SET", "foo", "bar2")
    assert tracked.read_reply() == push(b"foo")
    tracked.cmd("CLIENT", "REPLY", "ON")
    assert tracked.read_reply() == b"+OK\r\n"


def test_reset_turns_tracking_off(conns):
    tracked, _, _, writer = conns
    tracked.call("CLIENT", "TRACKING", "ON")
    tracked.call("GET", "k")
    tracked.call("RESET")
    writer.call("SET", "k", "1")
    assert tracked.call("CLIENT", "TRACKINGINFO").startswith(b"*6\r\n$5\r\nflags\r\n*1\r\n$3\r\noff")


def _has_eval(conn) -> bool:
    return b"eval" in conn.call("COMMAND", "INFO", "EVAL")


def test_noloop_covers_writes_of_own_scripts(ember):
    c = Raw(ember.port)
    try:
        if not _has_eval(c):
            pytest.skip("scripting not built")
        c.call("HELLO", "3")
        c.call("CLIENT", "TRACKING", "ON", "NOLOOP")
        c.call("SET", "key1", "1")
        assert c.call("GET", "key1") == b"$1\r\n1\r\n"
        assert c.call("EVAL", "return redis.call('set', KEYS[1], '2')", "1", "key1") == b"+OK\r\n"
        assert c.call("GET", "key1") == b"$1\r\n2\r\n"
    finally:
        c.close()


def test_script_write_invalidates_after_its_reply(ember):
    c = Raw(ember.port)
    try:
        if not _has_eval(c):
            pytest.skip("scripting not built")
        c.call("HELLO", "3")
        c.call("CLIENT", "TRACKING", "ON")
        c.call("GET", "key1")
        assert c.call("EVAL", "return redis.call('set', KEYS[1], '2')", "1", "key1") == b"+OK\r\n"
        assert c.read_reply() == push(b"key1")
    finally:
        c.close()


def test_scripts_track_declared_keys_only_when_they_read(conns):
    tracked, _, _, writer = conns
    if not _has_eval(tracked):
        pytest.skip("scripting not built")
    tracked.call("CLIENT", "TRACKING", "ON")
    writer.call("MSET", "key2", "1", "key2", "1")
    tracked.call("EVAL", "redis.call('set', 'key3', 'bar')", "2", "key1", "key2")
    writer.call("MSET", "key2", "2", "key1", "2")
    tracked.call("EVAL", "redis.call('get', 'key3')", "2", "key1", "key2")
    writer.call("MSET", "key2", "2", "key1", "2")
    assert [tracked.read_reply(), tracked.read_reply()] == [push(b"key2"), push(b"key1")]
    tracked.call("EVAL_RO", "redis.call('ping')", "2", "key1", "key2")
    writer.call("MSET", "key2", "2", "key1", "2")
    tracked.call("EVAL_RO", "redis.call('get', 'key1')", "2", "key1", "key2")
    writer.call("MSET", "key2", "3", "key1", "3")
    assert [tracked.read_reply(), tracked.read_reply()] == [push(b"key2"), push(b"key1")]
    assert tracked.call("PING") == b"+PONG\r\n"
