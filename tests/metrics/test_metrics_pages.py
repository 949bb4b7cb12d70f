"""Metric pages through Django's test client on the hand-built data: login, choices, bounded output."""

import json
import re
from io import StringIO

import metrics_data
import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

pytestmark = pytest.mark.django_db
PAGES = ["/metrics/", "/metrics/alertstream/", "/metrics/delays/", "/metrics/completeness/",
         "/metrics/confusion/", "/metrics/probvstime/"]


@pytest.fixture
def user_client(client):
    client.force_login(User.objects.create_user("metricsviewer", password="pw"))
    return client


def figures(response) -> dict:
    """The plotly figures a page holds (json_script blocks), by id."""
    html = response.content.decode()
    return {m.group(1): json.loads(m.group(2)) for m in re.finditer(
        r'<script id="([\w-]+)" type="application/json">(.*?)</script>', html, re.S)}


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_is_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_pages_before_any_computation(user_client):
    for url in PAGES:
        response = user_client.get(url)
        assert response.status_code == 200, url
        assert figures(response) == {}
    assert "Not computed yet" in user_client.get("/metrics/delays/").content.decode()


def test_pages_show_the_stored_numbers(user_client):
    ids = metrics_data.load()
    call_command("update_metrics", stdout=StringIO())
    index = user_client.get("/metrics/").content.decode()
    assert index.count('class="computed"') == 5 and "not yet" not in index

    day = figures(user_client.get("/metrics/alertstream/?day=2025-03-03"))
    assert day["alertstream-day"]["data"][0]["y"][10:12] == [5, 5]
    assert day["alertstream-heatmap"]["data"][0]["y"] == ["2025-03-10", "2025-03-03"]
    assert figures(user_client.get("/metrics/alertstream/?day=bogus&page=99"))  # falls back, no error

    week = figures(user_client.get(f"/metrics/delays/?who=c:{ids['C1']}&week=2025-03-10"))
    assert sorted(week) == ["delays-alert_to_tom", "delays-broker", "delays-tom"]
    assert sum(week["delays-tom"]["data"][0]["y"]) == 6 and week["delays-tom"]["data"][0]["y"][2] == 1
    broker = figures(user_client.get("/metrics/delays/?who=b:BrokerA&week=cumulative"))
    assert sum(broker["delays-alert_to_tom"]["data"][0]["y"]) == 20
    assert figures(user_client.get("/metrics/delays/?who=c:notanumber&week=1999-01-01"))

    comp = figures(user_client.get(f"/metrics/completeness/?classifier={ids['C2']}"))["completeness"]
    assert comp["data"][0]["y"] == [0.4, 0.0]
    assert len(figures(user_client.get("/metrics/completeness/"))["completeness"]["data"]) == 3

    pred = figures(user_client.get(f"/metrics/confusion/?classifier={ids['C1']}&norm=pred"))["confusion"]
    assert pred["data"][0]["z"] == [[1.0, 0.5, 0.0], [0.0, 0.5, 0.0], [0.0, 0.0, 1.0]]
    unknown = figures(user_client.get(f"/metrics/confusion/?classifier={ids['C3']}"))["confusion"]
    assert unknown["data"][0]["x"] == ["other/unknown"]

    prob = figures(user_client.get(f"/metrics/probvstime/?classifier={ids['C1']}&trueclass=2223"))
    lines = {t["name"]: dict(zip(t["x"], t["y"], strict=True)) for t in prob["probvstime"]["data"]}
    assert set(lines) == {"2222 Ia", "2223 Ib/c"}
    assert lines["2223 Ib/c"] == {-10: pytest.approx(0.3), 0: pytest.approx(0.3), 10: pytest.approx(0.9)}
    assert user_client.post("/metrics/confusion/").status_code == 200  # POST renders too, as the original
