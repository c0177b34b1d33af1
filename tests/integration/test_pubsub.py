"""Pub/Sub over TCP: replies byte-compared with a real Redis 7.0 in RESP2 and RESP3."""

from __future__ import annotations

import socket
import time

import pytest

from tests.conftest import Raw


@pytest.fixture
def pair(ember, real_redis, r, rr):
    """(subscriber, publisher) raw connections on EmberKV and on Redis."""
    conns = [(Raw(ember.port), Raw(ember.port)), (Raw(real_redis.port), Raw(real_redis.port))]
    yield conns
    for a, b in conns:
        a.close()
        b.close()


def run_both(pair, script):
    """``script`` is a list of (who, cmd, n_replies): who 0 = subscriber, 1 = publisher."""
    outs = []
    for sub, pub in pair:
        out = []
        for who, cmd, n in script:
            conn = (sub, pub)[who]
            conn.cmd(*cmd)
            for _ in range(n):
                reply = conn.read_reply()
                if cmd[:1] != ("HELLO",):   # HELLO shows the connection id
                    out.append(reply)
        outs.append(out)
    assert outs[0] == outs[1]
    return outs[0]


def test_subscribe_publish_unsubscribe(pair):
    run_both(pair, [
        (0, ("SUBSCRIBE", "chan1", "chan2"), 2),
        (1, ("PUBLISH", "chan1", "hello"), 1), (0, (), 1),
        (1, ("PUBLISH", "chan2", "world"), 1), (0, (), 1),
        (0, ("UNSUBSCRIBE", "chan1"), 1),
        (1, ("PUBLISH", "chan1", "hello"), 1),
        (1, ("PUBLISH", "chan2", "x"), 1), (0, (), 1),
        (0, ("UNSUBSCRIBE",), 1),
        (1, ("PUBLISH", "chan2", "x"), 1),
        (0, ("PING",), 1),
    ])


def test_subscribe_same_channel_twice_and_unknown_unsubscribe(pair):
    run_both(pair, [
        (0, ("SUBSCRIBE", "c", "c", "c"), 3),
        (1, ("PUBLISH", "c", "m"), 1), (0, (), 1),
        (0, ("UNSUBSCRIBE", "x", "y"), 2),
        (0, ("PUNSUBSCRIBE", "a*"), 1),
        (0, ("UNSUBSCRIBE", "c"), 1),
        (0, ("UNSUBSCRIBE",), 1),
        (0, ("PUNSUBSCRIBE",), 1),
        (0, ("SUNSUBSCRIBE",), 1),
    ])


def test_patterns(pair):
    run_both(pair, [
        (0, ("PSUBSCRIBE", "foo.*", "bar.*"), 2),
        (1, ("PUBLISH", "foo.1", "hello"), 1), (0, (), 1),
        (1, ("PUBLISH", "barfoo.1", "hello"), 1),
        (1, ("PUBLISH", "bar.x", "hi"), 1), (0, (), 1),
        (0, ("SUBSCRIBE", "foo.1"), 1),
        (1, ("PUBLISH", "foo.1", "both"), 1), (0, (), 2),
        (1, ("PUBSUB", "NUMPAT"), 1),
        (1, ("PUBSUB", "NUMSUB", "foo.1", "none"), 1),
        (1, ("PUBSUB", "CHANNELS"), 1),
        (1, ("PUBSUB", "CHANNELS", "foo*"), 1),
        (1, ("PUBSUB", "CHANNELS", "x*"), 1),
        (0, ("PUNSUBSCRIBE", "foo.*"), 1),
        (0, ("PUNSUBSCRIBE", "bar.*"), 1),
        (0, ("UNSUBSCRIBE", "foo.1"), 1),
    ])


def test_resp2_subscriber_restrictions(pair):
    run_both(pair, [
        (0, ("SUBSCRIBE", "c"), 1),
        (0, ("GET", "k"), 1),
        (0, ("PING",), 1),
        (0, ("PING", "hi"), 1),
        (0, ("SSUBSCRIBE", "s"), 1),
        (0, ("SUNSUBSCRIBE", "s"), 1),
        (0, ("UNSUBSCRIBE", "c"), 1),
        (0, ("PING",), 1),
        (0, ("GET", "k"), 1),
    ])


