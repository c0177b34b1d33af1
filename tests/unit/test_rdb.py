"""RDB codec: LZF, CRC64, listpacks, DUMP payloads (against a throwaway real
redis-server, skipped when missing) and whole files (against reference dumps
written by real Redis, and files we write loaded back into real Redis)."""

from __future__ import annotations

import io
import os
import random
import shutil
import struct
import subprocess

import pytest
from hypothesis import given, settings, strategies as st

from emberkv.persistence import lzf
from emberkv.persistence.crc64 import _crc_table, crc64
from emberkv.persistence.rdb import (
    AuxField, EncodingLimits, FunctionLibrary, GroupData, KeyRecord, ModuleAux, RDBError, RDBReader,
    RDBWriter, ResizeDB, SelectDB, StreamData, dump_payload, listpack_decode,
    listpack_encode, restore_payload,
)

REDIS_SRC = "/work/redis-src"
STORAGE_TOOLS = os.environ.get("EMBERKV_STORAGE_TOOLS", "/work/shared/tools/storage")


def normalized(type_name, value):
    """Values compared independently of the order Redis keeps them in."""
    if type_name == "set":
        return sorted(value)
    if type_name == "zset":
        return sorted(value, key=lambda pair: (pair[1], pair[0]))
    return value


def read_all(data: bytes, **kw):
    return list(RDBReader(io.BytesIO(data), **kw).items())


def keys_of(items):
    return {(item.db, item.key): item for item in items if isinstance(item, KeyRecord)}


def write_file(records, *, aux=None, functions=(), **kw) -> bytes:
    out = io.BytesIO()
    writer = RDBWriter(out, **kw)
    writer.write_header(aux)
    for code in functions:
        writer.write_function(code)
    by_db: dict[int, list] = {}
    for record in records:
        by_db.setdefault(record.db, []).append(record)
    for db, recs in sorted(by_db.items()):
        writer.select_db(db, len(recs), sum(r.expire_ms is not None for r in recs))
        for r in recs:
            writer.write_key(r.key, r.type_name, r.value, r.expire_ms, r.lru_idle, r.lfu_freq)
    writer.finish()
    return out.getvalue()


# ----------------------------------------------------------------------- CRC64

def test_crc64_check_value():
    assert crc64(b"123456789") == 0xE9C6D914C4B8D9CA
    assert crc64(b"") == 0


@pytest.mark.parametrize("size", [1, 7, 191, 192, 193, 1000, 4096, 65537, 300_001])
def test_crc64_folding_matches_byte_table(size):
    rng = random.Random(size)
    data = rng.randbytes(size)
    start = rng.getrandbits(64)
    assert crc64(data) == _crc_table(0, data)
    assert crc64(data, start) == _crc_table(start, data)
    cut = size // 3
    assert crc64(data[cut:], crc64(data[:cut])) == crc64(data)


# ------------------------------------------------------------------------- LZF

def lzf_samples():
    rng = random.Random(7)
    yield b"a" * 137
    yield b"compressible-" * 200
    yield b"abcabcabcabcabcabcabcabcabcabcabcabc"
    yield bytes(rng.randrange(4) for _ in range(5000))
    yield b"".join(rng.choice([b"hello ", b"world ", b"xyz", b"\x00" * 40]) for _ in range(2000))
    yield (b"0123456789" * 2000) + rng.randbytes(300) + (b"0123456789" * 2000)
    yield b"q" * 100_000


@pytest.mark.parametrize("data", list(lzf_samples()))
def test_lzf_round_trip(data):
    packed = lzf.compress(data)
    assert packed is not None and len(packed) < len(data)
    assert lzf.decompress(packed, len(data)) == data


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000) | st.lists(st.sampled_from([b"ab", b"abc", b"\x00" * 9, b"zz"]),
                                            max_size=400).map(b"".join))
def test_lzf_round_trip_property(data):
    packed = lzf.compress(data)
    if packed is not None:
        assert len(packed) < len(data)
        assert lzf.decompress(packed, len(data)) == data


