"""Input the database cannot hold, or that no user means, on the follow-up endpoints (issue 16 item 4):
each answers 4xx naming the field, and no table changes.

Bodies are written as JSON text so that they can hold what ``json.dumps`` would not produce from
Python values: 401-digit integers, lone surrogates (``\\ud800``), ``\\u0000``.
"""

from __future__ import annotations

import pytest
from test_e2_api_data import post_json
from test_e2_followup_data import O1, count, load_followup_sample

E2 = "/elasticc2/"
BIG = "1" + "0" * 400
TABLES = ("wantedspectra", "plannedspectra", "spectruminfo")


@pytest.fixture
def followup(db):
    return load_followup_sample()


def report(**change) -> str:
    fields = {"objectid": str(O1), "facility": '"Keck"', "mjd": "60041.5", "z": "0.1", "classid": "2222",
              **change}
    return "{" + ", ".join(f'"{k}": {v}' for k, v in fields.items()) + "}"


def text(chars: str, n: int = 1) -> str:
    return '"' + chars * n + '"'


#: page -> the numeric fields it takes alone (each gets a 401-digit integer).
NUMERIC_ALONE = {
    "gethottransients": ("mjd_now", "detected_in_last_days", "detected_since_mjd", "return_format"),
    "spectrawanted": ("mjd_now", "no_spectra_in_last_days", "not_claimed_in_last_days",
                      "detected_in_last_days"),
    "getknownspectruminfo": ("objectid", "mjd_min", "z_max", "classid"),
}

CASES = [
    # 401-digit integers in every numeric field
    *((page, f'{{"{field}": {BIG}}}', field) for page, fields in NUMERIC_ALONE.items() for field in fields),
    ("spectrawanted", f'{{"lim_mag": {BIG}, "lim_mag_band": "r"}}', "lim_mag"),
    ("askforspectrum", f'{{"requester": "R", "objectids": [{BIG}], "priorities": [3]}}', "objectids"),
    ("askforspectrum", f'{{"requester": "R", "objectids": [{O1}], "priorities": [{BIG}]}}', "priorities"),
    ("planspectrum", f'{{"objectid": {BIG}, "facility": "Keck"}}', "objectid"),
    ("removespectrumplan", f'{{"objectid": {BIG}, "facility": "Keck"}}', "objectid"),
    *(("reportspectruminfo", report(**{field: BIG}), field) for field in ("mjd", "z", "classid", "objectid")),
    # NUL and lone surrogates in strings
    ("askforspectrum", f'{{"requester": "a\\u0000", "objectids": [{O1}], "priorities": [3]}}', "requester"),
    ("askforspectrum", f'{{"requester": "a\\ud800", "objectids": [{O1}], "priorities": [3]}}', "requester"),
    ("planspectrum", f'{{"objectid": {O1}, "facility": "a\\u0000"}}', "facility"),
    ("planspectrum", f'{{"objectid": {O1}, "facility": "a\\udc00"}}', "facility"),
    ("planspectrum", f'{{"objectid": {O1}, "facility": "a", "comment": "\\ud800"}}', "comment"),
    ("planspectrum", f'{{"objectid": {O1}, "facility": "a", "comment": "x\\u0000"}}', "comment"),
    ("planspectrum", f'{{"objectid": {O1}, "facility": "a", "plantime": "\\ud800"}}', "plantime"),
    ("removespectrumplan", f'{{"objectid": {O1}, "facility": "a\\ud800"}}', "facility"),
    ("reportspectruminfo", report(facility='"x\\u0000"'), "facility"),
    ("reportspectruminfo", report(facility='"x\\ud800"'), "facility"),
    ("getknownspectruminfo", '{"facility": "a\\ud800"}', "facility"),
    ("getknownspectruminfo", '{"since": "2020-01-01\\u0000"}', "since"),
    ("spectrawanted", '{"requested_since": "2020-01-01\\ud800"}', "requested_since"),
    # what a float4 column cannot hold, and what no user means
    ("reportspectruminfo", report(z="1e39"), "z"),
    ("reportspectruminfo", report(z="1e308"), "z"),
    ("reportspectruminfo", report(z="1.8e19"), "z"),
    ("reportspectruminfo", report(mjd="1e308"), "mjd"),
    ("reportspectruminfo", report(mjd="-1e308"), "mjd"),
    ("spectrawanted", '{"mjd_now": 1e308}', "mjd_now"),
    ("gethottransients", '{"mjd_now": -1e308}', "mjd_now"),
    ("gethottransients", '{"detected_in_last_days": 1e300}', "detected_in_last_days"),
    ("getknownspectruminfo", '{"mjd_max": 1e308}', "mjd_max"),
    # lengths
    ("askforspectrum", f'{{"requester": {text("r", 1_000_000)}, "objectids": [{O1}], "priorities": [3]}}',
     "requester"),
    ("planspectrum", f'{{"objectid": {O1}, "facility": {text("f", 3_000_000)}}}', "facility"),
    ("planspectrum", f'{{"objectid": {O1}, "facility": "Keck", "comment": {text("c", 3_000_000)}}}',
     "comment"),
    ("reportspectruminfo", report(facility=text("f", 1_000_000)), "facility"),
    ("getknownspectruminfo", f'{{"facility": {text("f", 100_000)}}}', "facility"),
]


@pytest.mark.parametrize("page, body, field", CASES,
                         ids=[f"{p}-{f}-{i}" for i, (p, _, f) in enumerate(CASES)])
def test_refused_naming_the_field_nothing_written(api, followup, page, body, field):
    before = [count(t) for t in TABLES]
    res = post_json(api, E2 + page, body.encode("utf-8", "surrogatepass"))
    assert 400 <= res.status_code < 500, (res.status_code, res.content[:300])
    assert res["Content-Type"].startswith("application/json")
    message = res.json()["error"]
    assert field in message, message
    assert len(message) < 1000  # a message, not an echo of the input
    assert [count(t) for t in TABLES] == before


def test_twenty_megabytes_refused_before_reading(api, followup):
    body = f'{{"objectid": {O1}, "facility": "Keck", "comment": {text("c", 20_000_000)}}}'
    assert post_json(api, E2 + "planspectrum", body).status_code == 413
    assert count("plannedspectra") == 0


def test_limits_still_accept_what_users_mean(api, followup):
    """The edges of each range are accepted: a long name, a long comment, z 99, an old MJD."""
    ok = post_json(api, E2 + "planspectrum", {"objectid": O1, "facility": "F" * 256, "comment": "c" * 10_000})
    assert ok.status_code == 200, ok.content
    ok = post_json(api, E2 + "reportspectruminfo", {"objectid": O1, "facility": "Keck", "mjd": 0, "z": 99.5,
                                                    "classid": 2222})
    assert ok.status_code == 200, ok.content
    assert count("spectruminfo") == 1
