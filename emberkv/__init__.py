"""EmberKV: a Redis-compatible key-value server in Python."""

__version__ = "0.1.0"
# The Redis release whose behaviour we match (INFO redis_version, HELLO version).
REDIS_VERSION = "7.0.15"
