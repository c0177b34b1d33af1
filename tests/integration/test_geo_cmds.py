"""Geo commands over TCP, compared byte for byte with a real Redis 7.0 where possible."""

from __future__ import annotations

import random
import time

import pytest

from tests.conftest import Raw, start_emberkv

SICILY = [b"13.361389", b"38.115556", b"Palermo", b"15.087269", b"37.502669", b"Catania"]


def same(raw, raw_redis, *args) -> bytes:
    mine, theirs = raw.call(*args), raw_redis.call(*args)
    assert mine == theirs, (args, mine, theirs)
    return mine


def on_both(raw, raw_redis, *args) -> None:
    raw.call(*args)
    raw_redis.call(*args)


@pytest.fixture
def sicily(raw, raw_redis):
    same(raw, raw_redis, "GEOADD", "Sicily", *SICILY)


# --- GEOADD ------------------------------------------------------------------------------------

def test_geoadd_replies_and_options(raw, raw_redis):
    assert same(raw, raw_redis, "GEOADD", "k", *SICILY) == b":2\r\n"
    assert same(raw, raw_redis, "GEOADD", "k", "13.361389", "38.115556", "Palermo") == b":0\r\n"
    same(raw, raw_redis, "GEOADD", "k", "CH", "13.4", "38.1", "Palermo", "1", "1", "new")
    same(raw, raw_redis, "GEOADD", "k", "NX", "CH", "0", "0", "Palermo", "2", "2", "other")
    same(raw, raw_redis, "GEOADD", "k", "XX", "5", "5", "Palermo", "3", "3", "absent")
    same(raw, raw_redis, "GEOADD", "k", "xx", "ch", "6", "6", "Palermo")
    same(raw, raw_redis, "ZRANGE", "k", "0", "-1", "WITHSCORES")
    same(raw, raw_redis, "GEOADD", "nokey", "XX", "1", "1", "a")
    assert same(raw, raw_redis, "EXISTS", "nokey") == b":0\r\n"


@pytest.mark.parametrize("args", [
    ["NX", "XX", "1", "2", "m"], ["XX", "NX", "CH", "1", "2", "m"], ["CH", "1", "2"], ["1", "2", "m", "3"],
    ["GT", "1", "2", "m"], ["CH", "NX", "XX"], ["200", "2", "m"], ["1", "86", "m"], ["-180.0001", "0", "m"],
    ["inf", "0", "m"], ["-inf", "-inf", "m"], ["x", "0", "m"], ["0", "nan", "m"], ["1", " 2", "m"],
    ["1", "1", "a", "500", "1", "b"], ["180", "85.05112878", "corner"], ["-180", "-85.05112878", "corner"],
])
def test_geoadd_errors_and_limits(raw, raw_redis, args):
    same(raw, raw_redis, "GEOADD", "k", *args)
    same(raw, raw_redis, "ZRANGE", "k", "0", "-1", "WITHSCORES")


def test_geoadd_wrong_type(raw, raw_redis):
    on_both(raw, raw_redis, "SET", "s", "v")
    same(raw, raw_redis, "GEOADD", "s", "1", "1", "m")
    # Coordinates are checked before the key's type.
    same(raw, raw_redis, "GEOADD", "s", "1", "100", "m")


# --- GEOPOS / GEODIST / GEOHASH -----------------------------------------------------------

