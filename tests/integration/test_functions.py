"""FUNCTION / FCALL / FCALL_RO over TCP, byte-compared with a real Redis 7.0 where possible."""

from __future__ import annotations

import pytest


@pytest.fixture
def both(raw, raw_redis):
    for conn in (raw, raw_redis):
        conn.call("FUNCTION", "FLUSH")

    def run(*cmd):
        a = raw.call(*cmd)
        b = raw_redis.call(*cmd)
        assert a == b, (cmd, a, b)
        return a
    return run


def code(body: str, name: str = "lib", engine: str = "lua") -> str:
    return "#!%s name=%s\n%s" % (engine, name, body)


def reg(fname: str, body: str) -> str:
    return "redis.register_function('%s', function(KEYS, ARGV)\n %s \nend)" % (fname, body)


LOAD_ERRORS = [
    "x", "#!", "#!\n", "#!lua name=lib11", "#!lua name=lib x=y\n" + reg("f", "return 1"),
    "#!lua name=\"lib\n" + reg("f", "return 1"), code(reg("f", "return 1"), name="bad-name"),
    code(reg("f", "return 1"), engine="bad_engine"), "#! name=test\n" + reg("f", "return 1"),
    "#!lua name=a name=b\n" + reg("f", "return 1"), "#!lua\n" + reg("f", "return 1"),
    code("bad script"), code("return 1"), code("local a = 1 while 1 do a = a + 1 end"), code("a = 1"),
    code("return math.random()"), code("return redis.call('ping')"), code("return redis.setresp(3)"),
    code("return redis.set_repl(redis.REPL_NONE)"), code("mt = getmetatable(_G)"),
    code("error('boom')"), code("redis.register_function()"), code("redis.register_function('f1')"),
    code("redis.register_function('f1', function() return 1 end, {}, 'description', 'extra arg')"),
    code("redis.register_function(nil, function() return 1 end)"),
    code("redis.register_function('test\\0test', function() return 1 end)"),
    code("redis.register_function('', function() return 1 end)"),
    code("redis.register_function('f2', 'not a function')"),
    code(reg("f", "return 1") + "\n" + reg("f", "return 2")),
    code("redis.register_function{function_name=function() return 1 end, callback=function() return 1 end}"),
    code("redis.register_function{function_name='f1', callback='bad'}"),
    code("redis.register_function{function_name='f1', callback=function() return 1 end, description=function() end}"),
    code("redis.register_function{function_name='f1', callback=function() return 1 end, some_unknown='x'}"),
    code("redis.register_function{callback=function() return 1 end}"),
    code("redis.register_function{function_name='f1'}"),
    code("redis.register_function{function_name='f1', callback=function() return 1 end, flags='bad'}"),
    code("redis.register_function{function_name='f1', callback=function() return 1 end, flags={function() end}}"),
    code("redis.register_function{function_name='f1', callback=function() return 1 end, flags={'unknown'}}"),
    code("redis.math.random()"), code("redis.redis.call('ping')"),
]


@pytest.mark.parametrize("body", LOAD_ERRORS)
def test_load_errors_match_redis(both, body):
    both("FUNCTION", "LOAD", body)
    both("FUNCTION", "LIST")


def test_basic_usage(both):
    both("FUNCTION", "LOAD", code(reg("test", "return 'hello'"), name="test"))
    both("FCALL", "test", "0")
    both("FCALL", "TEST", "0")
    both("FUNCTION", "LOAD", code(reg("test", "return 'hello1'"), name="test"))
    both("FUNCTION", "LOAD", "REPLACE", code(reg("test", "return 'hello1'"), name="test"))
    both("FCALL", "test", "0")
    both("FUNCTION", "LOAD", "foo", "bar", code(reg("test", "return 1")))
    both("FCALL", "test", "bad_arg")
    both("FCALL", "test", "10", "key1")
    both("FCALL", "test", "-1", "key1")
    both("FCALL", "nosuch", "0")
    both("FUNCTION", "DELETE", "test")
    both("FUNCTION", "DELETE", "test")
    both("FCALL", "test", "0")
    both("FUNCTION", "KILL")
    both("FUNCTION", "FLUSH", "bad_arg")
    both("FUNCTION", "FLUSH", "sync", "extra_arg")
    both("FUNCTION", "RESTORE", "arg1", "args2", "arg3")
    both("FUNCTION", "RESTORE", "bad_payload")
    both("FUNCTION", "RESTORE", "bad_payload", "nope")
    both("FUNCTION", "HELP")
    both("FUNCTION", "bad_subcommand")


