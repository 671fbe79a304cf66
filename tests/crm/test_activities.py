"""Activities: tasks, calls, meetings and events linked to records, their rules,
the record pages' panel and the workbench boxes."""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa

from sandbox.crm.activities.service import linkable_modules
from sandbox.extensions import db
from sandbox.models import utcnow
from sandbox.models.crm import Account, AuditLog, Colleague
from sandbox.models.crm.activities import Activity, ActivityAttendee
from tests.helpers import make_account, starts_without

no_activities = starts_without("activity")


def me(session) -> int:
    return session.scalar(sa.select(Colleague.id).where(Colleague.is_self))


def someone_else(session) -> int:
    return session.scalar(sa.select(Colleague.id).where(~Colleague.is_self).limit(1))


def add(session, **values) -> Activity:
    values.setdefault("kind", "task")
    values.setdefault("subject", "Follow up")
    values.setdefault("owner_id", me(session))
    activity = Activity(**values)
    session.add(activity)
    session.commit()
    return activity


def edit_activity(client, activity_id: int, **fields):
    """POST the activity's edit form: planned, normal priority, unless ``fields``
    say otherwise."""
    data = {"status": "planned", "priority": "normal", **fields}
    return client.post(f"/crm/activities/{activity_id}/edit", data=data)


def lunch_with_ana(session, *others: ActivityAttendee) -> tuple[int, int]:
    """A meeting, "Lunch", with the contact Ana Ruiz and ``others``: its id and hers."""
    from tests.helpers import make_contact

    contact = make_contact(session, first_name="Ana", last_name="Ruiz")
    activity = add(
        session, kind="meeting", subject="Lunch", starts_at=dt.datetime(2026, 3, 1, 4)
    )
    activity.attendees = [ActivityAttendee(contact_id=contact.id), *others]
    session.commit()
    return activity.id, contact.id


def set_timezone(app, classroom, name: str) -> None:
    with app.app_context():
        classroom.tenant(0).course.timezone = name
        db.session.commit()


def test_every_linkable_record_page_offers_log_a_call_and_new_task(
    app, client, auth, classroom
):
    auth.login("alice")
    with app.test_request_context():
        keys = {m.key: m for m in linkable_modules()}
    assert {"accounts", "contacts", "leads", "opportunities", "cases"} <= set(keys)
    for key, module in keys.items():
        record_id = classroom.in_tenant(
            app, lambda s, m=module: s.scalar(sa.select(m.model.id).limit(1))
        )
        if record_id is None:
            continue
        page = client.get(f"/crm/{key}/{record_id}").get_data(as_text=True)
        assert "Log a call" in page and "New task" in page, key
        assert (
            f"/crm/activities/new?kind=call&amp;related_type={key}&amp;"
            f"related_id={record_id}" in page
        ), key


