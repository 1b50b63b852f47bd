"""Settings for gridgov, read from the environment.

Two modes: the embedded default (SQLite in ./var, DEBUG allowed, no external services)
and production (GRIDGOV_MODE=production) which passes `manage.py check --deploy`.
"""

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent
BASE_DIR = Path(os.environ.get("GRIDGOV_HOME", Path.cwd())).resolve()
VAR_DIR = Path(os.environ.get("GRIDGOV_VAR", BASE_DIR / "var"))


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


MODE = os.environ.get("GRIDGOV_MODE", "development")
PRODUCTION = MODE == "production"

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise RuntimeError("SECRET_KEY must be set in production mode")
    SECRET_KEY = "dev-insecure-gridgov-key-change-me-0123456789-abcdefghijklmnopqrstuvwxyz"

DEBUG = env_bool("DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "gridgov.core",
    "gridgov.geo",
    "gridgov.org",
    "gridgov.catalog",
    "gridgov.cases",
    "gridgov.screen",
    "gridgov.hotline",
    "gridgov.open311",
    "gridgov.video",
    "gridgov.triage",
    "gridgov.supervision",
    "gridgov.callbacks",
    "gridgov.metrics",
    "gridgov.assessment",
    "gridgov.proactive",
    "gridgov.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "gridgov.web.middleware.DefaultLanguageMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "gridgov.urls"
WSGI_APPLICATION = "gridgov.wsgi.application"
ASGI_APPLICATION = "gridgov.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
SQLITE_PATH = VAR_DIR / "gridgov.sqlite3"
DATABASE_URL = os.environ.get("DATABASE_URL", "")
# A worker keeps its connection between requests (SQLite too: opening it and running the
# PRAGMAs below costs more CPU than a small request, bench/server_choice.py). `gridgov
# serve` sets 0 for the ASGI server, whose requests may run on changing threads.
CONN_MAX_AGE = int(os.environ.get("CONN_MAX_AGE", 60))
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=CONN_MAX_AGE)}
else:
    # The embedded default keeps its database under var/, created on first use.
    SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": SQLITE_PATH, "CONN_MAX_AGE": CONN_MAX_AGE}}
# The embedded default's connection settings (decisions 0004, 0013):
SQLITE_OPTIONS = {
    # WAL lets readers run beside the single writer; IMMEDIATE takes the write lock at
    # BEGIN so two transitions on one case serialise instead of failing mid-way.
    # wal_autocheckpoint: the worker checkpoints every second (gridgov.core.sqlite.checkpoint).
    # temp_store=MEMORY: SQLite's statement journals stay in memory; on disk, about every
    # other case create made, opened and unlinked a temporary file (five system calls).
    # page_size=2048 (a new database only; it must come before WAL): a commit writes every
    # page it touched to the log, ~22 per case create; half-size pages made creates 6%
    # cheaper in CPU and 9% in wall time, with the case list as fast (decision 0004).
    "init_command": "PRAGMA page_size=2048;PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA foreign_keys=ON;"
    "PRAGMA wal_autocheckpoint=10000;PRAGMA temp_store=MEMORY;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 30,
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's backend plus a cross-process queue for writers (decision 0013).
    DATABASES["default"]["ENGINE"] = "gridgov.core.sqlite"
    DATABASES["default"]["OPTIONS"] = dict(SQLITE_OPTIONS)
    # Tests run in memory, as with Django's own engine name (pytest-django only recognises
    # that name; for ours it would derive a file name from NAME).
    DATABASES["default"].setdefault("TEST", {}).setdefault("NAME", ":memory:")
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "org.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"

# --- i18n -----------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024

# --- API ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "gridgov.org.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "gridgov.core.api.Pagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "gridgov.core.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "gridgov API",
    "DESCRIPTION": "基层治理平台 gridgov REST API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI comes from npm (swagger-ui-dist), served by us: works offline.
    "SWAGGER_UI_DIST": "/static/vendor/swagger-ui",
    "SWAGGER_UI_FAVICON_HREF": "/static/vendor/swagger-ui/favicon-32x32.png",
    # One component name per choice set that several fields share (keeps --fail-on-warn clean).
    "ENUM_NAME_OVERRIDES": {
        "CategoryKindEnum": "gridgov.catalog.models.CategoryKind",
        "TimeUnitEnum": "gridgov.catalog.models.TimeUnit",
        "PriorityEnum": "gridgov.catalog.models.Priority",
        "CaseStatusEnum": "gridgov.cases.models.Status",
        "ClockKindEnum": "gridgov.cases.models.ClockKind",
        "ClockStateEnum": "gridgov.cases.models.ClockState",
        "AttachmentKindEnum": "gridgov.cases.models.AttachmentKind",
        "RequestKindEnum": "gridgov.cases.models.RequestKind",
        "RequestStatusEnum": "gridgov.cases.models.RequestStatus",
        "SheetStatusEnum": "gridgov.assessment.models.SheetStatus",
        "AttendanceStatusEnum": "gridgov.assessment.models.AttendanceStatus",
        "ProjectStatusEnum": "gridgov.proactive.models.ProjectStatus",
        "RoleEnum": "gridgov.org.roles.Role",
        "SupervisionOrderKindEnum": "gridgov.supervision.models.OrderKind",
        "CameraStatusEnum": "gridgov.video.models.CameraStatus",
        "AlarmStatusEnum": "gridgov.video.models.AlarmStatus",
        "HotlineOrderTypeEnum": "gridgov.hotline.models.OrderType",
        "HotlineUrgencyEnum": "gridgov.hotline.models.Urgency",
        "HotlineReplyKindEnum": "gridgov.hotline.models.ReplyKind",
        "HotlineReplyStatusEnum": "gridgov.hotline.models.ReplyStatus",
    },
    # Every operation documents the {code, message, fields} error responses.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "gridgov.core.api.document_error_responses",
    ],
}

