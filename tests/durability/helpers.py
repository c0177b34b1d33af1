"""Shared by the durability, persistence and interop tests: servers in a chosen directory,
a dataset covering every type, and a canonical description of a whole dataset."""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import redis

from ..conftest import ROOT, free_port, wait_ready

FAR_FUTURE_MS = 4102444800000   # 2100-01-01: TTLs that never fire during a test


def ember_argv(port: int, workdir: str, extra: list) -> list:
    return [sys.executable, "-m", "emberkv", "--port", str(port), "--bind", "127.0.0.1",
            "--dir", workdir, "--save", ""] + list(extra)


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


LIVE_NODES: set = set()


def stop_leftover_nodes() -> None:
    """Kill the servers a failing test left running (use from an autouse fixture)."""
    for node in list(LIVE_NODES):
        node.kill9()


class Node:
    """An EmberKV (or real Redis) process whose data directory outlives it; stopped by its PID."""

    def __init__(self, workdir: str, extra: list | None = None, redis_server: bool = False,
                 wait_loaded: bool = True):
        self.workdir = workdir
        self.port = free_port()
        extra = list(extra or [])
        if redis_server:
            argv = [shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1",
                    "--dir", workdir, "--save", "", "--appendonly", "no",
                    "--enable-debug-command", "yes"] + extra
            self.log_path = os.path.join(workdir, "redis.log")
        else:
            argv = ember_argv(self.port, workdir, extra)
            self.log_path = os.path.join(workdir, "server.log")
        self._log_start = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(argv, cwd=workdir, env=_env(), stdout=self._log,
                                     stderr=subprocess.STDOUT)
        LIVE_NODES.add(self)
        try:
            wait_ready(self.port, self.proc)
            if wait_loaded:
                wait_loaded_port(self.port, self.proc)
        except BaseException:
            self.kill9()        # never leave a server behind when a test fails early
            raise

    def client(self, db: int = 0, **kw) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, db=db, socket_timeout=30, **kw)

    def kill9(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self._log.close()
        LIVE_NODES.discard(self)

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM (which saves when save points are set) and wait."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        LIVE_NODES.discard(self)
        return self.proc.returncode

    def log_text(self) -> str:
        """What this run logged."""
        with open(self.log_path, "rb") as fh:
            fh.seek(self._log_start)
            return fh.read().decode(errors="replace")


def wait_loaded_port(port: int, proc=None, timeout: float = 60.0) -> None:
    """Wait until PING answers +PONG or -NOAUTH (not -LOADING)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("server exited with %s" % proc.returncode)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"*1\r\n$4\r\nPING\r\n")
                if s.recv(64).startswith((b"+PONG", b"-NOAUTH")):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError("server on port %d did not finish loading" % port)


def run_until_exit(workdir: str, extra: list, timeout: float = 30.0) -> tuple[int, str]:
    """Start an EmberKV expected to refuse to start; (exit code, log)."""
    port = free_port()
    proc = subprocess.run(ember_argv(port, workdir, extra), cwd=workdir, env=_env(),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    return proc.returncode, proc.stdout.decode(errors="replace")


def make_dir(prefix: str = "emberkv-dur-") -> str:
    return tempfile.mkdtemp(prefix=prefix)


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not reached in %.1fs" % timeout)


def info(client, section: str = "persistence") -> dict:
    return client.info(section)


def wait_bgsave(client, timeout: float = 60.0) -> None:
    wait_for(lambda: info(client)["rdb_bgsave_in_progress"] == 0, timeout)


def wait_rewrite(client, timeout: float = 60.0) -> None:
    wait_for(lambda: info(client)["aof_rewrite_in_progress"] == 0
             and info(client)["aof_rewrite_scheduled"] == 0, timeout)


# --------------------------------------------------------------------------- dataset

def populate(port: int, big: bool = True) -> None:
    """Every type and the encodings Redis 7.0 saves differently, TTLs, several DBs."""
    r = redis.Redis(host="127.0.0.1", port=port, socket_timeout=30)
    p = r.pipeline(transaction=False)
    p.set("str:small", "hello")
    p.set("str:empty", "")
    p.set("str:int8", "7")
    p.set("str:int16", "1000")
    p.set("str:int32", "-100000")
    p.set("str:int64", "9223372036854775807")
    p.set("str:leading0", "0123")
    p.set("str:lzf", b"compressible-" * 200)
    p.set("str:binary", b"\x00\x01\xff\r\n\x00end")
    p.set(b"bin\x00key\xff", "binary key")
    p.set("", "empty key name")
    if big:
        p.set("str:big", random.Random(7).randbytes(200_000))   # incompressible
    p.rpush("list:small", "a", "b", "c", 1, 2, -3, "9223372036854775807")
    p.rpush("list:big", *["item-%05d" % i for i in range(3000)])
    p.rpush("list:longitems", *[("long-%d-" % i) * 40 for i in range(100)])
    p.sadd("set:intset", 1, 2, 3, -5, 300, 5000000000)
    p.sadd("set:strings", "a", "b", "c", "hello")
    p.sadd("set:big", *["member:%05d" % i for i in range(1500)])
    p.sadd("set:bigints", *range(0, 2000, 2))
    p.hset("hash:small", mapping={"f1": "v1", "num": 12345, "neg": -7, "empty": ""})
    p.hset("hash:big", mapping={"field:%04d" % i: "value:%d" % i for i in range(500)})
    p.hset("hash:longvalue", mapping={"short": "x", "long": "L" * 100})
    p.zadd("zset:small", {"a": 1.5, "b": -2, "c": 0, "pinf": float("inf"), "ninf": float("-inf"),
                          "frac": 0.1, "12345": 3})
    p.zadd("zset:big", {"m:%05d" % i: (i * 7919 % 1000) / 7.0 for i in range(600)})
    p.zadd("zset:longmember", {"x" * 100: 1, "y": 2})
    for i in range(250):
        p.xadd("stream:main", {"field": "v%d" % i, "n": i}, id="%d-%d" % (1700000000000 + i // 3, i % 3))
    p.xadd("stream:main", {"other": "fields", "x": "1"}, id="1800000000000-0")
    p.xdel("stream:main", "1700000000001-1", "1700000000002-0")
    p.xgroup_create("stream:main", "g1", id="0")
    p.xgroup_create("stream:main", "g2", id="$")
    p.xgroup_createconsumer("stream:main", "g1", "carol")
    p.execute()
    r.xreadgroup("g1", "alice", {"stream:main": ">"}, count=10)
    r.xreadgroup("g1", "bob", {"stream:main": ">"}, count=5)
    r.xack("stream:main", "g1", "1700000000000-0", "1700000000000-1")
    for entry in r.xpending_range("stream:main", "g1", "-", "+", 1000):
        r.xclaim("stream:main", "g1", entry["consumer"], 0, [entry["message_id"]],
                 time=1750000000000, retrycount=entry["times_delivered"], justid=True)
    r.xgroup_create("stream:empty", "g", id="$", mkstream=True)
    r.xadd("stream:alldeleted", {"a": "b"}, id="5-1")
    r.xdel("stream:alldeleted", "5-1")
    p = r.pipeline(transaction=False)
    p.set("ttl:str", "v")
    p.pexpireat("ttl:str", FAR_FUTURE_MS + 1)
    p.rpush("ttl:list", "a")
    p.pexpireat("ttl:list", FAR_FUTURE_MS + 2)
    p.hset("ttl:hash", "a", "1")
    p.pexpireat("ttl:hash", FAR_FUTURE_MS + 3)
    p.execute()
    for db, n in ((1, 10), (5, 100), (15, 1)):
        rd = redis.Redis(host="127.0.0.1", port=port, db=db, socket_timeout=30)
        pd = rd.pipeline(transaction=False)
        for i in range(n):
            pd.set("db%d:%03d" % (db, i), i)
        pd.hset("hash:db%d" % db, "db", db)
        pd.execute()
        rd.close()
    r.close()


# --------------------------------------------------------------------------- describe

def describe(port: int, dbs=range(16)) -> dict:
    """{(db, key): (type, value, pexpiretime)} with stream metadata, comparable across servers."""
    out = {}
    for db in dbs:
        r = redis.Redis(host="127.0.0.1", port=port, db=db, socket_timeout=60)
        r.response_callbacks.clear()        # raw replies, the same for every command
        call = r.execute_command
        for key in call("KEYS", "*"):
            t = call("TYPE", key)
            out[(db, key)] = (t, _value(call, key, t), call("PEXPIRETIME", key))
        r.close()
    return out


def _pairs(flat) -> dict:
    if isinstance(flat, dict):    # some redis-py versions parse XINFO whatever the callbacks
        return {k if isinstance(k, bytes) else k.encode(): v for k, v in flat.items()}
    return dict(zip(flat[::2], flat[1::2]))


def _value(call, key, t):
    if t == b"string":
        return call("GET", key)
    if t == b"list":
        return call("LRANGE", key, 0, -1)
    if t == b"set":
        return sorted(call("SMEMBERS", key))
    if t == b"hash":
        return sorted(_pairs(call("HGETALL", key)).items())
    if t == b"zset":
        return call("ZRANGE", key, 0, -1, "WITHSCORES")
    if t == b"stream":
        fields = _pairs(call("XINFO", "STREAM", key))
        meta = [fields.get(k) for k in (b"length", b"last-generated-id", b"max-deleted-entry-id",
                                        b"entries-added", b"recorded-first-entry-id")]
        groups = []
        for g in call("XINFO", "GROUPS", key):
            g = _pairs(g)
            name = g[b"name"]
            pending = [(e[0], e[1], e[3]) if isinstance(e, (list, tuple)) else
                       (e["message_id"], e["consumer"], e["times_delivered"])
                       for e in call("XPENDING", key, name, "-", "+", 100000)]
            consumers = sorted((_pairs(c)[b"name"], _pairs(c)[b"pending"])
                               for c in call("XINFO", "CONSUMERS", key, name))
            groups.append((name, g[b"last-delivered-id"], g.get(b"entries-read"), g[b"pending"],
                           pending, consumers))
        return (call("XRANGE", key, "-", "+"), meta, sorted(groups))
    raise AssertionError("unknown type %r" % t)


def diff(a: dict, b: dict) -> list:
    """Human-readable differences between two describe() results (empty when equal)."""
    out = []
    for k in sorted(set(a) | set(b), key=repr):
        if a.get(k) != b.get(k):
            out.append("%r: %r != %r" % (k, str(a.get(k))[:200], str(b.get(k))[:200]))
    return out
