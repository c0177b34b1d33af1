"""Differential tests: random list, set and SORT command sequences must give the same replies
on EmberKV and on a real Redis 7.0 (RESP2 and RESP3), byte for byte.

Replies whose order follows a hash table (members of sets holding strings) are compared
after sorting their elements; random commands appear only in forms whose result is
fully determined (counts of 0, or counts covering the whole set).  SORT values avoid
overflowing numbers: Redis then trips on a stale errno for later sorts.
"""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Raw

KEYS = [b"a", b"b", b"c"]
key = st.sampled_from(KEYS)
any_key = st.sampled_from(KEYS + [b"missing", b"str"])
element = st.one_of(st.integers(-3, 12).map(lambda i: b"%d" % i),
                    st.sampled_from([b"x", b"y", b"", b"\x00", b"1.5", b"-0", b"007", b"abc"]))
int_member = st.integers(-3, 12).map(lambda i: b"%d" % i)
member = st.one_of(int_member, st.sampled_from([b"x", b"y", b"z"]))
index = st.one_of(st.integers(-8, 8).map(lambda i: b"%d" % i),
                  st.sampled_from([b"x", b"9223372036854775807", b"-9223372036854775808", b""]))
count = st.one_of(st.integers(-2, 6).map(lambda i: b"%d" % i), st.sampled_from([b"x", b"1.5"]))
where = st.sampled_from([b"LEFT", b"RIGHT", b"left", b"UP"])


def cmd(*parts):
    return tuple(p if isinstance(p, bytes) else str(p).encode() for p in parts)


list_command = st.one_of(
    st.builds(lambda c, k, es: cmd(c, k, *es), st.sampled_from([b"LPUSH", b"RPUSH", b"LPUSHX", b"RPUSHX"]),
              any_key, st.lists(element, min_size=1, max_size=4)),
    st.builds(lambda c, k: cmd(c, k), st.sampled_from([b"LPOP", b"RPOP", b"LLEN"]), any_key),
    st.builds(lambda c, k, n: cmd(c, k, n), st.sampled_from([b"LPOP", b"RPOP"]), any_key, count),
    st.builds(lambda k, i, j: cmd(b"LRANGE", k, i, j), any_key, index, index),
    st.builds(lambda k, i: cmd(b"LINDEX", k, i), any_key, index),
    st.builds(lambda k, i, e: cmd(b"LSET", k, i, e), any_key, index, element),
    st.builds(lambda k, w, p, e: cmd(b"LINSERT", k, w, p, e), any_key,
              st.sampled_from([b"BEFORE", b"AFTER", b"after", b"X"]), element, element),
    st.builds(lambda k, n, e: cmd(b"LREM", k, n, e), any_key, count, element),
    st.builds(lambda k, i, j: cmd(b"LTRIM", k, i, j), any_key, index, index),
    st.builds(lambda k, e, opts: cmd(b"LPOS", k, e, *opts), any_key, element,
              st.lists(st.sampled_from([(b"RANK", b"1"), (b"RANK", b"-2"), (b"RANK", b"0"), (b"COUNT", b"0"),
                                        (b"COUNT", b"2"), (b"MAXLEN", b"3"), (b"MAXLEN", b"-1"),
                                        (b"COUNT", b"x")]), max_size=2).map(lambda ps: [a for p in ps for a in p])),
    st.builds(lambda s, d, f, t: cmd(b"LMOVE", s, d, f, t), any_key, any_key, where, where),
    st.builds(lambda s, d: cmd(b"RPOPLPUSH", s, d), any_key, any_key),
    st.builds(lambda ks, w, opts: cmd(b"LMPOP", len(ks), *ks, w, *opts), st.lists(any_key, min_size=1, max_size=3),
              where, st.sampled_from([(), (b"COUNT", b"2"), (b"COUNT", b"0"), (b"COUNT", b"9")])),
    st.builds(lambda ks: cmd(b"BLPOP", *ks, b"0.01"), st.lists(any_key, min_size=1, max_size=2)),
    st.builds(lambda s, d: cmd(b"BLMOVE", s, d, b"RIGHT", b"LEFT", b"0.01"), any_key, any_key),
)

