"""Set commands over TCP, compared with a real Redis 7.0.

Integer-only sets are intsets on both servers and reply in ascending order, so
their replies are compared byte-for-byte; sets of strings (hash order) are
compared as sorted member lists.
"""

from __future__ import annotations

import math
from collections import Counter

import pytest

from tests.integration.test_lists import cmds, collect_events, run_both

BASICS = cmds("""
    SADD s 3 1 2
    SADD s 2 4
    SADD s 5 5 5
    SMEMBERS s
    SCARD s
    SCARD missing
    SISMEMBER s 3
    SISMEMBER s 9
    SISMEMBER missing 1
    SMISMEMBER s 1 9 3
    SMISMEMBER missing 1 2
    SREM s 1 9
    SREM s 9
    SREM missing 1
    SMEMBERS s
    SMEMBERS missing
    SREM s 2 3 4 5
    EXISTS s
    SADD n -5 0 9223372036854775807 -9223372036854775808 10
    SMEMBERS n
    OBJECT ENCODING n
    SADD n 9223372036854775808
    OBJECT ENCODING n
    SADD m 1 01
    OBJECT ENCODING m
    SADD o -0
    OBJECT ENCODING o
    SADD p x
    SREM p x
    SADD p 1
    OBJECT ENCODING p
    SET str v
    SADD str a
    SREM str a
    SMEMBERS str
    SCARD str
    SISMEMBER str a
    SMISMEMBER str a
    SMOVE str s a
""")

ALGEBRA = cmds("""
    SADD a 1 2 3 4 5
    SADD b 4 5 6
    SADD c 5 7
    SINTER a b
    SINTER a b c
    SINTER a missing
    SINTER a
    SUNION a b c
    SUNION missing
    SUNION a missing
    SDIFF a b c
    SDIFF a a
    SDIFF a b a
    SDIFF missing a
    SDIFF a missing
    SINTERSTORE d a b
    SMEMBERS d
    SINTERSTORE d a missing
    EXISTS d
    SUNIONSTORE d a c
    SMEMBERS d
    SDIFFSTORE d a b
    SMEMBERS d
    SDIFFSTORE d b b
    EXISTS d
    SUNIONSTORE d missing
    SET dst string
    SINTERSTORE dst a b
    TYPE dst
    SINTERSTORE a a b
    SMEMBERS a
    SINTERCARD 2 a b
    SINTERCARD 3 a b c
    SINTERCARD 1 a
    SINTERCARD 2 a b LIMIT 1
    SINTERCARD 2 a b LIMIT 0
    SINTERCARD 2 a missing
    SINTERCARD 0 a
    SINTERCARD -1 a
    SINTERCARD x a
    SINTERCARD 3 a b
    SINTERCARD 2 a b LIMIT -1
    SINTERCARD 2 a b LIMIT x
    SINTERCARD 2 a b LIMIT 1 LIMIT 2
    SINTERCARD 2 a b FOO
    SINTERCARD 2 a b LIMIT
    SET str v
    SINTER a str
    SINTER missing str
    SUNION a str
    SDIFF str a
    SDIFF a str
    SINTERSTORE d a str
    SINTERCARD 2 a str
""")

RANDOM_ERRORS = cmds("""
    SADD s 1 2 3
    SPOP missing
    SPOP missing 3
    SPOP s 0
    SPOP s -1
    SPOP s x
    SPOP s 1 2
    SRANDMEMBER missing
    SRANDMEMBER missing 5
    SRANDMEMBER missing -5
    SRANDMEMBER s 0
    SRANDMEMBER s x
    SRANDMEMBER s 1 2
    SRANDMEMBER s -9223372036854775808
    SRANDMEMBER s 9223372036854775807
    SRANDMEMBER s 3
    SPOP s 3
    EXISTS s
    SADD t 7
    SPOP t
    EXISTS t
    SET str v
    SPOP str
    SPOP str 2
    SRANDMEMBER str
    SRANDMEMBER str 2
""")

