"""Per-connection client state (what Redis keeps in ``struct client``)."""

from __future__ import annotations

import time

from ..protocol.reply import encode2, encode3

# CLIENT REPLY modes
REPLY_ON, REPLY_OFF, REPLY_SKIP_NEXT, REPLY_SKIP = 0, 1, 2, 3


class Client:
    __slots__ = (
        "id", "server", "conn", "db", "resp", "encode", "name", "lib_name", "lib_ver",
        "authenticated", "user", "addr", "laddr", "fd", "ctime", "last_interaction",
        "in_multi", "multi_queue", "multi_error", "watched", "watch_dirty",
        "channels", "patterns", "shard_channels", "reply_mode", "no_evict", "no_touch",
        "blocked", "closing", "close_after_reply", "out", "flush_scheduled",
        "last_cmd", "cur_cmd", "is_monitor", "is_replica", "is_master", "flags_extra",
        "tracking", "in_script", "argv_len", "tot_net_in", "tot_net_out", "tot_cmds",
        "unix", "qbuf", "kill_reason", "in_exec", "qbuf_peak",
    )

    def __init__(self, server, conn, cid: int):
        self.id = cid
        self.server = server
        self.conn = conn
        self.db = server.dbs[0]
        self.resp = 2
        self.encode = encode2
        self.name = None
        self.lib_name = None
        self.lib_ver = None
        self.authenticated = not server.auth_required_for_default()
        self.user = "default"
        self.addr = "?:0"
        self.laddr = "?:0"
        self.fd = -1
        self.unix = False
        self.ctime = time.time()
        self.last_interaction = self.ctime
        self.in_multi = False
        self.multi_queue: list = []
        self.multi_error = False
        self.watched: dict = {}         # {(db_index, key): expired when watched}
        self.watch_dirty = False
        self.channels: dict = {}
        self.patterns: dict = {}
        self.shard_channels: dict = {}
        self.reply_mode = REPLY_ON
        self.no_evict = False
        self.no_touch = False
        self.blocked = None             # server.blocking.Waiter while blocked
        self.closing = False
        self.close_after_reply = False
        self.out: list = []
        self.flush_scheduled = False
        self.last_cmd = None
        self.cur_cmd = None
        self.is_monitor = False
        self.is_replica = False
        self.is_master = False
        self.flags_extra = ""
        self.tracking = None            # tracking state when CLIENT TRACKING ON
        self.in_script = False
        self.argv_len = 0
        self.tot_net_in = 0
        self.tot_net_out = 0
        self.tot_cmds = 0
        self.qbuf = 0                   # query buffer size, as Redis accounts it (CLIENT LIST)
        self.qbuf_peak = 0
        self.kill_reason = None
        self.in_exec = False            # running queued MULTI commands: blocking commands must not block

    def set_resp(self, resp: int) -> None:
        self.resp = resp
        self.encode = encode3 if resp == 3 else encode2

    def select(self, index: int) -> None:
        self.db = self.server.dbs[index]

    @property
    def pubsub_count(self) -> int:
        return len(self.channels) + len(self.patterns) + len(self.shard_channels)

    def send(self, value) -> None:
        """Queue an out-of-band reply (push, unblocked reply) and flush soon.

        Replies produced while this client's own input is being processed stay
        in order because everything goes through ``out``.
        """
        if self.closing:
            return
        self.encode(value, self.out)
        if not self.flush_scheduled:
            self.flush_scheduled = True
            self.server.loop.call_soon(self.flush)

    def send_raw(self, data: bytes) -> None:
        if self.closing:
            return
        self.out.append(data)
        if not self.flush_scheduled:
            self.flush_scheduled = True
            self.server.loop.call_soon(self.flush)

    def flush(self) -> None:
        self.flush_scheduled = False
        if self.out and self.conn is not None:
            self.conn.write_out()

    def close(self, reason: str | None = None) -> None:
        if self.conn is not None:
            self.kill_reason = reason
            self.conn.close_after_flush()

    def flags_string(self) -> str:
        f = ""
        if self.is_replica:
            f += "S"
        if self.is_master:
            f += "M"
        if self.pubsub_count:
            f += "P"
        if self.in_multi:
            f += "x"
        if self.blocked is not None:
            f += "b"
        if self.tracking is not None:
            f += "t"
            if getattr(self.tracking, "broken_redirect", False):
                f += "R"
            if getattr(self.tracking, "bcast", False):
                f += "B"
        if self.watch_dirty:
            f += "d"
        if self.close_after_reply:
            f += "c"
        if self.unix:
            f += "U"
        if self.is_monitor:
            f += "O"
        if self.no_evict:
            f += "e"
        if self.no_touch:
            f += "T"
        return f or "N"
