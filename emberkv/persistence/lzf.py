"""LZF compression as used inside RDB files (RDB_ENC_LZF strings).

Format (a sequence of tokens, decoded left to right):
  000LLLLL <L+1 literal bytes>             literal run of 1..32 bytes
  LLLooooo oooooooo                        back reference, length L+2 (L = 1..6)
  111ooooo LLLLLLLL oooooooo               back reference, length L+9
The offset o (13 bits) points o+1 bytes back into the output; a reference may
overlap the bytes it produces (runs of a repeated pattern).

The compressor is a plain greedy matcher over 3-byte prefixes; its output is
not byte-identical to liblzf's but any LZF decoder (Redis included) reads it.
"""

__all__ = ["compress", "decompress", "LZFError"]

_MAX_OFFSET = 8192
_MAX_MATCH = 264
_MAX_LITERAL_RUN = 32
# Give up on inputs whose first bytes did not compress at all: random data
# would otherwise cost a Python-level loop iteration per byte.
_GIVE_UP_AFTER = 4096


class LZFError(ValueError):
    pass


def _match_length(data: bytes, ref: int, pos: int, limit: int) -> int:
    """Length of the common prefix of data[ref:] and data[pos:], 3 <= result <= limit."""
    if limit <= 3 or data[ref + 3] != data[pos + 3]:
        return 3
    good = 4
    probe = 8
    while probe <= limit and data[ref:ref + probe] == data[pos:pos + probe]:
        good = probe
        probe <<= 1
    bad = probe if probe <= limit else limit + 1
    if bad == limit + 1 and data[ref:ref + limit] == data[pos:pos + limit]:
        return limit
    while bad - good > 1:
        mid = (good + bad) >> 1
        if data[ref:ref + mid] == data[pos:pos + mid]:
            good = mid
        else:
            bad = mid
    return good


def _repeated_trigrams(data: bytes) -> int:
    """Positions whose 3-byte sequence already occurred earlier.

    A back reference of length L saves at most L - 2 bytes and covers L - 2
    such positions, and the output always starts with a literal run costing
    one byte, so saving k bytes needs at least k + 1 of them.  Counting them
    runs at C speed, which makes rejecting short incompressible values cheap.
    """
    return len(data) - 2 - len(set(zip(data, data[1:], data[2:])))


def _put_literals(out: bytearray, chunk: bytes) -> None:
    for start in range(0, len(chunk), _MAX_LITERAL_RUN):
        run = chunk[start:start + _MAX_LITERAL_RUN]
        out.append(len(run) - 1)
        out += run


def compress(data: bytes, max_size: int | None = None) -> bytes | None:
    """Compress *data*; return None if the result would exceed *max_size* bytes
    (default: len(data) - 1, i.e. only return output that saves space)."""
    data = bytes(data)
    size = len(data)
    if max_size is None:
        max_size = size - 1
    if size < 4 or max_size <= 0:
        return None
    if size <= _GIVE_UP_AFTER and _repeated_trigrams(data) < size - max_size + 1:
        return None
    out = bytearray()
    last_seen: dict[bytes, int] = {}
    literal_start = 0
    pos = 0
    end = size - 2
    while pos < end:
        key = data[pos:pos + 3]
        ref = last_seen.get(key)
        last_seen[key] = pos
        distance = pos - ref if ref is not None else _MAX_OFFSET + 1
        if distance > _MAX_OFFSET:
            pos += 1
            if pos == _GIVE_UP_AFTER and not out:
                return None
            continue
        remaining = size - pos
        length = _match_length(data, ref, pos, remaining if remaining < _MAX_MATCH else _MAX_MATCH)
        if literal_start < pos:
            _put_literals(out, data[literal_start:pos])
        offset = distance - 1
        if length < 9:
            out.append(((length - 2) << 5) | (offset >> 8))
        else:
            out.append(0xE0 | (offset >> 8))
            out.append(length - 9)
        out.append(offset & 0xFF)
        pos += length
        literal_start = pos
        if len(out) > max_size:
            return None
    if not out:
        return None
    if literal_start < size:
        _put_literals(out, data[literal_start:])
    return bytes(out) if len(out) <= max_size else None


def decompress(data: bytes, expected_size: int) -> bytes:
    """Decompress *data*, which must expand to exactly *expected_size* bytes."""
    out = bytearray()
    pos = 0
    size = len(data)
    while pos < size:
        ctrl = data[pos]
        pos += 1
        if ctrl < 32:
            run = ctrl + 1
            if pos + run > size:
                raise LZFError("LZF literal run past end of input")
            out += data[pos:pos + run]
            pos += run
        else:
            length = ctrl >> 5
            if length == 7:
                if pos >= size:
                    raise LZFError("LZF back reference past end of input")
                length += data[pos]
                pos += 1
            if pos >= size:
                raise LZFError("LZF back reference past end of input")
            offset = ((ctrl & 0x1F) << 8) + data[pos] + 1
            pos += 1
            length += 2
            start = len(out) - offset
            if start < 0:
                raise LZFError("LZF back reference before start of output")
            if offset >= length:
                out += out[start:start + length]
            else:
                pattern = out[start:]
                out += (pattern * (length // offset + 1))[:length]
        if len(out) > expected_size:
            raise LZFError("LZF output longer than declared")
    if len(out) != expected_size:
        raise LZFError("LZF output shorter than declared")
    return bytes(out)
