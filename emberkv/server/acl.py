"""ACL: users, their rules and the permission checks, with Redis 7.0 semantics.

A user has flags, password hashes and a list of selectors; the first one is the
root selector (the rules written outside parentheses).  A command is allowed
when any selector allows it, its keys and its channels.  Rule descriptions
(ACL LIST, GETUSER, SAVE) are rebuilt from the permission sets the way Redis
does, so that ``+@read -get`` reads back the same.
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import os
import time
from collections import deque

from ..commands import registry
from ..protocol.request import split_args
from ..util.glob import glob_match
from .server import on_server_init

WRONGPASS = b"WRONGPASS invalid username-password pair or user is disabled."

# Permission check outcomes (their order picks the error reported across selectors).
OK, DENIED_CMD, DENIED_KEY, DENIED_AUTH, DENIED_CHANNEL = 0, 1, 2, 3, 4
REASONS = {DENIED_CMD: b"command", DENIED_KEY: b"key", DENIED_AUTH: b"auth", DENIED_CHANNEL: b"channel"}

# Key pattern permissions.
READ, WRITE = 1, 2
ALL = READ | WRITE

# User flags, in the order descriptions list them.
USER_FLAGS = ("on", "off", "nopass", "skip-sanitize-payload", "sanitize-payload")

CATEGORIES = tuple(registry.ALL_CATEGORIES)

# Texts of rule errors (they follow "Error in ACL SETUSER modifier '...': ").
E_SYNTAX = "Syntax error"
E_UNKNOWN = "Unknown command or category name in ACL"
E_KEYS_AFTER_ALL = ("Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and "
                    "does not have any effect. Try 'resetkeys' to start with an empty list of patterns")
E_CHANNELS_AFTER_ALL = ("Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid "
                        "and does not have any effect. Try 'resetchannels' to start with an empty list "
                        "of channels")
E_NO_SUCH_PASS = "The password you are trying to remove from the user does not exist"
E_BAD_HASH = ("The password hash must be exactly 64 characters and contain only lowercase "
              "hexadecimal characters")
E_DUPLICATE = "Duplicate user found. A user can only be defined once in config files"
E_SUBCOMMAND_FIRSTARG = "Allowing first-arg of a subcommand is not supported"

_LOG_GROUPING_MS = 60000
_HEX = frozenset(b"0123456789abcdef")

# --- what each key argument needs, from Redis's key specs -----------------------------------
# ACCESS flags need read permission; INSERT / DELETE / UPDATE need write permission.
_KEY_ACCESS: dict[str, int] = {}
for _names, _access in (
    ("append del expire expireat geoadd hdel hmset hset hsetnx linsert lpush lpushx lrem lset ltrim "
     "mset msetnx persist pexpire pexpireat pfadd psetex restore-asking restore rpush rpushx sadd "
     "setex setnx setrange srem unlink xack xadd xautoclaim xclaim xdel xgroup|create "
     "xgroup|createconsumer xgroup|delconsumer xgroup|destroy xgroup|setid xsetid xtrim zadd zrem "
     "zremrangebylex zremrangebyrank zremrangebyscore", WRITE),
    ("bitcount bitfield_ro bitpos dump eval_ro evalsha_ro expiretime fcall_ro geodist geohash geopos "
     "georadius_ro georadiusbymember_ro geosearch get getbit getrange hget hgetall hkeys hmget "
     "hrandfield hscan hvals lcs lindex lpos lrange mget pexpiretime pfcount pfdebug pttl sdiff "
     "sinter sintercard smembers smismember sort_ro srandmember sscan substr sunion ttl "
     "xinfo|consumers xinfo|groups xinfo|stream xpending xrange xread xreadgroup xrevrange zcount "
     "zdiff zinter zintercard zlexcount zmscore zrandmember zrange zrangebylex zrangebyscore zrank "
     "zrevrange zrevrangebylex zrevrangebyscore zrevrank zscan zscore zunion", READ),
    ("blmpop blpop brpop bzmpop bzpopmax bzpopmin decr decrby eval evalsha fcall getdel getex "
     "getset hincrby hincrbyfloat incr incrby incrbyfloat lmpop lpop migrate move rpop setbit spop "
     "zincrby zmpop zpopmax zpopmin", ALL),
    # Existence and metadata only: any pattern that matches the name will do.
    ("exists hexists hlen hstrlen llen memory|usage object|encoding object|freq object|idletime "
     "object|refcount scard sismember strlen touch type watch xlen zcard", 0),
):
    for _name in _names.split():
        _KEY_ACCESS[_name] = _access

# Commands with two kinds of keys: (argv position, access there, access of the other keys).
_KEY_ACCESS_SPLIT = {
    "bitop": (2, WRITE, READ), "geosearchstore": (1, WRITE, READ), "sdiffstore": (1, WRITE, READ),
    "sinterstore": (1, WRITE, READ), "sunionstore": (1, WRITE, READ), "zdiffstore": (1, WRITE, READ),
    "zinterstore": (1, WRITE, READ), "zrangestore": (1, WRITE, READ), "zunionstore": (1, WRITE, READ),
    "blmove": (1, ALL, WRITE), "brpoplpush": (1, ALL, WRITE), "lmove": (1, ALL, WRITE),
    "rename": (1, ALL, WRITE), "renamenx": (1, ALL, WRITE), "rpoplpush": (1, ALL, WRITE),
    "smove": (1, ALL, WRITE), "copy": (1, READ, WRITE), "georadius": (1, READ, WRITE),
    "georadiusbymember": (1, READ, WRITE), "sort": (1, READ, WRITE), "pfmerge": (1, ALL, READ),
}

# Sharded pub/sub commands declare their channel as a key for cluster routing only.
_CHANNEL_NOT_KEY = frozenset(("ssubscribe", "sunsubscribe", "spublish"))
_SUBSCRIBE_CMDS = frozenset(("subscribe", "ssubscribe"))
_PUBLISH_CMDS = frozenset(("publish", "spublish"))


def _key_refs(cmd, argv) -> list:
    """[(argv position, needed permission)] for the keys of this call."""
    name = cmd.fullname
    if name in _CHANNEL_NOT_KEY or (cmd.first_key <= 0 and cmd.keys_fn is None):
        return []
    try:
        positions = cmd.key_indexes(argv)
    except Exception:  # malformed arguments: the command itself will refuse them
        return []
    if any(not 0 < p < len(argv) for p in positions):
        return []  # e.g. a numkeys larger than the arguments: no keys, the command will refuse it
    split = _KEY_ACCESS_SPLIT.get(name)
    if split is not None:
        at, there, others = split
        return [(p, there if p == at else others) for p in positions]
    if name == "set":
        access = ALL if any(a.lower() == b"get" for a in argv[3:]) else WRITE
    elif name == "bitfield":
        access = READ if _bitfield_readonly(argv) else ALL
    else:
        access = _KEY_ACCESS.get(name)
        if access is None:
            access = ALL if cmd.is_write else READ
    return [(p, access) for p in positions]


def _bitfield_readonly(argv) -> bool:
    i, n = 2, len(argv)
    while i < n:
        op = argv[i].lower()
        left = n - i - 1
        if op == b"get" and left >= 2:
            i += 3
        elif op == b"overflow" and left >= 1:
            i += 2
        else:
            return False
    return True


def hash_password(password: bytes) -> bytes:
    return hashlib.sha256(password).hexdigest().encode()


def has_spaces(s: bytes) -> bool:
    """Names and patterns may not hold whitespace or NUL (C isspace plus NUL)."""
    return any(ch in b" \t\n\v\f\r\x00" for ch in s)


# --- the command table, seen as ACL sees it ----------------------------------------------------
def all_commands() -> list:
    """Every command and subcommand, parents before their subcommands, in name order."""
    out = []
    for name in sorted(registry.CANONICAL):
        cmd = registry.CANONICAL[name]
        out.append(cmd)
        if cmd.subcommands:
            out.extend(cmd.subcommands[s] for s in sorted(cmd.subcommands))
    return out


def lookup_rule_command(name: bytes):
    """``cmd`` or ``cmd|sub`` (case-insensitive), exactly one level deep."""
    parts = name.split(b"|")
    if len(parts) > 2:
        return None
    base = registry.COMMANDS.get(parts[0].lower())
    if len(parts) == 1:
        return base
    if base is None or not base.subcommands:
        return None
    return base.subcommands.get(parts[1].lower())


def lookup_call(argv):
    """The command an argv runs, or None (an unknown subcommand of a container is unknown)."""
    base = registry.COMMANDS.get(argv[0].lower())
    if base is None or len(argv) == 1 or not base.subcommands:
        return base
    return base.subcommands.get(argv[1].lower())


class AclError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- selectors -----------------------------------------------------------------------------------
class Selector:
    __slots__ = ("allkeys", "allchannels", "allcommands", "future", "allowed", "firstargs", "keys",
                 "channels")

    def __init__(self, allchannels: bool = False):
        self.allkeys = False
        self.allchannels = allchannels
        self.allcommands = False
        self.future = False         # set by +@all: also allows commands added later
        self.allowed: set = set()   # Command records
        self.firstargs: dict = {}   # Command -> [first argument allowed despite the command being off]
        self.keys: list = []        # [pattern, permission]
        self.channels: list = []

    def copy(self) -> "Selector":
        s = Selector()
        s.allkeys, s.allchannels, s.allcommands, s.future = (
            self.allkeys, self.allchannels, self.allcommands, self.future)
        s.allowed = set(self.allowed)
        s.firstargs = {k: list(v) for k, v in self.firstargs.items()}
        s.keys = [list(k) for k in self.keys]
        s.channels = list(self.channels)
        return s

    @property
    def unrestricted(self) -> bool:
        return self.allcommands and self.allkeys and self.allchannels

    # -- changing it --
    def _set_bit(self, cmd, allow: bool) -> None:
        if allow:
            self.allowed.add(cmd)
        else:
            self.allowed.discard(cmd)
            self.allcommands = False

    def change_perm(self, cmd, allow: bool) -> None:
        """Allow or deny a command; for a container, all its subcommands too."""
        self._set_bit(cmd, allow)
        self.firstargs.pop(cmd, None)
        if cmd.subcommands:
            for sub in cmd.subcommands.values():
                self._set_bit(sub, allow)

    def set_category(self, category: str, allow: bool) -> None:
        for cmd in all_commands():
            if category in cmd.categories:
                self.change_perm(cmd, allow)

    def set_all(self, allow: bool) -> None:
        self.allowed = set(all_commands()) if allow else set()
        self.allcommands = self.future = allow
        self.firstargs = {}

    def apply(self, op: bytes) -> None:
        """Apply one selector rule; raises AclError with Redis's message."""
        low = op.lower()
        if low in (b"allkeys", b"~*"):
            self.allkeys = True
            self.keys = []
        elif low == b"resetkeys":
            self.allkeys = False
            self.keys = []
        elif low in (b"allchannels", b"&*"):
            self.allchannels = True
            self.channels = []
        elif low == b"resetchannels":
            self.allchannels = False
            self.channels = []
        elif low in (b"allcommands", b"+@all"):
            self.set_all(True)
        elif low in (b"nocommands", b"-@all"):
            self.set_all(False)
        elif op[:1] in (b"~", b"%"):
            self._add_key_pattern(op)
        elif op[:1] == b"&":
            if self.allchannels:
                raise AclError(E_CHANNELS_AFTER_ALL)
            pattern = op[1:]
            if has_spaces(pattern):
                raise AclError(E_SYNTAX)
            if pattern not in self.channels:
                self.channels.append(pattern)
            self.allchannels = False
        elif op[:1] == b"+" and op[1:2] != b"@":
            self._allow_command(op[1:])
        elif op[:1] == b"-" and op[1:2] != b"@":
            cmd = lookup_rule_command(op[1:])
            if cmd is None:
                raise AclError(E_UNKNOWN)
            self.change_perm(cmd, False)
        elif op[:1] in (b"+", b"-"):
            category = op[2:].decode("latin-1").lower()
            if category not in CATEGORIES:
                raise AclError(E_UNKNOWN)
            self.set_category(category, op[:1] == b"+")
        else:
            raise AclError(E_SYNTAX)

    def _add_key_pattern(self, op: bytes) -> None:
        if self.allkeys:
            raise AclError(E_KEYS_AFTER_ALL)
        if op[:1] == b"~":
            perm, offset = ALL, 1
        else:
            perm, offset = 0, 1
            while offset < len(op):
                ch = op[offset:offset + 1].upper()
                if ch == b"R" and not perm & READ:
                    perm |= READ
                elif ch == b"W" and not perm & WRITE:
                    perm |= WRITE
                elif ch == b"~":
                    offset += 1
                    break
                else:
                    raise AclError(E_SYNTAX)
                offset += 1
            if not perm:  # "%~x" grants nothing and could not be described back
                raise AclError(E_SYNTAX)
        pattern = op[offset:]
        if has_spaces(pattern):
            raise AclError(E_SYNTAX)
        for entry in self.keys:
            if entry[0] == pattern:
                entry[1] |= perm
                break
        else:
            self.keys.append([pattern, perm])
        self.allkeys = False

    def _allow_command(self, name: bytes) -> None:
        if b"|" not in name:
            cmd = lookup_rule_command(name)
            if cmd is None:
                raise AclError(E_UNKNOWN)
            self.change_perm(cmd, True)
            return
        head, _, sub = name.rpartition(b"|")
        cmd = lookup_rule_command(head)
        if cmd is None:
            raise AclError(E_UNKNOWN)
        if cmd.parent is not None:
            raise AclError(E_SUBCOMMAND_FIRSTARG)
        if not sub:
            raise AclError(E_SYNTAX)
        if cmd.subcommands:
            subcmd = lookup_rule_command(name)
            if subcmd is None:
                raise AclError(E_UNKNOWN)
            self.change_perm(subcmd, True)
            return
        # A first argument of a plain command (SELECT|0): deprecated in Redis, still honoured.
        allowed = self.firstargs.setdefault(cmd, [])
        if all(a.lower() != sub.lower() for a in allowed):
            allowed.append(sub)

    # -- checking --
    def check(self, cmd, argv, key_cache: list) -> tuple:
        if not self.allcommands and not cmd.no_auth and cmd not in self.allowed:
            allowed = self.firstargs.get(cmd)
            if len(argv) < 2 or not allowed:
                return DENIED_CMD, 0
            arg = argv[2 if cmd.parent is not None else 1].lower()
            if all(a.lower() != arg for a in allowed):
                return DENIED_CMD, 0
        if not self.allkeys:
            if not key_cache:
                key_cache.append(_key_refs(cmd, argv))
            for pos, need in key_cache[0]:
                if not self.key_allowed(argv[pos], need):
                    return DENIED_KEY, pos
        if not self.allchannels:
            name = cmd.fullname
            if name in _SUBSCRIBE_CMDS or name == "psubscribe":
                is_pattern = name == "psubscribe"
                for pos in range(1, len(argv)):
                    if not channel_in(self.channels, argv[pos], is_pattern):
                        return DENIED_CHANNEL, pos
            elif name in _PUBLISH_CMDS and len(argv) > 1:
                if not channel_in(self.channels, argv[1], False):
                    return DENIED_CHANNEL, 1
        return OK, 0

    def key_allowed(self, key: bytes, need: int) -> bool:
        if self.allkeys:
            return True
        for pattern, perm in self.keys:
            if perm & need == need and glob_match(pattern, key):
                return True
        return False

    # -- describing --
    def describe_commands(self) -> bytes:
        """The shortest-ish rule list that rebuilds this selector's command permissions."""
        additive = not self.future
        fake = Selector()
        rules = [b"-@all" if additive else b"+@all"]
        fake.set_all(not additive)
        remaining = Selector()
        remaining.allowed = set(self.allowed)
        members = {cat: [] for cat in CATEGORIES}
        for cmd in all_commands():
            for cat in cmd.categories:
                members[cat].append(cmd)
        applied = set()
        while True:
            best, mindiff, maxsame = None, 1 << 31, 0
            for cat in CATEGORIES:
                if cat in applied:
                    continue
                on = sum(1 for cmd in members[cat] if cmd in remaining.allowed)
                off = len(members[cat]) - on
                diff, same = (off, on) if additive else (on, off)
                if same > diff and (diff < mindiff or (diff == mindiff and same > maxsame)):
                    best, mindiff, maxsame = cat, diff, same
            if best is None:
                break
            fake.set_category(best, additive)
            remaining.set_category(best, not additive)
            rules.append((b"+@" if additive else b"-@") + best.encode())
            applied.add(best)
        for cmd in all_commands():
            mine = cmd in self.allowed
            if mine != (cmd in fake.allowed):
                rules.append((b"+" if mine else b"-") + cmd.fullname.encode())
                fake.change_perm(cmd, mine)
            if not mine and cmd in self.firstargs:
                for arg in self.firstargs[cmd]:
                    rules.append(b"+" + cmd.fullname.encode() + b"|" + arg)
        return b" ".join(rules)

    def describe_keys(self) -> bytes:
        if self.allkeys:
            return b"~*"
        return b" ".join(_pattern_text(p, perm) for p, perm in self.keys)

    def describe_channels(self) -> bytes:
        if self.allchannels:
            return b"&*"
        return b" ".join(b"&" + ch for ch in self.channels)

    def describe(self) -> bytes:
        """Keys, channels and commands, in ACL LIST form."""
        parts = []
        if self.allkeys:
            parts.append(b"~*")
        else:
            parts.extend(_pattern_text(p, perm) for p, perm in self.keys)
        if self.allchannels:
            parts.append(b"&*")
        else:
            parts.append(b"resetchannels")
            parts.extend(b"&" + ch for ch in self.channels)
        parts.append(self.describe_commands())
        return b" ".join(parts)


