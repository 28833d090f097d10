"""Sensor trends: a plain-Python series cache (:mod:`.store`) and its dock panel."""
