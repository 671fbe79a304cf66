"""The check registry: every kind of check a lesson may use, by its id.

A lesson names a kind (``field_equals``) and gives its parameters; adding a kind is
adding one registered class (:func:`register`).
"""

from sandbox.labs.checks.base import Check, CheckContext, CheckResult, Param
from sandbox.labs.checks.kinds import CHECKS, get_check, register

__all__ = [
    "CHECKS",
    "Check",
    "CheckContext",
    "CheckResult",
    "Param",
    "get_check",
    "register",
]
