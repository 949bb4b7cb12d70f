"""``/elasticc2/classids`` and ``/elasticc2/classifiers_json`` (reference §1.4.2).

Both take no parameters: GET and POST answer the same, and the request body is not read
(the original README posts to ``classids`` without a body).
"""

from __future__ import annotations

from django.db import connection

from desctom.core.jsonapi import JsonApiView, strict_json_response
from desctom.elasticc2.models import BrokerClassifier

_FLAGS = ("exactmatch", "categorymatch", "generalmatch", "broadmatch")


def class_ids() -> dict[str, dict]:
    """Every class id of the taxonomy: description, matching gentypes and match flags.

    Class ids of ``elasticc2_classidofgentype`` come grouped by (classid, flags) with their
    gentypes; class ids found only in ``elasticc2_gentypeofclassid`` (taxonomy nodes without a
    simulated model) follow with no gentypes and all flags false. Sorted by class id.
    """
    flags = ", ".join(_FLAGS)
    with connection.cursor() as cur:
        cur.execute(f"""
            SELECT classid, {flags}, (array_agg(description ORDER BY id))[1],
                   array_agg(gentype ORDER BY gentype)
            FROM elasticc2_classidofgentype
            GROUP BY classid, {flags}
            ORDER BY classid, {flags}""")
        grouped = cur.fetchall()
        cur.execute("""
            SELECT g.classid, (array_agg(g.description ORDER BY g.id))[1]
            FROM elasticc2_gentypeofclassid g
            WHERE NOT EXISTS (SELECT 1 FROM elasticc2_classidofgentype c WHERE c.classid = g.classid)
            GROUP BY g.classid""")
        extra = cur.fetchall()
    result: dict[int, dict] = {}
    for classid, exact, category, general, broad, description, gentypes in grouped:
        result[classid] = {"description": description, "gentype": list(gentypes), "exactmatch": exact,
                           "categorymatch": category, "generalmatch": general, "broadmatch": broad}
    for classid, description in extra:
        result[classid] = {"description": description, "gentype": [],
                           **dict.fromkeys(_FLAGS, False)}
    return {str(classid): result[classid] for classid in sorted(result)}


class ClassIdsView(JsonApiView):
    """GET|POST ``/elasticc2/classids``: the ELAsTiCC2 class taxonomy keyed by class id."""

    def post(self, request, *args, **kwargs):
        return strict_json_response(class_ids())


class ClassifiersJsonView(JsonApiView):
    """GET|POST ``/elasticc2/classifiers_json``: every registered classifier keyed by its id ({} if none)."""

    def post(self, request, *args, **kwargs):
        rows = BrokerClassifier.objects.order_by("classifier_id").values_list(
            "classifier_id", "brokername", "brokerversion", "classifiername", "classifierparams")
        return strict_json_response({
            str(cid): {"brokername": broker, "brokerversion": version, "classifiername": name,
                       "classifierparams": params}
            for cid, broker, version, name, params in rows})
