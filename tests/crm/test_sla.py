"""The business-hours calculator and the SLA deadlines stored on cases."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from sandbox.crm.cases import sla
from sandbox.crm.cases.service import (
    CALENDAR_KEY,
    REOPEN_KEY,
    TARGETS_KEY,
    create_case,
    perform,
    save_setting,
    service_settings,
    view_condition,
)
from sandbox.models.crm import Account, Colleague
from sandbox.models.crm.service import Case
from tests.helpers import memory_tenant_engine

FRIDAY = dt.date(2026, 11, 27)
CAL = sla.WorkCalendar()


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute))


MONDAY = FRIDAY + dt.timedelta(days=3)
TUESDAY = MONDAY + dt.timedelta(days=1)


def test_four_hours_from_friday_half_past_five_is_monday_half_past_twelve():
    assert FRIDAY.weekday() == 4
    assert sla.add_business_hours(at(FRIDAY, 17, 30), 4, CAL) == at(MONDAY, 12, 30)


def test_a_holiday_is_skipped():
    calendar = sla.WorkCalendar(holidays=frozenset({MONDAY}))
    assert sla.add_business_hours(at(FRIDAY, 17, 30), 4, calendar) == at(
        TUESDAY, 12, 30
    )


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        (at(FRIDAY, 7, 0), 1, at(FRIDAY, 10)),  # before opening: starts at 9:00
        (at(FRIDAY, 19, 0), 1, at(MONDAY, 10)),  # after closing: next working day
        (at(FRIDAY + dt.timedelta(days=1), 12), 2, at(MONDAY, 11)),  # Saturday
        (at(FRIDAY, 10), 8, at(FRIDAY, 18)),  # exactly the rest of the day
        (at(FRIDAY, 10), 9, at(MONDAY, 10)),
        (at(FRIDAY, 10), 0, at(FRIDAY, 10)),
        (at(MONDAY, 9), 40, at(MONDAY + dt.timedelta(days=4), 13)),  # P4: a week
    ],
)
def test_adding_business_hours(start, hours, due):
    assert sla.add_business_hours(start, hours, CAL) == due


def test_hours_between_count_only_working_time():
    assert sla.business_hours_between(at(FRIDAY, 17, 30), at(MONDAY, 12, 30), CAL) == 4
    assert sla.business_hours_between(at(FRIDAY, 20), at(MONDAY, 8), CAL) == 0
    assert sla.business_hours_between(at(MONDAY, 12), at(MONDAY, 10), CAL) == 0
    holiday = sla.WorkCalendar(holidays=frozenset({MONDAY}))
    assert sla.business_hours_between(at(FRIDAY, 9), at(TUESDAY, 18), holiday) == 18


def test_time_pending_the_customer_is_not_counted():
    # Waiting Monday 10:00-11:30 moves the Monday 12:30 deadline to 14:00.
    pauses = [(at(MONDAY, 10), at(MONDAY, 11, 30))]
    assert sla.due_at(at(FRIDAY, 17, 30), 4, CAL, pauses) == at(MONDAY, 14)
    # A wait over the weekend costs no working time at all.
    weekend = [(at(FRIDAY, 18, 30), at(MONDAY, 8))]
    assert sla.due_at(at(FRIDAY, 17, 30), 4, CAL, weekend) == at(MONDAY, 12, 30)
    # A wait that starts after the deadline changes nothing.
    late = [(at(MONDAY, 13), at(MONDAY, 15))]
    assert sla.due_at(at(FRIDAY, 17, 30), 4, CAL, late) == at(MONDAY, 12, 30)
    # While the customer is still being waited for, there is no deadline.
    assert sla.due_at(at(FRIDAY, 17, 30), 4, CAL, [(at(MONDAY, 10), None)]) is None


def test_a_calendar_must_have_working_time():
    with pytest.raises(ValueError, match="end after it starts"):
        sla.WorkCalendar(start=dt.time(18), end=dt.time(9))
    with pytest.raises(ValueError, match="no working time"):
        sla.add_business_hours(at(FRIDAY, 9), 1, sla.WorkCalendar(workdays=frozenset()))
    with pytest.raises(ValueError):
        sla.add_business_hours(at(FRIDAY, 9), -1, CAL)


def test_local_time_round_trips_through_utc():
    local = at(FRIDAY, 17, 30)
    utc = sla.to_utc(local, "Asia/Shanghai")
    assert utc == at(FRIDAY, 9, 30)
    assert sla.to_local(utc, "Asia/Shanghai") == local


# ------------------------------------------------------------ deadlines on cases


@pytest.fixture
def session(app):
    """A tenant schema in memory with one account and two colleagues."""
    engine = memory_tenant_engine()
    with app.test_request_context(), sa.orm.Session(engine) as session:
        session.add_all(
            [
                Account(id=1, name="Acme", name_key="acme"),
                Colleague(id=1, name="You", is_self=True),
                Colleague(id=2, name="Riley Zhang"),
            ]
        )
        session.commit()
        yield session
    engine.dispose()


def open_case(session, opened: dt.datetime, zone: str = "UTC", **data) -> Case:
    values = {"subject": "Printer on fire", "account_id": 1, "priority": "p1"}
    return create_case(
        session, {**values, **data}, now=sla.to_utc(opened, zone), zone=zone
    )


def test_a_p1_case_opened_friday_evening_is_due_monday_in_the_course_time_zone(
    session,
):
    case = open_case(session, at(FRIDAY, 17, 30), zone="Asia/Shanghai")
    # Stored in UTC: Monday 12:30 in Shanghai is 04:30 UTC.
    assert case.resolution_due_at == at(MONDAY, 4, 30)
    assert case.response_due_at == at(MONDAY, 1, 30)  # 1 business hour: 9:30 local
    assert case.next_due_at == case.response_due_at


def test_waiting_for_the_customer_moves_the_deadline_and_stops_the_alarm(session):
    case = open_case(session, at(FRIDAY, 17, 30))
    perform(session, case, "accept", now=at(MONDAY, 9, 15), zone="UTC")
    assert case.next_due_at == at(MONDAY, 12, 30)  # responded: resolution is next
    perform(
        session,
        case,
        "request_info",
        {"reason": "Which model?"},
        now=at(MONDAY, 10),
        zone="UTC",
    )
    assert case.resolution_due_at is None and case.next_due_at is None
    overdue = view_condition("overdue", None, at(MONDAY, 23))
    assert session.scalar(sa.select(sa.func.count()).where(overdue)) == 0
    perform(session, case, "customer_replied", now=at(MONDAY, 11, 30), zone="UTC")
    assert case.status == "accepted"  # back where it was
    assert case.resolution_due_at == at(MONDAY, 14)


def test_company_holidays_and_targets_come_from_the_tenant(session):
    save_setting(session, CALENDAR_KEY, {"holidays": [MONDAY.isoformat()]})
    save_setting(session, TARGETS_KEY, {"p1": [2, 6]})
    session.commit()
    case = open_case(session, at(FRIDAY, 17, 30))
    assert case.resolution_due_at == at(TUESDAY, 14, 30)
    assert case.response_due_at == at(TUESDAY, 10, 30)


def test_unreadable_settings_fall_back_to_the_defaults(session):
    for key in (CALENDAR_KEY, TARGETS_KEY, REOPEN_KEY):
        save_setting(session, key, "nonsense")
    session.commit()
    settings = service_settings(session)
    assert settings.calendar == sla.WorkCalendar()
    assert settings.targets["p1"] == (1, 4)
    assert settings.reopen_days == 7


def test_a_new_priority_moves_the_deadline(session):
    from sandbox.crm.cases.service import update_case

    case = open_case(session, at(FRIDAY, 17, 30))
    update_case(
        session,
        case,
        {"subject": case.subject, "account_id": 1, "priority": "p4"},
        zone="UTC",
    )
    # Friday 0.5 h, Monday to Thursday 36 h, Friday 3.5 h.
    assert case.resolution_due_at == at(MONDAY + dt.timedelta(days=4), 12, 30)


def test_resolved_cases_leave_the_overdue_alarm(session):
    case = open_case(session, at(FRIDAY, 17, 30))
    overdue = view_condition("overdue", None, at(MONDAY, 12))  # due within the hour
    assert session.scalars(sa.select(Case.id).where(overdue)).all() == [case.id]
    perform(
        session,
        case,
        "resolve",
        {"resolution": "Put it out"},
        now=at(MONDAY, 11),
        zone="UTC",
    )
    assert session.scalars(sa.select(Case.id).where(overdue)).all() == []
