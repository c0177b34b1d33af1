"""The asyncio protocol for one client connection: bytes in, commands out, replies back.

Hot path: one read -> feed hiredis -> run every complete command -> one write.
Malformed input and inline commands go through the exact (slower) parser in
``protocol.request`` so error texts match Redis.
"""

from __future__ import annotations

import asyncio
import re
import socket

import hiredis

from ..protocol.request import ProtocolError, RequestParser
from .client import Client

_HIREDIS_ERRORS = (
    ("reply type byte", None),
    ("Bulk string length", "Protocol error: invalid bulk length"),
    ("bulk string length", "Protocol error: invalid bulk length"),
    ("Multi-bulk length", "Protocol error: invalid multibulk length"),
    ("multi-bulk length", "Protocol error: invalid multibulk length"),
)


# A multibulk header of a million or more elements.  hiredis would allocate the
# whole argument list up front, so such requests go to the exact parser instead.
_BIG_MULTIBULK = re.compile(rb"\*[1-9][0-9]{6}")


def _map_hiredis_error(msg: str) -> str:
    for needle, text in _HIREDIS_ERRORS:
        if needle in msg:
            if text is None:
                ch = msg.split('"')[1] if '"' in msg else "?"
                return "Protocol error: expected '$', got '%s'" % ch
            return text
    return "Protocol error: " + msg


