"""cxgov settings, read from the environment.

With no variables set this is the embedded default (DESIGN.md): SQLite under
``var/``, Celery on kombu's filesystem transport under ``var/``, email written to
``var/mail/``. Set ``DATABASE_URL``, ``CELERY_BROKER_URL``, ``REDIS_URL`` and the
``EMAIL_*`` variables to run the same code on PostgreSQL, Redis and SMTP.
Misconfiguration stops start-up with a message that says what to fix.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()


def _bool(name: str, default: bool) -> bool:
    raw = env.str(name, default="")
    if raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean: use 1/0, true/false, yes/no or on/off.")


def _int(name: str, default: int) -> int:
    raw = env.str(name, default="")
    if raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None


DEBUG = _bool("DEBUG", True)
PRODUCTION = not DEBUG  # as started; test runners switch DEBUG off but this stays
VAR_DIR = Path(env.str("CXGOV_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# --- Secrets and hosts ------------------------------------------------------
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Production mode (DEBUG=0) needs a long random secret key, e.g. "
            "SECRET_KEY=$(python -c 'import secrets; print(secrets.token_urlsafe(50))')."
        )
    SECRET_KEY = "django-insecure-embedded-development-key-not-for-production"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[] if not DEBUG else ["localhost", "127.0.0.1", "[::1]"])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS is not set. Production mode (DEBUG=0) needs the host names it serves, "
        "comma-separated, e.g. ALLOWED_HOSTS=cx.example.com."
    )
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The real customer data beside the project (never copied into it); the demo reads it.
SHARED_DATA_DIR = Path(env.str("SHARED_DATA_DIR", default=str(BASE_DIR.parent / "shared" / "data")))
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# --- Applications -----------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_celery_beat",
    "django_celery_results",
    "simple_history",
    "cxgov",
    "metrics",
    "outcomes",
    "rootcause",
    "digests",
    "alerts",
    "ownership",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "cxgov.urls"
WSGI_APPLICATION = "cxgov.wsgi.application"
AUTH_USER_MODEL = "cxgov.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

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
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
_SUPPORTED_DB_SCHEMES = ("postgres://", "postgresql://", "pgsql://", "sqlite://")


def _redacted(url: str) -> str:
    """The URL with any password replaced, for error messages."""
    import re

    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def _database() -> dict:
    url = env.str("DATABASE_URL", default="")
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "cxgov.sqlite3",
            "TEST": {"NAME": str(VAR_DIR / "test-cxgov.sqlite3")},
        }
    if not url.startswith(_SUPPORTED_DB_SCHEMES):
        raise ImproperlyConfigured(
            f"DATABASE_URL={_redacted(url)!r} is not a supported database URL. Use "
            "postgres://USER:PASSWORD@HOST:PORT/NAME (or sqlite:////absolute/path.sqlite3), "
            "or unset it to use the embedded SQLite database under var/."
        )
    try:
        config = env.db_url_config(url)
    except Exception as exc:  # django-environ raises several types for bad URLs
        raise ImproperlyConfigured(f"DATABASE_URL={_redacted(url)!r} could not be parsed ({exc}).") from None
    if not config.get("NAME") or config["NAME"] == ":memory:":
        raise ImproperlyConfigured(
            f"DATABASE_URL={_redacted(url)!r} names no database: add /NAME at the end "
            "(for SQLite an absolute path: sqlite:////srv/cxgov/db.sqlite3)."
        )
    if config["ENGINE"] == "django.db.backends.postgresql":
        config.setdefault("CONN_MAX_AGE", _int("CONN_MAX_AGE", 60))
        config["CONN_HEALTH_CHECKS"] = True
    return config


_db = _database()
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while a worker writes; IMMEDIATE transactions and a
    # busy timeout make concurrent writers wait instead of failing with "database is locked".
    _db["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Auth -------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalisation ---------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Static files -------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
_NODE = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", _NODE / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", _NODE / "bootstrap-icons" / "font"),
    ("vendor/htmx", _NODE / "htmx.org" / "dist"),
    ("vendor/chart.js", _NODE / "chart.js" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = VAR_DIR / "media"
# Uploaded data files larger than this are refused with a message (the bulk API takes the rest).
IMPORT_MAX_BYTES = _int("IMPORT_MAX_MB", 100) * 1_000_000
FILE_UPLOAD_MAX_MEMORY_SIZE = 5_000_000  # larger uploads stream to a temporary file
# The bulk API takes up to 10,000 rows a request, comments included.
DATA_UPLOAD_MAX_MEMORY_SIZE = 25_000_000

# --- Email ----------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="cxgov <cxgov@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if env.str("EMAIL_HOST", default=""):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env.str("EMAIL_HOST")
    EMAIL_PORT = _int("EMAIL_PORT", 25)
    EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
    EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
    EMAIL_USE_TLS = _bool("EMAIL_USE_TLS", False)
    EMAIL_USE_SSL = _bool("EMAIL_USE_SSL", False)
    EMAIL_TIMEOUT = _int("EMAIL_TIMEOUT", 30)
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"

# --- Celery ------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or REDIS_URL or "filesystem://"
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = Path(env.str("CELERY_BROKER_DIR", default=str(VAR_DIR / "broker")))
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        "control_folder": str(_broker_dir / "control"),
    }
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_BEAT_SCHEDULER = "cxgov.beat:HeartbeatDatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = _int("CELERY_TASK_TIME_LIMIT", 30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = _int("CELERY_TASK_SOFT_TIME_LIMIT", 25 * 60)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Beat checks in as it ticks, and sends the heartbeat task that a worker records; a worker or
# beat that has not checked in for HEALTH_HEARTBEAT_MAX_AGE seconds is reported unhealthy.
HEARTBEAT_INTERVAL = _int("HEARTBEAT_INTERVAL", 30)
HEALTH_HEARTBEAT_MAX_AGE = _int("HEALTH_HEARTBEAT_MAX_AGE", max(120, 4 * HEARTBEAT_INTERVAL))
# The one place periodic work is defined; beat copies it into django-celery-beat's tables,
# where administrators can change the schedules.
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {
        "task": "cxgov.heartbeat",
        "schedule": HEARTBEAT_INTERVAL,
        "options": {"expires": HEARTBEAT_INTERVAL * 2},
    },
    "requeue-stuck-imports": {"task": "metrics.requeue_stuck_imports", "schedule": 5 * 60},
    "verify-issues": {"task": "rootcause.verify_issues", "schedule": 60 * 60},
    # Every 5 minutes: each person's digest leaves within minutes of their local hour.
    "send-digests": {"task": "digests.send_due", "schedule": 5 * 60, "options": {"expires": 4 * 60}},
    "alerts-requeue-stuck": {"task": "alerts.requeue_stuck", "schedule": _int("ALERTS_REQUEUE_INTERVAL", 5 * 60)},
}
# An alert evaluation (or its message) with no change of status for this many seconds is sent again.
ALERTS_STUCK_AFTER = _int("ALERTS_STUCK_AFTER", 10 * 60)

# --- REST API --------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["cxgov.lib.permissions.ObjectPermission"],
    "DEFAULT_FILTER_BACKENDS": [
        "cxgov.filters.FilterBackend",
        "rest_framework.filters.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "cxgov API",
    "DESCRIPTION": "CX governance: functions, accountabilities, metrics, root causes and action items.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Every operation's error answers (400 field errors, 403/404/409/... {"detail": ...}) in one place.
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "cxgov.lib.schema.add_error_responses"],
    # Several models have a "status" or "state" field with different choices: name each set.
    "ENUM_NAME_OVERRIDES": {
        "ActionItemStatusEnum": "rootcause.models.ActionStatus",
        "IssueStateEnum": "rootcause.models.IssueState",
        "DigestDeliveryStatusEnum": "digests.models.DeliveryStatus",
        "CanvasStateEnum": "outcomes.models.CanvasState",
        "AlertStateEnum": "alerts.models.AlertState",
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Production hardening ----------------------------------------------------------------------
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = _bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = _int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
