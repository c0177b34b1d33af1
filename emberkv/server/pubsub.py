"""Channel and pattern subscriptions and message fan-out (classic and sharded)."""

from __future__ import annotations

import time

from ..protocol.reply import Push
from ..util.glob import glob_matcher


class PubSub:
    def __init__(self, server):
        self.server = server
        self.channels: dict[bytes, dict] = {}       # channel -> {client: None}
        self.patterns: dict[bytes, dict] = {}       # pattern -> {client: None}
        self.matchers: dict[bytes, object] = {}
        self.shard_channels: dict[bytes, dict] = {}
        self.soft_limit_since: dict[int, float] = {}   # client id -> when it went over the soft limit

    # --- subscriptions -------------------------------------------------------------------
    def subscribe(self, c, channel: bytes, shard: bool = False) -> bool:
        table = self.shard_channels if shard else self.channels
        mine = c.shard_channels if shard else c.channels
        if channel in mine:
            return False
        mine[channel] = None
        subs = table.get(channel)
        if subs is None:
            subs = table[channel] = {}
        subs[c] = None
        return True

    def unsubscribe(self, c, channel: bytes, shard: bool = False) -> bool:
        table = self.shard_channels if shard else self.channels
        mine = c.shard_channels if shard else c.channels
        if channel not in mine:
            return False
        del mine[channel]
        subs = table.get(channel)
        if subs is not None:
            subs.pop(c, None)
            if not subs:
                del table[channel]
        return True

    def psubscribe(self, c, pattern: bytes) -> bool:
        if pattern in c.patterns:
            return False
        c.patterns[pattern] = None
        subs = self.patterns.get(pattern)
        if subs is None:
            subs = self.patterns[pattern] = {}
            self.matchers[pattern] = glob_matcher(pattern)
        subs[c] = None
        return True

    def punsubscribe(self, c, pattern: bytes) -> bool:
        if pattern not in c.patterns:
            return False
        del c.patterns[pattern]
        subs = self.patterns.get(pattern)
        if subs is not None:
            subs.pop(c, None)
            if not subs:
                del self.patterns[pattern]
                self.matchers.pop(pattern, None)
        return True

    def client_gone(self, c) -> None:
        self.soft_limit_since.pop(c.id, None)
        for ch in list(c.channels):
            self.unsubscribe(c, ch)
        for p in list(c.patterns):
            self.punsubscribe(c, p)
        for ch in list(c.shard_channels):
            self.unsubscribe(c, ch, shard=True)

    # --- delivery ----------------------------------------------------------------------------
    def publish(self, channel: bytes, message: bytes, shard: bool = False) -> int:
        n = 0
        table = self.shard_channels if shard else self.channels
        subs = table.get(channel)
        if subs:
            msg = Push([b"smessage" if shard else b"message", channel, message])
            for c in list(subs):
                self._deliver(c, msg)
                n += 1
        if not shard and self.patterns:
            for pattern, subs in list(self.patterns.items()):
                if self.matchers[pattern](channel):
                    msg = Push([b"pmessage", pattern, channel, message])
                    for c in list(subs):
                        self._deliver(c, msg)
                        n += 1
        return n

    def _deliver(self, c, msg) -> None:
        c.send(msg)
        conn = c.conn
        if conn is not None and not c.is_replica and not c.closing:
            server = self.server
            hard = server.pubsub_output_limit
            soft, soft_seconds = server.pubsub_output_soft_limit
            if not (hard or soft):
                return
            used = conn.output_buffer_size() + sum(len(x) for x in c.out)
            over = bool(hard) and used >= hard
            if soft and used >= soft:
                # The soft limit must hold for longer than soft_seconds.
                now = time.monotonic()
                since = self.soft_limit_since.setdefault(c.id, now)
                over = over or now - since > soft_seconds
            else:
                self.soft_limit_since.pop(c.id, None)
            if over:
                self.soft_limit_since.pop(c.id, None)
                server.stats.client_outbuf_limit_disconnections += 1
                server.log_warning("Client %s closed for overcoming of output buffer limits."
                                   % c.addr)
                c.out.clear()
                c.closing = True
                conn.abort()
