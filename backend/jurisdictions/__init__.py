"""Jurisdictions: the tree of areas every object and every user is scoped by, and the
placer that says which area a point lies in.

Owns:

- :mod:`~backend.jurisdictions.codes` — canonical trimmed codes (``330100`` → ``3301``,
  ``330106001000`` → ``330106001``), their levels and nominal parents;
- :mod:`~backend.jurisdictions.tree` — :class:`JurisdictionTree`: provinces, cities and
  districts/counties from the shipped basemap, towns/streets and villages/communities
  imported into the ``jurisdictions`` table; :meth:`JurisdictionTree.place` and
  :meth:`~JurisdictionTree.place_many` give the deepest code containing a point (``""``
  for none) through a grid index (:mod:`~backend.jurisdictions.index`, ≈ 1 µs a point);
- :mod:`~backend.jurisdictions.importer` — reading GeoJSON, Shapefile and CSV-with-WKT
  (:mod:`~backend.jurisdictions.wkt`) and the validation report; ``--datum gcj02``
  (:mod:`~backend.jurisdictions.datum`);
- :mod:`~backend.jurisdictions.store` — the imported rows and the audited
  ``jurisdictions.imported`` event;
- :mod:`~backend.jurisdictions.placing` — how a placed code and a given one are
  reconciled (placed wins; an officer's own choice is only refined).

Every object that has a place is placed with the tree: vehicle fixes in the ingest (and
their alarms), device and sensor alarms in the alarm service, sensors, cameras and units
when registered, and the rows that existed before by migration r0009. Hazard sources and
incidents, when they arrive, place themselves the same way: ``tree.place(lat, lon)`` at
creation, :func:`~backend.jurisdictions.placing.settle` against a given code.
"""

from backend.jurisdictions.codes import Level
from backend.jurisdictions.tree import Jurisdiction, JurisdictionTree

__all__ = ["Jurisdiction", "JurisdictionTree", "Level"]
