"""Contacts: the people at accounts."""

from flask import Blueprint

bp = Blueprint("contacts", __name__)

from sandbox.crm.contacts import routes  # noqa: E402, F401
