"""Schema pieces and fields shared by the contracts of the ELAsTiCC2 data endpoints (ltcv, features,
cone search, alerts, taxonomy) and of the follow-up ones (hot transients, spectra)."""

from __future__ import annotations

from desctom.core.apidoc import INT64, NUMBER, STRING, array, error, nullable
from desctom.core.contract import Int64
from desctom.elasticc2.queries.lightcurves import HOST_COLUMNS

TAG = "elasticc2"
NULLABLE_NUMBER = nullable(NUMBER)

#: An object, source or alert id in a request.
ID = {**INT64, "description": "An integer (a string of digits is accepted too)."}
#: A light curve's parallel arrays (nJy, zeropoint 31.4).
PHOTOMETRY = {
    "mjd": array(NUMBER),
    "band": array(STRING),
    "flux": array(NULLABLE_NUMBER),
    "fluxerr": array(NULLABLE_NUMBER),
}
#: The first host galaxy's columns (``include_hostinfo``).
HOST = {c: NULLABLE_NUMBER for c in HOST_COLUMNS}
NOT_FOUND = error("No such alert, source or object.")


class Id(Int64):
    """An id (a ``bigint``); ``null`` is refused as the original did ("... must be an integer, not null")."""

    def fail(self, key, **kwargs):
        if key == "null":
            self.refuse(f"{self.name} must be an integer, not null")
        super().fail(key, **kwargs)