class Connection(asyncio.Protocol):
    __slots__ = ("server", "client", "transport", "reader", "slow", "paused_reading",
                 "pending_bytes", "executing", "_unix", "shadow", "last_chunk", "last_argv",
                 "last_chunk_done")

    def __init__(self, server, unix: bool = False):
        self.server = server
        self.client: Client | None = None
        self.transport = None
        self.reader = hiredis.Reader()
        self.slow: RequestParser | None = None
        self.pending_bytes = 0
        self.executing = False
        self._unix = unix
        # Exact parser following an incomplete request's first 128 KiB, so malformed
        # headers (no CRLF, bad lengths) get Redis's errors instead of endless buffering.
        self.shadow: RequestParser | None = None
        # hiredis may have consumed a partial request entirely (has_data() is then False):
        # a chunk continuing it must not be mistaken for an inline command.
        self.last_chunk = b""
        self.last_argv = None
        self.last_chunk_done = True

    # --- asyncio callbacks ---------------------------------------------------
    def connection_made(self, transport) -> None:
        self.transport = transport
        server = self.server
        c = Client(server, self, server.next_client_id())
        c.unix = self._unix
        sock = transport.get_extra_info("socket")
        try:
            peer = transport.get_extra_info("peername")
            local = transport.get_extra_info("sockname")
            if self._unix:
                c.addr = "%s:0" % (local or "")
                c.laddr = c.addr
            else:
                c.addr = _fmt_addr(peer)
                c.laddr = _fmt_addr(local)
            if sock is not None:
                c.fd = sock.fileno()
                if not self._unix:
                    # Replies must not wait for Nagle's algorithm: clients send one request
                    # at a time and wait for each answer.
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except Exception:
            pass
        self.client = c
        if not server.accept_client(c):
            return

    def connection_lost(self, exc) -> None:
        c = self.client
        if c is not None:
            c.closing = True
            self.server.remove_client(c)
            c.conn = None

    def data_received(self, data: bytes) -> None:
        c = self.client
        if c.closing:
            return
        c.tot_net_in += len(data)
        # Query-buffer accounting as Redis reports it: a read buffer of at least 16 KiB,
        # growing with big requests; shrunk by the server cron.
        need = len(data) + self.pending_bytes
        if need > c.qbuf_peak:
            c.qbuf_peak = need
        if c.qbuf < 16384 or need > c.qbuf:
            c.qbuf = max(16384, need + (need >> 1) if need > 16384 else 16384)
        if self.slow is not None:
            self.slow.feed(data)
        elif (data[0] != 42 or data[1:2] == b"-") and not self.reader.has_data() \
                and not self._mid_request():
            # Inline command (or a negative multibulk count hiredis rejects):
            # this connection continues on the exact parser.
            self.slow = RequestParser(self.server.config.proto_max_bulk_len,
                                      lambda: not c.authenticated)
            self.slow.feed(data)
        elif _BIG_MULTIBULK.search(data) is not None:
            self._feed_guarded(data)
            return
        else:
            self.reader.feed(data)
            self.pending_bytes += len(data)
            self.last_chunk = data
        self.process_input(data)

    def _feed_guarded(self, data: bytes) -> None:
        """Feed hiredis up to a huge multibulk header, then switch to the exact parser."""
        c = self.client
        self.last_chunk = data
        pos = 0
        while True:
            m = _BIG_MULTIBULK.search(data, pos)
            if m is None:
                self.reader.feed(data[pos:])
                self.pending_bytes += len(data) - pos
                self.process_input(None)
                return
            head = data[pos:m.start()]
            if head:
                self.reader.feed(head)
                self.pending_bytes += len(head)
                self.process_input(None)
                if c.closing or c.close_after_reply:
                    return
            if not self.reader.has_data():
                # At a request boundary: the rest of this connection uses the exact parser.
                self.slow = RequestParser(self.server.config.proto_max_bulk_len,
                                          lambda: not c.authenticated)
                self.slow.feed(data[m.start():])
                self.process_input(None)
                return
            # The match was inside a bulk value: hand hiredis that byte and look further.
            self.reader.feed(data[m.start():m.start() + 1])
            self.pending_bytes += 1
            pos = m.start() + 1

    # --- input processing ------------------------------------------------------
    def process_input(self, chunk: bytes | None = None) -> None:
        c = self.client
        execute = self.server.execute
        if self.slow is None:
            gets = self.reader.gets
            clean_start = self.pending_bytes == (len(chunk) if chunk else -1)
            argv = None
            last = None
            if chunk is not None:
                self.last_chunk_done = False
            try:
                while c.blocked is None and not c.close_after_reply:
                    argv = gets()
                    if argv is False:
                        break
                    last = argv
                    if type(argv) is not list:
                        raise ProtocolError("Protocol error: expected '$', got '%s'"
                                            % ("*" if argv is None else "?"))
                    if not argv:
                        continue
                    for a in argv:
                        if type(a) is not bytes:
                            raise ProtocolError("Protocol error: invalid bulk length" if a is None
                                                else "Protocol error: expected '$', got ':'")
                    execute(c, argv)
                if last is not None:
                    self.pending_bytes = 0
                    self.shadow = None
                    self.last_argv = last
                    self.last_chunk_done = True
                if argv is False and self.pending_bytes:
                    if clean_start:
                        self._check_pending(chunk)
                    elif self.shadow is not None and chunk is not None:
                        self._check_pending_more(chunk)
            except hiredis.ProtocolError as e:
                rest = self._unparsed_rest(chunk, last, clean_start)
                if rest is None:
                    self._protocol_error(_map_hiredis_error(str(e)))
                else:
                    # An inline command or blank line after a multibulk one (redis-cli --pipe
                    # sends "\r\n" before its final ECHO): continue on the exact parser.
                    self.slow = RequestParser(self.server.config.proto_max_bulk_len,
                                              lambda: not c.authenticated)
                    self.slow.feed(rest)
                    self.process_input(None)
                    return
            except ProtocolError as e:
                self._protocol_error(str(e))
        else:
            nxt = self.slow.next
            try:
                while c.blocked is None and not c.close_after_reply:
                    argv = nxt()
                    if argv is None:
                        break
                    if argv:
                        execute(c, argv)
                if self.slow.pending() > self.server.config.client_query_buffer_limit:
                    self._protocol_error(None)
            except ProtocolError as e:
                self._protocol_error(str(e))
        if c.out:
            self.write_out()
        if c.close_after_reply and c.blocked is None:
            self.close_after_flush()

    def _check_pending(self, chunk: bytes | None) -> None:
        """A request is incomplete: enforce Redis's header limits on it."""
        limit = self.server.config.client_query_buffer_limit
        if self.pending_bytes > limit:
            self.client.kill_reason = "qbuf"
            self.server.log_verbose("Closing client that reached max query buffer length")
            self.close_after_flush()
            return
        if chunk is not None and len(chunk) < 1 << 20:
            p = RequestParser(self.server.config.proto_max_bulk_len,
                              lambda: not self.client.authenticated)
            p.feed(chunk)
            while p.next() is not None:
                pass
            self.shadow = p

    def _unparsed_rest(self, chunk, last, clean_start):
        """After hiredis rejected a top-level byte, the bytes not yet consumed, if they can be
        located exactly (right after the last complete request of this chunk); else None."""
        if chunk is None:
            return None
        if last is None:
            return chunk if clean_start and chunk[:1] != b"*" else None
        enc = b"*%d\r\n" % len(last) + b"".join(b"$%d\r\n%b\r\n" % (len(a), a) for a in last)
        q = chunk.rfind(enc)
        if q >= 0:
            return chunk[q + len(enc):]
        # The request began in an earlier chunk: this chunk starts with its tail.
        for p in range(min(len(enc), len(chunk)), 0, -1):
            if enc.endswith(chunk[:p]):
                return chunk[p:]
        return None

    def _mid_request(self) -> bool:
        """hiredis may hold a partial request with no unread bytes (has_data() is False);
        decide from the last chunk whether it ended exactly at a request boundary."""
        if not self.last_chunk:
            return False
        if not self.last_chunk_done or self.last_argv is None:
            return True
        return not _ends_request(self.last_chunk, self.last_argv)

    def _check_pending_more(self, chunk: bytes) -> None:
        p = self.shadow
        p.feed(chunk)
        while p.next() is not None:
            pass
        if self.pending_bytes > 128 * 1024:
            self.shadow = None
        limit = self.server.config.client_query_buffer_limit
        if self.pending_bytes > limit:
            self.close_after_flush()

    def _protocol_error(self, text: str | None) -> None:
        c = self.client
        if text is not None:
            c.out.append(b"-ERR " + text.encode() + b"\r\n")
            self.server.stats.total_error_replies += 1
            self.server.count_error(b"ERR")
        c.close_after_reply = True

    # --- output ------------------------------------------------------------------
    def write_out(self) -> None:
        c = self.client
        out = c.out
        if not out or self.transport is None:
            out.clear()
            return
        data = out[0] if len(out) == 1 else b"".join(out)
        out.clear()
        c.tot_net_out += len(data)
        hook = self.server.before_reply
        if hook is not None and hook(self, data):
            return  # held until the AOF is on disk (appendfsync always); the hook writes it
        self.transport.write(data)

    def output_buffer_size(self) -> int:
        t = self.transport
        return t.get_write_buffer_size() if t is not None else 0

    def close_after_flush(self) -> None:
        c = self.client
        c.closing = True
        if c.out:
            self.write_out()
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()


def _ends_request(data: bytes, argv: list) -> bool:
    """Whether ``data`` ends exactly where the (canonical RESP) encoding of ``argv`` ends.

    Compared from the end with ``endswith`` ranges, so big arguments are not copied."""
    end = len(data)
    for a in reversed(argv):
        for piece in (b"\r\n", a, b"$%d\r\n" % len(a)):
            if end <= len(piece):  # the chunk starts inside this piece
                return piece.endswith(data[:end])
            if not data.endswith(piece, 0, end):
                return False
            end -= len(piece)
    header = b"*%d\r\n" % len(argv)
    if end <= len(header):
        return header.endswith(data[:end])
    return data.endswith(header, 0, end)


def _fmt_addr(a) -> str:
    if not a:
        return "?:0"
    if isinstance(a, tuple):
        host, port = a[0], a[1]
        return "%s:%d" % (host, port)
    return str(a)
