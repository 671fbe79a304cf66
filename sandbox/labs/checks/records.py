"""Finding records and comparing values, the way a student means them.

Checks name records by what the student sees — a lead's name, an account's name, a
case's subject — never by id. Text is compared loosely (NFKC, full-width forms,
spaces of every kind, case, a full stop or other punctuation at the end), so
"ＡＣＭＥ  ltd" is "Acme Ltd", "杭州 云帆" is "杭州云帆" and "测试正常" is
"测试正常。"; codes are compared exactly, numbers with a tolerance. Values are
shown as the screen shows them: a code by its label, a stage by its name, in
each language.

A field name may be a column (``status``), a related record by its name
(``account`` for ``account_id``), or a column of a related record (``stage.code``).
Moments are stored in UTC and read in the course's time zone (else the
tenant's), as the student typed and sees them.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa

from sandbox.crm.codes import CODE_LISTS
from sandbox.i18n import lazy_gettext as _l
from sandbox.labs.checks.base import CheckContext
from sandbox.labs.messages import Bilingual, translate
from sandbox.models.crm import CodeItem, TenantInfo, tenant_metadata
from sandbox.models.crm.base import model_for_table
from sandbox.text import fold, name_key

#: Friendlier names lesson authors may use for tables.
ENTITY_ALIASES = {"case": "service_case", "case_event": "service_case_event"}
#: Nouns for tables no CRM module registers (link tables, events …).
ENTITY_NOUNS = {
    "account": _l("account"),
    "contact": _l("contact"),
    "lead": _l("lead"),
    "opportunity": _l("opportunity"),
    "competitor": _l("competitor"),
    "product": _l("product"),
    "service_case": _l("case"),
    "article": _l("article"),
    "line_item": _l("line item"),
    "quote": _l("quote"),
    "opportunity_competitor": _l("competitor on the opportunity"),
    "account_relation": _l("account relationship"),
    "stage": _l("stage"),
    "colleague": _l("colleague"),
    "campaign": _l("campaign"),
    "campaign_member": _l("campaign member"),
    "quota": _l("quota"),
    "forecast_submission": _l("submitted forecast"),
    "activity": _l("activity"),
    "diary_entry": _l("diary entry"),
}
EMPTY = _l("(empty)")
_CJK = r"\u2e80-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef"
_SPACE_NEAR_CJK = re.compile(rf"(?<=[{_CJK}])\s+|\s+(?=[{_CJK}])")


class EntityError(ValueError):
    """A lesson names a table or a field the tenant schema does not have."""


def table_for(entity: str) -> sa.Table:
    name = ENTITY_ALIASES.get(entity, entity)
    table = tenant_metadata().tables.get(name)
    if table is None or name in ("audit_log", "tenant_info"):
        raise EntityError(f"unknown entity {entity!r}")
    return table


def noun(entity: str) -> Any:
    """The record kind as a sentence names it ("lead"), as a translatable text."""
    name = ENTITY_ALIASES.get(entity, entity)
    return ENTITY_NOUNS.get(name, name.replace("_", " "))


def _display(table: sa.Table) -> sa.ColumnElement:
    model = model_for_table(table.name)
    if model is not None:
        try:
            return model.display_expression()
        except AttributeError:
            pass
    if "name" in table.c:
        return table.c.name
    raise EntityError(f"{table.name} records have no name to refer to them by")


def _foreign(table: sa.Table, key: str) -> tuple[sa.Column, sa.Table]:
    column = table.c.get(f"{key}_id")
    if column is None or not column.foreign_keys:
        raise EntityError(f"{table.name} has no field {key!r}")
    return column, next(iter(column.foreign_keys)).column.table


@dataclass(frozen=True)
class FieldRef:
    """A field as a lesson names it, resolved against the tenant schema."""

    key: str
    expression: sa.ColumnElement
    #: The column whose ``info`` labels the field and names its code list.
    column: sa.Column | None
    #: The referenced column, for ``stage.code``-style fields.
    target: sa.Column | None = None

    @property
    def codes(self) -> str | None:
        column = self.target if self.target is not None else self.column
        return column.info.get("codes") if column is not None else None

    @property
    def is_code(self) -> bool:
        """Whether the field holds a code (of a code list, or a linked record's
        ``code`` such as ``stage.code``), compared exactly."""
        return bool(self.codes) or (
            self.target is not None and self.target.name == "code"
        )

    @property
    def label(self) -> Any:
        if self.column is not None and self.column.info.get("label") is not None:
            return self.column.info["label"]
        if self.key == "name":
            return _l("Name")
        return self.key.replace("_", " ").replace(".", " ")


@functools.lru_cache(maxsize=1024)
def field_ref(table: sa.Table, key: str) -> FieldRef:
    """:raise EntityError: the table has no such field (cached: the schema is fixed)."""
    if "." in key:
        relation, _, attr = key.partition(".")
        fk, target = _foreign(table, relation)
        if attr not in target.c:
            raise EntityError(f"{target.name} has no field {attr!r}")
        alias = target.alias()
        expression = (
            sa.select(alias.c[attr])
            .where(alias.c.id == fk)
            .scalar_subquery()
            .label(key)
        )
        return FieldRef(key, expression, fk, target.c[attr])
    if key in table.c:
        return FieldRef(key, table.c[key], table.c[key])
    if key == "name":
        return FieldRef(key, _display(table).label("name"), None)
    fk, target = _foreign(table, key)
    alias = target.alias()
    display = _display(target)
    display = display._annotate({}) if hasattr(display, "_annotate") else display
    expression = (
        sa.select(_replace_table(display, target, alias))
        .where(alias.c.id == fk)
        .scalar_subquery()
        .label(key)
    )
    return FieldRef(key, expression, fk)


def _replace_table(expression: Any, table: sa.Table, alias: Any) -> Any:
    from sqlalchemy.sql.util import ClauseAdapter

    return ClauseAdapter(alias).traverse(expression)


def validate_fields(entity: Any, keys: list[str]) -> list[str]:
    """Problems with an entity and its field names, for a lesson's author."""
    if not isinstance(entity, str):
        return ["entity must be a table name"]
    try:
        table = table_for(entity)
    except EntityError as error:
        return [str(error)]
    problems = []
    for key in keys:
        try:
            field_ref(table, key)
        except EntityError as error:
            problems.append(str(error))
    return problems


