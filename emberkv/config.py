"""The server's settings: one table drives config files, CONFIG GET/SET/REWRITE and flags.

Each setting has a kind (bool, int, memory, enum, string, special), a default,
bounds and whether CONFIG SET may change it at run time.  Values are kept in
``Config.values`` as Python values; ``Config`` also exposes hot settings as
attributes so the server reads them without a dict lookup per command.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from typing import Callable

INT_MAX = 2**31 - 1
INT_MIN = -(2**31)
LONG_MAX = 2**63 - 1
LLONG_MAX = LONG_MAX
ULLONG_MAX = 2**64 - 1
UINT_MAX = 2**32 - 1


class ConfigError(Exception):
    pass


@dataclass
class Setting:
    name: str
    kind: str                 # bool | int | memory | octal | enum | string | special
    default: object
    lower: int = 0
    upper: int = LLONG_MAX
    mutable: bool = True
    alias: str | None = None
    choices: tuple = ()       # for enum
    multi: bool = False       # enum that takes several words
    percent: bool = False     # memory or percent (maxmemory-clients)
    unsigned: bool = False
    sensitive: bool = False
    hidden: bool = False      # left out of CONFIG GET with a glob, like Redis's HIDDEN_CONFIG
    apply: Callable | None = field(default=None, repr=False)


S = Setting
_TABLE = [
    # --- booleans ---------------------------------------------------------
    S("rdbchecksum", "bool", True, mutable=False),
    S("daemonize", "bool", False, mutable=False),
    S("io-threads-do-reads", "bool", False, mutable=False),
    S("always-show-logo", "bool", False, mutable=False),
    S("protected-mode", "bool", True),
    S("rdbcompression", "bool", True),
    S("rdb-del-sync-files", "bool", False),
    S("activerehashing", "bool", True),
    S("stop-writes-on-bgsave-error", "bool", True),
    S("set-proc-title", "bool", True, mutable=False),
    S("dynamic-hz", "bool", True),
    S("lazyfree-lazy-eviction", "bool", False),
    S("lazyfree-lazy-expire", "bool", False),
    S("lazyfree-lazy-server-del", "bool", False),
    S("lazyfree-lazy-user-del", "bool", False),
    S("lazyfree-lazy-user-flush", "bool", False),
    S("repl-disable-tcp-nodelay", "bool", False),
    S("repl-diskless-sync", "bool", True),
    S("aof-rewrite-incremental-fsync", "bool", True),
    S("no-appendfsync-on-rewrite", "bool", False),
    S("cluster-require-full-coverage", "bool", True),
    S("rdb-save-incremental-fsync", "bool", True),
    S("aof-load-truncated", "bool", True),
    S("aof-use-rdb-preamble", "bool", True),
    S("aof-timestamp-enabled", "bool", False),
    S("cluster-replica-no-failover", "bool", False, alias="cluster-slave-no-failover"),
    S("replica-lazy-flush", "bool", False, alias="slave-lazy-flush"),
    S("replica-serve-stale-data", "bool", True, alias="slave-serve-stale-data"),
    S("replica-read-only", "bool", True, alias="slave-read-only"),
    S("replica-ignore-maxmemory", "bool", True, alias="slave-ignore-maxmemory"),
    S("jemalloc-bg-thread", "bool", True),
    S("activedefrag", "bool", False),
    S("syslog-enabled", "bool", False, mutable=False),
    S("cluster-enabled", "bool", False, mutable=False),
    S("appendonly", "bool", False),
    S("cluster-allow-reads-when-down", "bool", False),
    S("cluster-allow-pubsubshard-when-down", "bool", True),
    S("crash-log-enabled", "bool", True),
    S("crash-memcheck-enabled", "bool", True),
    S("use-exit-on-panic", "bool", False, hidden=True),
    S("disable-thp", "bool", True, mutable=False),
    S("cluster-allow-replica-migration", "bool", True),
    S("replica-announced", "bool", True),
    S("latency-tracking", "bool", True),
    S("aof-disable-auto-gc", "bool", False),
    S("replica-ignore-disk-write-errors", "bool", False),
    S("lazyfree-lazy-user-del", "bool", False),
    S("tls-cluster", "bool", False),
    S("tls-replication", "bool", False),
    S("tls-prefer-server-ciphers", "bool", False),
    S("tls-session-caching", "bool", True),
    # --- strings ----------------------------------------------------------
    S("aclfile", "string", "", mutable=False),
    S("unixsocket", "string", "", mutable=False),
    S("pidfile", "string", "", mutable=False),
    S("replica-announce-ip", "string", "", alias="slave-announce-ip"),
    S("masteruser", "string", "", sensitive=True),
    S("cluster-announce-ip", "string", ""),
    S("cluster-config-file", "string", "nodes.conf", mutable=False),
    S("cluster-announce-hostname", "string", ""),
    S("syslog-ident", "string", "redis", mutable=False),
    S("dbfilename", "string", "dump.rdb"),
    S("appendfilename", "string", "appendonly.aof", mutable=False),
    S("appenddirname", "string", "appendonlydir", mutable=False),
    S("server_cpulist", "string", "", mutable=False),
    S("bio_cpulist", "string", "", mutable=False),
    S("aof_rewrite_cpulist", "string", "", mutable=False),
    S("bgsave_cpulist", "string", "", mutable=False),
    S("ignore-warnings", "string", ""),
    S("proc-title-template", "string", "{title} {listen-addr} {server-mode}"),
    S("bind-source-addr", "string", ""),
    S("logfile", "string", "", mutable=False),
    S("masterauth", "string", "", sensitive=True),
    S("requirepass", "string", "", sensitive=True),
    S("tls-cert-file", "string", ""),
    S("tls-key-file", "string", ""),
    S("tls-key-file-pass", "string", ""),
    S("tls-client-cert-file", "string", ""),
    S("tls-client-key-file", "string", ""),
    S("tls-client-key-file-pass", "string", ""),
    S("tls-dh-params-file", "string", ""),
    S("tls-ca-cert-file", "string", ""),
    S("tls-ca-cert-dir", "string", ""),
    S("tls-protocols", "string", ""),
    S("tls-ciphers", "string", ""),
    S("tls-ciphersuites", "string", ""),
    # --- enums ------------------------------------------------------------
    S("supervised", "enum", "no", mutable=False, choices=("upstart", "systemd", "auto", "no")),
    S("syslog-facility", "enum", "local0", mutable=False,
      choices=("user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7")),
    S("repl-diskless-load", "enum", "disabled", choices=("disabled", "on-empty-db", "swapdb")),
    S("loglevel", "enum", "notice", choices=("debug", "verbose", "notice", "warning")),
    S("maxmemory-policy", "enum", "noeviction",
      choices=("volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
               "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction")),
    S("appendfsync", "enum", "everysec", choices=("everysec", "always", "no")),
    S("oom-score-adj", "enum", "no", choices=("no", "yes", "relative", "absolute")),
    S("acl-pubsub-default", "enum", "resetchannels", choices=("allchannels", "resetchannels")),
    S("sanitize-dump-payload", "enum", "no", choices=("no", "yes", "clients")),
    S("enable-protected-configs", "enum", "no", mutable=False, choices=("no", "yes", "local")),
    S("enable-debug-command", "enum", "no", mutable=False, choices=("no", "yes", "local")),
    S("enable-module-command", "enum", "no", mutable=False, choices=("no", "yes", "local")),
    S("cluster-preferred-endpoint-type", "enum", "ip", choices=("ip", "hostname", "unknown-endpoint")),
    S("propagation-error-behavior", "enum", "ignore", choices=("ignore", "panic", "panic-on-replicas")),
    S("shutdown-on-sigint", "enum", "default", multi=True, choices=("default", "save", "nosave", "now", "force")),
    S("shutdown-on-sigterm", "enum", "default", multi=True, choices=("default", "save", "nosave", "now", "force")),
    S("tls-auth-clients", "enum", "yes", choices=("no", "yes", "optional")),
    # --- integers ---------------------------------------------------------
    S("databases", "int", 16, 1, INT_MAX, mutable=False),
    S("port", "int", 6379, 0, 65535),
    S("io-threads", "int", 1, 1, 128, mutable=False),
    S("auto-aof-rewrite-percentage", "int", 100, 0, INT_MAX),
    S("cluster-replica-validity-factor", "int", 10, 0, INT_MAX, alias="cluster-slave-validity-factor"),
    S("list-max-listpack-size", "int", -2, INT_MIN, INT_MAX, alias="list-max-ziplist-size"),
    S("tcp-keepalive", "int", 300, 0, INT_MAX),
    S("cluster-migration-barrier", "int", 1, 0, INT_MAX),
    S("active-defrag-cycle-min", "int", 1, 1, 99),
    S("active-defrag-cycle-max", "int", 25, 1, 99),
    S("active-defrag-threshold-lower", "int", 10, 0, 1000),
    S("active-defrag-threshold-upper", "int", 100, 0, 1000),
    S("lfu-log-factor", "int", 10, 0, INT_MAX),
    S("lfu-decay-time", "int", 1, 0, INT_MAX),
    S("replica-priority", "int", 100, 0, INT_MAX, alias="slave-priority"),
    S("repl-diskless-sync-delay", "int", 5, 0, INT_MAX),
    S("maxmemory-samples", "int", 5, 1, INT_MAX),
    S("maxmemory-eviction-tenacity", "int", 10, 0, 100),
    S("timeout", "int", 0, 0, INT_MAX),
    S("replica-announce-port", "int", 0, 0, 65535, alias="slave-announce-port"),
    S("tcp-backlog", "int", 511, 0, INT_MAX, mutable=False),
    S("cluster-port", "int", 0, 0, 65535, mutable=False),
    S("cluster-announce-bus-port", "int", 0, 0, 65535),
    S("cluster-announce-port", "int", 0, 0, 65535),
    S("cluster-announce-tls-port", "int", 0, 0, 65535),
    S("repl-timeout", "int", 60, 1, INT_MAX),
    S("repl-ping-replica-period", "int", 10, 1, INT_MAX, alias="repl-ping-slave-period"),
    S("list-compress-depth", "int", 0, 0, INT_MAX),
    S("rdb-key-save-delay", "int", 0, INT_MIN, INT_MAX, hidden=True),
    S("key-load-delay", "int", 0, INT_MIN, INT_MAX, hidden=True),
    S("active-expire-effort", "int", 1, 1, 10),
    S("hz", "int", 10, 0, INT_MAX),
    S("min-replicas-to-write", "int", 0, 0, INT_MAX, alias="min-slaves-to-write"),
    S("min-replicas-max-lag", "int", 10, 0, INT_MAX, alias="min-slaves-max-lag"),
    S("watchdog-period", "int", 0, 0, INT_MAX, hidden=True),
    S("shutdown-timeout", "int", 10, 0, INT_MAX),
    S("repl-diskless-sync-max-replicas", "int", 0, 0, INT_MAX),
    S("maxclients", "int", 10000, 1, UINT_MAX, unsigned=True),
    S("unixsocketperm", "octal", 0, 0, 0o777, mutable=False, unsigned=True),
    S("socket-mark-id", "int", 0, 0, UINT_MAX, mutable=False, unsigned=True),
    S("active-defrag-max-scan-fields", "int", 1000, 1, LONG_MAX, unsigned=True),
    S("slowlog-max-len", "int", 128, 0, LONG_MAX, unsigned=True),
    S("acllog-max-len", "int", 128, 0, LONG_MAX, unsigned=True),
    S("busy-reply-threshold", "int", 5000, 0, LONG_MAX, alias="lua-time-limit"),
    S("cluster-node-timeout", "int", 15000, 0, LLONG_MAX),
    S("slowlog-log-slower-than", "int", 10000, -1, LLONG_MAX),
    S("latency-monitor-threshold", "int", 0, 0, LLONG_MAX),
    S("proto-max-bulk-len", "memory", 512 * 1024 * 1024, 1024 * 1024, LONG_MAX),
    S("stream-node-max-entries", "int", 100, 0, LLONG_MAX),
    S("repl-backlog-size", "memory", 1024 * 1024, 1, LLONG_MAX),
    S("maxmemory", "memory", 0, 0, ULLONG_MAX, unsigned=True),
    S("cluster-link-sendbuf-limit", "memory", 0, 0, ULLONG_MAX, unsigned=True),
    S("hash-max-listpack-entries", "int", 128, 0, LONG_MAX, alias="hash-max-ziplist-entries", unsigned=True),
    S("set-max-intset-entries", "int", 512, 0, LONG_MAX, unsigned=True),
    S("zset-max-listpack-entries", "int", 128, 0, LONG_MAX, alias="zset-max-ziplist-entries", unsigned=True),
    S("active-defrag-ignore-bytes", "memory", 100 << 20, 1, LLONG_MAX, unsigned=True),
    S("hash-max-listpack-value", "memory", 64, 0, LONG_MAX, alias="hash-max-ziplist-value", unsigned=True),
    S("stream-node-max-bytes", "memory", 4096, 0, LONG_MAX, unsigned=True),
    S("zset-max-listpack-value", "memory", 64, 0, LONG_MAX, alias="zset-max-ziplist-value", unsigned=True),
    S("hll-sparse-max-bytes", "memory", 3000, 0, LONG_MAX, unsigned=True),
    S("tracking-table-max-keys", "int", 1000000, 0, LONG_MAX, unsigned=True),
    S("client-query-buffer-limit", "memory", 1024 * 1024 * 1024, 1024 * 1024, LONG_MAX, unsigned=True),
    S("maxmemory-clients", "memory", 0, -100, LONG_MAX, percent=True),
    S("repl-backlog-ttl", "int", 3600, 0, LONG_MAX),
    S("auto-aof-rewrite-min-size", "memory", 64 * 1024 * 1024, 0, LLONG_MAX),
    S("loading-process-events-interval-bytes", "memory", 2 * 1024 * 1024, 1024, INT_MAX, hidden=True),
    S("tls-port", "int", 0, 0, 65535),
    S("tls-session-cache-size", "int", 20 * 1024, 0, INT_MAX),
    S("tls-session-cache-timeout", "int", 300, 0, INT_MAX),
    # --- settings with their own syntax -------------------------------------
    S("dir", "special", ""),
    S("save", "special", "3600 1 300 100 60 10000"),
    S("client-output-buffer-limit", "special",
      "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"),
    S("oom-score-adj-values", "special", "0 200 800"),
    S("notify-keyspace-events", "special", ""),
    S("bind", "special", "* -::*"),
    S("replicaof", "special", "", mutable=False, alias="slaveof"),
    S("latency-tracking-info-percentiles", "special", "50 99 99.9"),
    # --- EmberKV's own ------------------------------------------------------
    # Hidden from CONFIG GET globs so tools that walk every Redis setting see only Redis's.
    S("engine", "enum", "memory", mutable=False, choices=("memory", "disk"), hidden=True),
    S("disk-cache-size", "memory", 256 * 1024 * 1024, 0, LLONG_MAX, hidden=True),
    S("disk-sync", "enum", "everysec", choices=("always", "everysec", "no"), hidden=True),
]
del S

SETTINGS: dict[str, Setting] = {}
ALIASES: dict[str, str] = {}
for _s in _TABLE:
    SETTINGS[_s.name] = _s
    if _s.alias:
        ALIASES[_s.alias] = _s.name

_BOOL = {"yes": True, "no": False}
_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2,
          "g": 1000**3, "gb": 1024**3}

# notify-keyspace-events flag letters, in the order Redis prints them.
NOTIFY_FLAGS = {
    "g": 1 << 2, "$": 1 << 3, "l": 1 << 4, "s": 1 << 5, "h": 1 << 6, "z": 1 << 7,
    "x": 1 << 8, "e": 1 << 9, "t": 1 << 10, "m": 1 << 12, "d": 1 << 11, "n": 1 << 13,
}
NOTIFY_KEYSPACE = 1 << 0
NOTIFY_KEYEVENT = 1 << 1
NOTIFY_ALL = (NOTIFY_FLAGS["g"] | NOTIFY_FLAGS["$"] | NOTIFY_FLAGS["l"] | NOTIFY_FLAGS["s"]
              | NOTIFY_FLAGS["h"] | NOTIFY_FLAGS["z"] | NOTIFY_FLAGS["x"] | NOTIFY_FLAGS["e"]
              | NOTIFY_FLAGS["t"] | NOTIFY_FLAGS["d"])


def parse_notify_flags(text: str) -> int:
    flags = 0
    for ch in text:
        if ch == "A":
            flags |= NOTIFY_ALL
        elif ch == "K":
            flags |= NOTIFY_KEYSPACE
        elif ch == "E":
            flags |= NOTIFY_KEYEVENT
        elif ch in NOTIFY_FLAGS:
            flags |= NOTIFY_FLAGS[ch]
        else:
            raise ConfigError("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
    return flags


def format_notify_flags(flags: int) -> str:
    out = ""
    if flags & NOTIFY_ALL == NOTIFY_ALL:
        out += "A"
    else:
        # Redis 7.0 prints "n" only here: with "A" it is not rendered.
        for ch in "g$lshzxetdn":
            if flags & NOTIFY_FLAGS[ch]:
                out += ch
    if flags & NOTIFY_KEYSPACE:
        out += "K"
    if flags & NOTIFY_KEYEVENT:
        out += "E"
    if flags & NOTIFY_FLAGS["m"]:
        out += "m"
    return out


def _strict_int(text: str):
    if not text or len(text) > 20:
        return None
    body = text[1:] if text[0] == "-" else text
    if not body.isdigit() or (len(body) > 1 and body[0] == "0") or (text[0] == "-" and body == "0"):
        return None
    return int(text)


def parse_memory(text: str):
    """Redis's memtoull: digits with an optional unit (k, kb, m, mb, g, gb)."""
    t = text.lower()
    i = 0
    if t.startswith("-"):
        return None
    while i < len(t) and t[i].isdigit():
        i += 1
    unit = t[i:]
    if unit not in _UNITS or i == 0:
        return None
    return int(t[:i]) * _UNITS[unit]


