"""ELAsTiCC 1 alerts rebuilt from the tables, in the v0.9 alert shape (reference §1.5, §6.7).

An alert of source S (time t) of object O carries S, O, every earlier source of O
(``prvDiaSources``), and — only if t is more than 0.5 days after O's first detection — the forced
photometry of O from 30 days before that first detection up to (not including) t. There are no
cutouts and no non-detection limits. A page of alerts costs three queries, whatever its size.
"""

from __future__ import annotations

from collections import defaultdict

from desctom.elasticc.models import DiaAlert, DiaForcedSource, DiaObject, DiaObjectTruth, DiaSource, DiaTruth

FORCED_AFTER_FIRST_DAYS = 0.5
FORCED_BEFORE_FIRST_DAYS = 30.0


def build_alerts(alerts: list[DiaAlert]) -> list[dict]:
    """The v0.9 alert dicts of ``alerts`` (``diaSource`` and ``diaObject`` selected with them)."""
    object_ids = {a.diaObject_id for a in alerts if a.diaObject_id is not None}
    sources, forced = defaultdict(list), defaultdict(list)
    for s in DiaSource.objects.filter(diaObject_id__in=object_ids).order_by("midPointTai", "diaSourceId"):
        sources[s.diaObject_id].append(column_dict(s))
    for f in DiaForcedSource.objects.filter(diaObject_id__in=object_ids).order_by("midPointTai",
                                                                                  "diaForcedSourceId"):
        forced[f.diaObject_id].append(column_dict(f))
    objects = {o.pk: column_dict(o) for o in DiaObject.objects.filter(pk__in=object_ids)}
    result = []
    for alert in alerts:
        source = column_dict(alert.diaSource) if alert.diaSource_id is not None else None
        oid = alert.diaObject_id
        prv, prv_forced = [], []
        if source is not None and oid is not None:
            t = source["midPointTai"]
            prv = [s for s in sources[oid] if s["midPointTai"] < t]
            first = sources[oid][0]["midPointTai"] if sources[oid] else t
            if t - first > FORCED_AFTER_FIRST_DAYS:
                prv_forced = [f for f in forced[oid]
                              if first - FORCED_BEFORE_FIRST_DAYS <= f["midPointTai"] < t]
        result.append({"alertId": alert.alertId, "diaSource": source, "prvDiaSources": prv,
                       "prvDiaForcedSources": prv_forced, "prvDiaNondetectionLimits": [],
                       "diaObject": objects.get(oid), "cutoutDifference": None, "cutoutTemplate": None})
    return result


def truth_of(alerts: list[DiaAlert]) -> tuple[dict, dict]:
    """``(truth keyed by diaSourceId, object truth keyed by diaObjectId)`` of ``alerts`` (keys as strings)."""
    source_ids = [a.diaSource_id for a in alerts if a.diaSource_id is not None]
    object_ids = [a.diaObject_id for a in alerts if a.diaObject_id is not None]
    truth = {str(t.pk): column_dict(t) for t in DiaTruth.objects.filter(pk__in=source_ids)}
    objtruth = {str(t.pk): column_dict(t) for t in DiaObjectTruth.objects.filter(pk__in=object_ids)}
    return truth, objtruth


def column_dict(obj) -> dict:
    """A model row as ``{column name: value}`` (v0.9 camelCase keys, foreign keys as ids)."""
    return {f.column: getattr(obj, f.attname) for f in obj._meta.concrete_fields}
