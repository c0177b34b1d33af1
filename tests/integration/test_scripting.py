"""EVAL / EVALSHA / EVAL_RO / SCRIPT over TCP, byte-compared with a real Redis 7.0 where possible."""

from __future__ import annotations

import sys
import time

import pytest

from tests.conftest import Raw

# Nested replies (a self-referencing Lua table) are thousands of levels deep.
sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))


@pytest.fixture
def both(raw, raw_redis):
    for conn in (raw, raw_redis):
        conn.call("SCRIPT", "FLUSH")
        conn.call("FUNCTION", "FLUSH")
        conn.call("CONFIG", "SET", "busy-reply-threshold", "5000")

    def run(*cmd):
        a = raw.call(*cmd)
        b = raw_redis.call(*cmd)
        assert a == b, (cmd, a, b)
        return a
    return run


# Scripts whose replies (and error texts) must be byte-identical to Redis's.
SCRIPTS = [
    "return 'hello'", "return 100.5", "return -3.9", "return 1e100", "return 0/0", "return true",
    "return false", "return nil", "return {1,2,3,'ciao',{1,2}}", "return {1,2,nil,3}",
    "return {ok='fine'}", "return {ok='a\\r\\nb'}", "return {err='My Error'}", "return {err='-X y'}",
    "return {err=''}", "return {err=1}", "return {double=3.5}", "return {big_number='123'}",
    "return {map={a=1}}", "return {set={a=true}}", "return {verbatim_string={format='txt', string='hi'}}",
    "return _G", "return {1.5, 2.7, -3.9, 'a', true, false}",
    "local a = {}; setmetatable(a, {__index=function() foo() end}) return a",
    "return {KEYS[1], KEYS[2], ARGV[1], ARGV[2]}", "return #KEYS .. #ARGV",
    "return a", "a = 10", "redis.call('nosuchcommand')", "redis.call('get','a','b','c')",
    "return redis.call()", "return redis.call({})", "return redis.call('ping', {})", "return redis.call('set', 'k', true)",
    "return redis.pcall('nosuch')", "redis.call('set','invalid')", "redis.call('incr')",
    "setmetatable(_G, {})", "local g = getmetatable(_G); g.__index = {}", "redis = function() return 1 end",
    "_G = {}", "redis.call = function() return 1 end", "cjson.encode = 1", "cmsgpack.pack = 1", "bit.lshift = 1",
    "loadfile('x')", "dofile('x')", "print('x')", "return getfenv", "return type(newproxy)",
    "return loadstring(string.dump(function() return 1 end))()",
    "local f, e = loadstring('x='); return e", "local f = loadstring('return a'); return f()",
    "error('boom')", "error({err='MY boom'})", "error(nil)", "error(123)", "assert(false, 'custom')",
    "local ok, e = pcall(function() error({err='XX boom'}) end); return {tostring(ok), e}",
    "local ok, e = pcall(redis.call, 'nosuch'); return {tostring(ok), e}",
    "local ok, e = xpcall(function() redis.call('nosuch') end, function(e) return e.err end); return e",
    "local co = coroutine.create(function() redis.call('nosuch') end); local ok, e = coroutine.resume(co); "
    "return e.err",
    "return redis.sha1hex('')", "return redis.sha1hex('Pizza & Mandolino')", "return redis.sha1hex()",
    "return redis.status_reply('MY_OK custom')", "return redis.error_reply('MY_ERR custom msg')",
    "return redis.error_reply('')", "return redis.error_reply(1)", "return redis.status_reply(1)",
    "return redis.setresp(4)", "return redis.log(9, 'x')", "return redis.log('x')",
    "return redis.set_repl(12345)", "return redis.replicate_commands()", "return redis.breakpoint()",
    "return redis.REDIS_VERSION .. ' ' .. redis.REDIS_VERSION_NUM", "return _VERSION",
    "return redis.call('eval', 'return 1', 0)", "return redis.call('multi')",
    "return redis.pcall('blpop', 'x', 0)", "return redis.call('select', 99)",
    "return redis.call('echo', 1e300)", "return redis.call('echo', 0.1)", "return redis.call('echo', 100)",
    "return redis.call('echo', 123456789012345678)", "return redis.call('echo', 2^63)",
    "local value = 9007199254740991; redis.call('set', 'foo', value); return redis.call('get', 'foo')",
    "return math.random(10, 1)", "return math.random(1, 2, 3)",
    "math.randomseed(42); return {math.random(), math.random(10), math.random(5, 7)}",
    "return tostring(math.pi)", "return string.format('%5.2f|%d|%q', 3.14159, 42, 'a\\nb')",
    "local t = {} for k in pairs(redis) do t[#t + 1] = k end table.sort(t) return t",
    "return rawget(string, 'rep')('x', 2)", "table.insert(redis, 1)", "getmetatable('').__index = 1",
    "return tostring(getmetatable('').__index == string)",
    "local x = {} x[1] = x return x",
]


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_replies_match_redis(both, script):
    both("EVAL", script, "2", "a{t}", "b{t}", "c{t}", "d{t}")


