"""Coordinates: WGS-84 longitude/latitude, Web-Mercator metres, and GCJ-02.

Everything DutyDesk stores is WGS-84. The map draws in Web-Mercator metres (EPSG:3857,
spherical, radius 6 378 137 m). GCJ-02 is the obfuscated datum of many Chinese tile sets
(Amap, Tencent); it is used only by a tile layer that needs it, never for stored data.

The GCJ-02 functions follow the published description of the algorithm (a Krasovsky
ellipsoid and two trigonometric series in the offset from 105°E, 35°N; no offset outside
a rectangle around China). The reverse transform has no closed form and is solved by
fixed-point iteration to well under a metre.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

EARTH_RADIUS = 6_378_137.0
"""Radius of the Web-Mercator sphere, metres."""
MAX_LATITUDE = 85.051_128_779_806_59
"""Latitude at which Web Mercator becomes a square; beyond it nothing is drawn."""
HALF_WORLD = math.pi * EARTH_RADIUS
"""Mercator x (and y) of the world's edge, metres (≈ 20 037 508 m)."""

FloatArray = npt.NDArray[np.float64]

# --------------------------------------------------------------------------- Web Mercator


def to_mercator(lon: float, lat: float) -> tuple[float, float]:
    """Return Web-Mercator metres ``(x, y)`` of a WGS-84 ``lon``/``lat`` in degrees."""
    lat = max(-MAX_LATITUDE, min(MAX_LATITUDE, lat))
    x = math.radians(lon) * EARTH_RADIUS
    y = math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) * EARTH_RADIUS
    return x, y


def from_mercator(x: float, y: float) -> tuple[float, float]:
    """Return WGS-84 ``(lon, lat)`` in degrees of Web-Mercator metres ``x``/``y``."""
    lon = math.degrees(x / EARTH_RADIUS)
    lat = math.degrees(2 * math.atan(math.exp(y / EARTH_RADIUS)) - math.pi / 2)
    return lon, lat


