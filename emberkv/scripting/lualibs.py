"""The C libraries Redis links into its Lua 5.1 (bit, struct, cjson, cmsgpack, its
rand48 ``math.random``), re-implemented in Python with the same results and error
texts.

lupa's Lua 5.1 ships without them.  Each function receives Lua values as lupa
converts them (strings are bytes, numbers int/float, tables ``_LuaTable``) and
raises ``LuaStringError`` for what the C code reports with ``luaL_error``; the
engine adds the caller's position, as ``luaL_error`` does.
"""

from __future__ import annotations

import math
import re
import struct as _struct

from lupa import lua51

# lupa hands a coroutine that has not started over as this (unexported) class.
_COROUTINE_FUNCTION = type(lua51.LuaRuntime().eval("coroutine.create(function() end)"))


def lua_type(v):
    """lupa's lua_type, except that a not yet started coroutine (which lupa hands over as its
    function) is still a thread."""
    if type(v) is _COROUTINE_FUNCTION:
        return "thread"
    return lua51.lua_type(v)


class LuaStringError(Exception):
    """A ``luaL_error``-style failure: the Lua error value is a string."""

    def __init__(self, msg: bytes):
        super().__init__(msg)
        self.msg = msg


class LuaTableError(Exception):
    """A Redis-style failure: the Lua error value is ``{err=text}``."""

    def __init__(self, text: bytes, ignore_stats: bool = False):
        super().__init__(text)
        self.text = text
        self.ignore_stats = ignore_stats

    def __str__(self):
        return self.text.decode(errors="replace")


# --------------------------------------------------------------------------- helpers

def type_name(v, present: bool = True) -> bytes:
    """``luaL_typename`` of a value as lupa hands it over."""
    if not present:
        return b"no value"
    t = type(v)
    if t is bytes:
        return b"string"
    if t is int or t is float:
        return b"number"
    if t is bool:
        return b"boolean"
    if v is None:
        return b"nil"
    name = lua_type(v)
    if name:
        return name.encode()
    # Python callables reach Lua as C functions (python.as_function).
    return b"function" if callable(v) else b"userdata"


class LuaArgError(LuaStringError):
    """``luaL_argerror``: the message names the function as the caller spelled it."""

    def __init__(self, narg: int, fname: str, extra: bytes):
        super().__init__(b"bad argument #%d to '%s' (%s)" % (narg, fname.encode(), extra))
        self.narg = narg
        self.extra = extra

    def message(self, name, namewhat) -> bytes:
        narg = self.narg
        if namewhat == b"method":
            narg -= 1
            if narg == 0:
                return b"calling '%s' on bad self (%s)" % (name, self.extra)
        return b"bad argument #%d to '%s' (%s)" % (narg, name or b"?", self.extra)


def arg_error(narg: int, fname: str, extra: bytes) -> LuaStringError:
    return LuaArgError(narg, fname, extra)


def type_error(narg: int, fname: str, expected: bytes, args: tuple) -> LuaStringError:
    present = narg <= len(args)
    got = type_name(args[narg - 1] if present else None, present)
    return arg_error(narg, fname, b"%s expected, got %s" % (expected, got))


_NUMBER_RE = re.compile(
    rb"[ \t\n\v\f\r]*([+-]?(?:0[xX](?:[0-9a-fA-F]+(?:\.[0-9a-fA-F]*)?|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?"
    rb"|(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
    rb"|(?i:infinity|inf|nan(?:\([0-9A-Za-z_]*\))?)))")


def c_strtod(s: bytes, pos: int = 0):
    """C ``strtod`` on ``s[pos:]``: (value, end) with end == pos when nothing parsed."""
    m = _NUMBER_RE.match(s, pos)
    if m is None:
        return 0.0, pos
    text = m.group(1)
    body = text.lstrip(b"+-")
    neg = text.startswith(b"-")
    low = body.lower()
    if low[:1] == b"i":
        v = math.inf
    elif low[:1] == b"n":
        v = math.nan
    elif low.startswith(b"0x"):
        h = low[2:]
        if b"p" not in h:
            h += b"p0"
        v = float.fromhex("0x" + h.decode())
    else:
        v = float(body)
    return (-v if neg else v), m.end()


def lua_tonumber(v):
    """``lua_tonumber``: numbers as they are, numeric strings converted, else None."""
    t = type(v)
    if t is int or t is float:
        return v
    if t is not bytes:
        return None
    s = v.split(b"\x00", 1)[0]
    num, end = c_strtod(s)
    # strtod already reads hex; an 'x' left over means "0x" without digits, which fails.
    if end == 0 or s[end:].strip(b" \t\n\v\f\r"):
        return None
    return num


def num2str(n) -> bytes:
    """Lua's number formatting (``LUA_NUMBER_FMT`` is %.14g)."""
    return b"%.14g" % n


def lua_tostring(v):
    """``lua_tolstring``: strings and numbers as bytes, else None."""
    t = type(v)
    if t is bytes:
        return v
    if t is int or t is float:
        return num2str(v)
    return None


def c_int(x: float, bits: int = 64) -> int:
    """A C cast from double to a signed integer (x86 yields the minimum when out of range)."""
    lo = -(1 << (bits - 1))
    if x != x or x in (math.inf, -math.inf):
        return lo
    i = int(x)
    if i < lo or i > -lo - 1:
        return lo
    return i


