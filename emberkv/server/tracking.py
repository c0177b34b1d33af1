"""Server-assisted client-side caching (CLIENT TRACKING), as Redis 7.0 does it.

Default mode: after a read-only command, the keys it read are remembered with
the reading client's id; the first later change of such a key sends that
client one ``invalidate`` message and forgets the key.

BCAST mode: clients register key prefixes; every key changed during an event
loop cycle that starts with a prefix is collected and sent, once per prefix,
at the end of the cycle.

Messages are RESP3 pushes ``>2 invalidate [keys]``; a client that redirects to
a RESP2 connection subscribed to ``__redis__:invalidate`` gets them as Pub/Sub
messages there.  A flush sends a null instead of the key list.
"""

from __future__ import annotations

from itertools import islice

from ..protocol.reply import Push, Raw

INVALIDATE_CHANNEL = b"__redis__:invalidate"
_NULL = {2: Raw(b"$-1\r\n"), 3: Raw(b"_\r\n")}


class ClientTracking:
    """What ``c.tracking`` holds while CLIENT TRACKING is on."""

    __slots__ = ("redirect", "bcast", "optin", "optout", "noloop", "caching", "broken_redirect",
                 "prefixes", "script_read")

    def __init__(self, redirect: int, bcast: bool, optin: bool, optout: bool, noloop: bool):
        self.redirect = redirect
        self.bcast = bcast
        self.optin = optin
        self.optout = optout
        self.noloop = noloop
        self.caching = False          # CLIENT CACHING yes/no given for the next command
        self.broken_redirect = False
        self.prefixes: dict = {}      # BCAST prefixes of this client
        self.script_read = False      # a script it runs called a read-only command


class _Prefix:
    __slots__ = ("keys", "clients")

    def __init__(self):
        self.keys: dict = {}          # key changed this cycle -> tracking state of its writer, or None
        self.clients: dict = {}       # Client -> None