def test_lzf_decodes_liblzf_output():
    # "aaa...a" (137 bytes) as compressed by liblzf, from Redis's encodings.rdb
    assert lzf.decompress(bytes.fromhex("016161e07c00016161"), 137) == b"a" * 137


def test_lzf_only_returns_output_that_saves_space():
    assert lzf.compress(random.Random(1).randbytes(10_000)) is None
    assert lzf.compress(b"abc") is None
    data = b"xy" * 20
    assert lzf.compress(data, max_size=2) is None


@pytest.mark.parametrize("bad, size", [
    (b"\x05abc", 6),            # literal run past the end
    (b"\x00a\x20", 5),          # back reference missing its offset byte
    (b"\x20\x05", 3),           # back reference before the start
    (b"\x01ab", 3),             # shorter than declared
    (b"\x01ab", 1),             # longer than declared
])
def test_lzf_rejects_corrupt_input(bad, size):
    with pytest.raises(lzf.LZFError):
        lzf.decompress(bad, size)


# -------------------------------------------------------------------- listpack

def test_listpack_known_layout():
    # header (total bytes, count), entry 0x81 'a' with backlen 2, int 5 with backlen 1, end
    assert listpack_encode([b"a", 5]) == bytes.fromhex("0c000000 0200 816102 0501 ff".replace(" ", ""))


def test_listpack_round_trip_every_encoding():
    ints = [0, 127, 128, -1, -4096, 4095, 4096, -4097, 32767, -32768, 32768, 8388607,
            -8388608, 8388608, 2**31 - 1, -2**31, 2**31, 2**63 - 1, -2**63]
    strings = [b"", b"x", b"y" * 63, b"z" * 64, b"w" * 125, b"v" * 126, b"u" * 4095,
               b"t" * 4096, b"s" * 16377, b"r" * 16378, b"q" * 70000]
    not_integers = [b"007", b"-0", b"+1", b"1.0", b" 1", b"9223372036854775808",
                    b"-9223372036854775809", b"12345678901234567890123", b"-"]
    items = ints + [b"%d" % i for i in ints] + strings + not_integers
    decoded = listpack_decode(listpack_encode(items))
    assert decoded == ints + ints + strings + not_integers


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=300) | st.integers(-2**63, 2**63 - 1).map(lambda i: b"%d" % i)))
def test_listpack_round_trip_property(items):
    decoded = listpack_decode(listpack_encode(items))
    assert [b"%d" % x if isinstance(x, int) else x for x in decoded] == items


def test_listpack_count_saturates():
    items = [b"e"] * 70000
    lp = listpack_encode(items)
    assert lp[4:6] == b"\xff\xff"
    assert listpack_decode(lp) == items


def test_listpack_rejects_bad_blobs():
    good = listpack_encode([b"abc", 300])
    for bad in (good[:-1], good[:4] + b"\x05\x00" + good[6:], b"\x07\x00\x00\x00\x00\x00\xfe"):
        with pytest.raises(RDBError):
            listpack_decode(bad)


# --------------------------------------------------------- DUMP / RESTORE payloads

