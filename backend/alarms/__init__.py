"""Alarms (接警 → 派警 → 处警 → 消警): taking alarms in from devices, rules, feeds and
officers, moving them through the state machine of :mod:`realtime.states` with version
checks, dispatching units, and the units they are dispatched to.

Owns ``service`` (:class:`~backend.alarms.service.AlarmService`) and ``reveals`` (the
hourly limit of reveals of callers' personal data). Every change is one
transaction with its event (:mod:`backend.eventlog`); authorization goes through
:mod:`backend.authz`. Must not import the server, ingest or any device adapter: alarms
are raised *by* those, never the other way round.
"""
