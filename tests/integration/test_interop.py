"""Our RDB and AOF files in real Redis, Redis's files in EmberKV, and Redis's own checkers.

Reference files are produced inside the tests (a throwaway redis-server and
tools/storage/make_reference_rdb.sh); nothing generated is committed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

import pytest
import redis

from ..durability.helpers import Node, describe, diff, populate, wait_rewrite

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")

TOOLS = "/work/shared/tools/storage"


def _digest(port: int) -> bytes:
    return redis.Redis(host="127.0.0.1", port=port).execute_command("DEBUG", "DIGEST")


@pytest.fixture(scope="module")
def ember_dataset():
    """An EmberKV holding the test dataset, with a SAVEd dump.rdb; plus Redis's digest of it."""
    d = tempfile.mkdtemp(prefix="emberkv-interop-")
    ref_dir = tempfile.mkdtemp(prefix="redis-interop-")
    node = Node(d)
    try:
        populate(node.port)
        node.client().save()
        ref = Node(ref_dir, redis_server=True)
        try:
            populate(ref.port)
            digest = _digest(ref.port)
            expected = describe(ref.port)
        finally:
            ref.stop()
        yield node, d, expected, digest
    finally:
        node.stop()
        shutil.rmtree(d, ignore_errors=True)
        shutil.rmtree(ref_dir, ignore_errors=True)


def test_same_dataset_in_both_servers(ember_dataset):
    node, _d, expected, _digest = ember_dataset
    assert not diff(describe(node.port), expected)


