"""Health that tells the truth: /healthz, `desctom status` and the campaign page judge Kafka and streams."""

from __future__ import annotations

import datetime
import json
import os
import re
import signal
import time

import pytest
import requests
from django.contrib.auth.models import User

from desctom.elasticc2.queries.pollerhealth import judge_stream
from desctom.localstack.procs import free_port, pid_alive
from desctom.testing.livestack import LiveStack, wait_for

NOW = datetime.datetime(2026, 1, 1, 12, tzinfo=datetime.UTC)


def ago(seconds: float) -> datetime.datetime:
    return NOW - datetime.timedelta(seconds=seconds)


def test_stream_judgement():
    fresh = {"broker": "s", "started": ago(3600), "heartbeat": ago(5), "lag": 0, "last_progress": ago(3000)}
    assert judge_stream(fresh, NOW, stall=120)["healthy"]  # idle, nothing to read: healthy
    busy = {**fresh, "lag": 10, "last_progress": ago(30)}
    assert judge_stream(busy, NOW, stall=120)["healthy"]  # lagging but storing
    stalled = judge_stream({**busy, "last_progress": ago(121)}, NOW, stall=120)
    assert not stalled["healthy"] and stalled["problems"] == [
        "stalled: lag 10 and nothing stored for 121 s (limit 120 s)"]
    never = judge_stream({**busy, "last_progress": None, "started": ago(500)}, NOW, stall=120)
    assert not never["healthy"]  # never stored since it started 500 s ago
    stale = judge_stream({**fresh, "heartbeat": ago(61)}, NOW, stall=120)
    assert stale["problems"] == ["heartbeat 61 s old (limit 60 s)"]
    assert judge_stream({**fresh, "heartbeat": None}, NOW, stall=120)["problems"] == ["no heartbeat"]


def add_stream(name: str, **values):
    from django.utils import timezone

    from desctom.elasticc2.models.streaming import BrokerPollerStatus

    now = timezone.now()
    defaults = {"started": now, "heartbeat": now, "last_progress": now, "lag": 0, "lag_time": now,
                "member_id": f"rdkafka-{name}", "assigned": [f"{name}[0]", f"{name}[1]"], "stored": 7,
                "last_message": now, "quarantined": 3}
    return BrokerPollerStatus.objects.create(broker=name, **{**defaults, **values})


@pytest.mark.django_db
def test_healthz_names_unhealthy_components(client, kafka_server, monkeypatch):
    from django.utils import timezone

    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_server.bootstrap)
    monkeypatch.setenv("DESCTOM_POLL_STALL_SECONDS", "60")
    add_stream("alpha")
    beta = add_stream("beta", last_error="KafkaError: _TRANSPORT", last_error_time=timezone.now())
    client.get("/healthz")  # the first request of the process loads the URL conf and the apps
    started = time.monotonic()
    res = client.get("/healthz")
    assert time.monotonic() - started < 1
    body = res.json()
    assert res.status_code == 200, body
    assert (body["status"], body["database"], body["kafka"], body["unhealthy"]) == ("ok", "ok", "ok", [])
    assert body["version"]
    stream = body["components"]["stream:beta"]
    assert stream["member_id"] == "rdkafka-beta" and stream["assigned"] == ["beta[0]", "beta[1]"]
    assert (stream["lag"], stream["quarantined"], stream["healthy"]) == (0, 3, True)
    assert stream["last_error"] == "KafkaError: _TRANSPORT" and stream["heartbeat_age"] < 60

    # Lag and no progress for longer than DESCTOM_POLL_STALL_SECONDS: 503 naming the stream.
    beta.lag, beta.last_progress = 500, timezone.now() - datetime.timedelta(seconds=61)
    beta.save()
    res = client.get("/healthz")
    assert res.status_code == 503 and res.json()["unhealthy"] == ["stream:beta"]
    assert res.json()["components"]["stream:beta"]["problems"][0].startswith("stalled: lag 500")
    # The web itself is alive: its liveness form does not depend on Kafka or the streams.
    live = client.get("/healthz?scope=web")
    assert live.status_code == 200 and live.json()["status"] == "ok" and "components" not in live.json()

    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", f"127.0.0.1:{free_port()}")
    res = client.get("/healthz")
    assert res.status_code == 503 and res.json()["unhealthy"] == ["kafka", "stream:beta"]
    assert res.json()["kafka"] == "unreachable" and res.json()["error"] == "unhealthy: kafka, stream:beta"
    assert client.get("/healthz?scope=web").status_code == 200
    bad = client.get("/healthz?scope=everything")
    assert bad.status_code == 400 and "unknown scope" in bad.json()["error"]


