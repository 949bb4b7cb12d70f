"""``send_elasticc2_alerts`` on the real ELAsTiCC2 test data, against a real PostgreSQL and a real tansu.

The test data has no DDF objects (none has more than 1000 PHOT rows), so every seventh object is
made DDF after loading. Topics are named per test (the broker lives for the whole session).
Subprocess runs see the test database through ``DATABASE_URL``, hence committed data
(``django_db(transaction=True)``).
"""

from __future__ import annotations

import math
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from io import StringIO
from urllib.parse import quote

import psycopg
import pytest
from confluent_kafka import OFFSET_BEGINNING, TIMESTAMP_CREATE_TIME, TopicPartition
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from desctom.elasticc2.models import AlertSenderRun
from desctom.elasticc2.workers.sender import clock
from desctom.elasticc2.workers.sender.clock import ClockError, Window, choose_window, through_day_after
from desctom.elasticc2.workers.sender.service import LOCK_KEY
from desctom.survey.kafka import list_topics, make_consumer, make_producer
from desctom.survey.schemas import alert_schema, decode

needs_db = pytest.mark.django_db(transaction=True)


# -- helpers ---------------------------------------------------------------------------------------------
def query(sql, params=None):
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall() if cur.description else []


@pytest.fixture
def ppdb(elasticc2_test_dirs):
    """The test data's SNIb directory in the PPDB, every 7th object DDF; ``{alert_id: (mjd, isddf)}``."""
    directory = next(d for d in elasticc2_test_dirs if d.name.endswith("SNIb-Templates"))
    call_command("load_snana_fits", "-d", str(directory), "--ppdb", "--do", "-n", "1", stdout=StringIO())
    query("UPDATE elasticc2_ppdbdiaobject SET isddf = (diaobject_id %% %s = 0)", [7])
    rows = query("SELECT a.alert_id, s.midpointtai, o.isddf FROM elasticc2_ppdbalert a "
                 "JOIN elasticc2_ppdbdiasource s ON s.diasource_id = a.diasource_id "
                 "JOIN elasticc2_ppdbdiaobject o ON o.diaobject_id = a.diaobject_id")
    alerts = {aid: (mjd, ddf) for aid, mjd, ddf in rows}
    assert any(ddf for _, ddf in alerts.values()) and not all(ddf for _, ddf in alerts.values())
    return alerts


@pytest.fixture
def topics():
    tag = uuid.uuid4().hex[:10]
    return {"wfd": f"wfd-{tag}", "full": f"ddf-full-{tag}", "limited": f"ddf-limited-{tag}"}


def topic_args(topics, kafka_server) -> list[str]:
    return ["-k", kafka_server.bootstrap, "--wfd-topic", topics["wfd"], "--ddf-full-topic", topics["full"],
            "--ddf-limited-topic", topics["limited"]]


def send(topics, kafka_server, *args) -> str:
    out = StringIO()
    call_command("send_elasticc2_alerts", *topic_args(topics, kafka_server), *args, stdout=out)
    return out.getvalue()


def read_topic(kafka_server, topic) -> list[tuple[dict, tuple]]:
    """Every message the sender put on ``topic``, decoded, with its Kafka timestamp.

    The test appends an end marker and reads up to it (tansu's high watermark can lag behind).
    """
    marker = f"end-{uuid.uuid4().hex}".encode()
    producer = make_producer(kafka_server.bootstrap)
    producer.produce(topic, marker)
    assert producer.flush(30) == 0
    consumer = make_consumer(kafka_server.bootstrap, f"test-{uuid.uuid4().hex}")
    try:
        consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        out, deadline = [], time.monotonic() + 60
        while time.monotonic() < deadline:
            msg = consumer.poll(1.0)
            if msg is None or msg.error() is not None:
                continue
            if msg.value() == marker:
                return out
            out.append((decode(alert_schema(), msg.value()), msg.timestamp()))
        raise AssertionError(f"the end marker of {topic} never arrived ({len(out)} messages read)")
    finally:
        consumer.close()


def marked() -> set[int]:
    rows = query("SELECT alert_id FROM elasticc2_ppdbalert WHERE alertsenttimestamp IS NOT NULL")
    return {r[0] for r in rows}


def cli_env() -> dict:
    db = connection.settings_dict
    env = dict(os.environ)
    env["DATABASE_URL"] = (f"postgresql://{quote(db['USER'])}:{quote(db['PASSWORD'], safe='')}@{db['HOST']}:"
                           f"{db['PORT']}/{db['NAME']}")
    return env


