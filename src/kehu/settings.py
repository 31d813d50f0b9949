"""Settings, all from environment variables with safe defaults for the demo.

DATABASE_URL unset means SQLite in var/ (WAL journal, IMMEDIATE transactions so that
concurrent writers wait for each other instead of failing with "database is locked").
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent.parent
VAR_DIR = Path(os.environ.get("KEHU_VAR_DIR", PROJECT_DIR / "var"))


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    key = os.environ.get("KEHU_SECRET_KEY")
    if key:
        return key
    # No key given: keep one per installation under var/, so sessions survive restarts
    # and no key is ever shared between installations.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = _env_bool("KEHU_DEBUG", False)
SECRET_KEY = _secret_key()
ALLOWED_HOSTS = [h.strip() for h in os.environ.get(
    "KEHU_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get(
    "KEHU_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

# Behind HTTPS in production; the demo and the test server speak plain HTTP on loopback.
HTTPS = _env_bool("KEHU_HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_REFERRER_POLICY = "same-origin"
# Proxies in front of kehu (their addresses, as REMOTE_ADDR shows them): kehu takes the
# client's address from their X-Forwarded-For (for the audit log and the sign-in throttle)
# and the request id from their X-Request-ID (kehu.core.requests, kehu.core.logs).
KEHU_TRUSTED_PROXIES = {a.strip() for a in os.environ.get(
    "KEHU_TRUSTED_PROXIES", "").split(",") if a.strip()}
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy of every HTML page (kehu.core.headers): scripts and styles only
# from kehu's own static files, never inline, so that markup slipped in with data cannot run.
# data: images are the icons of the API docs' stylesheet.
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "simple_history",
    "axes",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "kehu.core",
    "kehu.accounts",
    "kehu.audit",
    "kehu.tasks",
    "kehu.customers",
    "kehu.sales",
    "kehu.dataio",
    "kehu.analytics",
    "kehu.loans",
    "kehu.service",
    "kehu.marketing",
    "kehu.workbench",
    "kehu.demo",
]

MIDDLEWARE = [
    "kehu.core.logs.RequestIdMiddleware",
    "kehu.core.headers.ContentSecurityPolicyMiddleware",
    "kehu.core.headers.NoStoreMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
    "kehu.core.middleware.BusyDatabaseMiddleware",
    "kehu.core.middleware.ApiMethodNotAllowedMiddleware",
]

ROOT_URLCONF = "kehu.urls"
WSGI_APPLICATION = "kehu.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kehu.dataio.context_processors.data_menu",
                "kehu.analytics.context_processors.value_menu",
                "kehu.loans.context_processors.loan_menu",
                "kehu.workbench.context_processors.workbench_menu",
                "kehu.sales.context_processors.nav_sales",
                "kehu.marketing.context_processors.nav_marketing",
                "kehu.service.context_processors.nav_service",
            ],
            # {{ amount|money }} in every template: amounts in the firm's currency.
            "builtins": ["kehu.core.templatetags.money"],
        },
    },
]


# SQLite: one writer at a time, so writers take the lock when they begin (IMMEDIATE) and
# queue for up to a minute instead of failing; WAL lets readers go on meanwhile.
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 60,
    "init_command": (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
        "PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536;"
    ),
}


def _databases() -> dict:
    url = os.environ.get("DATABASE_URL")
    if url:
        db = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
        if db["ENGINE"] == "django.db.backends.sqlite3":
            db["OPTIONS"] = {**SQLITE_OPTIONS, **db.get("OPTIONS", {})}
            db["CONN_MAX_AGE"] = 0
    else:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        db = {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "kehu.sqlite3",
            "OPTIONS": dict(SQLITE_OPTIONS),
        }
    return {"default": db}


DATABASES = _databases()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

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
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "workbench:home"
LOGOUT_REDIRECT_URL = "login"

# Sign-in throttling (kehu.accounts.lockout): five failures from one address lock that
# address; a user name is locked only after twenty failures for it, from several addresses,
# so that a stranger cannot lock an administrator out. Locks end after fifteen minutes or
# when an administrator unlocks them (the Sign-in locks page, `kehu unlock`).
KEHU_SIGNIN_ADDRESS_LIMIT = int(os.environ.get("KEHU_SIGNIN_ADDRESS_LIMIT", "5"))
KEHU_SIGNIN_NAME_LIMIT = int(os.environ.get("KEHU_SIGNIN_NAME_LIMIT", "20"))
AXES_HANDLER = "kehu.accounts.lockout.LockoutHandler"
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]  # in this order: the handler relies on it
AXES_FAILURE_LIMIT = KEHU_SIGNIN_ADDRESS_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # a locked address adds nothing
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "kehu.accounts.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "kehu.core.requests.client_ip"
AXES_VERBOSE = False

# The site's language: pages before sign-in and without a choice of the user's, and e-mails
# (kehu stores no language per user). "en" or "zh-hans".
LANGUAGE_CODE = os.environ.get("KEHU_LANGUAGE", "en").strip().lower() or "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["kehu.formats"]
TIME_ZONE = os.environ.get("KEHU_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

# Warnings and errors, Django's included (a 500 with its traceback), go to stderr as one JSON
# object per line, each with the id of the request it belongs to (kehu.core.logs).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request": {"()": "kehu.core.logs.RequestContextFilter"}},
    "formatters": {"json": {"()": "kehu.core.logs.JsonFormatter"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr",
                            "formatter": "json", "filters": ["request"]}},
    "root": {"handlers": ["stderr"], "level": "WARNING"},
    "loggers": {
        # Django's own handlers print only with DEBUG on (and mail nobody): hand its
        # records to the root's instead.
        "django": {"handlers": [], "level": "WARNING", "propagate": True},
        "kehu": {"level": "INFO"},
    },
}

# Background jobs (kehu.core.jobs) wait in the database, in django-tasks' queue, until
# `kehu worker` runs them: no broker to install.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
# How many jobs one `kehu worker` runs at once. SQLite has a single write lock, and a job
# that waits for it longer than the busy timeout fails, so there the jobs run one by one.
KEHU_JOB_WORKERS = int(os.environ.get("KEHU_JOB_WORKERS") or (
    1 if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" else 2))
# After how many seconds without a heartbeat a job on another host counts as interrupted.
KEHU_JOB_STALE_SECONDS = int(os.environ.get("KEHU_JOB_STALE_SECONDS", "600"))

# Files uploaded to the import wizard wait here (private to the server) until imported.
KEHU_UPLOAD_DIR = Path(os.environ.get("KEHU_UPLOAD_DIR", VAR_DIR / "uploads"))
KEHU_UPLOAD_MAX_MB = int(os.environ.get("KEHU_UPLOAD_MAX_MB", "500"))

# E-mail (task reminders, `kehu remind`): through an SMTP server when KEHU_EMAIL_HOST is set,
# else printed to the standard output (the demo, and cron's mail of the command's output).
EMAIL_HOST = os.environ.get("KEHU_EMAIL_HOST", "")
EMAIL_BACKEND = ("django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST
                 else "django.core.mail.backends.console.EmailBackend")
EMAIL_PORT = int(os.environ.get("KEHU_EMAIL_PORT") or "587")
EMAIL_HOST_USER = os.environ.get("KEHU_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("KEHU_EMAIL_PASSWORD", "")
EMAIL_USE_SSL = _env_bool("KEHU_EMAIL_SSL", False)
EMAIL_USE_TLS = _env_bool("KEHU_EMAIL_TLS", not EMAIL_USE_SSL)
EMAIL_TIMEOUT = 30
DEFAULT_FROM_EMAIL = os.environ.get("KEHU_EMAIL_FROM", "kehu@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Where kehu is reached, for the links in e-mails.
KEHU_SITE_URL = os.environ.get("KEHU_SITE_URL", "http://127.0.0.1:8000")

# The value refresh gives each person at most this many new tasks per run, the most valuable
# customers first; the rest are counted on their workbench ("12 more customers need …").
KEHU_TASKS_PER_REFRESH = int(os.environ.get("KEHU_TASKS_PER_REFRESH", "20"))
# The value refresh writes its scores this many customers at a time, each batch in a
# transaction of its own: on SQLite a transaction holds the one write lock, and people saving
# a card wait for it (a batch of 2,000 customers takes well under two seconds).
KEHU_REFRESH_WRITE_BATCH = int(os.environ.get("KEHU_REFRESH_WRITE_BATCH", "2000"))

# A customer data card whose key facts nobody confirmed for this many days is stale data
# (过期数据): flagged on the card and the list, and its owner gets a refresh task.
KEHU_STALE_AFTER_DAYS = int(os.environ.get("KEHU_STALE_AFTER_DAYS", "180"))
