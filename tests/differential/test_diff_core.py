"""Hypothesis-generated sequences of string/key commands: EmberKV and Redis must reply identically."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .harness import any_int, compare, key, small_int, value

string_cmd = st.one_of(
    st.tuples(st.just(b"SET"), key, value),
    st.tuples(st.just(b"SET"), key, value, st.sampled_from([b"NX", b"XX", b"GET", b"KEEPTTL"])),
    st.tuples(st.just(b"SET"), key, value, st.sampled_from([b"EX", b"PX"]), any_int),
    st.tuples(st.just(b"GET"), key),
    st.tuples(st.just(b"GETDEL"), key),
    st.tuples(st.just(b"GETSET"), key, value),
    st.tuples(st.just(b"APPEND"), key, value),
    st.tuples(st.just(b"STRLEN"), key),
    st.tuples(st.just(b"INCR"), key),
    st.tuples(st.just(b"DECRBY"), key, any_int),
    st.tuples(st.just(b"INCRBY"), key, any_int),
    st.tuples(st.just(b"INCRBYFLOAT"), key, st.sampled_from([b"1.5", b"-0.1", b"3", b"1e2", b"abc", b"0.0001"])),
    st.tuples(st.just(b"GETRANGE"), key, small_int, small_int),
    st.tuples(st.just(b"SETRANGE"), key, small_int, value),
    st.tuples(st.just(b"MGET"), key, key),
    st.tuples(st.just(b"MSET"), key, value, key, value),
    st.tuples(st.just(b"MSETNX"), key, value, key, value),
    st.tuples(st.just(b"SETNX"), key, value),
    st.tuples(st.just(b"LCS"), key, key),
)

key_cmd = st.one_of(
    st.tuples(st.just(b"DEL"), key, key),
    st.tuples(st.just(b"EXISTS"), key, key),
    st.tuples(st.just(b"TYPE"), key),
    st.tuples(st.just(b"RENAME"), key, key),
    st.tuples(st.just(b"RENAMENX"), key, key),
    st.tuples(st.just(b"COPY"), key, key),
    st.tuples(st.just(b"COPY"), key, key, st.just(b"REPLACE")),
    st.tuples(st.just(b"EXPIRE"), key, st.sampled_from([b"100", b"1000", b"-1", b"0", b"x"]),
              st.sampled_from([b"NX", b"XX", b"GT", b"LT"])),
    st.tuples(st.just(b"EXPIRE"), key, st.sampled_from([b"100", b"5000"])),
    st.tuples(st.just(b"TTL"), key),
    st.tuples(st.just(b"PERSIST"), key),
    st.tuples(st.just(b"DBSIZE")),
    st.tuples(st.just(b"TOUCH"), key),
)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.one_of(string_cmd, key_cmd), min_size=1, max_size=25))
def test_strings_and_keys(raw, raw_redis, cmds):
    raw.call(b"FLUSHALL")
    raw_redis.call(b"FLUSHALL")
    compare(raw, raw_redis, cmds)
