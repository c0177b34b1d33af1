"""CRC-64 as used by Redis for RDB files and DUMP payloads.

Parameters (the "CRC-64/REDIS" variant, Jones polynomial): width 64,
polynomial 0xad93d23594c935a9, reflected input and output, initial value 0,
no final xor.  Check value: crc64(b"123456789") == 0xe9c6d914c4b8d9ca.

Short inputs use a byte-wise table.  Long inputs avoid a per-byte Python
loop: the CRC is linear over GF(2), so the message (as one big integer) is
reduced modulo the polynomial by repeatedly folding its first half onto the
second half with a precomputed constant x^e mod P.  The carry-less product
of the (big) first half with that 64-bit constant is made of shifts and
xors of Python integers, which run at C speed; pieces of the input are
processed separately so those integers stay in the CPU cache.
"""

__all__ = ["crc64"]

_POLY = 0xAD93D23594C935A9          # x^64 is implied
_MASK64 = (1 << 64) - 1


def _reflect64(value: int) -> int:
    return int(format(value, "064b")[::-1], 2)


def _make_table() -> list[int]:
    poly = _reflect64(_POLY)
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _make_table()


def _crc_table(crc: int, data) -> int:
    table = _TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc


# --- folding -----------------------------------------------------------------
#
# Representation: a message of n bits is an integer A whose bit i is the i-th
# transmitted bit (int.from_bytes(data, "little") gives exactly that for a
# reflected CRC), i.e. bit i is the coefficient of x^(n-1-i).  The CRC of a
# message with initial register c is (c*x^(8*len) + D*x^64) mod P, which in
# this representation is A = D ^ c with n = 8*len + 64.
#
# Fold: split off the first s bits H (the high-degree part); with e = n - s,
# M = H*x^e + L == H*(x^e mod P) + L.  In reflected form the carry-less
# product of reflected operands is the reflected product, so
#     A' = (A >> s) ^ (clmul(A & (2^s - 1), rev64(x^e mod P)) << (e - s - 63))
# with n' = e, valid while e >= s + 63.  Folding distances are restricted to
# 2^k and 2^k + 64 so their constants can be cached.

_FINISH_BITS = 64 + 8 * 32      # below this, finish with the byte table
_FOLD_MIN_BYTES = 192           # shorter inputs go straight to the byte table
_PIECE = 1 << 17                # bytes folded at a time (keeps ints in cache)

_x_pow_cache: dict[int, int] = {}      # e -> x^e mod P (normal bit order)
_fold_terms: dict[int, tuple] = {}     # e -> ((shift, nibble), ...) of rev64(x^e mod P)


def _mulmod(a: int, b: int) -> int:
    """(a * b) mod P for normal-order 64-bit polynomials (slow; constants only)."""
    full_poly = _POLY | (1 << 64)
    result = 0
    for bit in range(63, -1, -1):
        result <<= 1
        if result >> 64:
            result ^= full_poly
        if (b >> bit) & 1:
            result ^= a
    return result


def _x_pow(e: int) -> int:
    cached = _x_pow_cache.get(e)
    if cached is not None:
        return cached
    if e < 64:
        value = 1 << e
    elif e & (e - 1) == 0:
        half = _x_pow(e >> 1)
        value = _mulmod(half, half)
    else:
        high = 1 << (e.bit_length() - 1)
        value = _mulmod(_x_pow(high), _x_pow(e - high))
    _x_pow_cache[e] = value
    return value


def _terms_for(e: int) -> tuple:
    terms = _fold_terms.get(e)
    if terms is None:
        constant = _reflect64(_x_pow(e))
        terms = tuple((4 * t, (constant >> (4 * t)) & 15)
                      for t in range(16) if (constant >> (4 * t)) & 15)
        _fold_terms[e] = terms
    return terms


def _fold_target(nbits: int) -> int:
    need = (nbits + 64) // 2            # e >= s + 63  <=>  2e >= nbits + 63
    power = 1 << (need - 1).bit_length()
    half_plus = (power >> 1) + 64
    return half_plus if half_plus >= need else power


def _clmul_terms(h: int, terms: tuple) -> int:
    # Multiples of h by every 4-bit polynomial, then one shift+xor per nibble.
    m2 = h << 1
    m4 = h << 2
    m8 = h << 3
    m6 = m4 ^ m2
    m12 = m8 ^ m4
    m10 = m8 ^ m2
    m14 = m12 ^ m2
    multiples = (0, h, m2, m2 ^ h, m4, m4 ^ h, m6, m6 ^ h,
                 m8, m8 ^ h, m10, m10 ^ h, m12, m12 ^ h, m14, m14 ^ h)
    result = 0
    for shift, nibble in terms:
        result ^= multiples[nibble] << shift
    return result


def _crc_fold(crc: int, data) -> int:
    value = int.from_bytes(data, "little") ^ crc
    nbits = 8 * len(data) + 64
    while nbits > _FINISH_BITS:
        e = _fold_target(nbits)
        s = nbits - e
        value = (value >> s) ^ (
            _clmul_terms(value & ((1 << s) - 1), _terms_for(e)) << (e - s - 63))
        nbits = e
    head_bytes = (nbits - 64) >> 3
    head_bits = head_bytes * 8
    head = (value & ((1 << head_bits) - 1)).to_bytes(head_bytes, "little")
    return _crc_table(0, head) ^ (value >> head_bits)


def crc64(data, crc: int = 0) -> int:
    """Return the Redis CRC-64 of *data* (bytes-like), continuing from *crc*."""
    size = len(data)
    if size < _FOLD_MIN_BYTES:
        return _crc_table(crc, data)
    view = memoryview(data).cast("B")
    for start in range(0, size, _PIECE):
        piece = view[start:start + _PIECE]
        if len(piece) < _FOLD_MIN_BYTES:
            crc = _crc_table(crc, piece)
        else:
            crc = _crc_fold(crc, piece)
    return crc
