"""Server commands: INFO, CONFIG, TIME, SLOWLOG, LATENCY, MONITOR, DEBUG, SHUTDOWN, LASTSAVE..."""

from __future__ import annotations

import asyncio
import os
import platform
import resource
import sys
import time

from .. import REDIS_VERSION, __version__
from ..config import ConfigError
from ..protocol.reply import OK, Error, Status, Verbatim
from .common import SYNTAX, err, parse_int, try_int
from .registry import CANONICAL, command, container

# --- INFO ----------------------------------------------------------------------------------------
# Sections are functions returning (name, value) pairs; other families may replace or add some
# (persistence, replication, ...).
INFO_SECTIONS: dict = {}
DEFAULT_SECTIONS = ["server", "clients", "memory", "persistence", "stats", "replication", "cpu",
                    "module_list", "errorstats", "cluster", "keyspace"]
ALL_EXTRA = ["commandstats", "latencystats"]


def info_section(name: str):
    def deco(fn):
        INFO_SECTIONS[name] = fn
        return fn
    return deco


def human_bytes(n: int) -> str:
    n = float(n)
    for unit, div in (("G", 1024 ** 3), ("M", 1024 ** 2), ("K", 1024)):
        if n >= div:
            return "%.2f%s" % (n / div, unit)
    return "%dB" % int(n)