RESP3_SCRIPTS = [
    "return redis.call('hgetall', 'h')", "redis.setresp(3); return redis.call('hgetall', 'h')",
    "redis.setresp(3); return redis.call('smembers', 's')", "redis.setresp(3); return redis.call('zscore', 'z', 'm')",
    "return redis.call('zscore', 'z', 'm')", "redis.setresp(3); return true", "redis.setresp(3); return false",
    "return true", "return false", "return nil", "return {double=1.5}", "return {big_number='12345678901234567890'}",
    "return {map={a={set={b=true}}}}", "redis.setresp(3); return redis.call('get', 'nokey')",
    "redis.setresp(3); return redis.call('zrange', 'z', 0, -1, 'withscores')",
    "redis.setresp(3); local d = redis.call('zscore', 'z', 'm'); return {type(d), d.double}",
    "redis.setresp(3); local t = redis.call('smembers', 's'); return {type(t.set), tostring(t.set.x)}",
]


@pytest.mark.parametrize("script", RESP3_SCRIPTS)
def test_resp3_conversions_match_redis(both, raw, raw_redis, script):
    for conn in (raw, raw_redis):
        conn.call("HELLO", "3")
    both("HSET", "h", "a", "1")
    both("SADD", "s", "x")
    both("ZADD", "z", "1.5", "m")
    both("EVAL", script, "0")


LIB_SCRIPTS = [
    "return cjson.encode({1,2,3,{a=1}})", "return cjson.encode({})", "return cjson.encode({[1]=1,[30]=3})",
    "return cjson.encode('a/b\"c\\n\\1')", "return cjson.encode(1/3)", "return cjson.encode({a=cjson.null})",
    "return cjson.decode('[1,2,null,\"x\\\\u00e9\\\\ud83d\\\\ude00\"]')[4]",
    "return tostring(cjson.decode('null') == cjson.null)", "return cjson.decode('[1, 2')",
    "return cjson.decode('{\"a\" 1}')", "return cjson.decode('[0x10, -Infinity]')[1]",
    "return table.concat(cjson.decode('[0.0, -5e3, -1, 0.3e-3, 1023.2, 0e10]'), ' ')",
    "local t = {} t.x = t return cjson.encode(t)", "return cjson.encode({[true]=1})", "return cjson.encode(0/0)",
    "return cjson.encode_max_depth(0)", "return cjson.decode(string.rep('[', 1001))",
    "return cmsgpack.pack(1, -1, 127, 128, 65536, -33, -32769, 4294967296, 'abc', true, {1,2}, {a=1})",
    "return {cmsgpack.unpack(cmsgpack.pack(1, 'x', {1,2,3}, 1.5))}", "return cmsgpack.unpack('\\193')",
    "return {cmsgpack.unpack_limit(cmsgpack.pack(1,2,3), 2, 0)}", "return cmsgpack.pack(0.5, 1e300, -0.25, 0.1)",
    "return cmsgpack.pack(-1099511627776)",
    "local a = {x=nil,y=5} local b = {x=a} a['x'] = b return cmsgpack.pack(a)",
    "return {bit.band(0xff, 0x0f), bit.bor(1, 2, 4), bit.bxor(5, 3), bit.bnot(0), bit.lshift(1, 31), "
    "bit.rshift(-1, 28), bit.arshift(-256, 4), bit.rol(1, 33), bit.ror(1, 1), bit.bswap(0x12345678), "
    "bit.tohex(255), bit.tohex(-1, -4), bit.tobit(2^32+5)}", "return bit.band('x')",
    "return struct.pack('>I2i4', 258, -2)", "return {struct.unpack('>I2i4', struct.pack('>I2i4', 258, -2))}",
    "return {struct.unpack('bc0', '\\2ab')}", "return struct.size('!4bi')", "return struct.pack('z', 1)",
    "return {struct.unpack('s', 'abc\\0x')}", "return struct.unpack('>i4', 'ab')",
]


