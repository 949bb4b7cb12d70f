"""FASTDB's challenge-response login over real HTTP, as FASTDB's client does it (no CSRF token)."""

from __future__ import annotations

import binascii

import pytest
import requests
from cryptography.exceptions import InvalidTag
from fastdb_helpers import PASSWORD, login, post, solve

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def user():
    from django.contrib.auth.models import User

    user = User.objects.create_user("fastdbuser", email="f@example.org")
    user.set_password(PASSWORD)  # create_user(password=...) skips the password_changed hook (make_password)
    user.save()
    return user


def test_keys_are_made_when_a_password_is_set(user):
    from desctom.live.models.auth import FastdbUserKey

    keys = FastdbUserKey.objects.get(user=user)
    assert keys.pubkey.startswith("-----BEGIN PUBLIC KEY-----\n")
    assert set(keys.privkey) == {"privkey", "salt", "iv"}
    assert len(binascii.a2b_base64(keys.privkey["salt"])) == 16
    assert len(binascii.a2b_base64(keys.privkey["iv"])) == 12
    old = keys.privkey
    user.set_password("another-password-9")
    user.save()
    assert FastdbUserKey.objects.get(user=user).privkey != old


def test_login_isauth_logout(live_server, user):
    base = live_server.url
    session = requests.Session()
    assert post(session, base, "auth/isauth").json() == {"status": False}
    res = post(session, base, "auth/getchallenge", {"username": "fastdbuser"})
    challenge = res.json()
    assert set(challenge) == {"username", "privkey", "salt", "iv", "challenge"}
    res = post(session, base, "auth/respondchallenge",
               {"username": "fastdbuser", "response": solve(challenge, PASSWORD)})
    data = res.json()
    assert data["status"] == "ok" and data["username"] == "fastdbuser"
    assert data["message"] == "User fastdbuser logged in."
    assert {"useruuid", "useremail", "userdisplayname", "usergroups"} <= set(data)
    auth = post(session, base, "auth/isauth").json()
    assert auth["status"] is True and auth["username"] == "fastdbuser"
    assert auth["useremail"] == "f@example.org"
    # the session works on the existing db/ routes without a CSRF token (JSON body)
    res = post(session, base, "db/listsqlqueries/", {})
    assert res.status_code == 200 and res.json()["status"] == "ok"
    assert post(session, base, "auth/logout").json() == {"status": "Logged out"}
    assert post(session, base, "auth/isauth").json() == {"status": False}
    assert post(session, base, "ltcv/getmanyltcvs", {"objids": [1]}).status_code == 401
    assert post(session, base, "auth/logout").json() == {"status": "Logged out"}  # twice: no error


def test_wrong_password_cannot_open_the_key(live_server, user):
    session = requests.Session()
    challenge = post(session, live_server.url, "auth/getchallenge", {"username": "fastdbuser"}).json()
    with pytest.raises(InvalidTag):
        solve(challenge, "not-the-password")


def test_wrong_answer_is_refused_and_the_challenge_used_up(live_server, user):
    base = live_server.url
    session = requests.Session()
    challenge = post(session, base, "auth/getchallenge", {"username": "fastdbuser"}).json()
    res = post(session, base, "auth/respondchallenge", {"username": "fastdbuser", "response": "guess"})
    assert res.status_code == 200 and res.json() == {"status": "error", "error": "Authentication failure."}
    assert post(session, base, "auth/isauth").json() == {"status": False}
    res = post(session, base, "auth/respondchallenge",
               {"username": "fastdbuser", "response": solve(challenge, PASSWORD)})
    assert res.status_code == 422 and "no challenge pending" in res.text


@pytest.mark.parametrize(("body", "status", "text"), [
    ({}, 422, "no username"),
    ({"username": "nobody"}, 422, "No such user nobody"),
    ([1], 422, "JSON dict"),
    ("notjson", 422, "not valid JSON"),
])
def test_getchallenge_errors(live_server, user, body, status, text):
    session = requests.Session()
    if body == "notjson":
        res = session.post(f"{live_server.url}/auth/getchallenge", data=b"{x",
                           headers={"Content-Type": "application/json"}, timeout=30)
    else:
        res = post(session, live_server.url, "auth/getchallenge", body)
    assert res.status_code == status and text in res.text, res.text


def test_getchallenge_wants_json(live_server, user):
    res = requests.post(f"{live_server.url}/auth/getchallenge", data={"username": "fastdbuser"}, timeout=30)
    assert res.status_code == 415 and "expecting application/json" in res.text


def test_respondchallenge_errors(live_server, user):
    base = live_server.url
    session = requests.Session()
    res = post(session, base, "auth/respondchallenge", {"username": "fastdbuser"})
    assert res.status_code == 422 and "missing" in res.text
    res = post(session, base, "auth/respondchallenge", {"username": "fastdbuser", "response": "x"})
    assert res.status_code == 422 and "no challenge pending" in res.text
    post(session, base, "auth/getchallenge", {"username": "fastdbuser"})
    res = post(session, base, "auth/respondchallenge", {"username": "someoneelse", "response": "x"})
    assert res.status_code == 422 and "not the one of the challenge" in res.text


def test_user_without_keys_gets_them_at_a_password_login(live_server, user):
    from desctom.live.models.auth import FastdbUserKey

    FastdbUserKey.objects.filter(user=user).delete()
    base = live_server.url
    res = post(requests.Session(), base, "auth/getchallenge", {"username": "fastdbuser"})
    assert res.status_code == 422 and "does not have a password set yet" in res.text
    res = requests.get(f"{base}/accounts/whoami/", auth=("fastdbuser", PASSWORD), timeout=30)
    assert res.status_code == 200
    session = login(base, "fastdbuser")
    assert post(session, base, "auth/isauth").json()["status"] is True


def test_browser_session_needs_csrf_and_cannot_be_logged_out_cross_site(live_server, user):
    """A session from the login form is a browser's: FASTDB's routes ask it for the CSRF token."""
    base = live_server.url
    browser = requests.Session()
    browser.get(f"{base}/accounts/login/", timeout=30)
    token = browser.cookies["csrftoken"]
    res = browser.post(f"{base}/accounts/login/", data={"username": "fastdbuser", "password": PASSWORD,
                                                       "csrfmiddlewaretoken": token},
                       headers={"Referer": f"{base}/accounts/login/"}, timeout=30)
    assert res.status_code == 200 and post(browser, base, "auth/isauth").json()["status"] is True
    res = post(browser, base, "ltcv/getmanyltcvs", {"objids": [1]})
    assert res.status_code == 403 and "CSRF" in res.text
    assert post(browser, base, "auth/logout").status_code == 403
    res = browser.post(f"{base}/ltcv/getmanyltcvs", json={"objids": [1]},
                       headers={"X-CSRFToken": browser.cookies["csrftoken"], "Referer": base + "/"},
                       timeout=30)
    assert res.status_code == 200 and res.json() == []


def test_fastdb_session_posts_json_only(live_server, user):
    base = live_server.url
    session = login(base, "fastdbuser")
    res = session.post(f"{base}/spectrum/getknownspectruminfo", data="{}",
                       headers={"Content-Type": "text/plain"}, timeout=30)
    assert res.status_code == 415 and "application/json" in res.text
    res = session.post(f"{base}/db/runsqlquery/", data="query=SELECT+1", timeout=30,
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert res.status_code == 403 and "CSRF" in res.text
