"""Jurisdictions by name: a region code as an officer reads it (``西湖区 (330106)``).

The names come from the console's own basemap (provinces, cities, counties); a code the
basemap does not name (a town or village imported on the server) shows with the name of
the nearest area above it that it does name (``西湖区 330106001``), else as the code.
"""

from __future__ import annotations

from desktop.map.basemap import region_for_jurisdiction


def jurisdiction_name(code: str) -> str:
    """A jurisdiction's name with its code (``西湖区 (330106)``), or the code alone; ``""``
    for the whole area (callers say "whole area" in their own words)."""
    if not code:
        return ""
    region = region_for_jurisdiction(code)
    if region is not None and region.name:
        return f"{region.name} ({code})"
    # Region codes nest by prefix: county (6 digits), city (4), province (2).
    for length in (6, 4, 2):
        if len(code) > length:
            above = region_for_jurisdiction(code[:length])
            if above is not None and above.name:
                return f"{above.name} {code}"
    return code
