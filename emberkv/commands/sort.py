"""SORT and SORT_RO over lists, sets and sorted sets (Redis 7.0 semantics)."""

from __future__ import annotations

import math

from ..datatypes.listtype import ListValue
from ..server.server import N_GENERIC, N_LIST
from .common import SYNTAX, WRONGTYPE, err, lookup_read, parse_int
from .registry import COMMANDS, command

_SPACE = b" \t\n\v\f\r"
_NOT_DOUBLE = b"ERR One or more scores can't be converted into double"


def sort_keys(argv) -> list:
    """sortGetKeys: the sorted key, plus the last STORE destination (options skipped by arity)."""
    keys = [1]
    store = None
    i = 2
    n = len(argv)
    while i < n:
        opt = argv[i].lower()
        if opt == b"limit":
            i += 2
        elif opt in (b"get", b"by"):
            i += 1
        elif opt == b"store" and i + 1 < n:
            store = i + 1
        i += 1
    if store is not None:
        keys.append(store)
    return keys


def _strtod(b: bytes):
    """SORT's numeric reading of a value: C strtod over the whole string (up to a NUL).

    Returns None when Redis would report a conversion error."""
    s = b.split(b"\x00", 1)[0]
    if not s:
        return 0.0
    t = s.lstrip(_SPACE)
    if not t or t[-1] in _SPACE or b"_" in t:
        return None
    try:
        if t.lstrip(b"+-")[:2] in (b"0x", b"0X"):
            v = float.fromhex(t.decode("ascii"))
        else:
            v = float(t)
    except (ValueError, UnicodeDecodeError, OverflowError):
        return None
    if v != v:
        return None
    if math.isinf(v) and b"inf" not in t.lower():
        return None  # overflow: strtod sets ERANGE
    if v == 0 and any(0x31 <= ch <= 0x39 for ch in t.split(b"e")[0].split(b"E")[0].split(b"p")[0]):
        return None  # underflow to zero: ERANGE
    return v


def _lookup_by_pattern(c, pattern: bytes, subst: bytes):
    """The value SORT's BY/GET pattern names for one element (None when missing)."""
    if pattern == b"#":
        return subst
    star = pattern.find(b"*")
    if star < 0:
        return None
    arrow = pattern.find(b"->", star + 1)
    if arrow >= 0 and arrow + 2 < len(pattern):
        key = pattern[:star] + subst + pattern[star + 1:arrow]
        field = pattern[arrow + 2:]
    else:
        key = pattern[:star] + subst + pattern[star + 1:]
        field = None
    v = lookup_read(c, key)
    if v is None:
        return None
    if field is not None:
        if type(v) is bytes or v.kind != b"hash":
            return None
        return v.get(field)
    return v if type(v) is bytes else None


def _full_key_access(c, argv, readonly: bool) -> bool:
    acl = c.server.acl
    if acl is None:
        return True
    return acl.can_read_any_key(c, COMMANDS[b"sort_ro" if readonly else b"sort"], argv)