def _pattern_text(pattern: bytes, perm: int) -> bytes:
    prefix = b"~" if perm == ALL else (b"%R~" if perm == READ else b"%W~")
    return prefix + pattern


def channel_in(patterns, channel: bytes, is_pattern: bool) -> bool:
    """A PSUBSCRIBE pattern must equal an ACL pattern; a channel name must match one."""
    if is_pattern:
        return channel in patterns
    return any(glob_match(p, channel) for p in patterns)


def merge_selector_args(args: list):
    """Join a selector split over several arguments ("(+get", "~k)"); (merged, None) or
    (None, index of the unmatched opening argument)."""
    merged = []
    opening = -1
    for i, op in enumerate(args):
        if opening < 0 and op[:1] == b"(" and op[-1:] != b")":
            opening = i
            current = op
            continue
        if opening >= 0:
            current += b" " + op
            if op[-1:] == b")":
                merged.append(current)
                opening = -1
            continue
        merged.append(op)
    if opening >= 0:
        return None, opening
    return merged, None


# --- users -------------------------------------------------------------------------------------
class User:
    __slots__ = ("name", "display", "flags", "passwords", "selectors")

    def __init__(self, name: bytes, allchannels: bool = False):
        self.name = name
        self.display = display_name(name)
        self.flags = {"off"}
        self.passwords: list = []      # hex sha256 digests
        self.selectors = [Selector(allchannels)]   # the first one is the root selector

    def copy_from(self, other: "User") -> None:
        self.flags = set(other.flags)
        self.passwords = list(other.passwords)
        self.selectors = [s.copy() for s in other.selectors]

    @property
    def enabled(self) -> bool:
        return "on" in self.flags

    @property
    def nopass(self) -> bool:
        return "nopass" in self.flags

    @property
    def unrestricted(self) -> bool:
        return self.selectors[0].unrestricted

    def apply(self, op: bytes, allchannels_default: bool) -> None:
        """Apply one user rule; raises AclError."""
        if not op:
            return
        low = op.lower()
        if low == b"on":
            self.flags.discard("off")
            self.flags.add("on")
        elif low == b"off":
            self.flags.discard("on")
            self.flags.add("off")
        elif low == b"skip-sanitize-payload":
            self.flags.discard("sanitize-payload")
            self.flags.add("skip-sanitize-payload")
        elif low == b"sanitize-payload":
            self.flags.discard("skip-sanitize-payload")
            self.flags.add("sanitize-payload")
        elif low == b"nopass":
            self.flags.add("nopass")
            self.passwords = []
        elif low == b"resetpass":
            self.flags.discard("nopass")
            self.passwords = []
        elif op[:1] in (b">", b"#"):
            digest = hash_password(op[1:]) if op[:1] == b">" else _checked_hash(op[1:])
            if digest not in self.passwords:
                self.passwords.append(digest)
            self.flags.discard("nopass")
        elif op[:1] in (b"<", b"!"):
            digest = hash_password(op[1:]) if op[:1] == b"<" else _checked_hash(op[1:])
            if digest not in self.passwords:
                raise AclError(E_NO_SUCH_PASS)
            self.passwords.remove(digest)
        elif op[:1] == b"(" and op[-1:] == b")":
            selector = Selector(allchannels_default)
            for sub in split_args(op[1:-1]) or []:
                selector.apply(sub)
            self.selectors.append(selector)
        elif low == b"clearselectors":
            del self.selectors[1:]
        elif low == b"reset":
            self.passwords = []
            self.flags = {"off", "sanitize-payload"}
            root = self.selectors[0]
            root.keys, root.allkeys = [], False
            root.channels, root.allchannels = [], allchannels_default
            del self.selectors[1:]
            root.set_all(False)
        else:
            self.selectors[0].apply(op)

    def describe(self) -> bytes:
        parts = [f.encode() for f in USER_FLAGS if f in self.flags]
        parts.extend(b"#" + p for p in self.passwords)
        parts.append(self.selectors[0].describe())
        parts.extend(b"(" + s.describe() + b")" for s in self.selectors[1:])
        return b" ".join(parts)


