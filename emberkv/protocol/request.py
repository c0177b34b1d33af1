"""Sans-IO parser for client requests (RESP multibulk and inline commands).

The connection's fast path parses with ``hiredis.Reader``.  This parser is the
exact one: it reproduces Redis's request rules and protocol error texts and is
used for inline commands, for malformed input and to check request headers
against the configured limits.
"""

from __future__ import annotations

INLINE_MAX_SIZE = 64 * 1024
INT_MAX = 2**31 - 1


class ProtocolError(Exception):
    """A request the server cannot parse; the connection is closed after the reply."""


def _parse_ll(b: bytes):
    """Redis's string2ll: strict base-10, no spaces, no '+', fits in int64."""
    if not b or len(b) > 20:
        return None
    if b[0] == 0x2D:  # '-'
        digits = b[1:]
        if not digits or digits[0] == 0x30:
            return None
    else:
        digits = b
        if len(digits) > 1 and digits[0] == 0x30:
            return None
    if not digits.isdigit():
        return None
    v = int(b)
    if v < -(2**63) or v > 2**63 - 1:
        return None
    return v


def split_args(line: bytes):
    """Split an inline command like ``sdssplitargs``; None on unbalanced quotes."""
    args = []
    i, n = 0, len(line)
    while True:
        while i < n and line[i] in b" \n\r\t\x0b\x0c\x00":
            i += 1
        if i >= n:
            return args
        cur = bytearray()
        inq = insq = False
        done = False
        while not done:
            if inq:
                if i >= n:
                    return None
                ch = line[i]
                if ch == 0x5C and i + 3 < n and line[i + 1] == 0x78 and \
                        _ishex(line[i + 2]) and _ishex(line[i + 3]):
                    cur.append(int(line[i + 2:i + 4], 16))
                    i += 3
                elif ch == 0x5C and i + 1 < n:
                    i += 1
                    c = line[i]
                    cur.append({0x6E: 10, 0x72: 13, 0x74: 9, 0x62: 8, 0x61: 7}.get(c, c))
                elif ch == 0x22:
                    if i + 1 < n and line[i + 1] not in b" \n\r\t\x0b\x0c\x00":
                        return None
                    done = True
                else:
                    cur.append(ch)
            elif insq:
                if i >= n:
                    return None
                ch = line[i]
                if ch == 0x5C and i + 1 < n and line[i + 1] == 0x27:
                    i += 1
                    cur.append(0x27)
                elif ch == 0x27:
                    if i + 1 < n and line[i + 1] not in b" \n\r\t\x0b\x0c\x00":
                        return None
                    done = True
                else:
                    cur.append(ch)
            else:
                if i >= n:
                    done = True
                    break
                ch = line[i]
                if ch in b" \n\r\t\x00":
                    done = True
                elif ch == 0x22:
                    inq = True
                elif ch == 0x27:
                    insq = True
                else:
                    cur.append(ch)
            if i < n:
                i += 1
        args.append(bytes(cur))


def _ishex(c: int) -> bool:
    return c in b"0123456789abcdefABCDEF"


class RequestParser:
    """Feed bytes, then call ``next()`` until it returns None.

    ``next()`` returns a list of arguments (possibly empty, for blank lines and
    empty multibulks, which callers skip) or raises ProtocolError.
    """

    def __init__(self, max_bulk_len: int = 512 * 1024 * 1024, auth_required=lambda: False):
        self.buf = bytearray()
        self.pos = 0
        self.max_bulk_len = max_bulk_len
        self.auth_required = auth_required
        # Partial multibulk state.
        self._mb_left = 0
        self._args: list = []
        self._bulk_len = -1

    def feed(self, data: bytes) -> None:
        if self.pos and self.pos > 65536:
            del self.buf[:self.pos]
            self.pos = 0
        self.buf += data

    def pending(self) -> int:
        return len(self.buf) - self.pos

    def next(self):
        if self._mb_left:
            return self._multibulk()
        if self.pos >= len(self.buf):
            return None
        if self.buf[self.pos] == 0x2A:  # '*'
            return self._multibulk()
        return self._inline()

    def _inline(self):
        buf = self.buf
        nl = buf.find(b"\n", self.pos)
        if nl < 0:
            if len(buf) - self.pos > INLINE_MAX_SIZE:
                raise ProtocolError("Protocol error: too big inline request")
            return None
        end = nl
        if end > self.pos and buf[end - 1] == 0x0D:
            end -= 1
        line = bytes(buf[self.pos:end])
        args = split_args(line)
        if args is None:
            raise ProtocolError("Protocol error: unbalanced quotes in request")
        self.pos = nl + 1
        return args

    def _multibulk(self):
        buf = self.buf
        if not self._mb_left:
            cr = buf.find(b"\r", self.pos)
            if cr < 0:
                if len(buf) - self.pos > INLINE_MAX_SIZE:
                    raise ProtocolError("Protocol error: too big mbulk count string")
                return None
            if cr + 1 >= len(buf):
                return None
            ll = _parse_ll(bytes(buf[self.pos + 1:cr]))
            if ll is None or ll > INT_MAX:
                raise ProtocolError("Protocol error: invalid multibulk length")
            if ll > 10 and self.auth_required():
                raise ProtocolError("Protocol error: unauthenticated multibulk length")
            self.pos = cr + 2
            if ll <= 0:
                return []
            self._mb_left = ll
            self._args = []
            self._bulk_len = -1
        while self._mb_left:
            if self._bulk_len == -1:
                cr = buf.find(b"\r", self.pos)
                if cr < 0:
                    if len(buf) - self.pos > INLINE_MAX_SIZE:
                        raise ProtocolError("Protocol error: too big bulk count string")
                    return None
                if cr + 1 >= len(buf):
                    return None
                if buf[self.pos] != 0x24:  # '$'
                    raise ProtocolError("Protocol error: expected '$', got '%s'"
                                        % chr(buf[self.pos]))
                ll = _parse_ll(bytes(buf[self.pos + 1:cr]))
                if ll is None or ll < 0 or ll > self.max_bulk_len:
                    raise ProtocolError("Protocol error: invalid bulk length")
                if ll > 16384 and self.auth_required():
                    raise ProtocolError("Protocol error: unauthenticated bulk length")
                self.pos = cr + 2
                self._bulk_len = ll
            if len(buf) - self.pos < self._bulk_len + 2:
                return None
            end = self.pos + self._bulk_len
            self._args.append(bytes(buf[self.pos:end]))
            self.pos = end + 2
            self._bulk_len = -1
            self._mb_left -= 1
        args, self._args = self._args, []
        return args
