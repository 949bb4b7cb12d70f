"""Alert reconstruction: windows of previous sources and forced photometry, Avro validity."""

import io
import random

import fastavro
import pytest

from desctom.elasticc2.models import PPDBAlert, PPDBDiaForcedSource, PPDBDiaObject, PPDBDiaSource
from desctom.elasticc2.queries.alerts import alert_ids_of_sources, reconstruct_alerts
from desctom.testing.paths import SHARED_DATA

pytestmark = pytest.mark.django_db
OBJECT_ID = 1552185
BANDS = "ugrizY"


@pytest.fixture
def light_curve():
    """One object observed every ~2 days for 800 days; detections where the flux is high.

    Returns the raw rows (what the tests derive expectations from) as lists of dicts.
    """
    rng = random.Random(7)
    PPDBDiaObject.objects.create(diaobject_id=OBJECT_ID, simversion="test", ra=150.1, decl=-30.2, mwebv=0.03,
                                 hostgal_mag_y=21.5, hostgal2_magerr_y=0.2)
    PPDBDiaObject.objects.create(diaobject_id=7, ra=1.0, decl=2.0)  # another object: must never leak in
    forced, sources = [], []
    mjd = 60000.0
    for k in range(400):
        mjd += rng.choice([0.02, 1.0, 2.0, 3.5, 0.3])
        flux = 5000.0 if 60100 < mjd < 60250 or 60500 < mjd < 60560 else 50.0
        row = {"diaforcedsource_id": OBJECT_ID * 100000 + k, "midpointtai": mjd,
               "filtername": rng.choice(BANDS), "psflux": flux, "psfluxerr": 100.0}
        forced.append(row)
        if flux > 1000:
            sources.append({"diasource_id": row["diaforcedsource_id"], "midpointtai": mjd,
                            "filtername": row["filtername"], "ra": 150.1, "decl": -30.2, "psflux": flux,
                            "psfluxerr": 100.0, "snr": flux / 100.0})
    PPDBDiaForcedSource.objects.bulk_create(PPDBDiaForcedSource(diaobject_id=OBJECT_ID, **r) for r in forced)
    PPDBDiaSource.objects.bulk_create(PPDBDiaSource(diaobject_id=OBJECT_ID, **r) for r in sources)
    PPDBAlert.objects.bulk_create(PPDBAlert(alert_id=s["diasource_id"], diasource_id=s["diasource_id"],
                                            diaobject_id=OBJECT_ID) for s in sources)
    PPDBDiaSource.objects.create(diasource_id=700000, diaobject_id=7, midpointtai=60120.0, filtername="r",
                                 ra=1.0, decl=2.0, psflux=1.0, psfluxerr=1.0, snr=1.0)
    PPDBDiaForcedSource.objects.create(diaforcedsource_id=700000, diaobject_id=7, midpointtai=60119.0,
                                       filtername="r", psflux=1.0, psfluxerr=1.0)
    return {"forced": forced, "sources": sources}


def expected(light_curve, source, daysprevious=365.0, nprevious=None):
    """What the reference's rules give, computed straight from the raw rows."""
    t = source["midpointtai"]
    first = min(s["midpointtai"] for s in light_curve["sources"])
    prv = [s["diasource_id"] for s in light_curve["sources"] if t - daysprevious <= s["midpointtai"] < t]
    if t - first > 0.5:
        fprv = [f["diaforcedsource_id"] for f in light_curve["forced"]
                if f["midpointtai"] >= t - daysprevious and f["midpointtai"] >= first - 30
                and f["midpointtai"] < t]
        if nprevious is not None:
            fprv = fprv[-nprevious:] if nprevious else []
    else:
        fprv = []
    return prv, fprv


def ids(alert):
    return ([s["diaSourceId"] for s in alert["prvDiaSources"]],
            [f["diaForcedSourceId"] for f in alert["prvDiaForcedSources"]])


def test_first_detection_has_no_history(light_curve):
    first = light_curve["sources"][0]
    alert = reconstruct_alerts([first["diasource_id"]])[first["diasource_id"]]
    assert ids(alert) == ([], [])
    assert alert["alertId"] == first["diasource_id"]
    assert alert["diaSource"]["midPointTai"] == first["midpointtai"]


def test_every_alert_matches_the_rules(light_curve):
    sources = light_curve["sources"]
    assert len(sources) > 40
    alerts = reconstruct_alerts([s["diasource_id"] for s in sources])
    assert set(alerts) == {s["diasource_id"] for s in sources}
    early, late = sources[3], sources[-1]
    assert len(expected(light_curve, late)[1]) > len(expected(light_curve, early)[1]) > 0
    for source in sources:
        assert ids(alerts[source["diasource_id"]]) == expected(light_curve, source), source["diasource_id"]


