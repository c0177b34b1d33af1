"""Redis 7.0 HyperLogLog, byte-for-byte compatible with the values Redis stores.

An HLL is an ordinary string value: a 16-byte header (b"HYLL", encoding byte
0=dense/1=sparse, three unused bytes, cached cardinality as 8 little-endian
bytes whose top bit marks the cache invalid) followed by either 16384 packed
6-bit registers (dense) or a run-length opcode stream (sparse):

    ZERO  00xxxxxx            run of 1..64 zero registers
    XZERO 01xxxxxx yyyyyyyy   run of 1..16384 zero registers
    VAL   1vvvvvxx            run of 1..4 registers holding value 1..32

Everything here is a pure function over bytes.  Sparse updates replay Redis's
in-place algorithm (opcode split, adjacent VAL merge, size-triggered promotion)
because the exact bytes depend on it; a sorted "register start per byte"
index replaces Redis's linear opcode scan so Python stays fast.
"""

from __future__ import annotations

import math
import random
import re
import struct
from bisect import bisect_right
from itertools import accumulate

__all__ = [
    "InvalidHLL", "new_hll", "pfadd", "pfcount", "pfmerge",
    "to_dense", "registers", "encoding", "decode_sparse", "selftest",
]

HLL_P = 14
HLL_Q = 64 - HLL_P
REGISTERS = 1 << HLL_P
HEADER_SIZE = 16
DENSE_PAYLOAD = REGISTERS * 6 // 8
DENSE_SIZE = HEADER_SIZE + DENSE_PAYLOAD
SPARSE_VAL_MAX_VALUE = 32
SPARSE_VAL_MAX_LEN = 4
SPARSE_ZERO_MAX_LEN = 64
DEFAULT_SPARSE_MAX_BYTES = 3000

_DENSE = 0
_SPARSE = 1
_MAGIC = b"HYLL"
_CACHE_INVALID = 0x80
_ALPHA_INF = 0.721347520444481703680  # 0.5 / ln(2)

_MASK64 = (1 << 64) - 1
_MURMUR_M = 0xC6A4A7935BD1E995
_MURMUR_SEED = 0xADC83B19
_PROMOTE = 2  # internal result of a sparse set: "convert to dense first"

WRONGTYPE_MESSAGE = "WRONGTYPE Key is not a valid HyperLogLog string value."
CORRUPT_MESSAGE = "INVALIDOBJ Corrupted HLL object detected"


class InvalidHLL(Exception):
    """A value that cannot be used as an HLL.

    kind is "wrongtype" (bad header or dense size) or "corrupt" (bad sparse
    payload).  value is the bytes Redis leaves stored when PFADD found the
    corruption after already updating the sparse string in place, else None.
    """

    def __init__(self, kind: str, value: bytes | None = None):
        super().__init__(WRONGTYPE_MESSAGE if kind == "wrongtype" else CORRUPT_MESSAGE)
        self.kind = kind
        self.value = value


# ---------------------------------------------------------------- hashing


def _murmurhash64a(data: bytes, seed: int = _MURMUR_SEED) -> int:
    length = len(data)
    h = (seed ^ (length * _MURMUR_M)) & _MASK64
    blocks = length >> 3
    if blocks:
        for k in struct.unpack_from(f"<{blocks}Q", data):
            k = (k * _MURMUR_M) & _MASK64
            k ^= k >> 47
            h ^= (k * _MURMUR_M) & _MASK64
            h = (h * _MURMUR_M) & _MASK64
    if length & 7:
        h ^= int.from_bytes(data[blocks << 3:], "little")
        h = (h * _MURMUR_M) & _MASK64
    h ^= h >> 47
    h = (h * _MURMUR_M) & _MASK64
    return h ^ (h >> 47)


def _pattern(element: bytes) -> tuple[int, int]:
    """(register index, length of the 0..01 run) the element maps to."""
    h = _murmurhash64a(element)
    rest = (h >> HLL_P) | (1 << HLL_Q)  # the sentinel bit caps the run at Q+1
    return h & (REGISTERS - 1), (rest & -rest).bit_length()


# ---------------------------------------------------------------- header


