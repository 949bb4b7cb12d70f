"""The live write path: association, sources once, provenance per message, idempotent re-reads."""

import pytest
from django.db import connection
from live_messages import alert, broker_message, dia_object, encode, forced, source

from desctom.live.workers.store import LiveStore, MessageMeta
from desctom.survey.lsst_decode import AlertDecoder

pytestmark = pytest.mark.django_db
V = "lsst.v11_1"
ARCSEC = 1 / 3600


def raw():
    connection.ensure_connection()
    return connection.connection


def rows(sql):
    with connection.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def ingest(payloads, broker="B1", kind="brokermessage", start_offset=0, store=None):
    decoder = AlertDecoder(kind)
    batch = decoder.decode(payloads)
    n = len(payloads)
    meta = MessageMeta(topic=["t"] * n, partition=[0] * n, offset=list(range(start_offset, start_offset + n)),
                       msgtime_ms=[1_700_000_000_000] * n)
    store = store or LiveStore(broker)
    conn = raw()
    store.associate(conn, batch)
    result = store.store(conn, batch, meta)
    store.committed()
    return batch, result


def history(oid, ra, dec, n_src=3, n_forced=4, first_sid=1000):
    """An object's alerts: the k-th carries the k-1 previous detections and forced sources."""
    srcs = [source(V, first_sid + k, oid, 61000.0 + k, ra, dec) for k in range(n_src)]
    fs = [forced(V, 10 * first_sid + k, oid, 60990.0 + k, ra, dec) for k in range(n_forced)]
    return [alert(V, srcs[k], prv=srcs[:k], prv_forced=fs, obj=dia_object(V, oid, ra, dec))
            for k in range(n_src)]


def test_the_same_alert_from_two_brokers_is_one_source_with_two_provenance_rows():
    alerts = history(5, 10.0, -20.0)
    _, r1 = ingest([encode(broker_message(V, a, broker="B1", classifier="C1")) for a in alerts], broker="B1")
    _, r2 = ingest([encode(broker_message(V, a, broker="B2", classifier="C2", classes=((2222, 1.0),)))
                    for a in alerts], broker="B2")
    assert (r1.messages, r1.sources, r1.forced, r1.classified) == (3, 3, 4, 3)
    assert (r2.messages, r2.sources, r2.forced) == (3, 0, 0)
    assert rows("SELECT count(*) FROM diasource") == [(3,)]
    assert rows("SELECT count(*) FROM diaforcedsource") == [(4,)]
    prov = rows("SELECT i.brokername, c.classifiername, c.classifierparams, i.classid, i.schemaversion "
                "FROM diasource_brokerinfo i JOIN live_brokerclassifier c USING (classifier_id) "
                "WHERE i.diasourceid = 1002 ORDER BY 1")
    assert prov == [("B1", "C1", "1.0", [111, 200], V), ("B2", "C2", "1.0", [2222], V)]
    root = rows("SELECT ndetections, first_mjd, last_mjd FROM root_diaobject")
    assert root == [(3, 61000.0, 61002.0)]


def test_a_second_object_id_at_the_same_position_joins_the_root_and_a_far_one_does_not():
    ingest([encode(broker_message(V, a)) for a in history(1, 150.0, 2.0)])
    near = history(2, 150.0 + 0.3 * ARCSEC, 2.0, first_sid=2000)
    far = history(3, 150.0 + 5 * ARCSEC, 2.0, first_sid=3000)
    ingest([encode(broker_message(V, a)) for a in near + far], start_offset=10)
    roots = dict(rows("SELECT diaobjectid, rootid FROM diaobject"))
    assert roots[1] == roots[2] != roots[3]
    assert rows("SELECT count(*) FROM root_diaobject") == [(2,)]
    assert rows(f"SELECT ndetections FROM root_diaobject WHERE id = '{roots[1]}'") == [(6,)]


def test_new_ids_of_one_batch_within_the_radius_share_one_new_root():
    both = history(7, 33.0, 44.0) + history(8, 33.0, 44.0 + 0.5 * ARCSEC, first_sid=5000)
    ingest([encode(broker_message(V, a)) for a in both])
    assert rows("SELECT count(DISTINCT rootid) FROM diaobject") == [(1,)]


def test_a_batch_read_twice_stores_nothing_twice():
    payloads = [encode(broker_message(V, a)) for a in history(9, 1.0, 1.0)]
    ingest(payloads)
    _, again = ingest(payloads, store=LiveStore("B1"))  # a restarted poller: no memory of what is stored
    assert (again.messages, again.duplicates, again.sources, again.forced) == (0, 3, 0, 0)
    assert rows("SELECT count(*) FROM diasource_brokerinfo") == [(3,)]


def test_late_and_out_of_order_alerts_keep_the_root_object_right():
    alerts = history(11, 200.0, -5.0, n_src=4)
    ingest([encode(broker_message(V, a)) for a in alerts[2:]])
    ingest([encode(broker_message(V, a)) for a in alerts[:2]], start_offset=5)
    assert rows("SELECT ndetections, first_mjd, last_mjd FROM root_diaobject") == [(4, 61000.0, 61003.0)]


def test_garbage_unknown_schema_and_schema_change_in_one_batch():
    a = history(12, 5.0, 5.0, n_src=1)[0]
    added_in_11_1 = ("trailAlgorithm", "exposureTime", "trail_flag", "reliabilityVersion")
    old = alert("lsst.v11_0", {k: v for k, v in a["diaSource"].items() if k not in added_in_11_1},
                obj=a["diaObject"])
    old["diaSource"]["diaSourceId"] = old["diaSourceId"] = 777
    payloads = [encode(a, kind="alert", framed=True), b"\x00\x00\x00\x03\xe7garbage",
                b"not avro at all", encode(old, version="lsst.v11_0", kind="alert", framed=True)]
    batch, result = ingest(payloads, kind="alert")
    assert set(batch.bad) == {1, 2}
    assert "unknown schema id 999" in batch.bad[1]
    assert sorted(batch.messages["schemaversion"].to_list()) == ["lsst.v11_0", "lsst.v11_1"]
    assert result.messages == 2
    assert rows("SELECT diasourceid, schemaid FROM diasource_brokerinfo ORDER BY 1") == [(777, 1100),
                                                                                           (1000, 1101)]
