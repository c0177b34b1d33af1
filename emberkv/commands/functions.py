"""FUNCTION and FCALL / FCALL_RO (the engine is emberkv.scripting)."""

from __future__ import annotations

import io
import time

from ..persistence.crc64 import crc64
from ..persistence.rdb import RDB_VERSION, FunctionLibrary, RDBError, RDBReader, RDBWriter
from ..protocol.reply import OK, CommandError, SetReply, Status
from ..scripting.engine import FLAG_NAMES, LOAD_TIMEOUT_MS, LuaError
from ..util.glob import glob_match
from .common import err
from .registry import command, container
from .scripting import script_keys

_FCALL_FLAGS = "noscript skip_monitor may_replicate stale"
_FCALL_RO_FLAGS = "noscript skip_monitor stale readonly"
_PAYLOAD_ERROR = b"ERR DUMP payload version or checksum are wrong"


@command("fcall", -3, _FCALL_FLAGS, group="scripting", since="7.0.0", keys_fn=script_keys,
         summary="Invokes a function.")
def fcall(c, argv):
    return c.server.functions.fcall(c, argv, False)


@command("fcall_ro", -3, _FCALL_RO_FLAGS, group="scripting", since="7.0.0", keys_fn=script_keys,
         summary="Invokes a function that may not write.")
def fcall_ro(c, argv):
    return c.server.functions.fcall(c, argv, True)


container("function", group="scripting", since="7.0.0", summary="A container for function commands.")


def _subcommand_syntax(argv):
    err(b"ERR unknown subcommand or wrong number of arguments for '%s'. Try FUNCTION HELP." % argv[1][:128])


@command("function|load", -3, "noscript write denyoom", group="scripting", since="7.0.0",
         summary="Creates a library.")
def function_load(c, argv):
    replace = False
    pos = 2
    while pos < len(argv) - 1:
        opt = argv[pos]
        pos += 1
        if opt.lower() == b"replace":
            replace = True
            continue
        err(b"ERR Unknown option given: " + opt)
    engine = c.server.functions
    # Replicas and the AOF obey their master: no load time limit for them.
    timeout = 0 if c.is_master or c.conn is None else LOAD_TIMEOUT_MS
    try:
        name = engine.load_library(argv[pos], replace=replace, timeout=timeout)
    except LuaError as e:
        err(e.text)
    c.server.dirty += 1
    return name


@command("function|delete", 3, "noscript write", group="scripting", since="7.0.0",
         summary="Deletes a library and its functions.")
def function_delete(c, argv):
    if not c.server.functions.delete_library(argv[2]):
        err(b"ERR Library not found")
    c.server.dirty += 1
    return OK


@command("function|flush", -2, "noscript write", group="scripting", since="7.0.0",
         summary="Deletes all libraries and functions.")