# ----------------------------------------------------------------------- comparing


@functools.lru_cache(maxsize=65536)
def normalise(text: str) -> str:
    """Text as a comparison key: NFKC (full-width to ASCII), one space, casefolded,
    and no spaces beside Chinese characters ("杭州 云帆" is "杭州云帆")."""
    return _SPACE_NEAR_CJK.sub("", fold(text))


@functools.lru_cache(maxsize=65536)
def text_key(text: str) -> str:
    """Free text as a comparison key: :func:`normalise`, and punctuation at the
    end ignored ("打印测试正常" is "打印测试正常。", "Done" is "done!")."""
    return _SPACE_NEAR_CJK.sub("", name_key(text))


def as_number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float, Decimal)):
        return float(value)
    if isinstance(value, str):
        text = normalise(value).replace(",", "").replace("¥", "").replace("$", "")
        text = text.removesuffix("%").strip()
        try:
            number = float(Decimal(text))
        except (InvalidOperation, ValueError):
            return None
        return number if math.isfinite(number) else None
    return None


def same(
    expected: Any,
    found: Any,
    ref: FieldRef | None = None,
    *,
    tolerance: float = 0.0,
    relative: float = 0.0,
) -> bool:
    """Whether ``found`` is what ``expected`` asks for: every check compares here.

    Numbers within the tolerance, dates and moments as a prefix, codes (``ref``
    says whether the field holds one) exactly, other text loosely
    (:func:`text_key`).
    """
    if expected is None or expected == "":
        return found is None or (isinstance(found, str) and not found.strip())
    if found is None:
        return False
    if isinstance(expected, bool) or isinstance(found, bool):
        return bool(found) == (
            expected
            if isinstance(expected, bool)
            else normalise(str(expected)) in ("true", "1", "yes")
        )
    if isinstance(found, dt.datetime):
        # "2026-03-02 09:30" or "2026-03-02T09:30": a prefix of the moment.
        wanted = normalise(str(expected)).replace("t", " ")
        return wanted == found.isoformat(sep=" ")[: len(wanted)]
    if isinstance(found, dt.date):
        return normalise(str(expected)) == found.isoformat()[: len(str(expected))]
    numeric_found = isinstance(found, (int, float, Decimal))
    if isinstance(expected, (int, float)) or numeric_found:
        a, b = as_number(expected), as_number(found)
        if a is None or b is None:
            return False
        allowed = max(tolerance, relative * abs(a), 1e-9)
        return abs(a - b) <= allowed
    if ref is not None and ref.is_code:
        return str(expected).strip() == str(found).strip()
    return text_key(str(expected)) == text_key(str(found))


