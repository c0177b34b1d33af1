"""The ACL command (users and permissions live in emberkv/server/acl.py)."""

from __future__ import annotations

import os
import time

from ..protocol.reply import OK, Error, SetReply, Status
from ..server.acl import (CATEGORIES, DENIED_CHANNEL, DENIED_CMD, DENIED_KEY, OK as ACL_OK, REASONS,
                          USER_FLAGS, all_commands, has_spaces, lookup_call)
from .common import err, parse_int
from .registry import command, container

_NO_ACL_FILE = (b"ERR This Redis instance is not configured to use an ACL file. You may want to specify "
                b"users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a "
                b"Redis configuration file set) in order to store users in the Redis configuration.")
_GENPASS_MAX_BITS = 4096

container("acl", group="server", since="6.0.0", summary="A container for Access List Control commands.",
          flags="sentinel")


@command("acl|setuser", -3, "admin noscript loading stale sentinel", group="server", since="6.0.0",
         summary="Creates a user or changes its rules.")
def acl_setuser(c, argv):
    name, rules = argv[2], argv[3:]
    argv[2:] = [b"(redacted)"] * (len(argv) - 2)   # passwords stay out of SLOWLOG
    if has_spaces(name):
        err(b"ERR Usernames can't contain spaces or null characters")
    error = c.server.acl.set_user(name, rules)
    return OK if error is None else Error(error)


@command("acl|deluser", -3, "admin noscript loading stale sentinel", group="server", since="6.0.0",
         summary="Deletes users, disconnecting their clients.")
def acl_deluser(c, argv):
    if b"default" in argv[2:]:
        err(b"ERR The 'default' user cannot be removed")
    acl = c.server.acl
    return sum(1 for name in argv[2:] if acl.delete_user(name))


def _syntax_error(argv):
    err(b"ERR unknown subcommand or wrong number of arguments for '%s'. Try ACL HELP." % argv[1][:128])


def _selector_fields(selector) -> list:
    return [b"commands", selector.describe_commands(), b"keys", selector.describe_keys(),
            b"channels", selector.describe_channels()]


def _as_map(pairs: list) -> dict:
    return dict(zip(pairs[::2], pairs[1::2]))


@command("acl|getuser", 3, "admin noscript loading stale sentinel", group="server", since="6.0.0",
         summary="Describes one user's flags, passwords and permissions.")
def acl_getuser(c, argv):
    user = c.server.acl.users.get(argv[2])
    if user is None:
        return None
    fields = [b"flags", SetReply([f.encode() for f in USER_FLAGS if f in user.flags]),
              b"passwords", list(user.passwords)]
    fields += _selector_fields(user.selectors[0])
    fields += [b"selectors", [_as_map(_selector_fields(s)) for s in user.selectors[1:]]]
    return _as_map(fields)


@command("acl|list", 2, "admin noscript loading stale sentinel", group="server", since="6.0.0",
         summary="Lists every user's rules in configuration-file form.")
def acl_list(c, argv):
    users = c.server.acl.users
    return [b"user %s %s" % (name, users[name].describe()) for name in sorted(users)]


@command("acl|users", 2, "admin noscript loading stale sentinel", group="server", since="6.0.0",
         summary="Lists the user names.")
def acl_users(c, argv):
    return sorted(c.server.acl.users)


@command("acl|whoami", 2, "noscript loading stale sentinel", group="server", since="6.0.0",
         summary="Returns the user name of this connection.")
def acl_whoami(c, argv):
    user = c.server.acl.user_for(c)
    if user is not None:
        return user.name
    return None if c.user is None else c.user.encode()


@command("acl|load", 2, "admin noscript loading stale sentinel", group="server", since="6.0.0",
         summary="Replaces the users with the contents of the ACL file.")
def acl_load(c, argv):
    aclfile = c.server.config.aclfile
    if not aclfile:
        err(_NO_ACL_FILE)
    error = c.server.acl.load_file(aclfile)
    return OK if error is None else Error(b"ERR " + error)


@command("acl|save", 2, "admin noscript loading stale sentinel", group="server", since="6.0.0",
         summary="Writes the users to the ACL file.")
def acl_save(c, argv):
    aclfile = c.server.config.aclfile
    if not aclfile:
        err(_NO_ACL_FILE)
    if not c.server.acl.save_file(aclfile):
        err(b"ERR There was an error trying to save the ACLs. Please check the server logs for more "
            b"information")
    return OK


