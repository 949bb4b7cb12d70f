"""Schema ids from a real HTTP schema registry: looked up once, remembered, an outage retried later."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection
from live_messages import alert, broker_message, dia_object, encode, source

from desctom.core.bulkcopy import connect
from desctom.live.workers.schemas import RegistrySchemas, RegistryUnavailable
from desctom.survey.lsst_decode import AlertDecoder
from desctom.survey.lsst_schemas import broker_message_schema, confluent_frame

V = "lsst.v11_1"


class Registry:
    """A minimal Confluent schema registry: ``GET /schemas/ids/<id>``; counts the lookups."""

    def __init__(self, schemas: dict[int, dict]):
        registry = self
        self.asked: list[int] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                sid = int(self.path.rsplit("/", 1)[-1])
                registry.asked.append(sid)
                if sid not in schemas:
                    self.send_response(404)
                    self.end_headers()
                    self.wfile.write(b'{"error_code": 40403, "message": "Schema not found"}')
                    return
                body = json.dumps({"schema": json.dumps(schemas[sid])}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.django_db(transaction=True)
def test_registry_ids_are_looked_up_once_remembered_and_an_outage_is_retryable():
    registry = Registry({42: broker_message_schema(V)})
    database = {k: connection.settings_dict[k] for k in ("NAME", "USER", "PASSWORD", "HOST", "PORT")}
    try:
        lookup = RegistrySchemas(registry.url, lambda: connect(database, autocommit=True))
        decoder = AlertDecoder("brokermessage", wire="confluent", schema_for_id=lookup)
        src = source(V, 5001, 77, 61000.0, 12.0, 3.0)
        body = encode(broker_message(V, alert(V, src, obj=dia_object(V, 77, 12.0, 3.0))))
        batch = decoder.decode([confluent_frame(42, body), confluent_frame(42, body),
                                confluent_frame(7, body)])
        assert batch.messages["diasourceid"].to_list() == [5001, 5001]
        assert batch.bad == {2: "unknown schema id 7"}
        assert registry.asked == [42, 7]  # once per id and process
    finally:
        registry.stop()
    # registry gone: a new process decodes id 42 from the schema it remembered ...
    lookup = RegistrySchemas(registry.url, lambda: connect(database, autocommit=True), timeout=2)
    again = AlertDecoder("brokermessage", wire="confluent", schema_for_id=lookup)
    assert again.decode([confluent_frame(42, body)]).messages["diasourceid"].to_list() == [5001]
    # ... and an id it never saw is an outage (retry later), not a bad message
    with pytest.raises(RegistryUnavailable, match="unreachable"):
        again.decode([confluent_frame(43, body)])
