"""Geo commands (geo.c semantics, Redis 7.0).

A geo set is an ordinary sorted set whose scores are 52-bit geohashes; the
math lives in emberkv/datatypes/geo.py.  What this module adds is Redis's
command surface: argument parsing with the exact error order, the search
loop (cell ranges scanned in Redis's order, COUNT ANY stopping early), and
Redis's sorts -- glibc's merge sort for a full sort and its own partial
quicksort (pqsort.c) when COUNT keeps fewer results than were found, which
decides how equally distant members are ordered.
"""

from __future__ import annotations

from ..datatypes import geo
from ..datatypes.zset import ZSet
from ..protocol.reply import NULL_ARRAY, DoubleText
from ..server.server import N_GENERIC, N_ZSET
from .common import SYNTAX, err, get_typed, parse_int
from .registry import command
from .zsets import _zadd, parse_score

_LLONG_MIN = -(2**63)

_NEED_RADIUS = b"ERR need numeric radius"
_BAD_UNIT = b"ERR unsupported unit provided. please use M, KM, FT, MI"
_NO_MEMBER = b"ERR could not decode requested zset member"

# georadiusGeneric's variants.
_BY_COORDS = 1      # GEORADIUS[_RO]: centre given as lon lat
_BY_MEMBER = 2      # GEORADIUSBYMEMBER[_RO]: centre is a member
_NO_STORE = 4       # the _RO variants refuse STORE / STOREDIST
_SEARCH = 8         # GEOSEARCH syntax (FROM... / BY...)
_SEARCH_STORE = 16  # GEOSEARCHSTORE


# --- argument helpers -----------------------------------------------------------------------

def _unit(b: bytes) -> float:
    factor = geo.UNITS.get(b.lower())
    if factor is None:
        err(_BAD_UNIT)
    return factor


def _lon_lat(lon_b: bytes, lat_b: bytes) -> tuple[float, float]:
    lon = parse_score(lon_b)
    lat = parse_score(lat_b)
    if not geo.validate(lon, lat):
        err(b"ERR invalid longitude,latitude pair %f,%f" % (lon, lat))
    return lon, lat


def _radius(radius_b: bytes, unit_b: bytes) -> tuple[float, float]:
    """(radius, meters per unit)."""
    radius = parse_score(radius_b, _NEED_RADIUS)
    if radius < 0:
        err(b"ERR radius cannot be negative")
    return radius, _unit(unit_b)


def _box(width_b: bytes, height_b: bytes, unit_b: bytes) -> tuple[float, float, float]:
    """(width, height, meters per unit)."""
    width = parse_score(width_b, b"ERR need numeric width")
    height = parse_score(height_b, b"ERR need numeric height")
    if height < 0 or width < 0:
        err(b"ERR height or width cannot be negative")
    return width, height, _unit(unit_b)


def _member_position(z, member: bytes) -> tuple[float, float]:
    score = z.score(member)
    if score is None:
        err(_NO_MEMBER)
    return geo.decode(score)


def _as_long_long(score: float) -> int:
    """C's (long long) cast of a score on x86-64 (WITHHASH of a non-geo score)."""
    if score != score or not (-(2.0**63) <= score < 2.0**63):
        return _LLONG_MIN
    return int(score)


def _coordinates(lon: float, lat: float) -> list:
    return [DoubleText(geo.format_coordinate(lon)), DoubleText(geo.format_coordinate(lat))]


# --- GEOADD ---------------------------------------------------------------------------------

@command("geoadd", -5, "write denyoom", 1, 1, 1, group="geo", since="3.2.0",
         summary="Adds members with their longitude and latitude to a geo set (a sorted set).")
def geoadd(c, argv):
    n = len(argv)
    at = 2
    nx = xx = False
    while at < n:
        opt = argv[at].lower()
        if opt == b"nx":
            nx = True
        elif opt == b"xx":
            xx = True
        elif opt != b"ch":
            break
        at += 1
    if (n - at) % 3 or (nx and xx):
        err(SYNTAX)
    # Like Redis, GEOADD is ZADD with the positions turned into scores; it is
    # also propagated (and reports its keyspace event) as that ZADD.
    zadd_argv = [b"zadd"] + argv[1:at]
    for i in range(at, n, 3):
        lon, lat = _lon_lat(argv[i], argv[i + 1])
        zadd_argv.append(b"%d" % geo.encode(lon, lat))
        zadd_argv.append(argv[i + 2])
    dirty = c.server.dirty
    reply = _zadd(c, zadd_argv, False)
    if c.server.dirty != dirty:
        c.server.also_propagate(c.db.index, zadd_argv)
    return reply


# --- GEOPOS / GEODIST / GEOHASH -----------------------------------------------------------

@command("geopos", -2, "readonly", 1, 1, 1, group="geo", since="3.2.0",
         summary="Returns the longitude and latitude of members of a geo set.")
