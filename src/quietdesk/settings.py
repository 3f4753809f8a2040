"""Quietdesk settings: one module, configured from ``QUIETDESK_*`` environment variables.

With no configuration at all Quietdesk runs in development mode on an embedded
SQLite database under ``var/``. Production (``QUIETDESK_DEBUG=false``) refuses to
start with the default secret key.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from quietdesk.conf import env_bool, env_int, env_list, env_str

PACKAGE_DIR = Path(__file__).resolve().parent
_SOURCE_ROOT = PACKAGE_DIR.parent.parent
# A source checkout keeps its data next to the code; an installed package in the
# current directory. QUIETDESK_DATA_DIR overrides both.
_DEFAULT_DATA_DIR = (
    _SOURCE_ROOT / "var" if (_SOURCE_ROOT / "pyproject.toml").exists() else Path.cwd() / "var"
)
DATA_DIR = Path(env_str("DATA_DIR", str(_DEFAULT_DATA_DIR))).resolve()

DEBUG = env_bool("DEBUG", default=True)

INSECURE_DEFAULT_SECRET_KEY = "quietdesk-insecure-development-key-do-not-use-in-production"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY", INSECURE_DEFAULT_SECRET_KEY)
if not DEBUG and SECRET_KEY == INSECURE_DEFAULT_SECRET_KEY:
    raise ImproperlyConfigured(
        "QUIETDESK_SECRET_KEY is not set and QUIETDESK_DEBUG is false. Refusing to start in "
        "production with the public default key: set QUIETDESK_SECRET_KEY (or "
        "QUIETDESK_SECRET_KEY_FILE) to a long random value, e.g. the output of "
        "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "ninja",
    "django_tasks_db",
    "quietdesk.accounts",
    "quietdesk.audit",
    "quietdesk.schedule",
    "quietdesk.sla",
    "quietdesk.tickets",
    "quietdesk.notifications",
    "quietdesk.replies",
    "quietdesk.intake",
    "quietdesk.ratings",
    "quietdesk.kb",
    "quietdesk.search",
    "quietdesk.mail",
    "quietdesk.api",
    "quietdesk.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "quietdesk.api.middleware.ApiRequestGuardMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "quietdesk.web.middleware.ReaderPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "quietdesk.urls"
ASGI_APPLICATION = "quietdesk.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'quietdesk.sqlite3'}")
_database = dj_database_url.parse(DATABASE_URL, conn_max_age=0, conn_health_checks=True)
if _database["ENGINE"] == "django.db.backends.sqlite3":
    _database["ENGINE"] = "quietdesk.db.sqlite3"
    # Tests on SQLite run in memory, one database per test process.
    _database["TEST"] = {"NAME": ":memory:"}
    if str(_database["NAME"]) != ":memory:":
        Path(_database["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    _database["OPTIONS"] = {
        # WAL lets readers and the one writer work at the same time; IMMEDIATE takes
        # the write lock at BEGIN so concurrent writers queue instead of failing
        # half-way with "database is locked".
        "init_command": (
            "PRAGMA journal_mode=WAL;"
            "PRAGMA synchronous=NORMAL;"
            "PRAGMA foreign_keys=ON;"
            "PRAGMA busy_timeout=20000;"
            "PRAGMA cache_size=-32000;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, channel layer, tasks -------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

TASKS = {"default": {"BACKEND": env_str("TASK_BACKEND", "django_tasks_db.DatabaseBackend")}}

# --- Accounts and sessions -------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Agents see the tickets of their own teams; set true to let every agent see every
# team's tickets (a per-agent flag can also grant it).
AGENTS_SEE_ALL_TEAMS = env_bool("AGENTS_SEE_ALL_TEAMS", default=False)

# --- Internationalisation ---------------------------------------------------------
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "en")
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Files --------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(DATA_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Largest single attachment, and largest request body (JSON or multipart).
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 25 * 1024 * 1024)
#: The largest mail accepted (SMTP answers 552 above it; imports record it as refused).
MAIL_MAX_BYTES = env_int("MAIL_MAX_BYTES", 50 * 1024 * 1024)
#: Seconds to wait for an SMTP relay: the installation's, and each mailbox's own.
SMTP_TIMEOUT_SECONDS = env_int("SMTP_TIMEOUT", 30)
#: Outgoing mail: the SMTP relay (Django's MAILERS, from QUIETDESK_SMTP_*).
MAILERS = {
    "default": {
        # In development mail is printed by the server instead of sent.
        "BACKEND": env_str(
            "MAIL_BACKEND",
            "django.core.mail.backends.console.EmailBackend"
            if DEBUG
            else "quietdesk.mail.smtp_backend.EmailBackend",  # Django's, plus SMTPUTF8
        ),
        "OPTIONS": {
            "host": env_str("SMTP_HOST", "localhost"),
            "port": env_int("SMTP_PORT", 25),
            "username": env_str("SMTP_USER", "") or None,
            "password": env_str("SMTP_PASSWORD", "") or None,
            "use_tls": env_bool("SMTP_STARTTLS", False),
            "use_ssl": env_bool("SMTP_TLS", False),
            "timeout": SMTP_TIMEOUT_SECONDS,
        },
    }
}
_SMTP_BACKENDS = {
    "django.core.mail.backends.smtp.EmailBackend",
    "quietdesk.mail.smtp_backend.EmailBackend",
}
if MAILERS["default"]["BACKEND"] not in _SMTP_BACKENDS:
    MAILERS["default"]["OPTIONS"] = {}  # the console and file backends take no SMTP options
DEFAULT_FROM_EMAIL = env_str("MAIL_FROM", "support@quietdesk.example")
#: Automatic mail (acknowledgements) is capped to stop loops with other robots.
MAIL_AUTO_REPLIES_PER_TICKET = env_int("MAIL_AUTO_REPLIES_PER_TICKET", 10)
MAIL_AUTO_REPLIES_PER_RECIPIENT = env_int("MAIL_AUTO_REPLIES_PER_RECIPIENT", 30)
MAIL_AUTO_REPLY_WINDOW_SECONDS = env_int("MAIL_AUTO_REPLY_WINDOW_SECONDS", 600)
#: Ask the requester to rate the answer when a ticket is solved (one-click links by mail).
RATING_REQUESTS = env_bool("RATING_REQUESTS", default=True)
#: Sending attempts before an outgoing mail is marked failed.
MAIL_SEND_ATTEMPTS = env_int("MAIL_SEND_ATTEMPTS", 8)
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("REQUEST_MAX_BYTES", 2 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# Largest multipart request (several attachments at once).
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 4 * ATTACHMENT_MAX_BYTES + 1024 * 1024)
MESSAGE_BODY_MAX_CHARS = env_int("MESSAGE_BODY_MAX_CHARS", 1_000_000)

# --- Security -----------------------------------------------------------------------
#: Behind a reverse proxy: trust its X-Forwarded-Proto and X-Forwarded-For (last hop).
BEHIND_PROXY = env_bool("BEHIND_PROXY", default=False)
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env_bool("HSTS_PRELOAD", default=False)
    if BEHIND_PROXY:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

SILENCED_SYSTEM_CHECKS = [] if env_bool("HSTS_PRELOAD", default=False) else ["security.W021"]

NINJA_PAGINATION_PER_PAGE = 50

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The embedded worker polls the queue every few seconds; say only what matters.
        "django_tasks_db": {"level": "WARNING"},
        "django.tasks": {"level": "WARNING"},
    },
}
