"""Command families.  Importing this package registers every command in the table."""

import importlib

FAMILIES = [
    "connection", "keys", "strings", "server", "introspection",
]

# Families built by later work register themselves if their module exists.
OPTIONAL_FAMILIES = [
    "lists", "hashes", "sets", "zsets", "sort", "streams", "bitmaps", "hyperloglog", "geo",
    "pubsub", "transactions", "scripting", "functions", "acl", "tracking", "persistence",
    "replication", "cluster", "memory",
]


def load_all() -> None:
    for name in FAMILIES:
        importlib.import_module(f"{__name__}.{name}")
    for name in OPTIONAL_FAMILIES:
        try:
            importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"{__name__}.{name}":
                raise
