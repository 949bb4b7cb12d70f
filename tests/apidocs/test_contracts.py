"""One contract per endpoint (issue 16 item 3): the request a view reads is the request described.

Each plain JSON view carries ``api_doc``; its request contract both checks the input and is the
OpenAPI request body. These tests fail when a view reads a field its contract does not declare,
when a contract declares a field the view never reads, and when the served description's body is
not the contract's.
"""

from __future__ import annotations

import pytest
from rest_framework import serializers

from desctom.apidocs import coverage
from desctom.apidocs.contracts import api_doc_of, named_routes, openapi_path, request_schema
from desctom.core import contract as c
from desctom.core.apidoc import ApiDoc, post_only
from desctom.core.jsonapi import JsonApiView

pytestmark = pytest.mark.django_db



def contract_views():
    seen = {}
    for route, name, callback in named_routes():
        doc = api_doc_of(callback, name)
        if doc is not None and doc.request is not None:
            seen[callback.view_class] = route
    return seen


def test_every_plain_json_view_carries_its_contract():
    missing = set()
    for _route, name, callback in named_routes():
        if coverage.json_view_kind(callback) == "plain" and api_doc_of(callback, name) is None:
            missing.add(name)
    assert missing == set()


def test_views_read_exactly_what_their_contracts_describe():
    views = contract_views()
    assert len(views) >= 7
    problems = [p for view in views for p in coverage.contract_drift(view)]
    assert problems == []


def test_the_served_body_is_the_contract(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    for view, route in contract_views().items():
        for op in view.api_doc.operations:
            body = schema["paths"][openapi_path(route)][op.method]["requestBody"]["content"]
            described = body["application/json"]["schema"]
            assert set(described["properties"]) == set(view.api_doc.request().fields), view
            assert described.get("additionalProperties", True) is not view.api_doc.request.refuse_unknown


class _Extra(c.RequestContract):
    """Two fields."""

    objectid = c.Int64()
    facility = c.Text()


class _ReadsMore(JsonApiView):
    api_doc = ApiDoc("test", (post_only("x", None),), request=_Extra)

    def handle(self, data):
        values = self.api_doc.request.parse(data)
        return {"a": values["objectid"], "b": values["facility"], "c": values.get("comment")}


class _ReadsLess(JsonApiView):
    api_doc = ApiDoc("test", (post_only("x", None),), request=_Extra)

    def handle(self, data):
        values = self.api_doc.request.parse(data)
        return {"a": values["objectid"]}


def test_drift_is_reported_both_ways():
    assert coverage.contract_drift(_ReadsMore) == [
        "_ReadsMore reads 'comment', which its contract does not describe"]
    assert coverage.contract_drift(_ReadsLess) == [
        "_ReadsLess's contract describes 'facility', which the view never reads"]


def test_description_follows_the_fields():
    schema = request_schema(_Extra)
    assert set(schema["required"]) == {"objectid", "facility"}
    assert schema["properties"]["facility"]["maxLength"] == c.NAME_MAX
    assert schema["properties"]["objectid"]["format"] == "int64"

    class Wider(_Extra):
        comment = c.Text(required=False, max_length=c.COMMENT_MAX)

    assert request_schema(Wider)["properties"]["comment"]["maxLength"] == c.COMMENT_MAX


@pytest.mark.parametrize("body, message", [
    ({"objectid": 10**400, "facility": "a"}, "objectid must be an integer"),
    ({"objectid": 1, "facility": "a\x00"}, "facility contains a NUL character"),
    ({"objectid": 1, "facility": "a\ud800"}, "facility contains a lone surrogate"),
    ({"objectid": 1, "facility": "f" * 1000}, "facility is too long: 1000 characters, at most 256"),
    ({"objectid": 1, "facility": "a", "x": 1}, "Unknown parameters: {'x'}"),
    ({"facility": "a"}, "missing objectid"),
    ({"objectid": None, "facility": "a"}, "objectid must not be null"),
])
def test_contract_messages_name_the_field(body, message):
    with pytest.raises(c.ApiError) as err:
        _Extra.parse(body, "P: ")
    assert err.value.message.startswith("P: " + message), err.value.message


def test_numbers_refuse_what_columns_cannot_hold():
    class Numbers(c.RequestContract):
        z = c.Number(max_value=c.FLOAT4_MAX)
        mjd = c.mjd()

    for body, message in (({"z": 1e39, "mjd": 1}, "z must be at most"),
                          ({"z": 1, "mjd": 1e308}, "mjd must be from"),
                          ({"z": 10**400, "mjd": 1}, "z must be a finite number")):
        with pytest.raises(c.ApiError, match=message):
            Numbers.parse(body)
    assert Numbers.parse({"z": "2.5", "mjd": 60000}) == {"z": 2.5, "mjd": 60000.0}
    with pytest.raises(serializers.ValidationError):
        c.Number(max_value=1).run_validation(2)