def check_number(args: tuple, narg: int, fname: str) -> float:
    v = lua_tonumber(args[narg - 1]) if narg <= len(args) else None
    if v is None:
        raise type_error(narg, fname, b"number", args)
    return v


def check_integer(args: tuple, narg: int, fname: str, bits: int = 64) -> int:
    return c_int(check_number(args, narg, fname), bits)


def opt_integer(args: tuple, narg: int, fname: str, default: int) -> int:
    if narg > len(args) or args[narg - 1] is None:
        return default
    return check_integer(args, narg, fname)


def check_string(args: tuple, narg: int, fname: str) -> bytes:
    v = lua_tostring(args[narg - 1]) if narg <= len(args) else None
    if v is None:
        raise type_error(narg, fname, b"string", args)
    return v


# ----------------------------------------------------------------------------- rand48

class Rand48:
    """Redis's redisLrand48/redisSrand48: the 48-bit drand48 generator."""

    def __init__(self):
        self.x = 0x1234ABCD330E

    def srand(self, seed: int) -> None:
        self.x = ((seed & 0xFFFFFFFF) << 16) | 0x330E

    def lrand(self) -> int:
        self.x = (0x5DEECE66D * self.x + 0xB) & 0xFFFFFFFFFFFF
        return self.x >> 17

    def random(self, *args):
        """math.random with Redis's PRNG (same arithmetic as lmathlib)."""
        r = (self.lrand() % 0x7FFFFFFF) / 0x7FFFFFFF
        n = len(args)
        if n == 0:
            return r
        if n == 1:
            u = check_integer(args, 1, "random", 32)
            if not 1 <= u:
                raise arg_error(1, "random", b"interval is empty")
            return math.floor(r * u) + 1
        if n == 2:
            lo = check_integer(args, 1, "random", 32)
            up = check_integer(args, 2, "random", 32)
            if not lo <= up:
                raise arg_error(2, "random", b"interval is empty")
            return math.floor(r * (up - lo + 1)) + lo
        raise LuaStringError(b"wrong number of arguments")

    def randomseed(self, *args):
        self.srand(check_integer(args, 1, "randomseed", 32))


# -------------------------------------------------------------------------------- bit

_BIT_MAGIC = 6755399441055744.0  # 2^52 + 2^51: rounds a double to an integer in its low bits


def _barg(args: tuple, i: int, fname: str) -> int:
    v = args[i - 1] if i <= len(args) else None
    n = lua_tonumber(v)
    b = 0
    if n is not None:
        b = _struct.unpack("<Q", _struct.pack("<d", n + _BIT_MAGIC))[0] & 0xFFFFFFFF
    if b == 0 and n is None:
        raise type_error(i, fname, b"number", args)
    return b


def _bret(b: int) -> int:
    b &= 0xFFFFFFFF
    return b - 0x100000000 if b & 0x80000000 else b


class Bit:
    """LuaBitOp 1.0 (``bit.*``), 32-bit results as signed numbers."""

    @staticmethod
    def tobit(*a):
        return _bret(_barg(a, 1, "tobit"))

    @staticmethod
    def bnot(*a):
        return _bret(~_barg(a, 1, "bnot"))

    @staticmethod
    def band(*a):
        b = _barg(a, 1, "band")
        for i in range(len(a), 1, -1):
            b &= _barg(a, i, "band")
        return _bret(b)

    @staticmethod
    def bor(*a):
        b = _barg(a, 1, "bor")
        for i in range(len(a), 1, -1):
            b |= _barg(a, i, "bor")
        return _bret(b)

    @staticmethod
    def bxor(*a):
        b = _barg(a, 1, "bxor")
        for i in range(len(a), 1, -1):
            b ^= _barg(a, i, "bxor")
        return _bret(b)

    @staticmethod
    def lshift(*a):
        b = _barg(a, 1, "lshift")
        return _bret(b << (_barg(a, 2, "lshift") & 31))

    @staticmethod
    def rshift(*a):
        b = _barg(a, 1, "rshift")
        return _bret(b >> (_barg(a, 2, "rshift") & 31))

    @staticmethod
    def arshift(*a):
        b = _bret(_barg(a, 1, "arshift"))
        return _bret(b >> (_barg(a, 2, "arshift") & 31))

    @staticmethod
    def rol(*a):
        b = _barg(a, 1, "rol")
        n = _barg(a, 2, "rol") & 31
        return _bret((b << n) | (b >> (32 - n)))

    @staticmethod
    def ror(*a):
        b = _barg(a, 1, "ror")
        n = _barg(a, 2, "ror") & 31
        return _bret((b << (32 - n)) | (b >> n))

    @staticmethod
    def bswap(*a):
        b = _barg(a, 1, "bswap")
        return _bret(int.from_bytes(b.to_bytes(4, "little"), "big"))

    @staticmethod
    def tohex(*a):
        b = _barg(a, 1, "tohex")
        n = 8 if len(a) < 2 else _bret(_barg(a, 2, "tohex"))
        digits = b"0123456789abcdef"
        if n < 0:
            n = -n
            digits = b"0123456789ABCDEF"
        n = min(n, 8)
        out = bytearray(n)
        for i in range(n - 1, -1, -1):
            out[i] = digits[b & 15]
            b >>= 4
        return bytes(out)