def redis_values():
    """(key, type, value, commands that build the same value in Redis, byte-identical DUMP)"""
    rng = random.Random(3)
    big_hash = {b"field:%04d" % i: b"value:%d" % i for i in range(300)}
    big_zset = [(b"m:%04d" % i, rng.random() * 100) for i in range(200)]
    long_list = [b"item-%05d" % i for i in range(3000)]
    return [
        ("s", "string", b"hello", [("SET", "s", "hello")], True),
        ("empty", "string", b"", [("SET", "empty", "")], True),
        ("int", "string", b"12345", [("SET", "int", "12345")], True),
        ("neg", "string", b"-100000", [("SET", "neg", "-100000")], True),
        ("int64", "string", b"9223372036854775807", [("SET", "int64", "9223372036854775807")], True),
        ("zero-led", "string", b"0123", [("SET", "zero-led", "0123")], True),
        ("lzf", "string", b"compressible-" * 50, [("SET", "lzf", b"compressible-" * 50)], False),
        ("list", "list", [b"a", b"b", b"c", b"1", b"2", b"-3", b"9223372036854775807"],
         [("RPUSH", "list", "a", "b", "c", 1, 2, -3, "9223372036854775807")], True),
        ("longlist", "list", long_list, [("RPUSH", "longlist", *long_list)], False),
        ("hash", "hash", {b"f1": b"v1", b"num": b"12345", b"neg": b"-7", b"e": b""},
         [("HSET", "hash", "f1", "v1", "num", 12345, "neg", -7, "e", "")], True),
        ("bighash", "hash", big_hash,
         [("HSET", "bighash", *[x for pair in big_hash.items() for x in pair])], False),
        ("strset", "set", [b"a", b"b", b"hello"], [("SADD", "strset", "a", "b", "hello")], False),
        ("intset", "set", [b"1", b"2", b"300", b"-5"], [("SADD", "intset", 1, 2, 300, -5)], True),
        ("intset64", "set", [b"1", b"5000000000", b"-9223372036854775808"],
         [("SADD", "intset64", 1, 5000000000, "-9223372036854775808")], False),
        ("zset", "zset", [(b"a", 1.5), (b"b", -2.0), (b"c", 0.0), (b"p", float("inf")),
                          (b"n", float("-inf")), (b"12345", 3.0), (b"t", 0.1)],
         [("ZADD", "zset", 1.5, "a", -2, "b", 0, "c", "inf", "p", "-inf", "n", 3, "12345", 0.1, "t")],
         True),
        ("bigzset", "zset", big_zset,
         [("ZADD", "bigzset", *[x for m, s in big_zset for x in (repr(s), m)])], False),
    ]


@pytest.mark.parametrize("key, type_name, value, commands, identical",
                         redis_values(), ids=[case[0] for case in redis_values()])
def test_dump_payload_against_redis(rr, key, type_name, value, commands, identical):
    for command in commands:
        rr.execute_command(*command)
    theirs = rr.dump(key)
    # Redis's payload decodes to the value
    assert restore_payload(theirs)[0] == type_name
    assert normalized(*restore_payload(theirs)) == normalized(type_name, value)
    ours = dump_payload(type_name, value)
    if identical:
        assert ours == theirs
    # Redis accepts ours and holds the same value afterwards
    rr.restore("copy", 0, ours, replace=True)
    assert rr.execute_command("DEBUG", "DIGEST-VALUE", "copy") == \
        rr.execute_command("DEBUG", "DIGEST-VALUE", key)
    assert normalized(*restore_payload(rr.dump("copy"))) == normalized(type_name, value)


def test_stream_payload_against_redis(rr):
    for i in range(250):
        rr.xadd("st", {"field": "v%d" % i, "n": i}, id="1700000000000-%d" % i)
    rr.xadd("st", {"other": "x"}, id="1700000000001-0")
    rr.xdel("st", "1700000000000-3")
    rr.xgroup_create("st", "g1", id="0")
    rr.xreadgroup("g1", "alice", {"st": ">"}, count=4)
    rr.xreadgroup("g1", "bob", {"st": ">"}, count=2)
    rr.xgroup_create("st", "g2", id="$")
    type_name, stream = restore_payload(rr.dump("st"))
    assert type_name == "stream"
    assert len(stream.entries) == stream.length == 250
    assert stream.entries[0] == ((1700000000000, 0), [b"field", b"v0", b"n", b"0"])
    assert stream.entries[-1] == ((1700000000001, 0), [b"other", b"x"])
    assert stream.last_id == (1700000000001, 0) and stream.max_deleted_id == (1700000000000, 3)
    assert stream.entries_added == 251
    g1, g2 = stream.groups
    assert (g1.name, g2.name, g2.last_id) == (b"g1", b"g2", (1700000000001, 0))
    assert [(c[0], len(c[2])) for c in g1.consumers] == [(b"alice", 4), (b"bob", 2)]
    assert [p[3] for p in g1.pel] == [b"alice"] * 4 + [b"bob"] * 2

    rr.restore("copy", 0, dump_payload("stream", stream))
    assert restore_payload(rr.dump("copy"))[1] == stream
    assert rr.execute_command("XINFO", "STREAM", "copy", "FULL") == \
        rr.execute_command("XINFO", "STREAM", "st", "FULL")


