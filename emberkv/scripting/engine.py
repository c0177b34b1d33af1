"""Lua scripting (EVAL) and Functions (FCALL) with Redis 7.0 semantics, on lupa's Lua 5.1.

``Scripting`` (``server.scripting``, also ``server.functions``) owns two Lua
runtimes as Redis does: one for EVAL scripts (reset by SCRIPT FLUSH) and one for
function libraries.  A script runs synchronously inside the command that started
it.  Commands it calls through ``redis.call`` run as a connection-less client
selected on the caller's database, with the bookkeeping ``Server.call`` does and
their writes propagated one by one (wrapped in MULTI/EXEC when there are
several).  Past ``busy-reply-threshold`` an instruction-count hook reads the
other clients' sockets itself, answering BUSY to all but the few commands
Redis allows then (SCRIPT KILL, FUNCTION KILL, ...).
"""

from __future__ import annotations

import hashlib
import os
import select
import socket
import sys
import time
from functools import partial
from time import perf_counter

from lupa import lua51

from .. import REDIS_VERSION
from ..commands import registry
from ..commands.common import parse_int
from ..protocol.reply import (NULL_ARRAY, BigNumber, Bool, CommandError, Error, MapReply, Pairs, Push,
                              Raw, SetReply, Status, Verbatim, format_double)
from ..protocol.request import split_args
from ..server.blocking import BLOCKED
from ..server.client import Client
from ..server.connection import Connection
from . import lualibs
from .lualibs import LuaArgError, LuaStringError, LuaTableError
from .sandbox import PRELUDE

# Deep Lua tables (cjson, cmsgpack, replies) are walked recursively.
sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))

# Script flags (shebang / register_function).
NO_WRITES, ALLOW_OOM, ALLOW_STALE, NO_CLUSTER, ALLOW_CROSS_SLOT = 1, 2, 4, 8, 16
EVAL_COMPAT = 1 << 10        # EVAL without a shebang: no declared flags
FLAG_NAMES = ((NO_WRITES, b"no-writes"), (ALLOW_OOM, b"allow-oom"), (ALLOW_STALE, b"allow-stale"),
              (NO_CLUSTER, b"no-cluster"), (ALLOW_CROSS_SLOT, b"allow-cross-slot-keys"))
FLAG_BY_NAME = {name: bit for bit, name in FLAG_NAMES}

BUSY_EVAL = b"BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSCRIPT."
BUSY_FUNCTION = (b"BUSY Redis is busy running a script. You can only call FUNCTION KILL or "
                 b"SHUTDOWN NOSCRIPT.")
OOM_ERROR = b"OOM command not allowed when used memory > 'maxmemory'."
READONLY_ERROR = b"READONLY You can't write against a read only replica."
NOREPLICAS_ERROR = b"NOREPLICAS Not enough good replicas to write."
MASTERDOWN_ERROR = b"MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
KILLED = b"ERR Script killed by user with SCRIPT KILL..."
LOAD_TIMEOUT = b"ERR FUNCTION LOAD timeout"
LOAD_TIMEOUT_MS = 500
MAX_REPLY_DEPTH = 7995   # where Redis runs out of Lua stack converting nested tables
LIBRARY_NAME_ERROR = (b"Library names can only contain letters, numbers, or underscores(_) and must "
                      b"be at least one character long")

REDIS_VERSION_NUM = (lambda p: (int(p[0]) << 16) | (int(p[1]) << 8) | int(p[2]))(REDIS_VERSION.split("."))

_MARK_TABLE = object()
_MARK_BIG = object()
_MARK_ERROR = object()
_NAME_CHARS = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_LLONG_MIN = -(1 << 63)


def sha1hex(data: bytes) -> bytes:
    return hashlib.sha1(data).hexdigest().encode()


def valid_name(name: bytes) -> bool:
    return bool(name) and all(ch in _NAME_CHARS for ch in name)


def _deny_attributes(obj, name, is_setting):
    # Scripts must never reach Python attributes through a callable.
    raise AttributeError("access denied")


def _to_c_string(b: bytes) -> bytes:
    i = b.find(b"\x00")
    return b if i < 0 else b[:i]


def lua_number_to_int(v) -> int:
    """(long long) of a Lua number, as Redis converts script return values."""
    if type(v) is int:
        return v
    if v != v or v >= 9.2233720368547758e18 or v < -9.2233720368547758e18:
        return _LLONG_MIN
    return int(v)


def arg_bytes(v):
    """One redis.call argument as Redis formats it, or None if not a string/number."""
    t = type(v)
    if t is bytes:
        return v
    if t is int:
        if -100000000000000000 < v < 100000000000000000:
            return b"%d" % v
        return b"%.17g" % v
    if t is float:
        return b"%.17g" % v
    return None


def error_text(buf: bytes) -> bytes:
    """luaPushErrorBuff: 'CODE message' from '-CODE message' or a bare message."""
    buf = _to_c_string(buf)
    code, msg = b"ERR", buf
    if buf[:1] == b"-":
        sp = buf.find(b" ")
        if sp < 0:
            msg = buf[1:]
        else:
            code, msg = buf[1:sp], buf[sp + 1:]
    return code + b" " + msg.strip(b"\r\n")


def parse_shebang_flags(body: bytes):
    """evalExtractShebangFlags: (flags, shebang length) or raise CommandError."""
    if not body.startswith(b"#!"):
        return EVAL_COMPAT, 0
    end = body.find(b"\n")
    if end < 0:
        raise CommandError(b"ERR Invalid script shebang")
    parts = split_args(body[:end])
    if not parts:
        raise CommandError(b"ERR Invalid engine in script shebang")
    if parts[0] != b"#!lua":
        raise CommandError(b"ERR Unexpected engine in script shebang: " + _to_c_string(parts[0]))
    flags = 0
    for part in parts[1:]:
        if part.startswith(b"flags="):
            for name in (part[6:].split(b",") if len(part) > 6 else ()):
                bit = FLAG_BY_NAME.get(name)
                if bit is None:
                    raise CommandError(b"ERR Unexpected flag in script shebang: " + _to_c_string(name))
                flags |= bit
        else:
            raise CommandError(b"ERR Unknown lua shebang option: " + _to_c_string(part))
    return flags, end


