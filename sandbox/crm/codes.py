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


def _tenant_overrides() -> dict[str, CodeList]:
    from sandbox.extensions import db
    from sandbox.models.crm import CodeItem

    rows = db.session.scalars(
        sa.select(CodeItem).order_by(CodeItem.list_key, CodeItem.position)
    ).all()
    grouped: dict[str, list[Code]] = {}
    for row in rows:
        grouped.setdefault(row.list_key, []).append(
            Code(row.code, row.label_en, row.label_zh, row.color, row.active)
        )
    return {
        key: CodeList(
            key, default_list(key).label if key in CODE_LISTS else key, tuple(c)
        )
        for key, c in grouped.items()
    }


def code_list(key: str) -> CodeList:
    """The list as the current tenant uses it (its own version, else the default)."""
    from sandbox.tenancy import current_handle

    if has_request_context() and current_handle() is not None:
        if "code_overrides" not in g:
            g.code_overrides = _tenant_overrides()
        if key in g.code_overrides:
            return g.code_overrides[key]
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
