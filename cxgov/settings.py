"""cxgov settings, read from the environment.

With no variables set this is the embedded default (DESIGN.md): SQLite under
``var/``, Celery on kombu's filesystem transport under ``var/``, email written to
``var/mail/``. Set ``DATABASE_URL``, ``CELERY_BROKER_URL``, ``REDIS_URL`` and the
``EMAIL_*`` variables to run the same code on PostgreSQL, Redis and SMTP.
Misconfiguration stops start-up with a message that says what to fix.
"""

import os
from datetime import timedelta
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


def _embedded_secret_key(path: Path) -> str:
    """The embedded default's secret key: made once per install, then read from ``var/``.

    A key in the source would let anyone forge signed links (unsubscribe) and sessions. The key is
    written to a temporary file and linked into place, so processes starting together (web, worker,
    beat) all end up with the one that won."""
    import contextlib
    import os
    import secrets
    import tempfile

    if not path.exists():
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".secret_key.")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(50))
            with contextlib.suppress(FileExistsError):  # another process made it first: use theirs
                os.link(tmp, path)
        finally:
            os.unlink(tmp)
    key = path.read_text().strip()
    if len(key) < 50:
        raise ImproperlyConfigured(
            f"{path} holds no usable secret key: delete it to make a new one, or set SECRET_KEY."
        )
    return key


def _rate(name: str, default: str) -> str:
    """An API throttle rate, "N/second|minute|hour|day" (checked here: DRF would fail each request)."""
    raw = env.str(name, default=default).strip()
    number, _, period = raw.partition("/")
    if not (number.isdigit() and period[:1] in {"s", "m", "h", "d"}):
        raise ImproperlyConfigured(f"{name}={raw!r} is not a rate: use requests/period, e.g. 1000/hour or 20/minute.")
    return raw


