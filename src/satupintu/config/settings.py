"""SatuPintu settings, all from environment variables (see README, "Configuration").

The embedded default needs none of them: SQLite in ``var/``, the in-memory channel layer
and the SQLite task queue. ``SATUPINTU_ENV=production`` switches on the deployment checks.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from satupintu.config.env import ImproperlyConfiguredEnv, env, env_bool, env_int, env_list

PACKAGE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env("SATUPINTU_DATA_DIR") or (Path.cwd() / "var")).resolve()

ENVIRONMENT = env("SATUPINTU_ENV", "development") or "development"
PRODUCTION = ENVIRONMENT == "production"
DEBUG = env_bool("DEBUG", default=not PRODUCTION)
# Under pytest: fast password hashing and tasks run inline.
TESTING = env_bool("SATUPINTU_TESTING", default="pytest" in sys.modules)


def _secret_key() -> str:
    key = env("SECRET_KEY")
    if key:
        return key
    if PRODUCTION:
        raise ImproperlyConfiguredEnv("SECRET_KEY (or SECRET_KEY_FILE) is required in production")
    # Development and demo: one random key kept beside the database, so sessions survive restarts.
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


SECRET_KEY = _secret_key()
AUDIT_HMAC_KEY = env("AUDIT_HMAC_KEY") or SECRET_KEY


def _derived_key(label: str) -> str:
    """A development fallback key derived from SECRET_KEY; set the real one in production."""
    digest = hmac.new(SECRET_KEY.encode(), label.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()


def _production_secret(name: str) -> None:
    # A key derived from SECRET_KEY would make rotating SECRET_KEY destroy every encrypted
    # field and blind index: production must hold these keys on their own.
    if PRODUCTION and not env(name):
        raise ImproperlyConfiguredEnv(f"{name} (or {name}_FILE) is required in production")


_production_secret("FIELD_ENCRYPTION_KEYS")
_production_secret("BLIND_INDEX_KEY")
# Personal data at rest: Fernet keys, newest first (it encrypts); every key decrypts.
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS", []) or [
    _derived_key("satupintu.field-encryption")]
# Key of the blind index (HMAC-SHA256) that finds an encrypted identity by its value.
BLIND_INDEX_KEY = env("BLIND_INDEX_KEY") or _derived_key("satupintu.blind-index")

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver", "[::1]"]
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# The address customers reach this installation at (links in e-mails and WhatsApp messages).
SATUPINTU_PUBLIC_URL = env("SATUPINTU_PUBLIC_URL") or "http://127.0.0.1:8000"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "django_htmx",
    "huey.contrib.djhuey",
    "satupintu.accounts",
    "satupintu.audit",
    "satupintu.customers",
    "satupintu.cases",
    "satupintu.sla",
    "satupintu.knowledge",
    "satupintu.inbox",
    "satupintu.mail",
    "satupintu.whatsapp",
    "satupintu.webchat",
    "satupintu.portal",
    "satupintu.telephony",
    "satupintu.routing",
    "satupintu.wallboard",
    "satupintu.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "satupintu.web.middleware.RequestSizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "satupintu.accounts.middleware.UserLanguageMiddleware",
    "satupintu.accounts.middleware.SessionTimeoutMiddleware",
    "satupintu.accounts.middleware.MFARequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "satupintu.web.middleware.NoStoreMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "satupintu.config.urls"
ASGI_APPLICATION = "satupintu.config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "satupintu.web.context.navigation",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------
_default_db = f"sqlite:///{DATA_DIR / 'satupintu.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(env("DATABASE_URL") or _default_db, conn_max_age=0)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the single writer; IMMEDIATE takes the write lock up front
    # so two writers queue instead of failing half-way ("database is locked").
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- authentication -------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# django-axes: lock a username+IP pair after repeated failures (ASVS 2.2.1).
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "satupintu.accounts.views.auth.locked_out"
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = env_int("PROXY_COUNT", 0)

OTP_TOTP_ISSUER = env("OTP_ISSUER", "SatuPintu")
OTP_TOTP_THROTTLE_FACTOR = 1

# Sessions: idle and absolute time-outs are enforced by SessionTimeoutMiddleware.
SESSION_IDLE_TIMEOUT = timedelta(minutes=env_int("SESSION_IDLE_MINUTES", 30))
SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=env_int("SESSION_ABSOLUTE_HOURS", 12))
SESSION_COOKIE_AGE = int(SESSION_ABSOLUTE_TIMEOUT.total_seconds())
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_NAME = "satupintu_session"
CSRF_COOKIE_NAME = "satupintu_csrftoken"

# --- language and place ------------------------------------------------------------------
LANGUAGE_CODE = env("LANGUAGE_CODE", "id") or "id"
LANGUAGES = [("id", _("Bahasa Indonesia")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = env("TIME_ZONE", "Asia/Jakarta") or "Asia/Jakarta"
USE_I18N = True
USE_TZ = True

# --- static files ----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every start without it
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(DATA_DIR / "media")}},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
                    if PRODUCTION else
                    "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = not PRODUCTION

# --- requests --------------------------------------------------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_REQUEST_BYTES", 1024 * 1024)
API_MAX_BODY_BYTES = DATA_UPLOAD_MAX_MEMORY_SIZE
# Case attachments: their own, larger limit, allowed on the upload paths only (the request
# size middleware); the types a deployment accepts (never executables, HTML, SVG or scripts).
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
ATTACHMENT_ALLOWED_TYPES = env_list("ATTACHMENT_ALLOWED_TYPES", [])  # empty: the built-in list
# WhatsApp Business Cloud API (Graph API) base URL; each account may override it.
WHATSAPP_API_BASE = env("WHATSAPP_API_BASE", "https://graph.facebook.com/v21.0") or \
    "https://graph.facebook.com/v21.0"

# --- real time and background work ----------------------------------------------------
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    # redis-py 8 reads with a 5 s socket timeout by default, which kills the layer's idle
    # blocking receive (BZPOPMIN) and with it every WebSocket (channels_redis issue 422).
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                                  "CONFIG": {"hosts": [{"address": REDIS_URL,
                                                        "socket_timeout": None}]}}}
    HUEY = {"huey_class": "huey.RedisHuey", "name": "satupintu", "url": REDIS_URL,
            "immediate": TESTING}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    HUEY = {"huey_class": "huey.SqliteHuey", "name": "satupintu",
            "filename": str(DATA_DIR / "tasks.sqlite3"), "immediate": TESTING}
# Rate limits of the public pages count in the cache: per process by default, shared by
# every node through Redis when REDIS_URL is set.
CACHES = ({"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                       "LOCATION": REDIS_URL}} if REDIS_URL else
          {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                       "LOCATION": "satupintu"}})

# --- security headers ------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "WARNING") or "WARNING"},
}

# --- e-mail channel (satupintu.mail, docs/channels-email.md) ------------------------------
# Outbound SMTP relay for replies to customers.
EMAIL_HOST = env("EMAIL_HOST", "127.0.0.1") or "127.0.0.1"
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)   # STARTTLS
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", default=False)   # implicit TLS (port 465)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "") or ""
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "") or ""
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
# Used when a client has no receiving address to send from.
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "satupintu@localhost") or "satupintu@localhost"
# Inbound: the largest message the SMTP/LMTP endpoint and IMAP polling accept.
MAIL_MAX_MESSAGE_BYTES = env_int("MAIL_MAX_MESSAGE_BYTES", 25 * 1024 * 1024)
# What the endpoint does with mail for an address no client owns: "quarantine" (keep it for
# an administrator) or "reject" (550 at RCPT, the sending MTA bounces it).
MAIL_UNKNOWN_RECIPIENT = env("MAIL_UNKNOWN_RECIPIENT", "quarantine") or "quarantine"
# Identical messages (same sender, subject and text) per hour before the rest are ignored.
MAIL_IDENTICAL_PER_HOUR = env_int("MAIL_IDENTICAL_PER_HOUR", 3)
# Marks our own outgoing mail; a message carrying it back is a loop and is ignored.
MAIL_LOOP_TOKEN = env("MAIL_LOOP_TOKEN") or _derived_key("satupintu.mail-loop")[:16]

# --- routing (satupintu.routing, docs/routing.md) -----------------------------------------
# Run a routing pass right after each change (arrival, agent ready, completion) besides the
# `satupintu route` worker's passes; off leaves routing to the worker alone.
ROUTING_INLINE = env_bool("ROUTING_INLINE", default=True)
