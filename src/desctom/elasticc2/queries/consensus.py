"""The consensus class of an object's broker classifications, kept per object in
``elasticc2_diaobjectconsensus`` (model :class:`~desctom.elasticc2.models.DiaObjectConsensus`).

For each classifier its latest message about the object (``elasticc2_diaobjectlatestclassification``),
the probability vectors summed over the classifiers (a class a classifier did not mention counts
0), and the leaf class of the taxonomy (a class id >= 1000 with no sub-classes) with the highest
sum (ties: the lower class id). ``gethottransients``' ``sncode`` and the object pages read it
(:mod:`desctom.elasticc2.queries.followup`), so they no longer add up every classifier's vector per
question: with thousands of objects per answer that was most of the answer's time.

``elasticc2_diaobjectconsensusasof`` (model :class:`~desctom.elasticc2.models.DiaObjectConsensusAsOf`)
holds the same consensus as of each of the object's classified detections, from each classifier's
latest message about a detection up to then (``elasticc2_diasourcelatestclassification``), for
questions about the past.

``update_elasticc2_sources`` recomputes the objects it touched in the same transaction that
updates their latest classifications;
:func:`desctom.elasticc2.workers.source_updater.rebuild_latest_classifications` recomputes all.
"""

from __future__ import annotations

from desctom.survey.taxonomy import CLASSES


def _parent(classid: int) -> int | None:
    for step in (10, 100, 1000):
        parent = classid // step * step
        if parent != classid:
            return parent
    return None


#: Leaf classes of the taxonomy that name a kind of object (the Meta classes 0-999 do not).
LEAF_CLASSES: tuple[int, ...] = tuple(sorted(set(CLASSES) - {_parent(c) for c in CLASSES} - set(range(1000))))

#: Upsert the consensus of the objects ``{objects}`` (a relation with a ``diaobject_id`` column,
#: distinct ids) from their latest classifications; parameter ``leaves``. Objects without any
#: latest classification get no row; rows already right are not rewritten.
UPSERT_CONSENSUS = """
INSERT INTO elasticc2_diaobjectconsensus AS c (diaobject_id, classid, midpointtai)
SELECT o.diaobject_id, v.classid, l.midpointtai
FROM {objects} o
CROSS JOIN LATERAL (
    SELECT max(x.midpointtai) AS midpointtai FROM elasticc2_diaobjectlatestclassification x
    WHERE x.diaobject_id = o.diaobject_id) l
LEFT JOIN LATERAL (
    SELECT p.classid FROM elasticc2_diaobjectlatestclassification x
    CROSS JOIN LATERAL unnest(x.classid, x.probability) AS p(classid, probability)
    WHERE x.diaobject_id = o.diaobject_id
      AND p.classid = ANY(%(leaves)s::smallint[]) AND p.probability > 0
    GROUP BY p.classid ORDER BY sum(p.probability) DESC, p.classid LIMIT 1) v ON TRUE
WHERE l.midpointtai IS NOT NULL
ON CONFLICT (diaobject_id) DO UPDATE SET classid = EXCLUDED.classid, midpointtai = EXCLUDED.midpointtai
WHERE (c.classid, c.midpointtai) IS DISTINCT FROM (EXCLUDED.classid, EXCLUDED.midpointtai)
"""


def upsert_consensus(cur, objects: str) -> int:
    """Recompute the consensus of the objects ``objects`` (SQL relation, see :data:`UPSERT_CONSENSUS`)
    with cursor ``cur``; returns the rows inserted or changed."""
    cur.execute(UPSERT_CONSENSUS.format(objects=objects), {"leaves": list(LEAF_CLASSES)})
    return cur.rowcount


#: Upsert the consensus as of each classified detection time of the objects ``{changes}`` (a relation
#: with columns ``diaobject_id`` and ``since``: distinct objects, and the earliest detection time whose
#: latest messages changed) from that time on; parameter ``leaves``. Rows before ``since`` cannot
#: have changed. For each time, each classifier's latest message about a detection up to then is
#: one probe of index ``elasticc2_dsrclatest_asof``.
UPSERT_CONSENSUS_AS_OF = """
INSERT INTO elasticc2_diaobjectconsensusasof AS a (diaobject_id, midpointtai, classid)
SELECT t.diaobject_id, t.midpointtai, v.classid
FROM (SELECT DISTINCT l.diaobject_id, l.midpointtai FROM {changes} c
      JOIN elasticc2_diasourcelatestclassification l
        ON l.diaobject_id = c.diaobject_id AND l.midpointtai >= c.since) t
LEFT JOIN LATERAL (
    SELECT u.classid FROM elasticc2_diaobjectlatestclassification k
    CROSS JOIN LATERAL (
        SELECT l.brokermessage_id FROM elasticc2_diasourcelatestclassification l
        WHERE l.diaobject_id = t.diaobject_id AND l.classifier_id = k.classifier_id
          AND l.midpointtai <= t.midpointtai
        ORDER BY l.midpointtai DESC, l.descingesttimestamp DESC, l.brokermessage_id DESC LIMIT 1) p
    JOIN elasticc2_brokermessage m  -- the classifier too: one partition when the table is partitioned
      ON m.brokermessage_id = p.brokermessage_id AND m.classifier_id = k.classifier_id
    CROSS JOIN LATERAL unnest(m.classid, m.probability) AS u(classid, probability)
    WHERE k.diaobject_id = t.diaobject_id
      AND u.classid = ANY(%(leaves)s::smallint[]) AND u.probability > 0
    GROUP BY u.classid ORDER BY sum(u.probability) DESC, u.classid LIMIT 1) v ON TRUE
ON CONFLICT (diaobject_id, midpointtai) DO UPDATE SET classid = EXCLUDED.classid
WHERE a.classid IS DISTINCT FROM EXCLUDED.classid
"""


def upsert_consensus_as_of(cur, changes: str) -> int:
    """Recompute the consensus as of the detections of ``changes`` (SQL relation, see
    :data:`UPSERT_CONSENSUS_AS_OF`) with cursor ``cur``; returns the rows inserted or changed."""
    cur.execute(UPSERT_CONSENSUS_AS_OF.format(changes=changes), {"leaves": list(LEAF_CLASSES)})
    return cur.rowcount
