"""Every fact a scenario declares is in the built tenant, as promised."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

from sandbox.scenarios import get
from tests.scenarios.conftest import DAY, SCENARIO_IDS, dicts, query

DEAL = {
    "id", "name", "account_id", "account", "stage", "stage_name", "amount",
    "close_date", "probability", "owner", "contact", "products",
}  # fmt: skip
CASE = {
    "id", "number", "subject", "account_id", "account", "contact", "priority",
    "status", "owner", "opened_at", "response_due_at", "resolution_due_at",
    "escalation_level",
}  # fmt: skip
#: The properties each kind of fact promises (scenarios/README.md).
PROPERTIES = {
    "hot_lead": {
        "id", "name", "company", "title", "email", "phone", "city", "source",
        "industry", "status", "rating",
    },
    "duplicate_lead": {"id", "name", "company", "account_id", "account"},
    "key_account": {
        "id", "name", "city", "address", "phone", "industry", "owner",
        "decision_maker", "contacts", "won_amount", "open_deals",
    },
    "channel_partner": {"id", "name", "city", "contact", "end_customers"},
    "stalled_deal": DEAL | {"last_activity_at", "idle_days"},
    "big_deal": DEAL | {"quote"},
    "won_deal": DEAL | {"closed_on"},
    "lost_deal": DEAL | {"closed_on", "lost_reason", "lost_to"},
    "key_competitor": {"id", "name", "website", "deals", "open_deals", "deals_lost_to"},
    "top_product": {"id", "code", "name", "list_price", "unit", "deals"},
    "overdue_case": CASE,
    "escalated_case": CASE | {"escalated_from"},
    "published_article": {"id", "title", "category", "keywords"},
    "best_campaign": {
        "id", "name", "type", "status", "start_date", "end_date", "actual_cost",
        "members", "responded", "leads", "opportunities", "won_amount",
    },
    "overdue_task": {"id", "subject", "due_date", "account_id", "account"},
    "overdue_invoice": {
        "id", "number", "amount", "issued_on", "due_on", "order_id", "order",
        "contract", "account_id", "account", "owner",
    },
    "next_meeting": {
        "id", "subject", "starts_at", "location", "account_id", "account", "contacts",
    },
}  # fmt: skip


def one(path, sql, *params) -> dict:
    rows = dicts(path, sql, *params)
    assert len(rows) == 1, (sql, params)
    return rows[0]


def cents(amount: str) -> int:
    return round(float(amount) * 100)


def me(path) -> str:
    return query(path, "SELECT name FROM colleague WHERE is_self")[0][0]


def check_deal(path, fact) -> dict:
    deal = one(
        path,
        "SELECT o.*, s.code, a.name AS account FROM opportunity o "
        "JOIN stage s ON s.id = o.stage_id JOIN account a ON a.id = o.account_id "
        "WHERE o.id = ?",
        fact["id"],
    )
    assert (deal["name"], deal["account"], deal["code"]) == (
        fact["name"],
        fact["account"],
        fact["stage"],
    )
    assert (
        deal["amount"] == cents(fact["amount"])
        and deal["account_id"] == (fact["account_id"])
    )
    codes = [
        r[0]
        for r in query(
            path,
            "SELECT p.code FROM line_item l JOIN product p ON p.id = l.product_id "
            "WHERE l.opportunity_id = ? ORDER BY l.position",
            fact["id"],
        )
    ]
    assert codes == fact["products"]
    return deal


def check_case(path, fact, now) -> dict:
    case = one(path, "SELECT * FROM service_case WHERE id = ?", fact["id"])
    assert (case["number"], case["subject"], case["priority"], case["status"]) == (
        fact["number"],
        fact["subject"],
        fact["priority"],
        fact["status"],
    )
    return case


@pytest.mark.parametrize("scenario", SCENARIO_IDS)
def test_every_declared_fact_exists_with_its_properties(built, scenario):
    path, facts = built(scenario, 3)
    declared = get(scenario).facts
    assert list(facts) == list(declared)
    zone = ZoneInfo(get(scenario).timezone)
    now = (
        dt.datetime.combine(DAY, dt.time(10), tzinfo=zone)
        .astimezone(dt.timezone.utc)
        .replace(tzinfo=None)
        .isoformat(" ")
    )
    stored = json.loads(
        query(path, "SELECT value FROM tenant_info WHERE key='facts'")[0][0]
    )
    assert stored == facts
    for name, params in declared.items():
        fact = facts[name]
        kind = params["kind"]
        assert set(fact) == PROPERTIES[kind], name
        check = CHECKS[kind]
        check(path, fact, params, now)


def _hot_lead(path, fact, params, now):
    lead = one(path, "SELECT * FROM lead WHERE id = ?", fact["id"])
    for key in ("name", "company", "email", "phone", "city", "source", "status"):
        assert lead[key] == fact[key]
    assert (lead["status"], lead["rating"]) == ("new", "hot")
    assert (
        lead["owner_id"] == query(path, "SELECT id FROM colleague WHERE is_self")[0][0]
    )
    assert not query(path, "SELECT 1 FROM account WHERE name = ?", lead["company"])


def _duplicate_lead(path, fact, params, now):
    lead = one(path, "SELECT * FROM lead WHERE id = ?", fact["id"])
    account = one(path, "SELECT * FROM account WHERE id = ?", fact["account_id"])
    assert lead["company"] == account["name"] == fact["company"] == fact["account"]
    assert lead["status"] in ("new", "contacted", "qualified")


def _key_account(path, fact, params, now):
    account = one(path, "SELECT * FROM account WHERE id = ?", fact["id"])
    assert (account["name"], account["city"], account["address"]) == (
        fact["name"],
        fact["city"],
        fact["address"],
    )
    assert account["rating"] == "a" and fact["owner"] == me(path)
    boss = one(path, "SELECT * FROM contact WHERE id = ?", fact["decision_maker"]["id"])
    assert (
        boss["account_id"] == fact["id"]
        and boss["email"] == (fact["decision_maker"]["email"])
    )
    won = query(
        path,
        "SELECT COALESCE(SUM(amount), 0) FROM opportunity o JOIN stage s "
        "ON s.id = o.stage_id WHERE s.is_won AND o.account_id = ?",
        fact["id"],
    )[0][0]
    assert won == cents(fact["won_amount"]) > 0
    assert query(
        path, "SELECT COUNT(*) FROM contact WHERE account_id = ?", fact["id"]
    ) == [(fact["contacts"],)]
    assert query(path, "SELECT account_id FROM account_co_owner") == [(fact["id"],)]


def _channel_partner(path, fact, params, now):
    account = one(path, "SELECT * FROM account WHERE id = ?", fact["id"])
    assert account["account_type"] == "channel" and account["name"] == fact["name"]
    for end in fact["end_customers"]:
        row = one(path, "SELECT * FROM account WHERE id = ?", end["id"])
        assert (row["name"], row["account_type"]) == (end["name"], "end_customer")


def _stalled_deal(path, fact, params, now):
    deal = check_deal(path, fact)
    assert deal["code"] not in ("closed_won", "closed_lost")
    idle = (DAY - dt.date.fromisoformat(deal["last_activity_at"][:10])).days
    assert idle == fact["idle_days"] >= params.get("idle_days", 45)
    assert fact["owner"] == me(path)


def _big_deal(path, fact, params, now):
    deal = check_deal(path, fact)
    assert deal["code"] in ("proposal", "negotiation")
    quote = one(path, "SELECT * FROM quote WHERE number = ?", fact["quote"])
    assert quote["opportunity_id"] == fact["id"] and quote["total"] == deal["amount"]


def _won_deal(path, fact, params, now):
    deal = check_deal(path, fact)
    assert deal["code"] == "closed_won" and deal["closed_on"] == fact["closed_on"]


def _lost_deal(path, fact, params, now):
    deal = check_deal(path, fact)
    assert deal["code"] == "closed_lost" and deal["lost_reason"] == fact["lost_reason"]
    rival = one(path, "SELECT name FROM competitor WHERE id = ?", deal["lost_to_id"])
    assert rival["name"] == fact["lost_to"]


def _key_competitor(path, fact, params, now):
    rival = one(path, "SELECT * FROM competitor WHERE id = ?", fact["id"])
    assert rival["name"] == fact["name"]
    deals = query(
        path,
        "SELECT COUNT(*) FROM opportunity_competitor WHERE competitor_id = ?",
        fact["id"],
    )[0][0]
    assert deals == fact["deals"] > 0
    assert fact["deals_lost_to"] >= 1


def _top_product(path, fact, params, now):
    product = one(path, "SELECT * FROM product WHERE id = ?", fact["id"])
    assert (product["code"], product["name"]) == (fact["code"], fact["name"])
    assert product["list_price"] == cents(fact["list_price"])
    counts = query(
        path,
        "SELECT product_id, COUNT(*) FROM line_item GROUP BY product_id "
        "ORDER BY 2 DESC",
    )
    assert dict(counts)[fact["id"]] == counts[0][1]


def _overdue_case(path, fact, params, now):
    case = check_case(path, fact, now)
    assert case["status"] in ("accepted", "assigned", "in_progress", "escalated")
    assert case["resolved_at"] is None
    assert case["resolution_due_at"] < now and case["next_due_at"] < now
    assert case["priority"] == params.get("priority", "p2")


def _escalated_case(path, fact, params, now):
    case = check_case(path, fact, now)
    assert case["status"] == "escalated" and case["escalation_level"] >= 1
    assert case["escalated_from_id"] is not None


def _published_article(path, fact, params, now):
    article = one(path, "SELECT * FROM article WHERE id = ?", fact["id"])
    assert article["status"] == "published" and article["title"] == fact["title"]


def _best_campaign(path, fact, params, now):
    campaign = one(path, "SELECT * FROM campaign WHERE id = ?", fact["id"])
    assert (campaign["name"], campaign["status"]) == (fact["name"], "completed")
    assert campaign["actual_cost"] == cents(fact["actual_cost"])
    counts = query(
        path,
        "SELECT COUNT(*), COUNT(*) FILTER (WHERE status IN ('responded', 'converted'))"
        " FROM campaign_member WHERE campaign_id = ?",
        fact["id"],
    )[0]
    assert counts == (fact["members"], fact["responded"])
    won = query(
        path,
        "SELECT COALESCE(SUM(amount), 0) FROM opportunity o JOIN stage s "
        "ON s.id = o.stage_id WHERE s.is_won AND o.campaign_id = ?",
        fact["id"],
    )[0][0]
    assert won == cents(fact["won_amount"])
    best = query(
        path,
        "SELECT MAX(w) FROM (SELECT COALESCE(SUM(o.amount), 0) AS w FROM campaign c "
        "LEFT JOIN opportunity o ON o.campaign_id = c.id AND o.stage_id IN "
        "(SELECT id FROM stage WHERE is_won) WHERE c.status = 'completed' "
        "GROUP BY c.id)",
    )[0][0]
    assert won == best


def _overdue_task(path, fact, params, now):
    task = one(path, "SELECT * FROM activity WHERE id = ?", fact["id"])
    assert (task["kind"], task["status"], task["subject"]) == (
        "task",
        "planned",
        fact["subject"],
    )
    assert task["due_date"] == fact["due_date"] < now[:10]
    assert (task["related_type"], task["related_id"]) == (
        "accounts",
        fact["account_id"],
    )
    owner = query(path, "SELECT is_self FROM colleague WHERE id = ?", task["owner_id"])
    assert owner == [(1,)]


def _next_meeting(path, fact, params, now):
    meeting = one(path, "SELECT * FROM activity WHERE id = ?", fact["id"])
    assert (meeting["kind"], meeting["status"]) == ("meeting", "planned")
    assert meeting["starts_at"] == fact["starts_at"] > now
    later = query(
        path,
        "SELECT COUNT(*) FROM activity a JOIN colleague c ON c.id = a.owner_id "
        "WHERE c.is_self AND a.kind = 'meeting' AND a.status = 'planned' "
        "AND a.starts_at > ? AND a.starts_at < ?",
        now,
        fact["starts_at"],
    )
    assert later == [(0,)]
    attending = {
        r[0]
        for r in query(
            path,
            "SELECT contact_id FROM activity_attendee WHERE activity_id = ? "
            "AND contact_id IS NOT NULL",
            fact["id"],
        )
    }
    assert attending == {c["id"] for c in fact["contacts"]}


def _overdue_invoice(path, fact, params, now):
    invoice = one(path, "SELECT * FROM invoice WHERE id = ?", fact["id"])
    assert (invoice["number"], invoice["due_on"]) == (fact["number"], fact["due_on"])
    assert invoice["amount"] == cents(fact["amount"]) and fact["due_on"] < now[:10]
    order = one(path, "SELECT * FROM sales_order WHERE id = ?", fact["order_id"])
    assert order["number"] == fact["order"] and order["status"] == "delivered"
    assert query(path, "SELECT * FROM payment WHERE order_id = ?", order["id"]) == []


CHECKS = {
    "overdue_invoice": _overdue_invoice,
    "best_campaign": _best_campaign,
    "overdue_task": _overdue_task,
    "next_meeting": _next_meeting,
    "hot_lead": _hot_lead,
    "duplicate_lead": _duplicate_lead,
    "key_account": _key_account,
    "channel_partner": _channel_partner,
    "stalled_deal": _stalled_deal,
    "big_deal": _big_deal,
    "won_deal": _won_deal,
    "lost_deal": _lost_deal,
    "key_competitor": _key_competitor,
    "top_product": _top_product,
    "overdue_case": _overdue_case,
    "escalated_case": _escalated_case,
    "published_article": _published_article,
}


def test_every_fact_kind_has_a_check():
    from sandbox.scenarios.spec import FACT_KINDS

    assert set(CHECKS) == set(FACT_KINDS) == set(PROPERTIES)


@pytest.mark.parametrize("seed", range(20, 32))
def test_facts_are_planted_for_many_seeds(built, seed):
    for scenario in SCENARIO_IDS:
        path, facts = built(scenario, seed)
        assert set(facts) == set(get(scenario).facts)
        _stalled_deal(
            path, facts["stalled_deal"], get(scenario).facts["stalled_deal"], None
        )
