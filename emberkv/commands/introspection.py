"""COMMAND and its subcommands, generated from the command table."""

from __future__ import annotations

from ..protocol.reply import MapReply, SetReply, Status
from ..util.glob import glob_match
from .common import SYNTAX, err
from .registry import CANONICAL, COMMANDS, command, container


def _key_specs(cmd):
    if cmd.first_key <= 0 and cmd.keys_fn is None:
        return []
    if cmd.keys_fn is not None and cmd.first_key <= 0:
        return [{b"flags": [Status(b"RW"), Status(b"access")],
                 b"begin_search": {b"type": b"unknown", b"spec": {}},
                 b"find_keys": {b"type": b"unknown", b"spec": {}}}]
    last = cmd.last_key - cmd.first_key if cmd.last_key >= 0 else cmd.last_key
    if cmd.is_write:
        flags = [Status(b"RW"), Status(b"access"), Status(b"update")]
    else:
        flags = [Status(b"RO"), Status(b"access")]
    return [{b"flags": flags,
             b"begin_search": {b"type": b"index", b"spec": {b"index": cmd.first_key}},
             b"find_keys": {b"type": b"range",
                            b"spec": {b"lastkey": last, b"keystep": cmd.key_step or 1, b"limit": 0}}}]


_HIDDEN_FLAGS = {"no_auth", "no_multi", "sentinel", "allow_busy", "skip_slowlog", "skip_monitor"}
_FLAG_NAMES = {"no_auth": "no_auth", "no_multi": "no_multi", "allow_busy": "allow_busy",
               "skip_slowlog": "skip_slowlog", "skip_monitor": "skip_monitor"}


# Flags in the order Redis 7.0 prints them; may_replicate and sentinel are hidden, as there.
_FLAG_ORDER = ["write", "readonly", "denyoom", "module", "admin", "pubsub", "noscript", "blocking",
               "loading", "stale", "skip_monitor", "skip_slowlog", "asking", "fast", "no_auth",
               "no_mandatory_keys", "no_async_loading", "no_multi", "movablekeys", "allow_busy"]


def command_info(cmd):
    present = set(cmd.flags)
    if cmd.movablekeys:
        present.add("movablekeys")
    if cmd.name in _NO_MANDATORY_KEYS:
        present.add("no_mandatory_keys")
    flags = SetReply(Status(f.encode()) for f in _FLAG_ORDER if f in present)
    subs = []
    if cmd.subcommands:
        subs = [command_info(s) for s in cmd.subcommands.values()]
    return [
        cmd.fullname.encode(), cmd.arity, flags,
        cmd.first_key if cmd.first_key > 0 else 0,
        cmd.last_key if cmd.first_key > 0 else 0,
        cmd.key_step if cmd.first_key > 0 else 0,
        SetReply(Status(b"@" + c.encode()) for c in cmd.categories),
        SetReply(t.encode() for t in cmd.tips),
        _key_specs(cmd),
        subs,
    ]


def command_docs(cmd):
    doc = {
        b"summary": (cmd.summary or cmd.fullname).encode(),
        b"since": cmd.since.encode(),
        b"group": cmd.group.encode(),
    }
    if cmd.complexity:
        doc[b"complexity"] = cmd.complexity.encode()
    if cmd.doc_args:
        doc[b"arguments"] = cmd.doc_args
    if cmd.subcommands:
        doc[b"subcommands"] = {s.fullname.encode(): command_docs(s) for s in cmd.subcommands.values()}
    return doc


def _find(name: bytes):
    """A command or ``parent|sub`` by name, or None."""
    name = name.lower()
    if b"|" in name:
        parent, sub = name.split(b"|", 1)
        p = COMMANDS.get(parent)
        if p is None or not p.subcommands:
            return None
        return p.subcommands.get(sub)
    return COMMANDS.get(name)


@command("command", -1, "loading stale", acl="@connection", group="server", since="2.8.13",
         summary="Returns detailed information about all commands.")
def command_(c, argv):
    return [command_info(cmd) for cmd in CANONICAL.values()]


container("command", group="server", since="2.8.13")


@command("command|count", 2, "loading stale", acl="@connection", group="server", since="2.8.13",
         summary="Returns a count of commands.")
def command_count(c, argv):
    return len(CANONICAL)


@command("command|info", -2, "loading stale", acl="@connection", group="server", since="2.8.13",
         summary="Returns information about one, multiple or all commands.")
def command_info_cmd(c, argv):
    if len(argv) == 2:
        return [command_info(cmd) for cmd in CANONICAL.values()]
    out = []
    for name in argv[2:]:
        cmd = _find(name)
        out.append(command_info(cmd) if cmd is not None else None)
    return out


@command("command|docs", -2, "loading stale", acl="@connection", group="server", since="7.0.0",
         summary="Returns documentary information about one, multiple or all commands.")
