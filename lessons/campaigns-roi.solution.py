"""Reference solution of "Campaigns: members, responses and the return on
investment"."""


def _campaign(crm, facts):
    return crm.find_id("campaign", name=facts["campaign"]["name"])


def step_create(crm, facts):
    fact = facts["campaign"]
    crm.submit(
        "/crm/campaigns/new",
        {
            "name": fact["name"],
            "campaign_type": fact["type"],
            "budget": str(fact["budget"]),
            "actual_cost": str(fact["actual_cost"]),
        },
    )


def step_members(crm, facts):
    fact = facts["campaign"]
    campaign = _campaign(crm, facts)
    lead = crm.find_id("lead", name=fact["lead"])
    contact = crm.find_id("contact", name=fact["contact"])
    crm.post(f"/crm/campaigns/{campaign}/members", {"lead_id": str(lead)})
    crm.post(f"/crm/campaigns/{campaign}/members", {"contact_id": str(contact)})


def step_responses(crm, facts):
    fact = facts["campaign"]
    campaign = _campaign(crm, facts)
    for who, status in (("lead", "responded"), ("contact", "sent")):
        member = crm.find_id(
            "campaign_member", **{who: fact[who], "campaign": fact["name"]}
        )
        crm.post(
            f"/crm/campaigns/{campaign}/members/status",
            {"member_ids": str(member), "status": status},
        )


def step_won_deal(crm, facts):
    campaign = _campaign(crm, facts)
    deal = crm.find_id("opportunity", name=facts["campaign"]["deal"])
    crm.submit(f"/crm/opportunities/{deal}/edit", {"campaign_id": str(campaign)})
    crm.post(f"/crm/opportunities/{deal}/close-won")


def step_roi(crm, facts):
    roi = f"{facts['campaign']['roi']:.1f}%"
    crm.read(f"/crm/campaigns/{_campaign(crm, facts)}", roi)
    return roi