def geopos(c, argv):
    z = get_typed(c, argv[1], b"zset")
    out = []
    for member in argv[2:]:
        score = z.score(member) if z is not None else None
        out.append(NULL_ARRAY if score is None else _coordinates(*geo.decode(score)))
    return out


@command("geodist", -4, "readonly", 1, 1, 1, group="geo", since="3.2.0",
         summary="Returns the distance between two members of a geo set.")
def geodist(c, argv):
    to_meters = 1.0
    if len(argv) == 5:
        to_meters = _unit(argv[4])
    elif len(argv) > 5:
        err(SYNTAX)
    z = get_typed(c, argv[1], b"zset")
    if z is None:
        return None
    score1 = z.score(argv[2])
    score2 = z.score(argv[3])
    if score1 is None or score2 is None:
        return None
    meters = geo.distance(*geo.decode(score1), *geo.decode(score2))
    return geo.format_distance(meters / to_meters)


@command("geohash", -2, "readonly", 1, 1, 1, group="geo", since="3.2.0",
         summary="Returns standard geohash strings for members of a geo set.")
def geohash(c, argv):
    z = get_typed(c, argv[1], b"zset")
    out = []
    for member in argv[2:]:
        score = z.score(member) if z is not None else None
        out.append(None if score is None else geo.geohash_string(score))
    return out


# --- sorting exactly like Redis ---------------------------------------------------------------
# A found point is [member, score, lon, lat, meters].

_DIST = 4


def _cmp_asc(a, b) -> int:
    # NaN distances (nearly antipodal points) compare "less" either way, as in C.
    da, db = a[_DIST], b[_DIST]
    if da > db:
        return 1
    if da == db:
        return 0
    return -1


def _cmp_desc(a, b) -> int:
    return -_cmp_asc(a, b)


def _merge_sort(items: list, cmp) -> list:
    """glibc qsort (a top-down merge sort; matters only for NaN distances)."""
    n = len(items)
    if n <= 1:
        return items
    half = n // 2
    left = _merge_sort(items[:half], cmp)
    right = _merge_sort(items[half:], cmp)
    out = []
    i = j = 0
    while i < len(left) and j < len(right):
        if cmp(left[i], right[j]) <= 0:
            out.append(left[i])
            i += 1
        else:
            out.append(right[j])
            j += 1
    out.extend(left[i:])
    out.extend(right[j:])
    return out


def _full_sort(points: list, desc: bool) -> list:
    if any(p[_DIST] != p[_DIST] for p in points):
        return _merge_sort(points, _cmp_desc if desc else _cmp_asc)
    # Any stable sort agrees with glibc's merge sort on a consistent order.
    return sorted(points, key=lambda p: p[_DIST], reverse=desc)


def _med3(a: list, i: int, j: int, k: int, cmp) -> int:
    if cmp(a[i], a[j]) < 0:
        if cmp(a[j], a[k]) < 0:
            return j
        return k if cmp(a[i], a[k]) < 0 else i
    if cmp(a[j], a[k]) > 0:
        return j
    return i if cmp(a[i], a[k]) < 0 else k


def _swap_blocks(a: list, i: int, j: int, n: int) -> None:
    for t in range(n):
        a[i + t], a[j + t] = a[j + t], a[i + t]


def _partial_quicksort(a: list, lo: int, n: int, cmp, first: int, last: int) -> None:
    """Redis's pqsort: Bentley-McIlroy quicksort that only recurses into the
    partitions overlapping positions [first, last].  Ported step by step
    because the order it leaves equal elements in is visible to clients.
    """
    while True:
        if n < 7:
            for m in range(lo + 1, lo + n):
                k = m
                while k > lo and cmp(a[k - 1], a[k]) > 0:
                    a[k], a[k - 1] = a[k - 1], a[k]
                    k -= 1
            return
        mid = lo + n // 2
        if n > 7:
            left, right = lo, lo + n - 1
            if n > 40:
                d = n // 8
                left = _med3(a, left, left + d, left + 2 * d, cmp)
                mid = _med3(a, mid - d, mid, mid + d, cmp)
                right = _med3(a, right - 2 * d, right - d, right, cmp)
            mid = _med3(a, left, mid, right, cmp)
        a[lo], a[mid] = a[mid], a[lo]
        pivot = a[lo]
        pa = pb = lo + 1
        pc = pd = lo + n - 1
        while True:
            while pb <= pc:
                r = cmp(a[pb], pivot)
                if r > 0:
                    break
                if r == 0:
                    a[pa], a[pb] = a[pb], a[pa]
                    pa += 1
                pb += 1
            while pb <= pc:
                r = cmp(a[pc], pivot)
                if r < 0:
                    break
                if r == 0:
                    a[pc], a[pd] = a[pd], a[pc]
                    pd -= 1
                pc -= 1
            if pb > pc:
                break
            a[pb], a[pc] = a[pc], a[pb]
            pb += 1
            pc -= 1
        end = lo + n
        r = min(pa - lo, pb - pa)
        _swap_blocks(a, lo, pb - r, r)
        r = min(pd - pc, end - pd - 1)
        _swap_blocks(a, pb, end - r, r)
        size = pb - pa
        if size > 1 and not _outside(lo, size, first, last):
            _partial_quicksort(a, lo, size, cmp, first, last)
        size = pd - pc
        if size <= 1:
            return
        lo, n = end - size, size
        if _outside(lo, n, first, last):
            return