def test_a_task_from_an_account_page_is_linked_and_shows_in_its_timeline(
    app, client, auth, classroom
):
    account_id = classroom.in_tenant(app, lambda s: make_account(s, name="Kite Co").id)
    auth.login("alice")
    url = f"/crm/activities/new?kind=task&related_type=accounts&related_id={account_id}"
    form = client.get(url).get_data(as_text=True)
    assert "Kite Co" in form and 'name="due_date"' in form
    assert 'name="starts_at"' not in form  # a task has a due date, not a start
    response = client.post(
        url + f"&next=/crm/accounts/{account_id}",
        data={
            "subject": "Send the price list",
            "due_date": "2026-03-05",
            "status": "planned",
            "priority": "high",
            "owner_id": "",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/crm/accounts/{account_id}")
    task = classroom.in_tenant(
        app,
        lambda s: s.scalar(
            sa.select(Activity).filter_by(subject="Send the price list")
        ),
    )
    assert (task.related_type, task.related_id) == ("accounts", account_id)
    assert task.due_date == dt.date(2026, 3, 5) and task.priority == "high"
    page = client.get(f"/crm/accounts/{account_id}").get_data(as_text=True)
    assert f'href="/crm/activities/{task.id}">Send the price list</a>' in page
    assert "Added task “Send the price list” to account" in page


def test_log_a_call_records_a_finished_call_with_its_outcome(
    app, client, auth, classroom
):
    set_timezone(app, classroom, "Asia/Shanghai")
    contact_id = classroom.in_tenant(
        app,
        lambda s: s.scalar(sa.select(sa.text("id")).select_from(sa.table("contact"))),
    )
    auth.login("alice")
    url = f"/crm/activities/new?kind=call&related_type=contacts&related_id={contact_id}"
    page = client.get(url).get_data(as_text=True)
    assert '<option selected value="done">' in page or 'value="done" selected' in page
    client.post(
        url,
        data={
            "subject": "Discussed the renewal",
            "starts_at": "2026-03-02T09:30",
            "status": "done",
            "priority": "normal",
            "outcome": "Wants a quote by Friday",
        },
    )

    def check(session):
        call = session.scalar(
            sa.select(Activity).filter_by(subject="Discussed the renewal")
        )
        assert call.kind == "call" and call.status == "done"
        # 09:30 in Shanghai is 01:30 UTC
        assert call.starts_at == dt.datetime(2026, 3, 2, 1, 30)
        assert call.completed_at is not None
        assert call.outcome == "Wants a quote by Friday"
        log = session.scalar(
            sa.select(AuditLog).filter_by(
                entity="contact", entity_id=contact_id, action="log_call"
            )
        )
        assert log.details["subject"] == "Discussed the renewal"

    classroom.in_tenant(app, check)


def test_a_call_records_how_it_was_held_from_the_communication_types(
    app, client, auth, classroom
):
    auth.login("alice")
    assert 'name="communication_type"' not in client.get(
        "/crm/activities/new?kind=task"
    ).get_data(as_text=True)  # a task is not a conversation
    page = client.get("/crm/activities/new?kind=call").get_data(as_text=True)
    phone = re.search(r'<option[^>]*value="phone"[^>]*>', page).group(0)
    assert "selected" in phone  # a call is a phone call unless told otherwise
    assert 'value="wechat"' in page
    client.post(
        "/crm/activities/new?kind=call",
        data={
            "subject": "Voice message on WeChat",
            "starts_at": "2026-03-02T09:30",
            "status": "done",
            "priority": "normal",
            "communication_type": "wechat",
        },
    )
    call = classroom.in_tenant(
        app,
        lambda s: s.scalar(
            sa.select(Activity).filter_by(subject="Voice message on WeChat")
        ),
    )
    assert call.communication_type == "wechat"
    client.post("/language", data={"language": "zh"})
    detail = client.get(f"/crm/activities/{call.id}").get_data(as_text=True)
    assert "交流类型" in detail and "微信" in detail
    refused = edit_activity(
        client,
        call.id,
        subject="Voice message on WeChat",
        starts_at="2026-03-02T09:30",
        status="done",
        communication_type="carrier_pigeon",
    )
    assert refused.status_code == 200
    assert (
        classroom.in_tenant(app, lambda s: s.get(Activity, call.id).communication_type)
        == "wechat"
    )


def test_the_form_refuses_broken_activities_beside_the_field(
    app, client, auth, classroom
):
    auth.login("alice")

    def post(kind, **data):
        base = {"status": "planned", "priority": "normal", "subject": "Kick-off"}
        response = client.post(
            f"/crm/activities/new?kind={kind}", data={**base, **data}
        )
        assert response.status_code == 200
        return response.get_data(as_text=True)

    page = post("meeting", starts_at="")
    assert re.search(r'id="starts_at-errors">Say when it starts\.', page)
    page = post("meeting", starts_at="2026-03-02T10:00", ends_at="2026-03-02T09:00")
    assert re.search(
        r'id="ends_at-errors">The end must not be before the start\.', page
    )
    page = post(
        "meeting",
        starts_at="2026-03-02T10:00",
        ends_at="2026-04-15T09:00",
    )
    assert "An activity lasts at most 31 days" in page
    page = post("meeting", starts_at="2026-03-02T10:00", remind_at="2026-03-02T11:00")
    assert re.search(r'id="remind_at-errors">The reminder must come before', page)
    page = post("task", subject="   ", due_date="2026-03-02")
    assert 'id="subject-errors"' in page
    page = post("meeting", starts_at="yesterday-ish")
    assert "Enter a date and time, such as 2026-03-02 09:30." in page
    page = post("task", due_date="2026-02-30")
    assert "Enter a date, such as 2026-03-02." in page
    count = classroom.in_tenant(
        app, lambda s: s.scalar(sa.select(sa.func.count()).select_from(Activity))
    )
    assert count == 0  # nothing refused was written
    assert (
        client.get(
            "/crm/activities/new?related_type=accounts&related_id=999999"
        ).status_code
        == 404
    )
    assert (
        client.get("/crm/activities/new?related_type=settings&related_id=1").status_code
        == 404
    )


def test_a_meeting_keeps_its_attendees_and_all_day_events_cover_whole_days(
    app, client, auth, classroom
):
    def prepare(session):
        account = make_account(session, name="Orbit Ltd")
        from tests.helpers import make_contact

        contact = make_contact(
            session, first_name="Mei", last_name="Chen", account_id=account.id
        )
        return account.id, contact.id, someone_else(session)

    account_id, contact_id, colleague_id = classroom.in_tenant(app, prepare)
    auth.login("alice")
    url = "/crm/activities/new?kind=meeting&related_type=accounts"
    url += f"&related_id={account_id}"
    assert "Mei" in client.get(url).get_data(as_text=True)
    client.post(
        url,
        data={
            "subject": "Site visit",
            "starts_at": "2026-03-10T14:00",
            "ends_at": "2026-03-10T15:00",
            "status": "planned",
            "priority": "normal",
            "colleague_ids": [str(colleague_id)],
            "contact_ids": [str(contact_id)],
        },
    )
    client.post(
        "/crm/activities/new?kind=event",
        data={
            "subject": "Trade fair",
            "starts_at": "2026-03-11T08:00",
            "ends_at": "2026-03-12T08:00",
            "all_day": "y",
            "status": "planned",
            "priority": "normal",
        },
    )

    def check(session):
        meeting = session.scalar(sa.select(Activity).filter_by(subject="Site visit"))
        people = {(a.colleague_id, a.contact_id) for a in meeting.attendees}
        assert people == {(colleague_id, None), (None, contact_id)}
        fair = session.scalar(sa.select(Activity).filter_by(subject="Trade fair"))
        assert fair.all_day
        assert fair.starts_at == dt.datetime(2026, 3, 11)
        assert fair.ends_at == dt.datetime(2026, 3, 13)  # through the end of the 12th
        return meeting.id

    meeting_id = classroom.in_tenant(app, check)
    page = client.get(f"/crm/activities/{meeting_id}").get_data(as_text=True)
    assert "Mei Chen" in page or "Chen Mei" in page


def test_completing_an_activity_is_logged_and_refused_twice(
    app, client, auth, classroom
):
    task_id = classroom.in_tenant(
        app, lambda s: add(s, due_date=dt.date(2026, 3, 1)).id
    )
    auth.login("alice")
    client.post(f"/crm/activities/{task_id}/complete", data={"outcome": "Sent"})

    def check(session):
        task = session.get(Activity, task_id)
        assert task.status == "done" and task.outcome == "Sent" and task.completed_at
        actions = session.scalars(
            sa.select(AuditLog.action).filter_by(entity="activity", entity_id=task_id)
        ).all()
        assert "complete" in actions

    classroom.in_tenant(app, check)
    again = client.post(f"/crm/activities/{task_id}/complete", follow_redirects=True)
    assert "This activity is already done." in again.get_data(as_text=True)


def test_the_workbench_lists_my_overdue_and_due_tasks_and_my_reminders(
    app, client, auth, classroom
):
    def prepare(session):
        today = utcnow().date()
        add(session, subject="Overdue quote", due_date=today - dt.timedelta(days=3))
        add(session, subject="Today's call list", due_date=today)
        add(session, subject="Next week", due_date=today + dt.timedelta(days=7))
        add(session, subject="Already done", due_date=today, status="done")
        add(session, subject="Not mine", due_date=today, owner_id=someone_else(session))
        add(
            session,
            kind="meeting",
            subject="Board meeting soon",
            starts_at=utcnow() + dt.timedelta(hours=1),
            remind_at=utcnow() - dt.timedelta(minutes=5),
        )
        add(
            session,
            kind="meeting",
            subject="Reminder later",
            starts_at=utcnow() + dt.timedelta(days=2),
            remind_at=utcnow() + dt.timedelta(days=1),
        )

    classroom.in_tenant(app, prepare)
    auth.login("alice")
    home = client.get("/").get_data(as_text=True)
    todo = home.split('id="todo-heading"')[1].split("</section>")[0]
    reminders = home.split('id="reminder-heading"')[1].split("</section>")[0]
    assert "Overdue since" in todo and "Overdue quote" in todo
    assert (
        "Due today: Today&#39;s call list" in todo
        or "Due today: Today's call list" in todo
    )
    for absent in ("Next week", "Already done", "Not mine"):
        assert absent not in todo
    assert "Reminder: Board meeting soon" in reminders
    assert "Reminder later" not in reminders
    overdue = client.get("/crm/activities/?due=overdue").get_data(as_text=True)
    assert "Overdue quote" in overdue and "Today&#39;s call list" not in overdue


def test_the_list_filters_by_type_status_and_mine(app, client, auth, classroom):
    def prepare(session):
        add(session, subject="Mine task", due_date=dt.date(2026, 3, 1))
        add(
            session,
            kind="call",
            subject="Mine call",
            starts_at=dt.datetime(2026, 3, 1, 9),
        )
        add(
            session,
            subject="Theirs",
            due_date=dt.date(2026, 3, 1),
            owner_id=someone_else(session),
        )

    classroom.in_tenant(app, prepare)
    auth.login("alice")
    calls = client.get("/crm/activities/?kind=call").get_data(as_text=True)
    assert "Mine call" in calls and "Mine task" not in calls
    mine = client.get("/crm/activities/?mine=1").get_data(as_text=True)
    assert "Mine task" in mine and "Theirs" not in mine


def test_attendees_go_with_a_deleted_activity(app, client, auth, classroom):
    def prepare(session):
        activity = add(session, kind="meeting", starts_at=dt.datetime(2026, 3, 1, 9))
        activity.attendees = [ActivityAttendee(colleague_id=someone_else(session))]
        session.commit()
        return activity.id

    activity_id = classroom.in_tenant(app, prepare)
    auth.login("alice")
    client.post(f"/crm/activities/{activity_id}/delete", data={})
    left = classroom.in_tenant(
        app,
        lambda s: (
            s.get(Activity, activity_id),
            s.scalar(sa.select(sa.func.count()).select_from(ActivityAttendee)),
        ),
    )
    assert left == (None, 0)


def test_an_account_page_stays_fast_with_its_activities(app, client, auth, classroom):
    def prepare(session):
        account = session.scalar(sa.select(Account).limit(1))
        for n in range(30):
            add(
                session,
                subject=f"Task {n}",
                due_date=dt.date(2026, 3, 1),
                related_type="accounts",
                related_id=account.id,
            )
        return account.id

    account_id = classroom.in_tenant(app, prepare)
    auth.login("alice")
    page = client.get(f"/crm/accounts/{account_id}").get_data(as_text=True)
    assert page.count('class="badge text-bg-light border"') == 10  # the 10 soonest


def test_editing_an_activity_without_a_contact_list_keeps_its_contacts(
    app, client, auth, classroom
):
    activity_id, contact_id = classroom.in_tenant(
        app,
        lambda s: lunch_with_ana(s, ActivityAttendee(colleague_id=someone_else(s))),
    )
    auth.login("alice")
    # Not linked to an account, the form offers the contacts already taking part.
    form = client.get(f"/crm/activities/{activity_id}/edit").get_data(as_text=True)
    assert "Ana Ruiz" in form
    edit_activity(
        client,
        activity_id,
        subject="Long lunch",
        starts_at="2026-03-01T12:00",
        contact_ids=[str(contact_id)],
    )

    def check(session):
        activity = session.get(Activity, activity_id)
        assert activity.subject == "Long lunch"
        return [(a.colleague_id, a.contact_id) for a in activity.attendees]

    assert classroom.in_tenant(app, check) == [(None, contact_id)]


def test_attendee_ids_no_row_can_have_are_refused_and_change_nothing(
    app, client, auth, classroom
):
    activity_id, contact_id = classroom.in_tenant(app, lunch_with_ana)
    auth.login("alice")
    for junk in ("9223372036854775808", "9" * 40, "-1", "0"):
        response = edit_activity(
            client,
            activity_id,
            subject="Long lunch",
            starts_at="2026-03-01T12:00",
            contact_ids=[str(contact_id), junk],
        )
        assert response.status_code == 200, junk  # the form again, with its error
        assert "is-invalid" in response.get_data(as_text=True), junk

    def check(session):
        activity = session.get(Activity, activity_id)
        return activity.subject, [a.contact_id for a in activity.attendees]

    assert classroom.in_tenant(app, check) == ("Lunch", [contact_id])


def test_a_new_activity_starts_at_normal_priority(app, client, auth, classroom):
    auth.login("alice")
    for kind in ("task", "call", "meeting"):
        page = client.get(f"/crm/activities/new?kind={kind}").get_data(as_text=True)
        chosen = re.search(
            r'<select[^>]*id="priority".*?<option selected value="(\w+)"', page, re.S
        )
        assert chosen and chosen.group(1) == "normal", kind
