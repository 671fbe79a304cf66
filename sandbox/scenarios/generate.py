"""The rows of a scenario: every tenant table, in memory, from (scenario, seed, day).

Nothing here touches a database: :func:`generate` returns ``{table: [row, ...]}`` and
the planted facts, and :mod:`sandbox.scenarios.builder` writes them. One
``random.Random`` seeded from the scenario id and the variant seed drives every
choice, so the same scenario, seed and day always give the same rows; every date is
counted from the provisioning day, so a scenario never looks stale.

Money is in cents, quantities and discounts in hundredths (the ``Money`` type's
storage); times are UTC without a zone, as the app stores them.
"""

from __future__ import annotations

import datetime as dt
import random
import zlib
from bisect import bisect
from collections import Counter, defaultdict
from itertools import accumulate
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.scenarios import data
from sandbox.scenarios.people import Locale, Person
from sandbox.scenarios.spec import Scenario

UTC = dt.timezone.utc
Rows = list[dict[str, Any]]

#: Lead statuses and ratings, as shares of the scenario's leads.
LEAD_STATUSES = (("new", 14), ("contacted", 12), ("qualified", 8), ("unqualified", 6))
LEAD_RATINGS = (("hot", 1), ("warm", 2), ("cold", 2))
UNQUALIFIED_REASONS = ("no_budget", "no_need", "no_contact", "competitor", "other")
#: Every this many leads, one comes from a company that is already an account.
KNOWN_COMPANY_EVERY = 8
#: How a quantity is drawn for a product's unit: (least, most, multiplier).
QUANTITIES = {
    "user_month": (5, 60, 12),
    "hour": (8, 80, 1),
    "kg": (10, 500, 1),
    "piece": (5, 200, 1),
}
#: Case lifecycles from New and how often each is drawn (see cases.service).
CASE_PATHS = (
    ((), 3),
    (("accept",), 3),
    (("accept", "assign"), 3),
    (("accept", "assign", "start"), 4),
    (("accept", "assign", "start", "request_info"), 2),
    (("accept", "escalate"), 2),
    (("accept", "assign", "start", "escalate"), 1),
    (("accept", "assign", "suspend"), 1),
    (("accept", "assign", "start", "resolve"), 3),
    (("accept", "assign", "start", "resolve", "callback"), 2),
    (("accept", "assign", "start", "resolve", "callback", "close"), 3),
    (("accept", "assign", "start", "resolve", "callback", "close", "analyze"), 2),
    (("cancel",), 1),
)
ARTICLE_STATES = ("published", "published", "published", "review", "draft")
#: Campaign types when the campaigns module defines none, and the lead source a
#: campaign of each type brings leads in from.
CAMPAIGN_TYPES = {
    "email": ("Email", "邮件营销"),
    "event": ("Event", "会议/展会"),
    "seminar": ("Seminar", "研讨会"),
    "telesales": ("Telesales", "电话营销"),
    "advertisement": ("Advertisement", "广告"),
    "web": ("Web", "网络推广"),
}
#: At most this many deals name a campaign as their source, opened within
#: CAMPAIGN_DEAL_DAYS of its start.
CAMPAIGN_DEALS = 4
CAMPAIGN_DEAL_DAYS = 90
CAMPAIGN_SOURCES = {
    "email": "email",
    "event": "exhibition",
    "trade_show": "exhibition",
    "roadshow": "exhibition",
    "seminar": "seminar",
    "webinar": "seminar",
    "telesales": "cold_call",
    "advertisement": "advertisement",
    "direct_mail": "advertisement",
    "web": "web",
}
ACTIVITY_KINDS = (("call", 5), ("meeting", 3), ("task", 4), ("email", 2))


def variant_random(scenario_id: str, seed: int) -> random.Random:
    """The generator of one variant (the scenario id is mixed in, so seed 7 of two
    scenarios do not pick alike)."""
    mixed = zlib.crc32(scenario_id.encode()) * 1_000_003 + seed
    return random.Random(mixed)  # noqa: S311 - reproducible data, not secrets


def _weighted(rnd: random.Random, weights: dict[str, int]) -> str:
    keys = list(weights)
    return rnd.choices(keys, [weights[k] for k in keys])[0]


def _spread(rnd: random.Random, shares: tuple[tuple[Any, int], ...], n: int) -> list:
    """``n`` values in proportion to ``shares`` (each share at least once), shuffled."""
    total = sum(w for _, w in shares)
    values = []
    for value, weight in shares:
        values += [value] * max(1, round(n * weight / total))
    rnd.shuffle(values)
    while len(values) < n:
        values.append(rnd.choice([v for v, _ in shares]))
    # Trim from the most frequent value so every value stays present.
    while len(values) > n:
        common = Counter(values).most_common(1)[0][0]
        values.remove(common)
    return values


def _ts(moment: dt.datetime) -> str:
    return moment.replace(microsecond=0).isoformat(" ")


def _money(cents: int) -> str:
    return f"{cents / 100:.2f}"


#: Stages at which a deal may carry an estimated amount and no product lines.
EARLY_STAGES = frozenset({"prospecting", "qualification", "needs_analysis"})


