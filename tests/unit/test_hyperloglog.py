"""HyperLogLog: byte-for-byte against a throwaway real redis-server (skipped
when the binary is missing), plus a few offline checks."""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import time

import pytest

from emberkv.datatypes import hyperloglog as hll

redis = pytest.importorskip("redis")

M = 0xC6A4A7935BD1E995
M_INVERSE = pow(M, -1, 1 << 64)
MASK = (1 << 64) - 1


def element_for(index: int, count: int, rng: random.Random) -> bytes:
    """An 8-byte element landing in register `index` with run length `count`,
    found by running MurmurHash64A backwards (every step is invertible)."""
    rest = 0 if count == 51 else ((rng.getrandbits(50) << count) | (1 << (count - 1))) & ((1 << 50) - 1)
    h = index | rest << 14
    h ^= h >> 47
    h = (h * M_INVERSE) & MASK
    h ^= h >> 47
    h = (h * M_INVERSE) & MASK
    k = h ^ (0xADC83B19 ^ ((8 * M) & MASK))
    k = (k * M_INVERSE) & MASK
    k ^= k >> 47
    k = (k * M_INVERSE) & MASK
    element = k.to_bytes(8, "little")
    assert hll._pattern(element) == (index, count)
    return element


def random_elements(rng: random.Random, n: int) -> list[bytes]:
    return [rng.randbytes(rng.randint(0, 20)) for _ in range(n)]


# ---------------------------------------------------------------- offline


def test_new_hll_layout():
    value = hll.new_hll()
    assert value == b"HYLL\x01" + bytes(11) + b"\x7f\xff"
    assert hll.pfcount([value]) == (0, [None])
    assert hll.decode_sparse(value) == "Z:16384"
    created, changed = hll.pfadd(None, [])
    assert changed and created == value[:15] + b"\x80" + value[16:]


def test_register_packing_round_trip():
    rng = random.Random(1)
    raw = bytes(rng.getrandbits(6) for _ in range(hll.REGISTERS))
    packed = hll._raw_to_dense(raw)
    assert len(packed) == hll.DENSE_PAYLOAD
    assert hll._dense_to_raw(packed) == raw
    value = bytearray(hll.HEADER_SIZE + hll.DENSE_PAYLOAD)
    for index in range(hll.REGISTERS):
        hll._dense_set(value, index, raw[index])
    assert bytes(value[hll.HEADER_SIZE:]) == packed
    assert hll._raw_max(raw, raw[::-1]) == bytes(map(max, raw, raw[::-1]))


def test_selftest_passes():
    hll.selftest(2000)


def test_header_validation():
    good = hll.pfadd(None, [b"a"])[0]
    for bad in (b"", b"HYLL", b"HYLX" + good[4:], good[:4] + b"\x02" + good[5:],
                good[:4] + b"\x00" + good[5:], b"HYLL\x00" + bytes(hll.DENSE_SIZE)):
        with pytest.raises(hll.InvalidHLL) as info:
            hll.pfcount([bad])
        assert info.value.kind == "wrongtype"
        assert str(info.value) == "WRONGTYPE Key is not a valid HyperLogLog string value."
    with pytest.raises(hll.InvalidHLL) as info:
        hll.pfcount([good + b"hello"])
    assert info.value.kind == "corrupt"
    assert str(info.value) == "INVALIDOBJ Corrupted HLL object detected"


def test_dense_count_is_fast():
    rng = random.Random(2)
    value = hll.to_dense(hll.pfadd(None, random_elements(rng, 5000))[0])
    value = value[:15] + b"\x80" + value[16:]
    best = min(_timed(hll.pfcount, [value]) for _ in range(5))
    assert best < 0.005


def _timed(fn, *args):
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


# ---------------------------------------------------------------- against Redis


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server not installed")
    port = _free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--daemonize", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    try:
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield client
    finally:
        client.close()
        process.kill()
        process.wait()


@pytest.fixture
def r(server):
    server.flushall()
    server.config_set("hll-sparse-max-bytes", 3000)
    return server


def outcome(fn, *args):
    """('ok', result) or ('err', 'wrongtype'|'corrupt') for ours and Redis's."""
    try:
        return "ok", fn(*args)
    except hll.InvalidHLL as exc:
        return "err", exc.kind
    except redis.ResponseError as exc:
        message = str(exc)
        if "WRONGTYPE Key is not a valid HyperLogLog" in message:
            return "err", "wrongtype"
        if "INVALIDOBJ Corrupted HLL object detected" in message:
            return "err", "corrupt"
        raise