def _outside(lo: int, n: int, first: int, last: int) -> bool:
    """True when positions [first, last] lie wholly before or after [lo, lo + n)."""
    return (first < lo and last < lo) or (first >= lo + n and last >= lo + n)


# --- the search ---------------------------------------------------------------------------------

def _collect(z, lon: float, lat: float, shape: dict, limit: int) -> list:
    """Points inside the shape, in Redis's scan order; stop at ``limit`` found (0 = all)."""
    found: list = []
    for lo, hi in geo.search_ranges(lon, lat, **shape):
        if limit and len(found) >= limit:
            break
        for member, score in z.range_by_score(float(lo), float(hi), hi_excl=True):
            plon, plat = geo.decode(score)
            meters = geo.within(lon, lat, plon, plat, **shape)
            if meters is not None:
                found.append([member, score, plon, plat, meters])
            if limit and len(found) >= limit:
                break
    return found


def _search(c, argv, src_at: int, flags: int):
    """georadiusGeneric: every geo search command, its errors in Redis's order."""
    z = get_typed(c, argv[src_at], b"zset")
    n = len(argv)
    store_key = None
    store_dist = False
    center = None
    shape = None
    if flags & _BY_COORDS:
        base = 6
        center = _lon_lat(argv[2], argv[3])
        radius, to_meters = _radius(argv[4], argv[5])
        shape = {"radius": radius, "to_meters": to_meters}
    elif flags & _BY_MEMBER:
        base = 5
        # Without a source key Redis skips the centre and radius entirely and
        # only reads the options (to know which empty reply to give).
        if z is not None:
            center = _member_position(z, argv[2])
            radius, to_meters = _radius(argv[3], argv[4])
            shape = {"radius": radius, "to_meters": to_meters}
    else:
        base = 2
        if flags & _SEARCH_STORE:
            base = 3
            store_key = argv[1]

    withdist = withhash = withcoord = any_ = False
    from_member = from_lonlat = by_radius = by_box = False
    order = 0  # 0 unsorted, 1 ascending, -1 descending
    count = 0
    store_ok = not flags & (_NO_STORE | _SEARCH)
    search = bool(flags & _SEARCH)
    i = base
    while i < n:
        opt = argv[i].lower()
        left = n - i - 1  # arguments after this one
        if opt == b"withdist":
            withdist = True
        elif opt == b"withhash":
            withhash = True
        elif opt == b"withcoord":
            withcoord = True
        elif opt == b"any":
            any_ = True
        elif opt == b"asc":
            order = 1
        elif opt == b"desc":
            order = -1
        elif opt == b"count" and left >= 1:
            count = parse_int(argv[i + 1])
            if count <= 0:
                err(b"ERR COUNT must be > 0")
            i += 1
        elif opt == b"store" and left >= 1 and store_ok:
            store_key = argv[i + 1]
            store_dist = False
            i += 1
        elif opt == b"storedist" and left >= 1 and store_ok:
            store_key = argv[i + 1]
            store_dist = True
            i += 1
        elif opt == b"storedist" and search and flags & _SEARCH_STORE:
            store_dist = True
        elif opt == b"frommember" and left >= 1 and search and not from_lonlat:
            if z is not None:
                center = _member_position(z, argv[i + 1])
            from_member = True
            i += 1
        elif opt == b"fromlonlat" and left >= 2 and search and not from_member:
            center = _lon_lat(argv[i + 1], argv[i + 2])
            from_lonlat = True
            i += 2
        elif opt == b"byradius" and left >= 2 and search and not by_box:
            radius, to_meters = _radius(argv[i + 1], argv[i + 2])
            shape = {"radius": radius, "to_meters": to_meters}
            by_radius = True
            i += 2
        elif opt == b"bybox" and left >= 3 and search and not by_radius:
            width, height, to_meters = _box(argv[i + 1], argv[i + 2], argv[i + 3])
            shape = {"width": width, "height": height, "to_meters": to_meters}
            by_box = True
            i += 3
        else:
            err(SYNTAX)
        i += 1

    if store_key is not None and (withdist or withhash or withcoord):
        err(b"ERR %s is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
            % (b"GEOSEARCHSTORE" if flags & _SEARCH_STORE else b"STORE option in GEORADIUS"))
    if search and not (from_member or from_lonlat):
        err(b"ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for %s" % argv[0])
    if search and not (by_radius or by_box):
        err(b"ERR exactly one of BYRADIUS and BYBOX can be specified for %s" % argv[0])
    if any_ and not count:
        err(b"ERR the ANY argument requires COUNT argument")

    if z is None:
        if store_key is not None:
            _delete_store_key(c, store_key)
            return 0
        return []

    # COUNT alone means "the closest N": sort ascending unless ANY was given.
    if count and not order and not any_:
        order = 1
    points = _collect(z, center[0], center[1], shape, count if any_ else 0)
    if not points and store_key is None:
        return []
    returned = min(count, len(points)) if count else len(points)
    if order:
        if returned == len(points):
            points = _full_sort(points, order < 0)
        else:
            _partial_quicksort(points, 0, len(points), _cmp_desc if order < 0 else _cmp_asc,
                               0, returned - 1)
    to_meters = shape["to_meters"]
    if store_key is not None:
        return _store_results(c, store_key, points[:returned], store_dist, to_meters,
                              b"geosearchstore" if search else b"georadiusstore")
    out = []
    for member, score, plon, plat, meters in points[:returned]:
        if not (withdist or withhash or withcoord):
            out.append(member)
            continue
        item = [member]
        if withdist:
            item.append(geo.format_distance(meters / to_meters))
        if withhash:
            item.append(_as_long_long(score))
        if withcoord:
            item.append(_coordinates(plon, plat))
        out.append(item)
    return out