def new_hll() -> bytes:
    """An empty sparse HLL as createHLLObject() builds it (cache valid, 0)."""
    return _MAGIC + bytes([_SPARSE]) + bytes(11) + _xzero(REGISTERS)


def _check(value: bytes) -> int:
    """isHLLObjectOrReply(): returns the encoding or raises wrongtype."""
    if (len(value) < HEADER_SIZE or value[:4] != _MAGIC or value[4] > _SPARSE
            or (value[4] == _DENSE and len(value) != DENSE_SIZE)):
        raise InvalidHLL("wrongtype")
    return value[4]


def _invalidated(header: bytes | bytearray, encoding: int) -> bytes:
    header = bytearray(header)
    header[4] = encoding
    header[15] |= _CACHE_INVALID
    return bytes(header)


# ---------------------------------------------------------------- sparse opcodes


def _xzero(length: int) -> bytes:
    return bytes([0x40 | (length - 1) >> 8, (length - 1) & 0xFF])


def _zero_run(length: int) -> bytes:
    return _xzero(length) if length > SPARSE_ZERO_MAX_LEN else bytes([length - 1])


def _val(value: int, length: int) -> int:
    return 0x80 | (value - 1) << 2 | (length - 1)


def _span(mem: bytes | bytearray, p: int) -> int:
    b = mem[p]
    if b < 0x40:
        return b + 1
    if b >= 0x80:
        return (b & 3) + 1
    return ((b & 0x3F) << 8 | mem[p + 1]) + 1


# Registers covered by a one-byte opcode; XZERO openers are patched separately.
_ONE_BYTE_SPAN = bytes(
    b + 1 if b < 0x40 else (b & 3) + 1 if b >= 0x80 else 0 for b in range(256))
# Register bytes a one-byte opcode expands to.
_ONE_BYTE_EXPANSION = [
    bytes(b + 1) if b < 0x40
    else bytes([((b >> 2) & 0x1F) + 1]) * ((b & 3) + 1) if b >= 0x80
    else b"" for b in range(256)]
_XZERO_BYTE = re.compile(rb"[\x40-\x7f]")


def _xzero_openers(payload: bytes, tail: int = 0) -> list[tuple[int, int]]:
    """(offset, run length) of every XZERO opcode.

    A byte in the XZERO range is an opcode unless it is the second byte of the
    XZERO just before it.  An opener in the last byte reads its length from the
    byte after the string (the sds terminator, normally 0), as Redis does.
    """
    openers = []
    last = -2
    for match in _XZERO_BYTE.finditer(payload):
        q = match.start()
        if q == last + 1:
            continue
        last = q
        low = payload[q + 1] if q + 1 < len(payload) else tail
        openers.append((q, ((payload[q] & 0x3F) << 8 | low) + 1))
    return openers


def _sparse_expand(payload: bytes, tail: int = 0) -> bytes:
    """All registers the opcodes describe, however many that is."""
    expansion = _ONE_BYTE_EXPANSION.__getitem__
    parts = []
    pos = 0
    for q, run in _xzero_openers(payload, tail):
        parts.append(b"".join(map(expansion, payload[pos:q])))
        parts.append(bytes(run))
        pos = q + 2
    parts.append(b"".join(map(expansion, payload[pos:])))
    return b"".join(parts)


def _sparse_registers(payload: bytes, tail: int = 0) -> bytes | None:
    """The registers, or None unless the runs cover exactly 16384 registers.

    Stricter than the 7.0.15 source, whose merge and sparse-to-dense walks
    stopped quietly at a VAL running past the end: the CVE-2025-32023 fix that
    every maintained Redis (Debian's 7.0.15 too) carries rejects any overrun.
    """
    raw = _sparse_expand(payload, tail)
    return raw if len(raw) == REGISTERS else None


