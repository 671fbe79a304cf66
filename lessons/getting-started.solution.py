"""Reference solution of "Getting started"."""

from urllib.parse import quote


def step_find_lead(crm, facts):
    lead = facts["lookup_lead"]
    crm.read(f"/crm/search?q={quote(lead['name'])}", lead["name"])
    return lead["email"]


def step_account_city(crm, facts):
    account = crm.find_id("account", name=facts["lookup_account"]["name"])
    crm.read(f"/crm/accounts/{account}", facts["lookup_account"]["city"])
    return facts["lookup_account"]["city"]


def step_update_phone(crm, facts):
    account = crm.find_id("account", name=facts["lookup_account"]["name"])
    crm.submit(
        f"/crm/accounts/{account}/edit", {"phone": facts["lookup_account"]["new_phone"]}
    )
