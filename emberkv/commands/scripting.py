"""EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT (the engine is emberkv.scripting)."""

from __future__ import annotations

from ..protocol.reply import OK, Status
from ..scripting.engine import Scripting, sha1hex
from ..server.server import on_server_init
from .common import err
from .registry import command, container


@on_server_init
def _install(server) -> None:
    server.scripting = server.functions = Scripting(server)


def script_keys(argv: list) -> list:
    """Key positions of EVAL-like commands: numkeys keys after the numkeys argument."""
    try:
        n = int(argv[2])
    except (ValueError, IndexError):
        return []
    if n <= 0 or n > len(argv) - 3:
        return []
    return list(range(3, 3 + n))


_EVAL_FLAGS = "noscript skip_monitor may_replicate stale"
_EVAL_RO_FLAGS = "noscript skip_monitor stale readonly"


@command("eval", -3, _EVAL_FLAGS, group="scripting", since="2.6.0", keys_fn=script_keys,
         summary="Runs a Lua script on the server.")
def eval_(c, argv):
    return c.server.scripting.eval(c, argv, False, False)


@command("evalsha", -3, _EVAL_FLAGS, group="scripting", since="2.6.0", keys_fn=script_keys,
         summary="Runs a cached Lua script, named by its SHA1 digest.")
def evalsha(c, argv):
    return c.server.scripting.eval(c, argv, True, False)


@command("eval_ro", -3, _EVAL_RO_FLAGS, group="scripting", since="7.0.0", keys_fn=script_keys,
         summary="Runs a Lua script that may not write.")
def eval_ro(c, argv):
    return c.server.scripting.eval(c, argv, False, True)


@command("evalsha_ro", -3, _EVAL_RO_FLAGS, group="scripting", since="7.0.0", keys_fn=script_keys,
         summary="Runs a cached Lua script that may not write, named by its SHA1 digest.")
def evalsha_ro(c, argv):
    return c.server.scripting.eval(c, argv, True, True)


container("script", group="scripting", since="2.6.0", summary="A container for Lua scripts management commands.")


@command("script|load", 3, "noscript stale", group="scripting", since="2.6.0",
         summary="Compiles a Lua script and caches it without running it.")
def script_load(c, argv):
    c.server.scripting.create_script(argv[2])
    return sha1hex(argv[2])


@command("script|exists", -3, "noscript", group="scripting", since="2.6.0",
         summary="Tells, for each SHA1 digest, whether that script is cached.")
def script_exists(c, argv):
    scripts = c.server.scripting.scripts
    return [1 if a.lower() in scripts else 0 for a in argv[2:]]


@command("script|flush", -2, "noscript", group="scripting", since="2.6.0",
         summary="Removes every cached Lua script.")
def script_flush(c, argv):
    if len(argv) == 3 and argv[2].lower() in (b"sync", b"async"):
        pass
    elif len(argv) != 2:
        err(b"ERR SCRIPT FLUSH only support SYNC|ASYNC option")
    c.server.scripting.script_flush()
    return OK


@command("script|kill", 2, "noscript allow_busy", group="scripting", since="2.6.0",
         summary="Stops the Lua script that is running now, if it has not written.")
def script_kill(c, argv):
    c.server.scripting.kill(True)
    return OK


@command("script|debug", 3, "noscript", group="scripting", since="3.2.0",
         summary="Sets the debug mode of the Lua debugger (not available here).")
def script_debug(c, argv):
    mode = argv[2].lower()
    if mode == b"no":
        return OK
    if mode in (b"yes", b"sync"):
        err(b"ERR SCRIPT DEBUG is not supported by this server")
    err(b"ERR Use SCRIPT DEBUG YES/SYNC/NO")


_SCRIPT_HELP = [
    "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DEBUG (YES|SYNC|NO)",
    "    Set the debug mode for subsequent scripts executed.",
    "EXISTS <sha1> [<sha1> ...]",
    "    Return information about the existence of the scripts in the script cache.",
    "FLUSH [ASYNC|SYNC]",
    "    Flush the Lua scripts cache. Very dangerous on replicas.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the scripts cache.",
    "    * SYNC: Synchronously flush the scripts cache.",
    "KILL",
    "    Kill the currently executing Lua script.",
    "LOAD <script>",
    "    Load a script into the scripts cache without executing it.",
    "HELP",
    "    Prints this help.",
]


@command("script|help", 2, "loading stale", group="scripting", since="5.0.0",
         summary="Returns helpful text about the different subcommands.")
def script_help(c, argv):
    return [Status(line.encode()) for line in _SCRIPT_HELP]
