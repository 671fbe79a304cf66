"""Reference solution of "Accounts and contacts"."""

from urllib.parse import quote

from sandbox.labs.solution import SolutionError


def step_create_customer(crm, facts):
    customer = facts["new_customer"]
    crm.submit(
        "/crm/accounts/new",
        {
            "name": customer["name"],
            "account_type": "end_customer",
            "industry": customer["industry"],
            "city": customer["city"],
        },
    )


def step_no_duplicate(crm, facts):
    known, contact = facts["known_account"], facts["new_contact"]
    # The duplicate check, as the new-account page runs it while the name is typed.
    similar = crm.get(f"/crm/accounts/similar?name={quote(known['variant'])}")
    if known["name"] not in [account["name"] for account in similar.get_json()]:
        raise SolutionError(f"the duplicate check does not show {known['name']}")
    crm.submit(
        "/crm/contacts/new",
        {
            "first_name": contact["first_name"],
            "last_name": contact["last_name"],
            "title": contact["title"],
            "account_id": str(crm.find_id("account", name=known["name"])),
        },
    )


def step_channel(crm, facts):
    channel = crm.find_id("account", name=facts["channel"]["name"])
    customer = crm.find_id("account", name=facts["new_customer"]["name"])
    crm.submit(f"/crm/accounts/{channel}/edit", {"account_type": "channel"})
    crm.post(
        f"/crm/accounts/{channel}/relations",
        {"related_id": str(customer), "relation": "serves"},
    )
