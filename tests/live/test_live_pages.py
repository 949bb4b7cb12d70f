"""The live survey's pages over real HTTP, with rows written straight into the live tables: ``/live/``
(counts, brokers, the last night, classifiers and schema versions) and ``/live/object/<rootid>/``
(position, survey ids, light curve, classifications), their 404s and their permission rule; then the
object page in a real Chromium, its plots drawn with nothing loaded from outside."""

from __future__ import annotations

import html
import json
import re
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from django.contrib.auth.models import User

from desctom.testing.liverows import make_object

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "live pages test password"
LOCAL = {"127.0.0.1", "localhost"}
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def session(base: str, username: str | None = "watcher") -> requests.Session:
    """A requests session, logged in through the login form (anonymous when ``username`` is None)."""
    s = requests.Session()
    s.get(f"{base}/accounts/login/", timeout=30)
    if username is not None:
        User.objects.create_user(username, "", PASSWORD)
        res = s.post(f"{base}/accounts/login/", allow_redirects=False, timeout=30,
                     data={"username": username, "password": PASSWORD,
                           "csrfmiddlewaretoken": s.cookies["csrftoken"]})
        assert res.status_code == 302, res.text[:300]
    s.headers.update({"X-CSRFToken": s.cookies["csrftoken"], "Referer": base + "/"})
    return s


def cell(page: str, element_id: str) -> str:
    """The text of the element with ``id`` (tags stripped)."""
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</(td|span|strong|p|small)>', page, re.S)
    assert found, f"no element {element_id}"
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()


