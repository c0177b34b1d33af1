"""Differential tests: random bitmap / BITFIELD / HyperLogLog command sequences must give
byte-identical replies (and stored bytes) on EmberKV and on a real Redis 7.0."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

KEYS = [b"a", b"b", b"c"]
key = st.sampled_from(KEYS)
small_int = st.integers(-70, 70)
index_arg = st.one_of(small_int, st.integers(-(2**63), 2**63 - 1), st.sampled_from([b"x", b"+1", b"", b"01"]))
unit = st.sampled_from([b"BIT", b"byte", b"bits"])


def _b(v) -> bytes:
    return v if isinstance(v, bytes) else str(v).encode()


def cmd(*parts):
    return tuple(_b(p) for p in parts)


setbit = st.builds(lambda k, off, v: cmd(b"SETBIT", k, off, v), key,
                   st.one_of(st.integers(0, 300), st.sampled_from([-1, b"x", 2**40])),
                   st.sampled_from([0, 1, 1, 0, 2, b"a"]))
getbit = st.builds(lambda k, off: cmd(b"GETBIT", k, off), key, st.one_of(st.integers(0, 300), st.just(-3)))
setstr = st.builds(lambda k, v: cmd(b"SET", k, v), key, st.binary(max_size=12))
append = st.builds(lambda k, v: cmd(b"APPEND", k, v), key, st.binary(min_size=1, max_size=4))
get = st.builds(lambda k: cmd(b"GET", k), key)
bitcount = st.builds(lambda k, rng: cmd(b"BITCOUNT", k, *rng), key,
                     st.one_of(st.just(()), st.tuples(index_arg, index_arg),
                               st.tuples(small_int, small_int, unit), st.tuples(small_int)))
bitpos = st.builds(lambda k, bit, rng: cmd(b"BITPOS", k, bit, *rng), key, st.sampled_from([0, 1, 0, 1, 2]),
                   st.one_of(st.just(()), st.tuples(small_int), st.tuples(small_int, small_int),
                             st.tuples(small_int, small_int, unit), st.tuples(index_arg, index_arg)))
bitop = st.builds(lambda op, dest, srcs: cmd(b"BITOP", op, dest, *srcs),
                  st.sampled_from([b"AND", b"or", b"XOR", b"not", b"nand"]), key,
                  st.lists(st.sampled_from(KEYS + [b"missing"]), min_size=1, max_size=3))

field_type = st.one_of(
    st.builds(lambda s, n: s + _b(n), st.sampled_from([b"i", b"u"]), st.integers(1, 64)),
    st.sampled_from([b"u64", b"i0", b"I8", b"x"]))
field_offset = st.one_of(st.integers(0, 90), st.builds(lambda n: b"#%d" % n, st.integers(0, 10)),
                         st.just(-1))
field_value = st.one_of(st.integers(-300, 300), st.integers(-(2**63), 2**63 - 1))
subcommand = st.one_of(
    st.builds(lambda t, o: (b"GET", t, o), field_type, field_offset),
    st.builds(lambda t, o, v: (b"SET", t, o, v), field_type, field_offset, field_value),
    st.builds(lambda t, o, v: (b"INCRBY", t, o, v), field_type, field_offset, field_value),
    st.builds(lambda m: (b"OVERFLOW", m), st.sampled_from([b"WRAP", b"sat", b"FAIL"])),
)
bitfield = st.builds(lambda name, k, subs: cmd(name, k, *[p for s in subs for p in s]),
                     st.sampled_from([b"BITFIELD", b"BITFIELD", b"BITFIELD_RO"]), key,
                     st.lists(subcommand, max_size=4))

bitmap_command = st.one_of(setbit, getbit, setstr, append, get, bitcount, bitpos, bitop, bitfield)

element = st.one_of(st.binary(max_size=3), st.integers(0, 400).map(_b))
pfadd = st.builds(lambda k, els: cmd(b"PFADD", k, *els), key, st.lists(element, max_size=40))
pfadd_many = st.builds(lambda k, start, n: cmd(b"PFADD", k, *[b"m%d" % i for i in range(start, start + n)]),
                       key, st.integers(0, 5000), st.integers(100, 1500))
pfcount = st.builds(lambda ks: cmd(b"PFCOUNT", *ks), st.lists(st.sampled_from(KEYS + [b"missing"]),
                                                               min_size=1, max_size=3))
pfmerge = st.builds(lambda d, ks: cmd(b"PFMERGE", d, *ks), key,
                    st.lists(st.sampled_from(KEYS + [b"missing"]), max_size=3))
corrupt = st.builds(lambda k, pos, b: cmd(b"SETRANGE", k, pos, b), key, st.integers(0, 40), st.binary(min_size=1,
                                                                                                     max_size=2))
hll_command = st.one_of(pfadd, pfadd, pfadd_many, pfcount, pfcount, pfmerge, get, corrupt, setstr)


def run_both(raw, raw_redis, commands):
    raw.call(b"FLUSHALL")
    raw_redis.call(b"FLUSHALL")
    for c in commands:
        mine, theirs = raw.call(*c), raw_redis.call(*c)
        assert mine == theirs, (c, mine[:300], theirs[:300])
    for k in KEYS:
        assert raw.call(b"GET", k) == raw_redis.call(b"GET", k), k


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(commands=st.lists(bitmap_command, min_size=1, max_size=25))
def test_bitmap_sequences(raw, raw_redis, commands):
    run_both(raw, raw_redis, commands)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(commands=st.lists(hll_command, min_size=1, max_size=12))
def test_hyperloglog_sequences(raw, raw_redis, commands):
    run_both(raw, raw_redis, commands)