MOVES = cmds("""
    SADD a 1 2
    SADD b 2 3
    SMOVE a b 1
    SMOVE a b 2
    EXISTS a
    SMEMBERS b
    SMOVE b b 3
    SMOVE b b 9
    SMOVE b c 9
    SMOVE missing b 1
    SMOVE b new 3
    SMEMBERS new
    OBJECT ENCODING new
    SMOVE b new2 x
    OBJECT ENCODING new2
    SET str v
    SMOVE new str 3
    SMOVE str new 3
    SMOVE missing str 3
""")

SCANS = cmds("""
    SADD i 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15
    SSCAN i 0
    SSCAN i 0 COUNT 2
    SSCAN i 0 MATCH 1*
    SSCAN i 0 COUNT 0
    SSCAN i 0 COUNT x
    SSCAN i 0 TYPE string
    SSCAN i 0 FOO
    SSCAN i x
    SSCAN i -1
    SSCAN missing 0
    SSCAN missing 0 COUNT x
    SADD h abc
    SSCAN h 0
    SSCAN h 0 MATCH a*
    SSCAN h 0 MATCH z*
    SET str v
    SSCAN str 0
""")

GROUPS = {"basics": BASICS, "algebra": ALGEBRA, "random_errors": RANDOM_ERRORS, "moves": MOVES,
          "scans": SCANS}


@pytest.mark.parametrize("resp3", [False, True])
@pytest.mark.parametrize("group", list(GROUPS))
def test_replies_match_redis(raw, raw_redis, group, resp3):
    run_both(raw, raw_redis, GROUPS[group], resp3)


def test_arity_errors_match_redis(raw, raw_redis):
    run_both(raw, raw_redis, cmds("""
        SADD s
        SREM s
        SPOP
        SMOVE a b
        SINTERCARD 1
        SSCAN s
        SISMEMBER s
    """))


WORDS = [b"alpha", b"beta", b"gamma", b"delta", b"eps", b"zeta", b"eta", b"theta", b"iota", b"kappa"]


def test_string_sets_match_redis_as_sets(r, rr):
    for c in (r, rr):
        c.sadd("a", *WORDS[:7], 1, 2)
        c.sadd("b", *WORDS[4:], 2, 3)
    for cmd in (("SMEMBERS", "a"), ("SINTER", "a", "b"), ("SUNION", "a", "b"), ("SDIFF", "a", "b"),
                ("SDIFF", "b", "a")):
        assert sorted(r.execute_command(*cmd)) == sorted(rr.execute_command(*cmd)), cmd
    for cmd in (("SINTERSTORE", "d1", "a", "b"), ("SUNIONSTORE", "d2", "a", "b"),
                ("SDIFFSTORE", "d3", "a", "b")):
        assert r.execute_command(*cmd) == rr.execute_command(*cmd)
    for key in ("a", "d1", "d2", "d3"):
        assert r.object("encoding", key) == rr.object("encoding", key), key
        assert sorted(r.smembers(key)) == sorted(rr.smembers(key))


def test_encoding_transitions_match_redis(r, rr):
    for c in (r, rr):
        c.config_set("set-max-intset-entries", 4)
        c.sadd("s", 1, 2, 3, 4)
        c.sadd("t", 1, 2, 3, 4, 5)
        c.srem("t", 5)
        c.sadd("u", "x", 1)
        c.srem("u", "x")
    try:
        for key in ("s", "t", "u"):
            assert r.object("encoding", key) == rr.object("encoding", key), key
        r.sadd("s", 5)
        assert r.object("encoding", "s") == b"hashtable"
    finally:
        for c in (r, rr):
            c.config_set("set-max-intset-entries", 512)


def test_spop_count_paths(r):
    # Small pops (random removal) and large pops (keep the survivors) both stay consistent.
    for count in (1, 3, 80, 99, 100, 150):
        r.delete("s")
        members = {b"m%d" % i for i in range(100)}
        r.sadd("s", *members)
        popped = r.spop("s", count)
        assert len(popped) == min(count, 100) == len(set(popped))
        rest = r.smembers("s")
        assert rest | set(popped) == members and not rest & set(popped)
    r.sadd("ints", *range(600))
    r.spop("ints", 590)
    assert r.object("encoding", "ints") == b"intset" and r.scard("ints") == 10


