"""The spectrum cycle over data the real alert cycle produced (load, send, fake broker, poll, update).

Every answer is checked against independent SQL over the PPDB and the sent-alert marks. The
cycle runs twice: through Django's test client, and over HTTP with nothing but what the original
``tom_client.py`` does (GET the login page for the CSRF cookie, POST the login form, send
``X-CSRFToken``, POST JSON to the page paths).
"""

from __future__ import annotations

import math
from collections import defaultdict
from io import StringIO

import pytest
import requests
from django.core.management import call_command
from test_e2_alert_cycle import Cycle, one, query
from test_e2_api_data import PASSWORD, make_user, post_json

from desctom.elasticc2.queries.followup import LEAF_CLASSES

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def cycled(elasticc2_test_dirs, kafka_server):
    """Two rounds of the alert cycle (150 days, then 30 more); returns the simulated "now" (the latest
    sent detection)."""
    call_command("load_snana_fits", "-d", *map(str, elasticc2_test_dirs), "--ppdb", "--do", stdout=StringIO())
    cycle = Cycle(kafka_server)
    first = one("SELECT min(s.midpointtai) FROM elasticc2_ppdbalert a "
                "JOIN elasticc2_ppdbdiasource s ON s.diasource_id = a.diasource_id")
    cycle.send("-d", str(first + 150))
    cycle.classify_poll_update()
    cycle.send("-a", "30")
    cycle.classify_poll_update()
    assert one("SELECT count(*) FROM elasticc2_brokersourceids") == 0
    return one("SELECT max(s.midpointtai) FROM elasticc2_ppdbalert a JOIN elasticc2_ppdbdiasource s "
               "ON s.diasource_id = a.diasource_id WHERE a.alertsenttimestamp IS NOT NULL")


SENT = ("SELECT s.diaobject_id, s.midpointtai FROM elasticc2_ppdbalert a JOIN elasticc2_ppdbdiasource s "
        "ON s.diasource_id = a.diasource_id WHERE a.alertsenttimestamp IS NOT NULL")


def sent_detected(since: float, until: float, strict: bool = False) -> list[int]:
    op = ">" if strict else ">="
    return [r[0] for r in query(f"SELECT DISTINCT diaobject_id FROM ({SENT}) d WHERE midpointtai {op} %s "
                                "AND midpointtai <= %s ORDER BY 1", [since, until])]


def forced_up_to_latest_sent(ids: list[int]) -> dict[int, list[tuple]]:
    """PPDB forced photometry of ``ids`` up to each one's latest sent detection, in time order."""
    rows = query(f"""SELECT f.diaobject_id, f.midpointtai, f.filtername, f.psflux, f.psfluxerr
        FROM elasticc2_ppdbdiaforcedsource f
        JOIN (SELECT diaobject_id, max(midpointtai) AS latest FROM ({SENT}) d GROUP BY 1) k
          ON k.diaobject_id = f.diaobject_id AND f.midpointtai <= k.latest
        WHERE f.diaobject_id = ANY(%s) ORDER BY f.diaobject_id, f.midpointtai, f.diaforcedsource_id""", [ids])
    result = defaultdict(list)
    for oid, *rest in rows:
        result[oid].append(tuple(rest))
    return result


def consensus(ids: list[int], until: float) -> dict[int, int]:
    """Each classifier's latest message per object, probabilities summed over classifiers, best leaf."""
    rows = query("""SELECT s.diaobject_id, m.classifier_id, s.midpointtai, m.descingesttimestamp,
                           m.brokermessage_id, m.classid, m.probability
                    FROM elasticc2_brokermessage m
                    JOIN elasticc2_ppdbdiasource s ON s.diasource_id = m.diasource_id
                    WHERE s.diaobject_id = ANY(%s) AND s.midpointtai <= %s""", [ids, until])
    latest = {}
    for oid, cid, mjd, ingest, mid, classes, probs in rows:
        key = (mjd, ingest, mid)
        if (oid, cid) not in latest or key > latest[oid, cid][0]:
            latest[oid, cid] = (key, classes, probs)
    sums = defaultdict(lambda: defaultdict(float))
    for (oid, _), (_, classes, probs) in latest.items():
        for c, p in zip(classes, probs, strict=True):
            if c in LEAF_CLASSES and p > 0:
                sums[oid][c] += p
    return {oid: min(s, key=lambda c: (-s[c], c)) for oid, s in sums.items()}


def host_redshift(oid: int) -> float:
    zspec, zphot = query("SELECT hostgal_zspec, hostgal_zphot FROM elasticc2_ppdbdiaobject "
                         "WHERE diaobject_id = %s", [oid])[0]
    for z in (zspec, zphot):
        if z is not None and not math.isnan(z) and z >= 0:
            return z
    return -99


