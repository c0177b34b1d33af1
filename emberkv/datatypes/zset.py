"""Redis sorted sets: member -> score, plus an index ordered by (score, member).

The index is a ``sortedcontainers.SortedList`` of ``(score, member)`` tuples,
which orders exactly like Redis's skiplist (score, then memcmp of members) and
gives O(log N) insert, delete, rank and positional access.

Score ranges are half-open index intervals found by bisection.  Lex ranges
assume equal scores, as Redis documents; when the scores differ, the result
follows Redis's small-set (listpack) walk, which is the deterministic one.
"""

from __future__ import annotations

import math
import random
from itertools import islice

from sortedcontainers import SortedList


class _LexBound:
    """The '-' and '+' lex range ends: below / above every string."""
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


LEX_MIN = _LexBound("LEX_MIN")
LEX_MAX = _LexBound("LEX_MAX")

_INF = math.inf


def lex_cmp(a, b) -> int:
    """Compare two lex range items (bytes or LEX_MIN / LEX_MAX)."""
    if a is b:
        return 0
    if a is LEX_MIN or b is LEX_MAX:
        return -1
    if a is LEX_MAX or b is LEX_MIN:
        return 1
    return (a > b) - (a < b)


def lex_empty(lo, hi, lo_excl: bool, hi_excl: bool) -> bool:
    """True when a lex range can contain nothing whatever the set holds."""
    c = lex_cmp(lo, hi)
    return c > 0 or (c == 0 and (lo_excl or hi_excl))


def _gte_min(member, lo, lo_excl) -> bool:
    c = lex_cmp(member, lo)
    return c > 0 if lo_excl else c >= 0


def _lte_max(member, hi, hi_excl) -> bool:
    c = lex_cmp(member, hi)
    return c < 0 if hi_excl else c <= 0


def _above(x: float) -> tuple:
    """Bisection key just past every element with score <= x."""
    return (math.nextafter(x, _INF),)


