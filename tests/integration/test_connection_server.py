"""Connection handling, protocol edge cases and server commands over TCP."""

import socket
import time

import pytest
import redis

from ..conftest import Raw, start_emberkv


def test_hello_resp3_and_back(raw, raw_redis):
    for cmd in [("HELLO", "3"), ("PING",), ("HELLO", "2"), ("HELLO", "4"), ("HELLO", "x"),
                ("HELLO", "3", "SETNAME", "a b"), ("HELLO", "3", "FOO")]:
        mine, theirs = raw.call(*cmd), raw_redis.call(*cmd)
        if cmd == ("HELLO", "3"):
            assert mine.startswith(b"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15")
        elif cmd == ("HELLO", "2"):
            assert mine.split(b":", 1)[0] == theirs.split(b":", 1)[0]  # same shape up to the client id
        else:
            assert mine == theirs, cmd


def test_resp3_types(r3):
    r3.set("a", "1")
    assert r3.config_get("maxmemory") == {b"maxmemory": b"0"} or r3.config_get("maxmemory") == {"maxmemory": "0"}


def test_inline_commands_and_pipelines(ember, r):
    s = socket.create_connection(("127.0.0.1", ember.port))
    s.sendall(b"PING\r\nSET a 'b c'\r\nGET a\r\n*1\r\n$4\r\nPING\r\n")
    time.sleep(0.2)
    data = s.recv(1000)
    assert data == b"+PONG\r\n+OK\r\n$3\r\nb c\r\n+PONG\r\n"
    s.close()


