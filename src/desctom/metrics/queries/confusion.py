"""Confusion matrices of the latest classification (the original's ``gen_confmatrix_last``).

For each classifier and known object: the classifier's latest message about the object
(``elasticc2_diaobjectlatestclassification``: the message on the object's latest detection by
``midpointtai``, ties: the latest ingested, then the highest id), predicted class = the class of
highest probability (ties: the first listed). True class = the exact class id of the object's SNANA
gentype. Predicted class ids absent from the taxonomy are stored as -1 ("other/unknown"). Stores
counts; the pages normalise.

Incremental: statement triggers on the latest-classification table log every row that appears (+1)
or goes (-1) with the class it predicts (``metrics_objectclasschange``, migration 0002); a run takes
the log and adds the deltas to the cells, so its cost follows the changes since the last run, not
the messages stored. ``full`` recounts every object from the latest-classification table (same
numbers). Objects count once the source updater has processed their messages.
"""

from __future__ import annotations

NAME = "confusion"
TITLE = "Confusion matrices"
UNKNOWN = -1
LOG = "metrics_objectclasschange"

#: Add the deltas of ``{changes}`` (classifier_id, diaobject_id, pred_classid, delta) to the cells.
_APPLY = """
    WITH changes AS ({changes}), cells AS (
        SELECT c.classifier_id, g.classid AS true_classid, coalesce(k.classid, %(unknown)s) AS pred_classid,
               sum(c.delta) AS n
        FROM changes c
        JOIN elasticc2_diaobjecttruth t ON t.diaobject_id = c.diaobject_id
        JOIN elasticc2_classidofgentype g ON g.gentype = t.gentype AND g.exactmatch
        LEFT JOIN (SELECT DISTINCT classid FROM elasticc2_gentypeofclassid) k ON k.classid = c.pred_classid
        GROUP BY 1, 2, 3 HAVING sum(c.delta) <> 0
    )
    INSERT INTO metrics_confusioncell AS cell (classifier_id, true_classid, pred_classid, nobjects)
    SELECT classifier_id, true_classid, pred_classid, n FROM cells
    ON CONFLICT (classifier_id, true_classid, pred_classid)
    DO UPDATE SET nobjects = cell.nobjects + EXCLUDED.nobjects
"""
_TAKE_LOG = f"DELETE FROM {LOG} RETURNING classifier_id, diaobject_id, pred_classid, delta"
_EVERY_OBJECT = ("SELECT classifier_id, diaobject_id, metrics_predicted_class(classid, probability) "
                 "AS pred_classid, 1 AS delta FROM elasticc2_diaobjectlatestclassification")


def compute(cur, full: bool = False) -> tuple[int, str]:
    """Bring ``metrics_confusioncell`` up to date; returns (cells changed, note)."""
    if full:
        # no latest-classification change may commit between the recount and the emptied log (TRUNCATE
        # locks it until commit); TRUNCATE, not DELETE: a rebuild's log of millions of rows leaves no
        # dead space behind
        cur.execute(f"TRUNCATE {LOG}")
        cur.execute("DELETE FROM metrics_confusioncell")
        cur.execute(_APPLY.format(changes=_EVERY_OBJECT), {"unknown": UNKNOWN})
        return cur.rowcount, "full"
    cur.execute(_APPLY.format(changes=_TAKE_LOG), {"unknown": UNKNOWN})
    changed = cur.rowcount
    cur.execute("DELETE FROM metrics_confusioncell WHERE nobjects = 0")
    return changed, "changes since the last run"
