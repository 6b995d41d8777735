"""Distances on the earth's surface, for "reports near this one" at intake.

The database narrows the candidates with a bounding box (plain comparisons, the same SQL on SQLite
and PostgreSQL); the exact distance of the few left is computed here.
"""

from __future__ import annotations

from math import asin, cos, radians, sin, sqrt

EARTH_RADIUS_M = 6_371_000.0
_M_PER_DEGREE_LAT = 111_320.0


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = radians(lat1), radians(lat2)
    dp, dl = p2 - p1, radians(lon2 - lon1)
    a = sin(dp / 2) ** 2 + cos(p1) * cos(p2) * sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * asin(min(1.0, sqrt(a)))


def bounding_box(lat: float, lon: float, radius_m: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) holding every point within ``radius_m``; a little
    larger than needed, never smaller (Indonesia lies near the equator, far from the poles)."""
    dlat = radius_m / _M_PER_DEGREE_LAT * 1.01
    dlon = radius_m / (_M_PER_DEGREE_LAT * max(cos(radians(lat)), 0.01)) * 1.01
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon
