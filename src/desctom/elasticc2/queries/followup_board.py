"""What the follow-up board lists, a page at a time: hot known objects, spectrum requests, planned
spectra and spectrum reports (each with its total for the pager), and the requesters."""

from __future__ import annotations

from desctom.core.counting import dict_rows, scalar

_HOT_WINDOW = ("FROM elasticc2_diasource s WHERE s.midpointtai >= %(since)s AND s.midpointtai <= %(now)s")


def hot_total(now: float, days: float, connection=None) -> int:
    """How many known objects were detected in ``[now - days, now]``."""
    return scalar(f"SELECT count(DISTINCT s.diaobject_id) {_HOT_WINDOW}", {"since": now - days, "now": now},
                  connection)


def hot_objects(now: float, days: float, limit: int, offset: int, connection=None) -> list[dict]:
    """Known objects detected in ``[now - days, now]``, latest detection first: position, detections,
    latest detection, whether a spectrum is wanted and the facilities that plan one."""
    return dict_rows(f"""
        SELECT h.diaobject_id, h.ndet, h.latest, o.ra, o.decl,
               EXISTS (SELECT 1 FROM elasticc2_wantedspectra w
                       WHERE w.diaobject_id = h.diaobject_id) AS wanted,
               (SELECT string_agg(p.facility, ', ' ORDER BY p.facility) FROM elasticc2_plannedspectra p
                WHERE p.diaobject_id = h.diaobject_id) AS planned
        FROM (SELECT s.diaobject_id, count(*) AS ndet, max(s.midpointtai) AS latest {_HOT_WINDOW}
              GROUP BY s.diaobject_id ORDER BY latest DESC, s.diaobject_id
              LIMIT %(limit)s OFFSET %(offset)s) h
        JOIN elasticc2_diaobject o ON o.diaobject_id = h.diaobject_id
        ORDER BY h.latest DESC, h.diaobject_id""",
                     {"since": now - days, "now": now, "limit": limit, "offset": offset}, connection)


def _requester_filter(requester: str) -> str:
    return "WHERE w.requester = %(requester)s" if requester else ""


def wanted_total(requester: str, connection=None) -> int:
    """How many spectrum requests there are (only ``requester``'s if given)."""
    return scalar(f"SELECT count(*) FROM elasticc2_wantedspectra w {_requester_filter(requester)}",
                  {"requester": requester}, connection)


def wanted_spectra(requester: str, limit: int, offset: int, connection=None) -> list[dict]:
    """Spectrum requests, highest priority first (only ``requester``'s if given), with the facilities
    that plan the object and whether a spectrum was reported."""
    where = _requester_filter(requester)
    return dict_rows(f"""
        SELECT w.diaobject_id, w.requester, w.priority, w.wanttime, u.username,
               (SELECT string_agg(p.facility, ', ' ORDER BY p.facility) FROM elasticc2_plannedspectra p
                WHERE p.diaobject_id = w.diaobject_id) AS planned,
               EXISTS (SELECT 1 FROM elasticc2_spectruminfo i
                       WHERE i.diaobject_id = w.diaobject_id) AS reported
        FROM elasticc2_wantedspectra w LEFT JOIN auth_user u ON u.id = w.user_id {where}
        ORDER BY w.priority DESC, w.wanttime DESC, w.wantspec_id LIMIT %(limit)s OFFSET %(offset)s""",
                     {"requester": requester, "limit": limit, "offset": offset}, connection)


def planned_total(connection=None) -> int:
    """How many spectra are planned."""
    return scalar("SELECT count(*) FROM elasticc2_plannedspectra", connection=connection)


def planned_spectra(limit: int, offset: int, connection=None) -> list[dict]:
    """Planned spectra, by planned time (unplanned time last), newest plan first."""
    return dict_rows("""
        SELECT p.reqspec_id, p.diaobject_id, p.facility, p.plantime, p.created_at, p.comment, u.username
        FROM elasticc2_plannedspectra p LEFT JOIN auth_user u ON u.id = p.user_id
        ORDER BY p.plantime NULLS LAST, p.created_at DESC, p.reqspec_id
        LIMIT %s OFFSET %s""", [limit, offset], connection)


def reported_total(connection=None) -> int:
    """How many spectrum reports there are."""
    return scalar("SELECT count(*) FROM elasticc2_spectruminfo", connection=connection)


def reported_spectra(limit: int, offset: int, connection=None) -> list[dict]:
    """Spectrum reports, latest inserted first."""
    return dict_rows("""
        SELECT i.specinfo_id, i.diaobject_id, i.facility, i.mjd, i.z, i.classid, i.inserted_at, u.username
        FROM elasticc2_spectruminfo i LEFT JOIN auth_user u ON u.id = i.user_id
        ORDER BY i.inserted_at DESC, i.specinfo_id DESC LIMIT %s OFFSET %s""", [limit, offset], connection)


def requesters(limit: int = 200, connection=None) -> list[str]:
    """The names that requested spectra, alphabetically (at most ``limit``)."""
    return [r["requester"] for r in dict_rows(
        "SELECT DISTINCT requester FROM elasticc2_wantedspectra "
        "WHERE requester IS NOT NULL ORDER BY 1 LIMIT %s", [limit], connection)]
