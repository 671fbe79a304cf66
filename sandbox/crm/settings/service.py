"""Settings rules: the company's own code lists, its stage table and its team."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from sandbox.crm.audit import define_action, record_action
from sandbox.crm.codes import CODE_LISTS, Code, code_label, default_list
from sandbox.crm.display import join_list
from sandbox.crm.service import apply_changes, commit, related_records
from sandbox.extensions import db
from sandbox.i18n import lazy_gettext as _l
from sandbox.models import utcnow
from sandbox.models.crm import CodeItem, TenantModel
from sandbox.models.crm.sales import Opportunity, Stage, StageHistory
from sandbox.models.crm.team import CodeListVersion, Colleague
from sandbox.text import has_control_characters

define_action("edit_code_list", _l("Edited %(entity)s %(record)s"))
define_action("reset_code_list", _l("Reset %(entity)s %(record)s to the default"))
define_action("deactivate_colleague", _l("Deactivated %(entity)s %(record)s"))
define_action("activate_colleague", _l("Reactivated %(entity)s %(record)s"))

#: Bootstrap colours a code's badge may take, with their names.
COLOURS = {
    "primary": _l("Blue"),
    "secondary": _l("Grey"),
    "success": _l("Green"),
    "danger": _l("Red"),
    "warning": _l("Yellow"),
    "info": _l("Cyan"),
    "light": _l("Light"),
    "dark": _l("Dark"),
}
CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_LABEL = 100


# ----------------------------------------------------------------- code lists


def _folded(name: str | None) -> str:
    """``name`` as compared for sameness: ignoring case and surrounding spaces."""
    return (name or "").strip().casefold()


@dataclass
class CodeRow:
    """One entry as the code-list editor posts it."""

    code: str
    en: str
    zh: str
    color: str | None = None
    active: bool = True
    remove: bool = False
    new: bool = False


class CodeListInvalid(ValueError):
    """The edited list breaks a rule; ``errors`` maps a row's code (or ``""`` for the
    whole list) to the messages about it. Nothing is written."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(f"the code list breaks a rule ({len(errors)} entries)")
        self.errors = errors


def code_columns(list_key: str) -> list[sa.Column]:
    """Every tenant column whose values come from code list ``list_key``."""
    found = []
    for mapper in db.Model.registry.mappers:
        if not issubclass(mapper.class_, TenantModel):
            continue
        for col in mapper.local_table.columns:
            if col.info.get("codes") == list_key:
                found.append(col)
    return found


def codes_in_use(session: Session, list_key: str) -> dict[str, int]:
    """How many records hold each code of the list (codes no record holds left out)."""
    used: dict[str, int] = {}
    for col in code_columns(list_key):
        rows = session.execute(
            sa.select(col, sa.func.count()).where(col.is_not(None)).group_by(col)
        )
        for code, count in rows:
            used[code] = used.get(code, 0) + count
    return used


def current_codes(session: Session, list_key: str) -> list[Code]:
    """The list as the tenant has it now: its own rows, else the default."""
    # Plain columns, not CodeItem objects: saving replaces the rows wholesale.
    rows = session.execute(
        sa.select(
            CodeItem.code,
            CodeItem.label_en,
            CodeItem.label_zh,
            CodeItem.color,
            CodeItem.active,
        )
        .where(CodeItem.list_key == list_key)
        .order_by(CodeItem.position)
    ).all()
    if not rows:
        return list(default_list(list_key).codes)
    return [Code(*row) for row in rows]


def is_customised(session: Session, list_key: str) -> bool:
    return bool(
        session.scalar(
            sa.select(sa.func.count())
            .select_from(CodeItem)
            .where(CodeItem.list_key == list_key)
        )
    )


def version_of(session: Session, list_key: str) -> CodeListVersion | None:
    return session.scalar(
        sa.select(CodeListVersion).where(CodeListVersion.list_key == list_key)
    )


