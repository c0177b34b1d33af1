"""SORT / SORT_RO over TCP, compared byte-for-byte with a real Redis 7.0."""

from __future__ import annotations

import pytest

from tests.conftest import Raw
from tests.integration.test_lists import cmds, collect_events, run_both

LISTS = cmds("""
    RPUSH l 3 1 2 10 -5 2.5
    SORT l
    SORT l DESC
    SORT l ALPHA
    SORT l ALPHA DESC
    SORT l LIMIT 1 2
    SORT l LIMIT -1 2
    SORT l LIMIT 2 -1
    SORT l LIMIT 10 2
    SORT l LIMIT 0 0
    SORT l LIMIT 5 100
    SORT l LIMIT x 1
    SORT l LIMIT 1
    SORT l DESC LIMIT 0 3 ASC
    SORT l BY nosort
    SORT l BY nosort DESC
    SORT l BY nosort LIMIT 1 3
    SORT l BY nosort DESC LIMIT 1 3
    SORT l BY nosort LIMIT 10 3
    SORT l BY nosort GET #
    SORT missing
    SORT missing ALPHA LIMIT 0 1
    SORT l FOO
    SORT l GET
    SORT l BY
    SORT l STORE
    SET str v
    SORT str
    SORT str BY nosort
    SORT l STORE str
    TYPE str
""")

BY_AND_GET = cmds("""
    RPUSH l 1 2 3 4
    MSET w_1 40 w_2 30 w_3 20 w_4 30
    SORT l BY w_*
    SORT l BY w_* DESC
    SORT l BY w_* LIMIT 1 2
    SORT l BY nothere_*
    SORT l BY w_* GET #
    SORT l BY w_* GET w_* GET #
    SORT l GET w_*
    SORT l GET nothere_*
    SORT l GET nostar
    SORT l GET # GET #
    HSET h_1 f c n 3
    HSET h_2 f a n 1
    HSET h_3 f b n 2
    SORT l BY h_*->n
    SORT l BY h_*->f ALPHA
    SORT l BY h_*->f ALPHA DESC
    SORT l BY h_*->f ALPHA GET h_*->f GET #
    SORT l GET h_*->n GET h_*->missing GET w_*->f
    SORT l BY h_*-> GET h_*->
    SORT l BY w_*->f
    SET w_2 notanumber
    SORT l BY w_*
    SORT l BY w_* ALPHA
    RPUSH m a b c
    SORT m
    SORT m ALPHA
    SORT m BY nosort
    SORT m BY w_*
    SORT m BY nothere_*
    SORT m BY nothere_* ALPHA
    MSET x_a 2 x_b 1 x_c 2
    SORT m BY x_*
    SORT m BY x_* DESC
""")

# Redis reads SORT scores with strtod and tests a stale errno: after an overflow
# (ERANGE) every later non-integer score fails until something resets errno.
# The overflow cases come last and INCRBYFLOAT (which clears errno) follows them.
NUMBERS = cmds("""
    RPUSH f 1.5 -inf inf 1e3 0x10 +7 .5 5. -0 0
    SORT f
    SORT f DESC
    RPUSH h ''
    SORT h
    RPUSH j nan
    SORT j
    RPUSH k 1_0
    SORT k
    RPUSH n 3 03 3.0
    SORT n
    SORT n DESC
    RPUSH g 1e400
    SORT g
    INCRBYFLOAT errno_reset 0
    RPUSH i 1e-400
    SORT i
    INCRBYFLOAT errno_reset 0
""")

STORE = cmds("""
    RPUSH l 3 1 2
    SORT l STORE dst
    LRANGE dst 0 -1
    TYPE dst
    SORT l DESC STORE dst
    LRANGE dst 0 -1
    MSET g_1 a g_3 c
    SORT l GET g_* GET # STORE dst
    LRANGE dst 0 -1
    SORT l LIMIT 5 5 STORE dst
    EXISTS dst
    SORT missing STORE dst
    SET dst string
    SORT l STORE dst
    TYPE dst
    SORT l STORE a STORE b
    EXISTS a b
    SORT_RO l
    SORT_RO l DESC LIMIT 0 2
    SORT_RO l STORE dst
    SORT_RO l GET #
""")

SETS = cmds("""
    SADD s 5 3 9 1
    SORT s
    SORT s DESC
    SORT s BY nosort
    SORT s BY nosort STORE dst
    LRANGE dst 0 -1
    SORT s LIMIT 1 2
    SADD t b a c
    SORT t ALPHA
    SORT t BY nosort STORE dst
    LRANGE dst 0 -1
    SORT t
""")

GROUPS = {"lists": LISTS, "by_and_get": BY_AND_GET, "numbers": NUMBERS, "store": STORE, "sets": SETS}


@pytest.mark.parametrize("resp3", [False, True])
@pytest.mark.parametrize("group", list(GROUPS))
def test_replies_match_redis(raw, raw_redis, group, resp3):
    run_both(raw, raw_redis, GROUPS[group], resp3)


def _has_zsets(port) -> bool:
    c = Raw(port)
    try:
        return not c.call("ZADD", "__probe__", "1", "a").startswith(b"-ERR unknown")
    finally:
        c.call("DEL", "__probe__")
        c.close()


def test_sort_sorted_sets(ember, raw, raw_redis):
    if not _has_zsets(ember.port):
        pytest.skip("sorted sets are not available")
    run_both(raw, raw_redis, cmds("""
        ZADD z 3 c 1 a 2 b 5 e 4 d
        SORT z BY nosort
        SORT z BY nosort DESC
        SORT z BY nosort LIMIT 1 2
        SORT z BY nosort DESC LIMIT 1 2
        SORT z ALPHA
        SORT z ALPHA DESC LIMIT 0 2
        SORT z BY nosort STORE dst
        LRANGE dst 0 -1
        ZADD n 1 10 2 9 3 8
        SORT n
        SORT n BY nosort
    """))


def test_command_getkeys(raw, raw_redis):
    run_both(raw, raw_redis, cmds("""
        COMMAND GETKEYS SORT a
        COMMAND GETKEYS SORT a STORE b
        COMMAND GETKEYS SORT a STORE b STORE c
        COMMAND GETKEYS SORT a LIMIT 0 1 GET x BY y STORE b
        COMMAND GETKEYS SORT a GET store STORE c
        COMMAND GETKEYS SORT_RO a GET x
        COMMAND GETKEYS LMPOP 2 a b LEFT
        COMMAND GETKEYS BLMPOP 0 2 a b LEFT
        COMMAND GETKEYS SINTERCARD 2 a b LIMIT 1
    """))


def test_sortstore_events_match_redis(ember, real_redis, r, rr):
    commands = cmds("""
        RPUSH l 2 1
        SORT l STORE dst
        SORT missing STORE dst
        SORT missing STORE dst
    """)
    assert collect_events(ember.port, commands) == collect_events(real_redis.port, commands)
