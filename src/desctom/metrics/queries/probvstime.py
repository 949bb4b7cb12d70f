"""Mean class probability vs days from peak (the original's ``gen_elasticc2_confusionvst``).

For each classifier, true class (exact class id of the object's gentype) and
``relday = floor(source midpointtai - truth peakmjd)`` in [-20, 90]: over the latest message of
that classifier for each known source (``elasticc2_diasourcelatestclassification``: latest ingested,
then the highest id), the mean probability of every class (a class a message does not list counts as 0).

Incremental: statement triggers on the per-source latest-classification table log every row that
appears (+1) or goes (-1) with its message (``metrics_sourceclasschange``, migration 0002); a run
takes the log and adds or removes those messages: per cell the message count
(``metrics_probvstimecell``), per class the exact sum of probabilities (``numeric``) and the messages
listing it; the means of the touched cells are then recomputed. ``full`` recounts every source (same
numbers, bit for bit: the sums are exact).
"""

from __future__ import annotations

NAME = "probvstime"
TITLE = "Probability vs days from peak"
RELDAY_MIN, RELDAY_MAX = -20, 90
LOG = "metrics_sourceclasschange"
_KEY = "classifier_id, true_classid, relday"

_STAGE = """CREATE TEMP TABLE _pvt_msg (classifier_id bigint, true_classid integer, relday integer,
    delta integer, classid smallint[], probability real[]) ON COMMIT DROP"""
#: The messages of ``{changes}`` (classifier_id, diaobject_id, midpointtai, brokermessage_id, delta)
#: with their true class and day from peak.
_STAGE_FILL = """
    WITH changes AS ({changes})
    INSERT INTO _pvt_msg
    SELECT c.classifier_id, g.classid, floor(c.midpointtai - t.peakmjd)::int, c.delta,
           m.classid, m.probability
    FROM changes c
    JOIN elasticc2_brokermessage m  -- the classifier too: one partition when the table is partitioned
      ON m.brokermessage_id = c.brokermessage_id AND m.classifier_id = c.classifier_id
    JOIN elasticc2_diaobjecttruth t ON t.diaobject_id = c.diaobject_id
    JOIN elasticc2_classidofgentype g ON g.gentype = t.gentype AND g.exactmatch
    WHERE c.midpointtai - t.peakmjd >= %(lo)s AND c.midpointtai - t.peakmjd < %(hi)s
"""
_TAKE_LOG = f"DELETE FROM {LOG} RETURNING classifier_id, diaobject_id, midpointtai, brokermessage_id, delta"
_EVERY_SOURCE = ("SELECT classifier_id, diaobject_id, midpointtai, brokermessage_id, 1 AS delta "
                 "FROM elasticc2_diasourcelatestclassification")
_APPLY = [
    f"""INSERT INTO metrics_probvstimecell AS c ({_KEY}, nmessages)
        SELECT {_KEY}, sum(delta) FROM _pvt_msg GROUP BY 1, 2, 3 HAVING sum(delta) <> 0
        ON CONFLICT ({_KEY}) DO UPDATE SET nmessages = c.nmessages + EXCLUDED.nmessages""",
    f"""INSERT INTO metrics_probvstime AS p ({_KEY}, classid, probsum, nlisted, meanprob, nmessages)
        SELECT {_KEY}, u.c, coalesce(sum(delta * u.p::numeric), 0), sum(delta), 0, 0
        FROM _pvt_msg CROSS JOIN LATERAL unnest(classid, probability) AS u(c, p)
        WHERE u.c IS NOT NULL GROUP BY 1, 2, 3, 4
        ON CONFLICT ({_KEY}, classid)
        DO UPDATE SET probsum = p.probsum + EXCLUDED.probsum, nlisted = p.nlisted + EXCLUDED.nlisted""",
    f"CREATE TEMP TABLE _pvt_cells ON COMMIT DROP AS SELECT DISTINCT {_KEY} FROM _pvt_msg",
    """DELETE FROM metrics_probvstime p USING _pvt_cells t
        WHERE (p.classifier_id, p.true_classid, p.relday) = (t.classifier_id, t.true_classid, t.relday)
          AND p.nlisted = 0""",
    f"""UPDATE metrics_probvstime p SET nmessages = c.nmessages, meanprob = (p.probsum / c.nmessages)::float8
        FROM _pvt_cells t JOIN metrics_probvstimecell c USING ({_KEY})
        WHERE (p.classifier_id, p.true_classid, p.relday) = (t.classifier_id, t.true_classid, t.relday)
          AND c.nmessages > 0""",
    """DELETE FROM metrics_probvstimecell c USING _pvt_cells t
        WHERE (c.classifier_id, c.true_classid, c.relday) = (t.classifier_id, t.true_classid, t.relday)
          AND c.nmessages = 0""",
]


def compute(cur, full: bool = False) -> tuple[int, str]:
    """Bring ``metrics_probvstime`` up to date; returns (messages added or removed, note).

    The log names messages by id; if one of them is gone from ``elasticc2_brokermessage`` (deleted
    by SQL: nothing in DESC TOM deletes messages) its probabilities cannot be taken back, and the run
    recounts in full instead.
    """
    cur.execute("DROP TABLE IF EXISTS _pvt_msg, _pvt_cells, _pvt_changes")
    cur.execute(_STAGE)
    note = "full"
    if not full:
        cur.execute(f"CREATE TEMP TABLE _pvt_changes ON COMMIT DROP AS SELECT * FROM {LOG} LIMIT 0")
        cur.execute(f"WITH taken AS ({_TAKE_LOG}) INSERT INTO _pvt_changes "
                    "(classifier_id, diaobject_id, midpointtai, brokermessage_id, delta) SELECT * FROM taken")
        cur.execute("SELECT EXISTS (SELECT 1 FROM _pvt_changes c WHERE NOT EXISTS ("
                    "SELECT 1 FROM elasticc2_brokermessage m WHERE m.brokermessage_id = c.brokermessage_id "
                    "AND m.classifier_id = c.classifier_id))")
        full = cur.fetchone()[0]
        note = "full (a logged message was deleted)" if full else "changes since the last run"
    if full:
        # no latest-classification change may commit between the recount and the emptied log (TRUNCATE
        # locks it until commit); TRUNCATE, not DELETE: a rebuild's log of millions of rows leaves no
        # dead space behind
        cur.execute(f"TRUNCATE {LOG}")
        cur.execute("DELETE FROM metrics_probvstime")
        cur.execute("DELETE FROM metrics_probvstimecell")
    changes = _EVERY_SOURCE if full else "SELECT * FROM _pvt_changes"
    cur.execute(_STAGE_FILL.format(changes=changes), {"lo": RELDAY_MIN, "hi": RELDAY_MAX + 1})
    messages = cur.rowcount
    cur.execute("ANALYZE _pvt_msg")
    for statement in _APPLY:
        cur.execute(statement)
    cur.execute("DROP TABLE IF EXISTS _pvt_msg, _pvt_cells, _pvt_changes")
    return messages, note
