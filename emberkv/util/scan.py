"""Cursor bookkeeping for SCAN-family commands.

Python containers cannot be walked with a stateless cursor the way Redis walks
its hash tables, so a full iteration works over a snapshot of the members taken
at cursor 0.  That keeps Redis's guarantee (an element present for the whole
iteration is returned at least once) while each step stays O(COUNT).  The
cursor encodes the position and the snapshot's id; snapshots are kept in a
small LRU table, and an unknown cursor restarts from a fresh snapshot at the
same position rather than failing.
"""

from __future__ import annotations

from collections import OrderedDict

_ID_BITS = 16
_ID_MASK = (1 << _ID_BITS) - 1


class ScanCursors:
    def __init__(self, keep: int = 64):
        self._snaps: OrderedDict[int, list] = OrderedDict()
        self._next_id = 0
        self._keep = keep

    def step(self, cursor: int, count: int, members):
        """Return (next_cursor, batch).  ``members`` is a zero-arg callable giving an iterable."""
        if cursor == 0:
            snap = list(members())
            if len(snap) <= count:
                return 0, snap
            sid = self._new_id()
            self._snaps[sid] = snap
            pos = 0
        else:
            sid = cursor & _ID_MASK
            pos = cursor >> _ID_BITS
            snap = self._snaps.get(sid)
            if snap is None:
                snap = list(members())
                sid = self._new_id()
                self._snaps[sid] = snap
            else:
                self._snaps.move_to_end(sid)
        end = pos + max(count, 1)
        batch = snap[pos:end]
        if end >= len(snap):
            self._snaps.pop(sid, None)
            return 0, batch
        return (end << _ID_BITS) | sid, batch

    def _new_id(self) -> int:
        self._next_id = self._next_id % _ID_MASK + 1
        sid = self._next_id
        self._snaps.pop(sid, None)
        while len(self._snaps) >= self._keep:
            self._snaps.popitem(last=False)
        return sid
