"""The only settings module: configuration comes from environment variables alone.

Embedded defaults (SQLite file, Celery eager, DEBUG on) need no services. Production
refuses to start with DEBUG off and the default secret key.
https://docs.djangoproject.com/en/5.2/ref/settings/
"""

from pathlib import Path

import environ
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

INSECURE_DEFAULT_SECRET_KEY = "insecure-dev-only-key-change-me"  # noqa: S105
# Secret keys that are known, guessable or too short refuse to start the server in production.
PLACEHOLDER_SECRET_KEYS = {
    INSECURE_DEFAULT_SECRET_KEY,
    "",
    "x",
    "changeme",
    "change-me",
    "change_me",
    "secret",
    "secret-key",
    "secretkey",
    "password",
    "django-insecure",
    "insecure",
    "dev",
    "test",
}
MIN_SECRET_KEY_LENGTH = 50
DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default=INSECURE_DEFAULT_SECRET_KEY)
if not DEBUG:
    if SECRET_KEY.strip().lower() in PLACEHOLDER_SECRET_KEYS or SECRET_KEY.startswith(
        "django-insecure"
    ):
        raise ImproperlyConfigured(
            "SECRET_KEY is a known placeholder while DEBUG is off: set SECRET_KEY to a random "
            "value of at least 50 characters, e.g. python -c 'import secrets; "
            "print(secrets.token_urlsafe(50))'."
        )
    if len(SECRET_KEY) < MIN_SECRET_KEY_LENGTH or len(set(SECRET_KEY)) < 5:
        raise ImproperlyConfigured(
            f"SECRET_KEY has {len(SECRET_KEY)} characters while DEBUG is off: use a random value "
            f"of at least {MIN_SECRET_KEY_LENGTH} characters, e.g. python -c 'import secrets; "
            "print(secrets.token_urlsafe(50))'."
        )
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# CORS on /api/ for frontends on other origins, e.g. https://label.example.org (comma-
# separated; none by default). Token auth travels in a header, so no credentials mode.
# https://github.com/adamchainz/django-cors-headers
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"
CORS_EXPOSE_HEADERS = ["Content-Disposition", "Retry-After"]

INSTALLED_APPS = [
    "labeling.apps.LabelingAdminConfig",  # django.contrib.admin with our site class
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc served from here, never from a CDN
    "corsheaders",
    "csp",  # Content-Security-Policy header (django-csp; Django 5.2 has no CSP of its own)
    "labeling",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outermost after security: answers made by the middleware below get the policy too.
    "csp.middleware.CSPMiddleware",
    "corsheaders.middleware.CorsMiddleware",  # before anything that can answer on its own
    # Domain events of a request reach their subscribers after its response is sent.
    "labeling.events.DeliverAfterResponseMiddleware",
    "labeling.api.middleware.ApiErrorEnvelopeMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so it sees the view's exceptions first: a lost database connection -> 503.
    "labeling.api.db_faults.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # admin/base_site.html for every admin page (favicon, contrast fixes); the
        # admin app's own templates come first among the app directories.
        "DIRS": [BASE_DIR / "labeling" / "site_templates"],
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

# DATABASE_URL, e.g. postgres://postgres@127.0.0.1:5432/labeling; default: a SQLite file.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"].setdefault("OPTIONS", {})
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers work while a writer commits; IMMEDIATE transactions take the write
    # lock up front so concurrent writers queue instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"].update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    # A persistent connection is checked before a request reuses it, so a database
    # restart costs no request (https://docs.djangoproject.com/en/5.2/ref/databases/).
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Server-side prepared statements: psycopg prepares a statement on a connection after
    # it ran PG_PREPARE_THRESHOLD times, so PostgreSQL stops planning the queue's hot
    # statements on every request (planning was most of their server CPU; see
    # bench/hot_path_cost.py). Needs server-side parameter binding. Set it empty to turn
    # both off, e.g. behind a transaction-mode pooler (PgBouncer before 1.21).
    _prepare = env.str("PG_PREPARE_THRESHOLD", default="5")
    if _prepare:
        DATABASES["default"]["OPTIONS"].update(
            {"server_side_binding": True, "prepare_threshold": int(_prepare)}
        )
# Tests on SQLite use a file (not memory) so threads and worker processes share it.
_test_name = env.str("TEST_DATABASE_NAME", default="")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    _test_name = _test_name or str(VAR_DIR / "test_db.sqlite3")
if _test_name:
    DATABASES["default"]["TEST"] = {"NAME": _test_name}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# CACHE_URL, e.g. redis://127.0.0.1:6379/1 to share the cache between processes.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(VAR_DIR / "static"))
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "labeling.admin.static_storage.ForgivingManifestStaticFilesStorage"
    },
}
# The admin works with DEBUG off before (or without) collectstatic: WhiteNoise serves the
# apps' static files through the finders and names without a manifest entry stay unhashed.
# After collectstatic (recommended) files get hashed names and long cache lifetimes.
WHITENOISE_USE_FINDERS = True

