"""One settings module, driven by environment variables.

Embedded default (nothing set): SQLite with immediate write transactions and Celery tasks run
inline, so the system starts anywhere Python does. With DATABASE_URL and CELERY_BROKER_URL /
REDIS_URL: PostgreSQL, a Redis cache and broker, and real workers — the production shape.
DJANGO_ENV=production switches on the deployment hardening checked by `check --deploy`.
"""

import ipaddress
import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from kombu import Exchange, Queue

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name, default=None):
    value = os.environ.get(name)
    return default if value in (None, "") else value


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


PRODUCTION = env("DJANGO_ENV", "development") == "production"
DEBUG = env_bool("DJANGO_DEBUG", not PRODUCTION)
TESTING = env_bool("SUBSIDY_TESTING", False)
if PRODUCTION and TESTING:
    raise RuntimeError("SUBSIDY_TESTING (the test hooks, testhooks/) is refused in production")

# Development keys are fixed so the demo works out of the box; production must set its own.
_DEV_SECRET = "dev-only-insecure-secret-key-change-me-0123456789-abcdefghijklmnopqrstuvwxyz"
SECRET_KEY = env("DJANGO_SECRET_KEY", _DEV_SECRET)
if PRODUCTION and SECRET_KEY == _DEV_SECRET:
    raise RuntimeError("DJANGO_SECRET_KEY must be set in production")

# PII encryption (Fernet) and the keyed hash used for look-ups of ID numbers. Comma-separated
# Fernet keys rotate: the first encrypts, all decrypt.
_DEV_FERNET = "n1ZQ1xM4a7kqQ2vF1bq7s6Ezv2m9HqQ1m0p3b8uYQ2k="
PII_FERNET_KEYS = [k.strip() for k in env("PII_FERNET_KEYS", _DEV_FERNET).split(",") if k.strip()]
_DEV_HMAC = "dev-only-hmac-key-for-id-number-lookups"
PII_HMAC_KEY = env("PII_HMAC_KEY", _DEV_HMAC)
if PRODUCTION and _DEV_FERNET in PII_FERNET_KEYS:
    raise RuntimeError("PII_FERNET_KEYS must be set in production")
if PRODUCTION and PII_HMAC_KEY == _DEV_HMAC:
    raise RuntimeError("PII_HMAC_KEY must be set in production")

# Development accepts any host; production serves only the names it is given.
ALLOWED_HOSTS = [
    h.strip()
    for h in env("DJANGO_ALLOWED_HOSTS", "" if PRODUCTION else "*").split(",")
    if h.strip()
]
if PRODUCTION and not ALLOWED_HOSTS:
    raise RuntimeError("DJANGO_ALLOWED_HOSTS must be set in production")
# The ONE setting that decides the client address for every limiter, lockout and record
# (subsidy.request_context.client_ip): the addresses or networks of the proxies in front of
# Django. Only a request from one of them has its X-Forwarded-For read (from the right);
# anything else is its own peer address, whatever headers it sends. Empty: no proxy.
TRUSTED_PROXIES = [
    p.strip() for p in env("TRUSTED_PROXIES", "").replace(";", ",").split(",") if p.strip()
]
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise RuntimeError(f"TRUSTED_PROXIES: {_proxy!r} is not an address or network") from None
if env("USE_X_REAL_IP"):
    raise RuntimeError("USE_X_REAL_IP is gone: set TRUSTED_PROXIES to the proxy's address(es)")
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in env("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]
CSRF_FAILURE_VIEW = "subsidy.views.csrf_failure"  # in Chinese

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "django_filters",
    "django_htmx",
    "import_export",
    "axes",
    "django_celery_beat",
    "subsidy",
    "registry",
    "unions",
    "reviews",
    "payouts",
    "notifications",
    "sms",
]

MIDDLEWARE = [
    "subsidy.middleware.DrainUnreadBodyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "subsidy.middleware.RefuseNonUtf8FormMiddleware",  # before anything reads request.POST
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "subsidy.middleware.ContentSecurityPolicyMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "subsidy.context_processors.site",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    DATABASES["default"].setdefault("OPTIONS", {})
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env("SQLITE_PATH", str(BASE_DIR / "var" / "db.sqlite3")),
            # BEGIN IMMEDIATE: a write transaction takes the write lock at its start, so two
            # submissions never both read a count and then both insert (R1 on SQLite).
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    }
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
USING_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Covering indexes (INCLUDE) are a PostgreSQL feature; SQLite builds them without the extra
# columns, which is all the embedded demo needs.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

