"""Okno settings: everything that differs between machines comes from the environment."""

import json
import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("OKNO_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env(name: str, default: str = "") -> str:
    """A setting from the environment; NAME_FILE (a path) wins, for secrets kept in files."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    return env(name, "1" if default else "0").lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env("SECRET_KEY", "okno-dev-only-secret-change-me")
ALLOWED_HOSTS = [h for h in env("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000")

# Behind the TLS proxy of docs/setup.md: trusted CSRF origins, the proxy's X-Forwarded-Proto,
# secure cookies, HSTS and the https redirect, all switched on by an https SITE_URL and each
# overridable by its own variable (okno/core/deploy.py says why each one).
from okno.core.deploy import security_settings  # noqa: E402

globals().update(security_settings(env, secret_key=SECRET_KEY))

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "ninja",  # /api/docs' Swagger UI from our static files, not a CDN
    "okno.core",
    "okno.people",
    "okno.contacts",
    "okno.timeline",
    "okno.inbox",
    "okno.deals",
    "okno.telephony",
    "okno.outbox",
    "okno.robots",
    "okno.invoices",
    "okno.work",
    "okno.stores",
    "okno.documents",
    "okno.push",
    "okno.analytics",
    "okno.home",
    # Last: the demo company may import every domain, and nothing imports it.
    "okno.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "okno.people.middleware.ActivateUserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

# Login throttling (django-axes): failed logins are counted per account and per address
# separately, in the database; either reaching the limit refuses logins until the cool-off has
# passed or an administrator unlocks (People > Locked logins, `manage.py axes_reset_username`),
# docs/people.md. Bearer tokens are not passwords and are not counted.
INSTALLED_APPS.append("axes")
MIDDLEWARE.append("axes.middleware.AxesMiddleware")  # last, as axes documents
AUTHENTICATION_BACKENDS = ["okno.people.auth.LoginThrottleBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = int(env("AXES_FAILURE_LIMIT", "10"))
AXES_COOLOFF_TIME = float(env("AXES_COOLOFF_MINUTES", "15")) / 60  # hours, as axes reads a float
AXES_LOCKOUT_PARAMETERS = [p.strip() for p in env("AXES_LOCKOUT_PARAMETERS", "ip_address,username").split(",")
                           if p.strip()]
# A success must not clear the address's count: one's own account would reset it between guesses.
AXES_RESET_ON_SUCCESS = False
AXES_DISABLE_ACCESS_LOG = not env_bool("AXES_ACCESS_LOG", False)  # no row per successful login
AXES_LOCKOUT_CALLABLE = "okno.people.views.login_locked_out"  # the login page with the reason
AXES_CLIENT_IP_CALLABLE = "okno.people.auth.client_ip"
AXES_USERNAME_CALLABLE = "okno.people.auth.login_username"  # cut to 150: axes' column holds 255
# How many proxies in front of Okno append to X-Forwarded-For (the TLS proxy of docs/setup.md:
# 1). 0: the header is ignored (a client could write any address in it) and REMOTE_ADDR counts.
OKNO_TRUSTED_PROXIES = int(env("OKNO_TRUSTED_PROXIES", "0"))

ROOT_URLCONF = "okno.urls"
WSGI_APPLICATION = "okno.wsgi.application"
AUTH_USER_MODEL = "people.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "contacts:list"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "okno" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "okno.telephony.context_processors.telephony",
                "okno.push.context_processors.push",
                # The sidebar: sections, items and counters, once per full page (lazy).
                "okno.core.navigation.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'okno.sqlite3'}"),
        # Workers keep their connections: reconnecting per task cost 2.7x (ARCHITECTURE.md).
        conn_max_age=int(env("CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Kept like PostgreSQL's: opening a connection per request (PRAGMAs, SQL functions) halved the
    # hooks' rate (bench_ingest small, granian 2x4: 1,482 -> 2,964 req/s with 60 s).
    DATABASES["default"]["CONN_MAX_AGE"] = int(env("CONN_MAX_AGE", "60"))
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE takes the write lock at BEGIN, so two writers queue on the busy
        # timeout instead of failing half-way with "database is locked".
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
IS_POSTGRES = DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")
if env("DATABASE_REPLICA_URL"):
    # Reports read the rollup from a streaming replica (okno/analytics/replica.py, docs/analytics.md).
    DATABASES["replica"] = {**dj_database_url.parse(env("DATABASE_REPLICA_URL"),
                                                    conn_max_age=int(env("CONN_MAX_AGE", "60"))),
                            "TEST": {"MIRROR": "default"}}
    DATABASE_ROUTERS = ["okno.analytics.replica.ReportsRouter"]
# Off by default: server-side parameters let psycopg prepare statements (phone lookup p99 at
# 1M cards 2.2 -> 1.5 ms, docs/benchmarks.md), but a statement then takes at most 65,535
# parameters, and Django's cascade delete sends one UPDATE with every id of a large delete
# (deleting 70,000 cards failed; okno/core/tests/test_db_backend.py). Both figures meet the
# target, so the safe mode is the default. A query whose best plan depends on its values must
# refuse the generic plan a prepared statement may keep, as okno/core/leases.py does.
PG_PREPARED_STATEMENTS = IS_POSTGRES and env_bool("PG_PREPARED_STATEMENTS", False)
if PG_PREPARED_STATEMENTS:
    DATABASES["default"].setdefault("OPTIONS", {}).update({"server_side_binding": True, "prepare_threshold": 1})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {
    "default": {
        "BACKEND": env("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
]

LANGUAGE_CODE = env("LANGUAGE_CODE", "ru")
LANGUAGES = [("ru", "Русский"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "okno" / "locale"]
TIME_ZONE = env("TIME_ZONE", "Europe/Moscow")
USE_I18N = True
# Dates and numbers one way per language (okno/core/formats/<lang>/formats.py say which).
FORMAT_MODULE_PATH = ["okno.core.formats"]
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"

# Region assumed for numbers written without a country code ("8 916 ..." or "916 ...").
OKNO_DEFAULT_REGION = env("OKNO_DEFAULT_REGION", "RU")
# Import limits: a file over this size is refused before parsing.
OKNO_IMPORT_MAX_BYTES = int(env("OKNO_IMPORT_MAX_BYTES", str(50 * 1024 * 1024)))
# Webhook bodies over this are refused with 413 (a Jivo transcript is tens of KB).
OKNO_HOOK_MAX_BYTES = int(env("OKNO_HOOK_MAX_BYTES", str(1024 * 1024)))
# The webhook INSERT is a prepared statement on PostgreSQL (parsed and planned once per
# connection, not per hook: docs/benchmarks.md, inbox ingest). Turn off behind a pooler in
# transaction mode that does not keep prepared statements (PgBouncer before 1.21, or without
# max_prepared_statements).
OKNO_HOOK_PREPARED = env_bool("OKNO_HOOK_PREPARED", True)
# Refused webhook requests (wrong token or secret) allowed per client address and minute.
OKNO_HOOK_REFUSALS_PER_MINUTE = int(env("OKNO_HOOK_REFUSALS_PER_MINUTE", "30"))
# How often the worker polls each e-mail channel's mailbox over IMAP (most providers frown on
# polling more than once a minute).
OKNO_IMAP_POLL_SECONDS = int(env("OKNO_IMAP_POLL_SECONDS", "60"))
# How long a worker holds a claimed batch of inbound events; a killed worker's batch is
# claimed again after it (a batch of 200 takes a few seconds, so a minute is ample).
OKNO_INBOX_LEASE_SECONDS = int(env("OKNO_INBOX_LEASE_SECONDS", "60"))
# Web form submissions accepted per client address and minute; a person fills in a form once or
# twice, a bot hundreds of times (channels may set their own `submissions_per_minute`).
OKNO_FORM_SUBMISSIONS_PER_MINUTE = int(env("OKNO_FORM_SUBMISSIONS_PER_MINUTE", "5"))
# A lead assigned and still unread after this many minutes is e-mailed to its assignee.
OKNO_LEAD_REMIND_MINUTES = int(env("OKNO_LEAD_REMIND_MINUTES", "15"))
# A missed call's callback is due this many minutes after it (a PBX channel may set its own
# `callback_minutes`).
OKNO_CALLBACK_MINUTES = float(env("OKNO_CALLBACK_MINUTES", "2"))
# How long a call must stay missed before it owes a callback: a PBX reports a leg's end before
# it rings the next extension, and a final summary may still say someone answered.
OKNO_CALLBACK_GRACE_SECONDS = float(env("OKNO_CALLBACK_GRACE_SECONDS", "15"))
# Where browsers open their stream of live pushes (screen pops). The same origin's /push/stream
# when a proxy routes /push/ to the push process; make demo runs that process on its own port.
OKNO_PUSH_URL = env("OKNO_PUSH_URL", "/push/stream")
# How often a push process looks for new pushes: the most it adds to a screen pop's latency.
OKNO_PUSH_POLL_SECONDS = float(env("OKNO_PUSH_POLL_SECONDS", "0.1"))
# Business hours of every line that names none (JSON, okno/core/business_hours.py), e.g.
# {"timezone": "Europe/Moscow", "mon": "09:00-18:00", ...}: callback deadlines count only open
# time. Empty: always open.
OKNO_BUSINESS_HOURS = json.loads(env("OKNO_BUSINESS_HOURS", "") or "null")
# The Telegram Bot API; tests and self-hosted Bot API servers point it elsewhere.
OKNO_TELEGRAM_API_BASE = env("OKNO_TELEGRAM_API_BASE", "https://api.telegram.org")
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "WARNING")},
}
