"""Logging in and out, passwords, profile and language."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from sandbox.auth import routes  # noqa: E402, F401
