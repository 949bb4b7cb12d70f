"""Helpers shared by the SQL API tests."""

from __future__ import annotations

import json


def post(client, url: str, data=None):
    """POST ``data`` as JSON (``str``/``bytes`` sent as they are)."""
    body = b"" if data is None else data if isinstance(data, (str, bytes)) else json.dumps(data)
    return client.post(url, body, content_type="application/json")


def run_sql(client, query, subdict=None):
    """The JSON answer of ``db/runsqlquery/`` (asserting HTTP 200)."""
    data = {"query": query}
    if subdict is not None:
        data["subdict"] = subdict
    res = post(client, "/db/runsqlquery/", data)
    assert res.status_code == 200, res.content
    return res.json()
