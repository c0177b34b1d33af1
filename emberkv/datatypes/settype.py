"""The set value: a Python set plus what Redis exposes about its encoding.

Redis 7.0 keeps a set as an intset while every member is a canonical 64-bit
integer and the size stays within set-max-intset-entries; once converted to a
hashtable it never goes back.  ``_intset`` mirrors that (sticky) state, and
members of an intset-encoded set are reported in ascending numeric order, as
Redis iterates them.

Random picks (SPOP, SRANDMEMBER) need O(1) access by position, which a Python
set cannot give.  The first random pick builds an index (a list of members and
a member -> position dict); from then on adds and removals keep it current, so
each pick stays O(1).  Sets never picked at random pay nothing for it.

Commands talk to a set through: ``in``, ``len``, iteration, ``add_members``,
``remove_members``, ``random_member``, ``pop_random``, ``ordered`` and
``is_intset``.
"""

from __future__ import annotations

import random

_random = random.random

LLONG_MIN = -(2**63)
LLONG_MAX = 2**63 - 1


def is_canonical_int(b: bytes) -> bool:
    """True if ``b`` is how Redis would print some int64 (what an intset can hold)."""
    n = len(b)
    if n == 0 or n > 20:
        return False
    if b.isdigit():
        return (b[0] != 0x30 or n == 1) and (n < 19 or int(b) <= LLONG_MAX)
    if n > 1 and b[0] == 0x2D and b[1] != 0x30 and b[1:].isdigit():
        return n < 20 or int(b) >= LLONG_MIN
    return False


class SetValue(set):
    __slots__ = ("_intset", "_pick", "_pos", "cursors")
    kind = b"set"

    def __init__(self, members=(), intset: bool | None = None):
        super().__init__(members)
        if intset is None:
            intset = all(is_canonical_int(m) for m in self)
        self._intset = intset
        self._pick = None
        self._pos = None
        self.cursors = None  # SSCAN snapshots (util.scan.ScanCursors), made by the first SSCAN

    @classmethod
    def build(cls, members, max_intset: int) -> "SetValue":
        """A new set as Redis builds one member by member (SINTERSTORE, SPOP's rebuild...)."""
        s = cls(members)
        if s._intset and len(s) > max_intset:
            s._intset = False
        return s

    # --- protocol -----------------------------------------------------------------
    def encoding(self, config) -> bytes:
        return b"intset" if self.is_intset(config.set_max_intset_entries) else b"hashtable"

    def recheck_encoding(self, max_intset: int) -> None:
        """Encoding as if the set had just been rebuilt member by member (SPOP's big pops)."""
        self._intset = len(self) <= max_intset and all(is_canonical_int(m) for m in self)

    def is_intset(self, max_entries: int) -> bool:
        return self._intset and len(self) <= max_entries

    def copy(self) -> "SetValue":
        return SetValue(self, self._intset)

    def sample_items(self, n: int) -> list:
        out = []
        for m in self:
            if len(out) >= n:
                break
            out.append(m)
        return out

    # --- writes -------------------------------------------------------------------
    def add_members(self, members, max_intset: int) -> int:
        """Add each member; returns how many were new."""
        before = len(self)
        if self._pick is None:
            if self._intset:
                for m in members:
                    if m not in self and not is_canonical_int(m):
                        self._intset = False
                        break
            self.update(members)
        else:
            pick, pos = self._pick, self._pos
            for m in members:
                if m not in pos:
                    if self._intset and not is_canonical_int(m):
                        self._intset = False
                    pos[m] = len(pick)
                    pick.append(m)
                    set.add(self, m)
        if self._intset and len(self) > max_intset:
            self._intset = False
        return len(self) - before

    def add_member(self, member: bytes, max_intset: int) -> bool:
        if member in self:
            return False
        if self._intset and (len(self) >= max_intset or not is_canonical_int(member)):
            self._intset = False
        set.add(self, member)
        if self._pick is not None:
            self._pos[member] = len(self._pick)
            self._pick.append(member)
        return True

    def remove_members(self, members) -> int:
        """Remove each member present; returns how many were removed."""
        if self._pick is None:
            before = len(self)
            self.difference_update(members)
            return before - len(self)
        n = 0
        for m in members:
            if m in self:
                self._discard_indexed(m)
                n += 1
        return n

    def remove_member(self, member: bytes) -> bool:
        if member not in self:
            return False
        if self._pick is None:
            set.discard(self, member)
        else:
            self._discard_indexed(member)
        return True

    def _discard_indexed(self, m) -> None:
        set.discard(self, m)
        pick, pos = self._pick, self._pos
        i = pos.pop(m)
        last = pick.pop()
        if i < len(pick):
            pick[i] = last
            pos[last] = i

    # --- random access ---------------------------------------------------------------
    def _build_index(self) -> list:
        pick = self._pick = list(self)
        self._pos = {m: i for i, m in enumerate(pick)}
        return pick

    def random_member(self) -> bytes:
        pick = self._pick
        if pick is None:
            pick = self._build_index()
        return pick[int(_random() * len(pick))]

    def pop_random(self) -> bytes:
        m = self.random_member()
        self._discard_indexed(m)
        return m

    def random_members(self, count: int) -> list:
        """``count`` independent picks (repeats allowed)."""
        pick = self._pick
        if pick is None:
            pick = self._build_index()
        return random.choices(pick, k=count)

    def random_sample(self, count: int) -> list:
        """``count`` distinct members chosen uniformly (count <= len)."""
        pick = self._pick
        if pick is None:
            pick = self._build_index()
        return random.sample(pick, count)

    # --- reads ----------------------------------------------------------------------
    def ordered(self, max_intset: int) -> list:
        """Members in the order Redis would iterate them."""
        if self.is_intset(max_intset):
            return sorted(self, key=int)
        return list(self)