BIT_FUNCTIONS = ("tobit", "bnot", "band", "bor", "bxor", "lshift", "rshift", "arshift", "rol",
                 "ror", "bswap", "tohex")


# ----------------------------------------------------------------------------- struct

_MAXINTSIZE = 32
_MASK64 = 0xFFFFFFFFFFFFFFFF
_MAXALIGN = 8
_NATIVE_LITTLE = True
_SIZES = {"b": 1, "B": 1, "h": 2, "H": 2, "l": 8, "L": 8, "T": 8, "f": 4, "d": 8, "x": 1}


class _Fmt:
    __slots__ = ("s", "i", "little", "align")

    def __init__(self, s: bytes):
        self.s = s.split(b"\x00", 1)[0]
        self.i = 0
        self.little = _NATIVE_LITTLE
        self.align = 1

    def getnum(self, default: int) -> int:
        s, i = self.s, self.i
        if i >= len(s) or not 0x30 <= s[i] <= 0x39:
            return default
        a = 0
        while i < len(s) and 0x30 <= s[i] <= 0x39:
            d = s[i] - 0x30
            if a > 0x7FFFFFFF // 10 or a * 10 > 0x7FFFFFFF - d:
                raise LuaStringError(b"integral size overflow")
            a = a * 10 + d
            i += 1
        self.i = i
        return a

    def optsize(self, opt: str) -> int:
        if opt in _SIZES:
            return _SIZES[opt]
        if opt == "c":
            return self.getnum(1)
        if opt in "iI":
            sz = self.getnum(4)
            if sz > _MAXINTSIZE:
                raise LuaStringError(b"integral size %d is larger than limit of %d" % (sz, _MAXINTSIZE))
            return sz
        return 0

    def toalign(self, length: int, opt: str, size: int) -> int:
        if size == 0 or opt == "c":
            return 0
        if size > self.align:
            size = self.align
        return (size - (length & (size - 1))) & (size - 1)

    def control(self, opt: str) -> None:
        if opt == " ":
            return
        if opt == ">":
            self.little = False
        elif opt == "<":
            self.little = True
        elif opt == "!":
            a = self.getnum(_MAXALIGN)
            if not (a > 0 and a & (a - 1) == 0):
                raise LuaStringError(b"alignment %d is not a power of 2" % a)
            self.align = a
        else:
            raise arg_error(1, "pack", b"invalid format option '%s'" % opt.encode("latin-1"))


def _float_bytes(fmt_char: str, value: float, little: bool) -> bytes:
    try:
        return _struct.pack(("<" if little else ">") + fmt_char, value)
    except OverflowError:
        return _struct.pack(("<" if little else ">") + fmt_char, math.copysign(math.inf, value))


class Struct:
    """Roberto Ierusalimschy's struct library as bundled with Redis (pack/unpack/size)."""

    @staticmethod
    def pack(*args):
        fmt = _Fmt(check_string(args, 1, "pack"))
        # The C code pushes a nil right after its arguments: one past the end reads as nil.
        args = args + (None,)
        out = bytearray()
        arg = 2
        total = 0
        while fmt.i < len(fmt.s):
            opt = chr(fmt.s[fmt.i])
            fmt.i += 1
            size = fmt.optsize(opt)
            pad = fmt.toalign(total, opt, size)
            total += pad
            out += b"\x00" * pad
            if opt in "bBhHlLTiI":
                n = check_number(args, arg, "pack")
                arg += 1
                # (unsigned long)(long)n for negatives, (unsigned long)n otherwise.
                if n < 0:
                    value = c_int(n) & 0xFFFFFFFFFFFFFFFF
                else:
                    value = int(n) if n == n and n < 2 ** 64 else 1 << 63
                raw = bytearray(size)
                v = value
                for i in range(size):
                    raw[i] = v & 0xFF
                    v >>= 8
                out += raw if fmt.little else raw[::-1]
            elif opt == "x":
                out.append(0)
            elif opt == "f":
                out += _float_bytes("f", check_number(args, arg, "pack"), fmt.little)
                arg += 1
            elif opt == "d":
                out += _float_bytes("d", check_number(args, arg, "pack"), fmt.little)
                arg += 1
            elif opt in "cs":
                s = check_string(args, arg, "pack")
                arg += 1
                if size == 0:
                    size = len(s)
                if not len(s) >= size:
                    raise arg_error(arg, "pack", b"string too short")
                out += s[:size]
                if opt == "s":
                    out.append(0)
                    size += 1
            else:
                fmt.control(opt)
            total += size
        return bytes(out)

    @staticmethod
    def unpack(*args):
        fmt = _Fmt(check_string(args, 1, "unpack"))
        data = check_string(args, 2, "unpack")
        pos = opt_integer(args, 3, "unpack", 1)
        if not pos > 0:
            raise arg_error(3, "unpack", b"offset must be 1 or greater")
        pos -= 1
        ld = len(data)
        results = []
        while fmt.i < len(fmt.s):
            opt = chr(fmt.s[fmt.i])
            fmt.i += 1
            size = fmt.optsize(opt)
            pos += fmt.toalign(pos, opt, size)
            if not (size <= ld and pos <= ld - size):
                raise arg_error(2, "unpack", b"data string too short")
            if opt in "bBhHlLTiI":
                # A C unsigned long accumulates the bytes; the sign mask shifts modulo 64 like x86.
                v = int.from_bytes(data[pos:pos + size], "little" if fmt.little else "big") & _MASK64
                if opt.islower():
                    mask = (_MASK64 << ((size * 8 - 1) & 63)) & _MASK64
                    if v & mask:
                        v |= mask
                    if v >= 1 << 63:
                        v -= 1 << 64
                results.append(float(v) if abs(v) >= 1 << 53 else v)
            elif opt == "x":
                pass
            elif opt == "f":
                results.append(_struct.unpack(("<" if fmt.little else ">") + "f", data[pos:pos + 4])[0])
            elif opt == "d":
                results.append(_struct.unpack(("<" if fmt.little else ">") + "d", data[pos:pos + 8])[0])
            elif opt == "c":
                if size == 0:
                    if not results or lua_tonumber(results[-1]) is None:
                        raise LuaStringError(b"format 'c0' needs a previous size")
                    size = c_int(lua_tonumber(results.pop()))
                    if not (size <= ld and pos <= ld - size):
                        raise arg_error(2, "unpack", b"data string too short")
                results.append(data[pos:pos + size])
            elif opt == "s":
                e = data.find(b"\x00", pos)
                if e < 0:
                    raise LuaStringError(b"unfinished string in data")
                size = e - pos + 1
                results.append(data[pos:e])
            else:
                fmt.control(opt)
            pos += size
        results.append(pos + 1)
        return tuple(results)

    @staticmethod
    def size(*args):
        fmt = _Fmt(check_string(args, 1, "size"))
        pos = 0
        while fmt.i < len(fmt.s):
            opt = chr(fmt.s[fmt.i])
            fmt.i += 1
            size = fmt.optsize(opt)
            pos += fmt.toalign(pos, opt, size)
            if opt == "s":
                raise arg_error(1, "size", b"option 's' has no fixed size")
            if opt == "c" and size == 0:
                raise arg_error(1, "size", b"option 'c0' has no fixed size")
            if not opt.isalnum():
                fmt.control(opt)
            pos += size
        return pos