LOGIN_URL = "admin:login"

# HTTPS in production (DEBUG off), each overridable; check --deploy is clean with the defaults.
# https://docs.djangoproject.com/en/5.2/howto/deployment/checklist/
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (nginx, a load balancer).
if env.bool("SECURE_PROXY_SSL_HEADER", default=not DEBUG):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = env.bool("USE_X_FORWARDED_HOST", default=False)
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy on every response (django-csp 4). Scripts only from our own
# static files: no inline script, no inline handler, no eval. Styles allow inline because
# Swagger UI and Redoc inject <style> elements and the admin sets style attributes.
# Swagger UI's and Redoc's pages load their init code from static files (sidecar +
# labeling/static/labeling/docs/). Browser tests listen for securitypolicyviolation.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "worker-src": [SELF, "blob:"],  # Redoc's search worker
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# Django's model backend plus a per-username lockout after repeated failures (lockout.py).
AUTHENTICATION_BACKENDS = ["labeling.lockout.LockoutModelBackend"]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "labeling.api.authentication.TokenAuthentication",  # Token or Bearer, one query
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PARSER_CLASSES": ["labeling.api.parsers.StrictJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "labeling.api.pagination.DefaultPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "labeling.api.schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "labeling.exceptions.api_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # ?format= is the export's file format (jsonl, csv, parquet), never a renderer choice.
    "URL_FORMAT_OVERRIDE": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Labeling backend API",
    "DESCRIPTION": "Sentence-level annotation of news: attribution, verifiability, stance.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models share field names ("kind", "status") with different choice sets.
    "ENUM_NAME_OVERRIDES": {
        "AssignmentStatusEnum": "labeling.models.AssignmentStatus",
        "JobStatusEnum": "labeling.models.JobStatus",
        "AnnotatorStatusEnum": "labeling.quality.models.AnnotatorStatus",
        "QualificationEnum": "labeling.quality.models.Qualification",
    },
    # Adds one component per task kind's value (from the kind registry).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "labeling.api.openapi.add_kind_components",
    ],
}

# Celery: no broker URL means tasks run eagerly in process (embedded mode).
# https://docs.celeryq.dev/en/stable/django/first-steps-with-django.html
# Job rows carry status, progress and errors (labeling.jobs.lifecycle); no code reads a
# Celery result, so there is no result backend unless CELERY_RESULT_BACKEND asks for one.
_broker = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not _broker
# Eager mode never talks to a broker; the in-memory transport keeps kombu from looking for one.
CELERY_BROKER_URL = _broker or "memory://localhost/"
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_EAGER_PROPAGATES = False
# A killed worker's message goes back to the queue (acks_late + reject_on_worker_lost);
# a message unacknowledged because its whole worker died comes back after the visibility
# timeout, sized to the longest job; the sweep re-queues such jobs sooner by heartbeat.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
LABELING_JOB_MAX_SECONDS = env.int("LABELING_JOB_MAX_SECONDS", default=3600)
CELERY_TASK_TIME_LIMIT = LABELING_JOB_MAX_SECONDS
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": LABELING_JOB_MAX_SECONDS + 600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BEAT_SCHEDULE = {
    "release-expired-leases": {"task": "labeling.release_expired_leases_job", "schedule": 60.0},
    "sweep-jobs": {"task": "labeling.sweep_jobs_job", "schedule": 15.0},
}

