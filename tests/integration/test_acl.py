"""ACL over TCP: users, passwords, command / key / channel rules, selectors, the ACL command,
ACL files and config `user` lines.  Replies and error texts are byte-compared with Redis 7.0
wherever they do not embed random data (GENPASS, timestamps, client ids)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest

from tests.conftest import Raw, start_emberkv

WRONGPASS = b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
NOPERM_KEY = b"-NOPERM this user has no permissions to access one of the keys used as arguments\r\n"
NOPERM_CHANNEL = b"-NOPERM this user has no permissions to access one of the channels used as arguments\r\n"


def noperm_cmd(name: str) -> bytes:
    return b"-NOPERM this user has no permissions to run the '%s' command\r\n" % name.encode()


def parse(data: bytes):
    """Decode one RESP2/RESP3 reply into Python values (errors become Exception instances)."""
    value, _ = _parse(data, 0)
    return value


def _parse(buf: bytes, pos: int):
    nl = buf.index(b"\r\n", pos)
    t, line, pos = buf[pos:pos + 1], buf[pos + 1:nl], nl + 2
    if t in (b"+", b"("):
        return line, pos
    if t == b"-":
        return Exception(line.decode()), pos
    if t == b":":
        return int(line), pos
    if t == b",":
        return float(line), pos
    if t == b"_":
        return None, pos
    if t in (b"$", b"="):
        n = int(line)
        if n < 0:
            return None, pos
        return buf[pos:pos + n], pos + n + 2
    n = int(line)
    if n < 0:
        return None, pos
    items = []
    for _ in range(n * 2 if t == b"%" else n):
        v, pos = _parse(buf, pos)
        items.append(v)
    if t == b"%":
        return dict(zip(items[::2], items[1::2])), pos
    return items, pos


def reset_acl(conn: Raw) -> None:
    """Back to a lone default user that may do anything (the servers are shared by all tests)."""
    for name in parse(conn.call("ACL", "USERS")):
        if name != b"default":
            conn.call("ACL", "DELUSER", name)
    assert conn.call("ACL", "SETUSER", "default", "reset", "on", "nopass", "~*", "&*", "+@all") == b"+OK\r\n"
    conn.call("CONFIG", "SET", "requirepass", "")
    conn.call("CONFIG", "SET", "acl-pubsub-default", "resetchannels")
    conn.call("ACL", "LOG", "RESET")


@pytest.fixture
def em(ember, r):
    """An admin connection to EmberKV (the default user); ACL state is reset afterwards."""
    admin = Raw(ember.port)
    opened = []

    def connect():
        c = Raw(ember.port)
        opened.append(c)
        return c

    admin.connect = connect
    yield admin
    for c in opened:
        c.close()
    reset_acl(admin)
    admin.close()


@pytest.fixture
def both(ember, real_redis, r, rr):
    """[EmberKV admin, Redis admin] connections; each has ``connect()`` for more connections."""
    admins = []
    opened = []
    for port in (ember.port, real_redis.port):
        admin = Raw(port)

        def connect(port=port):
            c = Raw(port)
            opened.append(c)
            return c

        admin.connect = connect
        admins.append(admin)
        # Same starting state on both: the Redis server is shared by both engines' runs, and
        # a reset default user describes itself with "sanitize-payload" from then on.
        reset_acl(admin)
    yield admins
    for c in opened:
        c.close()
    for admin in admins:
        reset_acl(admin)
        admin.close()


def canon(raw: bytes) -> bytes:
    """Redis lists single-command rules ("+get -set") in its hash-table order, which changes from
    run to run: sort each run of them so that descriptions compare."""
    lines = []
    for line in raw.split(b"\r\n"):
        out, run = [], []
        for tok in line.replace(b"(", b"( ").replace(b")", b" )").split(b" "):
            if tok[:1] in (b"+", b"-") and tok[1:2] not in (b"@", b""):
                run.append(tok)
                continue
            out += sorted(run) + [tok]
            run = []
        lines.append(b" ".join(out + sorted(run)))
    return b"\r\n".join(lines)


def same(both, *cmd) -> bytes:
    """Run on both servers; the replies must be identical (up to the order of single commands)."""
    a = both[0].call(*cmd)
    b = both[1].call(*cmd)
    assert canon(a) == canon(b), (cmd, a, b)
    return a


def same_fresh(both, *cmd) -> bytes:
    """Like same(), on new connections (for AUTH, which would change the admin's login)."""
    a, b = (admin.connect().call(*cmd) for admin in both)
    assert canon(a) == canon(b), (cmd, a, b)
    return a


def same_as_user(both, user, password, script) -> None:
    """Log in as ``user`` on fresh connections and run ``script`` on both servers identically."""
    conns = [admin.connect() for admin in both]
    for conn in conns:
        assert conn.call("AUTH", user, password) == b"+OK\r\n"
    for cmd in script:
        a, b = (conn.call(*cmd) for conn in conns)
        assert a == b, (cmd, a, b)


# --- users, flags, passwords -----------------------------------------------------------------------
def test_default_user_description(both):
    same(both, "ACL", "LIST")
    same(both, "ACL", "USERS")
    same(both, "ACL", "GETUSER", "default")
    same(both, "ACL", "WHOAMI")
    same(both, "ACL", "GETUSER", "nosuchuser")


def test_new_user_and_flags(both):
    same(both, "ACL", "SETUSER", "alice")
    same(both, "ACL", "GETUSER", "alice")
    same(both, "ACL", "SETUSER", "alice", "on", "skip-sanitize-payload")
    same(both, "ACL", "GETUSER", "alice")
    same(both, "ACL", "SETUSER", "alice", "off", "sanitize-payload")
    same(both, "ACL", "SETUSER", "bob", "reset")
    same(both, "ACL", "LIST")
    same(both, "ACL", "USERS")


def test_passwords(both):
    h = hashlib.sha256(b"two").hexdigest()
    same(both, "ACL", "SETUSER", "u", "on", ">one", "#" + h, ">one")
    reply = same(both, "ACL", "GETUSER", "u")
    assert hashlib.sha256(b"one").hexdigest().encode() in reply and h.encode() in reply
    same(both, "ACL", "LIST")
    for pw in ("one", "two", "three"):
        same_fresh(both, "AUTH", "u", pw)
    same(both, "ACL", "SETUSER", "u", "<one")
    same_fresh(both, "AUTH", "u", "one")
    same(both, "ACL", "SETUSER", "u", "<one")           # no longer there
    same(both, "ACL", "SETUSER", "u", "!" + h)
    same(both, "ACL", "SETUSER", "u", "!" + h)
    same(both, "ACL", "SETUSER", "u", "#" + h.upper())  # only lower-case hex
    same(both, "ACL", "SETUSER", "u", "#abc")
    same(both, "ACL", "SETUSER", "u", "!zz")
    same(both, "ACL", "GETUSER", "u")
    same(both, "ACL", "SETUSER", "u", "nopass")
    same(both, "ACL", "GETUSER", "u")
    same_fresh(both, "AUTH", "u", "anything")
    same(both, "ACL", "SETUSER", "u", ">x", "resetpass")
    same(both, "ACL", "GETUSER", "u")
    same_fresh(both, "AUTH", "u", "x")
    same_fresh(both, "AUTH", "u", "")


def test_auth_forms_and_disabled_users(both):
    same(both, "ACL", "SETUSER", "carol", "on", ">pw", "+@all", "~*")
    c = [a.connect() for a in both]
    for conn in c:
        assert conn.call("AUTH", "carol", "pw") == b"+OK\r\n"
        assert conn.call("ACL", "WHOAMI") == b"$5\r\ncarol\r\n"
        assert conn.call("AUTH", "carol", "bad") == WRONGPASS
        assert conn.call("ACL", "WHOAMI") == b"$5\r\ncarol\r\n"   # a failed AUTH keeps the login
    same_fresh(both, "AUTH", "nobody", "pw")
    same(both, "AUTH", "a", "b", "c")
    same(both, "AUTH", "pw")                 # default user has no password
    same(both, "AUTH", "default", "whatever")  # ... so any password is right
    same(both, "ACL", "SETUSER", "carol", "off")
    same(both, "AUTH", "carol", "pw")
    # HELLO AUTH
    same_fresh(both, "HELLO", "2", "AUTH", "carol", "pw")
    same(both, "ACL", "SETUSER", "carol", "on")
    for conn in c:
        assert conn.call("HELLO", "2", "AUTH", "carol", "pw").startswith(b"*14\r\n")


def test_default_user_password_and_noauth(both):
    same(both, "ACL", "SETUSER", "default", ">secret")
    new = [a.connect() for a in both]
    for conn in new:
        assert conn.call("GET", "x") == b"-NOAUTH Authentication required.\r\n"
        assert conn.call("AUTH", "wrong") == WRONGPASS
        assert conn.call("AUTH", "secret") == b"+OK\r\n"
        assert conn.call("PING") == b"+PONG\r\n"
    same(both, "ACL", "SETUSER", "default", "nopass")
    # Disabled default user: new connections must authenticate as someone.
    same(both, "ACL", "SETUSER", "default", "off")
    for conn in [a.connect() for a in both]:
        assert conn.call("PING") == b"-NOAUTH Authentication required.\r\n"
        assert conn.call("AUTH", "default", "x") == WRONGPASS
    same(both, "ACL", "SETUSER", "default", "on")


def test_requirepass_is_the_default_password(both):
    same(both, "CONFIG", "SET", "requirepass", "pw1")
    same(both, "ACL", "GETUSER", "default")
    same(both, "ACL", "LIST")
    for conn in [a.connect() for a in both]:
        assert conn.call("PING") == b"-NOAUTH Authentication required.\r\n"
        assert conn.call("AUTH", "pw1") == b"+OK\r\n"
    for conn in [a.connect() for a in both]:
        assert conn.call("AUTH", "default", "pw1") == b"+OK\r\n"
    same(both, "CONFIG", "SET", "requirepass", "")
    same(both, "ACL", "GETUSER", "default")
    for conn in [a.connect() for a in both]:
        assert conn.call("PING") == b"+PONG\r\n"


def test_removing_the_password_lets_waiting_clients_in(both):
    same(both, "CONFIG", "SET", "requirepass", "pw")
    waiting = [a.connect() for a in both]
    for conn in waiting:
        assert conn.call("PING") == b"-NOAUTH Authentication required.\r\n"
    same(both, "CONFIG", "SET", "requirepass", "")
    a, b = ([conn.call(*cmd) for cmd in [("PING",), ("HELLO", "2"), ("ACL", "WHOAMI")]] for conn in waiting)
    assert a == b and a[0] == b"+PONG\r\n"


def test_usernames_and_syntax_errors(both):
    same(both, "ACL", "SETUSER", "has space")
    same(both, "ACL", "SETUSER", "nul\x00")
    same(both, "ACL", "SETUSER", "u", "bogus")
    same(both, "ACL", "SETUSER", "u", "+nosuchcmd")
    same(both, "ACL", "SETUSER", "u", "+@nosuchcat")
    same(both, "ACL", "SETUSER", "u", "-@")
    same(both, "ACL", "SETUSER", "u", "~a b")
    same(both, "ACL", "SETUSER", "u", "%X~a")
    same(both, "ACL", "SETUSER", "u", "%RR~a")
    same(both, "ACL", "SETUSER", "u", "+get|")
    same(both, "ACL", "SETUSER", "u", "+config|get|x")
    same(both, "ACL", "SETUSER", "u", "+config|nosuch")
    same(both, "ACL", "SETUSER", "u", "-select|0")
    same(both, "ACL", "SETUSER", "u", "on", "(+get", "~x")
    same(both, "ACL", "SETUSER", "u", "(on)")
    same(both, "ACL", "SETUSER", "u", "~*", "~foo")
    same(both, "ACL", "SETUSER", "u", "&*", "&foo")
    same(both, "ACL", "SETUSER", "u", "allkeys", "%R~foo")
    # A failing rule leaves the user untouched (and an unknown user uncreated).
    same(both, "ACL", "USERS")
    same(both, "ACL", "SETUSER", "v", "on", "+get")
    same(both, "ACL", "SETUSER", "v", "off", "~k", "+nosuch")
    same(both, "ACL", "GETUSER", "v")
    same(both, "ACL", "SETUSER", "v", "")     # an empty rule does nothing
    same(both, "ACL", "GETUSER", "v")


# --- command rules ------------------------------------------------------------------------------------
def test_command_rules_descriptions(both):
    cases = [
        ["+@all"], ["allcommands"], ["nocommands"], ["-@all"], ["+@all", "-@all"],
        ["+@read"], ["+@write"], ["+@all", "-@string"], ["+@string", "-get"], ["+@hash", "-hset", "+get"],
        ["-@all", "+get"], ["+@all", "-get"], ["+get", "+set", "-get"], ["+config|get"],
        ["+config", "-config|set"], ["+@all", "-config|set"], ["-@all", "+client|id", "+client|setname"],
        ["+select|0"], ["+select|0", "+select|1", "+select|0"], ["+select|0", "+select"],
        ["+select|0", "-select"], ["+select|0", "+@all"], ["+@string", "+@bitmap", "+@hyperloglog"],
        ["+@transaction", "+@pubsub"], ["+@all", "-@pubsub", "-@transaction"], ["+@stream"],
        ["+xgroup"], ["+@sortedset", "-zadd"], ["+@bitmap", "-@string"],
    ]
    for i, rules in enumerate(cases):
        name = "cmd%d" % i
        same(both, "ACL", "SETUSER", name, *rules)
        same(both, "ACL", "GETUSER", name)
        same(both, "ACL", "DRYRUN", name, "get", "k")
        same(both, "ACL", "DRYRUN", name, "config", "set", "a", "b")
        same(both, "ACL", "DRYRUN", name, "select", "0")
        same(both, "ACL", "DRYRUN", name, "select", "1")
    same(both, "ACL", "LIST")


def test_command_rules_enforced(both):
    same(both, "SET", "k", "1")
    same(both, "ACL", "SETUSER", "u", "on", ">p", "allkeys", "+@read", "-strlen", "+config|get", "+select|0",
         "+client|id")
    same_as_user(both, "u", "p", [
        ("GET", "k"), ("STRLEN", "k"), ("SET", "k", "2"), ("CONFIG", "GET", "maxmemory"),
        ("CONFIG", "SET", "maxmemory", "0"), ("SELECT", "0"), ("SELECT", "1"), ("select", "0"),
        ("CLIENT", "SETNAME", "x"), ("FLUSHALL",), ("PING",), ("AUTH", "u", "p"), ("HELLO", "2", "AUTH", "u", "wrong"),
        ("NOSUCHCOMMAND",), ("GET",),
    ])


def test_dangerous_and_single_commands(both):
    same(both, "ACL", "SETUSER", "u", "on", "nopass", "~*", "+@all", "-@dangerous", "+flushdb", "-get")
    same(both, "ACL", "DRYRUN", "u", "flushall")
    same(both, "ACL", "DRYRUN", "u", "flushdb")
    same(both, "ACL", "DRYRUN", "u", "get", "x")
    same(both, "ACL", "DRYRUN", "u", "set", "x", "y")
    same(both, "ACL", "DRYRUN", "u", "config", "get", "x")
    same(both, "ACL", "DRYRUN", "u", "acl", "setuser", "x")
    same(both, "ACL", "DRYRUN", "u", "acl", "whoami")


# --- keys -------------------------------------------------------------------------------------------
def test_key_patterns(both):
    same(both, "MSET", "rk", "1", "wk", "2", "ak", "3", "other", "4")
    same(both, "ACL", "SETUSER", "u", "on", ">p", "+@all", "%R~r*", "%W~w*", "%RW~a*", "~x*")
    same(both, "ACL", "GETUSER", "u")
    same(both, "ACL", "LIST")
    same_as_user(both, "u", "p", [
        ("GET", "rk"), ("GET", "wk"), ("GET", "ak"), ("GET", "other"),
        ("SET", "rk", "1"), ("SET", "wk", "1"), ("SET", "ak", "1"), ("SET", "wk", "1", "GET"),
        ("SET", "ak", "1", "GET"), ("APPEND", "wk", "x"), ("INCR", "wk"), ("INCR", "ak"),
        ("EXISTS", "rk"), ("EXISTS", "wk"), ("EXISTS", "other"), ("DEL", "rk"), ("DEL", "wk"),
        ("MGET", "rk", "ak"), ("MGET", "rk", "wk"), ("MSET", "wk", "1", "ak", "2"), ("MSET", "wk", "1", "rk", "2"),
        ("RENAME", "ak", "wk2"), ("RENAME", "wk", "ak2"), ("COPY", "rk", "wk3"), ("COPY", "wk", "wk3"),
        ("KEYS", "zz*"), ("DBSIZE",), ("TYPE", "rk"), ("TYPE", "zzz"),
        ("BITOP", "AND", "wdest", "rk", "ak"), ("BITOP", "AND", "rdest", "rk"),
        ("ZUNIONSTORE", "wz", "2", "rk", "ak"), ("ZUNIONSTORE", "wz", "1", "wk"),
        ("SETRANGE", "wk", "0", "x"), ("GETRANGE", "wk", "0", "1"),
        ("BITFIELD", "rk", "GET", "u4", "0"), ("BITFIELD", "rk", "SET", "u4", "0", "1"),
        ("BITFIELD", "wk", "INCRBY", "u4", "0", "1"), ("BITFIELD", "ak", "INCRBY", "u4", "0", "1"),
        ("GET", "xk"), ("SET", "xk", "v"),
    ])


def test_allkeys_and_resetkeys(both):
    same(both, "ACL", "SETUSER", "u", "on", ">p", "+@all", "~a", "~b", "%R~c")
    same(both, "ACL", "SETUSER", "u", "~a")     # no duplicates
    same(both, "ACL", "SETUSER", "u", "%W~c")   # merges into ~c
    same(both, "ACL", "GETUSER", "u")
    same(both, "ACL", "SETUSER", "u", "allkeys")
    same(both, "ACL", "GETUSER", "u")
    same_as_user(both, "u", "p", [("GET", "anything")])
    same(both, "ACL", "SETUSER", "u", "resetkeys")
    same(both, "ACL", "GETUSER", "u")
    same_as_user(both, "u", "p", [("GET", "anything"), ("PING",), ("DBSIZE",)])
    same(both, "ACL", "SETUSER", "u", "resetkeys", "%RW")
    same(both, "ACL", "GETUSER", "u")


# --- channels ----------------------------------------------------------------------------------------
def test_channel_patterns(both):
    same(both, "ACL", "SETUSER", "u", "on", ">p", "+@all", "~*", "&news.*", "&exact", "&lit*")
    same(both, "ACL", "GETUSER", "u")
    same(both, "ACL", "LIST")
    same_as_user(both, "u", "p", [
        ("PUBLISH", "news.1", "m"), ("PUBLISH", "sports", "m"), ("SPUBLISH", "exact", "m"),
        ("SPUBLISH", "other", "m"), ("PUBLISH", "lit", "m"),
    ])
    for conn in [a.connect() for a in both]:
        assert conn.call("AUTH", "u", "p") == b"+OK\r\n"
        assert conn.call("SUBSCRIBE", "news.1", "sports") == NOPERM_CHANNEL
        assert conn.call("PSUBSCRIBE", "news.*", "x*") == NOPERM_CHANNEL
        assert conn.call("PSUBSCRIBE", "news.1") == NOPERM_CHANNEL   # patterns match literally
        assert conn.call("SSUBSCRIBE", "nope") == NOPERM_CHANNEL
        assert conn.call("UNSUBSCRIBE", "anything").startswith(b"*3\r\n")   # never checked
        assert conn.call("PSUBSCRIBE", "lit*").startswith(b"*3\r\n")
    same(both, "ACL", "SETUSER", "u", "allchannels")
    same(both, "ACL", "GETUSER", "u")
    same(both, "ACL", "SETUSER", "u", "resetchannels", "&a")
    same(both, "ACL", "SETUSER", "u", "&a")
    same(both, "ACL", "GETUSER", "u")
    same(both, "ACL", "DRYRUN", "u", "publish", "b", "m")
    same(both, "ACL", "DRYRUN", "u", "publish", "a", "m")
    same(both, "ACL", "DRYRUN", "u", "subscribe", "a", "b")


def test_acl_pubsub_default(both):
    same(both, "CONFIG", "SET", "acl-pubsub-default", "allchannels")
    same(both, "ACL", "SETUSER", "u1")
    same(both, "ACL", "SETUSER", "u2", "(+get)")
    same(both, "ACL", "SETUSER", "u3", "resetchannels", "reset")
    same(both, "ACL", "LIST")
    same(both, "CONFIG", "SET", "acl-pubsub-default", "resetchannels")
    same(both, "ACL", "SETUSER", "u4", "reset")
    same(both, "ACL", "LIST")


def _wait_closed(conn: Raw) -> bool:
    conn.sock.settimeout(3)
    try:
        return conn.sock.recv(1024) == b""
    except OSError:
        return True


def test_losing_channel_access_kills_subscribers(em):
    assert em.call("ACL", "SETUSER", "ps", "on", "nopass", "+@all", "&foo", "&bar*") == b"+OK\r\n"
    sub, psub, keep = em.connect(), em.connect(), em.connect()
    for conn in (sub, psub, keep):
        assert conn.call("AUTH", "ps", "x") == b"+OK\r\n"
    sub.call("SUBSCRIBE", "foo")
    psub.call("PSUBSCRIBE", "bar*")
    # Adding channels keeps everyone.
    assert em.call("ACL", "SETUSER", "ps", "&baz") == b"+OK\r\n"
    assert em.call("CLIENT", "LIST").count(b"user=ps") == 3
    # Losing "foo" drops the SUBSCRIBE client only (the other is not subscribed to it).
    assert em.call("ACL", "SETUSER", "ps", "resetchannels", "&bar*") == b"+OK\r\n"
    assert _wait_closed(sub)
    assert keep.call("PING") == b"+PONG\r\n"
    assert psub.call("PING") == b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"
    assert em.call("ACL", "SETUSER", "ps", "resetchannels", "&bar") == b"+OK\r\n"
    assert _wait_closed(psub)
    assert keep.call("PING") == b"+PONG\r\n"


# --- selectors -----------------------------------------------------------------------------------------
def test_selectors(both):
    same(both, "ACL", "SETUSER", "s", "on", ">p", "+get", "~read*", "(+set ~write*)", "(", "+@hash", "~h*", ")")
    same(both, "ACL", "GETUSER", "s")
    same(both, "ACL", "LIST")
    same_as_user(both, "s", "p", [
        ("GET", "read1"), ("GET", "write1"), ("SET", "write1", "v"), ("SET", "read1", "v"),
        ("HSET", "h1", "f", "v"), ("HSET", "x", "f", "v"), ("HGET", "h1", "f"), ("DEL", "h1"),
        ("MGET", "read1", "write1"),
    ])
    same(both, "ACL", "DRYRUN", "s", "set", "read1", "v")
    same(both, "ACL", "DRYRUN", "s", "get", "zzz")
    same(both, "ACL", "DRYRUN", "s", "mget", "read1", "zz", "yy")
    same(both, "ACL", "SETUSER", "s", "clearselectors")
    same(both, "ACL", "GETUSER", "s")
    same(both, "ACL", "SETUSER", "s", "(%R~x* &chan +publish)", "()")
    same(both, "ACL", "GETUSER", "s")
    same(both, "ACL", "SETUSER", "s", "(+nosuch)")
    same(both, "ACL", "SETUSER", "s", "(on)")
    same(both, "ACL", "SETUSER", "s", "(~a ~*)")


def test_reset(both):
    same(both, "ACL", "SETUSER", "u", "on", ">p", "nopass", "~*", "&*", "+@all", "(+get ~x)", "skip-sanitize-payload")
    same(both, "ACL", "SETUSER", "u", "reset")
    same(both, "ACL", "GETUSER", "u")
    same(both, "ACL", "LIST")


# --- deleting users ----------------------------------------------------------------------------------
def test_deluser(both):
    same(both, "ACL", "SETUSER", "a", "on", "nopass", "+@all")
    same(both, "ACL", "SETUSER", "b")
    same(both, "ACL", "DELUSER", "a", "default")
    same(both, "ACL", "DELUSER", "a", "nosuch", "b", "a")
    same(both, "ACL", "USERS")
    same(both, "CLIENT", "KILL", "USER", "nosuch")


def test_deluser_disconnects_its_clients(em):
    assert em.call("ACL", "SETUSER", "gone", "on", "nopass", "+@all") == b"+OK\r\n"
    victim, self_deleter = em.connect(), em.connect()
    for conn in (victim, self_deleter):
        assert conn.call("AUTH", "gone", "x") == b"+OK\r\n"
    assert self_deleter.call("ACL", "DELUSER", "gone") == b":1\r\n"   # the reply still arrives
    assert _wait_closed(victim)
    assert _wait_closed(self_deleter)
    assert em.call("CLIENT", "LIST").count(b"user=gone") == 0


# --- ACL LOG -----------------------------------------------------------------------------------------
def log_entries(conn, *args):
    """ACL LOG entries as dicts (RESP2 sends each map as a flat array)."""
    return [dict(zip(e[::2], e[1::2])) for e in parse(conn.call("ACL", "LOG", *args))]


def test_acl_log(em):
    assert em.call("ACL", "SETUSER", "u", "on", ">p", "~k*", "&ch", "+get", "+publish", "+multi",
                   "+exec") == b"+OK\r\n"
    conn = em.connect()
    assert conn.call("AUTH", "u", "bad") == WRONGPASS
    assert conn.call("AUTH", "u", "p") == b"+OK\r\n"
    assert conn.call("SET", "k", "v") == noperm_cmd("set")
    assert conn.call("GET", "zz") == NOPERM_KEY
    assert conn.call("GET", "zz") == NOPERM_KEY
    assert conn.call("PUBLISH", "nope", "m") == NOPERM_CHANNEL
    entries = log_entries(em)
    assert [(e[b"reason"], e[b"object"], e[b"count"]) for e in entries] == [
        (b"channel", b"nope", 1), (b"key", b"zz", 2), (b"command", b"set", 1), (b"auth", b"AUTH", 1)]
    e = entries[1]
    assert list(e) == [b"count", b"reason", b"context", b"object", b"username", b"age-seconds",
                       b"client-info", b"entry-id", b"timestamp-created", b"timestamp-last-updated"]
    assert e[b"context"] == b"toplevel" and e[b"username"] == b"u"
    assert b"user=u" in e[b"client-info"] and b"cmd=get" in e[b"client-info"]
    assert 0 <= float(e[b"age-seconds"]) < 5
    assert e[b"timestamp-created"] <= e[b"timestamp-last-updated"]
    assert entries[3][b"username"] == b"u"
    assert len({x[b"entry-id"] for x in entries}) == 4
    # Inside MULTI the context says so.
    assert conn.call("MULTI") == b"+OK\r\n"
    assert conn.call("SET", "k", "v") == noperm_cmd("set")
    assert conn.call("EXEC").startswith(b"-EXECABORT")
    top = log_entries(em, "1")
    assert len(top) == 1 and top[0][b"context"] == b"multi" and top[0][b"object"] == b"set"
    assert log_entries(em, "0") == []
    assert len(log_entries(em, "-5")) == 0
    assert len(log_entries(em, "100")) == 5
    assert em.call("ACL", "LOG", "x") == b"-ERR value is not an integer or out of range\r\n"
    assert em.call("ACL", "LOG", "1", "2") == (b"-ERR unknown subcommand or wrong number of arguments for "
                                              b"'LOG'. Try ACL HELP.\r\n")
    assert em.call("ACL", "LOG", "RESET") == b"+OK\r\n"
    assert log_entries(em) == []


def test_acl_log_max_len(em):
    em.call("CONFIG", "SET", "acllog-max-len", "3")
    try:
        for i in range(6):
            em.call("AUTH", "user%d" % i, "x")
        assert [e[b"username"] for e in log_entries(em)] == [b"user5", b"user4", b"user3"]
    finally:
        em.call("CONFIG", "SET", "acllog-max-len", "128")


def test_acl_changed_between_multi_and_exec(em):
    assert em.call("ACL", "SETUSER", "u", "on", ">p", "~*", "+@all") == b"+OK\r\n"
    conn = em.connect()
    conn.call("AUTH", "u", "p")
    assert conn.call("MULTI") == b"+OK\r\n"
    assert conn.call("SET", "a", "1") == b"+QUEUED\r\n"
    assert conn.call("GET", "a") == b"+QUEUED\r\n"
    assert em.call("ACL", "SETUSER", "u", "-set") == b"+OK\r\n"
    reply = parse(conn.call("EXEC"))
    assert str(reply[0]) == ("NOPERM ACLs rules changed between the moment the transaction was accumulated "
                             "and the EXEC call. This command is no longer allowed for the following reason: "
                             "no permission to execute the command or subcommand")
    assert reply[1] is None
    assert log_entries(em, "1")[0][b"context"] == b"multi"


# --- the other subcommands -----------------------------------------------------------------------
def test_cat(both):
    same(both, "ACL", "CAT")
    same(both, "ACL", "CAT", "nosuch")
    same(both, "ACL", "CAT", "a", "b")
    for cat, members, outsiders in [
        ("string", {b"get", b"set", b"append", b"lcs"}, {b"hget", b"config"}),
        ("slow", {b"config", b"client", b"acl", b"acl|setuser", b"config|get"}, {b"get"}),
        ("admin", {b"acl|setuser", b"acl|log", b"config|set"}, {b"acl|whoami", b"acl|cat", b"acl"}),
        ("connection", {b"auth", b"ping", b"client|id"}, {b"client"}),
    ]:
        for conn in both:
            names = set(parse(conn.call("ACL", "CAT", cat.upper())))
            assert members <= names and not (outsiders & names), (cat, members - names, outsiders & names)


def test_genpass(both):
    for conn in both:
        assert len(parse(conn.call("ACL", "GENPASS"))) == 64
        assert len(parse(conn.call("ACL", "GENPASS", "1"))) == 1
        assert len(parse(conn.call("ACL", "GENPASS", "5"))) == 2
        pw = parse(conn.call("ACL", "GENPASS", "4096"))
        assert len(pw) == 1024 and set(pw) <= set(b"0123456789abcdef")
    same(both, "ACL", "GENPASS", "0")
    same(both, "ACL", "GENPASS", "4097")
    same(both, "ACL", "GENPASS", "x")
    same(both, "ACL", "GENPASS", "1", "2")


def test_dryrun_errors(both):
    same(both, "ACL", "SETUSER", "u", "+get", "~k")
    same(both, "ACL", "DRYRUN", "nosuch", "get", "k")
    same(both, "ACL", "DRYRUN", "u", "nosuchcmd")
    same(both, "ACL", "DRYRUN", "u", "get")
    same(both, "ACL", "DRYRUN", "u", "config")
    same(both, "ACL", "DRYRUN", "u", "config", "nosuch")
    same(both, "ACL", "DRYRUN", "u", "get", "k")
    same(both, "ACL", "DRYRUN", "u", "get", "x")
    same(both, "ACL", "DRYRUN", "u")


def test_help_and_arity(both):
    for conn in both:
        lines = parse(conn.call("ACL", "HELP"))
        assert lines[0] == b"ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
        assert lines[-2:] == [b"HELP", b"    Prints this help."]
    same(both, "ACL", "HELP", "x")
    same(both, "ACL", "NOSUCH")
    same(both, "ACL", "GETUSER")
    same(both, "ACL", "WHOAMI", "x")
    same(both, "ACL")


def test_credentials_are_redacted_in_slowlog_and_monitor(both):
    monitors = [a.connect() for a in both]
    for m in monitors:
        assert m.call("MONITOR") == b"+OK\r\n"
    same(both, "CONFIG", "SET", "slowlog-log-slower-than", "0")
    try:
        same(both, "SLOWLOG", "RESET")
        same(both, "ACL", "SETUSER", "red", "on", ">secret", "+@all")
        same_fresh(both, "AUTH", "red", "secret")
        same_fresh(both, "AUTH", "secret")
        same_fresh(both, "HELLO", "2", "AUTH", "red", "wrong")
        logs = [[entry[3] for entry in parse(a.call("SLOWLOG", "GET", "10"))] for a in both]
        assert logs[0] == logs[1]
        assert [b"acl", b"setuser", b"(redacted)", b"(redacted)", b"(redacted)", b"(redacted)"] in [
            [arg.lower() if i < 2 else arg for i, arg in enumerate(args)] for args in logs[0]]
        assert b"secret" not in repr(logs[0]).encode()
        for m in monitors:
            seen = b""
            while b"HELLO" not in seen:
                seen += m.read_reply()
            assert b"secret" not in seen and seen.count(b"(redacted)") == 5
    finally:
        for a in both:
            a.call("CONFIG", "SET", "slowlog-log-slower-than", "10000")


def test_load_and_save_need_an_acl_file(both):
    same(both, "ACL", "SAVE")
    same(both, "ACL", "LOAD")


def test_whoami_and_client_list_user(em):
    em.call("ACL", "SETUSER", "who", "on", ">p", "+@all", "~*")
    conn = em.connect()
    assert conn.call("AUTH", "who", "p") == b"+OK\r\n"
    assert conn.call("ACL", "WHOAMI") == b"$3\r\nwho\r\n"
    assert b" user=who " in conn.call("CLIENT", "INFO")
    assert conn.call("RESET") == b"+RESET\r\n"
    assert conn.call("ACL", "WHOAMI") == b"$7\r\ndefault\r\n"


# --- ACL files and config directives -----------------------------------------------------------------
def test_acl_file_save_and_load(tmp_path):
    aclfile = tmp_path / "users.acl"
    aclfile.write_text("user alice on #%s ~a* +get\nuser default on nopass ~* &* +@all\n"
                       % hashlib.sha256(b"pw").hexdigest())
    srv = start_emberkv("memory", ["--aclfile", str(aclfile)])
    try:
        admin = Raw(srv.port)
        assert parse(admin.call("ACL", "USERS")) == [b"alice", b"default"]
        alice = Raw(srv.port)
        assert alice.call("AUTH", "alice", "pw") == b"+OK\r\n"
        assert alice.call("GET", "b") == NOPERM_KEY
        assert admin.call("ACL", "SETUSER", "bob", "on", ">x", "(+set ~s*)") == b"+OK\r\n"
        assert admin.call("ACL", "SAVE") == b"+OK\r\n"
        saved = aclfile.read_text()
        assert saved.splitlines() == [
            "user alice on #%s ~a* resetchannels -@all +get" % hashlib.sha256(b"pw").hexdigest(),
            "user bob on #%s resetchannels -@all (~s* resetchannels -@all +set)" % hashlib.sha256(b"x").hexdigest(),
            "user default on nopass ~* &* +@all",
        ]
        # ACL LOAD replaces everyone and disconnects users other than default.
        aclfile.write_text(saved.replace("user bob", "user carol"))
        assert admin.call("ACL", "LOAD") == b"+OK\r\n"
        assert parse(admin.call("ACL", "USERS")) == [b"alice", b"carol", b"default"]
        assert _wait_closed(alice)
        # A broken file changes nothing and explains every problem.
        aclfile.write_text("user dave on +nosuch\nnotuser x\nuser carol on\nuser carol off\nuser eve on bogus\n")
        err = admin.call("ACL", "LOAD")
        assert err == (
            b"-ERR %s:1: Error in applying operation '+nosuch': Unknown command or category name in ACL. "
            b"%s:2 should start with user keyword followed by the username. "
            b"WARNING: Duplicate user 'carol' found on line 4. %s:5: Syntax error. "
            b"WARNING: ACL errors detected, no change to the previously active ACL rules was performed\r\n"
            % ((str(aclfile).encode(),) * 3))
        assert parse(admin.call("ACL", "USERS")) == [b"alice", b"carol", b"default"]
        os.unlink(aclfile)
        assert admin.call("ACL", "LOAD") == (
            b"-ERR Error loading ACLs, opening file '%s': No such file or directory\r\n" % str(aclfile).encode())
        admin.close()
    finally:
        srv.stop()


def test_acl_file_errors_abort_startup(tmp_path):
    aclfile = tmp_path / "bad.acl"
    aclfile.write_text("user x on +nosuch\n")
    out = subprocess.run([sys.executable, "-m", "emberkv", "--port", "0", "--aclfile", str(aclfile)],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 1
    assert "Aborting Redis startup because of ACL errors" in out.stdout + out.stderr


def test_user_directives_in_config_file(tmp_path):
    conf = tmp_path / "ember.conf"
    conf.write_text('user default on >adminpw ~* &* +@all\nuser "reader" on >r ~* +@read -keys\n'
                    "requirepass ignored-because-default-is-redefined\n")
    srv = start_emberkv("memory", ["--include", str(conf)])
    try:
        raw = Raw(srv.port)
        assert raw.call("PING") == b"-NOAUTH Authentication required.\r\n"
        assert raw.call("AUTH", "reader", "r") == b"+OK\r\n"
        assert raw.call("GET", "x") == b"$-1\r\n"
        assert raw.call("KEYS", "*") == noperm_cmd("keys")
        assert raw.call("AUTH", "adminpw") == b"+OK\r\n"
        assert parse(raw.call("ACL", "LIST")) == [
            b"user default on sanitize-payload #%s ~* &* +@all" % hashlib.sha256(b"adminpw").hexdigest().encode(),
            b"user reader on #%s ~* resetchannels -@all +@read -keys" % hashlib.sha256(b"r").hexdigest().encode(),
        ]
        raw.close()
    finally:
        srv.stop()


def test_users_and_aclfile_together_refuse_to_start(tmp_path):
    conf = tmp_path / "both.conf"
    conf.write_text("user x on nopass\naclfile %s\n" % (tmp_path / "x.acl"))
    out = subprocess.run([sys.executable, "-m", "emberkv", str(conf), "--port", "0"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 1
    assert "not both" in out.stdout + out.stderr


def test_requirepass_from_command_line_then_setuser(tmp_path):
    srv = start_emberkv("memory", ["--requirepass", "pw"])
    try:
        raw = Raw(srv.port)
        assert raw.call("AUTH", "pw") == b"+OK\r\n"
        assert raw.call("ACL", "GETUSER", "default").count(hashlib.sha256(b"pw").hexdigest().encode()) == 1
        assert raw.call("ACL", "SETUSER", "default", "nopass") == b"+OK\r\n"
        fresh = Raw(srv.port)
        assert fresh.call("PING") == b"+PONG\r\n"
        assert fresh.call("AUTH", "pw") == (b"-ERR AUTH <password> called without any password configured "
                                            b"for the default user. Are you sure your configuration is "
                                            b"correct?\r\n")
        fresh.close()
        raw.close()
    finally:
        srv.stop()


def test_unrestricted_users_skip_checks(em):
    """Only users with every permission leave the fast path on; one restricted user turns checks on."""
    assert em.call("ACL", "SETUSER", "root2", "on", "nopass", "~*", "&*", "+@all") == b"+OK\r\n"
    conn = em.connect()
    conn.call("AUTH", "root2", "x")
    assert conn.call("FLUSHALL") == b"+OK\r\n"
    assert em.call("ACL", "SETUSER", "root2", "-flushall") == b"+OK\r\n"
    assert conn.call("FLUSHALL") == noperm_cmd("flushall")
    assert em.call("ACL", "SETUSER", "root2", "allcommands") == b"+OK\r\n"
    assert conn.call("FLUSHALL") == b"+OK\r\n"