class Run:
    """What Redis keeps in scriptRunCtx for the script being executed."""

    # Defaults shared by every run; a run assigns only what differs.
    write_dirty = False
    killed = False
    timed_out = False
    resp = 2
    repl = 3
    eof_fds = None
    propagated = None
    kill_logged = False
    adopted = None           # transports of clients accepted while busy

    def __init__(self, caller, argv: list, name: bytes, is_eval: bool, flags: int, ro: bool, pre_oom: bool,
                 obey: bool, strict: bool):
        compat = flags & EVAL_COMPAT
        self.caller = caller
        self.argv = argv
        self.name = name
        self.is_eval = is_eval
        self.read_only = ro or (not compat and bool(flags & NO_WRITES))
        self.allow_oom = not compat and bool(flags & ALLOW_OOM)
        self.start = time.monotonic()
        self.pre_oom = pre_oom
        self.obey = obey
        self.strict = strict


class Script:
    __slots__ = ("body", "func", "flags")

    def __init__(self, body: bytes, func, flags: int):
        self.body = body
        self.func = func
        self.flags = flags


class FunctionInfo:
    __slots__ = ("name", "func", "desc", "flags", "library")

    def __init__(self, name: bytes, func, desc, flags: int, library):
        self.name = name
        self.func = func
        self.desc = desc
        self.flags = flags
        self.library = library


class Library:
    __slots__ = ("name", "engine", "code", "functions")

    def __init__(self, name: bytes, code: bytes):
        self.name = name
        self.engine = b"LUA"
        self.code = code
        self.functions: dict[bytes, FunctionInfo] = {}


class LuaError(Exception):
    """A failure to report as an error reply (the text includes its code)."""

    def __init__(self, text: bytes):
        super().__init__(text)
        self.text = text


# ============================================================================== the Lua runtime

class Sandbox:
    """One Lua runtime with Redis's script environment and the Python half of its API."""

    def __init__(self, scripting: "Scripting", mode: str):
        self.scripting = scripting
        self.server = scripting.server
        rand = scripting.rand
        L = self.lua = lua51.LuaRuntime(encoding=None, register_eval=False, register_builtins=False,
                                         unpack_returned_tuples=True, attribute_filter=_deny_attributes)
        self._table_from = L.table_from
        cjson = lualibs.CJson(self.new_array, self.new_map, None)
        msgpack = lualibs.MsgPack(self.new_array, self.new_map)
        funcs = {
            "call": partial(scripting.script_call, self, True),
            "pcall": partial(scripting.script_call, self, False), "log": self.redis_log,
            "setresp": self.redis_setresp, "sha1hex": self.redis_sha1hex, "set_repl": self.redis_set_repl,
            "acl_check_cmd": self.redis_acl_check_cmd, "register_function": self.register_function,
            "random": self._lib(rand.random), "randomseed": self._lib(rand.randomseed),
            "unwrap": self.unwrap, "hook": scripting.on_hook,
            "version": REDIS_VERSION.encode(), "version_num": REDIS_VERSION_NUM,
        }
        for name in lualibs.BIT_FUNCTIONS:
            funcs["bit." + name] = self._lib(getattr(lualibs.Bit, name))
        for name in ("pack", "unpack", "size"):
            funcs["struct." + name] = self._lib(getattr(lualibs.Struct, name))
        for name in ("pack", "unpack", "unpack_one", "unpack_limit"):
            funcs["cmsgpack." + name] = self._lib(getattr(msgpack, name))
        for name in ("encode", "decode", "encode_sparse_array", "encode_max_depth", "decode_max_depth",
                     "encode_number_precision", "encode_keep_buffer", "encode_invalid_numbers",
                     "decode_invalid_numbers"):
            funcs["cjson." + name] = self._lib(getattr(cjson, name))
        # Named '=emberkv' so the error handler can tell sandbox frames from the user's code.
        prelude = L.eval("function(src) return loadstring(src, '=emberkv') end")(PRELUDE.encode())
        funcs = {k.encode(): v for k, v in funcs.items()}
        api = self.api = prelude(self._table_from(funcs), mode.encode(), _MARK_TABLE, _MARK_BIG, _MARK_ERROR,
                                 MAX_REPLY_DEPTH)
        cjson.null = api.null
        self.where = api.where
        self.callinfo = api.callinfo
        self.run_eval = api.run_eval
        self.run_function = api.run_function
        self.flat_slice = api.flat_slice
        self.reset_hook = api.reset_hook
        self.gc_step = api.gc_step
        self._new_array = api.new_array
        self._set_pairs = api.set_pairs
        self._new_table = api.new_table
        self._new_status = api.new_status
        self._ok_batch = api.ok_batch
        self._ok_tables: list = []
        self.new_error = api.new_error
        self._new_double = api.new_double
        self._new_big = api.new_big_number
        self._new_verbatim = api.new_verbatim
        self._new_map_wrap = api.new_map
        self._new_set_wrap = api.new_set

    # --- glue ------------------------------------------------------------------------------------
    def _lib(self, fn):
        """A library function: luaL_error-style failures get the caller's position, like C."""
        def wrapper(*args):
            try:
                return fn(*args)
            except LuaArgError as e:
                where, name, namewhat = self.callinfo()
                raise LuaStringError(where + e.message(name, namewhat)) from None
            except LuaStringError as e:
                raise LuaStringError(self.where() + e.msg) from None
        return wrapper

    @staticmethod
    def unwrap(e):
        """How a Python exception raised to Lua looks to Lua code: (kind, text[, ignore])."""
        if isinstance(e, LuaTableError):
            return 1, e.text, e.ignore_stats
        if isinstance(e, LuaStringError):
            return 2, e.msg
        if isinstance(e, BaseException):
            return 2, ("internal error: %r" % (e,)).encode()
        return 0

    def new_status(self, text: bytes):
        if text == b"OK":
            pool = self._ok_tables
            if not pool:
                pool.extend(self._ok_batch())
            return pool.pop()
        return self._new_status(text)

    def new_array(self, items: list):
        if len(items) <= 200:
            return self._new_array(*items)
        return self._table_from(items)

    def new_map(self, pairs: list):
        t = self._new_table()
        flat: list = []
        for k, v in pairs:
            flat.append(k)
            flat.append(v)
            if len(flat) >= 2000:
                self._set_pairs(t, *flat)
                flat = []
        if flat:
            self._set_pairs(t, *flat)
        return t

    def compile(self, code: bytes, chunkname: bytes):
        res = self.api.compile(code, chunkname)
        if type(res) is tuple:
            return None, res[1]
        return res, None

    def memory(self) -> int:
        return int(self.api.memory() * 1024)

    # --- Python values -> Lua (redis.call replies) -------------------------------------------------
    def to_lua(self, v, resp3: bool):
        t = type(v)
        if t is bytes or t is int:
            return v
        if v is None or v is NULL_ARRAY:
            return None if resp3 else False
        if t is list or t is tuple or t is Push:
            return self.new_array([self.to_lua(x, resp3) for x in v])
        if t is Status:
            return self.new_status(bytes(v))
        if t is Error:
            return self.new_error(error_text(b"-" + v), True)
        if t is dict:
            items = list(v.items())
            if resp3:
                return self._new_map_wrap(self.new_map([(self.to_lua(a, True), self.to_lua(b, True))
                                                        for a, b in items]))
            flat = []
            for a, b in items:
                flat.append(self.to_lua(a, False))
                flat.append(self.to_lua(b, False))
            return self.new_array(flat)
        if t is MapReply:
            if resp3:
                return self._new_map_wrap(self.new_map([(self.to_lua(v[i], True), self.to_lua(v[i + 1], True))
                                                        for i in range(0, len(v) - 1, 2)]))
            return self.new_array([self.to_lua(x, False) for x in v])
        if t is float:
            return self._new_double(v) if resp3 else format_double(v)
        if t is SetReply:
            if resp3:
                return self._new_set_wrap(self.new_map([(self.to_lua(x, True), True) for x in v]))
            return self.new_array([self.to_lua(x, False) for x in v])
        if t is Bool:
            return v.value if resp3 else int(v.value)
        if t is Verbatim:
            return self._new_verbatim(b"txt", bytes(v)) if resp3 else bytes(v)
        if t is BigNumber:
            return self._new_big(bytes(v)) if resp3 else bytes(v)
        if t is Pairs:
            if resp3:
                return self.new_array([self.new_array([self.to_lua(v[i], True), self.to_lua(v[i + 1], True)])
                                       for i in range(0, len(v) - 1, 2)])
            return self.new_array([self.to_lua(x, False) for x in v])
        if t is Raw:
            return self.to_lua(parse_resp(bytes(v)), resp3)
        if t is bool:
            return v if resp3 else int(v)
        if t is str:
            return v.encode()
        if isinstance(v, bytes):
            return bytes(v)
        return None if resp3 else False

    # --- the redis.* API ----------------------------------------------------------------------------
    def redis_log(self, *args):
        if len(args) < 2:
            raise LuaTableError(b"ERR redis.log() requires two arguments or more.")
        level = lualibs.lua_tonumber(args[0])
        if level is None:
            raise LuaTableError(b"ERR First argument must be a number (log level).")
        level = lualibs.c_int(level, 32)
        if level < 0 or level > 3:
            raise LuaTableError(b"ERR Invalid debug level.")
        text = b""
        for j, a in enumerate(args[1:], 1):
            s = lualibs.lua_tostring(a)
            if s is not None:
                text += (b" " + s) if j != 1 else s
        self.server.log(level, text.decode(errors="replace"))

    def _run_or_fail(self, what: str):
        run = self.scripting.run
        if run is None:
            raise LuaTableError(b"ERR %s can only be called inside a script invocation" % what.encode())
        return run

    def redis_setresp(self, *args):
        run = self._run_or_fail("redis.setresp")
        if len(args) != 1:
            raise LuaTableError(b"ERR redis.setresp() requires one argument.")
        resp = lualibs.c_int(lualibs.lua_tonumber(args[0]) or 0, 32)
        if resp not in (2, 3):
            raise LuaTableError(b"ERR RESP version must be 2 or 3.")
        run.resp = resp
        self.scripting.client.set_resp(resp)

    def redis_set_repl(self, *args):
        run = self._run_or_fail("redis.set_repl")
        if len(args) != 1:
            raise LuaTableError(b"ERR redis.set_repl() requires two arguments.")
        flags = lualibs.c_int(lualibs.lua_tonumber(args[0]) or 0, 32)
        if flags & ~3:
            raise LuaTableError(b"ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or "
                                b"REPL_NONE.")
        run.repl = flags

    def redis_sha1hex(self, *args):
        if len(args) != 1:
            raise LuaTableError(b"ERR wrong number of arguments")
        return sha1hex(lualibs.lua_tostring(args[0]) or b"")

    def redis_acl_check_cmd(self, *args):
        run = self._run_or_fail("redis.acl_check_cmd")
        argv = self.scripting.lua_argv(args)
        cmd = registry.lookup(argv)
        if cmd is None:
            raise LuaTableError(b"ERR Invalid command passed to redis.acl_check_cmd()")
        acl = self.server.acl
        if acl is None:
            return True
        return bool(acl.can_run(run.caller, cmd, argv))

    def register_function(self, *args):
        return self.scripting.register_function(self, args)


