"""The calendar: month, week, day and list views in the course's time zone, drag to
reschedule, the iCalendar export, the work diary and speed on 20,000 activities."""

from __future__ import annotations

import datetime as dt
import re
import time

import icalendar
import pytest
import sqlalchemy as sa
from sqlalchemy import event

from sandbox.crm.calendar.service import period
from sandbox.extensions import db
from sandbox.models.crm import AuditLog, Colleague
from sandbox.models.crm.activities import Activity, DiaryEntry
from tests.helpers import starts_without

no_activities = starts_without("activity", "diary_entry")


def me(session) -> int:
    return session.scalar(sa.select(Colleague.id).where(Colleague.is_self))


def someone_else(session) -> int:
    return session.scalar(sa.select(Colleague.id).where(~Colleague.is_self).limit(1))


def add(session, **values) -> Activity:
    values.setdefault("kind", "meeting")
    values.setdefault("subject", "Review")
    values.setdefault("owner_id", me(session))
    activity = Activity(**values)
    session.add(activity)
    session.commit()
    return activity


def set_timezone(app, classroom, name: str) -> None:
    with app.app_context():
        classroom.tenant(0).course.timezone = name
        db.session.commit()


def cell(page: str, day: str) -> str:
    """The markup of the calendar cell of ``day`` (YYYY-MM-DD)."""
    match = re.search(
        rf'<td class="calendar-day[^"]*" data-day="{day}">(.*?)</td>', page, re.S
    )
    assert match, day
    return match.group(1)


def test_the_month_view_places_events_on_the_local_day_across_a_time_zone_boundary(
    app, client, auth, classroom
):
    classroom.in_tenant(
        app,
        lambda s: add(s, subject="Late call", starts_at=dt.datetime(2026, 3, 1, 17)),
    )
    auth.login("alice")
    # 17:00 UTC on 1 March is 01:00 on 2 March in Shanghai.
    set_timezone(app, classroom, "Asia/Shanghai")
    page = client.get("/crm/calendar/?day=2026-03-01").get_data(as_text=True)
    assert "Late call" in cell(page, "2026-03-02")
    assert "Late call" not in cell(page, "2026-03-01")
    assert re.search(r'calendar-time">1:00\s*AM</span>', cell(page, "2026-03-02"))
    # In a course in UTC the same call is on 1 March at 17:00.
    set_timezone(app, classroom, "UTC")
    page = client.get("/crm/calendar/?day=2026-03-01").get_data(as_text=True)
    assert "Late call" in cell(page, "2026-03-01")
    assert "Late call" not in cell(page, "2026-03-02")
    # And in New York it is still 1 March, at noon.
    set_timezone(app, classroom, "America/New_York")
    page = client.get("/crm/calendar/?day=2026-03-01").get_data(as_text=True)
    assert re.search(r'calendar-time">12:00\s*PM</span>', cell(page, "2026-03-01"))


def test_tasks_sit_on_their_due_day_and_long_events_on_every_day(
    app, client, auth, classroom
):
    set_timezone(app, classroom, "Asia/Shanghai")

    def prepare(session):
        add(session, kind="task", subject="Send contract", due_date=dt.date(2026, 3, 9))
        # 10 March 08:00 to 12 March 18:00 Shanghai time
        add(
            session,
            kind="event",
            subject="Trade fair",
            starts_at=dt.datetime(2026, 3, 10, 0),
            ends_at=dt.datetime(2026, 3, 12, 10),
        )

    classroom.in_tenant(app, prepare)
    auth.login("alice")
    page = client.get("/crm/calendar/?day=2026-03-15").get_data(as_text=True)
    assert "Send contract" in cell(page, "2026-03-09")
    for day in ("2026-03-10", "2026-03-11", "2026-03-12"):
        assert "Trade fair" in cell(page, day)
    assert "Trade fair" not in cell(page, "2026-03-13")


