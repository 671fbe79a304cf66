"""The workbench (home page) and site-wide actions such as the language switch."""

from flask import Blueprint

bp = Blueprint("main", __name__)

from sandbox.main import routes  # noqa: E402, F401
