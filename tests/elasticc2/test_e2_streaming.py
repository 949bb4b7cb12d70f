"""Streamed answers over real HTTP: the same bytes as the answer built whole, and gzip when asked.

``gethottransients``, ``ltcv`` (many ids), ``getknownspectruminfo`` and the REST lists write their
JSON in chunks (``desctom.core.jsonstream``); the chunk sizes are made tiny here so that every
answer is many chunks. The expected bytes come from the whole-answer functions the endpoints used
before (``hot_transients``, ``ltcv_answer``, ``known_spectra``, a DRF serializer of the whole page).
"""

from __future__ import annotations

import gzip
import json
import time

import pytest
import requests
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
from rest_framework.renderers import JSONRenderer
from test_e2_api_data import PASSWORD, refill_taxonomy

from desctom.core.jsonapi import json_bytes
from desctom.elasticc2.http.api import rest as e2rest
from desctom.elasticc2.models import (
    DiaForcedSource,
    DiaObject,
    DiaSource,
    PPDBDiaObject,
    SpectrumInfo,
    WantedSpectra,
)
from desctom.elasticc2.queries import hot, lightcurves, spectra, wanted
from desctom.elasticc2.workers.source_updater import rebuild_latest_classifications

pytestmark = pytest.mark.django_db(transaction=True)

N_OBJECTS = 23
FIRST_ID = 7000
BANDS = "ugrizY"


@pytest.fixture(autouse=True)
def taxonomy_present(transactional_db):
    refill_taxonomy()


@pytest.fixture(scope="module", autouse=True)
def taxonomy_back_afterwards(django_db_setup, django_db_blocker):
    yield
    with django_db_blocker.unblock():
        refill_taxonomy()


@pytest.fixture
def tiny_chunks(monkeypatch):
    """Chunks of a few objects or rows, so that each answer here is written in many pieces."""
    monkeypatch.setattr(hot, "CHUNK_OBJECTS", 3)
    monkeypatch.setattr(lightcurves, "CHUNK_OBJECTS", 4)
    monkeypatch.setattr(spectra, "SPECTRA_CHUNK", 2)
    monkeypatch.setattr(e2rest.PPDBDiaObjectViewSet, "stream_chunk", 5)
    monkeypatch.setattr(wanted, "WANTED_CHUNK", 3)


def load_objects() -> list[int]:
    """Known objects with forced photometry (float4 values, NaN and NULL host values), detections,
    and reported spectra; and PPDB objects. Object ``k`` has ``5 + k % 7`` points."""
    ids = []
    for k in range(N_OBJECTS):
        oid = FIRST_ID + k
        ids.append(oid)
        host = {"hostgal_zspec": None if k % 3 == 0 else 0.1 + 0.01 * k, "hostgal_zphot": 0.3,
                "hostgal_mag_r": float("nan") if k % 4 == 0 else 20.0 + 0.1 * k, "hostgal_snsep": 1.5}
        DiaObject.objects.create(diaobject_id=oid, simversion="st", ra=1.1 * k, decl=-0.7 * k, **host)
        PPDBDiaObject.objects.create(diaobject_id=oid, simversion="st", ra=1.1 * k, decl=-0.7 * k, **host)
        points = [{"diaforcedsource_id": oid * 1000 + j, "midpointtai": 60000.0 + 1.5 * j + 0.1 * k,
                   "filtername": BANDS[(j + k) % 6], "psflux": 100.0 / 3 + 7.1 * j * k, "psfluxerr": 0.1 + j}
                  for j in range(5 + k % 7)]
        DiaForcedSource.objects.bulk_create(DiaForcedSource(diaobject_id=oid, **p) for p in points)
        DiaSource.objects.bulk_create(
            DiaSource(diasource_id=p["diaforcedsource_id"], diaobject_id=oid, midpointtai=p["midpointtai"],
                      filtername=p["filtername"], ra=1.1 * k, decl=-0.7 * k, psflux=p["psflux"],
                      psfluxerr=p["psfluxerr"], snr=10.0) for p in points[2::2])
    user = User.objects.create_user("streamer", password=PASSWORD)
    for k, oid in enumerate(ids[::2]):
        SpectrumInfo.objects.create(diaobject_id=oid, facility=f"F{k % 3}", mjd=60010.0 - 0.3 * k,
                                    z=None if k % 5 == 0 else 0.1 * k, classid=2222 + k % 3,
                                    user=user if k % 2 else None)
    rebuild_latest_classifications()
    return ids


