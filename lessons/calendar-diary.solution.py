"""Reference solution of "Calendar, tasks and the work diary"."""

import re


def step_meeting(crm, facts):
    agenda = facts["agenda"]
    contact = crm.find_id("contact", name=agenda["contact"])
    colleague = crm.find_id("colleague", name=agenda["colleague"])
    crm.submit(
        f"/crm/activities/new?kind=meeting&related_type=contacts&related_id={contact}",
        {
            "subject": agenda["meeting"],
            "starts_at": agenda["starts_at"].replace(" ", "T"),
            "ends_at": agenda["ends_at"].replace(" ", "T"),
            "colleague_ids": [str(colleague)],
            "contact_ids": [str(contact)],
        },
    )


def step_task(crm, facts):
    agenda = facts["agenda"]
    account = crm.find_id("account", name=agenda["task_account"])
    crm.submit(
        f"/crm/activities/new?kind=task&related_type=accounts&related_id={account}",
        {"subject": agenda["task"], "due_date": agenda["due"], "priority": "high"},
    )


def step_complete(crm, facts):
    agenda = facts["agenda"]
    task = crm.find_id(
        "activity", subject=agenda["overdue_task"], due_date=agenda["overdue_due"]
    )
    crm.read("/crm/activities/?due=overdue", agenda["overdue_task"])
    crm.post(f"/crm/activities/{task}/complete", {"outcome": agenda["outcome"]})


def step_diary(crm, facts):
    page = crm.read("/crm/calendar/diary/")
    today = re.search(r'href="(/crm/calendar/diary/[0-9-]{10})">(?:Today|今天)', page)
    crm.submit(today.group(1), {"notes": facts["agenda"]["diary"]})
