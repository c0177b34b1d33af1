"""Crash safety: kill -9 under load, torn and corrupted AOFs, truncated RDBs, failing BGSAVEs."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time

import pytest
import redis

from ..conftest import resp
from .helpers import (Node, info, make_dir, run_until_exit, stop_leftover_nodes, wait_bgsave,
                      wait_for)


@pytest.fixture(autouse=True)
def _no_leftover_servers():
    yield
    stop_leftover_nodes()


class Writer(threading.Thread):
    """Pipelines SETs of unique keys and an INCR counter; remembers what was acknowledged."""

    def __init__(self, port: int, wid: int, batch: int = 32):
        super().__init__(daemon=True)
        self.port, self.wid, self.batch = port, wid, batch
        self.acked: list[tuple[float, bytes]] = []   # (time acknowledged, key)
        self.counter = 0                              # highest INCR result acknowledged
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        except OSError:
            return
        n = 0
        buf = b""
        try:
            while not self.stop.is_set():
                keys = [b"w%d:%d" % (self.wid, n + i) for i in range(self.batch)]
                s.sendall(b"".join(resp("SET", k, k) for k in keys) +
                          resp("INCR", "ctr:%d" % self.wid))
                for k in keys:
                    while b"\r\n" not in buf:
                        chunk = s.recv(65536)
                        if not chunk:
                            return
                        buf += chunk
                    line, buf = buf.split(b"\r\n", 1)
                    assert line == b"+OK", line
                    self.acked.append((time.time(), k))
                while b"\r\n" not in buf:
                    chunk = s.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                line, buf = buf.split(b"\r\n", 1)
                self.counter = int(line[1:])
                n += self.batch
        except OSError:
            return
        finally:
            s.close()


def _hammer_and_kill(node: Node, seconds: float, writers: int = 4) -> tuple[list, float]:
    ws = [Writer(node.port, i) for i in range(writers)]
    for w in ws:
        w.start()
    time.sleep(seconds)
    killed_at = time.time()
    node.kill9()
    for w in ws:
        w.stop.set()
        w.join(10)
    return ws, killed_at


def _missing(node: Node, ws: list) -> list:
    r = node.client()
    missing = []
    for w in ws:
        keys = [k for _, k in w.acked]
        for i in range(0, len(keys), 1000):
            chunk = keys[i:i + 1000]
            for k, v in zip(chunk, r.mget(chunk)):
                if v != k:
                    missing.append((w, k))
        assert int(r.get("ctr:%d" % w.wid) or 0) >= w.counter
    return missing


@pytest.mark.parametrize("policy", ["always", "everysec"])
def test_kill9_under_heavy_writes(policy):
    d = make_dir()
    args = ["--appendonly", "yes", "--appendfsync", policy]
    node = Node(d, args)
    ws, killed_at = _hammer_and_kill(node, 2.0)
    total = sum(len(w.acked) for w in ws)
    assert total > 500, "the writers barely wrote (%d acknowledged)" % total
    node = Node(d, args)
    try:
        missing = _missing(node, ws)
        if policy == "always":
            assert not missing, "%d acknowledged writes lost" % len(missing)
        else:
            # everysec may lose what was acknowledged in the last second or two, nothing older.
            ack_time = {k: t for w in ws for t, k in w.acked}
            assert all(killed_at - ack_time[k] <= 2.0 for _, k in missing)
        assert "DB loaded from append only file" in node.log_text()
    finally:
        node.stop()
        shutil.rmtree(d, ignore_errors=True)


def test_kill9_during_aof_rewrite_loses_nothing():
    d = make_dir()
    args = ["--appendonly", "yes", "--appendfsync", "always"]
    node = Node(d, args)
    r = node.client()
    r.mset({"pre:%d" % i: i for i in range(3000)})
    r.config_set("rdb-key-save-delay", 200)     # the rewrite child takes ~0.6 s
    r.bgrewriteaof()
    wait_for(lambda: info(r)["aof_rewrite_in_progress"] == 1)
    ws, _ = _hammer_and_kill(node, 0.3, writers=2)
    node = Node(d, args)
    try:
        assert not _missing(node, ws)
        assert node.client().dbsize() >= 3000
    finally:
        node.stop()
        shutil.rmtree(d, ignore_errors=True)


def _incr_file(d: str) -> str:
    aofdir = os.path.join(d, "appendonlydir")
    incrs = sorted(f for f in os.listdir(aofdir) if f.endswith(".incr.aof"))
    return os.path.join(aofdir, incrs[-1])


def _aof_with_data(d: str, extra=()) -> None:
    node = Node(d, ["--appendonly", "yes"] + list(extra))
    r = node.client()
    for i in range(100):
        r.set("k%d" % i, i)
    node.kill9()


def test_torn_aof_tail_is_recovered():
    d = make_dir()
    _aof_with_data(d)
    path = _incr_file(d)
    good = os.path.getsize(path)
    with open(path, "ab") as fh:
        fh.write(b"*3\r\n$3\r\nSET\r\n$4\r\ntorn\r\n$10\r\nhal")
    node = Node(d, ["--appendonly", "yes"])
    try:
        r = node.client()
        assert r.dbsize() == 100 and r.get("k99") == b"99" and r.get("torn") is None
        log = node.log_text()
        assert "!!! Warning: short read while loading the AOF file" in log
        assert "!!! Truncating the AOF %s at offset %d !!!" % (os.path.basename(path), good) in log
        assert os.path.getsize(path) == good    # the torn bytes are gone from the file
        r.set("after", "1")                     # and it appends cleanly afterwards
    finally:
        node.stop()
    node = Node(d, ["--appendonly", "yes"])
    try:
        assert node.client().get("after") == b"1"
    finally:
        node.stop()
        shutil.rmtree(d, ignore_errors=True)


def test_torn_tail_refused_without_aof_load_truncated():
    d = make_dir()
    _aof_with_data(d)
    with open(_incr_file(d), "ab") as fh:
        fh.write(b"*2\r\n$3\r\nDEL")
    code, log = run_until_exit(d, ["--appendonly", "yes", "--aof-load-truncated", "no"])
    assert code != 0
    assert "Unexpected end of file reading the append only file" in log
    assert "aof-load-truncated" in log
    shutil.rmtree(d, ignore_errors=True)


def test_incomplete_multi_at_the_end_is_reverted():
    d = make_dir()
    _aof_with_data(d)
    path = _incr_file(d)
    good = os.path.getsize(path)
    with open(path, "ab") as fh:
        fh.write(b"*1\r\n$5\r\nMULTI\r\n" + b"*3\r\n$3\r\nSET\r\n$2\r\ntx\r\n$1\r\n1\r\n")
    node = Node(d, ["--appendonly", "yes"])
    try:
        assert node.client().get("tx") is None
        assert "Revert incomplete MULTI/EXEC transaction in AOF file" in node.log_text()
        assert os.path.getsize(path) == good
    finally:
        node.stop()
        shutil.rmtree(d, ignore_errors=True)


def test_corruption_in_the_middle_is_refused():
    d = make_dir()
    _aof_with_data(d)
    path = _incr_file(d)
    with open(path, "rb") as fh:
        data = fh.read()
    middle = data.lower().index(b"*3\r\n$3\r\nset\r\n$3\r\nk50\r\n")
    with open(path, "wb") as fh:
        fh.write(data[:middle] + b"garbage\r\n" + data[middle:])
    code, log = run_until_exit(d, ["--appendonly", "yes"])
    assert code != 0
    assert "Bad file format reading the append only file" in log
    assert os.path.getsize(path) == len(data) + 9   # nothing was cut off
    shutil.rmtree(d, ignore_errors=True)


def test_truncated_rdb_is_refused():
    d = make_dir()
    node = Node(d)
    r = node.client()
    r.mset({"key:%d" % i: "value:%d" % i for i in range(5000)})
    r.save()
    node.stop()
    path = os.path.join(d, "dump.rdb")
    size = os.path.getsize(path)
    with open(path, "r+b") as fh:
        fh.truncate(size // 2)
    code, log = run_until_exit(d, [])
    assert code != 0
    assert "Short read or OOM loading DB. Unrecoverable error, aborting now." in log
    assert "Unexpected EOF reading RDB file" in log
    assert "Ready to accept connections" in log     # the listener was up, but no data served
    shutil.rmtree(d, ignore_errors=True)


def test_rdb_with_bad_checksum_is_refused():
    d = make_dir()
    node = Node(d)
    node.client().set("a", "b")
    node.client().save()
    node.stop()
    path = os.path.join(d, "dump.rdb")
    with open(path, "r+b") as fh:
        fh.seek(-1, 2)
        last = fh.read(1)
        fh.seek(-1, 2)
        fh.write(bytes([last[0] ^ 0xFF]))
    code, log = run_until_exit(d, [])
    assert code != 0 and "Wrong RDB checksum" in log
    shutil.rmtree(d, ignore_errors=True)


def _make_unwritable(path: str) -> bool:
    if os.geteuid() != 0:
        os.chmod(path, 0o555)
        return True
    # root ignores permissions; an immutable directory still refuses new files
    return subprocess.run(["chattr", "+i", path], capture_output=True).returncode == 0


def _make_writable(path: str) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", path], capture_output=True)
    else:
        os.chmod(path, 0o755)


def test_bgsave_to_unwritable_dir_reports_failure_and_keeps_previous_snapshot():
    d = make_dir()
    node = Node(d, ["--save", "3600 1"])
    r = node.client()
    try:
        r.set("before", "1")
        assert r.save()
        path = os.path.join(d, "dump.rdb")
        with open(path, "rb") as fh:
            before = fh.read()
        if not _make_unwritable(d):
            pytest.skip("cannot make a directory unwritable here")
        try:
            r.set("after", "2")
            assert r.bgsave()
            wait_bgsave(r)
            st = info(r)
            assert st["rdb_last_bgsave_status"] == "err"
            assert st["rdb_changes_since_last_save"] >= 1
            with open(path, "rb") as fh:
                assert fh.read() == before           # the old snapshot is intact
            assert "Failed opening the temp RDB file" in node.log_text()
            # stop-writes-on-bgsave-error: writes (and PING) refused, reads served
            with pytest.raises(redis.ResponseError, match="MISCONF Redis is configured to save RDB"):
                r.set("x", "y")
            assert r.get("after") == b"2"
            r.config_set("stop-writes-on-bgsave-error", "no")
            r.set("x", "y")
            r.config_set("stop-writes-on-bgsave-error", "yes")
        finally:
            _make_writable(d)
        assert r.bgsave()
        wait_bgsave(r)
        assert info(r)["rdb_last_bgsave_status"] == "ok"
        r.set("writable", "again")
    finally:
        node.stop()
        shutil.rmtree(d, ignore_errors=True)
