"""Geo math: checked against known Redis replies and, when a redis-server
binary is available, differentially against a throwaway real server."""

from __future__ import annotations

import bisect
import math
import random
import shutil
import socket
import subprocess
import time

import pytest

from emberkv.datatypes import geo

PALERMO = (13.361389, 38.115556)
CATANIA = (15.087269, 37.502669)


# ---------------------------------------------------------------- offline


def test_known_redis_values():
    palermo = geo.encode(*PALERMO)
    catania = geo.encode(*CATANIA)
    assert palermo == 3479099956230698
    assert geo.geohash_string(palermo) == b"sqc8b49rny0"
    assert geo.geohash_string(catania) == b"sqdtr74hyu0"
    lon, lat = geo.decode(palermo)
    assert geo.format_coordinate(lon) == b"13.36138933897018433"
    assert geo.format_coordinate(lat) == b"38.11555639549629859"
    meters = geo.distance(*geo.decode(palermo), *geo.decode(catania))
    assert geo.format_distance(meters) == b"166274.1516"
    assert geo.format_distance(meters / geo.UNITS[b"km"]) == b"166.2742"


def test_limits_and_units():
    assert geo.validate(180, geo.LAT_MAX) and geo.validate(-180, geo.LAT_MIN)
    assert not geo.validate(180.0000001, 0) and not geo.validate(0, 85.05112879)
    assert not geo.validate(math.nan, 0)
    with pytest.raises(ValueError):
        geo.encode(0, 86)
    assert geo.UNITS == {b"m": 1.0, b"km": 1000.0, b"ft": 0.3048, b"mi": 1609.34}


def test_upper_limit_encodes_past_the_grid():
    # Redis stores (180, LAT_MAX) as 3 * 2**52 and reports it clamped.
    score = geo.encode(180, geo.LAT_MAX)
    assert score == 13510798882111488
    assert geo.decode(score) == (180.0, geo.LAT_MAX)
    assert geo.encode(-180, geo.LAT_MIN) == 0


@pytest.mark.parametrize("score, position, hash_", [
    (-1, (b"180", b"85.0511287799999991"), b"bp05b5048p0"),
    (1e19, (b"180", b"85.0511287799999991"), b"bp05b5048p0"),
    (math.inf, (b"-179.99999731779098511", b"-85.05112751263942528"), b"00bh0hbj200"),
    (-math.inf, (b"180", b"-85.05112751263942528"), b"00bh0hbj200"),
    (1.5, (b"-179.99999731779098511", b"-85.05112497791824921"), b"00bh0hbj210"),
    (2.0**64, (b"-179.99999731779098511", b"-85.05112751263942528"), b"00bh0hbj200"),
])
def test_non_geo_scores_decode_like_redis(score, position, hash_):
    # Replies recorded from redis-server 7.0.15 after ZADD of these scores.
    assert tuple(geo.format_coordinate(c) for c in geo.decode(score)) == position
    assert geo.geohash_string(score) == hash_


def test_formatting():
    assert geo.format_distance(0.0) == b"0.0000"
    assert geo.format_distance(-0.0) == b"0.0000"
    assert geo.format_distance(1e-9) == b"0.0000"
    assert geo.format_distance(0.5) == b"0.5000"
    assert geo.format_distance(12345.67891) == b"12345.6789"
    assert geo.format_distance(math.nan) == b"-922337203685477.5808"
    assert geo.format_coordinate(-0.0) == b"0"
    assert geo.format_coordinate(-180.0) == b"-180"
    assert geo.format_coordinate(0.5) == b"0.5"


def test_search_ranges_shape_arguments():
    with pytest.raises(TypeError):
        geo.search_ranges(0, 0)
    with pytest.raises(TypeError):
        geo.search_ranges(0, 0, radius=1, width=1, height=1)
    with pytest.raises(TypeError):
        geo.within(0, 0, 0, 0, width=1)


def test_zero_radius_scans_the_centre_cell_only():
    score = geo.encode(*PALERMO)
    assert geo.search_ranges(*PALERMO, radius=0) == [(score, score + 1)]
    assert geo.within(*PALERMO, *geo.decode(score), radius=0) is None
    assert geo.within(*geo.decode(score), *geo.decode(score), radius=0) == 0.0


