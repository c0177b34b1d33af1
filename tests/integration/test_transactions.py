"""MULTI / EXEC / DISCARD / WATCH / UNWATCH over TCP, byte-compared with a real Redis 7.0."""

from __future__ import annotations

import time

import pytest

from tests.conftest import Raw


def both(raw, raw_redis, *cmd):
    a = raw.call(*cmd)
    b = raw_redis.call(*cmd)
    assert a == b, (cmd, a, b)
    return a


SEQUENCES = {
    "basics": [("MULTI",), ("SET", "a", "1"), ("INCR", "a"), ("GET", "a"), ("PING",), ("EXEC",)],
    "status_and_errors_inside": [
        ("SET", "s", "abc"), ("MULTI",), ("SET", "k", "v"), ("INCR", "s"), ("GET", "k"), ("ECHO", "x"),
        ("EXEC",), ("GET", "k")],
    "empty": [("MULTI",), ("EXEC",)],
    "nested": [("MULTI",), ("MULTI",), ("SET", "a", "1"), ("EXEC",), ("GET", "a")],
    "without_multi": [("EXEC",), ("DISCARD",)],
    "discard": [("SET", "a", "1"), ("MULTI",), ("DEL", "a"), ("DISCARD",), ("GET", "a"), ("EXEC",)],
    "watch_inside_multi": [("MULTI",), ("WATCH", "x"), ("SET", "x", "1"), ("EXEC",), ("GET", "x")],
    "queue_error_unknown": [("MULTI",), ("SET", "a", "1"), ("NOSUCHCMD", "x"), ("SET", "b", "2"), ("EXEC",),
                            ("EXISTS", "a", "b"), ("PING",)],
    "queue_error_arity": [("MULTI",), ("SET", "a"), ("GET",), ("EXEC",), ("EXISTS", "a")],
    "queue_error_unknown_sub": [("MULTI",), ("CONFIG", "NOPE"), ("EXEC",)],
    "runtime_errors_do_not_abort": [("SET", "s", "x"), ("MULTI",), ("INCR", "s"), ("SET", "t", "1"),
                                    ("INCRBY", "t", "abc"), ("GET", "t"), ("EXEC",)],
    "watch_untouched": [("WATCH", "x", "y"), ("WATCH", "z"), ("MULTI",), ("PING",), ("EXEC",)],
    "watch_touched": [("SET", "x", "30"), ("WATCH", "x"), ("SET", "x", "40"), ("MULTI",), ("PING",), ("EXEC",)],
    "watch_unwatch": [("SET", "x", "30"), ("WATCH", "x"), ("SET", "x", "40"), ("UNWATCH",), ("MULTI",),
                      ("PING",), ("EXEC",)],
    "watch_cleared_after_exec": [("SET", "x", "1"), ("WATCH", "x"), ("MULTI",), ("PING",), ("EXEC",),
                                 ("SET", "x", "2"), ("MULTI",), ("PING",), ("EXEC",)],
    "watch_cleared_after_failed_exec": [("SET", "x", "1"), ("WATCH", "x"), ("SET", "x", "2"), ("MULTI",),
                                        ("EXEC",), ("SET", "x", "3"), ("MULTI",), ("PING",), ("EXEC",)],
    "discard_unwatches": [("WATCH", "x"), ("SET", "x", "10"), ("MULTI",), ("DISCARD",), ("MULTI",),
                          ("INCR", "x"), ("EXEC",)],
    "watch_expire_touches": [("SET", "x", "foo"), ("WATCH", "x"), ("EXPIRE", "x", "10"), ("MULTI",), ("PING",),
                             ("EXEC",)],
    "watch_flushall_existing": [("SET", "x", "30"), ("WATCH", "x"), ("FLUSHALL",), ("MULTI",), ("PING",),
                                ("EXEC",)],
    "watch_flushall_missing": [("DEL", "x"), ("WATCH", "x"), ("FLUSHALL",), ("MULTI",), ("PING",), ("EXEC",)],
    "watch_flushdb_existing": [("SET", "x", "30"), ("WATCH", "x"), ("FLUSHDB",), ("MULTI",), ("PING",),
                               ("EXEC",)],
    "watch_flushdb_missing": [("WATCH", "x"), ("FLUSHDB",), ("MULTI",), ("PING",), ("EXEC",)],
    "watch_flushdb_other_db": [("SET", "x", "1"), ("WATCH", "x"), ("SELECT", "1"), ("FLUSHDB",), ("SELECT", "0"),
                               ("MULTI",), ("PING",), ("EXEC",)],
    "watch_swapdb_existing": [("SET", "x", "30"), ("WATCH", "x"), ("SWAPDB", "0", "1"), ("MULTI",), ("PING",),
                              ("EXEC",)],
    "watch_swapdb_created": [("SELECT", "1"), ("SET", "x", "30"), ("SELECT", "0"), ("WATCH", "x"),
                             ("SWAPDB", "0", "1"), ("MULTI",), ("PING",), ("EXEC",)],
    "watch_swapdb_unrelated": [("WATCH", "x"), ("SWAPDB", "0", "1"), ("MULTI",), ("PING",), ("EXEC",)],
    "watch_remembers_db": [("SELECT", "5"), ("SET", "x", "30"), ("WATCH", "x"), ("SELECT", "1"), ("SET", "x", "10"),
                           ("SELECT", "5"), ("MULTI",), ("PING",), ("EXEC",)],
    "watch_rename_touches_both": [("SET", "a", "1"), ("WATCH", "b"), ("RENAME", "a", "b"), ("MULTI",),
                                  ("PING",), ("EXEC",)],
    "watch_del_missing_is_no_change": [("WATCH", "nokey"), ("DEL", "nokey"), ("MULTI",), ("PING",), ("EXEC",)],
    "exec_replies_inside_select": [("MULTI",), ("SELECT", "1"), ("SET", "k", "v"), ("SELECT", "0"), ("GET", "k"),
                                   ("EXEC",)],
    "no_multi_commands_rejected": [("MULTI",), ("SET", "a", "1"), ("WATCH", "a"), ("EXEC",)],
    "multi_state_in_client_info": [("MULTI",), ("GET", "a"), ("DISCARD",), ("PING",)],
}