# Product settings.
LABELING = {
    "LEASE_MINUTES": env.int("LABELING_LEASE_MINUTES", default=30),
    # API token lifetime in seconds; 0: tokens never expire (revoke with POST /api/auth/logout/).
    "TOKEN_TTL": env.int("LABELING_TOKEN_TTL", default=0),
    "AGREEMENT_DEBOUNCE_SECONDS": env.int("LABELING_AGREEMENT_DEBOUNCE_SECONDS", default=30),
    "BOOTSTRAP_DRAWS": env.int("LABELING_BOOTSTRAP_DRAWS", default=1000),
    # What agreement intervals resample where one sentence yields several tasks (stance
    # targets): "sentence" (default) or "document" (whole documents, the cautious choice).
    "BOOTSTRAP_CLUSTER": env.str("LABELING_BOOTSTRAP_CLUSTER", default="sentence"),
    "MAX_UPLOAD_BYTES": env.int("LABELING_MAX_UPLOAD_BYTES", default=50 * 1024 * 1024),
    "LOGIN_FAILURES": env.int("LABELING_LOGIN_FAILURES", default=5),
    "LOGIN_LOCKOUT_SECONDS": env.int("LABELING_LOGIN_LOCKOUT_SECONDS", default=15 * 60),
    # GET .../export/ streams at most this many tasks (0: no limit); larger exports answer
    # 409 and go through the export job, so no request streams for minutes.
    "EXPORT_STREAM_MAX_RECORDS": env.int("LABELING_EXPORT_STREAM_MAX_RECORDS", default=100_000),
    # An import request that could create more tasks than this becomes an import job.
    "MAX_REQUEST_TASKS": env.int("LABELING_MAX_REQUEST_TASKS", default=20_000),
    # Webhooks (labeling.webhooks): tries per delivery, the delay before the second try
    # (doubled before each next one), the timeout of one try, and which targets may be
    # called besides public addresses (tests and single-host setups use 127.0.0.1).
    "WEBHOOK_MAX_ATTEMPTS": env.int("LABELING_WEBHOOK_MAX_ATTEMPTS", default=6),
    "WEBHOOK_BACKOFF_SECONDS": env.float("LABELING_WEBHOOK_BACKOFF_SECONDS", default=30.0),
    "WEBHOOK_TIMEOUT_SECONDS": env.float("LABELING_WEBHOOK_TIMEOUT_SECONDS", default=10.0),
    "WEBHOOKS_ALLOW_LOOPBACK": env.bool("LABELING_WEBHOOKS_ALLOW_LOOPBACK", default=False),
    "WEBHOOKS_ALLOW_PRIVATE": env.bool("LABELING_WEBHOOKS_ALLOW_PRIVATE", default=False),
    # An API upload (JSONL body or multipart file) larger than this is imported by a job
    # without being read in the request.
    "MAX_SYNC_IMPORT_BYTES": env.int("LABELING_MAX_SYNC_IMPORT_BYTES", default=1024 * 1024),
}
if not 1 <= LABELING["WEBHOOK_MAX_ATTEMPTS"] <= 20:
    raise ImproperlyConfigured("LABELING_WEBHOOK_MAX_ATTEMPTS must be between 1 and 20")
if not (LABELING["WEBHOOK_BACKOFF_SECONDS"] >= 0 and LABELING["WEBHOOK_TIMEOUT_SECONDS"] > 0):
    raise ImproperlyConfigured(
        "LABELING_WEBHOOK_BACKOFF_SECONDS must be >= 0 and LABELING_WEBHOOK_TIMEOUT_SECONDS > 0"
    )
if LABELING["BOOTSTRAP_CLUSTER"] not in ("sentence", "document"):
    raise ImproperlyConfigured("LABELING_BOOTSTRAP_CLUSTER must be 'sentence' or 'document'")
DATA_UPLOAD_MAX_MEMORY_SIZE = LABELING["MAX_UPLOAD_BYTES"]
# Uploads over the limit are refused on every path; files go to disk past 2.5 MB.
FILE_UPLOAD_HANDLERS = [
    "labeling.importing.uploads.LimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
}
