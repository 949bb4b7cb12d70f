"""Connection resets seen by keep-alive clients of the web server (issue 15, item 8).

Several threads each keep one HTTP/1.1 connection open (as a ``requests.Session`` or a urllib3 pool
does) and send bursts of requests separated by idle pauses drawn around the server's keep-alive
timeout: a request sent on a connection the server is closing at that moment fails with a reset
(``RemoteDisconnected`` / ``ConnectionResetError`` / ``BrokenPipeError``), which a client that does
not retry reports as an error. Prints the resets per N requests.

Run against a running system (``desctom up``; the address comes from the usual configuration)::

    python benchmarks/keepalive.py --requests 3000 --threads 16
    python benchmarks/keepalive.py --url http://127.0.0.1:8080/healthz?scope=web --idle 1.5 2.5
"""

from __future__ import annotations

import argparse
import http.client
import random
import threading
import time
from urllib.parse import urlsplit

RESETS = (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected, ConnectionAbortedError)


class Totals:
    def __init__(self):
        self.lock = threading.Lock()
        self.sent = self.ok = self.resets = self.other = 0
        self.kinds: dict[str, int] = {}

    def add(self, outcome: str, kind: str | None = None) -> None:
        with self.lock:
            self.sent += 1
            setattr(self, outcome, getattr(self, outcome) + 1)
            if kind:
                self.kinds[kind] = self.kinds.get(kind, 0) + 1


def client(url: str, quota: int, burst: int, idle: tuple[float, float], totals: Totals, seed: int) -> None:
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    rng = random.Random(seed)
    conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=30)
    done = 0
    while done < quota:
        for _ in range(min(burst, quota - done)):
            done += 1
            try:
                conn.request("GET", path, headers={"Connection": "keep-alive"})
                res = conn.getresponse()
                res.read()
                good = res.status == 200
                totals.add("ok" if good else "other", None if good else str(res.status))
            except RESETS as exc:
                totals.add("resets", exc.__class__.__name__)
                conn.close()  # a new connection for the next request, as a pool would
            except (OSError, http.client.HTTPException) as exc:
                totals.add("other", exc.__class__.__name__)
                conn.close()
        time.sleep(rng.uniform(*idle))
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="default: /healthz?scope=web of the configured web server")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--burst", type=int, default=10, help="requests sent back to back between pauses")
    parser.add_argument("--idle", type=float, nargs=2, default=(1.5, 2.5), metavar=("MIN", "MAX"),
                        help="idle pause between bursts, seconds (default 1.5 2.5: around gunicorn's "
                             "former 2 s keep-alive)")
    args = parser.parse_args()
    url = args.url
    if url is None:
        from desctom.core import config

        url = f"{config.load().web_url}/healthz?scope=web"
    totals = Totals()
    per = [args.requests // args.threads + (1 if k < args.requests % args.threads else 0)
           for k in range(args.threads)]
    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(url, n, args.burst, tuple(args.idle), totals, k))
               for k, n in enumerate(per)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.monotonic() - started
    print(f"{url}: {totals.resets} resets per {totals.sent} requests ({totals.ok} ok, {totals.other} other "
          f"{totals.kinds or ''}); {args.threads} threads, bursts of {args.burst}, idle "
          f"{args.idle[0]:g}-{args.idle[1]:g} s; {took:.1f} s")


if __name__ == "__main__":
    main()
