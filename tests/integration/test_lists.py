"""List commands over TCP, compared byte-for-byte with a real Redis 7.0 where replies are
deterministic; blocking pops exercised from several connections on both servers."""

from __future__ import annotations

import time

import pytest

from tests.conftest import Raw


def run_both(raw, raw_redis, commands, resp3: bool = False) -> None:
    """Every command gives the same bytes on EmberKV and Redis."""
    if resp3:
        raw.call("HELLO", "3")
        raw_redis.call("HELLO", "3")
    for cmd in commands:
        ours = raw.call(*cmd)
        theirs = raw_redis.call(*cmd)
        assert ours == theirs, (cmd, ours, theirs)


def cmds(text: str) -> list:
    """One command per line, arguments split on spaces ('' stands for an empty argument)."""
    out = []
    for line in text.strip().splitlines():
        line = line.strip()
        if line:
            out.append([b"" if a == "''" else a.encode() for a in line.split()])
    return out


PUSH_POP = cmds("""
    LPUSH l a b c
    RPUSH l d e
    LPUSHX l z
    RPUSHX l y
    LPUSHX missing a
    RPUSHX missing a
    EXISTS missing
    LRANGE l 0 -1
    LPOP l
    RPOP l
    LPOP l 2
    RPOP l 2
    LPOP l 0
    RPOP l 100
    EXISTS l
    LPOP l
    LPOP l 1
    RPOP l 0
    RPUSH l 1 2 3
    LPOP l -1
    LPOP l x
    LPOP l 1 2
    RPOP l 9223372036854775807
    SET s v
    LPUSH s a
    RPUSHX s a
    LPOP s
    LPOP s 1
    LLEN s
    LLEN missing
""")

RANGES = cmds("""
    RPUSH l a b c d e f g
    LRANGE l 0 -1
    LRANGE l 2 4
    LRANGE l -3 -1
    LRANGE l -100 100
    LRANGE l 5 2
    LRANGE l 7 10
    LRANGE l -1 -3
    LRANGE l x 1
    LRANGE l 0 9223372036854775807
    LRANGE l -9223372036854775808 0
    LRANGE missing 0 -1
    LINDEX l 0
    LINDEX l -1
    LINDEX l 7
    LINDEX l -8
    LINDEX l x
    LINDEX missing x
    LLEN l
    SET s v
    LRANGE s 0 -1
    LRANGE s x 1
    LINDEX s 0
""")

EDITS = cmds("""
    RPUSH l a b c a b c a
    LSET l 0 z
    LSET l -1 y
    LSET l 7 q
    LSET l -8 q
    LSET l x q
    LSET missing 0 q
    LRANGE l 0 -1
    LINSERT l BEFORE b B
    LINSERT l after c C
    LINSERT l AFTER nothere x
    LINSERT l middle b x
    LINSERT missing BEFORE a b
    LRANGE l 0 -1
    LREM l 1 b
    LREM l -1 c
    LREM l 0 a
    LREM l 0 nothere
    LREM l x a
    LREM missing 0 a
    LRANGE l 0 -1
    LTRIM l 1 -2
    LRANGE l 0 -1
    LTRIM l -100 100
    LTRIM l x 0
    LTRIM missing 0 1
    LTRIM l 5 1
    EXISTS l
    RPUSH r a a a
    LREM r 0 a
    EXISTS r
    SET s v
    LSET s 0 a
    LINSERT s BEFORE a b
    LREM s 0 a
    LTRIM s 0 1
""")

