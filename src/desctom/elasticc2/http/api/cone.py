"""``/elasticc2/conesearch`` (new): PPDB objects within a radius of a sky position, nearest first."""

from __future__ import annotations

from desctom.core.jsonapi import ApiError, JsonApiView, as_float, as_int
from desctom.elasticc2.queries import sky

CONE_KEYS = {"ra", "dec", "radius_arcsec", "limit"}
DEFAULT_LIMIT = 100
MAX_LIMIT = 10000
MAX_RADIUS_ARCSEC = 3600.0


def _required_float(data: dict, name: str) -> float:
    if name not in data:
        raise ApiError(f"{name} is required")
    return as_float(data[name], name)


class ConeSearchView(JsonApiView):
    """POST (or GET) ``/elasticc2/conesearch`` with ``{"ra", "dec", "radius_arcsec", "limit"}`` (degrees,
    arcseconds; ``limit`` default 100, at most 10000)."""

    def handle(self, data: dict):
        unknown = set(data) - CONE_KEYS
        if unknown:
            raise ApiError(f"Unknown parameters: {sorted(unknown)}; known are {sorted(CONE_KEYS)}")
        ra = _required_float(data, "ra")
        if not 0.0 <= ra <= 360.0:
            raise ApiError(f"ra must be between 0 and 360 degrees, not {ra}")
        dec = _required_float(data, "dec")
        if not -90.0 <= dec <= 90.0:
            raise ApiError(f"dec must be between -90 and 90 degrees, not {dec}")
        radius = _required_float(data, "radius_arcsec")
        if not 0.0 < radius <= MAX_RADIUS_ARCSEC:
            raise ApiError(f"radius_arcsec must be > 0 and <= {MAX_RADIUS_ARCSEC:g}, not {radius}")
        limit = data.get("limit")
        limit = DEFAULT_LIMIT if limit is None else as_int(limit, "limit")
        if not 1 <= limit <= MAX_LIMIT:
            raise ApiError(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
        # q3c computes in float8, where a subnormal intermediate raises "underflow": positions are
        # rounded to 1e-12 degrees and the radius is at least that (far below any astrometry).
        rows = sky.cone_search("ppdbdiaobject", round(ra % 360.0, 12), round(dec, 12),
                               max(radius / 3600.0, 1e-12), limit, columns="diaobject_id, ra, decl")
        return {"status": "ok",
                "objects": [{"diaobject_id": r["diaobject_id"], "ra": r["ra"], "decl": r["decl"],
                             "distance_arcsec": r["distance_deg"] * 3600.0} for r in rows]}
