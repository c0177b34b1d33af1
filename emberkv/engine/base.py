"""The keyspace interface every engine implements.

Values are Python objects: ``bytes`` for strings and, for collections, objects
of the classes in ``emberkv.datatypes`` (or, in the disk engine, views with the
same methods).  ``type_name(value)`` gives Redis's TYPE for any of them.

A command reads a value with ``lookup`` (which applies lazy expiry), mutates
collections in place, and calls ``set``/``delete`` for whole-key changes.
Engines never send replies or notifications themselves: expiry is reported
through ``hooks.key_expired(db, key)`` so the server can notify, invalidate
WATCH and propagate a DEL.
"""

from __future__ import annotations

from typing import Iterator, Protocol


class ServerHooks(Protocol):
    def now_ms(self) -> int: ...
    def key_expired(self, db: "Database", key: bytes) -> None: ...


class Database:
    """Abstract keyspace of one logical database (SELECT index)."""

    index: int

    # --- reads -------------------------------------------------------------
    def lookup(self, key: bytes):
        """Value of ``key`` or None; expires it first if its time has passed."""
        raise NotImplementedError

    def lookup_notouch(self, key: bytes):
        """Like lookup but leaves the access time alone (OBJECT, TYPE via NO-TOUCH)."""
        raise NotImplementedError

    def contains(self, key: bytes) -> bool:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError

    # --- writes ------------------------------------------------------------
    def set(self, key: bytes, value, keepttl: bool = False) -> None:
        """Store ``value``; the TTL is cleared unless ``keepttl``."""
        raise NotImplementedError

    def delete(self, key: bytes) -> bool:
        raise NotImplementedError

    def pop(self, key: bytes):
        """Remove the key and return its value (None when missing)."""
        raise NotImplementedError

    def clear(self) -> int:
        raise NotImplementedError

    # --- expiry ------------------------------------------------------------
    def get_expire(self, key: bytes) -> int | None:
        """Absolute expiry time in ms, or None."""
        raise NotImplementedError

    def set_expire(self, key: bytes, when_ms: int) -> None:
        raise NotImplementedError

    def persist(self, key: bytes) -> bool:
        raise NotImplementedError

    def expires_count(self) -> int:
        raise NotImplementedError

    def active_expire(self, deadline: float) -> int:
        """Expire sampled keys until the deadline; returns how many expired."""
        raise NotImplementedError

    # --- iteration -----------------------------------------------------------
    def iter_keys(self) -> Iterator[bytes]:
        """Every live key (a snapshot: safe against modification)."""
        raise NotImplementedError

    def scan(self, cursor: int, count: int) -> tuple[int, list[bytes]]:
        """One SCAN step; keys present throughout a full iteration are all returned."""
        raise NotImplementedError

    def random_key(self) -> bytes | None:
        raise NotImplementedError

    # --- metadata ------------------------------------------------------------
    def idle_ms(self, key: bytes) -> int:
        raise NotImplementedError

    def touch(self, key: bytes) -> None:
        raise NotImplementedError
