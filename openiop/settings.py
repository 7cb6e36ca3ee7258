"""OpenIOP settings: one file, driven by the environment (see docs/operations.md)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF

from openiop.core.env import ConfigError, envbool, envint, envlist, envstr

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(envstr("OPENIOP_VAR_DIR", str(BASE_DIR.parent / "var")))

DEBUG = envbool("DEBUG", False)
OPENIOP_DEV = envbool("OPENIOP_DEV", True)
_INSECURE_KEY = "openiop-insecure-development-key-do-not-use-in-production-000000000"
SECRET_KEY = envstr("SECRET_KEY", _INSECURE_KEY if DEBUG or OPENIOP_DEV else "")
if not SECRET_KEY:
    raise ConfigError("SECRET_KEY must be set when OPENIOP_DEV is false")
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "openiop.core",
    "openiop.accounts",
    "openiop.organizations",
    "openiop.patients",
    "openiop.enrollment",
    "openiop.scheduling",
    "openiop.attendance",
    "openiop.placement",
    "openiop.clinical",
    "openiop.questionnaires",
    "openiop.medications",
    "openiop.billing",
    "openiop.consent",
    "openiop.aftercare",
    "openiop.portal",
    "openiop.messaging",
    "openiop.fhir",
    "openiop.reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "openiop.core.middleware.SessionTimeoutMiddleware",
    "openiop.core.middleware.MfaRequiredMiddleware",
    "openiop.portal.middleware.PortalIsolationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "openiop.core.middleware.NoStoreMiddleware",
    "openiop.core.middleware.AuditRefusalMiddleware",
    "axes.middleware.AxesMiddleware",
    "openiop.core.middleware.DeclaredMethodsMiddleware",
]

ROOT_URLCONF = "openiop.urls"
WSGI_APPLICATION = "openiop.wsgi.application"

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
                "openiop.core.context_processors.nav",
            ],
        },
    }
]


def _database_config() -> dict[str, object]:
    url = envstr("DATABASE_URL", f"sqlite:///{VAR_DIR / 'openiop.sqlite3'}")
    if not (url.startswith("sqlite://") or url.startswith(("postgres://", "postgresql://"))):
        raise ConfigError(f"DATABASE_URL must start with sqlite:// or postgres://, got {url!r}")
    # PostgreSQL: keep each worker's connection for a minute (opening one costs 5-15 ms, more
    # than a small page), checked before reuse. SQLite opens in microseconds: one per request.
    default_age = 0 if url.startswith("sqlite://") else 60
    config: dict[str, object] = dict(
        dj_database_url.parse(
            url,
            conn_max_age=envint("OPENIOP_DB_CONN_MAX_AGE", default_age),
            conn_health_checks=True,
        )
    )
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL + synchronous=FULL: every acknowledged commit survives a power cut (see
        # docs/adr/0003-sqlite-durability.md). IMMEDIATE: a read-then-write transaction takes the
        # write lock up front, so two counselors saving at once wait instead of failing with
        # "database is locked".
        config["OPTIONS"] = {
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                f"PRAGMA busy_timeout={envint('SQLITE_BUSY_TIMEOUT_MS', 10000)}; "
                "PRAGMA foreign_keys=ON;"
            ),
            "transaction_mode": "IMMEDIATE",
        }
        config["TEST"] = {"NAME": envstr("OPENIOP_TEST_DB", "") or None}
    return config


DATABASES = {"default": _database_config()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# PBKDF2-SHA256 (FIPS 140 approved; Django 5.2: 1,000,000 iterations) hashes new passwords
# (security.md T4). Argon2 stays second so older argon2 hashes still verify; Django re-hashes
# them with PBKDF2 at the user's next log-in.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]
# NIST SP 800-63B style: length, not composition rules; common, user-like and all-digit
# passwords refused. No upper limit below Django's own (any length hashes fine).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": envint("OPENIOP_PASSWORD_MIN_LENGTH", 12)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes checks lock-outs first; ModelBackend checks the password (docs/security.md).
AUTHENTICATION_BACKENDS = [
    "openiop.accounts.backends.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"

# Sessions: short, not persistent, and sent only over HTTPS outside development.
SESSION_COOKIE_AGE = envint("SESSION_COOKIE_AGE", 8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the cookie-free header tag instead
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

# Accounts and sessions (docs/security.md). Idle time-out and absolute cap are enforced by
# openiop.core.middleware.SessionTimeoutMiddleware, which deletes the server-side session.
OPENIOP_IDLE_TIMEOUT_MINUTES = envint("OPENIOP_IDLE_TIMEOUT_MINUTES", 15)
OPENIOP_SESSION_MAX_HOURS = envint("OPENIOP_SESSION_MAX_HOURS", 12)
# TOTP is required for every role that reads clinical notes (and superusers). Off by default only
# in development mode (OPENIOP_DEV=true: `make run`, the demo, the test suite); a user who has
# enrolled is asked for a code at every log-in either way.
OPENIOP_MFA_REQUIRED = envbool("OPENIOP_MFA_REQUIRED", not OPENIOP_DEV)
OTP_TOTP_ISSUER = envstr("OPENIOP_MFA_ISSUER", "OpenIOP")
# Lock-out after repeated failed log-ins, per username + IP address (django-axes).
AXES_FAILURE_LIMIT = envint("OPENIOP_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=envint("OPENIOP_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# The client address is REMOTE_ADDR (django-ipware is not installed). Behind a reverse proxy the
# server must see the real client as REMOTE_ADDR (configure the proxy and app server so), or every
# user shares the proxy's address and one attacker can lock a username out for everyone.
# Content-Security-Policy (django-csp): scripts and styles from our own files only, nothing
# inline. The matplotlib charts are inline SVG, rewritten to presentation attributes instead of
# style="..." (openiop/core/svg.py); templates carry no style attribute or <style> element, and
# htmx is told not to inject its indicator <style> (base.html). Tests: core/tests/test_csp_styles
# The portal's Join button posts to OpenIOP, which redirects to the video room: browsers apply
# form-action to that redirect, so the video service's origin is allowed there (only there).
_video = urlsplit(envstr("OPENIOP_VIDEO_BASE_URL", "https://meet.jit.si/"))
_VIDEO_ORIGINS = (
    [f"{_video.scheme}://{_video.netloc}"]
    if _video.scheme in ("http", "https") and _video.netloc
    else []
)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF, *_VIDEO_ORIGINS],
        "frame-ancestors": [NONE],
    }
}

if envbool("OPENIOP_SECURE", False):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # __Host- cookies are only accepted over HTTPS, for this exact host, with Path=/.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", False)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    if not SECURE_HSTS_PRELOAD:
        # HSTS preload is a per-domain opt-in that is hard to undo; a clinic chooses it with
        # SECURE_HSTS_PRELOAD=true rather than having it forced by the deploy check.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "WARNING")},
}

# Precomputed panels (ADR 0016): the dashboard's weekly-hours summary, at-risk list and
# authorization alerts are served from a snapshot this many seconds old at most (0: always
# computed live); the outcome report's snapshot lives longer. "Refresh" recomputes either now.
OPENIOP_SNAPSHOT_MAX_AGE_SECONDS = envint("OPENIOP_SNAPSHOT_MAX_AGE_SECONDS", 60)
OPENIOP_REPORT_SNAPSHOT_MAX_AGE_SECONDS = envint("OPENIOP_REPORT_SNAPSHOT_MAX_AGE_SECONDS", 900)
# Chart cache (rendered SVGs) and the API's page size.
OPENIOP_API_PAGE_SIZE = envint("OPENIOP_API_PAGE_SIZE", 100)
# FHIR Bulk Data $export files: <dir>/<job>/<Type>.ndjson (openiop.fhir.bulk).
OPENIOP_FHIR_EXPORT_DIR = Path(envstr("OPENIOP_FHIR_EXPORT_DIR", str(VAR_DIR / "fhir-exports")))
# How long a one-time questionnaire link (sent to a patient's phone) stays valid.
OPENIOP_QUESTIONNAIRE_LINK_HOURS = envint("OPENIOP_QUESTIONNAIRE_LINK_HOURS", 72)
# 42 CFR Part 2: the age from which a minor's own consent suffices, per state (2.14); counsel
# decides. States not listed need the minor's and a guardian's signature.
OPENIOP_CONSENT_MINOR_SELF_CONSENT_AGE: dict[str, int] = {}
OPENIOP_CONSENT_DEFAULT_STATE = envstr("OPENIOP_CONSENT_DEFAULT_STATE", "")
OPENIOP_BREAK_GLASS_MINUTES = envint("OPENIOP_BREAK_GLASS_MINUTES", 60)
# Counselors see only their caseload (openiop/enrollment/caseload.py); 0 lets every counselor
# see every patient of the organization.
OPENIOP_CASELOAD_SCOPING = envbool("OPENIOP_CASELOAD_SCOPING", True)
# Aftercare and outcomes (issue 9, docs/guide/aftercare.md): plan length, follow-up time points
# (days after discharge), the window around each in which a contact counts for it, weeks without
# engagement before a "gone quiet" alert, and the reduction in days of use that counts as success.
OPENIOP_AFTERCARE_MONTHS = envint("OPENIOP_AFTERCARE_MONTHS", 10)
OPENIOP_FOLLOW_UP_DAYS = tuple(
    int(d) for d in envstr("OPENIOP_FOLLOW_UP_DAYS", "30,90,180,365").split(",") if d.strip()
)
OPENIOP_FOLLOW_UP_WINDOW_BEFORE = envint("OPENIOP_FOLLOW_UP_WINDOW_BEFORE", 14)
OPENIOP_FOLLOW_UP_GRACE_AFTER = envint("OPENIOP_FOLLOW_UP_GRACE_AFTER", 30)
OPENIOP_OUTCOME_FOLLOW_UP_DAYS = envint("OPENIOP_OUTCOME_FOLLOW_UP_DAYS", 180)
OPENIOP_GONE_QUIET_WEEKS = envint("OPENIOP_GONE_QUIET_WEEKS", 3)
OPENIOP_REDUCTION_THRESHOLD_PERCENT = envint("OPENIOP_REDUCTION_THRESHOLD_PERCENT", 95)
# Patient portal (issue 10, docs/guide/portal.md): how long an invitation link works, what a
# guardian's account shows by default (schedule, questionnaires, plan, consents), and the video
# room provider for virtual sessions ("jitsi": https://meet.jit.si/<unguessable name>, or a
# clinic's own service at OPENIOP_VIDEO_BASE_URL).
OPENIOP_PORTAL_INVITATION_DAYS = envint("OPENIOP_PORTAL_INVITATION_DAYS", 7)
OPENIOP_PORTAL_GUARDIAN_SEES = tuple(
    s.strip() for s in envstr("OPENIOP_PORTAL_GUARDIAN_SEES", "schedule").split(",") if s.strip()
)
OPENIOP_VIDEO_PROVIDER = envstr("OPENIOP_VIDEO_PROVIDER", "jitsi")
OPENIOP_VIDEO_BASE_URL = envstr("OPENIOP_VIDEO_BASE_URL", "https://meet.jit.si/")
# Replies to reminder texts (STOP / START): the SMS provider posts them to
# /messages/sms/inbound/<OPENIOP_SMS_INBOUND_TOKEN>/. Empty (the default): that URL is a 404.
OPENIOP_SMS_INBOUND_TOKEN = envstr("OPENIOP_SMS_INBOUND_TOKEN", "")
OPENIOP_AUDIT_REPORT_PAGE_SIZE = envint("OPENIOP_AUDIT_REPORT_PAGE_SIZE", 50)
OPENIOP_AUDIT_REPORT_MAX_PAGE = envint("OPENIOP_AUDIT_REPORT_MAX_PAGE", 200)
OPENIOP_AUDIT_EXPORT_MAX_ROWS = envint("OPENIOP_AUDIT_EXPORT_MAX_ROWS", 100_000)
