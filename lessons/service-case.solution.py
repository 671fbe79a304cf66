"""Reference solution of "Service: a case through its lifecycle"."""


def _case(crm, facts):
    return crm.find_id("case", subject=facts["service_case"]["subject"])


def step_open_case(crm, facts):
    case = facts["service_case"]
    crm.submit(
        "/crm/cases/new",
        {
            "subject": case["subject"],
            "account_id": str(crm.find_id("account", name=case["account"])),
            "case_type": "fault",
            "priority": "p2",
        },
    )


def step_work(crm, facts):
    case = _case(crm, facts)
    crm.post(f"/crm/cases/{case}/accept")
    crm.post(f"/crm/cases/{case}/start")


def step_escalate(crm, facts):
    crm.submit(
        f"/crm/cases/{_case(crm, facts)}/escalate",
        {"level": "2", "reason": facts["service_case"]["reason"]},
    )


def step_resolve(crm, facts):
    crm.submit(
        f"/crm/cases/{_case(crm, facts)}/resolve",
        {"resolution": facts["service_case"]["resolution"]},
    )
