"""Sans-IO checks of the persistence layer: value conversion, snapshot write/load in memory,
the AOF manifest and the AOF command parser."""

from __future__ import annotations

import io
import time

import pytest

from emberkv.commands import load_all
from emberkv.persistence.aof import (AOFFormatError, Manifest, ManifestError, parse_commands,
                                     resp_command, value_commands)
from emberkv.persistence.convert import from_neutral, to_neutral
from emberkv.persistence.rdb import RDBError, dump_payload, restore_payload
from emberkv.persistence.snapshot import load_rdb_steps, write_rdb

load_all()

from emberkv.datatypes.hashtype import HashValue  # noqa: E402
from emberkv.datatypes.listtype import ListValue  # noqa: E402
from emberkv.datatypes.settype import SetValue  # noqa: E402
from emberkv.datatypes.stream import Group, Stream, make_id  # noqa: E402
from emberkv.datatypes.zset import ZSet  # noqa: E402
from emberkv.server.server import Server  # noqa: E402


def _stream():
    s = Stream()
    for i in range(1, 8):
        s.append(make_id(100, i), (b"f", b"v%d" % i, b"n", b"%d" % i), 100, 4096)
    s.delete(make_id(100, 3))
    s.max_deleted_id = make_id(100, 3)
    g = Group(make_id(100, 5), 4)
    alice = g.create_consumer(b"alice", 1234)
    g.create_consumer(b"idle", 99)
    g.add_pending(make_id(100, 1), alice, 1000, 2)
    g.add_pending(make_id(100, 4), alice, 2000, 1)
    s.groups[b"grp"] = g
    return s


def _values():
    return {
        b"s": b"hello",
        b"l": ListValue([b"a", b"b", b"1"]),
        b"set": SetValue([b"1", b"2", b"x"]),
        b"h": HashValue({b"f": b"v", b"n": b"1"}),
        b"z": ZSet([(b"a", 1.5), (b"b", float("-inf")), (b"c", 2.0)]),
        b"x": _stream(),
    }


def _same(a, b) -> bool:
    if type(a) is bytes:
        return a == b
    ka, va = to_neutral(a)
    kb, vb = to_neutral(b)
    if ka == "set":
        return ka == kb and sorted(va) == sorted(vb)
    if ka == "hash":
        return dict(va.items()) == dict(vb.items())
    if ka == "list":
        return list(va) == list(vb)
    return (ka, va) == (kb, vb)


@pytest.mark.parametrize("key", [b"s", b"l", b"set", b"h", b"z", b"x"])
def test_dump_payload_round_trip(key):
    server = Server()
    value = _values()[key]
    kind, neutral = to_neutral(value)
    back = from_neutral(*restore_payload(dump_payload(kind, neutral)), server.config)
    assert _same(value, back)


def test_stream_groups_survive():
    server = Server()
    s = from_neutral(*restore_payload(dump_payload(*to_neutral(_stream()))), server.config)
    g = s.groups[b"grp"]
    assert g.last_id == make_id(100, 5) and g.entries_read == 4
    assert g.pel_ids == [make_id(100, 1), make_id(100, 4)]
    nack = g.pel[make_id(100, 1)]
    assert (nack.consumer.name, nack.delivery_time, nack.delivery_count) == (b"alice", 1000, 2)
    assert set(g.consumers) == {b"alice", b"idle"} and g.consumers[b"idle"].seen_time == 99
    assert s.length == 6 and s.max_deleted_id == make_id(100, 3) and s.entries_added == 7


def test_snapshot_write_and_load_in_memory():
    server = Server()
    for k, v in _values().items():
        server.dbs[0].set(k, v)
    server.dbs[3].set(b"other", b"db")
    server.dbs[0].set_expire(b"s", int(time.time() * 1000) + 100000)
    server.dbs[0].set(b"gone", b"x")
    server.dbs[0].set_expire(b"gone", 1)            # long expired: not loaded
    buf = io.BytesIO()
    assert write_rdb(server, buf) == 8
    fresh = Server()
    buf.seek(0)
    steps = load_rdb_steps(fresh, buf)
    with pytest.raises(StopIteration) as done:
        while True:
            next(steps)
    loaded, expired, consumed = done.value.value
    assert (loaded, expired, consumed) == (7, 1, len(buf.getvalue()))
    for k, v in _values().items():
        assert _same(v, fresh.dbs[0].lookup(k)), k
    assert fresh.dbs[0].get_expire(b"s") == server.dbs[0].get_expire(b"s")
    assert fresh.dbs[3].lookup(b"other") == b"db"


