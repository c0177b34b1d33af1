"""Differential testing support: run the same commands on EmberKV and real Redis, compare bytes."""

from __future__ import annotations

from hypothesis import strategies as st

KEYS = [b"k1", b"k2", b"k3", b"{t}a", b"{t}b"]
key = st.sampled_from(KEYS)
small_int = st.integers(min_value=-5, max_value=20).map(lambda i: b"%d" % i)
any_int = st.one_of(small_int, st.integers(min_value=-(2**63), max_value=2**63 - 1).map(lambda i: b"%d" % i),
                    st.sampled_from([b"x", b"1.5", b"", b" 1", b"01", b"9223372036854775808"]))
value = st.one_of(st.binary(max_size=8), small_int, st.sampled_from([b"hello", b"\x00\xff", b"1e3", b"-0"]))


def compare(raw, raw_redis, commands) -> None:
    """Run every command on both servers (pipelined per command) and assert identical replies."""
    for cmd in commands:
        a = raw.call(*cmd)
        b = raw_redis.call(*cmd)
        assert a == b, (cmd, a, b)