def _validate(
    session: Session, list_key: str, rows: list[CodeRow]
) -> dict[str, list[str]]:
    errors: dict[str, list[Any]] = {}

    def fail(code: str, message: Any) -> None:
        errors.setdefault(code, []).append(message)

    existing = {c.code for c in current_codes(session, list_key)}
    seen: set[str] = set()
    # Drop-downs show labels only: two entries with one label look the same.
    english: set[str] = set()
    chinese: set[str] = set()
    used = codes_in_use(session, list_key)
    for row in rows:
        if row.new:
            if not CODE_PATTERN.match(row.code):
                fail(
                    row.code,
                    _l(
                        "A code is 1 to 40 lower-case letters, digits or "
                        "underscores, starting with a letter (such as "
                        "“trade_fair”)."
                    ),
                )
            elif row.code in existing:
                fail(
                    row.code,
                    _l("The code “%(code)s” is already in the list.", code=row.code),
                )
        elif row.code not in existing:
            fail(row.code, _l("The code “%(code)s” is not in the list.", code=row.code))
        if row.code in seen:
            fail(row.code, _l("The code “%(code)s” appears twice.", code=row.code))
        seen.add(row.code)
        for label in (row.en, row.zh):
            if not label.strip():
                fail(row.code, _l("Give the entry an English and a Chinese label."))
                break
            if len(label) > MAX_LABEL:
                fail(row.code, _l("A label has at most 100 characters."))
                break
            if has_control_characters(label):
                fail(
                    row.code,
                    _l("Remove the control characters (such as NUL) from this field."),
                )
                break
        if not row.remove:
            en, zh = _folded(row.en), _folded(row.zh)
            if en and en in english:
                fail(
                    row.code,
                    _l(
                        "Another entry has the English label “%(label)s”.",
                        label=row.en.strip(),
                    ),
                )
            if zh and zh in chinese:
                fail(
                    row.code,
                    _l(
                        "Another entry has the Chinese label “%(label)s”.",
                        label=row.zh.strip(),
                    ),
                )
            english.add(en)
            chinese.add(zh)
        if row.color is not None and row.color not in COLOURS:
            fail(row.code, _l("Choose a colour from the list."))
        if row.remove and used.get(row.code):
            fail(
                row.code,
                _l(
                    "“%(code)s” is used by %(count)d records: deactivate it "
                    "instead of removing it.",
                    code=row.code,
                    count=used[row.code],
                ),
            )
    for code in sorted(existing - seen):
        if used.get(code):
            fail(
                code,
                _l(
                    "“%(code)s” is used by %(count)d records: deactivate it "
                    "instead of removing it.",
                    code=code,
                    count=used[code],
                ),
            )
    if not any(row.active and not row.remove for row in rows):
        fail("", _l("Keep at least one active entry in the list."))
    return errors


def save_code_list(
    session: Session, list_key: str, rows: list[CodeRow]
) -> CodeListVersion:
    """Make ``rows`` (in order) the company's version of the list, in one transaction.

    :raise CodeListInvalid: a rule is broken (nothing is written)
    """
    default_list(list_key)  # KeyError for an unknown list
    errors = _validate(session, list_key, rows)
    if errors:
        raise CodeListInvalid(errors)
    before = {c.code: c for c in current_codes(session, list_key)}
    kept = [row for row in rows if not row.remove]
    try:
        session.execute(sa.delete(CodeItem).where(CodeItem.list_key == list_key))
        for position, row in enumerate(kept, start=1):
            session.add(
                CodeItem(
                    list_key=list_key,
                    code=row.code,
                    label_en=row.en.strip(),
                    label_zh=row.zh.strip(),
                    position=position,
                    color=row.color,
                    active=row.active,
                )
            )
        version = version_of(session, list_key) or CodeListVersion(list_key=list_key)
        session.add(version)
        session.flush()
        changed = [
            row.code
            for row in kept
            if row.code in before
            and (
                before[row.code].en,
                before[row.code].zh,
                before[row.code].color,
                before[row.code].active,
            )
            != (row.en.strip(), row.zh.strip(), row.color, row.active)
        ]
        order_before = [c for c in before if c in {r.code for r in kept}]
        record_action(
            version,
            "edit_code_list",
            {
                "list": list_key,
                "added": [r.code for r in kept if r.code not in before],
                "removed": [c for c in before if c not in {r.code for r in kept}],
                "changed": changed,
                "reordered": order_before != [r.code for r in kept if r.code in before],
                "deactivated": [r.code for r in kept if not r.active],
            },
        )
        version.updated_at = utcnow()
    except Exception:
        session.rollback()
        raise
    commit(session)
    return version


