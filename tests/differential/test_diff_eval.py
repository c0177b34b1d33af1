"""Hypothesis-generated Lua scripts: EmberKV and Redis must reply byte for byte the same.

Three generators: scripts that call commands (redis.call / redis.pcall, RESP2 and RESP3
conversions), return values built from random Lua literals (the Lua -> reply rules),
and the bundled libraries fed random input (cjson, cmsgpack, struct, bit).
"""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

KEYS = ["k1", "k2", "{t}a"]
key = st.sampled_from(KEYS)
word = st.sampled_from(["a", "b", "10", "-3", "1.5", "", "hello", "x y"])
num = st.sampled_from(["0", "1", "-1", "7", "2.5", "abc"])


def lua_str(s: str) -> str:
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def call(name: str, *parts):
    return st.tuples(st.just(name), *parts)


COMMANDS = st.one_of(
    call("set", key, word), call("get", key), call("incr", key), call("incrby", key, num), call("del", key),
    call("exists", key), call("append", key, word), call("strlen", key), call("getrange", key, num, num),
    call("lpush", key, word), call("rpush", key, word), call("lpop", key), call("lrange", key, num, num),
    call("llen", key), call("hset", key, word, word), call("hget", key, word), call("hlen", key),
    call("sadd", key, word), call("scard", key), call("sismember", key, word), call("zadd", key, num, word),
    call("zrange", key, num, num, st.just("withscores")), call("zscore", key, word), call("type", key),
    call("mget", key, key), call("ping"), call("echo", word), call("nosuchcmd"), call("get"),
    call("select", st.sampled_from(["0", "1", "99"])), call("expire", key, num),
)


@st.composite
def command_script(draw):
    lines = []
    if draw(st.booleans()):
        lines.append("redis.setresp(3)")
    n = draw(st.integers(min_value=1, max_value=6))
    for i in range(n):
        cmd = draw(COMMANDS)
        fn = draw(st.sampled_from(["call", "pcall", "pcall"]))
        args = ", ".join(lua_str(a) for a in cmd)
        lines.append("local r%d = redis.%s(%s)" % (i, fn, args))
    shape = draw(st.sampled_from(["table", "last", "types", "json"]))
    names = ", ".join("r%d" % i for i in range(n))
    if shape == "table":
        lines.append("return {%s}" % names)
    elif shape == "last":
        lines.append("return r%d" % (n - 1))
    elif shape == "types":
        lines.append("return {%s}" % ", ".join("type(r%d)" % i for i in range(n)))
    else:
        lines.append("return cjson.encode({%s})" % names)
    return "\n".join(lines)


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(command_script(), min_size=1, max_size=4), st.sampled_from(["2", "3"]),
       st.sampled_from(["EVAL", "EVAL", "EVAL_RO"]))
def test_scripts_calling_commands(raw, raw_redis, scripts, proto, verb):
    for conn in (raw, raw_redis):
        conn.call("HELLO", proto)
        conn.call("FLUSHALL")
    for script in scripts:
        a = raw.call(verb, script, "2", "k1", "k2", "extra")
        b = raw_redis.call(verb, script, "2", "k1", "k2", "extra")
        assert a == b, (script, a, b)


# --- Lua values -> replies ----------------------------------------------------------------------
scalar = st.one_of(
    st.integers(min_value=-(2 ** 60), max_value=2 ** 60).map(str),
    st.sampled_from(["0.5", "-2.75", "1e100", "-1e300", "3.999", "0/0", "1/0", "2^53+1"]),
    st.text(alphabet="ab \r\nz\\'\"", max_size=6).map(lua_str),
    st.sampled_from(["true", "false", "nil", "function() end", "coroutine.create(function() end)"]),
)