def test_truncated_snapshot_raises():
    server = Server()
    server.dbs[0].set(b"a", b"b" * 100)
    buf = io.BytesIO()
    write_rdb(server, buf)
    with pytest.raises(RDBError, match="Unexpected EOF"):
        for _ in load_rdb_steps(Server(), io.BytesIO(buf.getvalue()[:-20])):
            pass


# --- manifest -------------------------------------------------------------------------------------

def test_manifest_round_trip():
    text = (b"file appendonly.aof.3.base.rdb seq 3 type b\n"
            b"file appendonly.aof.2.incr.aof seq 2 type h\n"
            b"file appendonly.aof.4.incr.aof seq 4 type i\n"
            b"file appendonly.aof.5.incr.aof seq 5 type i\n")
    m = Manifest.parse(text)
    assert m.base == ("appendonly.aof.3.base.rdb", 3)
    assert [n for n, _ in m.incrs] == ["appendonly.aof.4.incr.aof", "appendonly.aof.5.incr.aof"]
    assert (m.base_seq, m.incr_seq) == (3, 5)
    assert m.format() == text


def test_manifest_quotes_odd_names_and_skips_comments():
    m = Manifest.parse(b'# comment\n\nfile "a b.aof" seq 1 type b\n')
    assert m.base == ("a b.aof", 1)
    assert Manifest.parse(m.format()).base == ("a b.aof", 1)


@pytest.mark.parametrize("text", [
    b"file x seq 1 type b\nfile y seq 2 type b\n",       # two bases
    b"file x seq 2 type i\nfile y seq 1 type i\n",       # sequence going backwards
    b"file x seq 1\n",                                   # missing type
    b"file x seq one type i\n",
    b"file dir/x seq 1 type i\n",
    b"file x seq 1 type q\n",
])
def test_manifest_errors(text):
    with pytest.raises(ManifestError):
        Manifest.parse(text)


# --- AOF command parser ---------------------------------------------------------------------------

def test_parse_complete_incomplete_and_annotations():
    data = resp_command([b"SET", b"k", b"v\r\nwith crlf"]) + b"#TS:123\r\n" + resp_command([b"DEL", b"k"])
    cmds = list(parse_commands(data, 0))
    assert [a for a, _ in cmds] == [[b"SET", b"k", b"v\r\nwith crlf"], [b"DEL", b"k"]]
    assert cmds[-1][1] == len(data)
    for cut in range(1, len(data)):
        got = list(parse_commands(data[:cut], 0))
        assert all(end <= cut for _, end in got)


@pytest.mark.parametrize("data", [b"garbage\r\n", b"*2\r\n$3\r\nGET\r\n:1\r\n",
                                  b"*1\r\n$3\r\nGETX\r\n", b"*x\r\n", b"*0\r\n"])
def test_parse_format_errors(data):
    with pytest.raises(AOFFormatError):
        list(parse_commands(data, 0))


def test_value_commands_rebuild_every_type():
    out = {k: list(value_commands(k, v)) for k, v in _values().items()}
    assert out[b"s"] == [[b"SET", b"s", b"hello"]]
    assert out[b"l"] == [[b"RPUSH", b"l", b"a", b"b", b"1"]]
    assert out[b"z"][0][:4] == [b"ZADD", b"z", b"-inf", b"b"]
    assert out[b"h"] == [[b"HMSET", b"h", b"f", b"v", b"n", b"1"]]
    stream = out[b"x"]
    assert stream[0] == [b"XADD", b"x", b"100-1", b"f", b"v1", b"n", b"1"]
    assert [b"XSETID", b"x", b"100-7", b"ENTRIESADDED", b"7", b"MAXDELETEDID", b"100-3"] in stream
    assert [b"XGROUP", b"CREATE", b"x", b"grp", b"100-5", b"ENTRIESREAD", b"4"] in stream
    assert [b"XGROUP", b"CREATECONSUMER", b"x", b"grp", b"idle"] in stream
    assert [b"XCLAIM", b"x", b"grp", b"alice", b"0", b"100-1", b"TIME", b"1000", b"RETRYCOUNT", b"2",
            b"JUSTID", b"FORCE"] in stream
    big = ListValue([b"%d" % i for i in range(130)])
    assert [len(c) - 2 for c in value_commands(b"big", big)] == [64, 64, 2]