def reset_code_list(session: Session, list_key: str) -> CodeListVersion | None:
    """Drop the company's version: the list is the default again.

    :raise CodeListInvalid: records hold codes the default list does not have
    """
    defaults = {c.code for c in default_list(list_key)}
    version = version_of(session, list_key)
    if not is_customised(session, list_key):
        return version
    orphans = sorted(c for c in codes_in_use(session, list_key) if c not in defaults)
    if orphans:
        raise CodeListInvalid(
            {
                "": [
                    _l(
                        "Records use codes the default list does not have "
                        "(%(codes)s); change those records first.",
                        codes=join_list(orphans),
                    )
                ]
            }
        )
    try:
        session.execute(sa.delete(CodeItem).where(CodeItem.list_key == list_key))
        version = version or CodeListVersion(list_key=list_key)
        session.add(version)
        session.flush()
        record_action(version, "reset_code_list", {"list": list_key})
    except Exception:
        session.rollback()
        raise
    commit(session)
    return version


def move_code(session: Session, list_key: str, code: str, step: int) -> bool:
    """Move one entry a place up (``step`` -1) or down (+1) in the company's version
    of the list; False when it is already first or last (nothing is written).

    :raise KeyError: no such list or entry
    """
    rows = [
        CodeRow(c.code, c.en, c.zh, c.color, c.active)
        for c in current_codes(session, list_key)
    ]
    index = next((i for i, row in enumerate(rows) if row.code == code), None)
    if index is None:
        raise KeyError(f"code list {list_key!r} has no entry {code!r}")
    other = index + step
    if not 0 <= other < len(rows):
        return False
    rows[index], rows[other] = rows[other], rows[index]
    save_code_list(session, list_key, rows)
    return True


def reset_all_code_lists(session: Session) -> list[str]:
    """Make every code list the default again (全部复位), all or none; returns the
    keys of the lists reset.

    :raise CodeListInvalid: records hold codes some default list does not have
        (the messages name each list); nothing is reset then.
    """
    keys = sorted(
        set(session.scalars(sa.select(CodeItem.list_key).distinct())) & set(CODE_LISTS)
    )
    problems = []
    for key in keys:
        defaults = {c.code for c in default_list(key)}
        orphans = sorted(c for c in codes_in_use(session, key) if c not in defaults)
        if orphans:
            problems.append(
                _l(
                    "“%(list)s”: records use codes the default list does not have "
                    "(%(codes)s); change those records first.",
                    list=CODE_LISTS[key].label,
                    codes=join_list(orphans),
                )
            )
    if problems:
        raise CodeListInvalid({"": problems})
    try:
        for key in keys:
            session.execute(sa.delete(CodeItem).where(CodeItem.list_key == key))
            version = version_of(session, key) or CodeListVersion(list_key=key)
            session.add(version)
            session.flush()
            record_action(version, "reset_code_list", {"list": key})
    except Exception:
        session.rollback()
        raise
    commit(session)
    return keys


def code_list_summaries(session: Session) -> list[dict[str, Any]]:
    """Every code list with its size, active entries and whether the company keeps
    its own version, by name in the current language (one query)."""
    own = {
        key: (size, int(active or 0))
        for key, size, active in session.execute(
            sa.select(
                CodeItem.list_key,
                sa.func.count(),
                sa.func.sum(sa.cast(CodeItem.active, sa.Integer)),
            ).group_by(CodeItem.list_key)
        )
    }
    summaries = []
    for key in code_list_keys():
        codes = default_list(key).codes
        size, active = own.get(key, (len(codes), sum(1 for c in codes if c.active)))
        summaries.append(
            {
                "key": key,
                "label": CODE_LISTS[key].label,
                "size": size,
                "active": active,
                "own": key in own,
            }
        )
    return summaries


def code_list_keys() -> list[str]:
    """Every code list, by its name in the current language."""
    return sorted(CODE_LISTS, key=lambda k: str(CODE_LISTS[k].label).lower())


# ----------------------------------------------------------------- stages