@pytest.mark.parametrize("name", sorted(SEQUENCES))
def test_sequences_match_redis(raw, raw_redis, name):
    for db in (5, 1, 0):
        for conn in (raw, raw_redis):
            conn.call("SELECT", db)
            conn.call("FLUSHDB")
    for cmd in SEQUENCES[name]:
        both(raw, raw_redis, *cmd)


def test_exec_reply_shapes_resp3(raw, raw_redis):
    for conn in (raw, raw_redis):
        conn.call("HELLO", "3")
    for cmd in [("MULTI",), ("SET", "a", "1"), ("HGETALL", "nokey"), ("GET", "nokey"), ("EXEC",),
                ("SET", "w", "1"), ("WATCH", "w"), ("SET", "w", "2"), ("MULTI",), ("PING",), ("EXEC",)]:
        both(raw, raw_redis, *cmd)


def test_watch_touched_by_other_client(r, ember):
    other = Raw(ember.port)
    try:
        r.set("x", "1")
        p = r.pipeline(transaction=True)
        p.watch("x")
        other.call("SET", "x", "2")
        p.multi()
        p.set("x", "3")
        import redis
        with pytest.raises(redis.WatchError):
            p.execute()
        assert r.get("x") == b"2"
    finally:
        other.close()


def test_watched_key_that_expires_fails_exec(raw, raw_redis):
    for conn in (raw, raw_redis):
        conn.call("SET", "x", "1", "PX", "50")
        conn.call("WATCH", "x")
    time.sleep(0.12)
    for conn in (raw, raw_redis):
        conn.call("MULTI")
        conn.call("PING")
    assert raw.call("EXEC") == raw_redis.call("EXEC") == b"*-1\r\n"


def test_key_expired_before_watch_does_not_fail_exec(raw, ember):
    """A key already past its TTL at WATCH time (and not yet deleted) is no change when it goes."""
    raw.call("CONFIG", "SET", "hz", "1")     # keep the active expiry from racing the test
    try:
        raw.call("SET", "x", "foo", "PX", "1")
        time.sleep(0.01)
        raw.call("WATCH", "x")
        assert raw.call("EXISTS", "x") == b":0\r\n"   # lazy deletion of the stale key
        raw.call("MULTI")
        raw.call("PING")
        assert raw.call("EXEC") == b"*1\r\n+PONG\r\n"
    finally:
        raw.call("CONFIG", "SET", "hz", "10")


def test_watched_key_expired_by_active_cycle(raw):
    raw.call("SET", "x", "foo", "PX", "30")
    raw.call("WATCH", "x")
    deadline = time.time() + 3
    while raw.call("DBSIZE") != b":0\r\n" and time.time() < deadline:
        time.sleep(0.05)
    raw.call("MULTI")
    raw.call("PING")
    assert raw.call("EXEC") == b"*-1\r\n"