def to_mercator_arrays(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Vectorised :func:`to_mercator` for numpy arrays of degrees."""
    lat = np.clip(lat, -MAX_LATITUDE, MAX_LATITUDE)
    x = np.radians(lon) * EARTH_RADIUS
    y = np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)) * EARTH_RADIUS
    return x, y


def from_mercator_arrays(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Vectorised :func:`from_mercator` for numpy arrays of metres."""
    lon = np.degrees(x / EARTH_RADIUS)
    lat = np.degrees(2 * np.arctan(np.exp(y / EARTH_RADIUS)) - np.pi / 2)
    return lon, lat


def ground_resolution(metres_per_unit: float, lat: float) -> float:
    """Return ground metres for ``metres_per_unit`` Mercator metres at latitude ``lat``.

    Mercator stretches distances by ``1 / cos(lat)``; a scale bar must undo that.
    """
    return metres_per_unit * math.cos(math.radians(lat))


# --------------------------------------------------------------------------- GCJ-02

_KRASOVSKY_A = 6_378_245.0
_KRASOVSKY_EE = 0.006_693_421_622_965_943_23


def outside_china(lon: float, lat: float) -> bool:
    """Return whether GCJ-02 leaves this point unchanged (outside its rectangle)."""
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _series_lat(x: float, y: float) -> float:
    result = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    result += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
    result += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2 / 3
    result += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2 / 3
    return result


def _series_lon(x: float, y: float) -> float:
    result = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    result += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
    result += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2 / 3
    result += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2 / 3
    return result


def _gcj_offset(lon: float, lat: float) -> tuple[float, float]:
    """Return the (d_lon, d_lat) in degrees GCJ-02 adds at this WGS-84 point."""
    d_lat = _series_lat(lon - 105.0, lat - 35.0)
    d_lon = _series_lon(lon - 105.0, lat - 35.0)
    rad_lat = math.radians(lat)
    magic = 1 - _KRASOVSKY_EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / (
        (_KRASOVSKY_A * (1 - _KRASOVSKY_EE)) / (magic * sqrt_magic) * math.pi
    )
    d_lon = (d_lon * 180.0) / (_KRASOVSKY_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return d_lon, d_lat


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """Return the GCJ-02 ``(lon, lat)`` of a WGS-84 point (unchanged outside China)."""
    if outside_china(lon, lat):
        return lon, lat
    d_lon, d_lat = _gcj_offset(lon, lat)
    return lon + d_lon, lat + d_lat


def gcj02_to_wgs84(lon: float, lat: float, *, tolerance: float = 1e-7) -> tuple[float, float]:
    """Return the WGS-84 ``(lon, lat)`` of a GCJ-02 point (unchanged outside China).

    Iterates ``wgs ← wgs − (forward(wgs) − gcj)`` until the step is below ``tolerance``
    degrees (1e-7° ≈ 1 cm); it converges in a handful of steps because the offset varies
    slowly.
    """
    if outside_china(lon, lat):
        return lon, lat
    wgs_lon, wgs_lat = lon, lat
    for _ in range(30):
        fwd_lon, fwd_lat = wgs84_to_gcj02(wgs_lon, wgs_lat)
        step_lon, step_lat = fwd_lon - lon, fwd_lat - lat
        wgs_lon -= step_lon
        wgs_lat -= step_lat
        if abs(step_lon) < tolerance and abs(step_lat) < tolerance:
            break
    return wgs_lon, wgs_lat


def outside_china_arrays(lon: FloatArray, lat: FloatArray) -> npt.NDArray[np.bool_]:
    """Vectorised :func:`outside_china`."""
    return ~((lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271))


def _gcj_offset_arrays(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Vectorised :func:`_gcj_offset`: the same series, evaluated by numpy."""
    x, y = lon - 105.0, lat - 35.0
    pi = np.pi
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2 / 3
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    d_lat += common
    d_lat += (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2 / 3
    d_lat += (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2 / 3
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    d_lon += common
    d_lon += (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2 / 3
    d_lon += (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2 / 3
    rad_lat = np.radians(lat)
    magic = 1 - _KRASOVSKY_EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_KRASOVSKY_A * (1 - _KRASOVSKY_EE)) / (magic * sqrt_magic) * pi)
    d_lon = (d_lon * 180.0) / (_KRASOVSKY_A / sqrt_magic * np.cos(rad_lat) * pi)
    return d_lon, d_lat


def wgs84_to_gcj02_arrays(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Vectorised :func:`wgs84_to_gcj02` (points outside China are returned unchanged)."""
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    d_lon, d_lat = _gcj_offset_arrays(lon, lat)
    outside = outside_china_arrays(lon, lat)
    return np.where(outside, lon, lon + d_lon), np.where(outside, lat, lat + d_lat)


def gcj02_to_wgs84_arrays(
    lon: FloatArray, lat: FloatArray, *, tolerance: float = 1e-7
) -> tuple[FloatArray, FloatArray]:
    """Vectorised :func:`gcj02_to_wgs84`: the same fixed-point iteration, per point.

    Each point stops when its own step is below ``tolerance`` degrees, as in the scalar
    version, so both give the same result.
    """
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    wgs_lon, wgs_lat = lon.copy(), lat.copy()
    active = np.flatnonzero(~outside_china_arrays(lon, lat))
    for _ in range(30):
        if not len(active):
            break
        fwd_lon, fwd_lat = wgs84_to_gcj02_arrays(wgs_lon[active], wgs_lat[active])
        step_lon, step_lat = fwd_lon - lon[active], fwd_lat - lat[active]
        wgs_lon[active] -= step_lon
        wgs_lat[active] -= step_lat
        active = active[(np.abs(step_lon) >= tolerance) | (np.abs(step_lat) >= tolerance)]
    return wgs_lon, wgs_lat


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Return the great-circle distance in metres between two WGS-84 points (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lon2 - lon1)
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS * math.asin(math.sqrt(h))
