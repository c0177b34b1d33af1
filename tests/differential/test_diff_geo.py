"""Differential tests: random geo command sequences must give byte-identical replies on
EmberKV and on a real Redis 7.0 (RESP2 and RESP3).

Points cluster around a few centres (poles, the antimeridian, the equator) and repeat
positions under several names, so searches find many members at equal distances: the
reply order then depends on Redis's scan order and on its sorts (glibc's merge sort, or
pqsort when COUNT keeps fewer results than were found).
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

KEYS = [b"g", b"h"]
key = st.sampled_from(KEYS)
any_key = st.sampled_from(KEYS + [b"missing", b"str"])
dst_key = st.sampled_from([b"dst", b"g", b"str"])

CENTRES = [(13.361389, 38.115556), (0.0, 0.0), (179.95, 10.0), (-179.95, -10.0), (-100.0, 84.9),
           (45.0, -84.99), (-0.001, 51.5)]
centre = st.sampled_from(CENTRES)
offset = st.integers(-40, 40).map(lambda i: i / 100.0)


def _clip(lon: float, lat: float) -> tuple[float, float]:
    return max(-180.0, min(180.0, lon)), max(-85.05112878, min(85.05112878, lat))


point = st.builds(lambda c, dx, dy: _clip(c[0] + dx, c[1] + dy), centre, offset, offset)
NAMES = [b"m%d" % i for i in range(60)] + [b"", b"\xff", b"x y"]
name = st.sampled_from(NAMES)
coord_text = st.one_of(
    point.map(lambda p: (repr(p[0]).encode(), repr(p[1]).encode())),
    st.sampled_from([(b"180", b"85.05112878"), (b"-180", b"-85.05112878"), (b"181", b"0"), (b"0", b"86"),
                     (b"x", b"0"), (b"0", b""), (b"inf", b"0"), (b"1e-320", b"-0"), (b"0x10", b"1")]))
unit = st.sampled_from([b"m", b"km", b"KM", b"ft", b"mi", b"Mi", b"yd"])
radius = st.one_of(st.sampled_from([b"0", b"1", b"500", b"5000", b"50000", b"300000", b"7000000", b"20000000",
                                    b"-1", b"x", b"inf", b"1e-5"]),
                   st.integers(1, 200000).map(lambda i: b"%d" % i))
count = st.sampled_from([b"1", b"2", b"3", b"5", b"7", b"8", b"20", b"41", b"50", b"0", b"-1", b"x"])


def cmd(*parts):
    return tuple(p if isinstance(p, bytes) else str(p).encode() for p in parts)


def _geoadd(k, flags, entries):
    args = [b"GEOADD", k, *flags]
    for (lon, lat), m in entries:
        args += [lon, lat, m]
    return cmd(*args)


def _bulk_geoadd(k, c, pts):
    """Many points around one centre, reusing positions so that distances tie."""
    args = [b"GEOADD", k]
    for i, (dx, dy) in enumerate(pts):
        lon, lat = _clip(c[0] + dx, c[1] + dy)
        args += [repr(lon).encode(), repr(lat).encode(), b"m%d" % i]
    return cmd(*args)


search_opts = st.lists(st.one_of(
    st.sampled_from([(b"ASC",), (b"DESC",), (b"WITHDIST",), (b"WITHHASH",), (b"WITHCOORD",), (b"ANY",)]),
    count.map(lambda n: (b"COUNT", n))), max_size=4).map(lambda opts: [a for o in opts for a in o])
store_opts = st.lists(st.one_of(
    st.sampled_from([(b"ASC",), (b"DESC",), (b"ANY",), (b"STOREDIST",)]),
    count.map(lambda n: (b"COUNT", n))), max_size=3).map(lambda opts: [a for o in opts for a in o])
origin = st.one_of(
    st.builds(lambda p: (b"FROMLONLAT", repr(p[0]).encode(), repr(p[1]).encode()), point),
    st.builds(lambda m: (b"FROMMEMBER", m), name))
area = st.one_of(
    st.builds(lambda r, u: (b"BYRADIUS", r, u), radius, unit),
    st.builds(lambda w, h, u: (b"BYBOX", w, h, u), radius, radius, unit))

geo_command = st.one_of(
    st.builds(_geoadd, key, st.lists(st.sampled_from([b"NX", b"XX", b"CH"]), max_size=2, unique=True),
              st.lists(st.tuples(coord_text, name), min_size=1, max_size=4)),
    st.builds(_bulk_geoadd, key, centre,
              st.lists(st.sampled_from([(0.0, 0.0), (0.01, 0.0), (0.0, 0.01), (-0.01, 0.0), (0.02, 0.02),
                                        (0.5, -0.3), (-0.2, 0.1)]), min_size=10, max_size=60)),
    st.builds(lambda k, ms: cmd(b"GEOPOS", k, *ms), any_key, st.lists(name, min_size=1, max_size=3)),
    st.builds(lambda k, ms: cmd(b"GEOHASH", k, *ms), any_key, st.lists(name, max_size=3)),
    st.builds(lambda k, a, b, u: cmd(b"GEODIST", k, a, b, *u), any_key, name, name,
              st.sampled_from([(), (b"km",), (b"FT",), (b"mi",), (b"x",), (b"m", b"m")])),
    st.builds(lambda k, o, a, opts: cmd(b"GEOSEARCH", k, *o, *a, *opts), any_key, origin, area, search_opts),
    st.builds(lambda d, k, o, a, opts: cmd(b"GEOSEARCHSTORE", d, k, *o, *a, *opts),
              dst_key, any_key, origin, area, store_opts),
    st.builds(lambda c, k, p, r, u, opts: cmd(c, k, repr(p[0]).encode(), repr(p[1]).encode(), r, u, *opts),
              st.sampled_from([b"GEORADIUS", b"GEORADIUS_RO"]), any_key, point, radius, unit, search_opts),
    st.builds(lambda c, k, m, r, u, opts: cmd(c, k, m, r, u, *opts),
              st.sampled_from([b"GEORADIUSBYMEMBER", b"GEORADIUSBYMEMBER_RO"]), any_key, name, radius, unit,
              search_opts),
    st.builds(lambda c, k, p, r, u, s, d, opts: cmd(c, k, *p, r, u, s, d, *opts),
              st.sampled_from([b"GEORADIUS", b"GEORADIUSBYMEMBER"]), any_key,
              st.sampled_from([(b"13.36", b"38.11"), (b"m1",), (b"0", b"0"), (b"m3",)]), radius, unit,
              st.sampled_from([b"STORE", b"STOREDIST"]), dst_key, store_opts),
    st.builds(lambda k: cmd(b"ZRANGE", k, b"0", b"-1", b"WITHSCORES"), st.sampled_from([b"dst", b"g"])),
    st.builds(lambda k: cmd(b"OBJECT", b"ENCODING", k), st.sampled_from([b"dst", b"g"])),
    # Scores that are no geohash still decode (to odd places) like in Redis.
    st.builds(lambda k, s, m: cmd(b"ZADD", k, s, m), key,
              st.sampled_from([b"-1", b"1e19", b"inf", b"-inf", b"4503599627370496", b"0.5", b"4503599627370495"]),
              name),
    st.builds(lambda k, ms: cmd(b"ZREM", k, *ms), key, st.lists(name, min_size=1, max_size=3)),
)

# Option soups for the parser: errors must come out in Redis's order with Redis's texts.
TOKENS = [b"FROMMEMBER", b"FROMLONLAT", b"BYRADIUS", b"BYBOX", b"ASC", b"DESC", b"COUNT", b"ANY",
          b"WITHDIST", b"WITHHASH", b"WITHCOORD", b"STORE", b"STOREDIST", b"m1", b"m99", b"1", b"0",
          b"-1", b"x", b"km", b"200", b"13", b"38", b"91"]
soup = st.builds(lambda c, k, toks: cmd(c, *k, *toks),
                 st.sampled_from([b"GEOSEARCH", b"geosearch", b"GEOSEARCHSTORE", b"GEORADIUS", b"GEORADIUS_RO",
                                  b"GEORADIUSBYMEMBER", b"GEORADIUSBYMEMBER_RO"]),
                 st.sampled_from([(b"g",), (b"dst", b"g"), (b"missing",), (b"str",), (b"dst", b"missing")]),
                 st.lists(st.sampled_from(TOKENS), min_size=3, max_size=12))


def run_both(raw, raw_redis, commands, resp3: bool) -> None:
    setup = [cmd(b"SET", b"str", b"v"),
             cmd(b"GEOADD", b"g", b"13.361389", b"38.115556", b"m1", b"15.087269", b"37.502669", b"m2",
                 b"13.361389", b"38.115556", b"m3", b"0", b"0", b"m4")]
    for conn in (raw, raw_redis):
        conn.call(b"FLUSHALL")
        for c in setup:
            conn.call(*c)
        if resp3:
            conn.call(b"HELLO", b"3")
    for c in commands:
        mine, theirs = raw.call(*c), raw_redis.call(*c)
        assert mine == theirs, (c, mine[:400], theirs[:400])


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(commands=st.lists(geo_command, min_size=1, max_size=20), resp3=st.booleans())
def test_geo_sequences(raw, raw_redis, commands, resp3):
    run_both(raw, raw_redis, commands, resp3)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(commands=st.lists(soup, min_size=1, max_size=10))
def test_search_argument_errors(raw, raw_redis, commands):
    run_both(raw, raw_redis, commands, False)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(c=centre,
       pts=st.lists(st.tuples(st.integers(-3, 3), st.integers(-3, 3)), min_size=41, max_size=160),
       searches=st.lists(st.tuples(st.sampled_from([b"ASC", b"DESC"]), st.integers(1, 60),
                                   st.sampled_from([b"50", b"2000", b"100000"])), min_size=1, max_size=6))
def test_partial_sort_ties(raw, raw_redis, c, pts, searches):
    """COUNT below the number found: Redis's pqsort decides the order of equal distances."""
    args = [b"GEOADD", b"g"]
    for i, (dx, dy) in enumerate(pts):
        lon, lat = _clip(c[0] + dx * 0.003, c[1] + dy * 0.003)
        args += [repr(lon).encode(), repr(lat).encode(), b"p%d" % i]
    commands = [cmd(*args)]
    for order, n, r in searches:
        commands.append(cmd(b"GEOSEARCH", b"g", b"FROMLONLAT", repr(c[0]).encode(), repr(c[1]).encode(),
                            b"BYRADIUS", r, b"m", order, b"COUNT", n, b"WITHDIST"))
        commands.append(cmd(b"GEORADIUS", b"g", repr(c[0]).encode(), repr(c[1]).encode(), r, b"m",
                            b"COUNT", n, b"STOREDIST", b"dst"))
        commands.append(cmd(b"ZRANGE", b"dst", b"0", b"-1", b"WITHSCORES"))
    run_both(raw, raw_redis, commands, False)