@pytest.mark.parametrize("script", LIB_SCRIPTS)
def test_libraries_match_redis(both, script):
    both("EVAL", script, "0")


def test_evalsha_and_script_cache(both):
    sha = both("SCRIPT", "LOAD", "return redis.call('get',KEYS[1])")
    assert sha == b"$40\r\nfd758d1589d044dd850a6f05d52f2eefd27f033f\r\n"
    both("SET", "mykey", "myval")
    both("EVALSHA", "fd758d1589d044dd850a6f05d52f2eefd27f033f", "1", "mykey")
    both("EVALSHA", "FD758D1589D044DD850A6F05D52F2EEFD27F033F", "1", "mykey")
    both("EVALSHA", "NotValidShaSUM", "0")
    both("EVALSHA", "ffd632c7d33e571e9f24556ebed26c3479a87130", "0")
    both("SCRIPT", "EXISTS", "fd758d1589d044dd850a6f05d52f2eefd27f033f", "FD758D1589D044DD850A6F05D52F2EEFD27F033F",
         "ffd632c7d33e571e9f24556ebed26c3479a87130")
    both("SCRIPT", "FLUSH", "ASYNC")
    both("EVALSHA", "fd758d1589d044dd850a6f05d52f2eefd27f033f", "1", "mykey")
    both("SCRIPT", "FLUSH", "bad")
    both("SCRIPT", "LOAD", "bad script")
    both("SCRIPT", "KILL")
    both("SCRIPT", "HELP")
    both("SCRIPT", "nope")
    both("EVAL", "return 1", "x")
    both("EVAL", "return 1", "3", "a")
    both("EVAL", "return 1", "-12")


def test_shebang_flags(both):
    both("EVAL", "#!not-lua\nreturn 1", "0")
    both("EVAL", "#!lua\nreturn 1", "0")
    both("EVAL", "#!lua badger=data\nreturn 1", "0")
    both("EVAL", "#!lua flags=allow-oom,what?\nreturn 1", "0")
    both("EVAL", "#!lua flags=\nreturn 1", "0")
    both("EVAL", "#!lua flags=no-writes\nredis.call('set','x',1)\nreturn 1", "1", "x")
    both("EVAL", "#!lua\nerror('x')", "0")
    both("EVAL", "#!lua", "0")
    both("EVAL_RO", "return redis.call('set', 'a', 'b')", "0")
    both("EVAL_RO", "return redis.call('publish', 'a', 'b')", "0")
    both("EVAL_RO", "#!lua\nreturn 1", "0")


def test_oom_rules(both):
    both("SET", "x", "123")
    both("CONFIG", "SET", "maxmemory", "1")
    try:
        both("EVAL", "redis.call('set','x',1) return 1", "1", "x")
        both("EVAL", "return redis.call('get','x')", "1", "x")
        both("EVAL", "#!lua flags=\nreturn 1", "0")
        both("EVAL", "#!lua flags=allow-oom\nredis.call('set','x',1) return 1", "1", "x")
        both("EVAL", "#!lua flags=no-writes\nreturn redis.call('get','x')", "0")
        both("EVAL", "local t = redis.pcall('set','x','y') return t['err']", "1", "x")
    finally:
        both("CONFIG", "SET", "maxmemory", "0")


def test_min_replicas_rules(both):
    both("SET", "x", "some value")
    both("CONFIG", "SET", "min-replicas-to-write", "1")
    try:
        both("EVAL", "#!lua flags=no-writes\nreturn redis.call('get','x')", "1", "x")
        both("EVAL", "return redis.call('get','x')", "1", "x")
        both("EVAL", "#!lua\nreturn redis.call('get','x')", "1", "x")
        both("EVAL", "return redis.call('set','x', 1)", "1", "x")
    finally:
        both("CONFIG", "SET", "min-replicas-to-write", "0")


def test_select_inside_script_does_not_leak(both):
    both("SELECT", "10")
    both("SET", "mykey", "db10")
    both("EVAL", "redis.call('select', '9'); redis.call('set', 'mykey', 'db9'); return redis.call('get', 'mykey')",
         "0")
    both("GET", "mykey")
    both("SELECT", "9")
    both("GET", "mykey")


