"""Cameras: on the map, and a window that plays a camera's video (QtMultimedia).

Importing this package first sets Qt's logging rules for the multimedia back end
(:func:`desktop.video.logging_rules.quiet_multimedia_probes`): its modules import
QtMultimedia, whose start-up probes warn about optional system libraries otherwise.
"""

from desktop.video.logging_rules import quiet_multimedia_probes

quiet_multimedia_probes()
