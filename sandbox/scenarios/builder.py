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

from sandbox.crm.cases.scenario import build_service_desk
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
#: The time zone a course on the scenario shows times in, unless it sets its own.
SCENARIO_TIMEZONES = {"default": "UTC", "default-zh": "Asia/Shanghai"}

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

    contacts_by_account: dict[int, list[int]] = {}
    for contact in contacts:
        contacts_by_account.setdefault(contact["account_id"], []).append(contact["id"])
    service_desk = build_service_desk(
        rnd,
        chinese=locale.startswith("zh"),
        today=today,
        zone=SCENARIO_TIMEZONES.get(scenario, "UTC"),
        n_accounts=n_accounts,
        contacts_by_account=contacts_by_account,
        colleagues={c["id"]: c["name"] for c in colleagues},
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
            for table, rows in service_desk.items():
                db[table].insert_all(rows)
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
