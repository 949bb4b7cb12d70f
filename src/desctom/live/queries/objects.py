"""One root object of the live survey: its survey ids, light curve and broker classifications.

Every read is an index range on the root id (``diasource_root_mjd``, ``diaforcedsource_root_mjd``,
``diasource_brokerinfo_root``) and bounded (:data:`MAX_POINTS`, :data:`MAX_MESSAGES`). Class names come
from the ELAsTiCC2 taxonomy (:data:`desctom.survey.taxonomy.CLASSES`), the classes brokers use.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict

from desctom.core.counting import dict_rows
from desctom.core.jsonapi import finite_or_none
from desctom.survey.lsst import BANDS, ZEROPOINT
from desctom.survey.taxonomy import CLASSES

#: At most this many detections and this many forced points are read for one object.
MAX_POINTS = 20_000
#: At most this many classifying messages are read for one object.
MAX_MESSAGES = 5_000


def class_name(classid) -> str:
    """``"2222 Ia"`` (the bare id when the taxonomy does not know it)."""
    if classid is None:
        return "—"
    name = CLASSES.get(int(classid))
    return f"{classid} {name}" if name else str(classid)


def parse_rootid(text: str) -> uuid.UUID | None:
    """The UUID written in ``text`` (any case, with or without dashes), or None if it is none."""
    try:
        return uuid.UUID(str(text).strip())
    except (ValueError, AttributeError):
        return None


def root_object(rootid: uuid.UUID, connection=None) -> dict | None:
    """The ``root_diaobject`` row, or None."""
    found = dict_rows("SELECT id, ra, dec, first_mjd, last_mjd, ndetections, created_at "
                      "FROM root_diaobject WHERE id = %s", [rootid], connection)
    return found[0] if found else None


def root_of_survey_object(diaobjectid: int, connection=None) -> uuid.UUID | None:
    """The root object a survey ``diaObjectId`` belongs to, or None when it is unknown."""
    found = dict_rows("SELECT rootid FROM diaobject WHERE diaobjectid = %s", [diaobjectid], connection)
    return found[0]["rootid"] if found else None


def survey_objects(rootid: uuid.UUID, connection=None) -> list[dict]:
    """The survey's ``diaObjectId``s of the root object, first seen first."""
    return dict_rows("SELECT diaobjectid, ra, dec, validitystartmjdtai, first_seen FROM diaobject "
                     "WHERE rootid = %s ORDER BY first_seen, diaobjectid", [rootid], connection)


def _per_band(points: list[dict]) -> dict:
    bands = defaultdict(lambda: {"mjd": [], "flux": [], "fluxerr": []})
    for p in points:
        b = bands[p["band"] or "?"]
        b["mjd"].append(p["midpointmjdtai"])
        b["flux"].append(p["psfflux"])
        b["fluxerr"].append(p["psffluxerr"])
    order = {b: i for i, b in enumerate(BANDS)}
    return dict(sorted(bands.items(), key=lambda kv: (order.get(kv[0], 99), kv[0])))


def light_curve(rootid: uuid.UUID, connection=None) -> dict:
    """Detections and forced photometry of the root object, per band, as plot data (PSF flux in nJy;
    withdrawn points left out)."""
    sql = """SELECT midpointmjdtai, band, psfflux, psffluxerr FROM {table}
             WHERE rootid = %s AND timewithdrawnmjdtai IS NULL ORDER BY midpointmjdtai LIMIT %s"""
    detections = dict_rows(sql.format(table="diasource"), [rootid, MAX_POINTS], connection)
    forced = dict_rows(sql.format(table="diaforcedsource"), [rootid, MAX_POINTS], connection)
    return finite_or_none({
        "zp": ZEROPOINT, "detections": _per_band(detections), "forced": _per_band(forced),
        "n_detections": len(detections), "n_forced": len(forced),
        "truncated": len(detections) >= MAX_POINTS or len(forced) >= MAX_POINTS})


def classification_messages(rootid: uuid.UUID, connection=None) -> list[dict]:
    """The root object's classifying messages, oldest first, with the classified source's MJD and the
    classifier's registry row."""
    return dict_rows("""
        SELECT m.classifier_id, m.brokername, m.topic, m.receivedtime, m.msgtime, m.schemaversion,
               m.diasourceid, m.classid, m.probability, s.midpointmjdtai AS mjd,
               c.brokerversion, c.classifiername, c.classifierparams
        FROM diasource_brokerinfo m
        LEFT JOIN diasource s ON s.diasourceid = m.diasourceid
        LEFT JOIN live_brokerclassifier c ON c.classifier_id = m.classifier_id
        WHERE m.rootid = %s AND m.classifier_id IS NOT NULL
        ORDER BY m.receivedtime, m.id LIMIT %s""", [rootid, MAX_MESSAGES], connection)


def _plot_time(value: dt.datetime) -> str:
    """A time as plotly reads dates: UTC, no offset."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def classifications(rootid: uuid.UUID, connection=None) -> list[dict]:
    """Per classifier: ``label``, ``n`` messages, the ``latest`` message's classes (name, probability,
    most probable first) and ``traces``: each class's probability over time (by received time and by
    the classified source's MJD), classes ordered by their latest probability."""
    by_classifier = defaultdict(list)
    for m in classification_messages(rootid, connection):
        m["probs"] = {int(c): float(p) for c, p in zip(m["classid"] or [], m["probability"] or [],
                                                        strict=False)}
        by_classifier[m["classifier_id"]].append(m)
    result = []
    for cid, msgs in by_classifier.items():
        latest = msgs[-1]
        seen = {c for m in msgs for c in m["probs"]}
        order = sorted(seen, key=lambda c: (-latest["probs"].get(c, -1.0), c))
        traces = [{"name": class_name(c),
                   "received": [_plot_time(m["receivedtime"]) for m in msgs],
                   "mjd": [m["mjd"] for m in msgs],
                   "prob": [m["probs"].get(c) for m in msgs]} for c in order]
        first = msgs[0]
        label = " ".join(str(x) for x in (first["brokername"], first["classifiername"] or f"classifier {cid}",
                                          first["classifierparams"] or "") if x).strip()
        result.append({
            "classifier_id": cid, "label": label, "brokername": first["brokername"],
            "classifiername": first["classifiername"], "version": first["classifierparams"],
            "n": len(msgs), "latest_time": latest["receivedtime"], "latest_mjd": latest["mjd"],
            "latest_source": latest["diasourceid"],
            "latest": [(class_name(c), latest["probs"][c]) for c in order if c in latest["probs"]],
            "traces": finite_or_none(traces)})
    return sorted(result, key=lambda r: r["label"])