@pytest.fixture
def http(live_server, tiny_chunks):
    """``post(path, body, **headers)`` over HTTP with an API token; and the object ids."""
    ids = load_objects()
    token = Token.objects.get_or_create(user=User.objects.get(username="streamer"))[0].key

    def call(method, path, body=None, **headers):
        res = requests.request(method, f"{live_server.url}{path}", json=body, timeout=60,
                               headers={"Authorization": f"Token {token}", **headers})
        return res

    call.ids = ids
    call.url = live_server.url
    return call


@pytest.mark.parametrize("return_format", [0, 1, 2])
@pytest.mark.parametrize("hostinfo", [False, True])
def test_hot_transients_streamed_equals_whole(http, return_format, hostinfo):
    body = {"detected_since_mjd": 60002.0, "mjd_now": 60011.0, "return_format": return_format,
            "include_hostinfo": hostinfo}
    res = http("POST", "/elasticc2/gethottransients", body)
    assert res.status_code == 200, res.text
    whole = hot.hot_transients(60002.0, 60011.0, hostinfo, None, return_format)
    assert res.content == json_bytes({"status": "ok", "diaobject": whole})
    assert len(res.json()["diaobject"] if return_format != 2 else res.json()["diaobject"]["objectid"]) > 9


def test_hot_transients_empty_answer(http):
    res = http("POST", "/elasticc2/gethottransients", {"detected_since_mjd": 70000.0, "return_format": 2})
    assert res.content == json_bytes({"status": "ok", "diaobject": hot.hot_transients(70000.0, None, False,
                                                                                        None, 2)})
    res = http("POST", "/elasticc2/gethottransients", {"detected_since_mjd": 70000.0})
    assert res.content == b'{"status":"ok","diaobject":[]}'


@pytest.mark.parametrize("return_format", [0, 1, 2])
def test_ltcv_many_ids_streamed_equals_whole(http, return_format):
    ids = http.ids[::-1] + [1, 2, 3]  # unknown ids are left out
    body = {"objectids": ids, "return_format": return_format, "include_hostinfo": True, "mjd_now": 60008.0}
    res = http("POST", "/elasticc2/ltcv", body)
    assert res.status_code == 200, res.text
    assert res.content == json_bytes(lightcurves.ltcv_answer(ids, 60008.0, True, return_format))
    assert b"NaN" not in res.content


@pytest.mark.parametrize("include_user", [False, True])
def test_known_spectra_streamed_equals_whole(http, include_user):
    res = http("POST", "/elasticc2/getknownspectruminfo", {"include_user": include_user})
    assert res.status_code == 200, res.text
    filters = dict.fromkeys(("ids", "facility", "mjd_min", "mjd_max", "z_min", "z_max", "classid", "since"))
    whole = spectra.known_spectra(filters, include_user)
    assert len(whole) == 12
    assert res.content == json_bytes({"status": "ok", "spectra": whole})
    res = http("POST", "/elasticc2/getknownspectruminfo", {"facility": "none such"})
    assert res.content == b'{"status":"ok","spectra":[]}'


@pytest.mark.parametrize(("include_user", "lim_mag"), [(False, None), (True, None), (False, 25.0)])
def test_wanted_spectra_streamed_equals_whole(http, include_user, lim_mag):
    import datetime as dt

    user = User.objects.get(username="streamer")
    for k, oid in enumerate(http.ids):  # two requesters for some objects, priorities with ties
        for requester in ("RESSPECT", "other")[: 1 + k % 2]:
            WantedSpectra.objects.create(wantspec_id=f"{oid} ; {requester}", diaobject_id=oid, user=user,
                                         requester=requester, priority=1 + (k * 7 + len(requester)) % 4)
    body = {"mjd_now": 60020.0, "detected_since_mjd": 59990.0, "include_user": include_user}
    if lim_mag is not None:
        body.update(lim_mag=lim_mag, lim_mag_band="r")
    res = http("POST", "/elasticc2/spectrawanted", body)
    assert res.status_code == 200, res.text
    whole = spectra.wanted_spectra(
        since=dt.datetime.now(dt.UTC) - dt.timedelta(days=14), detected=59990.0, mjd_now=60020.0,
        claim_cut=dt.datetime.now(dt.UTC) - dt.timedelta(days=7), spectrum_cut=60013.0, lim_mag=lim_mag,
        band="r" if lim_mag is not None else None, include_user=include_user)
    assert res.content == json_bytes({"status": "ok", "wantedspectra": whole})
    n = len(res.json()["wantedspectra"])
    assert n > 2 * wanted.WANTED_CHUNK if lim_mag is None else 0 < n < len(http.ids)


