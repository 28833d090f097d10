"""Ingest: where every device adapter's observations enter the backend.

Owns ``service`` (one :class:`~backend.ingest.service.IngestService` per device
protocol: positions, readings, device alarms and status changes through the rules into
storage and the fan-out) and ``telemetry`` (the group-commit writer of positions and
readings). Uses the alarm, vehicle and sensor domains; must not import the server.
"""