@pytest.mark.parametrize("payload,err", [
    (b"*3000000000\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
    (b"*1\r\n$-10\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b"*1\r\nfoo\r\n", b"-ERR Protocol error: expected '$', got 'f'\r\n"),
    (b"*1\r\n$2000000000\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b'set "unbalanced\r\n', b"-ERR Protocol error: unbalanced quotes in request\r\n"),
])
def test_protocol_errors_close_connection(ember, r, payload, err):
    s = socket.create_connection(("127.0.0.1", ember.port))
    s.sendall(payload)
    s.settimeout(5)
    data = b""
    while True:
        chunk = s.recv(1000)
        if not chunk:
            break
        data += chunk
    assert data == err
    s.close()
    assert r.ping()


def test_negative_multibulk_is_ignored(ember, r):
    s = socket.create_connection(("127.0.0.1", ember.port))
    s.sendall(b"*-10\r\n*1\r\n$4\r\nPING\r\n")
    s.settimeout(5)
    assert s.recv(100) == b"+PONG\r\n"
    s.close()


def test_client_commands(r):
    cid = r.client_id()
    assert r.client_setname("worker-1")
    assert r.client_getname() in (b"worker-1", "worker-1")
    line = r.execute_command("CLIENT", "INFO")
    assert b"id=%d " % cid in line and b"name=worker-1" in line
    listing = r.execute_command("CLIENT", "LIST")
    assert b"cmd=client|list" in listing
    with pytest.raises(redis.ResponseError, match="Client names cannot contain spaces"):
        r.client_setname("a b")
    assert r.execute_command("CLIENT", "SETINFO", "LIB-NAME", "mylib") == b"OK"
    assert r.execute_command("CLIENT", "NO-EVICT", "on") == b"OK"


def test_client_kill_and_reply_modes(ember, r):
    other = redis.Redis(port=ember.port)
    other.client_setname("victim")
    oid = other.client_id()
    assert r.execute_command("CLIENT", "KILL", "ID", oid) == 1
    assert r.execute_command("CLIENT", "KILL", "ID", oid) == 0
    raw = Raw(ember.port)
    raw.cmd("CLIENT", "REPLY", "OFF")
    raw.cmd("SET", "x", "1")
    raw.cmd("CLIENT", "REPLY", "ON")
    assert raw.read_reply() == b"+OK\r\n"
    raw.close()


def test_auth_requirepass(tmp_path):
    srv = start_emberkv("memory", ["--requirepass", "s3cret"])
    try:
        raw = Raw(srv.port)
        assert raw.call("GET", "a") == b"-NOAUTH Authentication required.\r\n"
        assert raw.call("AUTH", "wrong") == b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
        assert raw.call("AUTH", "s3cret") == b"+OK\r\n"
        assert raw.call("PING") == b"+PONG\r\n"
        raw2 = Raw(srv.port)
        assert raw2.call("HELLO", "3", "AUTH", "default", "s3cret").startswith(b"%7")
        raw.close()
        raw2.close()
    finally:
        srv.stop()


def test_auth_without_password(raw, raw_redis):
    assert raw.call("AUTH", "x") == raw_redis.call("AUTH", "x")


def test_info_sections(r):
    info = r.info()
    assert info["redis_version"] == "7.0.15"
    for field in ("connected_clients", "used_memory", "total_commands_processed", "role", "aof_enabled"):
        assert field in info
    r.set("a", 1)
    assert r.info("keyspace")["db0"]["keys"] == 1
    stats = r.info("commandstats")
    assert "cmdstat_set" in stats
    r.execute_command("FOOBAR")  if False else None
    with pytest.raises(redis.ResponseError):
        r.execute_command("FOOBAR")
    assert "errorstat_ERR" in r.info("errorstats")


def test_config_get_set(r):
    assert r.config_get("maxmemory") == {b"maxmemory": b"0"} or r.config_get("maxmemory") == {"maxmemory": "0"}
    assert r.config_set("maxmemory-policy", "allkeys-lru")
    assert r.config_get("maxmemory-policy")
    r.execute_command("CONFIG", "SET", "slowlog-max-len", "10", "latency-monitor-threshold", "0")
    with pytest.raises(redis.ResponseError, match="Unknown option or number of arguments for CONFIG SET - 'nope'"):
        r.config_set("nope", "1")
    with pytest.raises(redis.ResponseError, match="argument couldn't be parsed into an integer"):
        r.config_set("hz", "abc")
    r.config_set("maxmemory-policy", "noeviction")


def test_slowlog(r):
    r.config_set("slowlog-log-slower-than", 0)
    r.slowlog_reset()
    r.set("k", "v")
    entries = r.slowlog_get()
    assert entries and entries[0]["command"] in (b"SET k v", "SET k v")
    r.config_set("slowlog-log-slower-than", 10000)
    r.slowlog_reset()


def test_monitor_sees_commands(ember, r):
    mon = Raw(ember.port)
    assert mon.call("MONITOR") == b"+OK\r\n"
    r.set("watched", "1")
    line = mon.read_reply()
    assert line.startswith(b"+") and b'"set" "watched" "1"' in line.lower()
    mon.close()


def test_command_introspection(r):
    raw = Raw(r.connection_pool.connection_kwargs["port"])
    assert int(raw.call("COMMAND", "COUNT")[1:-2]) > 50
    assert raw.call("COMMAND", "INFO", "get").startswith(b"*1\r\n*10\r\n$3\r\nget\r\n:2\r\n")
    assert raw.call("COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2") == b"*2\r\n$1\r\na\r\n$1\r\nb\r\n"
    assert raw.call("COMMAND", "DOCS", "set").startswith(b"*2\r\n$3\r\nset\r\n")
    assert b"config|get" in raw.call("COMMAND", "LIST")
    raw.close()


def test_time_and_lastsave(r):
    sec, usec = r.execute_command("TIME")
    assert abs(int(sec) - time.time()) < 5
    assert isinstance(r.lastsave(), object)


def test_active_expiry_removes_keys(r):
    for i in range(200):
        r.set("tmp:%d" % i, "x", px=50)
    r.set("keep", "1")
    deadline = time.time() + 5
    while time.time() < deadline and r.dbsize() > 1:
        time.sleep(0.1)
    assert r.dbsize() == 1


def test_client_pause_write(ember, r):
    r.execute_command("CLIENT", "PAUSE", 300, "WRITE")
    t0 = time.time()
    assert r.get("a") is None          # reads are not paused
    r.set("a", "1")                    # writes wait for the pause to end
    assert time.time() - t0 >= 0.2
    r.execute_command("CLIENT", "UNPAUSE")


def test_timeout_closes_idle_clients():
    srv = start_emberkv("memory", ["--timeout", "1"])
    try:
        raw = Raw(srv.port)
        assert raw.call("PING") == b"+PONG\r\n"
        time.sleep(2.5)
        with pytest.raises((ConnectionError, OSError)):
            raw.call("PING")
    finally:
        srv.stop()


def test_shutdown_nosave():
    srv = start_emberkv("memory")
    raw = Raw(srv.port)
    raw.cmd("SHUTDOWN", "NOSAVE")
    srv.proc.wait(10)
    assert srv.proc.returncode == 0
    srv.stop()


def test_config_file_and_bad_directive(tmp_path):
    import subprocess
    import sys
    conf = tmp_path / "bad.conf"
    conf.write_text("port 7777\nnot-a-directive yes\n")
    out = subprocess.run([sys.executable, "-m", "emberkv", str(conf)], capture_output=True, text=True, timeout=30)
    assert out.returncode == 1
    assert "line 2" in out.stderr and "not-a-directive" in out.stderr


def test_unix_socket(tmp_path):
    path = str(tmp_path / "ember.sock")
    srv = start_emberkv("memory", ["--unixsocket", path, "--unixsocketperm", "700"])
    try:
        c = redis.Redis(unix_socket_path=path)
        assert c.ping()
        c.set("a", "1")
        assert c.get("a") == b"1"
        assert b"flags=U" in c.execute_command("CLIENT", "LIST")
        c.close()
    finally:
        srv.stop()


def test_config_rewrite(tmp_path):
    conf = tmp_path / "ember.conf"
    conf.write_text("# my settings\nport 0\nmaxmemory-policy allkeys-lru\n")
    import sys
    import subprocess
    from ..conftest import free_port, wait_ready
    port = free_port()
    conf.write_text("# my settings\nport %d\nbind 127.0.0.1\nmaxmemory-policy allkeys-lru\n" % port)
    proc = subprocess.Popen([sys.executable, "-m", "emberkv", str(conf), "--save", ""],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=str(tmp_path))
    try:
        wait_ready(port, proc)
        c = redis.Redis(port=port)
        c.config_set("maxmemory-policy", "volatile-lfu")
        c.config_set("hz", 20)
        assert c.config_rewrite()
        text = conf.read_text()
        assert "# my settings" in text
        assert "maxmemory-policy volatile-lfu" in text and "hz 20" in text
        c.close()
    finally:
        proc.terminate()
        proc.wait(10)


def test_blank_line_and_inline_after_multibulk_in_one_chunk(ember, r):
    # redis-cli --pipe ends with "\r\n*2\r\n$4\r\nECHO..." right after the last request.
    s = socket.create_connection(("127.0.0.1", ember.port))
    s.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n")
    s.settimeout(5)
    data = b""
    while not data.endswith(b"$2\r\nhi\r\n"):
        data += s.recv(1000)
    assert data == b"+OK\r\n+PONG\r\n$2\r\nhi\r\n"
    s.close()
