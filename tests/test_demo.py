"""`desctom up --demo`: a living campaign, watched through the API and in a browser; it survives a restart.

A real `up --demo --detach` (PostgreSQL, tansu, gunicorn, poller, fake broker, updater, demo
clock) with a small synthetic survey and 3-second nights; everything is checked through HTTP
with the project's client, as a user would, and the ELAsTiCC2 page in Chromium. The README's
two screenshots (docs/img/) are taken here.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from desctom.client import TomClient

NIGHT = 3


def run(env, *args, timeout=300):
    import subprocess

    from desctom.testing.cli import DESCTOM

    return subprocess.run([DESCTOM, *args], env=env, capture_output=True, text=True, timeout=timeout)


def sql(tom: TomClient, query: str) -> list[dict]:
    answer = tom.post("db/runsqlquery/", json={"query": query}).json()
    assert answer["status"] == "ok", answer
    return answer["rows"]


def one(tom: TomClient, query: str):
    [row] = sql(tom, query)
    return next(iter(row.values()))


def wait_until(condition, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(1)


def campaign(tom: TomClient) -> dict:
    return sql(tom, """
        SELECT (SELECT count(*) FROM elasticc2_alertsenderrun WHERE alerts_sent > 0) AS nights,
               (SELECT max(last_mjd) FROM elasticc2_alertsenderrun) AS clock,
               (SELECT count(*) FROM elasticc2_ppdbalert WHERE alertsenttimestamp IS NOT NULL) AS sent,
               (SELECT count(*) FROM elasticc2_brokermessage) AS messages,
               (SELECT count(DISTINCT (alert_id, classifier_id)) FROM elasticc2_brokermessage)
                   AS distinct_messages,
               (SELECT count(*) FROM elasticc2_diaobject) AS known""")[0]


def metric_rows(env) -> dict[str, int]:
    """Rows of each metric table of the running stack."""
    code = ("import json; from desctom.metrics import models as m; "
            "tables = (m.AlertsPerHour, m.DelayHistogram, m.CompletenessDay, m.ConfusionCell, m.ProbVsTime); "
            "print(json.dumps({t.__name__: t.objects.count() for t in tables}))")
    res = run(env, "shell", "-c", code)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


def metrics_page_rows(tom: TomClient) -> dict[str, int]:
    """Family -> the "Rows" column of /metrics/ (0 when not computed yet)."""
    res = tom.get("metrics/")
    assert res.status_code == 200
    row = r'<tr data-family="(\w+)">.*?<td class="computed">.*?</td>\s*<td>(\d*)</td>'
    cells = re.findall(row, res.text, re.S)
    assert len(cells) == 5, res.text
    return {family: int(rows or 0) for family, rows in cells}


def count_on(page, selector: str) -> int:
    return int(re.sub(r"[^0-9]", "", page.inner_text(selector)) or 0)


def browse_campaign(browser, web: str, password: str, tom: TomClient, docs_img: Path) -> None:
    """The ELAsTiCC2 page's counts grow between two visits a few nights apart (screenshots kept)."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{web}/accounts/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", password)
    page.click("#login-submit")
    page.wait_for_load_state("networkidle")
    page.goto(f"{web}/elasticc2/")
    first_messages, first_sent = count_on(page, "#count-messages"), count_on(page, "#count-alerts")
    clock = page.inner_text("#e2-clock")
    assert "MJD" in clock and re.search(r"\(\d{4}-\d{2}-\d{2}\)", clock)  # the simulated date
    assert "alerts sent" in page.inner_text("#e2-last-night")
    nights = campaign(tom)["nights"]
    wait_until(lambda: campaign(tom)["nights"] >= nights + 2, "two more nights", 120)
    wait_until(lambda: campaign(tom)["messages"] > first_messages, "more messages", 120)
    page.goto(f"{web}/elasticc2/")
    assert count_on(page, "#count-messages") > first_messages
    assert page.inner_text("#e2-clock") != clock
    docs_img.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(docs_img / "elasticc2.png"), full_page=False)
    objectid = one(tom, "SELECT diaobject_id FROM elasticc2_diasource GROUP BY diaobject_id "
                        "ORDER BY count(*) DESC, diaobject_id LIMIT 1")
    page.goto(f"{web}/elasticc2/object/{objectid}/")
    page.wait_for_selector(".js-plotly-plot", timeout=30_000)
    page.screenshot(path=str(docs_img / "object.png"), full_page=False)
    assert not errors, errors
    assert first_sent >= 0
    page.close()