def test_error_stats_match_redis(both, raw, raw_redis):
    scripts = ["return redis.call('select', 99)", "return redis.pcall('select', 99)",
               "local t = redis.pcall('select', 99) return 1", "return {err='MY_CODE x'}",
               "return redis.error_reply('')", "error('plain')"]
    for script in scripts:
        both("CONFIG", "RESETSTAT")
        both("EVAL", script, "0")
        stats = []
        for conn in (raw, raw_redis):
            info = conn.call("INFO", "errorstats") + conn.call("INFO", "stats")
            lines = [l for l in info.split(b"\r\n") if l.startswith((b"errorstat_", b"total_error_replies"))]
            stats.append(sorted(lines))
        assert stats[0] == stats[1], (script, stats)


def test_eval_inside_multi(both):
    both("MULTI")
    both("EVAL", "return redis.call('incr', KEYS[1])", "1", "counter")
    both("EVAL", "return redis.call('nosuch')", "0")
    both("EXEC")
    both("GET", "counter")


def test_non_deterministic_commands_and_writes(both):
    both("EVAL", "redis.pcall('randomkey'); return redis.pcall('set','x','ciao')", "0")
    both("EVAL", "redis.call('set','time', redis.call('time')[1]) return 1", "0")


def test_script_push_wakes_blocked_client(r, ember):
    waiter = Raw(ember.port)
    waiter.cmd("BRPOP", "a", "0")
    time.sleep(0.1)
    r.eval("redis.call('lpush', KEYS[1], '1'); redis.call('lpush', KEYS[1], '2')", 1, "a")
    assert waiter.read_reply() == b"*2\r\n$1\r\na\r\n$1\r\n1\r\n"
    assert r.lrange("a", 0, -1) == [b"2"]
    waiter.close()


def test_script_write_invalidates_watch(r, ember):
    other = Raw(ember.port)
    other.call("SET", "w", "1")
    other.call("WATCH", "w")
    r.eval("redis.call('set', 'w', '2')", 0)
    other.call("MULTI")
    other.call("GET", "w")
    assert other.call("EXEC") == b"*-1\r\n"
    other.close()


def test_time_is_frozen_during_script(r):
    # The key expires 1 ms after the SET, but the script's clock does not move.
    script = ("redis.call('set', 'k', 'v', 'px', 1) local t = redis.call('time') "
              "local x = 0 for i = 1, 3000000 do x = x + i end return redis.call('exists', 'k')")
    assert r.eval(script, 0) == 1
    time.sleep(0.01)
    assert r.exists("k") == 0


def test_keyspace_events_from_script(r, ember):
    r.config_set("notify-keyspace-events", "KEA")
    sub = Raw(ember.port)
    sub.call("SUBSCRIBE", "__keyevent@0__:set")
    r.eval("redis.call('set', 'ev', '1')", 0)
    assert sub.read_reply() == b"*3\r\n$7\r\nmessage\r\n$18\r\n__keyevent@0__:set\r\n$2\r\nev\r\n"
    sub.close()
    r.config_set("notify-keyspace-events", "")


def test_monitor_sees_script_commands(r, ember):
    mon = Raw(ember.port)
    assert mon.call("MONITOR") == b"+OK\r\n"
    r.eval("redis.call('set', 'mk', 'mv')", 0)
    first = mon.read_reply()
    second = mon.read_reply()
    assert b'"eval"' in first.lower()
    assert b'[0 lua] "set" "mk" "mv"' in second
    mon.close()


def test_commandstats_count_inner_commands(r):
    r.config_resetstat()
    r.eval("redis.call('set', 'a', '1'); redis.call('get', 'a'); redis.pcall('select', 99)", 0)
    stats = r.info("commandstats")
    assert stats["cmdstat_set"]["calls"] == 1
    assert stats["cmdstat_get"]["calls"] == 1
    assert stats["cmdstat_select"]["failed_calls"] == 1
    assert stats["cmdstat_eval"]["calls"] == 1


