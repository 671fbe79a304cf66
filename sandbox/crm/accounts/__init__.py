"""Accounts: the companies the student's company sells to."""

from sandbox.crm import module_blueprint

bp = module_blueprint("accounts", __name__)

from sandbox.crm.accounts import routes  # noqa: E402, F401
