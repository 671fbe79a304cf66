"""Export of every list and import for the modules with an import spec.

Not a CRM module (it registers none): its blueprint is nested in the search
blueprint, so its pages live under ``/crm/<module key>/`` next to the module's own:
``export.csv``, ``export.xlsx``, ``import`` and ``import/template.csv|xlsx``.
"""

from flask import Blueprint

from sandbox.crm.registry import refuse_writes_when_read_only

bp = Blueprint("transfer", __name__)
bp.before_request(refuse_writes_when_read_only)

from sandbox.crm.transfer import routes  # noqa: E402, F401