def test_huge_radius_collapses_to_the_four_top_level_cells():
    # At step 1 the eight neighbours wrap onto three cells, each repeated
    # back to back, and Redis skips a repeat of the range it just scanned.
    ranges = geo.search_ranges(0, 0, radius=20000, to_meters=1000)
    assert sorted(ranges) == [(i << 50, (i + 1) << 50) for i in range(4)]


def test_box_within_checks_latitude_then_longitude():
    one_deg_lat = geo.EARTH_RADIUS_M * math.pi / 180
    assert geo.within(0, 0, 0, 0.9, width=1, height=2 * one_deg_lat) is not None
    assert geo.within(0, 0, 0, 1.1, width=1, height=2 * one_deg_lat) is None
    assert geo.within(0, 0, 0.9, 0, width=2 * one_deg_lat, height=1) is not None
    assert geo.within(0, 0, 1.1, 0, width=2 * one_deg_lat, height=1) is None


# ---------------------------------------------------------------- against Redis


class _Redis:
    """Minimal raw RESP2 client, so replies are the exact bytes Redis sends."""

    def __init__(self, port: int):
        hiredis = pytest.importorskip("hiredis")
        self._sock = socket.create_connection(("127.0.0.1", port))
        self._reader = hiredis.Reader()

    @staticmethod
    def _encode(args) -> bytes:
        parts = [b"*%d\r\n" % len(args)]
        for arg in args:
            if not isinstance(arg, bytes):
                arg = arg.encode() if isinstance(arg, str) else repr(arg).encode()
            parts.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
        return b"".join(parts)

    def pipeline(self, commands):
        self._sock.sendall(b"".join(self._encode(c) for c in commands))
        replies = []
        while len(replies) < len(commands):
            reply = self._reader.gets()
            if reply is False:
                self._receive()
                continue
            if isinstance(reply, Exception):
                raise reply
            replies.append(reply)
        return replies

    def _receive(self):
        data = self._sock.recv(1 << 20)
        if not data:
            raise ConnectionError("redis closed the connection")
        self._reader.feed(data)

    def __call__(self, *args):
        return self.pipeline([args])[0]

    def close(self):
        self._sock.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def redis():
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server not installed")
    port = _free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--daemonize", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                client = _Redis(port)
                if client("PING") == b"PONG":
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.skip("redis-server did not start")
                time.sleep(0.05)
        yield client
        client.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# Places where the grid, the wrap-around or the latitude tweaks get interesting.
HOTSPOTS = [
    (0.0, 0.0), (13.36, 38.11), (179.99, 10.0), (-179.995, -30.0), (180.0, 0.0),
    (-180.0, 45.0), (10.0, 84.9), (-120.0, -85.0), (45.0, 70.0), (0.0, 66.01),
    (90.0, -80.5), (180.0, geo.LAT_MAX), (-180.0, geo.LAT_MIN), (-0.0001, 0.0001),
    (30.0, -80.01), (-60.0, 79.99), (120.0, -66.02), (-150.0, -45.0),
]


def _clip(lon: float, lat: float) -> tuple[float, float]:
    if lon > 180:
        lon -= 360
    elif lon < -180:
        lon += 360
    return lon, min(max(lat, geo.LAT_MIN), geo.LAT_MAX)


def _random_points(rng: random.Random) -> list[tuple[float, float]]:
    points = [(rng.uniform(-180, 180), rng.uniform(geo.LAT_MIN, geo.LAT_MAX)) for _ in range(150)]
    for lon, lat in HOTSPOTS:
        for _ in range(30):
            spread = 10 ** rng.uniform(-5, 0.7)
            points.append(_clip(lon + rng.gauss(0, spread), lat + rng.gauss(0, spread)))
    points += [(180.0, geo.LAT_MAX), (-180.0, geo.LAT_MIN), (180.0, geo.LAT_MIN),
               (-180.0, geo.LAT_MAX), (0.0, 0.0)]
    return points


@pytest.fixture(scope="module")
def geoset(redis):
    """Points added with GEOADD; returns {member: score} as computed locally."""
    rng = random.Random(20240607)
    points = _random_points(rng)
    redis("DEL", "pts")
    args = ["GEOADD", "pts"]
    members = {}
    for i, (lon, lat) in enumerate(points):
        member = b"p%d" % i
        args += [lon, lat, member]
        members[member] = geo.encode(lon, lat)
    assert redis(*args) == len(points)
    return members