def test_week_day_and_list_views_show_the_range_they_name(app, client, auth, classroom):
    classroom.in_tenant(
        app,
        lambda s: add(s, subject="Planning", starts_at=dt.datetime(2026, 3, 4, 2)),
    )
    auth.login("alice")
    week = client.get("/crm/calendar/?view=week&day=2026-03-05").get_data(as_text=True)
    assert 'data-day="2026-03-04"' in week and "Planning" in week
    assert week.count('class="col-12 col-md calendar-day') == 7
    day = client.get("/crm/calendar/?view=day&day=2026-03-04").get_data(as_text=True)
    assert "Planning" in day
    other = client.get("/crm/calendar/?view=day&day=2026-03-05").get_data(as_text=True)
    assert "Planning" not in other and "Nothing planned for this day." in other
    listing = client.get("/crm/calendar/?view=list&day=2026-03-20").get_data(
        as_text=True
    )
    assert "Planning" in listing
    april = client.get("/crm/calendar/?view=list&day=2026-04-20").get_data(as_text=True)
    assert "Nothing planned this month." in april
    for junk in ("day=2026-13-01", "view=year", "day=99999-01-01", "owner=%00"):
        assert client.get(f"/crm/calendar/?{junk}").status_code == 200


def test_weeks_start_on_monday_in_chinese_and_sunday_in_american_english():
    assert period("month", dt.date(2026, 3, 15), 0).first == dt.date(2026, 2, 23)
    assert period("month", dt.date(2026, 3, 15), 6).first == dt.date(2026, 3, 1)
    shown = period("month", dt.date(2026, 3, 15), 0)
    assert shown.last == dt.date(2026, 4, 5) and len(shown.weeks) == 6
    assert period("week", dt.date(2026, 3, 15), 0).first == dt.date(2026, 3, 9)


def test_the_calendar_shows_mine_unless_asked_for_everyone(
    app, client, auth, classroom
):
    def prepare(session):
        add(session, subject="My demo", starts_at=dt.datetime(2026, 3, 4, 2))
        add(
            session,
            subject="Their demo",
            starts_at=dt.datetime(2026, 3, 4, 3),
            owner_id=someone_else(session),
        )

    classroom.in_tenant(app, prepare)
    auth.login("alice")
    mine = client.get("/crm/calendar/?day=2026-03-04").get_data(as_text=True)
    assert "My demo" in mine and "Their demo" not in mine
    everyone = client.get("/crm/calendar/?day=2026-03-04&owner=all").get_data(
        as_text=True
    )
    assert "My demo" in everyone and "Their demo" in everyone


def test_moving_an_activity_keeps_its_local_time_and_follows_the_form_rules(
    app, client, auth, classroom
):
    set_timezone(app, classroom, "Asia/Shanghai")

    def prepare(session):
        meeting = add(
            session,
            subject="Demo",
            starts_at=dt.datetime(2026, 3, 1, 17),  # 2 March 01:00 local
            ends_at=dt.datetime(2026, 3, 1, 18),
            remind_at=dt.datetime(2026, 3, 1, 16),
        )
        task = add(session, kind="task", subject="Quote", due_date=dt.date(2026, 3, 3))
        done = add(
            session,
            kind="task",
            subject="Done",
            due_date=dt.date(2026, 3, 3),
            status="done",
        )
        return meeting.id, task.id, done.id

    meeting_id, task_id, done_id = classroom.in_tenant(app, prepare)
    auth.login("alice")
    moved = client.post(
        f"/crm/calendar/activities/{meeting_id}/move", json={"day": "2026-03-05"}
    )
    assert moved.status_code == 200 and moved.json["ok"]
    client.post(f"/crm/calendar/activities/{task_id}/move", json={"day": "2026-03-06"})
    refused = client.post(
        f"/crm/calendar/activities/{done_id}/move", json={"day": "2026-03-06"}
    )
    assert refused.status_code == 422
    assert "keeps its date" in refused.json["error"]
    for junk in ({"day": "soon"}, {"day": 5}, [], "x"):
        response = client.post(f"/crm/calendar/activities/{task_id}/move", json=junk)
        assert response.status_code == 400

    def check(session):
        meeting = session.get(Activity, meeting_id)
        # still 01:00 local, now on 5 March: 17:00 UTC on the 4th
        assert meeting.starts_at == dt.datetime(2026, 3, 4, 17)
        assert meeting.ends_at == dt.datetime(2026, 3, 4, 18)
        assert meeting.remind_at == dt.datetime(2026, 3, 4, 16)
        assert session.get(Activity, task_id).due_date == dt.date(2026, 3, 6)
        assert session.get(Activity, done_id).due_date == dt.date(2026, 3, 3)
        logged = session.scalars(
            sa.select(AuditLog.details).filter_by(
                entity="activity", entity_id=task_id, action="reschedule"
            )
        ).all()
        assert logged == [{"day": "2026-03-06"}]

    classroom.in_tenant(app, check)