def test_resp3_pushes_and_commands_while_subscribed(pair):
    run_both(pair, [
        (0, ("HELLO", "3"), 1),
        (0, ("SUBSCRIBE", "a", "b"), 2),
        (0, ("GET", "k"), 1),
        (0, ("PSUBSCRIBE", "a*"), 1),
        (1, ("PUBLISH", "a", "m"), 1), (0, (), 2),
        (0, ("PING",), 1),
        (0, ("UNSUBSCRIBE", "b"), 1),
        (0, ("UNSUBSCRIBE",), 1),   # (with several left, Redis's order is its hash order)
        (0, ("PUNSUBSCRIBE",), 1),
        (0, ("UNSUBSCRIBE",), 1),
    ])


def test_publisher_receives_its_own_message_before_the_reply(pair):
    run_both(pair, [
        (0, ("HELLO", "3"), 1),
        (0, ("SUBSCRIBE", "me"), 1),
        (0, ("PUBLISH", "me", "x"), 2),
    ])


def test_sharded_pubsub(pair):
    run_both(pair, [
        (0, ("SSUBSCRIBE", "s1", "s2"), 2),
        (0, ("SUBSCRIBE", "c"), 1),
        (1, ("SPUBLISH", "s1", "m"), 1), (0, (), 1),
        (1, ("PUBLISH", "s1", "not-sharded"), 1),
        (0, ("SUNSUBSCRIBE", "s2"), 1),
        (1, ("PUBSUB", "SHARDCHANNELS"), 1),
        (1, ("PUBSUB", "SHARDCHANNELS", "s1"), 1),
        (1, ("PUBSUB", "SHARDNUMSUB", "s1", "s3"), 1),
        (1, ("PUBSUB", "NUMSUB", "s1"), 1),
        (0, ("SUNSUBSCRIBE", "s1"), 1),
        (0, ("SUNSUBSCRIBE",), 1),
        (0, ("UNSUBSCRIBE",), 1),
    ])


def test_pubsub_introspection_errors_and_help(pair):
    run_both(pair, [
        (1, ("PUBSUB",), 1),
        (1, ("PUBSUB", "HELP"), 1),
        (1, ("PUBSUB", "NOPE"), 1),
        (1, ("PUBSUB", "CHANNELS", "a", "b"), 1),
        (1, ("PUBSUB", "NUMPAT", "x"), 1),
        (1, ("PUBSUB", "NUMSUB"), 1),
        (1, ("PUBLISH", "c"), 1),
        (1, ("SUBSCRIBE",), 1),
    ])


def test_subscribe_inside_multi(pair):
    run_both(pair, [
        (0, ("MULTI",), 1),
        (0, ("SUBSCRIBE", "x"), 1),
        (0, ("SSUBSCRIBE", "y"), 1),
        (0, ("EXEC",), 1),
        (0, ("UNSUBSCRIBE",), 1),
    ])


def test_messages_delivered_with_client_reply_off(ember):
    sub, pub = Raw(ember.port), Raw(ember.port)
    try:
        sub.call("HELLO", "3")
        sub.cmd("CLIENT", "REPLY", "OFF")
        assert sub.call("SUBSCRIBE", "channel") == b">3\r\n$9\r\nsubscribe\r\n$7\r\nchannel\r\n:1\r\n"
        assert sub.call("PSUBSCRIBE", "ch*") == b">3\r\n$10\r\npsubscribe\r\n$3\r\nch*\r\n:2\r\n"
        assert pub.call("PUBLISH", "channel", "hello") == b":2\r\n"
        assert sub.read_reply() == b">3\r\n$7\r\nmessage\r\n$7\r\nchannel\r\n$5\r\nhello\r\n"
        assert sub.read_reply().startswith(b">4\r\n$8\r\npmessage")
        assert sub.call("UNSUBSCRIBE", "channel") == b">3\r\n$11\r\nunsubscribe\r\n$7\r\nchannel\r\n:1\r\n"
        sub.cmd("CLIENT", "REPLY", "ON")
        assert sub.read_reply() == b"+OK\r\n"
    finally:
        sub.close()
        pub.close()


