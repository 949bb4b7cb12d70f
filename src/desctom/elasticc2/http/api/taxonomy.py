"""``/elasticc2/classids`` and ``/elasticc2/classifiers_json`` (reference §1.4.2).

Both take no parameters: GET and POST answer the same, and the request body is not read
(the original README posts to ``classids`` without a body).
"""

from __future__ import annotations

from desctom.core.jsonapi import JsonApiView, strict_json_response
from desctom.elasticc2.http.api.taxonomy_contract import CLASSIDS_DOC, CLASSIFIERS_DOC
from desctom.elasticc2.queries.taxonomy import class_ids, classifiers


class ClassIdsView(JsonApiView):
    """GET|POST ``/elasticc2/classids``: the ELAsTiCC2 class taxonomy keyed by class id."""

    api_doc = CLASSIDS_DOC

    def post(self, request, *args, **kwargs):
        return strict_json_response(class_ids())


class ClassifiersJsonView(JsonApiView):
    """GET|POST ``/elasticc2/classifiers_json``: every registered classifier keyed by its id ({} if none)."""

    api_doc = CLASSIFIERS_DOC

    def post(self, request, *args, **kwargs):
        return strict_json_response(classifiers())
