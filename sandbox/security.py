"""HTTP security: headers on every response, cookie flags, trusted proxies."""

from flask import Flask, Response, request
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from sandbox.assets import is_static_request

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        # Bootstrap's stylesheet draws form controls with inline SVG data: URIs.
        "img-src 'self' data:",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "object-src 'none'",
    )
)


def set_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    if not is_static_request() and current_user and current_user.is_authenticated:
        # A logged-in page holds a student's records: no shared or back-button cache
        # may keep a copy after logout. (Static files hold nobody's records.)
        headers["Cache-Control"] = "no-store"
    return response


class SessionInterface(SecureCookieSessionInterface):
    """The session cookie is ``Secure`` whenever the request came over HTTPS.

    ``SESSION_COOKIE_SECURE`` = true forces the flag; the default (null) follows the
    request, so a plain-HTTP classroom laptop still works.
    """

    def get_cookie_secure(self, app: Flask) -> bool:
        configured = app.config["SESSION_COOKIE_SECURE"]
        if configured is not None:
            return bool(configured)
        return request.is_secure


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    app.after_request(set_security_headers)
    proxies = int(app.config["TRUSTED_PROXIES"] or 0)
    if proxies:
        # Only behind a reverse proxy we run: it sets X-Forwarded-* and we trust that
        # many hops, so the scheme (HTTPS) and client address are the real ones.
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
