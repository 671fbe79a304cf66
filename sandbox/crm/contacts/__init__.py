"""Contacts: the people at accounts."""

from sandbox.crm import module_blueprint

bp = module_blueprint("contacts", __name__)

from sandbox.crm.contacts import routes  # noqa: E402, F401
