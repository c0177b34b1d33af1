"""The list value: a deque, so pushes and pops at either end are O(1).

Command bodies use the deque API directly on the hot paths (append, appendleft,
pop, popleft, extend, extendleft, indexing) and the helpers below for ranges.
Indexes given to the helpers are already normalized (0 <= start <= end < len).
"""

from __future__ import annotations

from collections import deque
from itertools import islice


class ListValue(deque):
    __slots__ = ()
    kind = b"list"

    def encoding(self, config) -> bytes:
        # Redis 7.0 stores every list as a quicklist (listpack lists arrived in 7.2).
        return b"quicklist"

    def copy(self) -> "ListValue":
        return ListValue(self)

    def sample_items(self, n: int) -> list:
        return list(islice(self, n))

    def slice(self, start: int, end: int) -> list:
        """Elements start..end inclusive, walking from the nearer end of the list."""
        n = len(self)
        if start == 0 and end == n - 1:
            return list(self)
        if start <= n - 1 - end:
            return list(islice(self, start, end + 1))
        out = list(islice(reversed(self), n - 1 - end, n - start))
        out.reverse()
        return out

    def pop_head(self, count: int) -> list:
        """Remove and return up to ``count`` elements from the head, head first."""
        if count >= len(self):
            out = list(self)
            self.clear()
            return out
        popleft = self.popleft
        return [popleft() for _ in range(count)]

    def pop_tail(self, count: int) -> list:
        """Remove and return up to ``count`` elements from the tail, tail first."""
        if count >= len(self):
            out = list(self)
            out.reverse()
            self.clear()
            return out
        pop = self.pop
        return [pop() for _ in range(count)]

    def trim(self, start: int, end: int) -> int:
        """Keep only start..end inclusive (an empty range clears); returns elements removed."""
        n = len(self)
        if start > end or start >= n:
            self.clear()
            return n
        end = min(end, n - 1)
        keep = end - start + 1
        removed = n - keep
        if removed == 0:
            return 0
        if keep < removed:
            kept = self.slice(start, end)
            self.clear()
            self.extend(kept)
        else:
            popleft = self.popleft
            for _ in range(start):
                popleft()
            pop = self.pop
            for _ in range(n - 1 - end):
                pop()
        return removed

    def remove_value(self, value: bytes, count: int) -> int:
        """LREM: drop ``value`` up to ``count`` times from the head (negative: from the tail, 0: all)."""
        present = self.count(value)
        if not present:
            return 0
        limit = abs(count)
        if count == 0 or limit >= present:
            kept = [e for e in self if e != value]
            self.clear()
            self.extend(kept)
            return present
        if count > 0:
            for _ in range(limit):
                self.remove(value)
        else:
            # deque.remove works from the head: flip, remove, flip back (both O(n) in C).
            self.reverse()
            for _ in range(limit):
                self.remove(value)
            self.reverse()
        return limit
