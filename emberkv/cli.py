"""`emberkv-server [redis.conf] [--port 6380 --dir ... --engine disk ...]`, redis-server style."""

from __future__ import annotations

import asyncio
import os
import sys

from . import REDIS_VERSION, __version__
from .config import Config, ConfigError


def _quote(arg: str) -> str:
    if arg == "" or any(ch in arg for ch in " \t\"'\\"):
        return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return arg


def build_config(argv: list[str]) -> Config:
    """A config file (optional first argument) followed by `--name value...` overrides."""
    cfg = Config()
    text = ""
    i = 0
    if argv and not argv[0].startswith("--"):
        path = argv[0]
        if path == "-":
            text += sys.stdin.read() + "\n"
        else:
            try:
                with open(path) as fh:
                    text += fh.read() + "\n"
            except OSError as e:
                raise ConfigError("Fatal error, can't open config file '%s': %s" % (path, e.strerror))
            cfg.config_file = path
        i = 1
    options = []
    while i < len(argv):
        a = argv[i]
        if a.startswith("--"):
            options.append([a[2:]])
        elif options:
            options[-1].append(a)
        else:
            raise ConfigError("Invalid argument '%s'" % a)
        i += 1
    for opt in options:
        if len(opt) == 1:
            opt.append("yes" if opt[0] not in ("save",) else "")
        text += " ".join([opt[0]] + [_quote(x) for x in opt[1:]]) + "\n"
    cfg.load_lines(text)
    return cfg


def _daemonize() -> None:
    if os.fork() > 0:
        os._exit(0)
    os.setsid()
    if os.fork() > 0:
        os._exit(0)
    fd = os.open(os.devnull, os.O_RDWR)
    for n in (0, 1, 2):
        os.dup2(fd, n)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("-v", "--version"):
        print("EmberKV server v=%s (Redis %s compatible) python=%s" % (
            __version__, REDIS_VERSION, sys.version.split()[0]))
        return 0
    if argv and argv[0] in ("-h", "--help"):
        print("Usage: emberkv-server [/path/to/redis.conf] [options] [-]\n"
              "       emberkv-server -v or --version\n"
              "       emberkv-server -h or --help\n\n"
              "Examples:\n"
              "       emberkv-server (run the server with default conf)\n"
              "       emberkv-server /etc/redis/6379.conf\n"
              "       emberkv-server --port 7777\n"
              "       emberkv-server --port 7777 --replicaof 127.0.0.1 8888\n"
              "       emberkv-server /etc/myredis.conf --loglevel verbose -\n"
              "       emberkv-server --engine disk --dir /var/lib/emberkv")
        return 0
    try:
        cfg = build_config(argv)
    except ConfigError as e:
        print(str(e), file=sys.stderr)
        return 1
    if cfg.dir:
        try:
            os.chdir(cfg.dir)
        except OSError as e:
            print("Can't chdir to '%s': %s" % (cfg.dir, e.strerror), file=sys.stderr)
            return 1
    if cfg.daemonize:
        _daemonize()
    try:
        import uvloop
        loop_name = "uvloop"
    except ImportError:
        uvloop = None
        loop_name = "asyncio"
    from .commands import load_all
    load_all()
    from .server.server import Server
    server = Server(cfg)
    if cfg.pidfile:
        with open(cfg.pidfile, "w") as fh:
            fh.write("%d\n" % os.getpid())
    server.log_notice("oO0OoO0OoO0Oo EmberKV is starting oO0OoO0OoO0Oo")
    server.log_notice("EmberKV version=%s (Redis %s compatible), engine=%s, pid=%d, event loop=%s"
                      % (__version__, REDIS_VERSION, cfg.engine, os.getpid(), loop_name))
    if cfg.config_file:
        server.log_notice("Configuration loaded from %s" % cfg.config_file)
    else:
        server.log_warning("Warning: no config file specified, using the default config.")

    loop = uvloop.new_event_loop() if uvloop is not None else asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server.loop = loop
    try:
        loop.run_until_complete(server.start())
        server.log_notice("Running mode=standalone, port=%d." % cfg.port)
        for hook in getattr(server, "startup_hooks", ()):
            hook()
        loop.run_forever()
    except SystemExit as e:
        return int(e.code or 0)
    except KeyboardInterrupt:
        pass
    finally:
        try:
            loop.close()
        except Exception:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