def test_restore_payload_checks_version_and_checksum():
    payload = dump_payload("string", b"hello")
    assert restore_payload(payload) == ("string", b"hello")
    older = payload[:-10] + b"\x09\x00"
    assert restore_payload(older + crc64(older).to_bytes(8, "little")) == ("string", b"hello")
    newer = payload[:-10] + b"\x0b\x00"
    for bad in (payload[:-1] + bytes([payload[-1] ^ 1]),
                newer + crc64(newer).to_bytes(8, "little"), b"\x00\x01", b""):
        with pytest.raises(RDBError, match="^DUMP payload version or checksum are wrong$"):
            restore_payload(bad)
    garbage = b"\x00\x45" + b"\x0a\x00"           # string length beyond the payload
    with pytest.raises(RDBError, match="Bad data format"):
        restore_payload(garbage + crc64(garbage).to_bytes(8, "little"))


def test_module_values_are_refused_by_name():
    module_id = 0
    for ch in "emberMODx":
        module_id = module_id * 64 + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".index(ch)
    module_id <<= 10
    body = bytes([7]) + b"\x81" + module_id.to_bytes(8, "big") + b"\x00" + b"\x0a\x00"
    with pytest.raises(RDBError, match="emberMODx"):
        restore_payload(body + crc64(body).to_bytes(8, "little"))
    rdb = b"REDIS0010" + bytes([7, 1]) + b"k" + body[1:-2] + b"\xff" + bytes(8)
    with pytest.raises(RDBError, match="emberMODx"):
        read_all(rdb)


# ------------------------------------------------------------ writer encodings

def payload_type(type_name, value, **kw):
    return dump_payload(type_name, value, **kw)[0]


def test_writer_picks_redis_encodings():
    assert payload_type("set", [b"1", b"-7"]) == 11
    assert payload_type("set", [b"1", b"x"]) == 2
    assert payload_type("set", [b"%d" % i for i in range(513)]) == 2
    assert payload_type("hash", {b"f": b"v" * 64}) == 16
    assert payload_type("hash", {b"f": b"v" * 65}) == 4
    assert payload_type("hash", {b"%d" % i: b"" for i in range(129)}) == 4
    assert payload_type("zset", [(b"m" * 64, 1.0)]) == 17
    assert payload_type("zset", [(b"m" * 65, 1.0)]) == 5
    assert payload_type("list", [b"a"]) == 18
    assert payload_type("stream", StreamData()) == 19


def test_writer_splits_long_lists_into_nodes():
    items = [b"element-%06d" % i for i in range(20000)]
    payload = dump_payload("list", items, compress=False)
    assert payload[1] == 40             # node count: 16-byte entries, 8 KiB listpacks
    assert restore_payload(payload) == ("list", items)


def test_writer_honours_encoding_limits():
    small = EncodingLimits(hash_max_listpack_entries=1, zset_max_listpack_value=3,
                           set_max_intset_entries=2, list_max_listpack_size=3)
    assert payload_type("hash", {b"a": b"1", b"b": b"2"}, limits=small) == 4
    assert payload_type("zset", [(b"long", 1.0)], limits=small) == 5
    assert payload_type("set", [b"1", b"2", b"3"], limits=small) == 2
    payload = dump_payload("list", [b"%d" % i for i in range(10)], limits=small)
    assert payload[1] == 4              # 3 + 3 + 3 + 1 entries per node
    assert restore_payload(payload)[1] == [b"%d" % i for i in range(10)]


def test_empty_collections_are_refused():
    for type_name, value in (("list", []), ("set", set()), ("hash", {}), ("zset", [])):
        with pytest.raises(RDBError):
            dump_payload(type_name, value)