class Tracking:
    def __init__(self, server):
        self.server = server
        self.table: dict[bytes, dict] = {}     # key -> {client id: None}
        self.items = 0                         # sum of the id sets' sizes
        self.prefixes: dict[bytes, _Prefix] = {}
        self.pending: list = []                # (client, key or None) held until its reply is out
        self.pending_scheduled = False
        self.bcast_scheduled = False
        self.evict_rounds = 0

    # --- enabling ----------------------------------------------------------------------------
    def enable(self, c, redirect: int, bcast: bool, optin: bool, optout: bool, noloop: bool,
               prefixes: list) -> None:
        st = c.tracking
        if st is None:
            c.tracking = st = ClientTracking(redirect, bcast, optin, optout, noloop)
        else:
            # Re-enabling keeps BCAST prefixes and the CACHING flag, resets the rest.
            st.redirect, st.bcast, st.noloop = redirect, bcast, noloop
            st.optin, st.optout = optin, optout
            st.broken_redirect = False
        if bcast:
            for p in prefixes or [b""]:
                state = self.prefixes.get(p)
                if state is None:
                    state = self.prefixes[p] = _Prefix()
                state.clients[c] = None
                st.prefixes[p] = None

    def disable(self, c) -> None:
        st = c.tracking
        if st is None:
            return
        for p in st.prefixes:
            state = self.prefixes.get(p)
            if state is not None:
                state.clients.pop(c, None)
                if not state.clients:
                    del self.prefixes[p]
        c.tracking = None
        if self.pending:
            self.pending = [(t, k) for t, k in self.pending if t is not c]

    def client_gone(self, c) -> None:
        self.disable(c)

    def prefix_conflict(self, c, prefixes: list):
        """Redis's overlap check: an error text, or None."""
        existing = c.tracking.prefixes if c.tracking is not None else {}
        for i, p in enumerate(prefixes):
            for old in existing:
                if old.startswith(p) or p.startswith(old):
                    return (b"ERR Prefix '%s' overlaps with an existing prefix '%s'. Prefixes for a "
                            b"single client must not overlap." % (p, old))
            for q in prefixes[i + 1:]:
                if q.startswith(p) or p.startswith(q):
                    return (b"ERR Prefix '%s' overlaps with another provided prefix '%s'. Prefixes "
                            b"for a single client must not overlap." % (p, q))
        return None

    # --- remembering what clients read -------------------------------------------------------
    def after_call(self, c, cmd, argv) -> None:
        """Hook run by Server.call after each command of a client with tracking on."""
        st = c.tracking
        if c.in_script:
            # A script's client (sharing its caller's state): the caller's hook does the rest.
            if cmd.is_readonly:
                st.script_read = True
            return
        if cmd.group == "scripting":
            # A script that read something makes its declared keys tracked.
            read, st.script_read = st.script_read, False
            if read and not st.bcast:
                self._remember(c, st, cmd.keys(argv))
        elif cmd.is_readonly and not st.bcast and "pubsub" not in cmd.flags:
            self._remember(c, st, cmd.keys(argv))
        # CLIENT CACHING covers the next command (or transaction); CLIENT subcommands keep it.
        if st.caching and not c.in_multi and (cmd.parent is None or cmd.parent.name != "client"):
            st.caching = False
        if self.pending and self.server.exec_depth == 0:
            self.flush_pending()
        self.enforce_limit()

    def _remember(self, c, st, keys) -> None:
        if not keys or (st.optin and not st.caching) or (st.optout and st.caching):
            return
        table = self.table
        cid = c.id
        for key in keys:
            ids = table.get(key)
            if ids is None:
                ids = table[key] = {}
            if cid not in ids:
                ids[cid] = None
                self.items += 1

    def remember_keys(self, c, keys) -> None:
        """For callers outside Server.call (scripting engines): track ``keys`` for ``c``."""
        st = c.tracking
        if st is not None and not st.bcast:
            self._remember(c, st, keys)

    # --- invalidation ------------------------------------------------------------------------
    def invalidate(self, key: bytes, expired: bool = False, bcast: bool = True) -> None:
        server = self.server
        current = server.current_client
        # Clients are told apart by their tracking state: a script's client shares its caller's,
        # so the caller's NOLOOP and reply ordering also cover the writes of its scripts.
        mine = current.tracking if current is not None else None
        if bcast and self.prefixes:
            by = None if expired else mine
            for p, state in self.prefixes.items():
                if key.startswith(p):
                    state.keys[key] = by
                    if not self.bcast_scheduled:
                        self.bcast_scheduled = True
                        server.loop.call_soon(self.broadcast)
        ids = self.table.pop(key, None)
        if ids is None:
            return
        self.items -= len(ids)
        clients = server.clients
        for cid in ids:
            target = clients.get(cid)
            if target is None:
                continue
            st = target.tracking
            if st is None or st.bcast:
                continue
            if st is mine:
                if st.noloop:
                    continue
                # Its own command changed the key: the message follows the command's reply.
                self._defer(target, key)
            else:
                self.send(target, [key])

    def _defer(self, c, key) -> None:
        self.pending.append((c, key))
        if self.server.exec_depth == 0 and not self.pending_scheduled:
            # Outside Server.call (a blocked client being served): flush after its reply.
            self.pending_scheduled = True
            self.server.loop.call_soon(self.flush_pending)

    def flush_pending(self) -> None:
        self.pending_scheduled = False
        pending, self.pending = self.pending, []
        for c, key in pending:
            if c.tracking is not None and not c.closing:
                self.send(c, [key] if key is not None else None)

    def invalidate_all(self) -> None:
        """FLUSHALL / FLUSHDB: every tracking client is told everything is stale."""
        server = self.server
        current = server.current_client
        mine = current.tracking if current is not None else None
        for c in list(server.clients.values()):
            if c.tracking is not None:
                if c.tracking is mine:
                    self._defer(c, None)
                else:
                    self.send(c, None)
        self.table = {}
        self.items = 0

    def send(self, c, keys) -> None:
        """Deliver one invalidation (``keys`` a list, or None for "everything") for ``c``."""
        st = c.tracking
        payload = keys if keys is not None else _NULL[c.resp]
        target = c
        redirected = False
        if st.redirect:
            target = self.server.clients.get(st.redirect)
            if target is None or target.closing:
                st.broken_redirect = True
                if c.resp == 3:
                    c.send(Push([b"tracking-redir-broken", st.redirect]))
                return
            redirected = True
        if target.resp == 3:
            target.send(Push([b"invalidate", payload]))
        elif redirected and target.pubsub_count:
            target.send(Push([b"message", INVALIDATE_CHANNEL, payload]))

    def broadcast(self) -> None:
        """End of an event-loop cycle: one message per prefix with the keys changed under it."""
        self.bcast_scheduled = False
        for state in list(self.prefixes.values()):
            if not state.keys:
                continue
            changed, state.keys = state.keys, {}
            everything = sorted(changed)
            for c in list(state.clients):
                st = c.tracking
                if st is None:
                    continue
                if st.noloop:
                    keys = [k for k in everything if changed[k] is not st]
                    if not keys:
                        continue
                else:
                    keys = everything
                self.send(c, keys)

    # --- the tracking-table-max-keys limit ----------------------------------------------------
    def enforce_limit(self) -> None:
        limit = self.server.config.tracking_table_max_keys
        table = self.table
        if not limit or len(table) <= limit:
            self.evict_rounds = 0
            return
        # The effort grows each time one round was not enough.
        effort = 100 * (self.evict_rounds + 1)
        for key in list(islice(table, effort)):
            self.invalidate(key, bcast=False)
            if len(table) <= limit:
                self.evict_rounds = 0
                return
        self.evict_rounds += 1

    # --- INFO ---------------------------------------------------------------------------------
    def total_keys(self) -> int:
        return len(self.table)

    def total_items(self) -> int:
        return self.items

    def total_prefixes(self) -> int:
        return len(self.prefixes)
