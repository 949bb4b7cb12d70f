"""Throwaway PostgreSQL clusters and tansu brokers on free ports, for tests."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from desctom.localstack.kafka import LocalKafka
from desctom.localstack.postgres import LocalPostgres
from desctom.localstack.procs import free_port


class ThrowawayPostgres(LocalPostgres):
    """A fresh cluster in its own temporary folder; :meth:`destroy` stops it and removes the folder."""

    def __init__(self, dbname: str = "desctom"):
        self.base = Path(tempfile.mkdtemp(prefix="desctom-pg-"))
        self.base.chmod(0o755)
        super().__init__(self.base / "pgdata", free_port(), "desctom", self.base / "pg_password", dbname,
                         sizing="small")

    def django_settings(self) -> dict:
        return {"NAME": self.dbname, "USER": self.user, "PASSWORD": self.password(),
                "HOST": "127.0.0.1", "PORT": str(self.port)}

    def destroy(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


class ThrowawayKafka(LocalKafka):
    """A tansu broker on a free port, logging to a temporary file."""

    def __init__(self):
        self.base = Path(tempfile.mkdtemp(prefix="desctom-kafka-"))
        super().__init__(free_port(), self.base / "tansu.log")

    def destroy(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.base, ignore_errors=True)