# --- Background tasks -----------------------------------------------------------------
TASKS = {"default": {"BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend")}}

# --- Login lockout (django-axes) ------------------------------------------------------
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = env_bool("AXES_ENABLED", True)
# The sign-in page itself says the account is locked (in the user's language).
AXES_LOCKOUT_CALLABLE = "gridgov.web.views.lockout_response"

# --- Domain settings ------------------------------------------------------------------
# Office hours used by working-time clocks; each pair is [start, end) local time.
GRIDGOV_OFFICE_HOURS = [("08:30", "12:00"), ("13:30", "17:30")]
GRIDGOV_SLA_WARNING_FRACTION = 0.7
# Default clock limits (value, unit); the handling clock comes from each 小类.
GRIDGOV_SLA = {
    "accept_dispatch": (1, "working_hours"),
    "sign": (1, "working_hours"),
    "verify": (1, "working_days"),
}
# Urgent cases count their clocks in natural (wall-clock) hours: see gridgov.catalog.sla.
GRIDGOV_SLA_URGENT_NATURAL = env_bool("GRIDGOV_SLA_URGENT_NATURAL", True)
GRIDGOV_MAX_PHOTO_BYTES = int(os.environ.get("GRIDGOV_MAX_PHOTO_BYTES", 8 * 1024 * 1024))
# The region code that receives cases whose point lies outside every grid (兜底).
GRIDGOV_FALLBACK_REGION_CODE = os.environ.get("GRIDGOV_FALLBACK_REGION_CODE", "")
GRIDGOV_MAP_TILE_URL = os.environ.get("GRIDGOV_MAP_TILE_URL", "")

# --- 12345 hotline (docs/architecture.md "hotline") --------------------------------------
# The hotline's own limits per urgency and order type (domain.md §3), kept on each order on
# top of the case clocks: "response" (响应) and "reply" (办结反馈) as (value, unit), unit as in
# GRIDGOV_SLA. "*" is the fallback type. A deadline sent by the hotline replaces "reply".
GRIDGOV_HOTLINE_LIMITS = {
    "urgent": {"*": {"response": (2, "natural_hours"), "reply": (24, "natural_hours")}},
    "normal": {
        "consult": {"response": (24, "natural_hours"), "reply": (3, "working_days")},
        "help": {"response": (24, "natural_hours"), "reply": (3, "working_days")},
        "complaint": {"response": (24, "natural_hours"), "reply": (13, "working_days")},
        "report": {"response": (24, "natural_hours"), "reply": (13, "working_days")},
        "*": {"response": (24, "natural_hours"), "reply": (7 * 24, "natural_hours")},
    },
}
# Where closure replies and callback results are POSTed (empty: keep them for the .xlsx export),
# the HMAC-SHA256 key of the X-Gridgov-Signature header, and the retry delays in seconds.
GRIDGOV_HOTLINE_REPLY_URL = os.environ.get("GRIDGOV_HOTLINE_REPLY_URL", "")
GRIDGOV_HOTLINE_REPLY_SECRET = os.environ.get("GRIDGOV_HOTLINE_REPLY_SECRET", "")
GRIDGOV_HOTLINE_REPLY_BACKOFF = [60, 300, 900, 3600, 6 * 3600]
GRIDGOV_HOTLINE_REPLY_TIMEOUT = float(os.environ.get("GRIDGOV_HOTLINE_REPLY_TIMEOUT", "10"))

# --- Big screen and live events (docs/screen.md) ----------------------------------------
# Where the screen opens its event stream: a path on the same origin ("/events/"), a full
# URL, or ":8001/events/" for "this host, port 8001" (the ASGI server of `gridgov serve`).
GRIDGOV_EVENTS_URL = os.environ.get("GRIDGOV_EVENTS_URL", "/events/")
GRIDGOV_LIVE_POLL_SECONDS = float(os.environ.get("GRIDGOV_LIVE_POLL_SECONDS", "0.25"))  # SQLite poller
GRIDGOV_LIVE_TICKET_SECONDS = int(os.environ.get("GRIDGOV_LIVE_TICKET_SECONDS", "900"))
GRIDGOV_LIVE_WSGI_STREAM_SECONDS = float(os.environ.get("GRIDGOV_LIVE_WSGI_STREAM_SECONDS", "25"))
GRIDGOV_SCREEN = {
    "rotate_seconds": int(os.environ.get("GRIDGOV_SCREEN_ROTATE_SECONDS", "15")),
    "rates_window_days": 30,  # 三率 and rankings cover this many days
    "inspector_on_duty_minutes": 30,  # a position newer than this counts as on patrol
    "cache_seconds": 5,  # per-process cache of the overview
    "livelihood_categories": ["民生诉求"],  # 大类 names of the 民生保障 panel
    "property_categories": ["物业服务"],  # 大类 names of the 智慧物业 panel
    "emergency_category_codes": ["04"],  # 大类 codes shown under 应急指挥 (04 突发事件)
}

# --- Logging --------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"refusals_without_traceback": {"()": "gridgov.core.logfilters.RefusalsWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["refusals_without_traceback"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# --- Production hardening -------------------------------------------------------------
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 31536000))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    X_FRAME_OPTIONS = "DENY"
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