def test_scores_positions_and_hashes_match(redis, geoset):
    members = geoset
    names = list(members)
    scores = redis.pipeline([("ZSCORE", "pts", m) for m in names])
    assert [int(s) for s in scores] == [members[m] for m in names]
    positions = redis("GEOPOS", "pts", *names)
    for name, (lon_reply, lat_reply) in zip(names, positions):
        lon, lat = geo.decode(members[name])
        assert (geo.format_coordinate(lon), geo.format_coordinate(lat)) == (lon_reply, lat_reply)
        assert (float(lon_reply), float(lat_reply)) == pytest.approx((lon, lat), abs=1e-15)
    hashes = redis("GEOHASH", "pts", *names)
    assert hashes == [geo.geohash_string(members[m]) for m in names]


def test_arbitrary_scores_decode_like_redis(redis):
    rng = random.Random(7)
    scores = [rng.uniform(-1e20, 1e20) for _ in range(50)] + [rng.uniform(0, 2**53) for _ in range(50)]
    scores += [-1.0, -0.5, 2.0**52, 2.0**53 - 1, 2.0**63, 2.0**64, math.inf, -math.inf]
    args = ["ZADD", "raw"]
    for i, score in enumerate(scores):
        args += [score, b"s%d" % i]
    redis("DEL", "raw")
    redis(*args)
    names = [b"s%d" % i for i in range(len(scores))]
    positions = redis("GEOPOS", "raw", *names)
    expected = [[geo.format_coordinate(c) for c in geo.decode(s)] for s in scores]
    assert positions == expected
    assert redis("GEOHASH", "raw", *names) == [geo.geohash_string(s) for s in scores]


def test_distances_match_for_every_unit(redis, geoset):
    members = geoset
    names = sorted(members)
    rng = random.Random(99)
    pairs = [tuple(rng.sample(names, 2)) for _ in range(300)]
    commands = [("GEODIST", "pts", a, b, unit) for a, b in pairs for unit in geo.UNITS]
    replies = redis.pipeline(commands)
    for (_, _, a, b, unit), reply in zip(commands, replies):
        meters = geo.distance(*geo.decode(members[a]), *geo.decode(members[b]))
        assert geo.format_distance(meters / geo.UNITS[unit]) == reply, (a, b, unit)


def test_antipodal_distances_match(redis):
    rng = random.Random(3)
    args = ["GEOADD", "anti"]
    pairs = []
    for i in range(200):
        lon, lat = rng.uniform(-180, 0), rng.uniform(-85, 85)
        args += [lon, lat, b"a%d" % i, lon + 180, -lat, b"b%d" % i]
        pairs.append((b"a%d" % i, b"b%d" % i))
    redis("DEL", "anti")
    redis(*args)
    replies = redis.pipeline([("GEODIST", "anti", a, b) for a, b in pairs])
    scores = redis.pipeline([("ZSCORE", "anti", m) for pair in pairs for m in pair])
    for i, reply in enumerate(replies):
        a, b = int(scores[2 * i]), int(scores[2 * i + 1])
        assert geo.format_distance(geo.distance(*geo.decode(a), *geo.decode(b))) == reply


def _local_search(members_by_score, lon, lat, shape, to_meters):
    """Scan like GEOSEARCH: ranges, then the within() predicate per point.

    Without ASC/DESC Redis replies in scan order, so comparing the ordered
    lists also checks which cells were chosen and in what order."""
    scores = [s for s, _ in members_by_score]
    found = []
    for low, high in geo.search_ranges(lon, lat, to_meters=to_meters, **shape):
        start = bisect.bisect_left(scores, low)
        stop = bisect.bisect_left(scores, high)
        for score, member in members_by_score[start:stop]:
            dist = geo.within(lon, lat, *geo.decode(score), to_meters=to_meters, **shape)
            if dist is not None:
                found.append([member, geo.format_distance(dist / to_meters)])
    return found


