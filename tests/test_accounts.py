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


# -- `desctom user` (issue 19 item 4): plain accounts without the admin pages -----------------------------

def _token(out: str) -> str:
    return out.split("API token: ")[1].split()[0]


def test_user_add_prints_a_token_that_authenticates_over_http(live_server, transactional_db, tmp_path):
    import io

    import requests

    from desctom.accounts.workers.setup import ensure_groups

    ensure_groups()
    (tmp_path / "pw").write_text("a-long-passphrase-19\nsecond line is ignored\n")
    out = io.StringIO()
    call_command("user", "add", "frank", "--password-file", str(tmp_path / "pw"), "--group", "elasticc_admin",
                 stdout=out)
    token = _token(out.getvalue())
    res = requests.get(f"{live_server.url}/accounts/whoami/", headers={"Authorization": f"Token {token}"},
                       timeout=30)
    assert res.status_code == 200
    assert res.json() == {"username": "frank", "groups": ["Public", "elasticc_admin"], "is_staff": False,
                          "is_superuser": False}
    basic = requests.get(f"{live_server.url}/accounts/whoami/", auth=("frank", "a-long-passphrase-19"),
                         timeout=30)
    assert basic.status_code == 200 and basic.json()["username"] == "frank"
    out = io.StringIO()
    call_command("user", "token", "frank", stdout=out)
    assert _token(out.getvalue()) == token  # the same key on asking again
    call_command("user", "token", "frank", "--renew", stdout=out)
    renewed = _token(out.getvalue().split("\n", 1)[1])
    assert renewed != token
    old = requests.get(f"{live_server.url}/accounts/whoami/", headers={"Authorization": f"Token {token}"},
                       timeout=30)
    assert old.status_code == 401


def test_user_add_without_password_is_token_only_and_superuser_flag(tmp_path):
    import io

    out = io.StringIO()
    call_command("user", "add", "grace", "--superuser", stdout=out)
    grace = User.objects.get(username="grace")
    assert not grace.has_usable_password() and grace.is_superuser and grace.is_staff
    assert Token.objects.get(user=grace).key == _token(out.getvalue())
    assert "token only" in out.getvalue()
    (tmp_path / "pw").write_text("another-passphrase-19\n")
    call_command("user", "passwd", "grace", "--password-file", str(tmp_path / "pw"), stdout=io.StringIO())
    assert User.objects.get(username="grace").check_password("another-passphrase-19")
    out = io.StringIO()
    call_command("user", "list", stdout=out)
    assert "grace\tPublic\tsuperuser,staff\n" in out.getvalue()


@pytest.mark.parametrize(("argv", "message"), [
    (["add", "heidi", "--group", "no-such-group"], "no group named 'no-such-group'"),
    (["add", "heidi", "--password-file", "/nonexistent/pw"], "cannot read the password file"),
    (["add", "heidi", "--password-file", "EMPTY"], "is empty"),
    (["add", "ivan"], "an account named 'ivan' exists already"),
    (["add", "heidi smith"], "'heidi smith' is not a valid user name"),
    (["passwd", "nobody", "--password-file", "EMPTY"], "is empty"),
    (["token", "nobody"], "no account named 'nobody'"),
])
def test_user_command_errors_are_one_line_without_traceback(argv, message, tmp_path, capsys, monkeypatch):
    from django.db import connections

    from desctom import cli

    monkeypatch.setattr(connections, "close_all", lambda: None)  # the CLI closes them; the test's must stay
    User.objects.create_user("ivan", password="a-long-passphrase")
    (tmp_path / "empty").write_text("\n")
    argv = [str(tmp_path / "empty") if a == "EMPTY" else a for a in argv]
    capsys.readouterr()  # drop what making the account logged
    with pytest.raises(SystemExit) as exited:
        cli.main(["user", *argv])
    err = capsys.readouterr().err
    assert exited.value.code == 1 and "Traceback" not in err
    assert err.splitlines() == [f"CommandError: {err.split(': ', 1)[1].strip()}"] and message in err
    assert not User.objects.filter(username="heidi").exists()
