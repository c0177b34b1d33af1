"""Crash safety of the disk engine: kill -9 under load loses no acknowledged write, and the
store reopens consistent (counters match the keys, every collection decodes)."""

from __future__ import annotations

import random
import shutil
import socket
import threading
import time

import pytest
import redis

from ..conftest import resp
from .helpers import Node, make_dir, stop_leftover_nodes
from .test_durability import Writer


@pytest.fixture(autouse=True)
def _no_leftover_servers():
    yield
    stop_leftover_nodes()


def _disk(policy: str) -> list:
    return ["--engine", "disk", "--disk-sync", policy, "--disk-cache-size", "2mb"]


class CollectionWriter(threading.Thread):
    """Pushes to lists, hashes, sets, sorted sets and a stream; remembers acknowledged sizes."""

    def __init__(self, port: int, wid: int):
        super().__init__(daemon=True)
        self.port, self.wid = port, wid
        self.acked: dict[bytes, int] = {}    # key -> size the server acknowledged
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        except OSError:
            return
        rnd = random.Random(self.wid)
        buf = b""
        n = 0
        w = self.wid
        try:
            while not self.stop.is_set():
                slot = rnd.randrange(20)
                cmds = [
                    (b"l:%d:%d" % (w, slot), resp("RPUSH", "l:%d:%d" % (w, slot), n)),
                    (b"h:%d:%d" % (w, slot), resp("HSET", "h:%d:%d" % (w, slot), "f%d" % n, n)),
                    (b"s:%d:%d" % (w, slot), resp("SADD", "s:%d:%d" % (w, slot), n)),
                    (b"z:%d:%d" % (w, slot), resp("ZADD", "z:%d:%d" % (w, slot), n, "m%d" % n)),
                    (b"x:%d" % w, resp("XADD", "x:%d" % w, "*", "n", n)),
                ]
                s.sendall(b"".join(c for _, c in cmds))
                for key, _ in cmds:
                    while b"\r\n" not in buf:
                        chunk = s.recv(65536)
                        if not chunk:
                            return
                        buf += chunk
                    line, buf = buf.split(b"\r\n", 1)
                    if line[:1] == b":" and key[:1] == b"l":
                        self.acked[key] = int(line[1:])          # RPUSH: the new length
                    elif line[:1] == b":":
                        self.acked[key] = self.acked.get(key, 0) + int(line[1:])
                    elif line[:1] == b"$":
                        # XADD's ID: a bulk string whose payload line follows.
                        while b"\r\n" not in buf:
                            chunk = s.recv(65536)
                            if not chunk:
                                return
                            buf += chunk
                        _id, buf = buf.split(b"\r\n", 1)
                        self.acked[key] = self.acked.get(key, 0) + 1
                    else:
                        raise AssertionError(line)
                n += 1
        except OSError:
            return
        finally:
            s.close()


def _hammer(node: Node, writers: list, seconds: float) -> None:
    for w in writers:
        w.start()
    time.sleep(seconds)
    node.kill9()
    for w in writers:
        w.stop.set()
        w.join(10)


def _consistent(node: Node) -> None:
    """DBSIZE (a persisted counter) equals the keys found, and values read back (every
    collection, a sample of the strings)."""
    r = node.client()
    keys = r.keys("*")
    assert r.dbsize() == len(keys)
    p = r.pipeline(transaction=False)
    for k in keys:
        p.type(k)
    types = p.execute()
    strings = [k for k, t in zip(keys, types) if t == b"string"]
    read = {b"list": lambda k: p.lrange(k, 0, -1), b"hash": p.hgetall, b"set": p.smembers,
            b"zset": lambda k: p.zrange(k, 0, -1), b"stream": lambda k: p.xrange(k)}
    for k, t in zip(keys, types):
        if t != b"string":
            read[t](k)
    for k in random.Random(1).sample(strings, min(1000, len(strings))):
        p.get(k)
    assert all(v is not None for v in p.execute())


@pytest.mark.parametrize("policy", ["always", "everysec", "no"])
def test_kill9_loses_no_acknowledged_string_write(policy):
    # Every policy writes the batch to the OS before the reply: a killed process loses nothing.
    d = make_dir()
    node = Node(d, _disk(policy))
    ws = [Writer(node.port, i) for i in range(4)]
    _hammer(node, ws, 2.0)
    total = sum(len(w.acked) for w in ws)
    assert total > 300, "the writers barely wrote (%d acknowledged)" % total
    node = Node(d, _disk(policy))
    try:
        r = node.client()
        for w in ws:
            keys = [k for _, k in w.acked]
            for i in range(0, len(keys), 1000):
                chunk = keys[i:i + 1000]
                assert r.mget(chunk) == chunk
            assert int(r.get("ctr:%d" % w.wid) or 0) >= w.counter
        _consistent(node)
    finally:
        node.stop()
        shutil.rmtree(d, ignore_errors=True)


def test_kill9_loses_no_acknowledged_collection_write():
    d = make_dir()
    node = Node(d, _disk("always"))
    ws = [CollectionWriter(node.port, i) for i in range(3)]
    _hammer(node, ws, 2.0)
    assert sum(sum(w.acked.values()) for w in ws) > 200
    node = Node(d, _disk("always"))
    try:
        r = node.client()
        for w in ws:
            for key, size in w.acked.items():
                kind = key[:1]
                got = {b"l": r.llen, b"h": r.hlen, b"s": r.scard, b"z": r.zcard,
                       b"x": r.xlen}[kind](key)
                assert got >= size, (key, got, size)
        _consistent(node)
    finally:
        node.stop()
        shutil.rmtree(d, ignore_errors=True)


def test_repeated_kills_during_rewrites_and_deletes():
    """Kill while collections are rewritten (LINSERT, LREM), renamed and deleted."""
    d = make_dir()
    try:
        for round_ in range(3):
            node = Node(d, _disk("everysec"))
            r = node.client()
            stop = threading.Event()

            def churn():
                rnd = random.Random(round_)
                c = node.client()
                while not stop.is_set():
                    k = "c%d" % rnd.randrange(30)
                    op = rnd.randrange(6)
                    try:
                        if op == 0:
                            c.rpush(k, *range(rnd.randrange(1, 50)))
                        elif op == 1:
                            c.linsert(k, "BEFORE", "3", "ins")
                        elif op == 2:
                            c.lrem(k, 0, "2")
                        elif op == 3:
                            c.rename(k, "c%d" % rnd.randrange(30))
                        elif op == 4:
                            c.delete(k)
                        else:
                            c.ltrim(k, 1, -2)
                    except redis.ResponseError:
                        continue        # RENAME of a missing key
                    except (redis.ConnectionError, redis.TimeoutError):
                        return

            t = threading.Thread(target=churn, daemon=True)
            t.start()
            time.sleep(1.0)
            node.kill9()
            stop.set()
            t.join(10)
            node = Node(d, _disk("everysec"))
            try:
                _consistent(node)
            finally:
                node.stop()
    finally:
        shutil.rmtree(d, ignore_errors=True)
