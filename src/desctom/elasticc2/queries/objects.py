"""What the object page shows of one object: photometry, broker messages, sent alerts, spectra, truth."""

from __future__ import annotations

from desctom.core.counting import dict_rows, rows, scalar


def in_ppdb(objectid: int, connection=None) -> bool:
    """True if the PPDB holds the object (known to the survey, maybe not yet to the TOM)."""
    return bool(scalar("SELECT 1 FROM elasticc2_ppdbdiaobject WHERE diaobject_id = %s", [objectid],
                       connection))


def photometry(objectid: int, connection=None) -> tuple[list[tuple], list[tuple]]:
    """``(forced, detections)`` of a known object in time order: ``(midpointtai, filtername, psflux,
    psfluxerr)`` tuples; detections carry ``diasource_id`` as a fifth value."""
    forced = rows("SELECT midpointtai, filtername, psflux, psfluxerr FROM elasticc2_diaforcedsource "
                  "WHERE diaobject_id = %s ORDER BY midpointtai, diaforcedsource_id", [objectid], connection)
    detections = rows("SELECT midpointtai, filtername, psflux, psfluxerr, diasource_id "
                      "FROM elasticc2_diasource "
                      "WHERE diaobject_id = %s ORDER BY midpointtai, diasource_id", [objectid], connection)
    return forced, detections


def broker_messages(objectid: int, limit: int, connection=None) -> list[dict]:
    """Up to ``limit`` broker messages about the object's detections, by classifier, then detection time,
    then ingestion (``classifier_id, mjd, ingested, classid, probability, diasource_id``)."""
    return dict_rows("""
        SELECT m.classifier_id, s.midpointtai AS mjd, m.descingesttimestamp AS ingested, m.classid,
               m.probability, m.diasource_id
        FROM elasticc2_ppdbdiasource s JOIN elasticc2_brokermessage m ON m.diasource_id = s.diasource_id
        WHERE s.diaobject_id = %s
        ORDER BY m.classifier_id, s.midpointtai, m.descingesttimestamp, m.brokermessage_id LIMIT %s""",
                     [objectid, limit], connection)


def spectra(objectid: int, connection=None) -> dict[str, list[dict]]:
    """The object's spectrum requests (``wanted``), plans (``planned``) and reports (``reports``)."""
    return {
        "wanted": dict_rows("SELECT w.requester, w.priority, w.wanttime, u.username "
                            "FROM elasticc2_wantedspectra w "
                            "LEFT JOIN auth_user u ON u.id = w.user_id WHERE w.diaobject_id = %s "
                            "ORDER BY w.priority DESC, w.wanttime DESC", [objectid], connection),
        "planned": dict_rows("SELECT p.facility, p.plantime, p.created_at, p.comment, u.username "
                             "FROM elasticc2_plannedspectra p LEFT JOIN auth_user u ON u.id = p.user_id "
                             "WHERE p.diaobject_id = %s ORDER BY p.plantime NULLS LAST, p.facility",
                             [objectid], connection),
        "reports": dict_rows("SELECT i.facility, i.mjd, i.z, i.classid, i.inserted_at, u.username "
                             "FROM elasticc2_spectruminfo i LEFT JOIN auth_user u ON u.id = i.user_id "
                             "WHERE i.diaobject_id = %s ORDER BY i.mjd DESC, i.specinfo_id DESC", [objectid],
                             connection),
    }


def sent_alerts(objectid: int, connection=None) -> list[dict]:
    """The object's sent alerts with their source's time, band and flux, in time order."""
    return dict_rows("SELECT a.alert_id, a.alertsenttimestamp, s.midpointtai, s.filtername, "
                     "s.psflux, s.psfluxerr FROM elasticc2_ppdbalert a "
                     "JOIN elasticc2_ppdbdiasource s ON s.diasource_id = a.diasource_id "
                     "WHERE a.diaobject_id = %s "
                     "AND a.alertsenttimestamp IS NOT NULL ORDER BY s.midpointtai, a.alert_id",
                     [objectid], connection)


def truth(objectid: int, connection=None) -> list[dict]:
    """The object's simulation truth (gentype, class, redshift, peak and detection times)."""
    return dict_rows(
        "SELECT t.gentype, g.classid, g.description, t.zcmb, t.peakmjd, t.mjd_detect_first, "
        "t.mjd_detect_last FROM elasticc2_diaobjecttruth t LEFT JOIN elasticc2_gentypeofclassid g "
        "ON g.gentype = t.gentype WHERE t.diaobject_id = %s", [objectid], connection)