def _checked_hash(text: bytes) -> bytes:
    if len(text) != 64 or not all(ch in _HEX for ch in text):
        raise AclError(E_BAD_HASH)
    return text


def display_name(name: bytes) -> str:
    """The user name as kept on clients (CLIENT LIST user=...)."""
    try:
        return name.decode()
    except UnicodeDecodeError:
        return name.decode("latin-1")


class LogEntry:
    __slots__ = ("count", "reason", "context", "object", "username", "ctime", "cinfo", "entry_id",
                 "created")


# --- the subsystem -------------------------------------------------------------------------------
class ACL:
    def __init__(self, server):
        self.server = server
        self.users: dict[bytes, User] = {}
        self._by_display: dict[str, User] = {}
        self.log: deque = deque()
        self.log_next_id = 0
        self.enforcing = False   # some user is restricted: commands must be checked
        self.default = self._new_default_user()
        self.users[b"default"] = self.default
        self._set_default_password(server.config.requirepass)
        server.config.listeners["requirepass"] = self._on_requirepass
        self.changed()

    # -- hooks the core calls --
    def check_command(self, c, cmd, argv):
        """None when allowed; else the error text (and the denial is logged)."""
        if not self.enforcing or c.user is None or c.is_master:
            return None
        user = self._by_display.get(c.user) or self.default
        if user.unrestricted:
            return None
        code, pos = self.check_user(user, cmd, argv)
        if code == OK:
            return None
        obj = cmd.fullname.encode() if code == DENIED_CMD else argv[pos]
        self.add_log(c, code, self._context(c), obj, user.name)
        return denial_message(code, cmd, c.in_script)

    def authenticate(self, c, username: bytes, password: bytes):
        user = self.users.get(username)
        if user is not None and user.enabled and (user.nopass or self._password_ok(user, password)):
            c.authenticated = True
            c.user = user.display
            return None
        context = b"multi" if c.in_multi or c.in_exec else b"toplevel"
        what = (c.cur_cmd.name if c.cur_cmd is not None else "auth").upper().encode()
        self.add_log(c, DENIED_AUTH, context, what, username)
        return WRONGPASS

    def default_requires_auth(self) -> bool:
        return not self.default.nopass or not self.default.enabled

    def default_nopass(self) -> bool:
        return self.default.nopass

    def user_exists(self, name: bytes) -> bool:
        return name in self.users

    # -- checks other commands need --
    def can_run(self, c, cmd, argv) -> bool:
        """Whether the client's user may run ``argv`` (redis.acl_check_cmd), without logging."""
        user = self.user_for(c)
        return user is None or self.check_user(user, cmd, argv)[0] == OK

    def can_read_any_key(self, c, cmd, argv) -> bool:
        """SORT BY / GET: some selector allows the command and reading every key (%R~* or ~*)."""
        user = self.user_for(c)
        if user is None:
            return True
        key_cache: list = []
        for selector in user.selectors:
            if selector.check(cmd, argv, key_cache)[0] == OK and (
                    selector.allkeys or any(p == b"*" and perm & READ for p, perm in selector.keys)):
                return True
        return False

    # -- checks --
    @staticmethod
    def check_user(user: User, cmd, argv) -> tuple:
        """(OK, 0) or the most relevant (denial, argv position) over all selectors."""
        key_cache: list = []
        worst, worst_pos = DENIED_CMD, 0
        for selector in user.selectors:
            code, pos = selector.check(cmd, argv, key_cache)
            if code == OK:
                return OK, 0
            if code > worst or (code == worst and pos > worst_pos):
                worst, worst_pos = code, pos
        return worst, worst_pos

    @staticmethod
    def _password_ok(user: User, password: bytes) -> bool:
        digest = hash_password(password)
        ok = False
        for stored in user.passwords:
            ok |= hmac.compare_digest(digest, stored)
        return ok

    @staticmethod
    def _context(c) -> bytes:
        if c.in_script:
            return b"lua"
        if c.in_multi or c.in_exec:
            return b"multi"
        return b"toplevel"

    # -- users --
    @property
    def allchannels_default(self) -> bool:
        return self.server.config.acl_pubsub_default == "allchannels"

    def new_user(self, name: bytes) -> User:
        return User(name, self.allchannels_default)

    def _new_default_user(self) -> User:
        user = User(b"default")
        for op in (b"+@all", b"~*", b"&*", b"on", b"nopass"):
            user.apply(op, False)
        return user

    def _on_requirepass(self, value: str, old: str) -> None:
        self._set_default_password(value)

    def _set_default_password(self, password: str) -> None:
        """requirepass is the default user's password (empty: nopass)."""
        self.default.apply(b"resetpass", False)
        if password:
            self.default.apply(b">" + password.encode(errors="surrogateescape"), False)
        else:
            self.default.apply(b"nopass", False)

    def user_for(self, c) -> User | None:
        """The client's user; None for internal clients, which may do anything."""
        if c.user is None:
            return None
        return self._by_display.get(c.user) or self.default

    def changed(self) -> None:
        """Refresh derived state after any change to the users."""
        self._by_display = {u.display: u for u in self.users.values()}
        enforcing = any(not u.unrestricted for u in self.users.values())
        if enforcing != self.enforcing:
            self.enforcing = enforcing
            self.server.update_gates()

    def set_user(self, name: bytes, ops: list):
        """ACL SETUSER: apply every rule to a copy; None or the error text."""
        merged, bad = merge_selector_args(ops)
        if merged is None:
            return b"ERR Unmatched parenthesis in acl selector starting at '%s'." % ops[bad]
        existing = self.users.get(name)
        staged = self.new_user(name)
        if existing is not None:
            staged.copy_from(existing)
        for op in merged:
            try:
                staged.apply(op, self.allchannels_default)
            except AclError as e:
                return b"ERR Error in ACL SETUSER modifier '%s': %s" % (op, e.message.encode())
        if existing is None:
            self.users[name] = staged
        else:
            self._kill_pubsub_clients_if_needed(staged, existing)
            existing.copy_from(staged)
        self.changed()
        return None

    def delete_user(self, name: bytes) -> bool:
        user = self.users.pop(name, None)
        if user is None:
            return False
        self._kill_clients_of(user)
        self.changed()
        return True

    def _kill_clients_of(self, user: User) -> None:
        server = self.server
        for x in list(server.clients.values()):
            if x.user == user.display:
                # Back to an unauthenticated default user until the connection is gone.
                x.user = "default"
                x.authenticated = False
                if x is server.current_client:
                    x.close_after_reply = True
                else:
                    x.close("acl")

    def _kill_pubsub_clients_if_needed(self, new: User, old: User) -> None:
        """Disconnect the user's subscribers that lost access to something they listen to."""
        if any(s.allchannels for s in new.selectors):
            return
        upcoming = [ch for s in new.selectors for ch in s.channels]
        kept = set(upcoming)
        if all(not s.allchannels and all(ch in kept for ch in s.channels) for s in old.selectors):
            return
        for x in list(self.server.clients.values()):
            if x.user != old.display or not x.pubsub_count:
                continue
            if (any(not channel_in(upcoming, p, True) for p in x.patterns)
                    or any(not channel_in(upcoming, ch, False) for ch in x.channels)
                    or any(not channel_in(upcoming, ch, False) for ch in x.shard_channels)):
                x.close("acl")

    # -- the log --
    def add_log(self, c, reason: int, context: bytes, obj: bytes, username: bytes) -> None:
        from ..commands.connection import client_info_line
        now = int(time.time() * 1000)
        # Redis shows the refused command as the client's last one (cmd=...).
        last = c.last_cmd
        if c.cur_cmd is not None:
            c.last_cmd = c.cur_cmd
        cinfo = client_info_line(c)
        c.last_cmd = last
        for i, e in enumerate(self.log):
            if i >= 10:
                break
            if (e.reason == reason and e.context == context and abs(e.ctime - now) <= _LOG_GROUPING_MS
                    and e.object == obj and e.username == username):
                del self.log[i]
                self.log.appendleft(e)
                e.cinfo, e.ctime = cinfo, now
                e.count += 1
                return
        e = LogEntry()
        e.count, e.reason, e.context, e.object, e.username = 1, reason, context, obj, username
        e.ctime = e.created = now
        e.cinfo = cinfo
        e.entry_id = self.log_next_id
        self.log_next_id += 1
        self.log.appendleft(e)
        while len(self.log) > self.server.config.acllog_max_len:
            self.log.pop()

    # -- files --
    def load_file(self, filename: str):
        """ACL LOAD: replace every user from the file; None or the error text (then nothing changed)."""
        try:
            with open(filename, "rb") as fh:
                text = fh.read()
        except OSError as e:
            return ("Error loading ACLs, opening file '%s': %s"
                    % (filename, os.strerror(e.errno or errno.EIO))).encode()
        fname = filename.encode()
        errors = []
        users: dict[bytes, User] = {}
        for lineno, line in enumerate(text.split(b"\n"), 1):
            line = line.strip(b" \t\r\n")
            if not line:
                continue
            argv = line.split(b" ")
            if argv[0] != b"user" or len(argv) < 2:
                errors.append(b"%s:%d should start with user keyword followed by the username. "
                              % (fname, lineno))
                continue
            name = argv[1]
            if has_spaces(name):
                errors.append(b"'%s:%d: username '%s' contains invalid characters. "
                              % (fname, lineno, name))
                continue
            if name in users:
                errors.append(b"WARNING: Duplicate user '%s' found on line %d. " % (name, lineno))
                continue
            user = users[name] = self.new_user(name)
            merged, _ = merge_selector_args(argv[2:])
            if merged is None:
                errors.append(b"%s:%d: Unmatched parenthesis in selector definition." % (fname, lineno))
                continue
            reported = False
            for op in merged:
                op = op.strip(b"\t\r\n")
                try:
                    user.apply(op, self.allchannels_default)
                except AclError as e:
                    if e.message == E_UNKNOWN:
                        errors.append(b"%s:%d: Error in applying operation '%s': %s. "
                                      % (fname, lineno, op, e.message.encode()))
                    elif not reported:
                        errors.append(b"%s:%d: %s. " % (fname, lineno, e.message.encode()))
                        reported = True
        if errors:
            return b"".join(errors) + (b"WARNING: ACL errors detected, no change to the previously "
                                       b"active ACL rules was performed")
        new_default = users.pop(b"default", None) or self._new_default_user()
        for name, old in self.users.items():
            if name != b"default":
                self._kill_clients_of(old)
        self.default.copy_from(new_default)
        users[b"default"] = self.default
        self.users = users
        self.changed()
        return None

    def save_file(self, filename: str) -> bool:
        text = b"".join(b"user %s %s\n" % (name, self.users[name].describe())
                        for name in sorted(self.users))
        tmp = "%s.tmp-%d-%d" % (filename, os.getpid(), int(time.time() * 1000))
        try:
            with open(tmp, "wb") as fh:
                fh.write(text)
            os.replace(tmp, filename)
        except OSError as e:
            self.server.log_warning("Writing ACL file for ACL SAVE: %s" % e.strerror)
            try:
                os.unlink(tmp)
            except OSError:
                pass
            return False
        return True

    def load_at_startup(self) -> None:
        """Users from `user` config directives, then the ACL file; exits on errors like Redis."""
        server = self.server
        directives = getattr(server.config, "user_directives", [])
        aclfile = server.config.aclfile
        if aclfile and directives:
            server.log_warning(
                "Configuring Redis with users defined in redis.conf and at the same setting an ACL "
                "file path is invalid. This setup is very likely to lead to configuration errors and "
                "security holes, please define either an ACL file or declare users directly in your "
                "redis.conf, but not both.")
            raise SystemExit(1)
        error = self.load_directives(directives)
        if error:
            server.log_warning(error)
            server.log_warning("Critical error while loading ACLs. Exiting.")
            raise SystemExit(1)
        if aclfile:
            error = self.load_file(aclfile)
            if error:
                server.log_warning("Aborting Redis startup because of ACL errors: %s"
                                   % error.decode(errors="replace"))
                raise SystemExit(1)

    def load_directives(self, directives: list) -> str | None:
        seen = set()
        for argv in directives:
            name, ops = argv[0], argv[1:]
            merged, bad = merge_selector_args(ops)
            if name in seen:
                return "Error in user declaration '%s': %s" % (name.decode(errors="replace"), E_DUPLICATE)
            if merged is None:
                return "Error in user declaration '%s': %s" % (
                    ops[bad].decode(errors="replace"), E_SYNTAX)
            seen.add(name)
            if has_spaces(name):
                return "Spaces not allowed in ACL usernames"
            user = self.users.get(name)
            if user is None:
                user = self.users[name] = self.new_user(name)
            else:
                user.apply(b"reset", self.allchannels_default)
            for op in merged:
                try:
                    user.apply(op, self.allchannels_default)
                except AclError as e:
                    return "Error loading ACL rule '%s' for the user named '%s': %s" % (
                        op.decode(errors="replace"), name.decode(errors="replace"), e.message)
            if not user.enabled:
                self.server.log_notice(
                    "The user '%s' is disabled (there is no 'on' modifier in the user description). "
                    "Make sure this is not a configuration error." % name.decode(errors="replace"))
        self.changed()
        return None


def denial_message(code: int, cmd, in_script: bool = False) -> bytes:
    if in_script:
        return b"ERR The user executing the script " + {
            DENIED_CMD: b"can't run this command or subcommand",
            DENIED_KEY: b"can't access at least one of the keys mentioned in the command arguments",
            DENIED_CHANNEL: b"can't publish to the channel mentioned in the command",
        }[code]
    if code == DENIED_CMD:
        return b"NOPERM this user has no permissions to run the '%s' command" % cmd.fullname.encode()
    if code == DENIED_KEY:
        return b"NOPERM this user has no permissions to access one of the keys used as arguments"
    return b"NOPERM this user has no permissions to access one of the channels used as arguments"


@on_server_init
def _install(server) -> None:
    server.acl = ACL(server)
    hooks = getattr(server, "startup_hooks", None)
    if hooks is not None:
        hooks.append(server.acl.load_at_startup)
    else:
        server.acl.load_at_startup()
    server.update_gates()