set_command = st.one_of(
    st.builds(lambda k, ms: cmd(b"SADD", k, *ms), any_key, st.lists(member, min_size=1, max_size=4)),
    st.builds(lambda k, ms: cmd(b"SADD", k, *ms), key, st.lists(int_member, min_size=1, max_size=4)),
    st.builds(lambda k, ms: cmd(b"SREM", k, *ms), any_key, st.lists(member, min_size=1, max_size=3)),
    st.builds(lambda c, k: cmd(c, k), st.sampled_from([b"SMEMBERS", b"SCARD"]), any_key),
    st.builds(lambda k, m: cmd(b"SISMEMBER", k, m), any_key, member),
    st.builds(lambda k, ms: cmd(b"SMISMEMBER", k, *ms), any_key, st.lists(member, min_size=1, max_size=3)),
    st.builds(lambda s, d, m: cmd(b"SMOVE", s, d, m), any_key, any_key, member),
    st.builds(lambda c, ks: cmd(c, *ks), st.sampled_from([b"SINTER", b"SUNION", b"SDIFF"]),
              st.lists(any_key, min_size=1, max_size=3)),
    st.builds(lambda c, d, ks: cmd(c, d, *ks), st.sampled_from([b"SINTERSTORE", b"SUNIONSTORE", b"SDIFFSTORE"]),
              any_key, st.lists(any_key, min_size=1, max_size=3)),
    st.builds(lambda ks, opts: cmd(b"SINTERCARD", len(ks), *ks, *opts), st.lists(any_key, min_size=1, max_size=3),
              st.sampled_from([(), (b"LIMIT", b"1"), (b"LIMIT", b"0"), (b"LIMIT", b"-1")])),
    st.builds(lambda k, n: cmd(b"SPOP", k, n), any_key, st.sampled_from([b"0", b"100", b"-1", b"x"])),
    st.builds(lambda k, n: cmd(b"SRANDMEMBER", k, n), any_key, st.sampled_from([b"0", b"100", b"x"])),
    st.builds(lambda k: cmd(b"OBJECT", b"ENCODING", k), any_key),
    st.builds(lambda k, opts: cmd(b"SSCAN", k, b"0", *opts), any_key,
              st.sampled_from([(), (b"COUNT", b"100"), (b"MATCH", b"1*"), (b"COUNT", b"0")])),
)

sort_command = st.builds(
    lambda k, opts: cmd(b"SORT", k, *opts), any_key,
    st.lists(st.sampled_from([(b"DESC",), (b"ALPHA",), (b"LIMIT", b"1", b"2"), (b"LIMIT", b"-1", b"5"),
                              (b"BY", b"nosort"), (b"BY", b"w_*"), (b"GET", b"#"), (b"GET", b"w_*"),
                              (b"STORE", b"c")]), max_size=3).map(lambda ps: [a for p in ps for a in p]))

setup = [cmd(b"SET", b"str", b"v"), cmd(b"MSET", b"w_1", b"3", b"w_x", b"1", b"w_2", b"2", b"w_y", b"-1")]

# Replies whose element order follows a hash table: compared as sorted multisets.
UNORDERED = {b"SMEMBERS", b"SINTER", b"SUNION", b"SDIFF", b"SPOP", b"SRANDMEMBER", b"SSCAN"}


def _parse(buf: bytes, pos: int = 0):
    """(value, next_pos) for one RESP2/RESP3 reply; aggregates become (type, [items])."""
    nl = buf.index(b"\r\n", pos)
    t, line, end = buf[pos:pos + 1], buf[pos + 1:nl], nl + 2
    if t in (b"$", b"="):
        n = int(line)
        return (buf[pos:end] if n < 0 else buf[end:end + n]), (end if n < 0 else end + n + 2)
    if t in (b"*", b"~", b">", b"%"):
        n = int(line)
        if n < 0:
            return buf[pos:end], end
        items = []
        for _ in range(n * (2 if t == b"%" else 1)):
            v, end = _parse(buf, end)
            items.append(v)
        return (t, items), end
    return buf[pos:end], end


def _canonical(v):
    if isinstance(v, tuple):
        return (v[0], sorted((_canonical(i) for i in v[1]), key=repr))
    return v


def normalize(command, reply: bytes):
    if command[0] in UNORDERED and reply[:1] in (b"*", b"~"):
        return _canonical(_parse(reply)[0])
    return reply


