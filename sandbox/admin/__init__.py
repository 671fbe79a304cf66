"""Administration: users and instructors (create, edit, deactivate, reset password)."""

from flask import Blueprint

bp = Blueprint("admin", __name__)

from sandbox.admin import routes  # noqa: E402, F401