DEBUG = _bool("DEBUG", True)
PRODUCTION = not DEBUG  # as started; test runners switch DEBUG off but this stays
# Whether this installation runs the demo (bin/run loads it unless CXGOV_DEMO=0): the menu then
# links to the page saying what in the demo is real data and what is derived.
DEMO = _bool("CXGOV_DEMO", DEBUG)
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
    SECRET_KEY = _embedded_secret_key(VAR_DIR / "secret_key")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[] if not DEBUG else ["localhost", "127.0.0.1", "[::1]"])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS is not set. Production mode (DEBUG=0) needs the host names it serves, "
        "comma-separated, e.g. ALLOWED_HOSTS=cx.example.com."
    )
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The real customer data beside the project (never copied into it); the demo reads it.
SHARED_DATA_DIR = Path(env.str("SHARED_DATA_DIR", default=str(BASE_DIR.parent / "shared" / "data")))
# Where links in emails point: by default where the run command serves (HOST and PORT; WEB_PORT is
# bin/run's copy of PORT, which honcho overrides in each process), a wildcard host read as localhost.
_link_host = env.str("HOST", default="127.0.0.1")
_link_host = "127.0.0.1" if _link_host in ("0.0.0.0", "::", "") else _link_host  # noqa: S104 - not a bind
_link_port = env.str("WEB_PORT", default="") or env.str("PORT", default="8000")
SITE_URL = env.str("SITE_URL", default=f"http://{_link_host}:{_link_port}").rstrip("/")

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
    "axes",
    "csp",
    "cxgov",
    "metrics",
    "outcomes",
    "rootcause",
    "digests",
    "alerts",
    "ownership",
    "audit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "cxgov.lib.middleware.RejectNulBytesMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "cxgov.lib.middleware.AppNotFoundPageMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "cxgov.lib.middleware.PageMethodsMiddleware",
    "cxgov.lib.middleware.NoStorePagesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "cxgov.lib.retry.BusyMiddleware",  # a write that kept losing races answers 503 + Retry-After
    # Last, as django-axes asks: it turns a refused login into the lockout page.
    "axes.middleware.AxesMiddleware",
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
    # Test processes run side by side (pytest-xdist names each one) share this Redis: each keeps its
    # own keys, as each has its own database (cached analyses are keyed by the database's versions).
    CACHES["default"]["KEY_PREFIX"] = os.environ.get("PYTEST_XDIST_WORKER", "")
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Heavy analyses (cxgov/lib/heavy.py) -------------------------------------------
# At most this many run at once per web process (the Procfile's gunicorn runs 4 threads per
# worker: two stay free for every other page and /healthz); a cached answer needs no slot.
HEAVY_ANALYSIS_SLOTS = _int("HEAVY_ANALYSIS_SLOTS", 2)
# ...and at most this many across the whole site (PostgreSQL): half the cores, so that the other
# half serves every other page and /healthz however many people ask for analyses at once.
# (The cores this process may run on: a container's CPU set, not the host's count.)
_CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 2)
HEAVY_ANALYSIS_SITE_SLOTS = _int("HEAVY_ANALYSIS_SITE_SLOTS", max(1, _CORES // 2))
# PostgreSQL cancels an analysis's statements after this many seconds ("try a narrower filter").
HEAVY_ANALYSIS_TIMEOUT = _int("HEAVY_ANALYSIS_TIMEOUT", 15)
# Cached answers are keyed by the data's version; they also expire after this many seconds.
HEAVY_ANALYSIS_CACHE_SECONDS = _int("HEAVY_ANALYSIS_CACHE_SECONDS", 3600)

# --- Auth -------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    # First, so a locked-out person and address is refused before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Brute-force protection (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for one user name
# from one address, that combination is locked out (others, and the same person elsewhere, are not).
# The lock lifts after LOGIN_LOCKOUT_MINUTES (0: only when an administrator unlocks it, in the
# admin's "Access attempts" or with `manage.py axes_reset_username NAME`).
AXES_FAILURE_LIMIT = _int("LOGIN_FAILURE_LIMIT", 5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
_lockout_minutes = _int("LOGIN_LOCKOUT_MINUTES", 60)
AXES_COOLOFF_TIME = timedelta(minutes=_lockout_minutes) if _lockout_minutes > 0 else None
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

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
# Dates written (API, forms, file imports) may lie at most this many days past now: a response
# dated 2999 would otherwise open a far-future period and leave the current one empty.
CXGOV_DATE_HORIZON_DAYS = _int("CXGOV_DATE_HORIZON_DAYS", 1)
# The currency amounts are in (ISO 4217) until an administrator sets the ledger's currency, which
# then wins: pages, emails and export headers write it (cxgov/lib/money.py, the ``money`` filter).
# EUR as the ledger's own default; the demo sets US dollars (its customer charges).
CXGOV_CURRENCY = env.str("CXGOV_CURRENCY", default="EUR").strip().upper()


def _check_currency(code: str) -> None:
    from cxgov.lib.money import currency_problem

    if problem := currency_problem(code):
        raise ImproperlyConfigured(f"CXGOV_CURRENCY: {problem}")


_check_currency(CXGOV_CURRENCY)
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
# /healthz asks the database and the broker at every call; the parts that read the state in the
# database (heartbeats, failed work, the outbox...) at most every HEALTH_STATE_SECONDS per process.
HEALTH_STATE_SECONDS = _int("HEALTH_STATE_SECONDS", 10)
# The one place periodic work is defined; beat copies it into django-celery-beat's tables,
# where administrators can change the schedules.
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {
        "task": "cxgov.heartbeat",
        "schedule": HEARTBEAT_INTERVAL,
        "options": {"expires": HEARTBEAT_INTERVAL * 2},
    },
    "requeue-stuck-imports": {"task": "metrics.requeue_stuck_imports", "schedule": 60},
    "verify-issues": {"task": "rootcause.verify_issues", "schedule": 60 * 60},
    # Hourly: every issue's business case from the latest data (tags, customers, costs).
    "refresh-business-cases": {"task": "outcomes.refresh_business_cases", "schedule": 60 * 60},
    # Hourly: retrain a key driver's text model once it has 20 % more labels (switched on by people).
    "retrain-text-models": {"task": "rootcause.retrain_models", "schedule": 60 * 60},
    # Every 5 minutes: each person's digest leaves within minutes of their local hour.
    "send-digests": {"task": "digests.send_due", "schedule": 5 * 60, "options": {"expires": 4 * 60}},
    "alerts-requeue-stuck": {"task": "alerts.requeue_stuck", "schedule": _int("ALERTS_REQUEUE_INTERVAL", 5 * 60)},
    # Every minute: emails whose send failed, or whose worker died, are tried again when due.
    "outbox-send-due": {"task": "cxgov.outbox_send_due", "schedule": _int("OUTBOX_SWEEP_INTERVAL", 60)},
    "outbox-prune": {"task": "cxgov.outbox_prune", "schedule": 60 * 60},
}
# Task intents (cxgov/lib/dispatch.py): a sender holds a stored task this long while it tries the
# broker; tasks the broker has not accepted for DISPATCH_HEALTH_MAX_AGE seconds fail /healthz.
DISPATCH_CLAIM_SECONDS = _int("DISPATCH_CLAIM_SECONDS", 30)
DISPATCH_HEALTH_MAX_AGE = _int("DISPATCH_HEALTH_MAX_AGE", 120)
# An import's worker renews its lease this often (seconds); a lease not renewed for
# JOB_LEASE_SECONDS means the worker died, and the redelivered task or the next check takes over.
JOB_LEASE_SECONDS = _int("JOB_LEASE_SECONDS", 30)
# An alert evaluation (or its message) with no change of status for this many seconds is sent again.
ALERTS_STUCK_AFTER = _int("ALERTS_STUCK_AFTER", 10 * 60)
# The outbox (cxgov/lib/outbox.py): a failed email waits OUTBOX_FIRST_RETRY seconds, then twice as
# long after each attempt up to OUTBOX_MAX_BACKOFF, and is given up OUTBOX_RETRY_FOR seconds after it
# was stored. A send not finished within OUTBOX_LEASE seconds counts as dead (its worker died).
OUTBOX_FIRST_RETRY = _int("OUTBOX_FIRST_RETRY", 60)
OUTBOX_MAX_BACKOFF = _int("OUTBOX_MAX_BACKOFF", 30 * 60)
OUTBOX_RETRY_FOR = _int("OUTBOX_RETRY_FOR", 24 * 60 * 60)
OUTBOX_LEASE = _int("OUTBOX_LEASE", 10 * 60)
# /healthz fails while an email has waited longer than this, or one failed for good recently.
OUTBOX_HEALTH_MAX_WAIT = _int("OUTBOX_HEALTH_MAX_WAIT", 15 * 60)
OUTBOX_FAILED_VISIBLE_DAYS = _int("OUTBOX_FAILED_VISIBLE_DAYS", 7)
OUTBOX_KEEP_DAYS = _int("OUTBOX_KEEP_DAYS", 30)

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
    # JSON only, nested at most API_JSON_MAX_DEPTH deep; endpoints that take files declare their own.
    "DEFAULT_PARSER_CLASSES": ["cxgov.lib.parsers.DepthLimitedJSONParser"],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
        "rest_framework.throttling.ScopedRateThrottle",
    ],
    # Requests per person (or per address when not logged in); "ingest" is the bulk-ingestion
    # endpoints, on top of the person's own rate. Counted in the cache (Redis when REDIS_URL is set).
    "DEFAULT_THROTTLE_RATES": {
        "anon": _rate("API_THROTTLE_ANON", "100/hour"),
        "user": _rate("API_THROTTLE_USER", "5000/hour"),
        "ingest": _rate("API_THROTTLE_INGEST", "600/hour"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",  # the API reads JSON only; so do its tests
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "cxgov.lib.api_errors.exception_handler",
}
API_JSON_MAX_DEPTH = _int("API_JSON_MAX_DEPTH", 32)
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
        "MetricKindEnum": "metrics.models.Kind",
        "BulkTagActionEnum": "rootcause.models.BulkAction",
        "AuditActionEnum": "audit.selectors.ACTION_CHOICES",
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Browser policies ---------------------------------------------------------------------------
# Scripts and style sheets only from our own static files (templates keep scripts in files and
# pass data with json_script). Inline style *attributes* stay allowed: progress bars and the
# digest preview (an email, which must carry its styles inline) use them, and with images,
# fonts and connections limited to this site they cannot load or send anything.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
# Nothing in cxgov uses these browser features; say so, so no injected content can.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}

# --- Production hardening ----------------------------------------------------------------------
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = _bool("SECURE_SSL_REDIRECT", True)
    # Load balancers and probes ask for the health page over plain HTTP, behind the TLS proxy.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
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
    "filters": {"forbidden_one_line": {"()": "cxgov.lib.logfilters.ForbiddenOneLine"}},
    "loggers": {"django.request": {"filters": ["forbidden_one_line"]}},  # a 403 is one line, no traceback
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
