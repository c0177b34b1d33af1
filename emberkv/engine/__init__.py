"""Keyspace engines.  Command bodies only see the ``Database`` interface in base.py."""