# ---------------------------------------------------------------------------- cmsgpack

_MP_MAX_NESTING = 16


class MsgPack:
    """lua-cmsgpack 0.4.0.  ``new_array(list)`` / ``new_map(pairs)`` build Lua tables."""

    def __init__(self, new_array, new_map):
        self.new_array = new_array
        self.new_map = new_map

    # --- encoding ---
    def _encode(self, v, out: bytearray, level: int) -> None:
        t = type(v)
        if t is bytes:
            n = len(v)
            if n < 32:
                out.append(0xA0 | n)
            elif n <= 0xFF:
                out += b"\xd9" + bytes((n,))
            elif n <= 0xFFFF:
                out += b"\xda" + n.to_bytes(2, "big")
            else:
                out += b"\xdb" + (n & 0xFFFFFFFF).to_bytes(4, "big")
            out += v
        elif t is bool:
            out.append(0xC3 if v else 0xC2)
        elif t is int or t is float:
            self._encode_number(v, out)
        elif v is not None and lua_type(v) == "table" and level != _MP_MAX_NESTING:
            self._encode_table(v, out, level)
        else:
            out.append(0xC0)

    @staticmethod
    def _encode_number(v, out: bytearray) -> None:
        f = float(v)
        if not math.isinf(f) and f == f and -2 ** 63 <= f < 2 ** 63 and int(f) == f:
            n = int(f)
            if n >= 0:
                if n <= 127:
                    out.append(n)
                elif n <= 0xFF:
                    out += b"\xcc" + bytes((n,))
                elif n <= 0xFFFF:
                    out += b"\xcd" + n.to_bytes(2, "big")
                elif n <= 0xFFFFFFFF:
                    out += b"\xce" + n.to_bytes(4, "big")
                else:
                    out += b"\xcf" + n.to_bytes(8, "big")
            else:
                if n >= -32:
                    out.append(n & 0xFF)
                elif n >= -128:
                    out += b"\xd0" + (n & 0xFF).to_bytes(1, "big")
                elif n >= -32768:
                    out += b"\xd1" + (n & 0xFFFF).to_bytes(2, "big")
                elif n >= -2147483648:
                    out += b"\xd2" + (n & 0xFFFFFFFF).to_bytes(4, "big")
                else:
                    out += b"\xd3" + (n & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "big")
            return
        try:
            single = _struct.unpack(">f", _struct.pack(">f", f))[0]
        except OverflowError:
            single = None
        if single is not None and single == f:
            out += b"\xca" + _struct.pack(">f", f)
        else:
            out += b"\xcb" + _struct.pack(">d", f)

    def _encode_table(self, t, out: bytearray, level: int) -> None:
        items = list(t.items())
        count = 0
        biggest = 0
        is_array = True
        for k, _ in items:
            if (type(k) is not int and type(k) is not float) or k <= 0 or k != int(k) \
                    or not -2 ** 31 <= k < 2 ** 31:
                is_array = False
                break
            biggest = max(biggest, int(k))
            count += 1
        if is_array and biggest == count:
            n = len(t)
            self._header(out, n, 0x90, b"\xdc", b"\xdd")
            for j in range(1, n + 1):
                self._encode(t[j], out, level + 1)
        else:
            self._header(out, len(items), 0x80, b"\xde", b"\xdf")
            for k, v in items:
                self._encode(k, out, level + 1)
                self._encode(v, out, level + 1)

    @staticmethod
    def _header(out: bytearray, n: int, fix: int, h16: bytes, h32: bytes) -> None:
        if n <= 15:
            out.append(fix | n)
        elif n <= 0xFFFF:
            out += h16 + n.to_bytes(2, "big")
        else:
            out += h32 + (n & 0xFFFFFFFF).to_bytes(4, "big")

    def pack(self, *args):
        if not args:
            raise LuaStringError(b"bad argument #0 to 'pack' (MessagePack pack needs input.)")
        out = bytearray()
        for v in args:
            self._encode(v, out, 0)
        return bytes(out)

    # --- decoding ---
    def _decode(self, d: bytes, p: int):
        """(value, new position); raises _MpEOF / _MpBad."""
        if p >= len(d):
            raise _MpEOF
        c = d[p]
        if c < 0x80:
            return c, p + 1
        if c >= 0xE0:
            return c - 256, p + 1
        if 0xA0 <= c <= 0xBF:
            n = c & 0x1F
            return self._need(d, p + 1, n), p + 1 + n
        if 0x90 <= c <= 0x9F:
            return self._array(d, p + 1, c & 0xF)
        if 0x80 <= c <= 0x8F:
            return self._map(d, p + 1, c & 0xF)
        if c == 0xC0:
            return None, p + 1
        if c == 0xC2:
            return False, p + 1
        if c == 0xC3:
            return True, p + 1
        fixed = _MP_FIXED.get(c)
        if fixed is not None:
            size, fmt = fixed
            raw = self._need(d, p + 1, size)
            v = _struct.unpack(fmt, raw)[0]
            if c == 0xCF and v >= 1 << 63:
                v -= 1 << 64    # lua_pushinteger of an unsigned 64-bit value wraps
            if c == 0xD3 or c == 0xCF:
                v = float(v) if abs(v) >= 1 << 53 else v
            return v, p + 1 + size
        if c == 0xD9:
            n = self._need(d, p + 1, 1)[0]
            return self._need(d, p + 2, n), p + 2 + n
        if c == 0xDA:
            n = int.from_bytes(self._need(d, p + 1, 2), "big")
            return self._need(d, p + 3, n), p + 3 + n
        if c == 0xDB:
            n = int.from_bytes(self._need(d, p + 1, 4), "big")
            return self._need(d, p + 5, n), p + 5 + n
        if c == 0xDC:
            return self._array(d, p + 3, int.from_bytes(self._need(d, p + 1, 2), "big"))
        if c == 0xDD:
            return self._array(d, p + 5, int.from_bytes(self._need(d, p + 1, 4), "big"))
        if c == 0xDE:
            return self._map(d, p + 3, int.from_bytes(self._need(d, p + 1, 2), "big"))
        if c == 0xDF:
            return self._map(d, p + 5, int.from_bytes(self._need(d, p + 1, 4), "big"))
        raise _MpBad

    @staticmethod
    def _need(d: bytes, p: int, n: int) -> bytes:
        if len(d) - p < n:
            raise _MpEOF
        return d[p:p + n]

    def _array(self, d: bytes, p: int, n: int):
        items = []
        for _ in range(n):
            v, p = self._decode(d, p)
            items.append(v)
        return self.new_array(items), p

    def _map(self, d: bytes, p: int, n: int):
        pairs = []
        for _ in range(n):
            k, p = self._decode(d, p)
            v, p = self._decode(d, p)
            if k is None:
                raise LuaStringError(b"table index is nil")
            if type(k) is float and k != k:
                raise LuaStringError(b"table index is NaN")
            pairs.append((k, v))
        return self.new_map(pairs), p

    def _unpack(self, args, limit: int, offset: int):
        data = check_string(args, 1, "unpack")
        if offset < 0 or limit < 0:
            raise LuaStringError(b"Invalid request to unpack with offset of %d and limit of %d."
                                 % (offset, len(data)))
        if offset > len(data):
            raise LuaStringError(b"Start offset %d greater than input length %d." % (offset, len(data)))
        decode_all = not limit and not offset
        if decode_all:
            limit = 0x7FFFFFFF
        out = []
        p = offset
        try:
            while p < len(data) and len(out) < limit:
                v, p = self._decode(data, p)
                out.append(v)
        except _MpEOF:
            raise LuaStringError(b"Missing bytes in input.") from None
        except _MpBad:
            raise LuaStringError(b"Bad data format in input.") from None
        if not decode_all:
            out.insert(0, -1 if p >= len(data) else p)
        return tuple(out)

    def unpack(self, *args):
        return self._unpack(args, 0, 0)

    def unpack_one(self, *args):
        return self._unpack(args[:1], 1, opt_integer(args, 2, "unpack_one", 0))

    def unpack_limit(self, *args):
        limit = check_integer(args, 2, "unpack_limit")
        return self._unpack(args[:1], limit, opt_integer(args, 3, "unpack_limit", 0))