STAGE_FIELDS = ("name", "name_zh", "probability", "forecast_category")
OPEN, WON, LOST = "open", "won", "lost"


#: What a closed stage's deals are worth and how they count in the forecast.
CLOSED_STAGE_VALUES = {WON: (100, "closed"), LOST: (0, "omitted")}


class StageRuleBroken(ValueError):
    """The change would break a rule of the stage table; ``field`` is the form
    field the message belongs beside (or None). Nothing is written.

    ``problems`` lists every ``(field, message)`` found, this one first.
    """

    def __init__(
        self,
        message: Any,
        field: str | None = None,
        *,
        more: Iterable[tuple[str | None, Any]] = (),
    ) -> None:
        super().__init__(message)
        self.message, self.field = message, field
        self.problems = [(field, message), *more]


def stage_kind(stage: Stage) -> str:
    if not stage.is_closed:
        return OPEN
    return WON if stage.is_won else LOST


def ordered_stages(session: Session) -> list[Stage]:
    return list(session.scalars(sa.select(Stage).order_by(Stage.position, Stage.id)))


def stage_usage(session: Session) -> dict[int, int]:
    """Deals at each stage (stages no deal is at left out)."""
    return dict(
        session.execute(
            sa.select(Opportunity.stage_id, sa.func.count()).group_by(
                Opportunity.stage_id
            )
        ).all()
    )


def stage_in_use(session: Session, stage: Stage) -> bool:
    """Whether a deal is at the stage or its history mentions it."""
    return bool(
        session.scalar(
            sa.select(sa.func.count())
            .select_from(Opportunity)
            .where(Opportunity.stage_id == stage.id)
        )
        or session.scalar(
            sa.select(sa.func.count())
            .select_from(StageHistory)
            .where(StageHistory.stage_id == stage.id)
        )
    )


def _check_closed_stages(kinds: list[str]) -> None:
    if kinds.count(WON) != 1:
        raise StageRuleBroken(
            _l("The sales process needs exactly one closed-won stage."), "kind"
        )
    if kinds.count(LOST) < 1:
        raise StageRuleBroken(
            _l("The sales process needs at least one closed-lost stage."), "kind"
        )


def _closed_value_problems(data: dict[str, Any]) -> list[tuple[str, Any]]:
    """A closed stage's probability and forecast category follow from its kind,
    so a deal closed there is never counted as still open."""
    if data["kind"] not in CLOSED_STAGE_VALUES:
        return []
    probability, category = CLOSED_STAGE_VALUES[data["kind"]]
    label = code_label("forecast_category", category)
    problems = []
    if data.get("probability") != probability:
        problems.append(
            (
                "probability",
                _l("A closed-won stage has a probability of 100 %.")
                if data["kind"] == WON
                else _l("A closed-lost stage has a probability of 0 %."),
            )
        )
    if data.get("forecast_category") != category:
        problems.append(
            (
                "forecast_category",
                _l(
                    "A closed-won stage has the forecast category “%(category)s”.",
                    category=label,
                )
                if data["kind"] == WON
                else _l(
                    "A closed-lost stage has the forecast category “%(category)s”.",
                    category=label,
                ),
            )
        )
    return problems


def _name_problems(
    stages: list[Stage], data: dict[str, Any], stage_id: int | None
) -> list[tuple[str, Any]]:
    """No two stages share an English or a Chinese name (ignoring case and
    surrounding spaces): stage drop-downs show names only."""
    problems = []
    others = [s for s in stages if s.id != stage_id]
    if any(_folded(s.name) == _folded(data.get("name")) for s in others):
        problems.append(
            (
                "name",
                _l(
                    "A stage named “%(name)s” already exists.",
                    name=(data.get("name") or "").strip(),
                ),
            )
        )
    if any(_folded(s.name_zh) == _folded(data.get("name_zh")) for s in others):
        problems.append(
            (
                "name_zh",
                _l(
                    "A stage with the Chinese name “%(name)s” already exists.",
                    name=(data.get("name_zh") or "").strip(),
                ),
            )
        )
    return problems


