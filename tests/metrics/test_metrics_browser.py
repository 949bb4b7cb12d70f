"""Metric pages in Chromium over a server loaded by the real alert cycle (SNANA -> Kafka -> fake broker
-> poller -> known tables -> update_metrics): every page loads cleanly and draws plots with data."""

from __future__ import annotations

import uuid
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection

from desctom.testing.paths import REPO_ROOT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "metrics browser password"
SHOTS = REPO_ROOT / "test-results" / "metrics"
LOCAL = {"127.0.0.1", "localhost"}


def scalar(sql):
    with connection.cursor() as cur:
        cur.execute(sql)
        return cur.fetchone()[0]


@pytest.fixture
def alert_cycle(snana_dirs, kafka_server):
    """Load the PPDB, send 40 days of alerts, classify, poll, copy, compute the metrics."""
    call_command("load_snana_fits", "-d", *map(str, snana_dirs), "--ppdb", "--do", stdout=StringIO())
    tag = uuid.uuid4().hex[:8]
    wfd, full, limited, cls = f"wfd-{tag}", f"ddf-full-{tag}", f"ddf-limited-{tag}", f"cls-{tag}"
    first = scalar("SELECT min(midpointtai) FROM elasticc2_ppdbdiasource")
    call_command("send_elasticc2_alerts", "-d", str(first + 40), "--do", "-k", kafka_server.bootstrap,
                 "--wfd-topic", wfd, "--ddf-full-topic", full, "--ddf-limited-topic", limited,
                 stdout=StringIO())
    call_command("fakebroker", "--source", kafka_server.bootstrap, "--dest", kafka_server.bootstrap,
                 "--alert-topics", wfd, full, "--dest-topic", cls, "--group", f"fb-{tag}", "--seed", "7",
                 "--idle-exit", "3", stdout=StringIO())
    call_command("brokerpoll2", "--do-test", "--test-topic", cls, "--test-server", kafka_server.bootstrap,
                 "--idle-exit", "3", "--batch-timeout", "0.5", stdout=StringIO())
    call_command("update_elasticc2_sources", stdout=StringIO())
    call_command("update_metrics", stdout=StringIO())
    assert scalar("SELECT count(*) FROM elasticc2_brokermessage") > 0


@pytest.fixture
def page(live_server, browser, alert_cycle):
    User.objects.create_user("metricsuser", password=PASSWORD)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.problems = []
    page.hosts = set()
    page.on("request", lambda req: page.hosts.add(urlsplit(req.url).hostname))
    page.on("pageerror", lambda exc: page.problems.append(f"page error: {exc}"))
    page.on("console", lambda msg: msg.type == "error" and page.problems.append(f"console: {msg.text}"))
    # A request the browser aborts itself (the favicon when the next page is opened) is no failure.
    page.on("requestfailed", lambda req: None
            if "ERR_ABORTED" in str(req.failure) and req.url.endswith(".ico")
            else page.problems.append(f"failed: {req.url} {req.failure}"))
    page.on("response", lambda res: res.status >= 400 and page.problems.append(f"{res.status}: {res.url}"))
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "metricsuser")
    page.fill("#id_password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(f"{live_server.url}/")
    yield page
    page.close()


#: page -> the number of plots it must draw
PAGES = {"alertstream": 2, "delays": 3, "completeness": 1, "confusion": 1, "probvstime": 1}

DRAWN = """() => Array.from(document.querySelectorAll('.metrics-plot')).map(div => ({
    traces: (div._fullData || []).length,
    points: (div.data || []).reduce((n, t) => n + (t.z ? t.z.flat().filter(v => v).length
                                                : (t.y || []).filter(v => v !== null && v !== 0).length), 0),
    drawn: div.querySelectorAll('.main-svg g.trace, .main-svg g.hm, .main-svg image').length}))"""


def test_every_metric_page_loads_and_draws_data(live_server, page):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{live_server.url}/metrics/")
    page.wait_for_load_state("networkidle")
    assert page.locator("#metrics-families td.computed").count() == 5
    assert "not yet" not in page.inner_text("#metrics-families")
    page.screenshot(path=str(SHOTS / "index.png"), full_page=True)
    for name, nplots in PAGES.items():
        page.click(f"#metrics-families tr[data-family='{name}'] a")
        page.wait_for_url(f"{live_server.url}/metrics/{name}/")
        page.wait_for_load_state("networkidle")
        assert "Computed " in page.inner_text("#metrics-computed")
        plots = page.evaluate(DRAWN)
        assert len(plots) == nplots, name
        for plot in plots:
            assert plot["traces"] >= 1 and plot["points"] >= 1 and plot["drawn"] >= 1, (name, plot)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
        page.go_back()
        page.wait_for_load_state("networkidle")
    # the choice forms: the other normalisation, a broker's weekly histograms
    page.goto(f"{live_server.url}/metrics/confusion/")
    page.select_option("#norm", "pred")
    page.wait_for_url("**norm=pred**")
    page.wait_for_load_state("networkidle")
    assert "columns sum to 100%" in page.evaluate(
        "() => document.querySelector('.metrics-plot').layout.title.text")
    page.screenshot(path=str(SHOTS / "confusion-pred.png"), full_page=True)
    page.goto(f"{live_server.url}/metrics/delays/")
    page.select_option("#week", index=1)
    page.wait_for_url("**week=**")
    page.wait_for_load_state("networkidle")
    assert "week of" in page.evaluate("() => document.querySelector('.metrics-plot').layout.title.text")
    assert page.problems == [] and page.hosts <= LOCAL