class _MpEOF(Exception):
    pass


class _MpBad(Exception):
    pass


_MP_FIXED = {0xCC: (1, ">B"), 0xD0: (1, ">b"), 0xCD: (2, ">H"), 0xD1: (2, ">h"), 0xCE: (4, ">I"),
             0xD2: (4, ">i"), 0xCF: (8, ">Q"), 0xD3: (8, ">q"), 0xCA: (4, ">f"), 0xCB: (8, ">d")}


# ------------------------------------------------------------------------------- cjson

_ESCAPES = {i: b"\\u%04x" % i for i in range(32)}
_ESCAPES.update({8: b"\\b", 9: b"\\t", 10: b"\\n", 12: b"\\f", 13: b"\\r", 0x22: b'\\"',
                 0x2F: b"\\/", 0x5C: b"\\\\", 0x7F: b"\\u007f"})
_NEEDS_ESCAPE = re.compile(rb'[\x00-\x1f"/\\\x7f]')
_TOKEN_NAMES = ("T_OBJ_BEGIN", "T_OBJ_END", "T_ARR_BEGIN", "T_ARR_END", "T_STRING", "T_NUMBER",
                "T_BOOLEAN", "T_NULL", "T_COLON", "T_COMMA", "T_END", "T_WHITESPACE", "T_ERROR",
                "T_UNKNOWN")
