"""Django settings of the DESC TOM project.

Built on the TOM Toolkit defaults; everything site-specific comes from environment
variables through :mod:`desctom.core.config` (no secret lives in the repository).
"""

import os
from datetime import timedelta
from pathlib import Path

from tom_common.default_settings import *  # noqa: F401,F403  (TOM Toolkit's mandatory apps and settings)
from tom_common.default_settings import AUTHENTICATION_BACKENDS as TOMTOOLKIT_AUTHENTICATION_BACKENDS
from tom_common.default_settings import TOMTOOLKIT_INSTALLED_APPS, TOMTOOLKIT_MIDDLEWARE

from desctom.core import config as _config
from desctom.core.staticassets import node_static_dirs, plotly_static_dir

CFG = _config.load()
PACKAGE_DIR = Path(__file__).resolve().parent

SECRET_KEY = _config.secret_key(CFG)
DEBUG = CFG.debug
ALLOWED_HOSTS = list(CFG.allowed_hosts)
CSRF_TRUSTED_ORIGINS = [f"http://{h}:{CFG.web_port}" for h in ("127.0.0.1", "localhost")]

TOM_NAME = "DESC TOM"

INSTALLED_APPS = [
    "desctom.web",  # first: its templates override the TOM Toolkit's (offline base page, login page)
    "axes",  # login throttling; before desctom.accounts, whose lock-out receiver must run after axes'
    "desctom.accounts",
    *TOMTOOLKIT_INSTALLED_APPS,
    "django.contrib.postgres",
    "desctom.elasticc2",
    "desctom.elasticc",
    "desctom.db",  # SQL API and long-query queue (label "db": table db_queryqueue)
    "desctom.live",  # the live Rubin stream (FASTDB table names: root_diaobject, diasource, ...)
    "desctom.metrics",  # campaign metrics computed by update_metrics (tables metrics_*)
    "bootstrap",  # django-bootstrap-static: Bootstrap served from the installed package
    "drf_spectacular",  # OpenAPI description at /api/schema/ (desctom.apidocs)
    "drf_spectacular_sidecar",  # Swagger UI / Redoc assets served locally (no CDN)
]

SITE_ID = 1

_FORBIDDEN_MW = "desctom.web.middleware.HtmlForbiddenRedirectMiddleware"
MIDDLEWARE = [
    TOMTOOLKIT_MIDDLEWARE[0],  # SecurityMiddleware
    # A JSON endpoint answers with or without its trailing slash (no redirect that drops a POST's body).
    "desctom.web.slashes.SlashTolerantMiddleware",
    # JSON answers gzip'd when the client accepts it (streamed ones piece by piece).
    "desctom.web.gzip.JsonGZipMiddleware",
    # An oversize request body is refused (413) before it is read (limits: DESCTOM_BODY_LIMITS below).
    "desctom.web.bodylimit.BodyLimitMiddleware",
    # A lost or refused database connection answers 503 with a message (sessions and logins included).
    "desctom.web.middleware.DatabaseUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # JSON 403s must reach programs as JSON, not as a redirect to the login page.
    *(_FORBIDDEN_MW if m.endswith(".Raise403Middleware") else m for m in TOMTOOLKIT_MIDDLEWARE[1:]),
    # Last: a login refused by django-axes becomes 429
    # (AXES_LOCKOUT_CALLABLE, desctom.accounts.http.throttle).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "desctom.urls"
WSGI_APPLICATION = "desctom.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "desctom.web.context.desctom_flags",  # desctom_is_admin, lazily
            ],
        },
    },
]

CRISPY_TEMPLATE_PACK = "bootstrap5"

DATABASES = {"default": CFG.database_settings()}
DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("DESCTOM_DB_CONN_MAX_AGE", "60"))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # a connection broken by a restart is replaced at once
# An unreachable server (not just a refused connection) must fail fast, into the 503 page, not hang.
DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 10)
# Issue 18: a read replica (hot standby) for users' SQL (desctom.db.queries.replica). The SQL API
# connects as the read-only role to its host/port/database; tests mirror it onto the default.
if CFG.sql_database_url:
    DATABASES["sqlreplica"] = {**CFG.replica_database_settings(), "CONN_MAX_AGE": 0,
                               "OPTIONS": {"connect_timeout": 10}, "TEST": {"MIRROR": "default"}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"  # what the TOM Toolkit's migrations were made with

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # not a check: stores the FASTDB login keys of every new password (desctom.live.http.fastdb_hooks)
    {"NAME": "desctom.live.http.fastdb_hooks.FastdbKeysOnPasswordChange"},
]

# Login throttling (django-axes, docs/authorization.md): failures counted per account and per
# address on every password check; the lock-out lasts the cool-off, even for the right password.
# (allauth's backend is replaced by a subclass that also makes FASTDB login keys for users without them.)
FASTDB_KEYS_BACKEND = "desctom.live.http.fastdb_hooks.FastdbKeysBackend"
AUTHENTICATION_BACKENDS = ["desctom.accounts.http.throttle.ThrottleBackend",
                           *(FASTDB_KEYS_BACKEND if b.startswith("allauth.account.") else b
                             for b in TOMTOOLKIT_AUTHENTICATION_BACKENDS)]