class Mirror:
    """Runs each command on Redis and on our functions, checking replies and
    stored bytes agree."""

    def __init__(self, client, max_bytes: int = 3000):
        self.r = client
        self.max_bytes = max_bytes
        self.values: dict[str, bytes | None] = {}

    def set(self, key: str, value: bytes) -> None:
        self.r.set(key, value)
        self.values[key] = value

    def pfadd(self, key: str, elements: list[bytes]):
        theirs = outcome(self.r.pfadd, key, *elements)
        before = self.values.get(key)
        try:
            self.values[key], changed = hll.pfadd(before, elements, self.max_bytes)
            ours = ("ok", int(changed))
        except hll.InvalidHLL as exc:
            # Redis keeps whatever the sparse updates did before the error.
            if exc.value is not None:
                self.values[key] = exc.value
            ours = ("err", exc.kind)
        assert ours == theirs
        assert self.r.get(key) == self.values[key]
        return theirs

    def pfcount(self, *keys: str):
        theirs = outcome(self.r.pfcount, *keys)
        ours = outcome(hll.pfcount, [self.values.get(k) for k in keys])
        if ours[0] == "ok":
            card, updated = ours[1]
            for key, value in zip(keys, updated):
                if value is not None:
                    self.values[key] = value
            ours = ("ok", card)
        assert ours == theirs
        for key in keys:
            assert self.r.get(key) == self.values.get(key)
        return theirs

    def pfmerge(self, destination: str, *sources: str):
        theirs = outcome(self.r.pfmerge, destination, *sources)
        values = [self.values.get(k) for k in (destination, *sources)]
        ours = outcome(hll.pfmerge, values, self.max_bytes)
        if ours[0] == "ok":
            self.values[destination] = ours[1]
            ours = ("ok", True)
        assert ours == theirs
        assert self.r.get(destination) == self.values.get(destination)
        return theirs


def test_create_and_refresh_cache(r):
    m = Mirror(r)
    assert m.pfadd("k", []) == ("ok", 1)
    assert m.pfadd("k", []) == ("ok", 0)
    assert m.pfcount("k") == ("ok", 0)
    assert m.values["k"] == hll.new_hll()
    assert m.pfcount("missing") == ("ok", 0)
    # tests/unit/hyperloglog.tcl: "PFADD / PFCOUNT cache invalidation works"
    m.pfadd("h", [b"a", b"b", b"c"])
    m.pfcount("h")
    assert m.values["h"][15] == 0
    assert m.pfadd("h", [b"a", b"b", b"c"]) == ("ok", 0)
    assert m.values["h"][15] == 0
    m.pfadd("h", [b"1", b"2", b"3"])
    assert m.values["h"][15] == 0x80
    m.pfadd("e", [b""])
    assert m.pfcount("e") == ("ok", 1)


def test_cached_cardinality_is_trusted(r):
    m = Mirror(r)
    m.pfadd("k", [b"x", b"y"])
    m.pfcount("k")
    value = m.values["k"]
    m.set("k", value[:8] + (123456789).to_bytes(8, "little") + value[16:])
    assert m.pfcount("k") == ("ok", 123456789)


@pytest.mark.parametrize("seed", range(6))
def test_random_sparse_sequences(r, seed):
    rng = random.Random(seed)
    m = Mirror(r)
    for step in range(40):
        m.pfadd("k", random_elements(rng, rng.randint(0, 12)))
        if step % 3 == 0:
            m.pfcount("k")
    assert m.values["k"][4] == 1


@pytest.mark.parametrize("seed", range(8))
def test_crafted_neighbouring_registers(r, seed):
    """Dense clusters of registers with small values exercise every split
    case (VAL/ZERO/XZERO, at run start/middle/end) and VAL merging."""
    rng = random.Random(100 + seed)
    windows = [range(0, 90), range(8100, 8300), range(16290, 16384)]
    m = Mirror(r)
    for _ in range(60):
        window = rng.choice(windows)
        batch = [element_for(rng.choice(window), rng.randint(1, 4), rng)
                 for _ in range(rng.randint(1, 6))]
        m.pfadd("k", batch)
    m.pfcount("k")
    assert m.values["k"][4] == 1