def _parse_value(s: Setting, args: list[str]):
    """Return the parsed value or raise ConfigError with Redis's message."""
    if s.kind == "bool":
        v = _BOOL.get(args[0].lower())
        if v is None:
            raise ConfigError("argument must be 'yes' or 'no'")
        return v
    if s.kind in ("int", "memory", "octal"):
        text = args[0]
        v = None
        if s.kind == "memory":
            if s.percent and len(text) > 1 and text.endswith("%"):
                p = _strict_int(text[:-1])
                if p is not None and p >= 0:
                    v = -p
            if v is None:
                v = parse_memory(text)
                if v is None:
                    if s.percent:
                        raise ConfigError("argument must be a memory or percent value")
                    raise ConfigError("argument must be a memory value")
        elif s.kind == "octal":
            try:
                v = int(text, 8)
            except ValueError:
                raise ConfigError("argument couldn't be parsed as an octal number")
        else:
            v = _strict_int(text)
            if v is None:
                raise ConfigError("argument couldn't be parsed into an integer")
        if s.percent and v < 0:
            if v < s.lower:
                raise ConfigError("percentage argument must be less or equal to %d" % -s.lower)
        elif v < s.lower or v > s.upper:
            if s.kind == "octal":
                raise ConfigError("argument must be between %o and %o inclusive" % (s.lower, s.upper))
            raise ConfigError("argument must be between %d and %d inclusive" % (s.lower, s.upper))
        return v
    if s.kind == "enum":
        words = args[0].lower().split() if s.multi else [args[0].lower()]
        for w in words:
            if w not in s.choices:
                raise ConfigError("argument(s) must be one of the following: " + ", ".join(s.choices))
        if not s.multi and len(args) != 1:
            raise ConfigError("wrong number of arguments")
        return " ".join(words)
    if s.kind == "string":
        return args[0]
    # special kinds
    return _parse_special(s.name, args)


