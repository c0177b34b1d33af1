"""CLUSTER, READONLY, READWRITE, ASKING for a server running without cluster mode.

Cluster mode is not built yet: every CLUSTER subcommand answers as a Redis with
`cluster-enabled no` does.  The subcommands are still declared so COMMAND and ACL
see the same table as Redis.
"""

from __future__ import annotations

from .common import err
from .registry import command, container

_DISABLED = b"ERR This instance has cluster support disabled"

# name, arity, flags, since (Redis 7.0 facts)
_SUBCOMMANDS = [
    ("addslots", -3, "no_async_loading admin stale", "3.0.0"),
    ("addslotsrange", -4, "no_async_loading admin stale", "7.0.0"),
    ("bumpepoch", 2, "no_async_loading admin stale", "3.0.0"),
    ("count-failure-reports", 3, "admin stale", "3.0.0"),
    ("countkeysinslot", 3, "stale", "3.0.0"),
    ("delslots", -3, "no_async_loading admin stale", "3.0.0"),
    ("delslotsrange", -4, "no_async_loading admin stale", "7.0.0"),
    ("failover", -2, "no_async_loading admin stale", "3.0.0"),
    ("flushslots", 2, "no_async_loading admin stale", "3.0.0"),
    ("forget", 3, "no_async_loading admin stale", "3.0.0"),
    ("getkeysinslot", 4, "stale", "3.0.0"),
    ("help", 2, "loading stale", "5.0.0"),
    ("info", 2, "stale", "3.0.0"),
    ("keyslot", 3, "stale", "3.0.0"),
    ("links", 2, "stale", "7.0.0"),
    ("meet", -4, "no_async_loading admin stale", "3.0.0"),
    ("myid", 2, "stale", "3.0.0"),
    ("nodes", 2, "stale", "3.0.0"),
    ("replicas", 3, "admin stale", "5.0.0"),
    ("replicate", 3, "no_async_loading admin stale", "3.0.0"),
    ("reset", -2, "admin stale noscript", "3.0.0"),
    ("saveconfig", 2, "no_async_loading admin stale", "3.0.0"),
    ("set-config-epoch", 3, "no_async_loading admin stale", "3.0.0"),
    ("setslot", -4, "no_async_loading admin stale", "3.0.0"),
    ("shards", 2, "stale", "7.0.0"),
    ("slaves", 3, "admin stale", "3.0.0"),
    ("slots", 2, "stale", "3.0.0"),
]

container("cluster", group="cluster", since="3.0.0", summary="A container for Redis Cluster commands.")


def _disabled(c, argv):
    err(_DISABLED)


for _name, _arity, _flags, _since in _SUBCOMMANDS:
    command("cluster|" + _name, _arity, _flags, group="cluster", since=_since,
            summary="Redis Cluster subcommand %s (needs cluster mode)." % _name.upper())(_disabled)


@command("readonly", 1, "fast loading stale", acl="@connection", group="cluster", since="3.0.0",
         summary="Enables read-only queries for a connection to a Redis Cluster replica node.")
def readonly(c, argv):
    err(_DISABLED)


@command("readwrite", 1, "fast loading stale", acl="@connection", group="cluster", since="3.0.0",
         summary="Enables read-write queries for a connection to a Redis Cluster replica node.")
def readwrite(c, argv):
    err(_DISABLED)


@command("asking", 1, "fast", acl="@connection", group="cluster", since="3.0.0",
         summary="Signals that a cluster client is following an -ASK redirect.")
def asking(c, argv):
    err(_DISABLED)
