"""Settings, all from the environment (django-environ). Every variable is listed in .env.example.

The defaults are the embedded mode: SQLite in var/, django-q2 on its ORM broker, mail to the
console. DATABASE_URL switches to PostgreSQL, REDIS_URL switches the task broker to Redis.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"


def postgresql_statement_options(*, prepared: bool) -> dict:
    """psycopg OPTIONS: server-side binding and prepared statements, or Django's defaults.

    Parsing and planning every statement anew cost PostgreSQL about a third of its CPU per webhook and a
    quarter per synced event, and quoting every parameter into the SQL text cost the web process (issue 14).
    Real Python values: a DATABASE_URL query string would give the string 'true', and Django checks
    `server_side_binding is True`. Off for a transaction-pooling PgBouncer older than 1.21 (or with
    max_prepared_statements = 0), which cannot keep a prepared statement with its server connection.
    """
    if prepared:
        return {"server_side_binding": True, "prepare_threshold": 2}
    return {"server_side_binding": False, "prepare_threshold": None}


env = environ.Env()
env_file = BASE_DIR / ".env"
if env_file.exists():
    env.read_env(str(env_file))

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="") or (
    "dev-only-insecure-key-change-me-0123456789-abcdefghijklmnopqrstuvwxyz" if DEBUG else ""
)
if not SECRET_KEY:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG=false.")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "formation_hub.apps.OpsAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    # Only for its migration history: API tokens are formation_hub.ApiToken (digests), see its 0008.
    "rest_framework.authtoken",
    "drf_spectacular",
    # Before django_q: its `qcluster` command is formation_hub's (with the stall guard).
    "formation_hub.apps.FormationHubConfig",
    "django_q",
    "axes",
    "sync",
    "incidents",
    "releases",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "formation_hub.observability.middleware.CorrelationIdMiddleware",
    "formation_hub.observability.middleware.OrganisationTimeZoneMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "formation_hub.urls"
WSGI_APPLICATION = "formation_hub.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "formation_hub.console.context_processors.organisation",
                "incidents.status.banner.status_banner_context",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'formation_hub.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(exist_ok=True)
    # WAL and a busy timeout let the web server and the django-q2 cluster share the file. The wait is
    # bounded well under Baserow's 5 s webhook timeout, so a held lock fails fast and is retried.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": env.float("SQLITE_BUSY_TIMEOUT", default=2),
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["OPTIONS"] = {
        **DATABASES["default"].get("OPTIONS", {}),
        **postgresql_statement_options(prepared=env.bool("DATABASE_PREPARED_STATEMENTS", default=True)),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling (django-axes): a username is locked out from one address after repeated failures.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # no start-up banner on every management command
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_IPWARE_PROXY_COUNT = env.int("LOGIN_PROXY_COUNT", default=0) or None
AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/oncall/"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"
# The console's date formats (formation_hub/formats/en): one format with the zone's name everywhere.
FORMAT_MODULE_PATH = ["formation_hub.formats"]
# The organisation's zone: times are stored in UTC and shown in this zone.
ORGANISATION_TIME_ZONE = env.str("ORGANISATION_TIME_ZONE", default="Europe/Paris")

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "formation_hub" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="formation-hub <ops@formation-hub.local>")
# Where notifications "to the admins" go when no user address is given.
OPS_ADMIN_EMAILS = env.list("OPS_ADMIN_EMAILS", default=["ops@formation-hub.local"])

# Team channel: Slack- and Teams-compatible incoming webhooks (empty: channel notifications are skipped).
TEAM_CHANNEL_WEBHOOK_URL = env.str("TEAM_CHANNEL_WEBHOOK_URL", default="")
TEAM_CHANNEL_FLAVOUR = env.str("TEAM_CHANNEL_FLAVOUR", default="slack")  # slack | teams
NOTIFICATION_MAX_ATTEMPTS = env.int("NOTIFICATION_MAX_ATTEMPTS", default=5)
# Pages also go to a pager: an ntfy topic URL (https://ntfy.sh/<topic>) or a PagerDuty-compatible Events
# API v2 endpoint (https://events.pagerduty.com/v2/enqueue, routing key in PAGER_ROUTING_KEY).
PAGER_WEBHOOK_URL = env.str("PAGER_WEBHOOK_URL", default="")
PAGER_FLAVOUR = env.str("PAGER_FLAVOUR", default="ntfy")  # ntfy | pagerduty
PAGER_ROUTING_KEY = env.str("PAGER_ROUTING_KEY", default="")
PAGER_TOKEN = env.str("PAGER_TOKEN", default="")  # ntfy access token, sent as a Bearer token when set

# Task queue: django-q2 on the ORM broker by default, on Redis when REDIS_URL is set.
REDIS_URL = env.str("REDIS_URL", default="")
Q_CLUSTER = {
    "name": "formation_hub",
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": env.int("Q_TIMEOUT", default=120),
    "retry": env.int("Q_RETRY", default=180),
    "max_attempts": 1,
    "catch_up": False,
    # -1: successful task results are not stored (the sync keeps its own evidence on each event); with a
    # positive limit the monitor locks and prunes up to that many stored results after every task.
    "save_limit": env.int("Q_SAVE_LIMIT", default=-1),
    "ack_failures": True,
    "poll": 0.5,
    "label": "Task queue",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
# A cluster that ran no task for this long while tasks wait exits, for its supervisor to start a new one
# (formation_hub.observability.cluster_guard); longer than a task may run; 0 turns the guard off.
Q_STALL_SECONDS = env.int("Q_STALL_SECONDS", default=max(300, 2 * Q_CLUSTER["timeout"]))
# Above this age the worker heartbeat makes /healthz fail.
WORKER_HEARTBEAT_MAX_AGE = env.int("WORKER_HEARTBEAT_MAX_AGE", default=180)
# /healthz shows each check's detail to signed-in staff and to callers sending this token
# (`Authorization: Bearer <token>`); anyone else reads the status of each check only.
HEALTHZ_TOKEN = env.str("HEALTHZ_TOKEN", default="")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "formation_hub.access.api_tokens.ApiTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "formation_hub.api.errors.exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "formation_hub.api.errors.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "formation-hub API",
    "DESCRIPTION": "Webhooks, alerts and on-call endpoints of the formation-hub ops console.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

# Production hardening: on whenever DEBUG is off, so check --deploy passes with no warning.
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {
        "mask_secrets": {"()": "formation_hub.observability.log_masking.SecretMaskingFilter"},
        "short_client_errors": {"()": "formation_hub.observability.log_refusals.ShortClientErrors"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["mask_secrets"]},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # The development server's access log, through the same masking handler (?token= never printed).
    "loggers": {
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # Once, through the masking handler; a refused request on one line, without its traceback.
        "django.request": {"handlers": ["console"], "level": "INFO", "propagate": False,
                           "filters": ["short_client_errors"]},
    },
}
