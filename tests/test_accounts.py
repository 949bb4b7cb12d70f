"""Accounts, groups and the authentication rules of HTML pages and JSON endpoints."""

import os
import stat

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from desctom.core import config

pytestmark = pytest.mark.django_db


def test_new_user_joins_public_group():
    user = User.objects.create_user("newcomer", password="a-long-passphrase")
    assert list(user.groups.values_list("name", flat=True)) == ["Public"]


def test_ensure_accounts_creates_groups_and_admin_once(capsys, monkeypatch):
    monkeypatch.delenv("DESCTOM_ADMIN_PASSWORD", raising=False)
    monkeypatch.setenv("DESCTOM_ADMIN_USER", "boss")
    call_command("ensure_accounts")
    out = capsys.readouterr().out
    groups = set(Group.objects.values_list("name", flat=True))
    assert {"Public", "elasticc_admin", "elasticc_broker"} <= groups
    admin = User.objects.get(username="boss")
    assert admin.is_superuser and admin.is_staff
    pwfile = config.load().admin_password_file
    password = pwfile.read_text().strip()
    assert password in out  # printed once ...
    assert stat.S_IMODE(os.stat(pwfile).st_mode) == 0o600  # ... and kept for the owner only
    assert admin.check_password(password)
    call_command("ensure_accounts")  # idempotent: nothing new, password not shown again
    assert capsys.readouterr().out == ""
    assert User.objects.filter(is_superuser=True).count() == 1


def test_ensure_accounts_uses_password_from_environment(monkeypatch, capsys):
    monkeypatch.setenv("DESCTOM_ADMIN_PASSWORD", "from-the-env-123")
    call_command("ensure_accounts")
    assert "from-the-env-123" not in capsys.readouterr().out
    assert User.objects.get(username="admin").check_password("from-the-env-123")


def test_html_page_redirects_anonymous_to_login(client):
    res = client.get("/users/")
    assert res.status_code == 302
    assert res["Location"].startswith("/accounts/login/?next=/users/")


@pytest.mark.parametrize("path", ["/api/", "/api/targets/", "/api/groups/"])
def test_drf_api_answers_anonymous_with_401_json(client, path):
    res = client.get(path)
    assert res.status_code == 401
    assert res["Content-Type"].startswith("application/json")
    assert res.json() == {"detail": "Authentication credentials were not provided."}


def test_json_endpoint_answers_anonymous_with_401_json_not_redirect(client):
    for method in (client.get, client.post):
        res = method("/accounts/whoami/")
        assert res.status_code == 401
        assert res.json() == {"error": "Authentication credentials were not provided."}
        assert "Location" not in res


def test_json_endpoint_with_bad_token_is_401(client):
    res = client.get("/accounts/whoami/", HTTP_AUTHORIZATION="Token not-a-token")
    assert res.status_code == 401
    assert "error" in res.json()


def test_whoami_success_shape_by_session_token_and_basic(client):
    user = User.objects.create_user("alice", password="correct horse battery")
    client.force_login(user)
    assert client.get("/accounts/whoami/").json() == {
        "username": "alice", "groups": ["Public"], "is_staff": False, "is_superuser": False}
    client.logout()
    token, _ = Token.objects.get_or_create(user=user)  # the TOM Toolkit may make one on user creation
    res = client.get("/accounts/whoami/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert res.status_code == 200 and res.json()["username"] == "alice"
    import base64

    basic = base64.b64encode(b"alice:correct horse battery").decode()
    res = client.post("/accounts/whoami/", HTTP_AUTHORIZATION=f"Basic {basic}")
    assert res.status_code == 200 and res.json()["username"] == "alice"


def test_whoami_rejects_other_methods_with_json_405(client):
    user = User.objects.create_user("bob", password="correct horse battery")
    client.force_login(user)
    res = client.delete("/accounts/whoami/")
    assert res.status_code == 405
    assert "GET" in res.json()["error"]


def test_token_auth_endpoint(client):
    User.objects.create_user("carol", password="correct horse battery")
    res = client.post("/api/token-auth/", {"username": "carol", "password": "correct horse battery"})
    assert res.status_code == 200
    token = res.json()["token"]
    assert client.get("/api/targets/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 200
    bad = client.post("/api/token-auth/", {"username": "carol", "password": "wrong"})
    assert bad.status_code == 400


def test_login_form_keeps_original_error_text(client):
    User.objects.create_user("dave", password="correct horse battery")
    res = client.post("/accounts/login/", {"username": "dave", "password": "nope"})
    assert res.status_code == 200
    assert "Please enter a correct username and password" in res.content.decode()
    res = client.post("/accounts/login/", {"username": "dave", "password": "correct horse battery"})
    assert res.status_code == 302 and res["Location"] == "/"


def test_healthz_needs_no_login(client):
    res = client.get("/healthz?scope=web")  # the whole-system form also judges Kafka: tests/test_health.py
    assert res.status_code == 200
    assert res.json()["status"] == "ok" and res.json()["database"] == "ok"


def test_session_post_without_csrf_token_is_403_json():
    from django.test import Client

    user = User.objects.create_user("erin", password="correct horse battery")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    res = strict.post("/accounts/whoami/")
    assert res.status_code == 403
    assert "CSRF" in res.json()["error"]
    strict.get("/accounts/login/")  # sets the csrftoken cookie
    token = strict.cookies["csrftoken"].value
    assert strict.post("/accounts/whoami/", HTTP_X_CSRFTOKEN=token).status_code == 200
