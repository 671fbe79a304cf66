"""Reference solution of "Leads: qualify, disqualify and convert"."""

import datetime as dt

from sandbox.crm.leads.service import split_name


def step_qualify(crm, facts):
    lead = crm.find_id("lead", name=facts["hot_lead"]["name"])
    crm.post(f"/crm/leads/{lead}/qualify")


def step_unqualify(crm, facts):
    lead = crm.find_id("lead", name=facts["cold_lead"]["name"])
    crm.post(f"/crm/leads/{lead}/unqualify", {"unqualified_reason": "no_budget"})


def step_convert(crm, facts):
    hot = facts["hot_lead"]
    lead = crm.find_id("lead", name=hot["name"])
    first, last = split_name(hot["name"])
    stage = crm.find_id("stage", code="prospecting")
    crm.post(
        f"/crm/leads/{lead}/convert",
        {
            "account_choice": "new",
            "account_name": hot["company"],
            "contact_choice": "new",
            "first_name": first,
            "last_name": last,
            "create_opportunity": "y",
            "opportunity_name": hot["opportunity"],
            "amount": str(hot["amount"]),
            "close_date": (dt.date.today() + dt.timedelta(days=30)).isoformat(),
            "stage_id": str(stage),
        },
    )
