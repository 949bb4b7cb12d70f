"""TomClient against a live server (real HTTP), and against a fault-injecting one for retries."""

import http.server
import json
import socket
import threading

import pytest
import requests
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from rest_framework.authtoken.models import Token

from desctom.client import TomClient, TomLoginError

PASSWORD = "correct horse battery staple"


@pytest.fixture
def alice(transactional_db):
    return User.objects.create_user("alice", password=PASSWORD)


def test_password_login_and_json_post_get(live_server, alice):
    tom = TomClient(live_server.url, username="alice", password=PASSWORD)
    res = tom.post("accounts/whoami/", json={"hello": "world"})
    assert res.status_code == 200
    assert res.json()["username"] == "alice"
    assert tom.get("accounts/whoami/").json()["groups"] == ["Public"]
    assert tom.get("api/targets/").json()["results"] == []


def test_trailing_slash_in_url_is_tolerated(live_server, alice):
    tom = TomClient(live_server.url + "/", username="alice", password=PASSWORD)
    assert tom.get("accounts/whoami/").status_code == 200


def test_passwordfile_login(live_server, alice, tmp_path):
    pwfile = tmp_path / "tompass"
    pwfile.write_text(PASSWORD + "\nsecond line ignored\n")
    tom = TomClient(live_server.url, username="alice", passwordfile=str(pwfile))
    assert tom.get("accounts/whoami/").json()["username"] == "alice"


def test_missing_password_and_passwordfile_is_the_original_error():
    with pytest.raises(RuntimeError, match="Must give either password or passwordfile"):
        TomClient("http://127.0.0.1:1", username="alice", connect=False)


def test_token_auth(live_server, alice):
    token, _ = Token.objects.get_or_create(user=alice)
    tom = TomClient(live_server.url, token=token.key)
    assert tom.post("accounts/whoami/", json={}).json()["username"] == "alice"
    assert tom.get("api/targets/").status_code == 200


def test_wrong_password_raises(live_server, alice):
    with pytest.raises(TomLoginError, match="wrong username or password") as exc:
        TomClient(live_server.url, username="alice", password="not it")
    assert isinstance(exc.value, RuntimeError)  # what the original client raised


def test_expired_session_is_renewed(live_server, alice):
    tom = TomClient(live_server.url, username="alice", password=PASSWORD)
    assert tom.get("accounts/whoami/").status_code == 200
    Session.objects.all().delete()  # the server forgets every session
    res = tom.post("accounts/whoami/", json={})
    assert res.status_code == 200 and res.json()["username"] == "alice"
    Session.objects.all().delete()
    res = tom.get("users/")  # an HTML page that redirects to the login form
    assert res.status_code == 200 and "/accounts/login/" not in res.url


class FlakyHandler(http.server.BaseHTTPRequestHandler):
    """Drops the first ``drops`` connections without an answer, then answers ``statuses`` in turn."""

    def do_GET(self):  # noqa: N802 - http.server's naming
        server = self.server
        server.hits += 1
        if server.drops > 0:
            server.drops -= 1
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        status = server.statuses.pop(0) if server.statuses else 200
        body = json.dumps({"hit": server.hits}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def flaky_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FlakyHandler)
    server.hits, server.drops, server.statuses = 0, 0, []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_dropped_connection_is_retried(flaky_server):
    flaky_server.drops = 2
    tom = TomClient(f"http://127.0.0.1:{flaky_server.server_address[1]}", token="x", retries=3, backoff=0.01)
    res = tom.get("anything")
    assert res.status_code == 200 and res.json() == {"hit": 3}


def test_gateway_errors_are_retried(flaky_server):
    flaky_server.statuses = [502, 503, 504]
    tom = TomClient(f"http://127.0.0.1:{flaky_server.server_address[1]}", token="x", retries=3, backoff=0.01)
    assert tom.get("anything").json() == {"hit": 4}


def test_retries_give_up(flaky_server):
    flaky_server.drops = 10
    tom = TomClient(f"http://127.0.0.1:{flaky_server.server_address[1]}", token="x", retries=2, backoff=0.01)
    with pytest.raises(requests.ConnectionError):
        tom.get("anything")
    assert flaky_server.hits == 3
    flaky_server.statuses = [503, 503, 503]
    flaky_server.drops = 0
    assert tom.get("anything").status_code == 503  # the last answer is returned, as requests would


def test_timeout_applies(flaky_server):
    tom = TomClient(f"http://127.0.0.1:{flaky_server.server_address[1]}", token="x", timeout=5)
    assert tom.get("anything", timeout=2).status_code == 200