def table_rows(page: str, table_id: str) -> list[list[str]]:
    """The body rows of a table, each a list of cell texts."""
    body = re.search(rf'<table[^>]*id="{table_id}".*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    def text(c):
        return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", c))).replace(" ;", ";").strip()

    return [[text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def json_script(page: str, element_id: str):
    return json.loads(html.unescape(re.search(
        rf'<script id="{element_id}" type="application/json">(.*?)</script>', page, re.S).group(1)))


@pytest.fixture
def live(live_server):
    return live_server.url


def test_live_page_counts_brokers_and_last_night(live):
    made = make_object()
    page = session(live).get(f"{live}/live/", timeout=30)
    assert page.status_code == 200
    text = page.text
    assert {k: cell(text, f"count-{k}") for k in ("roots", "objects", "sources", "forced", "messages",
                                                    "classifiers")} == {
        "roots": "1", "objects": "2", "sources": str(made["nsources"]), "forced": str(made["nforced"]),
        "messages": str(made["nmessages"]), "classifiers": "3"}
    # the last night: MJD floor of the latest detection; its two sources, linked to the object
    assert cell(text, "last-night-sources") == "2"
    assert f"Night MJD <strong>{made['night']}</strong>" in text
    night = table_rows(text, "last-night-list")
    assert [r[1] for r in night] == ["r", "g"] and night[0][4] == str(made["last_source"])
    assert text.count(f'href="/live/object/{made["rootid"]}/"') == 2
    # brokers: each message stream, last hour / last 24 h / total (the latest night's 2 sources are
    # 24-30 minutes old, the night before more than 24 h)
    brokers = {r[0]: r[1:4] for r in table_rows(text, "live-brokers")}
    assert brokers == {"ALeRCE": ["2", "2", "8"], "FINK": ["4", "4", "16"], "lsst": ["2", "2", "8"]}
    classifiers = {(r[0], r[1], r[2]): r[3] for r in table_rows(text, "live-classifiers")}
    assert classifiers == {("ALeRCE", "lc_classifier", "v3"): "8", ("FINK", "early_sn", "2.1"): "8",
                           ("FINK", "snn", "v1.0"): "8"}
    schemas = {(r[0], r[1]): r[2] for r in table_rows(text, "live-schemas")}
    assert schemas == {("ALeRCE", "lsst.v9_0"): "8", ("FINK", "lsst.v9_0"): "8", ("FINK", "fink.v2"): "8",
                       ("lsst", "lsst.v9_0"): "8"}
    # the menu and the campaign's front page lead here
    assert 'id="nav-live" href="/live/"' in text
    assert 'href="/live/"' in session(live, "other").get(f"{live}/elasticc2/", timeout=30).text


def test_live_page_before_any_row(live):
    text = session(live).get(f"{live}/live/", timeout=30).text
    assert cell(text, "count-roots") == "0" and cell(text, "count-messages") == "0"
    assert "No source stored yet." in text and "No message read yet." in text


def test_big_tables_are_estimated_and_recent_counts_capped(live, monkeypatch):
    """Above the exact-count bound the totals are planner estimates (≈); recent counts stop at the cap."""
    from desctom.core import counting
    from desctom.live.queries import overview

    make_object()
    monkeypatch.setattr(counting, "EXACT_LIMIT", 0)
    monkeypatch.setattr(overview, "RECENT_CAP", 1)
    text = session(live).get(f"{live}/live/", timeout=30).text
    assert all(cell(text, f"count-{k}").startswith("≈") for k in ("roots", "sources", "forced", "messages"))
    assert "(≈: planner estimate)" in text
    brokers = {r[0]: r for r in table_rows(text, "live-brokers")}
    assert brokers["FINK"][1:3] == ["more than 1", "more than 1"] and brokers["FINK"][3].startswith("≈")
    assert cell(text, "last-night-sources") == "more than 1"


def test_object_page(live):
    made = make_object()
    res = session(live).get(f"{live}/live/object/{made['rootid']}/", timeout=30)
    assert res.status_code == 200
    text = res.text
    assert cell(text, "position") == "150.125000, -30.500000"
    assert cell(text, "detection-span") == "61000.1000 / 61003.1000"
    assert cell(text, "n-detections") == "8" and cell(text, "n-forced") == "8"
    assert [r[0] for r in table_rows(text, "survey-objects")] == [str(i) for i in made["diaobjectids"]]
    ltcv = json_script(text, "ltcv-data")
    assert list(ltcv["detections"]) == ["g", "r"] and list(ltcv["forced"]) == ["g", "r"]
    assert ltcv["detections"]["g"]["flux"] == [1000.0, 2000.0, 3000.0, 4000.0]
    assert ltcv["detections"]["r"]["fluxerr"] == [50.0] * 4
    assert ltcv["forced"]["g"]["mjd"] == pytest.approx([60999.6, 61000.6, 61001.6, 61002.6])
    # classifications: the latest message of each classifier, named by the ELAsTiCC2 taxonomy
    latest = {(r[0], r[1], r[2]): (r[3], r[5]) for r in table_rows(text, "classifier-latest")}
    assert latest == {("ALeRCE", "lc_classifier", "v3"): ("8", "2232 KN 0.700; 2224 II 0.200; 2222 Ia 0.100"),
                      ("FINK", "early_sn", "2.1"): ("8", "2222 Ia 0.500; 2224 II 0.250; 2232 KN 0.250"),
                      ("FINK", "snn", "v1.0"): ("8", "2222 Ia 0.800; 2224 II 0.100; 2232 KN 0.100")}
    plots = json_script(text, "prob-data")
    assert [p["label"] for p in plots] == ["ALeRCE lc_classifier v3", "FINK early_sn 2.1", "FINK snn v1.0"]
    snn = {t["name"]: t for t in plots[2]["traces"]}
    assert list(snn) == ["2222 Ia", "2224 II", "2232 KN"]
    assert snn["2222 Ia"]["prob"] == pytest.approx([0.2, 0.2, 0.4, 0.4, 0.6, 0.6, 0.8, 0.8])
    assert snn["2222 Ia"]["mjd"] == pytest.approx([61000.1, 61000.11, 61001.1, 61001.11, 61002.1, 61002.11,
                                                   61003.1, 61003.11])
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", snn["2222 Ia"]["received"][0])
    assert f'id="prob-plot-{len(plots) - 1}"' in text and "plotly/plotly.min.js" in text


def test_object_page_without_classifications(live):
    from desctom.live.models import BrokerInfo

    made = make_object(nights=1)
    BrokerInfo.objects.all().delete()
    text = session(live).get(f"{live}/live/object/{made['rootid']}/", timeout=30).text
    assert "No broker has classified this object yet." in text and json_script(text, "prob-data") == []


def test_survey_ids_and_other_spellings_lead_to_the_object(live):
    made = make_object()
    s = session(live)
    url = f"/live/object/{made['rootid']}/"
    for other in (made["diaobjectids"][1], made["rootid"].upper(), made["rootid"].replace("-", "")):
        res = s.get(f"{live}/live/object/{other}/", allow_redirects=False, timeout=30)
        assert res.status_code == 302 and res.headers["Location"] == url, other
    for query in (made["rootid"], made["diaobjectids"][0]):
        res = s.get(f"{live}/live/", params={"object": query}, allow_redirects=False, timeout=30)
        assert res.status_code == 302 and urlsplit(res.headers["Location"]).path.startswith("/live/object/")
    res = s.get(f"{live}/live/", params={"object": "SN 2026abc"}, timeout=30)
    assert res.status_code == 200 and "Not a root object id (UUID) or a diaObjectId: &#x27;SN 2026abc&#x27;" \
        in res.text


@pytest.mark.parametrize("rootid, message", [
    ("{unknown}", "No live root object {unknown}"),
    ("not-a-uuid", "Not a root object id (a UUID): 'not-a-uuid'"),
    ("12345", "No live survey object with diaObjectId 12345"),
    ("99999999999999999999999", "No live survey object with diaObjectId 99999999999999999999999"),
    ("%00x", "Not a root object id (a UUID): '\\x00x'"),
])
def test_unknown_or_malformed_ids_are_404s_naming_them(live, rootid, message):
    make_object()
    unknown = str(uuid.uuid4())
    rootid, message = rootid.format(unknown=unknown), message.format(unknown=unknown)
    s = session(live)
    page = s.get(f"{live}/live/object/{rootid}/", timeout=30, headers={"Accept": "text/html"})
    assert page.status_code == 404 and page.headers["Content-Type"].startswith("text/html")
    assert html.escape(message, quote=True) in page.text and 'id="live-not-found"' in page.text
    program = s.get(f"{live}/live/object/{rootid}/", timeout=30, headers={"Accept": "application/json"})
    assert program.status_code == 404 and program.json()["error"] == message


def test_pages_need_a_login_and_are_read_only(live):
    """As the ELAsTiCC2 pages: anonymous callers go to the login page; any logged-in user reads; GET only."""
    made = make_object()
    anonymous, user = session(live, None), session(live)
    for path in ("/live/", f"/live/object/{made['rootid']}/", "/live/object/not-a-uuid/"):
        res = anonymous.get(live + path, allow_redirects=False, timeout=30)
        assert res.status_code == 302 and urlsplit(res.headers["Location"]).path == "/accounts/login/", path
        assert "next=" in res.headers["Location"]
        assert user.post(live + path, data={}, timeout=30).status_code == 405
    assert user.get(f"{live}/live/object/{made['rootid']}/", timeout=30).status_code == 200
    assert 'id="nav-live"' not in anonymous.get(f"{live}/", timeout=30).text
    assert 'id="home-live"' in user.get(f"{live}/", timeout=30).text


@pytest.mark.browser
def test_object_page_plots_in_a_browser_offline(live, browser):
    """The light curve and one probability plot per classifier are drawn by the local plotly.js; the
    x-axis toggle redraws them by source MJD; no request leaves this server, no script error."""
    made = make_object()
    User.objects.create_user("viewer", "", PASSWORD)
    context = browser.new_context()
    page = context.new_page()
    hosts, errors, failed = set(), [], []
    page.on("request", lambda r: hosts.add(urlsplit(r.url).hostname))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("response", lambda r: r.status >= 400 and failed.append(f"{r.status} {r.url}"))
    context.route(re.compile(r"^https?://(?!(127\.0\.0\.1|localhost)[:/])"), lambda route: route.abort())
    page.goto(f"{live}/accounts/login/")
    page.fill("#id_username", "viewer")
    page.fill("#id_password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(f"{live}/")
    page.click("#nav-live")
    page.wait_for_url(f"{live}/live/")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "live.png"), full_page=True)
    page.click(f'#last-night-list a[href="/live/object/{made["rootid"]}/"] >> nth=0')
    page.wait_for_url(f"{live}/live/object/{made['rootid']}/")
    page.wait_for_load_state("networkidle")
    ltcv = page.evaluate("() => document.getElementById('ltcv-plot').data.map(t => [t.name, t.x.length])")
    assert sorted(ltcv) == [["g detection", 4], ["g forced", 4], ["r detection", 4], ["r forced", 4]]
    assert page.evaluate("() => document.querySelector('#ltcv-plot .main-svg') !== null")
    plots = page.evaluate("""() => Array.from(document.querySelectorAll('.live-prob-plot'))
                             .map(d => d.data.map(t => t.name))""")
    assert plots == [["2232 KN", "2224 II", "2222 Ia"], ["2222 Ia", "2224 II", "2232 KN"],
                     ["2222 Ia", "2224 II", "2232 KN"]]
    assert page.evaluate("() => document.getElementById('prob-plot-2').layout.xaxis.type") == "date"
    page.screenshot(path=str(SHOTS / "live_object.png"), full_page=True)
    page.click("label[for=x-mjd]")
    page.wait_for_function("() => document.getElementById('prob-plot-2').layout.xaxis.type !== 'date'")
    first_x = page.evaluate("() => document.getElementById('prob-plot-2').data[0].x[0]")
    assert first_x == pytest.approx(61000.1)
    assert hosts <= LOCAL and errors == [] and failed == [], (hosts, errors, failed)
    context.close()