(T_OBJ_BEGIN, T_OBJ_END, T_ARR_BEGIN, T_ARR_END, T_STRING, T_NUMBER, T_BOOLEAN, T_NULL, T_COLON,
 T_COMMA, T_END, T_WHITESPACE, T_ERROR, T_UNKNOWN) = range(14)
_SINGLE = {0x7B: T_OBJ_BEGIN, 0x7D: T_OBJ_END, 0x5B: T_ARR_BEGIN, 0x5D: T_ARR_END,
           0x2C: T_COMMA, 0x3A: T_COLON}
_UNKNOWN_START = set(b'fiInNt"+-0123456789')
_SIMPLE_ESCAPES = {0x22: 0x22, 0x5C: 0x5C, 0x2F: 0x2F, 0x62: 8, 0x74: 9, 0x6E: 10, 0x66: 12, 0x72: 13}


def _escape_string(s: bytes) -> bytes:
    if _NEEDS_ESCAPE.search(s) is None:
        return b'"' + s + b'"'
    return b'"' + _NEEDS_ESCAPE.sub(lambda m: _ESCAPES[m.group(0)[0]], s) + b'"'


class CJson:
    """lua-cjson 2.1.0 with Redis's defaults.  ``null`` is the Lua value for cjson.null."""

    def __init__(self, new_array, new_map, null):
        self.new_array = new_array
        self.new_map = new_map
        self.null = null
        self.sparse_convert = 0
        self.sparse_ratio = 2
        self.sparse_safe = 10
        self.max_encode_depth = 1000
        self.max_decode_depth = 1000
        self.invalid_numbers_out = 0     # 0 off, 1 on, 2 "null"
        self.invalid_numbers_in = 1
        self.keep_buffer = 1
        self.precision = 14

    # --- configuration ---
    @staticmethod
    def _arg_init(args: tuple, n: int, fname: str) -> tuple:
        if len(args) > n:
            raise arg_error(n + 1, fname, b"found too many arguments")
        return args + (None,) * (n - len(args))

    def _int_option(self, args, i: int, fname: str, attr: str, lo: int, hi: int):
        if args[i - 1] is not None:
            v = check_integer(args, i, fname)
            if not lo <= v <= hi:
                raise arg_error(1, fname, b"expected integer between %d and %d" % (lo, hi))
            setattr(self, attr, v)
        return getattr(self, attr)

    def _enum_option(self, args, i: int, fname: str, attr: str, options=(b"off", b"on")):
        v = args[i - 1]
        if v is not None:
            if type(v) is bool:
                setattr(self, attr, int(v))
            else:
                s = check_string(args, i, fname)
                if s not in options:
                    raise arg_error(i, fname, b"invalid option '%s'" % s)
                setattr(self, attr, options.index(s))
        cur = getattr(self, attr)
        return bool(cur) if cur in (0, 1) else options[cur]

    def encode_sparse_array(self, *args):
        args = self._arg_init(args, 3, "encode_sparse_array")
        a = self._enum_option(args, 1, "encode_sparse_array", "sparse_convert")
        b = self._int_option(args, 2, "encode_sparse_array", "sparse_ratio", 0, 0x7FFFFFFF)
        c = self._int_option(args, 3, "encode_sparse_array", "sparse_safe", 0, 0x7FFFFFFF)
        return a, b, c

    def encode_max_depth(self, *args):
        name = "encode_max_depth"
        return self._int_option(self._arg_init(args, 1, name), 1, name, "max_encode_depth", 1, 0x7FFFFFFF)

    def decode_max_depth(self, *args):
        name = "decode_max_depth"
        return self._int_option(self._arg_init(args, 1, name), 1, name, "max_decode_depth", 1, 0x7FFFFFFF)

    def encode_number_precision(self, *args):
        name = "encode_number_precision"
        return self._int_option(self._arg_init(args, 1, name), 1, name, "precision", 1, 14)

    def encode_keep_buffer(self, *args):
        name = "encode_keep_buffer"
        return self._enum_option(self._arg_init(args, 1, name), 1, name, "keep_buffer")

    def encode_invalid_numbers(self, *args):
        name = "encode_invalid_numbers"
        return self._enum_option(self._arg_init(args, 1, name), 1, name, "invalid_numbers_out",
                                 (b"off", b"on", b"null"))

    def decode_invalid_numbers(self, *args):
        name = "decode_invalid_numbers"
        return self._enum_option(self._arg_init(args, 1, name), 1, name, "invalid_numbers_in")

    # --- encoding ---
    def encode(self, *args):
        if len(args) != 1:
            raise arg_error(1, "encode", b"expected 1 argument")
        out: list = []
        self._append(args[0], out, 0)
        return b"".join(out)

    def _number(self, n, out: list, what: bytes = b"number") -> None:
        f = float(n)
        if f != f or f in (math.inf, -math.inf):
            if self.invalid_numbers_out == 0:
                raise LuaStringError(b"Cannot serialise %s: must not be NaN or Inf" % what)
            if self.invalid_numbers_out == 2:
                out.append(b"null")
                return
            if f != f:
                out.append(b"nan")
                return
        out.append(b"%.*g" % (self.precision, f))

    def _append(self, v, out: list, depth: int) -> None:
        t = type(v)
        if t is bytes:
            out.append(_escape_string(v))
        elif t is int or t is float:
            self._number(v, out)
        elif t is bool:
            out.append(b"true" if v else b"false")
        elif v is None:
            out.append(b"null")
        else:
            kind = lua_type(v)
            if kind == "table":
                depth += 1
                if depth > self.max_encode_depth:
                    raise LuaStringError(b"Cannot serialise, excessive nesting (%d)" % depth)
                self._table(v, out, depth)
            elif kind == "userdata":
                # The only userdata scripts can reach is cjson.null.
                out.append(b"null")
            else:
                raise LuaStringError(b"Cannot serialise %s: type not supported" % type_name(v))

    def _table(self, t, out: list, depth: int) -> None:
        items = list(t.items())
        biggest = 0
        count = 0
        array = True
        for k, _ in items:
            if (type(k) is int or type(k) is float) and k and k == math.floor(k) and k >= 1:
                biggest = max(biggest, k)
                count += 1
                continue
            array = False
            break
        if array and self.sparse_ratio > 0 and biggest > count * self.sparse_ratio \
                and biggest > self.sparse_safe:
            if not self.sparse_convert:
                raise LuaStringError(b"Cannot serialise table: excessively sparse array")
            array = False
        if array and biggest > 0:
            out.append(b"[")
            raw = dict(items)
            for i in range(1, int(biggest) + 1):
                if i > 1:
                    out.append(b",")
                self._append(raw.get(i), out, depth)
            out.append(b"]")
            return
        out.append(b"{")
        first = True
        for k, v in items:
            if not first:
                out.append(b",")
            first = False
            if type(k) is int or type(k) is float:
                out.append(b'"')
                self._number(k, out)
                out.append(b'":')
            elif type(k) is bytes:
                out.append(_escape_string(k))
                out.append(b":")
            else:
                raise LuaStringError(b"Cannot serialise %s: table key must be a number or string"
                                     % type_name(k))
            self._append(v, out, depth)
        out.append(b"}")

    # --- decoding ---
    def decode(self, *args):
        if len(args) != 1:
            raise arg_error(1, "decode", b"expected 1 argument")
        data = check_string(args, 1, "decode")
        if len(data) >= 2 and (data[0] == 0 or data[1] == 0):
            raise LuaStringError(b"JSON parser does not support UTF-16 or UTF-32")
        # The C parser sees a NUL-terminated string.
        p = _JsonParser(self, data.split(b"\x00", 1)[0])
        tok = p.next_token()
        value = p.value(tok)
        tok = p.next_token()
        if tok[0] != T_END:
            p.fail(b"the end", tok)
        return value