def _parse_special(name: str, args: list[str]):
    text = " ".join(args)
    if name == "save":
        parts = text.split()
        if not parts or (len(parts) == 1 and parts[0] == ""):
            return ""
        if len(parts) % 2:
            raise ConfigError("Invalid save parameters")
        for p in parts:
            if _strict_int(p) is None or int(p) < 0:
                raise ConfigError("Invalid save parameters")
        return " ".join(parts)
    if name == "notify-keyspace-events":
        return parse_notify_flags(text)
    if name == "client-output-buffer-limit":
        parts = text.split()
        if len(parts) % 4:
            raise ConfigError("Wrong number of arguments in buffer limit configuration.")
        for i in range(0, len(parts), 4):
            cls = parts[i].lower()
            if cls == "slave":
                cls = "replica"
            if cls not in ("normal", "replica", "pubsub"):
                raise ConfigError("Invalid client class specified in buffer limit configuration.")
            for p in parts[i + 1:i + 3]:
                if parse_memory(p) is None:
                    raise ConfigError("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
            if _strict_int(parts[i + 3]) is None:
                raise ConfigError("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
        return text
    if name == "dir":
        if not os.path.isdir(text):
            raise ConfigError("No such file or directory")
        return text
    if name == "bind":
        if len(args) > 16:
            raise ConfigError("Too many bind addresses specified.")
        return " ".join(a for a in args)
    if name == "replicaof":
        if not text.strip() or text.lower() == "no one":
            return ""
        if len(args) != 2:
            raise ConfigError("wrong number of arguments")
        if _strict_int(args[1]) is None or not 0 <= int(args[1]) <= 65535:
            raise ConfigError("Invalid master port")
        return text
    if name == "oom-score-adj-values":
        parts = text.split()
        if len(parts) != 3:
            raise ConfigError("wrong number of arguments")
        for p in parts:
            v = _strict_int(p)
            if v is None or not -2000 <= v <= 2000:
                raise ConfigError("Invalid oom-score-adj-values, elements must be between -2000 and 2000.")
        return text
    if name == "latency-tracking-info-percentiles":
        out = []
        for p in text.split():
            try:
                f = float(p)
            except ValueError:
                raise ConfigError("Invalid latency-tracking-info-percentiles parameters")
            if not 0.0 <= f <= 100.0:
                raise ConfigError("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]")
            out.append(p)
        return " ".join(out)
    return text


def format_value(s: Setting, v) -> str:
    if s.kind == "bool":
        return "yes" if v else "no"
    if s.kind == "octal":
        return "%o" % v
    if s.kind == "memory" and s.percent and v < 0:
        return "%d%%" % -v
    if s.name == "notify-keyspace-events":
        return format_notify_flags(v)
    if s.name == "client-output-buffer-limit":
        return _format_obuf(v)
    return str(v)


def _format_obuf(text: str) -> str:
    # Render as Redis does: every class, bytes, in normal/slave/pubsub order.
    limits = {"normal": [0, 0, 0], "replica": [268435456, 67108864, 60], "pubsub": [33554432, 8388608, 60]}
    parts = text.split()
    for i in range(0, len(parts), 4):
        cls = parts[i].lower()
        cls = "replica" if cls == "slave" else cls
        limits[cls] = [parse_memory(parts[i + 1]), parse_memory(parts[i + 2]), int(parts[i + 3])]
    return " ".join("%s %d %d %d" % ((n if n != "replica" else "slave"), *limits[n])
                    for n in ("normal", "replica", "pubsub"))


class Config:
    """Current values of every setting, plus hot ones as attributes."""

    def __init__(self):
        self.values: dict[str, object] = {}
        for s in _TABLE:
            if s.kind == "special":
                self.values[s.name] = _parse_special(s.name, [s.default]) if s.name != "dir" else os.getcwd()
            else:
                self.values[s.name] = s.default
        self.config_file: str | None = None
        self.listeners: dict[str, Callable] = {}
        self.user_directives: list[list[bytes]] = []   # `user <name> <rules...>` lines, for ACL
        self._refresh_all()

    # Hot settings are mirrored as attributes (e.g. ``config.hz``).
    def _refresh(self, name: str) -> None:
        attr = name.replace("-", "_")
        setattr(self, attr, self.values[name])

    def _refresh_all(self) -> None:
        for name in self.values:
            self._refresh(name)

    def add_listener(self, name: str, fn: Callable) -> None:
        """Call ``fn(new, old)`` when ``name`` changes, after any listener already there
        (several subsystems may watch one setting)."""
        previous = self.listeners.get(name)
        if previous is None:
            self.listeners[name] = fn
            return

        def both(new, old):
            previous(new, old)
            fn(new, old)

        self.listeners[name] = both

    def lookup(self, name: str) -> Setting | None:
        name = name.lower()
        name = ALIASES.get(name, name)
        return SETTINGS.get(name)

    def get(self, name: str):
        return self.values[name]

    def set(self, name: str, args: list[str], *, startup: bool = False) -> None:
        """Parse and store; raises ConfigError.  ``startup`` allows immutable settings."""
        s = self.lookup(name)
        if s is None:
            raise ConfigError("Config name not found")
        if not startup and not s.mutable:
            raise ConfigError("can't set immutable config")
        value = _parse_value(s, args)
        old = self.values[s.name]
        self.values[s.name] = value
        self._refresh(s.name)
        cb = self.listeners.get(s.name)
        if cb is not None and old != value:
            try:
                cb(value, old)
            except ConfigError:
                self.values[s.name] = old
                self._refresh(s.name)
                raise

    def get_matching(self, pattern: str) -> dict[str, str]:
        """CONFIG GET for one glob pattern (names and aliases)."""
        from .util.glob import glob_match
        out = {}
        pat = pattern.lower().encode()
        has_glob = any(ch in pattern for ch in "*?[")
        for s in _TABLE:
            for n in (s.name, s.alias):
                if n is None:
                    continue
                if (has_glob and not s.hidden and glob_match(pat, n.encode())) or \
                        (not has_glob and pattern.lower() == n):
                    out[n] = format_value(s, self.values[s.name])
        return out

    def load_lines(self, text: str, origin: str = "") -> None:
        """Apply redis.conf-style lines; raises ConfigError naming the line."""
        from .protocol.request import split_args
        for lineno, raw in enumerate(text.split("\n"), 1):
            line = raw.strip(" \t\r\n")
            if not line or line.startswith("#"):
                continue
            argv = split_args(line.encode())
            if argv is None:
                raise ConfigError(_fatal(lineno, line, "Unbalanced quotes in configuration line"))
            if not argv:
                continue
            args = [a.decode(errors="replace") for a in argv]
            name = args[0].lower()
            if name == "user" and len(argv) >= 2:
                self.user_directives.append(argv[1:])
                continue
            if name in ("include", "rename-command", "loadmodule", "sentinel"):
                if name == "include" and len(args) == 2:
                    with open(args[1]) as fh:
                        self.load_lines(fh.read(), args[1])
                continue
            s = self.lookup(name)
            if s is None or len(args) < 2 or (s.kind not in ("special", "enum") and len(args) != 2):
                raise ConfigError(_fatal(lineno, line, "Bad directive or wrong number of arguments"))
            try:
                if s.name == "save" and args[1:] == [""]:
                    self.set(name, [""], startup=True)
                elif s.kind == "enum" and s.multi:
                    self.set(name, [" ".join(args[1:])], startup=True)
                else:
                    self.set(name, args[1:], startup=True)
            except ConfigError as e:
                raise ConfigError(_fatal(lineno, line, str(e)))

    def rewrite(self) -> None:
        """CONFIG REWRITE: keep comments and unknown lines, update or append ours."""
        if not self.config_file:
            raise ConfigError("The server is running without a config file")
        try:
            with open(self.config_file) as fh:
                lines = fh.read().split("\n")
        except FileNotFoundError:
            lines = []
        written = set()
        out = []
        for raw in lines:
            stripped = raw.strip()
            if stripped.startswith("# Generated by CONFIG REWRITE"):
                continue
            if stripped and not stripped.startswith("#"):
                words = stripped.split(None, 1)
                s = self.lookup(words[0])
                if s is not None:
                    if s.name in written:
                        continue
                    written.add(s.name)
                    out.extend(self._rewrite_lines(s))
                    continue
            out.append(raw)
        while out and out[-1] == "":
            out.pop()
        extra = []
        for s in _TABLE:
            if s.name in written or s.name in ("engine",) and self.values[s.name] == s.default:
                continue
            if self._differs(s):
                written.add(s.name)
                extra.extend(self._rewrite_lines(s))
        if extra:
            out.append("# Generated by CONFIG REWRITE")
            out.extend(extra)
        tmp = self.config_file + ".tmp"
        with open(tmp, "w") as fh:
            fh.write("\n".join(out) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.config_file)

    def _differs(self, s: Setting) -> bool:
        if s.name == "dir":
            return True
        default = _parse_special(s.name, [s.default]) if s.kind == "special" else s.default
        return self.values[s.name] != default

    def _rewrite_lines(self, s: Setting) -> list[str]:
        v = format_value(s, self.values[s.name])
        if s.name == "save":
            parts = v.split()
            if not parts:
                return ['save ""']
            return ["save %s %s" % (parts[i], parts[i + 1]) for i in range(0, len(parts), 2)]
        if s.name == "client-output-buffer-limit":
            p = v.split()
            return ["client-output-buffer-limit %s" % " ".join(p[i:i + 4]) for i in range(0, len(p), 4)]
        if s.kind == "string" or s.name in ("dir", "notify-keyspace-events"):
            return ['%s "%s"' % (s.name, v.replace("\\", "\\\\").replace('"', '\\"'))]
        return ["%s %s" % (s.name, v)]


def _fatal(lineno: int, line: str, err: str) -> str:
    return ("\n*** FATAL CONFIG FILE ERROR (EmberKV) ***\n"
            "Reading the configuration file, at line %d\n>>> '%s'\n%s" % (lineno, line, err))


def glob_names(pattern: str) -> list[str]:
    return [s.name for s in _TABLE if fnmatch.fnmatchcase(s.name, pattern)]