def test_redis_check_rdb_accepts_our_dump(ember_dataset):
    _node, d, _e, _g = ember_dataset
    out = subprocess.run(["redis-check-rdb", os.path.join(d, "dump.rdb")], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "RDB looks OK" in out.stdout


def test_redis_loads_our_dump(ember_dataset):
    node, d, expected, digest = ember_dataset
    target = tempfile.mkdtemp(prefix="redis-loads-ours-")
    shutil.copy(os.path.join(d, "dump.rdb"), os.path.join(target, "dump.rdb"))
    loaded = Node(target, ["--sanitize-dump-payload", "yes"], redis_server=True)
    try:
        assert _digest(loaded.port) == digest
        assert not diff(describe(loaded.port), expected)
    finally:
        loaded.stop()
        shutil.rmtree(target, ignore_errors=True)


def test_redis_loads_our_dump_without_compression(ember_dataset):
    node, d, expected, digest = ember_dataset
    r = node.client()
    r.config_set("rdbcompression", "no")
    r.config_set("dbfilename", "plain.rdb")
    try:
        r.save()
    finally:
        r.config_set("rdbcompression", "yes")
        r.config_set("dbfilename", "dump.rdb")
    target = tempfile.mkdtemp(prefix="redis-loads-ours-")
    shutil.copy(os.path.join(d, "plain.rdb"), os.path.join(target, "dump.rdb"))
    loaded = Node(target, redis_server=True)
    try:
        assert _digest(loaded.port) == digest
    finally:
        loaded.stop()
        shutil.rmtree(target, ignore_errors=True)


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_redis_loads_our_appendonlydir(preamble):
    d = tempfile.mkdtemp(prefix="emberkv-aof-")
    args = ["--appendonly", "yes", "--aof-use-rdb-preamble", preamble]
    node = Node(d, args)
    try:
        r = node.client()
        populate(node.port, big=False)
        r.bgrewriteaof()
        wait_rewrite(r)
        # More writes land in the incr file written after the rewrite.
        r.rpush("list:small", "after-rewrite")
        r.hset("hash:small", "new", "field")
        r.xadd("stream:main", {"late": "entry"}, id="1900000000000-0")
        r.xreadgroup("g1", "dave", {"stream:main": ">"}, count=2)
        with r.pipeline(transaction=True) as p:
            p.incr("tx:counter")
            p.set("tx:other", "x")
            p.execute()
        expected = describe(node.port)
    finally:
        node.stop()
    aofdir = os.path.join(d, "appendonlydir")
    check = subprocess.run(["redis-check-aof", os.path.join(aofdir, "appendonly.aof.manifest")],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "All AOF files and manifest are valid" in check.stdout
    target = tempfile.mkdtemp(prefix="redis-loads-our-aof-")
    shutil.copytree(aofdir, os.path.join(target, "appendonlydir"))
    loaded = Node(target, ["--appendonly", "yes", "--aof-load-truncated", "no"], redis_server=True)
    try:
        assert not diff(describe(loaded.port), expected)
    finally:
        loaded.stop()
        shutil.rmtree(target, ignore_errors=True)
        shutil.rmtree(d, ignore_errors=True)


# --- Redis's files in EmberKV ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def redis_files():
    """Redis writes our dataset as dump.rdb, a live multi-part AOF and rewritten AOFs."""
    d = tempfile.mkdtemp(prefix="redis-files-")
    out = tempfile.mkdtemp(prefix="redis-files-out-")
    node = Node(d, ["--appendonly", "yes", "--aof-use-rdb-preamble", "yes"], redis_server=True)
    try:
        populate(node.port, big=False)
        r = node.client()
        r.save()
        shutil.copy(os.path.join(d, "dump.rdb"), os.path.join(out, "dump.rdb"))
        shutil.copytree(os.path.join(d, "appendonlydir"), os.path.join(out, "aof-live"))
        for preamble in ("no", "yes"):
            r.config_set("aof-use-rdb-preamble", preamble)
            r.bgrewriteaof()
            wait_rewrite(r)
            r.set("after-rewrite-%s" % preamble, "1")
            shutil.copytree(os.path.join(d, "appendonlydir"),
                            os.path.join(out, "aof-rewrite-" + preamble))
        expected = describe(node.port)
    finally:
        node.stop()
    yield out, expected
    shutil.rmtree(d, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)


def _load_in_ember(files_dir: str, name: str, aof: bool) -> tuple:
    target = tempfile.mkdtemp(prefix="emberkv-loads-redis-")
    if aof:
        shutil.copytree(os.path.join(files_dir, name), os.path.join(target, "appendonlydir"))
        node = Node(target, ["--appendonly", "yes", "--aof-load-truncated", "no"])
    else:
        shutil.copy(os.path.join(files_dir, name), os.path.join(target, "dump.rdb"))
        node = Node(target)
    return node, target


def test_we_load_redis_dump(redis_files):
    files, expected = redis_files
    node, target = _load_in_ember(files, "dump.rdb", aof=False)
    try:
        got = describe(node.port)
        wanted = {k: v for k, v in expected.items() if not k[1].startswith(b"after-rewrite")}
        assert not diff(got, wanted)
    finally:
        node.stop()
        shutil.rmtree(target, ignore_errors=True)


@pytest.mark.parametrize("name", ["aof-live", "aof-rewrite-no", "aof-rewrite-yes"])
def test_we_load_redis_appendonlydir(redis_files, name):
    files, expected = redis_files
    node, target = _load_in_ember(files, name, aof=True)
    try:
        got = describe(node.port)
        if name == "aof-live":
            expected = {k: v for k, v in expected.items() if not k[1].startswith(b"after-rewrite")}
        elif name == "aof-rewrite-no":
            expected = {k: v for k, v in expected.items() if k[1] != b"after-rewrite-yes"}
        assert not diff(got, expected)
        # and we keep appending to Redis's incr file
        node.client().set("ember-was-here", "1")
    finally:
        node.stop()
    node = Node(target, ["--appendonly", "yes"])
    try:
        assert node.client().get("ember-was-here") == b"1"
    finally:
        node.stop()
        shutil.rmtree(target, ignore_errors=True)


@pytest.fixture(scope="module")
def reference_files():
    """tools/storage/make_reference_rdb.sh: every 7.0 encoding, LFU, legacy AOF, ..."""
    script = os.path.join(TOOLS, "make_reference_rdb.sh")
    if not os.path.exists(script):
        pytest.skip("make_reference_rdb.sh not available")
    out = tempfile.mkdtemp(prefix="ref-rdb-")
    proc = subprocess.run(["bash", script, "--no-functions", out], capture_output=True, text=True,
                          timeout=300)
    if proc.returncode != 0:
        pytest.skip("reference files could not be produced: " + proc.stdout[-500:])
    yield out
    shutil.rmtree(out, ignore_errors=True)


def _both_load(src: str, kind: str) -> tuple[dict, dict]:
    """Load one reference file into a fresh real Redis and a fresh EmberKV; describe both."""
    results = []
    for redis_server in (True, False):
        target = tempfile.mkdtemp(prefix="ref-load-")
        if kind == "rdb":
            shutil.copy(src, os.path.join(target, "dump.rdb"))
            args = []
        elif kind == "aofdir":
            shutil.copytree(src, os.path.join(target, "appendonlydir"))
            args = ["--appendonly", "yes"]
        else:  # legacy single-file AOF, upgraded into a directory at start-up
            shutil.copy(src, os.path.join(target, "appendonly.aof"))
            args = ["--appendonly", "yes"]
        node = Node(target, args, redis_server=redis_server)
        try:
            results.append(describe(node.port))
            if kind == "legacy" and not redis_server:
                assert "Successfully migrated an old-style AOF file" in node.log_text()
        finally:
            node.stop()
            shutil.rmtree(target, ignore_errors=True)
    return results[0], results[1]


@pytest.mark.parametrize("name,kind", [
    ("dump.rdb", "rdb"), ("dump-nocompress.rdb", "rdb"), ("dump-lfu.rdb", "rdb"),
    ("aof-multipart", "aofdir"), ("aof-rewrite-resp", "aofdir"),
    ("aof-rewrite-rdbpreamble", "aofdir"), ("appendonly-legacy.aof", "legacy"),
])
def test_reference_files_load_like_redis(reference_files, name, kind):
    theirs, ours = _both_load(os.path.join(reference_files, name), kind)
    assert theirs, "reference file is empty"
    assert not diff(ours, theirs)


def test_reference_by_type_files(reference_files):
    by_type = os.path.join(reference_files, "by-type")
    for name in sorted(os.listdir(by_type)):
        theirs, ours = _both_load(os.path.join(by_type, name), "rdb")
        assert not diff(ours, theirs), name
