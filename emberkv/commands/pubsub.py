"""Pub/Sub commands: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBLISH, SPUBLISH, PUBSUB *.

Subscription confirmations are pushes: like messages they reach the client even
under CLIENT REPLY OFF, so they are written straight to its output and the
command itself returns an empty reply.  Inside EXEC they become the command's
reply (one array element per channel, as Redis writes them).
"""

from __future__ import annotations

from ..config import parse_memory
from ..protocol.reply import Push, Raw, Status
from ..server.server import on_server_init
from ..util.glob import glob_matcher
from .common import err
from .registry import command, container

NO_REPLY = Raw(b"")


def _emit(c, pushes: list):
    if c.in_exec:
        out: list = []
        for p in pushes:
            c.encode(p, out)
        return Raw(b"".join(out))
    if not c.closing:
        for p in pushes:
            c.encode(p, c.out)
    return NO_REPLY


def _count(c) -> int:
    """Classic subscriptions (channels + patterns): the count in (P)SUBSCRIBE replies."""
    return len(c.channels) + len(c.patterns)


@command("subscribe", -2, "pubsub noscript loading stale sentinel", group="pubsub", since="2.0.0",
         summary="Listens for messages published to channels.")
def subscribe(c, argv):
    ps = c.server.pubsub
    pushes = []
    for ch in argv[1:]:
        ps.subscribe(c, ch)
        pushes.append(Push([b"subscribe", ch, _count(c)]))
    return _emit(c, pushes)


@command("unsubscribe", -1, "pubsub noscript loading stale sentinel", group="pubsub", since="2.0.0",
         summary="Stops listening to messages posted to channels.")
def unsubscribe(c, argv):
    ps = c.server.pubsub
    pushes = []
    for ch in (argv[1:] if len(argv) > 1 else list(c.channels)):
        ps.unsubscribe(c, ch)
        pushes.append(Push([b"unsubscribe", ch, _count(c)]))
    if not pushes:
        pushes.append(Push([b"unsubscribe", None, _count(c)]))
    return _emit(c, pushes)


@command("psubscribe", -2, "pubsub noscript loading stale sentinel", group="pubsub", since="2.0.0",
         summary="Listens for messages published to channels that match one or more patterns.")
def psubscribe(c, argv):
    ps = c.server.pubsub
    pushes = []
    for pat in argv[1:]:
        ps.psubscribe(c, pat)
        pushes.append(Push([b"psubscribe", pat, _count(c)]))
    return _emit(c, pushes)


@command("punsubscribe", -1, "pubsub noscript loading stale sentinel", group="pubsub", since="2.0.0",
         summary="Stops listening to messages published to channels that match one or more patterns.")
def punsubscribe(c, argv):
    ps = c.server.pubsub
    pushes = []
    for pat in (argv[1:] if len(argv) > 1 else list(c.patterns)):
        ps.punsubscribe(c, pat)
        pushes.append(Push([b"punsubscribe", pat, _count(c)]))
    if not pushes:
        pushes.append(Push([b"punsubscribe", None, _count(c)]))
    return _emit(c, pushes)


@command("ssubscribe", -2, "pubsub noscript loading stale", 1, -1, 1, group="pubsub", since="7.0.0",
         summary="Listens for messages published to shard channels.")
def ssubscribe(c, argv):
    if c.in_exec:
        err(b"ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client")
    ps = c.server.pubsub
    pushes = []
    for ch in argv[1:]:
        ps.subscribe(c, ch, shard=True)
        pushes.append(Push([b"ssubscribe", ch, len(c.shard_channels)]))
    return _emit(c, pushes)


@command("sunsubscribe", -1, "pubsub noscript loading stale", 1, -1, 1, group="pubsub", since="7.0.0",
         summary="Stops listening to messages posted to shard channels.")
def sunsubscribe(c, argv):
    ps = c.server.pubsub
    pushes = []
    for ch in (argv[1:] if len(argv) > 1 else list(c.shard_channels)):
        ps.unsubscribe(c, ch, shard=True)
        pushes.append(Push([b"sunsubscribe", ch, len(c.shard_channels)]))
    if not pushes:
        pushes.append(Push([b"sunsubscribe", None, len(c.shard_channels)]))
    return _emit(c, pushes)


