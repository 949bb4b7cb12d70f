"""The SQL API's request contracts: bad input is refused with a text naming the field, nothing queued.

Refusals keep the SQL API's convention: HTTP 200 with ``{"status": "error", "error": ...}`` (a body
over its size limit: 413).
"""

from __future__ import annotations

import json
import math

import pytest
from sqlhelpers import post

from desctom.core.jsonapi import ApiError
from desctom.db.http.contract import SUBDICT_MAX_DEPTH, ListRequest, QueryRequest, SubmitRequest
from desctom.db.models import QueryQueue

RUN, SUBMIT, LIST = "/db/runsqlquery/", "/db/submitsqlquery/", "/db/listsqlqueries/"
BIG = "1" * 401
DEEP = "[" * 5000 + "]" * 5000


def deep_dict(levels: int) -> str:
    """A JSON value with ``levels`` nested lists."""
    return "[" * levels + "1" + "]" * levels


def refused(client, url: str, body, status: int = 200) -> str:
    """The error text of a refused request (``body``: JSON text or a value), after checking nothing
    was queued."""
    res = post(client, url, body)
    assert res.status_code == status, res.content
    answer = res.json()
    assert answer["status"] == "error", answer
    assert not QueryQueue.objects.exists()
    return answer["error"]


@pytest.mark.parametrize("url", [RUN, SUBMIT])
@pytest.mark.parametrize(("body", "words"), [
    ('{"query": "SELECT \'\\ud800\'"}', ["query contains a lone surrogate"]),
    ('{"query": ["SELECT 1", "SELECT \'\\udfff\'"], "subdict": [{}, {}]}', ["query[1]", "lone surrogate"]),
    ('{"query": "SELECT 1 \\u0000"}', ["quer", "NUL"]),
    ('{"query": ["SELECT 1", "\\u0000"]}', ["quer", "NUL"]),
    ('{"query": null}', ["query must be either a list of strings or a string"]),
    ('{"query": ' + BIG + "}", ["query must be either a list of strings or a string"]),
    (DEEP, ["request body is not valid JSON", "nested too deeply"]),
    ('{"query": "SELECT 1", "subdict": ' + DEEP + "}", ["not valid JSON", "nested too deeply"]),
    ('{"query": ' + DEEP + "}", ["not valid JSON", "nested too deeply"]),
    ('{"query": "SELECT %(a)s", "subdict": {"a": ' + deep_dict(SUBDICT_MAX_DEPTH + 1) + "}}",
     ["subdict is nested too deeply"]),
    ('{"query": "SELECT %(a)s", "subdict": {"a": "\\ud800"}}', ["subdict", "lone surrogate"]),
    ('{"query": "SELECT 1", "subdict": {"\\udbff": 1}}', ["subdict", "lone surrogate"]),
    ('{"query": "SELECT %(a)s", "subdict": {"a": {"b": ["\\ud800"]}}}', ["subdict", "lone surrogate"]),
    ('{"query": "SELECT %(a)s", "subdict": {"a": "x\\u0000"}}', ["subdict", "NUL"]),
    ('{"query": "SELECT 1", "subdict": {"a\\u0000": 1}}', ["subdict", "NUL"]),
    ('{"query": "SELECT 1", "subdict": ' + BIG + "}", ["subdict must be either a list of dicts or a dict"]),
    ('{"query": "SELECT 1", "subdict": [' + BIG + "]}", ["subdicts must all be dicts"]),
    ("[1, 2]", ["POST data must be a JSON object"]),
])
def test_bad_input_is_refused_naming_the_field(api, url, body, words):
    text = refused(api, url, body)
    assert all(word in text for word in words), text