class Generator:
    def __init__(self, scenario: Scenario, seed: int, today: dt.date) -> None:
        self.s = scenario
        self.seed = seed
        self.today = today
        self.rnd = variant_random(scenario.id, seed)
        self.zh = scenario.chinese
        self.lang = "zh" if self.zh else "en"
        self.zone = ZoneInfo(scenario.timezone)
        self.people = Locale(scenario.locale, self.rnd)
        self.sentences = data.load("sentences")
        self.catalogue = data.catalogue(scenario.catalogue)
        self.titles = data.load("titles")["titles"]
        self.tables: dict[str, Rows] = defaultdict(list)
        self.facts: dict[str, dict[str, Any]] = {}
        self.now = self.local(today, 10, 0)
        from sandbox.scenarios.builder import tenant_tables

        self.known_tables = {t.name for t in tenant_tables()}
        self.start = self.now - dt.timedelta(days=scenario.history_days)

    # ------------------------------------------------------------------ helpers

    def local(self, day: dt.date, hour: int, minute: int) -> dt.datetime:
        """A local time of the scenario's zone, as naive UTC."""
        moment = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=self.zone)
        return moment.astimezone(UTC).replace(tzinfo=None)

    def workday(self, day: dt.date) -> dt.date:
        """``day``, or the working day before it (weekends are quiet)."""
        while day.weekday() >= 5:
            day -= dt.timedelta(days=1)
        return day

    def moment(self, days_ago_most: int, days_ago_least: int = 0) -> dt.datetime:
        """A working-hours time on a working day within the given days before today."""
        rnd = self.rnd
        day = self.today - dt.timedelta(
            days=rnd.randrange(days_ago_least, max(days_ago_least + 1, days_ago_most))
        )
        day = self.workday(day)
        stamp = self.local(day, rnd.randrange(8, 18), rnd.randrange(60))
        return min(stamp, self.now - dt.timedelta(minutes=30))

    def text(self, pool: str) -> str:
        return self.rnd.choice(self.sentences[pool][self.lang])

    def pick(self, pair: list | tuple) -> str:
        """The scenario's language out of an ``(en, zh)`` pair."""
        return pair[1] if self.zh else pair[0]

    def stamp(self, row: dict[str, Any], created: dt.datetime, updated=None) -> dict:
        row["created_at"] = _ts(created)
        row["updated_at"] = _ts(updated or created)
        return row

    # ------------------------------------------------------------------ team

    def team(self) -> None:
        created = self.start - dt.timedelta(days=30)
        domain = self.s.company.get("domain", "example.com")
        for n, member in enumerate(self.s.team, start=1):
            email = member.email
            if email is None and member.is_self:
                email = f"me@{domain}"
            self.tables["colleague"].append(
                self.stamp(
                    {
                        "id": n,
                        "name": member.name,
                        "role": member.role,
                        "email": email,
                        "is_self": member.is_self,
                        "active": True,
                    },
                    created,
                )
            )
        self.me = next(n for n, m in enumerate(self.s.team, start=1) if m.is_self)
        self.sellers = [
            n for n, m in enumerate(self.s.team, start=1) if m.role.startswith("sales")
        ]
        self.agents = [
            n
            for n, m in enumerate(self.s.team, start=1)
            if m.role.startswith("service")
        ] or self.sellers
        self.manager = next(
            (n for n, m in enumerate(self.s.team, 1) if m.role == "sales_manager"),
            self.me,
        )

    def stages(self) -> None:
        from sandbox.models.crm.sales import DEFAULT_STAGES

        created = self.start - dt.timedelta(days=30)
        self.stage_ids = {}
        for n, (code, en, zh, prob, category, closed, won) in enumerate(
            DEFAULT_STAGES, start=1
        ):
            self.stage_ids[code] = n
            self.tables["stage"].append(
                self.stamp(
                    {
                        "id": n,
                        "code": code,
                        "name": en,
                        "name_zh": zh,
                        "position": n,
                        "probability": prob,
                        "forecast_category": category,
                        "is_closed": closed,
                        "is_won": won,
                    },
                    created,
                )
            )
        self.stage_rows = {row["code"]: row for row in self.tables["stage"]}

    # ------------------------------------------------------------------ codes

    def code_lists(self) -> None:
        from sandbox.crm.codes import default_list

        extra = data.extra_codes()
        created = self.start - dt.timedelta(days=30)
        for n, (key, added) in enumerate(sorted(self.s.code_lists.items()), start=1):
            entries = [
                (c.code, c.en, c.zh, c.color, c.active) for c in default_list(key)
            ]
            known = {e[0] for e in entries}
            for code in added:
                if code not in known:
                    en, zh = extra[key][code]
                    entries.append((code, en, zh, None, True))
            for position, (code, en, zh, color, active) in enumerate(entries, 1):
                self.tables["code_item"].append(
                    {
                        "list_key": key,
                        "code": code,
                        "label_en": str(en),
                        "label_zh": str(zh),
                        "position": position,
                        "color": color,
                        "active": active,
                    }
                )
            self.tables["code_list"].append(
                self.stamp({"id": n, "list_key": key}, created)
            )

    def codes(self, key: str, fallback: tuple[str, ...] = ()) -> list[str]:
        """The active codes of a list as this tenant will have it (``fallback``
        while the module that defines the list is not there)."""
        from sandbox.crm.codes import CODE_LISTS

        known = CODE_LISTS.get(key)
        codes = list(known.active_codes() if known is not None else fallback)
        return codes + [c for c in self.s.code_lists.get(key, ()) if c not in codes]

    def weights(self, key: str, list_key: str) -> dict[str, int]:
        given = self.s.volumes.get(key) or {}
        allowed = set(self.codes(list_key))
        chosen = {k: w for k, w in given.items() if k in allowed and w}
        return chosen or {code: 1 for code in self.codes(list_key)}

    # ------------------------------------------------------------------ catalogue

    def catalogue_rows(self) -> None:
        rnd = self.rnd
        created = self.start - dt.timedelta(days=20)
        for n, (en, zh, parent) in enumerate(self.catalogue["categories"], start=1):
            self.tables["product_category"].append(
                self.stamp(
                    {
                        "id": n,
                        "name": zh if self.zh else en,
                        "parent_id": None if parent is None else parent + 1,
                    },
                    created,
                )
            )
        for n, (code, en, zh, category, unit, price, cost) in enumerate(
            self.catalogue["products"], start=1
        ):
            # Each variant's prices differ a little (cents).
            cents = price * 100 * rnd.randrange(90, 111) // 100
            self.tables["product"].append(
                self.stamp(
                    {
                        "id": n,
                        "code": code,
                        "name": zh if self.zh else en,
                        "category_id": category + 1,
                        "unit": unit,
                        "list_price": cents,
                        "cost": cents * cost // 100,
                        "active": True,
                        "description": None,
                    },
                    created,
                )
            )
        for n, item in enumerate(self.catalogue["competitors"], start=1):
            name, strengths, weaknesses = item[self.lang]
            self.tables["competitor"].append(
                self.stamp(
                    {
                        "id": n,
                        "name": name,
                        "website": item["website"],
                        "strengths": strengths,
                        "weaknesses": weaknesses,
                        "products": None,
                        "pricing": None,
                    },
                    created,
                )
            )
        self.key_competitor = rnd.randrange(1, len(self.catalogue["competitors"]) + 1)

    # ------------------------------------------------------------------ accounts

    def accounts(self) -> None:
        rnd = self.rnd
        volumes = self.s.volumes
        n_accounts = volumes["accounts"]
        industries = self.weights("industries", "industry")
        types = self.weights("account_types", "account_type")
        sources = self.codes("account_source")
        taken: set[str] = set()
        partners = volumes.get("channel_partners", 0)
        plan: list[str] = []
        self.partner_of: dict[int, int] = {}
        for p in range(partners):
            plan.append("channel")
            low, high = volumes.get("end_customers_per_partner", [2, 4])
            for _ in range(rnd.randint(low, high)):
                plan.append(f"end:{p}")
        while len(plan) < n_accounts:
            plan.append(_weighted(rnd, types))
        rows = []
        self.company_of: dict[int, Any] = {}
        partner_ids: list[int] = []
        for account_id, kind in enumerate(plan[:n_accounts], start=1):
            account_type = "end_customer" if kind.startswith("end:") else kind
            if kind.startswith("end:"):
                self.partner_of[account_id] = partner_ids[int(kind[4:])]
            if kind == "channel":
                partner_ids.append(account_id)
            industry = _weighted(rnd, industries)
            company = self.people.company(industry, taken)
            self.company_of[account_id] = company
            customer = account_type in ("customer", "end_customer", "channel")
            created = self.moment(self.s.history_days, 30)
            owner = rnd.choice(self.sellers) if rnd.random() < 0.9 else None
            row = {
                "id": account_id,
                "name": company.name,
                "account_type": account_type,
                "industry": industry,
                "phone": self.people.office_phone(company.place),
                "email": f"info@{company.domain}",
                "website": f"https://www.{company.domain}",
                "address": company.place.address,
                "city": company.place.city,
                "country": company.place.country,
                "annual_revenue": rnd.randrange(2, 800) * 500_000 * 100,
                "employees": rnd.choice((20, 50, 80, 120, 200, 350, 500, 1200, 3000)),
                "owner_id": owner,
                "description": self.text("account_descriptions")
                if rnd.random() < 0.5
                else None,
                "source": rnd.choice(sources),
                "status": (
                    rnd.choice(("active", "active", "active", "dormant"))
                    if customer
                    else rnd.choice(("new", "developing", "developing"))
                ),
                "intention": None
                if customer
                else rnd.choice(("high", "medium", "low")),
                "rating": rnd.choice(("a", "b", "b", "c")) if customer else "c",
                "parent_id": None,
                "review_state": None,
                "review_note": None,
                "inactive": False,
                "inactive_reason": None,
            }
            rows.append(self.stamp(row, created))
        self.tables["account"] = rows
        self.partner_ids = partner_ids
        # Groups: a few accounts belong to a parent (subsidiaries of a group).
        for n in range(volumes.get("subsidiaries", 0)):
            parent, child = rows[2 * n], rows[2 * n + 1]
            if child["id"] in self.partner_of or parent["id"] in self.partner_of:
                continue
            child["parent_id"] = parent["id"]
            self.relation(parent["id"], child["id"], "subsidiary", child)
        for end, partner in sorted(self.partner_of.items()):
            self.relation(partner, end, "serves", rows[end - 1])
        from sandbox.text import company_key, name_key

        for row in rows:
            row["name_key"] = name_key(row["name"])
            row["match_key"] = company_key(row["name"])

    def relation(self, account_id: int, related_id: int, kind: str, row) -> None:
        relations = self.tables["account_relation"]
        relations.append(
            {
                "id": len(relations) + 1,
                "account_id": account_id,
                "related_id": related_id,
                "relation": kind,
                "created_at": row["created_at"],
                "updated_at": row["created_at"],
            }
        )

    # ------------------------------------------------------------------ contacts

    def contacts(self) -> None:
        rnd = self.rnd
        low, high = self.s.volumes.get("contacts_per_account", [1, 4])
        self.contacts_of: dict[int, list[dict]] = defaultdict(list)
        rows = self.tables["contact"]
        accounts = self.tables["account"]
        total = self.s.volumes.get("contacts")
        if total:
            # Exactly ``total`` people: one at every account, the rest spread.
            counts = Counter({a["id"]: 1 for a in accounts})
            while sum(counts.values()) < total:
                counts[rnd.choice(accounts)["id"]] += 1
        else:
            counts = Counter(
                {a["id"]: rnd.randint(max(low, 1), high) for a in accounts}
            )
        for account in accounts:
            company = self.company_of[account["id"]]
            count = counts[account["id"]]
            titles = rnd.sample(self.titles, min(count, len(self.titles)))
            # The boss first: the others report to them.
            titles.sort(key=lambda t: t[4] != "decision_maker")
            head = None
            for title in titles:
                person = self.people.person()
                contact_id = len(rows) + 1
                created = dt.datetime.fromisoformat(account["created_at"]) + (
                    dt.timedelta(days=rnd.randrange(0, 20))
                )
                row = {
                    "id": contact_id,
                    "account_id": account["id"],
                    "first_name": person.first,
                    "last_name": person.last,
                    "title": self.pick((title[0], title[1])),
                    "department": self.pick((title[2], title[3])),
                    "email": self.people.email(person, company.domain),
                    "phone": self.people.office_phone(company.place),
                    "mobile": self.people.mobile(company.place),
                    "notes": None,
                    "role": title[4],
                    "reports_to_id": head,
                }
                rows.append(self.stamp(row, min(created, self.now)))
                self.contacts_of[account["id"]].append(row)
                head = head or contact_id

    def full_name(self, contact: dict) -> str:
        person = Person(contact["first_name"], contact["last_name"], "", "")
        return person.full(self.zh)

    # ------------------------------------------------------------------ leads

    def leads(self) -> None:
        rnd = self.rnd
        n = self.s.volumes["leads"]
        statuses = _spread(rnd, LEAD_STATUSES, n)
        ratings = _spread(rnd, LEAD_RATINGS, n)
        share = max(1, n // 5)
        owners = [None] * share + [self.me] * max(1, n // 5)
        while len(owners) < n:
            owners.append(rnd.choice(self.sellers))
        rnd.shuffle(owners)
        sources = self.weights("lead_sources", "lead_source")
        industries = self.weights("industries", "industry")
        reasons = [c for c in self.codes("unqualified_reason") if c != "duplicate"]
        taken = {a["name_key"] for a in self.tables["account"]}
        accounts = self.tables["account"]
        rows = self.tables["lead"]
        for lead_id in range(1, n + 1):
            person = self.people.person()
            industry = _weighted(rnd, industries)
            known = lead_id % KNOWN_COMPANY_EVERY == 0
            if known:
                account = rnd.choice(accounts)
                company_name = account["name"]
                domain = self.company_of[account["id"]].domain
                place = self.company_of[account["id"]].place
            else:
                company = self.people.company(industry, taken)
                company_name, domain, place = (
                    company.name,
                    company.domain,
                    company.place,
                )
            title = rnd.choice(self.titles)
            status = statuses[lead_id - 1]
            created = self.moment(120, 1)
            rows.append(
                self.stamp(
                    {
                        "id": lead_id,
                        "name": person.full(self.zh),
                        "company": company_name,
                        "title": self.pick((title[0], title[1])),
                        "email": self.people.email(person, domain),
                        "phone": self.people.mobile(place),
                        "source": _weighted(rnd, sources),
                        "status": status,
                        "rating": ratings[lead_id - 1],
                        "unqualified_reason": rnd.choice(reasons)
                        if status == "unqualified"
                        else None,
                        "industry": industry,
                        "city": place.city,
                        "campaign_id": None,
                        "owner_id": owners[lead_id - 1],
                        "notes": self.text("lead_notes")
                        if rnd.random() < 0.7
                        else None,
                        "converted_at": None,
                        "converted_account_id": None,
                        "converted_contact_id": None,
                        "converted_opportunity_id": None,
                    },
                    created,
                )
            )

    # ------------------------------------------------------------------ deals

    def line(self, opp_id: int, position: int, product: dict) -> dict:
        rnd = self.rnd
        low, high, times = QUANTITIES.get(product["unit"], (1, 12, 1))
        quantity = rnd.randint(low, high) * times
        discount = rnd.choice((0, 0, 0, 5, 10, 15))
        price = product["list_price"]
        # Cents, rounded half up like sandbox.crm.opportunities.
        total = (quantity * price * (100 - discount) + 50) // 100
        lines = self.tables["line_item"]
        row = {
            "id": len(lines) + 1,
            "opportunity_id": opp_id,
            "product_id": product["id"],
            "position": position,
            "quantity": quantity * 100,
            "unit_price": price,
            "discount": discount * 100,
            "total": total,
        }
        lines.append(row)
        return row

    def opportunities(self) -> None:
        from sandbox.models.crm.sales import DEFAULT_STAGES

        rnd = self.rnd
        spread = self.s.volumes["opportunities"]
        accounts = self.tables["account"]
        weight = {"customer": 4, "end_customer": 3, "channel": 4, "prospect": 2}
        account_weights = [weight.get(a["account_type"], 1) for a in accounts]
        cumulative = list(accumulate(account_weights))
        products = self.tables["product"]
        sources = self.weights("lead_sources", "lead_source")
        lost_reasons = self.codes("lost_reason")
        words = self.sentences["deal_names"][self.lang]
        open_codes = [s[0] for s in DEFAULT_STAGES if not s[5]]
        self.lines_of: dict[int, list[dict]] = defaultdict(list)
        opps = self.tables["opportunity"]
        deal_names: set[str] = set()
        horizon = self.s.horizon_days
        for code, *_rest in DEFAULT_STAGES:
            stage = self.stage_rows[code]
            for _ in range(spread.get(code, 0)):
                opp_id = len(opps) + 1
                pick = bisect(cumulative, rnd.randrange(cumulative[-1]))
                account = accounts[pick]
                if stage["is_won"] and account["account_type"] == "prospect":
                    # A company that bought from us is a customer by now.
                    account["account_type"] = "customer"
                    account["status"] = "active"
                    account["intention"] = None
                if stage["is_closed"]:
                    close = self.workday(
                        self.today - dt.timedelta(days=rnd.randrange(3, 330))
                    )
                    created = self.local(
                        close - dt.timedelta(days=rnd.randrange(20, 120)), 10, 0
                    )
                    touched = self.local(close, 16, rnd.randrange(60))
                else:
                    close = self.today + dt.timedelta(days=rnd.randrange(7, horizon))
                    # A few deals others own have gone quiet (early warning).
                    idle = (
                        rnd.randrange(40, 90)
                        if rnd.random() < 0.08
                        else rnd.randrange(1, 20)
                    )
                    created = self.moment(max(200, idle + 30), idle + 5)
                    touched = self.moment(idle + 1, idle)
                owner = account["owner_id"] or rnd.choice(self.sellers)
                if not stage["is_closed"] and touched < self.now - dt.timedelta(
                    days=30
                ):
                    owner = rnd.choice([s for s in self.sellers if s != self.me])
                amount = 0
                chosen = rnd.sample(products, rnd.choice((1, 1, 2, 2, 3)))
                if code in EARLY_STAGES and rnd.random() < 0.5:
                    # Early on a deal has an estimate, not product lines yet.
                    estimate = sum(p["list_price"] * rnd.randint(2, 12) for p in chosen)
                    amount = max(100_000, estimate // 100_000 * 100_000)
                else:
                    for position, product in enumerate(chosen, start=1):
                        row = self.line(opp_id, position, product)
                        self.lines_of[opp_id].append(row)
                        amount += row["total"]
                won, closed = stage["is_won"], stage["is_closed"]
                staff = self.contacts_of.get(account["id"], [])
                lost_reason = rnd.choice(lost_reasons) if closed and not won else None
                word = rnd.choice(words)
                name = base = (
                    f"{account['name']}{word}"
                    if self.zh
                    else f"{account['name']} – {word}"
                )
                repeat = 2
                while name in deal_names:  # one account, the same kind of deal
                    name = f"{base}（{repeat}）" if self.zh else f"{base} ({repeat})"
                    repeat += 1
                deal_names.add(name)
                opps.append(
                    self.stamp(
                        {
                            "id": opp_id,
                            "name": name,
                            "account_id": account["id"],
                            "contact_id": staff[0]["id"] if staff else None,
                            "amount": amount,
                            "close_date": close.isoformat(),
                            "stage_id": stage["id"],
                            "probability": stage["probability"],
                            "probability_manual": False,
                            "forecast_category": stage["forecast_category"],
                            "opportunity_type": "existing_business"
                            if account["account_type"] != "prospect"
                            else "new_business",
                            "lead_source": _weighted(rnd, sources),
                            "campaign_id": None,
                            "next_step": None
                            if closed
                            else rnd.choice(self.sentences["next_steps"][self.lang]),
                            "owner_id": owner,
                            "closed_on": close.isoformat() if closed else None,
                            "lost_reason": lost_reason,
                            "lost_to_id": None,
                            "last_activity_at": _ts(touched),
                            "description": None,
                        },
                        created,
                        touched,
                    )
                )
        self.plant_deals()
        for opp in opps:
            self.history(opp, open_codes)
            self.roles(opp)
        self.deal_competitors()

    def fact_params(self, kind: str) -> dict[str, Any] | None:
        return next((f for f in self.s.facts.values() if f["kind"] == kind), None)

    def plant_deals(self) -> None:
        """A deal of the student's that has gone quiet, and a deal lost to a
        competitor, whatever the draw gave."""
        rnd = self.rnd
        opps = self.tables["opportunity"]
        stages = self.tables["stage"]
        middle = {
            "needs_analysis",
            "value_proposition",
            "decision_makers",
            "perception_analysis",
            "proposal",
        }
        self.stalled_id = None
        stalled = self.fact_params("stalled_deal")
        candidates = [o for o in opps if stages[o["stage_id"] - 1]["code"] in middle]
        if stalled is not None and candidates:
            opp = rnd.choice(candidates)
            idle = stalled.get("idle_days", 45)
            touched = self.moment(idle + 15, idle + 1)
            created = min(
                dt.datetime.fromisoformat(opp["created_at"]),
                touched - dt.timedelta(days=rnd.randrange(20, 60)),
            )
            opp.update(
                owner_id=self.me,
                last_activity_at=_ts(touched),
                created_at=_ts(created),
                updated_at=_ts(touched),
            )
            self.stalled_id = opp["id"]
        lost = [o for o in opps if o["lost_reason"] is not None]
        if lost and not any(o["lost_reason"] == "competitor" for o in lost):
            rnd.choice(lost)["lost_reason"] = "competitor"

    def history(self, opp: dict, open_codes: list[str]) -> None:
        """The stages a deal went through, from Prospecting to where it is now."""
        rnd = self.rnd
        stage = self.tables["stage"][opp["stage_id"] - 1]
        if stage["is_closed"]:
            reached = (
                rnd.randrange(2, len(open_codes) + 1)
                if not stage["is_won"]
                else (len(open_codes))
            )
            path = [*open_codes[: max(1, reached - rnd.randrange(0, 3))], stage["code"]]
        else:
            path = open_codes[: open_codes.index(stage["code"]) + 1]
        start = dt.datetime.fromisoformat(opp["created_at"])
        end = dt.datetime.fromisoformat(opp["last_activity_at"])
        span = max((end - start).total_seconds(), 0)
        history = self.tables["opportunity_history"]
        for n, code in enumerate(path):
            at = (
                end
                if n == len(path) - 1
                else start + dt.timedelta(seconds=int(span * n / (len(path) - 1)))
            )
            row = self.stage_rows[code]
            history.append(
                {
                    "id": len(history) + 1,
                    "opportunity_id": opp["id"],
                    "at": _ts(at),
                    "actor": "system",
                    "stage_id": row["id"],
                    "amount": opp["amount"],
                    "probability": row["probability"],
                    "close_date": opp["close_date"],
                    "forecast_category": row["forecast_category"],
                }
            )

    def roles(self, opp: dict) -> None:
        staff = self.contacts_of.get(opp["account_id"], [])
        if not staff:
            return
        roles = self.tables["opportunity_contact_role"]
        for contact in staff[: self.rnd.randint(1, min(3, len(staff)))]:
            roles.append(
                {
                    "id": len(roles) + 1,
                    "opportunity_id": opp["id"],
                    "contact_id": contact["id"],
                    "role": contact["role"] or "other",
                }
            )

    def deal_competitors(self) -> None:
        rnd = self.rnd
        competitors = [c["id"] for c in self.tables["competitor"]]
        weights = [4 if c == self.key_competitor else 1 for c in competitors]
        share = self.s.volumes.get("competitor_share", 0.4)
        links = self.tables["opportunity_competitor"]
        for opp in self.tables["opportunity"]:
            stage = self.tables["stage"][opp["stage_id"] - 1]
            if stage["is_won"] and rnd.random() > share / 2:
                continue
            chosen = set()
            if opp["lost_reason"] == "competitor":
                first = not any(o["lost_to_id"] for o in self.tables["opportunity"])
                opp["lost_to_id"] = (
                    self.key_competitor
                    if first
                    else rnd.choices(competitors, weights)[0]
                )
                chosen.add(opp["lost_to_id"])
            elif rnd.random() < share:
                chosen.add(rnd.choices(competitors, weights)[0])
                if rnd.random() < 0.3:
                    chosen.add(rnd.choice(competitors))
            for competitor in sorted(chosen):
                links.append(
                    {
                        "id": len(links) + 1,
                        "opportunity_id": opp["id"],
                        "competitor_id": competitor,
                        "strengths": self.text("competitor_strengths"),
                        "weaknesses": self.text("competitor_weaknesses"),
                        "threat": rnd.choice(("low", "medium", "medium", "high")),
                        "created_at": opp["created_at"],
                        "updated_at": opp["created_at"],
                    }
                )

    def quotes(self) -> None:
        rnd = self.rnd
        wanted = self.s.volumes.get("quotes", 0)
        products = {p["id"]: p for p in self.tables["product"]}
        late = {"proposal", "negotiation", "closed_won"}
        candidates = [
            o
            for o in self.tables["opportunity"]
            if self.tables["stage"][o["stage_id"] - 1]["code"] in late
        ]
        quotes = self.tables["quote"]
        for opp in candidates[:wanted]:
            touched = dt.datetime.fromisoformat(opp["last_activity_at"]).date()
            issued = touched - dt.timedelta(days=rnd.randrange(0, 10))
            lines = self.lines_of[opp["id"]]
            quotes.append(
                self.stamp(
                    {
                        "id": len(quotes) + 1,
                        "opportunity_id": opp["id"],
                        "sequence": 1,
                        "number": f"Q-{opp['id']}-1",
                        "issued_on": issued.isoformat(),
                        "valid_until": (issued + dt.timedelta(days=30)).isoformat(),
                        "lines": [
                            {
                                "product": products[line["product_id"]]["name"],
                                "code": products[line["product_id"]]["code"],
                                "quantity": _money(line["quantity"]),
                                "unit_price": _money(line["unit_price"]),
                                "discount": _money(line["discount"]),
                                "total": _money(line["total"]),
                            }
                            for line in lines
                        ],
                        "total": sum(line["total"] for line in lines),
                    },
                    self.local(issued, 11, 0),
                )
            )

    # ------------------------------------------------------------------ service

    def articles(self) -> None:
        rnd = self.rnd
        for n, (category, en, zh, kw_en, kw_zh, body_en, body_zh) in enumerate(
            self.catalogue["articles"], start=1
        ):
            created = self.moment(self.s.history_days, 60)
            status = ARTICLE_STATES[(n - 1) % len(ARTICLE_STATES)]
            self.tables["article"].append(
                self.stamp(
                    {
                        "id": n,
                        "title": self.pick((en, zh)),
                        "category": category,
                        "keywords": self.pick((kw_en, kw_zh)),
                        "body": self.pick((body_en, body_zh)),
                        "status": status,
                        "owner_id": rnd.choice(self.agents),
                        "published_at": _ts(created + dt.timedelta(days=2))
                        if status == "published"
                        else None,
                    },
                    created,
                )
            )

    def cases(self) -> None:
        from sandbox.crm.cases import sla
        from sandbox.crm.cases.service import (
            DEFAULT_REOPEN_DAYS,
            DEFAULT_TARGETS,
            ServiceSettings,
        )

        rnd = self.rnd
        settings = ServiceSettings(
            sla.WorkCalendar(), DEFAULT_TARGETS, DEFAULT_REOPEN_DAYS
        )
        weighted = [path for path, weight in CASE_PATHS for _ in range(weight)]
        priorities = self.s.volumes.get("case_priorities") or {
            "p1": 1,
            "p2": 2,
            "p3": 3,
            "p4": 1,
        }
        accounts = [
            a for a in self.tables["account"] if a["account_type"] != "prospect"
        ] or self.tables["account"]
        published = [a for a in self.tables["article"] if a["status"] == "published"]
        queues = self.codes("case_queue")
        overdue = next(
            (f for f in self.s.facts.values() if f["kind"] == "overdue_case"), None
        )
        escalated = any(f["kind"] == "escalated_case" for f in self.s.facts.values())
        n_cases = self.s.volumes["cases"]
        self.overdue_id = rnd.randrange(1, n_cases + 1) if overdue else None
        others = [n for n in range(1, n_cases + 1) if n != self.overdue_id]
        self.escalated_id = rnd.choice(others) if escalated and others else None
        for case_id in range(1, n_cases + 1):
            path = rnd.choice(weighted)
            priority = _weighted(rnd, priorities)
            days = 60 if "close" in path else 20
            opened = self.now - dt.timedelta(minutes=rnd.randrange(60, days * 24 * 60))
            if case_id == self.overdue_id:
                path = ("accept", "assign", "start")
                priority = overdue.get("priority", "p2")
                opened = self.local(
                    self.workday(self.today - dt.timedelta(days=5)), 9, 30
                )
            if case_id == self.escalated_id:
                path = ("accept", "assign", "start", "escalate")
            self.case(
                case_id, path, priority, opened, accounts, published, queues, settings
            )

    def case(
        self, case_id, path, priority, opened, accounts, published, queues, settings
    ):
        from sandbox.crm.cases import sla
        from sandbox.crm.cases.service import PREVIOUS, TRANSITIONS, refresh_sla
        from sandbox.models.crm.service import Case

        rnd = self.rnd
        zone = self.s.timezone
        account = rnd.choice(accounts)
        staff = self.contacts_of.get(account["id"], [])
        subjects = self.catalogue["case_subjects"]
        if case_id in (self.overdue_id, self.escalated_id):  # something urgent
            subjects = [x for x in subjects if x[2] in ("fault", "complaint")]
        subject, subject_zh, case_type = rnd.choice(subjects)
        products = self.tables["product"]
        # Plain objects with the model's fields: the SLA rules read and set them
        # as they do on a Case, without the ORM's bookkeeping.
        case = SimpleNamespace(**dict.fromkeys(Case.__table__.columns.keys()))
        case.__dict__.update(
            id=case_id,
            subject=self.pick((subject, subject_zh)),
            case_type=case_type,
            origin=rnd.choice(("phone", "phone", "email", "web", "on_site")),
            priority=priority,
            queue=rnd.choice(queues),
            account_id=account["id"],
            contact_id=rnd.choice(staff)["id"] if staff else None,
            product_id=rnd.choice(products)["id"] if rnd.random() < 0.5 else None,
            description=self.text("case_descriptions") if rnd.random() < 0.6 else None,
            status="new",
            escalation_level=0,
            opened_at=opened,
        )
        case.number = f"CS-{sla.to_local(opened, zone).year}-{case_id:06d}"
        case.events = [
            SimpleNamespace(
                id=None, action="create", from_status=None, to_status="new", at=opened
            )
        ]
        moment, status, previous = opened, "new", None
        for action in path:
            transition = TRANSITIONS[action]
            if status not in transition.sources:
                raise ValueError(f"{action} is not allowed from {status}")
            target = transition.target
            if target == PREVIOUS:
                target = previous or "in_progress"
            if target in ("pending_customer", "suspended"):
                previous = status
            target = target or status
            # A case left waiting for the customer was answered promptly: its
            # clock stopped before any deadline passed.
            most = 30 if path[-1] == "request_info" else 4 * 60
            moment += dt.timedelta(minutes=rnd.randrange(5, most))
            moment = min(moment, self.now - dt.timedelta(minutes=5))
            if action == "assign":
                case.owner_id = rnd.choice(self.agents)
            elif action == "escalate":
                case.escalated_from_id = case.owner_id
                case.owner_id = self.manager
                case.escalation_level = 1
            elif action == "resolve":
                case.resolved_at = moment
                if published and rnd.random() < 0.5:
                    article = rnd.choice(published)
                    case.article_id = article["id"]
                    case.resolution = article["title"]
                else:
                    case.resolution = self.pick(
                        rnd.choice(self.catalogue["resolutions"])
                    )
            elif action == "callback":
                case.satisfaction = rnd.choice((3, 4, 4, 5, 5))
                case.callback_comment = self.text("callback_comments")
            elif action == "close":
                case.closed_at = moment
            elif action == "analyze":
                case.analysis = self.text("analyses")
            if action in ("request_info", "suspend"):
                case.resume_status = status
            if action != "cancel" and case.responded_at is None:
                case.responded_at = moment
            case.events.append(
                SimpleNamespace(
                    id=None,
                    action=action,
                    from_status=status,
                    to_status=target,
                    at=moment,
                )
            )
            status = target
        case.status = status
        if case.owner_id is None and status not in ("new", "cancelled"):
            case.owner_id = rnd.choice(self.agents)
        refresh_sla(case, settings, zone)
        row = {
            column.key: getattr(case, column.key)
            for column in Case.__table__.columns
            if column.key not in ("created_at", "updated_at")
        }
        for key, value in row.items():
            if isinstance(value, dt.datetime):
                row[key] = _ts(value)
        self.tables["service_case"].append(self.stamp(row, opened, moment))
        events = self.tables["service_case_event"]
        for event in case.events:
            events.append(
                {
                    "id": len(events) + 1,
                    "case_id": case_id,
                    "at": _ts(event.at),
                    "action": event.action,
                    "from_status": event.from_status,
                    "to_status": event.to_status,
                    "actor": "system",
                }
            )

    # ------------------------------------------------------------------ marketing

    def campaigns(self) -> None:
        """Past, running and planned campaigns; the leads a campaign brought in come
        from its source and are its members, and deals from them name it."""
        rnd = self.rnd
        n = self.s.volumes.get("campaigns", 0)
        if not n or "campaign" not in self.known_tables:
            return
        types = self.codes("campaign_type", tuple(CAMPAIGN_TYPES))
        sources = set(self.codes("lead_source"))
        topics = self.sentences["campaign_topics"][self.lang]
        labels = self.type_labels("campaign_type")
        marketers = [
            n for n, m in enumerate(self.s.team, start=1) if m.role == "marketing"
        ] or [self.manager]
        leads = self.tables["lead"]
        opps = self.tables["opportunity"]
        contacts = self.tables["contact"]
        members = self.tables["campaign_member"]
        used_leads: set[int] = set()
        span = self.s.history_days
        for campaign_id in range(1, n + 1):
            # Evenly through the history, the last one or two still to come.
            share = (campaign_id - 0.5) / n
            start = self.today - dt.timedelta(days=int(span * (1 - share) * 0.9))
            if campaign_id == n:
                start = self.today + dt.timedelta(days=rnd.randrange(10, 40))
            length = rnd.randrange(7, 45)
            end = start + dt.timedelta(days=length)
            status = (
                "planning"
                if start > self.today
                else "active"
                if end >= self.today
                else "completed"
            )
            kind = rnd.choice(types)
            source = CAMPAIGN_SOURCES.get(kind, "other")
            source = source if source in sources else None
            budget = rnd.randrange(20, 200) * 100_000
            expected = budget * rnd.randrange(70, 100) // 100
            actual = (
                expected * rnd.randrange(80, 115) // 100
                if status == "completed"
                else expected * rnd.randrange(20, 60) // 100
                if status == "active"
                else None
            )
            topic = rnd.choice(topics)
            label = labels.get(kind, kind)
            name = (
                f"{start.year}年{start.month}月{label}：{topic}"
                if self.zh
                else f"{topic} ({label}, {start:%b %Y})"
            )
            row = {
                "id": campaign_id,
                "name": name,
                "campaign_type": kind,
                "status": status,
                "start_date": start.isoformat(),
                "end_date": end.isoformat(),
                "budget": budget,
                "expected_cost": expected,
                "actual_cost": actual,
                "expected_revenue": budget * rnd.randrange(3, 10),
                "expected_responses": rnd.randrange(10, 60),
                "owner_id": rnd.choice(marketers),
                "description": None,
            }
            created = self.local(
                self.workday(min(start, self.today) - dt.timedelta(days=20)), 9, 0
            )
            self.tables["campaign"].append(self.stamp(row, created))
            if status == "planning":
                invited = rnd.sample(contacts, min(len(contacts), rnd.randrange(5, 15)))
                for contact in invited:
                    self.member(campaign_id, None, contact["id"], "planned", None, None)
                continue
            sent = self.local(self.workday(start), 9, 30)
            # Leads created during the campaign came from it.
            window = [
                lead
                for lead in leads
                if lead["id"] not in used_leads
                and start.isoformat() <= lead["created_at"][:10] <= end.isoformat()
            ]
            for lead in window[: rnd.randrange(2, 7)]:
                used_leads.add(lead["id"])
                lead["campaign_id"] = campaign_id
                if source:
                    lead["source"] = source
                day = dt.date.fromisoformat(lead["created_at"][:10])
                self.member(campaign_id, lead["id"], None, "responded", None, day)
            invited = rnd.sample(contacts, min(len(contacts), rnd.randrange(10, 30)))
            for contact in invited:
                roll = rnd.random()
                if roll < 0.35:
                    day = min(end, self.today) - dt.timedelta(
                        days=rnd.randrange(0, max(1, min(length, 10)))
                    )
                    day = max(day, start)
                    self.member(
                        campaign_id, None, contact["id"], "responded", sent, day
                    )
                else:
                    self.member(campaign_id, None, contact["id"], "sent", sent, None)
            # Deals opened after the campaign from its responders name it.
            responders = {
                m["contact_id"]
                for m in members
                if m["campaign_id"] == campaign_id
                and m["contact_id"]
                and m["status"] == "responded"
            }
            accounts = {c["account_id"] for c in contacts if c["id"] in responders}
            last = (start + dt.timedelta(days=CAMPAIGN_DEAL_DAYS)).isoformat()
            credited = [
                opp
                for opp in opps
                if opp["campaign_id"] is None
                and opp["account_id"] in accounts
                and start.isoformat() <= opp["created_at"][:10] <= last
            ]
            for opp in credited[:CAMPAIGN_DEALS]:
                opp["campaign_id"] = campaign_id
                if source:
                    opp["lead_source"] = source

    def member(self, campaign_id, lead_id, contact_id, status, sent, responded):
        members = self.tables["campaign_member"]
        created = sent or self.now - dt.timedelta(days=1)
        members.append(
            self.stamp(
                {
                    "id": len(members) + 1,
                    "campaign_id": campaign_id,
                    "lead_id": lead_id,
                    "contact_id": contact_id,
                    "status": status,
                    "sent_at": _ts(sent) if sent else None,
                    "responded_on": responded.isoformat() if responded else None,
                },
                created,
            )
        )

    def type_labels(self, key: str) -> dict[str, str]:
        from sandbox.crm.codes import CODE_LISTS

        extra = {c: pair for c, pair in data.extra_codes().get(key, {}).items()}
        labels = {code: self.pick(pair) for code, pair in extra.items()}
        if key == "campaign_type":
            labels.update({c: self.pick(pair) for c, pair in CAMPAIGN_TYPES.items()})
        known = CODE_LISTS.get(key)
        for code in known or ():
            labels[code.code] = code.zh if self.zh else code.en
        return labels

    # ------------------------------------------------------------------ activities

    def activities(self) -> None:
        """Calls, meetings, tasks and e-mails on working days: done in the past
        (each open deal's last activity is one), planned ahead, a few overdue."""
        if "activity" not in self.known_tables:
            return
        rnd = self.rnd
        n = self.s.volumes.get("activities", 0)
        kinds = dict(ACTIVITY_KINDS)
        subjects = self.sentences["activity_subjects"]
        stages = self.tables["stage"]
        opps = [
            o
            for o in self.tables["opportunity"]
            if not stages[o["stage_id"] - 1]["is_closed"]
        ]
        staff_of = self.contacts_of
        # The last activity of every open deal.
        for opp in opps:
            at = dt.datetime.fromisoformat(opp["last_activity_at"])
            kind = rnd.choice(("call", "meeting"))
            self.activity(
                kind,
                at,
                "done",
                opp["owner_id"] or self.me,
                "opportunities",
                opp["id"],
                staff_of.get(opp["account_id"], []),
                rnd.choice(subjects[kind][self.lang]),
            )
        accounts = self.tables["account"]
        while len(self.tables["activity"]) < n:
            kind = _weighted(rnd, kinds)
            account = rnd.choice(accounts)
            owner = self.me if rnd.random() < 0.6 else rnd.choice(self.sellers)
            subject = rnd.choice(subjects[kind][self.lang])
            if rnd.random() < 0.7:  # done, in the past
                at = self.moment(120, 1)
                status = "done" if rnd.random() < 0.9 else "cancelled"
            else:  # planned, in the coming weeks, on a working day
                day = self.today + dt.timedelta(days=rnd.randrange(1, 30))
                while day.weekday() >= 5:
                    day += dt.timedelta(days=1)
                at = self.local(day, rnd.randrange(9, 17), rnd.choice((0, 30)))
                status = "planned"
            staff = staff_of.get(account["id"], [])
            if kind == "email" and staff:  # an e-mail goes to a person
                related = ("contacts", rnd.choice(staff)["id"])
            else:
                related = ("accounts", account["id"])
            self.activity(kind, at, status, owner, *related, staff, subject)
        # Tasks of the student's that are past their due date.
        for _ in range(3):
            account = rnd.choice(accounts)
            due = self.workday(self.today - dt.timedelta(days=rnd.randrange(2, 10)))
            self.activity(
                "task", self.local(due, 9, 0), "planned", self.me, "accounts",
                account["id"], [], rnd.choice(subjects["task"][self.lang]),
            )  # fmt: skip

    def activity(
        self, kind, at, status, owner, related_type, related_id, staff, subject
    ):
        rnd = self.rnd
        rows = self.tables["activity"]
        activity_id = len(rows) + 1
        timed = kind in ("call", "meeting", "event")
        minutes = {"call": 15, "meeting": 60, "event": 240}.get(kind, 0)
        row = {
            "id": activity_id,
            "kind": kind,
            "subject": subject,
            # An e-mail is sent at one moment; a task only has its due date.
            "starts_at": _ts(at) if kind != "task" else None,
            "ends_at": _ts(at + dt.timedelta(minutes=minutes)) if timed else None,
            "all_day": False,
            "due_date": at.date().isoformat() if kind == "task" else None,
            "status": status,
            "priority": rnd.choice(("normal", "normal", "high", "low")),
            "communication_type": None,
            "owner_id": owner,
            "related_type": related_type,
            "related_id": related_id,
            "location": None,
            "description": None,
            "outcome": self.text("activity_outcomes") if status == "done" else None,
            "remind_at": None,
            "completed_at": _ts(at + dt.timedelta(minutes=minutes))
            if status == "done"
            else None,
        }
        if kind == "meeting" and staff:
            row["location"] = self.tables["account"][staff[0]["account_id"] - 1][
                "address"
            ]
        created = min(at - dt.timedelta(days=rnd.randrange(1, 10)), self.now)
        rows.append(self.stamp(row, created, at if status == "done" else created))
        attendees = self.tables["activity_attendee"]
        if kind == "meeting":
            people = [("colleague_id", owner)] + [
                ("contact_id", c["id"]) for c in staff[: rnd.randint(1, 2)]
            ]
            for key, value in people:
                attendees.append(
                    {
                        "id": len(attendees) + 1,
                        "activity_id": activity_id,
                        "colleague_id": value if key == "colleague_id" else None,
                        "contact_id": value if key == "contact_id" else None,
                    }
                )

    def diary(self) -> None:
        """The student's notes for the last working days."""
        if "diary_entry" not in self.known_tables:
            return
        day, written = self.today - dt.timedelta(days=1), 0
        while written < self.s.volumes.get("diary_days", 0):
            if day.weekday() < 5:
                rows = self.tables["diary_entry"]
                rows.append(
                    self.stamp(
                        {
                            "id": len(rows) + 1,
                            "day": day.isoformat(),
                            "notes": self.text("diary_notes"),
                        },
                        self.local(day, 17, 45),
                    )
                )
                written += 1
            day -= dt.timedelta(days=1)

    # ------------------------------------------------------------------ mailbox

    def mailbox(self) -> None:
        """Templates; every e-mail activity done is a sent message; an e-mail
        campaign's sent and responded members got its message, responders
        replied."""
        if not {"email_template", "email_message"} <= self.known_tables:
            return
        rnd = self.rnd
        templates = self.tables["email_template"]
        for name, subject, body in self.sentences["email_templates"][self.lang]:
            templates.append(
                self.stamp(
                    {
                        "id": len(templates) + 1,
                        "name": name,
                        "subject": subject,
                        "body": body,
                    },
                    self.start,
                )
            )
        colleagues = {c["id"]: c for c in self.tables["colleague"]}
        contacts = {c["id"]: c for c in self.tables["contact"]}
        accounts = self.tables["account"]
        messages = self.tables["email_message"]

        def send(contact, at, sender, subject, body, **links) -> dict:
            account = accounts[contact["account_id"] - 1]
            name = self.full_name(contact)
            row = {
                "id": len(messages) + 1,
                "direction": "out",
                "to_name": name,
                "to_address": contact["email"],
                "from_address": colleagues[sender]["email"] or "",
                "subject": subject,
                "body": body.format(name=name, company=account["name"]),
                "sent_at": _ts(at),
                "lead_id": None,
                "contact_id": contact["id"],
                "campaign_id": None,
                "template_id": None,
                "reply_to_id": None,
                **links,
            }
            messages.append(self.stamp(row, at))
            return row

        for activity in self.tables["activity"]:
            if (activity["kind"], activity["status"], activity["related_type"]) != (
                "email",
                "done",
                "contacts",
            ):
                continue
            template = rnd.choice(templates)
            send(
                contacts[activity["related_id"]],
                dt.datetime.fromisoformat(activity["starts_at"]),
                activity["owner_id"] or self.me,
                activity["subject"],
                template["body"],
                template_id=template["id"],
            )
        invitation = templates[1]
        campaigns = {
            c["id"]: c for c in self.tables["campaign"] if c["campaign_type"] == "email"
        }
        for member in self.tables["campaign_member"]:
            campaign = campaigns.get(member["campaign_id"])
            if campaign is None or not member["contact_id"] or not member["sent_at"]:
                continue
            contact = contacts[member["contact_id"]]
            sender = campaign["owner_id"] or self.me
            sent = send(
                contact,
                dt.datetime.fromisoformat(member["sent_at"]),
                sender,
                campaign["name"],
                invitation["body"],
                campaign_id=campaign["id"],
                template_id=invitation["id"],
            )
            if member["responded_on"]:
                day = dt.date.fromisoformat(member["responded_on"])
                at = max(
                    self.local(day, 11, 0), dt.datetime.fromisoformat(sent["sent_at"])
                )
                reply = send(
                    contact,
                    at,
                    sender,
                    ("回复：" if self.zh else "Re: ") + campaign["name"],
                    self.text("email_replies"),
                    campaign_id=campaign["id"],
                    reply_to_id=sent["id"],
                    direction="in",
                )
                # A reply comes from the contact, to the one who wrote.
                reply.update(
                    from_address=contact["email"],
                    to_address=sent["from_address"],
                    to_name=colleagues[sender]["name"],
                )

    # ------------------------------------------------------------------ documents

    def documents(self) -> None:
        """A small file tree: a product sheet per product, and a proposal for each
        quoted deal, attached to its record (plain text, so any browser shows it)."""
        if not {"folder", "document", "document_blob"} <= self.known_tables:
            return
        import hashlib

        folders = self.tables["folder"]
        names = ("产品资料", "销售方案") if self.zh else ("Product sheets", "Proposals")
        for name in names:
            folders.append(
                self.stamp(
                    {"id": len(folders) + 1, "name": name, "parent_id": None},
                    self.start,
                )
            )
        blobs, documents = self.tables["document_blob"], self.tables["document"]
        currency = self.s.currency

        def attach(folder, name, text, entity, record_id, at) -> None:
            data = text.encode("utf-8")
            blobs.append({"id": len(blobs) + 1, "data": data})
            documents.append(
                self.stamp(
                    {
                        "id": len(documents) + 1,
                        "name": name,
                        "folder_id": folder,
                        "content_type": "text/plain",
                        "size": len(data),
                        "sha256": hashlib.sha256(data).hexdigest(),
                        "description": None,
                        "entity": entity,
                        "record_id": record_id,
                        "blob_id": blobs[-1]["id"],
                    },
                    at,
                )
            )

        for product in self.tables["product"]:
            label = (
                ("产品", "代码", "单价") if self.zh else ("Product", "Code", "Price")
            )
            text = (
                f"{label[0]}: {product['name']}\n{label[1]}: {product['code']}\n"
                f"{label[2]}: {_money(product['list_price'])} {currency}\n"
            )
            attach(
                1,
                f"{product['code']}.txt",
                text,
                "product",
                product["id"],
                dt.datetime.fromisoformat(product["created_at"]),
            )
        products = {p["id"]: p for p in self.tables["product"]}
        for quote in self.tables["quote"]:
            opp = self.tables["opportunity"][quote["opportunity_id"] - 1]
            lines = "\n".join(
                f"- {products[line['product_id']]['name']} × "
                f"{_money(line['quantity'])}: {_money(line['total'])} {currency}"
                for line in self.lines_of[opp["id"]]
            )
            title = "方案" if self.zh else "Proposal"
            total = f"= {_money(opp['amount'])} {currency}"
            text = f"{title}: {opp['name']}\n\n{lines}\n\n{total}\n"
            attach(
                2,
                f"{quote['number']}.txt",
                text,
                "opportunity",
                opp["id"],
                dt.datetime.fromisoformat(quote["created_at"]),
            )

    # ------------------------------------------------------------------ forecasts

    def month_start(self, months: int) -> dt.date:
        """The first day of the month ``months`` from this one (negative: before)."""
        index = self.today.year * 12 + self.today.month - 1 + months
        return dt.date(index // 12, index % 12 + 1, 1)

    def quotas(self) -> None:
        """Monthly quotas for every salesperson, six months back to three ahead, a
        little above what they have been winning; the student's forecasts for the
        last three months as submitted on each month's first working day."""
        if not {"quota", "forecast_submission"} <= self.known_tables:
            return
        rnd = self.rnd
        stages = self.tables["stage"]
        opps = self.tables["opportunity"]
        won: Counter[int] = Counter()
        for opp in opps:
            if stages[opp["stage_id"] - 1]["is_won"] and opp["owner_id"]:
                won[opp["owner_id"]] += opp["amount"]
        months = max(1, self.s.history_days // 30)
        quota_of: dict[tuple[int, dt.date], int] = {}
        quotas = self.tables["quota"]
        created = self.local(self.workday(self.month_start(-6)), 9, 0)
        for seller in self.sellers:
            base = (
                max(won[seller] // months, 10_000_00) * rnd.randrange(105, 130) // 100
            )
            base = base // 100_000 * 100_000 or 100_000
            for offset in range(-6, 4):
                start = self.month_start(offset)
                amount = base * rnd.choice((90, 100, 100, 110)) // 100
                quota_of[(seller, start)] = amount
                quotas.append(
                    self.stamp(
                        {
                            "id": len(quotas) + 1,
                            "colleague_id": seller,
                            "period_kind": "month",
                            "start": start.isoformat(),
                            "amount": amount,
                        },
                        created,
                    )
                )
        submissions = self.tables["forecast_submission"]
        # The team's forecast for the last three months and this one, and the
        # student's own for this month, each as it stood on the month's first
        # working day: deals then open count by their category (won ones were in
        # commit, lost ones in best case), amounts frozen.
        for offset, owner in (
            (-3, None),
            (-2, None),
            (-1, None),
            (0, None),
            (0, self.me),
        ):
            start, end = self.month_start(offset), self.month_start(offset + 1)
            day = start
            while day.weekday() >= 5:
                day += dt.timedelta(days=1)
            submitted = self.local(day, 10, 30)
            figures = Counter()
            for opp in opps:
                if not start.isoformat() <= opp["close_date"] < end.isoformat():
                    continue
                if owner is not None and opp["owner_id"] != owner:
                    continue
                stage = stages[opp["stage_id"] - 1]
                amount = opp["amount"]
                if stage["is_won"] and opp["closed_on"] < day.isoformat():
                    figures["closed"] += amount
                    continue
                category = (
                    "commit"
                    if stage["is_won"]
                    else "best_case"
                    if stage["is_closed"]
                    else stage["forecast_category"]
                )
                figures["pipeline"] += amount
                figures["weighted"] += amount * (stage["probability"] or 40) // 100
                if category == "commit":
                    figures["commit"] += amount
                if category in ("commit", "best_case"):
                    figures["best_case"] += amount
            commit = figures["closed"] + figures["commit"]
            adjustment = rnd.choice((0, 0, commit // 10, -(commit // 10))) // 100 * 100
            quota = (
                sum(quota_of[(seller, start)] for seller in self.sellers)
                if owner is None
                else quota_of[(owner, start)]
            )
            submissions.append(
                self.stamp(
                    {
                        "id": len(submissions) + 1,
                        "period_kind": "month",
                        "period_start": start.isoformat(),
                        "period_end": (end - dt.timedelta(days=1)).isoformat(),
                        "period_label": f"{start:%Y-%m}",
                        "owner_id": owner,
                        "closed": figures["closed"],
                        "commit_amount": commit,
                        "best_case": commit + figures["best_case"] - figures["commit"],
                        "pipeline": figures["closed"] + figures["pipeline"],
                        "weighted_pipeline": figures["closed"] + figures["weighted"],
                        "quota": quota,
                        "adjustment": adjustment,
                        "forecast": commit + adjustment,
                        "reason": self.text("forecast_reasons") if adjustment else None,
                        "comment": None,
                        "submitted_at": _ts(submitted),
                    },
                    submitted,
                )
            )

    # ------------------------------------------------------------------ after-sales

    def contracts(self) -> None:
        """Each won deal became a contract (its lines, signed on the close date) and
        an order, except the two won last, whose contracts are still to be made;
        delivered orders are invoiced and mostly paid, one invoice is overdue. A
        deal in negotiation has a draft contract."""
        if not {"contract", "sales_order"} <= self.known_tables:
            return
        rnd = self.rnd
        stages = self.tables["stage"]
        opps = self.tables["opportunity"]
        won = sorted(
            (o for o in opps if stages[o["stage_id"] - 1]["is_won"]),
            key=lambda o: (o["close_date"], o["id"]),
        )[:-2]
        drafts = [
            o for o in opps if stages[o["stage_id"] - 1]["code"] == "negotiation"
        ][:2]
        terms = self.codes(
            "payment_terms", ("prepaid", "on_delivery", "net30", "net60")
        )
        methods = self.codes("payment_method", ("bank_transfer", "online"))
        sequence: Counter[str] = Counter()

        def number(prefix: str, year: int) -> str:
            sequence[f"{prefix}{year}"] += 1
            return f"{prefix}-{year}-{sequence[f'{prefix}{year}']:04d}"

        self.overdue_invoice_id = None
        for opp in [*won, *drafts]:
            signed = dt.date.fromisoformat(opp["close_date"])
            draft = opp in drafts
            start = signed if not draft else dt.date.fromisoformat(opp["close_date"])
            end = start + dt.timedelta(days=365)
            status = "draft" if draft else "completed" if end < self.today else "active"
            staff = self.contacts_of.get(opp["account_id"], [])
            contract_id = len(self.tables["contract"]) + 1
            created = self.local(self.workday(signed - dt.timedelta(days=3)), 10, 0)
            if draft:
                created = self.moment(10, 1)
            row = {
                "id": contract_id,
                "number": number("HT", (created if draft else signed).year),
                "title": opp["name"],
                "account_id": opp["account_id"],
                "contact_id": staff[0]["id"] if staff else None,
                "opportunity_id": opp["id"],
                "owner_id": opp["owner_id"],
                "status": status,
                "signed_on": None if draft else signed.isoformat(),
                "start_date": start.isoformat(),
                "end_date": end.isoformat(),
                "amount": opp["amount"],
                "payment_terms": rnd.choice(terms),
                "approver_id": None if draft else self.manager,
                "decided_at": None
                if draft
                else _ts(
                    self.local(self.workday(signed - dt.timedelta(days=1)), 15, 0)
                ),
            }
            self.tables["contract"].append(self.stamp(row, created))
            lines = self.lines_of.get(opp["id"], [])
            for line in lines:
                contract_lines = self.tables["contract_line"]
                contract_lines.append(
                    {
                        **{k: line[k] for k in ("product_id", "position", "quantity")},
                        **{k: line[k] for k in ("unit_price", "discount", "total")},
                        "id": len(contract_lines) + 1,
                        "contract_id": contract_id,
                    }
                )
            if not draft:
                self.order(row, opp, lines, signed, number, methods)
        if self.overdue_invoice_id is None and self.tables["invoice"]:
            self.make_overdue()

    def make_overdue(self) -> None:
        """No invoice happened to be overdue: the latest one is, unpaid."""
        invoice = self.tables["invoice"][-1]
        order = self.tables["sales_order"][invoice["order_id"] - 1]
        order["status"] = "delivered"
        self.tables["payment"] = [
            p for p in self.tables["payment"] if p["order_id"] != order["id"]
        ]
        for n, payment in enumerate(self.tables["payment"], start=1):
            payment["id"] = n
        due = self.today - dt.timedelta(days=self.rnd.randrange(3, 20))
        invoice["due_on"] = max(
            dt.date.fromisoformat(invoice["issued_on"]), due
        ).isoformat()
        self.overdue_invoice_id = invoice["id"]

    def order(self, contract, opp, lines, signed, number, methods) -> None:
        rnd = self.rnd
        ordered = self.workday(signed + dt.timedelta(days=rnd.randrange(1, 8)))
        delivery = ordered + dt.timedelta(days=rnd.randrange(14, 45))
        delivered = delivery <= self.today - dt.timedelta(days=2)
        orders = self.tables["sales_order"]
        order_id = len(orders) + 1
        paid_up = delivered and delivery < self.today - dt.timedelta(days=75)
        order = {
            "id": order_id,
            "number": number("SO", ordered.year),
            "account_id": contract["account_id"],
            "contract_id": contract["id"],
            "opportunity_id": opp["id"],
            "owner_id": contract["owner_id"],
            "status": "closed"
            if paid_up
            else "delivered"
            if delivered
            else "confirmed",
            "order_date": ordered.isoformat(),
            "delivery_date": delivery.isoformat(),
            "delivered_on": delivery.isoformat() if delivered else None,
            "amount": contract["amount"],
        }
        orders.append(self.stamp(order, self.local(ordered, 11, 0)))
        for line in lines:
            order_lines = self.tables["order_line"]
            order_lines.append(
                {
                    **{k: line[k] for k in ("product_id", "position", "quantity")},
                    **{k: line[k] for k in ("unit_price", "discount", "total")},
                    "id": len(order_lines) + 1,
                    "order_id": order_id,
                }
            )
        if not delivered:
            return
        days = {"net60": 60, "prepaid": 0, "on_delivery": 7}.get(
            contract["payment_terms"], 30
        )
        invoices = self.tables["invoice"]
        due = delivery + dt.timedelta(days=days)
        invoices.append(
            self.stamp(
                {
                    "id": len(invoices) + 1,
                    "order_id": order_id,
                    "number": number("INV", delivery.year),
                    "issued_on": delivery.isoformat(),
                    "due_on": due.isoformat(),
                    "amount": order["amount"],
                },
                self.local(self.workday(delivery), 16, 0),
            )
        )
        overdue = due < self.today and not paid_up and self.overdue_invoice_id is None
        if overdue:
            self.overdue_invoice_id = invoices[-1]["id"]
            return  # nothing received yet
        if due >= self.today and not paid_up:
            return  # not due yet
        received = min(due - dt.timedelta(days=rnd.randrange(0, 10)), self.today)
        received = max(received, delivery)
        payments = self.tables["payment"]
        payments.append(
            self.stamp(
                {
                    "id": len(payments) + 1,
                    "order_id": order_id,
                    "received_on": received.isoformat(),
                    "amount": order["amount"],
                    "method": rnd.choice(methods),
                    "reference": f"{rnd.randrange(10**9, 10**10)}",
                },
                self.local(self.workday(received), 14, 0),
            )
        )

    # ------------------------------------------------------------------ run

    def run(self) -> tuple[dict[str, Rows], dict[str, dict[str, Any]]]:
        from sandbox.scenarios import planting

        self.team()
        self.stages()
        self.code_lists()
        self.catalogue_rows()
        self.accounts()
        self.contacts()
        self.leads()
        self.opportunities()
        self.quotes()
        self.articles()
        self.cases()
        self.campaigns()
        self.activities()
        self.diary()
        self.contracts()
        self.quotas()
        self.mailbox()
        self.documents()
        self.facts = planting.plant(self)
        return dict(self.tables), self.facts


def generate(
    scenario: Scenario, seed: int, today: dt.date
) -> tuple[dict[str, Rows], dict[str, dict[str, Any]]]:
    """Every row of ``scenario``'s variant ``seed`` as built on ``today``."""
    return Generator(scenario, seed, today).run()