class ZSet:
    kind = b"zset"
    __slots__ = ("scores", "order", "listpack", "cursors")

    def __init__(self, items=None, listpack: bool = True):
        self.scores: dict = {}
        self.order = SortedList()
        # Redis converts listpack -> skiplist as the set grows (ZADD clears this flag)
        # and never back, except for results it builds (fit_encoding).
        self.listpack = listpack
        self.cursors = None  # ZSCAN snapshots, created by the first ZSCAN that needs them
        if items:
            for member, score in items:
                self.add(member, score)

    # --- single members ---------------------------------------------------------
    def __len__(self) -> int:
        return len(self.scores)

    def __contains__(self, member) -> bool:
        return member in self.scores

    def add(self, member: bytes, score: float) -> bool:
        """Insert or re-score ``member``; True when it is new."""
        if score == 0 and self.listpack:
            score = 0.0  # a listpack stores integral scores as integers: -0 becomes 0
        scores = self.scores
        old = scores.get(member)
        if old is None:
            scores[member] = score
            self.order.add((score, member))
            return True
        if old != score:
            order = self.order
            order.remove((old, member))
            order.add((score, member))
            scores[member] = score
        return False

    def remove(self, member: bytes) -> bool:
        score = self.scores.pop(member, None)
        if score is None:
            return False
        self.order.remove((score, member))
        return True

    def score(self, member: bytes):
        return self.scores.get(member)

    def rank(self, member: bytes, reverse: bool = False):
        """0-based position of ``member`` (from the top when ``reverse``), or None."""
        score = self.scores.get(member)
        if score is None:
            return None
        i = self.order.index((score, member))
        return len(self.order) - 1 - i if reverse else i

    # --- ordered access ---------------------------------------------------------
    def members_in_order(self) -> list:
        return [m for _, m in self.order]

    def items(self, reverse: bool = False):
        """(member, score) pairs in ascending (or descending) order."""
        return ((m, s) for s, m in (reversed(self.order) if reverse else self.order))

    def rank_bounds(self, start: int, stop: int):
        """Redis's index sanitising for ZRANGE/ZREMRANGEBYRANK: inclusive (start, stop) or None."""
        n = len(self.order)
        if start < 0:
            start += n
        if stop < 0:
            stop += n
        if start < 0:
            start = 0
        if start > stop or start >= n:
            return None
        if stop >= n:
            stop = n - 1
        return start, stop

    def range_by_rank(self, start: int, stop: int, reverse: bool = False) -> list:
        """(member, score) pairs from rank ``start`` to ``stop`` inclusive (negative = from the end)."""
        b = self.rank_bounds(start, stop)
        if b is None:
            return []
        start, stop = b
        n = len(self.order)
        if reverse:
            it = self.order.islice(n - 1 - stop, n - start, reverse=True)
        else:
            it = self.order.islice(start, stop + 1)
        return [(m, s) for s, m in it]

    def score_bounds(self, lo: float, hi: float, lo_excl: bool = False, hi_excl: bool = False):
        """Half-open index interval [i, j) of the elements with scores in the range."""
        order = self.order
        n = len(order)
        if lo_excl:
            i = n if lo == _INF else order.bisect_left(_above(lo))
        else:
            i = order.bisect_left((lo,))
        if hi_excl:
            j = order.bisect_left((hi,))
        else:
            j = n if hi == _INF else order.bisect_left(_above(hi))
        return i, max(i, j)

    def count_by_score(self, lo, hi, lo_excl=False, hi_excl=False) -> int:
        i, j = self.score_bounds(lo, hi, lo_excl, hi_excl)
        return j - i

    def range_by_score(self, lo: float, hi: float, lo_excl: bool = False, hi_excl: bool = False,
                       reverse: bool = False, offset: int = 0, count: int = -1) -> list:
        """(member, score) pairs with lo <= score <= hi (bounds optionally exclusive).

        ``offset``/``count`` behave like LIMIT: a negative count means all, a
        negative offset gives nothing (as in Redis).
        """
        i, j = self.score_bounds(lo, hi, lo_excl, hi_excl)
        return self._slice(i, j, reverse, offset, count)

    def lex_bounds(self, lo, hi, lo_excl: bool = False, hi_excl: bool = False, reverse: bool = False):
        """Half-open index interval [i, j) of the members in a lex range.

        ``lo``/``hi`` are bytes or LEX_MIN / LEX_MAX.  ``reverse`` matters only
        when scores differ (Redis then walks from the other end).
        """
        order = self.order
        n = len(order)
        if n == 0 or lex_empty(lo, hi, lo_excl, hi_excl):
            return 0, 0
        first_score = order[0][0]
        if first_score == order[-1][0]:
            if lo is LEX_MIN:
                i = 0
            elif lo is LEX_MAX:
                i = n
            elif lo_excl:
                i = order.bisect_right((first_score, lo))
            else:
                i = order.bisect_left((first_score, lo))
            if hi is LEX_MAX:
                j = n
            elif hi is LEX_MIN:
                j = 0
            elif hi_excl:
                j = order.bisect_left((first_score, hi))
            else:
                j = order.bisect_right((first_score, hi))
            return i, max(i, j)
        return self._lex_walk(lo, hi, lo_excl, hi_excl, reverse)

    def _lex_walk(self, lo, hi, lo_excl, hi_excl, reverse):
        order = self.order
        n = len(order)
        if not _gte_min(order[-1][1], lo, lo_excl) or not _lte_max(order[0][1], hi, hi_excl):
            return 0, 0
        if not reverse:
            i = 0
            while i < n and not _gte_min(order[i][1], lo, lo_excl):
                i += 1
            j = i
            while j < n and _lte_max(order[j][1], hi, hi_excl):
                j += 1
            return i, j
        j = n - 1
        while j >= 0 and not _lte_max(order[j][1], hi, hi_excl):
            j -= 1
        i = j
        while i >= 0 and _gte_min(order[i][1], lo, lo_excl):
            i -= 1
        return i + 1, j + 1

    def count_by_lex(self, lo, hi, lo_excl=False, hi_excl=False) -> int:
        i, j = self.lex_bounds(lo, hi, lo_excl, hi_excl)
        return j - i

    def range_by_lex(self, lo, hi, lo_excl: bool = False, hi_excl: bool = False,
                     reverse: bool = False, offset: int = 0, count: int = -1) -> list:
        """(member, score) pairs whose members fall in a lex range (see lex_bounds)."""
        i, j = self.lex_bounds(lo, hi, lo_excl, hi_excl, reverse)
        return self._slice(i, j, reverse, offset, count)

    def _slice(self, i, j, reverse, offset, count) -> list:
        if i >= j or offset < 0 or count == 0:
            return []
        if reverse:
            stop = j - offset
            start = i if count < 0 else max(i, stop - count)
            it = self.order.islice(start, max(start, stop), reverse=True)
        else:
            start = i + offset
            stop = j if count < 0 else min(j, start + count)
            it = self.order.islice(start, max(start, stop))
        return [(m, s) for s, m in it]

    # --- bulk removal -------------------------------------------------------------
    def remove_index_range(self, i: int, j: int) -> list:
        """Remove the elements at ascending positions [i, j); return their members."""
        order = self.order
        gone = order[i:j]
        del order[i:j]
        scores = self.scores
        out = []
        for _, m in gone:
            del scores[m]
            out.append(m)
        return out

    def remove_range_by_rank(self, start: int, stop: int) -> list:
        b = self.rank_bounds(start, stop)
        if b is None:
            return []
        return self.remove_index_range(b[0], b[1] + 1)

    def remove_range_by_score(self, lo, hi, lo_excl=False, hi_excl=False) -> list:
        i, j = self.score_bounds(lo, hi, lo_excl, hi_excl)
        return self.remove_index_range(i, j) if i < j else []

    def remove_range_by_lex(self, lo, hi, lo_excl=False, hi_excl=False) -> list:
        i, j = self.lex_bounds(lo, hi, lo_excl, hi_excl)
        return self.remove_index_range(i, j) if i < j else []

    def pop(self, count: int, from_max: bool = False) -> list:
        """Remove up to ``count`` lowest (or highest) elements; (member, score) pairs in pop order."""
        order = self.order
        n = len(order)
        k = min(count, n)
        if k <= 0:
            return []
        if k == 1:  # the common ZPOPMIN / BZPOPMIN case
            s, m = order.pop(-1 if from_max else 0)
            del self.scores[m]
            return [(m, s)]
        if from_max:
            gone = order[n - k:]
            del order[n - k:]
            gone.reverse()
        else:
            gone = order[:k]
            del order[:k]
        scores = self.scores
        for _, m in gone:
            del scores[m]
        return [(m, s) for s, m in gone]

    # --- randomness ----------------------------------------------------------------
    def random_item(self) -> tuple:
        s, m = self.order[random.randrange(len(self.order))]
        return m, s

    # --- encoding & protocol ----------------------------------------------------------
    def encoding(self, config=None) -> bytes:
        return b"listpack" if self.listpack else b"skiplist"

    def fit_encoding(self, config) -> "ZSet":
        """Pick the encoding from scratch (a freshly built or loaded set)."""
        limit = config.zset_max_listpack_value
        self.listpack = len(self.scores) <= config.zset_max_listpack_entries and all(
            len(m) <= limit for m in self.scores)
        if self.listpack:
            i, j = self.score_bounds(0.0, 0.0)
            for s, m in list(self.order.islice(i, j)):
                if math.copysign(1.0, s) < 0:
                    self.remove(m)
                    self.add(m, 0.0)
        return self

    def copy(self) -> "ZSet":
        z = ZSet()
        z.scores = self.scores.copy()
        z.order = self.order.copy()
        z.listpack = self.listpack
        return z

    def sample_items(self, n: int) -> list:
        return [m for _, m in islice(self.order, n)]
