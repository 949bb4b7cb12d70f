"""What follow-up endpoints share: the TOM's best redshift and class of an object, and time parsing.

Best current knowledge of a known object (``redshift``, ``sncode`` in ``gethottransients``):

* **redshift**: the latest reported spectrum's ``z`` (by spectrum ``mjd``), else the first host
  galaxy's spectroscopic redshift, else its photometric redshift, else ``-99``. Host values that
  are NULL, NaN or negative (SNANA writes -9 for "none") do not count.
* **sncode**: the latest reported spectrum's ``classid`` (300 NotClassified and NULL do not count),
  else the consensus of the broker classifiers: for each classifier its latest message about the
  object (the one about the latest detection; ties: the latest stored; among the messages
  ``update_elasticc2_sources`` has processed), the probability vectors
  averaged over those classifiers (a class a classifier did not mention counts 0), and the leaf
  class of the taxonomy (a class id >= 1000 with no sub-classes) with the highest mean (ties: the
  lower class id); else ``-99``.

With ``mjd_now`` only spectra taken and detections made up to ``mjd_now`` count.
Everything is one set-based SQL statement over the ids asked about.
"""

from __future__ import annotations

import datetime as dt
import re

from django.db import connection, transaction

from desctom.elasticc2.queries.consensus import LEAF_CLASSES

__all__ = ["LEAF_CLASSES", "best_knowledge", "fast_plans", "knowledge_ctes", "knowledge_sql", "parse_utc"]

UNKNOWN = -99
#: classid of "the spectrum could not tell" (reference README).
NOT_CLASSIFIED = 300

_DATETIME = re.compile(r"\s*(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?))?"
                       r"\s*(Z|[+-]\d{2}:?\d{2})?\s*")


def parse_utc(text) -> dt.datetime | None:
    """``YYYY-MM-DD`` optionally followed by `` ``/``T`` and ``HH:MM:SS[.ffffff]`` and an optional zone
    (``Z`` or ``+hh:mm``; none means UTC) as an aware datetime; ``None`` if it is not that."""
    if not isinstance(text, str):
        return None
    match = _DATETIME.fullmatch(text)
    if match is None:
        return None
    date, time, zone = match.groups()
    try:
        value = dt.datetime.fromisoformat(f"{date}T{time or '00:00:00'}{zone or '+00:00'}"
                                          .replace("Z", "+00:00"))
    except ValueError:
        return None
    return value.astimezone(dt.UTC)


_HOST_Z = "CASE WHEN {c} >= 0 AND {c} <> 'NaN'::real THEN {c} END"

#: CTEs over a relation ``ids(diaobject_id)`` (distinct ids) ending in
#: ``knowledge(diaobject_id, redshift, sncode)``; parameter ``mjd_now``.
#: The consensus is read from ``elasticc2_diaobjectconsensus`` (one row per object, see
#: :mod:`desctom.elasticc2.queries.consensus`). Only objects whose consensus rests on a detection after
#: ``mjd_now`` ("stale": the question is about the past) read it from ``elasticc2_diaobjectconsensusasof``
#: instead: its row for the latest classified detection up to ``mjd_now``.
_KNOWLEDGE_CTES = f"""
spec_z AS (
    SELECT DISTINCT ON (i.diaobject_id) i.diaobject_id, i.z
    FROM elasticc2_spectruminfo i JOIN ids USING (diaobject_id)
    WHERE i.z IS NOT NULL AND i.z <> 'NaN'::real {{spec_until}}
    ORDER BY i.diaobject_id, i.mjd DESC, i.inserted_at DESC, i.specinfo_id DESC
),
spec_class AS (
    SELECT DISTINCT ON (i.diaobject_id) i.diaobject_id, i.classid
    FROM elasticc2_spectruminfo i JOIN ids USING (diaobject_id)
    WHERE i.classid IS NOT NULL AND i.classid <> {NOT_CLASSIFIED} {{spec_until}}
    ORDER BY i.diaobject_id, i.mjd DESC, i.inserted_at DESC, i.specinfo_id DESC
),
kept AS MATERIALIZED (
    SELECT c.diaobject_id, c.classid, c.midpointtai
    FROM ids JOIN elasticc2_diaobjectconsensus c USING (diaobject_id)
),
stale AS MATERIALIZED ({{stale}}),
recomputed AS (  -- one index probe per stale object
    SELECT x.diaobject_id, a.classid FROM stale x CROSS JOIN LATERAL (
        SELECT h.classid FROM elasticc2_diaobjectconsensusasof h
        WHERE h.diaobject_id = x.diaobject_id {{asof_until}}
        ORDER BY h.midpointtai DESC LIMIT 1) a
),
consensus AS (
    SELECT k.diaobject_id, k.classid FROM kept k
    WHERE NOT EXISTS (SELECT 1 FROM stale x WHERE x.diaobject_id = k.diaobject_id)
    UNION ALL
    SELECT diaobject_id, classid FROM recomputed
),
knowledge AS (
    SELECT o.diaobject_id,
           COALESCE(sz.z, {_HOST_Z.format(c="o.hostgal_zspec")}, {_HOST_Z.format(c="o.hostgal_zphot")},
                    {UNKNOWN}::real) AS redshift,
           COALESCE(sc.classid, c.classid, {UNKNOWN}) AS sncode
    FROM ids JOIN elasticc2_diaobject o USING (diaobject_id)
    LEFT JOIN spec_z sz USING (diaobject_id)
    LEFT JOIN spec_class sc USING (diaobject_id)
    LEFT JOIN consensus c USING (diaobject_id)
)"""


def knowledge_ctes(mjd_now: float | None = None) -> str:
    """The CTEs computing ``knowledge`` from ``ids`` (see ``_KNOWLEDGE_CTES``)."""
    past = mjd_now is not None
    return _KNOWLEDGE_CTES.format(
        spec_until="AND i.mjd <= %(mjd_now)s" if past else "",
        asof_until="AND h.midpointtai <= %(mjd_now)s" if past else "",
        stale=("SELECT k.diaobject_id FROM kept k WHERE k.midpointtai > %(mjd_now)s" if past
               else "SELECT NULL::bigint AS diaobject_id WHERE FALSE"))


def knowledge_sql(mjd_now: float | None = None) -> str:
    """The statement behind :func:`best_knowledge` (parameters ``ids``, ``mjd_now``)."""
    return ("WITH ids AS MATERIALIZED (SELECT DISTINCT unnest(%(ids)s::bigint[]) AS diaobject_id),"
            f"{knowledge_ctes(mjd_now)} SELECT diaobject_id, redshift, sncode FROM knowledge")


def fast_plans(cur) -> None:
    """Per-transaction settings for the follow-up queries: no JIT (it costs more than these
    millisecond queries gain), enough memory that their sorts stay in memory, and index probes
    priced as what they are on a database that fits in memory (so a few thousand objects are
    looked up by key rather than by a scan of a whole table)."""
    cur.execute("SELECT set_config('jit', 'off', true), set_config('random_page_cost', '1.1', true), "
                "set_config('work_mem', '64MB', true)")  # one round trip


def best_knowledge(object_ids, mjd_now: float | None = None) -> dict[int, tuple[float, int]]:
    """``{objectid: (redshift, sncode)}`` for the known objects among ``object_ids`` (see the module doc)."""
    ids = list(object_ids)
    if not ids:
        return {}
    with transaction.atomic(), connection.cursor() as cur:
        fast_plans(cur)
        cur.execute(knowledge_sql(mjd_now), {"ids": ids, "mjd_now": mjd_now})
        return {oid: (z, code) for oid, z, code in cur.fetchall()}