# --- Redis, cache, Celery -----------------------------------------------------------------
REDIS_URL = env("REDIS_URL")
CELERY_BROKER_URL = env("CELERY_BROKER_URL", REDIS_URL)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # Each pytest-xdist worker gets its own prefix, so one worker's cache reset never
            # touches another's keys (or the broker's queues).
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", "qxym") + env("PYTEST_XDIST_WORKER", ""),
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "qxym",
        }
    }

CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 600, "max_retries": 1}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# The registry drain (registry/pipeline.py) has a queue of its own, so a backlog of
# checks never delays the hand-off of new ones; a worker started without -Q consumes both.
CELERY_TASK_QUEUES = [
    Queue(name, Exchange(name), routing_key=name) for name in ("celery", "registry-dispatch")
]
CELERY_TASK_ROUTES = {"subsidy.tasks.drain_registry_queue": {"queue": "registry-dispatch"}}
# Periodic jobs; django-celery-beat copies them into the database where staff can change them.
CELERY_BEAT_SCHEDULE = {
    "registry-sweeper": {
        "task": "subsidy.tasks.sweep_pending_registry_checks",
        "schedule": 120.0,
    },
    "received-photo-sweeper": {
        "task": "subsidy.tasks.sweep_received_photos",
        "schedule": 900.0,
    },
    "notification-sweeper": {
        "task": "notifications.tasks.sweep_outbox",
        "schedule": 60.0,
    },
    "daily-staff-digest": {
        "task": "notifications.tasks.send_staff_digest",
        "schedule": crontab(hour=8, minute=30),
    },
}

# --- Auth ---------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/login/"
# Password-reset mails of district/city reviewers (issue 5): console in development.
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "noreply@qiuxue.example")
AXES_FAILURE_LIMIT = int(env("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25  # hours
# Locked per account AND client address: a stranger elsewhere cannot lock a reviewer out;
# the per-account throttle of reviews.signin slows a burst from many addresses.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "subsidy.request_context.client_ip"
AXES_LOCKOUT_CALLABLE = "reviews.auth_views.locked_out"  # the Chinese page, 429 + Retry-After
AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)  # never consulted: the callable decides
AXES_ENABLED = env_bool("AXES_ENABLED", True)
STAFF_ACCOUNT_WINDOW = 900  # seconds (reviews.services.signin)
STAFF_ACCOUNT_SOFT_LIMIT = int(env("STAFF_ACCOUNT_SOFT_LIMIT", "10"))
STAFF_ACCOUNT_MAX_GAP = int(env("STAFF_ACCOUNT_MAX_GAP", "60"))

# --- I18N ---------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and private files -------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if PRODUCTION:
    STORAGES["staticfiles"]["BACKEND"] = "whitenoise.storage.CompressedManifestStaticFilesStorage"
# Bank card photos and payment files live here; never under a public URL — only
# permission-checked views read them.
PRIVATE_MEDIA_ROOT = Path(env("PRIVATE_MEDIA_ROOT", str(BASE_DIR / "var" / "private")))
MEDIA_ROOT = BASE_DIR / "var" / "media"
MEDIA_URL = "/media/"
DATA_UPLOAD_MAX_MEMORY_SIZE = 8 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 8 * 1024 * 1024
# An admin import (the grant ledger's ID numbers) keeps the uploaded file between the dry run
# and the confirmation. The default, a file in /tmp, stays there whenever the import is not
# confirmed; the cache (Redis, or this process's memory in development) lets it expire.
IMPORT_EXPORT_TMP_STORAGE_CLASS = "subsidy.import_storage.ShortCacheStorage"  # 30 min

# --- REST API -----------------------------------------------------------------------------
# Admin exports: a cell someone typed as "=…" is exported as text, not run as a formula.
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True
# Spreadsheets only: the JSON/YAML importers took any shape ([[1,2]], [{}]) to a TypeError.
from import_export.formats.base_formats import CSV, XLSX  # noqa: E402

IMPORT_EXPORT_FORMATS = [CSV, XLSX]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "subsidy.api.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "subsidy.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "subsidy.api.errors.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "求学圆梦 API",
    "DESCRIPTION": "职工学历教育补助申领系统 — mini-program contract (SPEC §11)",
    "VERSION": "1.0.0",
    "ENUM_NAME_OVERRIDES": {
        "ApplicationTypeEnum": "subsidy.models.ApplicationType",
    },
}