def start_cli(*args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "desctom.cli", "send_elasticc2_alerts", *args],
                            env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_until_lock_free() -> None:
    """After a SIGKILL the server ends the dead session (and drops its lock) on its own, not instantly."""
    deadline = time.monotonic() + 20
    while query("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND "
                "((classid::bigint << 32) | objid::bigint) = %s", [LOCK_KEY])[0][0]:
        assert time.monotonic() < deadline, "the killed sender's lock was never released"
        time.sleep(0.1)


def wait_until_gone(tag: str) -> None:
    """Wait until no process has ``tag`` on its command line."""
    deadline = time.monotonic() + 20
    while True:
        alive = []
        for entry in os.listdir("/proc"):
            try:
                if entry.isdigit() and tag.encode() in open(f"/proc/{entry}/cmdline", "rb").read():
                    alive.append(entry)
            except OSError:
                continue
        if not alive:
            return
        assert time.monotonic() < deadline, f"processes {alive} outlived the killed sender"
        time.sleep(0.1)


# -- the clock ---------------------------------------------------------------------------------------------
def test_clock_arithmetic():
    assert through_day_after(60300.2, 1) == 60300.5 + 1
    assert through_day_after(60300.7, 1) == 60301.5 + 1  # after midnight UTC: the next night
    assert through_day_after(60300.5, 0) == 60301.5
    assert choose_window(60400.0, None, None, 60350.0, 60000.0) == Window(None, 60400.0)
    assert choose_window(60400.0, None, 60390.0, None, None) == Window(60390.0, 60400.0)
    # -a: from the latest sent alert, or --start-day if later, or the earliest alert - 1.
    assert choose_window(None, 3, None, 60350.2, 60000.3) == Window(None, 60353.5, 60350.2, 60349.2)
    assert choose_window(None, 3, 60360.0, 60350.2, 60000.3) == Window(60360.0, 60363.5, 60360.0, 60359.0)
    assert choose_window(None, 3, 60340.0, 60350.2, 60000.3) == Window(60340.0, 60353.5, 60350.2, 60349.2)
    assert choose_window(None, 2, None, None, 60000.3) == Window(None, 60001.5, 59999.3, 59998.3)
    assert choose_window(None, 2, 60100.9, None, 60000.3) == Window(60100.9, 60103.5, 60100.9, 60099.9)
    for bad in [(None, None, None), (60400.0, 2, None), (None, -1, None), (60400.0, None, 60401.0),
                (math.nan, None, None)]:
        with pytest.raises(ClockError):
            choose_window(*bad, None, 60000.0)
    with pytest.raises(ClockError, match="no alerts"):
        choose_window(None, 1, None, None, None)


@pytest.mark.parametrize("args, message", [
    ([], "exactly one of -d/--through-day MJD and -a/--added-days N"),
    (["-d", "60500", "-a", "2"], "exactly one of -d/--through-day MJD and -a/--added-days N"),
    (["-a", "-1"], "-a/--added-days must be >= 0"),
    (["-d", "60500", "--start-day", "60600"], "--start-day 60600.0 is after -d/--through-day 60500.0"),
    (["-d", "60500", "-f", "0"], "--flush-every must be at least 1"),
    (["-d", "60500", "-n", "-1"], "--num-reconstruct-processes must be at least 0"),
])
def test_bad_arguments(args, message):
    """Refused before touching the database or Kafka."""
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("send_elasticc2_alerts", *args, stdout=StringIO())


