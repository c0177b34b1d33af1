"""Redis-style glob matching (``stringmatchlen``) via a cached translation to regex."""

from __future__ import annotations

import re
from functools import lru_cache


def _translate(pat: bytes) -> bytes:
    out = bytearray()
    i, n = 0, len(pat)
    while i < n:
        c = pat[i]
        if c == 0x2A:  # '*'
            while i + 1 < n and pat[i + 1] == 0x2A:
                i += 1
            out += b".*"
        elif c == 0x3F:  # '?'
            out += b"."
        elif c == 0x5C and i + 1 < n:  # '\' escapes the next byte
            i += 1
            out += re.escape(pat[i:i + 1])
        elif c == 0x5B:  # '['
            i += 1
            negate = i < n and pat[i] == 0x5E
            if negate:
                i += 1
            items = bytearray()
            while i < n:
                c = pat[i]
                if c == 0x5C and i + 1 < n:
                    i += 1
                    items += re.escape(pat[i:i + 1])
                elif c == 0x5D:
                    break
                elif i + 2 < n and pat[i + 1] == 0x2D:
                    lo, hi = pat[i], pat[i + 2]
                    if lo > hi:
                        lo, hi = hi, lo
                    items += b"\\x%02x-\\x%02x" % (lo, hi)
                    i += 2
                else:
                    items += re.escape(pat[i:i + 1])
                i += 1
            if not items:
                out += b"." if negate else b"(?!)"
            else:
                out += b"[" + (b"^" if negate else b"") + bytes(items) + b"]"
        else:
            out += re.escape(pat[i:i + 1])
        i += 1
    return bytes(out)


@lru_cache(maxsize=256)
def compile_glob(pattern: bytes, nocase: bool = False):
    flags = re.DOTALL | (re.IGNORECASE if nocase else 0)
    return re.compile(_translate(pattern) + b"\\Z", flags)


def glob_match(pattern: bytes, string: bytes, nocase: bool = False) -> bool:
    if pattern == b"*":
        return True
    return compile_glob(pattern, nocase).match(string) is not None


def glob_matcher(pattern: bytes, nocase: bool = False):
    """A predicate ``f(bytes) -> bool`` for repeated matching."""
    if pattern == b"*":
        return lambda s: True
    m = compile_glob(pattern, nocase).match
    return lambda s: m(s) is not None
