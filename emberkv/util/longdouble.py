"""x87 80-bit long double arithmetic, exactly, for INCRBYFLOAT and HINCRBYFLOAT.

Redis adds in ``long double`` (64-bit significand on x86-64) and prints with
``%.17Lf`` trimmed of trailing zeros, so "4999.99998999999999993" is the reply
a Python float cannot produce.  Values are kept as exact Fractions rounded to
a 64-bit significand after every operation, which is what the hardware does.
"""

from __future__ import annotations

import math
from fractions import Fraction

_SIG_BITS = 64
_MAX_EXP = 16384  # beyond this an x87 long double overflows to inf


def round_ld(x: Fraction) -> Fraction | float:
    """Round to the nearest long double (ties to even); ±inf on overflow."""
    if x == 0:
        return Fraction(0)
    sign = -1 if x < 0 else 1
    ax = -x if sign < 0 else x
    n, d = ax.numerator, ax.denominator
    e = n.bit_length() - d.bit_length()
    if Fraction(n, d) < Fraction(2) ** e:
        e -= 1
    if e >= _MAX_EXP:
        return sign * math.inf
    shift = e - (_SIG_BITS - 1)
    scaled = ax / (Fraction(2) ** shift)
    m = round(scaled)  # Fraction.__round__ is round-half-even
    return sign * Fraction(m) * (Fraction(2) ** shift)


def parse_ld(b: bytes):
    """strtold with Redis's string2ld checks; None when invalid."""
    if not b or len(b) > 5 * 1024 or b[0] in b" \t\r\n\x0b\x0c" or b[-1] in b" \t\r\n\x0b\x0c":
        return None
    s = b.decode("ascii", "replace").strip()
    low = s.lower()
    if low in ("inf", "+inf", "infinity", "+infinity"):
        return math.inf
    if low in ("-inf", "-infinity"):
        return -math.inf
    if "_" in s or "nan" in low:
        return None
    try:
        if low.startswith(("0x", "-0x", "+0x")):
            return round_ld(Fraction(float.fromhex(s)))
        return round_ld(Fraction(s))
    except (ValueError, ZeroDivisionError):
        return None


def format_ld_human(v) -> bytes:
    """%.17Lf with trailing zeros (and a trailing '.') removed, '-0' printed as '0'."""
    if isinstance(v, float):
        return b"inf" if v > 0 else b"-inf"
    neg = v < 0
    q = round(abs(v) * 10 ** 17)
    digits = str(q).rjust(18, "0")
    text = digits[:-17] + "." + digits[-17:]
    text = text.rstrip("0").rstrip(".")
    if neg and text != "0":
        text = "-" + text
    return text.encode()


def add_ld(a, b):
    if isinstance(a, float) or isinstance(b, float):
        try:
            return float(a) + float(b)
        except OverflowError:
            return math.inf
    return round_ld(a + b)