def command_docs_cmd(c, argv):
    out = {}
    if len(argv) == 2:
        for cmd in CANONICAL.values():
            out[cmd.name.encode()] = command_docs(cmd)
        return out
    for name in argv[2:]:
        cmd = _find(name)
        if cmd is not None:
            out[cmd.fullname.encode()] = command_docs(cmd)
    return out


def _getkeys(c, argv):
    sub = argv[2:]
    cmd = _find(sub[0])
    if cmd is not None and cmd.subcommands is not None and len(sub) > 1:
        cmd = cmd.subcommands.get(sub[1].lower(), cmd)
    if cmd is None:
        err(b"ERR Invalid command specified")
    n = len(sub)
    if (cmd.arity > 0 and cmd.arity != n) or n < -cmd.arity:
        err(b"ERR Invalid number of arguments specified for command")
    if cmd.first_key <= 0 and cmd.keys_fn is None:
        err(b"ERR The command has no key arguments")
    try:
        idx = cmd.key_indexes(sub)
    except Exception:
        idx = []
    if not idx and cmd.name not in _NO_MANDATORY_KEYS:
        err(b"ERR Invalid arguments specified for command")
    return cmd, sub, idx


# Commands whose key list may legitimately be empty (Redis's NO_MANDATORY_KEYS).
_NO_MANDATORY_KEYS = {"eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro"}

_RW_ACCESS_UPDATE = (b"RW", b"access", b"update")
_OW_UPDATE = (b"OW", b"update")


def _key_flags(cmd, sub, position: int, index: int) -> tuple:
    """Key-spec flags of the key at ``index`` (its ``position``-th key), as Redis 7.0 reports."""
    name = cmd.fullname
    if name == "set":
        # Without GET (or with KEEPTTL semantics) SET overwrites blindly.
        return _RW_ACCESS_UPDATE if any(a.lower() == b"get" for a in sub[3:]) else _OW_UPDATE
    if name in ("mset", "msetnx", "psetex", "setex"):
        return _OW_UPDATE
    if name in ("lmove", "blmove", "rpoplpush", "brpoplpush", "smove"):
        return (b"RW", b"access", b"delete") if position == 0 else (b"RW", b"insert")
    if name in ("sort", "sort_ro"):
        return (b"RO", b"access") if position == 0 else _OW_UPDATE
    if name.endswith("store") and position == 0 and name not in ("georadius", "georadiusbymember"):
        return _OW_UPDATE
    if name in ("del", "unlink"):
        return (b"RM", b"delete")
    if cmd.is_write:
        return _RW_ACCESS_UPDATE
    return (b"RO", b"access")


@command("command|getkeys", -3, "loading stale", acl="@connection", group="server", since="2.8.13",
         summary="Extracts the key names from an arbitrary command.")
def command_getkeys(c, argv):
    cmd, sub, idx = _getkeys(c, argv)
    return [sub[i] for i in idx]


@command("command|getkeysandflags", -3, "loading stale", acl="@connection", group="server", since="7.0.0",
         summary="Extracts the key names and access flags for an arbitrary command.")
def command_getkeysandflags(c, argv):
    cmd, sub, idx = _getkeys(c, argv)
    return [[sub[i], [Status(f) for f in _key_flags(cmd, sub, pos, i)]] for pos, i in enumerate(idx)]


@command("command|list", -2, "loading stale", acl="@connection", group="server", since="7.0.0",
         summary="Returns a list of command names.")
def command_list(c, argv):
    names = []
    for cmd in CANONICAL.values():
        names.append(cmd)
        if cmd.subcommands:
            names.extend(cmd.subcommands.values())
    if len(argv) == 2:
        return [cmd.fullname.encode() for cmd in names]
    if len(argv) != 5 or argv[2].lower() != b"filterby":
        err(SYNTAX)
    kind, value = argv[3].lower(), argv[4]
    if kind == b"module":
        return []
    if kind == b"aclcat":
        cat = value.lower().decode(errors="replace")
        return [cmd.fullname.encode() for cmd in names if cat in cmd.categories]
    if kind == b"pattern":
        return [cmd.fullname.encode() for cmd in names
                if glob_match(value.lower(), cmd.fullname.encode(), nocase=True)]
    err(SYNTAX)


@command("command|help", 2, "loading stale", acl="@connection", group="server", since="5.0.0",
         summary="Returns helpful text about the different subcommands.")
def command_help(c, argv):
    lines = [
        "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "(no subcommand)", "    Return details about all Redis commands.",
        "COUNT", "    Return the total number of commands in this Redis server.",
        "LIST", "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "GETKEYS <full-command>", "    Return the keys from a full Redis command.",
        "GETKEYSANDFLAGS <full-command>",
        "    Return the keys and the access flags from a full Redis command.",
        "HELP", "    Print this help.",
    ]
    return [Status(l.encode()) for l in lines]
