"""Confusion matrices of the latest classification (the original's ``gen_confmatrix_last``).

For each classifier and object: the message on the object's latest source (by ``midpointtai``)
that the classifier classified (ties: the latest ingested), predicted class = the class of highest
probability (ties: the first listed). True class = the exact class id of the object's SNANA
gentype. Predicted class ids absent from the taxonomy are stored as -1 ("other/unknown").
Recomputed in full each run. Stores counts; the pages normalise.
"""

from __future__ import annotations

NAME = "confusion"
TITLE = "Confusion matrices"
UNKNOWN = -1

_INSERT = """
    WITH latest AS (
        SELECT DISTINCT ON (m.classifier_id, s.diaobject_id)
               m.classifier_id, s.diaobject_id, m.classid, m.probability
        FROM elasticc2_brokermessage m
        JOIN elasticc2_ppdbdiasource s ON s.diasource_id = m.diasource_id
        ORDER BY m.classifier_id, s.diaobject_id, s.midpointtai DESC, m.descingesttimestamp DESC,
                 m.brokermessage_id DESC
    ), pred AS (
        SELECT l.classifier_id, l.diaobject_id,
               (SELECT u.c FROM unnest(l.classid, l.probability) WITH ORDINALITY AS u(c, p, o)
                ORDER BY u.p DESC NULLS LAST, u.o LIMIT 1) AS predicted
        FROM latest l
    ), truth AS (
        SELECT t.diaobject_id, g.classid AS true_classid
        FROM elasticc2_diaobjecttruth t
        JOIN elasticc2_classidofgentype g ON g.gentype = t.gentype AND g.exactmatch
    ), known AS (
        SELECT DISTINCT classid FROM elasticc2_gentypeofclassid
    )
    INSERT INTO metrics_confusioncell (classifier_id, true_classid, pred_classid, nobjects)
    SELECT p.classifier_id, t.true_classid, coalesce(k.classid, %s), count(*)
    FROM pred p
    JOIN truth t ON t.diaobject_id = p.diaobject_id
    LEFT JOIN known k ON k.classid = p.predicted
    GROUP BY 1, 2, 3
"""


def compute(cur, full: bool = False) -> tuple[int, str]:
    """Recompute ``metrics_confusioncell``; returns (rows written, note)."""
    cur.execute("DELETE FROM metrics_confusioncell")
    cur.execute(_INSERT, [UNKNOWN])
    return cur.rowcount, "full"
