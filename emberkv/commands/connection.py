"""Connection commands: PING, ECHO, SELECT, AUTH, HELLO, QUIT, RESET, CLIENT *."""

from __future__ import annotations

import time

from .. import REDIS_VERSION
from ..protocol.reply import OK, PONG, Error, Status, Verbatim
from ..server.client import REPLY_OFF, REPLY_ON, REPLY_SKIP_NEXT
from .common import DB_INDEX, SYNTAX, err, parse_int, try_int
from .registry import command, container

WRONGPASS = b"WRONGPASS invalid username-password pair or user is disabled."


@command("ping", -1, "fast sentinel", group="connection", summary="Checks the server's liveness.")
def ping(c, argv):
    if len(argv) > 2:
        err(b"ERR wrong number of arguments for 'ping' command")
    if c.resp == 2 and (c.channels or c.patterns or c.shard_channels):
        return [b"pong", argv[1] if len(argv) == 2 else b""]
    return argv[1] if len(argv) == 2 else PONG


@command("echo", 2, "fast", group="connection", summary="Returns the given string.")
def echo(c, argv):
    return argv[1]


@command("select", 2, "loading stale fast", group="connection",
         summary="Changes the selected database.")
def select(c, argv):
    idx = parse_int(argv[1], b"ERR value is not an integer or out of range")
    if not 0 <= idx < len(c.server.dbs):
        err(DB_INDEX)
    c.select(idx)
    return OK


def authenticate(c, username: bytes, password: bytes):
    """Check credentials; return None on success or the error reply text."""
    server = c.server
    if server.acl is not None:
        return server.acl.authenticate(c, username, password)
    if username != b"default":
        return WRONGPASS
    required = server.config.requirepass
    if not required:
        return WRONGPASS
    if password != required.encode():
        return WRONGPASS
    c.authenticated = True
    c.user = "default"
    return None


@command("auth", -2, "noscript loading stale fast no_auth sentinel allow_busy", group="connection",
         summary="Authenticates the connection.")
def auth(c, argv):
    if len(argv) > 3:
        err(SYNTAX)
    user, pw = (b"default", argv[1]) if len(argv) == 2 else (argv[1], argv[2])
    argv[1:] = [b"(redacted)"] * (len(argv) - 1)   # credentials stay out of SLOWLOG and MONITOR
    if len(argv) == 2:
        acl = c.server.acl
        if acl.default_nopass() if acl is not None else not c.server.config.requirepass:
            err(b"ERR AUTH <password> called without any password configured for the default "
                b"user. Are you sure your configuration is correct?")
    e = authenticate(c, user, pw)
    if e is not None:
        return Error(e)
    return OK


@command("hello", -1, "noscript loading stale fast no_auth sentinel allow_busy", group="connection",
         since="6.0.0", summary="Handshakes with the server.")
def hello(c, argv):
    ver = None
    i = 1
    if len(argv) >= 2:
        ver = try_int(argv[1])
        if ver is None:
            err(b"ERR Protocol version is not an integer or out of range")
        if ver < 2 or ver > 3:
            err(b"NOPROTO unsupported protocol version")
        i = 2
    setname = None
    while i < len(argv):
        opt = argv[i].lower()
        more = len(argv) - i - 1
        if opt == b"auth" and more >= 2:
            user, pw = argv[i + 1], argv[i + 2]
            argv[i + 1] = argv[i + 2] = b"(redacted)"
            e = authenticate(c, user, pw)
            if e is not None:
                return Error(e)
            i += 3
        elif opt == b"setname" and more >= 1:
            setname = argv[i + 1]
            if not valid_client_name(setname):
                err(b"ERR Client names cannot contain spaces, newlines or special characters.")
            i += 2
        else:
            err(b"ERR Syntax error in HELLO option '%s'" % argv[i])
    if not c.authenticated:
        err(b"NOAUTH HELLO must be called with the client already authenticated, otherwise the "
            b"HELLO AUTH <user> <pass> option can be used to authenticate the client and "
            b"select the RESP protocol version at the same time")
    if setname is not None:
        c.name = setname or None
    if ver is not None:
        c.set_resp(ver)
    return {
        b"server": b"redis",
        b"version": REDIS_VERSION.encode(),
        b"proto": c.resp,
        b"id": c.id,
        b"mode": b"standalone",
        b"role": b"replica" if c.server.is_replica() else b"master",
        b"modules": [],
    }


@command("quit", -1, "allow_busy noscript loading stale fast no_auth", group="connection",
         summary="Closes the connection.")
def quit_(c, argv):
    c.close_after_reply = True
    return OK


