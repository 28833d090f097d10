"""Vehicles: the roster, the list panel, track analysis and track replay."""