class _JsonParser:
    def __init__(self, cfg: CJson, data: bytes):
        self.cfg = cfg
        self.d = data
        self.p = 0
        self.depth = 0

    def fail(self, expected: bytes, tok):
        found = tok[2] if tok[0] == T_ERROR else _TOKEN_NAMES[tok[0]].encode()
        raise LuaStringError(b"Expected %s but found %s at character %d" % (expected, found, tok[1] + 1))

    def _error(self, what: bytes):
        return (T_ERROR, self.p, what)

    def next_token(self):
        d = self.d
        n = len(d)
        p = self.p
        while p < n and d[p] in b" \t\n\r":
            p += 1
        self.p = p
        if p >= n:
            return (T_END, p, None)
        ch = d[p]
        single = _SINGLE.get(ch)
        if single is not None:
            self.p = p + 1
            return (single, p, None)
        if ch not in _UNKNOWN_START:
            return (T_ERROR, p, b"invalid token")
        if ch == 0x22:
            return self._string(p)
        if ch == 0x2D or 0x30 <= ch <= 0x39:
            if not self.cfg.invalid_numbers_in and self._invalid_number():
                return (T_ERROR, p, b"invalid number")
            return self._number(p)
        if d.startswith(b"true", p):
            self.p = p + 4
            return (T_BOOLEAN, p, True)
        if d.startswith(b"false", p):
            self.p = p + 5
            return (T_BOOLEAN, p, False)
        if d.startswith(b"null", p):
            self.p = p + 4
            return (T_NULL, p, None)
        if self.cfg.invalid_numbers_in and self._invalid_number():
            return self._number(p)
        return (T_ERROR, p, b"invalid token")

    def _invalid_number(self) -> bool:
        d, p = self.d, self.p
        if d[p:p + 1] == b"+":
            return True
        if d[p:p + 1] == b"-":
            p += 1
        c = d[p:p + 1]
        if c == b"0":
            c2 = d[p + 1:p + 2]
            return c2 in (b"x", b"X") or (c2 != b"" and c2.isdigit())
        if c != b"" and c[0] <= 0x39:
            return False
        low = d[p:p + 3].lower()
        return low == b"inf" or low == b"nan"

    def _number(self, p: int):
        value, end = c_strtod(self.d, p)
        if end == p:
            return (T_ERROR, p, b"invalid number")
        self.p = end
        return (T_NUMBER, p, value)

    def _string(self, start: int):
        d = self.d
        n = len(d)
        p = start + 1
        out = bytearray()
        while True:
            if p >= n:
                self.p = p
                return (T_ERROR, p, b"unexpected end of string")
            ch = d[p]
            if ch == 0x22:
                break
            if ch == 0x5C:
                esc = d[p + 1] if p + 1 < n else 0
                if esc == 0x75:
                    cp, used = _unicode_escape(d, p)
                    if cp is None:
                        self.p = p
                        return (T_ERROR, p, b"invalid unicode escape code")
                    out += cp
                    p += used
                    continue
                mapped = _SIMPLE_ESCAPES.get(esc)
                if mapped is None:
                    self.p = p
                    return (T_ERROR, p, b"invalid escape code")
                out.append(mapped)
                p += 2
                continue
            out.append(ch)
            p += 1
        self.p = p + 1
        return (T_STRING, start, bytes(out))

    def value(self, tok):
        kind = tok[0]
        if kind == T_STRING or kind == T_NUMBER or kind == T_BOOLEAN:
            return tok[2]
        if kind == T_NULL:
            return self.cfg.null
        if kind == T_OBJ_BEGIN:
            return self._object()
        if kind == T_ARR_BEGIN:
            return self._array()
        self.fail(b"value", tok)

    def _descend(self) -> None:
        self.depth += 1
        if self.depth > self.cfg.max_decode_depth:
            raise LuaStringError(b"Found too many nested data structures (%d) at character %d"
                                 % (self.depth, self.p))

    def _object(self):
        self._descend()
        pairs: list = []
        tok = self.next_token()
        if tok[0] == T_OBJ_END:
            self.depth -= 1
            return self.cfg.new_map(pairs)
        while True:
            if tok[0] != T_STRING:
                self.fail(b"object key string", tok)
            key = tok[2]
            tok = self.next_token()
            if tok[0] != T_COLON:
                self.fail(b"colon", tok)
            pairs.append((key, self.value(self.next_token())))
            tok = self.next_token()
            if tok[0] == T_OBJ_END:
                self.depth -= 1
                return self.cfg.new_map(pairs)
            if tok[0] != T_COMMA:
                self.fail(b"comma or object end", tok)
            tok = self.next_token()

    def _array(self):
        self._descend()
        items: list = []
        tok = self.next_token()
        if tok[0] == T_ARR_END:
            self.depth -= 1
            return self.cfg.new_array(items)
        while True:
            items.append(self.value(tok))
            tok = self.next_token()
            if tok[0] == T_ARR_END:
                self.depth -= 1
                return self.cfg.new_array(items)
            if tok[0] != T_COMMA:
                self.fail(b"comma or array end", tok)
            tok = self.next_token()


