"""Plans and reports of spectra (reference §1.4.6): ``planspectrum``, ``removespectrumplan``,
``reportspectruminfo``, ``getknownspectruminfo``.

A plan is one row per (object, facility): planning again replaces it. Reporting a spectrum removes
the facility's plan and every request for the object. Each plan and report records its user.
Contracts: :mod:`.followup_contract`; statements: :mod:`desctom.elasticc2.queries.spectra`.
"""

from __future__ import annotations

from desctom.core.jsonapi import ApiError
from desctom.core.jsonstream import streaming_json_response
from desctom.elasticc2.http.api.followup_contract import (
    KNOWN_DOC,
    NEED_OBJECT_AND_FACILITY,
    PLAN_DOC,
    REMOVE_DOC,
    REPORT_DOC,
    ReportRequest,
)
from desctom.elasticc2.http.api.spectra import PostJsonView
from desctom.elasticc2.queries import spectra


def _known_object(objectid: int) -> None:
    if not spectra.is_known_object(objectid):
        raise ApiError(f"Unknown objectid {objectid}")


class PlanSpectrumView(PostJsonView):
    """POST ``/elasticc2/planspectrum``: ``{"objectid", "facility", "plantime"?, "comment"?}``."""

    api_doc = PLAN_DOC
    not_object_message = NEED_OBJECT_AND_FACILITY

    def handle(self, data: dict):
        values = self.api_doc.request.parse(data)
        objectid, facility = values["objectid"], values["facility"]
        _known_object(objectid)
        created_at, plantime, comment = spectra.plan_spectrum(
            objectid, facility, values["plantime"], values["comment"] or "", self.request.user.pk)
        return {"status": "ok", "objectid": objectid, "facility": facility, "created_at": created_at,
                "plantime": plantime, "comment": comment}


class RemoveSpectrumPlanView(PostJsonView):
    """POST ``/elasticc2/removespectrumplan``: ``{"objectid", "facility"}``."""

    api_doc = REMOVE_DOC
    not_object_message = NEED_OBJECT_AND_FACILITY

    def handle(self, data: dict):
        values = self.api_doc.request.parse(data)
        n_deleted = spectra.remove_plan(values["objectid"], values["facility"])
        return {"status": "ok", "facility": values["facility"], "objectid": values["objectid"],
                "n_deleted": n_deleted}


class ReportSpectrumInfoView(PostJsonView):
    """POST ``/elasticc2/reportspectruminfo``: ``{"objectid", "facility", "mjd", "z", "classid"}``."""

    api_doc = REPORT_DOC
    not_object_message = "Post data must be a json object with keys " + ", ".join(ReportRequest().fields)

    def handle(self, data: dict):
        values = self.api_doc.request.parse(data)
        objectid, facility = values["objectid"], values["facility"]
        _known_object(objectid)
        inserted_at, mjd, z, classid = spectra.report_spectrum(
            objectid, facility, values["mjd"], values["z"], values["classid"], self.request.user.pk)
        return {"status": "ok", "objectid": objectid, "facility": facility, "inserted_at": inserted_at,
                "mjd": mjd, "z": z, "classid": classid}


class GetKnownSpectrumInfoView(PostJsonView):
    """POST ``/elasticc2/getknownspectruminfo``: reported spectra, filtered, ordered by mjd."""

    api_doc = KNOWN_DOC
    error_prefix = "Exception in GetKnownSpectrumInfo: "

    def handle(self, data: dict):
        values = self.api_doc.request.parse(data, self.error_prefix)
        filters = {"ids": values["objectid"], "facility": values["facility"], "mjd_min": values["mjd_min"],
                   "mjd_max": values["mjd_max"], "z_min": values["z_min"], "z_max": values["z_max"],
                   "classid": values["classid"], "since": values["since"]}
        return streaming_json_response(spectra.known_spectra_pieces(filters, values["include_user"]),
                                       "getknownspectruminfo")