class _SparseEditor:
    """hllSparseSet() replayed on a model of the sds buffer.

    mem holds the payload, then the terminator slot Redis reads past the end
    (a truncated trailing XZERO) and the 3 spare bytes sdsMakeRoomFor() adds.
    starts[k] is the first register covered by the opcode at byte k; the
    second byte of an XZERO repeats its opener's start, so starts is sorted
    and equal neighbours mark XZERO pairs.
    """

    def __init__(self, value: bytes):
        payload = value[HEADER_SIZE:]
        self.header = bytearray(value[:HEADER_SIZE])
        self.length = len(payload)
        self.mem = bytearray(payload) + bytes(4)
        spans = list(payload.translate(_ONE_BYTE_SPAN))
        for q, run in _xzero_openers(payload):
            spans[q] = 0
            if q + 1 < len(spans):
                spans[q + 1] = run
        self.starts = list(accumulate(spans, initial=0))
        self.starts.pop()

    def value(self) -> bytes:
        return bytes(self.header) + bytes(self.mem[:self.length])

    def set(self, index: int, count: int, max_bytes: int) -> int:
        """1 if the register grew, 0 if not, -1 if corrupt, _PROMOTE."""
        if count > SPARSE_VAL_MAX_VALUE:
            return _PROMOTE
        mem, starts, end = self.mem, self.starts, self.length
        if len(mem) < end + 4:
            mem.extend(bytes(end + 4 - len(mem)))
        if end == 0:
            return -1

        # Step 1: the opcode covering index, its neighbours.
        p = bisect_right(starts, index) - 1
        if p > 0 and starts[p] == starts[p - 1]:
            p -= 1
        first = starts[p]
        op = mem[p]
        is_xzero = 0x40 <= op < 0x80
        oplen = 2 if is_xzero else 1
        runlen = _span(mem, p)
        if index >= first + runlen:
            return -1
        if p == 0:
            prev = None
        else:
            prev = p - 2 if p >= 2 and starts[p - 1] == starts[p - 2] else p - 1
        nxt = p + oplen if p + oplen < end else None

        if op >= 0x80:
            current = ((op >> 2) & 0x1F) + 1
            if current >= count:
                return 0
            if runlen == 1:
                mem[p] = _val(count, 1)
                return self._merge_vals(prev)
        elif runlen == 1 and not is_xzero:
            mem[p] = _val(count, 1)
            return self._merge_vals(prev)

        # Step 2: split the run into [before] VAL(count) [after].
        last = first + runlen - 1
        seq = bytearray()
        seq_starts = []
        for run_start, run_len, is_target in (
                (first, index - first, False), (index, 1, True),
                (index + 1, last - index, False)):
            if run_len == 0:
                continue
            if is_target:
                piece = bytes([_val(count, 1)])
            elif op >= 0x80:
                piece = bytes([_val(current, run_len)])
            else:
                piece = _zero_run(run_len)
            seq += piece
            seq_starts += [run_start] * len(piece)

        # Step 3: splice it in, promoting if the string would grow too big.
        delta = len(seq) - oplen
        if delta > 0 and HEADER_SIZE + end + delta > max_bytes:
            return _PROMOTE
        if delta and nxt is not None:
            mem[nxt + delta:end + delta] = mem[nxt:end]
        end += delta
        mem[end] = 0
        mem[p:p + len(seq)] = seq
        self.length = end
        starts[p:p + oplen] = seq_starts
        del starts[end:]
        return self._merge_vals(prev)

    def _merge_vals(self, prev: int | None) -> int:
        """Step 4: fuse equal adjacent VALs among the 5 opcodes from prev."""
        mem, end = self.mem, self.length
        p = prev if prev is not None else 0
        budget = 5
        while p < end and budget > 0:
            budget -= 1
            op = mem[p]
            if op < 0x80:
                p += 1 if op < 0x40 else 2
                continue
            if p + 1 < end and mem[p + 1] >= 0x80:
                right = mem[p + 1]
                value = ((op >> 2) & 0x1F) + 1
                length = (op & 3) + (right & 3) + 2
                if value == ((right >> 2) & 0x1F) + 1 and length <= SPARSE_VAL_MAX_LEN:
                    mem[p + 1] = _val(value, length)
                    mem[p:end] = mem[p + 1:end + 1]
                    end -= 1
                    mem[end] = 0
                    del self.starts[p + 1]
                    continue
            p += 1
        self.length = end
        self.header[15] |= _CACHE_INVALID
        return 1

    def to_dense(self) -> bytearray | None:
        raw = _sparse_registers(bytes(self.mem[:self.length]), self.mem[self.length])
        if raw is None:
            return None
        header = bytearray(self.header)  # Redis copies the header, cache byte included
        header[4] = _DENSE
        return header + _raw_to_dense(raw)


