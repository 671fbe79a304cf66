"""Facts for lessons, chosen from a tenant's own records, when its scenario planted
none.

The scenario engine plants each student's facts as it builds the tenant. A tenant
built without them (an older seed file, a scenario that plants none) gets them
here: picked deterministically from the student's own data, which differs from
student to student, and stored where the scenario would store them.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from sandbox.labs.facts import LESSON_FACTS_KEY, lesson_facts, tenant_facts
from sandbox.models.crm import Account, TenantInfo
from sandbox.models.crm.leads import Lead
from sandbox.text import company_key
from sandbox.text import name_key as normalise_name

#: (name, maker): each maker returns its fact, given the session, a seeded random
#: generator, the tenant's language (``en`` or ``zh``) and the facts made so far.
MAKERS: list[tuple[str, Callable[..., Any]]] = []


def maker(name: str):
    def decorate(fn):
        MAKERS.append((name, fn))
        return fn

    return decorate


def _info(session: Session, key: str) -> str | None:
    return session.scalar(sa.select(TenantInfo.value).where(TenantInfo.key == key))


def plant_facts(session: Session) -> dict[str, Any]:
    """The tenant's facts, with the lessons' chosen and stored first if it has
    none yet; commits."""
    if lesson_facts(session):
        return tenant_facts(session)
    seed = int(_info(session, "variant_seed") or 0)
    chinese = (_info(session, "locale") or "").startswith("zh") or (
        _info(session, "scenario") or ""
    ).endswith("-zh")
    lang = "zh" if chinese else "en"
    rnd = random.Random(seed)  # noqa: S311 - reproducible choices, not secrets
    facts: dict[str, Any] = {}
    for name, make in MAKERS:
        facts[name] = make(session, rnd, lang, facts)
    session.merge(
        TenantInfo(key=LESSON_FACTS_KEY, value=json.dumps(facts, ensure_ascii=False))
    )
    session.commit()
    return tenant_facts(session)


def _open_leads(session: Session) -> list[Lead]:
    accounts = {company_key(n) for n in session.scalars(sa.select(Account.name))}
    leads = session.scalars(
        sa.select(Lead)
        .where(Lead.status.in_(("new", "contacted")), Lead.company.is_not(None))
        .order_by(Lead.id)
    ).all()
    names = [lead.name for lead in leads]
    return [
        lead
        for lead in leads
        if company_key(lead.company) not in accounts and names.count(lead.name) == 1
    ]


@maker("hot_lead")
def _hot_lead(session: Session, rnd: random.Random, lang: str, facts: dict) -> dict:
    lead = rnd.choice(_open_leads(session))
    return {
        "name": lead.name,
        "company": lead.company,
        "opportunity": f"{lead.company}首单"
        if lang == "zh"
        else f"{lead.company} first order",
        "amount": rnd.randrange(10, 90) * 1000,
    }


@maker("cold_lead")
def _cold_lead(session: Session, rnd: random.Random, lang: str, facts: dict) -> dict:
    taken = {facts["hot_lead"]["name"]}
    leads = [lead for lead in _open_leads(session) if lead.name not in taken]
    lead = rnd.choice(leads)
    return {"name": lead.name, "company": lead.company}


@maker("lookup_lead")
def _lookup_lead(session: Session, rnd: random.Random, lang: str, facts: dict) -> dict:
    taken = {facts["hot_lead"]["name"], facts["cold_lead"]["name"]}
    leads = [
        lead for lead in _open_leads(session) if lead.name not in taken and lead.email
    ]
    lead = rnd.choice(leads)
    return {"name": lead.name, "email": lead.email}


def _accounts(session: Session) -> list[Account]:
    accounts = session.scalars(
        sa.select(Account)
        .where(Account.inactive.is_(False), Account.city.is_not(None))
        .order_by(Account.id)
    ).all()
    return [a for a in accounts if "-" not in a.name]


@maker("lookup_account")
def _lookup_account(session: Session, rnd: random.Random, lang: str, facts: dict):
    account = rnd.choice(_accounts(session))
    digits = "".join(str(rnd.randrange(10)) for _ in range(7))
    phone = f"0571-8{digits}" if lang == "zh" else f"+1 555 {digits[:3]} {digits[3:]}"
    return {"name": account.name, "city": account.city, "new_phone": phone}


def _faker(rnd: random.Random, lang: str):
    from faker import Faker

    fake = Faker("zh_CN" if lang == "zh" else "en_US")
    fake.seed_instance(rnd.randrange(2**31))
    return fake


def _new_company(session: Session, rnd: random.Random, lang: str) -> str:
    """A company name the tenant does not know yet, following the naming rules."""
    from sandbox.crm.accounts.service import name_problem

    fake = _faker(rnd, lang)
    known = {company_key(n) for n in session.scalars(sa.select(Account.name))}
    known |= {company_key(n or "") for n in session.scalars(sa.select(Lead.company))}
    while True:
        name = " ".join(fake.company().replace("-", " ").split())
        if company_key(name) not in known and name_problem(name) is None:
            return name


def _person(rnd: random.Random, lang: str) -> dict[str, str]:
    fake = _faker(rnd, lang)
    first, last = fake.first_name(), fake.last_name()
    name = f"{last}{first}" if lang == "zh" else f"{first} {last}"
    return {"first_name": first, "last_name": last, "name": name}


@maker("new_customer")
def _new_customer(session: Session, rnd: random.Random, lang: str, facts: dict):
    from sandbox.crm.codes import default_list

    industry = rnd.choice(list(default_list("industry")))
    city = _faker(rnd, lang).city()
    return {
        "name": _new_company(session, rnd, lang),
        "industry": industry.code,
        "industry_en": industry.en,
        "industry_zh": industry.zh,
        "city": city,
    }


@maker("known_account")
def _known_account(session: Session, rnd: random.Random, lang: str, facts: dict):
    from sandbox.crm.accounts.service import name_problem
    from sandbox.text import name_key

    taken = {facts["lookup_account"]["name"]}
    accounts = [a for a in _accounts(session) if a.name not in taken]
    while True:
        account = rnd.choice(accounts)
        core = company_key(account.name)
        # The same company under another legal form: the duplicate check's case.
        variant = f"{core}集团" if lang == "zh" else f"{account.name} Group"
        if name_problem(variant) is None and name_key(variant) != account.name_key:
            return {"name": account.name, "variant": variant}


@maker("new_contact")
def _new_contact(session: Session, rnd: random.Random, lang: str, facts: dict):
    person = _person(rnd, lang)
    titles = (
        ("采购经理", "财务总监", "信息部经理")
        if lang == "zh"
        else (
            "Purchasing Manager",
            "Finance Director",
            "IT Manager",
        )
    )
    return {**person, "title": rnd.choice(titles)}


@maker("channel")
def _channel(session: Session, rnd: random.Random, lang: str, facts: dict):
    taken = {facts["lookup_account"]["name"], facts["known_account"]["name"]}
    accounts = [
        a
        for a in _accounts(session)
        if a.name not in taken and a.account_type not in ("channel", "competitor")
    ]
    return {"name": rnd.choice(accounts).name}


def _open_deals(session: Session, taken: set[str]) -> list:
    from sandbox.models.crm.sales import Opportunity, Stage

    rows = session.execute(
        sa.select(Opportunity, Stage)
        .join(Stage, Stage.id == Opportunity.stage_id)
        .where(Stage.is_closed.is_(False), Opportunity.amount > 0)
        .order_by(Opportunity.id)
    ).all()
    names = [opp.name for opp, _ in rows]
    return [
        (opp, stage)
        for opp, stage in rows
        if names.count(opp.name) == 1 and opp.name not in taken
    ]


def _taken_deals(facts: dict) -> set[str]:
    return {
        fact["name"]
        for key in ("open_deal", "won_deal", "lost_deal", "quote_deal")
        if (fact := facts.get(key))
    } | ({facts["campaign"]["deal"]} if "campaign" in facts else set())


@maker("open_deal")
def _open_deal(session: Session, rnd: random.Random, lang: str, facts: dict):
    from sandbox.models.crm.sales import Stage

    target = session.scalar(sa.select(Stage).filter_by(code="proposal"))
    # A deal with product lines takes its amount from them: the amount is typed
    # only on deals without lines.
    early = [
        (opp, stage)
        for opp, stage in _open_deals(session, _taken_deals(facts))
        if stage.position < target.position and not opp.line_items
    ]
    opp, _ = rnd.choice(early)
    amount = int(opp.amount or 0) + rnd.randrange(5, 50) * 1000
    step = "安排现场演示" if lang == "zh" else "Arrange an on-site demo"
    return {
        "name": opp.name,
        "stage": target.code,
        "stage_en": target.name,
        "stage_zh": target.name_zh,
        "amount": amount,
        "next_step": step,
    }


@maker("won_deal")
def _won_deal(session: Session, rnd: random.Random, lang: str, facts: dict):
    opp, _ = rnd.choice(_open_deals(session, _taken_deals(facts)))
    return {"name": opp.name}


@maker("lost_deal")
def _lost_deal(session: Session, rnd: random.Random, lang: str, facts: dict):
    opp, _ = rnd.choice(_open_deals(session, _taken_deals(facts)))
    return {"name": opp.name, "amount": float(opp.amount)}


@maker("rival")
def _rival(session: Session, rnd: random.Random, lang: str, facts: dict):
    from sandbox.models.crm.competitors import Competitor

    known = {company_key(n) for n in session.scalars(sa.select(Competitor.name))}
    while True:
        name = _new_company(session, rnd, lang)
        if company_key(name) not in known:
            break
    return {"name": name, "website": f"https://rival{rnd.randrange(10**6)}.example.com"}


@maker("new_product")
def _new_product(session: Session, rnd: random.Random, lang: str, facts: dict):
    from sandbox.models.crm.products import Product

    codes = set(session.scalars(sa.select(Product.code)))
    names = {normalise_name(n) for n in session.scalars(sa.select(Product.name))}
    kinds = (
        ("智能网关", "云存储套件", "数据分析平台", "安全审计模块")
        if lang == "zh"
        else ("Smart Gateway", "Cloud Storage Kit", "Analytics Suite", "Audit Module")
    )
    while True:
        number = rnd.randrange(100, 1000)
        code = f"LAB-{number}"
        name = f"{rnd.choice(kinds)} {number}"
        if code not in codes and normalise_name(name) not in names:
            break
    return {
        "code": code,
        "name": name,
        "list_price": rnd.randrange(20, 200) * 50,
        "quantity": rnd.randrange(2, 20),
        "discount": rnd.choice((5, 10, 15)),
    }


@maker("quote_deal")
def _quote_deal(session: Session, rnd: random.Random, lang: str, facts: dict):
    opp, _ = rnd.choice(_open_deals(session, _taken_deals(facts)))
    return {"name": opp.name}


@maker("service_case")
def _service_case(session: Session, rnd: random.Random, lang: str, facts: dict):
    taken = {
        facts[key]["name"] for key in ("lookup_account", "known_account", "channel")
    }
    from sandbox.models.crm.service import Case

    account = rnd.choice([a for a in _accounts(session) if a.name not in taken])
    subjects = {normalise_name(s) for s in session.scalars(sa.select(Case.subject))}
    number = rnd.randrange(100, 1000)
    while normalise_name(f"Printer {number} keeps jamming") in subjects or (
        normalise_name(f"{number}号打印机频繁卡纸") in subjects
    ):
        number += 1
    if lang == "zh":
        subject = f"{number}号打印机频繁卡纸"
        reason = "客户的生产线停工，需要二线工程师支持。"
        resolution = "更换了进纸辊，打印测试正常。"
    else:
        subject = f"Printer {number} keeps jamming"
        reason = "The customer's production line has stopped; second-line help needed."
        resolution = "Replaced the feed roller; test prints are fine."
    return {
        "subject": subject,
        "account": account.name,
        "reason": reason,
        "resolution": resolution,
    }


@maker("article")
def _article(session: Session, rnd: random.Random, lang: str, facts: dict):
    from sandbox.models.crm.knowledge import Article

    titles = {normalise_name(t) for t in session.scalars(sa.select(Article.title))}
    number = rnd.randrange(100, 1000)
    while True:
        if lang == "zh":
            title = f"如何清除{number}型打印机的卡纸"
            body = (
                "1. 关闭电源。\n2. 打开后盖，取出卡住的纸张。\n3. 检查进纸辊是否磨损。"
            )
        else:
            title = f"How to clear a paper jam in printer model {number}"
            body = (
                "1. Switch the printer off.\n2. Open the rear cover and remove the "
                "paper.\n3. Check the feed roller for wear."
            )
        if normalise_name(title) not in titles:
            return {"title": title, "body": body}
        number += 1


@maker("kb_case")
def _kb_case(session: Session, rnd: random.Random, lang: str, facts: dict):
    from sandbox.models.crm.service import Case, CaseEvent

    cases = session.scalars(
        sa.select(Case)
        .where(Case.status.in_(("new", "accepted", "assigned", "in_progress")))
        .order_by(Case.id)
    ).all()
    resolved_before = set(
        session.scalars(
            sa.select(CaseEvent.case_id).where(CaseEvent.to_status == "resolved")
        )
    )
    case = rnd.choice([c for c in cases if c.id not in resolved_before])
    return {"subject": case.subject, "number": case.number}


@maker("campaign")
def _campaign(session: Session, rnd: random.Random, lang: str, facts: dict):
    """A new campaign with its budget and cost, a lead and a contact it reaches,
    and an open deal it brings in; ``roi`` is the percentage the results panel
    shows once that deal is won."""
    from sandbox.crm.codes import default_list
    from sandbox.models.crm.campaigns import Campaign
    from sandbox.models.crm.contacts import Contact

    # (code, the kind of event in a sentence, in a name), in each language.
    code, kind_en, title_en, kind_zh = rnd.choice(
        (
            ("event", "trade fair", "Trade Fair", "展会"),
            ("seminar", "seminar", "Seminar", "研讨会"),
        )
    )
    kind = next(c for c in default_list("campaign_type") if c.code == code)
    known = {normalise_name(n) for n in session.scalars(sa.select(Campaign.name))}
    while True:
        number = rnd.randrange(10, 100)
        name = (
            f"第{number}届春季{kind_zh}"
            if lang == "zh"
            else f"Spring {title_en} {number}"
        )
        if normalise_name(name) not in known:
            break
    taken = {facts[key]["name"] for key in ("hot_lead", "cold_lead", "lookup_lead")}
    lead = rnd.choice([x for x in _open_leads(session) if x.name not in taken])
    contacts = session.scalars(
        sa.select(Contact)
        .where(Contact.first_name.is_not(None), Contact.last_name.is_not(None))
        .order_by(Contact.id)
    ).all()
    names = [c.full_name for c in contacts]
    contact = rnd.choice([c for c in contacts if names.count(c.full_name) == 1])
    opp, _ = rnd.choice(_open_deals(session, _taken_deals(facts)))
    amount = Decimal(str(opp.amount))
    # A cost of 10–60 % of the deal, in steps of 500, within a slightly larger
    # budget.
    share = Decimal(rnd.randrange(10, 60)) / 100
    cost = max(1, int(amount * share / 500)) * 500
    budget = cost + rnd.randrange(1, 9) * 500
    # As the results panel shows it: the ratio to four decimals, as a percentage
    # to one decimal.
    ratio = ((amount - cost) / cost).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    roi = float(f"{float(ratio * 100):.1f}")
    return {
        "name": name,
        "type": kind.code,
        "type_en": kind.en,
        "type_zh": kind.zh,
        "kind_en": kind_en,
        "kind_zh": kind_zh,
        "budget": budget,
        "actual_cost": cost,
        "lead": lead.name,
        "contact": contact.full_name,
        "deal": opp.name,
        "deal_amount": float(amount),
        "roi": roi,
    }


@maker("forecast")
def _forecast(session: Session, rnd: random.Random, lang: str, facts: dict):
    """A month in which the student's own open deals close, the quota to set for
    it, and the adjustment to submit; ``weighted`` is the weighted pipeline the
    forecast shows on the untouched tenant."""
    from sandbox.crm.forecasts.service import forecast_figures
    from sandbox.models.crm import Colleague
    from sandbox.models.crm.sales import Opportunity, Stage

    me = session.scalar(sa.select(Colleague).where(Colleague.is_self).limit(1))
    rows = session.execute(
        sa.select(Opportunity.close_date, Opportunity.amount, Opportunity.probability)
        .join(Stage, Stage.id == Opportunity.stage_id)
        .where(
            Stage.is_closed.is_(False),
            Opportunity.owner_id == me.id,
            Opportunity.forecast_category != "omitted",
            Opportunity.close_date.is_not(None),
            Opportunity.amount > 0,
            Opportunity.probability > 0,
        )
    ).all()
    weighted: dict[str, Decimal] = {}
    for day, amount, probability in rows:
        key = f"{day:%Y-%m}"
        cents = int((Decimal(str(amount)) * 100).to_integral_value())
        weighted[key] = weighted.get(key, Decimal(0)) + cents * probability
    # Scenarios give every student open deals of their own; a tenant without any
    # still gets a month (its weighted pipeline is then 0).
    month = rnd.choice(sorted(weighted)) if weighted else f"{dt.date.today():%Y-%m}"
    adjustment = rnd.choice((-1, 1)) * rnd.randrange(2, 20) * 500
    # A forecast never goes below 0: a cut is at most the month's Commit.
    first = dt.date.fromisoformat(f"{month}-01")
    last = (first + dt.timedelta(days=31)).replace(day=1) - dt.timedelta(days=1)
    commit = forecast_figures(session, first, last, me.id).commit
    if adjustment < 0 and -adjustment > commit:
        cut = int(commit // 500) * 500
        adjustment = -cut if cut >= 1000 else -adjustment
    reason = (
        (
            "客户预算已获批准，预计提前签约。"
            if lang == "zh"
            else "The customer's budget was approved; signing is expected early."
        )
        if adjustment > 0
        else (
            "一个大客户的采购推迟到下个月。"
            if lang == "zh"
            else "A large customer has postponed its purchase to next month."
        )
    )
    return {
        "me": me.name,
        "month": month,
        "start": f"{month}-01",
        "quota": rnd.randrange(20, 200) * 1000,
        "adjustment": adjustment,
        "reason": reason,
        "weighted": float(
            (weighted.get(month, Decimal(0)) / 10000).quantize(
                Decimal("0.01"), ROUND_HALF_UP
            )
        ),
    }


def _built_on(session: Session) -> dt.date:
    """The day the tenant was built: its data's "today"."""
    try:
        return dt.date.fromisoformat(_info(session, "built_on") or "")
    except ValueError:
        return dt.date.today()