def test_keys_argv_flags_and_ro(both, raw, raw_redis):
    lib = ("redis.register_function('w', function(KEYS, ARGV) return redis.call('set', KEYS[1], ARGV[1]) end)\n"
           "redis.register_function{function_name='ro', callback=function(KEYS) return redis.call('get', KEYS[1]) "
           "end, flags={'no-writes'}}\n"
           "redis.register_function{function_name='bad', callback=function() return redis.call('set', 'x', 1) "
           "end, flags={'no-writes'}}\n"
           "redis.register_function{function_name='all', callback=function() return 1 end, "
           "flags={'no-writes', 'ALLOW-OOM', 'allow-stale', 'no-cluster', 'allow-cross-slot-keys'}, "
           "description='desc'}\n"
           "redis.register_function('args', function(KEYS, ARGV) return {#KEYS, #ARGV, KEYS[1], ARGV[1]} end)\n"
           "redis.register_function('globals', function() return KEYS end)\n"
           "redis.register_function('nested', function() redis.register_function('f2', function() end) end)\n"
           "redis.register_function('trick', function() local mt = getmetatable(_G) mt.__index.redis = 1 end)\n"
           "redis.register_function('reg', function() return redis.register_function end)")
    both("FUNCTION", "LOAD", code(lib))
    both("FCALL", "w", "1", "x", "foo")
    both("FCALL_RO", "ro", "1", "x")
    both("FCALL_RO", "w", "1", "x", "foo")
    both("FCALL", "bad", "0")
    both("FCALL", "all", "0")
    both("FCALL", "args", "2", "a", "b", "c")
    both("FCALL", "globals", "0")
    both("FCALL", "nested", "0")
    both("FCALL", "trick", "0")
    both("FCALL", "reg", "0")
    for args in (("FUNCTION", "LIST"), ("FUNCTION", "LIST", "WITHCODE"), ("FUNCTION", "LIST", "LIBRARYNAME", "l*")):
        # Redis lists a library's functions in hash order: compare the lines, not their order.
        assert sorted(raw.call(*args).split(b"\r\n")) == sorted(raw_redis.call(*args).split(b"\r\n"))
    both("FUNCTION", "LIST", "LIBRARYNAME", "nomatch")
    both("FUNCTION", "LIST", "LIBRARYNAME")
    both("FUNCTION", "LIST", "bad_argument")
    both("FUNCTION", "LIST", "withcode", "withcode")
    both("FUNCTION", "LIST", "withcode", "libraryname", "foo", "libraryname", "foo")
    both("FUNCTION", "STATS")
    both("COMMAND", "GETKEYS", "FCALL", "w", "1", "x", "foo")
    both("COMMAND", "GETKEYS", "FCALL_RO", "ro", "1", "x")


def test_shared_code_and_collisions(both):
    both("FUNCTION", "LOAD", code("local function add1(a) return a + 1 end\n"
                                  + reg("f1", "return add1(1)") + "\n" + reg("f2", "return add1(2)"), name="lib1"))
    both("FUNCTION", "LOAD", "REPLACE", code(reg("f1", "return 1") + "\nredis.register_function('f2', 'x')",
                                             name="lib1"))
    both("FCALL", "f1", "0")
    both("FCALL", "f2", "0")
    both("FUNCTION", "LOAD", code(reg("f1", "return 1"), name="lib2"))
    both("FUNCTION", "LOAD", code(reg("F1", "return 1"), name="lib2"))
    both("FUNCTION", "STATS")


def test_dump_restore_policies(both):
    both("FUNCTION", "LOAD", code(reg("test", "return 'hello'"), name="test"))
    dump = both("FUNCTION", "DUMP")
    payload = dump.split(b"\r\n", 1)[1][:-2]
    both("FUNCTION", "DELETE", "test")
    both("FUNCTION", "RESTORE", payload)
    both("FCALL", "test", "0")
    both("FUNCTION", "RESTORE", payload)
    both("FUNCTION", "RESTORE", payload, "FLUSH")
    both("FUNCTION", "FLUSH")
    both("FUNCTION", "LOAD", code(reg("test", "return 'other'"), name="test"))
    both("FUNCTION", "RESTORE", payload, "REPLACE")
    both("FCALL", "test", "0")
    both("FUNCTION", "FLUSH")
    both("FUNCTION", "LOAD", code(reg("test", "return 'x'"), name="other"))
    both("FUNCTION", "RESTORE", payload, "REPLACE")
    both("FUNCTION", "RESTORE", payload, "APPEND")
    both("FUNCTION", "LIST")


