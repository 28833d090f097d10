"""Authorization: the one place that decides who may do what and see which object.

Owns ``principal`` (who is behind a connection) and ``policy`` (the permission table,
jurisdiction and agency scope, the checks every command and every fanned-out byte
passes). Imports only :mod:`backend.errors` and :mod:`realtime`; never storage, the
server or a domain service, so every domain can ask it without a cycle.
"""