def _workday(day: dt.date) -> dt.date:
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def _unique_contacts(session: Session) -> list:
    """Contacts of an account whose full name no other contact shares."""
    from sandbox.models.crm.contacts import Contact

    contacts = session.scalars(
        sa.select(Contact)
        .where(
            Contact.account_id.is_not(None),
            Contact.first_name.is_not(None),
            Contact.last_name.is_not(None),
        )
        .order_by(Contact.id)
    ).all()
    names = [normalise_name(c.full_name) for c in contacts]
    return [c for c in contacts if names.count(normalise_name(c.full_name)) == 1]


@maker("agenda")
def _agenda(session: Session, rnd: random.Random, lang: str, facts: dict):
    """A meeting to plan with a contact and a colleague, a follow-up task for an
    account, an overdue task of the student's to complete, and the day's diary.
    Times are wall-clock times in the course's time zone, as the student types
    them."""
    from sandbox.models.crm import Colleague
    from sandbox.models.crm.activities import Activity

    built = _built_on(session)
    subjects = {normalise_name(s) for s in session.scalars(sa.select(Activity.subject))}

    contact = rnd.choice(_unique_contacts(session))
    account = contact.account.name
    colleague = rnd.choice(
        session.scalars(
            sa.select(Colleague)
            .where(Colleague.is_self.is_(False), Colleague.active.is_(True))
            .order_by(Colleague.id)
        ).all()
    )
    day = _workday(built + dt.timedelta(days=rnd.randrange(3, 15)))
    start = dt.datetime.combine(
        day, dt.time(rnd.choice((9, 10, 14, 15, 16)), rnd.choice((0, 30)))
    )
    kinds = (
        ("产品演示会", "方案沟通会", "合同评审会", "季度回顾会")
        if lang == "zh"
        else (
            "Product demo",
            "Solution workshop",
            "Contract review",
            "Quarterly review",
        )
    )
    kind = rnd.choice(kinds)
    meeting = f"{account}{kind}" if lang == "zh" else f"{kind} with {account}"
    number = 2
    while normalise_name(meeting) in subjects:
        meeting = (
            f"{account}{kind}（第{number}次）"
            if lang == "zh"
            else f"{kind} with {account} ({number})"
        )
        number += 1

    accounts = [a for a in _accounts(session) if a.name != account]
    task_account = rnd.choice(accounts).name
    task = (
        f"向{task_account}发送试用协议"
        if lang == "zh"
        else f"Send the pilot agreement to {task_account}"
    )
    number = 2
    while normalise_name(task) in subjects:
        task = (
            f"向{task_account}发送第{number}版试用协议"
            if lang == "zh"
            else f"Send pilot agreement version {number} to {task_account}"
        )
        number += 1
    due = _workday(built + dt.timedelta(days=rnd.randrange(2, 10)))

    me = session.scalar(sa.select(Colleague.id).where(Colleague.is_self).limit(1))
    overdue = session.scalars(
        sa.select(Activity)
        .where(
            Activity.kind == "task",
            Activity.status.in_(("planned", "in_progress")),
            Activity.owner_id == me,
            Activity.due_date < built,
        )
        .order_by(Activity.id)
    ).all()
    keys = [(normalise_name(t.subject), t.due_date) for t in overdue]
    # One the student can tell apart (subject and due date); failing that, one of
    # its look-alikes, any of which the check accepts.
    unique = [
        t for t in overdue if keys.count((normalise_name(t.subject), t.due_date)) == 1
    ]
    late = rnd.choice(unique or overdue)
    minutes = rnd.randrange(10, 60)
    outcome = (
        f"已完成，与客户通话{minutes}分钟，对方确认收到。"
        if lang == "zh"
        else f"Done: a {minutes}-minute call; the customer confirmed receipt."
    )
    diary = (
        f"约了{contact.full_name}开会，跟进{task_account}的试用协议，"
        f"完成了逾期任务：{late.subject}。"
        if lang == "zh"
        else f"Planned a meeting with {contact.full_name}, followed up the pilot "
        f"agreement for {task_account} and finished the overdue task: {late.subject}."
    )
    return {
        "meeting": meeting,
        "contact": contact.full_name,
        "account": account,
        "colleague": colleague.name,
        "day": day.isoformat(),
        "time": f"{start:%H:%M}",
        "starts_at": f"{start:%Y-%m-%d %H:%M}",
        "ends_at": f"{start + dt.timedelta(hours=1):%Y-%m-%d %H:%M}",
        "task": task,
        "task_account": task_account,
        "due": due.isoformat(),
        "overdue_task": late.subject,
        "overdue_due": late.due_date.isoformat(),
        "outcome": outcome,
        "diary": diary,
    }