def test_exec_after_oom_queueing_error(raw, ember):
    other = Raw(ember.port)
    try:
        raw.call("MULTI")
        raw.call("SET", "foo1", "bar1")
        other.call("CONFIG", "SET", "maxmemory", "1")
        assert raw.call("APPEND", "l", "v").startswith(b"-OOM")
        assert raw.call("GET", "foo1").startswith(b"-OOM")   # any queued command is refused on OOM
        other.call("CONFIG", "SET", "maxmemory", "0")
        raw.call("SET", "foo2", "bar2")
        assert raw.call("EXEC") == b"-EXECABORT Transaction discarded because of previous errors.\r\n"
        assert raw.call("EXISTS", "foo1", "foo2") == b":0\r\n"
    finally:
        other.call("CONFIG", "SET", "maxmemory", "0")
        other.close()


def test_exec_refused_on_oom_names_the_reason(raw, ember):
    other = Raw(ember.port)
    try:
        raw.call("SET", "x", "v")
        raw.call("MULTI")
        raw.call("GET", "x")
        raw.call("PING")
        other.call("CONFIG", "SET", "maxmemory", "1")
        assert raw.call("EXEC") == b"*2\r\n$1\r\nv\r\n+PONG\r\n"    # read-only: allowed
        other.call("CONFIG", "SET", "maxmemory", "0")
        raw.call("MULTI")
        raw.call("SET", "x", "1")
        other.call("CONFIG", "SET", "maxmemory", "1")
        assert raw.call("EXEC") == (b"-EXECABORT Transaction discarded because of: OOM command not "
                                    b"allowed when used memory > 'maxmemory'.\r\n")
        other.call("CONFIG", "SET", "maxmemory", "0")
        assert raw.call("PING") == b"+PONG\r\n"       # no longer in MULTI
    finally:
        other.call("CONFIG", "SET", "maxmemory", "0")
        other.close()


def test_discard_works_under_oom(raw, ember):
    other = Raw(ember.port)
    try:
        other.call("CONFIG", "SET", "maxmemory", "1")
        raw.call("MULTI")
        assert raw.call("SET", "x", "1").startswith(b"-OOM")
        assert raw.call("DISCARD") == b"+OK\r\n"
    finally:
        other.call("CONFIG", "SET", "maxmemory", "0")
        other.close()


def test_exec_serves_blocked_clients_after_the_reply(raw, ember):
    blocked = Raw(ember.port)
    try:
        if b"blpop" not in raw.call("COMMAND", "INFO", "BLPOP"):
            pytest.skip("lists not built yet")
        blocked.cmd("BLPOP", "q", "5")
        time.sleep(0.1)
        raw.call("MULTI")
        raw.call("RPUSH", "q", "a")
        raw.call("RPUSH", "q", "b")
        assert raw.call("EXEC") == b"*2\r\n:1\r\n:2\r\n"
        assert blocked.read_reply() == b"*2\r\n$1\r\nq\r\n$1\r\na\r\n"
        assert raw.call("LRANGE", "q", "0", "-1") == b"*1\r\n$1\r\nb\r\n"
    finally:
        blocked.close()


def test_client_list_shows_multi_state(raw):
    raw.call("MULTI")
    raw.call("GET", "a")
    raw.call("GET", "b")
    info = raw.call("CLIENT", "INFO")
    assert b"QUEUED" in info
    raw.call("DISCARD")
    info = raw.call("CLIENT", "INFO")
    assert b" multi=-1 " in info and b"flags=N" in info


def test_commandstats_count_queued_commands(r):
    r.config_resetstat()
    p = r.pipeline(transaction=True)
    p.set("a", "1").get("a")
    assert p.execute() == [True, b"1"]
    stats = r.info("commandstats")
    assert stats["cmdstat_exec"]["calls"] == 1
    assert stats["cmdstat_set"]["calls"] == 1
    assert stats["cmdstat_multi"]["calls"] == 1


def test_monitor_sees_multi_commands_exec(ember, raw):
    mon = Raw(ember.port)
    try:
        assert mon.call("MONITOR") == b"+OK\r\n"
        raw.call("MULTI")
        raw.call("SET", "a", "1")
        raw.call("EXEC")
        lines = [mon.read_reply() for _ in range(3)]
        assert [l.split(b'"')[1] for l in lines] == [b"MULTI", b"SET", b"EXEC"]
    finally:
        mon.close()


# --- propagation (in-process: the server's propagation sinks see what AOF/replicas would) -----------

def _server_with_sink():
    from emberkv.commands import load_all
    from emberkv.server.client import Client
    from emberkv.server.server import Server
    load_all()
    server = Server()
    seen = []
    server.propagation_sinks.append(lambda db, argv: seen.append((db, [a.upper() if i == 0 else a
                                                                          for i, a in enumerate(argv)])))
    return server, Client(server, None, server.next_client_id()), seen


