"""Contracts: numbers, made from a won deal, the approval rules, the lifecycle,
termination, renewal reminders and the pages."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from sandbox.crm.codes import default_list
from sandbox.crm.contracts.service import (
    TRANSITIONS,
    ApprovalRules,
    ContractRefused,
    approval_rules,
    available_actions,
    contract_from_opportunity,
    create_contract,
    manager_decision,
    next_contract_number,
    perform,
    renewals_due,
    save_line,
    submit_for_approval,
)
from sandbox.models.crm import (
    Account,
    AuditLog,
    Colleague,
    Contact,
    TenantInfo,
)
from sandbox.models.crm.contracts import Contract, ContractLine
from sandbox.models.crm.products import Product
from sandbox.models.crm.sales import LineItem, Opportunity, Stage
from tests.conftest import close_app, make_app
from tests.helpers import memory_tenant_engine, starts_without

TODAY = dt.date(2026, 3, 10)
STATES = [c.code for c in default_list("contract_status")]


no_contracts = starts_without("contract", "sales_order")


@pytest.fixture(scope="module")
def contract_app(tmp_path_factory):
    app = make_app(tmp_path_factory.mktemp("contracts") / "instance")
    yield app
    close_app(app)


@pytest.fixture
def session(contract_app):
    """A tenant schema in memory: an account with a contact, a sales manager, two
    products, and a won deal with two product lines."""
    engine = memory_tenant_engine()
    with contract_app.test_request_context(), sa.orm.Session(engine) as session:
        session.add_all(
            [
                Account(id=1, name="Acme", name_key="acme"),
                Account(id=2, name="Globex", name_key="globex"),
                Contact(id=1, first_name="Wei", last_name="Lin", account_id=1),
                Colleague(id=1, name="You", is_self=True),
                Colleague(id=2, name="Alex Morgan", role="sales_manager"),
                Stage(
                    id=1,
                    code="negotiation",
                    name="Negotiation",
                    name_zh="谈判",
                    position=1,
                    probability=80,
                    forecast_category="commit",
                ),
                Stage(
                    id=2,
                    code="closed_won",
                    name="Closed Won",
                    name_zh="赢单",
                    position=2,
                    probability=100,
                    forecast_category="closed",
                    is_closed=True,
                    is_won=True,
                ),
                Product(id=1, code="SRV", name="Server", list_price=Decimal("1000")),
                Product(id=2, code="LIC", name="Licence", list_price=Decimal("99.99")),
                Opportunity(
                    id=1,
                    name="Acme – Rollout",
                    account_id=1,
                    contact_id=1,
                    owner_id=1,
                    amount=Decimal("3479.95"),
                    close_date=TODAY,
                    stage_id=2,
                    probability=100,
                    forecast_category="closed",
                ),
                LineItem(
                    opportunity_id=1,
                    product_id=1,
                    position=1,
                    quantity=Decimal("3"),
                    unit_price=Decimal("1000"),
                    discount=Decimal("0"),
                    total=Decimal("3000.00"),
                ),
                LineItem(
                    opportunity_id=1,
                    product_id=2,
                    position=2,
                    quantity=Decimal("5"),
                    unit_price=Decimal("99.99"),
                    discount=Decimal("4"),
                    total=Decimal("479.95"),
                ),
            ]
        )
        session.commit()
        yield session
    engine.dispose()


def won_contract(session) -> Contract:
    return contract_from_opportunity(session, session.get(Opportunity, 1), today=TODAY)


def with_discount(session, contract: Contract, discount: str) -> Contract:
    line = contract.lines[0]
    save_line(
        session,
        contract,
        line,
        {
            "product_id": line.product_id,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "discount": Decimal(discount),
        },
    )
    return contract


def actions_of(session, contract: Contract) -> list[str]:
    return list(
        session.scalars(
            sa.select(AuditLog.action)
            .where(AuditLog.entity == "contract", AuditLog.entity_id == contract.id)
            .where(AuditLog.action.like("contract_%"))
            .order_by(AuditLog.id)
        )
    )


# ------------------------------------------------------------------ numbers


def test_contract_numbers_count_up_within_a_year_and_restart_in_the_next(session):
    assert next_contract_number(session, 2026) == "HT-2026-0001"
    first = won_contract(session)
    second = create_contract(
        session,
        {
            "title": "Support",
            "account_id": 2,
            "start_date": TODAY,
            "end_date": TODAY,
            "amount": Decimal("10"),
        },
        today=TODAY,
    )
    assert (first.number, second.number) == ("HT-2026-0001", "HT-2026-0002")
    assert next_contract_number(session, 2027) == "HT-2027-0001"


# ------------------------------------------------------------------ from a deal


def test_a_contract_from_a_won_opportunity_carries_its_lines_and_amount(session):
    contract = won_contract(session)
    opp = session.get(Opportunity, 1)
    assert (contract.account_id, contract.contact_id, contract.owner_id) == (1, 1, 1)
    assert contract.opportunity_id == 1 and contract.status == "draft"
    assert contract.amount == opp.amount == Decimal("3479.95")
    assert [
        (line.product_id, line.quantity, line.unit_price, line.discount, line.total)
        for line in contract.lines
    ] == [
        (1, Decimal("3.00"), Decimal("1000.00"), Decimal("0.00"), Decimal("3000.00")),
        (2, Decimal("5.00"), Decimal("99.99"), Decimal("4.00"), Decimal("479.95")),
    ]
    assert (contract.start_date, contract.end_date) == (TODAY, dt.date(2027, 3, 9))
    opp_log = session.scalars(
        sa.select(AuditLog).where(
            AuditLog.entity == "opportunity", AuditLog.action == "contract_made"
        )
    ).one()
    assert opp_log.details == {"number": "HT-2026-0001"}
    assert actions_of(session, contract) == ["contract_from_opportunity"]


def test_only_a_won_opportunity_becomes_a_contract_and_only_once(session):
    opp = session.get(Opportunity, 1)
    opp.stage_id = 1
    session.commit()
    with pytest.raises(ContractRefused, match="won"):
        contract_from_opportunity(session, opp, today=TODAY)
    assert session.scalar(sa.select(sa.func.count()).select_from(Contract)) == 0
    opp = session.get(Opportunity, 1)
    opp.stage_id = 2
    session.commit()
    first = won_contract(session)
    with pytest.raises(ContractRefused, match=first.number):
        won_contract(session)
    assert session.scalar(sa.select(sa.func.count()).select_from(Contract)) == 1


# ------------------------------------------------------------------ approval


def test_a_small_discount_is_approved_at_once_by_the_sales_manager(session):
    contract = with_discount(session, won_contract(session), "10")
    decision = submit_for_approval(session, contract)
    assert decision.approved and "10 %" in decision.reason
    assert contract.status == "active"
    assert contract.approver.name == "Alex Morgan"
    assert contract.signed_on == dt.date.today()
    assert actions_of(session, contract) == [
        "contract_from_opportunity",
        "contract_submit",
        "contract_approve",
    ]


def test_a_15_percent_discount_without_justification_is_refused(session):
    contract = with_discount(session, won_contract(session), "15")
    with pytest.raises(ContractRefused) as refused:
        submit_for_approval(session, contract, "   ")
    assert refused.value.field == "justification"
    assert "15 %" in refused.value.message and "10 %" in refused.value.message
    contract = session.get(Contract, contract.id)
    assert contract.status == "draft"
    assert actions_of(session, contract) == ["contract_from_opportunity"]


def test_a_justified_15_percent_discount_waits_then_the_manager_approves(session):
    contract = with_discount(session, won_contract(session), "15")
    assert submit_for_approval(session, contract, "Three-year framework deal") is None
    assert contract.status == "in_approval"
    assert [t.action for t in available_actions(contract)] == ["decide", "withdraw"]
    decision = perform(session, contract, "decide")
    assert decision.approved and "25 %" in decision.reason
    assert contract.status == "active"
    assert contract.decision_reason == decision.reason
    assert actions_of(session, contract)[-2:] == ["contract_submit", "contract_approve"]


def test_a_discount_above_the_managers_limit_is_rejected_with_the_reason(session):
    contract = with_discount(session, won_contract(session), "30")
    submit_for_approval(session, contract, "They asked nicely")
    decision = perform(session, contract, "decide")
    assert not decision.approved and "25 %" in decision.reason
    assert contract.status == "draft" and contract.decision_reason == decision.reason
    entry = session.scalars(
        sa.select(AuditLog).where(AuditLog.action == "contract_reject")
    ).one()
    assert entry.details == {"approver": "Alex Morgan", "reason": decision.reason}


def test_the_scenario_can_change_the_approval_rules(session):
    session.merge(TenantInfo(key="contract_auto_approve_discount", value="20"))
    session.merge(TenantInfo(key="contract_manager_max_discount", value="not a number"))
    session.commit()
    rules = approval_rules(session)
    assert rules.auto_approve_discount == Decimal("20")
    assert rules.manager_max_discount == Decimal("25")  # unreadable: the default
    contract = with_discount(session, won_contract(session), "15")
    assert submit_for_approval(session, contract).approved


def test_each_scenario_sets_its_own_rules(session):
    from sandbox.scenarios.builder import build_rows

    _, tables, _ = build_rows("telecom-service", 1, dt.date(2026, 3, 2))
    for row in tables["tenant_info"]:
        if row["key"].startswith("contract_"):
            session.merge(TenantInfo(**row))
    session.commit()
    rules = approval_rules(session)
    assert (
        rules.auto_approve_discount,
        rules.manager_max_discount,
        rules.renewal_days,
    ) == (Decimal("5"), Decimal("20"), 60)
    contract = with_discount(session, won_contract(session), "6")
    with pytest.raises(ContractRefused, match="above the 5 % approved at once"):
        submit_for_approval(session, contract)


@pytest.mark.parametrize(
    ("discount", "justification", "approved"),
    [
        ("0", None, True),
        ("10", None, True),
        ("10.01", None, False),
        ("10.01", "why", True),
        ("25", "why", True),
        ("25.01", "why", False),
    ],
)
def test_the_manager_decides_the_same_way_for_the_same_contract(
    contract_app, discount, justification, approved
):
    rules = ApprovalRules(Decimal("10"), Decimal("25"), 30)
    with contract_app.test_request_context():
        first = manager_decision(Decimal(discount), justification, rules)
        again = manager_decision(Decimal(discount), justification, rules)
    assert first == again and first.approved is approved and first.reason


def test_without_a_sales_manager_nothing_is_submitted(session):
    session.get(Colleague, 2).active = False
    session.commit()
    contract = won_contract(session)
    with pytest.raises(ContractRefused, match="sales manager"):
        submit_for_approval(session, contract)
    assert session.get(Contract, contract.id).status == "draft"


def test_a_contract_without_an_amount_is_not_submitted(session):
    contract = create_contract(
        session,
        {"title": "Empty", "account_id": 2, "start_date": TODAY, "end_date": TODAY},
        today=TODAY,
    )
    with pytest.raises(ContractRefused, match="amount"):
        submit_for_approval(session, contract)


# ------------------------------------------------------------------ lifecycle


def contract_in(session, state: str) -> Contract:
    contract = create_contract(
        session,
        {
            "title": f"In {state}",
            "account_id": 1,
            "start_date": TODAY,
            "end_date": TODAY,
            "amount": Decimal("100"),
        },
        today=TODAY,
    )
    contract.status = state
    session.commit()
    return contract


@pytest.mark.parametrize("action", list(TRANSITIONS))
@pytest.mark.parametrize("state", STATES)
def test_every_action_from_every_state_follows_the_lifecycle(session, state, action):
    contract = contract_in(session, state)
    allowed = state in TRANSITIONS[action].sources
    assert (TRANSITIONS[action] in available_actions(contract)) is allowed
    data = {"reason": "Customer went bankrupt", "justification": "x"}
    if not allowed:
        with pytest.raises(ContractRefused):
            perform(session, contract, action, data, today=TODAY)
        assert session.get(Contract, contract.id).status == state
        assert actions_of(session, contract) == []
        return
    perform(session, contract, action, data, today=TODAY)
    expected = {
        "submit": "active",  # no discount: approved at once
        "decide": "active",
        "withdraw": "draft",
        "complete": "completed",
        "terminate": "terminated",
    }[action]
    assert contract.status == expected
    logged = {"decide": "contract_approve"}.get(action, f"contract_{action}")
    assert logged in actions_of(session, contract)


def test_a_terminated_contract_needs_a_reason(session):
    contract = contract_in(session, "active")
    with pytest.raises(ContractRefused) as refused:
        perform(session, contract, "terminate", {"reason": "  "}, today=TODAY)
    assert refused.value.field == "reason"
    assert session.get(Contract, contract.id).status == "active"
    assert actions_of(session, contract) == []
    perform(session, contract, "terminate", {"reason": "Customer moved"}, today=TODAY)
    assert contract.status == "terminated"
    assert (contract.termination_reason, contract.terminated_on) == (
        "Customer moved",
        TODAY,
    )


def test_only_a_draft_takes_line_changes(session):
    contract = contract_in(session, "active")
    with pytest.raises(ContractRefused, match="draft"):
        save_line(
            session,
            contract,
            None,
            {"product_id": 1, "quantity": Decimal("1"), "discount": Decimal("0")},
        )
    assert session.get(Contract, contract.id).lines == []


def test_an_end_date_before_the_start_is_refused_beside_the_field(session):
    with pytest.raises(ContractRefused) as refused:
        create_contract(
            session,
            {
                "title": "Backwards",
                "account_id": 1,
                "start_date": TODAY,
                "end_date": TODAY - dt.timedelta(days=1),
            },
            today=TODAY,
        )
    assert refused.value.field == "end_date"
    assert session.scalar(sa.select(sa.func.count()).select_from(Contract)) == 0


# ------------------------------------------------------------------ renewals


def test_renewal_reminders_list_active_contracts_near_their_end(session):
    soon = contract_in(session, "active")
    soon.end_date = TODAY + dt.timedelta(days=30)
    later = contract_in(session, "active")
    later.end_date = TODAY + dt.timedelta(days=31)
    ended = contract_in(session, "active")
    ended.end_date = TODAY - dt.timedelta(days=2)
    draft = contract_in(session, "draft")
    draft.end_date = TODAY
    session.commit()
    found, total = renewals_due(session, today=TODAY)
    assert [c.id for c in found] == [ended.id, soon.id] and total == 2


# ------------------------------------------------------------------ pages


def won_opportunity_id(app, classroom) -> int:
    def find(session):
        return session.scalar(
            sa.select(Opportunity.id)
            .join(Opportunity.stage)
            .where(Stage.is_won)
            .order_by(Opportunity.id)
            .limit(1)
        )

    return classroom.in_tenant(app, find)


def flow_to_contract(client, opp_id: int) -> str:
    response = client.post(f"/crm/contracts/from-opportunity/{opp_id}")
    assert response.status_code == 302
    return response.headers["Location"]


def test_the_won_opportunity_page_offers_a_contract_then_links_to_it(
    app, client, auth, classroom
):
    auth.login("alice")
    opp_id = won_opportunity_id(app, classroom)
    page = client.get(f"/crm/opportunities/{opp_id}").get_data(as_text=True)
    assert f"/crm/contracts/from-opportunity/{opp_id}" in page
    url = flow_to_contract(client, opp_id)
    detail = client.get(url).get_data(as_text=True)
    assert re.search(r"HT-\d{4}-0001", detail)
    page = client.get(f"/crm/opportunities/{opp_id}").get_data(as_text=True)
    assert f"/crm/contracts/from-opportunity/{opp_id}" not in page
    assert url in page
    open_id = classroom.in_tenant(
        app,
        lambda s: s.scalar(
            sa.select(Opportunity.id).join(Opportunity.stage).where(~Stage.is_closed)
        ),
    )
    page = client.get(f"/crm/opportunities/{open_id}").get_data(as_text=True)
    assert "from-opportunity" not in page


def test_buttons_follow_the_state_and_the_server_checks_again(
    app, client, auth, classroom
):
    auth.login("alice")
    url = flow_to_contract(client, won_opportunity_id(app, classroom))
    page = client.get(url).get_data(as_text=True)
    assert "/submit" in page and "/terminate" not in page and "/edit" in page
    response = client.post(f"{url}/terminate", data={"reason": "No"})
    assert response.status_code == 302
    assert "draft" in client.get(url).get_data(as_text=True).lower()
    assert client.post(f"{url}/complete").status_code == 302
    contract_id = int(url.rsplit("/", 1)[1])
    status = classroom.in_tenant(app, lambda s: s.get(Contract, contract_id).status)
    assert status == "draft"
    assert client.post(f"{url}/nonsense").status_code == 404


def test_the_submit_page_explains_the_rules_and_shows_the_refusal_by_the_field(
    app, client, auth, classroom
):
    auth.login("alice")
    url = flow_to_contract(client, won_opportunity_id(app, classroom))
    contract_id = int(url.rsplit("/", 1)[1])

    def discount_15(session):
        contract = session.get(Contract, contract_id)
        if not contract.lines:
            save_line(
                session,
                contract,
                None,
                {"product_id": 1, "quantity": Decimal("1"), "discount": Decimal("15")},
            )
        else:
            with_discount(session, contract, "15")

    classroom.in_tenant(app, discount_15)
    page = client.get(f"{url}/submit").get_data(as_text=True)
    assert "15 %" in page and "10 %" in page
    response = client.post(f"{url}/submit", data={"justification": ""})
    assert response.status_code == 422
    assert "write a justification" in response.get_data(as_text=True)
    response = client.post(f"{url}/submit", data={"justification": "Framework deal"})
    assert response.status_code == 302
    client.post(f"{url}/decide")
    detail = client.get(url).get_data(as_text=True)
    assert "Alex Morgan approved" in detail


def test_the_contract_list_finds_contracts_by_number_prefix(
    app, client, auth, classroom
):
    auth.login("alice")
    flow_to_contract(client, won_opportunity_id(app, classroom))
    year = dt.date.today().year
    page = client.get("/crm/contracts/", query_string={"q": f"HT-{year}"})
    assert f"HT-{year}-0001" in page.get_data(as_text=True)
    page = client.get("/crm/search", query_string={"q": "*0001"})
    assert f"HT-{year}-0001" in page.get_data(as_text=True)
    page = client.get("/crm/search", query_string={"q": "0001"})
    assert f"HT-{year}-0001" not in page.get_data(as_text=True)


def test_bad_input_on_the_contract_form_gives_messages_not_errors(
    app, client, auth, classroom
):
    auth.login("alice")
    response = client.post(
        "/crm/contracts/new",
        data={
            "title": "Bad dates",
            "account_id": "1",
            "start_date": "2026-05-01",
            "end_date": "2026-04-01",
            "amount": "12.345",
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "at most two decimals" in page
    response = client.post(
        "/crm/contracts/new",
        data={
            "title": "Bad dates",
            "account_id": "1",
            "start_date": "2026-05-01",
            "end_date": "2026-04-01",
            "amount": "12",
        },
    )
    assert "cannot be before the start date" in response.get_data(as_text=True)
    count = classroom.in_tenant(
        app, lambda s: s.scalar(sa.select(sa.func.count()).select_from(Contract))
    )
    assert count == 0


def test_the_workbench_reminds_of_contracts_to_renew(app, client, auth, classroom):
    auth.login("alice")
    url = flow_to_contract(client, won_opportunity_id(app, classroom))
    contract_id = int(url.rsplit("/", 1)[1])

    def ending_soon(session):
        contract = session.get(Contract, contract_id)
        contract.status = "active"
        contract.end_date = dt.date.today() + dt.timedelta(days=10)
        session.commit()
        return contract.number

    number = classroom.in_tenant(app, ending_soon)
    home = client.get("/").get_data(as_text=True)
    assert f"Contract {number} ends on" in home


def test_a_draft_contract_is_deleted_with_its_lines_an_active_one_is_kept(
    app, client, auth, classroom
):
    auth.login("alice")
    url = flow_to_contract(client, won_opportunity_id(app, classroom))
    contract_id = int(url.rsplit("/", 1)[1])
    assert client.get(f"{url}/delete").status_code == 200
    response = client.post(f"{url}/delete")
    assert response.status_code == 302
    left = classroom.in_tenant(
        app,
        lambda s: (
            s.get(Contract, contract_id),
            s.scalar(sa.select(sa.func.count()).select_from(ContractLine)),
        ),
    )
    assert left == (None, 0)
    url = flow_to_contract(client, won_opportunity_id(app, classroom))
    contract_id = int(url.rsplit("/", 1)[1])

    def activate(session):
        session.get(Contract, contract_id).status = "active"
        session.commit()

    classroom.in_tenant(app, activate)
    assert "/delete" not in client.get(url).get_data(as_text=True)
    assert client.post(f"{url}/delete").status_code == 302
    still = classroom.in_tenant(app, lambda s: s.get(Contract, contract_id) is not None)
    assert still


def test_a_line_too_large_for_any_amount_is_refused_beside_the_quantity(session):
    contract = won_contract(session)
    with pytest.raises(ContractRefused) as refused:
        save_line(
            session,
            contract,
            None,
            {
                "product_id": 1,
                "quantity": Decimal("999999999"),
                "unit_price": Decimal("9999999999999.99"),
                "discount": Decimal("0"),
            },
        )
    assert refused.value.field == "quantity"
    assert len(session.get(Contract, contract.id).lines) == 2