def test_high_values_promote_to_dense(r):
    rng = random.Random(3)
    m = Mirror(r)
    m.pfadd("k", [element_for(5, 32, rng), element_for(6, 2, rng)])
    assert m.values["k"][4] == 1
    m.pfcount("k")
    m.pfadd("k", [element_for(7, 33, rng), element_for(16383, 40, rng)])
    assert m.values["k"][4] == 0
    for count in (51, 50, 34):
        m.pfadd("k", [element_for(rng.randrange(16384), count, rng)])
        m.pfcount("k")
    assert hll.registers(m.values["k"])[7] == 33


@pytest.mark.parametrize("max_bytes", [0, 20, 64, 300, 3000, 30000])
def test_size_promotion(r, max_bytes):
    r.config_set("hll-sparse-max-bytes", max_bytes)
    rng = random.Random(max_bytes)
    m = Mirror(r, max_bytes)
    encodings = set()
    for batch in (1, 1, 3, 10, 30, 100, 300, 1000, 3000):
        m.pfadd("k", random_elements(rng, batch))
        m.pfcount("k")
        encodings.add(m.values["k"][4])
    # Even one element outgrows 20 bytes; 30000 bytes outlasts 4445 elements.
    assert encodings == ({0} if max_bytes <= 20 else {0, 1} if max_bytes <= 3000 else {1})


def test_counts_across_cardinalities(r):
    rng = random.Random(4)
    m = Mirror(r)
    batch = 1
    total = 0
    while total < 300000:
        m.pfadd("k", [rng.randbytes(8) for _ in range(batch)])
        total += batch
        m.pfcount("k")
        batch = min(batch * 2, 40000)
    m.pfadd("k", [element_for(i, 51, rng) for i in range(0, 16384, 97)])
    m.pfcount("k")


def test_random_dense_registers(r):
    """Arbitrary 6-bit registers, including 52..63 no element can produce."""
    rng = random.Random(5)
    m = Mirror(r)
    for top in (1, 8, 20, 52, 64):
        raw = bytes(rng.randrange(top) for _ in range(hll.REGISTERS))
        m.set("k", b"HYLL" + bytes(11) + b"\x80" + hll._raw_to_dense(raw))
        m.pfcount("k")
        m.set("s", hll.new_hll())
        m.pfcount("k", "s")


def test_pfcount_multiple_keys(r):
    rng = random.Random(6)
    m = Mirror(r)
    m.pfadd("a", random_elements(rng, 50))
    m.pfadd("b", random_elements(rng, 4000))
    m.pfadd("c", random_elements(rng, 500) + [element_for(9, 45, rng)])
    assert m.values["a"][4] == 1 and m.values["b"][4] == 0
    for keys in (("a", "b"), ("a", "missing"), ("a", "c", "b"), ("missing", "other"), ("a", "a")):
        m.pfcount(*keys)
    # tests/unit/hyperloglog.tcl "PFCOUNT multiple-keys merge returns cardinality of union #1"
    for x in range(1, 300):
        for prefix in "abc":
            m.pfadd(f"u{prefix}", [f"{prefix}-{x}".encode()])
        m.pfcount("ua", "ub", "uc")


def test_pfmerge(r):
    rng = random.Random(7)
    m = Mirror(r)
    m.pfadd("s1", [b"a", b"b", b"c"])
    m.pfadd("s2", [b"b", b"c", b"d"])
    m.pfadd("s3", [b"c", b"d", b"e"])
    m.pfmerge("new", "s1", "s2", "s3")
    assert m.values["new"][4] == 1
    assert m.pfcount("new") == ("ok", 5)
    # An existing sparse destination keeps its header, cached count included.
    m.pfcount("s1")
    m.pfmerge("s1", "s2", "missing")
    m.pfmerge("solo")
    m.pfmerge("solo2", "missing")
    m.pfadd("d", random_elements(rng, 5000))
    assert m.values["d"][4] == 0
    m.pfcount("s2")
    m.pfmerge("s2", "d")
    m.pfmerge("s3", "s1", "d", "new")
    m.pfmerge("d", "s1")
    m.pfmerge("fresh", "d")
    for key in ("new", "s1", "s2", "s3", "d", "fresh"):
        m.pfcount(key)


