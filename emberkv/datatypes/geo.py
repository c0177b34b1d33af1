"""Geo math with the exact numeric behaviour of Redis 7.0.

A geo set is a sorted set whose scores are 52-bit geohashes: 26 bits of
longitude and 26 bits of latitude interleaved (latitude on the even bits).
Redis uses a latitude range of +-85.05112878 (the Web Mercator limit), so the
scores are not standard geohashes; GEOHASH re-encodes with +-90 to print one.

Everything here mirrors Redis's floating-point operations step by step
(same operation order, same libm calls) so that scores, positions, distances
and search results are bit-for-bit identical to a real server, including the
odd corners: points exactly on the upper limits encode one cell *past* the
grid, arbitrary zset scores are cast to uint64 the way x86-64 does it, and
area searches pick the same cells (and scan the same duplicate ranges).
"""

from __future__ import annotations

import math

LONG_MIN = -180.0
LONG_MAX = 180.0
LAT_MIN = -85.05112878
LAT_MAX = 85.05112878

# Redis's "quadratic mean" earth radius, used for every distance.
EARTH_RADIUS_M = 6372797.560856

# Meters per unit.  Keys are lowercase; Redis matches unit names case-insensitively.
UNITS = {b"m": 1.0, b"km": 1000.0, b"ft": 0.3048, b"mi": 1609.34}

STEP_MAX = 26  # bits per coordinate in a stored score

_DEG_TO_RAD = math.pi / 180.0
_MERCATOR_MAX = 20037726.37
_GEOHASH_ALPHABET = b"0123456789bcdefghjkmnpqrstuvwxyz"
_EVEN_BITS = 0x5555555555555555
_ODD_BITS = 0xAAAAAAAAAAAAAAAA
_U64 = (1 << 64) - 1
_U32 = (1 << 32) - 1
_I64_MIN_BITS = 1 << 63  # what x86-64 produces for an out-of-range float->int


def validate(lon: float, lat: float) -> bool:
    """True if (lon, lat) may be stored (GEOADD / FROMLONLAT accept it)."""
    return LONG_MIN <= lon <= LONG_MAX and LAT_MIN <= lat <= LAT_MAX


# ---------------------------------------------------------------- bit plumbing

def _spread(v: int) -> int:
    """Move bit i of a 32-bit value to bit 2*i."""
    v &= _U32
    v = (v | (v << 16)) & 0x0000FFFF0000FFFF
    v = (v | (v << 8)) & 0x00FF00FF00FF00FF
    v = (v | (v << 4)) & 0x0F0F0F0F0F0F0F0F
    v = (v | (v << 2)) & 0x3333333333333333
    return (v | (v << 1)) & _EVEN_BITS


def _gather(v: int) -> int:
    """Inverse of _spread: collect the even bits of a 64-bit value."""
    v &= _EVEN_BITS
    v = (v | (v >> 1)) & 0x3333333333333333
    v = (v | (v >> 2)) & 0x0F0F0F0F0F0F0F0F
    v = (v | (v >> 4)) & 0x00FF00FF00FF00FF
    v = (v | (v >> 8)) & 0x0000FFFF0000FFFF
    return (v | (v >> 16)) & _U32


def _score_bits(score: float) -> int:
    """Cast a zset score to uint64 as gcc does on x86-64.

    Geo scores are normally exact integers, but any ZADD score can be read
    back as a position; out-of-range values then yield the CPU's "integer
    indefinite" pattern, and Redis reports whatever cell that lands in.
    """
    if math.isnan(score):
        return _I64_MIN_BITS
    if score >= 2.0**63:  # converted as score - 2**63, then bit 63 flipped back
        return int(score) if score < 2.0**64 else 0
    if score < -(2.0**63):
        return _I64_MIN_BITS
    return int(score) & _U64


# ---------------------------------------------------------------- cells

