"""A small deterministic scenario builder (accounts, contacts and leads).

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

#: How many leads a scenario starts with, and how their statuses and ratings are spread.
N_LEADS = 40
LEAD_STATUSES = (("new", 14), ("contacted", 12), ("qualified", 8), ("unqualified", 6))
LEAD_RATINGS = (("hot", 1), ("warm", 2), ("cold", 2))
#: Every this many leads, one comes from a company that is already an account.
KNOWN_COMPANY_EVERY = 8

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


#: Product categories: (English, Chinese, parent's index or None).
CATEGORIES = (
    ("Hardware", "硬件", None),
    ("Software", "软件", None),
    ("Services", "服务", None),
    ("Networking", "网络设备", 0),
)
#: Products: (code, English, Chinese, category index, unit, list price, cost share %).
PRODUCTS = (
    ("HW-SRV-100", "Edge Server S100", "边缘服务器 S100", 0, "set", 4800, 62),
    ("HW-TRM-200", "Smart Terminal T200", "智能终端 T200", 0, "each", 650, 55),
    ("HW-SW-24", "24-port Switch", "24 口交换机", 3, "each", 980, 58),
    ("SW-CRM-STD", "CRM Standard licence", "CRM 标准版许可", 1, "user_month", 45, 20),
    ("SW-CRM-ENT", "CRM Enterprise licence", "CRM 企业版许可", 1, "user_month", 90, 22),
    ("SW-BI-100", "Analytics add-on", "数据分析插件", 1, "license", 1200, 25),
    ("SV-IMPL", "Implementation service", "实施服务", 2, "hour", 120, 60),
    ("SV-TRAIN", "On-site training day", "现场培训（天）", 2, "each", 800, 50),
)
#: Competitors: (English name, Chinese name, website, strengths, weaknesses).
COMPETITORS = (
    (
        (
            "Northwind Systems",
            "Low prices; large reseller network",
            "Slow support; dated interface",
        ),
        ("北风系统", "价格低；经销商网络大", "支持响应慢；界面陈旧"),
        "https://northwind.example.com",
    ),
    (
        (
            "Bluepeak Software",
            "Strong analytics; well-known brand",
            "Expensive; long implementations",
        ),
        ("蓝峰软件", "分析功能强；品牌知名", "价格高；实施周期长"),
        "https://bluepeak.example.com",
    ),
    (
        ("Harbor Tech", "Fast local service", "Narrow product line"),
        ("港湾科技", "本地服务响应快", "产品线窄"),
        "https://harbortech.example.com",
    ),
    (
        ("Greenfield Solutions", "Flexible contracts", "Small team; few references"),
        ("绿野方案", "合同灵活", "团队小；成功案例少"),
        "https://greenfield.example.com",
    ),
)


def _catalog_rows(
    rnd: random.Random, fake: Faker, *, created: str
) -> dict[str, list[dict]]:
    """Product categories, products and competitors, in the scenario's language."""
    zh = fake.locales[0].startswith("zh")
    stamp = created
    categories = [
        {
            "id": n,
            "name": name_zh if zh else name,
            "parent_id": None if parent is None else parent + 1,
            "created_at": stamp,
            "updated_at": stamp,
        }
        for n, (name, name_zh, parent) in enumerate(CATEGORIES, start=1)
    ]
    products = []
    for n, (code, name, name_zh, category, unit, price, cost) in enumerate(
        PRODUCTS, start=1
    ):
        # Money columns hold cents; each variant's prices differ a little.
        cents = price * 100 * rnd.randrange(90, 111) // 100
        products.append(
            {
                "id": n,
                "code": code,
                "name": name_zh if zh else name,
                "category_id": category + 1,
                "unit": unit,
                "list_price": cents,
                "cost": cents * cost // 100,
                "active": True,
                "description": None,
                "created_at": stamp,
                "updated_at": stamp,
            }
        )
    competitors = [
        {
            "id": n,
            "name": (texts_zh if zh else texts_en)[0],
            "website": website,
            "strengths": (texts_zh if zh else texts_en)[1],
            "weaknesses": (texts_zh if zh else texts_en)[2],
            "products": None,
            "pricing": None,
            "created_at": stamp,
            "updated_at": stamp,
        }
        for n, (texts_en, texts_zh, website) in enumerate(COMPETITORS, start=1)
    ]
    return {
        "product_category": categories,
        "product": products,
        "competitor": competitors,
    }


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


def _leads(fake: Faker, rnd: random.Random, moment, accounts: list[dict]) -> list:
    """Open leads (none converted yet), owned by the sales team or unassigned."""
    statuses = [code for code, weight in LEAD_STATUSES for _ in range(weight)]
    ratings = [code for code, weight in LEAD_RATINGS for _ in range(weight)]
    sources = [c.code for c in default_list("lead_source")]
    reasons = [c.code for c in default_list("unqualified_reason")]
    industries = [c.code for c in default_list("industry")]
    sellers = [n for n, (_name, role) in enumerate(TEAM, start=1) if "sales" in role]
    leads = []
    for lead_id in range(1, N_LEADS + 1):
        created = moment()
        status = rnd.choice(statuses)
        known = lead_id % KNOWN_COMPANY_EVERY == 0
        leads.append(
            {
                "id": lead_id,
                "name": fake.name(),
                # Hyphens break the account naming rules; a lead's company
                # should convert into an account as it stands.
                "company": rnd.choice(accounts)["name"]
                if known
                else fake.unique.company().replace("-", " "),
                "title": rnd.choice(TITLES),
                "email": fake.email(),
                "phone": fake.phone_number(),
                "source": rnd.choice(sources),
                "status": status,
                "rating": rnd.choice(ratings),
                "unqualified_reason": rnd.choice(reasons)
                if status == "unqualified"
                else None,
                "industry": rnd.choice(industries),
                "city": fake.city(),
                # About one lead in five waits in the unassigned pool.
                "owner_id": None if rnd.random() < 0.2 else rnd.choice(sellers),
                "notes": fake.sentence(),
                "created_at": created,
                "updated_at": created,
            }
        )
    return leads


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
    catalog = _catalog_rows(rnd, fake, created=start.isoformat(" "))
    leads = _leads(fake, rnd, moment, accounts)

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
            for table, rows in catalog.items():
                if not db[table].count:  # another part of the build may fill it
                    db[table].insert_all(rows)
            db["lead"].insert_all(leads)
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