def _sort(c, argv, readonly: bool):
    server = c.server
    desc = alpha = dontsort = False
    limit_start, limit_count = 0, -1
    sortby = storekey = None
    gets = []
    cluster = server.config.cluster_enabled
    full_access = None  # may the user read every key (BY/GET name arbitrary keys)? asked once
    j = 2
    n = len(argv)
    while j < n:
        opt = argv[j].lower()
        left = n - j - 1
        if opt == b"asc":
            desc = False
        elif opt == b"desc":
            desc = True
        elif opt == b"alpha":
            alpha = True
        elif opt == b"limit" and left >= 2:
            limit_start = parse_int(argv[j + 1])
            limit_count = parse_int(argv[j + 2])
            j += 2
        elif not readonly and opt == b"store" and left >= 1:
            storekey = argv[j + 1]
            j += 1
        elif opt == b"by" and left >= 1:
            sortby = argv[j + 1]
            # A pattern without '*' names no per-element key: nothing to sort by.
            if b"*" not in sortby:
                dontsort = True
            elif cluster:
                err(b"ERR BY option of SORT denied in Cluster mode.")
            else:
                if full_access is None:
                    full_access = _full_key_access(c, argv, readonly)
                if not full_access:
                    err(b"ERR BY option of SORT denied due to insufficient ACL permissions.")
            j += 1
        elif opt == b"get" and left >= 1:
            if cluster:
                err(b"ERR GET option of SORT denied in Cluster mode.")
            if full_access is None:
                full_access = _full_key_access(c, argv, readonly)
            if not full_access:
                err(b"ERR GET option of SORT denied due to insufficient ACL permissions.")
            gets.append(argv[j + 1])
            j += 1
        else:
            err(SYNTAX)
        j += 1

    key = argv[1]
    v = lookup_read(c, key)
    kind = b"list" if v is None else (b"string" if type(v) is bytes else v.kind)
    if kind not in (b"list", b"set", b"zset"):
        err(WRONGTYPE)

    # An unsorted set would come out in hash order: sort it so that replicas and
    # scripts see the same result.
    if dontsort and kind == b"set" and (storekey is not None or c.in_script):
        dontsort, alpha, sortby = False, True, None

    size = 0 if v is None else len(v)
    start = min(max(limit_start, 0), size)
    limit_count = min(max(limit_count, -1), size)
    end = size - 1 if limit_count < 0 else start + limit_count - 1
    if start >= size:
        start, end = size - 1, size - 2
    if end >= size:
        end = size - 1

    if v is None:
        vector = []
    elif dontsort and kind != b"set":
        # Native order (reversed for DESC), loading only the LIMIT window.
        if kind == b"list":
            items = list(reversed(v)) if desc else list(v)
        else:
            items = v.members_in_order()
            if desc:
                items.reverse()
        vector = items[start:end + 1] if end >= start else []
        end -= start
        start = 0
    elif kind == b"list":
        vector = list(v)
    elif kind == b"set":
        vector = v.ordered(server.config.set_max_intset_entries)
    else:
        vector = v.members_in_order()

    if not dontsort:
        vector = _sorted(c, vector, sortby, alpha, desc)

    outputlen = (len(gets) or 1) * (end - start + 1)
    selected = vector[start:end + 1] if end >= start else []
    if storekey is None:
        if not gets:
            return selected
        out = []
        for e in selected:
            for pattern in gets:
                out.append(_lookup_by_pattern(c, pattern, e))
        return out

    db = c.db
    if gets:
        result = ListValue()
        for e in selected:
            for pattern in gets:
                val = _lookup_by_pattern(c, pattern, e)
                result.append(b"" if val is None else val)
    else:
        result = ListValue(selected)
    if outputlen:
        db.set(storekey, result)
        server.signal_modified(db, storekey)
        server.notify(N_LIST, b"sortstore", storekey, db.index)
        server.signal_ready(db, storekey)
        server.dirty += outputlen
    elif db.delete(storekey):
        server.signal_modified(db, storekey)
        server.notify(N_GENERIC, b"del", storekey, db.index)
        server.dirty += 1
    return outputlen


def _sorted(c, vector: list, sortby, alpha: bool, desc: bool) -> list:
    if alpha:
        if sortby is None:
            return sorted(vector, reverse=desc)
        # Elements whose BY key is missing sort first.
        keyed = []
        for e in vector:
            by = _lookup_by_pattern(c, sortby, e)
            keyed.append(((False, b"") if by is None else (True, by), e))
        keyed.sort(key=lambda pair: pair[0], reverse=desc)
        return [e for _, e in keyed]
    keyed = []
    failed = False
    for e in vector:
        if sortby is None:
            score = _strtod(e)
        else:
            by = _lookup_by_pattern(c, sortby, e)
            score = 0.0 if by is None else _strtod(by)
        if score is None:
            failed = True
            score = 0.0
        keyed.append((score, e))
    if failed:
        err(_NOT_DOUBLE)
    keyed.sort(reverse=desc)
    return [e for _, e in keyed]


@command("sort", -2, "write denyoom", 1, 1, 1, acl="@set @sortedset @list @dangerous",
         group="generic", since="1.0.0",
         summary="Sorts the elements of a list, set or sorted set, optionally storing the result.",
         keys_fn=sort_keys)
def sort(c, argv):
    return _sort(c, argv, False)


@command("sort_ro", -2, "readonly", 1, 1, 1, acl="@set @sortedset @list @dangerous",
         group="generic", since="7.0.0",
         summary="Sorts the elements of a list, set or sorted set without storing anything.",
         keys_fn=lambda argv: [1])
def sort_ro(c, argv):
    return _sort(c, argv, True)
