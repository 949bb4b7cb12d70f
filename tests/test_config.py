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
