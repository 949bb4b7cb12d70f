"""Rows of the live survey for tests: one root object with two survey ids, detections, forced photometry
and classifying messages from two brokers, written straight into the tables (no ingest)."""

from __future__ import annotations

import datetime as dt
import uuid

#: The classes the made-up classifiers name (ELAsTiCC2 taxonomy ids).
CLASSES = (2222, 2224, 2232)


def classifier(brokername: str, name: str, version: str):
    """The ``live_brokerclassifier`` row of a live classifier (made once)."""
    from desctom.live.models import LiveClassifier

    found, _ = LiveClassifier.objects.get_or_create(brokername=brokername, brokerversion=None,
                                                    classifiername=name, classifierparams=version)
    return found


def make_object(*, ra: float = 150.125, dec: float = -30.5, first_diaobjectid: int = 3_000_000_000_001,
                first_sourceid: int = 4_000_000_000_001, nights: int = 4, mjd0: float = 61000.1,
                now: dt.datetime | None = None) -> dict:
    """A root object seen on ``nights`` nights (one detection in g and r and a forced point in each);
    every detection classified by two classifiers of ``FINK`` and one of ``ALeRCE``, plus the LSST alert
    message itself. Returns its ids and what the pages should show."""
    from desctom.live.models import BrokerInfo, DiaForcedSource, DiaObject, DiaSource, RootDiaObject

    now = now or dt.datetime.now(dt.UTC)
    last_mjd = mjd0 + nights - 1
    root = RootDiaObject.objects.create(id=uuid.uuid4(), ra=ra, dec=dec, first_mjd=mjd0, last_mjd=last_mjd,
                                        ndetections=2 * nights, created_at=now - dt.timedelta(days=nights))
    ids = [first_diaobjectid, first_diaobjectid + 1]
    for k, objid in enumerate(ids):
        DiaObject.objects.create(diaobjectid=objid, rootid=root, ra=ra + k * 1e-5, dec=dec,
                                 validitystartmjdtai=mjd0 + k, first_seen=now - dt.timedelta(days=nights - k))
    fink = [classifier("FINK", "snn", "v1.0"), classifier("FINK", "early_sn", "2.1")]
    alerce = [classifier("ALeRCE", "lc_classifier", "v3")]
    sources, forced, messages, offset = [], [], [], [0]

    def message(brokername, topic, sourceid, objid, received, cls=None, probs=None, schema="lsst.v9_0"):
        offset[0] += 1
        messages.append(BrokerInfo(
            brokername=brokername, topic=topic, kafkapartition=0, kafkaoffset=first_sourceid + offset[0],
            diasourceid=sourceid, diaobjectid=objid, rootid=root.id, schemaversion=schema,
            msgtime=received - dt.timedelta(seconds=5), receivedtime=received,
            classifier=cls, classid=list(CLASSES) if cls else None, probability=probs))

    for night in range(nights):
        objid = ids[min(night, 1)]
        for b, band in enumerate(("g", "r")):
            sid = first_sourceid + 10 * night + b
            mjd = mjd0 + night + 0.01 * b
            flux = 1000.0 * (night + 1) + 100.0 * b
            sources.append(DiaSource(
                diasourceid=sid, diaobjectid=objid, rootid=root.id, visit=night * 10 + b, detector=7,
                midpointmjdtai=mjd, band=band, ra=ra, dec=dec, psfflux=flux, psffluxerr=50.0,
                snr=flux / 50.0, timeprocessedmjdtai=mjd + 0.001))
            forced.append(DiaForcedSource(
                diaforcedsourceid=sid, diaobjectid=objid, rootid=root.id, visit=night * 10 + b, detector=7,
                midpointmjdtai=mjd - 0.5, band=band, ra=ra, dec=dec, psfflux=flux / 2, psffluxerr=40.0,
                timeprocessedmjdtai=mjd))
            received = now - dt.timedelta(hours=24 * (nights - 1 - night) + 0.5 - b * 0.1)
            ia = 0.2 + 0.2 * night  # the Ia probability grows night after night
            message("lsst", "lsst-alerts-v9", sid, objid, received)
            message("FINK", "fink_early_sn", sid, objid, received, fink[0], [ia, 0.9 - ia, 0.1])
            message("FINK", "fink_early_sn", sid, objid, received, fink[1], [0.5, 0.25, 0.25], "fink.v2")
            message("ALeRCE", "alerce_lc", sid, objid, received, alerce[0], [0.1, 0.2, 0.7])
    DiaSource.objects.bulk_create(sources)
    DiaForcedSource.objects.bulk_create(forced)
    BrokerInfo.objects.bulk_create(messages)
    return {"rootid": str(root.id), "diaobjectids": ids, "night": int(last_mjd), "nsources": len(sources),
            "nforced": len(forced), "nmessages": len(messages), "last_source": sources[-1].diasourceid,
            "classifiers": {"snn": fink[0].pk, "early_sn": fink[1].pk, "lc_classifier": alerce[0].pk},
            "final_ia": 0.2 + 0.2 * (nights - 1)}
