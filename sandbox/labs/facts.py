"""The student's planted facts: what this tenant's lessons are about.

The scenario that builds a tenant stores its facts (the hot lead, the lost deal …)
as JSON under the ``facts`` key of the tenant's ``tenant_info`` table. The lessons
pick what they need beyond those from the built data when the seed file is made
(:mod:`sandbox.labs.planting`) and store them under ``lesson_facts``, so a reset
brings back the same facts. Lessons name them in instructions and check parameters
(``{{ facts.hot_lead.company }}``).
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from sandbox.models.crm import TenantInfo

#: The scenario's own facts, written when the scenario is built.
FACTS_KEY = "facts"
#: The facts the lessons add (picked from the built data by ``planting``).
LESSON_FACTS_KEY = "lesson_facts"


def _load(session_or_connection: Any, key: str) -> dict[str, Any]:
    raw = session_or_connection.scalar(
        sa.select(TenantInfo.value).where(TenantInfo.key == key)
    )
    if not raw:
        return {}
    try:
        facts = json.loads(raw)
    except ValueError:
        return {}
    return facts if isinstance(facts, dict) else {}


def lesson_facts(session_or_connection: Any) -> dict[str, Any]:
    """The facts planted for the lessons, ``{}`` before they are planted."""
    return _load(session_or_connection, LESSON_FACTS_KEY)


def tenant_facts(session_or_connection: Any) -> dict[str, Any]:
    """The tenant's facts: the scenario's, and the lessons' over them where both
    name one (``{}`` if it has none, or they are not a JSON object)."""
    return {
        **_load(session_or_connection, FACTS_KEY),
        **_load(session_or_connection, LESSON_FACTS_KEY),
    }
