"""Reference solution of "The main business process: from a lead to a won deal
and its first case"."""

import datetime as dt

from sandbox.crm.leads.service import split_name


def _deal(crm, facts):
    return crm.find_id("opportunity", name=facts["capstone"]["opportunity"])


def step_qualify(crm, facts):
    lead = crm.find_id("lead", name=facts["capstone"]["lead"])
    crm.post(f"/crm/leads/{lead}/qualify")


def step_convert(crm, facts):
    fact = facts["capstone"]
    lead = crm.find_id("lead", name=fact["lead"])
    first, last = split_name(fact["lead"])
    crm.post(
        f"/crm/leads/{lead}/convert",
        {
            "account_choice": "new",
            "account_name": fact["company"],
            "contact_choice": "new",
            "first_name": first,
            "last_name": last,
            "create_opportunity": "y",
            "opportunity_name": fact["opportunity"],
            "close_date": (dt.date.today() + dt.timedelta(days=30)).isoformat(),
            "stage_id": str(crm.find_id("stage", code="qualification")),
        },
    )


def step_quote(crm, facts):
    fact = facts["capstone"]
    deal = _deal(crm, facts)
    crm.submit(
        f"/crm/opportunities/{deal}/lines/new",
        {
            "product_id": str(crm.find_id("product", name=fact["product"])),
            "quantity": str(fact["quantity"]),
            "unit_price": "",
        },
    )
    crm.post(f"/crm/opportunities/{deal}/quotes")


def step_won(crm, facts):
    deal = _deal(crm, facts)
    for code in ("proposal", "negotiation"):
        stage = crm.find_id("stage", code=code)
        crm.post(f"/crm/opportunities/{deal}/move", {"stage_id": str(stage)})
    crm.post(f"/crm/opportunities/{deal}/close-won")


def step_first_case(crm, facts):
    fact = facts["capstone"]
    crm.submit(
        "/crm/cases/new",
        {
            "subject": fact["case"],
            "account_id": str(crm.find_id("account", name=fact["company"])),
            "contact_id": str(crm.find_id("contact", name=fact["lead"])),
            "case_type": "request",
            "priority": "p3",
        },
    )
    case = crm.find_id("case", subject=fact["case"])
    crm.post(f"/crm/cases/{case}/accept")
