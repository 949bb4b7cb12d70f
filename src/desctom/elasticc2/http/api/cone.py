"""``/elasticc2/conesearch`` (new): PPDB objects within a radius of a sky position, nearest first.

The request is declared in :mod:`.cone_contract`."""

from __future__ import annotations

from desctom.core.jsonapi import JsonApiView
from desctom.elasticc2.http.api.cone_contract import CONE_DOC, DEFAULT_LIMIT, MAX_LIMIT, MAX_RADIUS_ARCSEC
from desctom.elasticc2.queries import sky

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "MAX_RADIUS_ARCSEC", "ConeSearchView"]


class ConeSearchView(JsonApiView):
    """POST (or GET) ``/elasticc2/conesearch`` with ``{"ra", "dec", "radius_arcsec", "limit"}`` (degrees,
    arcseconds; ``limit`` default 100, at most 10000)."""

    api_doc = CONE_DOC

    def handle(self, data: dict):
        values = self.api_doc.request.parse(data, self.error_prefix)
        ra, dec, radius = values["ra"], values["dec"], values["radius_arcsec"]
        limit = values["limit"] or DEFAULT_LIMIT
        # q3c computes in float8, where a subnormal intermediate raises "underflow": positions are
        # rounded to 1e-12 degrees and the radius is at least that (far below any astrometry).
        rows = sky.cone_search("ppdbdiaobject", round(ra % 360.0, 12), round(dec, 12),
                               max(radius / 3600.0, 1e-12), limit, columns="diaobject_id, ra, decl")
        return {"status": "ok",
                "objects": [{"diaobject_id": r["diaobject_id"], "ra": r["ra"], "decl": r["decl"],
                             "distance_arcsec": r["distance_deg"] * 3600.0} for r in rows]}