def _delete_store_key(c, key: bytes) -> None:
    db = c.db
    if db.delete(key):
        server = c.server
        server.signal_modified(db, key)
        server.notify(N_GENERIC, b"del", key, db.index)
        server.dirty += 1


def _store_results(c, key: bytes, points: list, store_dist: bool, to_meters: float,
                   event: bytes) -> int:
    if not points:
        _delete_store_key(c, key)
        return 0
    z = ZSet()
    for member, score, _lon, _lat, meters in points:
        z.add(member, meters / to_meters if store_dist else score)
    server = c.server
    db = c.db
    z.fit_encoding(server.config)
    db.set(key, z)
    server.signal_modified(db, key)
    server.notify(N_ZSET, event, key, db.index)
    server.dirty += len(points)
    server.signal_ready(db, key)
    return len(points)


# --- key positions ------------------------------------------------------------------------------

def _store_keys(options_from: int):
    """Key positions as Redis 7.0's key specs find them: the source, then the
    argument after the first STORE and after the first STOREDIST keyword."""
    def keys(argv):
        out = [1]
        for keyword in (b"store", b"storedist"):
            for i in range(options_from, len(argv) - 1):
                if argv[i].lower() == keyword:
                    out.append(i + 1)
                    break
        return out
    return keys


# --- the search commands ------------------------------------------------------------------------

@command("georadius", -6, "write denyoom", 1, 1, 1, group="geo", since="3.2.0",
         keys_fn=_store_keys(6),
         summary="Finds members of a geo set within a radius of a point; can store the result.")
def georadius(c, argv):
    return _search(c, argv, 1, _BY_COORDS)


@command("georadiusbymember", -5, "write denyoom", 1, 1, 1, group="geo", since="3.2.0",
         keys_fn=_store_keys(5),
         summary="Finds members of a geo set within a radius of one of its members; can store the result.")
def georadiusbymember(c, argv):
    return _search(c, argv, 1, _BY_MEMBER)


@command("georadius_ro", -6, "readonly", 1, 1, 1, group="geo", since="3.2.10",
         summary="Finds members of a geo set within a radius of a point (read-only variant).")
def georadius_ro(c, argv):
    return _search(c, argv, 1, _BY_COORDS | _NO_STORE)


@command("georadiusbymember_ro", -5, "readonly", 1, 1, 1, group="geo", since="3.2.10",
         summary="Finds members of a geo set within a radius of one of its members (read-only variant).")
def georadiusbymember_ro(c, argv):
    return _search(c, argv, 1, _BY_MEMBER | _NO_STORE)


@command("geosearch", -7, "readonly", 1, 1, 1, group="geo", since="6.2.0",
         summary="Finds members of a geo set inside a circle or a box.")
def geosearch(c, argv):
    return _search(c, argv, 1, _SEARCH)


@command("geosearchstore", -8, "write denyoom", 1, 2, 1, group="geo", since="6.2.0",
         summary="Finds members of a geo set inside a circle or a box and stores them in a key.")
def geosearchstore(c, argv):
    return _search(c, argv, 2, _SEARCH | _SEARCH_STORE)
