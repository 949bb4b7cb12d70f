"""Hand-built alerts and broker messages whose metrics are known exactly (see test_metrics_compute).

Objects 1-5 (gentypes 10 Ia, 20 Ib/c, 50 KN, 999 not in the taxonomy, 10 Ia), peak MJD 60000;
four detections each at MJD 59990.25 + 10 k (days from peak -10, 0, 10, 20). Alerts of k = 0 and 1
were sent on Monday 2025-03-03 at 10:15 and 11:30 UTC, of k = 2 on Monday 2025-03-10 at 05:00,
of k = 3 never. Classifiers: C1 (BrokerA) classifies every sent alert (one twice), C2 (BrokerA)
four alerts, C3 (BrokerB) one alert with a class id outside the taxonomy, and one unknown alert.
"""

from __future__ import annotations

import datetime as dt

from desctom.elasticc2.models import (
    BrokerClassifier,
    BrokerMessage,
    DiaObjectTruth,
    PPDBAlert,
    PPDBDiaObject,
    PPDBDiaSource,
)
from desctom.elasticc2.workers.source_updater import update_known_tables

UTC = dt.UTC
GENTYPES = {1: 10, 2: 20, 3: 50, 4: 999, 5: 10}
SENT = {0: dt.datetime(2025, 3, 3, 10, 15, tzinfo=UTC), 1: dt.datetime(2025, 3, 3, 11, 30, tzinfo=UTC),
        2: dt.datetime(2025, 3, 10, 5, 0, tzinfo=UTC), 3: None}

#: C1's classification of (object, k): (classids, probabilities)
C1_CLASSES = {
    (1, 0): ([2222, 2223], [0.6, 0.4]), (1, 1): ([2222, 2223], [0.2, 0.8]),
    (1, 2): ([2222, 2223], [0.9, 0.1]),
    (2, 0): ([2222, 2223], [0.7, 0.3]), (2, 1): ([2222, 2223], [0.7, 0.3]),
    (2, 2): ([2222, 2223], [0.7, 0.3]),
    (3, 0): ([2232], [1.0]), (3, 1): ([2232], [1.0]), (3, 2): ([2232, 2222], [0.5, 0.5]),
    (4, 0): ([2222], [1.0]), (4, 1): ([2222], [1.0]), (4, 2): ([2222], [1.0]),
    (5, 0): ([2222], [1.0]), (5, 1): ([2222], [1.0]), (5, 2): ([2223, 2222], [0.7, 0.3]),
}


def sid(obj: int, k: int) -> int:
    return obj * 100000 + k


def seconds(s: float) -> dt.timedelta:
    return dt.timedelta(seconds=s)


def truth(obj: int, gentype: int | None = None, peakmjd: float = 60000.0) -> DiaObjectTruth:
    """A truth row of ``obj`` (gentype: ``GENTYPES[obj]`` unless given), zeros elsewhere."""
    zeros = dict.fromkeys(("libid", "sim_searcheff_mask", "sim_template_index", "zcmb", "zhelio",
                           "zcmb_smear", "ra", "dec", "mwebv", "rv", "av", "mu", "lensdmu",
                           "mjd_detect_first",
                           "mjd_detect_last", "dtseason_peak", "peakmag_u", "peakmag_g", "peakmag_r",
                           "peakmag_i", "peakmag_z", "peakmag_y", "snrmax", "snrmax2", "snrmax3", "nobs",
                           "nobs_saturate"), 0)
    return DiaObjectTruth(diaobject_id=obj, gentype=GENTYPES[obj] if gentype is None else gentype,
                          peakmjd=peakmjd, **zeros)


def message(cfer, obj, k, msghdr, ingest, classes, alert_id=None):
    alert_id = sid(obj, k) if alert_id is None else alert_id
    return BrokerMessage(streammessage_id=-1, topicname="REST_push", alert_id=alert_id, diasource_id=alert_id,
                         msghdrtimestamp=msghdr, descingesttimestamp=ingest, brokeringesttimestamp=ingest,
                         classifier_id=cfer.classifier_id, classid=classes[0], probability=classes[1])


def load() -> dict[str, int]:
    """Write the rows and let the source updater make the classified sources known (the confusion
    matrices and probability vs time count known sources); returns classifier ids by name (C1, C2, C3)."""
    for obj in GENTYPES:
        PPDBDiaObject.objects.create(diaobject_id=obj, ra=10.0, decl=-5.0)
        DiaObjectTruth.objects.bulk_create([truth(obj)])
        for k in range(4):
            PPDBDiaSource.objects.create(diasource_id=sid(obj, k), diaobject_id=obj,
                                         midpointtai=59990.25 + 10 * k, filtername="r", ra=10.0, decl=-5.0,
                                         psflux=1000, psfluxerr=10, snr=100)
            PPDBAlert.objects.create(alert_id=sid(obj, k), diaobject_id=obj, diasource_id=sid(obj, k),
                                     alertsenttimestamp=SENT[k])
    names = (("BrokerA", "v1", "Clf1"), ("BrokerA", "v1", "Clf2"), ("BrokerB", "v2", "Clf3"))
    c1, c2, c3 = (BrokerClassifier.objects.create(brokername=b, brokerversion=v, classifiername=n,
                                                  classifierparams="p") for b, v, n in names)
    msgs = []
    for (obj, k), classes in C1_CLASSES.items():
        hdr = SENT[k] + seconds(150)
        msgs.append(message(c1, obj, k, hdr, hdr + seconds(3), classes))
    hdr = SENT[2] + seconds(150)  # object 2, k = 2 again, stored later, with another answer
    msgs.append(message(c1, 2, 2, hdr, hdr + seconds(3.5), ([2223, 2222], [0.9, 0.1])))
    for obj in (1, 2, 3):
        hdr = SENT[0] + seconds(5000)
        msgs.append(message(c2, obj, 0, hdr, hdr + seconds(0.5), ([2232], [1.0])))
    msgs.append(message(c2, 1, 1, None, SENT[1] + seconds(2e6), ([2222], [1.0])))  # no broker timestamp
    hdr = SENT[0] + seconds(40)
    msgs.append(message(c3, 1, 0, hdr, hdr + seconds(40), ([111, 2222], [0.9, 0.1])))
    hdr = dt.datetime(2025, 3, 3, 12, 0, tzinfo=UTC)  # an alert the TOM never sent
    msgs.append(message(c3, 0, 0, hdr, hdr + seconds(40), ([2222], [1.0]), alert_id=999999))
    BrokerMessage.objects.bulk_create(msgs)
    update_known_tables(doall=True)
    return {"C1": c1.classifier_id, "C2": c2.classifier_id, "C3": c3.classifier_id}