LPOS = cmds("""
    RPUSH l a b c 1 2 3 c c
    LPOS l c
    LPOS l c RANK 2
    LPOS l c RANK -1
    LPOS l c RANK -3
    LPOS l c RANK 4
    LPOS l c COUNT 0
    LPOS l c COUNT 2
    LPOS l c COUNT 0 RANK 2
    LPOS l c COUNT 0 RANK -1
    LPOS l c COUNT 1 MAXLEN 1
    LPOS l c MAXLEN 3
    LPOS l c MAXLEN 3 COUNT 0
    LPOS l c RANK -1 MAXLEN 2 COUNT 0
    LPOS l x
    LPOS l x COUNT 0
    LPOS missing a
    LPOS missing a COUNT 0
    LPOS l c RANK 0
    LPOS l c RANK x
    LPOS l c COUNT -1
    LPOS l c COUNT x
    LPOS l c MAXLEN -1
    LPOS l c MAXLEN x
    LPOS l c FOO 1
    LPOS l c RANK
    LPOS l c RANK -9223372036854775808
    LPOS l c RANK -9223372036854775808 COUNT 2
    LPOS l c RANK 9223372036854775807
    SET s v
    LPOS s a
    LPOS s a RANK 0
""")

MOVES = cmds("""
    RPUSH a 1 2 3
    LMOVE a b LEFT RIGHT
    LMOVE a b right LEFT
    LMOVE a b left left
    EXISTS a
    LRANGE b 0 -1
    LMOVE b b LEFT RIGHT
    LRANGE b 0 -1
    LMOVE missing b LEFT LEFT
    LMOVE b b UP LEFT
    LMOVE b b LEFT DOWN
    RPOPLPUSH b c
    RPOPLPUSH missing c
    RPOPLPUSH c c
    LRANGE c 0 -1
    SET s v
    LMOVE b s LEFT LEFT
    LMOVE s b LEFT LEFT
    RPOPLPUSH b s
    RPOPLPUSH s b
    LMOVE missing s LEFT LEFT
    LRANGE b 0 -1
""")

LMPOP = cmds("""
    RPUSH a 1 2 3 4
    RPUSH b x
    LMPOP 2 missing a LEFT
    LMPOP 2 missing a RIGHT COUNT 2
    LMPOP 2 a b LEFT COUNT 10
    LMPOP 2 a b right
    LMPOP 2 a b LEFT
    LMPOP 1 missing LEFT
    LMPOP 0 a LEFT
    LMPOP -1 a LEFT
    LMPOP x a LEFT
    LMPOP 3 a b LEFT
    LMPOP 1 a MIDDLE
    LMPOP 1 a LEFT COUNT 0
    LMPOP 1 a LEFT COUNT -1
    LMPOP 1 a LEFT COUNT x
    LMPOP 1 a LEFT COUNT 1 COUNT 1
    LMPOP 1 a LEFT FOO
    LMPOP 1 a LEFT COUNT
    SET s v
    LMPOP 2 missing s LEFT
    RPUSH c 1
    LMPOP 2 c s LEFT
    LMPOP 2 s c LEFT
""")

BLOCKING_NOW = cmds("""
    RPUSH a 1 2 3 4 5 6
    BLPOP missing a 0
    BRPOP missing a 0.5
    BLPOP a -1
    BLPOP a x
    BLPOP a inf
    BLPOP a 1e16
    BLPOP a nan
    BLPOP a 0x10
    BLMOVE a b LEFT RIGHT 0
    BLMOVE a b LEFT RIGHT -1
    BLMOVE a b MIDDLE RIGHT x
    BRPOPLPUSH b c 0
    BRPOPLPUSH b c x
    RPUSH d 1 2 3
    BLMPOP 0 1 d LEFT COUNT 2
    BLMPOP 0 2 missing d RIGHT
    BLMPOP x 1 d LEFT
    BLMPOP 0 0 d LEFT
    BLMPOP -1 1 d LEFT
    BLMPOP x 1 d MIDDLE
    BLMPOP 0 1 d LEFT COUNT 0
    SET s v
    BLPOP s 0
    BLMOVE s d LEFT LEFT 0
    BLMPOP 0 1 s LEFT
    RPUSH e x
    BLMOVE e s LEFT LEFT 0
""")

GROUPS = {"push_pop": PUSH_POP, "ranges": RANGES, "edits": EDITS, "lpos": LPOS, "moves": MOVES,
          "lmpop": LMPOP, "blocking_now": BLOCKING_NOW}


