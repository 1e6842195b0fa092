"""Security headers, rate limits and CSRF protection for every page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

# Everything is served from this site: no CDN, no inline scripts or styles (the city's colours
# come from /theme.css), and no page may be framed by another site.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "object-src 'none'",
    ]
)

#: The views whose POSTs are rate-limited, and the config key holding each limit.
LIMITED_VIEWS = {"submit.new": "INNOPLAT_SUBMIT_LIMIT", "auth.login": "INNOPLAT_LOGIN_LIMIT"}


#: One year, the usual minimum for HSTS; ``INNOPLAT_HSTS_SECONDS`` changes it (0 sends none).
DEFAULT_HSTS_SECONDS = 31_536_000


class SessionCookies(SecureCookieSessionInterface):
    """The session cookie is ``Secure`` whenever the page was served over HTTPS.

    Behind a proxy that terminates TLS, ``INNOPLAT_PROXY_FIX=1`` lets Flask see the original
    scheme; ``INNOPLAT_SECURE_COOKIES=1`` makes the cookie Secure regardless.
    """

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or (
            has_request_context() and request.is_secure
        )


def init_app(app: Flask) -> None:
    app.session_interface = SessionCookies()
    CSRFProtect(app)
    app.extensions["innoplat.limiter"] = Limiter(
        get_remote_address,
        app=app,
        storage_uri=app.config["RATELIMIT_STORAGE_URI"],
        default_limits=[],
    )
    app.after_request(_headers)


def limit_views(app: Flask) -> None:
    """Rate-limit sending ideas and signing in, per client address (limits from the app's config)."""
    limiter: Limiter = app.extensions["innoplat.limiter"]
    for endpoint, key in LIMITED_VIEWS.items():
        view = app.view_functions[endpoint]

        def limit(key: str = key) -> str:
            return str(app.config[key])

        app.view_functions[endpoint] = limiter.limit(  # type: ignore[assignment]
            limit,
            methods=["POST"],
            # Only a real submission counts: previews and validation errors are free.
            exempt_when=lambda: request.endpoint == "submit.new" and "send" not in request.form,
        )(view)


def _headers(response: Any) -> Any:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    hsts = int(current_app.config.get("INNOPLAT_HSTS_SECONDS", DEFAULT_HSTS_SECONDS))
    if request.is_secure and hsts > 0:  # browsers ignore the header on plain HTTP (RFC 6797)
        response.headers.setdefault(
            "Strict-Transport-Security", f"max-age={hsts}; includeSubDomains"
        )
    return response


#: The rate limit on plugin forms (support, comment, follow…) unless INNOPLAT_PLUGIN_POST_LIMIT says otherwise.
DEFAULT_PLUGIN_POST_LIMIT = "30 per hour"


def limit_plugin_posts(app: Flask, blueprint: Blueprint) -> None:
    """Rate-limit a plugin blueprint's POSTs per visitor with the app's limiter, as core limits its forms.

    ``create_app`` does this for every blueprint a plugin contributes; calling it again for
    the same blueprint changes nothing. The limit is the app's ``INNOPLAT_PLUGIN_POST_LIMIT``
    (default ``30 per hour``).
    """
    limiter = app.extensions.get("innoplat.limiter")
    limited: set[str] = app.extensions.setdefault("innoplat.limited_blueprints", set())
    if limiter is not None and blueprint.name not in limited:
        limited.add(blueprint.name)
        limiter.limit(
            lambda: app.config.get("INNOPLAT_PLUGIN_POST_LIMIT", DEFAULT_PLUGIN_POST_LIMIT),
            methods=["POST"],
        )(blueprint)
