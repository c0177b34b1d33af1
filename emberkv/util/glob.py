"""Redis-style glob matching (``stringmatchlen``) via a cached translation to regex."""

from __future__ import annotations

import re
from functools import lru_cache


def _translate(pat: bytes) -> bytes:
    """Regex source for a glob, built from its tokens (see _tokens)."""
    out = bytearray()
    for tok in _tokens(pat, False):
        if tok == "*":
            out += b".*"
        elif tok == "?":
            out += b"."
        elif len(tok) == 1:
            out += re.escape(bytes(tok))
        elif not tok:
            out += b"(?!)"
        else:
            out += b"[" + b"".join(b"\\x%02x" % ch for ch in sorted(tok)) + b"]"
    return bytes(out)


@lru_cache(maxsize=256)
def compile_glob(pattern: bytes, nocase: bool = False):
    flags = re.DOTALL | (re.IGNORECASE if nocase else 0)
    return re.compile(_translate(pattern) + b"\\Z", flags)


def _tokens(pat: bytes, nocase: bool):
    """Split a glob into tokens: ('*',), ('?',) or ('set', negate, predicate-bytes-set)/literal ints."""
    toks = []
    i, n = 0, len(pat)
    while i < n:
        c = pat[i]
        if c == 0x2A:
            if not toks or toks[-1] != "*":
                toks.append("*")
        elif c == 0x3F:
            toks.append("?")
        elif c == 0x5C and i + 1 < n:
            i += 1
            toks.append(frozenset(_fold(pat[i], nocase)))
        elif c == 0x5B:
            i += 1
            negate = i < n and pat[i] == 0x5E
            if negate:
                i += 1
            members = set()
            while i < n:
                c = pat[i]
                if c == 0x5C and i + 1 < n:
                    i += 1
                    members.update(_fold(pat[i], nocase))
                elif c == 0x5D:
                    break
                elif i + 2 < n and pat[i + 1] == 0x2D:
                    lo, hi = sorted((pat[i], pat[i + 2]))
                    for ch in range(lo, hi + 1):
                        members.update(_fold(ch, nocase))
                    i += 2
                else:
                    members.update(_fold(c, nocase))
                i += 1
            if negate:
                members = set(range(256)) - members
            toks.append(frozenset(members))
        else:
            toks.append(frozenset(_fold(c, nocase)))
        i += 1
    return toks


def _fold(ch: int, nocase: bool):
    if nocase and (65 <= ch <= 90 or 97 <= ch <= 122):
        return (ch | 0x20, ch & ~0x20)
    return (ch,)


def _match_tokens(toks, s: bytes) -> bool:
    """Iterative wildcard matching with one backtrack point: O(len(s) * len(toks)) worst case."""
    ti = si = 0
    star_t = star_s = -1
    nt, ns = len(toks), len(s)
    while si < ns:
        if ti < nt:
            t = toks[ti]
            if t == "*":
                star_t, star_s = ti, si
                ti += 1
                continue
            if t == "?" or s[si] in t:
                ti += 1
                si += 1
                continue
        if star_t < 0:
            return False
        star_s += 1
        si = star_s
        ti = star_t + 1
    while ti < nt and toks[ti] == "*":
        ti += 1
    return ti == nt


@lru_cache(maxsize=256)
def _compiled(pattern: bytes, nocase: bool):
    # Regex is fastest, but several stars can make it backtrack exponentially:
    # those patterns use the linear token matcher instead.
    if pattern.count(b"*") <= 2:
        m = compile_glob(pattern, nocase).match
        return lambda s: m(s) is not None
    toks = _tokens(pattern, nocase)
    return lambda s: _match_tokens(toks, s)


def glob_match(pattern: bytes, string: bytes, nocase: bool = False) -> bool:
    if pattern == b"*":
        return True
    return _compiled(pattern, nocase)(string)


def glob_matcher(pattern: bytes, nocase: bool = False):
    """A predicate ``f(bytes) -> bool`` for repeated matching."""
    if pattern == b"*":
        return lambda s: True
    return _compiled(pattern, nocase)