@pytest.mark.parametrize(("contract", "data", "text"), [
    (QueryRequest, {"query": "SELECT 1\x00"}, "queries must not contain NUL characters"),
    (QueryRequest, {"query": ["SELECT 1", "\ud800"]}, "query[1] contains a lone surrogate ('\\ud800'), "
                                                      "which is not text"),
    (QueryRequest, {"query": "SELECT 1", "subdict": {"a": ["x\x00"]}},
     "subdict keys and values must not contain NUL characters"),
    (QueryRequest, {"query": "SELECT 1", "subdict": {"\ud800": 1}},
     "a subdict key or value contains a lone surrogate ('\\ud800'), which is not text"),
    (QueryRequest, {"query": "SELECT 1", "subdict": [{}, {}]}, "number of queries and subdicts must match"),
    (SubmitRequest, {"query": "SELECT 1", "format": "\ud800"}, 'Unknown format "\\ud800"'),
    (SubmitRequest, {"query": "SELECT 1", "subdict": {"a": math.nan}},
     "subdict values must be finite numbers, strings, lists, dicts or null"),
    (ListRequest, {"all": "\ud800"}, "'all' must be true or false"),
])
def test_contract_texts(contract, data, text):
    """The contracts' own checks (the body-wide text check of parse_json_body may answer first)."""
    with pytest.raises(ApiError) as caught:
        contract.parse(data)
    assert caught.value.message == text


def test_nesting_up_to_the_limit_is_fine(api):
    body = '{"query": "SELECT 1", "subdict": {"a": ' + deep_dict(SUBDICT_MAX_DEPTH - 1) + "}}"
    assert post(api, SUBMIT, body).json()["status"] == "ok"
    assert QueryQueue.objects.count() == 1


def test_huge_integers_in_subdict_are_numeric(api):
    res = post(api, RUN, '{"query": "SELECT %(a)s AS a", "subdict": {"a": ' + BIG + "}}").json()
    assert res == {"status": "ok", "rows": [{"a": BIG}]}
    res = post(api, SUBMIT, '{"query": "SELECT %(a)s AS a", "subdict": {"a": ' + BIG + "}}").json()
    assert res["status"] == "ok"
    assert QueryQueue.objects.get().subdicts == [{"a": int(BIG)}]


@pytest.mark.parametrize(("body", "words"), [
    ('{"query": "SELECT 1", "format": ' + BIG + "}", ["Unknown format 1111", "characters)"]),
    ('{"query": "SELECT 1", "format": "\\ud800"}', ["format"]),
    ('{"query": "SELECT 1", "format": "csv\\u0000"}', ["format"]),
    ('{"query": "SELECT 1", "format": null}', ["Unknown format None"]),
    ('{"query": "SELECT 1", "format": ' + "[" * 500 + "]" * 500 + "}", ["Unknown format [[["]),
    ('{"query": "SELECT %(a)s", "subdict": {"a": NaN}}', ["subdict values must be finite numbers"]),
    ('{"query": "SELECT %(a)s", "subdict": {"a": [1e400]}}', ["subdict values must be finite numbers"]),
])
def test_submit_refuses_bad_format_and_non_finite_numbers(api, body, words):
    text = refused(api, SUBMIT, body)
    assert all(word in text for word in words), text
    assert len(text) < 300


@pytest.mark.parametrize("body", [
    '{"all": ' + BIG + "}", '{"all": "\\ud800"}', '{"all": null}', '{"all": 1}', '{"all": [true]}',
])
def test_list_all_must_be_a_boolean(api, body):
    text = refused(api, LIST, body)
    assert text == "'all' must be true or false" or text.startswith("all contains a lone surrogate"), text


@pytest.mark.parametrize(("body", "text"), [
    (DEEP, "request body is not valid JSON (nested too deeply)"),
    ("[true]", "POST data must be a JSON object"),
])
def test_list_bad_bodies(api, body, text):
    assert refused(api, LIST, body) == text


@pytest.mark.parametrize("url", [RUN, SUBMIT, LIST])
def test_a_20_mb_body_is_refused_before_it_is_read(api, url):
    body = json.dumps({"query": "SELECT 1 -- " + "x" * 20_000_000})
    res = post(api, url, body)
    assert res.status_code == 413 and "too large" in res.json()["error"].lower(), res.content
    assert not QueryQueue.objects.exists()


def test_unknown_keys_are_still_ignored(api):
    assert post(api, RUN, {"query": "SELECT 1 AS one", "note": "x"}).json() == {
        "status": "ok", "rows": [{"one": 1}]}
    assert post(api, LIST, {"mine": True}).json() == {"status": "ok", "queries": []}