def _random_queries(rng: random.Random, members):
    names = sorted(members)
    for _ in range(2000):
        pick = rng.random()
        if pick < 0.45:
            lon, lat = rng.choice(HOTSPOTS)
            spread = 10 ** rng.uniform(-4, 0.5)
            origin = ("FROMLONLAT",) + _clip(lon + rng.gauss(0, spread), lat + rng.gauss(0, spread))
        elif pick < 0.7:
            origin = ("FROMMEMBER", rng.choice(names))
        elif pick < 0.8:
            origin = ("FROMLONLAT", rng.choice(HOTSPOTS)[0], rng.choice([geo.LAT_MAX, geo.LAT_MIN, 0.0]))
        else:
            origin = ("FROMLONLAT", rng.uniform(-180, 180), rng.uniform(geo.LAT_MIN, geo.LAT_MAX))
        unit = rng.choice(list(geo.UNITS))
        to_meters = geo.UNITS[unit]
        if rng.random() < 0.5:
            radius = 0.0 if rng.random() < 0.03 else 10 ** rng.uniform(-1, 7.4) / to_meters
            yield origin, ("BYRADIUS", radius, unit), {"radius": radius}, to_meters
        else:
            width = 10 ** rng.uniform(-1, 7.6) / to_meters
            height = width * 10 ** rng.uniform(-2, 2) if rng.random() < 0.8 else 10 ** rng.uniform(-1, 7.3)
            yield origin, ("BYBOX", width, height, unit), {"width": width, "height": height}, to_meters


def test_area_searches_match(redis, geoset):
    members = geoset
    by_score = sorted((score, member) for member, score in members.items())
    queries = list(_random_queries(random.Random(424242), members))
    replies = redis.pipeline([("GEOSEARCH", "pts", *origin, *by, "WITHDIST")
                              for origin, by, _, _ in queries])
    nonempty = 0
    for (origin, by, shape, to_meters), reply in zip(queries, replies):
        if origin[0] == "FROMMEMBER":
            lon, lat = geo.decode(members[origin[1]])
        else:
            lon, lat = origin[1], origin[2]
        assert _local_search(by_score, lon, lat, shape, to_meters) == reply, (origin, by)
        nonempty += bool(reply)
    assert nonempty > len(queries) // 2  # the comparison is not vacuous


def test_search_from_the_upper_corner_matches(redis, geoset):
    members = geoset
    by_score = sorted((score, member) for member, score in members.items())
    for radius in (0.0, 1.0, 1000.0, 5e5, 5e6):
        reply = redis("GEOSEARCH", "pts", "FROMLONLAT", 180.0, geo.LAT_MAX,
                      "BYRADIUS", radius, "m", "WITHDIST")
        assert _local_search(by_score, 180.0, geo.LAT_MAX, {"radius": radius}, 1.0) == reply


def test_same_longitude_uses_the_latitude_shortcut(redis):
    # Redis skips haversine when the longitudes match; the full formula is
    # often an ulp longer, which would drop a point lying exactly on the rim.
    rng = random.Random(11)
    commands, expected = [], []
    for i in range(200):
        lon, lat = geo.decode(geo.encode(rng.uniform(-180, 180), rng.uniform(-85, 85)))
        plat = geo.decode(geo.encode(lon, rng.uniform(-85, 85)))[1]
        rim = geo.distance(lon, lat, lon, plat)
        key = "rim%d" % i
        commands += [("DEL", key), ("GEOADD", key, lon, plat, "p"),
                     ("GEOSEARCH", key, "FROMLONLAT", lon, lat, "BYRADIUS", rim, "m")]
        expected.append([b"p"] if geo.within(lon, lat, lon, plat, radius=rim) is not None else [])
    replies = redis.pipeline(commands)[2::3]
    assert replies == expected
    assert all(expected)


@pytest.mark.parametrize("by, shape", [
    (("BYRADIUS", "inf", "m"), {"radius": math.inf}),
    (("BYRADIUS", 1e300, "km"), {"radius": 1e300}),
    (("BYBOX", "inf", 1.0, "m"), {"width": math.inf, "height": 1.0}),
    (("BYBOX", 1e300, 1e300, "mi"), {"width": 1e300, "height": 1e300}),
    (("BYBOX", 4e7, 4e7, "m"), {"width": 4e7, "height": 4e7}),
])
def test_extreme_shapes_match(redis, geoset, by, shape):
    members = geoset
    by_score = sorted((score, member) for member, score in members.items())
    to_meters = geo.UNITS[by[-1].encode()]
    for lon, lat in [(10.0, 10.0), (-10.0, -10.0), (0.0, 0.0)]:
        reply = redis("GEOSEARCH", "pts", "FROMLONLAT", lon, lat, *by, "WITHDIST")
        assert _local_search(by_score, lon, lat, shape, to_meters) == reply