@info_section("server")
def _info_server(server):
    up = time.time() - server.start_time
    u = platform.uname()
    return [
        ("redis_version", REDIS_VERSION), ("redis_git_sha1", "00000000"), ("redis_git_dirty", 0),
        ("redis_build_id", "emberkv-" + __version__), ("redis_mode", "standalone"),
        ("os", "%s %s %s" % (u.system, u.release, u.machine)), ("arch_bits", 64),
        ("monotonic_clock", "POSIX clock_gettime"), ("multiplexing_api", "epoll"),
        ("atomicvar_api", "c11-builtin"), ("gcc_version", "0.0.0"),
        ("process_id", server.pid), ("process_supervised", "no"), ("run_id", server.run_id),
        ("tcp_port", server.config.port), ("server_time_usec", int(time.time() * 1e6)),
        ("uptime_in_seconds", int(up)), ("uptime_in_days", int(up // 86400)),
        ("hz", server.config.hz), ("configured_hz", server.config.hz),
        ("lru_clock", server.lru_clock & 0xFFFFFF),
        ("executable", os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else ""),
        ("config_file", os.path.abspath(server.config.config_file) if server.config.config_file else ""),
        ("io_threads_active", 0),
        ("emberkv_version", __version__), ("emberkv_engine", server.config.engine),
    ]


@info_section("clients")
def _info_clients(server):
    clients = server.clients.values()
    return [
        ("connected_clients", len(server.clients)), ("cluster_connections", 0),
        ("maxclients", server.config.maxclients),
        ("client_recent_max_input_buffer", 0), ("client_recent_max_output_buffer", 0),
        # Clients held by CLIENT PAUSE count as blocked, as in Redis.
        ("blocked_clients", server.blocking.count + len(server.blocking.paused)),
        ("tracking_clients", sum(1 for c in clients if c.tracking is not None)),
        ("clients_in_timeout_table", sum(1 for w in server.blocking.waiting.values() for x in w if x.timer)),
    ]


@info_section("memory")
def _info_memory(server):
    used = server.used_memory()
    rss = server.used_memory_cache or used
    peak = max(server.peak_memory, used)
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        total = 0
    maxmem = server.config.maxmemory
    return [
        ("used_memory", used), ("used_memory_human", human_bytes(used)),
        ("used_memory_rss", rss), ("used_memory_rss_human", human_bytes(rss)),
        ("used_memory_peak", peak), ("used_memory_peak_human", human_bytes(peak)),
        ("used_memory_peak_perc", "%.2f%%" % (100.0 * used / peak if peak else 100.0)),
        ("used_memory_overhead", 0), ("used_memory_startup", 0), ("used_memory_dataset", used),
        ("used_memory_dataset_perc", "100.00%"),
        ("allocator_allocated", used), ("allocator_active", rss), ("allocator_resident", rss),
        ("total_system_memory", total), ("total_system_memory_human", human_bytes(total)),
        ("used_memory_lua", 31744), ("used_memory_vm_eval", 31744), ("used_memory_lua_human", "31.00K"),
        ("used_memory_scripts_eval", 0), ("number_of_cached_scripts", _count(server, "scripts")),
        ("number_of_functions", _count(server, "functions")),
        ("number_of_libraries", _count(server, "libraries")),
        ("used_memory_vm_functions", 32768), ("used_memory_vm_total", 64512),
        ("used_memory_vm_total_human", "63.00K"), ("used_memory_functions", 184),
        ("used_memory_scripts", 184), ("used_memory_scripts_human", "184B"),
        ("maxmemory", maxmem), ("maxmemory_human", human_bytes(maxmem)),
        ("maxmemory_policy", server.config.maxmemory_policy),
        ("allocator_frag_ratio", "1.00"), ("allocator_frag_bytes", 0),
        ("allocator_rss_ratio", "1.00"), ("allocator_rss_bytes", 0),
        ("rss_overhead_ratio", "1.00"), ("rss_overhead_bytes", 0),
        ("mem_fragmentation_ratio", "1.00"), ("mem_fragmentation_bytes", 0),
        ("mem_not_counted_for_evict", 0), ("mem_replication_backlog", 0),
        ("mem_total_replication_buffers", 0), ("mem_clients_slaves", 0),
        ("mem_clients_normal", 0), ("mem_cluster_links", 0), ("mem_aof_buffer", 0),
        ("mem_allocator", "libc"), ("active_defrag_running", 0),
        ("lazyfree_pending_objects", len(server.lazyfree_queue)),
        ("lazyfreed_objects", server.lazyfreed_objects),
    ]


def _count(server, what):
    scripting = getattr(server, "scripting", None)
    if scripting is None:
        return 0
    return getattr(scripting, "count_" + what, lambda: 0)()


@info_section("persistence")
def _info_persistence(server):
    return [
        ("loading", int(server.loading)), ("async_loading", 0), ("current_cow_peak", 0),
        ("current_cow_size", 0), ("current_cow_size_age", 0), ("current_fork_perc", "0.00"),
        ("current_save_keys_processed", 0), ("current_save_keys_total", 0),
        ("rdb_changes_since_last_save", server.dirty), ("rdb_bgsave_in_progress", 0),
        ("rdb_last_save_time", server.lastsave), ("rdb_last_bgsave_status", "ok"),
        ("rdb_last_bgsave_time_sec", -1), ("rdb_current_bgsave_time_sec", -1),
        ("rdb_saves", 0), ("rdb_last_cow_size", 0), ("rdb_last_load_keys_expired", 0),
        ("rdb_last_load_keys_loaded", 0), ("aof_enabled", int(server.config.appendonly)),
        ("aof_rewrite_in_progress", 0), ("aof_rewrite_scheduled", 0),
        ("aof_last_rewrite_time_sec", -1), ("aof_current_rewrite_time_sec", -1),
        ("aof_last_bgrewrite_status", "ok"), ("aof_rewrites", 0),
        ("aof_rewrites_consecutive_failures", 0), ("aof_last_write_status", "ok"),
        ("aof_last_cow_size", 0), ("module_fork_in_progress", 0), ("module_fork_last_cow_size", 0),
    ]


@info_section("stats")
def _info_stats(server):
    st = server.stats
    server._sample_ops()
    tracking = server.tracking
    return [
        ("total_connections_received", st.total_connections_received),
        ("total_commands_processed", server.commands_processed),
        ("instantaneous_ops_per_sec", server.instantaneous[0]),
        ("total_net_input_bytes", st.net_input_bytes), ("total_net_output_bytes", st.net_output_bytes),
        ("total_net_repl_input_bytes", 0), ("total_net_repl_output_bytes", 0),
        ("instantaneous_input_kbps", "0.00"), ("instantaneous_output_kbps", "0.00"),
        ("instantaneous_input_repl_kbps", "0.00"), ("instantaneous_output_repl_kbps", "0.00"),
        ("rejected_connections", st.rejected_connections), ("sync_full", st.sync_full),
        ("sync_partial_ok", st.sync_partial_ok), ("sync_partial_err", st.sync_partial_err),
        ("expired_keys", st.expired_keys), ("expired_stale_perc", "%.2f" % st.expired_stale_perc),
        ("expired_time_cap_reached_count", st.expired_time_cap_reached_count),
        ("expire_cycle_cpu_milliseconds", st.expire_cycle_cpu_milliseconds),
        ("evicted_keys", st.evicted_keys), ("evicted_clients", st.evicted_clients),
        ("total_eviction_exceeded_time", 0), ("current_eviction_exceeded_time", 0),
        ("keyspace_hits", st.keyspace_hits), ("keyspace_misses", st.keyspace_misses),
        ("pubsub_channels", len(server.pubsub.channels)),
        ("pubsub_patterns", len(server.pubsub.patterns)),
        ("pubsubshard_channels", len(server.pubsub.shard_channels)),
        ("latest_fork_usec", getattr(server, "latest_fork_usec", 0)),
        ("total_forks", getattr(server, "total_forks", 0)), ("migrate_cached_sockets", 0),
        ("slave_expires_tracked_keys", 0), ("active_defrag_hits", 0), ("active_defrag_misses", 0),
        ("active_defrag_key_hits", 0), ("active_defrag_key_misses", 0),
        ("total_active_defrag_time", 0), ("current_active_defrag_time", 0),
        ("tracking_total_keys", tracking.total_keys() if tracking else 0),
        ("tracking_total_items", tracking.total_items() if tracking else 0),
        ("tracking_total_prefixes", tracking.total_prefixes() if tracking else 0),
        ("unexpected_error_replies", st.unexpected_error_replies),
        ("total_error_replies", st.total_error_replies),
        ("dump_payload_sanitizations", st.dump_payload_sanitizations),
        ("total_reads_processed", server.commands_processed),
        ("total_writes_processed", server.commands_processed),
        ("io_threaded_reads_processed", 0), ("io_threaded_writes_processed", 0),
        ("reply_buffer_shrinks", 0), ("reply_buffer_expands", 0),
    ]


@info_section("replication")
def _info_replication(server):
    return [
        ("role", "master"), ("connected_slaves", 0), ("master_failover_state", "no-failover"),
        ("master_replid", server.run_id), ("master_replid2", "0" * 40),
        ("master_repl_offset", 0), ("second_repl_offset", -1), ("repl_backlog_active", 0),
        ("repl_backlog_size", server.config.repl_backlog_size), ("repl_backlog_first_byte_offset", 0),
        ("repl_backlog_histlen", 0),
    ]


@info_section("cpu")
def _info_cpu(server):
    me = resource.getrusage(resource.RUSAGE_SELF)
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    return [
        ("used_cpu_sys", "%.6f" % me.ru_stime), ("used_cpu_user", "%.6f" % me.ru_utime),
        ("used_cpu_sys_children", "%.6f" % ch.ru_stime), ("used_cpu_user_children", "%.6f" % ch.ru_utime),
        ("used_cpu_sys_main_thread", "%.6f" % me.ru_stime),
        ("used_cpu_user_main_thread", "%.6f" % me.ru_utime),
    ]


@info_section("module_list")
def _info_modules(server):
    return []


@info_section("errorstats")
def _info_errorstats(server):
    return [("errorstat_" + code.decode(errors="replace"), "count=%d" % n)
            for code, n in sorted(server.errorstats.items())]


@info_section("cluster")
def _info_cluster(server):
    return [("cluster_enabled", int(server.config.cluster_enabled))]


@info_section("keyspace")
def _info_keyspace(server):
    out = []
    now = server.now_ms()
    for db in server.dbs:
        n = len(db)
        if n:
            avg = 0
            if hasattr(db, "expires") and db.expires:
                sample = list(db.expires.values())[:256]
                avg = int(sum(max(0, w - now) for w in sample) / len(sample))
            out.append(("db%d" % db.index, "keys=%d,expires=%d,avg_ttl=%d" % (n, db.expires_count(), avg)))
    return out


def _all_commands():
    for cmd in CANONICAL.values():
        if cmd.func is not None:
            yield cmd
        if cmd.subcommands:
            yield from cmd.subcommands.values()


@info_section("commandstats")
def _info_commandstats(server):
    out = []
    for cmd in _all_commands():
        if cmd.calls or cmd.rejected_calls or cmd.failed_calls:
            out.append(("cmdstat_" + cmd.fullname,
                        "calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=%d,failed_calls=%d" % (
                            cmd.calls, cmd.usec, (cmd.usec / cmd.calls) if cmd.calls else 0.0,
                            cmd.rejected_calls, cmd.failed_calls)))
    return out


@info_section("latencystats")
def _info_latencystats(server):
    out = []
    for cmd in _all_commands():
        if cmd.calls:
            us = cmd.usec / cmd.calls
            out.append(("latency_percentiles_usec_" + cmd.fullname,
                        "p50=%.3f,p99=%.3f,p99.9=%.3f" % (us, us, us)))
    return out


_SECTION_TITLES = {"module_list": "Modules", "cpu": "CPU", "errorstats": "Errorstats",
                   "commandstats": "Commandstats", "latencystats": "Latencystats"}


def render_info(server, sections: list[str]) -> bytes:
    wanted: list[str] = []
    if not sections:
        wanted = list(DEFAULT_SECTIONS)
    for s in sections:
        s = s.lower()
        if s == "default":
            wanted += DEFAULT_SECTIONS
        elif s in ("all", "everything"):
            wanted += DEFAULT_SECTIONS + ALL_EXTRA
        elif s == "modules":
            wanted.append("module_list")
        else:
            wanted.append(s)
    seen = set()
    parts = []
    for name in wanted:
        if name in seen or name not in INFO_SECTIONS:
            continue
        seen.add(name)
        title = _SECTION_TITLES.get(name, name.capitalize())
        lines = ["# " + title]
        for k, v in INFO_SECTIONS[name](server):
            lines.append("%s:%s" % (k, v))
        parts.append("\r\n".join(lines) + "\r\n")
    return "\r\n".join(parts).encode()


@command("info", -1, "loading stale sentinel", acl="@dangerous", since="1.0.0",
         summary="Returns information and statistics about the server.", tips=("nondeterministic_output",))
def info(c, argv):
    return Verbatim(render_info(c.server, [a.decode(errors="replace") for a in argv[1:]]))


# --- CONFIG ------------------------------------------------------------------------------------------
container("config", since="2.0.0", summary="A container for server configuration commands.")


@command("config|get", -3, "admin noscript loading stale", since="2.0.0",
         summary="Returns the effective values of configuration parameters.")
def config_get(c, argv):
    out = {}
    for pat in argv[2:]:
        for k, v in c.server.config.get_matching(pat.decode(errors="replace")).items():
            out[k.encode()] = v.encode()
    return out


@command("config|set", -4, "admin noscript loading stale may_replicate", since="2.0.0",
         summary="Sets configuration parameters in-flight.")
def config_set(c, argv):
    if len(argv) % 2:
        err(b"ERR wrong number of arguments for 'config|set' command")
    cfg = c.server.config
    pairs = []
    seen = set()
    for i in range(2, len(argv), 2):
        name = argv[i].decode(errors="replace")
        s = cfg.lookup(name)
        if s is None:
            err(b"ERR Unknown option or number of arguments for CONFIG SET - '%s'" % argv[i])
        if s.name in seen:
            err(b"ERR CONFIG SET failed (possibly related to argument '%s') - duplicate parameter" % argv[i])
        seen.add(s.name)
        if not s.mutable:
            err(b"ERR CONFIG SET failed (possibly related to argument '%s') - can't set immutable config" % argv[i])
        pairs.append((name, argv[i + 1].decode(errors="surrogateescape")))
    old = {p[0]: cfg.values[cfg.lookup(p[0]).name] for p in pairs}
    done = []
    for name, value in pairs:
        s = cfg.lookup(name)
        try:
            args = [value] if s.kind != "special" or s.name in ("dir", "notify-keyspace-events") else value.split()
            if s.kind == "special" and s.name == "save" and not value.strip():
                args = [""]
            cfg.set(name, args)
            done.append(name)
        except ConfigError as e:
            for n in done:  # roll back what was applied, as Redis does
                try:
                    cfg.values[cfg.lookup(n).name] = old[n]
                    cfg._refresh(cfg.lookup(n).name)
                except Exception:
                    pass
            err(("ERR CONFIG SET failed (possibly related to argument '%s') - %s" % (name, e)).encode())
    return OK


@command("config|resetstat", 2, "admin noscript loading stale", since="2.0.0",
         summary="Resets the server's statistics.")
def config_resetstat(c, argv):
    server = c.server
    server.stats.reset()
    server.commands_processed = 0
    server.lazyfreed_objects = 0
    server.errorstats.clear()
    for cmd in _all_commands():
        cmd.reset_stats()
    server.slowlog.clear()
    server.stats.net_input_bytes = server.stats.net_output_bytes = 0
    server._closed_in = -sum(x.tot_net_in for x in server.clients.values())
    server._closed_out = -sum(x.tot_net_out for x in server.clients.values())
    return OK


@command("config|rewrite", 2, "admin noscript loading stale", since="2.8.0",
         summary="Persists the effective configuration to file.")
def config_rewrite(c, argv):
    try:
        c.server.config.rewrite()
    except ConfigError as e:
        err(("ERR " + str(e)).encode())
    except OSError as e:
        err(("ERR Rewriting config file: " + (e.strerror or str(e))).encode())
    return OK


@command("config|help", 2, "loading stale", since="5.0.0", summary="Returns helpful text about the different subcommands.")
def config_help(c, argv):
    lines = [
        "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET <pattern>", "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>", "    Set the configuration <directive> to <value>.",
        "RESETSTAT", "    Reset statistics reported by the INFO command.",
        "REWRITE", "    Rewrite the configuration file.",
        "HELP", "    Print this help.",
    ]
    return [Status(l.encode()) for l in lines]


# --- misc ---------------------------------------------------------------------------------------------
@command("time", 1, "loading stale fast", since="2.6.0", summary="Returns the server time.",
         tips=("nondeterministic_output",))
def time_(c, argv):
    now = time.time()
    s = int(now)
    return [b"%d" % s, b"%d" % int((now - s) * 1_000_000)]


@command("lastsave", 1, "loading stale fast", acl="@admin @dangerous", since="1.0.0",
         summary="Returns the Unix timestamp of the last successful save to disk.")
def lastsave(c, argv):
    return c.server.lastsave


@command("monitor", 1, "admin noscript loading stale", since="1.0.0",
         summary="Listens for all requests received by the server in real-time.")
def monitor(c, argv):
    if c.is_monitor:
        return OK
    c.is_monitor = True
    c.server.monitors.append(c)
    return OK


container("slowlog", since="2.2.12", summary="A container for slow log commands.")


@command("slowlog|get", -2, "admin loading stale", since="2.2.12", summary="Returns the slow log's entries.")
def slowlog_get(c, argv):
    count = 10
    if len(argv) == 3:
        count = try_int(argv[2])
        if count is None or count < -1:
            err(b"ERR count should be greater than or equal to -1")
        if count == -1:
            count = len(c.server.slowlog)
    elif len(argv) > 3:
        err(b"ERR wrong number of arguments for 'slowlog|get' command")
    out = []
    for (eid, ts, dur, args, addr, name) in list(c.server.slowlog)[:count]:
        out.append([eid, ts, dur, list(args), addr, name])
    return out


@command("slowlog|len", 2, "admin loading stale", since="2.2.12", summary="Returns the number of entries in the slow log.")
def slowlog_len(c, argv):
    return len(c.server.slowlog)


@command("slowlog|reset", 2, "admin loading stale", since="2.2.12", summary="Clears all entries from the slow log.")
def slowlog_reset(c, argv):
    c.server.slowlog.clear()
    return OK


@command("slowlog|help", 2, "loading stale", since="6.2.0", summary="Show helpful text about the different subcommands")
def slowlog_help(c, argv):
    lines = [
        "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP and port,",
        "    client name",
        "LEN", "    Return the length of the slowlog.",
        "RESET", "    Reset the slowlog.",
        "HELP", "    Print this help.",
    ]
    return [Status(l.encode()) for l in lines]


container("latency", since="2.8.13", summary="A container for latency diagnostics commands.")


@command("latency|latest", 2, "admin noscript loading stale", since="2.8.13",
         summary="Returns the latest latency samples for all events.")
def latency_latest(c, argv):
    out = []
    for name, h in c.server.latency_events.items():
        if h["samples"]:
            ts, ms = h["samples"][-1]
            out.append([name.encode(), ts, ms, h["max"]])
    return out


@command("latency|history", 3, "admin noscript loading stale", since="2.8.13",
         summary="Returns timestamp-latency samples for an event.")
def latency_history(c, argv):
    h = c.server.latency_events.get(argv[2].decode(errors="replace"))
    if h is None:
        return []
    return [[ts, ms] for ts, ms in h["samples"]]


@command("latency|reset", -2, "admin noscript loading stale", since="2.8.13",
         summary="Resets the latency data for one or more events.")
def latency_reset(c, argv):
    ev = c.server.latency_events
    if len(argv) == 2:
        n = len(ev)
        ev.clear()
        return n
    n = 0
    for a in argv[2:]:
        if ev.pop(a.decode(errors="replace"), None) is not None:
            n += 1
    return n


@command("latency|doctor", 2, "admin noscript loading stale", since="2.8.13",
         summary="Returns a human-readable latency analysis report.")
def latency_doctor(c, argv):
    ev = c.server.latency_events
    if not ev:
        return Verbatim(b"Dave, no latency spike was observed during the lifetime of this Redis "
                        b"instance, not in the slightest bit. I honestly think you ought to sleep "
                        b"better and consider whether you're working too hard.\n")
    lines = ["Dave, I have observed latency spikes in this Redis instance. "
             "You don't mind talking about it, do you Dave?", ""]
    for i, (name, h) in enumerate(ev.items(), 1):
        s = h["samples"]
        avg = sum(ms for _, ms in s) // max(1, len(s))
        lines.append("%d. %s: %d latency spikes (average %dms, mean deviation 0ms, period 0 sec). "
                     "Worst all time event %dms." % (i, name, len(s), avg, h["max"]))
    return Verbatim(("\n".join(lines) + "\n").encode())


@command("latency|graph", 3, "admin noscript loading stale", since="2.8.13",
         summary="Returns a latency graph for an event.")
def latency_graph(c, argv):
    name = argv[2].decode(errors="replace")
    h = c.server.latency_events.get(name)
    if h is None:
        err(b"ERR No samples available for event '%s'" % argv[2])
    s = h["samples"]
    return Verbatim(("%s - high %d ms, low %d ms (all time high %d ms)\n" % (
        name, max(ms for _, ms in s), min(ms for _, ms in s), h["max"])).encode())


@command("latency|histogram", -2, "admin noscript loading stale", since="7.0.0",
         summary="Returns the cumulative distribution of latencies of a subset or all commands.")
def latency_histogram(c, argv):
    wanted = set()
    for a in argv[2:]:
        name = a.decode(errors="replace").lower()
        wanted.add(name)
        parent = CANONICAL.get(name)
        if parent is not None and parent.subcommands:
            wanted.update(sub.fullname for sub in parent.subcommands.values())
    out = {}
    for cmd in _all_commands():
        if cmd.calls and (not wanted or cmd.fullname in wanted):
            # Per-command histograms are not kept on the hot path: the bucket of the mean
            # latency (a power of two, as Redis's buckets) carries every call.
            us = max(1, int(cmd.usec // cmd.calls))
            bucket = 1 << (us - 1).bit_length()
            out[cmd.fullname.encode()] = {b"calls": cmd.calls,
                                          b"histogram_usec": {bucket: cmd.calls}}
    return out


@command("latency|help", 2, "loading stale", since="2.8.13", summary="Returns helpful text about the different subcommands.")
def latency_help(c, argv):
    lines = [
        "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DOCTOR", "    Return a human readable latency analysis report.",
        "GRAPH <event>", "    Return an ASCII latency graph for the <event> class.",
        "HISTORY <event>", "    Return time-latency samples for the <event> class.",
        "LATEST", "    Return the latest latency samples for all events.",
        "RESET [<event> ...]", "    Reset latency data of one or more <event> classes.",
        "    (default: reset all data for all event classes)",
        "HISTOGRAM [COMMAND ...]",
        "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
        "    If no commands are specified then all histograms are replied.",
        "HELP", "    Print this help.",
    ]
    return [Status(l.encode()) for l in lines]


@command("shutdown", -1, "admin noscript loading stale no_multi sentinel allow_busy", since="1.0.0",
         summary="Synchronously saves the database(s) to disk and shuts down the Redis server.")
def shutdown(c, argv):
    save = None
    for a in argv[1:]:
        o = a.lower()
        if o == b"nosave":
            if save is True:
                err(SYNTAX)
            save = False
        elif o == b"save":
            if save is False:
                err(SYNTAX)
            save = True
        elif o in (b"now", b"force", b"abort"):
            if o == b"abort":
                err(b"ERR No shutdown in progress.")
        else:
            err(SYNTAX)
    server = c.server
    if server.finish_shutdown(save):
        c.close_after_reply = True
        return None  # the connection just closes, as with Redis
    err(b"ERR Errors trying to SHUTDOWN. Check logs.")


# --- DEBUG (a safe subset) -------------------------------------------------------------------------------
@command("debug", -2, "admin noscript loading stale", since="1.0.0", summary="A container for debugging commands.")
def debug(c, argv):
    sub = argv[1].lower()
    server = c.server
    if sub == b"sleep" and len(argv) == 3:
        secs = float(argv[2])
        time.sleep(secs)
        return OK
    if sub == b"set-active-expire" and len(argv) == 3:
        server.active_expire_enabled = argv[2] != b"0"
        return OK
    if sub == b"jmap":
        return OK
    if sub == b"quicklist-packed-threshold":
        return OK
    if sub == b"change-repl-id":
        server.run_id = os.urandom(20).hex()
        return OK
    if sub == b"object" and len(argv) == 3:
        v = c.db.lookup_notouch(argv[2])
        if v is None:
            err(b"ERR no such key")
        from .keys import encoding_of
        return Status(b"Value at:0x0 refcount:1 encoding:%s serializedlength:%d lru:0 lru_seconds_idle:%d"
                      % (encoding_of(server, v), len(v) if type(v) is bytes else len(v),
                         c.db.idle_ms(argv[2]) // 1000))
    if sub == b"help":
        return [Status(b"DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"),
                Status(b"SLEEP <seconds>"), Status(b"SET-ACTIVE-EXPIRE <0|1>"), Status(b"OBJECT <key>")]
    err(b"ERR unknown subcommand or wrong number of arguments for '%s'. Try DEBUG HELP." % argv[1])


@command("lolwut", -1, "readonly fast", since="5.0.0", summary="Displays computer art and the Redis version")
def lolwut(c, argv):
    return Verbatim(("EmberKV ver. %s (Redis %s compatible)\n" % (__version__, REDIS_VERSION)).encode())


@command("role", 1, "noscript loading stale fast sentinel", acl="@admin @dangerous", since="2.8.12",
         summary="Returns the replication role.")
def role(c, argv):
    return [b"master", 0, []]
