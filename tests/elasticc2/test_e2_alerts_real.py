"""Alerts reconstructed from the real ELAsTiCC2 test data, checked against the raw SNANA rows.

The expectations come straight from the PHOT file (astropy): an object's rows in file order give
the forced photometry (id = SNID * 100000 + row index within the object), rows with PHOTFLAG bit
4096 the detections; the reference's window rules are applied to those raw rows here.
"""

import pytest
from astropy.io import fits
from django.core.management import call_command

from desctom.elasticc2.queries.alerts import AlertBatch
from desctom.survey.schemas import alert_schema, decode

pytestmark = pytest.mark.django_db(transaction=True)


def raw_light_curves(directory):
    """{snid: [(forced id, mjd, is_detection), ...]} from every PHOT file of ``directory``."""
    curves = {}
    for head in sorted(directory.glob("*HEAD.FITS.gz")):
        with fits.open(head) as hh, fits.open(str(head).replace("HEAD.FITS", "PHOT.FITS")) as ph:
            phot = ph[1].data
            for row in hh[1].data:
                snid = int(row["SNID"])
                block = phot[row["PTROBS_MIN"] - 1:row["PTROBS_MAX"]]
                curves[snid] = [(snid * 100000 + k, float(p["MJD"]), bool(int(p["PHOTFLAG"]) & 4096))
                                for k, p in enumerate(block)]
    return curves


def expected(curve, source_id, daysprevious=365.0):
    detections = [(i, t) for i, t, det in curve if det]
    t = next(mjd for i, mjd in detections if i == source_id)
    first = min(mjd for _, mjd in detections)
    prv = sorted((mjd, i) for i, mjd in detections if t - daysprevious <= mjd < t)
    forced = []
    if t - first > 0.5:
        forced = sorted((mjd, i) for i, mjd, _ in curve
                        if mjd >= t - daysprevious and mjd >= first - 30 and mjd < t)
    return [i for _, i in prv], [i for _, i in forced]


@pytest.mark.parametrize("which", ["SNIb-Templates", "KN_K17"])
def test_early_and_late_alerts_match_the_raw_rows(elasticc2_test_dirs, which):
    directory = next(d for d in elasticc2_test_dirs if d.name.endswith(which))
    call_command("load_snana_fits", "-d", str(directory), "--ppdb", "--do", "-n", "1")
    curves = raw_light_curves(directory)
    # The objects with the most detections: their early and late alerts differ most.
    ranked = sorted(curves, key=lambda s: sum(det for _, _, det in curves[s]), reverse=True)[:3]
    checked, with_history = 0, 0
    for snid in ranked:
        detections = sorted((mjd, i) for i, mjd, det in curves[snid] if det)
        picks = {detections[0][1], detections[min(2, len(detections) - 1)][1], detections[-1][1]}
        batch = AlertBatch(picks)
        dicts, avro = batch.dicts(), batch.avro()
        for source_id in picks:
            alert = dicts[source_id]
            want_prv, want_forced = expected(curves[snid], source_id)
            assert [s["diaSourceId"] for s in alert["prvDiaSources"]] == want_prv
            assert [f["diaForcedSourceId"] for f in alert["prvDiaForcedSources"]] == want_forced
            assert decode(alert_schema(), avro[source_id])["alertId"] == source_id
            checked += 1
            with_history += bool(want_prv) and bool(want_forced)
        late = max(picks, key=lambda i: dict((i2, t) for t, i2 in detections)[i])
        assert len(dicts[late]["prvDiaForcedSources"]) >= len(dicts[detections[0][1]]["prvDiaForcedSources"])
    assert checked >= 3 and with_history >= 1  # the late alerts do carry previous photometry