# ---------------------------------------------------------------- dense registers


def _table(fn) -> bytes:
    return bytes(fn(b) & 0xFF for b in range(256))


_LOW6 = _table(lambda b: b & 63)
_HIGH2 = _table(lambda b: b >> 6)
_HIGH4 = _table(lambda b: b >> 4)
_HIGH6 = _table(lambda b: b >> 2)
_LOW4_UP2 = _table(lambda b: (b & 15) << 2)
_LOW2_UP4 = _table(lambda b: (b & 3) << 4)
_LOW2_UP6 = _table(lambda b: (b & 3) << 6)
_LOW6_UP2 = _table(lambda b: (b & 63) << 2)
_LOW4_UP4 = _table(lambda b: (b & 15) << 4)


def _or(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "little") | int.from_bytes(b, "little")).to_bytes(len(a), "little")


def _dense_to_raw(payload: bytes) -> bytes:
    """12288 packed bytes -> 16384 one-byte registers.

    Every 3 bytes hold 4 registers, least significant bits first.
    """
    b0, b1, b2 = payload[0::3], payload[1::3], payload[2::3]
    raw = bytearray(REGISTERS)
    raw[0::4] = b0.translate(_LOW6)
    raw[1::4] = _or(b0.translate(_HIGH2), b1.translate(_LOW4_UP2))
    raw[2::4] = _or(b1.translate(_HIGH4), b2.translate(_LOW2_UP4))
    raw[3::4] = b2.translate(_HIGH6)
    return bytes(raw)


def _raw_to_dense(raw: bytes) -> bytes:
    r0, r1, r2, r3 = raw[0::4], raw[1::4], raw[2::4], raw[3::4]
    packed = bytearray(DENSE_PAYLOAD)
    packed[0::3] = _or(r0, r1.translate(_LOW2_UP6))
    packed[1::3] = _or(r1.translate(_HIGH6), r2.translate(_LOW4_UP4))
    packed[2::3] = _or(r2.translate(_HIGH4), r3.translate(_LOW6_UP2))
    return bytes(packed)


def _dense_set(mem: bytearray, index: int, count: int) -> bool:
    """hllDenseSet() on a whole dense value: grow the register if smaller."""
    bit = index * 6
    pos = HEADER_SIZE + (bit >> 3)
    shift = bit & 7
    if shift <= 2:  # the register sits inside one byte
        old = (mem[pos] >> shift) & 63
    else:
        old = ((mem[pos] >> shift) | (mem[pos + 1] << (8 - shift))) & 63
    if count <= old:
        return False
    mem[pos] = ((mem[pos] & ~(63 << shift)) | (count << shift)) & 0xFF
    if shift > 2:
        mem[pos + 1] = ((mem[pos + 1] & ~(63 >> (8 - shift))) | (count >> (8 - shift))) & 0xFF
    return True


# Per-byte max of two register arrays (values < 128) using big-int SWAR:
# (a | 0x80) - b keeps bit 7 of a byte set exactly when a >= b.
_HIGH_BITS = int.from_bytes(b"\x80" * REGISTERS, "little")
_ALL_BITS = (1 << (8 * REGISTERS)) - 1


def _raw_max(a: bytes, b: bytes) -> bytes:
    x = int.from_bytes(a, "little")
    y = int.from_bytes(b, "little")
    keep_x = (((x | _HIGH_BITS) - y) & _HIGH_BITS) >> 7
    keep_x *= 0xFF
    return ((x & keep_x) | (y & (_ALL_BITS ^ keep_x))).to_bytes(REGISTERS, "little")


# ---------------------------------------------------------------- estimator


def _histogram(raw: bytes) -> list[int]:
    histogram = [0] * 64
    remaining = len(raw)
    for value in range(64):
        if not remaining:
            break
        n = raw.count(value)
        histogram[value] = n
        remaining -= n
    return histogram


