"""GCJ-02 → WGS-84 for imported outlines (``--datum gcj02``).

Many Chinese map services (高德, 腾讯) publish in GCJ-02, the obfuscated datum; DutyDesk
stores WGS-84. The forward offset is the published series (a Krasovsky ellipsoid and two
trigonometric series); the inverse is a fixed-point iteration ``wgs ← wgs − (forward(wgs)
− gcj)``, which converges to about a centimetre in a few steps because the offset varies
slowly. Outside China's rectangle GCJ-02 equals WGS-84. The desktop's map has the same
conversion for its tiles; the backend keeps its own (it never imports the desktop).
"""

from __future__ import annotations

import numpy as np

from backend.jurisdictions.basemap import FloatArray

_A = 6_378_245.0
_EE = 0.006_693_421_622_965_943_23


def _outside_china(lon: FloatArray, lat: FloatArray) -> np.ndarray:
    return ~((lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271))


def _offset(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    x, y = lon - 105.0, lat - 35.0
    pi = np.pi
    shared = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2 / 3
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    d_lat += shared + (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2 / 3
    d_lat += (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2 / 3
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    d_lon += shared + (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2 / 3
    d_lon += (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2 / 3
    rad_lat = np.radians(lat)
    magic = 1 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * pi)
    return d_lon, d_lat


def wgs84_to_gcj02(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """WGS-84 → GCJ-02 (unchanged outside China), for arrays of degrees."""
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    d_lon, d_lat = _offset(lon, lat)
    outside = _outside_china(lon, lat)
    return np.where(outside, lon, lon + d_lon), np.where(outside, lat, lat + d_lat)


def gcj02_to_wgs84(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 → WGS-84 (unchanged outside China), for arrays of degrees."""
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    wgs_lon, wgs_lat = lon.copy(), lat.copy()
    for _ in range(30):
        forward_lon, forward_lat = wgs84_to_gcj02(wgs_lon, wgs_lat)
        step_lon, step_lat = forward_lon - lon, forward_lat - lat
        wgs_lon -= step_lon
        wgs_lat -= step_lat
        if np.all(np.abs(step_lon) < 1e-9) and np.all(np.abs(step_lat) < 1e-9):
            break
    return wgs_lon, wgs_lat
