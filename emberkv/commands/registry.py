"""The command table: every command is declared once, here, with its metadata.

COMMAND / COMMAND INFO / DOCS / GETKEYS / COUNT / LIST, ACL categories, MULTI
queueing rules, the read-only replica check and cluster key routing all read
these records.
"""

from __future__ import annotations

from typing import Callable

# Implicit ACL categories follow from flags, as in Redis.
_GROUP_CATEGORY = {
    "string": "string", "list": "list", "hash": "hash", "set": "set",
    "sorted_set": "sortedset", "stream": "stream", "bitmap": "bitmap",
    "hyperloglog": "hyperloglog", "geo": "geo", "pubsub": "pubsub",
    "scripting": "scripting", "connection": "connection",
    "transactions": "transaction", "generic": "keyspace",
}

ALL_CATEGORIES = [
    "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
    "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking",
    "dangerous", "connection", "transaction", "scripting",
]


class Command:
    __slots__ = (
        "name", "fullname", "arity", "flags", "first_key", "last_key", "key_step",
        "categories", "group", "since", "summary", "complexity", "func", "subcommands",
        "parent", "keys_fn", "doc_args", "tips",
        # precomputed flag tests for the hot path
        "is_write", "is_readonly", "denyoom", "noscript", "allow_loading", "allow_stale",
        "no_auth", "no_multi", "pubsub_ok", "skip_monitor", "skip_slowlog", "fast",
        "blocking", "may_replicate", "admin", "movablekeys", "allow_busy",
        # statistics
        "calls", "usec", "rejected_calls", "failed_calls", "id",
    )

    def __init__(self, name, arity, flags, first_key, last_key, key_step, categories,
                 group, since, summary, complexity, func, keys_fn=None, doc_args=None, tips=()):
        self.name = name
        self.fullname = name
        self.arity = arity
        self.flags = tuple(flags)
        self.first_key = first_key
        self.last_key = last_key
        self.key_step = key_step
        self.group = group
        self.since = since
        self.summary = summary
        self.complexity = complexity
        self.func = func
        self.subcommands: dict | None = None
        self.parent: Command | None = None
        self.keys_fn = keys_fn
        self.doc_args = doc_args or []
        self.tips = tuple(tips)
        f = set(self.flags)
        self.is_write = "write" in f
        self.is_readonly = "readonly" in f
        self.denyoom = "denyoom" in f
        self.noscript = "noscript" in f
        self.allow_loading = "loading" in f
        self.allow_stale = "stale" in f
        self.no_auth = "no_auth" in f
        self.no_multi = "no_multi" in f
        self.pubsub_ok = False
        self.skip_monitor = "skip_monitor" in f
        self.skip_slowlog = "skip_slowlog" in f
        self.fast = "fast" in f
        self.blocking = "blocking" in f
        self.may_replicate = "may_replicate" in f
        self.admin = "admin" in f
        self.allow_busy = "allow_busy" in f
        self.movablekeys = keys_fn is not None
        cats = set(categories)
        if self.is_write:
            cats.add("write")
        if self.is_readonly and group != "scripting":
            cats.add("read")
        if self.admin:
            cats.update(("admin", "dangerous"))
        if "pubsub" in f:
            cats.add("pubsub")
        if self.fast:
            cats.add("fast")
        if self.blocking:
            cats.add("blocking")
        if not self.fast:
            cats.add("slow")
        gc = _GROUP_CATEGORY.get(group)
        if gc and gc != "keyspace":
            cats.add(gc)
        self.categories = tuple(c for c in ALL_CATEGORIES if c in cats)
        self.calls = 0
        self.usec = 0
        self.rejected_calls = 0
        self.failed_calls = 0
        self.id = 0

    def key_indexes(self, argv: list) -> list[int]:
        """Positions of key arguments in ``argv`` (COMMAND GETKEYS, ACL, cluster)."""
        if self.keys_fn is not None:
            return self.keys_fn(argv)
        if self.first_key <= 0:
            return []
        last = self.last_key
        if last < 0:
            last = len(argv) + last
        return list(range(self.first_key, min(last, len(argv) - 1) + 1, self.key_step or 1))

    def keys(self, argv: list) -> list[bytes]:
        return [argv[i] for i in self.key_indexes(argv)]

    def reset_stats(self) -> None:
        self.calls = self.usec = self.rejected_calls = self.failed_calls = 0


# name (lower-case bytes) -> Command; upper and lower spellings both present for speed.
COMMANDS: dict[bytes, Command] = {}
# canonical lower-case names only (for COMMAND, COUNT, LIST)
CANONICAL: dict[str, Command] = {}


def command(name: str, arity: int, flags: str = "", first_key: int = 0, last_key: int = 0,
            key_step: int = 0, *, acl: str = "", group: str = "generic", since: str = "1.0.0",
            summary: str = "", complexity: str = "", keys_fn: Callable | None = None,
            args: list | None = None, tips: tuple = ()):
    """Decorator declaring a command (``name`` may be ``parent|sub`` for a subcommand)."""

    def deco(func):
        cats = [c.lstrip("@") for c in acl.split()]
        if "|" in name:
            parent_name, sub = name.split("|", 1)
            parent = CANONICAL[parent_name]
            cmd = Command(sub, arity, flags.split(), first_key, last_key, key_step, cats,
                          group or parent.group, since, summary, complexity, func, keys_fn, args, tips)
            cmd.fullname = name
            cmd.parent = parent
            if parent.subcommands is None:
                parent.subcommands = {}
            parent.subcommands[sub.encode()] = cmd
            cmd.id = parent.id
        else:
            cmd = Command(name, arity, flags.split(), first_key, last_key, key_step, cats, group,
                          since, summary, complexity, func, keys_fn, args, tips)
            cmd.id = len(CANONICAL)
            CANONICAL[name] = cmd
            b = name.encode()
            COMMANDS[b] = cmd
            COMMANDS[b.upper()] = cmd
        return func

    return deco


def container(name: str, *, group: str = "generic", since: str = "1.0.0", summary: str = "",
              flags: str = ""):
    """Declare a command that only dispatches to its subcommands (CONFIG, CLIENT, ...)."""
    if name in CANONICAL:
        if CANONICAL[name].subcommands is None:
            CANONICAL[name].subcommands = {}
        return
    command(name, -2, flags, group=group, since=since, summary=summary)(None)
    # As in Redis, a pure container is in no ACL category but @slow (its subcommands have theirs).
    CANONICAL[name].categories = ("slow",)


def lookup(argv: list):
    """Resolve argv to a Command (following subcommands) or None."""
    cmd = COMMANDS.get(argv[0])
    if cmd is None:
        cmd = COMMANDS.get(argv[0].lower())
        if cmd is None:
            return None
    if cmd.subcommands is not None and len(argv) > 1:
        sub = cmd.subcommands.get(argv[1].lower())
        if sub is not None:
            return sub
        return None if cmd.func is None else cmd
    return cmd


def is_container(name: bytes) -> bool:
    cmd = COMMANDS.get(name.lower())
    return cmd is not None and cmd.subcommands is not None
