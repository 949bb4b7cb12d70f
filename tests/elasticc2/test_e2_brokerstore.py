"""The broker-message write path shared by Kafka polling and HTTP PUT: idempotent, classifier-safe."""

import datetime

import pytest
from django.db import connection

from desctom.elasticc2.workers.brokerstore import (
    REST_TOPIC,
    ClassifierRegistry,
    InvalidMessage,
    MessageBatch,
    store_messages,
)

pytestmark = pytest.mark.django_db
T0 = 1_700_000_000_000  # ms


def message(alert_id, *, classifier="Nugent", params="100%", classes=((2222, 1.0),), ingest=T0 + 5):
    return {"alertId": alert_id, "diaSourceId": alert_id * 10, "elasticcPublishTimestamp": T0,
            "brokerIngestTimestamp": ingest, "brokerName": "B", "brokerVersion": "v1",
            "classifierName": classifier, "classifierParams": params,
            "classifications": [{"classId": c, "probability": p} for c, p in classes]}


def raw():
    connection.ensure_connection()
    return connection.connection


def rows(sql):
    with connection.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def test_kafka_messages_are_stored_once_per_topic_partition_offset_and_timestamp():
    batch = MessageBatch()
    for off in range(3):
        batch.add(message(100 + off, classes=((2222, 0.5), (2223, 0.25), (2232, 0.25))),
                  topic="t", partition=0, offset=off, header_ms=T0 + 1)
    batch.add(message(200, classifier="Other", classes=()), topic="t", partition=1, offset=0, header_ms=None)
    batch.add(message(100, classes=((2222, 0.5), (2223, 0.25), (2232, 0.25))),  # a redelivery in the batch
              topic="t", partition=0, offset=0, header_ms=T0 + 1)
    result = store_messages(raw(), batch, ClassifierRegistry())
    assert (result.given, result.inserted, result.duplicates, result.new_classifiers) == (5, 4, 1, 2)
    assert result.new_source_ids == 4
    again = store_messages(raw(), batch, ClassifierRegistry())
    assert (again.inserted, again.duplicates, again.new_classifiers, again.first_id) == (0, 5, 0, None)
    stored = rows("SELECT m.alert_id, m.diasource_id, m.topicname, m.kafkapartition, m.streammessage_id, "
                  "m.msghdrtimestamp, m.elasticcpublishtimestamp, m.brokeringesttimestamp, m.classid, "
                  "m.probability, c.classifiername FROM elasticc2_brokermessage m "
                  "JOIN elasticc2_brokerclassifier c USING (classifier_id) ORDER BY m.alert_id")
    utc = datetime.UTC
    assert stored[0] == (100, 1000, "t", 0, 0, datetime.datetime.fromtimestamp((T0 + 1) / 1000, utc),
                         datetime.datetime.fromtimestamp(T0 / 1000, utc),
                         datetime.datetime.fromtimestamp((T0 + 5) / 1000, utc),
                         [2222, 2223, 2232], [0.5, 0.25, 0.25], "Nugent")
    assert stored[3][:6] == (200, 2000, "t", 1, 0, None) and stored[3][8:] == ([], [], "Other")
    assert rows("SELECT count(*) FROM elasticc2_brokersourceids") == [(4,)]


def test_a_new_message_reusing_an_offset_after_a_broker_restart_is_kept():
    first, second = MessageBatch(), MessageBatch()
    first.add(message(1), topic="t", partition=0, offset=0, header_ms=T0)
    second.add(message(2), topic="t", partition=0, offset=0, header_ms=T0 + 60_000)
    assert store_messages(raw(), first).inserted == 1
    assert store_messages(raw(), second).inserted == 1


def test_pushed_messages_dedupe_on_classifier_alert_and_broker_ingest_time():
    batch = MessageBatch()
    batch.add(message(7), topic=REST_TOPIC, header_ms=T0)
    batch.add(message(7, ingest=None), topic=REST_TOPIC)
    batch.add(message(7, ingest=None), topic=REST_TOPIC)
    batch.add(message(7, classifier="Other"), topic=REST_TOPIC)
    result = store_messages(raw(), batch)
    assert (result.inserted, result.duplicates) == (3, 1)
    assert result.first_id == rows("SELECT min(brokermessage_id) FROM elasticc2_brokermessage")[0][0]
    assert store_messages(raw(), batch).inserted == 0


def test_registry_survives_concurrent_registration_and_rollbacks():
    registry = ClassifierRegistry()
    batch = MessageBatch()
    batch.add(message(1, params=None), topic="t", offset=0, partition=0, header_ms=T0)
    store_messages(raw(), batch, registry)
    # another ingester registered the same classifier: the unique 4-tuple (NULLs equal) finds it
    assert ClassifierRegistry().ids_for(raw(), {("B", "v1", "Nugent", None)})[1] == 0
    assert rows("SELECT count(*) FROM elasticc2_brokerclassifier")[0][0] == 1
    registry.forget()
    assert registry.ids_for(raw(), {("B", "v1", "Nugent", None)})[1] == 0


def test_invalid_class_ids_are_rejected_before_anything_is_added():
    batch = MessageBatch()
    with pytest.raises(InvalidMessage, match="classId out of range"):
        batch.add(message(1, classes=((40000, 1.0),)), topic="t")
    assert len(batch) == 0 and store_messages(raw(), batch).given == 0


def test_an_emptied_registry_is_noticed_by_a_long_lived_ingester():
    registry = ClassifierRegistry()
    batch = MessageBatch()
    batch.add(message(1), topic="t", offset=0, partition=0, header_ms=T0)
    store_messages(raw(), batch, registry)
    with connection.cursor() as cur:
        cur.execute("TRUNCATE elasticc2_brokerclassifier CASCADE")
    later = MessageBatch()
    later.add(message(2), topic="t", offset=1, partition=0, header_ms=T0)
    assert store_messages(raw(), later, registry).new_classifiers == 1
    assert rows("SELECT count(*) FROM elasticc2_brokermessage m JOIN elasticc2_brokerclassifier c "
                "USING (classifier_id) WHERE m.alert_id = 2") == [(1,)]


def test_a_kafka_batch_is_copied_straight_in_and_a_re_read_one_falls_back_to_skipping():
    fresh = MessageBatch()
    for offset in range(4):
        fresh.add(message(300 + offset), topic="k", partition=1, offset=offset, header_ms=T0)
    result = store_messages(raw(), fresh)
    # the direct COPY: every message new, no first id (nobody waits for it), sources queued
    assert (result.inserted, result.duplicates, result.first_id, result.new_source_ids) == (4, 0, None, 4)
    again = MessageBatch()  # a poller restarted between its commits re-reads two and reads one more
    for offset in (2, 3, 4):
        again.add(message(300 + offset), topic="k", partition=1, offset=offset, header_ms=T0)
    result = store_messages(raw(), again)
    assert (result.inserted, result.duplicates, result.new_source_ids) == (1, 2, 1)
    assert rows("SELECT count(*), count(DISTINCT streammessage_id) FROM elasticc2_brokermessage "
                "WHERE topicname = 'k'") == [(5, 5)]
    assert rows("SELECT count(*) FROM elasticc2_brokersourceids WHERE diasource_id >= 300") == [(5,)]
