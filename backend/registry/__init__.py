"""The registry: who and what exists — users and their tokens (``users``), devices
(``devices``), cameras (``cameras``) and the CSV files an integrator imports
(``files``).

Imports storage, :mod:`backend.eventlog`, :mod:`backend.security` and the device codecs'
message types; never the server, ingest or the alarm service.
"""