def test_numsub_and_numpat_counts(r, ember):
    subs = [Raw(ember.port) for _ in range(3)]
    try:
        subs[0].call("PSUBSCRIBE", "foo*")
        subs[1].call("PSUBSCRIBE", "foo*")
        subs[0].call("PSUBSCRIBE", "bar*")
        subs[1].call("PSUBSCRIBE", "baz*")
        subs[2].call("SUBSCRIBE", "c")
        subs[1].call("SUBSCRIBE", "c")
        assert r.pubsub_numpat() == 3
        assert r.pubsub_numsub("c", "d") == [(b"c", 2), (b"d", 0)]
        assert r.info("stats")["pubsub_patterns"] == 3
        assert r.info("stats")["pubsub_channels"] == 1
        subs[1].close()
        time.sleep(0.1)
        assert r.pubsub_numpat() == 2
        assert r.pubsub_numsub("c") == [(b"c", 1)]
    finally:
        for s in subs:
            s.close()


def test_client_list_counts_subscriptions(r, ember):
    sub = Raw(ember.port)
    try:
        sub.call("CLIENT", "SETNAME", "subber")
        sub.call("SUBSCRIBE", "a", "b")
        sub.call("PSUBSCRIBE", "x*")
        sub.call("SSUBSCRIBE", "s")
        line = [c for c in r.client_list() if c["name"] == "subber"][0]
        assert (line["sub"], line["psub"], line["ssub"]) == ("2", "1", "1")
        assert "P" in line["flags"]
        assert r.client_list(_type="pubsub")[0]["name"] == "subber"
    finally:
        sub.close()


def test_reset_leaves_pubsub_mode(raw):
    raw.call("SUBSCRIBE", "a")
    assert raw.call("RESET") == b"+RESET\r\n"
    assert raw.call("GET", "x") == b"$-1\r\n"


def test_slow_subscriber_is_disconnected_by_hard_limit(r, ember):
    r.config_set("client-output-buffer-limit", "pubsub 100k 0 0")
    sub = socket.create_connection(("127.0.0.1", ember.port))
    sub.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        sub.sendall(b"*2\r\n$9\r\nSUBSCRIBE\r\n$4\r\nslow\r\n")
        time.sleep(0.1)
        before = r.info("stats")["client_output_buffer_limit_disconnections"] \
            if "client_output_buffer_limit_disconnections" in r.info("stats") else None
        payload = b"x" * 10000
        p = r.pipeline(transaction=False)
        for _ in range(2000):
            p.publish("slow", payload)
        p.execute()
        deadline = time.time() + 5
        while time.time() < deadline and r.pubsub_numsub("slow")[0][1]:
            time.sleep(0.05)
        assert r.pubsub_numsub("slow") == [(b"slow", 0)]
        if before is not None:
            assert r.info("stats")["client_output_buffer_limit_disconnections"] > before
    finally:
        sub.close()
        r.config_set("client-output-buffer-limit", "pubsub 32mb 8mb 60")


def test_slow_subscriber_is_disconnected_by_soft_limit(r, ember):
    r.config_set("client-output-buffer-limit", "pubsub 0 50k 1")
    sub = socket.create_connection(("127.0.0.1", ember.port))
    sub.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        sub.sendall(b"*2\r\n$9\r\nSUBSCRIBE\r\n$4\r\nsoft\r\n")
        time.sleep(0.1)
        payload = b"y" * 10000
        # Over the soft limit, but not for long enough: still connected.
        p = r.pipeline(transaction=False)
        for _ in range(1000):
            p.publish("soft", payload)
        p.execute()
        assert r.pubsub_numsub("soft") == [(b"soft", 1)]
        time.sleep(1.3)
        r.publish("soft", payload)
        time.sleep(0.1)
        assert r.pubsub_numsub("soft") == [(b"soft", 0)]
    finally:
        sub.close()
        r.config_set("client-output-buffer-limit", "pubsub 32mb 8mb 60")


def test_client_kill_type_pubsub(r, ember):
    sub = Raw(ember.port)
    try:
        sub.call("SUBSCRIBE", "k")
        assert r.client_kill_filter(_type="pubsub") == 1
    finally:
        sub.close()
