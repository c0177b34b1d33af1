"""Sans-IO tests: request parsing and reply rendering."""

import pytest

from emberkv.protocol.reply import (NULL_ARRAY, OK, Bool, Error, MapReply, Push, SetReply, Status,
                                    Verbatim, render)
from emberkv.protocol.request import ProtocolError, RequestParser, split_args


def parse_all(data: bytes):
    p = RequestParser()
    p.feed(data)
    out = []
    while True:
        cmd = p.next()
        if cmd is None:
            return out
        out.append(cmd)


def test_multibulk_and_pipeline():
    assert parse_all(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPING\r\n") == [[b"GET", b"k"], [b"PING"]]


def test_partial_feeds():
    p = RequestParser()
    data = b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n"
    got = []
    for i in range(len(data)):
        p.feed(data[i:i + 1])
        cmd = p.next()
        if cmd is not None:
            got.append(cmd)
    assert got == [[b"SET", b"key", b"value"]]


def test_inline_commands_and_quotes():
    assert parse_all(b"PING\r\nSET a \"b c\\n\"\n") == [[b"PING"], [b"SET", b"a", b"b c\n"]]
    assert split_args(b"set 'a\\'b' \"\\x41\"") == [b"set", b"a'b", b"A"]
    assert split_args(b'"unbalanced') is None


def test_empty_and_negative_multibulk():
    assert parse_all(b"*0\r\n*-10\r\n\r\n") == [[], [], []]


@pytest.mark.parametrize("data,msg", [
    (b"*3000000000\r\n", "invalid multibulk length"),
    (b"*1\r\n$-10\r\n", "invalid bulk length"),
    (b"*1\r\n$blabla\r\n", "invalid bulk length"),
    (b"*1\r\nfoo\r\n", "expected '$', got 'f'"),
    (b'set "a\r\n', "unbalanced quotes"),
])
def test_protocol_errors(data, msg):
    with pytest.raises(ProtocolError, match=msg.replace("$", r"\$")):
        parse_all(data)


def test_bulk_limit():
    p = RequestParser(max_bulk_len=10)
    p.feed(b"*1\r\n$11\r\n")
    with pytest.raises(ProtocolError, match="invalid bulk length"):
        p.next()


def test_resp2_rendering():
    assert render(OK) == b"+OK\r\n"
    assert render(b"x") == b"$1\r\nx\r\n"
    assert render(None) == b"$-1\r\n"
    assert render(NULL_ARRAY) == b"*-1\r\n"
    assert render([1, b"a", None]) == b"*3\r\n:1\r\n$1\r\na\r\n$-1\r\n"
    assert render({b"a": 1}) == b"*2\r\n$1\r\na\r\n:1\r\n"
    assert render(1.5) == b"$3\r\n1.5\r\n"
    assert render(0.1) == b"$19\r\n0.10000000000000001\r\n"
    assert render(float("inf")) == b"$3\r\ninf\r\n"
    assert render(Error(b"ERR x")) == b"-ERR x\r\n"
    assert render(Verbatim(b"hi")) == b"$2\r\nhi\r\n"
    assert render(Bool(True)) == b":1\r\n"


def test_resp3_rendering():
    assert render(None, 3) == b"_\r\n"
    assert render(NULL_ARRAY, 3) == b"_\r\n"
    assert render({b"a": 1}, 3) == b"%1\r\n$1\r\na\r\n:1\r\n"
    assert render(1.5, 3) == b",1.5\r\n"
    assert render(SetReply([b"a"]), 3) == b"~1\r\n$1\r\na\r\n"
    assert render(Push([b"message"]), 3) == b">1\r\n$7\r\nmessage\r\n"
    assert render(Verbatim(b"hi"), 3) == b"=6\r\ntxt:hi\r\n"
    assert render(MapReply([b"k", [1]]), 3) == b"%1\r\n$1\r\nk\r\n*1\r\n:1\r\n"
    assert render(Status(b"QUEUED"), 3) == b"+QUEUED\r\n"
    assert render(Bool(False), 3) == b"#f\r\n"
