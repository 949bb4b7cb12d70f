"""Swagger UI at /api/docs/ in a real browser: it renders every API group from local assets only."""

from urllib.parse import urlsplit

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db]
LOCAL = {"127.0.0.1", "localhost"}


def test_swagger_ui_renders_the_description_offline(live_server, browser):
    page = browser.new_page()
    hosts, errors = set(), []
    page.on("request", lambda req: hosts.add(urlsplit(req.url).hostname))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server.url}/api/docs/")  # anonymous: the description is public
    page.wait_for_selector(".opblock-tag", timeout=60000)
    tags = page.locator(".opblock-tag").all_inner_texts()
    for group in (
        "accounts",
        "elasticc2",
        "elasticc2 broker messages",
        "elasticc2 follow-up",
        "sql",
        "elasticc",
    ):
        assert any(t.split("\n")[0].strip() == group for t in tags), (group, tags)
    assert "DESC TOM API" in page.inner_text(".information-container")
    paths = set(page.eval_on_selector_all(".opblock-summary-path", "els => els.map(e => e.dataset.path)"))
    assert {"/elasticc2/askforspectrum", "/db/runsqlquery/", "/elasticc/addtruth", "/healthz"} <= paths
    assert hosts <= LOCAL and errors == [], (hosts, errors)
    page.close()
