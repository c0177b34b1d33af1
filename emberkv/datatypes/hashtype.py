"""Redis hash values: field -> value, with optional per-field expiry (Redis 7.4).

Fields keep insertion order (a dict), which is also the order a small Redis
hash (listpack) replies in.  Expiry times exist only once a field gets one:
``ttl`` maps field -> absolute unix time in ms, and a lazy min-heap of
``(when, field)`` finds the next field to expire without a scan; heap entries
whose time no longer matches ``ttl`` are stale and skipped.
"""

from __future__ import annotations

import heapq
from itertools import islice


class HashValue:
    kind = b"hash"
    __slots__ = ("d", "listpack", "ex", "ttl", "_heap", "sched", "cursors", "__weakref__")

    def __init__(self, pairs=None):
        self.d: dict = {} if pairs is None else dict(pairs)
        # Redis converts listpack -> hashtable once and never back; commands
        # clear this flag through check_encoding().
        self.listpack = True
        # A small hash that got a field-expiry command reports "listpackex" from then on
        # (Redis 7.4 converts it to that encoding and never back).
        self.ex = False
        self.ttl: dict | None = None
        self._heap: list | None = None
        # Earliest time this hash sits in the server's active field-expiry queue.
        self.sched = None
        self.cursors = None  # HSCAN snapshots, created by the first HSCAN that needs them

    # --- plain access -----------------------------------------------------------
    def __len__(self) -> int:
        return len(self.d)

    def __contains__(self, field) -> bool:
        return field in self.d

    def __iter__(self):
        return iter(self.d)

    def get(self, field):
        return self.d.get(field)

    def items(self):
        return self.d.items()

    def fields(self):
        return self.d.keys()

    def values(self):
        return self.d.values()

    def set(self, field: bytes, value: bytes) -> bool:
        """Set ``field`` (dropping any expiry it had); True when the field is new."""
        d = self.d
        new = field not in d
        d[field] = value
        if self.ttl is not None and not new:
            self._forget_ttl(field)
        return new

    def delete(self, field: bytes) -> bool:
        if self.d.pop(field, None) is None:
            return False
        if self.ttl is not None:
            self._forget_ttl(field)
        return True

    # --- encoding ---------------------------------------------------------------
    def encoding(self, config=None) -> bytes:
        if self.listpack:
            return b"listpackex" if self.ex else b"listpack"
        return b"hashtable"

    def check_encoding(self, config, strings=()) -> None:
        """After a write: convert to hashtable if the size or a new string is too big."""
        if self.listpack:
            if len(self.d) > config.hash_max_listpack_entries:
                self.listpack = False
                return
            limit = config.hash_max_listpack_value
            for s in strings:
                if len(s) > limit:
                    self.listpack = False
                    return

    def fit_encoding(self, config) -> "HashValue":
        """Pick the encoding from scratch (a freshly loaded or built hash)."""
        limit = config.hash_max_listpack_value
        self.listpack = len(self.d) <= config.hash_max_listpack_entries and all(
            len(f) <= limit and len(v) <= limit for f, v in self.d.items())
        return self

    # --- field expiry -----------------------------------------------------------
    def has_ttl(self) -> bool:
        return bool(self.ttl)

    def field_expire(self, field):
        """Absolute expiry of ``field`` in ms, or None."""
        t = self.ttl
        return None if t is None else t.get(field)

    def set_field_expire(self, field: bytes, when_ms: int) -> None:
        if self.ttl is None:
            self.ttl = {}
            self._heap = []
        self.ttl[field] = when_ms
        heapq.heappush(self._heap, (when_ms, field))
        if len(self._heap) > 2 * len(self.ttl) + 32:
            self._heap = [(w, f) for f, w in self.ttl.items()]
            heapq.heapify(self._heap)

    def persist_field(self, field: bytes) -> bool:
        if self.ttl is None or field not in self.ttl:
            return False
        self._forget_ttl(field)
        return True

    def next_expire(self):
        """Earliest field expiry time in ms, or None."""
        if not self.ttl:
            return None
        heap, ttl = self._heap, self.ttl
        while heap:
            when, field = heap[0]
            if ttl.get(field) == when:
                return when
            heapq.heappop(heap)
        return None

    def pop_expired(self, now_ms: int, limit: int = -1) -> list:
        """Delete fields whose time is before ``now_ms`` (at most ``limit``); return them."""
        out = []
        if not self.ttl:
            return out
        heap, ttl, d = self._heap, self.ttl, self.d
        while heap and heap[0][0] < now_ms and len(out) != limit:
            when, field = heapq.heappop(heap)
            if ttl.get(field) == when:
                del ttl[field]
                del d[field]
                out.append(field)
        if not ttl:
            self.ttl = self._heap = None
        return out

    def _forget_ttl(self, field) -> None:
        ttl = self.ttl
        if ttl.pop(field, None) is not None and not ttl:
            self.ttl = self._heap = None

    # --- protocol helpers -------------------------------------------------------
    def copy(self) -> "HashValue":
        h = HashValue()
        h.d = self.d.copy()
        h.listpack = self.listpack
        h.ex = self.ex
        if self.ttl:
            h.ttl = self.ttl.copy()
            h._heap = list(self._heap)
        return h

    def sample_items(self, n: int) -> list:
        return [f + v for f, v in islice(self.d.items(), n)]
