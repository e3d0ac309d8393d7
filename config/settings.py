"""The one settings module. Every value that differs between machines comes from
the environment; the defaults run the demo (SQLite, simulated broker, paper mode)."""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# "production" refuses to start on unsafe settings; "development" (the default) runs the demo.
ENVIRONMENT = os.environ.get("AUTOHEDGE_ENV", "development")
PRODUCTION = ENVIRONMENT == "production"

DEBUG = env_bool("DEBUG", default=not PRODUCTION)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "localhost,127.0.0.1,[::1]")

if PRODUCTION:
    if not SECRET_KEY:
        raise ImproperlyConfigured("SECRET_KEY must be set in production")
    if DEBUG:
        raise ImproperlyConfigured("DEBUG must be off in production")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must be set in production")
    if env_bool("AUTOHEDGE_FAST_PASSWORD_HASHER", False):
        raise ImproperlyConfigured("AUTOHEDGE_FAST_PASSWORD_HASHER is for tests, never production")
elif not SECRET_KEY:
    SECRET_KEY = "development-only-not-secret"
if env_bool("AUTOHEDGE_FAST_PASSWORD_HASHER", False):
    # bin/test sets it, for its processes and the servers and workers they start: a user
    # made in milliseconds, not 0.65 s (PBKDF2's work factor). Refused in production.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", "django.contrib.auth.hashers.PBKDF2PasswordHasher"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "django_filters",
    "django_celery_beat",
    "axes",
    "brokers",
    "schedules",
    "hedging",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files, from gunicorn itself
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "config.logins.LoginPolicy",  # a login's expiry, and the password asked again before acting
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into its 429 answer
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,  # a connection kept across a database restart is replaced, not failed on
    )
}
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TEST_DATABASE_NAME", "test_autohedge")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["ENGINE"] = "config.backends.postgresql"  # sees the auto_hedge schema
elif DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The demo writes from several threads: take the write lock up front and wait for it.
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-in"
TIME_ZONE = "Asia/Kolkata"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles"
# WhiteNoise serves them. In production from STATIC_ROOT, as `collectstatic` left them
# (the Procfile's web line): names carry their content's hash, cached for a year. Elsewhere
# straight from static/ and the apps, DEBUG on or off, no collectstatic needed.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage" if PRODUCTION
                    else "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = WHITENOISE_AUTOREFRESH = not PRODUCTION

# The API's bodies are well under a kilobyte, the admin's forms a few: a bigger body is
# refused (the API answers 413), not read into memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024

# Guessing: a username failing 5 times from one address is locked there for 15 minutes
# after its last failure, the right password too (dashboard and admin logins); wrong API
# tokens count alike, by address (config/guard.py). By username and address together:
# a stranger cannot lock the trader out from elsewhere.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True  # a typo a day never adds up to a lock
AXES_CLIENT_IP_CALLABLE = "config.guard.client_address"
AXES_LOCKOUT_CALLABLE = "config.guard.locked_out"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# A login lasts a trading day: it expires AUTOHEDGE_SESSION_HOURS after the trader's last
# request (the dashboard's own refresh does not count, or an open tab would never expire).
# Placing or cancelling orders, switching auto-hedge and changing rows, on the pages and
# in the admin, need the password given within AUTOHEDGE_REAUTH_MINUTES; the API, with
# its tokens, is not asked (config/logins.py, docs/security.md).
SESSION_COOKIE_AGE = round(float(os.environ.get("AUTOHEDGE_SESSION_HOURS", "12")) * 3600)
AUTOHEDGE_REAUTH_MINUTES = float(os.environ.get("AUTOHEDGE_REAUTH_MINUTES", "240"))

# Security headers; the strict ones only where HTTPS is guaranteed.
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# The reverse proxy terminating TLS (README "Production"): its addresses or networks,
# comma separated. Only a request from one of them may say, in X-Forwarded-Proto, that it
# came over HTTPS (gunicorn's --forwarded-allow-ips, given the same list by the Procfile,
# sets the request's scheme; Django's SECURE_PROXY_SSL_HEADER is left unset, as it would
# believe anyone), or name its client in X-Forwarded-For (config/guard.py). Empty: no
# proxy, and no X-Forwarded-* header is believed.
AUTOHEDGE_PROXY_IPS = env_list("AUTOHEDGE_PROXY_IPS")

