"""A small deterministic scenario builder (accounts and contacts).

The same scenario, seed and day always give the same rows. Dates are generated
relative to ``today`` so a freshly provisioned tenant never looks stale.
"""

from __future__ import annotations

import functools
import random
import sqlite3
from datetime import date, datetime, time, timedelta
from pathlib import Path

import sqlalchemy as sa
import sqlite_utils
from faker import Faker

from sandbox.crm.codes import default_list
from sandbox.models.crm import tenant_metadata
from sandbox.models.crm.sales import DEFAULT_STAGES
from sandbox.text import company_key, name_key

#: scenario name -> (Faker locale, currency, number of accounts, number of contacts)
SCENARIOS = {
    "default": ("en_US", "USD", 50, 100),
    "default-zh": ("zh_CN", "CNY", 50, 100),
}

TITLES = (
    "Purchasing Manager",
    "CEO",
    "CFO",
    "IT Director",
    "Sales Director",
    "Operations Manager",
    "Procurement Specialist",
    "Marketing Manager",
)
#: Products for scenarios that bring none: (code, name, unit, list price).
PRODUCTS = (
    ("CRM-STD", "CRM Standard licence", "user_month", 45),
    ("CRM-PRO", "CRM Professional licence", "user_month", 90),
    ("ONB-PKG", "Onboarding package", "set", 4800),
    ("TRN-DAY", "On-site training day", "each", 1200),
    ("INT-API", "Integration connector", "license", 6500),
    ("SUP-PRM", "Premium support (year)", "each", 9800),
    ("CON-HR", "Consulting hour", "hour", 150),
    ("HW-SCN", "Barcode scanner", "piece", 320),
)
#: How many deals sit in each stage (the order of DEFAULT_STAGES).
STAGE_SPREAD = (9, 7, 6, 5, 5, 4, 5, 4, 9, 6)

#: The virtual team: (name, role); the first is the student's own seat.
TEAM = (
    ("You", "sales_rep"),
    ("Alex Morgan", "sales_manager"),
    ("Jamie Chen", "sales_rep"),
    ("Sam Patel", "sales_rep"),
    ("Riley Zhang", "service_agent"),
)


@functools.cache
def _faker(locale: str) -> Faker:
    # Building a Faker loads every provider; reseeding a cached one is much cheaper.
    return Faker(locale)


def create_schema(path: Path) -> None:
    """Create every tenant table in a new SQLite file, in WAL mode."""
    engine = sa.create_engine(f"sqlite:///{path.as_posix()}")
    try:
        tenant_metadata().create_all(engine)
    finally:
        engine.dispose()
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
    finally:
        conn.close()


def build_scenario(
    path: Path, scenario: str, seed: int, *, today: date | None = None
) -> None:
    """Write scenario ``scenario``, variant ``seed``, into a new file at ``path``."""
    if scenario not in SCENARIOS:
        known = ", ".join(sorted(SCENARIOS))
        raise KeyError(f"unknown scenario {scenario!r}; known scenarios: {known}")
    locale, currency, n_accounts, n_contacts = SCENARIOS[scenario]
    today = today or date.today()
    fake = _faker(locale)
    fake.unique.clear()
    fake.seed_instance(seed)
    rnd = random.Random(seed)  # noqa: S311 - reproducible data, not secrets
    start = datetime.combine(today, time(9)) - timedelta(days=365)

    def moment() -> str:
        return (start + timedelta(minutes=rnd.randrange(365 * 24 * 60))).isoformat(" ")

    created = moment()
    colleagues = [
        {
            "id": n,
            "name": name,
            "role": role,
            "is_self": n == 1,
            "active": True,
            "created_at": created,
            "updated_at": created,
        }
        for n, (name, role) in enumerate(TEAM, start=1)
    ]
    account_types = [c.code for c in default_list("account_type")]
    industries = [c.code for c in default_list("industry")]
    accounts = []
    keys = set()
    while len(accounts) < n_accounts:
        name = fake.unique.company()
        if name_key(name) in keys:
            continue
        keys.add(name_key(name))
        created = moment()
        accounts.append(
            {
                "id": len(accounts) + 1,
                "name": name,
                "name_key": name_key(name),
                "match_key": company_key(name),
                "account_type": rnd.choice(account_types),
                "industry": rnd.choice(industries),
                "phone": fake.phone_number(),
                "email": fake.company_email(),
                "website": f"https://{fake.domain_name()}",
                "city": fake.city(),
                "country": fake.current_country(),
                "address": fake.street_address(),
                # Money columns hold cents.
                "annual_revenue": rnd.randrange(1, 500) * 100_000 * 100,
                "employees": rnd.randrange(5, 5000),
                "owner_id": rnd.randrange(1, len(TEAM) + 1),
                "inactive": False,
                "description": fake.catch_phrase(),
                "created_at": created,
                "updated_at": created,
            }
        )
    contacts = []
    for contact_id in range(1, n_contacts + 1):
        created = moment()
        contacts.append(
            {
                "id": contact_id,
                "account_id": rnd.randrange(1, n_accounts + 1),
                "first_name": fake.first_name(),
                "last_name": fake.last_name(),
                "title": rnd.choice(TITLES),
                "department": rnd.choice(("Purchasing", "Finance", "IT", "Operations")),
                "email": fake.email(),
                "phone": fake.phone_number(),
                "mobile": fake.phone_number(),
                "created_at": created,
                "updated_at": created,
            }
        )

    create_schema(path)
    db = sqlite_utils.Database(path)
    try:
        with db.conn:
            db["colleague"].insert_all(colleagues)
            db["stage"].insert_all(
                {
                    "id": n,
                    "code": code,
                    "name": en,
                    "name_zh": zh,
                    "position": n,
                    "probability": probability,
                    "forecast_category": category,
                    "is_closed": closed,
                    "is_won": won,
                    "created_at": created,
                    "updated_at": created,
                }
                for n, (code, en, zh, probability, category, closed, won) in enumerate(
                    DEFAULT_STAGES, start=1
                )
            )
            db["account"].insert_all(accounts)
            db["contact"].insert_all(contacts)
            if not db["product"].count:
                db["product"].insert_all(_products(created))
            opportunities, lines, history = _opportunities(
                random.Random(seed + 1),  # noqa: S311 - reproducible data
                today,
                [a["name"] for a in accounts],
                contacts,
                list(db["product"].rows),
            )
            db["opportunity"].insert_all(opportunities)
            db["line_item"].insert_all(lines)
            db["opportunity_history"].insert_all(history)
            db["tenant_info"].insert_all(
                [
                    {"key": "scenario", "value": scenario},
                    {"key": "variant_seed", "value": str(seed)},
                    {"key": "built_on", "value": today.isoformat()},
                    {"key": "currency", "value": currency},
                ]
            )
    finally:
        db.close()


