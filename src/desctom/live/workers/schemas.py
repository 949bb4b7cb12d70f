"""Schemas of Confluent-framed messages: from a schema registry, remembered in the database.

A schema id is looked up once per process: first in ``live_streamschema`` (so a registry outage
or a restart does not stop decoding), then at ``GET <registry>/schemas/ids/<id>`` (the Confluent
Schema Registry API), and kept. A registry that does not answer raises
:class:`RegistryUnavailable`: the poller keeps the batch and retries, nothing is skipped. An id
the registry does not know (404) is ``None``: those messages are quarantined.
"""

from __future__ import annotations

import json
import logging

import psycopg
import requests

from desctom.survey.lsst_schemas import SchemaError, flatten_registry_schema

log = logging.getLogger("desctom.live")


class RegistryUnavailable(RuntimeError):
    """The schema registry could not be asked (network, 5xx): retry later."""


class RegistrySchemas:
    """``schema_for_id`` for :class:`~desctom.survey.lsst_decode.AlertDecoder` backed by a registry."""

    def __init__(self, url: str, connect, timeout: float = 10.0):
        self.url = url.rstrip("/")
        self.connect = connect  # () -> psycopg.Connection (autocommit) for the schema table
        self.timeout = timeout

    def __call__(self, registry_id: int) -> dict | None:
        text = self._stored(registry_id)
        if text is None:
            text = self._fetch(registry_id)
            if text is None:
                return None
            self._store(registry_id, text)
        try:
            return flatten_registry_schema(text)
        except SchemaError as exc:
            log.warning("schema %d of %s cannot be used: %s", registry_id, self.url, exc)
            return None

    def _fetch(self, registry_id: int) -> str | None:
        try:
            reply = requests.get(f"{self.url}/schemas/ids/{registry_id}", timeout=self.timeout)
        except requests.RequestException as exc:
            raise RegistryUnavailable(f"schema registry {self.url} unreachable: {exc}") from None
        if reply.status_code == 404:
            return None
        if reply.status_code != 200:
            raise RegistryUnavailable(f"schema registry {self.url} answered {reply.status_code}")
        try:
            return reply.json()["schema"]
        except (ValueError, KeyError, TypeError):
            log.warning("schema registry %s: no schema in the answer for id %d", self.url, registry_id)
            return None

    def _stored(self, registry_id: int) -> str | None:
        try:
            with self.connect() as conn, conn.cursor() as cur:
                cur.execute("SELECT schema FROM live_streamschema WHERE registry = %s AND schemaid = %s",
                            (self.url, registry_id))
                row = cur.fetchone()
        except psycopg.Error:
            return None
        return None if row is None else json.dumps(row[0])

    def _store(self, registry_id: int, text: str) -> None:
        try:
            with self.connect() as conn, conn.cursor() as cur:
                cur.execute("""INSERT INTO live_streamschema (registry, schemaid, schema, fetched_at)
                               VALUES (%s, %s, %s::jsonb, now()) ON CONFLICT DO NOTHING""",
                            (self.url, registry_id, text))
        except psycopg.Error as exc:
            log.info("cannot remember schema %d of %s (%s)", registry_id, self.url, exc)
