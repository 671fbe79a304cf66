"""Building a scenario: deterministic, different per seed, relative to the day,
consistent (foreign keys, amounts, dates, lifecycles)."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from decimal import Decimal

import pytest

from tests.scenarios.conftest import DAY, SCENARIO_IDS, dicts, query


def canonical_dump(path) -> str:
    conn = sqlite3.connect(path)
    try:
        return "\n".join(conn.iterdump())
    finally:
        conn.close()


@pytest.mark.parametrize("scenario", SCENARIO_IDS)
def test_same_scenario_seed_and_day_give_byte_identical_data(built, tmp_path, scenario):
    from sandbox.scenarios import build_scenario

    first, facts = built(scenario, 11)
    again = tmp_path / "again.sqlite"
    assert build_scenario(again, scenario, 11, today=DAY) == facts
    assert canonical_dump(first) == canonical_dump(again)


@pytest.mark.parametrize("scenario", SCENARIO_IDS)
def test_two_seeds_give_different_facts_and_names(built, scenario):
    one, facts_one = built(scenario, 1)
    two, facts_two = built(scenario, 2)
    assert facts_one != facts_two
    for name in ("hot_lead", "key_account", "stalled_deal"):
        assert facts_one[name] != facts_two[name]
    assert facts_one["hot_lead"]["name"] != facts_two["hot_lead"]["name"]
    names_one = {r[0] for r in query(one, "SELECT name FROM account")}
    names_two = {r[0] for r in query(two, "SELECT name FROM account")}
    assert len(names_one & names_two) < len(names_one) / 2
    people_one = query(one, "SELECT last_name, first_name FROM contact ORDER BY id")
    people_two = query(two, "SELECT last_name, first_name FROM contact ORDER BY id")
    assert people_one != people_two


@pytest.mark.parametrize("scenario", SCENARIO_IDS)
def test_foreign_keys_hold_and_the_file_is_sound(built, scenario):
    path, _facts = built(scenario)
    assert query(path, "PRAGMA foreign_key_check") == []
    assert query(path, "PRAGMA integrity_check") == [("ok",)]
    assert query(path, "PRAGMA journal_mode") == [("wal",)]


def test_every_tenant_table_is_filled(built):
    from sandbox.scenarios.builder import tenant_tables

    # Tables only the student fills: the audit log records their own work, saved
    # queries are their own list filters, former names come from their renames.
    empty_by_design = {"audit_log", "saved_query", "account_name"}
    for scenario in SCENARIO_IDS:
        path, _facts = built(scenario)
        for table in tenant_tables():
            count = query(path, f'SELECT COUNT(*) FROM "{table.name}"')[0][0]  # noqa: S608
            if table.name in empty_by_design:
                assert count == 0, table.name
            elif table.name == "account_relation" and scenario == "b2b-software":
                continue  # no groups or channel partners in this company
            else:
                assert count > 0, f"{scenario}: {table.name} is empty"


def test_dates_follow_the_provisioning_day(built):
    early, _ = built("b2b-software", 7, dt.date(2024, 3, 1))
    late, _ = built("b2b-software", 7, dt.date(2026, 3, 1))
    shift = dt.date(2026, 3, 1) - dt.date(2024, 3, 1)
    for table, column in (
        ("account", "created_at"),
        ("opportunity", "close_date"),
        ("service_case", "opened_at"),
    ):
        sql = f"SELECT {column} FROM {table} ORDER BY id"  # noqa: S608
        a = [dt.date.fromisoformat(r[0][:10]) for r in query(early, sql)]
        b = [dt.date.fromisoformat(r[0][:10]) for r in query(late, sql)]
        # Same variant, same spread, moved by the two years between the days
        # (give or take the weekends the working-day rule steps around).
        assert all(
            abs((y - x) - shift) <= dt.timedelta(days=3)
            for x, y in zip(a, b, strict=True)
        )
    _, facts = built("b2b-software", 7, dt.date(2026, 3, 1))
    assert (
        facts["hot_lead"]["name"]
        == built("b2b-software", 7, dt.date(2024, 3, 1))[1]["hot_lead"]["name"]
    )


@pytest.mark.parametrize("scenario", SCENARIO_IDS)
def test_deals_are_priced_from_products_and_dated_sensibly(built, scenario):
    path, _ = built(scenario)
    deals = dicts(
        path,
        "SELECT o.*, s.is_closed, s.is_won, s.code FROM opportunity o "
        "JOIN stage s ON s.id = o.stage_id",
    )
    lines = dicts(
        path,
        "SELECT l.*, p.list_price FROM line_item l "
        "JOIN product p ON p.id = l.product_id",
    )
    by_deal: dict[int, list[dict]] = {}
    for line in lines:
        by_deal.setdefault(line["opportunity_id"], []).append(line)
        assert line["unit_price"] == line["list_price"]
        expected = (
            Decimal(line["quantity"])
            / 100
            * line["unit_price"]
            * (100 - Decimal(line["discount"]) / 100)
            / 100
        )
        assert abs(line["total"] - expected) <= 1
    estimated = 0
    for deal in deals:
        if deal["id"] in by_deal:
            assert deal["amount"] == sum(x["total"] for x in by_deal[deal["id"]])
        else:  # early on, an estimate in whole thousands and no product lines yet
            assert deal["code"] in ("prospecting", "qualification", "needs_analysis")
            assert deal["amount"] > 0 and deal["amount"] % 100_000 == 0
            estimated += 1
        close = dt.date.fromisoformat(deal["close_date"])
        if deal["is_closed"]:
            assert close < DAY and deal["closed_on"] == deal["close_date"]
            assert (deal["lost_reason"] is None) == bool(deal["is_won"])
        else:
            assert close > DAY and deal["closed_on"] is None
        history = dicts(
            path,
            "SELECT h.*, s.code FROM opportunity_history h JOIN stage s "
            "ON s.id = h.stage_id WHERE opportunity_id = ? ORDER BY h.id",
            deal["id"],
        )
        assert history[0]["code"] == "prospecting"
        assert history[-1]["code"] == deal["code"]
        assert [h["at"] for h in history] == sorted(h["at"] for h in history)
        assert history[-1]["at"] <= deal["last_activity_at"]
    quotes = dicts(path, "SELECT * FROM quote")
    for quote in quotes:
        assert quote["total"] == sum(
            x["total"] for x in by_deal[quote["opportunity_id"]]
        )


@pytest.mark.parametrize("scenario", SCENARIO_IDS)
def test_contacts_use_their_accounts_domain(built, scenario):
    path, _ = built(scenario)
    rows = query(
        path,
        "SELECT c.email, a.website FROM contact c "
        "JOIN account a ON a.id = c.account_id",
    )
    assert rows
    for email, website in rows:
        assert website == "https://www." + email.split("@")[1]


@pytest.mark.parametrize("scenario", SCENARIO_IDS)
def test_cases_follow_their_lifecycle(built, scenario):
    from sandbox.crm.cases.service import TRANSITIONS

    path, _ = built(scenario)
    cases = dicts(path, "SELECT * FROM service_case")
    for case in cases:
        events = dicts(
            path,
            "SELECT * FROM service_case_event WHERE case_id = ? ORDER BY id",
            case["id"],
        )
        assert events[0]["action"] == "create" and events[0]["to_status"] == "new"
        assert events[-1]["to_status"] == case["status"]
        for before, event in zip(events, events[1:], strict=False):
            assert event["from_status"] == before["to_status"]
            assert event["from_status"] in TRANSITIONS[event["action"]].sources
            assert event["at"] >= before["at"]
        if case["status"] in ("resolved", "callback", "closed"):
            assert case["resolved_at"] and case["resolution"]
        if case["status"] == "closed":
            assert case["closed_at"] and case["satisfaction"]
        if case["status"] == "pending_customer":
            assert case["resolution_due_at"] is None and case["next_due_at"] is None
        elif case["status"] != "cancelled":
            assert case["response_due_at"] and case["resolution_due_at"]
        assert re.fullmatch(r"CS-\d{4}-\d{6}", case["number"])


def test_lead_sources_and_codes_are_the_tenants_own(built):
    path, _ = built("telecom-service")
    codes = {(k, c) for k, c in query(path, "SELECT list_key, code FROM code_item")}
    assert ("lead_source", "business_hall") in codes
    assert ("lead_source", "web") in codes  # the defaults stay
    for (source,) in query(path, "SELECT DISTINCT source FROM lead"):
        assert ("lead_source", source) in codes
    for (industry,) in query(path, "SELECT DISTINCT industry FROM account"):
        assert ("industry", industry) in codes
    lists = {r[0] for r in query(path, "SELECT list_key FROM code_list")}
    assert lists == {k for k, _c in codes}


def test_the_channel_scenario_links_partners_to_end_customers(built):
    path, facts = built("precision-moulds")
    links = dicts(
        path,
        "SELECT r.relation, a.account_type AS partner, b.account_type AS served "
        "FROM account_relation r JOIN account a ON a.id = r.account_id "
        "JOIN account b ON b.id = r.related_id",
    )
    assert links and {(x["relation"], x["partner"], x["served"]) for x in links} == {
        ("serves", "channel", "end_customer")
    }
    partner = facts["channel_partner"]
    served = {
        r[0]
        for r in query(
            path,
            "SELECT related_id FROM account_relation WHERE account_id = ?",
            partner["id"],
        )
    }
    assert served == {e["id"] for e in partner["end_customers"]}


def test_the_default_scenario_is_about_the_size_promised(built):
    path, _ = built("b2b-software")
    tables = [
        r[0] for r in query(path, "SELECT name FROM sqlite_master WHERE type = 'table'")
    ]
    total = sum(
        query(path, f'SELECT COUNT(*) FROM "{t}"')[0][0]
        for t in tables  # noqa: S608
    )
    assert 900 <= total <= 3000
    assert query(path, "SELECT COUNT(*) FROM account")[0][0] == 50
    assert query(path, "SELECT COUNT(*) FROM contact")[0][0] == 100


@pytest.mark.parametrize("scenario", SCENARIO_IDS)
def test_campaign_members_and_sources_line_up_with_campaign_results(built, scenario):
    from sandbox.scenarios.generate import CAMPAIGN_SOURCES

    path, _ = built(scenario)
    campaigns = {c["id"]: c for c in dicts(path, "SELECT * FROM campaign")}
    assert {c["status"] for c in campaigns.values()} >= {"completed", "planning"}
    for lead in dicts(path, "SELECT * FROM lead WHERE campaign_id IS NOT NULL"):
        campaign = campaigns[lead["campaign_id"]]
        assert lead["source"] == CAMPAIGN_SOURCES.get(
            campaign["campaign_type"], "other"
        )
        assert campaign["start_date"] <= lead["created_at"][:10] <= campaign["end_date"]
        member = one_row(
            path,
            "SELECT status FROM campaign_member WHERE campaign_id = ? AND lead_id = ?",
            campaign["id"],
            lead["id"],
        )
        assert member == ("responded",)
    for opp in dicts(path, "SELECT * FROM opportunity WHERE campaign_id IS NOT NULL"):
        campaign = campaigns[opp["campaign_id"]]
        assert opp["lead_source"] == CAMPAIGN_SOURCES.get(
            campaign["campaign_type"], "other"
        )
        assert opp["created_at"][:10] >= campaign["start_date"]
        # Someone at the deal's account answered the campaign.
        assert query(
            path,
            "SELECT 1 FROM campaign_member m JOIN contact c ON c.id = m.contact_id "
            "WHERE m.campaign_id = ? AND c.account_id = ? AND m.status = 'responded'",
            campaign["id"],
            opp["account_id"],
        )
    for member in dicts(path, "SELECT * FROM campaign_member"):
        campaign = campaigns[member["campaign_id"]]
        if campaign["status"] == "planning":
            assert member["status"] == "planned" and member["sent_at"] is None
        elif member["status"] == "responded":
            assert campaign["start_date"] <= member["responded_on"] <= DAY.isoformat()
        if campaign["status"] == "completed":
            assert campaign["actual_cost"] is not None
        else:
            assert campaign["status"] in ("active", "planning")


@pytest.mark.parametrize("scenario", SCENARIO_IDS)
def test_activities_cluster_on_working_days(built, scenario):
    from zoneinfo import ZoneInfo

    from sandbox.scenarios import get

    path, _ = built(scenario)
    zone = ZoneInfo(get(scenario).timezone)
    activities = dicts(path, "SELECT * FROM activity")
    assert len(activities) >= 100
    for activity in activities:
        when = activity["starts_at"] or activity["due_date"]
        moment = dt.datetime.fromisoformat(when)
        if activity["starts_at"]:
            moment = moment.replace(tzinfo=dt.timezone.utc).astimezone(zone)
            assert 8 <= moment.hour < 19, activity
        assert moment.weekday() < 5, activity
        if activity["status"] == "done":
            assert activity["completed_at"] and when[:10] <= DAY.isoformat()
        if activity["status"] == "planned" and activity["kind"] != "task":
            assert when[:10] >= DAY.isoformat()
    # Every open deal's last activity is a call or meeting done at that moment.
    for opp in dicts(
        path,
        "SELECT o.* FROM opportunity o JOIN stage s ON s.id = o.stage_id "
        "WHERE NOT s.is_closed",
    ):
        assert query(
            path,
            "SELECT 1 FROM activity WHERE related_type = 'opportunities' "
            "AND related_id = ? AND starts_at = ? AND status = 'done'",
            opp["id"],
            opp["last_activity_at"],
        )
    days = [r[0] for r in query(path, "SELECT day FROM diary_entry ORDER BY day")]
    assert days and all(dt.date.fromisoformat(d).weekday() < 5 for d in days)
    assert max(days) < DAY.isoformat()


def one_row(path, sql, *params):
    rows = query(path, sql, *params)
    assert len(rows) == 1
    return rows[0]


@pytest.mark.parametrize("scenario", SCENARIO_IDS)
def test_won_deals_become_contracts_orders_invoices_and_payments(built, scenario):
    path, _ = built(scenario)
    tables = {r[0] for r in query(path, "SELECT name FROM sqlite_master")}
    if "contract" not in tables:
        pytest.skip("no contracts in this schema")
    won = dicts(
        path,
        "SELECT o.* FROM opportunity o JOIN stage s ON s.id = o.stage_id "
        "WHERE s.is_won ORDER BY o.close_date, o.id",
    )
    # The two won last wait for their contracts: a deal to practise on.
    for opp in won[-2:]:
        assert not query(
            path, "SELECT 1 FROM contract WHERE opportunity_id = ?", opp["id"]
        )
    for opp in won[:-2]:
        contract = one_row(
            path,
            "SELECT id, amount, signed_on, status FROM contract "
            "WHERE opportunity_id = ?",
            opp["id"],
        )
        assert contract[1] == opp["amount"] and contract[2] == opp["close_date"]
        lines = query(
            path,
            "SELECT product_id, quantity, unit_price, discount, total FROM "
            "contract_line WHERE contract_id = ? ORDER BY position",
            contract[0],
        )
        assert lines == query(
            path,
            "SELECT product_id, quantity, unit_price, discount, total FROM "
            "line_item WHERE opportunity_id = ? ORDER BY position",
            opp["id"],
        )
        order = dicts(
            path, "SELECT * FROM sales_order WHERE contract_id = ?", contract[0]
        )
        assert len(order) == 1 and order[0]["amount"] == opp["amount"]
        assert order[0]["order_date"] >= opp["close_date"]
    for order in dicts(path, "SELECT * FROM sales_order"):
        invoiced = query(
            path,
            "SELECT COALESCE(SUM(amount), 0) FROM invoice WHERE order_id = ?",
            order["id"],
        )[0][0]
        paid = query(
            path,
            "SELECT COALESCE(SUM(amount), 0) FROM payment WHERE order_id = ?",
            order["id"],
        )[0][0]
        assert paid <= invoiced <= order["amount"]
        if order["status"] == "closed":
            assert paid == invoiced == order["amount"]
        if order["status"] == "confirmed":
            assert invoiced == 0 and order["delivered_on"] is None
    for invoice in dicts(path, "SELECT * FROM invoice"):
        assert invoice["issued_on"] <= invoice["due_on"]
        assert invoice["issued_on"] < DAY.isoformat()


@pytest.mark.parametrize("scenario", SCENARIO_IDS)
def test_quotas_and_submitted_forecasts(built, scenario):
    path, _ = built(scenario)
    tables = {r[0] for r in query(path, "SELECT name FROM sqlite_master")}
    if "quota" not in tables:
        pytest.skip("no forecasts in this schema")
    sellers = {
        r[0] for r in query(path, "SELECT id FROM colleague WHERE role LIKE 'sales%'")
    }
    quotas = dicts(path, "SELECT * FROM quota")
    assert {q["colleague_id"] for q in quotas} == sellers
    assert all(q["period_kind"] == "month" and q["start"][8:] == "01" for q in quotas)
    assert all(q["amount"] > 0 for q in quotas)
    for sub in dicts(path, "SELECT * FROM forecast_submission"):
        assert sub["forecast"] == sub["commit_amount"] + sub["adjustment"]
        assert sub["closed"] <= sub["commit_amount"] <= sub["best_case"]
        assert sub["best_case"] <= sub["pipeline"]
        assert (sub["reason"] is None) == (sub["adjustment"] == 0)
        assert sub["period_start"] <= sub["submitted_at"][:10] <= sub["period_end"]
        assert sub["submitted_at"] < DAY.isoformat() + " 23"


@pytest.mark.parametrize("scenario", SCENARIO_IDS)
def test_companies_that_bought_are_customers(built, scenario):
    path, _ = built(scenario)
    kinds = query(
        path,
        "SELECT DISTINCT a.account_type FROM opportunity o JOIN stage s "
        "ON s.id = o.stage_id JOIN account a ON a.id = o.account_id WHERE s.is_won",
    )
    assert {k for (k,) in kinds} <= {"customer", "end_customer", "channel", "partner"}
