"""The student's planted facts: what this tenant's lessons are about.

The scenario that builds a tenant stores its facts (the hot lead, the lost deal …)
as JSON under the ``facts`` key of the tenant's ``tenant_info`` table; lessons name
them in instructions and check parameters (``{{ facts.hot_lead.company }}``).
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from sandbox.models.crm import TenantInfo

FACTS_KEY = "facts"


_FACTS = sa.select(TenantInfo.value).where(TenantInfo.key == FACTS_KEY)


def tenant_facts(session_or_connection: Any) -> dict[str, Any]:
    """The tenant's facts, ``{}`` if it has none (or they are not a JSON object)."""
    raw = session_or_connection.scalar(_FACTS)
    if not raw:
        return {}
    try:
        facts = json.loads(raw)
    except ValueError:
        return {}
    return facts if isinstance(facts, dict) else {}