@command("publish", 3, "pubsub loading stale fast may_replicate sentinel", group="pubsub",
         since="2.0.0", summary="Posts a message to a channel.")
def publish(c, argv):
    return c.server.pubsub.publish(argv[1], argv[2])


@command("spublish", 3, "pubsub loading stale fast may_replicate", 1, 1, 1, group="pubsub",
         since="7.0.0", summary="Posts a message to a shard channel.")
def spublish(c, argv):
    return c.server.pubsub.publish(argv[1], argv[2], shard=True)


# --- PUBSUB introspection ------------------------------------------------------------------------
container("pubsub", group="pubsub", since="2.8.0", summary="A container for Pub/Sub commands.")


def _channel_list(c, argv, table):
    if len(argv) > 3:
        _syntax(argv)
    if len(argv) == 2:
        return list(table)
    match = glob_matcher(argv[2])
    return [ch for ch in table if match(ch)]


def _syntax(argv):
    err(b"ERR unknown subcommand or wrong number of arguments for '%s'. Try %s HELP."
        % (argv[1][:128], argv[0].upper()))


@command("pubsub|channels", -2, "pubsub loading stale", group="pubsub", since="2.8.0",
         summary="Returns the active channels.")
def pubsub_channels(c, argv):
    return _channel_list(c, argv, c.server.pubsub.channels)


@command("pubsub|shardchannels", -2, "pubsub loading stale", group="pubsub", since="7.0.0",
         summary="Returns the active shard channels.")
def pubsub_shardchannels(c, argv):
    return _channel_list(c, argv, c.server.pubsub.shard_channels)


def _numsub(argv, table):
    out = []
    for ch in argv[2:]:
        out.append(ch)
        out.append(len(table.get(ch, ())))
    return out


@command("pubsub|numsub", -2, "pubsub loading stale", group="pubsub", since="2.8.0",
         summary="Returns a count of subscribers to channels.")
def pubsub_numsub(c, argv):
    return _numsub(argv, c.server.pubsub.channels)


@command("pubsub|shardnumsub", -2, "pubsub loading stale", group="pubsub", since="7.0.0",
         summary="Returns the count of subscribers of shard channels.")
def pubsub_shardnumsub(c, argv):
    return _numsub(argv, c.server.pubsub.shard_channels)


@command("pubsub|numpat", 2, "pubsub loading stale", group="pubsub", since="2.8.0",
         summary="Returns a count of unique pattern subscriptions.")
def pubsub_numpat(c, argv):
    return len(c.server.pubsub.patterns)


@command("pubsub|help", 2, "loading stale", group="pubsub", since="6.2.0",
         summary="Returns helpful text about the different subcommands.")
def pubsub_help(c, argv):
    lines = [
        "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
        "HELP",
        "    Prints this help.",
    ]
    return [Status(line.encode()) for line in lines]


# --- output-buffer limits for subscribers ---------------------------------------------------------

def pubsub_limits(text: str) -> tuple[int, int, int]:
    """(hard bytes, soft bytes, soft seconds) of the pubsub class in client-output-buffer-limit."""
    hard, soft, secs = 33554432, 8388608, 60
    parts = text.split()
    for i in range(0, len(parts) - 3, 4):
        if parts[i].lower() == "pubsub":
            hard, soft, secs = parse_memory(parts[i + 1]), parse_memory(parts[i + 2]), int(parts[i + 3])
    return hard, soft, secs


@on_server_init
def _init_output_limits(server) -> None:
    name = "client-output-buffer-limit"
    previous = server.config.listeners.get(name)

    def apply(value, old=None) -> None:
        hard, soft, secs = pubsub_limits(value)
        server.pubsub_output_limit = hard
        server.pubsub_output_soft_limit = (soft, secs)
        if previous is not None and old is not None:
            previous(value, old)

    server.config.listeners[name] = apply
    apply(server.config.values[name])