@pytest.mark.django_db
def test_healthz_says_when_metrics_do_not_consume_the_classification_changes(client, monkeypatch):
    from io import StringIO

    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from desctom.localstack.stack import format_status
    from desctom.metrics.models import ObjectClassChange, SourceClassChange
    from desctom.metrics.queries.health import judge_metrics

    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", f"127.0.0.1:{free_port()}")  # judged apart
    monkeypatch.setenv("DESCTOM_METRICS_STALE_SECONDS", "1800")
    with connection.cursor() as cur:
        assert judge_metrics(cur, 1800) == {"healthy": True, "oldest_change_age": None, "stale_after": 1800,
                                            "problems": []}  # nothing waits
    fresh = SourceClassChange.objects.create(classifier_id=1, diasource_id=2, diaobject_id=3, midpointtai=1.0,
                                             brokermessage_id=4, delta=1)
    assert SourceClassChange.objects.get(pk=fresh.pk).logged_at is not None  # set by the database
    metrics = client.get("/healthz").json()["components"]["metrics"]
    assert metrics["healthy"] and 0 <= metrics["oldest_change_age"] < 60
    ObjectClassChange.objects.create(classifier_id=1, diaobject_id=3, pred_classid=2222, delta=1,
                                     logged_at=timezone.now() - datetime.timedelta(hours=1))
    res = client.get("/healthz")
    body = res.json()
    assert res.status_code == 503 and "metrics" in body["unhealthy"]
    metrics = body["components"]["metrics"]
    assert not metrics["healthy"] and 3590 < metrics["oldest_change_age"] < 3700
    problem = metrics["problems"][0]
    assert re.match(r"a logged change has waited 3[56]\d\d s for update_metrics", problem)
    assert "(more than 1800 s): no metrics run finished since" in metrics["problems"][0]
    component = {"running": True, "healthy": False, "pid": 7, "problems": metrics["problems"]}
    status = {"running": True, "home": "/x", "components": {"metrics": component}, "unhealthy": ["metrics"]}
    assert f"  metrics            {metrics['problems'][0]}" in format_status(status).splitlines()

    call_command("update_metrics", "--only", "confusion", "probvstime", stdout=StringIO())  # consumes both
    metrics = client.get("/healthz").json()["components"]["metrics"]
    assert metrics["healthy"] and metrics["oldest_change_age"] is None
    assert not ObjectClassChange.objects.exists() and not SourceClassChange.objects.exists()


@pytest.mark.django_db
def test_campaign_page_shows_each_stream(client, monkeypatch):
    from django.utils import timezone

    add_stream("gamma", quarantined=42)
    add_stream("delta", lag=9, last_progress=timezone.now() - datetime.timedelta(seconds=3600),
               heartbeat=timezone.now() - datetime.timedelta(seconds=600))
    client.force_login(User.objects.create_user("viewer", password="correct horse battery"))
    html = client.get("/elasticc2/").content.decode()
    gamma = html[html.index('data-stream="gamma"'):]
    gamma = gamma[:gamma.index("</tr>")]
    assert 'data-healthy="yes"' in gamma and "rdkafka-gamma" in gamma and "gamma[0], gamma[1]" in gamma
    assert '<td class="text-end e2-quarantined">42</td>' in gamma
    delta = html[html.index('data-stream="delta"'):]
    delta = delta[:delta.index("</tr>")]
    assert 'data-healthy="no"' in delta and "stalled: lag 9" in delta
    assert re.search(r"heartbeat 6\d\d s old", delta)  # 600 s when written, plus the test's own time


# -- the whole system ------------------------------------------------------------------------------
def status_of(stack: LiveStack) -> tuple[int, dict]:
    res = stack.desctom("status", "--json", timeout=60)
    return res.returncode, json.loads(res.stdout)


def healthz(stack: LiveStack) -> requests.Response:
    return requests.get(f"{stack.web}/healthz", timeout=30)


def test_supervisor_restarts_killed_broker(stack_env):
    """SIGKILL of the embedded broker: unhealthy while down, restarted by the supervisor, ingest resumes."""
    stack = LiveStack(stack_env)
    stack.up()
    try:
        wait_for(lambda: healthz(stack).status_code == 200, 60, "/healthz 200 on a fresh stack")
        code, status = status_of(stack)
        assert code == 0 and status["healthy"] and status["unhealthy"] == []
        state = json.loads((stack.home / "run" / "desctom.json").read_text())
        supervisor, old_kafka = state["supervisor_pid"], state["kafka_pid"]

        # Hold the supervisor so the dead broker stays dead long enough to look at.
        os.kill(supervisor, signal.SIGSTOP)
        try:
            os.kill(old_kafka, signal.SIGKILL)
            wait_for(lambda: not pid_alive(old_kafka), 10, "tansu to die")
            code, status = status_of(stack)
            assert code == 3 and "kafka" in status["unhealthy"], status
            assert not status["components"]["kafka"]["healthy"]
            res = healthz(stack)
            assert res.status_code == 503 and "kafka" in res.json()["unhealthy"], res.text
            assert requests.get(f"{stack.web}/healthz?scope=web", timeout=30).status_code == 200
        finally:
            os.kill(supervisor, signal.SIGCONT)

        # The supervisor notices, restarts tansu on the same port, recreates the topics.
        new_kafka = wait_for(lambda: (pid := json.loads((stack.home / "run" / "desctom.json").read_text())
                                      .get("kafka_pid")) != old_kafka and pid_alive(pid) and pid, 60,
                             "the supervisor to restart tansu")
        wait_for(lambda: healthz(stack).status_code == 200, 90, "/healthz 200 again")
        code, status = status_of(stack)
        assert code == 0 and status["healthy"], status
        assert status["components"]["kafka"]["pid"] == new_kafka
        assert "kafka exited" in (stack.home / "log" / "desctom.log").read_text()

        # Ingest resumes by itself: classifications produced after the restart are stored.
        stack.produce_classifications(0, 200)
        wait_for(lambda: stack.sql("SELECT count(*) FROM elasticc2_brokermessage")[0][0] == 200, 120,
                 "the poller to store what was produced after the restart")
    finally:
        stack.down()