def _encode_cell(lon: float, lat: float, step: int,
                 lon_min: float = LONG_MIN, lon_max: float = LONG_MAX,
                 lat_min: float = LAT_MIN, lat_max: float = LAT_MAX) -> int:
    lat_offset = (lat - lat_min) / (lat_max - lat_min)
    lon_offset = (lon - lon_min) / (lon_max - lon_min)
    # Truncating conversion; an input on the upper limit gives 2**step, one
    # cell beyond the grid, exactly like Redis.
    scale = float(1 << step)
    return _spread(int(lat_offset * scale)) | (_spread(int(lon_offset * scale)) << 1)


def _decode_cell(bits: int, step: int) -> tuple[float, float, float, float]:
    """(lon_min, lon_max, lat_min, lat_max) of a cell on the Redis grid."""
    lat_cell = _gather(bits)
    lon_cell = _gather(bits >> 1)
    cells = float(1 << step)
    lat_scale = LAT_MAX - LAT_MIN
    lon_scale = LONG_MAX - LONG_MIN
    # "+ 1" wraps in 32 bits in Redis (only reachable with garbage scores).
    return (LONG_MIN + (lon_cell / cells) * lon_scale,
            LONG_MIN + (((lon_cell + 1) & _U32) / cells) * lon_scale,
            LAT_MIN + (lat_cell / cells) * lat_scale,
            LAT_MIN + (((lat_cell + 1) & _U32) / cells) * lat_scale)


def _cell_center(bits: int, step: int) -> tuple[float, float]:
    lon_lo, lon_hi, lat_lo, lat_hi = _decode_cell(bits, step)
    lon = min(max((lon_lo + lon_hi) / 2, LONG_MIN), LONG_MAX)
    lat = min(max((lat_lo + lat_hi) / 2, LAT_MIN), LAT_MAX)
    return lon, lat


def _move_lon(bits: int, step: int, d: int) -> int:
    """Shift a cell one column east (d=1) or west (d=-1), wrapping around."""
    lon_bits = bits & _ODD_BITS
    lat_bits = bits & _EVEN_BITS
    # Filling the latitude slots with ones lets the carry/borrow ripple
    # straight across them.
    fill = _EVEN_BITS >> (64 - 2 * step)
    if d > 0:
        lon_bits = lon_bits + fill + 1
    else:
        lon_bits = (lon_bits | fill) - (fill + 1)
    lon_bits &= _ODD_BITS >> (64 - 2 * step)
    return lon_bits | lat_bits


def _move_lat(bits: int, step: int, d: int) -> int:
    """Shift a cell one row north (d=1) or south (d=-1), wrapping around."""
    lon_bits = bits & _ODD_BITS
    lat_bits = bits & _EVEN_BITS
    fill = _ODD_BITS >> (64 - 2 * step)
    if d > 0:
        lat_bits = lat_bits + fill + 1
    else:
        lat_bits = (lat_bits | fill) - (fill + 1)
    lat_bits &= _EVEN_BITS >> (64 - 2 * step)
    return lon_bits | lat_bits


def _neighbor(bits: int, step: int, dlon: int, dlat: int) -> int:
    if dlon:
        bits = _move_lon(bits, step, dlon)
    if dlat:
        bits = _move_lat(bits, step, dlat)
    return bits


# ---------------------------------------------------------------- public codec

def encode(lon: float, lat: float) -> int:
    """The sorted-set score GEOADD stores for (lon, lat)."""
    if not validate(lon, lat):
        raise ValueError(f"invalid longitude,latitude pair {lon:f},{lat:f}")
    return _encode_cell(lon, lat, STEP_MAX)


def decode(score: float) -> tuple[float, float]:
    """(lon, lat) that GEOPOS reports for a score: the clamped cell center."""
    return _cell_center(_score_bits(score), STEP_MAX)


def geohash_string(score: float) -> bytes:
    """The 11-character GEOHASH reply for a score."""
    lon, lat = decode(score)
    bits = _encode_cell(lon, lat, STEP_MAX, LONG_MIN, LONG_MAX, -90.0, 90.0)
    chars = [_GEOHASH_ALPHABET[(bits >> (52 - (i + 1) * 5)) & 0x1F] for i in range(10)]
    # Only 52 bits exist; the 11th character is always the zero digit.
    return bytes(chars) + b"0"


