"""Differential tests: random MULTI / EXEC / DISCARD / WATCH / UNWATCH sequences, with a second
connection touching keys in between, must give byte-identical replies on EmberKV and Redis 7.0."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Raw

KEYS = [b"a", b"b", b"c"]
key = st.sampled_from(KEYS)
keys = st.lists(key, min_size=1, max_size=3)
value = st.sampled_from([b"1", b"10", b"x", b"", b"-3"])


def cmd(*parts):
    return tuple(p if isinstance(p, bytes) else str(p).encode() for p in parts)


data_command = st.one_of(
    st.builds(lambda k, v: cmd(b"SET", k, v), key, value),
    st.builds(lambda k: cmd(b"GET", k), key),
    st.builds(lambda k: cmd(b"INCR", k), key),
    st.builds(lambda ks: cmd(b"DEL", *ks), keys),
    st.builds(lambda k, v: cmd(b"APPEND", k, v), key, value),
    st.builds(lambda ks: cmd(b"MGET", *ks), keys),
    st.builds(lambda k: cmd(b"EXPIRE", k, b"1000"), key),
    st.builds(lambda k: cmd(b"PERSIST", k), key),
    st.builds(lambda k: cmd(b"TTL", k), key),
    st.builds(lambda ks: cmd(b"EXISTS", *ks), keys),
    st.builds(lambda a, b: cmd(b"RENAME", a, b), key, key),
    st.builds(lambda k: cmd(b"TYPE", k), key),
    st.just(cmd(b"PING")),
    st.sampled_from([cmd(b"SELECT", b"0"), cmd(b"SELECT", b"1"), cmd(b"FLUSHDB"), cmd(b"SWAPDB", b"0", b"1"),
                     cmd(b"ECHO", b"hi")]),
)
# Commands rejected while queueing (they make EXEC abort) or at run time.
bad_command = st.sampled_from([
    cmd(b"NOSUCH", b"x"), cmd(b"SET", b"a"), cmd(b"GET"), cmd(b"CONFIG", b"NOPE"), cmd(b"INCRBY", b"a", b"x"),
    cmd(b"SELECT", b"99"), cmd(b"EXPIRE", b"a", b"zz"),
])
txn_command = st.sampled_from([cmd(b"MULTI"), cmd(b"EXEC"), cmd(b"DISCARD"), cmd(b"UNWATCH")])
watch_command = st.builds(lambda ks: cmd(b"WATCH", *ks), keys)

# (0, command) runs on the transaction connection; (1, command) on the other connection.
step = st.one_of(
    st.tuples(st.just(0), data_command), st.tuples(st.just(0), data_command),
    st.tuples(st.just(0), txn_command), st.tuples(st.just(0), txn_command),
    st.tuples(st.just(0), watch_command), st.tuples(st.just(0), bad_command),
    st.tuples(st.just(1), data_command),
)
# A well-formed transaction, so that EXEC with queued work is common.
transaction = st.builds(
    lambda w, body, other, end: ([(0, w)] if w else []) + other + [(0, cmd(b"MULTI"))]
    + [(0, c) for c in body] + [(0, end)],
    st.one_of(st.none(), watch_command), st.lists(st.one_of(data_command, bad_command), max_size=5),
    st.lists(st.tuples(st.just(1), data_command), max_size=2),
    st.sampled_from([cmd(b"EXEC"), cmd(b"EXEC"), cmd(b"DISCARD")]),
)
program = st.lists(st.one_of(transaction.map(tuple), st.lists(step, max_size=4).map(tuple)),
                   min_size=1, max_size=5)


@pytest.fixture
def servers(ember, real_redis, r, rr):
    conns = {name: (Raw(port), Raw(port)) for name, port in (("ember", ember.port), ("redis", real_redis.port))}
    yield conns
    for a, b in conns.values():
        a.close()
        b.close()


def run(conns, steps):
    out = []
    for who, c in steps:
        out.append(conns[who].call(*c))
    return out


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(blocks=program)
def test_transaction_sequences(servers, blocks):
    steps = [s for block in blocks for s in block]
    results = []
    for conns in servers.values():
        for conn in conns:
            conn.call(b"RESET")
        conns[0].call(b"FLUSHALL")
        results.append(run(conns, steps))
    for i, (mine, theirs) in enumerate(zip(*results)):
        assert mine == theirs, (steps[i], mine, theirs, steps[:i])
    for conns in servers.values():
        conns[0].call(b"RESET")
    for db in (b"0", b"1"):
        snap = []
        for conns in servers.values():
            conns[0].call(b"SELECT", db)
            snap.append([conns[0].call(b"GET", k) for k in KEYS])
        assert snap[0] == snap[1]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(blocks=program)
def test_transaction_sequences_resp3(servers, blocks):
    steps = [s for block in blocks for s in block]
    results = []
    for conns in servers.values():
        for conn in conns:
            conn.call(b"RESET")
            conn.call(b"HELLO", b"3")
        conns[0].call(b"FLUSHALL")
        results.append(run(conns, steps))
    for i, (mine, theirs) in enumerate(zip(*results)):
        assert mine == theirs, (steps[i], mine, theirs, steps[:i])
