"""The broker-message PUT refuses what the database cannot hold (issue 16 item 4): 401-digit integers
in every numeric field, NUL and lone surrogates in every string, absurd numbers, deep nesting; each
answers 400 naming the field, and nothing is stored."""

from __future__ import annotations

import json

import pytest
from test_e2_api_brokermessages import broker, message, put, stored_anything

BIG = "1" + "0" * 400
NUMERIC = ["alertId", "diaSourceId", "elasticcPublishTimestamp", "brokerIngestTimestamp",
           "brokerPublishTimestamp"]
STRINGS = ["brokerName", "brokerVersion", "classifierName", "classifierParams"]


@pytest.fixture
def pusher(client, db):
    return broker(client)


def body_with(field: str, raw: str) -> bytes:
    """A valid message whose ``field`` is the JSON text ``raw`` (which json.dumps could not write)."""
    text = json.dumps(message(**{field: "PLACEHOLDER"}))
    return text.replace('"PLACEHOLDER"', raw).encode("utf-8", "surrogatepass")


def refused(response, field: str):
    assert response.status_code == 400, (response.status_code, response.content[:300])
    message_text = response.json()["error"]
    assert field in message_text and len(message_text) < 1000, message_text
    assert stored_anything() == (0, 0, 0)


@pytest.mark.parametrize("field", NUMERIC)
def test_huge_integers(pusher, field):
    refused(put(pusher, body_with(field, BIG)), field)


@pytest.mark.parametrize("raw", ["1e308", "-1e308", BIG])
def test_probability_and_class_out_of_range(pusher, raw):
    entry = json.dumps({"classId": 2222, "probability": 0.5}).replace("0.5", raw)
    refused(put(pusher, body_with("classifications", f"[{entry}]")), "probability")
    entry = json.dumps({"classId": 2222, "probability": 0.5}).replace("2222", raw)
    refused(put(pusher, body_with("classifications", f"[{entry}]")), "classId")


@pytest.mark.parametrize("field", STRINGS)
@pytest.mark.parametrize("raw", ['"a\\u0000b"', '"a\\ud800"', '"\\udfff"'])
def test_unstorable_text(pusher, field, raw):
    refused(put(pusher, body_with(field, raw)), field)


def test_deep_nesting(pusher):
    res = put(pusher, b"[" * 5000 + b"]" * 5000)
    assert res.status_code == 400 and "nested too deeply" in res.json()["error"]
    refused(put(pusher, body_with("classifications", "[" * 5000 + "]" * 5000)), "")
