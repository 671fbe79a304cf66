"""Reference solution of "Opportunities: stages, probability and the kanban"."""


def step_advance(crm, facts):
    deal = crm.find_id("opportunity", name=facts["open_deal"]["name"])
    stage = crm.find_id("stage", code=facts["open_deal"]["stage"])
    crm.post(f"/crm/opportunities/{deal}/move", {"stage_id": str(stage)})


def step_update(crm, facts):
    deal = facts["open_deal"]
    crm.submit(
        f"/crm/opportunities/{crm.find_id('opportunity', name=deal['name'])}/edit",
        {"amount": str(deal["amount"]), "next_step": deal["next_step"]},
    )


def step_close_won(crm, facts):
    deal = crm.find_id("opportunity", name=facts["won_deal"]["name"])
    crm.post(f"/crm/opportunities/{deal}/close-won")
