"""Client-side caching commands: CLIENT TRACKING, CLIENT CACHING, CLIENT TRACKINGINFO."""

from __future__ import annotations

from ..protocol.reply import OK, SetReply
from ..server.tracking import Tracking
from .common import SYNTAX, err, parse_int
from .registry import command


def tracking_table(server) -> Tracking:
    """The server's tracking table, created when the first client turns tracking on."""
    if server.tracking is None:
        server.tracking = Tracking(server)
        server.cron_hooks.append(server.tracking.enforce_limit)
    return server.tracking


@command("client|tracking", -3, "noscript loading stale sentinel", group="connection", since="6.0.0",
         summary="Controls server-assisted client-side caching for the connection.")
def client_tracking(c, argv):
    server = c.server
    redirect = 0
    bcast = optin = optout = noloop = False
    prefixes: list = []
    i = 3
    n = len(argv)
    while i < n:
        opt = argv[i].lower()
        more = i + 1 < n
        if opt == b"redirect" and more:
            i += 1
            if redirect:
                err(b"ERR A client can only redirect to a single other client")
            redirect = parse_int(argv[i])
            if redirect not in server.clients:
                err(b"ERR The client ID you want redirect to does not exist")
        elif opt == b"bcast":
            bcast = True
        elif opt == b"optin":
            optin = True
        elif opt == b"optout":
            optout = True
        elif opt == b"noloop":
            noloop = True
        elif opt == b"prefix" and more:
            i += 1
            prefixes.append(argv[i])
        else:
            err(SYNTAX)
        i += 1
    mode = argv[2].lower()
    if mode == b"on":
        st = c.tracking
        if not bcast and prefixes:
            err(b"ERR PREFIX option requires BCAST mode to be enabled")
        if st is not None and st.bcast != bcast:
            err(b"ERR You can't switch BCAST mode on/off before disabling tracking for this "
                b"client, and then re-enabling it with a different mode.")
        if bcast and (optin or optout):
            err(b"ERR OPTIN and OPTOUT are not compatible with BCAST")
        if optin and optout:
            err(b"ERR You can't specify both OPTIN mode and OPTOUT mode")
        if st is not None and ((optin and st.optout) or (optout and st.optin)):
            err(b"ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this "
                b"client, and then re-enabling it with a different mode.")
        table = tracking_table(server)
        if bcast:
            conflict = table.prefix_conflict(c, prefixes)
            if conflict is not None:
                err(conflict)
        table.enable(c, redirect, bcast, optin, optout, noloop, prefixes)
    elif mode == b"off":
        if server.tracking is not None:
            server.tracking.disable(c)
    else:
        err(SYNTAX)
    return OK


@command("client|caching", 3, "noscript loading stale sentinel", group="connection", since="6.0.0",
         summary="Instructs the server whether to track the keys in the next request.")
def client_caching(c, argv):
    st = c.tracking
    if st is None:
        err(b"ERR CLIENT CACHING can be called only when the client is in tracking mode with "
            b"OPTIN or OPTOUT mode enabled")
    opt = argv[2].lower()
    if opt == b"yes":
        if not st.optin:
            err(b"ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.")
    elif opt == b"no":
        if not st.optout:
            err(b"ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.")
    else:
        err(SYNTAX)
    st.caching = True
    return OK


@command("client|trackinginfo", 2, "noscript loading stale sentinel", group="connection",
         since="6.2.0", summary="Returns information about server-assisted client-side caching for "
                               "the connection.")
def client_trackinginfo(c, argv):
    st = c.tracking
    if st is None:
        return {b"flags": SetReply([b"off"]), b"redirect": -1, b"prefixes": []}
    flags = [b"on"]
    if st.bcast:
        flags.append(b"bcast")
    if st.optin:
        flags.append(b"optin")
        if st.caching:
            flags.append(b"caching-yes")
    if st.optout:
        flags.append(b"optout")
        if st.caching:
            flags.append(b"caching-no")
    if st.noloop:
        flags.append(b"noloop")
    if st.broken_redirect:
        flags.append(b"broken_redirect")
    return {b"flags": SetReply(flags), b"redirect": st.redirect, b"prefixes": sorted(st.prefixes)}