def test_propagation_single_write_is_not_wrapped():
    server, c, seen = _server_with_sink()
    for argv in ([b"MULTI"], [b"SET", b"foo", b"bar"], [b"EXEC"], [b"SET", b"foo2", b"bar"]):
        server.execute(c, argv)
    assert seen == [(0, [b"SET", b"foo", b"bar"]), (0, [b"SET", b"foo2", b"bar"])]


def test_propagation_multiple_writes_wrapped_with_selects():
    server, c, seen = _server_with_sink()
    for argv in ([b"MULTI"], [b"SELECT", b"1"], [b"SET", b"a", b"1"], [b"GET", b"a"], [b"SELECT", b"2"],
                 [b"SET", b"b", b"2"], [b"DEL", b"nokey"], [b"EXEC"]):
        server.execute(c, argv)
    assert seen == [(1, [b"MULTI"]), (1, [b"SET", b"a", b"1"]), (2, [b"SET", b"b", b"2"]),
                    (2, [b"EXEC"])]


def test_propagation_read_only_or_no_effect_transaction_is_silent():
    server, c, seen = _server_with_sink()
    for argv in ([b"MULTI"], [b"GET", b"a"], [b"DEL", b"nokey"], [b"EXEC"], [b"MULTI"], [b"EXEC"]):
        server.execute(c, argv)
    assert seen == []


def test_propagation_uses_rewritten_commands():
    server, c, seen = _server_with_sink()
    for argv in ([b"MULTI"], [b"SET", b"k", b"v", b"EX", b"100"], [b"INCRBYFLOAT", b"f", b"1.5"], [b"EXEC"]):
        server.execute(c, argv)
    names = [argv[0] for _, argv in seen]
    assert names == [b"MULTI", b"SET", b"SET", b"EXEC"]
    assert seen[1][1][3] == b"PXAT"


# --- CLIENT PAUSE and transactions ----------------------------------------------------------------

def _blocked_clients(raw) -> int:
    info = raw.call("INFO", "clients")
    return int(info.split(b"blocked_clients:")[1].split(b"\r\n")[0])


def test_pause_write_holds_queued_writes_and_exec(raw, ember):
    writer, other = Raw(ember.port), Raw(ember.port)
    try:
        assert writer.call("MULTI") == b"+OK\r\n"
        assert writer.call("GET", "x") == b"+QUEUED\r\n"
        raw.call("CLIENT", "PAUSE", "60000", "WRITE")
        writer.cmd("SET", "x", "1")            # held, even though it would only be queued
        other.call("MULTI")
        other.call("PING")
        assert other.call("EXEC") == b"*1\r\n+PONG\r\n"   # read-only transactions run
        time.sleep(0.1)
        assert _blocked_clients(raw) == 1
        raw.call("CLIENT", "UNPAUSE")
        assert writer.read_reply() == b"+QUEUED\r\n"
        assert writer.call("EXEC") == b"*2\r\n$-1\r\n+OK\r\n"
    finally:
        raw.call("CLIENT", "UNPAUSE")
        writer.close()
        other.close()


def test_pause_write_holds_exec_with_queued_writes(raw, ember):
    writer = Raw(ember.port)
    try:
        writer.call("MULTI")
        writer.call("SET", "x", "1")
        raw.call("CLIENT", "PAUSE", "60000", "WRITE")
        writer.cmd("EXEC")
        time.sleep(0.1)
        assert _blocked_clients(raw) == 1
        assert raw.call("GET", "x") == b"$-1\r\n"
        raw.call("CLIENT", "UNPAUSE")
        assert writer.read_reply() == b"*1\r\n+OK\r\n"
    finally:
        raw.call("CLIENT", "UNPAUSE")
        writer.close()


def test_pause_inside_transaction_starts_after_exec(raw, ember):
    other = Raw(ember.port)
    try:
        raw.call("MULTI")
        raw.call("SET", "a", "1")
        raw.call("CLIENT", "PAUSE", "60000", "WRITE")
        raw.call("SET", "b", "1")
        assert raw.call("EXEC") == b"*3\r\n+OK\r\n+OK\r\n+OK\r\n"
        other.cmd("SET", "c", "1")
        time.sleep(0.1)
        assert _blocked_clients(raw) == 1
        assert raw.call("MGET", "a", "b", "c") == b"*3\r\n$1\r\n1\r\n$1\r\n1\r\n$-1\r\n"
        raw.call("CLIENT", "UNPAUSE")
        assert other.read_reply() == b"+OK\r\n"
    finally:
        raw.call("CLIENT", "UNPAUSE")
        other.close()
