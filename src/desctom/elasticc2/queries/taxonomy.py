"""The class taxonomy and the registered classifiers (``/elasticc2/classids``, ``/classifiers_json``)."""

from __future__ import annotations

from django.db import connection

_FLAGS = ("exactmatch", "categorymatch", "generalmatch", "broadmatch")


def class_ids(conn=None) -> dict[str, dict]:
    """Every class id of the taxonomy: description, matching gentypes and match flags.

    Class ids of ``elasticc2_classidofgentype`` come grouped by (classid, flags) with their
    gentypes; class ids found only in ``elasticc2_gentypeofclassid`` (taxonomy nodes without a
    simulated model) follow with no gentypes and all flags false. Sorted by class id.
    """
    flags = ", ".join(_FLAGS)
    with (conn or connection).cursor() as cur:
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


def classifiers(conn=None) -> dict[str, dict]:
    """Every registered classifier keyed by its id (as a string), in id order."""
    with (conn or connection).cursor() as cur:
        cur.execute("SELECT classifier_id, brokername, brokerversion, classifiername, classifierparams "
                    "FROM elasticc2_brokerclassifier ORDER BY classifier_id")
        rows = cur.fetchall()
    return {str(cid): {"brokername": broker, "brokerversion": version, "classifiername": name,
                       "classifierparams": params}
            for cid, broker, version, name, params in rows}
