"""``desctom partition_brokermessage``: the broker-message table converted in place, both ways, on a
populated database: row counts, indexes, grants and every answer that reads the table stay identical,
and ingest keeps working (new ids follow on, a repeated PUT is still stored once)."""

import json
from io import StringIO

import metrics_data
import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from test_metrics_pages import figures

from desctom.accounts.queries.brokers import bind
from desctom.elasticc2.workers import partitioning

pytestmark = pytest.mark.django_db
TABLE = partitioning.TABLE
METRIC_PAGES = ("/metrics/delays/?who=b:BrokerA&week=cumulative", "/metrics/completeness/",
                "/metrics/alertstream/?day=2025-03-03")


def rows(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def snapshot(client, ids: dict) -> dict:
    """Everything a user sees of the table: raw rows, SQL aggregates, API answers, metric figures."""
    sources = [metrics_data.sid(obj, k) for obj in metrics_data.GENTYPES for k in range(4)]
    first = rows(f"SELECT min(brokermessage_id) FROM {TABLE}")[0][0]
    got = {
        "rows": rows(f"SELECT * FROM {TABLE} ORDER BY brokermessage_id"),
        "per_classifier": rows(f"SELECT classifier_id, count(*), max(descingesttimestamp) FROM {TABLE} "
                               "GROUP BY 1 ORDER BY 1"),
        "columns": rows("SELECT column_name, data_type, is_nullable, column_default, is_identity "
                        "FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
                        [TABLE]),
        "indexes": rows("SELECT indexname FROM pg_indexes WHERE tablename = %s ORDER BY 1", [TABLE]),
        "list": client.get("/elasticc2/brokermessage/", {"alertid": ",".join(map(str, sources))}).json(),
        "one": client.get(f"/elasticc2/brokermessage/{first}/").json(),
        "classifiers": client.get("/elasticc2/classifiers_json").json(),
    }
    call_command("update_metrics", "--full", stdout=StringIO())
    for url in METRIC_PAGES:
        got[url] = figures(client.get(url))
    got["confusion"] = figures(client.get(f"/metrics/confusion/?classifier={ids['C1']}"))
    return got


def partitions() -> int:
    with connection.cursor() as cursor:
        return partitioning.partition_count(cursor)


def put_message(client, alert_id: int):
    msg = {"alertId": alert_id, "diaSourceId": alert_id, "elasticcPublishTimestamp": 1_700_000_000_000,
           "brokerIngestTimestamp": 1_700_000_001_500, "brokerName": "BrokerB", "brokerVersion": "v2",
           "classifierName": "Clf3", "classifierParams": "p",
           "classifications": [{"classId": 2222, "probability": 0.75},
                               {"classId": 2223, "probability": 0.25}]}
    return client.put("/elasticc2/brokermessage/", json.dumps(msg), content_type="application/json")


def test_conversion_both_ways_keeps_every_answer_and_ingest_works(client):
    ids = metrics_data.load()
    user = User.objects.create_user("partitionviewer", password="pw")
    user.groups.add(Group.objects.get_or_create(name="elasticc_broker")[0])
    bind(user, ["BrokerB"])
    client.force_login(user)
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT SELECT ON {TABLE} TO PUBLIC")
    plain = snapshot(client, ids)
    assert len(plain["rows"]) == 22 and plain["list"] and plain["one"]

    out = StringIO()
    call_command("partition_brokermessage", "--partitions", "4", stdout=out)
    assert "moved 22 of 22 rows" in out.getvalue() and "4 hash partitions" in out.getvalue()
    assert partitions() == 4
    assert rows(f"SELECT count(*) FROM {TABLE}_p0")[0][0] + sum(
        rows(f"SELECT count(*) FROM {TABLE}_p{r}")[0][0] for r in (1, 2, 3)) == 22
    assert rows("SELECT has_table_privilege('public', %s, 'SELECT')", [TABLE]) == [(True,)]
    assert snapshot(client, ids) == plain

    response = put_message(client, metrics_data.sid(1, 3))
    assert response.status_code == 201 and response.json()["num_loaded"] == 1, response.content
    again = put_message(client, metrics_data.sid(1, 3)).json()  # the same message again
    assert again["num_loaded"] == 0 and again["num_duplicates"] == 1
    new = rows(f"SELECT brokermessage_id, classifier_id FROM {TABLE} WHERE alert_id = %s",
               [metrics_data.sid(1, 3)])
    assert len(new) == 1 and new[0][0] > max(r[0] for r in plain["rows"]) and new[0][1] == ids["C3"]
    # the metrics' change log follows the partitioned table (its triggers were carried over)
    logged = "SELECT family FROM metrics_newmessage WHERE brokermessage_id = %s ORDER BY 1"
    assert rows(logged, [new[0][0]]) == [("completeness",), ("delays",)]
    partitioned = snapshot(client, ids)

    call_command("partition_brokermessage", "--plain", stdout=StringIO())
    assert partitions() == 0
    assert snapshot(client, ids) == partitioned
    triggers = rows("SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal "
                    "ORDER BY 1", [TABLE])
    assert triggers == [("metrics_log_messages_ins",), ("metrics_recount_messages",)]
    pkey = rows("SELECT pg_get_indexdef(%s::regclass)", [f"{TABLE}_pkey"])[0][0]
    assert pkey.endswith("(brokermessage_id)")
    kafka = rows("SELECT pg_get_indexdef('elasticc2_brokermessage_kafka_unique'::regclass)")[0][0]
    assert "classifier_id" not in kafka and "NULLS NOT DISTINCT" in kafka


def test_wrong_requests_are_refused_and_change_nothing():
    out = StringIO()
    call_command("partition_brokermessage", "--status", stdout=out)
    assert "a plain table" in out.getvalue()
    with pytest.raises(CommandError, match="between 2 and 64, not 1"):
        call_command("partition_brokermessage", "--partitions", "1", stdout=StringIO())
    with pytest.raises(CommandError, match="is not partitioned"):
        call_command("partition_brokermessage", "--plain", stdout=StringIO())
    call_command("partition_brokermessage", "--partitions", "2", stdout=StringIO())
    with pytest.raises(CommandError, match="already partitioned \\(2 partitions\\)"):
        call_command("partition_brokermessage", "--partitions", "8", stdout=StringIO())
    assert partitions() == 2
