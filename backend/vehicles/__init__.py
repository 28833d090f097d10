"""Vehicles: the rules checked on every fix (``rules``, sans-I/O), geofences drawn on the
console (``geofences``), stored tracks read for replay (``track_query``) and their
analysis (``track``), orders to vehicle terminals beyond texts (``commands``).

Must not import the server or ingest; the ingest feeds the rules, not the other way.
"""
