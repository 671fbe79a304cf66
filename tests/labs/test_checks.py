"""Every check kind: pass, fail and partial scores, Chinese data, and messages that
name the record and the field with what was expected and what was found."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from sandbox import tenancy
from sandbox.crm.audit import record_action
from sandbox.labs.checks import CHECKS, CheckContext, get_check
from sandbox.labs.checks.records import normalise, same
from sandbox.models.crm import Account, Contact
from sandbox.models.crm.competitors import Competitor, OpportunityCompetitor
from sandbox.models.crm.leads import Lead
from sandbox.models.crm.sales import Opportunity, Stage
from sandbox.models.crm.service import Case, CaseEvent
from tests.helpers import clear_deals, make_account


def run(app, classroom, kind, params, answer=None, facts=None):
    """Validate ``params`` as a lesson would, then run the check read-only."""
    assert get_check(kind).validate(params) == []
    with app.app_context():
        engine = tenancy.handle_for(classroom.tenant(0), readonly=True).engine
        with engine.connect() as connection:
            ctx = CheckContext(connection, facts or {}, answer)
            return get_check(kind)().run(ctx, params)


def add(app, classroom, *records):
    def work(session):
        session.add_all(records)
        session.commit()

    classroom.in_tenant(app, work)


def names_all(message, *parts):
    for lang in ("en", "zh"):
        for part in parts:
            assert str(part) in message[lang], (lang, part, message[lang])


# ------------------------------------------------------------------- normalising


def test_text_is_compared_after_nfkc_width_space_and_case():
    assert same("Acme Ltd", "ＡＣＭＥ\u3000 ltd")
    assert same("杭州云帆科技", "杭州 云帆 科技")
    assert same("杭州云帆科技", "杭州云帆科技\u200b")
    assert not same("杭州云帆科技", "杭州云帆")
    assert normalise("Ｒｅｄ  Ｓｔａｒ") == "red star"


def test_numbers_are_compared_within_tolerance():
    assert same(100, Decimal("100.00"))
    assert same("1,000", 1000)
    assert same(100, Decimal("100.4"), tolerance=0.5)
    assert not same(100, Decimal("101"), tolerance=0.5)
    assert same(100, 104, relative=0.05)
    assert not same(100, 106, relative=0.05)


def test_every_kind_is_registered_and_unknown_kinds_are_named():
    assert set(CHECKS) >= {
        "record_exists",
        "field_equals",
        "count",
        "related",
        "audit_action",
        "aggregate",
        "state_path",
        "answer",
    }
    with pytest.raises(KeyError, match="known kinds: .*field_equals"):
        get_check("no_such_kind")


def test_parameters_are_validated_for_the_author():
    problems = get_check("field_equals").validate(
        {"entity": "lead", "where": {"name": "x"}, "field": "nope", "expected": 1}
    )
    assert problems == ["lead has no field 'nope'"]
    assert "needs the parameter 'entity'" in get_check("count").validate({"min": 1})[0]
    assert get_check("answer").validate({"expected": 3}) == [
        "say what is expected in 'expected_text' (or reveal it)"
    ]


# ------------------------------------------------------------------ record_exists


def test_record_exists_pass_fail_partial(app, classroom):
    add(app, classroom, Account(name="Northwind Traders", city="Seattle"))
    where = {"name": "northwind  traders", "city": "Seattle"}
    assert (
        run(
            app, classroom, "record_exists", {"entity": "account", "where": where}
        ).score
        == 1
    )
    partial = run(
        app,
        classroom,
        "record_exists",
        {"entity": "account", "where": {"name": "Northwind Traders", "city": "Boston"}},
    )
    assert partial.score == 0.5
    names_all(partial.message, "Northwind Traders", "Boston", "Seattle")
    assert "City" in partial.message["en"] and "城市" in partial.message["zh"]
    missing = run(
        app,
        classroom,
        "record_exists",
        {"entity": "account", "where": {"name": "Nope"}},
    )
    assert missing.score == 0
    names_all(missing.message, "Nope")
    assert "account" in missing.message["en"] and "客户" in missing.message["zh"]


def test_record_exists_false_passes_once_the_record_is_gone(app, classroom):
    params = {"entity": "account", "where": {"name": "Gone Co"}, "exists": False}
    assert run(app, classroom, "record_exists", params).score == 1
    add(app, classroom, Account(name="Gone Co"))
    result = run(app, classroom, "record_exists", params)
    assert result.score == 0
    names_all(result.message, "Gone Co")


def test_record_exists_with_chinese_data(app, classroom):
    add(app, classroom, Account(name="杭州云帆科技有限公司", city="杭州"))
    params = {
        "entity": "account",
        "where": {"name": "杭州 云帆科技有限公司", "city": "宁波"},
    }
    result = run(app, classroom, "record_exists", params)
    assert result.score == 0.5
    names_all(result.message, "杭州 云帆科技有限公司", "宁波", "杭州")


# ------------------------------------------------------------------- field_equals


def test_field_equals_pass_fail_partial_with_code_labels(app, classroom):
    add(app, classroom, Lead(name="Mia Wong", status="qualified", rating="warm"))
    where = {"name": "Mia Wong"}
    ok = run(
        app,
        classroom,
        "field_equals",
        {"entity": "lead", "where": where, "field": "status", "expected": "qualified"},
    )
    assert ok.score == 1
    partial = run(
        app,
        classroom,
        "field_equals",
        {
            "entity": "lead",
            "where": where,
            "fields": {"status": "qualified", "rating": "hot"},
        },
    )
    assert partial.score == 0.5
    # Codes are shown by their labels, in each language.
    assert "Lead rating" in partial.message["en"] or "Rating" in partial.message["en"]
    names_all(partial.message, "Mia Wong")
    assert "“Hot”" in partial.message["en"] and "“Warm”" in partial.message["en"]
    assert "“热”" in partial.message["zh"] and "“温”" in partial.message["zh"]
    wrong = run(
        app,
        classroom,
        "field_equals",
        {"entity": "lead", "where": where, "field": "status", "expected": "converted"},
    )
    assert wrong.score == 0
    assert wrong.detail["found"] == {"status": "qualified"}


def test_field_equals_numbers_with_tolerance_and_linked_names(app, classroom):
    def work(session):
        clear_deals(session)
        account = make_account(session, name="Contoso")
        stage = session.scalar(sa.select(Stage).filter_by(code="prospecting"))
        session.add(
            Opportunity(
                name="Contoso renewal",
                account_id=account.id,
                stage_id=stage.id,
                amount=Decimal("1000.40"),
                close_date=dt.date(2030, 1, 1),
                probability=10,
                forecast_category="pipeline",
            )
        )
        session.commit()

    classroom.in_tenant(app, work)
    params = {
        "entity": "opportunity",
        "where": {"name": "Contoso renewal"},
        "fields": {"amount": 1000, "account": "contoso", "stage.code": "prospecting"},
        "tolerance": 0.5,
    }
    assert run(app, classroom, "field_equals", params).score == 1
    params["fields"] = {
        "amount": 2000,
        "account": "Contoso",
        "stage.code": "closed_won",
    }
    result = run(app, classroom, "field_equals", params)
    assert result.score == pytest.approx(1 / 3)
    names_all(result.message, "Contoso renewal", "2000", "1000.40")


def test_field_equals_on_chinese_data(app, classroom):
    add(app, classroom, Contact(last_name="王", first_name="小明", title="采购经理"))
    params = {
        "entity": "contact",
        "where": {"name": "王小明"},
        "field": "title",
        "expected": "采购总监",
    }
    result = run(app, classroom, "field_equals", params)
    assert result.score == 0
    names_all(result.message, "王小明", "采购总监", "采购经理")
    params["expected"] = "采购 经理"
    assert run(app, classroom, "field_equals", params).score == 1


def test_field_equals_names_a_missing_record(app, classroom):
    result = run(
        app,
        classroom,
        "field_equals",
        {
            "entity": "lead",
            "where": {"name": "Nobody"},
            "field": "city",
            "expected": "X",
        },
    )
    assert result.score == 0
    names_all(result.message, "Nobody")


# -------------------------------------------------------------------------- count


def test_count_pass_fail_partial(app, classroom):
    add(app, classroom, Account(name="Count Me Ltd", city="Ulm"))
    params = {"entity": "account", "where": {"city": "Ulm"}, "min": 2}
    partial = run(app, classroom, "count", params)
    assert partial.score == 0.5
    names_all(partial.message, "Ulm", "2", "1")
    assert "City" in partial.message["en"] and "accounts" in partial.message["en"]
    add(app, classroom, Account(name="Count Me Too Ltd", city="ulm"))
    assert run(app, classroom, "count", params).score == 1
    over = run(app, classroom, "count", {**params, "max": 1, "min": 0})
    assert over.score == 0
    exact = run(
        app,
        classroom,
        "count",
        {"entity": "account", "where": {"city": "Ulm"}, "equals": 3},
    )
    assert exact.score == 0 and "exactly 3" in exact.message["en"]
    assert "恰好 3" in exact.message["zh"]


def test_count_on_chinese_data(app, classroom):
    add(
        app,
        classroom,
        Account(name="宁波甲公司", city="宁波"),
        Account(name="宁波乙公司", city="宁波"),
    )
    result = run(
        app,
        classroom,
        "count",
        {"entity": "account", "where": {"city": "宁波"}, "min": 3},
    )
    assert result.score == pytest.approx(2 / 3)
    names_all(result.message, "宁波", "3", "2")


# ------------------------------------------------------------------------ related


def _deal_with_competitors(app, classroom, threat="high"):
    def work(session):
        clear_deals(session)
        account = make_account(session, name="Fabrikam")
        stage = session.scalar(sa.select(Stage).filter_by(code="prospecting"))
        deal = Opportunity(
            name="Fabrikam rollout",
            account_id=account.id,
            stage_id=stage.id,
            close_date=dt.date(2030, 1, 1),
            probability=10,
            forecast_category="pipeline",
        )
        rival = Competitor(name="红星软件")
        other = Competitor(name="Globex")
        session.add_all([deal, rival, other])
        session.flush()
        session.add(
            OpportunityCompetitor(
                opportunity_id=deal.id, competitor_id=rival.id, threat=threat
            )
        )
        session.commit()

    classroom.in_tenant(app, work)


def test_related_through_a_link_table_pass_fail_partial(app, classroom):
    _deal_with_competitors(app, classroom)
    base = {
        "entity": "opportunity",
        "where": {"name": "Fabrikam rollout"},
        "target": "competitor",
        "through": "opportunity_competitor",
    }
    assert run(app, classroom, "related", {**base, "targets": ["红星 软件"]}).score == 1
    both = run(app, classroom, "related", {**base, "targets": ["红星软件", "Globex"]})
    assert both.score == 0.5
    names_all(both.message, "Fabrikam rollout", "Globex", "红星软件")
    threat = run(
        app,
        classroom,
        "related",
        {**base, "targets": ["红星软件"], "link": {"threat": "low"}},
    )
    assert threat.score == 0.5
    assert "Threat level" in threat.message["en"]
    assert "“High”" in threat.message["en"] and "“Low”" in threat.message["en"]


def test_related_via_a_field(app, classroom):
    def work(session):
        account = make_account(session, name="Initech")
        session.add(
            Contact(first_name="Peter", last_name="Gibbons", account_id=account.id)
        )
        session.add(Contact(first_name="Bill", last_name="Lumbergh"))
        session.commit()

    classroom.in_tenant(app, work)
    params = {
        "entity": "contact",
        "where": {"name": "Peter Gibbons"},
        "target": "account",
        "via": "account",
        "targets": ["Initech"],
    }
    assert run(app, classroom, "related", params).score == 1
    params["where"] = {"name": "Bill Lumbergh"}
    result = run(app, classroom, "related", params)
    assert result.score == 0
    names_all(result.message, "Bill Lumbergh", "Initech")
    assert "Account" in result.message["en"]


# ------------------------------------------------------------------- audit_action


def _lead_history(app, classroom, name, *actions, details=None):
    def work(session):
        lead = Lead(name=name, status="new")
        session.add(lead)
        session.flush()
        for action in actions:
            record_action(lead, action, details or {}, session=session)
        session.commit()

    classroom.in_tenant(app, work)


def test_audit_action_pass_fail_partial(app, classroom):
    from sandbox.crm.leads import service  # noqa: F401 - defines the lead actions

    _lead_history(app, classroom, "Tom Li", "qualify")
    base = {"entity": "lead", "where": {"name": "Tom Li"}}
    assert (
        run(app, classroom, "audit_action", {**base, "actions": "qualify"}).score == 1
    )
    partial = run(
        app, classroom, "audit_action", {**base, "actions": ["qualify", "convert"]}
    )
    assert partial.score == 0.5
    names_all(partial.message, "Tom Li")
    assert "“Convert”" in partial.message["en"]
    assert "“Mark qualified”" in partial.message["en"]
    assert "“转化”" in partial.message["zh"] or "转化" in partial.message["zh"]


def test_audit_action_tells_a_conversion_from_a_contact_typed_by_hand(app, classroom):
    from sandbox.crm.leads import service  # noqa: F401

    _lead_history(
        app,
        classroom,
        "李雷",
        "convert",
        details={"account": "韩梅梅贸易", "new_contact": True},
    )
    params = {
        "entity": "lead",
        "where": {"name": "李雷"},
        "actions": ["convert"],
        "details": {"account": "韩梅梅贸易", "new_contact": True},
    }
    assert run(app, classroom, "audit_action", params).score == 1
    params["details"] = {"account": "别的公司", "new_contact": True}
    wrong = run(app, classroom, "audit_action", params)
    assert wrong.score == 0.75
    names_all(wrong.message, "李雷", "别的公司", "韩梅梅贸易")
    # A lead whose contact was typed in by hand has no conversion in its history.
    add(app, classroom, Lead(name="Hand Typed", status="new"))
    typed = run(
        app,
        classroom,
        "audit_action",
        {"entity": "lead", "where": {"name": "Hand Typed"}, "actions": ["convert"]},
    )
    assert typed.score == 0
    names_all(typed.message, "Hand Typed")


# ---------------------------------------------------------------------- aggregate


def test_aggregate_pass_fail_partial(app, classroom):
    def work(session):
        clear_deals(session)
        account = make_account(session, name="Umbrella")
        stage = session.scalar(sa.select(Stage).filter_by(code="prospecting"))
        for amount in (100, 300):
            session.add(
                Opportunity(
                    name=f"Umbrella {amount}",
                    account_id=account.id,
                    stage_id=stage.id,
                    amount=Decimal(amount),
                    close_date=dt.date(2030, 1, 1),
                    probability=10,
                    forecast_category="pipeline",
                )
            )
        session.commit()

    classroom.in_tenant(app, work)
    base = {
        "entity": "opportunity",
        "function": "sum",
        "field": "amount",
        "where": {"account": "Umbrella"},
    }
    assert run(app, classroom, "aggregate", {**base, "expected": 400}).score == 1
    assert (
        run(
            app, classroom, "aggregate", {**base, "function": "avg", "expected": "200"}
        ).score
        == 1
    )
    partial = run(
        app, classroom, "aggregate", {**base, "expected": 420, "partial": 0.1}
    )
    assert partial.score == 0.5
    names_all(partial.message, "Umbrella", "420", "400")
    assert "Amount" in partial.message["en"]
    assert run(app, classroom, "aggregate", {**base, "expected": 1000}).score == 0


def test_aggregate_on_chinese_data(app, classroom):
    add(
        app,
        classroom,
        Account(name="上海甲", city="上海", employees=10),
        Account(name="上海乙", city="上海", employees=30),
    )
    result = run(
        app,
        classroom,
        "aggregate",
        {
            "entity": "account",
            "function": "max",
            "field": "employees",
            "where": {"city": "上海"},
            "expected": 20,
        },
    )
    assert result.score == 0
    names_all(result.message, "上海", "20", "30")


# --------------------------------------------------------------------- state_path


def _case_through(app, classroom, subject, *states):
    def work(session):
        case = Case(number="C-900001", subject=subject, status=states[-1])
        session.add(case)
        session.flush()
        for before, after in zip(states, states[1:], strict=False):
            session.add(
                CaseEvent(
                    case_id=case.id, action="move", from_status=before, to_status=after
                )
            )
        session.commit()

    classroom.in_tenant(app, work)


def test_state_path_pass_fail_partial(app, classroom):
    _case_through(
        app, classroom, "打印机卡纸", "new", "accepted", "in_progress", "resolved"
    )
    base = {"entity": "case", "where": {"subject": "打印机 卡纸"}}
    full = run(
        app,
        classroom,
        "state_path",
        {**base, "path": ["new", "in_progress", "resolved"]},
    )
    assert full.score == 1
    partial = run(
        app,
        classroom,
        "state_path",
        {**base, "path": ["new", "escalated", "resolved", "closed"]},
    )
    assert partial.score == 0.25
    names_all(partial.message, "打印机 卡纸")
    assert "Escalated" in partial.message["en"] and "Accepted" in partial.message["en"]
    assert "Status" in partial.message["en"]
    missing = run(
        app, classroom, "state_path", {"where": {"subject": "No case"}, "path": ["new"]}
    )
    assert missing.score == 0
    names_all(missing.message, "No case")


# ------------------------------------------------------------------------- answer


def test_answer_pass_fail_partial_without_revealing_by_default(app, classroom):
    params = {
        "expected": 100,
        "tolerance": 1,
        "partial": 0.1,
        "expected_text": {"en": "the pipeline total", "zh": "销售管道总额"},
    }
    assert run(app, classroom, "answer", params, answer="100.5").score == 1
    assert run(app, classroom, "answer", params, answer="１００").score == 1
    close = run(app, classroom, "answer", params, answer="95")
    assert close.score == 0.5
    names_all(close.message, "95")
    assert "the pipeline total" in close.message["en"]
    assert "销售管道总额" in close.message["zh"]
    assert "100" not in close.message["en"]
    wrong = run(app, classroom, "answer", params, answer="abc")
    assert wrong.score == 0 and "not a number" in wrong.message["en"]
    empty = run(app, classroom, "answer", params, answer="  ")
    assert empty.score == 0 and "Type your answer" in empty.message["en"]


def test_answer_revealed_text_and_computed_from_the_crm(app, classroom):
    revealed = run(
        app, classroom, "answer", {"expected": "杭州", "reveal": True}, answer="上海"
    )
    assert revealed.score == 0
    names_all(revealed.message, "杭州", "上海")
    assert (
        run(
            app,
            classroom,
            "answer",
            {"expected": "杭州", "reveal": True},
            answer=" 杭州 ",
        ).score
        == 1
    )

    def count_new(session):
        return session.scalar(
            sa.select(sa.func.count(Lead.id)).where(Lead.status == "new")
        )

    new_leads = classroom.in_tenant(app, count_new)
    params = {
        "compute": {"entity": "lead", "function": "count", "where": {"status": "new"}},
        "reveal": True,
    }
    assert run(app, classroom, "answer", params, answer=str(new_leads)).score == 1
    assert run(app, classroom, "answer", params, answer=str(new_leads + 1)).score == 0


@pytest.mark.parametrize(
    ("entity", "where", "zh"),
    [
        ("campaign", {"name": "Spring Fair 12"}, "市场活动"),
        ("campaign_member", {"lead": "Nobody Here"}, "活动成员"),
        ("quota", {"start": "2030-01-01"}, "配额"),
        ("forecast_submission", {"period_label": "2030-01"}, "已提交的预测"),
        ("activity", {"subject": "Nothing planned"}, "活动"),
        ("diary_entry", {"notes": "Nothing written"}, "工作日志"),
    ],
)
def test_campaign_and_forecast_records_are_named_in_both_languages(
    app, classroom, entity, where, zh
):
    result = run(app, classroom, "record_exists", {"entity": entity, "where": where})
    assert result.score == 0
    assert entity.replace("_", " ") not in result.message["zh"]
    assert zh in result.message["zh"]


def test_moments_compare_as_the_lesson_writes_them():
    moment = dt.datetime(2026, 12, 8, 6, 30)
    assert same("2026-12-08 06:30", moment)
    assert same("2026-12-08T06:30", moment)
    assert same("2026-12-08", moment)
    assert not same("2026-12-08 14:30", moment)
    assert same("2026-12-08", dt.date(2026, 12, 8))


def _won_by_source(app, classroom):
    """Won deals from three lead sources: referral 500, web 300 + 100, partner 400
    (lost); and a won deal without a source."""

    def work(session):
        clear_deals(session)
        account = make_account(session, name="Umbrella")
        won = session.scalar(sa.select(Stage).filter_by(code="closed_won"))
        lost = session.scalar(sa.select(Stage).filter_by(code="closed_lost"))
        for name, stage, source, amount in (
            ("U1", won, "referral", 500),
            ("U2", won, "web", 300),
            ("U3", won, "web", 100),
            ("U4", lost, "partner", 4000),
            ("U5", won, None, 9000),
        ):
            session.add(
                Opportunity(
                    name=name,
                    account_id=account.id,
                    stage_id=stage.id,
                    lead_source=source,
                    amount=Decimal(amount),
                    close_date=dt.date(2030, 1, 1),
                    probability=100,
                    forecast_category="closed",
                )
            )
        session.commit()

    classroom.in_tenant(app, work)


def test_answer_names_the_top_group_by_code_or_either_label(app, classroom):
    _won_by_source(app, classroom)
    params = {
        "compute": {
            "entity": "opportunity",
            "function": "sum",
            "field": "amount",
            "where": {"stage.code": "closed_won"},
            "group_by": "lead_source",
        },
        "expected_text": {
            "en": "the lead source with the most won amount",
            "zh": "赢单金额最多的线索来源",
        },
    }
    for answer in ("referral", "Referral", "客户推荐", " ＲＥＦＥＲＲＡＬ "):
        assert run(app, classroom, "answer", params, answer=answer).score == 1
    wrong = run(app, classroom, "answer", params, answer="Website")
    assert wrong.score == 0
    names_all(wrong.message, "Website")
    assert "the lead source with the most won amount" in wrong.message["en"]
    assert "赢单金额最多的线索来源" in wrong.message["zh"]
    assert "Referral" not in wrong.message["en"]
    # Records without a source form no group; a count ranks web first.
    by_count = {**params["compute"], "function": "count", "field": None}
    del by_count["field"]
    revealed = run(
        app,
        classroom,
        "answer",
        {"compute": by_count, "reveal": True},
        answer="Referral",
    )
    assert revealed.score == 0
    assert "Website" in revealed.message["en"]
    assert "官网" in revealed.message["zh"]
    assert (
        run(app, classroom, "answer", {"compute": by_count, "reveal": True}, "web")
    ).score == 1


def test_answer_accepts_any_group_tied_at_the_top_and_names_linked_records(
    app, classroom
):
    _won_by_source(app, classroom)
    params = {
        "compute": {
            "entity": "opportunity",
            "function": "max",
            "field": "amount",
            "where": {"lead_source": "web"},
            "group_by": "account",
        },
        "reveal": True,
    }
    assert run(app, classroom, "answer", params, answer="umbrella").score == 1
    nothing = {**params, "compute": {**params["compute"], "where": {"name": "-"}}}
    empty = run(app, classroom, "answer", nothing, answer="Umbrella")
    assert empty.score == 0


def test_group_by_is_validated_for_the_author():
    check = get_check("answer")
    base = {"entity": "opportunity", "function": "count", "group_by": "lead_source"}
    assert check.validate({"compute": base, "reveal": True}) == []
    problems = check.validate(
        {"compute": {**base, "group_by": "no_such_field"}, "reveal": True}
    )
    assert any("no_such_field" in p for p in problems)


def test_activity_and_stage_actions_are_named_in_both_languages(app, classroom):
    _lead_history(app, classroom, "Nina Move", "qualify")
    params = {
        "entity": "lead",
        "where": {"name": "Nina Move"},
        "actions": ["move_stage", "add_task", "add_meeting", "complete"],
    }
    result = run(app, classroom, "audit_action", params)
    assert result.score == 0
    names_all(result.message, "Nina Move")
    for en, zh in (
        ("Move stage", "推进阶段"),
        ("New task", "新建任务"),
        ("New meeting", "新建会议"),
        ("Mark done", "标记为完成"),
    ):
        assert en in result.message["en"]
        assert zh in result.message["zh"]
    assert "move_stage" not in result.message["zh"]


def test_moments_are_read_in_the_tenants_time_zone(app, classroom):
    from sandbox.models.crm import TenantInfo
    from sandbox.models.crm.activities import Activity

    def work(session):
        session.merge(TenantInfo(key="timezone", value="Asia/Shanghai"))
        session.add(
            Activity(
                kind="meeting",
                subject="上海会议",
                starts_at=dt.datetime(2026, 12, 8, 6, 30),  # 14:30 in Shanghai
            )
        )
        session.commit()

    classroom.in_tenant(app, work)
    params = {
        "entity": "activity",
        "where": {"subject": "上海会议"},
        "fields": {"starts_at": "2026-12-08 14:30"},
    }
    assert run(app, classroom, "field_equals", params).score == 1
    late = {**params, "fields": {"starts_at": "2026-12-08 15:30"}}
    result = run(app, classroom, "field_equals", late)
    assert result.score == 0
    names_all(result.message, "上海会议", "2026-12-08 15:30", "2026-12-08 14:30")
    assert "06:30" not in result.message["en"]


# ------------------------------------------------- values as the screen shows them


def _deal_at(app, classroom, name, stage_code, *moves):
    """A deal at ``stage_code`` whose history moved it to each of ``moves``."""

    def work(session):
        clear_deals(session)
        account = make_account(session, name=f"{name} Ltd")
        stage = session.scalar(sa.select(Stage).filter_by(code=stage_code))
        deal = Opportunity(
            name=name,
            account_id=account.id,
            stage_id=stage.id,
            close_date=dt.date(2030, 1, 1),
            probability=10,
            forecast_category="pipeline",
        )
        session.add(deal)
        session.flush()
        for code in moves:
            record_action(deal, "move_stage", {"new_stage_code": code}, session=session)
        session.commit()

    classroom.in_tenant(app, work)


def test_a_stage_is_named_as_the_screen_names_it_never_by_its_code(app, classroom):
    _deal_at(app, classroom, "昆明佳和百货项目", "qualification")
    wrong = run(
        app,
        classroom,
        "field_equals",
        {
            "entity": "opportunity",
            "where": {"name": "昆明佳和百货项目"},
            "field": "stage.code",
            "expected": "closed_won",
        },
    )
    assert wrong.score == 0
    assert "“Closed Won”" in wrong.message["en"]
    assert "“Qualification”" in wrong.message["en"]
    assert "阶段" in wrong.message["zh"]
    assert "“赢单”" in wrong.message["zh"] and "“需求确认”" in wrong.message["zh"]
    for lang in ("en", "zh"):
        assert "closed_won" not in wrong.message[lang]
        assert "qualification" not in wrong.message[lang]


def test_an_action_detail_is_named_by_its_field_and_its_value_by_its_label(
    app, classroom
):
    from sandbox.crm.opportunities import service  # noqa: F401 - defines the actions

    _deal_at(app, classroom, "Northwind expansion", "negotiation", "negotiation")
    result = run(
        app,
        classroom,
        "audit_action",
        {
            "entity": "opportunity",
            "where": {"name": "Northwind expansion"},
            "actions": ["move_stage"],
            "details": {"new_stage_code": "proposal"},
        },
    )
    assert result.score == 0.5
    assert "with Stage “Negotiation/Review”" in result.message["en"]
    assert "“Proposal/Price Quote”" in result.message["en"]
    assert "阶段" in result.message["zh"]
    assert (
        "“谈判/审核”" in result.message["zh"] and "“方案/报价”" in result.message["zh"]
    )
    for lang in ("en", "zh"):
        for raw in ("new_stage_code", "new stage code", "negotiation", "proposal"):
            assert raw not in result.message[lang]


def test_a_conversion_detail_is_named_by_the_record_kind(app, classroom):
    from sandbox.crm.leads import service  # noqa: F401

    _lead_history(app, classroom, "Wu Fang", "convert", details={"opportunity": "A"})
    result = run(
        app,
        classroom,
        "audit_action",
        {
            "entity": "lead",
            "where": {"name": "Wu Fang"},
            "actions": ["convert"],
            "details": {"opportunity": "B"},
        },
    )
    assert "with opportunity “A”" in result.message["en"]
    assert (
        "销售机会" in result.message["zh"] and "opportunity" not in result.message["zh"]
    )


# --------------------------------------------------------------- loose free text


def test_free_text_ignores_width_and_the_final_full_stop_codes_stay_exact(app):
    written = "更换了进纸辊，打印测试正常。"
    assert same(written, "更换了进纸辊，打印测试正常")
    assert same(written, "更换了进纸辊,打印测试正常")
    assert same(written, "更换了进纸辊, 打印测试正常 ")
    assert same("Replaced the roller.", "replaced the  roller!")
    assert not same(written, "更换了进纸辊")
    with app.app_context():
        from sandbox.labs.checks.records import field_ref, table_for

        status = field_ref(table_for("lead"), "status")
        stage = field_ref(table_for("opportunity"), "stage.code")
    assert same("qualified", "qualified", status)
    assert not same("qualified", "Qualified.", status)
    assert not same("closed_won", "closed_won.", stage)


def test_a_resolution_typed_without_the_final_full_stop_passes(app, classroom):
    def work(session):
        session.add(
            Case(
                subject="3号打印机频繁卡纸",
                number="C-LOOSE-1",
                resolution="更换了进纸辊,打印测试正常",
            )
        )
        session.commit()

    classroom.in_tenant(app, work)
    result = run(
        app,
        classroom,
        "field_equals",
        {
            "entity": "case",
            "where": {"subject": "3号打印机频繁卡纸"},
            "field": "resolution",
            "expected": "更换了进纸辊，打印测试正常。",
        },
    )
    assert result.passed, result.message["en"]


def test_a_typed_text_answer_compares_loosely(app, classroom):
    params = {"expected": "华东区。", "reveal": True}
    assert run(app, classroom, "answer", params, answer="华东区").passed
    assert not run(app, classroom, "answer", params, answer="华北区").passed


# ------------------------------------------------- the button, not an edit


def test_a_status_set_by_editing_is_told_to_use_the_button(app, classroom):
    from sandbox.crm.leads import service  # noqa: F401
    from sandbox.models.crm import AuditLog

    def work(session):
        lead = Lead(name="Edit Only", status="qualified")
        session.add(lead)
        session.flush()
        session.add(
            AuditLog(
                actor="alice",
                entity="lead",
                entity_id=lead.id,
                record_name=lead.name,
                action="update",
                changes={"status": ["new", "qualified"]},
            )
        )
        session.commit()

    classroom.in_tenant(app, work)
    result = run(
        app,
        classroom,
        "audit_action",
        {"entity": "lead", "where": {"name": "Edit Only"}, "actions": ["qualify"]},
    )
    assert result.score == 0
    assert "by editing" in result.message["en"]
    assert "“Mark qualified”" in result.message["en"]
    assert "“New”" in result.message["en"]
    assert "“确认为有效”" in result.message["zh"] and "编辑" in result.message["zh"]
