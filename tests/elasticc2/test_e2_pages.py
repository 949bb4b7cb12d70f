"""The ELAsTiCC2 pages in a real Chromium, over a server loaded by the real alert cycle.

Each page loads with no console error, no failed request and nothing leaving 127.0.0.1; plots
have data; the numbers shown equal independent SQL. Screenshots go to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User
from test_e2_alert_cycle import Cycle, one, ppdb, query  # noqa: F401 - ppdb is a fixture
from tom_targets.models import Target

from desctom.elasticc2.models import DiaObjectOfTarget, PlannedSpectra

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct horse battery staple"
LOCAL = {"127.0.0.1", "localhost"}
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
METRICS = ["/metrics/", "/metrics/alertstream/", "/metrics/delays/", "/metrics/completeness/",
           "/metrics/confusion/", "/metrics/probvstime/"]
HREFS = "links => links.map(a => a.getAttribute('href'))"


@pytest.fixture
def cycle_data(ppdb, kafka_server):  # noqa: F811 - the imported fixture
    """One send / classify / poll / update round through 40 days of the test data."""
    cycle = Cycle(kafka_server)
    first = one("SELECT min(s.midpointtai) FROM elasticc2_ppdbalert a "
                "JOIN elasticc2_ppdbdiasource s ON s.diasource_id = a.diasource_id")
    cycle.send("-d", str(first + 40))
    cycle.classify_poll_update()
    assert one("SELECT count(*) FROM elasticc2_diaobject") > 0
    return cycle


class Browser:
    """A logged-in Playwright page that records errors, failed requests and hosts."""

    def __init__(self, browser, base: str, username: str):
        self.base = base
        self.page = page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.errors, self.failed, self.hosts = [], [], set()
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        # A request the browser aborts itself (the favicon when the next page is opened) is no failure.
        page.on("requestfailed", lambda r: None if "ERR_ABORTED" in str(r.failure) and r.url.endswith(".ico")
                else self.failed.append(r.url))
        page.on("response", lambda r: r.status >= 400 and self.failed.append(f"{r.status} {r.url}"))
        page.on("request", lambda r: self.hosts.add(urlsplit(r.url).hostname))
        page.goto(f"{base}/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_url(f"{base}/")

    def visit(self, path: str, shot: str | None = None):
        self.page.goto(self.base + path)
        return self.settle(shot)

    def settle(self, shot: str | None = None):
        self.page.wait_for_load_state("networkidle")
        if shot:
            SHOTS.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(SHOTS / f"{shot}.png"), full_page=True)
        assert self.failed == [], self.failed
        assert self.errors == [], self.errors
        assert self.hosts <= LOCAL, self.hosts
        return self.page


def n(text: str) -> int:
    return int(text.replace(",", "").replace("≈", "").strip())


def busiest_object() -> int:
    return one("SELECT diaobject_id FROM elasticc2_diaforcedsource "
               "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")


def plotted_points(page, kind: str) -> int:
    return page.evaluate("""kind => document.getElementById('ltcv-plot').data
        .filter(t => t.meta.kind === kind).reduce((s, t) => s + t.x.length, 0)""", kind)


def test_pages_over_alert_cycle(cycle_data, live_server, browser, client):
    User.objects.create_superuser("root", "", PASSWORD)
    b = Browser(browser, live_server.url, "root")

    page = b.visit("/", "home")
    assert n(page.inner_text("#home-e2-objects")) == one("SELECT count(*) FROM elasticc2_diaobject")
    nav = page.inner_text("#desctom-navbar")
    for label in ("ELAsTiCC2", "ELAsTiCC", "Targets", "Follow-up", "SQL", "API docs", "root", "Logout"):
        assert label in nav
    hrefs = page.eval_on_selector_all("#desctom-navbar a", HREFS)
    assert set(METRICS) <= set(hrefs)
    assert {"/elasticc2/", "/elasticc/", "/elasticc2/followup/", "/db/schema/", "/api/docs/"} <= set(hrefs)

    page = b.visit("/elasticc2/", "elasticc2_front")
    for sel, sql in [("#count-objects", "elasticc2_diaobject"), ("#count-sources", "elasticc2_diasource"),
                     ("#count-forced", "elasticc2_diaforcedsource"),
                     ("#count-messages", "elasticc2_brokermessage"),
                     ("#count-classifiers", "elasticc2_brokerclassifier")]:
        assert n(page.inner_text(sel)) == one(f"SELECT count(*) FROM {sql}"), sel  # noqa: S608
    sent = one("SELECT count(*) FROM elasticc2_ppdbalert WHERE alertsenttimestamp IS NOT NULL")
    unsent = one("SELECT count(*) FROM elasticc2_ppdbalert WHERE alertsenttimestamp IS NULL")
    assert page.inner_text("#count-alerts").replace(",", "") == f"{sent} / {unsent}"
    clock = one("SELECT max(s.midpointtai) FROM elasticc2_ppdbalert a JOIN elasticc2_ppdbdiasource s "
                "ON s.diasource_id = a.diasource_id WHERE a.alertsenttimestamp IS NOT NULL")
    assert f"MJD {clock:.4f}" in page.inner_text("#e2-clock")
    assert str(sent) in page.inner_text("#e2-sender").replace(",", "")
    assert page.locator("#e2-pollers tbody tr").count() >= 1
    assert "FakeBroker" in page.inner_text("#e2-lasthour")
    assert set(METRICS) <= set(page.eval_on_selector_all("main a", HREFS))

    page = b.visit("/elasticc2/classifiers", "classifiers")
    for name, count in query("SELECT c.classifiername, count(*) FROM elasticc2_brokermessage m "
                             "JOIN elasticc2_brokerclassifier c USING (classifier_id) GROUP BY 1"):
        row = page.locator("#e2-classifiers tbody tr", has_text=name)
        assert n(row.locator("td").nth(5).inner_text()) == count

    page = b.visit("/elasticc2/adminsummary", "adminsummary")
    assert page.locator("#e2-admin-types tbody tr").count() == one(
        "SELECT count(DISTINCT t.gentype) FROM elasticc2_diaobject o "
        "JOIN elasticc2_diaobjecttruth t USING (diaobject_id)")

    objectid = busiest_object()
    ra, dec = query("SELECT ra, decl FROM elasticc2_diaobject WHERE diaobject_id = %s", [objectid])[0]
    page = b.visit(f"/elasticc2/objects/?ra={ra}&dec={dec}&radius=5", "objects_cone")
    assert str(objectid) in page.inner_text("#cone-results")
    page.fill("#objectid", str(objectid))
    page.click("#object-id-form button")
    page.wait_for_url(f"{live_server.url}/elasticc2/object/{objectid}/")

    page = b.settle("object")
    n_forced = one("SELECT count(*) FROM elasticc2_diaforcedsource WHERE diaobject_id = %s", [objectid])
    n_det = one("SELECT count(*) FROM elasticc2_diasource WHERE diaobject_id = %s", [objectid])
    assert plotted_points(page, "forced") == n_forced == n(page.inner_text("#n-forced"))
    assert plotted_points(page, "detections") == n_det == n(page.inner_text("#n-detections"))
    assert page.evaluate("document.querySelectorAll('#ltcv-plot .scatterlayer .point').length") > 0
    assert page.evaluate("document.getElementById('prob-plot').data.length") >= 1
    n_messages = one("SELECT count(*) FROM elasticc2_brokermessage m JOIN elasticc2_ppdbdiasource s "
                     "USING (diasource_id) WHERE s.diaobject_id = %s", [objectid])
    assert sum(n(t) for t in page.locator("#classifier-latest tbody tr td:nth-child(2)").all_inner_texts()) \
        == n_messages
    gentype = one("SELECT gentype FROM elasticc2_diaobjecttruth WHERE diaobject_id = %s", [objectid])
    assert f"gentype {gentype}" in page.inner_text("#truth")
    page.click("label[for=units-mag]")
    yaxis = page.evaluate("(({title, range}) => ({title: title.text, range}))"
                          "(document.getElementById('ltcv-plot').layout.yaxis)")
    assert yaxis["title"] == "AB magnitude" and yaxis["range"][0] > yaxis["range"][1]  # bright at the top
    b.settle("object_magnitudes")

    page.click("#create-target")
    page.wait_for_url(f"{live_server.url}/targets/**")
    b.settle("target")  # the TOM Toolkit's target page, with nothing from outside (docs/ui.md)
    target = Target.objects.get(name=f"ELAsTiCC2 {objectid}")
    assert DiaObjectOfTarget.objects.filter(diaobject_id=objectid, tomtarget=target).count() == 1
    assert (target.ra, target.dec) == (ra, dec)
    page.click(f"a.btn[href='/elasticc2/object/{objectid}/']")  # the button the app adds to the target page
    page.wait_for_url(f"{live_server.url}/elasticc2/object/{objectid}/")
    assert b.settle().locator("#target-link").get_attribute("href") == f"/targets/{target.pk}/"

    # the follow-up board: a request made through the API, planned and un-planned from the page
    client.force_login(User.objects.get(username="root"))

    def api(path, body):
        return client.post(f"/elasticc2/{path}", json.dumps(body), content_type="application/json").json()

    def wanted():
        answer = api("spectrawanted", {"mjd_now": clock, "detected_in_last_days": 100})
        return [o["oid"] for o in answer["wantedspectra"]]

    ask = {"requester": "RESSPECT", "objectids": [objectid], "priorities": [5]}
    assert api("askforspectrum", ask)["num"] == 1
    assert wanted() == [objectid]
    page = b.visit("/elasticc2/followup/?days=30", "followup")
    assert page.locator("#hot-table tbody tr[data-objectid]").count() == min(25, one(
        "SELECT count(DISTINCT diaobject_id) FROM elasticc2_diasource WHERE midpointtai >= %s", [clock - 30]))
    row = page.locator(f"#wanted-table tr[data-objectid='{objectid}']")
    row.locator(".show-plan").click()
    row.locator("input[name=facility]").fill("Keck")
    row.locator("input[name=plantime]").fill("2026-12-01 05:30")
    row.locator("input[name=comment]").fill("from the board")
    with page.expect_navigation():
        row.locator("form button").click()
    page = b.settle("followup_planned")
    plan = PlannedSpectra.objects.get(diaobject_id=objectid)
    assert (plan.facility, plan.comment, plan.user.username) == ("Keck", "from the board", "root")
    assert plan.plantime.isoformat() == "2026-12-01T05:30:00+00:00"
    assert wanted() == []  # the API now sees it claimed
    assert "Keck" in page.inner_text("#planned-table")
    with page.expect_navigation():
        page.locator(f"#planned-table tr[data-objectid='{objectid}'] .unplan").click()
    b.settle()
    assert not PlannedSpectra.objects.filter(diaobject_id=objectid).exists()
    assert wanted() == [objectid]
    b.page.close()


def test_non_admin_sees_no_truth(cycle_data, live_server, browser):
    User.objects.create_user("viewer", password=PASSWORD)
    b = Browser(browser, live_server.url, "viewer")
    objectid = busiest_object()
    page = b.visit(f"/elasticc2/object/{objectid}/", "object_non_admin")
    assert page.locator("#truth").count() == 0
    assert "gentype" not in page.content()
    assert "Admin summary" not in page.inner_text("#desctom-navbar")
    # a 403 HTML page becomes the login page with a message (desctom.web.middleware)
    response = page.goto(f"{live_server.url}/elasticc2/adminsummary")
    assert response.request.redirected_from.url.endswith("/elasticc2/adminsummary")
    assert page.url.startswith(f"{live_server.url}/accounts/login/")
    assert "do not have permission" in page.inner_text("main")
    assert "Known objects per true class" not in page.content()
    b.page.close()