@maker("report_questions")
def _report_questions(session: Session, rnd: random.Random, lang: str, facts: dict):
    """The management questions the reports answer, each about a record of the
    student's own: the stage and the owner of a deal, the source and the owner of a
    lead (the answers are worked out when checked)."""
    from sandbox.crm.codes import default_list
    from sandbox.models.crm import Colleague

    def stage_fact(stage) -> dict:
        return {"code": stage.code, "en": stage.name, "zh": stage.name_zh or stage.name}

    deals = [
        (opp, stage)
        for opp, stage in _open_deals(session, _taken_deals(facts))
        if opp.owner is not None
    ]
    totals: dict[tuple[str, str], Decimal] = {}
    for opp, stage in deals:
        key = (stage.code, opp.owner.name)
        totals[key] = totals.get(key, Decimal(0)) + opp.amount
    deal, stage = rnd.choice(deals)
    # A deal in a stage where one colleague's deals clearly add up to the most.
    clear = []
    for opp, other in deals:
        ranked = sorted((t for (s, _), t in totals.items() if s == other.code))[::-1]
        if opp is not deal and len(ranked) > 1 and ranked[0] > ranked[1]:
            clear.append((opp, other))
    top_deal, top_stage = rnd.choice(clear or deals)
    taken = {facts[key]["name"] for key in ("hot_lead", "cold_lead", "lookup_lead")}
    taken.add(facts["campaign"]["lead"])
    codes = {c.code: c for c in default_list("lead_source")}
    leads = session.execute(
        sa.select(Lead.name, Lead.source, Colleague.name)
        .join(Colleague, Colleague.id == Lead.owner_id)
        .where(Lead.source.is_not(None))
        .order_by(Lead.id)
    ).all()
    names = [row[0] for row in leads]
    lead, code, lead_owner = rnd.choice(
        [
            row
            for row in leads
            if row[1] in codes and names.count(row[0]) == 1 and row[0] not in taken
        ]
    )
    source = codes[code]
    return {
        "deal": deal.name,
        "stage": stage_fact(stage),
        "owner": deal.owner.name,
        "top_deal": top_deal.name,
        "top_stage": stage_fact(top_stage),
        "lead": lead,
        "source": {"code": source.code, "en": source.en, "zh": source.zh},
        "lead_owner": lead_owner,
    }


