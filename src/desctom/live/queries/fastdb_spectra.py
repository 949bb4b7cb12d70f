"""Spectrum coordination in FASTDB's shapes (``/spectrum/...``) on ``wantedspectra``,
``plannedspectra`` and ``spectruminfo``."""

from __future__ import annotations

import datetime as dt
import math
import uuid

from django.db import connection, transaction
from django.utils import timezone

from desctom.live.models import PlannedSpectra, RootDiaObject, SpectrumInfo, WantedSpectra
from desctom.live.queries.fastdb_ltcv import UNIX_EPOCH_MJD

ZEROPOINT = 31.4


def unknown_roots(rootids: list[uuid.UUID]) -> list[uuid.UUID]:
    have = set(RootDiaObject.objects.filter(id__in=rootids).values_list("id", flat=True))
    return [r for r in rootids if r not in have]


def ask(user, requester: str, rootids: list[uuid.UUID], priorities: list[int]) -> int:
    """Upsert one request per (object, requester); priorities clamped to 0..5."""
    now = timezone.now()
    with transaction.atomic():
        for rootid, prio in zip(rootids, priorities, strict=True):
            WantedSpectra.objects.update_or_create(
                wantspec_id=f"{rootid} ; {requester}",
                defaults={"root_diaobject_id": rootid, "requester": requester, "user": user, "wanttime": now,
                          "priority": min(5, max(0, prio))})
    return len(rootids)


def plan(user, rootid: uuid.UUID, facility: str, plantime: dt.datetime, comment: str) -> None:
    PlannedSpectra.objects.update_or_create(root_diaobject_id=rootid, facility=facility,
                                            defaults={"plantime": plantime, "comment": comment, "user": user,
                                                      "created_at": timezone.now()})


def unplan(rootid: uuid.UUID, facility: str) -> int:
    return PlannedSpectra.objects.filter(root_diaobject_id=rootid, facility=facility).delete()[0]


def report(user, rootid: uuid.UUID, facility: str, mjd: float, z: float | None, classid: int) -> None:
    SpectrumInfo.objects.create(root_diaobject_id=rootid, facility=facility, mjd=mjd, z=z, classid=classid,
                                user=user)


def known(filters: dict) -> list[dict]:
    """``spectruminfo`` rows matching ``filters`` (keys: rootids, facility, mjd_min, mjd_max, classid,
    z_min, z_max, since), oldest report first."""
    rows = SpectrumInfo.objects.all()
    lookups = {"rootids": "root_diaobject_id__in", "facility": "facility", "mjd_min": "mjd__gte",
               "mjd_max": "mjd__lte", "classid": "classid", "z_min": "z__gte", "z_max": "z__lte",
               "since": "inserted_at__gte"}
    rows = rows.filter(**{lookups[k]: v for k, v in filters.items() if v is not None})
    return [{"specinfo_id": str(r.specinfo_id), "oid": str(r.root_diaobject_id), "facility": r.facility,
             "inserted_at": r.inserted_at.isoformat(), "mjd": r.mjd, "z": r.z, "classid": r.classid}
            for r in rows.order_by("inserted_at", "specinfo_id")]


def mjd_to_datetime(mjd: float) -> dt.datetime:
    return dt.datetime.fromtimestamp((mjd - UNIX_EPOCH_MJD) * 86400.0, tz=dt.UTC)


def mjd_of(when: dt.datetime) -> float:
    return when.timestamp() / 86400.0 + UNIX_EPOCH_MJD


def _mag(flux):
    if flux is None:
        return None
    return 99.0 if flux <= 0 else -2.5 * math.log10(flux) + ZEROPOINT


def wanted(now: dt.datetime, requested_since: dt.datetime | None, requester: str | None,
           not_claimed_days: float | None, no_spectra_days: float | None, detected_since_mjd: float | None,
           lim_mag: float | None, lim_mag_band: str | None) -> list[dict]:
    """FASTDB's ``spectrawanted``: requests not planned lately, without a recent spectrum, detected since
    ``detected_since_mjd``, with their latest detection and forced point (and the magnitude cut)."""
    now_mjd = mjd_of(now)
    cuts, params = ["w.wanttime <= %(now)s"], {"now": now, "now_mjd": now_mjd, "band": lim_mag_band}
    if requested_since is not None:
        cuts.append("w.wanttime >= %(since)s")
        params["since"] = requested_since
    if requester is not None:
        cuts.append("w.requester = %(req)s")
        params["req"] = requester
    if not_claimed_days is not None:
        cuts.append("NOT EXISTS (SELECT 1 FROM plannedspectra p "
                    "WHERE p.root_diaobject_id = w.root_diaobject_id "
                    "AND p.plantime > %(now)s - %(claim)s * interval '1 day')")
        params["claim"] = not_claimed_days
    if no_spectra_days is not None:
        cuts.append("NOT EXISTS (SELECT 1 FROM spectruminfo s "
                    "WHERE s.root_diaobject_id = w.root_diaobject_id "
                    "AND s.mjd BETWEEN %(now_mjd)s - %(nospec)s AND %(now_mjd)s)")
        params["nospec"] = no_spectra_days
    if detected_since_mjd is not None:
        cuts.append("EXISTS (SELECT 1 FROM diasource d WHERE d.rootid = w.root_diaobject_id "
                    "AND d.midpointmjdtai BETWEEN %(detsince)s AND %(now_mjd)s)")
        params["detsince"] = detected_since_mjd
    latest = """LEFT JOIN LATERAL (SELECT band, midpointmjdtai AS mjd, psfflux FROM {t} x
                  WHERE x.rootid = w.root_diaobject_id AND x.midpointmjdtai <= %(now_mjd)s
                    AND (%(band)s::text IS NULL OR x.band = %(band)s::text)
                  ORDER BY x.midpointmjdtai DESC LIMIT 1) {a} ON true"""
    sql = f"""SELECT w.root_diaobject_id AS oid, r.ra, r.dec, w.requester AS req, w.priority AS prio,
                     s.band AS sband, s.mjd AS smjd, s.psfflux AS sflux, f.band AS fband, f.mjd AS fmjd,
                     f.psfflux AS fflux
              FROM wantedspectra w JOIN root_diaobject r ON r.id = w.root_diaobject_id
              {latest.format(t='diasource', a='s')} {latest.format(t='diaforcedsource', a='f')}
              WHERE {' AND '.join(cuts)} ORDER BY w.priority DESC, w.wanttime, w.wantspec_id"""
    with connection.cursor() as cur:
        cur.execute(sql, params)
        names = [c.name for c in cur.description]
        rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    result = []
    for r in rows:
        entry = {"oid": str(r["oid"]), "ra": r["ra"], "dec": r["dec"], "req": r["req"], "prio": r["prio"],
                 "latest_source_band": r["sband"], "latest_source_mjd": r["smjd"],
                 "latest_source_mag": _mag(r["sflux"]), "latest_forced_band": r["fband"],
                 "latest_forced_mjd": r["fmjd"], "latest_forced_mag": _mag(r["fflux"])}
        if lim_mag is not None:
            newest = max(((r["smjd"], entry["latest_source_mag"]), (r["fmjd"], entry["latest_forced_mag"])),
                         key=lambda t: -1e99 if t[0] is None else t[0])
            if newest[1] is None or newest[1] > lim_mag:
                continue
        result.append(entry)
    return result
