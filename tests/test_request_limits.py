"""Request-body limits on a real gunicorn (as ``desctom up`` runs it): an oversize body is refused
with 413 naming the limit before it is read, and the worker's memory stays bounded."""

import base64
import http.client
import json
import os
import socket
import subprocess
import time
from urllib.parse import quote

import psutil
import pytest
import requests
from django.contrib.auth.models import Group, User
from django.db import connection

from desctom.accounts.queries.brokers import bind
from desctom.core import config
from desctom.localstack.procs import free_port
from desctom.localstack.services import web_service

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "a password for the body-limit tests"
MB = 1_000_000


@pytest.fixture
def server(tmp_path):
    """The web service of ``desctom up`` (gunicorn, gthread, one worker) on the test database."""
    db = connection.settings_dict
    env = {**os.environ, "DESCTOM_HOME": str(tmp_path), "DESCTOM_WEB_PORT": str(free_port()),
           "DESCTOM_WEB_WORKERS": "1", "DESCTOM_WEB_THREADS": "4",
           "DATABASE_URL": f"postgresql://{quote(db['USER'])}:{quote(db['PASSWORD'])}@{db['HOST']}:{db['PORT']}/"
                           f"{quote(db['NAME'])}"}
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        cfg = config.load()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    service = web_service(cfg)
    proc = subprocess.Popen(service.argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if requests.get(f"{cfg.web_url}/healthz?scope=web", timeout=30).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
        worker = psutil.Process(proc.pid).children()[0]
        yield cfg, worker
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def raw_request(port: int, head: str, body_chunks, read_after: int = 0) -> tuple[int, dict, int]:
    """Send ``head`` then the body pieces; return (status, JSON answer, body bytes sent before the answer).

    The answer is read after ``read_after`` pieces have been sent (the rest is sent afterwards)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sent = 0
    try:
        sock.sendall(head.encode())
        chunks = iter(body_chunks)
        for _ in range(read_after):
            piece = next(chunks)
            sock.sendall(piece)
            sent += len(piece)
        response = http.client.HTTPResponse(sock)
        response.begin()
        answer = json.loads(response.read())
        for piece in chunks:  # the client goes on sending; the server must not keep it
            try:
                sock.sendall(piece)
            except OSError:
                break
        return response.status, answer, sent
    finally:
        sock.close()


def rss(process) -> int:
    return process.memory_info().rss


def broker_auth() -> str:
    user = User.objects.create_user("limitbroker", password=PASSWORD)
    user.groups.add(Group.objects.get_or_create(name="elasticc_broker")[0])
    bind(user, ["LimitBroker"])
    return base64.b64encode(f"limitbroker:{PASSWORD}".encode()).decode()


def test_an_oversize_body_is_refused_before_it_is_read_and_the_worker_stays_small(server):
    cfg, worker = server
    auth = broker_auth()
    requests.get(f"{cfg.web_url}/elasticc2/brokermessage/1/", timeout=30)  # warm the worker up
    before = rss(worker)
    size = 200 * MB
    head = (f"PUT /elasticc2/brokermessage/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic {auth}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {size}\r\n\r\n")
    piece = b" " * MB
    # the answer comes after 1 MB of the 200 MB: the server did not wait for (read) the body
    status, body, sent = raw_request(cfg.web_port, head, (piece for _ in range(size // MB)), read_after=1)
    limit = cfg.max_brokermessage_body_bytes
    text = (f"request body too large: {size} bytes; the limit for a broker-message PUT is {limit} bytes "
            "(64 MB). Send the messages in several requests.")
    assert (status, body) == (413, {"error": text, "limit": limit})
    assert sent == MB
    after = rss(worker)
    print(f"worker RSS before {before / MB:.0f} MB, after a {size // MB} MB body {after / MB:.0f} MB")
    assert after - before < 30 * MB
    # other endpoints have the small default limit
    res = requests.post(f"{cfg.web_url}/db/runsqlquery/", data=b"x" * (cfg.max_body_bytes + 1), timeout=30)
    assert res.status_code == 413 and res.json()["limit"] == cfg.max_body_bytes


def chunked(pieces):
    for piece in pieces:
        yield f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    yield b"0\r\n\r\n"


def test_a_chunked_body_is_bounded_too_and_one_that_fits_is_read(server):
    cfg, worker = server
    auth = broker_auth()
    before = rss(worker)
    head = ("POST /db/runsqlquery/ HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
            f"Authorization: Basic {auth}\r\nContent-Type: application/json\r\n\r\n")
    status, body, _ = raw_request(cfg.web_port, head, chunked([b" " * MB] * 100), read_after=10)
    assert status == 413 and body["limit"] == cfg.max_body_bytes
    assert body["error"].startswith(f"request body too large: more than {cfg.max_body_bytes} bytes (chunked)")
    assert rss(worker) - before < 30 * MB
    message = {"alertId": 7, "diaSourceId": 7, "elasticcPublishTimestamp": 1_700_000_000_000,
               "brokerIngestTimestamp": 1_700_000_001_000, "brokerName": "LimitBroker", "brokerVersion": "1",
               "classifierName": "c", "classifierParams": "p",
               "classifications": [{"classId": 2222, "probability": 1.0}]}
    data = json.dumps([message]).encode()
    head = ("PUT /elasticc2/brokermessage/ HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
            f"Authorization: Basic {auth}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
    status, body, _ = raw_request(cfg.web_port, head, chunked([data[:50], data[50:]]), read_after=3)
    assert status == 201 and body["num_loaded"] == 1, body