def function_flush(c, argv):
    if len(argv) > 3:
        _subcommand_syntax(argv)
    if len(argv) == 3 and argv[2].lower() not in (b"sync", b"async"):
        err(b"ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
    c.server.functions.flush_functions()
    c.server.dirty += 1
    return OK


@command("function|kill", 2, "noscript allow_busy", group="scripting", since="7.0.0",
         summary="Terminates a function during execution.")
def function_kill(c, argv):
    c.server.functions.kill(False)
    return OK


@command("function|list", -2, "noscript", group="scripting", since="7.0.0",
         summary="Returns information about all libraries.")
def function_list(c, argv):
    with_code = False
    pattern = None
    i = 2
    while i < len(argv):
        arg = argv[i]
        low = arg.lower()
        if not with_code and low == b"withcode":
            with_code = True
        elif pattern is None and low == b"libraryname":
            if i >= len(argv) - 1:
                err(b"ERR library name argument was not given")
            i += 1
            pattern = argv[i]
        else:
            err(b"ERR Unknown argument " + arg)
        i += 1
    out = []
    for lib in c.server.functions.libraries.values():
        if pattern is not None and not glob_match(pattern, lib.name, nocase=True):
            continue
        functions = []
        for fi in lib.functions.values():
            functions.append({b"name": fi.name, b"description": fi.desc,
                              b"flags": SetReply([Status(n) for bit, n in FLAG_NAMES if fi.flags & bit])})
        entry = {b"library_name": lib.name, b"engine": lib.engine, b"functions": functions}
        if with_code:
            entry[b"library_code"] = lib.code
        out.append(entry)
    return out


@command("function|stats", 2, "noscript allow_busy", group="scripting", since="7.0.0",
         summary="Returns information about the function that's currently running and the engines.")
def function_stats(c, argv):
    engine = c.server.functions
    run = engine.run
    if run is not None and run.is_eval:
        err(b"BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSCRIPT.")
    running = None
    if run is not None:
        running = {b"name": run.name, b"command": list(run.argv),
                   b"duration_ms": int((time.monotonic() - run.start) * 1000)}
    return {b"running_script": running,
            b"engines": {b"LUA": {b"libraries_count": len(engine.libraries),
                                  b"functions_count": len(engine.functions)}}}


@command("function|dump", 2, "noscript", group="scripting", since="7.0.0",
         summary="Dumps all libraries into a serialized binary payload.")
def function_dump(c, argv):
    return dump_payload(c.server.functions.library_codes(), c.server.config.rdbcompression)


@command("function|restore", -3, "noscript write denyoom", group="scripting", since="7.0.0",
         summary="Restores all libraries from a payload.")
def function_restore(c, argv):
    if len(argv) > 4:
        _subcommand_syntax(argv)
    policy = "append"
    if len(argv) == 4:
        policy = argv[3].lower().decode(errors="replace")
        if policy not in ("append", "replace", "flush"):
            err(b"ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.")
    codes = restore_payload(argv[2])
    try:
        c.server.functions.restore_libraries(codes, policy)
    except LuaError as e:
        err(e.text)
    c.server.dirty += 1
    return OK


_FUNCTION_HELP = [
    "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "LOAD [REPLACE] <FUNCTION CODE>",
    "    Create a new library with the given library name and code.",
    "DELETE <LIBRARY NAME>",
    "    Delete the given library.",
    "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
    "    Return general information on all the libraries:",
    "    * Library name",
    "    * The engine used to run the Library",
    "    * Library description",
    "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
    "STATS",
    "    Return information about the current function running:",
    "    * Function name",
    "    * Command used to run the function",
    "    * Duration in MS that the function is running",
    "    If no function is running, return nil",
    "    In addition, returns a list of available engines.",
    "KILL",
    "    Kill the current running function.",
    "FLUSH [ASYNC|SYNC]",
    "    Delete all the libraries.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the libraries.",
    "    * SYNC: Synchronously flush the libraries.",
    "DUMP",
    "    Return a serialized payload representing the current libraries, can be restored using FUNCTION "
    "RESTORE command",
    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
    "    control how to handle existing libraries (default APPEND):",
    "    * FLUSH: delete all existing libraries.",
    "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
    "      libraries with the new libraries (notice that even on this option there is a chance of failure",
    "      in case of functions name collision with another library).",
    "HELP",
    "    Prints this help.",
]


@command("function|help", 2, "loading stale", group="scripting", since="7.0.0",
         summary="Returns helpful text about the different subcommands.")
def function_help(c, argv):
    return [Status(line.encode()) for line in _FUNCTION_HELP]


# --- FUNCTION DUMP / RESTORE payloads (interchangeable with Redis) -----------------------------------
def dump_payload(codes: list, compress: bool = True) -> bytes:
    """One RDB FUNCTION2 record per library, then the RDB version and a CRC64, as Redis writes it."""
    fh = io.BytesIO()
    writer = RDBWriter(fh, compress=compress, checksum=False)
    for code in codes:
        writer.write_function(code)
    writer.finish()
    body = fh.getvalue()[:-9]          # drop the EOF opcode and checksum finish() appends
    body += RDB_VERSION.to_bytes(2, "little")
    return body + crc64(body).to_bytes(8, "little")


def restore_payload(payload: bytes) -> list:
    """Library sources in a FUNCTION DUMP payload (raises CommandError like Redis)."""
    if len(payload) < 10:
        raise CommandError(_PAYLOAD_ERROR)
    version = payload[-10] | (payload[-9] << 8)
    if version > RDB_VERSION or crc64(payload[:-8]) != int.from_bytes(payload[-8:], "little"):
        raise CommandError(_PAYLOAD_ERROR)
    # Read the records with the RDB reader: a header before them and an EOF after.
    data = b"REDIS%04d" % RDB_VERSION + payload[:-10] + b"\xff" + b"\x00" * 8
    codes = []
    try:
        for item in RDBReader(io.BytesIO(data), checksum=False).items():
            if type(item) is not FunctionLibrary:
                raise CommandError(b"ERR given type is not a function")
            codes.append(item.code)
    except RDBError:
        raise CommandError(b"ERR failed loading the given functions payload") from None
    return codes