def test_demo_campaign_lives_and_continues_after_a_restart(stack_env, browser):
    home = Path(stack_env["DESCTOM_HOME"])
    web = f"http://127.0.0.1:{stack_env['DESCTOM_WEB_PORT']}"
    up = ["up", "--detach", "--demo", "--demo-objects", "400", "--night-seconds", str(NIGHT)]
    res = run(stack_env, *up)
    assert res.returncode == 0, res.stderr
    assert "one simulated night every 3 s" in res.stdout
    tom = TomClient(web, username="admin", passwordfile=str(home / "secrets" / "admin_password"))

    wait_until(lambda: campaign(tom)["nights"] >= 3, "three nights", 180)
    wait_until(lambda: (lambda c: c["messages"] == 2 * c["sent"] and c["known"] > 0)(campaign(tom)),
               "the nights' classifications and known objects", 120)
    first = campaign(tom)
    classifiers = {(c["classifiername"], c["classifierparams"]) for c in sql(
        tom, "SELECT classifiername, classifierparams FROM elasticc2_brokerclassifier")}
    assert classifiers == {("NugentClassifier", "100%"), ("RandomSNType", "Perfect")}
    assert one(tom, "SELECT count(DISTINCT classifier_id) FROM elasticc2_brokermessage") == 2
    # metrics follow the nights (not DESCTOM_METRICS_SECONDS, 10 minutes)
    wait_until(lambda: all(metrics_page_rows(tom).values()), "metrics of the first nights", 30)
    assert all(metric_rows(stack_env).values()), metric_rows(stack_env)

    hot = tom.post("elasticc2/gethottransients",
                   json={"mjd_now": first["clock"], "detected_in_last_days": 30})
    assert hot.status_code == 200, hot.text
    assert len(hot.json()["diaobject"]) > 0

    status = run(stack_env, "status")
    assert "simulated MJD" in status.stdout and "broker messages ingested" in status.stdout

    # known objects grow night after night
    wait_until(lambda: campaign(tom)["known"] > first["known"], "more known objects", 120)
    # beside the campaign, the live Rubin stream (desctom live_demo) fills the live tables
    wait_until(lambda: one(tom, "SELECT count(DISTINCT brokername) FROM diasource_brokerinfo") == 3,
               "the live stream's alerts and two brokers", 120)
    assert one(tom, "SELECT count(*) FROM root_diaobject") > 0
    assert one(tom, "SELECT count(*) FROM elasticc2_brokermessagequarantine") == 0
    live_before = one(tom, "SELECT count(*) FROM diasource_brokerinfo")
    password = (home / "secrets" / "admin_password").read_text().strip()
    browse_campaign(browser, web, password, tom, Path(__file__).resolve().parents[1] / "docs" / "img")

    assert run(stack_env, "down").returncode == 0
    res = run(stack_env, *up)
    assert res.returncode == 0, res.stderr
    tom = TomClient(web, username="admin", passwordfile=str(home / "secrets" / "admin_password"))
    before = campaign(tom)
    wait_until(lambda: campaign(tom)["nights"] >= before["nights"] + 2, "two more nights", 180)
    wait_until(lambda: (lambda c: c["messages"] == 2 * c["sent"])(campaign(tom)), "their classifications",
               120)
    after = campaign(tom)
    assert after["clock"] > before["clock"] >= first["clock"]  # the clock continued, not restarted
    assert after["messages"] == after["distinct_messages"]  # nothing stored twice
    assert one(tom, "SELECT count(*) FROM elasticc2_ppdbdiaobject") == 400  # no second survey
    log = (home / "log" / "demo.log").read_text()
    assert log.count("campaign data ready") == 1
    # the live stream went on where it was (its state file), it did not start over
    wait_until(lambda: one(tom, "SELECT count(*) FROM diasource_brokerinfo") > live_before,
               "more live messages", 120)
    live_log = (home / "log" / "live-demo.log").read_text()
    assert "nights sent before: 0" in live_log and live_log.count("nights sent before: 0") == 1
    assert one(tom, "SELECT count(*) - count(DISTINCT (brokername, diasourceid)) FROM diasource_brokerinfo "
                    "WHERE brokername = 'live-alerts'") == 0