@pytest.mark.parametrize("daysprevious, nprevious", [(30.0, None), (365.0, 5), (365.0, 0), (1000.0, None)])
def test_windows_and_nprevious(light_curve, daysprevious, nprevious):
    sources = light_curve["sources"]
    alerts = reconstruct_alerts([s["diasource_id"] for s in sources], daysprevious=daysprevious,
                                nprevious=nprevious)
    for source in sources:
        assert ids(alerts[source["diasource_id"]]) == expected(light_curve, source, daysprevious, nprevious)


def test_object_fields_use_avro_names(light_curve):
    alert = next(iter(reconstruct_alerts([light_curve["sources"][5]["diasource_id"]]).values()))
    obj = alert["diaObject"]
    assert obj["diaObjectId"] == OBJECT_ID and obj["simVersion"] == "test"
    assert obj["hostgal_mag_Y"] == pytest.approx(21.5) and obj["hostgal2_magerr_Y"] == pytest.approx(0.2)
    assert "isddf" not in obj and "hostgal_mag_y" not in obj
    assert len(obj) == 72


def test_unknown_ids_are_absent(light_curve):
    assert reconstruct_alerts([123, 456]) == {}
    assert reconstruct_alerts([]) == {}
    good = light_curve["sources"][0]["diasource_id"]
    assert list(reconstruct_alerts([good, 999])) == [good]


def test_alert_ids_of_sources(light_curve):
    sid = light_curve["sources"][2]["diasource_id"]
    assert alert_ids_of_sources([sid, 700000, 1]) == {sid: sid}


def test_alerts_are_valid_avro_and_round_trip(light_curve):
    schema = fastavro.schema.load_schema(str(SHARED_DATA / "schema" / "elasticc.v0_9_1.alert.avsc"))
    alerts = reconstruct_alerts([s["diasource_id"] for s in light_curve["sources"]])
    for alert in alerts.values():
        buf = io.BytesIO()
        fastavro.schemaless_writer(buf, schema, alert)
        buf.seek(0)
        back = fastavro.schemaless_reader(buf, schema)
        assert back["alertId"] == alert["alertId"]
        assert ids(back) == ids(alert)
        assert back["diaObject"]["hostgal_mag_Y"] == pytest.approx(alert["diaObject"]["hostgal_mag_Y"])


@pytest.mark.parametrize("daysprevious, nprevious", [(365.0, None), (30.0, None), (365.0, 3)])
def test_vectorised_avro_bytes_equal_record_by_record_encoding(light_curve, daysprevious, nprevious):
    from desctom.elasticc2.queries.alerts import AlertBatch
    from desctom.survey.schemas import alert_schema, encode

    batch = AlertBatch([s["diasource_id"] for s in light_curve["sources"]] + [700000])
    dicts = batch.dicts(daysprevious, nprevious)
    fast = batch.avro(daysprevious, nprevious)
    assert set(fast) == set(dicts) and len(fast) == len(light_curve["sources"])
    for alert_id, alert in dicts.items():
        assert fast[alert_id] == encode(alert_schema(), alert), alert_id


def test_unusual_band_names_survive(light_curve):
    from desctom.elasticc2.queries.alerts import AlertBatch
    from desctom.survey.schemas import alert_schema, encode

    PPDBDiaObject.objects.create(diaobject_id=9, ra=3.0, decl=4.0)
    for k, (mjd, band) in enumerate([(60000.0, "VR"), (60001.0, "g"), (60002.0, "ü-wide")]):
        PPDBDiaForcedSource.objects.create(diaforcedsource_id=900000 + k, diaobject_id=9, midpointtai=mjd,
                                           filtername=band, psflux=10.0, psfluxerr=1.0)
        PPDBDiaSource.objects.create(diasource_id=900000 + k, diaobject_id=9, midpointtai=mjd,
                                     filtername=band, ra=3.0, decl=4.0, psflux=10.0, psfluxerr=1.0, snr=10.0)
        PPDBAlert.objects.create(alert_id=900000 + k, diasource_id=900000 + k, diaobject_id=9)
    batch = AlertBatch([900000, 900001, 900002])
    dicts, fast = batch.dicts(), batch.avro()
    assert dicts[900002]["diaSource"]["filterName"] == "ü-wide"
    assert [f["filterName"] for f in dicts[900002]["prvDiaForcedSources"]] == ["VR", "g"]
    for alert_id, alert in dicts.items():
        assert fast[alert_id] == encode(alert_schema(), alert)


def test_batch_refuses_a_window_longer_than_it_fetched(light_curve):
    from desctom.elasticc2.queries.alerts import AlertBatch

    batch = AlertBatch([light_curve["sources"][-1]["diasource_id"]], max_daysprevious=30.0)
    assert len(batch.dicts(30.0)) == 1
    with pytest.raises(ValueError, match="max_daysprevious"):
        batch.avro(365.0)