def test_dump_payloads_are_interchangeable(raw, raw_redis):
    for conn in (raw, raw_redis):
        conn.call("FUNCTION", "FLUSH")
    big = "-- " + "x" * 300 + "\n"
    raw_redis.call("FUNCTION", "LOAD", code(big + reg("fa", "return 'from redis'"), name="ra"))
    raw.call("FUNCTION", "LOAD", code(big + reg("fb", "return 'from ember'"), name="eb"))
    from_redis = raw_redis.call("FUNCTION", "DUMP").split(b"\r\n", 1)[1][:-2]
    from_ember = raw.call("FUNCTION", "DUMP").split(b"\r\n", 1)[1][:-2]
    assert raw.call("FUNCTION", "RESTORE", from_redis) == b"+OK\r\n"
    assert raw_redis.call("FUNCTION", "RESTORE", from_ember) == b"+OK\r\n"
    for conn in (raw, raw_redis):
        assert conn.call("FCALL", "fa", "0") == b"$10\r\nfrom redis\r\n"
        assert conn.call("FCALL", "fb", "0") == b"$10\r\nfrom ember\r\n"
    ours = raw.call("FUNCTION", "DUMP")
    assert raw.call("FUNCTION", "RESTORE", ours.split(b"\r\n", 1)[1][:-2], "FLUSH") == b"+OK\r\n"


def test_flush_and_flushall(both):
    both("FUNCTION", "LOAD", code(reg("test", "return redis.call('set', 'x', '1')"), name="test"))
    both("FLUSHALL")
    both("FLUSHDB")
    both("FUNCTION", "LIST")
    both("FUNCTION", "FLUSH", "ASYNC")
    both("FUNCTION", "LIST")
    both("FUNCTION", "STATS")


def test_version_api_and_errors_inside(both):
    lib = ("local version = redis.REDIS_VERSION_NUM\n"
           "redis.register_function{function_name='v1', callback=function() return string.format('%s.%s.%s', "
           "bit.band(bit.rshift(version, 16), 0xff), bit.band(bit.rshift(version, 8), 0xff), "
           "bit.band(version, 0xff)) end}\n"
           "redis.register_function{function_name='v2', callback=function() return redis.REDIS_VERSION end}\n"
           "redis.register_function('e1', function() return redis.call('nosuch') end)\n"
           "redis.register_function('e2', function() error('boom') end)\n"
           "redis.register_function('e3', function() x = 1 end)\n"
           "redis.register_function('e4', function() return {err='CODE custom'} end)")
    both("FUNCTION", "LOAD", code(lib))
    assert both("FCALL", "v1", "0") == both("FCALL", "v2", "0")
    for name in ("e1", "e2", "e3", "e4"):
        both("FCALL", name, "0")


def test_oom_and_allow_oom(both, raw):
    both("FUNCTION", "LOAD", code(
        "redis.register_function{function_name='f1', callback=function() return redis.call('set', 'x', '1') end, "
        "flags={'allow-oom'}}\n"
        "redis.register_function('f2', function() return redis.call('set', 'x', '1') end)\n"
        "redis.register_function{function_name='f3', callback=function() return 'hello' end, flags={'no-writes'}}"))
    payload = raw.call("FUNCTION", "DUMP").split(b"\r\n", 1)[1][:-2]
    both("CONFIG", "SET", "maxmemory", "1")
    try:
        both("FCALL", "f1", "1", "x")
        both("FCALL", "f2", "1", "k")
        both("FCALL", "f3", "1", "k")
        both("FCALL_RO", "f3", "1", "k")
        both("FUNCTION", "LOAD", "REPLACE", code(reg("g", "return 1"), name="other"))
        both("FUNCTION", "RESTORE", payload)
    finally:
        both("CONFIG", "SET", "maxmemory", "0")


def test_info_counts(r):
    r.function_flush()
    r.function_load("#!lua name=a\nredis.register_function('f1', function() return 1 end)\n"
                    "redis.register_function('f2', function() return 1 end)")
    info = r.info("memory")
    assert info["number_of_functions"] == 2
    assert info["number_of_libraries"] == 1
    r.function_flush()


def test_function_stats_shape(r):
    r.function_flush()
    r.function_load("#!lua name=test1\nredis.register_function('f1', function() return 1 end)")
    stats = r.execute_command("FUNCTION", "STATS")
    assert stats[b"running_script"] is None
    assert stats[b"engines"] == {b"LUA": {b"libraries_count": 1, b"functions_count": 1}}