def _hex4(d: bytes, p: int):
    chunk = d[p:p + 4]
    if len(chunk) != 4 or not all(c in b"0123456789abcdefABCDEF" for c in chunk):
        return None
    return int(chunk, 16)


def _unicode_escape(d: bytes, p: int):
    """Decode ``\\uXXXX`` (and a surrogate pair) at p: (utf8 bytes, length) or (None, 0)."""
    cp = _hex4(d, p + 2)
    if cp is None:
        return None, 0
    used = 6
    if cp & 0xF800 == 0xD800:
        if cp & 0x400:
            return None, 0
        if d[p + 6:p + 8] != b"\\u":
            return None, 0
        low = _hex4(d, p + 8)
        if low is None or low & 0xFC00 != 0xDC00:
            return None, 0
        cp = (((cp & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000
        used = 12
    return _utf8(cp), used


def _utf8(cp: int) -> bytes:
    if cp <= 0x7F:
        return bytes((cp,))
    if cp <= 0x7FF:
        return bytes(((cp >> 6) | 0xC0, (cp & 0x3F) | 0x80))
    if cp <= 0xFFFF:
        return bytes(((cp >> 12) | 0xE0, ((cp >> 6) & 0x3F) | 0x80, (cp & 0x3F) | 0x80))
    return bytes(((cp >> 18) | 0xF0, ((cp >> 12) & 0x3F) | 0x80, ((cp >> 6) & 0x3F) | 0x80,
                  (cp & 0x3F) | 0x80))