def _chi_square(samples, population):
    expected = len(samples) / len(population)
    counts = Counter(samples)
    return sum((counts.get(m, 0) - expected) ** 2 / expected for m in population)


def test_srandmember_distribution(r):
    members = [b"%d" % i for i in range(10)] + [b"x"]  # hashtable encoding
    r.sadd("s", *members)
    assert _chi_square(r.srandmember("s", -2000), members) < 40
    picks = []
    for _ in range(400):
        sample = r.srandmember("s", 5)
        assert len(set(sample)) == 5
        picks += sample
    assert _chi_square(picks, members) < 40
    singles = [r.srandmember("s") for _ in range(1000)]
    assert _chi_square(singles, members) < 40


def test_spop_distribution(r):
    counts = Counter()
    for _ in range(300):
        r.delete("s")
        r.sadd("s", *range(10))
        counts[r.spop("s")] += 1
    assert _chi_square(list(counts.elements()), list(counts)) < 40 and len(counts) == 10


def test_sscan_walks_everything_once(r):
    members = {b"member:%d" % i for i in range(1000)}
    r.sadd("s", *members)
    seen = []
    cursor = 0
    calls = 0
    while True:
        cursor, batch = r.sscan("s", cursor, count=50)
        seen += batch
        calls += 1
        if cursor == 0:
            break
    assert calls > 5 and len(seen) == len(members) and set(seen) == members
    assert r.sscan("s", 0, match="member:99*", count=5000)[1] and all(
        m.startswith(b"member:99") for m in r.sscan("s", 0, match="member:99*", count=5000)[1])


def test_keyspace_commands_on_sets(r):
    r.sadd("s", "a", "b")
    assert r.type("s") == b"set"
    assert r.copy("s", "c")
    r.srem("c", "a")
    assert r.scard("s") == 2 and r.smembers("c") == {b"b"}
    r.rename("c", "d")
    assert r.smembers("d") == {b"b"}
    assert r.move("d", 3)
    assert r.scan(0, _type="set", count=100)[1] == [b"s"]
    r.pexpire("s", 30)
    import time
    time.sleep(0.08)
    assert r.sismember("s", "a") == 0 and r.exists("s") == 0


NOTIFY_COMMANDS = cmds("""
    SADD s 1 2 3
    SADD s 1
    SREM s 9
    SREM s 1
    SMOVE s t 2
    SMOVE s t 2
    SPOP s
    SADD u a b c
    SPOP u 0
    SPOP u 5
    SADD a 1 2
    SADD b 2 3
    SINTERSTORE d a b
    SUNIONSTORE d a b
    SDIFFSTORE d a b
    SINTERSTORE d a missing
    SDIFFSTORE d a a
    SUNIONSTORE e missing
""")


def test_keyspace_events_match_redis(ember, real_redis, r, rr):
    ours = collect_events(ember.port, NOTIFY_COMMANDS)
    theirs = collect_events(real_redis.port, NOTIFY_COMMANDS)
    assert ours == theirs


def test_spop_propagates_as_srem_or_del():
    import time

    from tests.conftest import Raw, start_emberkv
    from tests.integration.test_lists import _aof_commands
    srv = start_emberkv(extra=["--appendonly", "yes", "--appendfsync", "always"])
    try:
        c = Raw(srv.port)
        c.call("SADD", "s", "a", "b", "c", "d", "e", "f")
        one = c.call("SPOP", "s").split(b"\r\n")[1]
        c.call("SPOP", "s", "2")
        c.call("SPOP", "s", "0")
        c.call("SPOP", "s", "10")
        c.call("SRANDMEMBER", "s", "3")
        time.sleep(0.3)
        got = [cmd for cmd in _aof_commands(srv.workdir) if cmd[0] != b"SELECT"]
        assert got[0][0] == b"SADD" and got[1] == [b"SREM", b"s", one]
        assert [cmd[:2] for cmd in got[2:4]] == [[b"SREM", b"s"]] * 2
        assert got[4:] == [[b"DEL", b"s"]]
    finally:
        srv.stop()
