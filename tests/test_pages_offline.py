"""TOM Toolkit pages in a real browser: styled, working, and never reaching past this server."""

from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User
from tom_targets.models import Target

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery staple"
LOCAL = {"127.0.0.1", "localhost"}


@pytest.fixture
def logged_in_page(live_server, browser, transactional_db):
    User.objects.create_superuser("root", "", PASSWORD)
    page = browser.new_page()
    page.hosts = set()
    page.errors = []
    page.on("request", lambda req: page.hosts.add(urlsplit(req.url).hostname))
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "root")
    page.fill("#id_password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(f"{live_server.url}/")
    yield page
    page.close()


def test_target_list_sky_map_draws_targets_offline(live_server, logged_in_page):
    Target.objects.create(name="SN 2026abc", type=Target.SIDEREAL, ra=150.25, dec=-12.5)
    Target.objects.create(name="AT 2026xyz", type=Target.SIDEREAL, ra=10.0, dec=45.0)
    page = logged_in_page
    page.goto(f"{live_server.url}/targets/")
    page.wait_for_load_state("networkidle")
    assert "SN 2026abc" in page.inner_text("main")
    names = page.evaluate("() => document.getElementById('desctom-skymap').data[0].text")
    assert sorted(names) == ["AT 2026xyz", "SN 2026abc"]
    assert page.hosts <= LOCAL and page.errors == []


def test_observation_list_sky_plot_offline(live_server, logged_in_page):
    page = logged_in_page
    page.goto(f"{live_server.url}/observations/list/")
    page.wait_for_load_state("networkidle")
    assert page.locator(".plotly-graph-div").count() >= 1
    assert page.evaluate("() => document.querySelector('.plotly-graph-div .geolayer') !== null")
    assert page.hosts <= LOCAL and page.errors == []


def test_login_page_shows_error_for_wrong_password(live_server, browser, transactional_db):
    page = browser.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "nobody")
    page.fill("#id_password", "wrong")
    page.click("#login-submit")
    assert "Please enter a correct username and password" in page.inner_text(".alert-danger")
    page.close()