def _sigma(x: float) -> float:
    if x == 1.0:
        return math.inf
    y = 1.0
    z = x
    while True:
        x *= x
        previous = z
        z += x * y
        y += y
        if previous == z:
            return z


def _tau(x: float) -> float:
    if x == 0.0 or x == 1.0:
        return 0.0
    y = 1.0
    z = 1.0 - x
    while True:
        x = math.sqrt(x)
        previous = z
        y *= 0.5
        gap = 1.0 - x
        z -= gap * gap * y  # C's pow(1 - x, 2), which GCC emits as a multiply
        if previous == z:
            return z / 3


def _estimate(histogram: list[int]) -> int:
    """Ertl's improved estimator exactly as hllCount() evaluates it."""
    m = float(REGISTERS)
    z = m * _tau((m - histogram[HLL_Q + 1]) / m)
    for j in range(HLL_Q, 0, -1):
        z += histogram[j]
        z *= 0.5
    z += m * _sigma(histogram[0] / m)
    estimate = _ALPHA_INF * m * m / z
    whole = math.floor(estimate)
    return whole + 1 if estimate - whole >= 0.5 else whole  # llroundl


def _raw_registers(value: bytes) -> bytes:
    """One byte per register; raises InvalidHLL for a bad header or payload."""
    if _check(value) == _DENSE:
        return _dense_to_raw(value[HEADER_SIZE:])
    raw = _sparse_registers(value[HEADER_SIZE:])
    if raw is None:
        raise InvalidHLL("corrupt")
    return raw


# ---------------------------------------------------------------- commands


def pfadd(value: bytes | None, elements: list[bytes],
          sparse_max_bytes: int = DEFAULT_SPARSE_MAX_BYTES) -> tuple[bytes, bool]:
    """PFADD: (new value, whether to reply 1).  Creating the key counts as a change."""
    created = value is None
    if created:
        value = new_hll()
    encoding = _check(value)
    changed = created
    sparse = _SparseEditor(value) if encoding == _SPARSE else None
    dense = bytearray(value) if sparse is None else None
    for element in elements:
        index, count = _pattern(element)
        if sparse is not None:
            result = sparse.set(index, count, sparse_max_bytes)
            if result == _PROMOTE:
                dense = sparse.to_dense()
                if dense is None:
                    result = -1
                else:
                    sparse = None
                    result = _dense_set(dense, index, count)
            if result == -1:
                partial = sparse.value()
                raise InvalidHLL("corrupt", None if partial == value else partial)
            changed |= result == 1
        else:
            changed |= _dense_set(dense, index, count)
    if not changed:
        return value, False
    result = bytearray(sparse.value() if sparse is not None else dense)
    result[15] |= _CACHE_INVALID
    return bytes(result), True


def pfcount(values: list[bytes | None]) -> tuple[int, list[bytes | None]]:
    """PFCOUNT over the values of the given keys (None for a missing key).

    With one value the cached cardinality is used or recomputed; a recomputed
    cache comes back as the value to store (Redis stores and propagates it
    even when the bytes end up identical).  With several, the union is
    estimated and nothing is cached.
    """
    unchanged: list[bytes | None] = [None] * len(values)
    if len(values) == 1:
        value = values[0]
        if value is None:
            return 0, unchanged
        _check(value)
        if not value[15] & _CACHE_INVALID:
            return int.from_bytes(value[8:16], "little"), unchanged
        card = _estimate(_histogram(_raw_registers(value)))
        return card, [value[:8] + card.to_bytes(8, "little") + value[HEADER_SIZE:]]
    union = bytes(REGISTERS)
    for value in values:
        if value is not None:
            union = _raw_max(union, _raw_registers(value))
    return _estimate(_histogram(union)), unchanged


