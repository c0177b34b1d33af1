"""Fixtures: an EmberKV server over TCP (per engine), real Redis for differential tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Every server-backed test runs on both engines unless narrowed (EMBERKV_ENGINES=memory).
ENGINES = [e for e in os.environ.get("EMBERKV_ENGINES", "memory,disk").split(",") if e]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port: int, proc, timeout: float = 15.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited with %s" % proc.returncode)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"*1\r\n$4\r\nPING\r\n")
                if s.recv(64).startswith((b"+PONG", b"-")):
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not start on port %d" % port)


class ServerProcess:
    """A server subprocess on a free loopback port; stopped by its own PID."""

    def __init__(self, argv: list[str], port: int, workdir: str):
        self.port = port
        self.workdir = workdir
        self.log = open(os.path.join(workdir, "server.log"), "wb")
        self.proc = subprocess.Popen(argv, cwd=workdir, stdout=self.log, stderr=subprocess.STDOUT)
        wait_ready(port, self.proc)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def start_emberkv(engine: str = "memory", extra: list[str] | None = None, workdir: str | None = None):
    workdir = workdir or tempfile.mkdtemp(prefix="emberkv-test-")
    port = free_port()
    argv = [sys.executable, "-m", "emberkv", "--port", str(port), "--bind", "127.0.0.1",
            "--dir", workdir, "--save", "", "--engine", engine] + (extra or [])
    env_pp = os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = ROOT + (os.pathsep + env_pp if env_pp else "")
    return ServerProcess(argv, port, workdir)


def start_redis(extra: list[str] | None = None):
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("redis-server is not installed")
    workdir = tempfile.mkdtemp(prefix="redis-ref-")
    port = free_port()
    argv = [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", workdir, "--enable-debug-command", "yes"] + (extra or [])
    return ServerProcess(argv, port, workdir)


@pytest.fixture(scope="session", params=ENGINES)
def ember(request):
    srv = start_emberkv(request.param)
    srv.engine = request.param
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def real_redis():
    srv = start_redis()
    yield srv
    srv.stop()


def _client(port: int, **kw):
    import redis
    return redis.Redis(host="127.0.0.1", port=port, socket_timeout=10, **kw)


@pytest.fixture
def r(ember):
    """redis-py client on a flushed EmberKV (RESP2, bytes replies)."""
    c = _client(ember.port)
    c.flushall()
    c.config_set("notify-keyspace-events", "")
    yield c
    c.close()


@pytest.fixture
def r3(ember):
    c = _client(ember.port, protocol=3)
    c.flushall()
    yield c
    c.close()


@pytest.fixture
def rr(real_redis):
    c = _client(real_redis.port)
    c.flushall()
    yield c
    c.close()


def resp(*args) -> bytes:
    """One command as a RESP multibulk request (non-bytes arguments through str())."""
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(parts)


class Raw:
    """A raw RESP connection for byte-exact checks."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def cmd(self, *args) -> None:
        self.sock.sendall(resp(*args))

    def read_reply(self) -> bytes:
        """One complete RESP reply, as raw bytes."""
        while True:
            n = _reply_len(self.buf, 0)
            if n is not None:
                out, self.buf = self.buf[:n], self.buf[n:]
                return out
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk

    def call(self, *args) -> bytes:
        self.cmd(*args)
        return self.read_reply()

    def close(self) -> None:
        self.sock.close()


def _reply_len(buf: bytes, pos: int):
    nl = buf.find(b"\r\n", pos)
    if nl < 0:
        return None
    t = buf[pos:pos + 1]
    line = buf[pos + 1:nl]
    end = nl + 2
    if t in (b"+", b"-", b":", b",", b"_", b"#", b"("):
        return end
    if t in (b"$", b"=", b"!"):
        n = int(line)
        if n < 0:
            return end
        return end + n + 2 if len(buf) >= end + n + 2 else None
    if t in (b"*", b"~", b">", b"%", b"|"):
        n = int(line)
        if n < 0:
            return end
        if t in (b"%", b"|"):
            n *= 2
        p = end
        for _ in range(n):
            q = _reply_len(buf, p)
            if q is None:
                return None
            p = q
        return p
    raise ValueError("bad reply type %r" % t)


@pytest.fixture
def raw(ember, r):
    c = Raw(ember.port)
    yield c
    c.close()


@pytest.fixture
def raw_redis(real_redis, rr):
    c = Raw(real_redis.port)
    yield c
    c.close()