# -- sending -------------------------------------------------------------------------------------------------
@needs_db
def test_through_day_sends_exactly_those_alerts_routed_by_ddf(ppdb, topics, kafka_server):
    mjds = sorted(mjd for mjd, _ in ppdb.values())
    day = mjds[len(mjds) // 2]
    want = {aid for aid, (mjd, _) in ppdb.items() if mjd <= day}
    want_ddf = {aid for aid in want if ppdb[aid][1]}
    assert not set(topics.values()) & set(list_topics(kafka_server.bootstrap))
    before = timezone.now()
    out = send(topics, kafka_server, "-d", str(day), "--do", "-l", "200", "-f", "300")
    after = timezone.now()
    assert "created topics" in out and all(t in out for t in topics.values())
    n_wfd = len(want - want_ddf)
    assert f"done: sent {len(want):,} alerts ({n_wfd:,} WFD, {len(want_ddf):,} DDF)" in out
    assert "alerts/s" in out and "ETA" in out and "MJD" in out
    assert marked() == want

    wfd, full, limited = (read_topic(kafka_server, topics[k]) for k in ("wfd", "full", "limited"))
    assert [m["alertId"] for m, _ in wfd] and {m["alertId"] for m, _ in wfd} == want - want_ddf
    assert len(wfd) == len(want - want_ddf)
    assert sorted(m["alertId"] for m, _ in full) == sorted(want_ddf)
    assert sorted(m["alertId"] for m, _ in limited) == sorted(want_ddf)
    for messages in (wfd, full, limited):  # simulated-time order, produce-time timestamps
        times = [m["diaSource"]["midPointTai"] for m, _ in messages]
        assert times == sorted(times) and max(times) <= day
        for m, (kind, ts) in messages:
            assert m["diaSource"]["diaSourceId"] == m["alertId"]
            assert kind == TIMESTAMP_CREATE_TIME
            assert before.timestamp() * 1000 - 1000 <= ts <= after.timestamp() * 1000 + 1000

    # Histories: 365 days on wfd and ddf-full, 30 days on ddf-limited (the same alert, cut).
    longer = 0
    limited_by_id = {m["alertId"]: m for m, _ in limited}
    for m, _ in wfd + full:
        t = m["diaSource"]["midPointTai"]
        assert all(t - 365 <= p["midPointTai"] < t for p in m["prvDiaSources"] + m["prvDiaForcedSources"])
    for m, _ in full:
        t, short = m["diaSource"]["midPointTai"], limited_by_id[m["alertId"]]
        for key, idkey in (("prvDiaSources", "diaSourceId"), ("prvDiaForcedSources", "diaForcedSourceId")):
            cut = [p[idkey] for p in m[key] if p["midPointTai"] >= t - 30]
            assert [p[idkey] for p in short[key]] == cut
            longer += len(m[key]) > len(cut)
        assert short["diaObject"] == m["diaObject"] and short["diaSource"] == m["diaSource"]
    assert longer > 0  # some DDF alerts do have history older than 30 days

    run = AlertSenderRun.objects.get()
    assert (run.status, run.alerts_sent, run.through_day, run.host) == ("finished", len(want), day,
                                                                         socket.gethostname())
    assert run.last_mjd == max(ppdb[a][0] for a in want) and run.finished is not None
    # Nothing left in the window: a rerun sends nothing.
    again = send(topics, kafka_server, "-d", str(day), "--do")
    assert "done: sent 0 alerts" in again and "created topics" not in again
    assert marked() == want


@needs_db
def test_added_days_advance_the_clock(ppdb, topics, kafka_server):
    first = min(mjd for mjd, _ in ppdb.values())
    out = send(topics, kafka_server, "-a", "1", "--do")
    through = math.floor(first - 1 + 0.5) + 1 + 0.5
    assert f"through MJD {through}" in out
    assert marked() == {a for a, (mjd, _) in ppdb.items() if mjd <= through}
    # From the latest sent alert: N more nights.
    send(topics, kafka_server, "-a", "40", "--do")
    last = max(ppdb[a][0] for a in marked())
    through2 = math.floor(last + 0.5) + 30 + 0.5
    send(topics, kafka_server, "-a", "30", "--do")
    assert marked() == {a for a, (mjd, _) in ppdb.items() if mjd <= through2}
    # --start-day later than the clock: starts there, and nothing earlier is sent.
    start = through2 + 100
    out = send(topics, kafka_server, "-a", "10", "--start-day", str(start), "--do")
    through3 = math.floor(start + 0.5) + 10 + 0.5
    assert f"from MJD {start} through MJD {through3}" in out
    assert marked() == {a for a, (mjd, _) in ppdb.items() if mjd <= through2 or start <= mjd <= through3}


@needs_db
def test_added_days_resend_recent_leftovers_but_read_only_the_night(ppdb, topics, kafka_server):
    """-a selects from a day before the latest sent alert on: unsent alerts in that day go out again,
    older ones wait for -d."""
    send(topics, kafka_server, "-a", "60", "--do")
    sent = sorted((ppdb[a][0], a) for a in marked())
    last = sent[-1][0]
    recent = [a for mjd, a in sent if last - clock.LEFTOVER_DAYS <= mjd < last][:3]
    old = [a for mjd, a in sent if mjd < last - clock.LEFTOVER_DAYS - 1][:3]
    assert recent and old
    query("UPDATE elasticc2_ppdbalert SET alertsenttimestamp = NULL WHERE alert_id = ANY(%s)", [recent + old])
    window = clock.window_from_db(None, 1, None)
    assert window.lower == last - clock.LEFTOVER_DAYS
    assert clock._where(window)[1]["start"] == window.lower  # the selection is bounded below
    send(topics, kafka_server, "-a", "1", "--do")
    assert set(recent) <= marked() and not set(old) & marked()
    send(topics, kafka_server, "-d", str(last), "--do")  # -d has no lower bound: the old ones go out
    assert set(old) <= marked()


def probed() -> float | None:
    with connection.cursor() as cur:
        return clock.last_sent_mjd(cur)


def latest_sent() -> float | None:
    """The latest sent alert's time by the plain join over every alert (the definition)."""
    return query("SELECT max(s.midpointtai) FROM elasticc2_ppdbalert a JOIN elasticc2_ppdbdiasource s "
                 "ON s.diasource_id = a.diasource_id WHERE a.alertsenttimestamp IS NOT NULL")[0][0]


@needs_db
def test_window_start_is_the_latest_sent_alert_after_several_nights(ppdb, topics, kafka_server):
    assert probed() is None and latest_sent() is None
    for nights in (15, 3, 40):
        send(topics, kafka_server, "-a", str(nights), "--do")
        assert latest_sent() is not None and probed() == latest_sent()
    last = latest_sent()
    out = send(topics, kafka_server, "-a", "2", "--do")
    assert f"(clock at MJD {last:.4f})" in out and f"through MJD {through_day_after(last, 2)}" in out
    # marked by hand after the latest run: read through the alertsenttimestamp index
    later = sorted((mjd, a) for a, (mjd, _) in ppdb.items() if a not in marked())[:5]
    query("UPDATE elasticc2_ppdbalert SET alertsenttimestamp = now() WHERE alert_id = ANY(%s)",
          [[a for _, a in later]])
    assert probed() == latest_sent() == later[-1][0]
    # unmarked again (as the demo does for alerts lost with its Kafka): an earlier one is the latest
    newest = sorted((ppdb[a][0], a) for a in marked())[-12:]
    query("UPDATE elasticc2_ppdbalert SET alertsenttimestamp = NULL WHERE alert_id = ANY(%s)",
          [[a for _, a in newest]])
    assert probed() == latest_sent() <= newest[0][0]
    query("UPDATE elasticc2_ppdbalert SET alertsenttimestamp = NULL")
    assert probed() is None


@needs_db
def test_dry_run_reconstructs_but_writes_nothing(ppdb, topics, kafka_server):
    out = send(topics, kafka_server, "-d", "99999")
    n_ddf = sum(ddf for _, ddf in ppdb.values())
    assert f"dry run: would send {len(ppdb):,} alerts ({len(ppdb) - n_ddf:,} WFD, {n_ddf:,} DDF)" in out
    assert "nothing produced or marked" in out
    assert marked() == set()
    assert not set(topics.values()) & set(list_topics(kafka_server.bootstrap))
    assert list(AlertSenderRun.objects.values_list("status", "alerts_sent")) == [("dryrun", len(ppdb))]


@needs_db
def test_in_process_building_sends_the_same(ppdb, topics, kafka_server):
    """``-n 0``: no worker processes (the default is 3)."""
    day = sorted(mjd for mjd, _ in ppdb.values())[len(ppdb) // 3]
    send(topics, kafka_server, "-d", str(day), "--do", "-n", "0", "-f", "100")
    want = {a for a, (mjd, _) in ppdb.items() if mjd <= day}
    assert marked() == want
    ids = [m["alertId"] for m, _ in read_topic(kafka_server, topics["wfd"])]
    assert sorted(ids) == sorted(a for a in want if not ppdb[a][1])
    assert [ppdb[a][0] for a in ids] == sorted(ppdb[a][0] for a in ids)


@needs_db
def test_verbose_run_says_where_the_time_went(ppdb, topics, kafka_server):
    """``-v 2`` adds a line of seconds per phase; selecting and building are never zero."""
    out = send(topics, kafka_server, "-d", "99999", "--do", "-n", "1", "-v", "2")
    line = next(x for x in out.splitlines() if x.startswith("time: "))
    seconds = {name: float(sec) for name, sec in re.findall(r"([A-Za-z][A-Za-z ]+?) (\d+\.\d+) s", line)}
    assert set(seconds) == {"selecting", "waiting for builds", "producing", "waiting for Kafka", "marking",
                            "fetching", "encoding"}, line
    assert seconds["fetching"] > 0 and seconds["encoding"] > 0 and seconds["selecting"] > 0
    assert "building in 1 worker processes" in line
    assert "time: " not in send(topics, kafka_server, "-d", "99999")  # not without -v 2


# -- one sender at a time ------------------------------------------------------------------------------------
@needs_db
def test_second_sender_is_refused(ppdb, topics, kafka_server):
    running = AlertSenderRun.objects.create(started=timezone.now(), host="otherhost", pid=4242,
                                            through_day=60500.0, status="running")
    db = connection.settings_dict
    with psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"],
                         dbname=db["NAME"], autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
        since = running.started.isoformat(timespec="seconds")
        with pytest.raises(CommandError, match=re.escape(f"another alert sender is running: pid 4242 on host "
                                                         f"otherhost, since {since}")):
            send(topics, kafka_server, "-d", "99999", "--do")
    assert marked() == set()
    assert AlertSenderRun.objects.get().status == "running"  # the live one is left alone


@needs_db
def test_stale_running_row_is_cleared(ppdb, topics, kafka_server):
    dead = AlertSenderRun.objects.create(started=timezone.now(), host="gonehost", pid=4243,
                                         through_day=60500.0, status="running", alerts_sent=7)
    out = send(topics, kafka_server, "-d", str(min(m for m, _ in ppdb.values()) + 1), "--do")
    assert f"cleared a stale run: {dead.id} (pid 4243 on host gonehost" in out
    dead.refresh_from_db()
    assert dead.status == "failed" and "stale" in dead.error and dead.finished is not None
    assert AlertSenderRun.objects.exclude(pk=dead.pk).get().status == "finished"


# -- crashes and signals -------------------------------------------------------------------------------------
@needs_db
def test_sigkill_then_rerun_loses_nothing(ppdb, topics, kafka_server):
    day = max(mjd for mjd, _ in ppdb.values())
    args = [*topic_args(topics, kafka_server), "-d", str(day), "--do", "-f", "5", "-l", "50", "-n", "1"]
    proc = start_cli(*args)
    for line in proc.stdout:
        if line.startswith("sent "):
            proc.send_signal(signal.SIGKILL)
            break
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    wait_until_gone(topics["wfd"])  # its worker process dies with it
    assert 0 < len(marked()) < len(ppdb)  # killed mid-run, after some marking
    assert AlertSenderRun.objects.get().status == "running"  # what the dead process left behind
    wait_until_lock_free()

    out = send(topics, kafka_server, "-d", str(day), "--do")
    assert "cleared a stale run" in out
    assert marked() == set(ppdb)
    on_topics = {m["alertId"] for k in ("wfd", "full", "limited")
                 for m, _ in read_topic(kafka_server, topics[k])}
    assert on_topics >= marked()


@needs_db
def test_sigterm_flushes_marks_and_exits_nonzero(ppdb, topics, kafka_server):
    day = max(mjd for mjd, _ in ppdb.values())
    proc = start_cli(*topic_args(topics, kafka_server), "-d", str(day), "--do", "-f", "5", "-l", "50")
    for line in proc.stdout:
        if line.startswith("sent "):
            proc.send_signal(signal.SIGTERM)
            break
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "interrupted by SIGTERM" in err and "rerun the same command to continue" in err
    assert "Traceback" not in err
    sent = marked()
    assert 0 < len(sent) < len(ppdb)
    # Everything produced before the stop was acknowledged and marked: topics and marks agree exactly.
    wfd = [m["alertId"] for m, _ in read_topic(kafka_server, topics["wfd"])]
    full = [m["alertId"] for m, _ in read_topic(kafka_server, topics["full"])]
    limited = [m["alertId"] for m, _ in read_topic(kafka_server, topics["limited"])]
    assert sorted(wfd + full) == sorted(sent) and sorted(limited) == sorted(full)
    run = AlertSenderRun.objects.get()
    assert (run.status, run.alerts_sent) == ("failed", len(sent)) and "SIGTERM" in run.error