def pfmerge(values: list[bytes | None],
            sparse_max_bytes: int = DEFAULT_SPARSE_MAX_BYTES) -> bytes:
    """PFMERGE: values[0] is the destination's current value (None if
    missing), the rest are the sources; returns what Redis stores.

    The destination turns dense if any input is dense; otherwise the union is
    written into it register by register with sparse sets, which may promote.
    """
    union = bytes(REGISTERS)
    any_dense = False
    for value in values:
        if value is not None:
            union = _raw_max(union, _raw_registers(value))
            any_dense |= value[4] == _DENSE
    destination = values[0] if values and values[0] is not None else new_hll()
    if not any_dense:
        editor = _SparseEditor(destination)
        for match in re.finditer(rb"[^\x00]", union):
            index = match.start()
            if editor.set(index, union[index], sparse_max_bytes) == _PROMOTE:
                break
        else:
            return _invalidated(editor.header, _SPARSE) + bytes(editor.mem[:editor.length])
        header = editor.header
    else:
        header = destination[:HEADER_SIZE]
    # Dense: every register ends up exactly at the union (the destination is one
    # of the inputs, so nothing in it exceeds the union).
    return _invalidated(header, _DENSE) + _raw_to_dense(union)


# ---------------------------------------------------------------- PFDEBUG helpers


def encoding(value: bytes) -> str:
    """PFDEBUG ENCODING."""
    return "dense" if _check(value) == _DENSE else "sparse"


def to_dense(value: bytes) -> bytes:
    """hllSparseToDense(): the dense form (header copied as is); PFDEBUG TODENSE/GETREG."""
    if _check(value) == _DENSE:
        return value
    raw = _sparse_registers(value[HEADER_SIZE:])
    if raw is None:
        raise InvalidHLL("corrupt")
    return value[:4] + bytes([_DENSE]) + value[5:HEADER_SIZE] + _raw_to_dense(raw)


def registers(value: bytes) -> list[int]:
    """PFDEBUG GETREG: the 16384 register values."""
    return list(_dense_to_raw(to_dense(value)[HEADER_SIZE:]))


def decode_sparse(value: bytes) -> str:
    """PFDEBUG DECODE text; ValueError for a dense value."""
    if _check(value) != _SPARSE:
        raise ValueError("HLL encoding is not sparse")
    payload = value[HEADER_SIZE:]
    words = []
    p = 0
    while p < len(payload):
        op = payload[p]
        if op < 0x40:
            words.append(f"z:{op + 1}")
            p += 1
        elif op < 0x80:
            low = payload[p + 1] if p + 1 < len(payload) else 0
            words.append(f"Z:{((op & 0x3F) << 8 | low) + 1}")
            p += 2
        else:
            words.append(f"v:{((op >> 2) & 0x1F) + 1},{(op & 3) + 1}")
            p += 1
    return " ".join(words)


def selftest(elements: int = 20000) -> None:
    """A quick PFSELFTEST: register packing round trips, sparse and dense
    agree, and the estimate stays within 6 standard errors."""
    rng = random.Random()
    for _ in range(3):
        raw = bytes(rng.getrandbits(6) for _ in range(REGISTERS))
        if _dense_to_raw(_raw_to_dense(raw)) != raw:
            raise AssertionError("TESTFAILED register packing")
        dense = bytearray(HEADER_SIZE + DENSE_PAYLOAD)
        for index in rng.sample(range(REGISTERS), 200):
            _dense_set(dense, index, raw[index])
            if _dense_to_raw(bytes(dense[HEADER_SIZE:]))[index] != raw[index]:
                raise AssertionError(f"TESTFAILED register {index}")
    sparse = new_hll()
    dense_value = to_dense(sparse)
    seed = rng.getrandbits(64)
    checkpoint = 1
    relerr = 1.04 / math.sqrt(REGISTERS)
    for j in range(1, elements + 1):
        element = struct.pack("<Q", j ^ seed)
        sparse, _ = pfadd(sparse, [element])
        dense_value, _ = pfadd(dense_value, [element])
        if j == checkpoint:
            if j < DEFAULT_SPARSE_MAX_BYTES // 2 and sparse[4] != _SPARSE:
                raise AssertionError("TESTFAILED sparse encoding not used")
            count = pfcount([dense_value])[0]
            if count != pfcount([sparse])[0]:
                raise AssertionError("TESTFAILED dense/sparse disagree")
            allowed = 1 if j == 10 else math.ceil(relerr * 6 * j)
            if abs(j - count) > allowed:
                raise AssertionError(f"TESTFAILED Too big error. card:{j} abserr:{abs(j - count)}")
            checkpoint *= 10
