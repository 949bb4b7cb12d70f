"""TomClient: a small Python client for the DESC TOM web API.

A drop-in replacement for the original ``tom_client.py``: same constructor, same
``request``/``post``/``get``/``put`` calls, same ``requests.Response`` results, so existing
scripts only change their import. It adds token authentication, request timeouts, retries with
back-off on dropped connections and 502/503/504 answers, a transparent re-login when the
session expires, and a clear exception for a wrong password.

This module needs nothing but ``requests``: copy the file next to your script if you like.

Example::

    from desctom.client import TomClient
    tom = TomClient("http://127.0.0.1:8080", username="alice", passwordfile="~/.tompass")
    res = tom.post("db/runsqlquery/", json={"query": "SELECT COUNT(*) FROM elasticc2_ppdbdiaobject"})
    res.raise_for_status()
    print(res.json())
"""

from __future__ import annotations

import os
import time
from urllib.parse import urlsplit

import requests

__all__ = ["TomClient", "TomLoginError"]

RETRY_STATUSES = (502, 503, 504)
LOGIN_PAGE = "accounts/login/"


class TomLoginError(RuntimeError):
    """Logging in failed (wrong credentials, or the server did not behave like a TOM).

    A subclass of ``RuntimeError``, which is what the original client raised.
    """


class TomClient:
    """A logged-in HTTP session with a DESC TOM server.

    Parameters
    ----------
    url : base URL of the TOM, without trailing slash (one is stripped if given).
    username, password : credentials for the session login.
    passwordfile : file whose first line is the password (used when ``password`` is None).
    token : an API token (``POST /api/token-auth/``); replaces username/password entirely.
    connect : log in right away (else call :meth:`connect` yourself).
    timeout : seconds, or ``(connect, read)`` seconds, for every request (default 10 s / 300 s;
        the server's own limit is 300 s). A per-call ``timeout=`` overrides it.
    retries : how many times a request is repeated after a dropped connection or a 502/503/504.
        Note that a repeated POST may run twice on the server if only its answer was lost.
    backoff : seconds before the first retry; doubled each time.
    """

    def __init__(self, url="https://desc-tom.lbl.gov", username=None, password=None, passwordfile=None,
                 connect=True, token=None, timeout=(10, 300), retries=3, backoff=0.5):
        self._url = url.rstrip("/")
        self._username = username
        self._token = token
        self.timeout = timeout
        self.retries = max(0, int(retries))
        self.backoff = backoff
        self._password = None
        if token is None:
            if password is None:
                if passwordfile is None:
                    raise RuntimeError("Must give either password or passwordfile. ")
                with open(os.path.expanduser(passwordfile)) as ifp:
                    password = ifp.readline().strip()
            self._password = password
        self._session = None
        if connect:
            self.connect()

    @property
    def url(self) -> str:
        return self._url

    @property
    def session(self) -> requests.Session | None:
        """The underlying ``requests.Session`` (None before :meth:`connect`)."""
        return self._session

    # -- login ---------------------------------------------------------------------------------
    def connect(self) -> None:
        """Start a new session: log in with the password, or set the token header."""
        session = requests.Session()
        if self._token is not None:
            session.headers["Authorization"] = f"Token {self._token}"
            self._session = session
            return
        login_url = f"{self._url}/{LOGIN_PAGE}"
        res = self._send(session, "GET", login_url, timeout=self.timeout)
        if res.status_code != 200:
            raise TomLoginError(f"Got status {res.status_code} from first attempt to connect to {login_url}")
        csrftoken = session.cookies.get("csrftoken")
        if csrftoken is None:
            raise TomLoginError(f"{login_url} set no csrftoken cookie; is {self._url} a TOM?")
        res = self._send(session, "POST", login_url, timeout=self.timeout,
                         data={"username": self._username, "password": self._password,
                               "csrfmiddlewaretoken": csrftoken},
                         headers={"Referer": login_url})
        if res.status_code != 200:
            raise TomLoginError(f"Failed to log in; http status: {res.status_code}")
        if "Please enter a correct" in res.text or urlsplit(res.url).path.endswith("/" + LOGIN_PAGE):
            raise TomLoginError(f"Failed to log in to {self._url} as {self._username!r}: "
                                "wrong username or password")
        # Django rotates the CSRF token at login: send the new one with every unsafe request.
        session.headers["X-CSRFToken"] = session.cookies["csrftoken"]
        self._session = session

    # -- requests ------------------------------------------------------------------------------
    def _send(self, session, method, url, **kwargs) -> requests.Response:
        """One request with retries on dropped connections and 502/503/504."""
        delay = self.backoff
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                res = session.request(method, url, **kwargs)
            except (requests.ConnectionError, requests.Timeout):
                if last:
                    raise
            else:
                if res.status_code not in RETRY_STATUSES or last:
                    return res
            time.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")

    def _session_expired(self, res: requests.Response) -> bool:
        if self._token is not None:
            return False
        if res.status_code == 401:
            return True
        # An HTML page redirected us to the login form.
        return bool(res.history) and urlsplit(res.url).path.endswith("/" + LOGIN_PAGE)

    def request(self, method="GET", page=None, **kwargs) -> requests.Response:
        """Send ``method`` to ``{url}/{page}``; ``kwargs`` go to ``requests`` (``json=``, ``data=``, ...).

        Returns the ``requests.Response`` whatever its status, as the original client did.
        """
        if self._session is None:
            self.connect()
        kwargs.setdefault("timeout", self.timeout)
        target = f"{self._url}/{page}"
        res = self._send(self._session, method, target, **kwargs)
        if self._session_expired(res) and page != LOGIN_PAGE:
            self.connect()
            res = self._send(self._session, method, target, **kwargs)
        return res

    def post(self, page=None, **kwargs) -> requests.Response:
        """Shortcut for ``request("POST", page, ...)``."""
        return self.request("POST", page, **kwargs)

    def get(self, page=None, **kwargs) -> requests.Response:
        """Shortcut for ``request("GET", page, ...)``."""
        return self.request("GET", page, **kwargs)

    def put(self, page=None, **kwargs) -> requests.Response:
        """Shortcut for ``request("PUT", page, ...)``."""
        return self.request("PUT", page, **kwargs)