def _check_stage(
    stages: list[Stage], data: dict[str, Any], stage_id: int | None = None
) -> None:
    """:raise StageRuleBroken: with every name and value problem of ``data``"""
    problems = _name_problems(stages, data, stage_id) + _closed_value_problems(data)
    if problems:
        (field_name, message), *more = problems
        raise StageRuleBroken(message, field_name, more=more)


def _apply_kind(stage: Stage, kind: str) -> None:
    stage.is_closed = kind in (WON, LOST)
    stage.is_won = kind == WON


def _validate_code(session: Session, code: str) -> None:
    if not CODE_PATTERN.match(code):
        raise StageRuleBroken(
            _l(
                "A code is 1 to 40 lower-case letters, digits or underscores, "
                "starting with a letter (such as “trade_fair”)."
            ),
            "code",
        )
    if session.scalar(sa.select(Stage.id).where(Stage.code == code)):
        raise StageRuleBroken(
            _l("A stage with the code “%(code)s” already exists.", code=code), "code"
        )


def create_stage(session: Session, data: dict[str, Any]) -> Stage:
    """Add a stage: an open one goes before the closed stages, a closed one last.

    :raise StageRuleBroken: bad or taken code, a second won stage, a name another
        stage has, or a closed stage's probability or forecast category that does
        not fit its kind
    """
    stages = ordered_stages(session)
    kind = data["kind"]
    try:
        _validate_code(session, data["code"])
        _check_closed_stages([stage_kind(s) for s in stages] + [kind])
        _check_stage(stages, data)
    except StageRuleBroken:
        session.rollback()
        raise
    stage = Stage(code=data["code"])
    apply_changes(stage, data, STAGE_FIELDS)
    _apply_kind(stage, kind)
    if kind == OPEN:
        at = next((i for i, s in enumerate(stages) if s.is_closed), len(stages))
    else:
        at = len(stages)
    stages.insert(at, stage)
    session.add(stage)
    _renumber(stages)
    commit(session)
    return stage


def update_stage(session: Session, stage: Stage, data: dict[str, Any]) -> Stage:
    """:raise StageRuleBroken: the kind of a stage deals use changed, the
    won/lost rule would break, a name another stage has, or a closed stage's
    probability or forecast category that does not fit its kind (nothing is
    written)."""
    kind = data["kind"]
    try:
        if kind != stage_kind(stage):
            if stage_in_use(session, stage):
                raise StageRuleBroken(
                    _l(
                        "Deals are at this stage: it cannot change between open, "
                        "won and lost."
                    ),
                    "kind",
                )
            kinds = [
                kind if s.id == stage.id else stage_kind(s)
                for s in ordered_stages(session)
            ]
            _check_closed_stages(kinds)
        _check_stage(ordered_stages(session), data, stage.id)
    except StageRuleBroken:
        session.rollback()
        raise
    apply_changes(stage, data, STAGE_FIELDS)
    _apply_kind(stage, kind)
    commit(session)
    return stage


def delete_stage(session: Session, stage: Stage) -> None:
    """:raise StageRuleBroken: deals use the stage, or it is the won stage or the
    last lost stage (nothing is written)."""
    if stage_in_use(session, stage):
        raise StageRuleBroken(
            _l(
                "Deals are at this stage or passed through it: it cannot be "
                "removed. Rename it instead."
            )
        )
    stages = ordered_stages(session)
    _check_closed_stages([stage_kind(s) for s in stages if s.id != stage.id])
    session.delete(stage)
    _renumber([s for s in stages if s.id != stage.id])
    commit(session)


def move_stage(session: Session, stage: Stage, step: int) -> bool:
    """Move a stage one place up (``-1``) or down (``+1``) the table; False when it
    is already first or last (nothing is written).

    :raise StageRuleBroken: the move would put a closed stage before an open one
        (the pipeline shows open stages first)
    """
    stages = ordered_stages(session)
    index = next(i for i, s in enumerate(stages) if s.id == stage.id)
    other = index + step
    if not 0 <= other < len(stages):
        return False
    earlier, later = stages[min(index, other)], stages[max(index, other)]
    if later.is_closed and not earlier.is_closed:
        raise StageRuleBroken(
            _l(
                "Closed stages come after the open ones: “%(name)s” cannot move "
                "past “%(other)s”.",
                name=stage.display_name,
                other=stages[other].display_name,
            )
        )
    stages[index], stages[other] = stages[other], stages[index]
    _renumber(stages)
    commit(session)
    return True


