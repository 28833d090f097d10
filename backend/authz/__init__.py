"""Authorization: the one place that decides who may do what and see which object.

Owns ``principal`` (who is behind a connection), ``scope`` (the role groups, the
region-code prefix, the one refusal), ``policy`` (the permission table, jurisdiction and
agency scope, the checks every command and every fanned-out byte passes) and
``incidents`` (the incident and task scope rules of that table). Imports only
:mod:`backend.errors`, :mod:`realtime` and the sans-I/O escalation ladders of
:mod:`backend.incidents.deadlines`; never storage, the server or a domain service, so
every domain can ask it without a cycle.
"""