def compare(raw, raw_redis, commands, resp3: bool) -> None:
    for c in (raw, raw_redis):
        c.call("FLUSHALL")
        c.call("HELLO", "3" if resp3 else "2")
        for s in setup:
            c.call(*s)
    for command in commands:
        ours = raw.call(*command)
        theirs = raw_redis.call(*command)
        assert normalize(command, ours) == normalize(command, theirs), (command, ours, theirs)


SETTINGS = dict(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@settings(**SETTINGS)
@given(commands=st.lists(list_command, min_size=1, max_size=25), resp3=st.booleans())
def test_list_sequences(raw, raw_redis, commands, resp3):
    compare(raw, raw_redis, commands, resp3)


@settings(**SETTINGS)
@given(commands=st.lists(set_command, min_size=1, max_size=25), resp3=st.booleans())
def test_set_sequences(raw, raw_redis, commands, resp3):
    compare(raw, raw_redis, commands, resp3)


@settings(**SETTINGS)
@given(commands=st.lists(st.one_of(list_command, sort_command,
                                   st.builds(lambda k, ms: cmd(b"SADD", k, *ms), key,
                                             st.lists(int_member, min_size=1, max_size=4))),
                         min_size=1, max_size=20), resp3=st.booleans())
def test_sort_sequences(raw, raw_redis, commands, resp3):
    compare(raw, raw_redis, commands, resp3)


# --- a blocked client and a pusher on two connections -----------------------------------------

blocking_command = st.one_of(
    st.builds(lambda c, ks: cmd(c, *ks, b"0"), st.sampled_from([b"BLPOP", b"BRPOP"]),
              st.lists(key, min_size=1, max_size=3)),
    st.builds(lambda s, d, f, t: cmd(b"BLMOVE", s, d, f, t, b"0"), key, key, where.filter(lambda w: w != b"UP"),
              where.filter(lambda w: w != b"UP")),
    st.builds(lambda s, d: cmd(b"BRPOPLPUSH", s, d, b"0"), key, key),
    st.builds(lambda ks, w, n: cmd(b"BLMPOP", b"0", len(ks), *ks, w, b"COUNT", n),
              st.lists(key, min_size=1, max_size=3), st.sampled_from([b"LEFT", b"RIGHT"]),
              st.sampled_from([b"1", b"2", b"5"])),
)
push_command = st.one_of(
    st.builds(lambda c, k, es: cmd(c, k, *es), st.sampled_from([b"LPUSH", b"RPUSH"]), key,
              st.lists(element, min_size=1, max_size=3)),
    st.builds(lambda k: cmd(b"SADD", k, b"m"), key),
    st.builds(lambda k: cmd(b"DEL", k), key),
    st.builds(lambda k: cmd(b"LPOP", k), key),
)


def _wait_blocked(port: int, blocked: bool, timeout: float = 5.0) -> bool:
    c = Raw(port)
    try:
        deadline = time.time() + timeout
        while time.time() < deadline:
            info = c.call("INFO", "clients")
            if (b"blocked_clients:0\r" not in info) == blocked:
                return True
            time.sleep(0.005)
        return False
    finally:
        c.close()


def _blocking_run(port, blocking, pushes):
    pusher, waiter = Raw(port), Raw(port)
    try:
        pusher.call("FLUSHALL")
        waiter.cmd(*blocking)
        assert _wait_blocked(port, True)
        replies = []
        for p in pushes:
            replies.append(pusher.call(*p))
            if not _wait_blocked(port, True, timeout=0.05):
                break
        if _wait_blocked(port, True, timeout=0.01):
            # Still waiting: wake it with a fresh list at its first key so both servers end alike.
            first = blocking[3] if blocking[0] == b"BLMPOP" else blocking[1]
            pusher.call("DEL", first)
            replies.append(pusher.call("RPUSH", first, "end"))
        replies.append(waiter.read_reply())
        for k in KEYS:
            replies.append(pusher.call("TYPE", k))
            if replies[-1] == b"+list\r\n":
                replies.append(pusher.call("LRANGE", k, "0", "-1"))
        return replies
    finally:
        pusher.close()
        waiter.close()


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(blocking=blocking_command, pushes=st.lists(push_command, min_size=1, max_size=4))
def test_blocked_pop_served_by_other_connection(ember, real_redis, r, rr, blocking, pushes):
    ours = _blocking_run(ember.port, blocking, pushes)
    theirs = _blocking_run(real_redis.port, blocking, pushes)
    assert ours == theirs
