"""The answer cache of ``gethottransients`` and ``spectrawanted`` (issue 19): an unchanged question
on unchanged data is answered from memory; any committed write to a table the answer reads — by the
ORM, raw SQL, COPY or TRUNCATE — gives the next request a new answer."""

from __future__ import annotations

import gzip
import json

import pytest
from django.db import connection
from test_e2_api_data import post_json, strict_json
from test_e2_followup_data import O1, O2, O3, load_followup_sample

from desctom.elasticc2.http.api import cached
from desctom.elasticc2.queries import answercache

pytestmark = pytest.mark.django_db
HOT = "/elasticc2/gethottransients"
WANTED = "/elasticc2/spectrawanted"


def answer(api, url, body):
    res = post_json(api, url, body)
    assert res.status_code == 200, res.content
    return strict_json(res), getattr(res, "streaming", False)


def versions() -> dict:
    with connection.cursor() as cur:
        cur.execute("SELECT table_name, version FROM elasticc2_dataversion")
        return dict(cur.fetchall())


def test_every_writing_statement_bumps_its_tables_version(db):
    before = versions()
    assert set(answercache.FOLLOWUP_TABLES) <= set(before)
    with connection.cursor() as cur:
        cur.execute("UPDATE elasticc2_diaobject SET ra = ra WHERE false")  # even one that changed nothing
        cur.execute("DELETE FROM elasticc2_wantedspectra")
        cur.execute("TRUNCATE elasticc2_plannedspectra")
    after = versions()
    changed = {t for t in before if after[t] != before[t]}
    assert changed == {"elasticc2_diaobject", "elasticc2_wantedspectra", "elasticc2_plannedspectra"}


def test_hot_transients_come_from_the_cache_until_the_data_changes(api, django_assert_max_num_queries):
    load_followup_sample()
    body = {"mjd_now": 60034, "detected_in_last_days": 5}
    first, streamed = answer(api, HOT, body)
    assert streamed and [o["objectid"] for o in first["diaobject"]] == [O1, O2]
    with django_assert_max_num_queries(3):  # session, user, data version: no data read
        again, streamed = answer(api, HOT, body)
    assert not streamed and again == first
    other, streamed = answer(api, HOT, {**body, "detected_in_last_days": 1})  # another question
    assert streamed and [o["objectid"] for o in other["diaobject"]] == [O2]
    # a detection of O3 inside the window, written with raw SQL
    with connection.cursor() as cur:
        cur.execute("INSERT INTO elasticc2_diasource (diasource_id, diaobject_id, midpointtai, filtername, "
                    "ra, decl, psflux, psfluxerr, snr) VALUES (%s, %s, 60033, 'r', 30, -7, 500, 10, 50)",
                    [O3 * 100000 + 99, O3])
    changed, streamed = answer(api, HOT, body)
    assert streamed and [o["objectid"] for o in changed["diaobject"]] == [O1, O2, O3]
    assert cached._flights == {}  # every computation let go of its question


def test_one_computation_per_question_the_others_wait_for_it(monkeypatch):
    """While one thread computes an answer, a request for the same answer waits and is given it."""
    import threading

    from django.core.cache import caches
    from django.test import RequestFactory

    monkeypatch.setattr(cached, "answer_key", lambda endpoint, arguments: "the-question")
    computed = []

    def pieces():
        computed.append(1)
        yield b'{"computed": true}'

    lock = cached._flight("the-question")
    lock.acquire()  # as if another thread were computing this answer
    results = []
    request = RequestFactory().post("/elasticc2/gethottransients")
    waiter = threading.Thread(
        target=lambda: results.append(b"".join(cached.cached_or_streamed(request, "hot", {}, pieces))))
    waiter.start()
    waiter.join(1.0)
    assert waiter.is_alive()  # it waits for the computation
    caches["answers"].set("the-question", (b'{"kept": true}', b"", None))  # what that computation kept
    lock.release()
    waiter.join(30)
    assert results == [b'{"kept": true}'] and computed == []


def test_spectrawanted_sees_a_request_at_once(api):
    load_followup_sample()
    assert answer(api, WANTED, {"mjd_now": 60034})[0]["wantedspectra"] == []
    assert answer(api, WANTED, {"mjd_now": 60034})[0]["wantedspectra"] == []
    ask = {"requester": "RESSPECT", "objectids": [O1], "priorities": [3]}
    assert post_json(api, "/elasticc2/askforspectrum", ask).status_code == 200
    assert [w["oid"] for w in answer(api, WANTED, {"mjd_now": 60034})[0]["wantedspectra"]] == [O1]
    plan = {"objectid": O1, "facility": "Gemini"}
    assert post_json(api, "/elasticc2/planspectrum", plan).status_code == 200
    assert answer(api, WANTED, {"mjd_now": 60034})[0]["wantedspectra"] == []  # claimed now


def test_a_kept_answer_goes_out_gzipped_when_accepted(api):
    load_followup_sample()
    body = {"mjd_now": 60034, "detected_in_last_days": 5}
    first, _ = answer(api, HOT, body)
    res = post_json(api, HOT, body, HTTP_ACCEPT_ENCODING="gzip, deflate")
    assert not res.streaming and res["Content-Encoding"] == "gzip" and "Accept-Encoding" in res["Vary"]
    assert json.loads(gzip.decompress(res.content)) == first
    plain = post_json(api, HOT, body)
    assert not plain.has_header("Content-Encoding") and json.loads(plain.content) == first


def test_a_big_answer_streams_and_is_not_kept(api, monkeypatch):
    load_followup_sample()
    monkeypatch.setattr(answercache, "MAX_CACHED_BYTES", 100)
    body = {"mjd_now": 60034, "detected_in_last_days": 5}
    first, streamed = answer(api, HOT, body)
    again, streamed_again = answer(api, HOT, body)
    assert streamed and streamed_again and again == first


def test_a_kept_wanted_list_expires_when_a_request_leaves_the_14_day_window(api):
    """Keyed without the wall clock, the answer is kept only until its oldest request leaves the window."""
    import datetime as dt
    import time

    from desctom.elasticc2.queries.spectra import wanted_answer_expiry

    load_followup_sample()
    ask = {"requester": "RESSPECT", "objectids": [O1, O2], "priorities": [3, 5]}
    assert post_json(api, "/elasticc2/askforspectrum", ask).status_code == 200
    leaving = dt.datetime.now(dt.UTC) - dt.timedelta(days=14) + dt.timedelta(seconds=2)
    with connection.cursor() as cur:  # O2's request was made 14 days less 2 s ago
        cur.execute("UPDATE elasticc2_wantedspectra SET wanttime = %s WHERE diaobject_id = %s", [leaving, O2])
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=14)
    assert wanted_answer_expiry(since, None, 14.0, None) == leaving + dt.timedelta(days=14)
    assert wanted_answer_expiry(since, None, None, None) is None  # an absolute requested_since: no expiry
    body = {"mjd_now": 60034}
    assert [w["oid"] for w in answer(api, WANTED, body)[0]["wantedspectra"]] == [O2, O1]
    again, streamed = answer(api, WANTED, body)
    assert not streamed and [w["oid"] for w in again["wantedspectra"]] == [O2, O1]  # kept
    time.sleep(max(0.0, (leaving + dt.timedelta(days=14) - dt.datetime.now(dt.UTC)).total_seconds()) + 0.2)
    later, streamed = answer(api, WANTED, body)
    assert streamed and [w["oid"] for w in later["wantedspectra"]] == [O1]  # O2's request left the window