def parse_resp(data: bytes):
    """Typed value of one pre-encoded RESP reply (commands returning Raw)."""
    if not data:
        return None
    value, _ = _parse_resp_at(data, 0)
    return value


def _parse_resp_at(d: bytes, p: int):
    end = d.index(b"\r\n", p)
    kind, line = d[p:p + 1], d[p + 1:end]
    p = end + 2
    if kind == b"+":
        return Status(line), p
    if kind == b"-":
        return Error(line), p
    if kind == b":":
        return int(line), p
    if kind in (b"$", b"=", b"!"):
        n = int(line)
        if n < 0:
            return None, p
        body = d[p:p + n]
        p += n + 2
        if kind == b"=":
            return Verbatim(body[4:]), p
        if kind == b"!":
            return Error(body), p
        return body, p
    if kind == b"_":
        return None, p
    if kind == b",":
        return float(line), p
    if kind == b"#":
        return Bool(line == b"t"), p
    if kind == b"(":
        return BigNumber(line), p
    if kind in (b"*", b"~", b">", b"%", b"|"):
        n = int(line)
        if n < 0:
            return NULL_ARRAY, p
        count = n * 2 if kind in (b"%", b"|") else n
        items = []
        for _ in range(count):
            v, p = _parse_resp_at(d, p)
            items.append(v)
        if kind == b"~":
            return SetReply(items), p
        if kind == b">":
            return Push(items), p
        if kind == b"%":
            return MapReply(items), p
        if kind == b"|":
            return _parse_resp_at(d, p)       # attributes are not shown to scripts
        return items, p
    raise ValueError("bad RESP")


# ================================================================================= the subsystem

