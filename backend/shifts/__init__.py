"""Shifts and the grid: reporting from the grid (:mod:`~backend.shifts.reports`), the
shift handover (:mod:`~backend.shifts.handover`, 交接班) and the duty roster
(:mod:`~backend.shifts.roster`, 值班表).

Owns the tables ``grid_reports``, ``handovers`` and ``duty_roster`` (r0015). Incidents
and tasks are written only by :mod:`backend.incidents`; this package reads them to list a
reporter's reports and to generate a handover.
"""
