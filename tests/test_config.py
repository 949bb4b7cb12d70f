"""Configuration from environment variables."""

import pytest

from desctom.core import config


def test_defaults(monkeypatch):
    for name in ("DESCTOM_WEB_PORT", "DESCTOM_PG_PORT", "DESCTOM_KAFKA_PORT", "DESCTOM_ADMIN_USER"):
        monkeypatch.delenv(name, raising=False)
    cfg = config.load()
    assert (cfg.web_port, cfg.pg_port, cfg.kafka_port, cfg.admin_user) == (8080, 5433, 9092, "admin")
    assert cfg.embedded_db and cfg.embedded_kafka
    assert cfg.kafka_bootstrap == "127.0.0.1:9092"


def test_ports_and_external_services(monkeypatch):
    monkeypatch.setenv("DESCTOM_WEB_PORT", "9000")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p%40ss@db.example:6543/tom")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "k1:9092,k2:9092")
    cfg = config.load()
    assert cfg.web_port == 9000 and not cfg.embedded_db and not cfg.embedded_kafka
    assert cfg.database_settings() == {"ENGINE": "django.db.backends.postgresql", "NAME": "tom", "USER": "u",
                                       "PASSWORD": "p@ss", "HOST": "db.example", "PORT": "6543"}
    assert cfg.kafka_bootstrap == "k1:9092,k2:9092"


@pytest.mark.parametrize("value, message", [("http", "not a port"), ("0", "outside"), ("70000", "outside")])
def test_bad_port_names_the_variable(monkeypatch, value, message):
    monkeypatch.setenv("DESCTOM_PG_PORT", value)
    with pytest.raises(config.ConfigError, match=f"DESCTOM_PG_PORT.*{message}"):
        config.load()


@pytest.mark.parametrize("url, message", [("mysql://x@h/db", "postgresql://"),
                                          ("postgresql://u@h:5432/", "no database")])
def test_bad_database_url(url, message):
    with pytest.raises(config.ConfigError, match=message):
        config.parse_database_url(url)


def test_redact_url_hides_password():
    assert config.redact_url("postgresql://u:secret@h:1/db") == "postgresql://u:***@h:1/db"
    assert config.redact_url("postgresql://u@h/db") == "postgresql://u@h/db"


def test_secret_key_generated_once_and_private(tmp_path, monkeypatch):
    monkeypatch.setenv("DESCTOM_HOME", str(tmp_path))
    monkeypatch.delenv("DJANGO_SECRET_KEY", raising=False)
    cfg = config.load()
    first = config.secret_key(cfg)
    assert len(first) > 40 and config.secret_key(cfg) == first
    assert oct(cfg.secret_key_file.stat().st_mode & 0o777) == "0o600"
    monkeypatch.setenv("DJANGO_SECRET_KEY", "from-env")
    assert config.secret_key(cfg) == "from-env"


def test_sql_replica_defaults(monkeypatch):
    for name in ("DESCTOM_SQL_DATABASE_URL", "DESCTOM_SQL_REPLICA_MAX_LAG_SECONDS",
                 "DESCTOM_SQL_REPLICA_FALLBACK", "DESCTOM_PG_REPLICA_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DESCTOM_PG_PORT", "6000")
    cfg = config.load()
    assert cfg.sql_database_url is None and cfg.replica_database_settings() is None
    assert (cfg.sql_replica_max_lag, cfg.sql_replica_fallback, cfg.replica_port) == (30, "", 6001)


def test_sql_replica_settings(monkeypatch):
    monkeypatch.setenv("DESCTOM_SQL_DATABASE_URL", "postgresql://ro:s%40cret@replica.example:6544/tom")
    monkeypatch.setenv("DESCTOM_SQL_REPLICA_MAX_LAG_SECONDS", "5")
    monkeypatch.setenv("DESCTOM_SQL_REPLICA_FALLBACK", "Primary")
    monkeypatch.setenv("DESCTOM_PG_REPLICA_PORT", "7000")
    cfg = config.load()
    assert cfg.replica_database_settings() == {"ENGINE": "django.db.backends.postgresql", "NAME": "tom",
                                               "USER": "ro", "PASSWORD": "s@cret", "HOST": "replica.example",
                                               "PORT": "6544"}
    assert (cfg.sql_replica_max_lag, cfg.sql_replica_fallback, cfg.replica_port) == (5, "primary", 7000)


@pytest.mark.parametrize("name, value, message", [
    ("DESCTOM_SQL_DATABASE_URL", "mysql://h/db", "DESCTOM_SQL_DATABASE_URL must start with postgresql://"),
    ("DESCTOM_SQL_DATABASE_URL", "postgresql://h:5432/", "DESCTOM_SQL_DATABASE_URL names no database"),
    ("DESCTOM_SQL_DATABASE_URL", "postgresql://h:port/db", "DESCTOM_SQL_DATABASE_URL has an invalid port"),
    ("DESCTOM_SQL_REPLICA_MAX_LAG_SECONDS", "-3", "DESCTOM_SQL_REPLICA_MAX_LAG_SECONDS.*positive integer"),
    ("DESCTOM_SQL_REPLICA_MAX_LAG_SECONDS", "soon", "DESCTOM_SQL_REPLICA_MAX_LAG_SECONDS.*positive integer"),
    ("DESCTOM_SQL_REPLICA_FALLBACK", "replica", "DESCTOM_SQL_REPLICA_FALLBACK.*'primary' or empty"),
    ("DESCTOM_PG_REPLICA_PORT", "99999", "DESCTOM_PG_REPLICA_PORT.*outside"),
])
def test_bad_sql_replica_setting_names_the_variable(monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(config.ConfigError, match=message):
        config.load()
