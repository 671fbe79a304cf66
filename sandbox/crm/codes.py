"""Code lists (picklists): every coded value of the CRM, defined once.

A list has entries with a code (what the database stores), an English and a Chinese
label, an order and an optional colour (a Bootstrap colour name for badges). Forms
take their choices from here, validation accepts only these codes, lists and detail
pages show the labels, filters offer them and the scenario builder picks from them.

The defaults live in code (:data:`CODE_LISTS`). A tenant may keep its own version of
a list in its ``code_item`` table (the settings page edits it): a list with rows there
uses them instead of the defaults. The rows are read once per request.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import sqlalchemy as sa
from flask import g, has_request_context

from sandbox.i18n import current_language
from sandbox.i18n import lazy_gettext as _l


@dataclass(frozen=True)
class Code:
    code: str
    en: str
    zh: str
    color: str | None = None
    active: bool = True

    @property
    def label(self) -> str:
        """The label in the language of the current request."""
        return (
            self.zh if has_request_context() and current_language() == "zh" else self.en
        )


@dataclass(frozen=True)
class CodeList:
    key: str
    label: object  # a lazy string: the list's own name, for settings
    codes: tuple[Code, ...]

    def __iter__(self) -> Iterator[Code]:
        return iter(self.codes)

    def get(self, code: str | None) -> Code | None:
        for item in self.codes:
            if item.code == code:
                return item
        return None

    def label_of(self, code: str | None) -> str:
        """The label of ``code``; an unknown code shows as itself, never as blank."""
        item = self.get(code)
        return item.label if item else (code or "")

    def active_codes(self) -> tuple[str, ...]:
        return tuple(item.code for item in self.codes if item.active)

    def choices(self, blank: object | None = None) -> list[tuple[str, str]]:
        """``(code, label)`` pairs of the active entries, a blank first if given."""
        pairs = [(item.code, item.label) for item in self.codes if item.active]
        return [("", str(blank)), *pairs] if blank is not None else pairs


CODE_LISTS: dict[str, CodeList] = {}


def define(key: str, label: object, entries: Iterable[tuple]) -> CodeList:
    """Register a default list; each entry is ``(code, en, zh[, colour])``."""
    if key in CODE_LISTS:
        raise ValueError(f"code list {key!r} is defined twice")
    codes = tuple(Code(*entry) for entry in entries)
    if len({c.code for c in codes}) != len(codes):
        raise ValueError(f"code list {key!r} repeats a code")
    CODE_LISTS[key] = CodeList(key, label, codes)
    return CODE_LISTS[key]


def default_list(key: str) -> CodeList:
    """The list as defined in code.

    :raise KeyError: no such list; the message names the known lists.
    """
    try:
        return CODE_LISTS[key]
    except KeyError:
        known = ", ".join(sorted(CODE_LISTS))
        raise KeyError(f"unknown code list {key!r}; known lists: {known}") from None


@dataclass(frozen=True)
class TenantState:
    """What every page of a tenant may need: its facts and its own code lists."""

    info: dict[str, str]
    codes: dict[str, CodeList]


def _load_tenant_state() -> TenantState:
    """Read ``tenant_info`` and ``code_item`` in one query."""
    from sandbox.extensions import db
    from sandbox.models.crm import CodeItem, TenantInfo
    from sandbox.tenancy import current_engine

    null = sa.null()
    facts = sa.select(
        sa.literal("info").label("kind"),
        TenantInfo.key.label("a"),
        TenantInfo.value.label("b"),
        null.label("c"),
        null.label("d"),
        sa.literal(0).label("position"),
        null.label("color"),
        sa.literal(True).label("active"),
    )
    codes = sa.select(
        sa.literal("code"),
        CodeItem.list_key,
        CodeItem.code,
        CodeItem.label_en,
        CodeItem.label_zh,
        CodeItem.position,
        CodeItem.color,
        CodeItem.active,
    )
    # A bare UNION reaches Session.get_bind without its clause, so the tenant
    # routing cannot see its tables: name the tenant's engine.
    rows = db.session.execute(
        sa.union_all(facts, codes).order_by("kind", "a", "position"),
        bind_arguments={"bind": current_engine()},
    ).all()
    info: dict[str, str] = {}
    grouped: dict[str, list[Code]] = {}
    for kind, a, b, c, d, _position, color, active in rows:
        if kind == "info":
            info[a] = b
        else:
            grouped.setdefault(a, []).append(Code(b, c, d, color, bool(active)))
    lists = {
        key: CodeList(
            key, CODE_LISTS[key].label if key in CODE_LISTS else key, tuple(c)
        )
        for key, c in grouped.items()
    }
    return TenantState(info, lists)


def tenant_state() -> TenantState | None:
    """The current request's tenant state, read once per request (None without a
    workspace)."""
    from sandbox.tenancy import current_handle

    if not has_request_context() or current_handle() is None:
        return None
    state = g.get("tenant_state")
    if state is None:
        state = g.tenant_state = _load_tenant_state()
    return state


def code_list(key: str) -> CodeList:
    """The list as the current tenant uses it (its own version, else the default)."""
    state = tenant_state()
    if state is not None and key in state.codes:
        return state.codes[key]
    return default_list(key)


def code_label(key: str, code: str | None) -> str:
    return code_list(key).label_of(code)


# ----------------------------------------------------------------- the defaults
# Codes are stable identifiers (lessons and checks refer to them); labels may change.

define(
    "account_type",
    _l("Account types"),
    [
        ("prospect", "Prospect", "潜在客户", "info"),
        ("customer", "Customer", "客户", "success"),
        ("channel", "Channel partner", "渠道客户", "primary"),
        ("end_customer", "End customer", "终端客户", "success"),
        ("partner", "Partner", "合作伙伴", "secondary"),
        ("competitor", "Competitor", "竞争对手", "danger"),
        ("other", "Other", "其他", "light"),
    ],
)
define(
    "industry",
    _l("Industries"),
    [
        ("manufacturing", "Manufacturing", "制造业"),
        ("retail", "Retail", "零售"),
        ("technology", "Technology", "信息技术"),
        ("finance", "Finance", "金融"),
        ("healthcare", "Healthcare", "医疗健康"),
        ("education", "Education", "教育"),
        ("logistics", "Logistics", "物流"),
        ("energy", "Energy", "能源"),
        ("hospitality", "Hospitality", "酒店餐饮"),
        ("government", "Government", "政府机构"),
        ("telecom", "Telecommunications", "电信"),
    ],
)
define(
    "colleague_role",
    _l("Team roles"),
    [
        ("sales_rep", "Sales representative", "销售代表"),
        ("sales_manager", "Sales manager", "销售经理"),
        ("marketing", "Marketing specialist", "市场专员"),
        ("service_agent", "Service agent", "客服专员"),
        ("service_manager", "Service manager", "客服经理"),
    ],
)
define(
    "account_source",
    _l("Account sources"),
    [
        ("web", "Website", "官网"),
        ("referral", "Referral", "客户推荐"),
        ("exhibition", "Exhibition", "展会"),
        ("cold_call", "Cold call", "电话拜访"),
        ("partner", "Partner", "合作伙伴"),
        ("advertisement", "Advertisement", "广告"),
        ("other", "Other", "其他"),
    ],
)
define(
    "account_status",
    _l("Account statuses"),
    [
        ("new", "New", "新客户", "info"),
        ("developing", "Developing", "开发中", "primary"),
        ("active", "Active", "合作中", "success"),
        ("dormant", "Dormant", "休眠", "secondary"),
        ("lost", "Lost", "已流失", "danger"),
    ],
)
define(
    "account_intention",
    _l("Account intentions"),
    [
        ("high", "High", "强烈", "danger"),
        ("medium", "Medium", "一般", "warning"),
        ("low", "Low", "较弱", "secondary"),
        ("none", "None yet", "暂无", "light"),
    ],
)
define(
    "account_rating",
    _l("Account ratings"),
    [
        ("a", "A — key account", "A 类（重点客户）", "success"),
        ("b", "B — regular", "B 类（普通客户）", "primary"),
        ("c", "C — small", "C 类（小客户）", "secondary"),
    ],
)
define(
    "review_state",
    _l("Review states"),
    [
        ("pending", "Pending review", "待审核", "warning"),
        ("approved", "Approved", "审核通过", "success"),
        ("rejected", "Rejected", "驳回", "danger"),
    ],
)
define(
    "account_relation",
    _l("Account relationships"),
    [
        ("serves", "Serves (channel → end customer)", "服务（渠道 → 终端）"),
        ("subsidiary", "Subsidiary", "子公司"),
        ("affiliate", "Affiliate", "关联公司"),
    ],
)
define(
    "contact_role",
    _l("Contact roles"),
    [
        ("decision_maker", "Decision maker", "决策者"),
        ("economic_buyer", "Economic buyer", "采购决策人"),
        ("technical_buyer", "Technical evaluator", "技术评估人"),
        ("influencer", "Influencer", "影响者"),
        ("user", "User", "使用者"),
        ("other", "Other", "其他"),
    ],
)
define(
    "lead_source",
    _l("Lead sources"),
    [
        ("web", "Website", "官网"),
        ("referral", "Referral", "客户推荐"),
        ("exhibition", "Exhibition", "展会"),
        ("seminar", "Seminar", "研讨会"),
        ("email", "Email campaign", "邮件营销"),
        ("cold_call", "Cold call", "电话拜访"),
        ("advertisement", "Advertisement", "广告"),
        ("partner", "Partner", "合作伙伴"),
        ("other", "Other", "其他"),
    ],
)
define(
    "lead_status",
    _l("Lead statuses"),
    [
        ("new", "New", "新线索", "info"),
        ("contacted", "Contacted", "已联系", "primary"),
        ("qualified", "Qualified", "已确认", "success"),
        ("unqualified", "Unqualified", "无效", "secondary"),
        ("converted", "Converted", "已转化", "dark"),
    ],
)
define(
    "lead_rating",
    _l("Lead ratings"),
    [
        ("hot", "Hot", "热", "danger"),
        ("warm", "Warm", "温", "warning"),
        ("cold", "Cold", "冷", "info"),
    ],
)
define(
    "unqualified_reason",
    _l("Reasons a lead is unqualified"),
    [
        ("no_budget", "No budget", "没有预算"),
        ("no_need", "No need", "没有需求"),
        ("no_contact", "Could not reach", "无法联系"),
        ("competitor", "Chose a competitor", "已选择竞争对手"),
        ("duplicate", "Duplicate", "重复线索"),
        ("other", "Other", "其他"),
    ],
)
define(
    "forecast_category",
    _l("Forecast categories"),
    [
        ("pipeline", "Pipeline", "渠道中", "secondary"),
        ("best_case", "Best case", "最佳情况", "info"),
        ("commit", "Commit", "承诺", "primary"),
        ("closed", "Closed", "已成交", "success"),
        ("omitted", "Omitted", "不计入", "light"),
    ],
)
define(
    "opportunity_type",
    _l("Opportunity types"),
    [
        ("new_business", "New business", "新业务"),
        ("existing_business", "Existing business", "老客户业务"),
    ],
)
define(
    "lost_reason",
    _l("Lost reasons"),
    [
        ("price", "Price", "价格"),
        ("features", "Features", "功能不满足"),
        ("competitor", "Lost to a competitor", "输给竞争对手"),
        ("no_budget", "No budget", "没有预算"),
        ("no_decision", "No decision", "客户未决策"),
        ("timing", "Timing", "时机不对"),
        ("relationship", "Relationship", "客户关系"),
        ("other", "Other", "其他"),
    ],
)
define(
    "threat_level",
    _l("Threat levels"),
    [
        ("low", "Low", "低", "success"),
        ("medium", "Medium", "中", "warning"),
        ("high", "High", "高", "danger"),
    ],
)
define(
    "product_unit",
    _l("Units"),
    [
        ("each", "Each", "个"),
        ("set", "Set", "套"),
        ("license", "License", "许可"),
        ("user_month", "User per month", "用户/月"),
        ("hour", "Hour", "小时"),
        ("kg", "Kilogram", "千克"),
        ("piece", "Piece", "件"),
    ],
)
define(
    "communication_type",
    _l("Communication types"),
    [
        ("visit", "Visit", "拜访", "primary"),
        ("phone", "Phone call", "电话", "info"),
        ("email", "Email", "邮件", "secondary"),
        ("wechat", "WeChat", "微信", "success"),
        ("meeting", "Meeting", "会议", "warning"),
        ("other", "Other", "其他", "light"),
    ],
)
