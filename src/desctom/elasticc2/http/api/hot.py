"""``/elasticc2/gethottransients`` (reference §1.4.6): recently detected objects with their photometry.

The answer is streamed by :func:`desctom.elasticc2.queries.hot.hot_answer_pieces` (the same bytes as
``hot_transients`` written whole); the contract is
:class:`~desctom.elasticc2.http.api.followup_contract.HotRequest`.
"""

from __future__ import annotations

from desctom.core.jsonapi import ApiError, JsonApiView
from desctom.core.jsonstream import streaming_json_response
from desctom.core.permissions import ADMIN_GROUP, is_admin
from desctom.elasticc2.http.api.cached import cached_or_streamed
from desctom.elasticc2.http.api.followup_contract import HOT_DOC
from desctom.elasticc2.queries.clock import campaign_now_mjd
from desctom.elasticc2.queries.hot import hot_answer_pieces

DEFAULT_DAYS = 30.0


class GetHotSNeView(JsonApiView):
    """POST (or GET) ``/elasticc2/gethottransients``."""

    api_doc = HOT_DOC
    error_prefix = "Exception in GetHotSNeView: "

    def handle(self, data: dict):
        arguments = self.arguments(data)
        if arguments["gentypes"] is not None and not is_admin(self.request.user):
            # selecting by true type reveals the truth: ELAsTiCC admins only
            name = self.request.user.get_username()
            raise ApiError(f"Error, cheat_gentypes selects by simulation truth: only ELAsTiCC admins "
                           f"(group {ADMIN_GROUP!r}) may use it, not {name!r}", 403)
        if arguments["gentypes"] is not None:  # reads the truth, which has no data version: never kept
            return streaming_json_response(hot_answer_pieces(**arguments), "gethottransients")
        return cached_or_streamed(self.request, "gethottransients", arguments,
                                  lambda: hot_answer_pieces(**arguments))

    def arguments(self, data: dict) -> dict:
        """The checked arguments of :func:`hot_answer_pieces`; ApiError for bad ones."""
        values = self.api_doc.request.parse(data, self.error_prefix)
        mjd_now, since = values["mjd_now"], values["detected_since_mjd"]
        if since is None:
            days = values["detected_in_last_days"]
            anchor = mjd_now if mjd_now is not None else campaign_now_mjd()  # the campaign's clock
            since = anchor - (DEFAULT_DAYS if days is None else days)
        return {"since": since, "mjd_now": mjd_now, "include_hostinfo": values["include_hostinfo"],
                "gentypes": values["cheat_gentypes"], "return_format": values["return_format"] or 0}
