"""Settings for Contacts Portal.

Everything that differs between machines comes from the environment:
DATABASE_URL, SECRET_KEY, DEBUG, ALLOWED_HOSTS, HTTPS. The defaults are the
safe production ones; `make run` turns DEBUG on for local work.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _secret_key() -> str:
    # A key from the environment wins. Otherwise a random key is created once
    # and kept beside the project, so a fresh clone is never running on a
    # key that is published in the repository.
    if key := os.environ.get("SECRET_KEY"):
        return key
    key_file = BASE_DIR / ".secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(64))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "contacts_portal.admin.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "django.forms",
    "django_filters",
    "contacts_portal.apps.PortalConfig",
    # Before django_tasks_db: its `db_worker` command is this project's
    # (jobs/management/commands/db_worker.py, with a heartbeat).
    "jobs",
    "contacts_portal.apps.TasksDatabaseConfig",  # django-tasks-db, named in pt-BR in admin
    "simple_history",
    "accounts",
    "accounts.apps.AxesConfig",  # django-axes, named in pt-BR in admin
    "audit",
    "contacts",
    "tickets",
    "dedup",
    "bulk",
    "lgpd",
]

MIDDLEWARE = [
    # First: a load balancer's probe (/healthz) comes by address over plain
    # HTTP and is answered before host checks, the HTTPS redirect or log-in.
    "contacts_portal.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "contacts_portal.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before CsrfViewMiddleware, which reads the body.
    "contacts_portal.uploads.UploadSizeLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Who changed a contact and through what (panel or admin), for its history.
    "audit.recording.RecordingMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a lock-out into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "contacts_portal.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
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

# Widgets are rendered with the project's template engine, so that
# templates/django/forms/widgets/attrs.html can replace Django's own
# (contacts_portal/templatetags/form_attrs.py says why); "django.forms" in
# INSTALLED_APPS finds the rest of Django's widget templates.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

WSGI_APPLICATION = "contacts_portal.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers work while a writer commits; IMMEDIATE transactions make
    # a writer wait for the lock up front instead of failing half-way.
    # "optimize" refreshes the planner's statistics when a table has grown a
    # lot (a fraction of a millisecond otherwise): without them SQLite picks
    # the wrong index for an agent's name search.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            "PRAGMA analysis_limit=1000; PRAGMA optimize=0x10002;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif os.environ.get("DATABASE_APPLICATION_NAME"):
    # Which pool a connection serves (web, webhooks, worker), in
    # pg_stat_activity and the database's logs.
    DATABASES["default"].setdefault("OPTIONS", {})["application_name"] = os.environ["DATABASE_APPLICATION_NAME"]
# The few statements a webhook runs on every message are prepared once per
# database connection and then only run (database.hot_cursor). Off for a
# pooler in transaction mode that cannot keep prepared statements
# (PgBouncer before 1.22, or without max_prepared_statements).
DATABASE_PREPARED_STATEMENTS = env_bool("DATABASE_PREPARED_STATEMENTS", True)
# The CPU priority (nice) of this process's PostgreSQL backends, as the
# process's own: the webhooks' and task workers' pools run theirs below
# the agents' pages (README "Production"). Needs PostgreSQL's `prioritize`
# extension; 0 leaves them as they are.
DATABASE_NICE = int(os.environ.get("DATABASE_NICE", "0"))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# New passwords are stored with Argon2. The PBKDF2 hashers stay so that older
# passwords still verify; Django rehashes them with Argon2 at the next log-in.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]

AUTHENTICATION_BACKENDS = [
    # First: a locked-out username or address is refused before its password
    # is even checked.
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.PermissionsBackend",
]

# Log-in lock-out (django-axes). After AXES_FAILURE_LIMIT failed log-ins a
# username is locked out; the address they came from only after
# AXES_ADDRESS_FAILURE_LIMIT failures across usernames (an office shares one
# public address). Both last AXES_COOLOFF_MINUTES after the last failure (0:
# until an administrator unlocks it in admin). A successful log-in clears
# that username's count. See accounts.lockout.UsernameFirstHandler.
AXES_HANDLER = "accounts.lockout.UsernameFirstHandler"
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_ADDRESS_FAILURE_LIMIT = int(os.environ.get("AXES_ADDRESS_FAILURE_LIMIT", "30"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15"))) or None
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.client_ip_address"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "contacts:list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "pt-br"
LANGUAGES = [("pt-br", _("Portuguese (Brazil)")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "America/Sao_Paulo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Photos are personal data: they are served by a view that checks the wallet,
# never straight from MEDIA_URL.

# How much a request may send. A form with files may send MAX_UPLOAD_SIZE
# bytes in all (a view may allow more, see contacts_portal/uploads.py); a
# bigger one is refused with a message before its body is read. Form fields
# other than files are small (the longest form, a contact with its extra
# fields, is a few KB): 1 MB of them at most. A file bigger than 2.5 MB is
# received into a temporary file, not memory.
MAX_UPLOAD_SIZE = int(os.environ.get("MAX_UPLOAD_SIZE", 10 * 1024 * 1024))
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024 // 2

# Files customers send are fetched on a queue of their own ("media", its own
# worker: manage.py db_worker --queue-name media), so a long import on the
# default queue never keeps a photo waiting.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "media"]}}

# Security: safe by default, relaxed only by DEBUG or by HTTPS=0 behind a
# plain-HTTP test server.
HTTPS = env_bool("HTTPS", not DEBUG)
# Every cookie: HTTPS only, out of JavaScript's reach, not sent on cross-site
# requests. htmx gets the CSRF token from the page (hx-headers on <body>),
# never from the cookie.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = CSRF_COOKIE_HTTPONLY = LANGUAGE_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = LANGUAGE_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = HTTPS and env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0))
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
# Behind one reverse proxy: trust its X-Forwarded-Proto, and its
# X-Forwarded-For for the lock-out by address.
BEHIND_PROXY = env_bool("BEHIND_PROXY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Content-Security-Policy: scripts and styles come from our own static files;
# an inline <script> or <style> runs only with the page's nonce ({{ csp_nonce }})
# and style attributes never do. Images may be data: URIs (Bootstrap's icons).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# A log-in lasts a working day (10 hours, in seconds) unless SESSION_COOKIE_AGE
# says otherwise; SESSION_EXPIRE_AT_BROWSER_CLOSE=1 ends it when the browser
# closes, for shared computers.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", 10 * 60 * 60))
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", False)

# Contacts panel
# Strict wallet mode: agents do not see contacts that have no wallet.
CONTACTS_STRICT_WALLETS = env_bool("CONTACTS_STRICT_WALLETS", False)
# How long a merge of duplicates can be undone (manage.py unmerge, the
# survivor's history).
# The largest file a customer's message may bring that the panel fetches
# and keeps: photos, voice notes, videos and stickers; documents. Larger
# ones are shown as such, with their caption.
MESSAGE_MEDIA_MAX_BYTES = int(os.environ.get("MESSAGE_MEDIA_MAX_BYTES", 16 * 1024 * 1024))
MESSAGE_MEDIA_MAX_DOCUMENT_BYTES = int(os.environ.get("MESSAGE_MEDIA_MAX_DOCUMENT_BYTES", 100 * 1024 * 1024))

MERGE_UNDO_DAYS = int(os.environ.get("MERGE_UNDO_DAYS", "30"))
# Messages older than this many days lose their content (text, earlier
# versions, files) to `manage.py apply_message_retention`, run daily; the
# tickets and the messages themselves stay. Unset or 0: kept for ever.
MESSAGE_RETENTION_DAYS = int(os.environ.get("MESSAGE_RETENTION_DAYS") or 0) or None
# Beyond this many matches the list shows "1.000+" instead of counting every
# row: counting further costs more than the page itself at a million contacts
# (see benchmarks/list_search.py), and nobody pages through 40 pages.
CONTACTS_COUNT_CAP = int(os.environ.get("CONTACTS_COUNT_CAP", "1000"))
CONTACTS_PAGE_SIZES = (25, 50, 100)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# The list indexes carry the wallet as an INCLUDE column for PostgreSQL's
# index-only scans; SQLite builds them without it, which is fine there.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

# Import and export (contacts/transfer/)
IMPORT_MAX_FILE_BYTES = int(os.environ.get("IMPORT_MAX_FILE_BYTES", 50 * 1024 * 1024))
# What an .xlsx may unpack to, checked before it is parsed (zip bombs).
IMPORT_MAX_UNPACKED_BYTES = int(os.environ.get("IMPORT_MAX_UNPACKED_BYTES", 400 * 1024 * 1024))
# Data rows per file. The plan of each row is what an import holds (about
# 1.4 KB for a row whose every field is a value no other row has): at this
# many, with IMPORT_MAX_EXTRA_VALUES, such a file's preview and import peak
# under the 300 MB budget (benchmarks/README.md; 200,000 reached 353 MB).
IMPORT_MAX_ROWS = int(os.environ.get("IMPORT_MAX_ROWS", 150_000))
# The reader builds a sheet as a grid from its first cell to its last:
# rows × columns of that grid, checked before it is built (a lone cell at
# XFD1048576 would ask for 17 billion cells).
IMPORT_MAX_CELLS = int(os.environ.get("IMPORT_MAX_CELLS", 10_000_000))
# Columns that hold data (a header or a value), each a choice on the
# mapping step: beyond this the sheet is refused with a message.
IMPORT_MAX_COLUMNS = int(os.environ.get("IMPORT_MAX_COLUMNS", 300))
# The mapping step posts a field per such column: Django's limit on a
# request's fields (1,000 by default) follows the cap, so that raising it
# does not bring back a bare 400 (TooManyFieldsSent).
DATA_UPLOAD_MAX_NUMBER_FIELDS = max(1000, IMPORT_MAX_COLUMNS + 100)
# Values of additional information an import may hold: the cells with a
# value in the columns chosen as additional information, counted at the
# upload (the mapping step says it) and again by the job. Each costs the plan
# about 150 bytes beside its row's own, and the plan of the row cap's rows
# with this many stays within the import's memory budget (300 MB; see
# benchmarks/README.md, the import's memory at the row cap).
IMPORT_MAX_EXTRA_VALUES = int(os.environ.get("IMPORT_MAX_EXTRA_VALUES", 150_000))
# Tags an import may create: more is a wrong column, not a tag list.
IMPORT_MAX_NEW_TAGS = int(os.environ.get("IMPORT_MAX_NEW_TAGS", 500))
# Uploaded and generated files of jobs are removed after this many days.
JOB_FILE_RETENTION_DAYS = int(os.environ.get("JOB_FILE_RETENTION_DAYS", 7))
