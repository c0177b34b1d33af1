"""Pure data structures behind Redis types (no I/O, no server state).

Every collection value stored in the keyspace is an object with:

    kind: bytes                      TYPE's answer: b"list", b"hash", b"set", b"zset", b"stream"
    __len__()                        number of elements (an empty collection is deleted by the command)
    copy() -> same type              deep enough that mutating the copy never changes the original (COPY)
    encoding(config) -> bytes        OBJECT ENCODING as Redis would report for this size
                                     (config has attributes like ``hash_max_listpack_entries``)
    sample_items(n) -> list          a few elements, for MEMORY USAGE estimates (optional)

Strings are plain ``bytes`` and need none of this.
"""