def table_of(children):
    item = st.one_of(children, st.just("nil"))
    return st.one_of(
        st.lists(item, max_size=5).map(lambda xs: "{" + ", ".join(xs) + "}"),
        children.map(lambda x: "{ok=%s}" % x),
        children.map(lambda x: "{err=%s}" % x),
        children.map(lambda x: "{double=%s}" % x),
        children.map(lambda x: "{big_number=%s}" % x),
        st.lists(st.tuples(st.sampled_from(["'a'", "'b'", "1", "2.5", "true"]), children), max_size=3).map(
            lambda kv: "{map={" + ", ".join("[%s]=%s" % p for p in kv) + "}}"),
        st.lists(st.sampled_from(["'a'", "'b'", "1", "2.5", "true"]), max_size=3).map(
            lambda ks: "{set={" + ", ".join("[%s]=true" % k for k in ks) + "}}"),
        children.map(lambda x: "{verbatim_string={format='txt', string=%s}}" % x),
    )


lua_value = st.recursive(scalar, table_of, max_leaves=12)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(lua_value, st.sampled_from(["2", "3"]), st.booleans())
def test_lua_values_to_replies(raw, raw_redis, value, proto, script_resp3):
    script = ("redis.setresp(3) " if script_resp3 else "") + "return " + value
    for conn in (raw, raw_redis):
        conn.call("HELLO", proto)
    a = raw.call("EVAL", script, "0")
    b = raw_redis.call("EVAL", script, "0")
    assert a == b, (script, a, b)


# --- libraries ------------------------------------------------------------------------------------
json_value = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2 ** 53), max_value=2 ** 53),
              st.floats(allow_nan=False, allow_infinity=False, width=64), st.text(max_size=8)),
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.text(max_size=4), children, max_size=4)),
    max_leaves=15)
json_text = st.one_of(json_value.map(json.dumps),
                      st.text(alphabet='[]{},:"01.eE-+ntrufalsx\\u', max_size=12))

LIB_SCRIPTS = [
    "return cjson.encode(cjson.decode(ARGV[1]))",
    "local ok, v = pcall(cjson.decode, ARGV[1]) if not ok then return v end return cmsgpack.pack(v)",
    "local ok, v = pcall(cjson.decode, ARGV[1]) if not ok then return v end "
    "return cjson.encode({cmsgpack.unpack(cmsgpack.pack(v))})",
    "return {pcall(struct.pack, '>i4hBd', #ARGV[1], #ARGV[1] - 3, #ARGV[1] % 256, #ARGV[1] / 3)}",
    "return {struct.unpack('<i2', ARGV[1] .. 'xx')}",
    "local n = #ARGV[1] * 1234567 return {bit.band(n, 0xffff), bit.bxor(n, -n), bit.tohex(n), bit.rol(n, 7)}",
    "return redis.sha1hex(ARGV[1])",
]


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(LIB_SCRIPTS), json_text)
def test_libraries(raw, raw_redis, script, text):
    a = raw.call("EVAL", script, "0", text.encode())
    b = raw_redis.call("EVAL", script, "0", text.encode())
    assert a == b, (script, text, a, b)


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(lua_value, st.sampled_from(["cjson.encode", "cmsgpack.pack", "redis.sha1hex"]))
def test_library_encoders_on_lua_values(raw, raw_redis, value, encoder):
    script = "return {pcall(%s, %s)}" % (encoder, value)
    a = raw.call("EVAL", script, "0")
    b = raw_redis.call("EVAL", script, "0")
    assert a == b, (script, a, b)


struct_format = st.text(alphabet="bBhHlLiIfdcsx<>! 0123456789", max_size=8)


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.binary(max_size=24), struct_format)
def test_binary_decoders(raw, raw_redis, data, fmt):
    for script in ("return {pcall(cmsgpack.unpack, ARGV[1])}",
                   "return {pcall(struct.unpack, ARGV[2], ARGV[1])}",
                   "return {pcall(struct.size, ARGV[2])}",
                   "return {pcall(struct.pack, ARGV[2], 1, 2, 3, 'ab')}"):
        a = raw.call("EVAL", script, "0", data, fmt.encode())
        b = raw_redis.call("EVAL", script, "0", data, fmt.encode())
        assert a == b, (script, data, fmt, a, b)
