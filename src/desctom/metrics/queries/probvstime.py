"""Mean class probability vs days from peak (the original's ``gen_elasticc2_confusionvst``).

For each classifier, true class (exact class id of the object's gentype) and
``relday = floor(source midpointtai - truth peakmjd)`` in [-20, 90]: over the latest message of
that classifier for each source, the mean probability of every class (a class a message does not
list counts as 0). Recomputed in full each run.
"""

from __future__ import annotations

NAME = "probvstime"
TITLE = "Probability vs days from peak"
RELDAY_MIN, RELDAY_MAX = -20, 90

_INSERT = """
    WITH latest AS (
        SELECT DISTINCT ON (m.classifier_id, m.diasource_id)
               m.classifier_id, m.diasource_id, m.classid, m.probability
        FROM elasticc2_brokermessage m
        ORDER BY m.classifier_id, m.diasource_id, m.descingesttimestamp DESC, m.brokermessage_id DESC
    ), msg AS (
        SELECT l.classifier_id, l.classid, l.probability, g.classid AS true_classid,
               floor(s.midpointtai - t.peakmjd)::int AS relday
        FROM latest l
        JOIN elasticc2_ppdbdiasource s ON s.diasource_id = l.diasource_id
        JOIN elasticc2_diaobjecttruth t ON t.diaobject_id = s.diaobject_id
        JOIN elasticc2_classidofgentype g ON g.gentype = t.gentype AND g.exactmatch
        WHERE s.midpointtai - t.peakmjd >= %(lo)s AND s.midpointtai - t.peakmjd < %(hi)s
    ), n AS (
        SELECT classifier_id, true_classid, relday, count(*) AS nmsg FROM msg GROUP BY 1, 2, 3
    ), p AS (
        SELECT msg.classifier_id, msg.true_classid, msg.relday, u.c AS classid, sum(u.p) AS psum
        FROM msg CROSS JOIN LATERAL unnest(msg.classid, msg.probability) AS u(c, p)
        GROUP BY 1, 2, 3, 4
    )
    INSERT INTO metrics_probvstime (classifier_id, true_classid, relday, classid, meanprob, nmessages)
    SELECT p.classifier_id, p.true_classid, p.relday, p.classid, p.psum / n.nmsg, n.nmsg
    FROM p JOIN n USING (classifier_id, true_classid, relday)
"""


def compute(cur, full: bool = False) -> tuple[int, str]:
    """Recompute ``metrics_probvstime``; returns (rows written, note)."""
    cur.execute("DELETE FROM metrics_probvstime")
    cur.execute(_INSERT, {"lo": RELDAY_MIN, "hi": RELDAY_MAX + 1})
    return cur.rowcount, "full"
