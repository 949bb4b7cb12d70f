"""``/elasticc2/askforspectrum`` and ``/elasticc2/spectrawanted`` (reference §1.4.6).

Spectrum recommendation systems ask for spectra of known objects (one request per object and
requester; asking again replaces it); observatories read what is wanted, recently detected,
not yet claimed by a plan and not yet observed, with each band's latest S/N > 3 forced point.
Contracts: :mod:`.followup_contract`; statements: :mod:`desctom.elasticc2.queries.spectra` (the
wanted list streams: :mod:`desctom.elasticc2.queries.wanted`).
"""

from __future__ import annotations

import datetime as dt

from desctom.core.jsonapi import JsonApiView
from desctom.core.jsonstream import streaming_json_response
from desctom.elasticc2.http.api.cached import cached_or_streamed
from desctom.elasticc2.http.api.followup_contract import ASK_DOC, WANTED_DOC
from desctom.elasticc2.queries import spectra
from desctom.elasticc2.queries.clock import campaign_now_mjd
from desctom.elasticc2.queries.wanted import wanted_spectra_pieces

#: ``requested_since`` by default: requests of the last this many days.
SINCE_DAYS = 14.0
#: ``not_claimed_in_last_days`` above this many days (1000 years) counts as this many.
MAX_DAYS = 365_000.0


class PostJsonView(JsonApiView):
    """A JSON endpoint that answers only POST (GET: 405), as the original's write endpoints did."""

    http_method_names = ["post", "options"]


def ids_text(ids: list[int], limit: int = 10) -> str:
    """``[1, 2, 3]``, or the first ``limit`` and how many more."""
    shown = ", ".join(str(i) for i in ids[:limit])
    return f"[{shown}]" if len(ids) <= limit else f"[{shown}, ...] ({len(ids)} in all)"


class AskForSpectrumView(PostJsonView):
    """POST ``/elasticc2/askforspectrum``: ``{"requester", "objectids", "priorities"}``."""

    api_doc = ASK_DOC
    error_prefix = "Mal-formed data for askforspectrum: "
    not_object_message = "the body must be a JSON object with keys requester, objectids, priorities"

    def handle(self, data: dict):
        values = self.api_doc.request.parse(data, self.error_prefix)
        unknown_ids = spectra.unknown_objects(values["objectids"])
        if unknown_ids:
            raise self.error(f"unknown objectids {ids_text(unknown_ids)}: the TOM knows only objects "
                             "brokers have classified")
        num = spectra.ask_for_spectra(values["requester"], values["objectids"], values["priorities"],
                                      self.request.user.pk)
        return {"status": "ok", "message": "wanted spectra created", "num": num}


class SpectraWantedView(PostJsonView):
    """POST ``/elasticc2/spectrawanted``: wanted spectra, highest priority first."""

    api_doc = WANTED_DOC
    error_prefix = "Exception in WhatSpectraAreWanted: "

    def handle(self, data: dict):
        values = self.api_doc.request.parse(data, self.error_prefix)
        now = dt.datetime.now(dt.UTC)
        mjd_now = values["mjd_now"]
        anchor = mjd_now if mjd_now is not None else campaign_now_mjd()  # the campaign's clock
        since = values["requested_since"] or now - dt.timedelta(days=SINCE_DAYS)
        # More than MAX_DAYS days back means "ever" (and keeps the cut within what a datetime holds).
        not_claimed = min(_or(values["not_claimed_in_last_days"], 7.0), MAX_DAYS)
        no_spectra = _or(values["no_spectra_in_last_days"], 7.0)
        detected = values["detected_since_mjd"]
        if detected is None:
            detected = anchor - _or(values["detected_in_last_days"], 14.0)
        arguments = dict(
            since=since, detected=detected, mjd_now=mjd_now,
            claim_cut=now - dt.timedelta(days=not_claimed) if not_claimed > 0 else None,
            spectrum_cut=anchor - no_spectra if no_spectra > 0 else None,
            lim_mag=values["lim_mag"], band=values["lim_mag_band"], include_user=values["include_user"])
        if arguments["include_user"]:  # user names are not versioned: never from the cache
            return streaming_json_response(wanted_spectra_pieces(**arguments), "spectrawanted")
        # keyed without the wall clock; kept until a request or plan crosses a cut (wanted_answer_expiry)
        since_days = None if values["requested_since"] else SINCE_DAYS
        claim_days = not_claimed if not_claimed > 0 else None
        key = {**arguments, "since": f"now-{since_days}d" if since_days else since,
               "claim_cut": f"now-{claim_days}d" if claim_days else None}
        return cached_or_streamed(
            self.request, "spectrawanted", key, lambda: wanted_spectra_pieces(**arguments),
            expires=lambda: spectra.wanted_answer_expiry(since, arguments["claim_cut"], since_days,
                                                         claim_days))


def _or(value, default):
    return default if value is None else value
