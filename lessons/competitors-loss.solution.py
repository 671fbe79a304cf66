"""Reference solution of "Competitors: record a rival and analyse a lost deal"."""


def step_record_competitor(crm, facts):
    rival = facts["rival"]
    crm.submit(
        "/crm/competitors/new", {"name": rival["name"], "website": rival["website"]}
    )


def step_link(crm, facts):
    deal = crm.find_id("opportunity", name=facts["lost_deal"]["name"])
    rival = crm.find_id("competitor", name=facts["rival"]["name"])
    crm.submit(
        f"/crm/opportunities/{deal}/competitors/new",
        {"competitor_id": str(rival), "threat": "high"},
    )


def step_close_lost(crm, facts):
    deal = crm.find_id("opportunity", name=facts["lost_deal"]["name"])
    rival = crm.find_id("competitor", name=facts["rival"]["name"])
    crm.submit(
        f"/crm/opportunities/{deal}/close-lost",
        {"lost_reason": "price", "lost_to_id": str(rival)},
    )


def step_analyse(crm, facts):
    crm.read(
        f"/crm/competitors/{crm.find_id('competitor', name=facts['rival']['name'])}"
    )
    return f"{facts['lost_deal']['amount']:.2f}"