class Scripting:
    """Script cache, function libraries, the running script and the Lua client."""

    def __init__(self, server):
        self.server = server
        self.client = Client(server, None, server.next_client_id())
        self.client.in_script = True
        self.client.authenticated = True
        self.client.addr = ""
        self.run: Run | None = None
        self.scripts: dict[bytes, Script] = {}
        self.libraries: dict[bytes, Library] = {}
        self.functions: dict[bytes, FunctionInfo] = {}     # lower-case name -> function
        self.loading_library: Library | None = None
        self.load_start = 0.0
        self.load_timeout = 0
        self.disable_deny_scripts = False
        self.rand = lualibs.Rand48()       # one generator for all scripts, as Redis's is global
        self.eval_lua = Sandbox(self, "eval")
        self.function_lua = Sandbox(self, "function")
        self._busy_gate_installed = False
        self._saved_extra_gates = False
        self._calls = 0

    # --- INFO / MEMORY -----------------------------------------------------------------------------
    def count_scripts(self) -> int:
        return len(self.scripts)

    def count_functions(self) -> int:
        return len(self.functions)

    def count_libraries(self) -> int:
        return len(self.libraries)

    def eval_memory(self) -> int:
        return self.eval_lua.memory()

    def functions_memory(self) -> int:
        return self.function_lua.memory()

    def scripts_memory(self) -> int:
        return sum(len(s.body) + 40 for s in self.scripts.values())

    # --- EVAL ------------------------------------------------------------------------------------------
    def script_flush(self) -> None:
        self.scripts = {}
        self.eval_lua = Sandbox(self, "eval")

    def create_script(self, body: bytes, sha: bytes | None = None) -> Script:
        """luaCreateFunction: compile and cache (raises CommandError)."""
        sha = sha or sha1hex(body)
        script = self.scripts.get(sha)
        if script is not None:
            return script
        flags, shebang_len = parse_shebang_flags(body)
        func, err = self.eval_lua.compile(body[shebang_len:], b"@user_script")
        if func is None:
            raise CommandError(b"ERR Error compiling script (new function): " + err)
        script = self.scripts[sha] = Script(body, func, flags)
        return script

    def eval(self, c, argv: list, evalsha: bool, ro: bool):
        if self.server.monitors:
            # Monitors see the script before the commands it runs.
            self.server.feed_monitors(c, argv)
        if evalsha and len(argv[1]) != 40:
            raise CommandError(b"NOSCRIPT No matching script. Please use EVAL.")
        numkeys = parse_int(argv[2])
        if numkeys > len(argv) - 3:
            raise CommandError(b"ERR Number of keys can't be greater than number of args")
        if numkeys < 0:
            raise CommandError(b"ERR Number of keys can't be negative")
        if evalsha:
            sha = argv[1]
            script = self.scripts.get(sha)
            if script is None:
                sha = sha.lower()
                script = self.scripts.get(sha)
                if script is None:
                    raise CommandError(b"NOSCRIPT No matching script. Please use EVAL.")
        else:
            sha = sha1hex(argv[1])
            script = self.scripts.get(sha) or self.create_script(argv[1], sha)
        sandbox = self.eval_lua
        return self._execute(c, argv, sandbox, sandbox.run_eval, script.func, sha, True, script.flags,
                             ro, numkeys)

    # --- FCALL -------------------------------------------------------------------------------------------
    def fcall(self, c, argv: list, ro: bool):
        if self.server.monitors:
            self.server.feed_monitors(c, argv)
        fi = self.functions.get(argv[1].lower())
        if fi is None:
            raise CommandError(b"ERR Function not found")
        numkeys = _numkeys(argv, b"ERR Bad number of keys provided")
        sandbox = self.function_lua
        return self._execute(c, argv, sandbox, sandbox.run_function, fi.func, fi.name, False, fi.flags,
                             ro, numkeys)

    # --- running a script --------------------------------------------------------------------------------
    def _execute(self, c, argv, sandbox, runner, func, name: bytes, is_eval: bool, flags: int, ro: bool,
                 numkeys: int):
        server = self.server
        if self.run is not None:
            raise CommandError(b"ERR This Redis command is not allowed from script")
        obey = c.is_master or (c.conn is None and c is not self.client)
        pre_oom = False
        config = server.config
        if config.maxmemory:
            pre_oom = not server.free_memory_if_needed()
        # Replica and min-replicas rules need per-command checks (the rest is covered by server.gates).
        strict = server.is_replica() or bool(config.min_replicas_to_write)
        if strict or not flags & EVAL_COMPAT:
            denied = self._prepare_check(flags, ro, pre_oom, obey)
            if denied is not None:
                raise CommandError(denied)
        run = self.run = Run(c, argv, name, is_eval, flags, ro, pre_oom, obey, strict)
        fake = self.client
        fake.db = c.db
        fake.user = c.user
        if fake.resp != 2:
            fake.set_resp(2)
        fake.tracking = c.tracking
        saved_frozen = server.frozen_time_ms
        server.frozen_time_ms = int(time.time() * 1000)
        sinks = server.propagation_sinks
        if sinks:
            collected = run.propagated = []
            server.propagation_sinks = [lambda db_index, cargv: collected.append((db_index, cargv))]
        try:
            res = runner(func, numkeys, *argv[3:])
        except lua51.LuaError as e:
            res = (_MARK_ERROR, str(e).encode(errors="replace"))
        finally:
            server.frozen_time_ms = saved_frozen
            if sinks:
                server.propagation_sinks = sinks
            fake.tracking = None
            self.run = None
            if run.timed_out:
                self._leave_busy()
            if run.adopted:
                self._hand_over(run)
            if run.killed:
                sandbox.reset_hook()
        # Like Redis, help the collector along every 50 scripts instead of a full cycle.
        self._calls += 1
        if self._calls >= 50:
            self._calls = 0
            sandbox.gc_step()
        if sinks:
            items = run.propagated
            if len(items) > 1 and not c.in_exec:
                items = [(items[0][0], [b"MULTI"])] + items + [(items[-1][0], [b"EXEC"])]
            # Effects replication: the script's own writes, never the EVAL itself.
            server.pending_propagate = items
        t = type(res)
        if t is int or t is bytes:
            return res
        if t is not tuple:
            return self._scalar_reply(res, run)
        mark = res[0]
        if mark is _MARK_TABLE:
            return self._table_reply(res, 1, run)
        if mark is _MARK_BIG:
            flat, n = res[1], res[2]
            toks = []
            for i in range(1, n + 1, 4000):
                chunk = sandbox.flat_slice(flat, i, min(n, i + 3999))
                toks.extend(chunk if type(chunk) is tuple else (chunk,))
            return self._table_reply((None, *toks), 1, run)
        if mark is _MARK_ERROR:
            return self._error_reply(res, name)
        return self._scalar_reply(mark, run)

    def _scalar_reply(self, v, run):
        t = type(v)
        if t is bytes:
            return v
        if t is int or t is float:
            return lua_number_to_int(v)
        if t is bool:
            if run.resp == 2:
                return 1 if v else None
            return Bool(v)
        return None

    def _error_reply(self, res, name: bytes):
        msg = res[1]
        if len(res) < 3:
            raise CommandError(b"ERR Error running script %s, %s" % (name, (msg or b"")[:100]))
        source, line, ignore = res[2], res[3], res[4]
        if type(msg) is not bytes:
            msg = b"ERR unknown error"
        text = _to_c_string(msg)
        if type(source) is bytes and line is not None:
            line_text = lualibs.lua_tostring(line) if type(line) is not bytes else line
            text += b" script: %s, on %s:%s." % (name, source, line_text or b"")
        if ignore:
            self._uncount_error(text)
        return Error(text)

    def _uncount_error(self, text: bytes) -> None:
        """The error was already counted when the command inside the script failed."""
        server = self.server
        server.stats.total_error_replies -= 1
        code = text.split(b" ", 1)[0]
        stats = server.errorstats
        if code in stats:
            stats[code] -= 1

    def _table_reply(self, toks, i: int, run):
        value, _ = self._build(toks, i, run.resp == 3)
        if toks[i] == 8:
            self._uncount_error(bytes(value))
        return value

    def _build(self, toks, i: int, resp3: bool, depth: int = 0):
        """Typed reply from the flat tokens of the sandbox's flatten(): (value, next index)."""
        tag = toks[i]
        if tag == 1:
            return toks[i + 1], i + 2
        if tag == 2:
            return lua_number_to_int(toks[i + 1]), i + 2
        if tag == 3:
            return (Bool(True) if resp3 else 1), i + 1
        if tag == 4:
            return (Bool(False) if resp3 else None), i + 1
        if tag == 5:
            return None, i + 1
        if tag == 6:
            return Status(_to_c_string(toks[i + 1]).replace(b"\r", b" ").replace(b"\n", b" ")), i + 2
        if tag == 7 or tag == 8:
            text = _to_c_string(toks[i + 1]).rstrip(b"\r\n")
            if depth and tag == 7:
                self.server.count_error_reply(Error(text), None)
            return Error(text), i + 2
        if tag == 9:
            return float(toks[i + 1]), i + 2
        if tag == 10:
            return BigNumber(toks[i + 1].replace(b"\r", b" ").replace(b"\n", b" ")), i + 2
        if tag == 11:
            return Verbatim(toks[i + 2]), i + 3
        if tag == 15:
            err = Error(b"ERR reached lua stack limit")
            if depth:
                self.server.count_error_reply(err, None)
            return err, i + 1
        n = lua_number_to_int(toks[i + 1])
        i += 2
        items = []
        count = n * 2 if tag == 12 else n
        for _ in range(count):
            v, i = self._build(toks, i, resp3, depth + 1)
            items.append(v)
        if tag == 12:
            return MapReply(items), i
        if tag == 14:
            return SetReply(items), i
        return items, i

    # --- checks before a script runs (processCommand with the script's flags + scriptPrepareForRun) ---
    def _prepare_check(self, flags: int, ro: bool, pre_oom: bool, obey: bool):
        server = self.server
        stale = self._running_stale()
        if flags & EVAL_COMPAT:
            return MASTERDOWN_ERROR if stale else None
        writes = not flags & NO_WRITES
        if pre_oom and not flags & (ALLOW_OOM | NO_WRITES):
            return OOM_ERROR
        if writes and not obey:
            disk = self._disk_error()
            if disk is not None:
                return disk
        if writes and not self._enough_replicas():
            return NOREPLICAS_ERROR
        if writes and not obey and server.is_replica() and server.config.replica_read_only:
            return READONLY_ERROR
        if stale and not flags & ALLOW_STALE:
            return MASTERDOWN_ERROR
        if flags & NO_CLUSTER and getattr(server.config, "cluster_enabled", False):
            return b"ERR Can not run script on cluster, 'no-cluster' flag is set."
        if writes and ro:
            return b"ERR Can not execute a script with write flag using *_ro command."
        return None

    def _running_stale(self) -> bool:
        server = self.server
        return (server.is_replica() and not server.config.replica_serve_stale_data
                and not getattr(server, "master_link_up", True))

    def _disk_error(self):
        rdb = getattr(self.server, "rdb", None)
        if rdb is None or not hasattr(rdb, "write_error"):
            return None
        return rdb.write_error()

    def _enough_replicas(self) -> bool:
        server = self.server
        cfg = server.config
        if server.is_replica() or not cfg.min_replicas_max_lag or not cfg.min_replicas_to_write:
            return True
        good = getattr(server, "good_replicas_count", 0)
        if callable(good):
            good = good()
        return good >= cfg.min_replicas_to_write

    # --- redis.call ------------------------------------------------------------------------------------
    def lua_argv(self, args: tuple) -> list:
        if not args:
            raise LuaTableError(b"ERR Please specify at least one argument for this redis lib call")
        argv = []
        for a in args:
            b = arg_bytes(a)
            if b is None:
                raise LuaTableError(b"ERR Lua redis lib command arguments must be strings or integers")
            argv.append(b)
        return argv

    def script_call(self, sandbox: Sandbox, raise_error: bool, *args):
        """redis.call (raise_error) / redis.pcall: run one command as the script's client."""
        run = self.run
        if run is None:
            raise LuaTableError(b"ERR redis.call/pcall can only be called inside a script invocation")
        argv = []
        for a in args:
            if type(a) is not bytes:
                a = arg_bytes(a)
                if a is None:
                    return self._bad_args(sandbox, args, raise_error)
            argv.append(a)
        if not argv:
            return self._bad_args(sandbox, args, raise_error)
        commands = registry.COMMANDS
        cmd = commands.get(argv[0])
        if cmd is None:
            cmd = commands.get(argv[0].lower())
        if cmd is not None and cmd.subcommands is not None and len(argv) > 1:
            sub = cmd.subcommands.get(argv[1].lower())
            cmd = sub if sub is not None else (cmd if cmd.func is not None else None)
        if cmd is None:
            return self._rejected(sandbox, None, b"ERR Unknown Redis command called from script", raise_error)
        arity = cmd.arity
        n = len(argv)
        if (arity > 0 and arity != n) or n < -arity or cmd.func is None:
            return self._rejected(sandbox, cmd, b"ERR Wrong number of args calling Redis command from script",
                                  raise_error)
        if cmd.noscript and not self.disable_deny_scripts:
            return self._rejected(sandbox, cmd, b"ERR This Redis command is not allowed from script", raise_error)
        server = self.server
        if server.gates or run.read_only or run.strict:
            denied = self._call_check(run, cmd, argv)
            if denied is not None:
                return self._rejected(sandbox, cmd, denied, raise_error)
        if cmd.is_write:
            run.write_dirty = True

        # What Server.call does around a command, for the Lua client.
        fake = self.client
        fake.cur_cmd = cmd
        dirty = server.dirty
        server.pending_propagate = None
        caller = server.current_client
        server.current_client = fake
        t0 = perf_counter()
        try:
            reply = cmd.func(fake, argv)
        except CommandError as e:
            reply = Error(e.message)
        except Exception as e:  # a bug must not take the server down
            server.log_warning("Error executing %r from a script: %r" % (argv[:2], e))
            reply = Error(b"ERR internal error: " + repr(e).encode()[:200])
        usec = (perf_counter() - t0) * 1e6
        server.current_client = caller
        cmd.calls += 1
        cmd.usec += usec
        fake.last_cmd = cmd
        server.commands_processed += 1
        if fake.tracking is not None:
            server.tracking.after_call(fake, cmd, argv)
        if server.dirty != dirty and run.repl and server.propagation_sinks:
            pending = server.pending_propagate
            if pending is None:
                server.propagate(fake.db.index, argv)
            else:
                for item in pending:
                    server.propagate(item[0], item[1])
        if server.pending_propagate is not None:
            server.pending_propagate = None
        if server.monitors and not cmd.skip_monitor and not cmd.admin:
            server.feed_monitors(fake, argv)
        if usec >= server.slowlog_threshold >= 0 and not cmd.skip_slowlog:
            server.slowlog_add(fake, argv, int(usec))
        if fake.out:
            fake.out.clear()

        t = type(reply)
        if t is bytes or t is int:
            return reply
        if t is Error:
            cmd.failed_calls += 1
            server.count_error_reply(reply, None)
            text = error_text(b"-" + reply)
            if raise_error:
                raise LuaTableError(text, True)
            return sandbox.new_error(text, True)
        if reply is BLOCKED:
            # Blocking is refused to scripts; a command that blocked anyway answers nil.
            server.blocking.client_gone(fake)
            reply = None
        return sandbox.to_lua(reply, run.resp == 3)

    def _bad_args(self, sandbox, args: tuple, raise_error: bool):
        try:
            self.lua_argv(args)
        except LuaTableError as e:
            if raise_error:
                raise
            return sandbox.new_error(e.text, False)

    def _rejected(self, sandbox, cmd, text: bytes, raise_error: bool):
        server = self.server
        server.count_error_reply(Error(text), None)
        if cmd is not None:
            cmd.rejected_calls += 1
        if raise_error:
            raise LuaTableError(text, True)
        return sandbox.new_error(text, True)

    def _call_check(self, run: Run, cmd, argv):
        """scriptCall's checks: stale replica, ACL, writes and OOM (error text or None)."""
        server = self.server
        if self._running_stale() and not cmd.allow_stale:
            return b"ERR Can not execute the command on a stale replica"
        acl = server.acl
        if acl is not None:
            denied = acl.check_command(self.client, cmd, argv)
            if denied is not None:
                return denied
        if run.read_only and (cmd.is_write or cmd.may_replicate):
            return b"ERR Write commands are not allowed from read-only scripts."
        if cmd.is_write and not run.write_dirty:
            if server.is_replica() and server.config.replica_read_only and not run.obey:
                return READONLY_ERROR
            disk = self._disk_error()
            if disk is not None:
                return disk
            if not self._enough_replicas():
                return NOREPLICAS_ERROR
        if (not run.allow_oom and server.config.maxmemory and not run.obey and not run.write_dirty
                and run.pre_oom and cmd.denyoom):
            return OOM_ERROR
        return None

    # --- the busy hook -----------------------------------------------------------------------------------
    def on_hook(self):
        """Called every 100000 Lua instructions: an error text ends the script."""
        run = self.run
        if run is None:
            if self.loading_library is not None and self.load_timeout and \
                    (time.monotonic() - self.load_start) * 1000 > self.load_timeout:
                return LOAD_TIMEOUT
            return None
        if run.killed:
            return KILLED
        if not run.timed_out:
            threshold = self.server.config.busy_reply_threshold
            if threshold <= 0:
                return None
            elapsed = (time.monotonic() - run.start) * 1000
            if elapsed < threshold:
                return None
            self.server.log_warning(
                "Slow script detected: still in execution after %d milliseconds. You can try killing the "
                "script using the %s command. Script name is: %s."
                % (elapsed, "SCRIPT KILL" if run.is_eval else "FUNCTION KILL",
                   run.name.decode(errors="replace")))
            self._enter_busy(run)
        self._process_events(run)
        if self._shutting_down():
            run.killed = True
        if run.killed:
            if not run.kill_logged:
                run.kill_logged = True
                self.server.log_warning("Lua script killed by user with SCRIPT KILL.")
            return KILLED
        return None

    def _enter_busy(self, run: Run) -> None:
        run.timed_out = True
        server = self.server
        gates = getattr(server, "command_gates", None)
        if gates is not None:
            gates.append(self._busy_gate)
            self._saved_extra_gates = server.extra_gates
            server.extra_gates = True
            server.update_gates()
            self._busy_gate_installed = True

    def _leave_busy(self) -> None:
        if not self._busy_gate_installed:
            return
        server = self.server
        server.command_gates.remove(self._busy_gate)
        server.extra_gates = self._saved_extra_gates or bool(server.command_gates)
        server.update_gates()
        self._busy_gate_installed = False

    def _busy_gate(self, c, cmd):
        run = self.run
        if run is None or cmd.allow_busy:
            return None
        return BUSY_EVAL if run.is_eval else BUSY_FUNCTION

    def _process_events(self, run: Run) -> None:
        """processEventsWhileBlocked: serve the other clients' pending input right now."""
        server = self.server
        eof = run.eof_fds
        if eof is None:
            eof = run.eof_fds = set()
        by_fd = {}
        poller = select.poll()
        for c in list(server.clients.values()):
            fd = c.fd
            if c is run.caller or c.conn is None or c.closing or fd < 0 or fd in eof:
                continue
            by_fd[fd] = c
            poller.register(fd, select.POLLIN)
        listening = {}
        for srv in server.listeners:
            for sock in srv.sockets or ():
                listening[sock.fileno()] = sock
                poller.register(sock.fileno(), select.POLLIN)
        for fd, _events in poller.poll(0):
            if fd in listening:
                self._accept_while_busy(run, listening[fd])
                continue
            c = by_fd.get(fd)
            if c is None:
                continue
            try:
                data = os.read(fd, 65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                eof.add(fd)
                continue
            if not data:
                # The peer closed: the event loop sees the same end of file later.
                eof.add(fd)
                continue
            conn = c.conn
            if conn is not None and not c.closing:
                conn.data_received(data)
        for transport in run.adopted or ():
            transport.flush()

    def _accept_while_busy(self, run: Run, listener) -> None:
        """Accept a new client while the loop is blocked (so SCRIPT KILL can come from anywhere)."""
        lsock = socket.socket(fileno=os.dup(listener.fileno()))
        try:
            sock, peer = lsock.accept()
        except OSError:
            return
        finally:
            lsock.close()
        sock.setblocking(False)
        conn = Connection(self.server, unix=sock.family == socket.AF_UNIX)
        transport = _BusyTransport(sock, peer, conn)
        if run.adopted is None:
            run.adopted = []
        run.adopted.append(transport)
        conn.connection_made(transport)

    def _hand_over(self, run: Run) -> None:
        """Give the connections accepted during the busy script to the event loop."""
        loop = self.server.loop
        for transport in run.adopted:
            if transport.closed:
                transport.sock.close()
                transport.conn.connection_lost(None)
                continue

            async def adopt(t=transport):
                try:
                    await loop.connect_accepted_socket(lambda: _Adopter(t), t.sock)
                except OSError:
                    t.conn.connection_lost(None)
            loop.create_task(adopt())

    def _shutting_down(self) -> bool:
        listeners = self.server.listeners
        return bool(listeners) and not any(srv.is_serving() for srv in listeners)

    def kill(self, is_eval: bool) -> None:
        """SCRIPT KILL / FUNCTION KILL (raises CommandError when refused)."""
        run = self.run
        if run is None:
            raise CommandError(b"NOTBUSY No scripts in execution right now.")
        if run.obey:
            raise CommandError(b"UNKILLABLE The busy script was sent by a master instance in the context of "
                               b"replication and cannot be killed.")
        if run.write_dirty:
            raise CommandError(b"UNKILLABLE Sorry the script already executed write commands against the "
                               b"dataset. You can either wait the script termination or kill the server in a "
                               b"hard way using the SHUTDOWN NOSAVE command.")
        if is_eval and not run.is_eval:
            raise CommandError(BUSY_FUNCTION)
        if not is_eval and run.is_eval:
            raise CommandError(BUSY_EVAL)
        run.killed = True

    # --- FUNCTION LOAD ------------------------------------------------------------------------------------
    def load_library(self, code: bytes, replace: bool = False, timeout: int = 0) -> bytes:
        """functionsCreateWithLibraryCtx: compile, register, link; the library name (raises LuaError)."""
        name, body = _library_metadata(code)
        if not valid_name(name):
            raise LuaError(b"ERR " + LIBRARY_NAME_ERROR)
        if engine_name_of(code).upper() != b"LUA":
            raise LuaError(b"ERR Engine '" + engine_name_of(code) + b"' not found")
        old = self.libraries.get(name)
        if old is not None and not replace:
            raise LuaError(b"ERR Library '" + name + b"' already exists")
        if old is not None:
            self._unlink(old)
        lib = Library(name, code)
        try:
            self._compile_library(lib, body, timeout)
            if not lib.functions:
                raise LuaError(b"ERR No functions registered")
            for fname in lib.functions:
                if fname.lower() in self.functions:
                    raise LuaError(b"ERR Function " + fname + b" already exists")
        except LuaError:
            if old is not None:
                self._link(old)
            raise
        self._link(lib)
        return name

    def _compile_library(self, lib: Library, body: bytes, timeout: int) -> None:
        sandbox = self.function_lua
        self.loading_library = lib
        self.load_start = time.monotonic()
        self.load_timeout = timeout
        try:
            res = sandbox.api.load_library(body)
        finally:
            self.loading_library = None
            sandbox.reset_hook()
        status = res if type(res) is not tuple else res[0]
        if status == 1:
            raise LuaError(b"ERR Error compiling function: " + res[1])
        if status == 2:
            msg = res[1] if len(res) > 1 and type(res[1]) is bytes else b"(null)"
            raise LuaError(b"ERR Error registering functions: " + _to_c_string(msg))

    def register_function(self, sandbox: Sandbox, args: tuple):
        lib = self.loading_library
        if lib is None:
            raise LuaTableError(b"ERR redis.register_function can only be called on FUNCTION LOAD command")
        if len(args) < 1 or len(args) > 2:
            raise LuaTableError(b"ERR wrong number of arguments to redis.register_function")
        desc = None
        flags = 0
        if len(args) == 1:
            spec = args[0]
            if lualibs.lua_type(spec) != "table":
                raise LuaTableError(b"ERR calling redis.register_function with a single argument is only "
                                    b"applicable to Lua table (representing named arguments).")
            name = func = None
            for key, value in spec.items():
                k = lualibs.lua_tostring(key)
                if k is None:
                    raise LuaTableError(b"ERR named argument key given to redis.register_function is not a string")
                k = _to_c_string(k).lower()
                if k == b"function_name":
                    name = lualibs.lua_tostring(value)
                    if name is None:
                        raise LuaTableError(b"ERR function_name argument given to redis.register_function "
                                            b"must be a string")
                elif k == b"description":
                    desc = lualibs.lua_tostring(value)
                    if desc is None:
                        raise LuaTableError(b"ERR description argument given to redis.register_function "
                                            b"must be a string")
                elif k == b"callback":
                    if not _is_lua_function(value):
                        raise LuaTableError(b"ERR callback argument given to redis.register_function must "
                                            b"be a function")
                    func = value
                elif k == b"flags":
                    if lualibs.lua_type(value) != "table":
                        raise LuaTableError(b"ERR flags argument to redis.register_function must be a table "
                                            b"representing function flags")
                    flags = _read_flags(value)
                else:
                    raise LuaTableError(b"ERR unknown argument given to redis.register_function")
            if name is None:
                raise LuaTableError(b"ERR redis.register_function must get a function name argument")
            if func is None:
                raise LuaTableError(b"ERR redis.register_function must get a callback argument")
        else:
            name = lualibs.lua_tostring(args[0])
            if name is None:
                raise LuaTableError(b"ERR first argument to redis.register_function must be a string")
            func = args[1]
            if not _is_lua_function(func):
                raise LuaTableError(b"ERR second argument to redis.register_function must be a function")
        if not valid_name(name):
            raise LuaTableError(b"ERR " + LIBRARY_NAME_ERROR)
        if name in lib.functions:
            raise LuaTableError(b"ERR Function already exists in the library")
        lib.functions[name] = FunctionInfo(name, func, desc, flags, lib)

    def _link(self, lib: Library) -> None:
        self.libraries[lib.name] = lib
        for fname, fi in lib.functions.items():
            self.functions[fname.lower()] = fi

    def _unlink(self, lib: Library) -> None:
        self.libraries.pop(lib.name, None)
        for fname in lib.functions:
            self.functions.pop(fname.lower(), None)

    def delete_library(self, name: bytes) -> bool:
        lib = self.libraries.get(name)
        if lib is None:
            return False
        self._unlink(lib)
        return True

    def flush_functions(self) -> None:
        self.libraries = {}
        self.functions = {}

    def library_codes(self) -> list:
        """Sources of every library, for RDB/AOF persistence and FUNCTION DUMP."""
        return [lib.code for lib in self.libraries.values()]

    def restore_libraries(self, codes: list, policy: str) -> None:
        """FUNCTION RESTORE: policy 'flush', 'append' or 'replace' (raises LuaError, nothing changed)."""
        saved = (self.libraries, self.functions)
        staged: list[Library] = []
        try:
            # Compile every library on its own first, as Redis loads them into a fresh context.
            self.libraries, self.functions = {}, {}
            for code in codes:
                name = self.load_library(code, replace=False, timeout=0)
                staged.append(self.libraries[name])
        finally:
            self.libraries, self.functions = saved
        if policy == "flush":
            self.flush_functions()
            for lib in staged:
                self._link(lib)
            return
        replaced = []
        for lib in staged:
            old = self.libraries.get(lib.name)
            if old is not None:
                if policy != "replace":
                    self._relink(replaced)
                    raise LuaError(b"ERR Library " + lib.name + b" already exists")
                self._unlink(old)
                replaced.append(old)
        for lib in staged:
            for fname in lib.functions:
                if fname.lower() in self.functions:
                    self._relink(replaced)
                    raise LuaError(b"ERR Function " + fname + b" already exists")
        for lib in staged:
            self._link(lib)

    def _relink(self, libs: list) -> None:
        for lib in libs:
            self._link(lib)


class _BusyTransport:
    """A minimal transport for a client accepted while a script blocks the event loop."""

    def __init__(self, sock, peer, conn):
        self.sock = sock
        self.peer = peer
        self.conn = conn
        self.pending = bytearray()
        self.closed = False

    def get_extra_info(self, name, default=None):
        if name == "socket":
            return self.sock
        if name == "peername":
            return self.peer
        if name == "sockname":
            return self.sock.getsockname()
        return default

    def write(self, data) -> None:
        self.pending += data
        self.flush()

    def flush(self) -> None:
        if self.pending and not self.closed:
            try:
                sent = self.sock.send(self.pending)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self.pending.clear()
                return
            del self.pending[:sent]

    def get_write_buffer_size(self) -> int:
        return len(self.pending)

    def close(self) -> None:
        self.flush()
        self.closed = True

    def abort(self) -> None:
        self.pending.clear()
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


class _Adopter:
    """Protocol that hands an event-loop transport to a connection accepted while busy."""

    def __init__(self, busy: _BusyTransport):
        self.busy = busy
        self.conn = busy.conn

    def connection_made(self, transport) -> None:
        self.conn.transport = transport
        if self.busy.pending:
            transport.write(bytes(self.busy.pending))
            self.busy.pending.clear()

    def data_received(self, data) -> None:
        self.conn.data_received(data)

    def eof_received(self):
        return None

    def connection_lost(self, exc) -> None:
        self.conn.connection_lost(exc)

    def pause_writing(self) -> None:
        pass

    def resume_writing(self) -> None:
        pass


def _numkeys(argv: list, bad_text: bytes) -> int:
    if bad_text:
        try:
            numkeys = parse_int(argv[2])
        except CommandError:
            raise CommandError(bad_text) from None
    else:
        numkeys = parse_int(argv[2])
    if numkeys > len(argv) - 3:
        raise CommandError(b"ERR Number of keys can't be greater than number of args")
    if numkeys < 0:
        raise CommandError(b"ERR Number of keys can't be negative")
    return numkeys


def _is_lua_function(v) -> bool:
    return lualibs.lua_type(v) == "function" or (lualibs.lua_type(v) is None and callable(v))


def _read_flags(table) -> int:
    flags = 0
    j = 1
    while True:
        v = table[j]
        if v is None:
            return flags
        s = lualibs.lua_tostring(v)
        if s is None:
            raise LuaTableError(b"ERR unknown flag given")
        bit = FLAG_BY_NAME.get(_to_c_string(s).lower())
        if bit is None:
            raise LuaTableError(b"ERR unknown flag given")
        flags |= bit
        j += 1


def engine_name_of(code: bytes) -> bytes:
    end = code.find(b"\n")
    parts = split_args(code[:end] if end >= 0 else code) or [b"#!"]
    return _to_c_string(parts[0])[2:]


def _library_metadata(code: bytes):
    """functionExtractLibMetaData: (name, code after the shebang line) or raise LuaError."""
    if not code.startswith(b"#!"):
        raise LuaError(b"ERR Missing library metadata")
    end = code.find(b"\n")
    if end < 0:
        raise LuaError(b"ERR Invalid library metadata")
    parts = split_args(code[:end])
    if not parts:
        raise LuaError(b"ERR Invalid library metadata")
    name = None
    for part in parts[1:]:
        if part[:5].lower() == b"name=":
            if name is not None:
                raise LuaError(b"ERR Invalid metadata value, name argument was given multiple times")
            name = part[5:]
            continue
        raise LuaError(b"ERR Invalid metadata value given: " + _to_c_string(part))
    if name is None:
        raise LuaError(b"ERR Library name was not given")
    return name, code[end:]