@pytest.mark.parametrize("offset", [0, 4, 22, 40])
def test_rest_list_streamed_equals_whole(http, offset):
    path = "/elasticc2/ppdbdiaobject/"
    res = http("GET", f"{path}?limit=17&offset={offset}")
    assert res.status_code == 200, res.text
    rows = PPDBDiaObject.objects.order_by("diaobject_id")[offset:offset + 17] if offset <= N_OBJECTS else []
    base = f"{http.url}{path}"
    expected = {
        "count": N_OBJECTS,
        "next": f"{base}?limit=17&offset={offset + 17}" if offset + 17 < N_OBJECTS else None,
        "previous": (None if offset == 0 else f"{base}?limit=17" if offset <= 17
                     else f"{base}?limit=17&offset={offset - 17}"),
        "results": e2rest.PPDBDiaObjectSerializer(rows, many=True).data}
    assert res.content == JSONRenderer().render(expected)


def test_gzip_negotiated(http):
    body = {"objectids": http.ids, "return_format": 1}
    plain = http("POST", "/elasticc2/ltcv", body, **{"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    assert plain.content == json_bytes(lightcurves.ltcv_answer(http.ids, None, False, 1))
    assert "Accept-Encoding" in plain.headers["Vary"]
    for path, method, payload in [("/elasticc2/ltcv", "POST", body),
                                  ("/elasticc2/gethottransients", "POST", {"detected_since_mjd": 60000}),
                                  ("/elasticc2/ppdbdiaobject/?limit=20", "GET", None)]:
        res = requests.request(method, f"{http.url}{path}", json=payload, stream=True, timeout=60,
                               headers={"Accept-Encoding": "gzip", **_auth(http)})
        assert res.status_code == 200 and res.headers["Content-Encoding"] == "gzip", path
        raw = res.raw.read(decode_content=False)
        assert raw[:2] == b"\x1f\x8b"
        again = http(method, path, payload, **{"Accept-Encoding": "identity"})
        assert gzip.decompress(raw) == again.content and "Content-Encoding" not in again.headers


def test_errors_stay_plain_json_before_any_streaming(http):
    res = http("POST", "/elasticc2/ltcv", {"objectids": [1], "foo": 1}, **{"Accept-Encoding": "gzip"})
    assert res.status_code == 400
    assert res.json() == {"error": "Exception in LtcvsView: Unknown parameters: {'foo'}"}
    res = http("POST", "/elasticc2/gethottransients", {"return_format": 3})
    assert res.status_code == 400 and res.json() == {"error": "Error, unknown return_format 3"}


def test_html_pages_are_not_compressed(http):
    res = requests.get(f"{http.url}/accounts/login/", headers={"Accept-Encoding": "gzip"}, timeout=30,
                       stream=True)
    assert res.status_code == 200 and "Content-Encoding" not in res.headers


def _auth(http) -> dict:
    return {"Authorization": f"Token {Token.objects.get(user__username='streamer').key}"}


def test_answer_is_json(http):
    """A sanity check of the whole chain: what arrives parses as strict JSON."""
    res = http("POST", "/elasticc2/gethottransients", {"detected_since_mjd": 60000, "return_format": 2})
    data = json.loads(res.content, parse_constant=lambda c: pytest.fail(f"not strict JSON: {c}"))
    assert data["diaobject"]["objectid"] == http.ids


def test_database_lost_mid_answer(http, caplog):
    """The answer has started (200, first bytes sent) when the server's database session dies: the
    body ends early (it does not parse), the failure is logged, and the next request is served."""
    from django.db import connection, transaction

    table = "elasticc2_diaobjectpackedphotometry"  # read by each chunk, not by the first (ids) query
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        res = requests.post(f"{http.url}/elasticc2/gethottransients", json={"detected_since_mjd": 60000},
                            headers={**_auth(http), "Accept-Encoding": "identity"}, stream=True, timeout=60)
        assert res.status_code == 200
        for _ in range(500):  # the server's first chunk waits for the lock
            cur.execute("SELECT pid FROM pg_locks WHERE relation = %s::regclass AND NOT granted", [table])
            waiting = [r[0] for r in cur.fetchall()]
            if waiting:
                break
            time.sleep(0.02)
        assert len(waiting) == 1
        cur.execute("SELECT pg_terminate_backend(%s)", waiting)
    try:
        body = b"".join(res.iter_content(1024))
    except requests.exceptions.ChunkedEncodingError:
        body = None
    if body is not None:
        assert body.startswith(b'{"status":"ok","diaobject":[')
        with pytest.raises(ValueError):
            json.loads(body)
    assert any("failed mid-stream" in r.getMessage() for r in caplog.records)
    again = http("POST", "/elasticc2/gethottransients", {"detected_since_mjd": 60000})
    assert again.status_code == 200 and len(again.json()["diaobject"]) == N_OBJECTS
