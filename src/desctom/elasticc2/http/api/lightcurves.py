"""``/elasticc2/ltcv`` and ``/elasticc2/ltcvfeatures`` (reference §1.4.4).

``ltcv`` serves the forced photometry of objects the TOM knows (the local tables
``elasticc2_diaobject`` / ``elasticc2_diaforcedsource``); ``ltcvfeatures`` computes light-curve
features (the ``light-curve`` package) on the simulated PPDB's forced photometry.
Fluxes are nJy: zeropoint 31.4. The requests are declared in :mod:`.lightcurves_contract`.
"""

from __future__ import annotations

from desctom.core.jsonapi import JsonApiView
from desctom.core.jsonstream import streaming_json_response
from desctom.elasticc2.http.api.lightcurves_contract import FEATURES_DOC, FEATURES_MISSING, LTCV_DOC
from desctom.elasticc2.queries.features import FEATURE_NAMES, band_order, compute_features
from desctom.elasticc2.queries.lightcurves import (
    HOST_COLUMNS,
    PHOTOMETRY_KEYS,
    ltcv_answer_pieces,
    ppdb_forced_photometry,
)

__all__ = ["FEATURE_NAMES", "HOST_COLUMNS", "PHOTOMETRY_KEYS", "LtcvFeaturesView", "LtcvView"]


class LtcvView(JsonApiView):
    """POST (or GET) ``/elasticc2/ltcv``: light curves of objects the TOM knows."""

    error_prefix = "Exception in LtcvsView: "
    api_doc = LTCV_DOC

    def handle(self, data: dict):
        values = self.api_doc.request.parse(data, self.error_prefix)
        ids = values["objectid"] or values["objectids"]
        return_format = values["return_format"] or 0
        pieces = ltcv_answer_pieces(ids, values["mjd_now"], bool(values["include_hostinfo"]), return_format)
        return streaming_json_response(pieces, "ltcv")


class LtcvFeaturesView(JsonApiView):
    """POST (or GET) ``/elasticc2/ltcvfeatures``: light-curve features of a PPDB object."""

    error_prefix = "Exception in LtcvFeatures: "
    not_object_message = FEATURES_MISSING
    api_doc = FEATURES_DOC

    def handle(self, data: dict):
        values = self.api_doc.request.parse(data, self.error_prefix)
        # a detection (sourceid, else alertid) wins over objectid
        key = next(k for k in ("sourceid", "alertid", "objectid") if values[k] is not None)
        rows = ppdb_forced_photometry(key, values[key], values["through_mjd"])
        if rows is None:
            raise self.error(f"Unknown {key} {values[key]}", 404)
        mjd = [r[0] for r in rows]
        band = [r[1] for r in rows]
        flux = [r[2] for r in rows]
        fluxerr = [r[3] for r in rows]
        if values["per_band"]:
            result = {}
            for b in sorted(set(band), key=band_order):
                picked = [i for i, x in enumerate(band) if x == b]
                result[b] = compute_features([mjd[i] for i in picked], [flux[i] for i in picked],
                                             [fluxerr[i] for i in picked])
        else:
            result = compute_features(mjd, flux, fluxerr)
        if values["includeltcv"]:
            result["lightcurve"] = {"mjd": mjd, "flux": flux, "dflux": fluxerr}
            if values["per_band"]:
                result["lightcurve"]["band"] = band
        return result