def shown(value: Any, ref: FieldRef | None = None, ctx: Any = None) -> Any:
    """A value as the student sees it, in each language: a code by its label (the
    tenant's own labels when ``ctx`` is given), a linked record's code by that
    record's name (a stage's code by the stage's name)."""
    if value is None or value == "":
        return EMPTY
    codes = ref.codes if ref is not None else None
    if codes:
        label = _code_labels(ctx, codes).get(str(value))
        if label is not None:
            return label
    elif ref is not None and ref.is_code and ctx is not None:
        label = _record_names(ctx, ref.target.table).get(str(value))
        if label is not None:
            return label
    if isinstance(value, bool):
        return Bilingual("yes", "是") if value else Bilingual("no", "否")
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:16].replace("T", " ")
    return str(value)


def _code_labels(ctx: CheckContext | None, key: str) -> dict[str, Bilingual]:
    """A code list's labels by code: the tenant's own version, else the default."""
    cache_key = ("codes", key)
    if ctx is not None and cache_key in ctx.cache:
        return ctx.cache[cache_key]
    rows: list = []
    if ctx is not None:
        rows = ctx.connection.execute(
            sa.select(CodeItem.code, CodeItem.label_en, CodeItem.label_zh).where(
                CodeItem.list_key == key
            )
        ).all()
    if not rows and key in CODE_LISTS:
        rows = [(c.code, c.en, c.zh) for c in CODE_LISTS[key]]
    labels = {code: Bilingual(en, zh or en) for code, en, zh in rows}
    if ctx is not None:
        ctx.cache[cache_key] = labels
    return labels


def _record_names(ctx: CheckContext, table: sa.Table) -> dict[str, Any]:
    """The names of ``table``'s records by their code (a stage's "Proposal/Price
    Quote" and "方案/报价" for ``proposal``)."""
    cache_key = ("names", table.name)
    if cache_key not in ctx.cache:
        names: dict[str, Any] = {}
        if "name" in table.c:
            zh = table.c.name_zh if "name_zh" in table.c else table.c.name
            query = sa.select(table.c.code, table.c.name, zh)
            for code, en, chinese in ctx.connection.execute(query):
                names[str(code)] = Bilingual(en, chinese or en)
        ctx.cache[cache_key] = names
    return ctx.cache[cache_key]


def quoted(value: Any) -> Bilingual:
    """A shown value in quotation marks of each language."""
    return Bilingual(f"“{translate(value, 'en')}”", f"“{translate(value, 'zh')}”")


# ------------------------------------------------------------------------- finding


@dataclass(frozen=True)
class Match:
    """Rows of one entity, with how well each meets the conditions."""

    table: sa.Table
    #: Rows whose identifying field matched, each a mapping of the fetched fields.
    rows: list[Mapping[str, Any]]
    refs: dict[str, FieldRef]