@maker("capstone")
def _capstone(session: Session, rnd: random.Random, lang: str, facts: dict):
    """The main business process: a lead to qualify and convert, the deal it
    becomes with a product line, and the new customer's first service case."""
    from sandbox.models.crm.products import Product

    taken = {facts[key]["name"] for key in ("hot_lead", "cold_lead", "lookup_lead")}
    taken |= {facts["campaign"]["lead"], facts["report_questions"]["lead"]}
    leads = [lead for lead in _open_leads(session) if lead.name not in taken]
    lead = rnd.choice([x for x in leads if x.status == "new"] or leads)
    products = session.scalars(
        sa.select(Product)
        .where(Product.active.is_(True), Product.list_price > 0)
        .order_by(Product.id)
    ).all()
    names = [normalise_name(p.name) for p in products]
    product = rnd.choice(
        [p for p in products if names.count(normalise_name(p.name)) == 1]
    )
    users = rnd.randrange(2, 20) * 10
    if lang == "zh":
        opportunity = f"{lead.company}首期项目"
        subject = f"{lead.company}：{users}名新用户需要上线培训"
    else:
        opportunity = f"{lead.company} launch project"
        subject = f"{lead.company}: onboarding training for {users} new users"
    return {
        "lead": lead.name,
        "company": lead.company,
        "opportunity": opportunity,
        "product": product.name,
        "product_code": product.code,
        "quantity": rnd.randrange(2, 12),
        "case": subject,
    }