@command("reset", 1, "noscript loading stale fast no_auth allow_busy", group="connection",
         since="6.2.0", summary="Resets the connection.")
def reset(c, argv):
    server = c.server
    c.in_multi = False
    c.multi_queue = []
    c.multi_error = False
    server.unwatch_all(c)
    if c.pubsub_count:
        server.pubsub.client_gone(c)
    if c.is_monitor:
        c.is_monitor = False
        if c in server.monitors:
            server.monitors.remove(c)
    if c.tracking is not None and server.tracking is not None:
        server.tracking.disable(c)
    c.set_resp(2)
    c.select(0)
    c.name = None
    c.reply_mode = REPLY_ON
    c.no_evict = False
    c.no_touch = False
    c.user = "default"
    c.authenticated = not server.auth_required_for_default()
    return Status(b"RESET")


def valid_client_name(name: bytes) -> bool:
    return all(33 <= ch <= 126 for ch in name)


# --- CLIENT ------------------------------------------------------------------------------------
container("client", group="connection", since="2.4.0", summary="A container for client connection commands.")


@command("client|id", 2, "noscript loading stale", group="connection", since="5.0.0",
         summary="Returns the unique client ID of the connection.")
def client_id(c, argv):
    return c.id


@command("client|setname", 3, "noscript loading stale", group="connection", since="2.6.9",
         summary="Sets the connection name.")
def client_setname(c, argv):
    name = argv[2]
    if not valid_client_name(name):
        err(b"ERR Client names cannot contain spaces, newlines or special characters.")
    c.name = name or None
    return OK


@command("client|getname", 2, "noscript loading stale", group="connection", since="2.6.9",
         summary="Returns the name of the connection.")
def client_getname(c, argv):
    return c.name


@command("client|setinfo", 4, "noscript loading stale", group="connection", since="7.2.0",
         summary="Sets information specific to the client or connection.")
def client_setinfo(c, argv):
    attr = argv[2].lower()
    val = argv[3]
    if attr not in (b"lib-name", b"lib-ver"):
        err(b"ERR Unrecognized option '%s'" % argv[2])
    if not all(33 <= ch <= 126 for ch in val):
        err(b"ERR %s cannot contain spaces, newlines or special characters."
            % (b"lib-name" if attr == b"lib-name" else b"lib-ver"))
    if attr == b"lib-name":
        c.lib_name = val or None
    else:
        c.lib_ver = val or None
    return OK


def _qbuf_len(argv) -> int:
    """Bytes of the request being executed, as Redis reports in qbuf."""
    n = 3 + len(str(len(argv)))
    for a in argv:
        n += len(a) + len(str(len(a))) + 5
    return n


def client_info_line(c, argv=None) -> bytes:
    now = time.time()
    server = c.server
    cmd = c.last_cmd.fullname if c.last_cmd is not None else "NULL"
    if c.cur_cmd is not None and c.cur_cmd.fullname in ("client|list", "client|info"):
        cmd = c.cur_cmd.fullname
    omem = sum(len(x) for x in c.out)
    if c.conn is not None:
        omem += c.conn.output_buffer_size()
    redir = -1
    if c.tracking is not None:
        redir = c.tracking.redirect
    fields = [
        ("id", c.id), ("addr", c.addr), ("laddr", c.laddr), ("fd", c.fd),
        ("name", (c.name or b"").decode(errors="replace")),
        ("age", int(now - c.ctime)), ("idle", int(now - c.last_interaction)),
        ("flags", c.flags_string()), ("db", c.db.index), ("sub", len(c.channels)),
        ("psub", len(c.patterns)), ("ssub", len(c.shard_channels)),
        ("multi", len(c.multi_queue) if c.in_multi else -1),
        ("qbuf", _qbuf_len(argv) if argv else 0),
        ("qbuf-free", max(0, c.qbuf - (_qbuf_len(argv) if argv else 0))),
        ("argv-mem", sum(len(a) for a in argv) if argv else 0), ("multi-mem", 0),
        ("rbs", 1024), ("rbp", 0), ("obl", 0), ("oll", 0), ("omem", omem),
        ("tot-mem", 1024 + omem), ("events", "r"), ("cmd", cmd), ("user", c.user),
        ("redir", redir), ("resp", c.resp),
        ("lib-name", (c.lib_name or b"").decode(errors="replace")),
        ("lib-ver", (c.lib_ver or b"").decode(errors="replace")),
    ]
    return " ".join("%s=%s" % kv for kv in fields).encode()


_CLIENT_TYPES = (b"normal", b"master", b"replica", b"slave", b"pubsub")