def _products(created: str) -> list[dict]:
    return [
        {
            "id": n,
            "code": code,
            "name": name,
            "unit": unit,
            "list_price": price * 100,
            "active": True,
            "created_at": created,
            "updated_at": created,
        }
        for n, (code, name, unit, price) in enumerate(PRODUCTS, start=1)
    ]


def _opportunities(
    rnd: random.Random,
    today: date,
    account_names: list[str],
    contacts: list[dict],
    products: list[dict],
) -> tuple[list[dict], list[dict], list[dict]]:
    """Deals across the stages: won and lost ones closed in the past, open ones
    closing in the next months; about half priced from product lines."""
    types = [c.code for c in default_list("opportunity_type")]
    sources = [c.code for c in default_list("lead_source")]
    reasons = [c.code for c in default_list("lost_reason")]
    opportunities, lines, history = [], [], []
    for stage_id, count in enumerate(STAGE_SPREAD, start=1):
        _code, _en, _zh, probability, category, closed, won = DEFAULT_STAGES[
            stage_id - 1
        ]
        for _ in range(count):
            opp_id = len(opportunities) + 1
            account_id = rnd.randrange(1, len(account_names) + 1)
            staff = [c["id"] for c in contacts if c["account_id"] == account_id]
            created = datetime.combine(
                today - timedelta(days=rnd.randrange(30, 300)), time(10)
            )
            if closed:
                close_date = today - timedelta(days=rnd.randrange(1, 150))
                touched = datetime.combine(close_date, time(16))
            else:
                close_date = today + timedelta(days=rnd.randrange(7, 180))
                # A few open deals have gone quiet: the early warning shows them.
                idle = (
                    rnd.randrange(40, 90) if opp_id % 9 == 0 else rnd.randrange(1, 20)
                )
                touched = datetime.combine(today - timedelta(days=idle), time(11))
            amount = 0
            if products and rnd.random() < 0.5:
                for position in range(1, rnd.randrange(2, 4)):
                    product = rnd.choice(products)
                    quantity = rnd.randrange(1, 20)
                    discount = rnd.choice((0, 0, 5, 10))
                    # Cents, rounded half up like sandbox.crm.opportunities.
                    total = (
                        quantity * product["list_price"] * (100 - discount) + 50
                    ) // 100
                    amount += total
                    lines.append(
                        {
                            "id": len(lines) + 1,
                            "opportunity_id": opp_id,
                            "product_id": product["id"],
                            "position": position,
                            "quantity": quantity * 100,
                            "unit_price": product["list_price"],
                            "discount": discount * 100,
                            "total": total,
                        }
                    )
            else:
                amount = rnd.randrange(5, 400) * 1000 * 100
            opportunities.append(
                {
                    "id": opp_id,
                    "name": f"{account_names[account_id - 1]} – "
                    f"{rnd.choice(('Rollout', 'Renewal', 'Expansion', 'Pilot'))}",
                    "account_id": account_id,
                    "contact_id": rnd.choice(staff) if staff else None,
                    "amount": amount,
                    "close_date": close_date.isoformat(),
                    "stage_id": stage_id,
                    "probability": probability,
                    "probability_manual": False,
                    "forecast_category": category,
                    "opportunity_type": rnd.choice(types),
                    "lead_source": rnd.choice(sources),
                    "owner_id": rnd.randrange(1, len(TEAM)),
                    "closed_on": close_date.isoformat() if closed else None,
                    "lost_reason": rnd.choice(reasons) if closed and not won else None,
                    "last_activity_at": touched.isoformat(" "),
                    "created_at": created.isoformat(" "),
                    "updated_at": touched.isoformat(" "),
                }
            )
            history.append(
                {
                    "opportunity_id": opp_id,
                    "at": touched.isoformat(" "),
                    "actor": "system",
                    "stage_id": stage_id,
                    "amount": amount,
                    "probability": probability,
                    "close_date": close_date.isoformat(),
                    "forecast_category": category,
                }
            )
    return opportunities, lines, history
