"""The ELAsTiCC 1 admin loaders refuse what the database cannot hold (issue 16 item 4): 400 naming
the field, nothing stored."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group

from desctom.elasticc.models import DiaObject

BIG = "1" + "0" * 400


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_user("e1admin", password="pw-e1-admin-123")
    user.groups.add(Group.objects.get_or_create(name="elasticc_admin")[0])
    client.force_login(user)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("field, raw", [
    ("ra", BIG), ("ra", "1e308"), ("ra", "400"), ("decl", "-91"), ("decl", "1e39"),
    ("diaObjectId", BIG), ("simVersion", '"a\\u0000"'), ("simVersion", '"a\\ud800"'),
    ("simVersion", json.dumps("v" * 100_000)),
])
def test_adddiaobject_refuses(admin_client, field, raw):
    row = {"diaObjectId": 1, "ra": 10.0, "decl": -5.0, "simVersion": "v1"}
    text = json.dumps(row).replace(json.dumps(row[field]), raw, 1) if field != "diaObjectId" else \
        json.dumps(row).replace('"diaObjectId": 1', f'"diaObjectId": {raw}')
    res = admin_client.post("/elasticc/adddiaobject", text.encode("utf-8", "surrogatepass"),
                            content_type="application/json")
    assert res.status_code == 400, res.content[:300]
    assert field in res.json()["error"] and len(res.json()["error"]) < 1000
    assert DiaObject.objects.count() == 0