@command("acl|cat", -2, "noscript loading stale sentinel", group="server", since="6.0.0",
         summary="Lists the categories, or the commands in one category.")
def acl_cat(c, argv):
    if len(argv) == 2:
        return [cat.encode() for cat in CATEGORIES]
    if len(argv) > 3:
        _syntax_error(argv)
    category = argv[2].decode("latin-1").lower()
    if category not in CATEGORIES:
        err(b"ERR Unknown category '%s'" % argv[2][:128])
    return [cmd.fullname.encode() for cmd in all_commands() if category in cmd.categories]


@command("acl|genpass", -2, "noscript loading stale sentinel", group="server", since="6.0.0",
         summary="Generates a random password.")
def acl_genpass(c, argv):
    if len(argv) > 3:
        _syntax_error(argv)
    bits = 256 if len(argv) == 2 else parse_int(argv[2])
    if bits <= 0 or bits > _GENPASS_MAX_BITS:
        err(b"ERR ACL GENPASS argument must be the number of bits for the output password, a positive "
            b"number up to %d" % _GENPASS_MAX_BITS)
    chars = (bits + 3) // 4
    return os.urandom((chars + 1) // 2).hex()[:chars].encode()


@command("acl|log", -2, "admin noscript loading stale sentinel", group="server", since="6.0.0",
         summary="Shows or clears recent permission denials and failed logins.")
def acl_log(c, argv):
    if len(argv) > 3:
        _syntax_error(argv)
    acl = c.server.acl
    count = 10
    if len(argv) == 3:
        if argv[2].lower() == b"reset":
            acl.log.clear()
            return OK
        count = max(0, parse_int(argv[2]))
    now = int(time.time() * 1000)
    out = []
    for e in list(acl.log)[:count]:
        out.append({
            b"count": e.count, b"reason": REASONS[e.reason], b"context": e.context,
            b"object": e.object, b"username": e.username, b"age-seconds": (now - e.ctime) / 1000,
            b"client-info": e.cinfo, b"entry-id": e.entry_id, b"timestamp-created": e.created,
            b"timestamp-last-updated": e.ctime,
        })
    return out


@command("acl|dryrun", -4, "admin noscript loading stale sentinel", group="server", since="7.0.0",
         summary="Tells whether a user could run a command, without running it.")
def acl_dryrun(c, argv):
    acl = c.server.acl
    user = acl.users.get(argv[2])
    if user is None:
        err(b"ERR User '%s' not found" % argv[2])
    cargv = argv[3:]
    cmd = lookup_call(cargv)
    if cmd is None:
        err(b"ERR Command '%s' not found" % argv[3])
    n = len(cargv)
    if (cmd.arity > 0 and cmd.arity != n) or n < -cmd.arity:
        err(b"ERR wrong number of arguments for '%s' command" % cmd.fullname.encode())
    code, pos = acl.check_user(user, cmd, cargv)
    if code == ACL_OK:
        return OK
    if code == DENIED_CMD:
        return b"This user has no permissions to run the '%s' command" % cmd.fullname.encode()
    if code == DENIED_KEY:
        return b"This user has no permissions to access the '%s' key" % cargv[pos]
    assert code == DENIED_CHANNEL
    return b"This user has no permissions to access the '%s' channel" % cargv[pos]


@command("acl|help", 2, "loading stale sentinel", group="server", since="6.0.0",
         summary="Returns helpful text about the different subcommands.")
def acl_help(c, argv):
    lines = [
        "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CAT [<category>]",
        "    Without a category, list the command categories; with one, list its commands.",
        "DELUSER <username> [<username> ...]",
        "    Remove users (their connections are closed).",
        "DRYRUN <username> <command> [<arg> ...]",
        "    Check whether the user may run the command, without running it.",
        "GETUSER <username>",
        "    Show a user's flags, passwords and permissions.",
        "GENPASS [<bits>]",
        "    Return a random password of 256 bits, or of the given number of bits.",
        "LIST",
        "    Show every user as a configuration-file line.",
        "LOAD",
        "    Replace the users with the ones in the ACL file.",
        "LOG [<count> | RESET]",
        "    Show recent denied commands and failed logins, or clear them.",
        "SAVE",
        "    Write the users to the ACL file.",
        "SETUSER <username> <attribute> [<attribute> ...]",
        "    Create a user, or change an existing one, with the given rules.",
        "USERS",
        "    List the user names.",
        "WHOAMI",
        "    Return the user name of this connection.",
        "HELP",
        "    Prints this help.",
    ]
    return [Status(line.encode()) for line in lines]