@pytest.mark.parametrize("resp3", [False, True])
@pytest.mark.parametrize("group", list(GROUPS))
def test_replies_match_redis(raw, raw_redis, group, resp3):
    run_both(raw, raw_redis, GROUPS[group], resp3)


def test_arity_errors_match_redis(raw, raw_redis):
    run_both(raw, raw_redis, cmds("""
        LPUSH l
        LPOP
        LRANGE l 0
        LINSERT l BEFORE a
        BLPOP l
        BLMOVE a b LEFT RIGHT
        LMPOP 1 a
        BLMPOP 0 1 a
    """))


def test_large_list_ends_and_middle(r):
    n = 5000
    r.rpush("big", *range(n))
    assert r.llen("big") == n
    assert r.lrange("big", -3, -1) == [b"4997", b"4998", b"4999"]
    assert r.lrange("big", 2498, 2501) == [b"2498", b"2499", b"2500", b"2501"]
    assert r.lindex("big", n // 2) == b"2500"
    r.ltrim("big", 10, -11)
    assert r.llen("big") == n - 20
    assert r.lpop("big") == b"10" and r.rpop("big") == b"4989"
    assert r.lrem("big", -1, "100") == 1 and r.lpos("big", "100") is None


def test_object_encoding_is_quicklist(r, rr):
    for client in (r, rr):
        client.rpush("small", "a")
        client.rpush("large", *["x" * 100] * 200)
    for key in ("small", "large"):
        assert r.object("encoding", key) == rr.object("encoding", key) == b"quicklist"


# --- blocking ------------------------------------------------------------------------------------

def wait_blocked(port: int, n: int = 1, timeout: float = 5.0) -> None:
    c = Raw(port)
    try:
        deadline = time.time() + timeout
        while time.time() < deadline:
            info = c.call("INFO", "clients")
            if b"blocked_clients:%d\r" % n in info:
                return
            time.sleep(0.01)
        raise AssertionError("no client blocked")
    finally:
        c.close()


def on_both(ember, real_redis, scenario):
    """Run ``scenario(port)`` against both servers; its results must agree."""
    ours = scenario(ember.port)
    theirs = scenario(real_redis.port)
    assert ours == theirs
    return ours


def _fresh(port):
    c = Raw(port)
    c.call("FLUSHALL")
    return c


def test_blpop_served_by_push_from_another_connection(ember, real_redis, r, rr):
    def scenario(port):
        waiter, pusher = Raw(port), _fresh(port)
        waiter.cmd("BLPOP", "k1", "k2", "0")
        wait_blocked(port)
        pushed = pusher.call("RPUSH", "k2", "a", "b")
        got = waiter.read_reply()
        rest = pusher.call("LRANGE", "k2", "0", "-1")
        return pushed, got, rest

    assert on_both(ember, real_redis, scenario)[1] == b"*2\r\n$2\r\nk2\r\n$1\r\na\r\n"


def test_waiters_served_fifo_and_first_consumes(ember, real_redis, r, rr):
    def scenario(port):
        pusher = _fresh(port)
        w1, w2, w3 = Raw(port), Raw(port), Raw(port)
        w1.cmd("BRPOP", "q", "0")
        wait_blocked(port, 1)
        w2.cmd("BLPOP", "q", "0")
        wait_blocked(port, 2)
        w3.cmd("BLMPOP", "0", "1", "q", "LEFT", "COUNT", "5")
        wait_blocked(port, 3)
        pusher.call("RPUSH", "q", "x")
        first = w1.read_reply()
        pusher.call("RPUSH", "q", "y", "z", "w")
        second = w2.read_reply()
        third = w3.read_reply()
        return first, second, third, pusher.call("EXISTS", "q")

    first, second, third, exists = on_both(ember, real_redis, scenario)
    assert first == b"*2\r\n$1\r\nq\r\n$1\r\nx\r\n"
    assert exists == b":0\r\n"


def test_push_inside_multi_serves_after_exec(ember, real_redis, r, rr):
    def scenario(port):
        pusher = _fresh(port)
        waiter = Raw(port)
        waiter.cmd("BLPOP", "k", "0")
        wait_blocked(port)
        replies = [pusher.call("MULTI"), pusher.call("LPUSH", "k", "a"), pusher.call("LPUSH", "k", "b"),
                   pusher.call("EXEC")]
        replies.append(waiter.read_reply())
        # A key pushed and emptied in the same transaction wakes nobody.
        replies.append(pusher.call("DEL", "k"))
        waiter.cmd("BLPOP", "k", "0")
        wait_blocked(port)
        replies += [pusher.call("MULTI"), pusher.call("LPUSH", "k", "a"), pusher.call("LPOP", "k"),
                    pusher.call("EXEC"), pusher.call("LPUSH", "k", "c")]
        replies.append(waiter.read_reply())
        return replies

    replies = on_both(ember, real_redis, scenario)
    assert replies[4] == b"*2\r\n$1\r\nk\r\n$1\r\nb\r\n"
    assert replies[-1] == b"*2\r\n$1\r\nk\r\n$1\r\nc\r\n"


def test_blocking_commands_inside_multi_do_not_block(raw, raw_redis):
    run_both(raw, raw_redis, cmds("""
        MULTI
        BLPOP missing 0
        BRPOP missing 0
        BLMOVE missing dst LEFT LEFT 0
        BRPOPLPUSH missing dst 0
        BLMPOP 0 1 missing LEFT
        EXEC
    """))


def test_timeouts(ember, real_redis, r, rr):
    def scenario(port):
        c = _fresh(port)
        t0 = time.time()
        replies = [c.call("BLPOP", "k", "0.15"), c.call("BLMOVE", "k", "d", "LEFT", "LEFT", "0.05"),
                   c.call("BRPOPLPUSH", "k", "d", "0.05"), c.call("BLMPOP", "0.05", "1", "k", "LEFT")]
        elapsed = time.time() - t0
        assert 0.25 <= elapsed < 2.0
        return replies

    assert on_both(ember, real_redis, scenario) == [b"*-1\r\n"] * 4


def test_timeout_resp3_nulls(ember, real_redis, r, rr):
    def scenario(port):
        c = _fresh(port)
        c.call("HELLO", "3")
        return [c.call("BLPOP", "k", "0.01"), c.call("BLMOVE", "k", "d", "LEFT", "LEFT", "0.01")]

    assert on_both(ember, real_redis, scenario) == [b"_\r\n", b"_\r\n"]


def test_zero_timeout_blocks_until_client_unblock(ember, real_redis, r, rr):
    def scenario(port):
        ctl = _fresh(port)
        waiter = Raw(port)
        cid = waiter.call("CLIENT", "ID")[1:-2]
        waiter.cmd("BLPOP", "k", "0")
        wait_blocked(port)
        time.sleep(0.2)
        unblocked = ctl.call("CLIENT", "UNBLOCK", cid)
        got = waiter.read_reply()
        waiter.cmd("BLMOVE", "k", "d", "LEFT", "LEFT", "0")
        wait_blocked(port)
        ctl.call("CLIENT", "UNBLOCK", cid, "ERROR")
        return unblocked, got, waiter.read_reply()

    assert on_both(ember, real_redis, scenario)[:2] == (b":1\r\n", b"*-1\r\n")


def test_blmove_to_itself_and_chains(ember, real_redis, r, rr):
    def scenario(port):
        pusher = _fresh(port)
        w1, w2 = Raw(port), Raw(port)
        w1.cmd("BLMOVE", "a", "a", "LEFT", "RIGHT", "0")
        wait_blocked(port, 1)
        pusher.call("RPUSH", "a", "1", "2")
        got1 = w1.read_reply()
        # BRPOPLPUSH a -> b wakes a waiter blocked on b.
        w2.cmd("BLPOP", "b", "0")
        wait_blocked(port, 1)
        w1.cmd("BRPOPLPUSH", "c", "b", "0")
        wait_blocked(port, 2)
        pusher.call("RPUSH", "c", "x")
        return got1, w1.read_reply(), w2.read_reply(), pusher.call("LRANGE", "a", "0", "-1"), \
            pusher.call("EXISTS", "b", "c")

    got = on_both(ember, real_redis, scenario)
    assert got[0] == b"$1\r\n1\r\n" and got[3] == b"*2\r\n$1\r\n2\r\n$1\r\n1\r\n"


def test_blmove_wrong_type_destination_when_served(ember, real_redis, r, rr):
    def scenario(port):
        pusher = _fresh(port)
        waiter = Raw(port)
        pusher.call("SET", "dst", "string")
        waiter.cmd("BLMOVE", "src", "dst", "LEFT", "LEFT", "0")
        wait_blocked(port)
        pusher.call("RPUSH", "src", "v")
        return waiter.read_reply(), pusher.call("LRANGE", "src", "0", "-1")

    got = on_both(ember, real_redis, scenario)
    assert got[0].startswith(b"-WRONGTYPE")


def test_waiter_ignores_key_of_other_type(ember, real_redis, r, rr):
    def scenario(port):
        pusher = _fresh(port)
        waiter = Raw(port)
        waiter.cmd("BLPOP", "k", "0")
        wait_blocked(port)
        pusher.call("SADD", "k", "m")
        pusher.call("DEL", "k")
        pusher.call("RPUSH", "k", "v")
        return waiter.read_reply()

    assert on_both(ember, real_redis, scenario) == b"*2\r\n$1\r\nk\r\n$1\r\nv\r\n"


def test_blocked_client_counts_and_disconnect(ember, r):
    waiter = Raw(ember.port)
    waiter.cmd("BLPOP", "gone", "0")
    wait_blocked(ember.port, 1)
    waiter.close()
    wait_blocked(ember.port, 0)
    assert r.rpush("gone", "v") == 1
    assert r.lrange("gone", 0, -1) == [b"v"]


# --- keyspace integration -----------------------------------------------------------------------

def test_keyspace_commands_on_lists(r, ember):
    r.rpush("l", "a", "b")
    assert r.type("l") == b"list"
    assert r.copy("l", "l2")
    r.rpush("l2", "c")
    assert r.lrange("l", 0, -1) == [b"a", b"b"] and r.llen("l2") == 3
    r.rename("l2", "l3")
    assert r.lrange("l3", 0, -1) == [b"a", b"b", b"c"]
    assert r.move("l3", 1)
    r.execute_command("SELECT", "1")
    assert r.lrange("l3", 0, -1) == [b"a", b"b", b"c"]
    r.execute_command("SELECT", "0")
    assert r.scan(0, _type="list", count=100)[1] == [b"l"]
    assert r.scan(0, _type="string", count=100)[1] == []
    r.pexpire("l", 50)
    time.sleep(0.1)
    assert r.exists("l") == 0 and r.lpush("l", "x") == 1
    assert r.ttl("l") == -1
    r.rpush("src", "1")
    r.expire("src", 100)
    r.rpoplpush("src", "dst")
    assert r.exists("src") == 0 and r.ttl("dst") == -1


def test_copy_is_independent(r):
    r.rpush("l", "a")
    r.execute_command("COPY", "l", "c", "DB", "2")
    r.lpop("l")
    r.execute_command("SELECT", "2")
    assert r.lrange("c", 0, -1) == [b"a"]
    r.execute_command("SELECT", "0")


# --- keyspace notifications ----------------------------------------------------------------------

NOTIFY_COMMANDS = cmds("""
    RPUSH l a b c d
    LPUSH l z
    LPUSHX l y
    RPUSHX nx y
    LPOP l
    RPOP l 2
    LSET l 0 q
    LINSERT l BEFORE q p
    LINSERT l BEFORE missing p
    LREM l 1 p
    LREM l 1 nothere
    LTRIM l 0 -1
    LMOVE l m LEFT RIGHT
    RPOPLPUSH m m
    LMPOP 1 l RIGHT COUNT 5
    BLPOP m 0
    RPUSH t 1 2
    LTRIM t 5 6
    RPUSH u 1
    BLMOVE u v RIGHT LEFT 0
    BRPOP v 0
""")


def collect_events(port, commands):
    actor, sub = Raw(port), Raw(port)
    try:
        actor.call("FLUSHALL")
        actor.call("CONFIG", "SET", "notify-keyspace-events", "KEA")
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


def test_keyspace_events_match_redis(ember, real_redis, r, rr):
    ours = collect_events(ember.port, NOTIFY_COMMANDS)
    theirs = collect_events(real_redis.port, NOTIFY_COMMANDS)
    assert ours == theirs
    assert not any(b"lmove" in e for e in ours)  # LMOVE reports pop + push, never "lmove"


def test_blocked_pop_events_match_redis(ember, real_redis, r, rr):
    def scenario(port):
        actor, sub, waiter = _fresh(port), Raw(port), Raw(port)
        actor.call("CONFIG", "SET", "notify-keyspace-events", "KEl")
        sub.call("PSUBSCRIBE", "*")
        waiter.cmd("BLMOVE", "s", "d", "LEFT", "RIGHT", "0")
        wait_blocked(port)
        actor.call("RPUSH", "s", "v")
        waiter.read_reply()
        actor.call("PUBLISH", "__end__", "x")
        actor.call("CONFIG", "SET", "notify-keyspace-events", "")
        events = []
        while True:
            m = sub.read_reply()
            if b"__end__" in m:
                return events
            events.append(m)

    events = [e for e in on_both(ember, real_redis, scenario) if b"__keyevent@" in e]
    assert [e.split(b"__:")[1].split(b"\r\n")[0] for e in events] == [b"rpush", b"rpush", b"lpop"]


# --- propagation ---------------------------------------------------------------------------------

def _aof_commands(workdir: str) -> list:
    import glob
    import os
    out = []
    for path in sorted(glob.glob(os.path.join(workdir, "appendonlydir", "*.incr.aof"))):
        data = open(path, "rb").read()
        pos = 0
        while pos < len(data):
            n = int(data[pos + 1:data.index(b"\r\n", pos)])
            pos = data.index(b"\r\n", pos) + 2
            args = []
            for _ in range(n):
                ln = int(data[pos + 1:data.index(b"\r\n", pos)])
                pos = data.index(b"\r\n", pos) + 2
                args.append(data[pos:pos + ln])
                pos += ln + 2
            out.append(args)
    return out


def test_blocking_pops_propagate_as_plain_pops():
    from tests.conftest import start_emberkv
    srv = start_emberkv(extra=["--appendonly", "yes", "--appendfsync", "always"])
    try:
        port = srv.port
        pusher, waiter = Raw(port), Raw(port)
        for blocking, push in ((("BLPOP", "k", "0"), ("RPUSH", "k", "x", "y")),
                               (("BLMOVE", "s", "d", "LEFT", "RIGHT", "0"), ("RPUSH", "s", "1")),
                               (("BLMPOP", "0", "1", "m", "RIGHT", "COUNT", "3"), ("RPUSH", "m", "1", "2"))):
            waiter.cmd(*blocking)
            wait_blocked(port)
            pusher.call(*push)
            waiter.read_reply()
        for c in (("BLPOP", "k", "0"), ("BLMOVE", "d", "e", "left", "RIGHT", "0"),
                  ("BRPOPLPUSH", "e", "f", "0"), ("LMPOP", "1", "f", "LEFT"), ("BLPOP", "nokey", "0.01")):
            pusher.call(*c)
        time.sleep(0.3)
        got = [c for c in _aof_commands(srv.workdir) if c[0] != b"SELECT"]
        assert got == [
            [b"RPUSH", b"k", b"x", b"y"], [b"LPOP", b"k"],
            [b"RPUSH", b"s", b"1"], [b"LMOVE", b"s", b"d", b"left", b"right"],
            [b"RPUSH", b"m", b"1", b"2"], [b"RPOP", b"m", b"2"],
            [b"LPOP", b"k"], [b"LMOVE", b"d", b"e", b"left", b"RIGHT"], [b"RPOPLPUSH", b"e", b"f"],
            [b"LPOP", b"f", b"1"],
        ]
    finally:
        srv.stop()
