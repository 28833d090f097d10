"""Incidents: the event catalogue, incidents grouping alarms, tasks with deadlines,
escalation and supervision (issue 15).

Owns ``catalogue`` (the configurable event types), ``deadlines`` (the sans-I/O deadline
tracker and the escalation ladders) and ``service`` (the only code that writes
the incident tables, each change with its event in one transaction). Imports storage,
the event log, authz (who may see and work which incident and task is
:mod:`backend.authz.incidents`, rows of the one permission table) and errors; never the
server or the CLI.
"""
