"""FUNCTION and FCALL.  (Placeholder until the Lua engine lands: an empty library registry.)"""

from __future__ import annotations

from ..protocol.reply import OK
from .common import SYNTAX, err
from .registry import command, container

container("function", group="scripting", since="7.0.0", summary="A container for function commands.")


@command("function|flush", -2, "noscript write", group="scripting", since="7.0.0",
         summary="Deletes all libraries and functions.")
def function_flush(c, argv):
    if len(argv) > 3 or (len(argv) == 3 and argv[2].lower() not in (b"async", b"sync")):
        err(SYNTAX)
    return OK


@command("function|list", -2, "noscript", group="scripting", since="7.0.0",
         summary="Returns information about all libraries.")
def function_list(c, argv):
    return []