def _renumber(stages: list[Stage]) -> None:
    for position, stage in enumerate(stages, start=1):
        if stage.position != position:
            stage.position = position


# ----------------------------------------------------------------- team

COLLEAGUE_FIELDS = ("name", "role", "email")


class TeamRuleBroken(ValueError):
    """The change to the team is refused; nothing is written. ``field`` is the
    form field the message belongs beside (or None)."""

    def __init__(self, message: Any, field: str | None = None) -> None:
        super().__init__(message)
        self.message, self.field = message, field


#: Names of the kinds of record a colleague holds that have no module of their
#: own (the others are named by their module), by table.
HELD_KINDS = {"quota": _l("Quotas")}


@dataclass(frozen=True)
class Held:
    """How many records of one kind a colleague holds."""

    label: Any
    count: int


@dataclass
class Holdings:
    """What a colleague owns or works on, by module label."""

    groups: list[Held] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(g.count for g in self.groups)


def holdings(session: Session, colleague: Colleague) -> Holdings:
    return Holdings(
        [
            Held(HELD_KINDS.get(group.model.__table__.name, group.label), group.count)
            for group in related_records(session, colleague)
        ]
    )


def _check_colleague(
    session: Session, data: dict[str, Any], colleague_id: int | None
) -> None:
    """No two colleagues share a name or an email (ignoring case and surrounding
    spaces): owner drop-downs show names only."""
    others = [
        (name, email)
        for id_, name, email in session.execute(
            sa.select(Colleague.id, Colleague.name, Colleague.email)
        )
        if id_ != colleague_id
    ]
    name, email = _folded(data.get("name")), _folded(data.get("email"))
    if any(_folded(other) == name for other, _email in others):
        raise TeamRuleBroken(
            _l(
                "A colleague named “%(name)s” already exists.",
                name=(data.get("name") or "").strip(),
            ),
            "name",
        )
    if email and any(_folded(other) == email for _name, other in others):
        raise TeamRuleBroken(
            _l(
                "A colleague with the email “%(email)s” already exists.",
                email=(data.get("email") or "").strip(),
            ),
            "email",
        )


def create_colleague(session: Session, data: dict[str, Any]) -> Colleague:
    """:raise TeamRuleBroken: another colleague has the name or the email"""
    try:
        _check_colleague(session, data, None)
    except TeamRuleBroken:
        session.rollback()
        raise
    colleague = Colleague(active=True, is_self=False)
    apply_changes(colleague, data, COLLEAGUE_FIELDS)
    session.add(colleague)
    commit(session)
    return colleague


def update_colleague(
    session: Session, colleague: Colleague, data: dict[str, Any]
) -> Colleague:
    """:raise TeamRuleBroken: another colleague has the name or the email"""
    try:
        _check_colleague(session, data, colleague.id)
    except TeamRuleBroken:
        session.rollback()
        raise
    apply_changes(colleague, data, COLLEAGUE_FIELDS)
    commit(session)
    return colleague


def set_colleague_active(
    session: Session, colleague: Colleague, active: bool
) -> Colleague:
    """Deactivate (no longer offered as an owner) or reactivate a colleague.

    :raise TeamRuleBroken: deactivating the student's own colleague
    """
    if not active and colleague.is_self:
        raise TeamRuleBroken(_l("You cannot deactivate yourself."))
    if colleague.active == active:
        return colleague
    colleague.active = active
    record_action(colleague, "activate_colleague" if active else "deactivate_colleague")
    commit(session)
    return colleague


def delete_colleague(session: Session, colleague: Colleague) -> None:
    """:raise TeamRuleBroken: it is the student, or the colleague owns records"""
    if colleague.is_self:
        raise TeamRuleBroken(_l("You cannot delete yourself."))
    if holdings(session, colleague).total:
        raise TeamRuleBroken(
            _l(
                "%(name)s owns records: deactivate the colleague instead, so the "
                "records keep their owner.",
                name=colleague.name,
            )
        )
    session.delete(colleague)
    commit(session)