def test_stream_round_trip_through_own_codec():
    entries = [((1000 + i // 2, i % 2), [b"f", b"%d" % i] if i % 7 else [b"g", b"x", b"h", b"y"])
               for i in range(500)]
    stream = StreamData(
        entries=entries, length=500, last_id=(1249, 1), first_id=(1000, 0),
        max_deleted_id=(0, 0), entries_added=500,
        groups=[GroupData(b"g", (1001, 1), 4,
                          pel=[((1000, 1), 17, 2, b"c1"), ((1001, 0), 18, 1, b"c2")],
                          consumers=[(b"c1", 99, [(1000, 1)]), (b"c2", 98, [(1001, 0)])]),
                GroupData(b"empty", (0, 0), -1)])
    assert restore_payload(dump_payload("stream", stream)) == ("stream", stream)


# ------------------------------------------------------------------ whole files

def test_file_round_trip_all_options():
    records = [
        KeyRecord(0, b"s", "string", b"v"),
        KeyRecord(0, b"123", "string", b"x" * 100, expire_ms=4102444800123),
        KeyRecord(0, b"l", "list", [b"a", b"1"], lru_idle=77),
        KeyRecord(3, b"h", "hash", {b"a": b"b"}, lfu_freq=5),
        KeyRecord(3, b"z", "zset", [(b"m", 2.5)]),
        KeyRecord(3, b"st", "set", [b"x", b"y"]),
    ]
    for compress in (True, False):
        for checksum in (True, False):
            data = write_file(records, aux={b"redis-ver": b"7.0.15", b"aof-base": 0},
                              functions=[b"#!lua name=lib\nreturn 1"],
                              compress=compress, checksum=checksum)
            assert (data[-8:] == bytes(8)) != checksum
            items = read_all(data)
            assert items[:3] == [AuxField(b"redis-ver", b"7.0.15"), AuxField(b"aof-base", b"0"),
                                 FunctionLibrary(b"#!lua name=lib\nreturn 1")]
            assert items[3:5] == [SelectDB(0), ResizeDB(3, 1)]
            assert [i for i in items if isinstance(i, KeyRecord)] == records


def test_reader_errors():
    data = write_file([KeyRecord(0, b"k%d" % i, "string", b"v" * i) for i in range(100)])
    for cut in (5, 20, len(data) // 2, len(data) - 9, len(data) - 1):
        with pytest.raises(RDBError, match="Unexpected EOF"):
            read_all(data[:cut])
    corrupted = data[:-1] + bytes([data[-1] ^ 0xFF])
    with pytest.raises(RDBError, match="checksum"):
        read_all(corrupted)
    assert len(read_all(corrupted, checksum=False)) > 100
    with pytest.raises(RDBError, match="signature"):
        read_all(b"RADIS0010\xff")
    with pytest.raises(RDBError, match="version 11"):
        read_all(b"REDIS0011\xff" + bytes(8))


def test_reader_handles_legacy_opcodes():
    # EXPIRETIME in seconds, IDLE, FREQ, MODULE_AUX (skipped), 7.0-rc FUNCTION,
    # an empty list (skipped like Redis does), an RDB 9 file
    module_aux = (b"\xf7" + b"\x81" + (12345 << 10).to_bytes(8, "big") + b"\x02\x02"
                  + b"\x05\x03abc" + b"\x01\x05" + b"\x04" + bytes(8) + b"\x03" + bytes(4) + b"\x00")
    old_function = b"\xf6\x03lib\x03lua\x01\x04desc\x08return 1"
    body = (b"REDIS0009" + module_aux + old_function + b"\xfe\x02"
            + b"\xfd" + struct.pack("<i", 1700000000) + b"\xf8\x05\xf9\x07\x00\x01k\x01v"
            + b"\x01\x05empty\x00" + b"\xff")
    items = read_all(body + crc64(body).to_bytes(8, "little"))
    assert isinstance(items[0], ModuleAux) and items[0].when == 2
    assert items[1] == FunctionLibrary(b"#!lua name=lib\nreturn 1")
    assert items[2:] == [SelectDB(2), KeyRecord(2, b"k", "string", b"v", 1700000000000, 5, 7)]


def redis_asset(name):
    path = os.path.join(REDIS_SRC, "tests", "assets", name)
    if not os.path.exists(path):
        pytest.skip("Redis test assets are not available")
    with open(path, "rb") as fh:
        return keys_of(RDBReader(fh).items())


def test_reads_old_redis_encodings():
    keys = redis_asset("encodings.rdb")        # RDB 4: ziplists, zipmap-era types, text doubles
    values = {key: (r.type_name, normalized(r.type_name, r.value)) for (_, key), r in keys.items()}
    base = [b"1", b"2", b"3", b"a", b"b", b"c", b"100000", b"6000000000"]
    assert values[b"compressible"] == ("string", b"a" * 137)
    assert values[b"number"] == ("string", b"10")
    assert values[b"list"] == ("list", base * 3)
    assert values[b"list_zipped"] == ("list", base)
    assert values[b"set_zipped_3"] == ("set", sorted(b"%d000000000" % i for i in range(1, 7)))
    assert values[b"set"] == ("set", sorted(base))
    assert values[b"hash_zipped"] == ("hash", {b"a": b"1", b"b": b"2", b"c": b"3"})
    assert values[b"hash"][1][b"eee"] == b"5000000000"
    assert values[b"zset_zipped"] == ("zset", [(b"a", 1.0), (b"b", 2.0), (b"c", 3.0)])
    assert dict(values[b"zset"][1])[b"bbbb"] == 5000000000.0
    assert redis_asset("hash-zipmap.rdb")[(0, b"hash")].value == {b"f1": b"v1", b"f2": b"v2"}
    assert redis_asset("list-quicklist.rdb")[(0, b"list")].value == [b"7"]
    assert redis_asset("zset-ziplist.rdb")[(0, b"zset")].type_name == "zset"
    assert redis_asset("hash-ziplist.rdb")[(0, b"hash")].type_name == "hash"


@pytest.fixture(scope="module")
def reference_dir(tmp_path_factory):
    script = os.path.join(STORAGE_TOOLS, "make_reference_rdb.sh")
    if not (os.path.exists(script) and shutil.which("redis-server") and shutil.which("redis-check-rdb")):
        pytest.skip("redis-server / reference tooling not available")
    out = tmp_path_factory.mktemp("rdb-reference")
    done = subprocess.run(["bash", script, str(out)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return out


def expected_keys(reference_dir):
    rows = {}
    with open(reference_dir / "expected-keys.tsv", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#"):
                continue
            db, key, type_name, _encoding, expire_at, *_ = line.rstrip("\n").split("\t")
            key = key.encode("latin-1").decode("unicode_escape").encode("latin-1")
            rows[(int(db), key)] = (type_name, None if expire_at == "-1" else int(expire_at))
    return rows


def expected_digest(reference_dir):
    with open(reference_dir / "expected-summary.txt") as fh:
        return next(line.split("\t")[1].strip() for line in fh if line.startswith("digest\t"))


@pytest.mark.parametrize("name", ["dump.rdb", "dump-nocompress.rdb", "dump-lfu.rdb"])
def test_reads_reference_dump(reference_dir, name):
    with open(reference_dir / name, "rb") as fh:
        items = list(RDBReader(fh).items())
    keys = keys_of(items)
    assert {k: (r.type_name, r.expire_ms) for k, r in keys.items()} == expected_keys(reference_dir)
    assert any(isinstance(i, FunctionLibrary) and b"name=reflib" in i.code for i in items)
    assert AuxField(b"redis-ver", b"7.0.15") in items
    assert all((r.lfu_freq is not None) == (name == "dump-lfu.rdb") for r in keys.values())
    assert keys[(0, b"str:lzf")].value == b"compressible-" * 200
    assert keys[(0, b"int:64min")].value == b"-9223372036854775808"
    assert keys[(0, b"list:small")].value == [b"a", b"b", b"c", b"1", b"2", b"-3", b"9223372036854775807"]
    assert keys[(0, b"list:multinode")].value == [b"item-%05d" % i for i in range(5000)]
    assert len(keys[(0, b"list:plainnode")].value[1]) == 5000
    assert keys[(0, b"hash:small")].value == {b"f1": b"v1", b"f2": b"v2", b"num": b"12345",
                                              b"neg": b"-7", b"empty": b""}
    assert sorted(keys[(0, b"set:intset64")].value) == sorted([b"1", b"5000000000", b"-9223372036854775808"])
    assert keys[(0, b"zset:small")].value[0] == (b"ninf", float("-inf"))
    main = keys[(0, b"stream:main")].value
    assert len(main.entries) == main.length == 349 and main.entries_added == 351
    assert [g.name for g in main.groups] == [b"g1", b"g2"]


@pytest.mark.parametrize("compress, checksum", [(True, True), (False, False)])
def test_written_file_loads_into_redis(reference_dir, tmp_path, compress, checksum):
    with open(reference_dir / "dump.rdb", "rb") as fh:
        items = list(RDBReader(fh).items())
    aux = {i.key: i.value for i in items if isinstance(i, AuxField)}
    functions = [i.code for i in items if isinstance(i, FunctionLibrary)]
    records = [i for i in items if isinstance(i, KeyRecord)]
    path = tmp_path / "ours.rdb"
    path.write_bytes(write_file(records, aux=aux, functions=functions,
                                compress=compress, checksum=checksum))

    check = subprocess.run(["redis-check-rdb", str(path)], capture_output=True, text=True)
    assert check.returncode == 0 and "RDB looks OK" in check.stdout, check.stdout[-2000:]
    keys_out = tmp_path / "keys.tsv"
    loaded = subprocess.run(
        ["bash", os.path.join(STORAGE_TOOLS, "rdb_roundtrip.sh"),
         "--expect-digest", expected_digest(reference_dir), "--keys-out", str(keys_out), str(path)],
        capture_output=True, text=True, timeout=300)
    assert loaded.returncode == 0, loaded.stdout[-3000:] + loaded.stderr[-2000:]
    assert keys_out.read_text() == (reference_dir / "expected-keys.tsv").read_text()

    with open(path, "rb") as fh:
        again = [i for i in RDBReader(fh).items() if isinstance(i, KeyRecord)]
    assert again == records


# --- hash field expiry (Redis 7.4's RDB_TYPE_HASH_METADATA / RDB_TYPE_HASH_LISTPACK_EX) ------

def test_hash_with_field_ttls_round_trips_as_hash_metadata():
    from emberkv.persistence.rdb import FieldTTLHash
    h = FieldTTLHash({b"a": b"1", b"b": b"2", b"c": b"3"}, {b"a": 1_800_000_000_000,
                                                            b"c": 1_800_000_000_500})
    payload = dump_payload("hash", h)
    assert payload[0] == 24
    # earliest expiry, count, then [ttl][field][value] with ttl relative to it (+1; 0 = none)
    assert payload[1:9] == struct.pack("<Q", 1_800_000_000_000)
    kind, back = restore_payload(payload)
    assert kind == "hash" and dict(back) == dict(h) and back.ttl == h.ttl


def test_hash_without_field_ttls_keeps_redis_7_0_encodings():
    from emberkv.persistence.rdb import FieldTTLHash
    assert dump_payload("hash", {b"a": b"1"})[0] == 16
    assert dump_payload("hash", FieldTTLHash({b"a": b"1"}))[0] == 16
    assert dump_payload("hash", {b"f%d" % i: b"v" for i in range(200)})[0] == 4


def test_hash_listpack_ex_is_read():
    # (field, value, ttl) triplets, ttl 0 meaning none, after the earliest expiry.
    lp = listpack_encode([b"a", b"1", 1_800_000_000_000, b"b", b"2", 0])
    body = bytes([25]) + struct.pack("<Q", 1_800_000_000_000) + bytes([len(lp)]) + lp
    payload = body + struct.pack("<H", 10)
    from emberkv.persistence.crc64 import crc64 as _crc
    payload += struct.pack("<Q", _crc(payload))
    kind, back = restore_payload(payload)
    assert kind == "hash" and dict(back) == {b"a": b"1", b"b": b"2"}
    assert back.ttl == {b"a": 1_800_000_000_000}
