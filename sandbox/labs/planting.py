"""Facts for lessons, chosen from a tenant's own records, when its scenario planted
none.

The scenario engine plants each student's facts as it builds the tenant. A tenant
built without them (an older seed file, a scenario that plants none) gets them
here: picked deterministically from the student's own data, which differs from
student to student, and stored where the scenario would store them.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from sandbox.labs.facts import FACTS_KEY, tenant_facts
from sandbox.models.crm import Account, TenantInfo
from sandbox.models.crm.leads import Lead
from sandbox.text import company_key

#: (name, maker): each maker returns its fact, given the session, a seeded random
#: generator, the tenant's language (``en`` or ``zh``) and the facts made so far.
MAKERS: list[tuple[str, Callable[..., Any]]] = []


def maker(name: str):
    def decorate(fn):
        MAKERS.append((name, fn))
        return fn

    return decorate


def _info(session: Session, key: str) -> str | None:
    return session.scalar(sa.select(TenantInfo.value).where(TenantInfo.key == key))


def plant_facts(session: Session) -> dict[str, Any]:
    """The tenant's facts, chosen and stored first if it has none; commits."""
    facts = tenant_facts(session)
    if facts:
        return facts
    seed = int(_info(session, "variant_seed") or 0)
    lang = "zh" if (_info(session, "scenario") or "").endswith("-zh") else "en"
    rnd = random.Random(seed)  # noqa: S311 - reproducible choices, not secrets
    for name, make in MAKERS:
        facts[name] = make(session, rnd, lang, facts)
    session.merge(
        TenantInfo(key=FACTS_KEY, value=json.dumps(facts, ensure_ascii=False))
    )
    session.commit()
    return facts


def _open_leads(session: Session) -> list[Lead]:
    accounts = {company_key(n) for n in session.scalars(sa.select(Account.name))}
    leads = session.scalars(
        sa.select(Lead)
        .where(Lead.status.in_(("new", "contacted")), Lead.company.is_not(None))
        .order_by(Lead.id)
    ).all()
    names = [lead.name for lead in leads]
    return [
        lead
        for lead in leads
        if company_key(lead.company) not in accounts and names.count(lead.name) == 1
    ]


@maker("hot_lead")
def _hot_lead(session: Session, rnd: random.Random, lang: str, facts: dict) -> dict:
    lead = rnd.choice(_open_leads(session))
    return {
        "name": lead.name,
        "company": lead.company,
        "opportunity": f"{lead.company}首单"
        if lang == "zh"
        else f"{lead.company} first order",
        "amount": rnd.randrange(10, 90) * 1000,
    }


@maker("cold_lead")
def _cold_lead(session: Session, rnd: random.Random, lang: str, facts: dict) -> dict:
    taken = {facts["hot_lead"]["name"]}
    leads = [lead for lead in _open_leads(session) if lead.name not in taken]
    lead = rnd.choice(leads)
    return {"name": lead.name, "company": lead.company}
