"""Instructor pages: courses, rosters, resets and read-only views of student CRMs."""

from flask import Blueprint

bp = Blueprint("instructor", __name__)

from sandbox.instructor import routes  # noqa: E402, F401