def spectrum_cycle(post, now: float, username: str) -> None:
    """The whole spectrum cycle; ``post(page, body)`` returns ``(status, json)``."""
    def ok(page, body):
        status, out = post(page, body)
        assert status == 200, out
        assert out["status"] == "ok"
        return out

    # -- hot transients of the last 120 days (the test data has few objects), against SQL over the PPDB
    since = now - 120
    hot = ok("gethottransients", {"detected_since_mjd": since, "mjd_now": now})["diaobject"]
    ids = [o["objectid"] for o in hot]
    assert ids == sent_detected(since, now) and len(ids) >= 25
    forced = forced_up_to_latest_sent(ids)
    codes = consensus(ids, now)
    for o in hot:
        assert set(o) == {"objectid", "ra", "dec", "zp", "redshift", "sncode", "photometry"}
        assert o["zp"] == 31.4
        rows = forced[o["objectid"]]
        assert o["photometry"]["mjd"] == [r[0] for r in rows]
        assert o["photometry"]["band"] == [r[1] for r in rows]
        assert o["photometry"]["flux"] == [r[2] for r in rows]
        assert o["sncode"] == codes[o["objectid"]] and o["redshift"] == host_redshift(o["objectid"])
    for days in (1, 10, 30):
        window = ok("gethottransients", {"mjd_now": now, "detected_in_last_days": days})["diaobject"]
        assert [o["objectid"] for o in window] == sent_detected(now - days, now)
    assert [o["objectid"] for o in ok("gethottransients", {"mjd_now": now})["diaobject"]] == sent_detected(
        now - 30, now)  # the default window: 30 days
    # -- a question about the past: detections, photometry and classes only up to that mjd_now
    past = now - 20
    earlier = ok("gethottransients", {"detected_since_mjd": since, "mjd_now": past})["diaobject"]
    assert [o["objectid"] for o in earlier] == sent_detected(since, past)
    assert sum(len(forced[o["objectid"]]) - len(o["photometry"]["mjd"]) for o in earlier) > 0  # some cut
    past_codes = consensus([o["objectid"] for o in earlier], past)
    for o in earlier:
        rows = [r for r in forced[o["objectid"]] if r[0] <= past]
        got = o["photometry"]
        assert (got["mjd"], got["band"], got["flux"]) == tuple([r[i] for r in rows] for i in range(3))
        assert o["sncode"] == past_codes[o["objectid"]]

    # -- ask for 25 spectra; asking again replaces priorities and keeps the count
    picked = ids[:25]
    prios = {oid: i % 5 + 1 for i, oid in enumerate(picked)}
    assert ok("askforspectrum", {"requester": "RESSPECT", "objectids": picked,
                                 "priorities": list(prios.values())})["num"] == 25
    prios.update({oid: 6 - prios[oid] for oid in picked[:10]})  # 3 of these 10 keep their priority (3)
    changed = sum(1 for i in range(10) if i % 5 + 1 != 3)
    assert ok("askforspectrum", {"requester": "RESSPECT", "objectids": picked,
                                 "priorities": list(prios.values())})["num"] == changed
    assert one("SELECT count(*) FROM elasticc2_wantedspectra") == 25
    assert query("SELECT DISTINCT u.username FROM elasticc2_wantedspectra w "
                 "JOIN auth_user u ON u.id = w.user_id") == [(username,)]

    # -- spectrawanted: priority order, latest S/N > 3 point per band against SQL
    body = {"detected_since_mjd": since, "mjd_now": now}
    wanted = ok("spectrawanted", body)["wantedspectra"]
    detected = set(sent_detected(since, now, strict=True))
    latest = {}
    for oid in picked:
        for mjd, band, flux, fluxerr in forced[oid]:
            if flux > 0 and flux > 3 * fluxerr:
                latest.setdefault(oid, {})[band] = (mjd, -2.5 * math.log10(flux) + 31.4)
    expect = sorted((oid for oid in picked if oid in detected and oid in latest),
                    key=lambda o: (-prios[o], o))
    assert [w["oid"] for w in wanted] == expect and len(expect) >= 20
    for w in wanted:
        assert (w["req"], w["prio"]) == ("RESSPECT", prios[w["oid"]])
        assert set(w["latest"]) == set(latest[w["oid"]])
        for band, (mjd, mag) in latest[w["oid"]].items():
            assert w["latest"][band]["mjd"] == mjd
            assert w["latest"][band]["mag"] == pytest.approx(mag, abs=1e-5)

    # -- plans: a plan hides the object for not_claimed_in_last_days; re-planning replaces; a second
    #    facility adds; remove answers n_deleted
    x = expect[0]
    ok("planspectrum", {"objectid": x, "facility": "Keck", "plantime": "2026-05-01", "comment": "a"})
    assert [w["oid"] for w in ok("spectrawanted", body)["wantedspectra"]] == expect[1:]
    unclaimed = ok("spectrawanted", {**body, "not_claimed_in_last_days": 0})["wantedspectra"]
    assert [w["oid"] for w in unclaimed] == expect
    assert ok("planspectrum", {"objectid": x, "facility": "Keck", "comment": "b"})["comment"] == "b"
    ok("planspectrum", {"objectid": x, "facility": "SOAR"})
    assert query("SELECT facility, comment FROM elasticc2_plannedspectra ORDER BY 1") == [("Keck", "b"),
                                                                                          ("SOAR", "")]
    assert ok("removespectrumplan", {"objectid": x, "facility": "SOAR"})["n_deleted"] == 1
    ok("planspectrum", {"objectid": expect[1], "facility": "SOAR"})

    # -- reporting removes the facility's plan and every request for the object
    ok("askforspectrum", {"requester": "Other", "objectids": [x], "priorities": [1]})
    mjd_x, mjd_y = now - 0.123456789, now - 2.000001
    ok("reportspectruminfo", {"objectid": x, "facility": "Keck", "mjd": mjd_x, "z": 0.0625, "classid": 2232})
    y = expect[1]
    ok("reportspectruminfo", {"objectid": y, "facility": "SOAR", "mjd": mjd_y, "z": None, "classid": 300})
    assert one("SELECT count(*) FROM elasticc2_plannedspectra") == 0
    assert one("SELECT count(*) FROM elasticc2_wantedspectra WHERE diaobject_id IN (%s, %s)", [x, y]) == 0
    assert one("SELECT count(*) FROM elasticc2_wantedspectra") == 23
    assert [w["oid"] for w in ok("spectrawanted", body)["wantedspectra"]] == expect[2:]
    # asked again, y stays out while its spectrum is recent
    ok("askforspectrum", {"requester": "RESSPECT", "objectids": [y], "priorities": [5]})
    assert y not in [w["oid"] for w in ok("spectrawanted", body)["wantedspectra"]]
    anyway = ok("spectrawanted", {**body, "no_spectra_in_last_days": 0})["wantedspectra"]
    assert y in [w["oid"] for w in anyway]
    hot_now = {o["objectid"]: o for o in ok("gethottransients", body)["diaobject"]}
    assert (hot_now[x]["redshift"], hot_now[x]["sncode"]) == (0.0625, 2232)  # the spectrum wins
    assert (hot_now[y]["redshift"], hot_now[y]["sncode"]) == (host_redshift(y), codes[y])  # 300, null z

    # -- getknownspectruminfo with each filter
    def known(**filters):
        return [(s["objectid"], s["facility"], s["mjd"], s["z"], s["classid"])
                for s in ok("getknownspectruminfo", filters)["spectra"]]

    sx, sy = (x, "Keck", mjd_x, 0.0625, 2232), (y, "SOAR", mjd_y, None, 300)
    assert known() == [sy, sx]
    assert known(objectid=x) == [sx] and known(objectid=[x, y]) == [sy, sx]
    assert known(facility="SOAR") == [sy]
    assert known(mjd_min=mjd_x) == [sx] and known(mjd_max=mjd_x - 1e-6) == [sy]
    assert known(classid=300) == [sy] and known(z_min=0.06, z_max=0.07) == [sx] and known(z_max=0.06) == []
    assert known(since="2000-01-01T00:00:00") == [sy, sx] and known(since="2999-12-31") == []
    users = {s["user"] for s in ok("getknownspectruminfo", {"include_user": True})["spectra"]}
    assert users == {username}


def test_spectrum_cycle(cycled, client):
    client.force_login(make_user("srs"))

    def post(page, body):
        res = post_json(client, f"/elasticc2/{page}", body)
        return res.status_code, res.json()

    spectrum_cycle(post, cycled, "srs")


def test_spectrum_cycle_as_the_original_tom_client(cycled, live_server):
    make_user("observer")
    session = requests.Session()
    login = f"{live_server.url}/accounts/login/"
    assert session.get(login, timeout=30).status_code == 200
    res = session.post(login, data={"username": "observer", "password": PASSWORD,
                                    "csrfmiddlewaretoken": session.cookies["csrftoken"]}, timeout=30)
    assert res.status_code == 200 and "Please enter a correct" not in res.text
    session.headers["X-CSRFToken"] = session.cookies["csrftoken"]

    def post(page, body):
        res = session.post(f"{live_server.url}/elasticc2/{page}", json=body, timeout=60)
        assert res.history == [] and res.headers["Content-Type"].startswith("application/json")
        return res.status_code, res.json()

    spectrum_cycle(post, cycled, "observer")
    status, out = post("planspectrum", {"objectid": 1, "facility": "Keck"})
    assert (status, out) == (400, {"error": "Unknown objectid 1"})