# Pages load nothing from elsewhere and run no inline script or style (django-csp): an
# injected <script> or onclick would not run. The page icon is an empty data: URL.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "hedging.api.auth.TokenAuthentication",
    ],
    # A user's calls, whatever their authentication; AUTOHEDGE_API_RATE empty: no limit.
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": os.environ.get("AUTOHEDGE_API_RATE", "600/min") or None},
    "NUM_PROXIES": 0,  # throttles key an anonymous caller by REMOTE_ADDR, not by a header it sends
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
# The schema is served to anyone (AllowAny, its default); it does not list itself.
SPECTACULAR_SETTINGS = {
    "TITLE": "Auto-Hedge API",
    "VERSION": "1.0.0",
    "DESCRIPTION": "Every call needs a user: make your token on the dashboard at /accounts/token/, then send "
                   "`Authorization: Token <key>`. Changes need a staff user's token.",
    "SERVE_INCLUDE_SCHEMA": False,
    "ENUM_GENERATE_CHOICE_DESCRIPTION": False,  # the values are listed as the type already
}

# Celery on Redis; beat reads its entries from the database (django-celery-beat).
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
# Where calls to each OpenAlgo host are counted against its limits: shared by every
# process through Redis ("memory://": each process alone).
AUTOHEDGE_RATE_LIMIT_STORAGE = os.environ.get("AUTOHEDGE_RATE_LIMIT_STORAGE", REDIS_URL)
# "market": what a worker's processes share of market data (the option chain's strike
# list); short timeouts, as the services fall back to the broker without it.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "market": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "autohedge",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    },
}
CELERY_RESULT_BACKEND = None
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
CELERY_TASK_ACKS_LATE = True  # a task whose worker dies is delivered again: tasks are idempotent
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# Celery would close the database connection around every task (a new connection per
# tick: milliseconds); config/celery.py keeps it as Django keeps a request's instead.
CELERY_DB_REUSE_MAX = 1 << 62

# Auto-Hedge. Orders reach a broker only when both the account and this switch say live.
AUTOHEDGE_LIVE_TRADING = env_bool("AUTOHEDGE_LIVE_TRADING", False)
# The key the default account variable, OPENALGO_API_KEY, stands for while unset: in
# development the simulated broker's ("demo": bin/demo, manage.py simbroker), so a second
# shell beside the demo reaches its broker; in production none, and a missing key is refused.
OPENALGO_API_KEY_DEFAULT = "" if PRODUCTION else "demo"
OPENALGO_TIMEOUT_CONNECT = float(os.environ.get("OPENALGO_TIMEOUT_CONNECT", "2"))
OPENALGO_TIMEOUT_READ = float(os.environ.get("OPENALGO_TIMEOUT_READ", "5"))
# An order claimed by a worker that died leaving no word, and not in the order book, is
# sent only after this long: more than the read timeout.
AUTOHEDGE_ORDER_SETTLE_SECONDS = float(os.environ.get("AUTOHEDGE_ORDER_SETTLE_SECONDS", "15"))
# An order whose answer was lost is never sent again; it is looked for by its tag this
# long (a real OpenAlgo may place it tens of seconds late), then given up, and a new
# decision may follow. A fill seen later still is taken into the books by the minute's
# snapshot.
AUTOHEDGE_LOST_ORDER_WATCH_SECONDS = float(os.environ.get("AUTOHEDGE_LOST_ORDER_WATCH_SECONDS", "120"))
# A tick's reading and deciding wait on the broker this long at most: a hung OpenAlgo
# must not hold the session's lock (and skip its next minutes). Its orders have their own.
AUTOHEDGE_TICK_BROKER_SECONDS = float(os.environ.get("AUTOHEDGE_TICK_BROKER_SECONDS", "45"))
# Sessions per lookahead task of the minute's fan-out (one task each would cost more in
# queueing than in ticking).
AUTOHEDGE_TICK_BATCH = int(os.environ.get("AUTOHEDGE_TICK_BATCH", "50"))
# A batch's locked ticks at once, each on a database connection of its own (a worker
# process holds this many more; PostgreSQL allows 100 by default).
AUTOHEDGE_TICK_THREADS = int(os.environ.get("AUTOHEDGE_TICK_THREADS", "8"))
TELEGRAM_BOT_TOKEN = os.environ.get("TELEGRAM_BOT_TOKEN", "")
TELEGRAM_CHAT_IDS = env_list("TELEGRAM_CHAT_IDS")
TELEGRAM_BASE_URL = os.environ.get("TELEGRAM_BASE_URL", "https://api.telegram.org/bot")
TELEGRAM_BOT_HANDLER = "hedging.services.bot.HedgingBotHandler"

# Error reports hide every secret the process knows by value, not only settings named
# *KEY*/*TOKEN*/*SECRET*: e.g. an OpenAlgo key in a failed broker call's frame.
DEFAULT_EXCEPTION_REPORTER_FILTER = "config.reporting.SecretsReporterFilter"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"axes.apps": {"level": "WARNING"}},  # not its version line at every process start
}

# The demo runs the day accelerated: every process given this spec (see
# hedging.core.clock.AcceleratedClock.spec) shares one simulated clock. Empty: real time.
AUTOHEDGE_CLOCK = os.environ.get("AUTOHEDGE_CLOCK", "")
