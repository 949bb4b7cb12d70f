"""Admin loaders (reference §1.5): adddiaobject, addelasticcalert, addtruth, addobjecttruth, markalertsent.

POST only, ELAsTiCC admins only. Each request is checked whole before anything is written and
runs in one transaction: a bad row answers 400 naming it, and nothing is stored.
"""

from __future__ import annotations

import datetime

from desctom.elasticc.http.api.common import AdminJsonView, ApiError, as_list, check_row
from desctom.elasticc.http.api.contract import (
    ADD_ALERT_DOC,
    ADD_OBJECT_DOC,
    ADD_OBJECT_TRUTH_DOC,
    ADD_TRUTH_DOC,
    ALERT_KEYS,
    FORCED_SPEC,
    MARK_SENT_DOC,
    OBJECT_SPEC,
    OBJECT_TRUTH_SPEC,
    SOURCE_SPEC,
    TRUTH_KEYS,
    TRUTH_SPEC,
)
from desctom.elasticc.models import DiaAlert, DiaForcedSource, DiaObject, DiaObjectTruth, DiaSource, DiaTruth


def _kwargs(model, row: dict) -> dict:
    """Column names -> the model's attribute names (``"diaObjectId"`` -> ``diaObject_id`` for a FK)."""
    attnames = {f.column: f.attname for f in model._meta.concrete_fields}
    return {attnames[k]: v for k, v in row.items()}


def insert_new(model, key: str, rows: list[dict]) -> list[int]:
    """Insert the rows whose ``key`` is not in the table yet (first of duplicates); return their keys."""
    unique = {}
    for row in rows:
        unique.setdefault(row[key], row)
    present = set(model.objects.filter(pk__in=list(unique)).values_list("pk", flat=True))
    new = [row for k, row in unique.items() if k not in present]
    model.objects.bulk_create([model(**_kwargs(model, row)) for row in new])
    return [row[key] for row in new]


def require_objects(ids: set[int], also: set[int], what: str) -> None:
    """400 unless every object id of ``ids`` is in ``also`` or in the table."""
    unknown = ids - also - set(DiaObject.objects.filter(pk__in=list(ids - also)).values_list("pk", flat=True))
    if unknown:
        raise ApiError(f"{what} refer to unknown diaObjectId(s) {sorted(unknown)[:20]}")


class AddDiaObjectView(AdminJsonView):
    """``POST /elasticc/adddiaobject``: one v0.9 diaObject; stored unless it exists already."""

    api_doc = ADD_OBJECT_DOC

    def handle(self, data):
        row = check_row(data, OBJECT_SPEC, "diaObject")
        insert_new(DiaObject, "diaObjectId", [row])
        return {"status": "ok", "message": f"ObjectID: {row['diaObjectId']}"}


class AddAlertView(AdminJsonView):
    """``POST /elasticc/addelasticcalert``: v0.9 alerts (one or a list); new rows only, alerts unsent."""

    api_doc = ADD_ALERT_DOC

    def handle(self, data):
        objects, sources, forced, alerts = [], [], [], []
        for i, alert in enumerate(as_list(data, "alerts")):
            where = f"alert {i}"
            if not isinstance(alert, dict):
                raise ApiError(f"{where} must be a JSON object")
            if set(alert) - ALERT_KEYS:
                raise ApiError(f"{where}: unknown keys {sorted(set(alert) - ALERT_KEYS)}")
            if "alertId" not in alert or "diaSource" not in alert:
                raise ApiError(f"{where}: alertId and diaSource are required")
            alert_id = check_row({"alertId": alert["alertId"]}, {"alertId": ("int", False)}, where)["alertId"]
            source = check_row(alert["diaSource"], SOURCE_SPEC, f"{where}: diaSource")
            sources.append(source)
            if alert.get("diaObject") is not None:
                objects.append(check_row(alert["diaObject"], OBJECT_SPEC, f"{where}: diaObject"))
            for key, spec, into in (("prvDiaSources", SOURCE_SPEC, sources),
                                    ("prvDiaForcedSources", FORCED_SPEC, forced)):
                items = alert.get(key) or []
                if not isinstance(items, list):
                    raise ApiError(f"{where}: {key} must be a list or null")
                into += [check_row(item, spec, f"{where}: {key}[{j}]") for j, item in enumerate(items)]
            alerts.append({"alertId": alert_id, "diaSourceId": source["diaSourceId"],
                           "diaObjectId": source["diaObjectId"]})
        batch = {o["diaObjectId"] for o in objects}
        require_objects({r["diaObjectId"] for r in sources + forced if r["diaObjectId"] is not None}, batch,
                        "sources")
        counts = {"objects": len(insert_new(DiaObject, "diaObjectId", objects)),
                  "sources": len(insert_new(DiaSource, "diaSourceId", sources)),
                  "forcedsources": len(insert_new(DiaForcedSource, "diaForcedSourceId", forced)),
                  "alerts": len(insert_new(DiaAlert, "alertId", alerts))}
        return {"status": "ok", "message": counts}


class AddTruthView(AdminJsonView):
    """``POST /elasticc/addtruth``: SNANA per-epoch truth rows
    (SourceID, SNID, MJD, DETECT, TRUE_GENTYPE, TRUE_GENMAG).

    Every new row is stored (undetected epochs too); ``missing`` lists the SourceIDs with no diaSource.
    """

    api_doc = ADD_TRUTH_DOC

    def handle(self, data):
        rows = [check_row(item, TRUTH_SPEC, f"truth {i}", TRUTH_KEYS)
                for i, item in enumerate(as_list(data, "truth rows"))]
        for row in rows:
            row.setdefault("diaObjectId", None)
        inserted = insert_new(DiaTruth, "diaSourceId", rows)
        ids = {r["diaSourceId"] for r in rows}
        known = set(DiaSource.objects.filter(pk__in=list(ids)).values_list("pk", flat=True))
        return {"status": "ok", "message": inserted, "missing": sorted(ids - known)}


class AddObjectTruthView(AdminJsonView):
    """``POST /elasticc/addobjecttruth``: object truth rows (column names as keys) of known objects."""

    api_doc = ADD_OBJECT_TRUTH_DOC

    def handle(self, data):
        rows = [check_row(item, OBJECT_TRUTH_SPEC, f"object truth {i}")
                for i, item in enumerate(as_list(data, "object truth rows"))]
        require_objects({r["diaObjectId"] for r in rows}, set(), "object truth rows")
        return {"status": "ok", "message": insert_new(DiaObjectTruth, "diaObjectId", rows)}


class MarkAlertSentView(AdminJsonView):
    """``POST /elasticc/markalertsent``: an alertId or a list of them; sets alertSentTimestamp to now."""

    api_doc = MARK_SENT_DOC

    def handle(self, data):
        ids = data if isinstance(data, list) else [data]
        if not ids or data == {}:
            raise ApiError("no alertId given: send an alertId or a list of them")
        ids = [check_row({"alertId": i}, {"alertId": ("int", False)}, "alertId")["alertId"] for i in ids]
        unknown = set(ids) - set(DiaAlert.objects.filter(pk__in=ids).values_list("pk", flat=True))
        if unknown:
            raise ApiError(f"unknown alertId(s) {sorted(unknown)[:20]}; nothing was marked", 404)
        now = datetime.datetime.now(tz=datetime.UTC)
        DiaAlert.objects.filter(pk__in=ids).update(alertSentTimestamp=now)
        return {"status": "ok", "alertIds": ids, "timestamp": now}