# Per-process copy of the BIN table and the commitment letter (subsidy/refcache.py), seconds.
REFERENCE_CACHE_SECONDS = int(env("REFERENCE_CACHE_SECONDS", "60"))
# Per-process copy of the current campaign for the submission path (refcache.IntakeCampaign).
CAMPAIGN_CACHE_SECONDS = int(env("CAMPAIGN_CACHE_SECONDS", "5"))
# The web process's garbage-collector thresholds (config.wsgi.settle_heap): "gen0,gen1,gen2";
# "700,10,10" is Python's own. Fewer, larger young collections under the opening rush.
GC_THRESHOLD = tuple(int(n) for n in env("GC_THRESHOLD", "5000,20,20").split(",") if n.strip())

# --- SMS, registry, WeChat ---------------------------------------------------------------
# Every SMS is a registered template (sms/catalogue.py; codes entered in the admin).
SMS_BACKEND = env("SMS_BACKEND", "console")
SMS_FILE_PATH = env("SMS_FILE_PATH", str(BASE_DIR / "var" / "sms"))
SMS_SIGN_NAME = env("SMS_SIGN_NAME", "求学圆梦")
# SMS_BACKEND=provider: Aliyun SMS SendSms (or a gateway that speaks it), signed with the key.
SMS_PROVIDER_URL = env("SMS_PROVIDER_URL", "https://dysmsapi.aliyuncs.com/")
SMS_PROVIDER_KEY_ID = env("SMS_PROVIDER_KEY_ID")
SMS_PROVIDER_KEY = env("SMS_PROVIDER_KEY")
SMS_PROVIDER_REGION = env("SMS_PROVIDER_REGION", "cn-hangzhou")
SMS_PROVIDER_TIMEOUT = float(env("SMS_PROVIDER_TIMEOUT", "5"))

REGISTRY_URL = env("REGISTRY_URL", "http://127.0.0.1:8000/registry-sim")
REGISTRY_USER = env("REGISTRY_USER", "demo")
REGISTRY_PASSWORD = env("REGISTRY_PASSWORD", "demo")
REGISTRY_TIMEOUT = float(env("REGISTRY_TIMEOUT", "5"))
REGISTRY_RATE_LIMIT = env("REGISTRY_RATE_LIMIT", "50/s")
# The development-only simulators (simulators/) are installed outside production only; the
# registry simulator is then mounted under /registry-sim/ unless switched off.
REGISTRY_SIMULATOR_ENABLED = env_bool("REGISTRY_SIMULATOR_ENABLED", not PRODUCTION)
if PRODUCTION and REGISTRY_SIMULATOR_ENABLED:
    raise RuntimeError("REGISTRY_SIMULATOR_ENABLED is for development only, not production")
if not PRODUCTION:
    INSTALLED_APPS.append("simulators")
REGISTRY_SIMULATOR_DATA = env("REGISTRY_SIMULATOR_DATA", str(BASE_DIR / "var" / "registry.json"))

WECHAT_APP_ID = env("WECHAT_APP_ID")
WECHAT_APP_SECRET = env("WECHAT_APP_SECRET")
WECHAT_API_BASE = env("WECHAT_API_BASE", "https://api.weixin.qq.com")
NOTIFICATION_CHANNEL = env("NOTIFICATION_CHANNEL", "console")

# Demo data seeders, each optional; `seed_demo` runs those that exist, in this order.
DEMO_SEEDERS = [
    "unions.demo.seed",
    "subsidy.demo.seed",
    "simulators.registry.demo.seed",  # the simulator's records (outside production only)
    "simulators.sms.demo.seed",  # template codes the SMS gateway simulator accepts
    "reviews.demo.seed",
    "payouts.demo.seed",
    "notifications.demo.seed",
]
if PRODUCTION:
    DEMO_SEEDERS = [s for s in DEMO_SEEDERS if not s.startswith("simulators.")]

# --- Security -----------------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'self'"
)
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_pii": {"()": "unions.pii.MaskPIILogFilter"}},
    # runserver's access lines carry the query string (`?q=<ID number>`): Django's own
    # django.server handler has no filter, so it is redefined here with Django's format.
    "formatters": {
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["mask_pii"]},
        "django.server": {
            "level": "INFO",
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["mask_pii"],
        },
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's default LOGGING gives "django" its own console handler (under DEBUG) and
        # mail_admins, neither filtered: the records go to the root's handler instead.
        "django": {"handlers": [], "level": "INFO"},
        "django.db.backends": {"level": "WARNING"},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    },
}

# Development and tests serve static files straight from STATICFILES_DIRS.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