def test_busy_script_kill_and_unkillable(ember):
    a, b = Raw(ember.port), Raw(ember.port)
    try:
        b.call("CONFIG", "SET", "busy-reply-threshold", "50")
        a.cmd("EVAL", "local f = function() while 1 do redis.call('ping') end end while 1 do pcall(f) end", "0")
        a.cmd("PING")
        time.sleep(0.3)
        busy = b"-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSCRIPT.\r\n"
        assert b.call("PING") == busy
        assert b.call("FUNCTION", "KILL") == busy
        assert b.call("FUNCTION", "STATS") == busy
        assert b.call("MULTI") == b"+OK\r\n"
        assert b.call("GET", "x") == busy
        assert b.call("DISCARD") == b"+OK\r\n"
        late = Raw(ember.port)     # accepted while the event loop is blocked by the script
        assert late.call("PING") == busy
        assert late.call("SCRIPT", "KILL") == b"+OK\r\n"
        assert a.read_reply().startswith(b"-ERR Script killed by user with SCRIPT KILL...")
        assert a.read_reply() == b"+PONG\r\n"     # the pipelined command waited for the script
        assert b.call("PING") == b"+PONG\r\n"
        time.sleep(0.1)
        assert late.call("PING") == b"+PONG\r\n"    # and keeps working once the loop runs again
        late.close()

        # A script that wrote cannot be killed: this one ends by itself.
        a.cmd("EVAL", "redis.call('set', KEYS[1], 'y') local t0 = tonumber(redis.call('time')[1]) "
                      "while tonumber(redis.call('time')[1]) < t0 + 2 do end return 1", "1", "x")
        time.sleep(0.3)
        assert b.call("SCRIPT", "KILL").startswith(b"-UNKILLABLE Sorry the script already executed write")
        assert b.call("PING") == busy
        assert a.read_reply() == b":1\r\n"
        assert b.call("PING") == b"+PONG\r\n"
    finally:
        b.call("CONFIG", "SET", "busy-reply-threshold", "5000")
        a.close()
        b.close()


def test_function_kill_and_stats_while_busy(ember):
    a, b = Raw(ember.port), Raw(ember.port)
    try:
        b.call("CONFIG", "SET", "busy-reply-threshold", "50")
        b.call("FUNCTION", "LOAD", "REPLACE",
               "#!lua name=spin\nredis.register_function('spin', function() local a = 1 while true do a = a + 1 end end)")
        a.cmd("FCALL", "spin", "0")
        time.sleep(0.3)
        busy = (b"-BUSY Redis is busy running a script. You can only call FUNCTION KILL or "
                b"SHUTDOWN NOSCRIPT.\r\n")
        assert b.call("PING") == busy
        assert b.call("SCRIPT", "KILL") == busy
        stats = b.call("FUNCTION", "STATS")
        assert b"$4\r\nspin\r\n$7\r\ncommand\r\n*3\r\n$5\r\nFCALL\r\n$4\r\nspin\r\n$1\r\n0\r\n" in stats
        assert b.call("FUNCTION", "KILL") == b"+OK\r\n"
        assert b"killed by user" in a.read_reply()
        assert b.call("PING") == b"+PONG\r\n"
        assert b.call("FUNCTION", "KILL") == b"-NOTBUSY No scripts in execution right now.\r\n"
    finally:
        b.call("CONFIG", "SET", "busy-reply-threshold", "5000")
        b.call("FUNCTION", "FLUSH")
        a.close()
        b.close()


def test_busy_script_blocked_client_not_served_early(ember):
    """A command allowed while busy must not serve clients blocked on keys the script already pushed to."""
    a, b, waiter = Raw(ember.port), Raw(ember.port), Raw(ember.port)
    try:
        b.call("CONFIG", "SET", "busy-reply-threshold", "50")
        waiter.cmd("BLPOP", "q", "0")
        time.sleep(0.1)
        a.cmd("EVAL", "redis.call('lpush', 'q', 'y') local t = redis.call('time') "
                      "local x = 0 for i = 1, 30000000 do x = x + 1 end redis.call('lpush', 'q', 'z') return 1", "0")
        time.sleep(0.2)
        assert b.call("HELLO", "2", "SETNAME", "x").startswith(b"*")
        assert a.read_reply() == b":1\r\n"
        assert waiter.read_reply() == b"*2\r\n$1\r\nq\r\n$1\r\nz\r\n"
    finally:
        b.call("CONFIG", "SET", "busy-reply-threshold", "5000")
        for conn in (a, b, waiter):
            conn.close()


def test_timedout_script_link_still_usable(r):
    r.config_set("busy-reply-threshold", 10)
    try:
        assert r.eval("for i=1,100000 do redis.call('ping') end return 'ok'", 0) == b"ok"
        assert r.ping()
    finally:
        r.config_set("busy-reply-threshold", 5000)


def test_many_arguments_from_lua(r):
    script = ("local a = {} for i=1,7990 do a[i] = i end "
              "return redis.call('lpush', 'big', unpack(a))")
    assert r.eval(script, 0) == 7990


def test_used_memory_lua_is_small(r):
    r.script_flush()
    for _ in range(200):
        r.eval("return redis.call('incr', KEYS[1])", 1, "x")
    lua = r.info("memory").get("used_memory_lua", 0)
    assert 0 < lua < 1024 * 1024