def test_geopos_geohash_geodist(raw, raw_redis, sicily):
    same(raw, raw_redis, "GEOPOS", "Sicily", "Palermo", "nope", "Catania")
    same(raw, raw_redis, "GEOPOS", "nokey", "a", "b")
    same(raw, raw_redis, "GEOPOS", "Sicily")
    same(raw, raw_redis, "GEOHASH", "Sicily", "Palermo", "nope", "Catania")
    same(raw, raw_redis, "GEOHASH", "Sicily")
    same(raw, raw_redis, "GEOHASH", "nokey", "a")
    for unit in ([], ["m"], ["KM"], ["ft"], ["Mi"]):
        same(raw, raw_redis, "GEODIST", "Sicily", "Palermo", "Catania", *unit)
    same(raw, raw_redis, "GEODIST", "Sicily", "Palermo", "Palermo")
    same(raw, raw_redis, "GEODIST", "Sicily", "Palermo", "nope")
    same(raw, raw_redis, "GEODIST", "nokey", "Palermo", "Catania")
    same(raw, raw_redis, "GEODIST", "Sicily", "Palermo", "Catania", "yards")
    same(raw, raw_redis, "GEODIST", "Sicily", "Palermo", "Catania", "km", "extra")
    # The unit is checked before the key exists or has the right type.
    on_both(raw, raw_redis, "SET", "s", "v")
    same(raw, raw_redis, "GEODIST", "s", "a", "b", "yards")
    same(raw, raw_redis, "GEODIST", "s", "a", "b")
    same(raw, raw_redis, "GEOPOS", "s", "a")
    same(raw, raw_redis, "GEOHASH", "s", "a")


def test_known_values(r):
    r.geoadd("Sicily", [13.361389, 38.115556, "Palermo", 15.087269, 37.502669, "Catania"])
    assert r.geodist("Sicily", "Palermo", "Catania") == pytest.approx(166274.1516)
    assert r.geohash("Sicily", "Palermo", "Catania") == ["sqc8b49rny0", "sqdtr74hyu0"]
    assert r.geopos("Sicily", "Palermo", "nope") == [(13.36138933897018433, 38.11555639549629859), None]


def test_non_geo_scores_decode_like_redis(raw, raw_redis):
    for score, member in (("-1", "neg"), ("1e19", "big"), ("inf", "inf"), ("-inf", "ninf"), ("0.5", "half")):
        on_both(raw, raw_redis, "ZADD", "z", score, member)
    same(raw, raw_redis, "GEOPOS", "z", "neg", "big", "inf", "ninf", "half")
    same(raw, raw_redis, "GEOHASH", "z", "neg", "big", "inf", "ninf", "half")
    same(raw, raw_redis, "GEODIST", "z", "inf", "ninf")
    same(raw, raw_redis, "GEOSEARCH", "z", "FROMMEMBER", "inf", "BYRADIUS", "100", "km", "WITHHASH", "WITHCOORD")
    same(raw, raw_redis, "GEORADIUS", "z", "180", "85", "500", "km", "WITHHASH", "WITHDIST")


def test_resp3_coordinates_are_doubles(raw, raw_redis, sicily):
    on_both(raw, raw_redis, "HELLO", "3")
    reply = same(raw, raw_redis, "GEOPOS", "Sicily", "Palermo", "nope")
    assert reply == b"*2\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n_\r\n"
    same(raw, raw_redis, "GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km",
         "WITHCOORD", "WITHDIST", "WITHHASH")
    same(raw, raw_redis, "GEODIST", "Sicily", "Palermo", "Catania")
    same(raw, raw_redis, "GEODIST", "Sicily", "Palermo", "nope")


def test_redis_py_resp3(r3):
    r3.geoadd("Sicily", [13.361389, 38.115556, "Palermo"])
    assert r3.execute_command("GEOPOS", "Sicily", "Palermo") == [[13.361389338970184, 38.1155563954963]]


# --- searches ------------------------------------------------------------------------------------

