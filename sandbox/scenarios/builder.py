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

from sandbox.models.crm import ACCOUNT_TYPES, INDUSTRIES, tenant_metadata

#: scenario name -> (Faker locale, number of accounts, number of contacts)
SCENARIOS = {
    "default": ("en_US", 50, 100),
    "default-zh": ("zh_CN", 50, 100),
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
OWNERS = ("Alex Morgan", "Jamie Chen", "Sam Patel", "Riley Zhang")


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
    locale, n_accounts, n_contacts = SCENARIOS[scenario]
    today = today or date.today()
    fake = _faker(locale)
    fake.unique.clear()
    fake.seed_instance(seed)
    rnd = random.Random(seed)  # noqa: S311 - reproducible data, not secrets
    start = datetime.combine(today, time(9)) - timedelta(days=365)

    def moment() -> str:
        return (start + timedelta(minutes=rnd.randrange(365 * 24 * 60))).isoformat(" ")

    accounts = []
    for account_id in range(1, n_accounts + 1):
        created = moment()
        accounts.append(
            {
                "id": account_id,
                "name": fake.unique.company(),
                "account_type": rnd.choice(ACCOUNT_TYPES),
                "industry": rnd.choice(INDUSTRIES),
                "phone": fake.phone_number(),
                "email": fake.company_email(),
                "website": f"https://{fake.domain_name()}",
                "city": fake.city(),
                "country": fake.current_country(),
                "address": fake.street_address(),
                "annual_revenue": rnd.randrange(1, 500) * 100_000,
                "employees": rnd.randrange(5, 5000),
                "owner": rnd.choice(OWNERS),
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
            db["account"].insert_all(accounts)
            db["contact"].insert_all(contacts)
            db["tenant_info"].insert_all(
                [
                    {"key": "scenario", "value": scenario},
                    {"key": "variant_seed", "value": str(seed)},
                    {"key": "built_on", "value": today.isoformat()},
                ]
            )
    finally:
        db.close()
