"""Service-desk data for a new tenant: cases in plausible states, a few articles.

Every case is walked through the lifecycle of :data:`TRANSITIONS` from New, so its
state, its status history and its SLA deadlines agree. Everything is
drawn from the builder's seeded random generator: the same seed, the same rows.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from sandbox.crm.cases import sla
from sandbox.crm.cases.service import (
    DEFAULT_REOPEN_DAYS,
    DEFAULT_TARGETS,
    PREVIOUS,
    TRANSITIONS,
    ServiceSettings,
    refresh_sla,
)
from sandbox.models.crm.service import Case, CaseEvent

N_CASES = 30

#: (en, zh) subjects
SUBJECTS = (
    ("Cannot log in to the customer portal", "无法登录客户门户"),
    ("Invoice amount does not match the order", "发票金额与订单不符"),
    ("Device reboots every few hours", "设备每隔几小时自动重启"),
    ("Request for an on-site installation", "申请上门安装"),
    ("Delivery arrived damaged", "到货时包装破损"),
    ("How do I export my order history?", "如何导出历史订单?"),
    ("Suggestion: add a Chinese user manual", "建议:提供中文版用户手册"),
    ("Slow response from the support hotline", "客服热线响应太慢"),
    ("Firmware update fails at 80%", "固件升级到80%时失败"),
    ("Need a copy of the warranty certificate", "需要保修证书副本"),
    ("Wrong product shipped", "发错了产品"),
    ("Network port stops working after power cut", "断电后网口无法使用"),
)

#: Lifecycle paths from New, and how often each is drawn.
PATHS = (
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

RESOLUTIONS = (
    ("Replaced the faulty unit", "已更换故障设备"),
    ("Explained the settings on the phone", "已电话指导客户完成设置"),
    ("Issued a corrected invoice", "已重新开具发票"),
)

#: (category, en title, zh title, en keywords, zh keywords, en body, zh body)
ARTICLES = (
    (
        "troubleshooting",
        "Device reboots by itself",
        "设备自动重启的处理方法",
        "reboot restart power",
        "重启 电源 死机",
        "1. Check the power adapter.\n2. Update the firmware to the latest "
        "version.\n3. If it still reboots, replace the unit.",
        "1. 检查电源适配器。\n2. 将固件升级到最新版本。\n3. 仍然重启的,更换设备。",
    ),
    (
        "how_to",
        "Exporting the order history",
        "如何导出历史订单",
        "export orders excel",
        "导出 订单 Excel",
        "Open **My orders**, choose the period and press **Export**.",
        "打开**我的订单**,选择时间段,点击**导出**。",
    ),
    (
        "billing",
        "Correcting a wrong invoice",
        "发票开错的更正流程",
        "invoice correction refund",
        "发票 更正 红冲",
        "Ask the customer for the original invoice, void it and issue a new one.",
        "请客户提供原发票,作废后重新开具。",
    ),
    (
        "faq",
        "Where to find the warranty certificate",
        "保修证书在哪里查看",
        "warranty certificate",
        "保修 证书",
        "The certificate is in the box and can be downloaded from the portal.",
        "保修证书随箱附带,也可在客户门户下载。",
    ),
    (
        "known_issue",
        "Firmware update stops at 80%",
        "固件升级停在80%",
        "firmware update",
        "固件 升级",
        "Known issue in version 2.1; install 2.1.1 first, then update again.",
        "2.1版本的已知问题:先安装2.1.1,再重新升级。",
    ),
)
ARTICLE_STATES = ("published", "published", "published", "review", "draft")


def _walk(path: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """``(action, from, to)`` for each step of ``path`` from New."""
    steps, status, previous = [], "new", None
    for action in path:
        transition = TRANSITIONS[action]
        if status not in transition.sources:
            raise ValueError(f"{action} is not allowed from {status}")
        target = transition.target
        if target == PREVIOUS:
            target = previous or "in_progress"
        if target in ("pending_customer", "suspended"):
            previous = status
        if target is None:
            target = status
        steps.append((action, status, target))
        status = target
    return steps


def build_service_desk(
    rnd: random.Random,
    *,
    chinese: bool,
    today: dt.date,
    zone: str,
    n_accounts: int,
    contacts_by_account: dict[int, list[int]],
    colleagues: dict[int, str],
) -> dict[str, list[dict[str, Any]]]:
    """Rows for ``article``, ``service_case`` and ``service_case_event``.

    The audit log stays empty: it records what the student does.
    """
    lang = 1 if chinese else 0
    settings = ServiceSettings(sla.WorkCalendar(), DEFAULT_TARGETS, DEFAULT_REOPEN_DAYS)
    now = sla.to_utc(dt.datetime.combine(today, dt.time(10)), zone)
    articles = []
    for n, (category, en, zh, kw_en, kw_zh, body_en, body_zh) in enumerate(
        ARTICLES, start=1
    ):
        created = now - dt.timedelta(days=60 + rnd.randrange(60))
        status = ARTICLE_STATES[n - 1]
        articles.append(
            {
                "id": n,
                "title": (en, zh)[lang],
                "category": category,
                "keywords": (kw_en, kw_zh)[lang],
                "body": (body_en, body_zh)[lang],
                "status": status,
                "owner_id": rnd.choice(list(colleagues)),
                "published_at": (
                    (created + dt.timedelta(days=2)).isoformat(" ")
                    if status == "published"
                    else None
                ),
                "created_at": created.isoformat(" "),
                "updated_at": created.isoformat(" "),
            }
        )
    published = [a for a in articles if a["status"] == "published"]

    weighted = [path for path, weight in PATHS for _ in range(weight)]
    cases, events = [], []
    for case_id in range(1, N_CASES + 1):
        opened = now - dt.timedelta(minutes=rnd.randrange(60, 20 * 24 * 60))
        account_id = rnd.randrange(1, n_accounts + 1)
        contacts = contacts_by_account.get(account_id, [])
        case = Case(
            id=case_id,
            subject=rnd.choice(SUBJECTS)[lang],
            case_type=rnd.choice(
                ("question", "fault", "request", "complaint", "suggestion")
            ),
            origin=rnd.choice(("phone", "email", "web", "on_site")),
            priority=rnd.choice(("p1", "p2", "p2", "p3", "p3", "p3", "p4")),
            queue=rnd.choice(("first_line", "second_line", "technical", "billing")),
            account_id=account_id,
            contact_id=rnd.choice(contacts) if contacts else None,
            status="new",
            escalation_level=0,
            opened_at=opened,
        )
        case.number = f"CS-{sla.to_local(opened, zone).year}-{case_id:06d}"
        case.events = [
            CaseEvent(
                action="create",
                from_status=None,
                to_status="new",
                at=opened,
                actor="system",
            )
        ]
        moment = opened
        path = rnd.choice(weighted)
        for action, before, after in _walk(path):
            moment += dt.timedelta(minutes=rnd.randrange(20, 8 * 60))
            moment = min(moment, now - dt.timedelta(minutes=5))
            if action == "assign":
                case.owner_id = rnd.choice(list(colleagues))
            elif action == "escalate":
                case.escalated_from_id = case.owner_id
                case.escalation_level = 1
            elif action == "resolve":
                case.resolved_at = moment
                if published and rnd.random() < 0.5:
                    article = rnd.choice(published)
                    case.article_id = article["id"]
                    case.resolution = article["title"]
                else:
                    case.resolution = rnd.choice(RESOLUTIONS)[lang]
            elif action == "callback":
                case.satisfaction = rnd.choice((3, 4, 4, 5, 5))
            elif action == "close":
                case.closed_at = moment
            elif action == "analyze":
                case.analysis = ("Root cause recorded", "已记录根本原因")[lang]
            if action in ("request_info", "suspend"):
                case.resume_status = before
            if action != "cancel" and case.responded_at is None:
                case.responded_at = moment
            case.status = after
            case.events.append(
                CaseEvent(
                    action=action,
                    from_status=before,
                    to_status=after,
                    at=moment,
                    actor="system",
                )
            )
        if case.owner_id is None and case.status not in ("new", "cancelled"):
            case.owner_id = rnd.choice(list(colleagues))
        refresh_sla(case, settings, zone)
        row = {
            column.key: getattr(case, column.key)
            for column in Case.__table__.columns
            if column.key not in ("created_at", "updated_at")
        }
        for key, value in row.items():
            if isinstance(value, dt.datetime):
                row[key] = value.isoformat(" ")
        row["created_at"] = row["updated_at"] = opened.isoformat(" ")
        cases.append(row)
        for event in case.events:
            events.append(
                {
                    "case_id": case_id,
                    "at": event.at.isoformat(" "),
                    "action": event.action,
                    "from_status": event.from_status,
                    "to_status": event.to_status,
                    "actor": event.actor,
                }
            )
    return {
        "article": articles,
        "service_case": cases,
        "service_case_event": events,
    }
