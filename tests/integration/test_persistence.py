"""SAVE/BGSAVE/AOF round trips, loading, save points, DUMP/RESTORE and MIGRATE over TCP."""

from __future__ import annotations

import os
import shutil
import time

import pytest
import redis

from ..conftest import Raw
from ..durability.helpers import (Node, describe, diff, info, make_dir, populate, stop_leftover_nodes,
                                  wait_bgsave, wait_for, wait_rewrite)


@pytest.fixture(autouse=True)
def _no_leftover_servers():
    yield
    stop_leftover_nodes()


@pytest.fixture
def workdir():
    d = make_dir("emberkv-pers-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _encodings(port: int) -> dict:
    out = {}
    for db in (0, 1, 5, 15):
        r = redis.Redis(host="127.0.0.1", port=port, db=db)
        for k in r.keys("*"):
            out[(db, k)] = r.object("encoding", k)
    return out


# --- RDB -----------------------------------------------------------------------------------------

def test_save_and_restart_round_trips_every_type(workdir):
    node = Node(workdir)
    populate(node.port)
    before = describe(node.port)
    encodings = _encodings(node.port)
    r = node.client()
    assert r.save()
    assert r.lastsave().timestamp() >= time.time() - 5
    assert info(r)["rdb_changes_since_last_save"] == 0
    node.stop()
    node = Node(workdir)
    try:
        assert not diff(describe(node.port), before)
        assert _encodings(node.port) == encodings
        st = info(node.client())
        assert st["rdb_last_load_keys_loaded"] == len(before)
        assert "Done loading RDB, keys loaded: %d, keys expired: 0." % len(before) in node.log_text()
    finally:
        node.stop()


def _field_ttl_dataset(r) -> dict:
    """Hashes with field TTLs (small and big), and what HPEXPIRETIME reports for them."""
    now = int(time.time() * 1000)
    r.hset("small", mapping={"a": "1", "b": "2", "c": "3"})
    r.execute_command("HPEXPIREAT", "small", now + 100_000, "FIELDS", 1, "a")
    r.execute_command("HPEXPIREAT", "small", now + 200_000, "FIELDS", 1, "b")
    r.hset("big", mapping={"f%d" % i: "v" * 80 for i in range(300)})
    r.execute_command("HPEXPIREAT", "big", now + 300_000, "FIELDS", 3, "f1", "f2", "f3")
    r.hset("gone", mapping={"x": "1", "y": "2"})
    r.execute_command("HPEXPIRE", "gone", 1, "FIELDS", 1, "x")   # 1 s: expired by the reload
    return {"small": [now + 100_000, now + 200_000, -1],
            "big": [now + 300_000, now + 300_000, now + 300_000, -1]}


def _check_field_ttls(r, want: dict) -> None:
    assert r.execute_command("HPEXPIRETIME", "small", "FIELDS", 3, "a", "b", "c") == want["small"]
    assert r.execute_command("HPEXPIRETIME", "big", "FIELDS", 4, "f1", "f2", "f3", "f4") == \
        want["big"]
    assert r.hlen("big") == 300
    assert r.hgetall("gone") == {b"y": b"2"}


@pytest.mark.parametrize("how", ["save", "aof-preamble", "aof-commands"])
def test_hash_field_ttls_survive_a_restart(workdir, how):
    args = [] if how == "save" else ["--appendonly", "yes", "--aof-use-rdb-preamble",
                                     "yes" if how == "aof-preamble" else "no"]
    node = Node(workdir, args)
    try:
        r = node.client()
        want = _field_ttl_dataset(r)
        if how == "save":
            assert r.save()
        else:
            assert r.bgrewriteaof()
            wait_rewrite(r)
    finally:
        node.stop()
    time.sleep(1.1)
    node = Node(workdir, args)
    try:
        _check_field_ttls(node.client(), want)
    finally:
        node.stop()


def test_expired_keys_are_not_loaded(workdir):
    node = Node(workdir)
    r = node.client()
    r.set("short", "1", px=300)
    r.set("long", "1", ex=1000)
    r.config_set("save", "")
    r.save()
    node.stop()
    time.sleep(0.4)
    node = Node(workdir)
    try:
        assert node.client().keys() == [b"long"]
        assert info(node.client())["rdb_last_load_keys_expired"] == 1
    finally:
        node.stop()


def test_bgsave_while_serving(workdir):
    node = Node(workdir)
    r = node.client()
    try:
        r.mset({"key:%d" % i: "v%d" % i for i in range(20000)})
        r.config_set("rdb-key-save-delay", 50)        # ~1 s of saving
        assert r.bgsave() in (True, b"Background saving started")
        st = wait_for(lambda: (lambda s: s if s["rdb_bgsave_in_progress"] else None)(info(r)))
        assert st["rdb_current_bgsave_time_sec"] >= 0
        # The parent keeps serving reads and writes while the child saves.
        t0 = time.time()
        for i in range(200):
            assert r.get("key:%d" % i) == b"v%d" % i
            r.set("during:%d" % i, i)
        assert time.time() - t0 < 5
        with pytest.raises(redis.ResponseError, match="Background save already in progress"):
            r.bgsave()
        with pytest.raises(redis.ResponseError, match="Background save already in progress"):
            r.save()
        wait_bgsave(r)
        st = info(r)
        assert st["rdb_last_bgsave_status"] == "ok"
        assert st["rdb_changes_since_last_save"] == 200
        assert "Background saving terminated with success" in node.log_text()
        r.config_set("rdb-key-save-delay", 0)
    finally:
        node.stop()
    node = Node(workdir)
    try:
        r = node.client()
        assert r.dbsize() == 20000             # the snapshot is the data at fork time
        assert r.get("during:0") is None
    finally:
        node.stop()


def test_bgsave_schedule_during_aof_rewrite(workdir):
    node = Node(workdir)
    r = node.client()
    try:
        r.mset({"k%d" % i: i for i in range(3000)})
        r.config_set("rdb-key-save-delay", 300)
        r.bgrewriteaof()
        wait_for(lambda: info(r)["aof_rewrite_in_progress"] == 1)
        raw = Raw(node.port)
        assert raw.call("BGSAVE").startswith(b"-ERR Another child process is active (AOF?): can't "
                                             b"BGSAVE right now.")
        assert raw.call("BGSAVE", "SCHEDULE") == b"+Background saving scheduled\r\n"
        assert raw.call("BGREWRITEAOF") == \
            b"-ERR Background append only file rewriting already in progress\r\n"
        raw.close()
        r.config_set("rdb-key-save-delay", 0)
        wait_for(lambda: os.path.exists(os.path.join(workdir, "dump.rdb")), 60)
        wait_bgsave(r)
    finally:
        node.stop()


def test_save_points_trigger_bgsave(workdir):
    node = Node(workdir)
    r = node.client()
    try:
        r.config_set("save", "1 2")
        r.set("a", 1)
        time.sleep(1.3)
        assert not os.path.exists(os.path.join(workdir, "dump.rdb"))   # 1 change < 2
        r.set("b", 2)
        wait_for(lambda: os.path.exists(os.path.join(workdir, "dump.rdb")), 10)
        wait_bgsave(r)
        assert "2 changes in 1 seconds. Saving..." in node.log_text()
        assert info(r)["rdb_changes_since_last_save"] == 0
    finally:
        node.stop()


def test_shutdown_saves_by_default_with_save_points(workdir):
    node = Node(workdir, ["--save", "3600 1"])
    node.client().set("a", "1")
    node.stop()                                             # SIGTERM
    assert "Saving the final RDB snapshot before exiting." in node.log_text()
    node = Node(workdir)
    r = node.client()
    assert r.get("a") == b"1"
    r.set("b", "2")
    with pytest.raises(redis.ConnectionError):
        r.execute_command("SHUTDOWN", "NOSAVE")
    node.stop()
    node = Node(workdir)
    try:
        assert node.client().get("b") is None
        node.client().set("c", "3")
        with pytest.raises(redis.ConnectionError):
            node.client().execute_command("SHUTDOWN", "SAVE")
    finally:
        node.stop()
    node = Node(workdir)
    try:
        assert node.client().get("c") == b"3"
    finally:
        node.stop()


def test_flushall_with_save_points_saves_the_empty_dataset(workdir):
    node = Node(workdir, ["--save", "3600 1000"])
    r = node.client()
    try:
        r.set("a", "1")
        r.save()
        r.flushall()
        assert info(r)["rdb_changes_since_last_save"] == 1
    finally:
        node.kill9()
    node = Node(workdir)
    try:
        assert node.client().dbsize() == 0
    finally:
        node.stop()


def test_clients_get_loading_and_info_shows_progress(workdir):
    node = Node(workdir)
    r = node.client()
    r.mset({"k%d" % i: i for i in range(20000)})
    r.save()
    node.stop()
    node = Node(workdir, ["--key-load-delay", "100"], wait_loaded=False)   # ~2 s of loading
    try:
        c = node.client()
        raw = Raw(node.port)
        reply = raw.call("SET", "x", "y")
        assert reply == b"-LOADING Redis is loading the dataset in memory\r\n"
        st = info(c)
        assert st["loading"] == 1
        assert 0 <= float(st["loading_loaded_perc"]) <= 100
        assert "loading_eta_seconds" in st and st["loading_total_bytes"] > 0
        wait_for(lambda: info(c)["loading"] == 0, 60)
        assert c.dbsize() == 20000
        raw.close()
    finally:
        node.stop()


# --- AOF -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_aof_round_trip_with_rewrite(workdir, preamble):
    args = ["--appendonly", "yes", "--aof-use-rdb-preamble", preamble]
    node = Node(workdir, args)
    r = node.client()
    populate(node.port, big=False)
    assert r.bgrewriteaof()
    wait_rewrite(r)
    r.set("after", "rewrite")
    r.lpush("list:small", "front")
    before = describe(node.port)
    st = info(r)
    assert st["aof_rewrites"] == 1 and st["aof_last_bgrewrite_status"] == "ok"
    node.kill9()
    files = sorted(os.listdir(os.path.join(workdir, "appendonlydir")))
    ext = "rdb" if preamble == "yes" else "aof"
    assert files == ["appendonly.aof.2.base." + ext, "appendonly.aof.2.incr.aof", "appendonly.aof.manifest"]
    node = Node(workdir, args)
    try:
        assert not diff(describe(node.port), before)
    finally:
        node.stop()


def test_config_set_appendonly_at_runtime(workdir):
    node = Node(workdir)
    r = node.client()
    try:
        populate(node.port, big=False)
        assert r.config_set("appendonly", "yes")
        wait_rewrite(r)
        assert info(r)["aof_enabled"] == 1
        r.set("after", "enable")
        before = describe(node.port)
        with open(os.path.join(workdir, "appendonlydir", "appendonly.aof.manifest")) as fh:
            assert fh.read() == ("file appendonly.aof.1.base.rdb seq 1 type b\n"
                                 "file appendonly.aof.1.incr.aof seq 1 type i\n")
        r.config_set("appendonly", "no")
        assert info(r)["aof_enabled"] == 0
        r.set("not-logged", "1")
    finally:
        node.kill9()
    node = Node(workdir, ["--appendonly", "yes"])
    try:
        assert not diff(describe(node.port), before)
    finally:
        node.stop()


def test_automatic_aof_rewrite(workdir):
    node = Node(workdir, ["--appendonly", "yes", "--auto-aof-rewrite-min-size", "20kb",
                          "--auto-aof-rewrite-percentage", "100"])
    r = node.client()
    try:
        for i in range(400):
            r.set("same", "x" * 100)                # the incr file grows, the dataset does not
        wait_for(lambda: info(r)["aof_rewrites"] >= 1, 20)
        wait_rewrite(r)
        assert "Starting automatic rewriting of AOF on" in node.log_text()
        assert info(r)["aof_current_size"] < 20 * 1024
    finally:
        node.stop()


def test_bgrewriteaof_and_info_fields(workdir):
    node = Node(workdir, ["--appendonly", "yes"])
    r = node.client()
    try:
        st = info(r)
        for field in ("aof_current_size", "aof_base_size", "aof_pending_rewrite", "aof_buffer_length",
                      "aof_pending_bio_fsync", "aof_delayed_fsync", "rdb_last_cow_size",
                      "current_cow_peak", "current_fork_perc"):
            assert field in st
        r.config_set("rdb-key-save-delay", 1000)
        r.mset({"k%d" % i: i for i in range(500)})
        raw = Raw(node.port)
        assert raw.call("BGREWRITEAOF") == b"+Background append only file rewriting started\r\n"
        assert raw.call("BGREWRITEAOF") == \
            b"-ERR Background append only file rewriting already in progress\r\n"
        assert raw.call("BGSAVE").startswith(b"-ERR Another child process is active")
        raw.close()
        r.config_set("rdb-key-save-delay", 0)
        wait_rewrite(r)
    finally:
        node.stop()


def test_relative_ttls_are_logged_as_absolute(workdir):
    node = Node(workdir, ["--appendonly", "yes"])
    r = node.client()
    try:
        r.set("k", "v")
        payload = r.dump("k")
        r.delete("k")
        r.restore("k", 100000, payload)
        incr = os.path.join(workdir, "appendonlydir", "appendonly.aof.1.incr.aof")
        with open(incr, "rb") as fh:
            data = fh.read()
        assert b"ABSTTL" in data
    finally:
        node.stop()


# --- DUMP / RESTORE against real Redis ------------------------------------------------------------------

def test_dump_restore_both_ways(r, rr, ember, real_redis):
    populate(ember.port, big=False)
    populate(real_redis.port, big=False)
    ours = describe(ember.port, dbs=[0])
    for (db, key), (t, value, _exp) in ours.items():
        theirs_payload = rr.dump(key)
        our_payload = r.dump(key)
        assert our_payload is not None
        # Redis accepts what we serialize ...
        rr.restore(key, 0, our_payload, replace=True)
        # ... and we accept what Redis serializes.
        r.restore(key, 0, theirs_payload, replace=True)
    assert not diff(describe(ember.port, dbs=[0]), describe(real_redis.port, dbs=[0]))
    assert r.dump("missing") is None


def test_restore_errors_match_redis(raw, raw_redis):
    for conn in (raw, raw_redis):
        conn.call("SET", "foo", "bar")
    payload = raw_redis.call("DUMP", "foo").split(b"\r\n", 1)[1][:-2]
    cases = [
        ("RESTORE", "foo", "0", "..."),
        ("RESTORE", "new", "0", "..."),
        ("RESTORE", "new", "-1", payload),
        ("RESTORE", "new", "x", payload),
        ("RESTORE", "new", "0", payload, "BOGUS"),
        ("RESTORE", "new", "0", payload, "IDLETIME", "-1"),
        ("RESTORE", "new", "0", payload, "FREQ", "256"),
        ("RESTORE", "new", "0", payload, "IDLETIME", "5", "FREQ", "5"),
        ("RESTORE", "new", "0", payload[:-1] + bytes([payload[-1] ^ 1])),
        ("RESTORE", "new", "0", b"\x00\x03abc\x0a\x00" + payload[-8:]),
        ("RESTORE", "new", "0", payload),
        ("GET", "new"),
        ("RESTORE", "new", "0", payload, "REPLACE", "ABSTTL"),
        ("RESTORE", "past", "1", payload, "ABSTTL"),
        ("EXISTS", "past"),
        ("DUMP", "nothing"),
    ]
    for case in cases:
        assert raw.call(*case) == raw_redis.call(*case), case


def test_restore_idletime_and_freq(r):
    r.set("foo", "bar")
    payload = r.dump("foo")
    r.delete("foo")
    r.config_set("maxmemory-policy", "allkeys-lru")
    try:
        r.restore("foo", 0, payload, idletime=1000)
        assert 1000 <= r.object("idletime", "foo") <= 1010
        r.config_set("maxmemory-policy", "allkeys-lfu")
        r.restore("foo", 0, payload, replace=True, frequency=100)
        assert r.object("freq", "foo") == 100
    finally:
        r.config_set("maxmemory-policy", "noeviction")


# --- MIGRATE -----------------------------------------------------------------------------------------------

def test_migrate_to_real_redis(r, rr, real_redis):
    populate_keys = {"m1": "v1", "m2": "v2", "m3": "v3"}
    r.mset(populate_keys)
    r.rpush("mlist", "a", "b")
    r.pexpire("m1", 100000)
    host, port = "127.0.0.1", real_redis.port
    assert r.migrate(host, port, "m1", 0, 5000) == b"OK"
    assert r.exists("m1") == 0 and rr.get("m1") == b"v1"
    assert 90000 < rr.pttl("m1") <= 100000
    assert r.migrate(host, port, "m2", 0, 5000, copy=True) == b"OK"
    assert r.get("m2") == b"v2" and rr.get("m2") == b"v2"
    # the key exists on the target now: BUSYKEY unless REPLACE
    with pytest.raises(redis.ResponseError,
                       match="Target instance replied with error: BUSYKEY Target key name already exists."):
        r.migrate(host, port, "m2", 0, 5000, copy=True)
    r.set("m2", "newer")
    assert r.migrate(host, port, "m2", 0, 5000, replace=True) == b"OK"
    assert rr.get("m2") == b"newer"
    assert r.migrate(host, port, ["m3", "mlist", "missing"], 3, 5000) == b"OK"
    rr3 = redis.Redis(host=host, port=port, db=3)
    assert rr3.get("m3") == b"v3" and rr3.lrange("mlist", 0, -1) == [b"a", b"b"]
    assert r.migrate(host, port, "nothing", 0, 5000) == b"NOKEY"
    r.set("m4", "v4")
    with pytest.raises(redis.ResponseError, match="IOERR error or timeout connecting to the client"):
        r.execute_command("MIGRATE", "127.0.0.1", "1", "m4", "0", "500")
    rr3.flushdb()


def test_migrate_auth_and_between_embers(r, ember):
    d = make_dir("emberkv-migrate-")
    other = Node(d, ["--requirepass", "sekret"])
    try:
        r.set("k", "v")
        with pytest.raises(redis.ResponseError, match="Target instance replied with error: NOAUTH"):
            r.migrate("127.0.0.1", other.port, "k", 0, 5000)
        assert r.execute_command("MIGRATE", "127.0.0.1", other.port, "k", 0, 5000,
                                 "AUTH", "sekret") == b"OK"
        o = redis.Redis(host="127.0.0.1", port=other.port, password="sekret")
        assert o.get("k") == b"v" and r.get("k") is None
        r.set("k2", "v2")
        assert r.execute_command("MIGRATE", "127.0.0.1", other.port, "", 0, 5000, "AUTH2", "default",
                                 "sekret", "KEYS", "k2") == b"OK"
        assert o.get("k2") == b"v2"
        with pytest.raises(redis.ResponseError, match="When using MIGRATE KEYS option"):
            r.execute_command("MIGRATE", "127.0.0.1", other.port, "k", 0, 5000, "KEYS", "k2")
        assert r.command_getkeys("MIGRATE", "h", "1", "", "0", "5", "AUTH", "p",
                                 "KEYS", "a", "b") in ([b"a", b"b"], ["a", "b"])
    finally:
        other.stop()
        shutil.rmtree(d, ignore_errors=True)
