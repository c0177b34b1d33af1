"""Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.

Queueing happens in ``Server.execute`` (commands arriving while ``c.in_multi``
are appended to ``c.multi_queue``; rejections set ``c.multi_error``).  EXEC
runs the queue through ``Server.call`` and answers with one array.
"""

from __future__ import annotations

from ..protocol.reply import NULL_ARRAY, OK, Error, Raw
from ..server.client import REPLY_ON
from .common import err
from .registry import command

EXECABORT = b"EXECABORT Transaction discarded because of previous errors."
NO_REPLY = Raw(b"")   # EXEC wrote its array itself
ACL_REASONS = {
    "command": b"no permission to execute the command or subcommand",
    "key": b"no permission to touch the specified keys",
    "channel": b"no permission to access one of the channels used as arguments",
}


@command("multi", 1, "noscript loading stale fast allow_busy", group="transactions", since="1.2.0",
         summary="Starts a transaction.")
def multi(c, argv):
    if c.in_multi:
        err(b"ERR MULTI calls can not be nested")
    c.in_multi = True
    return OK


@command("discard", 1, "noscript loading stale fast allow_busy", group="transactions", since="2.0.0",
         summary="Discards a transaction.")
def discard(c, argv):
    if not c.in_multi:
        err(b"ERR DISCARD without MULTI")
    c.server.discard_transaction(c)
    return OK


@command("watch", -2, "noscript loading stale fast allow_busy", 1, -1, 1, group="transactions",
         since="2.2.0", summary="Monitors changes to keys to determine the execution of a transaction.")
def watch(c, argv):
    if c.in_multi:
        err(b"ERR WATCH inside MULTI is not allowed")
    if not c.watch_dirty:   # already doomed: no point in watching more
        server = c.server
        for key in argv[1:]:
            server.watch(c, key)
    return OK


@command("unwatch", 1, "noscript loading stale fast allow_busy", group="transactions", since="2.2.0",
         summary="Forgets about watched keys of a transaction.")
def unwatch(c, argv):
    c.server.unwatch_all(c)
    return OK


@command("exec", 1, "noscript loading stale skip_slowlog", group="transactions", since="1.2.0",
         summary="Executes all commands in a transaction.")
def exec_(c, argv):
    if not c.in_multi:
        err(b"ERR EXEC without MULTI")
    server = c.server
    if c.watched and not c.watch_dirty and server.watched_key_expired(c):
        c.watch_dirty = True
    if c.multi_error:
        server.discard_transaction(c)
        return Error(EXECABORT)
    if c.watch_dirty:
        server.discard_transaction(c)
        return NULL_ARRAY
    queue = c.multi_queue
    server.unwatch_all(c)
    # The queued commands propagate as one MULTI ... EXEC block when there is more than one.
    propagated: list = []
    sinks = server.propagation_sinks
    if sinks:
        server.propagation_sinks = [lambda db_index, cargv: propagated.append((db_index, cargv))]
    acl = server.acl
    # Like Redis, the array header goes out first and each reply follows as it is made, so
    # Pub/Sub messages produced by the transaction (keyspace events) land inside the array.
    stream = c.reply_mode == REPLY_ON
    replies: list = []
    if stream:
        c.out.append(b"*%d\r\n" % len(queue))
    c.in_exec = True
    try:
        for cmd, cargv in queue:
            reply = None
            if acl is not None:
                denied = acl.check_command(c, cmd, cargv)
                if denied is not None:
                    reply = _acl_changed(server, c, denied)
            if reply is None:
                reply = server.call(c, cmd, cargv, send_reply=False)
            if stream:
                c.encode(reply, c.out)
            else:
                replies.append(reply)
    finally:
        c.in_exec = False
        server.propagation_sinks = sinks
        server.discard_transaction(c)
    if len(propagated) > 1:
        propagated = ([(propagated[0][0], [b"MULTI"])] + propagated
                      + [(propagated[-1][0], [b"EXEC"])])
    server.pending_propagate = propagated
    return NO_REPLY if stream else replies


def _acl_changed(server, c, denied: bytes):
    """The user lost a permission between queueing and EXEC."""
    text = denied.decode(errors="replace")
    if "key" in text:
        reason = ACL_REASONS["key"]
    elif "channel" in text:
        reason = ACL_REASONS["channel"]
    else:
        reason = ACL_REASONS["command"]
    reply = Error(b"NOPERM ACLs rules changed between the moment the transaction was accumulated "
                  b"and the EXEC call. This command is no longer allowed for the following "
                  b"reason: " + reason)
    server.count_error_reply(reply, None)
    return reply