def _client_type(c) -> bytes:
    if c.is_master:
        return b"master"
    if c.is_replica or c.is_monitor and False:
        return b"replica"
    if c.pubsub_count:
        return b"pubsub"
    return b"normal"


@command("client|list", -2, "admin noscript loading stale", group="connection", since="2.4.0",
         summary="Lists open connections.")
def client_list(c, argv):
    clients = list(c.server.clients.values())
    i = 2
    while i < len(argv):
        opt = argv[i].lower()
        if opt == b"type" and i + 1 < len(argv):
            t = argv[i + 1].lower()
            if t not in _CLIENT_TYPES:
                err(b"ERR Unknown client type '%s'" % argv[i + 1])
            t = b"replica" if t == b"slave" else t
            clients = [x for x in clients if _client_type(x) == t]
            i += 2
        elif opt == b"id" and i + 1 < len(argv):
            ids = set()
            for a in argv[i + 1:]:
                v = try_int(a)
                if v is None or v <= 0:
                    err(b"ERR Invalid client ID")
                ids.add(v)
            clients = [x for x in clients if x.id in ids]
            i = len(argv)
        else:
            err(SYNTAX)
    return Verbatim(b"".join(client_info_line(x, argv if x is c else None) + b"\n" for x in clients))


@command("client|info", 2, "noscript loading stale", group="connection", since="6.2.0",
         summary="Returns information about the connection.")
def client_info(c, argv):
    return Verbatim(client_info_line(c, argv) + b"\n")


@command("client|kill", -3, "admin noscript loading stale", group="connection", since="2.4.0",
         summary="Terminates open connections.")
def client_kill(c, argv):
    server = c.server
    if len(argv) == 3:
        addr = argv[2].decode(errors="replace")
        for x in list(server.clients.values()):
            if x.addr == addr:
                _kill(c, x)
                return OK
        err(b"ERR No such client")
    if len(argv) % 2:
        err(SYNTAX)
    filters = []
    skipme = True
    for i in range(2, len(argv), 2):
        opt, val = argv[i].lower(), argv[i + 1]
        if opt == b"id":
            v = try_int(val)
            if v is None or v <= 0:
                err(b"ERR client-id should be greater than 0")
            filters.append(lambda x, v=v: x.id == v)
        elif opt == b"type":
            t = val.lower()
            if t not in _CLIENT_TYPES:
                err(b"ERR Unknown client type '%s'" % val)
            t = b"replica" if t == b"slave" else t
            filters.append(lambda x, t=t: _client_type(x) == t)
        elif opt == b"addr":
            filters.append(lambda x, a=val.decode(errors="replace"): x.addr == a)
        elif opt == b"laddr":
            filters.append(lambda x, a=val.decode(errors="replace"): x.laddr == a)
        elif opt == b"user":
            if server.acl is not None and not server.acl.user_exists(val):
                err(b"ERR No such user '%s'" % val)
            filters.append(lambda x, u=val.decode(errors="replace"): x.user == u)
        elif opt == b"skipme":
            v = val.lower()
            if v == b"yes":
                skipme = True
            elif v == b"no":
                skipme = False
            else:
                err(SYNTAX)
        elif opt == b"maxage":
            v = try_int(val)
            if v is None:
                err(SYNTAX)
            filters.append(lambda x, v=v: time.time() - x.ctime >= v)
        else:
            err(SYNTAX)
    killed = 0
    for x in list(server.clients.values()):
        if skipme and x is c:
            continue
        if all(f(x) for f in filters):
            _kill(c, x)
            killed += 1
    return killed


def _kill(me, target) -> None:
    if target is me:
        me.close_after_reply = True
    else:
        target.close("killed")


@command("client|reply", 3, "noscript loading stale", group="connection", since="3.2.0",
         summary="Instructs the server whether to reply to commands.")
def client_reply(c, argv):
    mode = argv[2].lower()
    if mode == b"on":
        c.reply_mode = REPLY_ON
        return OK
    if mode == b"off":
        c.reply_mode = REPLY_OFF
        return None
    if mode == b"skip":
        c.reply_mode = REPLY_SKIP_NEXT
        return None
    err(SYNTAX)


def _on_off(c, argv, attr):
    v = argv[2].lower()
    if v == b"on":
        setattr(c, attr, True)
    elif v == b"off":
        setattr(c, attr, False)
    else:
        err(SYNTAX)
    return OK


@command("client|no-evict", 3, "admin noscript loading stale", group="connection", since="7.0.0",
         summary="Sets the client eviction mode of the connection.")
