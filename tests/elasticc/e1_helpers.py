"""Helpers of the ELAsTiCC 1 tests (users, a JSON client); no tests here."""

import json

PASSWORD = "an elasticc test password"


def make_user(name: str, group: str | None = None, superuser: bool = False):
    from django.contrib.auth.models import Group, User

    user = (User.objects.create_superuser(name, "", PASSWORD) if superuser
            else User.objects.create_user(name, "", PASSWORD))
    if group:
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


class JsonClient:
    """Django's test client with JSON helpers."""

    def __init__(self, client):
        self.client = client

    def post(self, url, data=None, **kw):
        body = "" if data is None else json.dumps(data)
        return self.client.post(url, body, content_type="application/json", **kw)

    def get(self, url, **kw):
        return self.client.get(url, **kw)

    def put(self, url, data=None):
        return self.client.put(url, json.dumps(data), content_type="application/json")