def test_moving_needs_the_csrf_token(app, client, auth, classroom):
    task_id = classroom.in_tenant(
        app, lambda s: add(s, kind="task", due_date=dt.date(2026, 3, 3)).id
    )
    auth.login("alice")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post(
            f"/crm/calendar/activities/{task_id}/move", json={"day": "2026-03-06"}
        )
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400
    due = classroom.in_tenant(app, lambda s: s.get(Activity, task_id).due_date)
    assert due == dt.date(2026, 3, 3)


def test_the_ics_export_holds_the_students_events_and_parses(
    app, client, auth, classroom
):
    set_timezone(app, classroom, "Asia/Shanghai")

    def prepare(session):
        add(
            session,
            subject="Kick-off",
            starts_at=dt.datetime(2026, 3, 1, 17),
            ends_at=dt.datetime(2026, 3, 1, 18),
            location="Room 5",
            remind_at=dt.datetime(2026, 3, 1, 16, 45),
        )
        add(
            session,
            kind="event",
            subject="Fair",
            all_day=True,
            starts_at=dt.datetime(2026, 3, 9, 16),  # 10 March 00:00 local
            ends_at=dt.datetime(2026, 3, 11, 16),  # 12 March 00:00 local
        )
        add(session, kind="task", subject="Send quote", due_date=dt.date(2026, 3, 4))
        add(
            session,
            subject="Someone else's",
            starts_at=dt.datetime(2026, 3, 2, 1),
            owner_id=someone_else(session),
        )

    classroom.in_tenant(app, prepare)
    auth.login("alice")
    response = client.get("/crm/calendar/export.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert "attachment" in response.headers["Content-Disposition"]
    cal = icalendar.Calendar.from_ical(response.data)
    events = {str(e["summary"]): e for e in cal.walk("VEVENT")}
    todos = {str(t["summary"]): t for t in cal.walk("VTODO")}
    assert set(events) == {"Kick-off", "Fair"}
    assert set(todos) == {"Send quote"}
    kickoff = events["Kick-off"]
    assert kickoff.decoded("dtstart") == dt.datetime(2026, 3, 1, 17, tzinfo=dt.UTC)
    assert str(kickoff["location"]) == "Room 5"
    assert kickoff.walk("VALARM")
    fair = events["Fair"]
    assert fair.decoded("dtstart") == dt.date(2026, 3, 10)
    assert fair.decoded("dtend") == dt.date(2026, 3, 12)
    assert todos["Send quote"].decoded("due") == dt.date(2026, 3, 4)
    assert len({str(c["uid"]) for c in [*events.values(), *todos.values()]}) == 3


def test_the_work_diary_lists_the_days_activities_and_keeps_one_entry_a_day(
    app, client, auth, classroom
):
    set_timezone(app, classroom, "Asia/Shanghai")

    def prepare(session):
        add(
            session,
            kind="call",
            subject="Called Acme",
            starts_at=dt.datetime(2026, 3, 1, 17),
        )
        add(session, kind="task", subject="Wrote offer", due_date=dt.date(2026, 3, 2))
        add(
            session, kind="task", subject="Wednesday task", due_date=dt.date(2026, 3, 3)
        )

    classroom.in_tenant(app, prepare)
    auth.login("alice")
    page = client.get("/crm/calendar/diary/2026-03-02").get_data(as_text=True)
    assert (
        "Called Acme" in page and "Wrote offer" in page and "Wednesday task" not in page
    )
    client.post("/crm/calendar/diary/2026-03-02", data={"notes": "Good day."})
    client.post(
        "/crm/calendar/diary/2026-03-02", data={"notes": "Good day. Two calls."}
    )
    client.post("/crm/calendar/diary/2026-03-03", data={"notes": "   "})
    entries = classroom.in_tenant(
        app, lambda s: [(e.day, e.notes) for e in s.scalars(sa.select(DiaryEntry))]
    )
    assert entries == [(dt.date(2026, 3, 2), "Good day. Two calls.")]
    listing = client.get("/crm/calendar/diary/").get_data(as_text=True)
    assert "Good day. Two calls." in listing
    assert client.get("/crm/calendar/diary/2026-02-30").status_code == 404
    found = client.get("/crm/search?q=two+calls").get_data(as_text=True)
    assert "/crm/calendar/" in found


@pytest.fixture
def busy_tenant(app, classroom):
    """20,000 activities over two years, most of them the student's."""

    def fill(session):
        owner, other = me(session), someone_else(session)
        start = dt.datetime(2025, 1, 1, 8)
        rows = []
        for n in range(20_000):
            at = start + dt.timedelta(hours=n * 7 % 17_520)
            task = n % 3 == 0
            rows.append(
                {
                    "kind": "task" if task else "meeting",
                    "subject": f"Activity {n}",
                    "starts_at": None if task else at,
                    "ends_at": None if task else at + dt.timedelta(hours=1),
                    "due_date": at.date() if task else None,
                    "status": "planned",
                    "priority": "normal",
                    "owner_id": owner if n % 4 else other,
                    "all_day": False,
                    "created_at": at,
                    "updated_at": at,
                }
            )
        session.execute(sa.insert(Activity), rows)
        session.commit()

    classroom.in_tenant(app, fill)


def test_the_month_view_reads_only_the_visible_range_on_20000_activities(
    app, client, auth, classroom, busy_tenant
):
    auth.login("alice")
    client.get("/crm/calendar/?day=2025-06-15")  # warm up
    statements = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        if "FROM activity" in statement:
            statements.append((statement, parameters))

    engine = classroom.in_tenant(app, lambda s: s.get_bind())
    event.listen(engine, "before_cursor_execute", keep)
    try:
        began = time.perf_counter()
        page = client.get("/crm/calendar/?day=2025-06-15&owner=all")
        elapsed = time.perf_counter() - began
        assert page.status_code == 200 and "Activity" in page.get_data(as_text=True)
        mine = client.get("/crm/calendar/?day=2025-06-15")
        assert mine.status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    reads = [s for s in statements if s[0].lstrip().startswith("SELECT activity")]
    # timed ones and tasks, for everyone and for "mine": two range reads a page
    assert len(reads) == 4, statements

    def plans(session):
        found = []
        for statement, parameters in reads:
            rows = session.connection().exec_driver_sql(
                f"EXPLAIN QUERY PLAN {statement}", parameters
            )
            found.append(" ".join(str(r[-1]) for r in rows))
        return found

    found = classroom.in_tenant(app, plans)
    for plan, index in zip(found, ["starts_at", "due_date"] * 2, strict=True):
        assert f"SEARCH activity USING INDEX ix_activity_{index}" in plan, plan
        assert "SCAN activity" not in plan, plan
    assert elapsed < 3, elapsed


def test_the_calendar_speaks_chinese_with_weeks_from_monday(
    app, client, auth, classroom
):
    classroom.in_tenant(
        app,
        lambda s: add(s, subject="周会", starts_at=dt.datetime(2026, 3, 2, 1)),
    )
    auth.login("alice")
    client.post("/language", data={"language": "zh"})
    page = client.get("/crm/calendar/?day=2026-03-15").get_data(as_text=True)
    assert "2026年3月" in page and "日程" in page and "导出（.ics）" in page
    first = re.search(r'<td class="calendar-day[^"]*" data-day="([\d-]+)"', page)
    assert first.group(1) == "2026-02-23"  # a Monday
    assert "周会" in cell(page, "2026-03-02")
    week = client.get("/crm/calendar/?view=week&day=2026-03-04").get_data(as_text=True)
    assert "3月2日周一" in week
