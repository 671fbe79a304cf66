"""Saved queries (我的查询) on every list page.

Not a CRM module (it registers none): its blueprint is nested in the search
blueprint, under ``/crm/queries/``. A saved query is a list page's query string
under a name, kept in the student's own tenant; each module also offers four
default queries (all, my records, created this week, recently changed).
"""

from flask import Blueprint

from sandbox.crm.registry import refuse_writes_when_read_only

bp = Blueprint("queries", __name__)
bp.before_request(refuse_writes_when_read_only)

from sandbox.crm.saved_queries import routes  # noqa: E402, F401