AXES_FAILURE_LIMIT = CFG.login_failure_limit
AXES_COOLOFF_TIME = timedelta(minutes=CFG.login_cooloff_minutes)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # the cool-off runs from the lock-out
AXES_LOCKOUT_CALLABLE = "desctom.accounts.http.throttle.lockout_response"
AXES_VERBOSE = False

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["tom_base.formats"]

# Request-body limits per kind of request (desctom.web.bodylimit refuses a bigger body with 413
# before reading it; docs/api.md). Django's own cap is the largest of them.
DESCTOM_BODY_LIMITS = {
    "default": CFG.max_body_bytes,
    "brokermessage": CFG.max_brokermessage_body_bytes,  # 10,000 messages (MAX_MESSAGES) with margin
    "upload": CFG.max_upload_body_bytes,
}
DATA_UPLOAD_MAX_MEMORY_SIZE = max(DESCTOM_BODY_LIMITS.values())

STATIC_URL = "/static/"
STATIC_ROOT = str(CFG.home / "static")
STATICFILES_DIRS = [plotly_static_dir(), *node_static_dirs()]
try:  # whitenoise warns about a missing STATIC_ROOT; files are found through the finders anyway
    Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)
except OSError:
    pass
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the installed packages too, so a missed collectstatic never breaks styling.
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = str(CFG.home / "media")
MEDIA_URL = "/data/"

# Bootstrap from the locally installed django-bootstrap-static package, never from a CDN.
BOOTSTRAP5 = {
    "css_url": {"url": "/static/bootstrap/css/bootstrap.min.css"},
    "javascript_url": {"url": "/static/bootstrap/js/bootstrap.bundle.min.js"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"timestamped": {"format": "[{asctime}] {levelname} {name}: {message}", "style": "{"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "timestamped"}},
    "root": {"handlers": ["console"], "level": "INFO"},
}

CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # follow-up answers kept under their data version (desctom.elasticc2.queries.answercache):
    # at most 24 answers of at most 16 MB (+ their gzip form) per web process
    "answers": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "answers",
                "OPTIONS": {"MAX_ENTRIES": 24}},
}
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

# TOM Toolkit configuration (reference §0: READ_ONLY strategy, target permissions only).
TARGET_TYPE = "SIDEREAL"
MATCH_MANAGERS = {}
FACILITIES = {}
TOM_FACILITY_CLASSES = []
DATA_PRODUCT_TYPES = {
    "photometry": ("photometry", "Photometry"),
    "spectroscopy": ("spectroscopy", "Spectroscopy"),
}
DATA_PROCESSORS = {
    "photometry": "tom_dataproducts.processors.photometry_processor.PhotometryProcessor",
    "spectroscopy": "tom_dataproducts.processors.spectroscopy_processor.SpectroscopyProcessor",
}
EXTRA_FIELDS = []
GENERAL_SEARCH_FUNCTIONS = {}
SELECTION_EXTRA_FIELDS = []
AUTH_STRATEGY = "READ_ONLY"
OPEN_URLS = []
TARGET_PERMISSIONS_ONLY = True
TARGET_DEFAULT_PERMISSION = "PRIVATE"
TARGET_LIST_COLUMNS = ["name", "type", "observations", "saved_data"]
HOOKS = {
    "target_post_save": "tom_common.hooks.target_post_save",
    "observation_change_state": "tom_common.hooks.observation_change_state",
    "data_product_post_upload": "tom_dataproducts.hooks.data_product_post_upload",
    "data_product_post_save": "tom_dataproducts.hooks.data_product_post_save",
    "multiple_data_products_post_save": "tom_dataproducts.hooks.multiple_data_products_post_save",
}
AUTO_THUMBNAILS = False
THUMBNAIL_MAX_SIZE = (0, 0)
THUMBNAIL_DEFAULT_SIZE = (200, 200)
HINTS_ENABLED = False
HINT_LEVEL = 20
PLOTLY_THEME = "plotly_white"
SHOW_PAGINATION_INFO = True

REST_FRAMEWORK = {
    # Order as in the original (reference §0): token first, so anonymous callers get 401, not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tom_common.accounts.api_auth.TomTokenAuthentication",
        "rest_framework.authentication.BasicAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

# OpenAPI description (/api/schema/, /api/docs/): DRF views by drf-spectacular, plain JSON views
# from the declarative registry in desctom.apidocs (merged in by its postprocessing hook).
SPECTACULAR_SETTINGS = {
    "TITLE": "DESC TOM API",
    "DESCRIPTION": "The JSON API of DESC TOM (ELAsTiCC2, ELAsTiCC, SQL, accounts). See docs/api_openapi.md.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "desctom.apidocs.hook.add_plain_views"],
}

# Groups every installation has (reference §0); new users join the first one.
DESCTOM_DEFAULT_GROUP = "Public"
DESCTOM_GROUPS = ("Public", "elasticc_admin", "elasticc_broker")

# Login is served by Django's LoginView on purpose (the original tom_client.py posts `username`,
# which django-allauth's form does not accept); two-factor authentication is not enabled here.
SILENCED_SYSTEM_CHECKS = ["tom_common.W003"]
