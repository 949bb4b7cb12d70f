"""Login throttling (issue 15 item 7, django-axes): failed logins are counted per account and per
address on the login form, ``POST /api/token-auth/`` and HTTP Basic authentication; once locked out,
even the right password gets 429 (JSON with Retry-After, a page for browsers) until an admin resets
the lock-out or the cool-off ends. Real HTTP (the live server), clients on distinct loopback addresses."""

import base64
import datetime
import time

import pytest
import requests
from django.contrib.auth.models import User
from django.core.management import call_command
from requests.adapters import HTTPAdapter
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "the right password 42"
LIMIT = 3


class FromAddress(HTTPAdapter):
    """Connections from a given loopback source address (127.0.0.x)."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def client(address: str) -> requests.Session:
    session = requests.Session()
    session.mount("http://", FromAddress(address))
    return session


@pytest.fixture
def throttled(settings, live_server):
    settings.AXES_FAILURE_LIMIT = LIMIT
    for name in ("alice", "bob", "carol", "dave"):
        User.objects.create_user(name, password=PASSWORD)
    return live_server.url


def form_login(session, url, username, password, html=False):
    session.get(f"{url}/accounts/login/", timeout=30)
    headers = {"Accept": "text/html"} if html else {"Accept": "application/json"}
    return session.post(f"{url}/accounts/login/", timeout=30, allow_redirects=False, headers=headers,
                        data={"username": username, "password": password,
                              "csrfmiddlewaretoken": session.cookies["csrftoken"]})


def assert_locked_json(res):
    assert res.status_code == 429, (res.status_code, res.text[:300])
    assert res.headers["Content-Type"] == "application/json"
    assert res.json()["error"].startswith(f"Too many failed logins: after {LIMIT} failures")
    assert res.headers["Retry-After"] == str(15 * 60) == str(res.json()["retry_after"])


def test_the_login_form_locks_an_account_out_from_any_address(throttled):
    url = throttled
    attacker = client("127.0.0.2")
    for _ in range(LIMIT - 1):
        res = form_login(attacker, url, "alice", "wrong")
        assert res.status_code == 200 and "Please enter a correct username and password" in res.text
    assert_locked_json(form_login(attacker, url, "alice", "wrong"))  # the LIMIT-th failure locks
    # alice herself, from elsewhere, with the right password: locked out; a browser gets a page
    alice = client("127.0.0.3")
    assert_locked_json(form_login(alice, url, "alice", PASSWORD))
    page = form_login(alice, url, "alice", PASSWORD, html=True)
    assert page.status_code == 429 and page.headers["Content-Type"].startswith("text/html")
    assert "Too many failed logins" in page.text and page.headers["Retry-After"] == str(15 * 60)
    # another account from another address is not concerned
    assert form_login(client("127.0.0.4"), url, "bob", PASSWORD).status_code == 302
    # an admin unlocks the account (django-axes' command): the right password works again
    call_command("axes_reset_username", "alice")
    assert form_login(client("127.0.0.3"), url, "alice", PASSWORD).status_code == 302


def test_token_auth_locks_an_address_out_whatever_the_account(throttled):
    url = throttled
    attacker = client("127.0.0.5")
    for name in ("nobody1", "nobody2", "nobody3"):  # a different (unknown) account each time
        res = attacker.post(f"{url}/api/token-auth/", data={"username": name, "password": "x"}, timeout=30)
    assert_locked_json(res)
    # carol's right password from the locked address: refused; from another address: her token
    carol = {"username": "carol", "password": PASSWORD}
    res = attacker.post(f"{url}/api/token-auth/", data=carol, timeout=30)
    assert_locked_json(res)
    res = client("127.0.0.6").post(f"{url}/api/token-auth/", data=carol, timeout=30)
    assert res.status_code == 200 and res.json()["token"]


def basic(username, password) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


def test_basic_auth_is_throttled_on_drf_and_desc_tom_views_until_the_cool_off(throttled, settings):
    url = throttled
    settings.AXES_COOLOFF_TIME = datetime.timedelta(seconds=3)
    attacker = client("127.0.0.7")
    whoami, drf = f"{url}/accounts/whoami/", f"{url}/api/targets/"
    assert attacker.get(whoami, headers=basic("dave", "wrong"), timeout=30).status_code == 401
    assert attacker.get(drf, headers=basic("dave", "wrong"), timeout=30).status_code in (401, 403)
    res = attacker.get(drf, headers=basic("dave", "wrong"), timeout=30)
    assert res.status_code == 429 and res.headers["Retry-After"] == "3"
    dave = client("127.0.0.8")
    for target in (whoami, drf):  # the right password, from another address: still locked
        res = dave.get(target, headers=basic("dave", PASSWORD), timeout=30)
        assert res.status_code == 429 and res.json()["retry_after"] == 3, (target, res.text[:200])
    # an API token is no password: it keeps working during a lock-out
    token = Token.objects.get_or_create(user=User.objects.get(username="dave"))[0].key
    res = dave.get(whoami, headers={"Authorization": f"Token {token}"}, timeout=30)
    assert res.status_code == 200 and res.json()["username"] == "dave"
    time.sleep(3.5)  # the cool-off ends: the right password works again
    res = dave.get(whoami, headers=basic("dave", PASSWORD), timeout=30)
    assert res.status_code == 200 and res.json()["username"] == "dave"