def client_no_evict(c, argv):
    return _on_off(c, argv, "no_evict")


@command("client|no-touch", 3, "noscript loading stale", group="connection", since="7.2.0",
         summary="Controls whether commands sent by the client affect the LRU/LFU of accessed keys.")
def client_no_touch(c, argv):
    return _on_off(c, argv, "no_touch")


@command("client|pause", -3, "admin noscript loading stale", group="connection", since="3.0.0",
         summary="Suspends commands processing.")
def client_pause(c, argv):
    ms = try_int(argv[2])
    if ms is None:
        err(b"ERR timeout is not an integer or out of range")
    if ms < 0:
        err(b"ERR timeout is negative")
    mode_all = True
    if len(argv) == 4:
        m = argv[3].lower()
        if m == b"write":
            mode_all = False
        elif m != b"all":
            err(SYNTAX)
    elif len(argv) > 4:
        err(SYNTAX)
    server = c.server
    until = time.monotonic() + ms / 1000.0
    if server.paused_until and time.monotonic() < server.paused_until:
        # A stricter or longer pause wins, as in Redis.
        server.pause_all = server.pause_all or mode_all
        server.paused_until = max(server.paused_until, until)
    else:
        server.pause_all = mode_all
        server.paused_until = until
    server.update_gates()
    server.loop.call_at(server.loop.time() + ms / 1000.0 + 0.001, _check_unpause, server)
    return OK


def _check_unpause(server):
    if server.paused_until and time.monotonic() >= server.paused_until:
        server.unpause()


@command("client|unpause", 2, "admin noscript loading stale", group="connection", since="6.2.0",
         summary="Resumes processing commands from paused clients.")
def client_unpause(c, argv):
    c.server.unpause()
    return OK


@command("client|unblock", -3, "admin noscript loading stale", group="connection", since="5.0.0",
         summary="Unblocks a client blocked by a blocking command from a different connection.")
def client_unblock(c, argv):
    cid = parse_int(argv[2])
    mode = b"timeout"
    if len(argv) == 4:
        mode = argv[3].lower()
        if mode not in (b"timeout", b"error"):
            err(b"ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
    elif len(argv) > 4:
        err(SYNTAX)
    target = c.server.clients.get(cid)
    if target is None or target.blocked is None or target.blocked.kind == "pause":
        return 0
    w = target.blocked
    if mode == b"error":
        c.server.blocking.unblock(w, Error(b"UNBLOCKED client unblocked via CLIENT UNBLOCK"))
    else:
        c.server.blocking.unblock(w, w.timeout_reply)
    return 1


@command("client|getredir", 2, "noscript loading stale", group="connection", since="6.0.0",
         summary="Returns the client ID to which the connection's tracking notifications are redirected.")
def client_getredir(c, argv):
    if c.tracking is None:
        return -1
    return getattr(c.tracking, "redirect", 0)


@command("client|help", 2, "loading stale", group="connection", since="5.0.0",
         summary="Returns helpful text about the different subcommands.")
def client_help(c, argv):
    lines = [
        "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CACHING (YES|NO)", "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
        "GETREDIR", "    Return the client ID we are redirecting to when tracking is enabled.",
        "GETNAME", "    Return the name of the current connection.",
        "ID", "    Return the ID of the current connection.",
        "INFO", "    Return information about the current client connection.",
        "KILL <ip:port>", "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are: ID, TYPE, USER, ADDR, LADDR, SKIPME, MAXAGE.",
        "LIST [options ...]", "    Return information about client connections.",
        "UNPAUSE", "    Stop the current client pause, resuming traffic.",
        "PAUSE <timeout> [WRITE|ALL]", "    Suspend all, or just write, clients for <timeout> milliseconds.",
        "REPLY (ON|OFF|SKIP)", "    Control the replies sent to the current connection.",
        "SETNAME <name>", "    Assign the name <name> to the current connection.",
        "SETINFO <option> <value>", "    Set client meta attr. Options are: LIB-NAME, LIB-VER.",
        "UNBLOCK <clientid> [TIMEOUT|ERROR]", "    Unblock the specified blocked client.",
        "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
        "         [OPTIN] [OPTOUT] [NOLOOP]", "    Control server assisted client side caching.",
        "TRACKINGINFO", "    Report tracking status for the current connection.",
        "NO-EVICT (ON|OFF)", "    Protect current client connection from eviction.",
        "NO-TOUCH (ON|OFF)", "    Will not touch LRU/LFU stats when this mode is on.",
        "HELP", "    Print this help.",
    ]
    return [Status(l.encode()) for l in lines]
