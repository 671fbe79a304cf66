"""Planted facts: the named records lessons refer to, with what a lesson needs.

The generator shapes some records on purpose (a deal of the student's gone quiet, a
case past its deadline, a deal lost to the key competitor); the rest are picked from
the rows with the variant's random generator. Each fact is a small JSON-ready dict
(amounts as decimal strings, dates as ISO text), stored in the tenant's
``tenant_info`` under ``facts``. ``scenarios/README.md`` lists every property.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.scenarios.generate import Generator

Fact = dict[str, Any]


def _money(cents: int | None) -> str | None:
    return None if cents is None else f"{cents / 100:.2f}"


class Planter:
    def __init__(self, gen: Generator) -> None:
        self.gen = gen
        self.t = gen.tables
        self.accounts = {a["id"]: a for a in self.t["account"]}
        self.contacts = {c["id"]: c for c in self.t["contact"]}
        self.colleagues = {c["id"]: c for c in self.t["colleague"]}
        self.stages = {s["id"]: s for s in self.t["stage"]}
        self.products = {p["id"]: p for p in self.t["product"]}
        self.competitors = {c["id"]: c for c in self.t["competitor"]}

    # ------------------------------------------------------------ small pieces

    def owner(self, colleague_id: int | None) -> str | None:
        return self.colleagues[colleague_id]["name"] if colleague_id else None

    def contact(self, contact_id: int | None) -> Fact | None:
        if contact_id is None:
            return None
        c = self.contacts[contact_id]
        return {
            "id": c["id"],
            "name": self.gen.full_name(c),
            "title": c["title"],
            "email": c["email"],
            "mobile": c["mobile"],
        }

    def deal(self, opp: dict) -> Fact:
        stage = self.stages[opp["stage_id"]]
        account = self.accounts[opp["account_id"]]
        return {
            "id": opp["id"],
            "name": opp["name"],
            "account_id": account["id"],
            "account": account["name"],
            "stage": stage["code"],
            "stage_name": stage["name_zh"] if self.gen.zh else stage["name"],
            "amount": _money(opp["amount"]),
            "close_date": opp["close_date"],
            "probability": opp["probability"],
            "owner": self.owner(opp["owner_id"]),
            "contact": self.contact(opp["contact_id"]),
            "products": [
                self.products[line["product_id"]]["code"]
                for line in self.gen.lines_of.get(opp["id"], [])
            ],
        }

    def case(self, row: dict) -> Fact:
        account = self.accounts.get(row["account_id"])
        return {
            "id": row["id"],
            "number": row["number"],
            "subject": row["subject"],
            "account_id": row["account_id"],
            "account": account["name"] if account else None,
            "contact": self.contact(row["contact_id"]),
            "priority": row["priority"],
            "status": row["status"],
            "owner": self.owner(row["owner_id"]),
            "opened_at": row["opened_at"],
            "response_due_at": row["response_due_at"],
            "resolution_due_at": row["resolution_due_at"],
            "escalation_level": row["escalation_level"],
        }

    def open_deals(self) -> list[dict]:
        return [
            o
            for o in self.t["opportunity"]
            if not self.stages[o["stage_id"]]["is_closed"]
        ]

    # ------------------------------------------------------------ the facts

    def hot_lead(self, params: dict) -> Fact:
        rnd = self.gen.rnd
        leads = self.t["lead"]
        known = {a["name"] for a in self.t["account"]}
        candidates = [
            lead
            for lead in leads
            if lead["status"] in ("new", "contacted") and lead["company"] not in known
        ] or leads
        lead = rnd.choice(candidates)
        # The one hot lead of the student's own that waits for a first call.
        for other in leads:
            if other["rating"] == "hot" and other["owner_id"] == self.gen.me:
                other["rating"] = "warm"
        lead.update(rating="hot", status="new", owner_id=self.gen.me)
        lead["unqualified_reason"] = None
        return {
            "id": lead["id"],
            "name": lead["name"],
            "company": lead["company"],
            "title": lead["title"],
            "email": lead["email"],
            "phone": lead["phone"],
            "city": lead["city"],
            "source": lead["source"],
            "industry": lead["industry"],
            "status": lead["status"],
            "rating": lead["rating"],
        }

    def duplicate_lead(self, params: dict) -> Fact:
        by_name = {a["name"]: a for a in self.t["account"]}
        hot = self.gen.facts_so_far.get("hot_lead", {}).get("id")
        lead = next(
            lead
            for lead in self.t["lead"]
            if lead["company"] in by_name and lead["id"] != hot
        )
        if lead["status"] == "unqualified":
            lead.update(status="contacted", unqualified_reason=None)
        account = by_name[lead["company"]]
        return {
            "id": lead["id"],
            "name": lead["name"],
            "company": lead["company"],
            "account_id": account["id"],
            "account": account["name"],
        }

    def key_account(self, params: dict) -> Fact:
        won: Counter[int] = Counter()
        for opp in self.t["opportunity"]:
            if self.stages[opp["stage_id"]]["is_won"]:
                won[opp["account_id"]] += opp["amount"]
        customers = [
            a
            for a in self.t["account"]
            if a["account_type"] in ("customer", "end_customer")
            and self.gen.contacts_of.get(a["id"])
        ]
        account = max(customers, key=lambda a: (won[a["id"]], -a["id"]))
        account.update(rating="a", status="active", owner_id=self.gen.me)
        staff = self.gen.contacts_of[account["id"]]
        head = next((c for c in staff if c["role"] == "decision_maker"), staff[0])
        open_deals = [o for o in self.open_deals() if o["account_id"] == account["id"]]
        self.co_owner = (account["id"], self.gen.manager)
        return {
            "id": account["id"],
            "name": account["name"],
            "city": account["city"],
            "address": account["address"],
            "phone": account["phone"],
            "industry": account["industry"],
            "owner": self.owner(account["owner_id"]),
            "decision_maker": self.contact(head["id"]),
            "contacts": len(staff),
            "won_amount": _money(won[account["id"]]),
            "open_deals": [o["id"] for o in open_deals],
        }

    def channel_partner(self, params: dict) -> Fact:
        served: Counter[int] = Counter(self.gen.partner_of.values())
        partner_id = max(sorted(served), key=lambda p: served[p])
        partner = self.accounts[partner_id]
        ends = [e for e, p in sorted(self.gen.partner_of.items()) if p == partner_id]
        staff = self.gen.contacts_of.get(partner_id, [])
        return {
            "id": partner_id,
            "name": partner["name"],
            "city": partner["city"],
            "contact": self.contact(staff[0]["id"]) if staff else None,
            "end_customers": [
                {"id": e, "name": self.accounts[e]["name"]} for e in ends
            ],
        }

    def stalled_deal(self, params: dict) -> Fact:
        opp = self.t["opportunity"][self.gen.stalled_id - 1]
        fact = self.deal(opp)
        fact["last_activity_at"] = opp["last_activity_at"]
        fact["idle_days"] = (self.gen.today - _date(opp["last_activity_at"])).days
        return fact

    def big_deal(self, params: dict) -> Fact:
        quoted = {q["opportunity_id"]: q["number"] for q in self.t["quote"]}
        late = [
            o
            for o in self.open_deals()
            if self.stages[o["stage_id"]]["code"] in ("proposal", "negotiation")
            and o["id"] != self.gen.stalled_id
        ] or self.open_deals()
        opp = max(late, key=lambda o: (o["id"] in quoted, o["amount"], -o["id"]))
        fact = self.deal(opp)
        fact["quote"] = quoted.get(opp["id"])
        return fact

    def won_deal(self, params: dict) -> Fact:
        won = [o for o in self.t["opportunity"] if self.stages[o["stage_id"]]["is_won"]]
        opp = max(won, key=lambda o: (o["closed_on"], o["id"]))
        fact = self.deal(opp)
        fact["closed_on"] = opp["closed_on"]
        return fact

    def lost_deal(self, params: dict) -> Fact:
        key = self.gen.key_competitor
        lost = [o for o in self.t["opportunity"] if o["lost_to_id"] == key]
        opp = lost[0]
        fact = self.deal(opp)
        fact.update(
            closed_on=opp["closed_on"],
            lost_reason=opp["lost_reason"],
            lost_to=self.competitors[key]["name"],
        )
        return fact

    def key_competitor(self, params: dict) -> Fact:
        key = self.gen.key_competitor
        row = self.competitors[key]
        deals = [
            link["opportunity_id"]
            for link in self.t["opportunity_competitor"]
            if link["competitor_id"] == key
        ]
        open_ids = {o["id"] for o in self.open_deals()}
        return {
            "id": key,
            "name": row["name"],
            "website": row["website"],
            "deals": len(deals),
            "open_deals": [d for d in deals if d in open_ids],
            "deals_lost_to": sum(
                1 for o in self.t["opportunity"] if o["lost_to_id"] == key
            ),
        }

    def top_product(self, params: dict) -> Fact:
        used = Counter(line["product_id"] for line in self.t["line_item"])
        product_id = max(sorted(used), key=lambda p: used[p])
        product = self.products[product_id]
        return {
            "id": product_id,
            "code": product["code"],
            "name": product["name"],
            "list_price": _money(product["list_price"]),
            "unit": product["unit"],
            "deals": len(
                {
                    line["opportunity_id"]
                    for line in self.t["line_item"]
                    if line["product_id"] == product_id
                }
            ),
        }

    def overdue_case(self, params: dict) -> Fact:
        return self.case(self.t["service_case"][self.gen.overdue_id - 1])

    def escalated_case(self, params: dict) -> Fact:
        row = self.t["service_case"][self.gen.escalated_id - 1]
        fact = self.case(row)
        fact["escalated_from"] = self.owner(row["escalated_from_id"])
        return fact

    def best_campaign(self, params: dict) -> Fact:
        """The completed campaign whose deals won the most (then most responses)."""
        won: Counter[int] = Counter()
        deals: Counter[int] = Counter()
        for opp in self.t["opportunity"]:
            if opp["campaign_id"]:
                deals[opp["campaign_id"]] += 1
                if self.stages[opp["stage_id"]]["is_won"]:
                    won[opp["campaign_id"]] += opp["amount"]
        members = self.t["campaign_member"]
        responded: Counter[int] = Counter(
            m["campaign_id"]
            for m in members
            if m["status"] in ("responded", "converted")
        )
        done = [c for c in self.t["campaign"] if c["status"] == "completed"]
        campaign = max(
            done or self.t["campaign"],
            key=lambda c: (won[c["id"]], responded[c["id"]], -c["id"]),
        )
        cid = campaign["id"]
        return {
            "id": cid,
            "name": campaign["name"],
            "type": campaign["campaign_type"],
            "status": campaign["status"],
            "start_date": campaign["start_date"],
            "end_date": campaign["end_date"],
            "actual_cost": _money(campaign["actual_cost"]),
            "members": sum(1 for m in members if m["campaign_id"] == cid),
            "responded": responded[cid],
            "leads": sum(1 for lead in self.t["lead"] if lead["campaign_id"] == cid),
            "opportunities": deals[cid],
            "won_amount": _money(won[cid]),
        }

    def overdue_task(self, params: dict) -> Fact:
        today = self.gen.today.isoformat()
        tasks = [
            a
            for a in self.t["activity"]
            if a["kind"] == "task"
            and a["status"] == "planned"
            and a["owner_id"] == self.gen.me
            and a["due_date"] < today
        ]
        task = min(tasks, key=lambda a: (a["due_date"], a["id"]))
        account = self.accounts[task["related_id"]]
        return {
            "id": task["id"],
            "subject": task["subject"],
            "due_date": task["due_date"],
            "account_id": account["id"],
            "account": account["name"],
        }

    def next_meeting(self, params: dict) -> Fact:
        now = self.gen.now.isoformat(" ")
        meetings = [
            a
            for a in self.t["activity"]
            if a["kind"] == "meeting"
            and a["status"] == "planned"
            and a["owner_id"] == self.gen.me
            and a["starts_at"] > now
        ]
        if not meetings:  # plan one: the student always has a meeting coming up
            account = self.gen.rnd.choice(self.t["account"])
            day = self.gen.workday(self.gen.today + dt.timedelta(days=3))
            if day <= self.gen.today:
                day = self.gen.today + dt.timedelta(days=1)
            self.gen.activity(
                "meeting",
                self.gen.local(day, 14, 0),
                "planned",
                self.gen.me,
                "accounts",
                account["id"],
                self.gen.contacts_of.get(account["id"], []),
                self.gen.rnd.choice(
                    self.gen.sentences["activity_subjects"]["meeting"][self.gen.lang]
                ),
            )
            meetings = [self.t["activity"][-1]]
        meeting = min(meetings, key=lambda a: (a["starts_at"], a["id"]))
        account = self.accounts[meeting["related_id"]]
        people = [
            self.contact(x["contact_id"])
            for x in self.t["activity_attendee"]
            if x["activity_id"] == meeting["id"] and x["contact_id"]
        ]
        return {
            "id": meeting["id"],
            "subject": meeting["subject"],
            "starts_at": meeting["starts_at"],
            "location": meeting["location"],
            "account_id": account["id"],
            "account": account["name"],
            "contacts": people,
        }

    def overdue_invoice(self, params: dict) -> Fact:
        """An invoice past its due date with nothing received against its order."""
        invoice = self.t["invoice"][self.gen.overdue_invoice_id - 1]
        order = self.t["sales_order"][invoice["order_id"] - 1]
        contract = self.t["contract"][order["contract_id"] - 1]
        account = self.accounts[order["account_id"]]
        return {
            "id": invoice["id"],
            "number": invoice["number"],
            "amount": _money(invoice["amount"]),
            "issued_on": invoice["issued_on"],
            "due_on": invoice["due_on"],
            "order_id": order["id"],
            "order": order["number"],
            "contract": contract["number"],
            "account_id": account["id"],
            "account": account["name"],
            "owner": self.owner(order["owner_id"]),
        }

    def published_article(self, params: dict) -> Fact:
        published = [a for a in self.t["article"] if a["status"] == "published"]
        article = self.gen.rnd.choice(published)
        return {
            "id": article["id"],
            "title": article["title"],
            "category": article["category"],
            "keywords": article["keywords"],
        }


def _date(stamp: str) -> dt.date:
    return dt.datetime.fromisoformat(stamp).date()


def plant(gen: Generator) -> dict[str, Fact]:
    """Every fact the scenario declares, by name (in the file's order)."""
    planter = Planter(gen)
    planter.co_owner = None
    gen.facts_so_far = {}
    facts: dict[str, Fact] = {}
    for name, params in gen.s.facts.items():
        make: Callable[[dict], Fact] = getattr(planter, params["kind"])
        facts[name] = make({k: v for k, v in params.items() if k != "kind"})
        gen.facts_so_far[params["kind"]] = facts[name]
    if planter.co_owner is not None:
        account_id, colleague = planter.co_owner
        if colleague != gen.me:
            gen.tables["account_co_owner"].append(
                {"account_id": account_id, "colleague_id": colleague}
            )
    return facts
