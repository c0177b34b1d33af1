"""In-memory engine: one dict of values, one dict of expiry times per database."""

from __future__ import annotations

import random
import time

from ..util.scan import ScanCursors
from .base import Database


class MemoryDatabase(Database):
    __slots__ = ("index", "data", "expires", "atime", "hooks", "_exp_sample", "_exp_pos",
                 "_cursors", "lfu", "notify_new")

    def __init__(self, index: int, hooks):
        self.index = index
        self.data: dict = {}
        self.expires: dict = {}
        self.atime: dict = {}      # key -> coarse access clock (seconds), for IDLETIME/LRU
        self.lfu: dict = {}        # key -> LFU counter, only with an LFU policy
        self.hooks = hooks
        self._exp_sample: list = []
        self._exp_pos = 0
        self._cursors = ScanCursors()
        self.notify_new = False    # the server sets it while "new" keyspace events are enabled

    # --- reads -------------------------------------------------------------
    def lookup(self, key):
        v = self.data.get(key)
        if v is None:
            return None
        if self.expires:
            when = self.expires.get(key)
            if when is not None and self.hooks.now_ms() > when:
                if self.hooks.may_expire():
                    self._expire(key)
                return None
        hooks = self.hooks
        if hooks.touch_enabled:
            self.atime[key] = hooks.lru_clock
            if hooks.lfu_enabled:
                hooks.lfu_touch(self, key)
        return v

    def lookup_notouch(self, key):
        v = self.data.get(key)
        if v is None:
            return None
        if self.expires:
            when = self.expires.get(key)
            if when is not None and self.hooks.now_ms() > when:
                if self.hooks.may_expire():
                    self._expire(key)
                return None
        return v

    def contains(self, key) -> bool:
        return self.lookup_notouch(key) is not None

    def __len__(self) -> int:
        return len(self.data)

    def is_expired(self, key) -> bool:
        when = self.expires.get(key)
        return when is not None and self.hooks.now_ms() > when

    # --- writes ------------------------------------------------------------
    def set(self, key, value, keepttl: bool = False) -> None:
        if self.notify_new and key not in self.data:
            self.hooks.key_added(self, key)
        self.data[key] = value
        if not keepttl and self.expires:
            self.expires.pop(key, None)
        self.atime[key] = self.hooks.lru_clock

    def delete(self, key) -> bool:
        if self.data.pop(key, None) is None:
            return False
        if self.expires:
            self.expires.pop(key, None)
        self.atime.pop(key, None)
        if self.lfu:
            self.lfu.pop(key, None)
        return True

    def pop(self, key):
        v = self.data.pop(key, None)
        if v is not None:
            if self.expires:
                self.expires.pop(key, None)
            self.atime.pop(key, None)
            if self.lfu:
                self.lfu.pop(key, None)
        return v

    def clear(self) -> int:
        n = len(self.data)
        self.data = {}
        self.expires = {}
        self.atime = {}
        self.lfu = {}
        self._exp_sample = []
        self._exp_pos = 0
        return n

    # --- expiry ------------------------------------------------------------
    def get_expire(self, key):
        return self.expires.get(key)

    def set_expire(self, key, when_ms: int) -> None:
        self.expires[key] = when_ms

    def persist(self, key) -> bool:
        return self.expires.pop(key, None) is not None

    def expires_count(self) -> int:
        return len(self.expires)

    def _expire(self, key) -> None:
        self.delete(key)
        self.hooks.key_expired(self, key)

    def active_expire(self, deadline: float, batch: int = 20, threshold: float = 0.1) -> int:
        """Redis's sampling cycle: test ``batch`` keys at a time, go on while
        more than ``threshold`` of a batch had expired, stop at the deadline."""
        expired = 0
        expires = self.expires
        now_ms = self.hooks.now_ms
        while expires:
            if self._exp_pos >= len(self._exp_sample):
                self._exp_sample = list(expires)
                self._exp_pos = 0
            chunk = self._exp_sample[self._exp_pos:self._exp_pos + batch]
            self._exp_pos += batch
            now = now_ms()
            hits = 0
            for key in chunk:
                when = expires.get(key)
                if when is not None and now > when:
                    self._expire(key)
                    hits += 1
            expired += hits
            if hits <= len(chunk) * threshold and self._exp_pos < len(self._exp_sample):
                break
            if time.monotonic() > deadline:
                break
            if self._exp_pos >= len(self._exp_sample) and hits == 0:
                break
        return expired

    # --- iteration -----------------------------------------------------------
    def iter_keys(self):
        if not self.expires:
            return list(self.data)
        now = self.hooks.now_ms()
        exp = self.expires
        return [k for k in list(self.data) if not (k in exp and now > exp[k])]

    def scan(self, cursor: int, count: int):
        return self._cursors.step(cursor, count, self.data.keys)

    def random_key(self):
        if not self.data:
            return None
        keys = self.data.keys()
        # Avoid O(n) list() for big dicts: random index into a tuple only when small.
        for _ in range(100):
            if len(self.data) == 0:
                return None
            k = _random_dict_key(self.data)
            if k in self.expires and self.hooks.now_ms() > self.expires[k]:
                if self.hooks.may_expire():
                    self._expire(k)
                    continue
                return k
            return k
        return next(iter(keys), None)

    def swap_contents(self, other) -> None:
        """SWAPDB: exchange contents; the Database objects (held by clients) stay put."""
        for attr in ("data", "expires", "atime", "lfu", "_exp_sample", "_exp_pos", "_cursors"):
            a, b = getattr(self, attr), getattr(other, attr)
            setattr(self, attr, b)
            setattr(other, attr, a)

    # --- metadata ------------------------------------------------------------
    def idle_ms(self, key) -> int:
        t = self.atime.get(key)
        if t is None:
            return 0
        return max(0, (self.hooks.lru_clock - t)) * 1000

    def touch(self, key) -> None:
        self.atime[key] = self.hooks.lru_clock

    def set_idle(self, key, seconds: int) -> None:
        self.atime[key] = self.hooks.lru_clock - seconds


def _random_dict_key(d: dict):
    n = len(d)
    if n < 4096:
        return random.choice(list(d))
    # Sample a random position by skipping through an iterator from a random
    # stride start; bounded cost regardless of dict size.
    idx = random.randrange(min(n, 4096))
    it = iter(d)
    for _ in range(idx):
        next(it)
    return next(it)

