"""Security settings derived from the public address, for Okno behind a TLS-terminating proxy.

Kept out of settings.py as a pure function of the environment so that a test can build the
documented production configuration and check it (okno/core/tests/test_deploy.py) without
re-importing settings. Nothing here imports Django's machinery: settings.py calls it.

The rule: SITE_URL says what browsers see. When it is https, the site is production behind a
proxy (docs/setup.md, "Production layout"): browsers send `Origin: https://crm.example.ru`, so
that origin must be trusted for CSRF, the proxy's `X-Forwarded-Proto` tells Django the request
was secure, and cookies, HSTS and the redirect to https follow. `make demo` runs on plain http
at 127.0.0.1, where none of this may switch on (a secure cookie is never sent over http, and the
login would fail the other way).
"""

from collections.abc import Callable
from urllib.parse import urlsplit

# Django's own development-key warning (security.W009) fires below 50 characters or 5
# distinct ones; a production site must not run on the key shipped in the repository.
DEV_SECRET_KEY = "okno-dev-only-secret-change-me"


class DeployConfigError(ValueError):
    """A production setting that would leave the site open or unusable, named with its fix."""


def origin_of(url: str) -> str:
    """`https://crm.example.ru/some/path` -> `https://crm.example.ru` (what browsers send as Origin)."""
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.netloc:
        raise DeployConfigError(f"SITE_URL / CSRF_TRUSTED_ORIGINS: {url!r} is not an absolute URL like https://crm.example.ru")
    return f"{parts.scheme}://{parts.netloc}"


def security_settings(env: Callable[[str, str], str], *, secret_key: str) -> dict:
    """The security settings for the environment `env(name, default)` reads.

    Every value can be set by its own variable (same name as Django's setting); the defaults
    follow SITE_URL's scheme. Returns a dict for settings.py's globals.
    """

    def flag(name: str, default: bool) -> bool:
        return env(name, "1" if default else "0").strip().lower() in {"1", "true", "yes", "on"}

    site_url = env("SITE_URL", "http://127.0.0.1:8000")
    https = urlsplit(site_url).scheme == "https"
    if https and secret_key == DEV_SECRET_KEY:
        raise DeployConfigError(
            "SECRET_KEY: SITE_URL is https (production) but SECRET_KEY is the development key kept in "
            "the repository; set SECRET_KEY or SECRET_KEY_FILE to a long random value "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))')"
        )
    trusted = [o for o in (x.strip() for x in env("CSRF_TRUSTED_ORIGINS", "").split(",")) if o]
    origins = [origin_of(o) for o in trusted]
    if https and origin_of(site_url) not in origins:
        origins.insert(0, origin_of(site_url))

    # The header the proxy sets; Django trusts it only when told to, since a client talking to
    # granian directly could send it. The documented layout binds granian to 127.0.0.1.
    proxy_header = env("OKNO_PROXY_SSL_HEADER", "X-Forwarded-Proto" if https else "").strip()
    proxy_ssl = None
    if proxy_header and proxy_header.lower() not in {"0", "off", "no", "false"}:
        proxy_ssl = ("HTTP_" + proxy_header.upper().replace("-", "_"), "https")

    hsts_seconds = int(env("SECURE_HSTS_SECONDS", str(365 * 24 * 3600) if https else "0"))
    return {
        "CSRF_TRUSTED_ORIGINS": origins,
        "SECURE_PROXY_SSL_HEADER": proxy_ssl,
        "SESSION_COOKIE_SECURE": flag("SESSION_COOKIE_SECURE", https),
        "CSRF_COOKIE_SECURE": flag("CSRF_COOKIE_SECURE", https),
        "SECURE_SSL_REDIRECT": flag("SECURE_SSL_REDIRECT", https),
        "SECURE_HSTS_SECONDS": hsts_seconds,
        # Both make `check --deploy` clean; includeSubDomains covers the CRM's own subdomains
        # only, and the preload directive does nothing until someone submits the domain to
        # the browsers' list. Set either to 0 when a subdomain must stay on plain http.
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": flag("SECURE_HSTS_INCLUDE_SUBDOMAINS", https),
        "SECURE_HSTS_PRELOAD": flag("SECURE_HSTS_PRELOAD", https),
        "SESSION_COOKIE_HTTPONLY": True,
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "SECURE_REFERRER_POLICY": "same-origin",
        "X_FRAME_OPTIONS": "DENY",
    }
