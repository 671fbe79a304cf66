"""Cases: numbers, the lifecycle table walked pair by pair, refusals, views, pages."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from sandbox.crm.cases.service import (
    PREVIOUS,
    TRANSITIONS,
    CaseActionRefused,
    available_actions,
    create_case,
    number_pattern,
    perform,
    service_settings,
    state_path,
)
from sandbox.crm.codes import default_list
from sandbox.models import utcnow
from sandbox.models.crm import Account, AuditLog, Colleague, Contact
from sandbox.models.crm.knowledge import Article
from sandbox.models.crm.service import Case, CaseEvent
from tests.conftest import close_app, make_app
from tests.helpers import memory_tenant_engine

STATES = [c.code for c in default_list("case_status")]
#: Inputs that satisfy every action's rules from a case prepared by ``case_in``.
GOOD_INPUT = {
    "owner_id": 2,
    "queue": "technical",
    "level": 2,
    "reason": "Because the customer asked",
    "resolution": "Replaced the cable",
    "satisfaction": 4,
    "comment": "Quick and friendly",
    "analysis": "Cable batch 7 is faulty",
}


@pytest.fixture(scope="module")
def desk_app(tmp_path_factory):
    """One app for the service-level tests (each gets its own tenant schema)."""
    app = make_app(tmp_path_factory.mktemp("desk") / "instance")
    yield app
    close_app(app)


@pytest.fixture
def session(desk_app):
    """A tenant schema in memory: one account with a contact, three colleagues."""
    engine = memory_tenant_engine()
    with desk_app.test_request_context(), sa.orm.Session(engine) as session:
        session.add_all(
            [
                Account(id=1, name="Acme", name_key="acme"),
                Account(id=2, name="Globex", name_key="globex"),
                Contact(id=1, first_name="Wei", last_name="Lin", account_id=1),
                Colleague(id=1, name="You", is_self=True),
                Colleague(id=2, name="Riley Zhang"),
                Colleague(id=3, name="Sam Patel"),
            ]
        )
        session.commit()
        yield session
    engine.dispose()


def new_case(session, **data) -> Case:
    values = {"subject": "Router keeps rebooting", "account_id": 1, "priority": "p2"}
    return create_case(session, {**values, **data}, zone="UTC")


def case_in(session, state: str) -> Case:
    """A case put straight into ``state`` with what that state implies."""
    case = new_case(session)
    case.status = state
    case.owner_id = 1
    if state in ("pending_customer", "suspended"):
        case.resume_status = "in_progress"
    if state == "escalated":
        case.escalation_level = 1
    if state in ("resolved", "callback", "closed"):
        case.resolved_at = utcnow()
        case.resolution = "Fixed"
    if state in ("callback", "closed"):
        case.satisfaction = 5
    if state == "closed":
        case.closed_at = utcnow()
    session.commit()
    return case


def action_count(session, case: Case) -> int:
    return session.scalar(
        sa.select(sa.func.count()).where(
            AuditLog.entity == "service_case",
            AuditLog.entity_id == case.id,
            AuditLog.action.like("case_%"),
        )
    )


@pytest.mark.parametrize("action", list(TRANSITIONS))
@pytest.mark.parametrize("state", STATES)
def test_every_action_from_every_state_follows_the_lifecycle_table(
    session, state, action
):
    transition = TRANSITIONS[action]
    case = case_in(session, state)
    other = new_case(session, subject="Same router, second report")
    data = {**GOOD_INPUT, "target_id": other.id}
    events_before = len(case.events)
    if state not in transition.sources:
        with pytest.raises(CaseActionRefused) as refused:
            perform(session, case, action, data, zone="UTC")
        assert refused.value.field is None and refused.value.message
        session.rollback()
        assert session.get(Case, case.id).status == state
        assert action_count(session, case) == 0
        assert transition not in available_actions(case, service_settings(session))
        return
    assert transition in available_actions(case, service_settings(session))
    perform(session, case, action, data, zone="UTC")
    expected = {None: state, PREVIOUS: "in_progress"}.get(
        transition.target, transition.target
    )
    assert case.status == expected
    entry = session.scalars(
        sa.select(AuditLog).where(AuditLog.action == f"case_{action}")
    ).one()
    assert entry.entity_id == case.id
    assert entry.details["from"] == state and entry.details["to"] == expected
    event = session.scalars(
        sa.select(CaseEvent)
        .where(CaseEvent.case_id == case.id)
        .order_by(CaseEvent.id.desc())
    ).first()
    assert (event.action, event.from_status, event.to_status) == (
        action,
        state,
        expected,
    )
    assert len(case.events) == events_before + 1


def test_closing_an_unresolved_case_is_refused_with_a_clear_message(session):
    case = case_in(session, "in_progress")
    with pytest.raises(CaseActionRefused, match="Only a resolved case whose customer"):
        perform(session, case, "close", zone="UTC")
    case = case_in(session, "resolved")
    with pytest.raises(CaseActionRefused, match="this case is Resolved"):
        perform(session, case, "close", zone="UTC")


def test_a_callback_before_resolution_is_refused(session):
    case = case_in(session, "escalated")
    with pytest.raises(
        CaseActionRefused, match="callback comes after the case is resolved"
    ):
        perform(session, case, "callback", {"satisfaction": 5}, zone="UTC")
    assert case.satisfaction is None


def test_reopening_is_allowed_only_within_the_window_after_closing(session):
    case = case_in(session, "closed")
    case.closed_at = utcnow() - dt.timedelta(days=8)
    session.commit()
    with pytest.raises(CaseActionRefused, match="within 7 days of closing"):
        perform(session, case, "reopen", {"reason": "Broke again"}, zone="UTC")
    assert action_count(session, case) == 0
    case.closed_at = utcnow() - dt.timedelta(days=6)
    case.resolution = "Restarted the router"
    session.commit()
    perform(session, case, "reopen", {"reason": "Broke again"}, zone="UTC")
    assert case.status == "in_progress"
    assert case.closed_at is None and case.resolved_at is None
    assert case.resolution is None and case.article_id is None  # unsolved again


def test_the_reopen_window_is_a_company_setting(session):
    from sandbox.crm.cases.service import REOPEN_KEY, save_setting

    save_setting(session, REOPEN_KEY, 30)
    session.commit()
    case = case_in(session, "closed")
    case.closed_at = utcnow() - dt.timedelta(days=20)
    session.commit()
    perform(session, case, "reopen", {"reason": "Broke again"}, zone="UTC")
    assert case.status == "in_progress"


@pytest.mark.parametrize(
    ("state", "action", "data", "field", "message"),
    [
        ("new", "assign", {}, "owner_id", "required"),
        ("new", "escalate", {"reason": "Hard"}, "level", "required"),
        ("escalated", "escalate", {"level": 1, "reason": "Again"}, "level", "above"),
        (
            "in_progress",
            "transfer",
            {"owner_id": 1, "reason": "x"},
            "owner_id",
            "already with You",
        ),
        ("in_progress", "resolve", {}, "resolution", "Describe the resolution"),
        ("resolved", "callback", {"satisfaction": 9}, "satisfaction", "1 to 5"),
        ("in_progress", "suspend", {"reason": "   "}, "reason", "required"),
        ("new", "merge", {"target_id": 999}, "target_id", "another case"),
    ],
)
def test_missing_or_wrong_inputs_are_named_and_nothing_is_written(
    session, state, action, data, field, message
):
    case = case_in(session, state)
    with pytest.raises(CaseActionRefused, match=message) as refused:
        perform(session, case, action, data, zone="UTC")
    assert refused.value.field == field
    session.rollback()
    assert session.get(Case, case.id).status == state
    assert action_count(session, case) == 0


def test_a_case_cannot_merge_into_itself_or_a_closed_case(session):
    case = case_in(session, "new")
    closed = case_in(session, "closed")
    for target in (case.id, closed.id):
        with pytest.raises(CaseActionRefused) as refused:
            perform(session, case, "merge", {"target_id": target}, zone="UTC")
        assert refused.value.field == "target_id"
        session.rollback()
    other = case_in(session, "in_progress")
    perform(session, case, "merge", {"target_id": other.id}, zone="UTC")
    assert case.status == "merged" and case.merged_into_id == other.id


def test_escalation_keeps_the_original_handler_and_may_hand_over(session):
    case = case_in(session, "in_progress")
    perform(
        session,
        case,
        "escalate",
        {"level": 1, "reason": "Needs R&D", "owner_id": 3},
        zone="UTC",
    )
    assert (case.status, case.escalation_level) == ("escalated", 1)
    assert case.escalated_from_id == 1 and case.owner_id == 3
    perform(session, case, "escalate", {"level": 3, "reason": "Still down"}, zone="UTC")
    assert case.escalation_level == 3 and case.escalated_from_id == 1


def test_resolving_by_a_published_article_links_it(session):
    draft = Article(title="Reset the router", body="Hold the button", status="draft")
    session.add(draft)
    session.commit()
    case = case_in(session, "in_progress")
    with pytest.raises(CaseActionRefused, match="published") as refused:
        perform(session, case, "resolve", {"article_id": draft.id}, zone="UTC")
    assert refused.value.field == "article_id"
    session.rollback()
    draft.status = "published"
    session.commit()
    perform(session, case, "resolve", {"article_id": draft.id}, zone="UTC")
    assert case.article_id == draft.id and case.resolution == "Reset the router"


def test_case_numbers_count_up_per_year_and_are_found_from_their_start(session):
    first = new_case(session)
    second = new_case(session)
    year = utcnow().year
    assert first.number == f"CS-{year}-000001"
    assert second.number == f"CS-{year}-000002"

    def found(query: str) -> list[str]:
        return session.scalars(
            sa.select(Case.number).where(
                Case.number.ilike(number_pattern(query), escape="\\")
            )
        ).all()

    assert found("*000002") == [second.number]
    assert found("000002") == []  # strictly from the start, as the manual says
    assert found(f"cs-{year}-00000") == [first.number, second.number]
    assert found("CS-*-%") == []  # % is text, not a wildcard


def test_a_contact_from_another_account_is_refused(session):
    with pytest.raises(CaseActionRefused) as refused:
        new_case(session, account_id=2, contact_id=1)
    assert refused.value.field == "contact_id"


def test_the_state_path_lists_the_states_in_order(session):
    case = new_case(session)
    for action, data in (
        ("escalate", {"level": 1, "reason": "VIP"}),
        ("resolve", {"resolution": "Done"}),
        ("callback", {"satisfaction": 5}),
        ("close", {}),
    ):
        perform(session, case, action, data, zone="UTC")
    assert state_path(case) == ["new", "escalated", "resolved", "callback", "closed"]


# ------------------------------------------------------------------ pages


def tenant_case(app, classroom, state: str = "new", **changes) -> int:
    def make(session):
        case = create_case(
            session,
            {"subject": "Scanner jams", "account_id": 1, "priority": "p1"},
            zone="UTC",
        )
        case.status = state
        for key, value in changes.items():
            setattr(case, key, value)
        session.commit()
        return case.id

    return classroom.in_tenant(app, make)


def test_the_detail_page_shows_only_the_allowed_buttons(app, client, auth, classroom):
    case_id = tenant_case(app, classroom)
    auth.login("alice")
    page = client.get(f"/crm/cases/{case_id}").get_data(as_text=True)
    for allowed in ("accept", "assign", "escalate", "resolve", "merge", "cancel"):
        assert f"/crm/cases/{case_id}/{allowed}" in page, allowed
    for refused in ("close", "callback", "reopen", "resume", "analyze"):
        assert f"/crm/cases/{case_id}/{refused}" not in page, refused


def test_a_refused_post_says_why_and_writes_nothing(app, client, auth, classroom):
    case_id = tenant_case(app, classroom, "in_progress")
    auth.login("alice")
    response = client.post(f"/crm/cases/{case_id}/close", follow_redirects=True)
    assert "Only a resolved case whose customer has been called back" in (
        response.get_data(as_text=True)
    )
    status = classroom.in_tenant(app, lambda s: s.get(Case, case_id).status)
    assert status == "in_progress"
    # a GET of a refused action's page sends back to the case with the reason
    page = client.get(f"/crm/cases/{case_id}/callback", follow_redirects=True)
    assert "The callback comes after the case is resolved" in page.get_data(
        as_text=True
    )


def test_an_action_form_shows_its_error_beside_the_field(app, client, auth, classroom):
    case_id = tenant_case(app, classroom, "resolved", resolution="Fixed")
    auth.login("alice")
    response = client.post(f"/crm/cases/{case_id}/callback", data={"comment": "ok"})
    assert response.status_code == 422
    assert re.search(
        r'id="satisfaction-errors">This field is required',
        response.get_data(as_text=True),
    )
    response = client.post(
        f"/crm/cases/{case_id}/callback", data={"satisfaction": "4", "comment": "ok"}
    )
    assert response.status_code == 302
    case = classroom.in_tenant(app, lambda s: s.get(Case, case_id))
    assert (case.status, case.satisfaction, case.callback_comment) == (
        "callback",
        4,
        "ok",
    )


def test_create_a_case_with_a_number_and_find_it(app, client, auth, classroom):
    auth.login("alice")
    response = client.post("/crm/cases/new", data={"subject": ""})
    page = response.get_data(as_text=True)
    assert 'id="subject-errors"' in page and 'id="account_id-errors"' in page
    response = client.post(
        "/crm/cases/new",
        data={
            "subject": "Login page blank",
            "account_id": "1",
            "case_type": "fault",
            "origin": "web",
            "priority": "p2",
            "queue": "technical",
        },
    )
    assert response.status_code == 302
    number = classroom.in_tenant(
        app,
        lambda s: s.scalar(
            sa.select(Case.number).where(Case.subject == "Login page blank")
        ),
    )
    assert re.fullmatch(r"CS-\d{4}-\d{6}", number)
    found = client.get("/crm/cases/", query_string={"q": "*" + number[-4:]})
    assert number in found.get_data(as_text=True)
    missed = client.get("/crm/cases/", query_string={"q": number[-6:]})
    assert number not in missed.get_data(as_text=True)


def test_views_hold_the_cases_the_manual_describes(app, client, auth, classroom):
    long_ago = utcnow() - dt.timedelta(days=30)
    ids = {
        "mine": tenant_case(app, classroom, "in_progress", owner_id=1),
        "unassigned": tenant_case(app, classroom, "new", owner_id=None),
        "callback": tenant_case(app, classroom, "resolved", owner_id=2),
        "analysis": tenant_case(app, classroom, "closed", owner_id=2),
        "overdue": tenant_case(
            app, classroom, "in_progress", owner_id=2, next_due_at=long_ago
        ),
        "escalated": tenant_case(
            app, classroom, "escalated", owner_id=2, escalation_level=1
        ),
    }
    auth.login("alice")
    for view, case_id in ids.items():
        page = client.get(f"/crm/cases/?view={view}&per_page=100").get_data(
            as_text=True
        )
        assert f'href="/crm/cases/{case_id}"' in page, view
    mine = client.get("/crm/cases/?view=mine&per_page=100").get_data(as_text=True)
    assert f'href="/crm/cases/{ids["callback"]}"' not in mine
    assert 'href="/crm/cases/?view=overdue&amp;' not in mine  # tabs link cleanly
    assert client.get("/crm/cases/?view=bogus").status_code == 200


def test_the_workbench_shows_sla_alarms(app, client, auth, classroom):
    case_id = tenant_case(
        app, classroom, "in_progress", next_due_at=utcnow() - dt.timedelta(days=400)
    )
    auth.login("alice")
    home = client.get("/").get_data(as_text=True)
    assert re.search(rf'href="/crm/cases/{case_id}">CS-[^<]* is overdue', home)


def test_a_closed_case_cannot_be_edited(app, client, auth, classroom):
    case_id = tenant_case(app, classroom, "closed")
    auth.login("alice")
    response = client.post(
        f"/crm/cases/{case_id}/edit",
        data={
            "subject": "Changed",
            "account_id": "1",
            "case_type": "fault",
            "origin": "web",
            "priority": "p2",
        },
    )
    assert "can no longer be edited" in response.get_data(as_text=True)
    assert classroom.in_tenant(app, lambda s: s.get(Case, case_id).subject) == (
        "Scanner jams"
    )


def test_the_scenario_cases_agree_with_their_history(app, classroom):
    def check(session):
        cases = session.scalars(sa.select(Case)).all()
        assert len(cases) == 30
        assert {c.status for c in cases} >= {"new", "in_progress", "closed", "resolved"}
        for case in cases:
            path = state_path(case)
            assert path[0] == "new" and path[-1] == case.status, case.number
            for before, event in zip(case.events, case.events[1:], strict=False):
                assert event.from_status == before.to_status
                assert event.from_status in TRANSITIONS[event.action].sources
            logged = session.scalar(
                sa.select(sa.func.count()).where(
                    AuditLog.entity == "service_case", AuditLog.entity_id == case.id
                )
            )
            assert logged == 0  # the audit log is the student's own work
            if case.status in ("resolved", "callback", "closed"):
                assert case.resolved_at and case.resolution
            if case.status == "pending_customer":  # the clock is stopped
                assert case.resolution_due_at is None and case.next_due_at is None
            else:
                assert case.response_due_at and case.resolution_due_at

    classroom.in_tenant(app, check)


def test_views_of_a_5000_case_tenant_run_a_fixed_number_of_queries(
    app, client, auth, classroom
):
    from tests.crm.test_kit import QueryCounter

    auth.login("alice")
    views = ("all", "mine", "unassigned", "callback", "analysis", "overdue")

    def counts() -> dict[str, int]:
        found = {}
        for view in views:
            with QueryCounter() as counter:
                page = client.get(f"/crm/cases/?view={view}&per_page=100")
                assert page.status_code == 200
            found[view] = counter.count
        return found

    small = counts()
    now = utcnow()

    def flood(session):
        rows = [
            {
                "number": f"CS-1999-{n:06d}",
                "subject": f"Case {n}",
                "case_type": "fault",
                "origin": "phone",
                "priority": "p3",
                "status": ("new", "in_progress", "resolved", "closed")[n % 4],
                "owner_id": (None, 1, 2)[n % 3],
                "account_id": 1 + n % 50,
                "escalation_level": n % 2,
                "opened_at": now,
                "next_due_at": now - dt.timedelta(hours=n % 48),
                "created_at": now,
                "updated_at": now,
            }
            for n in range(5000)
        ]
        session.execute(sa.insert(Case.__table__), rows)
        session.commit()

    classroom.in_tenant(app, flood)
    import time

    started = time.perf_counter()
    large = counts()
    # The only extra query a full tenant may cost is the count a page that holds
    # every record can skip.
    assert all(small[v] <= large[v] <= small[v] + 1 for v in views), (small, large)
    assert time.perf_counter() - started < 10
    overdue = client.get("/crm/cases/?view=overdue").get_data(as_text=True)
    assert re.search(r"[\d,]+ records", overdue)


def test_deleting_a_case_removes_its_status_history(app, client, auth, classroom):
    case_id = tenant_case(app, classroom)
    auth.login("alice")
    assert client.post(f"/crm/cases/{case_id}/delete").status_code == 302
    left = classroom.in_tenant(
        app,
        lambda s: s.scalar(
            sa.select(sa.func.count()).where(CaseEvent.case_id == case_id)
        ),
    )
    assert left == 0


def test_my_queue_is_empty_when_the_student_plays_no_colleague(session):
    from sandbox.crm.cases.service import view_condition

    new_case(session)  # unassigned
    session.get(Colleague, 1).is_self = False
    session.commit()
    mine = view_condition("mine", None)
    assert session.scalar(sa.select(sa.func.count()).where(mine)) == 0
