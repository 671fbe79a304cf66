"""Error pages in the user's language; never a stack trace."""

from __future__ import annotations

import sqlalchemy as sa
from flask import render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm.exc import ObjectDeletedError, StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError

from sandbox.extensions import db
from sandbox.i18n import lazy_gettext as _l
from sandbox.tenancy import NoTenant, TenantBusy, from_tenant

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood.")),
    403: (_l("Access denied"), _l("You do not have permission to open this page.")),
    404: (_l("Page not found"), _l("The page or record you asked for does not exist.")),
    405: (_l("Not allowed"), _l("This page cannot be used that way.")),
    409: (
        _l("Your CRM was reset"),
        _l("Your CRM was reset while this page was open; please reload the page."),
    ),
    413: (_l("File too large"), _l("The file you sent is larger than the limit.")),
    429: (_l("Too many requests"), _l("Please wait a moment and try again.")),
    500: (
        _l("Something went wrong"),
        _l("The error has been logged. Please try again in a moment."),
    ),
    503: (_l("Busy"), _l("Your workspace is busy. Please try again in a moment.")),
}


def render_error(code: int, message: str | None = None):
    title, default = MESSAGES.get(code, MESSAGES[500])
    return render_template(
        "errors/error.html", code=code, title=title, message=message or default
    ), code


def register(app) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        return render_error(error.code or 500)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return render_error(
            400,
            _l(
                "Your form expired or was not sent from this site. "
                "Reload the page and try again."
            ),
        )

    @app.errorhandler(NoTenant)
    def no_tenant(error: NoTenant):
        return render_template("errors/no_tenant.html"), 404

    @app.errorhandler(TenantBusy)
    def tenant_busy(error: TenantBusy):
        db.session.rollback()
        return render_error(503)

    @app.errorhandler(ObjectDeletedError)
    @app.errorhandler(StaleDataError)
    def workspace_reset(error: Exception):
        # A record this request had read is gone: the student's CRM was reset (the
        # file swapped) between two of the request's transactions.
        db.session.rollback()
        return render_error(409)

    @app.errorhandler(sa.exc.OperationalError)
    def database_error(error: sa.exc.OperationalError):
        if from_tenant(error):
            return workspace_reset(error)
        return internal_error(InternalServerError(original_exception=error))

    @app.errorhandler(InternalServerError)
    def internal_error(error: InternalServerError):
        db.session.rollback()
        app.logger.error(
            "Unhandled error on %s %s",
            request.method,
            request.path,
            exc_info=error.original_exception,
        )
        return render_error(500)
