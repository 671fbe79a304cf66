"""CRM tables in a tenant database; every model here carries the ``tenant`` bind key.

One file per CRM module. Importing this package imports them all, so the tenant
metadata always holds every table.
"""

import importlib
import pkgutil

from sandbox.models.crm.accounts import Account
from sandbox.models.crm.base import (
    TENANT_BIND,
    Audited,
    AuditLog,
    CodeItem,
    Money,
    TenantInfo,
    TenantModel,
    Timestamped,
    UnauditedWrite,
    current_actor,
    tenant_metadata,
)
from sandbox.models.crm.contacts import Contact
from sandbox.models.crm.team import Colleague

for _info in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_info.name}")

__all__ = [
    "TENANT_BIND",
    "Account",
    "AuditLog",
    "Audited",
    "CodeItem",
    "Colleague",
    "Contact",
    "Money",
    "TenantInfo",
    "TenantModel",
    "Timestamped",
    "UnauditedWrite",
    "current_actor",
    "tenant_metadata",
]