@functools.lru_cache(maxsize=1024)
def _query(table: sa.Table, keys: tuple[str, ...]) -> tuple[sa.Select, dict]:
    refs = {key: field_ref(table, key) for key in keys}
    return sa.select(*(ref.expression.label(key) for key, ref in refs.items())), refs


def fetch(ctx: CheckContext, entity: str, keys: list[str]) -> Match:
    """Every row of ``entity`` with ``id`` and the fields ``keys`` (cached per
    context: the checks of one tenant read each table once)."""
    table = table_for(entity)
    wanted = tuple(dict.fromkeys(["id", *keys]))
    cache_key = ("rows", table.name, wanted)
    cached = ctx.cache.get(cache_key)
    if cached is None:
        query, refs = _query(table, wanted)
        result = ctx.connection.execute(query).all()
        zone = local_zone(ctx)
        rows = [
            {
                key: _local(value, zone) if isinstance(value, dt.datetime) else value
                for key, value in zip(wanted, row, strict=True)
            }
            for row in result
        ]
        cached = ctx.cache[cache_key] = Match(table, rows, refs)
    return cached


def local_zone(ctx: CheckContext) -> ZoneInfo | None:
    """The course's time zone, else the tenant's (``timezone`` in its
    ``tenant_info``, the scenario's); None for UTC."""
    if "zone" not in ctx.cache:
        name = ctx.timezone or ctx.connection.scalar(
            sa.select(TenantInfo.value).where(TenantInfo.key == "timezone")
        )
        try:
            zone = ZoneInfo(name) if name and name != "UTC" else None
        except (ZoneInfoNotFoundError, ValueError):
            zone = None
        ctx.cache["zone"] = zone
    return ctx.cache["zone"]


def _local(moment: dt.datetime, zone: ZoneInfo | None) -> dt.datetime:
    """A stored (naive UTC) moment as wall-clock time in ``zone``."""
    if zone is None:
        return moment
    return moment.replace(tzinfo=dt.timezone.utc).astimezone(zone).replace(tzinfo=None)


def matcher(expected: Any, ref: FieldRef | None = None) -> Any:
    """A test ``found -> bool`` for ``expected`` (as :func:`same`), prepared once
    for many rows."""
    if isinstance(expected, str) and expected.strip() and not (ref and ref.is_code):
        key, number = text_key(expected), as_number(expected)

        def test(found: Any) -> bool:
            if isinstance(found, str):
                return text_key(found) == key
            if found is None:
                return False
            if number is not None and isinstance(found, (int, float, Decimal)):
                return abs(float(found) - number) <= 1e-9
            return same(expected, found)

        return test
    return lambda found: same(expected, found, ref)


def find(
    ctx: CheckContext, entity: str, where: Mapping[str, Any], extra: list[str] = ()
) -> tuple[Match, list[Mapping[str, Any]]]:
    """The rows of ``entity`` that meet every condition of ``where``."""
    match = fetch(ctx, entity, [*where, *extra])
    tests = [(key, matcher(value, match.refs[key])) for key, value in where.items()]
    rows = [row for row in match.rows if all(test(row[key]) for key, test in tests)]
    return match, rows


def identify(
    ctx: CheckContext, entity: str, where: Mapping[str, Any], extra: list[str] = ()
) -> tuple[Match, list[Mapping[str, Any]]]:
    """The rows matching ``where``'s first condition — how the record is named —
    so a check can say what is wrong with a record that exists but differs."""
    first = dict(list(where.items())[:1])
    match = fetch(ctx, entity, [*where, *extra])
    tests = [(key, matcher(value, match.refs[key])) for key, value in first.items()]
    rows = [row for row in match.rows if all(test(row[key]) for key, test in tests)]
    return match, rows


def record_name(where: Mapping[str, Any]) -> Any:
    """How a message names the record: the value of ``where``'s first condition."""
    if not where:
        return ""
    value = next(iter(where.values()))
    return quoted(shown(value))
