"""Accounts: the companies the student's company sells to."""

from flask import Blueprint

bp = Blueprint("accounts", __name__)

from sandbox.crm.accounts import routes  # noqa: E402, F401
