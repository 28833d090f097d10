"""Sensors at major hazard sources and coal mines: threshold rules (``rules``, sans-I/O),
the service that applies them to live readings (``service``) and the stored time series
with its rollups, retention, history and the sensor registry rows (``timeseries``).

Must not import the server or ingest; raises alarms through :mod:`backend.alarms`.
"""
