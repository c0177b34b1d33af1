"""Clients blocked on keys (BLPOP, BZPOPMIN, XREAD BLOCK, ...) and on CLIENT PAUSE.

Each blocked client has a Waiter, queued FIFO on every key it waits for.  A
write that makes a key ready calls ``signal_ready``; after the command (or the
whole MULTI/EXEC or script) finishes, ``serve_ready`` retries waiters in FIFO
order, as Redis's handleClientsBlockedOnKeys does.  Serving one waiter can make
other keys ready (BLMOVE), so the loop runs until nothing is ready.
"""

from __future__ import annotations

from collections import deque

from ..protocol.reply import Error


class Blocked:
    """Returned by a command body that blocked its client; no reply is sent yet."""
    __slots__ = ()


BLOCKED = Blocked()


class Waiter:
    __slots__ = ("client", "keys", "retry", "timeout_reply", "timer", "cmd", "argv",
                 "unblock_on_delete", "kind")

    def __init__(self, client, keys, retry, timeout_reply, cmd=None, argv=None, kind="key"):
        self.client = client
        self.keys = keys                  # list of (db_index, key)
        self.retry = retry                # f() -> reply, or None to stay blocked
        self.timeout_reply = timeout_reply
        self.timer = None
        self.cmd = cmd
        self.argv = argv
        self.unblock_on_delete = False
        self.kind = kind


class BlockingManager:
    def __init__(self, server):
        self.server = server
        self.waiting: dict = {}       # (db_index, key) -> deque[Waiter]
        self.ready: list = []
        self.ready_set: set = set()
        self.count = 0
        self.paused: list = []        # waiters postponed by CLIENT PAUSE
        self.serving_key = None       # (db_index, key) whose waiters are being retried

    # --- blocking ---------------------------------------------------------------
    def block(self, client, keys, timeout: float, retry, timeout_reply, kind="key"):
        """Block ``client`` on ``keys`` (bytes) of its current db.

        ``timeout`` is an absolute loop time in seconds, or 0 for forever.
        Returns BLOCKED for the command body to return.
        """
        idx = client.db.index
        w = Waiter(client, [(idx, k) for k in keys], retry, timeout_reply,
                   client.cur_cmd, None, kind)
        for k in w.keys:
            q = self.waiting.get(k)
            if q is None:
                q = self.waiting[k] = deque()
            q.append(w)
        if timeout:
            w.timer = self.server.loop.call_at(timeout, self._timeout, w)
        client.blocked = w
        self.count += 1
        return BLOCKED

    def _timeout(self, w: Waiter) -> None:
        if w.client.blocked is w:
            self.unblock(w, w.timeout_reply)

    def unblock(self, w: Waiter, reply) -> None:
        """Release a waiter, send ``reply`` and resume the client's pipeline."""
        c = w.client
        for k in w.keys:
            q = self.waiting.get(k)
            if q is not None:
                try:
                    q.remove(w)
                except ValueError:
                    pass
                if not q:
                    del self.waiting[k]
        if w.timer is not None:
            w.timer.cancel()
            w.timer = None
        if c.blocked is w:
            c.blocked = None
            self.count -= 1
        if reply is not None:
            if type(reply) is Error:
                self.server.count_error_reply(reply, w.cmd)
            self.server.reply_to(c, reply)
        if c.conn is not None and not c.closing:
            self.server.loop.call_soon(c.conn.process_input)

    def client_gone(self, c) -> None:
        w = c.blocked
        if w is None:
            return
        if w in self.paused:
            self.paused.remove(w)
            c.blocked = None
            return
        for k in w.keys:
            q = self.waiting.get(k)
            if q is not None:
                try:
                    q.remove(w)
                except ValueError:
                    pass
                if not q:
                    del self.waiting[k]
        if w.timer is not None:
            w.timer.cancel()
        c.blocked = None
        self.count -= 1

    # --- readiness ------------------------------------------------------------------
    def signal_ready(self, db, key) -> None:
        k = (db.index, key)
        if k in self.waiting and k not in self.ready_set:
            self.ready_set.add(k)
            self.ready.append(k)

    def serve_ready(self) -> None:
        while self.ready:
            ready, self.ready = self.ready, []
            self.ready_set.clear()
            for k in ready:
                q = self.waiting.get(k)
                if not q:
                    continue
                self.serving_key = k
                for w in list(q):
                    if w.client.blocked is not w:
                        continue
                    reply = self.server.run_retry(w)
                    if reply is not None:
                        self.unblock(w, reply)
            self.serving_key = None

    def keys_deleted(self, db, key) -> None:
        """A key was deleted, overwritten or changed: waiters that asked for it
        (``unblock_on_delete``, e.g. XREADGROUP) are retried."""
        q = self.waiting.get((db.index, key))
        if q and any(w.unblock_on_delete for w in q):
            self.signal_ready(db, key)

    # --- CLIENT PAUSE ------------------------------------------------------------------
    def postpone(self, client, argv, cmd):
        w = Waiter(client, [], None, None, cmd, argv, kind="pause")
        client.blocked = w
        self.paused.append(w)
        return BLOCKED

    def release_paused(self) -> None:
        """Re-run commands postponed by CLIENT PAUSE, in arrival order."""
        paused, self.paused = self.paused, []
        for w in paused:
            c = w.client
            if c.blocked is not w or c.closing:
                continue
            c.blocked = None
            self.server.execute(c, w.argv)
            if c.conn is not None:
                if c.out:
                    c.conn.write_out()
                if c.blocked is None:
                    self.server.loop.call_soon(c.conn.process_input)