@pytest.mark.parametrize("max_bytes", [40, 200, 3000])
def test_pfmerge_sparse_union_promotes(r, max_bytes):
    r.config_set("hll-sparse-max-bytes", max_bytes)
    rng = random.Random(max_bytes)
    m = Mirror(r, max_bytes)
    for i in range(6):
        m.pfadd(f"p{i}", random_elements(rng, 15 * (i + 1)))
        m.pfmerge("acc", "acc", f"p{i}")
        m.pfmerge(f"copy{i}", *(f"p{j}" for j in range(i + 1)))
        m.pfcount("acc")


def test_pfmerge_crafted_sparse_patterns(r):
    rng = random.Random(8)
    m = Mirror(r)
    for i in range(4):
        m.pfadd(f"c{i}", [element_for(rng.randrange(200), rng.randint(1, 5), rng)
                                    for _ in range(40)])
    m.pfadd("dest", [element_for(rng.randrange(200), rng.randint(1, 5), rng)
                               for _ in range(40)])
    m.pfmerge("dest", "c0", "c1", "c2", "c3")
    m.pfmerge("other", "c3", "c2")


# ---------------------------------------------------------------- corruption


def test_redis_corruption_cases(r):
    """The cases from tests/unit/hyperloglog.tcl."""
    m = Mirror(r)
    m.pfadd("hll", [b"a", b"b", b"c"])
    value = m.values["hll"]
    m.set("hll", value + b"hello")
    assert m.pfcount("hll") == ("err", "corrupt")
    m.set("hll", b"0123" + value[4:])
    assert m.pfcount("hll") == ("err", "wrongtype")
    m.set("hll", value[:4] + b"x" + value[5:])
    assert m.pfcount("hll") == ("err", "wrongtype")
    m.set("hll", value[:4] + b"\x00" + value[5:])
    assert m.pfcount("hll") == ("err", "wrongtype")
    m.set("str", b"bar")
    assert m.pfmerge("x", "str") == ("err", "wrongtype")
    assert m.pfadd("str", [b"1"]) == ("err", "wrongtype")


def test_sparse_payload_edge_cases(r):
    rng = random.Random(9)
    m = Mirror(r)
    base = b"HYLL\x01" + bytes(10) + b"\x80"
    payloads = [
        b"",
        b"\x7f\xff\x80",                        # trailing VAL after a full register set
        b"\x7f\xff\x00",                        # trailing ZERO
        b"\x7f\xfe",                            # one register short
        b"\x7f\xfe\x80",                        # ... completed by a VAL
        b"\x3f\x3f\x3f\x3e\x7f",                # trailing XZERO reads the terminator
        b"\x7f\xfd\x40\x00",                    # XZERO of one register
        b"\x7f\xfd\x41",                        # XZERO at the end reaching past 16384
        b"\x7f\xfb\x83\x80",
        b"\xfc" * 4096,                         # every register 32, 4 per VAL
    ]
    for payload in payloads:
        value = base + payload
        m.set("k", value)
        m.pfcount("k")
        m.set("k", value)
        m.pfcount("k", "missing")
        m.set("k", value)
        m.pfmerge("dest", "k")
        m.pfmerge("k", "k")
        for index in (0, 1, 2, 16000, 16382, 16383):
            m.set("k", value)
            m.pfadd("k", [element_for(index, rng.randint(1, 3), rng),
                                    element_for(rng.randrange(16384), 2, rng)])


@pytest.mark.parametrize("seed", range(4))
def test_fuzzed_values(r, seed):
    """tests/unit/hyperloglog.tcl "Fuzzing dense/sparse encoding", but with
    every reply and stored byte compared, for all three commands."""
    rng = random.Random(200 + seed)
    m = Mirror(r)
    for _ in range(60):
        r.delete("hll")
        m.values.pop("hll", None)
        m.pfadd("hll", random_elements(rng, rng.choice((3, 30, 300, 3000))))
        value = bytearray(m.values["hll"])
        for _ in range(5):
            value[rng.randrange(len(value))] = rng.randrange(256)
            if rng.random() < 0.5:
                break
        value = bytes(value)
        for command in ("count", "count2", "merge", "add"):
            m.set("hll", value)
            if command == "count":
                m.pfcount("hll")
            elif command == "count2":
                m.pfcount("hll", "missing")
            elif command == "merge":
                m.pfmerge("dest", "hll")
            else:
                m.pfadd("hll", random_elements(rng, 20))
