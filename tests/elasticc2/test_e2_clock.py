"""The campaign's clock (issue 19): ``/elasticc2/clock``, ``DESCTOM_CLOCK``, and the defaults of
``gethottransients`` and ``spectrawanted`` that count back from "now"."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from test_e2_api_data import assert_error, get_json, post_json, strict_json
from test_e2_followup_data import O1, O2, O3, load_followup_sample

from desctom.elasticc2.models import AlertSenderRun
from desctom.elasticc2.queries.clock import mjd_of

pytestmark = pytest.mark.django_db
URL = "/elasticc2/clock"
KEYS = {"mode", "mjd", "utc", "source", "setting", "simulation_mjd", "wall_mjd"}


@pytest.fixture
def clock_setting(settings):
    """Set ``DESCTOM_CLOCK`` for one test (settings.CFG is the loaded configuration)."""
    def use(word: str) -> None:
        settings.CFG = dataclasses.replace(django_settings.CFG, clock=word)
    return use


def clock(api) -> dict:
    res = api.get(URL)
    assert res.status_code == 200, res.content
    out = strict_json(res)
    assert set(out) == KEYS
    return out


def sender_run(last_mjd: float, status: str = "done") -> None:
    AlertSenderRun.objects.create(started=timezone.now(), host="h", pid=1, through_day=last_mjd + 0.5,
                                  alerts_sent=5, last_mjd=last_mjd, status=status)


def test_an_empty_campaign_runs_on_the_wall_clock(api):
    out = clock(api)
    wall = mjd_of(dt.datetime.now(dt.UTC))
    assert out["mode"] == "wall" and out["source"] == "wall" and out["setting"] == "auto"
    assert out["simulation_mjd"] is None and abs(out["mjd"] - wall) < 0.01 and out["mjd"] == out["wall_mjd"]


def test_a_simulated_campaign_runs_on_its_simulation_clock(api, clock_setting):
    load_followup_sample()  # latest known detection: MJD 60034
    out = clock(api)
    assert (out["mode"], out["source"], out["mjd"], out["simulation_mjd"]) == ("simulation", "detections",
                                                                             60034.0, 60034.0)
    assert out["utc"].startswith("2023-03-")  # MJD 60034 is 2023-03-23
    sender_run(60040.25)
    sender_run(60045.0, status="dryrun")  # a dry run sent nothing
    out = clock(api)
    assert (out["mode"], out["source"], out["mjd"]) == ("simulation", "sender", 60040.25)
    assert strict_json(post_json(api, URL, {})) | {"wall_mjd": 0} == out | {"wall_mjd": 0}
    clock_setting("wall")
    out = clock(api)
    assert out["mode"] == "wall" and out["setting"] == "wall" and out["simulation_mjd"] == 60040.25
    assert out["mjd"] > 61000


def test_the_clock_needs_a_login(client):
    assert_error(client.get(URL), 401, "Authentication credentials were not provided.")


def test_hot_transients_default_to_the_campaign_clock(api, clock_setting):
    load_followup_sample()
    # the default window is 30 days before the clock (the latest detection, 60034): 60004 .. 60034
    hot = strict_json(post_json(api, "/elasticc2/gethottransients", {}))["diaobject"]
    assert sorted(o["objectid"] for o in hot) == sorted([O1, O2, O3])
    one_day = strict_json(get_json(api, "/elasticc2/gethottransients", {"detected_in_last_days": 1}))
    assert [o["objectid"] for o in one_day["diaobject"]] == [O2]
    clock_setting("wall")  # what the original did: years after the simulated detections
    assert strict_json(post_json(api, "/elasticc2/gethottransients", {}))["diaobject"] == []


def test_spectrawanted_defaults_to_the_campaign_clock(api, clock_setting):
    load_followup_sample()
    body = {"requester": "RESSPECT", "objectids": [O1, O2], "priorities": [3, 5]}
    assert post_json(api, "/elasticc2/askforspectrum", body).status_code == 200
    # detected in the 14 days before the clock (60034): O1 (60030) and O2 (60030, 60034)
    wanted = strict_json(post_json(api, "/elasticc2/spectrawanted", {}))["wantedspectra"]
    assert [w["oid"] for w in wanted] == [O2, O1]
    clock_setting("wall")
    assert strict_json(post_json(api, "/elasticc2/spectrawanted", {}))["wantedspectra"] == []


def test_desctom_status_reads_the_same_clock(api, clock_setting):
    """``desctom status --json`` has the clock under ``campaign.clock``, read as the endpoint reads it."""
    from django.db import connection

    from desctom.elasticc2.queries.campaign_status import campaign_state
    from desctom.localstack.campaign import format_campaign

    load_followup_sample()
    sender_run(60040.25)
    state = campaign_state(connection, "auto")
    endpoint = clock(api)
    assert state["clock"] | {"wall_mjd": 0} == endpoint | {"wall_mjd": 0}
    assert state["clock"]["mode"] == "simulation" and state["clock_mjd"] == 60040.25
    assert campaign_state(connection, "wall")["clock"]["mode"] == "wall"
    assert "simulated MJD 60040.25" in format_campaign(state)[0]