SEARCHES = [
    ["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "ASC"],
    ["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "WITHCOORD", "WITHDIST", "WITHHASH"],
    ["GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYBOX", "400", "400", "km", "DESC", "WITHDIST"],
    ["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "200", "200", "mi", "COUNT", "1"],
    ["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "COUNT", "1", "ANY"],
    ["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "m"],
    ["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "0", "m"],
    ["GEOSEARCH", "Sicily", "FROMLONLAT", "0", "0", "BYRADIUS", "20000", "km", "withdist"],
    ["GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST", "WITHCOORD", "COUNT", "5", "DESC"],
    ["GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "WITHHASH"],
    ["GEORADIUSBYMEMBER", "Sicily", "Palermo", "200", "km", "WITHDIST"],
    ["GEORADIUSBYMEMBER_RO", "Sicily", "Catania", "100", "mi", "ASC", "WITHDIST"],
]


@pytest.mark.parametrize("args", SEARCHES)
def test_search_replies(raw, raw_redis, sicily, args):
    same(raw, raw_redis, *args)


@pytest.mark.parametrize("args", [
    # every error of georadiusGeneric, in Redis's order
    ["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "BYBOX", "1", "1", "m"],
    ["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "m"],
    ["GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "m"],
    ["GEOSEARCH", "Sicily", "BYRADIUS", "200", "km", "ASC"],
    ["geoSearch", "Sicily", "BYRADIUS", "200", "km", "ASC"],
    ["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "ASC"],
    ["geosearch", "Sicily", "FROMLONLAT", "15", "37", "ASC"],
    ["GEOSEARCH", "Sicily", "FROMMEMBER", "nope", "BYRADIUS", "200", "km"],
    ["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "COUNT", "0"],
    ["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "COUNT", "-3"],
    ["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "COUNT", "x"],
    ["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "COUNT"],
    ["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "ANY"],
    ["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "STORE", "x"],
    ["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "STOREDIST"],
    ["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "-1", "km"],
    ["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "x", "km"],
    ["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "yd"],
    ["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "-1", "1", "km"],
    ["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "x", "1", "km"],
    ["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "1", "x", "km"],
    ["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "1", "1", "yd"],
    ["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "1", "1"],
    ["GEOSEARCH", "Sicily", "FROMLONLAT", "190", "37", "BYBOX", "1", "1", "m"],
    ["GEOSEARCH", "Sicily", "FROMLONLAT", "x", "37", "BYBOX", "1", "1", "m"],
    ["GEOSEARCH", "nokey", "FROMMEMBER", "nope", "BYRADIUS", "1", "m"],
    ["GEOSEARCH", "nokey", "FROMMEMBER", "nope", "ASC", "ANY"],
    ["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "m", "WITHDIST", "foo"],
    ["GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "WITHDIST"],
    ["GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "STORE", "x"],
    ["GEOSEARCHSTORE", "dst", "nokey", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "WITHHASH"],
    ["GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST", "STORE", "x"],
    ["GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE"],
    ["GEORADIUS", "Sicily", "15", "37", "200", "km", "FROMMEMBER", "Palermo"],
    ["GEORADIUS", "Sicily", "15", "37", "200", "km", "BYBOX", "1", "1", "m"],
    ["GEORADIUS", "Sicily", "15", "100", "200", "km"],
    ["GEORADIUS", "Sicily", "15", "37", "-200", "km"],
    ["GEORADIUS", "Sicily", "15", "37", "200", "lightyear"],
    ["GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "STORE", "x"],
    ["GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "STOREDIST", "x"],
    ["GEORADIUSBYMEMBER", "Sicily", "nope", "x", "km"],
    ["GEORADIUSBYMEMBER", "Sicily", "Palermo", "x", "km"],
    ["GEORADIUSBYMEMBER", "nokey", "nope", "x", "whatever", "WITHDIST"],
    ["GEORADIUSBYMEMBER", "nokey", "nope", "x", "whatever", "BOGUS"],
    ["GEORADIUSBYMEMBER_RO", "Sicily", "Palermo", "1", "km", "STORE", "x"],
])
def test_search_errors(raw, raw_redis, sicily, args):
    same(raw, raw_redis, *args)
    same(raw, raw_redis, "KEYS", "*")


def test_search_wrong_type_comes_first(raw, raw_redis):
    on_both(raw, raw_redis, "SET", "s", "v")
    same(raw, raw_redis, "GEOSEARCH", "s", "BOGUS")
    same(raw, raw_redis, "GEORADIUS", "s", "1000", "1000", "x", "y")
    same(raw, raw_redis, "GEORADIUSBYMEMBER", "s", "m", "x", "y")
    same(raw, raw_redis, "GEOSEARCHSTORE", "dst", "s", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "m")


def test_missing_source(raw, raw_redis):
    on_both(raw, raw_redis, "SET", "dst", "old")
    same(raw, raw_redis, "GEOSEARCH", "nokey", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "m")
    same(raw, raw_redis, "GEORADIUSBYMEMBER", "nokey", "a", "1", "m")
    assert same(raw, raw_redis, "GEOSEARCHSTORE", "dst", "nokey", "FROMMEMBER", "a", "BYRADIUS", "1",
                "m") == b":0\r\n"
    assert same(raw, raw_redis, "EXISTS", "dst") == b":0\r\n"
    on_both(raw, raw_redis, "SET", "dst", "old")
    same(raw, raw_redis, "GEORADIUS", "nokey", "0", "0", "1", "m", "STOREDIST", "dst")
    assert same(raw, raw_redis, "EXISTS", "dst") == b":0\r\n"


# --- STORE / STOREDIST / GEOSEARCHSTORE ----------------------------------------------------

@pytest.mark.parametrize("args", [
    ["GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "dst"],
    ["GEORADIUS", "Sicily", "15", "37", "200", "km", "STOREDIST", "dst"],
    ["GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "other", "STOREDIST", "dst"],
    ["GEORADIUS", "Sicily", "15", "37", "200", "km", "STOREDIST", "dst", "COUNT", "1", "DESC"],
    ["GEORADIUSBYMEMBER", "Sicily", "Palermo", "200", "km", "STORE", "dst", "COUNT", "1"],
    ["GEORADIUSBYMEMBER", "Sicily", "Palermo", "1", "mi", "STOREDIST", "dst"],
    ["GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km"],
    ["GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km", "STOREDIST"],
    ["GEOSEARCHSTORE", "dst", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "m", "STOREDIST"],
    ["GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "m"],
])
def test_store_variants(raw, raw_redis, sicily, args):
    on_both(raw, raw_redis, "SET", "dst", "old")
    on_both(raw, raw_redis, "EXPIRE", "dst", "100")
    same(raw, raw_redis, *args)
    same(raw, raw_redis, "TYPE", "dst")
    same(raw, raw_redis, "ZRANGE", "dst", "0", "-1", "WITHSCORES")
    same(raw, raw_redis, "TTL", "dst")


def test_store_encoding_follows_config(raw, raw_redis):
    args = []
    for i in range(140):
        args += ["%.4f" % (10 + i * 0.001), "40", "m%d" % i]
    on_both(raw, raw_redis, "GEOADD", "big", *args)
    same(raw, raw_redis, "OBJECT", "ENCODING", "big")
    same(raw, raw_redis, "GEOSEARCHSTORE", "d1", "big", "FROMLONLAT", "10", "40", "BYRADIUS", "100", "km")
    same(raw, raw_redis, "OBJECT", "ENCODING", "d1")
    same(raw, raw_redis, "GEOSEARCHSTORE", "d2", "big", "FROMLONLAT", "10", "40", "BYRADIUS", "100", "km",
         "COUNT", "10")
    same(raw, raw_redis, "OBJECT", "ENCODING", "d2")
    same(raw, raw_redis, "ZRANGE", "d2", "0", "-1", "WITHSCORES")


# --- reply order: scan order and Redis's sorts ------------------------------------------------

def test_unsorted_order_is_the_scan_order(raw, raw_redis):
    rng = random.Random(7)
    args = []
    for i in range(300):
        args += ["%.6f" % rng.uniform(-5, 5), "%.6f" % rng.uniform(-5, 5), "p%d" % i]
    on_both(raw, raw_redis, "GEOADD", "pts", *args)
    for lon, lat, km in ((0, 0, 300), (4.9, -4.9, 100), (-2, 3, 50), (0.5, 0.5, 1000)):
        same(raw, raw_redis, "GEORADIUS", "pts", lon, lat, km, "km")
        same(raw, raw_redis, "GEOSEARCH", "pts", "FROMLONLAT", lon, lat, "BYBOX", km, km / 2, "km")
        same(raw, raw_redis, "GEOSEARCH", "pts", "FROMLONLAT", lon, lat, "BYBOX", km, km, "km", "COUNT", "7",
             "ANY")


def test_ties_follow_redis_sorts(raw, raw_redis):
    # Many members on few positions: equal distances everywhere.
    args = []
    for i in range(120):
        args += ["%.3f" % (1 + (i % 5) * 0.01), "%.3f" % (1 + (i % 3) * 0.01), "t%03d" % i]
    on_both(raw, raw_redis, "GEOADD", "ties", *args)
    for order in ("ASC", "DESC"):
        same(raw, raw_redis, "GEOSEARCH", "ties", "FROMLONLAT", "1", "1", "BYRADIUS", "50", "km", order)
        for n in (1, 5, 17, 40, 41, 100, 119, 120, 500):
            same(raw, raw_redis, "GEOSEARCH", "ties", "FROMLONLAT", "1.01", "1.01", "BYRADIUS", "50", "km",
                 order, "COUNT", n, "WITHDIST")
            same(raw, raw_redis, "GEORADIUS", "ties", "1", "1", "50", "km", "COUNT", n, order)
    same(raw, raw_redis, "GEORADIUS", "ties", "1", "1", "50", "km", "COUNT", "30")


def test_huge_radius_and_poles(raw, raw_redis):
    args = []
    for i, (lon, lat) in enumerate([(0, 0), (180, 0), (-180, 0), (90, 85), (-90, -85), (179.9999, 1),
                                    (-179.9999, -1), (0, 85.05112878), (0, -85.05112878), (45, 45)]):
        args += [lon, lat, "w%d" % i]
    on_both(raw, raw_redis, "GEOADD", "world", *args)
    for lon, lat in ((0, 0), (180, 0), (-179.5, 84), (10, -85)):
        for km in (1, 1000, 5000, 10000, 20000, 40000):
            same(raw, raw_redis, "GEORADIUS", "world", lon, lat, km, "km", "WITHDIST", "ASC")
            same(raw, raw_redis, "GEOSEARCH", "world", "FROMLONLAT", lon, lat, "BYBOX", km, km, "km",
                 "WITHDIST")


# --- metadata, events, propagation ------------------------------------------------------------

def test_command_info_and_getkeys(raw, raw_redis):
    for name in ("geoadd", "geopos", "geodist", "geohash", "georadius", "georadius_ro", "georadiusbymember",
                 "georadiusbymember_ro", "geosearch", "geosearchstore"):
        mine = raw.call("COMMAND", "INFO", name)
        theirs = raw_redis.call("COMMAND", "INFO", name)
        # Compare the head (name, arity, flags, key positions, ACL categories), not the key specs.
        assert mine.split(b"*0\r\n")[0] == theirs.split(b"*0\r\n")[0], name
    for args in (["georadius", "k", "1", "2", "3", "m", "store", "a", "storedist", "b"],
                 ["georadius", "k", "1", "2", "3", "m", "STORE", "a", "store", "b"],
                 ["georadius", "k", "1", "2", "3", "store", "a"],
                 ["georadius", "k", "1", "2", "3", "m", "store"],
                 ["georadiusbymember", "k", "m", "3", "m", "STOREDIST", "a"],
                 ["geosearchstore", "d", "s", "FROMMEMBER", "m", "BYRADIUS", "1", "m"]):
        same(raw, raw_redis, "COMMAND", "GETKEYS", *args)


def _events(port: int, commands) -> list:
    sub = Raw(port)
    sub.call("CONFIG", "SET", "notify-keyspace-events", "KEA")
    sub.call("PSUBSCRIBE", "__keyevent@*")
    c = Raw(port)
    for args in commands:
        c.call(*args)
    c.call("PUBLISH", "__keyevent@0__:end", "x")
    events = []
    while True:
        msg = sub.read_reply()
        parts = msg.split(b"\r\n")
        events.append((parts[6], parts[8]))
        if parts[6].endswith(b":end"):
            break
    sub.call("PUNSUBSCRIBE")
    sub.call("CONFIG", "SET", "notify-keyspace-events", "")
    sub.close()
    c.close()
    return events


def test_keyspace_events_match(ember, real_redis, r, rr):
    commands = [
        ["GEOADD", "g", *SICILY],
        ["GEOADD", "g", "13.361389", "38.115556", "Palermo"],
        ["GEOADD", "g", "XX", "1", "1", "absent"],
        ["GEOSEARCHSTORE", "d", "g", "FROMMEMBER", "Palermo", "BYRADIUS", "300", "km"],
        ["GEORADIUS", "g", "15", "37", "200", "km", "STORE", "d2"],
        ["GEORADIUSBYMEMBER", "g", "Palermo", "1", "m", "STOREDIST", "d3"],
        ["GEORADIUS", "g", "0", "0", "1", "m", "STORE", "d2"],
        ["GEOSEARCHSTORE", "d", "nokey", "FROMMEMBER", "Palermo", "BYRADIUS", "300", "km"],
    ]
    assert _events(ember.port, commands) == _events(real_redis.port, commands)


def test_watch_is_invalidated_by_store(r):
    r.geoadd("g", [13.361389, 38.115556, "Palermo"])
    p = r.pipeline()
    p.watch("dst")
    r.execute_command("GEOSEARCHSTORE", "dst", "g", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km")
    p.multi()
    p.set("dst", "x")
    with pytest.raises(Exception):
        p.execute()


def test_dirty_counter(r):
    def changes():
        return r.info("persistence")["rdb_changes_since_last_save"]
    base = changes()
    r.geoadd("g", [13.361389, 38.115556, "Palermo", 15.087269, 37.502669, "Catania"])
    assert changes() == base + 2
    r.geoadd("g", [13.361389, 38.115556, "Palermo"])
    assert changes() == base + 2
    assert r.execute_command("GEORADIUS", "g", "15", "37", "300", "km", "STORE", "d") == 2
    assert changes() == base + 4


def test_geoadd_propagates_as_zadd(tmp_path):
    srv = start_emberkv(extra=["--appendonly", "yes"], workdir=str(tmp_path))
    try:
        c = Raw(srv.port)
        c.call("GEOADD", "g", "CH", "13.361389", "38.115556", "Palermo")
        c.call("GEOADD", "g", "NX", "13.361389", "38.115556", "Palermo")  # no change: not propagated
        c.call("GEORADIUS", "g", "13", "38", "100", "km", "STORE", "d")
        c.close()
        deadline = time.time() + 5
        text = b""
        while time.time() < deadline and b"GEORADIUS" not in text:
            time.sleep(0.1)
            text = b"".join(p.read_bytes() for p in tmp_path.glob("appendonlydir/*.incr.aof"))
    finally:
        srv.stop()
    assert b"$4\r\nzadd\r\n$1\r\ng\r\n$2\r\nCH\r\n$16\r\n3479099956230698\r\n$7\r\nPalermo" in text
    assert b"GEOADD" not in text and text.count(b"zadd") == 1
    assert b"$9\r\nGEORADIUS\r\n" in text


def test_inside_multi(raw, raw_redis):
    for conn in (raw, raw_redis):
        conn.call("MULTI")
        conn.call("GEOADD", "g", *SICILY)
        conn.call("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "WITHDIST")
        conn.call("GEORADIUS", "g", "15", "37", "200", "km", "STOREDIST", "d")
        conn.call("GEOADD", "g", "500", "0", "bad")
    same(raw, raw_redis, "EXEC")


def test_large_set_search_is_fast(r):
    pipe = r.pipeline(transaction=False)
    rng = random.Random(3)
    for chunk in range(20):
        args = []
        for i in range(1000):
            args += [rng.uniform(-10, 10), rng.uniform(-10, 10), "p%d-%d" % (chunk, i)]
        pipe.geoadd("big", args)
    pipe.execute()
    t0 = time.perf_counter()
    found = r.execute_command("GEOSEARCH", "big", "FROMLONLAT", "0", "0", "BYRADIUS", "300", "km", "ASC",
                              "WITHDIST")
    assert found and time.perf_counter() - t0 < 5
    assert [float(d) for _, d in found] == sorted(float(d) for _, d in found)
