"""The Lua side of the script sandbox (the globals Redis scripts see).

Redis patches Lua to mark tables read-only; stock Lua 5.1 cannot, so protected
tables are empty proxies whose reads fall through to the real table and whose
writes fail with Redis's message.  The few base functions that could see
through a proxy (rawget, rawset, next, pairs, getmetatable, setmetatable,
table.insert/remove/sort) are wrapped to keep the illusion, and the loaders
give new chunks the sandbox environment.

The chunk runs once per Lua runtime with the Python callables it needs and
returns the entry points the engine calls.
"""

PRELUDE = r"""
local py, mode, MARK_TABLE, MARK_BIG, MARK_ERROR, MAX_DEPTH = ...
local as_function = python.as_function

local type, next, rawget, rawset, rawequal, select, tostring, error, unpack, tonumber =
      type, next, rawget, rawset, rawequal, select, tostring, error, unpack, tonumber
local raw_setmetatable, raw_getmetatable = setmetatable, getmetatable
local raw_pcall, raw_xpcall = pcall, xpcall
local raw_loadstring = loadstring
local raw_setfenv = setfenv
local s_sub, s_find, s_match, s_byte, s_format = string.sub, string.find, string.match, string.byte,
      string.format
local t_concat, t_insert, t_remove, t_sort = table.concat, table.insert, table.remove, table.sort
local getinfo, sethook = debug.getinfo, debug.sethook
local INTERNAL = '=emberkv'

local function pyf(name) return as_function(py[name]) end

-- Read-only tables ---------------------------------------------------------------------
local readonly = raw_setmetatable({}, {__mode = 'k'})   -- proxy -> true
local real_of = raw_setmetatable({}, {__mode = 'k'})    -- proxy -> the table it shows
local shown_mt = raw_setmetatable({}, {__mode = 'k'})   -- what getmetatable() reports (false: none)

local RO = 'Attempt to modify a readonly table'
local function ro_newindex() error(RO, 2) end

local function protect(real, shown)
    local p = raw_setmetatable({}, {__index = real, __newindex = ro_newindex})
    readonly[p] = true
    real_of[p] = real
    shown_mt[p] = shown or false
    return p
end

local function nonexistent(t, k)
    local kt = type(k)
    if kt ~= 'string' and kt ~= 'number' then
        error('Second argument to luaProtectedTableError must be a string or number', 2)
    end
    error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
end
local error_mt = {__index = nonexistent}

-- Base-library wrappers -------------------------------------------------------------------
local function typename(n, ...)
    if select('#', ...) < n then return 'no value' end
    return type((select(n, ...)))
end
-- Raised from a wrapper: the message names the wrapper's caller, as luaL_argerror would.
local function argerr(n, fname, msg) error(s_format("bad argument #%d to '%s' (%s)", n, fname, msg), 3) end
local function not_table(...)
    if type((...)) ~= 'table' then return 'table expected, got ' .. typename(1, ...) end
end

local function sb_rawget(...)
    local bad = not_table(...)
    if bad then argerr(1, 'rawget', bad) end
    if select('#', ...) < 2 then argerr(2, 'rawget', 'value expected') end
    local t, k = ...
    return rawget(real_of[t] or t, k)
end

local function sb_rawset(...)
    local bad = not_table(...)
    if bad then argerr(1, 'rawset', bad) end
    local t, k, v = ...
    if readonly[t] then error(RO, 0) end
    if select('#', ...) < 2 then argerr(2, 'rawset', 'value expected') end
    if select('#', ...) < 3 then argerr(3, 'rawset', 'value expected') end
    return rawset(t, k, v)
end

local function sb_next(...)
    local bad = not_table(...)
    if bad then argerr(1, 'next', bad) end
    local t, k = ...
    return next(real_of[t] or t, k)
end

local function sb_pairs(...)
    local bad = not_table(...)
    if bad then argerr(1, 'pairs', bad) end
    local t = ...
    return next, real_of[t] or t, nil     -- the plain iterator: loops stay fast
end

local string_mt_view
local function sb_getmetatable(...)
    if select('#', ...) == 0 then argerr(1, 'getmetatable', 'value expected') end
    local v = ...
    if type(v) == 'string' then return string_mt_view end
    local m = shown_mt[v]
    if m ~= nil then return m or nil end
    return raw_getmetatable(v)
end

local function sb_setmetatable(...)
    local bad = not_table(...)
    if bad then argerr(1, 'setmetatable', bad) end
    local t, m = ...
    local mt = type(m)
    if mt ~= 'nil' and mt ~= 'table' then argerr(2, 'setmetatable', 'nil or table expected') end
    if readonly[t] then error(RO, 0) end
    local cur = raw_getmetatable(t)
    if cur ~= nil and rawget(cur, '__metatable') ~= nil then error('cannot change a protected metatable', 2) end
    return raw_setmetatable(t, m)
end

local function guard_table_op(fname, op)
    return function(...)
        local bad = not_table(...)
        if bad then argerr(1, fname, bad) end
        if readonly[(...)] then error(RO, 0) end
        return op(...)
    end
end

-- luaO_chunkid: how a chunk name shows in messages.
local function chunkid(src)
    local c = s_sub(src, 1, 1)
    if c == '=' then return s_sub(src, 2, 60) end
    if c == '@' then
        src = s_sub(src, 2)
        if #src > 52 then return '...' .. s_sub(src, -52) end
        return src
    end
    src = s_match(src, '^[^%z]*')
    local line = s_match(src, '^[^\n\r]*')
    if #line > 43 then line = s_sub(line, 1, 43) end
    if #line < #src then return '[string "' .. line .. '..."]' end
    return '[string "' .. src .. '"]'
end

local ENV = {}     -- the environment scripts run in: an empty read-only view of G
local env_mt
local function sb_loadstring(...)
    local s, name = ...
    local st = type(s)
    if st ~= 'string' and st ~= 'number' then argerr(1, 'loadstring', 'string expected, got ' .. typename(1, ...)) end
    s = tostring(s)
    if name == nil then name = s end
    if s_byte(s, 1) == 27 then
        -- Redis's Lua only parses source text: a binary chunk is a syntax error.
        return nil, chunkid(tostring(name)) .. ":1: unexpected symbol near 'char(27)'"
    end
    local f, e = raw_loadstring(s, name)
    if f then raw_setfenv(f, ENV) end
    return f, e
end

local function sb_load(...)
    local reader, name = ...
    if type(reader) ~= 'function' then argerr(1, 'load', 'function expected, got ' .. typename(1, ...)) end
    local parts = {}
    while true do
        local piece = reader()
        if piece == nil or piece == '' then break end
        if type(piece) ~= 'string' then return nil, 'reader function must return a string' end
        parts[#parts + 1] = piece
    end
    return sb_loadstring(t_concat(parts), name or '=(load)')
end

-- Errors raised by Python callbacks arrive as userdata; show them as Lua would.
local py_unwrap = pyf('unwrap')
local function user_error(e)
    if type(e) == 'userdata' then
        local kind, text, ignore = py_unwrap(e)
        if kind == 1 then
            if ignore then return {err = text, ignore_error_stats_update = true} end
            return {err = text}
        elseif kind == 2 then
            return text
        end
    end
    return e
end

local function pcall_done(ok, ...)
    if ok then return true, ... end
    local e = user_error((...))
    if type(e) == 'table' then
        local m = e.err
        if type(m) == 'string' or type(m) == 'number' then e = m end
    end
    return false, e
end
local function sb_pcall(f, ...) return pcall_done(raw_pcall(f, ...)) end

local function sb_xpcall(f, h)
    return raw_xpcall(f, function(e) return h(user_error(e)) end)
end

local co_resume = coroutine.resume
local function resume_done(ok, ...)
    if ok then return true, ... end
    return false, user_error((...))
end
local coroutine_lib = {}
for k, v in next, coroutine do coroutine_lib[k] = v end
coroutine_lib.resume = function(co, ...) return resume_done(co_resume(co, ...)) end

-- Error text of a Redis error reply (luaPushErrorBuff).
local function error_text(buf)
    buf = s_match(buf, '^[^%z]*')
    local code, msg = 'ERR', buf
    if s_sub(buf, 1, 1) == '-' then
        local sp = s_find(buf, ' ', 1, true)
        if sp then code, msg = s_sub(buf, 2, sp - 1), s_sub(buf, sp + 1) else msg = s_sub(buf, 2) end
    end
    msg = s_match(msg, '^[\r\n]*(.-)[\r\n]*$')
    return code .. ' ' .. msg
end

-- Libraries -------------------------------------------------------------------------------
local function lib(names, prefix)
    local t = {}
    for _, n in next, names do t[n] = pyf(prefix .. n) end
    return t
end

local bit_lib = lib({'tobit', 'bnot', 'band', 'bor', 'bxor', 'lshift', 'rshift', 'arshift', 'rol', 'ror',
                     'bswap', 'tohex'}, 'bit.')
local struct_lib = lib({'pack', 'unpack', 'size'}, 'struct.')
local cmsgpack_lib = lib({'pack', 'unpack', 'unpack_one', 'unpack_limit'}, 'cmsgpack.')
cmsgpack_lib._NAME = 'cmsgpack'
cmsgpack_lib._VERSION = 'lua-cmsgpack 0.4.0'
cmsgpack_lib._COPYRIGHT = 'Copyright (C) 2012, Salvatore Sanfilippo'
cmsgpack_lib._DESCRIPTION = 'MessagePack C implementation for Lua'

-- cjson.null stands in for Redis's NULL lightuserdata.
local null = newproxy(true)
raw_getmetatable(null).__tostring = function() return 'userdata: (nil)' end
shown_mt[null] = false
local cjson_lib = lib({'encode', 'decode', 'encode_sparse_array', 'encode_max_depth', 'decode_max_depth',
                      'encode_number_precision', 'encode_keep_buffer', 'encode_invalid_numbers',
                      'decode_invalid_numbers'}, 'cjson.')
cjson_lib.null = null
cjson_lib._NAME = 'cjson'
cjson_lib._VERSION = '2.1.0'
cjson_lib.new = function() return cjson_lib end

local math_lib = {}
for k, v in next, math do math_lib[k] = v end
math_lib.random = pyf('random')
math_lib.randomseed = pyf('randomseed')

local table_lib = {}
for k, v in next, table do table_lib[k] = v end
table_lib.insert = guard_table_op('insert', t_insert)
table_lib.remove = guard_table_op('remove', t_remove)
table_lib.sort = guard_table_op('sort', t_sort)

local function status_reply(...)
    local s = ...
    if select('#', ...) ~= 1 or type(s) ~= 'string' then return {err = 'ERR wrong number or type of arguments'} end
    return {ok = s}
end
local function error_reply(...)
    local s = ...
    if select('#', ...) ~= 1 or type(s) ~= 'string' then return {err = 'ERR wrong number or type of arguments'} end
    if s_sub(s, 1, 1) ~= '-' then s = '-' .. s end
    return {err = error_text(s)}
end

local redis = {
    call = pyf('call'), pcall = pyf('pcall'), log = pyf('log'), setresp = pyf('setresp'),
    sha1hex = pyf('sha1hex'), error_reply = error_reply, status_reply = status_reply,
    set_repl = pyf('set_repl'), acl_check_cmd = pyf('acl_check_cmd'),
    LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
    REPL_NONE = 0, REPL_AOF = 1, REPL_SLAVE = 2, REPL_REPLICA = 2, REPL_ALL = 3,
    REDIS_VERSION = py.version, REDIS_VERSION_NUM = py.version_num,
}
if mode == 'eval' then
    redis.breakpoint = function() return false end
    redis.debug = function() end
    redis.replicate_commands = function() return true end
end

local string_view = protect(string)
string_mt_view = protect({__index = string_view})

-- The sandbox globals (G) and the environment view scripts get (ENV).
local G = {
    _VERSION = _VERSION, assert = assert, collectgarbage = collectgarbage, error = error, gcinfo = gcinfo,
    getmetatable = sb_getmetatable, ipairs = ipairs, load = sb_load, loadstring = sb_loadstring,
    next = sb_next, pairs = sb_pairs, pcall = sb_pcall, rawequal = rawequal, rawget = sb_rawget,
    rawset = sb_rawset, select = select, setmetatable = sb_setmetatable, tonumber = tonumber,
    tostring = tostring, type = type, unpack = unpack, xpcall = sb_xpcall,
    string = string_view, table = protect(table_lib), math = protect(math_lib),
    coroutine = protect(coroutine_lib), bit = protect(bit_lib), struct = protect(struct_lib),
    cmsgpack = protect(cmsgpack_lib), cjson = protect(cjson_lib), redis = protect(redis),
}
env_mt = {__index = G, __newindex = ro_newindex}
raw_setmetatable(ENV, env_mt)
readonly[ENV] = true
real_of[ENV] = G
shown_mt[ENV] = protect({__index = nonexistent})
if mode == 'eval' then
    G._G = ENV
else
    -- Functions run in a fresh table over the globals; _G still names the globals themselves.
    G._G = protect(G, shown_mt[ENV])
end
raw_setmetatable(G, error_mt)

-- What FUNCTION LOAD code sees instead of G.
local load_redis = raw_setmetatable({
    register_function = pyf('register_function'), log = redis.log,
    LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
    REDIS_VERSION = py.version, REDIS_VERSION_NUM = py.version_num,
}, error_mt)
local LOAD_G = raw_setmetatable({redis = protect(load_redis)}, error_mt)

-- Errors: Redis's __redis__err__handler, skipping frames of this sandbox ----------------------
local function handler(err)
    err = user_error(err)
    local lvl = 2
    local i = getinfo(lvl, 'nSl')
    if i and i.what == 'C' then lvl = 3; i = getinfo(lvl, 'nSl') end
    while i and i.source == INTERNAL do lvl = lvl + 1; i = getinfo(lvl, 'nSl') end
    if type(err) ~= 'table' then err = {err = 'ERR ' .. tostring(err)} end
    if i and i.what ~= 'tail' then
        err.source = i.source
        err.line = i.currentline
    end
    return err
end
if mode == 'eval' then G.__redis__err__handler = handler end

-- Lua value -> flat token list the engine turns into a reply (see engine.LuaReply).
local function flatten(v, out, n, depth)
    local t = type(v)
    if t == 'string' then out[n + 1] = 1; out[n + 2] = v; return n + 2 end
    if t == 'number' then out[n + 1] = 2; out[n + 2] = v; return n + 2 end
    if t == 'boolean' then out[n + 1] = v and 3 or 4; return n + 1 end
    if t ~= 'table' then out[n + 1] = 5; return n + 1 end
    if depth >= MAX_DEPTH then out[n + 1] = 15; return n + 1 end
    local x = rawget(v, 'err')
    if type(x) == 'string' then
        out[n + 1] = rawget(v, 'ignore_error_stats_update') == true and 8 or 7
        out[n + 2] = x
        return n + 2
    end
    x = rawget(v, 'ok')
    if type(x) == 'string' then out[n + 1] = 6; out[n + 2] = x; return n + 2 end
    x = rawget(v, 'double')
    if type(x) == 'number' then out[n + 1] = 9; out[n + 2] = x; return n + 2 end
    x = rawget(v, 'big_number')
    if type(x) == 'string' then out[n + 1] = 10; out[n + 2] = x; return n + 2 end
    x = rawget(v, 'verbatim_string')
    if type(x) == 'table' then
        local f, s = rawget(x, 'format'), rawget(x, 'string')
        if type(f) == 'string' and type(s) == 'string' then
            out[n + 1] = 11; out[n + 2] = f; out[n + 3] = s
            return n + 3
        end
    end
    x = rawget(v, 'map')
    if type(x) == 'table' then
        local at, count = n + 1, 0
        n = n + 2
        for k, val in next, x do
            n = flatten(k, out, n, depth + 1)
            n = flatten(val, out, n, depth + 1)
            count = count + 1
        end
        out[at] = 12; out[at + 1] = count
        return n
    end
    x = rawget(v, 'set')
    if type(x) == 'table' then
        local at, count = n + 1, 0
        n = n + 2
        for k in next, x do
            n = flatten(k, out, n, depth + 1)
            count = count + 1
        end
        out[at] = 14; out[at + 1] = count
        return n
    end
    local at, j = n + 1, 1
    n = n + 2
    while true do
        local e = rawget(v, j)
        if e == nil then break end
        n = flatten(e, out, n, depth + 1)
        j = j + 1
    end
    out[at] = 13; out[at + 1] = j - 1
    return n
end

local FLAT_INLINE = 4000
local function finish(ok, v)
    if not ok then
        if type(v) ~= 'table' then return MARK_ERROR, tostring(v) end
        local e = v.err
        if type(e) == 'number' then e = tostring(e) end
        return MARK_ERROR, e, v.source, v.line, v.ignore_error_stats_update == true
    end
    if type(v) ~= 'table' then return v end
    local out = {}
    local n = flatten(v, out, 0, 0)
    if n <= FLAT_INLINE then return MARK_TABLE, unpack(out, 1, n) end
    return MARK_BIG, out, n
end

-- Entry points ---------------------------------------------------------------------------------
local api = {null = null}

function api.compile(code, chunkname)
    local f, e = raw_loadstring(code, chunkname)
    if not f then return nil, e end
    raw_setfenv(f, ENV)
    return f
end

-- KEYS and ARGV from the arguments after numkeys.
local function split_args(nkeys, ...)
    local n = select('#', ...)
    if nkeys == n then return {...}, {} end
    if nkeys == 0 then return {}, {...} end
    local args, keys, argv = {...}, {}, {}
    for i = 1, nkeys do keys[i] = args[i] end
    for i = nkeys + 1, n do argv[i - nkeys] = args[i] end
    return keys, argv
end

function api.run_eval(f, nkeys, ...)
    G.KEYS, G.ARGV = split_args(nkeys, ...)
    return finish(raw_xpcall(f, handler))
end

function api.run_function(f, nkeys, ...)
    local keys, argv = split_args(nkeys, ...)
    return finish(raw_xpcall(function() return f(keys, argv) end, handler))
end

-- FUNCTION LOAD: run the library body with only the registration API visible.
function api.load_library(code)
    local f, e = raw_loadstring(code, '@user_function')
    if not f then return 1, e end
    raw_setfenv(f, ENV)
    env_mt.__index = LOAD_G
    local ok, err = raw_pcall(f)
    env_mt.__index = G
    if ok then return 0 end
    err = user_error(err)
    if type(err) == 'table' then
        local m = err.err
        if type(m) == 'string' or type(m) == 'number' then return 2, tostring(m) end
        return 2, nil
    end
    return 2, 'ERR ' .. tostring(err)
end

-- The busy-script hook: every 100000 instructions ask the engine what to do.
local py_hook = pyf('hook')
local function hook()
    -- Only the user's code is interrupted, never the sandbox's own bookkeeping.
    local i = getinfo(2, 'S')
    if i and i.source == INTERNAL then return end
    local e = py_hook()
    if e then
        sethook(hook, 'l')      -- fire on every line so pcall cannot swallow the kill
        error({err = e})
    end
end
function api.reset_hook() sethook(hook, '', 100000) end
api.reset_hook()

-- luaL_where(1) as seen from a Python callback: the Lua code that called it...
local function where_of_caller()
    local i = getinfo(4, 'Sl')   -- 1 here, 2 api.where/callinfo, 3 the C function, 4 its caller
    if i and i.currentline > 0 then return i.short_src .. ':' .. i.currentline .. ': ' end
    return ''
end
function api.where()
    local w = where_of_caller()   -- not a tail call: the frame count above must hold
    return w
end

-- ... and how it named the function it called (for luaL_argerror).
function api.callinfo()
    local n = getinfo(2, 'n')
    local w = where_of_caller()
    return w, n and n.name, n and n.namewhat
end

function api.flat_slice(out, i, j) return unpack(out, i, j) end
function api.new_array(...) return {...} end
function api.set_pairs(t, ...)
    for i = 1, select('#', ...), 2 do
        local k, v = select(i, ...)
        t[k] = v
    end
    return t
end
function api.new_table() return {} end
function api.new_status(s) return {ok = s} end
-- A batch of fresh {ok='OK'} tables: the commonest status reply, built 64 at a time.
function api.ok_batch()
    local t = {}
    for i = 1, 64 do t[i] = {ok = 'OK'} end
    return unpack(t)
end
function api.new_error(s, ignore)
    if ignore then return {err = s, ignore_error_stats_update = true} end
    return {err = s}
end
function api.new_double(d) return {double = d} end
function api.new_big_number(s) return {big_number = s} end
function api.new_verbatim(fmt, s) return {verbatim_string = {format = fmt, string = s}} end
function api.new_map(t) return {map = t} end
function api.new_set(t) return {set = t} end
function api.memory() return collectgarbage('count') end
function api.gc_step() collectgarbage('step', 50) end

-- The sandbox keeps its own references; nothing else needs the debug library.
debug = nil
collectgarbage('collect')
return api
"""
