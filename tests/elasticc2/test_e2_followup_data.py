"""A small hand-made sample for the follow-up API tests (no tests here; test_e2_followup_* import it).

Four known objects with forced photometry every 2 days from MJD 60000, detections (local
``diasource``), truth, and broker messages of two classifiers. Values are exact in float4.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection

from desctom.elasticc2.models import (
    BrokerClassifier,
    BrokerMessage,
    DiaForcedSource,
    DiaObject,
    DiaObjectTruth,
    DiaSource,
    PPDBDiaObject,
)
from desctom.elasticc2.workers.source_updater import rebuild_latest_classifications

O1, O2, O3, O4 = 2001, 2002, 2003, 2004
BANDS = "ugrizY"
#: object -> (ra, decl, hostgal_zspec, hostgal_zphot, truth gentype)
OBJECTS = {O1: (10.0, -5.0, 0.25, 0.5, 10), O2: (20.0, -6.0, None, 0.5, 20),
           O3: (30.0, -7.0, -9.0, -9.0, 60), O4: (40.0, -8.0, None, None, 82)}
#: object -> MJDs of its detections (a subset of its forced photometry)
DETECTIONS = {O1: [60010.0, 60020.0, 60030.0], O2: [60030.0, 60034.0], O3: [60004.0], O4: []}


def forced_points(oid: int) -> list[dict]:
    """20 points 2 days apart; a detection is bright (S/N 40); ``r`` points after 60030 are faint (S/N 2)."""
    rows = []
    for k in range(20):
        mjd = 60000.0 + 2.0 * k
        band = BANDS[(k + oid) % 6]
        if mjd in DETECTIONS[oid]:
            flux = 4000.0 + 250.0 * k
        elif band == "r" and mjd > 60030:
            flux = 20.0
        else:
            flux = 100.0 + 10.0 * k
        rows.append({"diaforcedsource_id": oid * 100000 + k, "midpointtai": mjd, "filtername": band,
                     "psflux": flux, "psfluxerr": 10.0})
    return rows


def classifier(name: str) -> int:
    return BrokerClassifier.objects.create(brokername="TestBroker", brokerversion="1", classifiername=name,
                                           classifierparams="p").classifier_id


def message(cid: int, source_id: int, classes: dict[int, float], ingest_minute: int = 0) -> None:
    when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=ingest_minute)
    BrokerMessage.objects.create(streammessage_id=-1, topicname="test", alert_id=source_id,
                                 diasource_id=source_id, descingesttimestamp=when, classifier_id=cid,
                                 classid=list(classes), probability=list(classes.values()))


def source_id(oid: int, mjd: float) -> int:
    return oid * 100000 + int(round((mjd - 60000.0) / 2.0))


def load_followup_sample() -> dict:
    """Write the sample. Classifier A's latest message about O1 says 2223, its earlier one 2222;
    classifier B says 2222 (0.6) — so O1's consensus is 2223, or 2222 with ``mjd_now < 60030``."""
    for oid, (ra, decl, zspec, zphot, gentype) in OBJECTS.items():
        host = {"hostgal_zspec": zspec, "hostgal_zphot": zphot, "hostgal_mag_r": 21.5}
        PPDBDiaObject.objects.create(diaobject_id=oid, simversion="fu", ra=ra, decl=decl, **host)
        DiaObject.objects.create(diaobject_id=oid, simversion="fu", ra=ra, decl=decl, **host)
        DiaObjectTruth.objects.create(
            diaobject_id=oid, libid=1, sim_searcheff_mask=1, gentype=gentype, sim_template_index=1, zcmb=0.1,
            zhelio=0.1, zcmb_smear=0.1, ra=ra, dec=decl, mwebv=0.0, rv=3.1, av=0.0, mu=40.0, lensdmu=0.0,
            peakmjd=60020.0, mjd_detect_first=60000.0, mjd_detect_last=60040.0, dtseason_peak=0.0,
            peakmag_u=20, peakmag_g=20, peakmag_r=20, peakmag_i=20, peakmag_z=20, peakmag_y=20, snrmax=10,
            snrmax2=10, snrmax3=10, nobs=20, nobs_saturate=0)
        rows = forced_points(oid)
        DiaForcedSource.objects.bulk_create(DiaForcedSource(diaobject_id=oid, **r) for r in rows)
        DiaSource.objects.bulk_create(
            DiaSource(diasource_id=r["diaforcedsource_id"], diaobject_id=oid, midpointtai=r["midpointtai"],
                      filtername=r["filtername"], ra=ra, decl=decl, psflux=r["psflux"],
                      psfluxerr=r["psfluxerr"], snr=r["psflux"] / r["psfluxerr"])
            for r in rows if r["midpointtai"] in DETECTIONS[oid])
    a, b = classifier("A"), classifier("B")
    message(a, source_id(O1, 60010.0), {2222: 0.6, 2223: 0.4}, ingest_minute=5)
    message(a, source_id(O1, 60030.0), {2223: 0.9, 2222: 0.1}, ingest_minute=1)
    message(b, source_id(O1, 60020.0), {2222: 0.6, 2232: 0.4})
    message(b, source_id(O2, 60030.0), {2220: 0.95, 2232: 0.05})
    message(a, source_id(O2, 60034.0), {2220: 0.9, 2235: 0.1})
    rebuild_latest_classifications()  # written without update_elasticc2_sources, which keeps it up to date
    return {"classifiers": (a, b)}


def forced_of(oid: int, until: float | None = None) -> list[dict]:
    return [r for r in forced_points(oid) if until is None or r["midpointtai"] <= until]


def count(table: str) -> int:
    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM elasticc2_{table}")
        return cur.fetchone()[0]