# ---------------------------------------------------------------- distances

def _lat_distance(lat1: float, lat2: float) -> float:
    return EARTH_RADIUS_M * abs(lat2 * _DEG_TO_RAD - lat1 * _DEG_TO_RAD)


def distance(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Haversine distance in meters, as Redis computes it."""
    lon1r = lon1 * _DEG_TO_RAD
    lon2r = lon2 * _DEG_TO_RAD
    v = math.sin((lon2r - lon1r) / 2)
    if v == 0.0:
        return _lat_distance(lat1, lat2)
    lat1r = lat1 * _DEG_TO_RAD
    lat2r = lat2 * _DEG_TO_RAD
    u = math.sin((lat2r - lat1r) / 2)
    a = u * u + math.cos(lat1r) * math.cos(lat2r) * v * v
    root = math.sqrt(a)
    # Rounding could push nearly antipodal points past 1; C's asin then
    # yields NaN where Python would raise.
    if root > 1.0:
        return math.nan
    return 2.0 * EARTH_RADIUS_M * math.asin(root)


def format_distance(d: float) -> bytes:
    """A distance (already divided by the unit) as Redis prints it: 4 decimals.

    Redis rounds d * 10000 to an integer half-to-even (llrint) rather than
    printing with "%.4f", and the two disagree on some ties.
    """
    if d == 0:
        return b"0.0000"
    scaled = d * 10000.0
    if math.isfinite(scaled) and -(2.0**63) <= scaled < 2.0**63:
        units = round(scaled)
    else:  # llrint's "invalid" result on x86-64
        units = -(2**63)
    sign = b"-" if units < 0 else b""
    whole, frac = divmod(abs(units), 10000)
    return b"%s%d.%04d" % (sign, whole, frac)


def format_coordinate(x: float) -> bytes:
    """A GEOPOS / WITHCOORD value as Redis prints it ("%.17Lf", zeros trimmed)."""
    text = b"%.17f" % x
    text = text.rstrip(b"0").rstrip(b".")
    return b"0" if text == b"-0" else text


# ---------------------------------------------------------------- area search

def _shape(radius, width, height, to_meters):
    """(half_width_m, half_height_m, step_radius_m) for a circle or a box."""
    if radius is not None:
        if width is not None or height is not None:
            raise TypeError("give either radius or width and height")
        reach = to_meters * radius
        return reach, reach, radius * to_meters
    if width is None or height is None:
        raise TypeError("give either radius or width and height")
    # Redis sizes the search from the box's half-diagonal in the *user's*
    # unit and only then converts; converting first can round differently.
    half_diagonal = math.sqrt((width / 2) * (width / 2) + (height / 2) * (height / 2))
    return to_meters * (width / 2), to_meters * (height / 2), half_diagonal * to_meters


def _cos(x: float) -> float:
    # An infinite radius reaches here; C's cos(inf) is NaN, Python's raises.
    return math.nan if math.isinf(x) else math.cos(x)


def _bounding_box(lon, lat, half_width_m, half_height_m):
    lat_delta = (half_height_m / EARTH_RADIUS_M) / _DEG_TO_RAD
    lon_delta_top = (half_width_m / EARTH_RADIUS_M / _cos((lat + lat_delta) * _DEG_TO_RAD)) / _DEG_TO_RAD
    lon_delta_bottom = (half_width_m / EARTH_RADIUS_M / _cos((lat - lat_delta) * _DEG_TO_RAD)) / _DEG_TO_RAD
    # Meridians converge towards the poles, so the pole-side edge needs the
    # wider longitude span; Redis takes that edge in either hemisphere.
    lon_delta = lon_delta_bottom if lat < 0 else lon_delta_top
    return lon - lon_delta, lat - lat_delta, lon + lon_delta, lat + lat_delta


def _estimate_step(range_m: float, lat: float) -> int:
    if range_m == 0:
        return STEP_MAX
    step = 1
    while range_m < _MERCATOR_MAX:
        range_m *= 2
        step += 1
    step -= 2  # one cell plus its neighbours must cover the range
    # Cells get narrower towards the poles.
    if lat > 66 or lat < -66:
        step -= 1
        if lat > 80 or lat < -80:
            step -= 1
    return min(max(step, 1), STEP_MAX)


def search_ranges(lon: float, lat: float, *, radius: float | None = None,
                  width: float | None = None, height: float | None = None,
                  to_meters: float = 1.0) -> list[tuple[int, int]]:
    """Score ranges [min, max) GEOSEARCH / GEORADIUS scan, in Redis's order.

    The shape is either ``radius`` or ``width`` and ``height`` (full box
    size), in the query's unit; ``to_meters`` is that unit's factor from
    UNITS.  Like Redis, only a range equal to the previously scanned one is
    dropped (with a step-1 search the wrapped neighbours repeat back to
    back).  Scanning the ranges in order, each by ascending score, gives
    Redis's unsorted reply order.
    """
    half_width_m, half_height_m, step_radius_m = _shape(radius, width, height, to_meters)
    min_lon, min_lat, max_lon, max_lat = _bounding_box(lon, lat, half_width_m, half_height_m)
    step = _estimate_step(step_radius_m, lat)
    center = _encode_cell(lon, lat, step)

    # A centre close to its cell's edge can leave the area sticking out past
    # the neighbouring cells; one coarser level then covers it.
    north_lat_max = _decode_cell(_neighbor(center, step, 0, 1), step)[3]
    south_lat_min = _decode_cell(_neighbor(center, step, 0, -1), step)[2]
    east_lon_max = _decode_cell(_neighbor(center, step, 1, 0), step)[1]
    west_lon_min = _decode_cell(_neighbor(center, step, -1, 0), step)[0]
    if step > 1 and (north_lat_max < max_lat or south_lat_min > min_lat
                     or east_lon_max < max_lon or west_lon_min > min_lon):
        step -= 1
        center = _encode_cell(lon, lat, step)

    # Neighbour offsets in Redis's scan order: centre, N, S, E, W, NE, NW, SE, SW.
    offsets = [(0, 0), (0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, 1), (1, -1), (-1, -1)]
    if step >= 2:
        # Where the centre cell already reaches past the area's edge, the
        # neighbours on that side are useless.
        cell_lon_min, cell_lon_max, cell_lat_min, cell_lat_max = _decode_cell(center, step)

        def useful(dlon: int, dlat: int) -> bool:
            return not ((dlat < 0 and cell_lat_min < min_lat) or (dlat > 0 and cell_lat_max > max_lat)
                        or (dlon < 0 and cell_lon_min < min_lon) or (dlon > 0 and cell_lon_max > max_lon))

        offsets = [offset for offset in offsets if useful(*offset)]

    shift = 52 - 2 * step
    ranges: list[tuple[int, int]] = []
    last_cell = None
    for offset in offsets:
        cell = _neighbor(center, step, *offset)
        if cell == last_cell:
            continue
        last_cell = cell
        ranges.append((cell << shift, (cell + 1) << shift))
    return ranges


def within(lon: float, lat: float, plon: float, plat: float, *,
           radius: float | None = None, width: float | None = None,
           height: float | None = None, to_meters: float = 1.0) -> float | None:
    """Distance in meters from the centre to a (decoded) point if the point is
    inside the circle or box, else None.  Shape arguments as in search_ranges.
    """
    if radius is not None:
        if width is not None or height is not None:
            raise TypeError("give either radius or width and height")
        d = distance(lon, lat, plon, plat)
        # NaN (see distance) compares false here and so counts as inside.
        return None if d > radius * to_meters else d
    if width is None or height is None:
        raise TypeError("give either radius or width and height")
    # Latitude first: it is the cheap test.
    if _lat_distance(plat, lat) > height * to_meters / 2:
        return None
    if distance(plon, plat, lon, plat) > width * to_meters / 2:
        return None
    return distance(lon, lat, plon, plat)
