"""The check kinds lessons use, each a registered class.

Every kind reads the tenant only, scores from 0 to 1 (partly right is partly
scored), and tells the student which record and field is wrong, what was expected
and what was found; the instructor detail says what was looked at.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from sandbox.i18n import lazy_gettext as _l
from sandbox.labs.checks.base import Check, CheckContext, CheckResult, Param
from sandbox.labs.checks.records import (
    EMPTY,
    ENTITY_ALIASES,
    ENTITY_NOUNS,
    EntityError,
    FieldRef,
    as_number,
    field_ref,
    find,
    identify,
    normalise,
    noun,
    quoted,
    record_name,
    same,
    shown,
    table_for,
    text_key,
    validate_fields,
)
from sandbox.labs.messages import Bilingual, bilingual, join, translate
from sandbox.models.crm import AuditLog

CHECKS: dict[str, type[Check]] = {}

NOT_FOUND = _l("No %(entity)s %(record)s was found: expected one, found none.")
WRONG_FIELD = _l(
    "In the %(entity)s %(record)s, %(field)s should be %(expected)s but is %(found)s."
)
RIGHT_RECORD = _l("The %(entity)s %(record)s is right.")
SHOULD_NOT_EXIST = _l(
    "The %(entity)s %(record)s should not exist: expected none, found %(found)s."
)
GONE = _l("There is no %(entity)s %(record)s any more, as expected.")

ENTITY = Param(("str",), required=True)
WHERE = Param(("table",), required=True)
NUMBER = Param(("number", "str"))


def register(cls: type[Check]) -> type[Check]:
    """Make ``cls`` available to lessons under ``cls.kind``."""
    if cls.kind in CHECKS and CHECKS[cls.kind] is not cls:
        raise ValueError(f"a check kind {cls.kind!r} is already registered")
    CHECKS[cls.kind] = cls
    return cls


def get_check(kind: str) -> type[Check]:
    """:raise KeyError: no such kind; the message lists the known kinds."""
    try:
        return CHECKS[kind]
    except KeyError:
        known = ", ".join(sorted(CHECKS))
        raise KeyError(f"unknown check kind {kind!r}; known kinds: {known}") from None


def _number(value: Any, name: str) -> float:
    number = as_number(value)
    if number is None:
        raise EntityError(f"{name} {value!r} is not a number")
    return number


def _fmt(number: float) -> str:
    return f"{number:,.2f}".rstrip("0").rstrip(".") if number % 1 else f"{number:,.0f}"


def _conditions(
    ctx: CheckContext, match_table: sa.Table, where: Mapping[str, Any]
) -> Any:
    """``where`` as words: Account “Acme”, Status “Qualified”."""
    parts = []
    for key, value in where.items():
        ref = field_ref(match_table, key)
        parts.append((ref.label, quoted(shown(value, ref, ctx))))
    return Bilingual(
        ", ".join(f"{translate(lbl, 'en')} {translate(v, 'en')}" for lbl, v in parts),
        "，".join(f"{translate(lbl, 'zh')}{translate(v, 'zh')}" for lbl, v in parts),
    )


def _not_found(entity: str, where: Mapping[str, Any], detail: dict) -> CheckResult:
    return CheckResult(
        0.0,
        bilingual(NOT_FOUND, entity=noun(entity), record=record_name(where)),
        {**detail, "found": None},
    )


def _field_problems(
    ctx: CheckContext,
    entity: str,
    where: Mapping[str, Any],
    row: Mapping[str, Any],
    expected: Mapping[str, Any],
    refs: Mapping[str, Any],
    tolerance: float = 0.0,
    relative: float = 0.0,
) -> tuple[int, list[dict[str, str]]]:
    right, messages = 0, []
    for key, value in expected.items():
        ref = refs[key]
        if same(value, row[key], ref, tolerance=tolerance, relative=relative):
            right += 1
            continue
        messages.append(
            bilingual(
                WRONG_FIELD,
                entity=noun(entity),
                record=record_name(where),
                field=ref.label,
                expected=quoted(shown(value, ref, ctx)),
                found=quoted(shown(row[key], ref, ctx)),
            )
        )
    return right, messages


class _RecordCheck(Check):
    """A check about records picked by ``entity`` and ``where``."""

    @classmethod
    def field_keys(cls, params: Mapping[str, Any]) -> list[str]:
        return list(params.get("where", {}))

    @classmethod
    def validate_more(cls, params: Mapping[str, Any]) -> list[str]:
        if "where" in params and not params["where"] and cls.kind != "count":
            return ["where must name the record (at least one field)"]
        return validate_fields(params.get("entity"), cls.field_keys(params))


@register
class RecordExists(_RecordCheck):
    """A record exists (or, with ``exists = false``, no longer exists).

    ``where``'s first field names the record; the others are conditions it must
    meet, each worth its share of the score.
    """

    kind = "record_exists"
    params = {"entity": ENTITY, "where": WHERE, "exists": Param(("bool",))}

    def run(self, ctx: CheckContext, params: Mapping[str, Any]) -> CheckResult:
        entity, where = params["entity"], params["where"]
        detail = {"entity": entity, "where": dict(where)}
        if not params.get("exists", True):
            _, rows = find(ctx, entity, where)
            if rows:
                return CheckResult(
                    0.0,
                    bilingual(
                        SHOULD_NOT_EXIST,
                        entity=noun(entity),
                        record=record_name(where),
                        found=str(len(rows)),
                    ),
                    {**detail, "found": [row["id"] for row in rows]},
                )
            return CheckResult(
                1.0,
                bilingual(GONE, entity=noun(entity), record=record_name(where)),
                detail,
            )
        match, rows = identify(ctx, entity, where)
        if not rows:
            return _not_found(entity, where, detail)
        conditions = dict(list(where.items())[1:])
        best, best_messages, best_row = -1, [], rows[0]
        for row in rows:
            right, messages = _field_problems(
                ctx, entity, where, row, conditions, match.refs
            )
            if right > best:
                best, best_messages, best_row = right, messages, row
        score = (1 + best) / (1 + len(conditions))
        detail["found"] = {key: _plain(value) for key, value in best_row.items()}
        if best_messages:
            return CheckResult(score, join(best_messages), detail)
        return CheckResult(
            1.0,
            bilingual(RIGHT_RECORD, entity=noun(entity), record=record_name(where)),
            detail,
        )


@register
class FieldEquals(_RecordCheck):
    """Fields of one record have the expected values.

    ``fields`` maps each field to its expected value (or ``field`` + ``expected``
    for one); text is normalised and numbers compared within ``tolerance``
    (absolute) or ``relative`` (a fraction of the expected value). Each field is
    worth its share of the score.
    """

    kind = "field_equals"
    params = {
        "entity": ENTITY,
        "where": WHERE,
        "field": Param(("str",)),
        "expected": Param(("str", "number", "bool")),
        "fields": Param(("table",)),
        "tolerance": NUMBER,
        "relative": NUMBER,
    }

    @classmethod
    def expected(cls, params: Mapping[str, Any]) -> dict[str, Any]:
        if "fields" in params:
            return dict(params["fields"])
        return {params.get("field"): params.get("expected")}

    @classmethod
    def field_keys(cls, params: Mapping[str, Any]) -> list[str]:
        return [*params.get("where", {}), *cls.expected(params)]

    @classmethod
    def validate_more(cls, params: Mapping[str, Any]) -> list[str]:
        has_one = "field" in params and "expected" in params
        if has_one == ("fields" in params):
            return ["give either 'fields' or both 'field' and 'expected'"]
        if "fields" in params and not params["fields"]:
            return ["fields must name at least one field"]
        return super().validate_more(params)

    def run(self, ctx: CheckContext, params: Mapping[str, Any]) -> CheckResult:
        entity, where = params["entity"], params["where"]
        expected = self.expected(params)
        tolerance = _number(params.get("tolerance", 0), "tolerance")
        relative = _number(params.get("relative", 0), "relative")
        detail: dict[str, Any] = {
            "entity": entity,
            "where": dict(where),
            "expected": expected,
        }
        match, rows = identify(ctx, entity, where, list(expected))
        rows = [
            r
            for r in rows
            if all(same(v, r[k], match.refs[k]) for k, v in where.items())
        ]
        if not rows:
            return _not_found(entity, where, detail)
        scored = [
            (
                *_field_problems(
                    ctx, entity, where, row, expected, match.refs, tolerance, relative
                ),
                row,
            )
            for row in rows
        ]
        right, messages, row = max(scored, key=lambda item: item[0])
        detail["found"] = {key: _plain(row[key]) for key in expected}
        if messages:
            return CheckResult(right / len(expected), join(messages), detail)
        return CheckResult(
            1.0,
            bilingual(RIGHT_RECORD, entity=noun(entity), record=record_name(where)),
            detail,
        )


COUNT_MESSAGE = _l(
    "Number of %(entities)s with %(conditions)s: expected %(expected)s, found "
    "%(found)s."
)
COUNT_ALL_MESSAGE = _l(
    "Number of %(entities)s: expected %(expected)s, found %(found)s."
)
COUNT_RIGHT = _l("There are %(found)s %(entities)s, as expected.")
AT_LEAST = _l("at least %(n)s")
AT_MOST = _l("at most %(n)s")
EXACTLY = _l("exactly %(n)s")
BETWEEN = _l("between %(low)s and %(high)s")


@register
class Count(_RecordCheck):
    """How many records meet ``where``: ``min``, ``max`` or ``equals``.

    Short of ``min`` scores the share found (2 of 3 contacts: 0.67); more than
    ``max`` or other than ``equals`` scores 0.
    """

    kind = "count"
    params = {
        "entity": ENTITY,
        "where": Param(("table",)),
        "min": Param(("number",)),
        "max": Param(("number",)),
        "equals": Param(("number",)),
    }

    @classmethod
    def validate_more(cls, params: Mapping[str, Any]) -> list[str]:
        if not {"min", "max", "equals"} & set(params):
            return ["give 'min', 'max' or 'equals'"]
        if "equals" in params and {"min", "max"} & set(params):
            return ["'equals' cannot be combined with 'min' or 'max'"]
        return super().validate_more(params)

    def run(self, ctx: CheckContext, params: Mapping[str, Any]) -> CheckResult:
        entity, where = params["entity"], params.get("where", {})
        _, rows = find(ctx, entity, where)
        found = len(rows)
        low = params.get("equals", params.get("min"))
        high = params.get("equals", params.get("max"))
        if "equals" in params:
            wanted = bilingual(EXACTLY, n=str(params["equals"]))
        elif low is not None and high is not None:
            wanted = bilingual(BETWEEN, low=str(low), high=str(high))
        elif low is not None:
            wanted = bilingual(AT_LEAST, n=str(low))
        else:
            wanted = bilingual(AT_MOST, n=str(high))
        if high is not None and found > high:
            score = 0.0
        elif low is not None and found < low:
            score = 0.0 if "equals" in params else found / low
        else:
            score = 1.0
        plural = plural_noun(entity)
        detail = {"entity": entity, "where": dict(where), "found": found}
        if score >= 1.0:
            message = bilingual(COUNT_RIGHT, found=str(found), entities=plural)
        elif where:
            message = bilingual(
                COUNT_MESSAGE,
                entities=plural,
                conditions=_conditions(ctx, table_for(entity), where),
                expected=wanted,
                found=str(found),
            )
        else:
            message = bilingual(
                COUNT_ALL_MESSAGE, entities=plural, expected=wanted, found=str(found)
            )
        return CheckResult(score, message, detail)


def plural_noun(entity: str) -> Bilingual:
    """The record kind in the plural ("opportunities"; Chinese has no plural)."""
    words = translate(noun(entity), "en").split(" ")
    last = words[-1]
    if last.endswith("y") and last[-2:-1] not in "aeiou":
        last = last[:-1] + "ies"
    elif last.endswith(("s", "x", "ch", "sh")):
        last += "es"
    else:
        last += "s"
    return Bilingual(" ".join([*words[:-1], last]), translate(noun(entity), "zh"))


NOT_LINKED = _l(
    "In the %(entity)s %(record)s, %(field)s should include %(expected)s but has "
    "%(found)s."
)
LINK_WRONG = _l(
    "The link from the %(entity)s %(record)s to %(target)s: %(field)s should be "
    "%(expected)s but is %(found)s."
)


@register
class Related(_RecordCheck):
    """A record is linked to other records.

    ``via`` is a field of the record pointing at the target (a contact's
    ``account``), or ``through`` a link table (``opportunity_competitor``) whose
    ``link`` conditions the link must meet (``threat = "high"``). ``targets`` lists
    the target records by name; each one linked is worth its share.
    """

    kind = "related"
    params = {
        "entity": ENTITY,
        "where": WHERE,
        "target": ENTITY,
        "targets": Param(("list", "str"), required=True),
        "via": Param(("str",)),
        "through": Param(("str",)),
        "link": Param(("table",)),
    }

    @classmethod
    def validate_more(cls, params: Mapping[str, Any]) -> list[str]:
        problems = super().validate_more(params)
        if ("via" in params) == ("through" in params):
            return [*problems, "give either 'via' (a field) or 'through' (a table)"]
        problems += validate_fields(params.get("target"), ["name"])
        if "through" in params:
            try:
                _link_columns(params)
            except EntityError as error:
                problems.append(str(error))
            problems += validate_fields(params["through"], list(params.get("link", {})))
        elif "link" in params:
            problems.append("'link' conditions need 'through'")
        else:
            problems += validate_fields(params.get("entity"), [params["via"]])
        return problems

    def run(self, ctx: CheckContext, params: Mapping[str, Any]) -> CheckResult:
        entity, where = params["entity"], params["where"]
        targets = params["targets"]
        targets = [targets] if isinstance(targets, str) else list(targets)
        detail: dict[str, Any] = {"entity": entity, "where": dict(where)}
        _, rows = find(ctx, entity, where)
        if not rows:
            return _not_found(entity, where, detail)
        if "via" in params:
            via = params["via"]
            match, rows = find(ctx, entity, where, [via])
            links = {row["id"]: [(row[via], {})] for row in rows}
            field = match.refs[via].label
            link_refs = {}
        else:
            links, field, link_refs = _links_through(
                ctx, params, [r["id"] for r in rows]
            )
        conditions = dict(params.get("link", {}))
        best: tuple[float, list, Any] = (-1.0, [], None)
        for row in rows:
            linked = links.get(row["id"], [])
            score, messages = 0.0, []
            for name in targets:
                hits = [extra for found, extra in linked if same(name, found)]
                if not hits:
                    names = [found for found, _ in linked if found]
                    found_text = (
                        Bilingual(", ".join(f"“{n}”" for n in names))
                        if names
                        else EMPTY
                    )
                    messages.append(
                        bilingual(
                            NOT_LINKED,
                            entity=noun(entity),
                            record=record_name(where),
                            field=field,
                            expected=quoted(name),
                            found=found_text,
                        )
                    )
                    continue
                if not conditions:
                    score += 1
                    continue
                part, problems = max(
                    (
                        _link_conditions(
                            ctx, conditions, extra, link_refs, entity, where, name
                        )
                        for extra in hits
                    ),
                    key=lambda item: item[0],
                )
                score += part
                messages.extend(problems)
            score /= len(targets)
            if score > best[0]:
                best = (score, messages, row["id"])
        score, messages, row_id = best
        detail.update(record_id=row_id, targets=targets)
        if messages:
            return CheckResult(score, join(messages), detail)
        return CheckResult(
            1.0,
            bilingual(RIGHT_RECORD, entity=noun(entity), record=record_name(where)),
            detail,
        )


def _link_columns(params: Mapping[str, Any]) -> tuple[sa.Column, sa.Column]:
    link = table_for(params["through"])
    source, target = table_for(params["entity"]), table_for(params["target"])
    from_col = to_col = None
    for column in link.c:
        for fk in column.foreign_keys:
            if fk.column.table is source and from_col is None:
                from_col = column
            elif fk.column.table is target:
                to_col = column
    if from_col is None or to_col is None:
        raise EntityError(
            f"{link.name} does not link {source.name} records to {target.name} records"
        )
    return from_col, to_col


def _links_through(
    ctx: CheckContext, params: Mapping[str, Any], ids: list[int]
) -> tuple[dict[int, list], Any, dict]:
    link = table_for(params["through"])
    from_col, to_col = _link_columns(params)
    target = table_for(params["target"])
    name = field_ref(target, "name").expression
    keys = list(params.get("link", {}))
    refs = {key: field_ref(link, key) for key in keys}
    query = (
        sa.select(
            from_col.label("_from"),
            name.label("_name"),
            *(ref.expression.label(key) for key, ref in refs.items()),
        )
        .select_from(link.join(target, target.c.id == to_col))
        .where(from_col.in_(ids))
    )
    links: dict[int, list] = {}
    for row in ctx.connection.execute(query):
        values = dict(row._mapping)
        links.setdefault(values.pop("_from"), []).append((values.pop("_name"), values))
    return links, noun(params["target"]), refs


def _link_conditions(
    ctx: CheckContext,
    conditions: Mapping[str, Any],
    values: Mapping[str, Any],
    refs: Mapping[str, Any],
    entity: str,
    where: Mapping[str, Any],
    target_name: str,
) -> tuple[float, list]:
    right, messages = 0, []
    for key, value in conditions.items():
        ref = refs[key]
        if same(value, values.get(key), ref):
            right += 1
            continue
        messages.append(
            bilingual(
                LINK_WRONG,
                entity=noun(entity),
                record=record_name(where),
                target=quoted(target_name),
                field=ref.label,
                expected=quoted(shown(value, ref, ctx)),
                found=quoted(shown(values.get(key), ref, ctx)),
            )
        )
    # A link that exists at all earns half; its conditions the other half.
    return 0.5 + 0.5 * right / len(conditions), messages


ACTION_MISSING = _l(
    "The %(entity)s %(record)s should have %(expected)s in its history, but its "
    "history has %(found)s."
)
ACTION_DETAIL_WRONG = _l(
    "The %(entity)s %(record)s had %(action)s, but with %(field)s %(found)s; "
    "expected %(expected)s."
)
EDITED_INSTEAD = _l(
    "In the %(entity)s %(record)s, %(field)s was changed to %(found)s by editing; "
    "use the %(action)s button instead: set %(field)s back to %(old)s first, then "
    "press it."
)
#: Actions named as the button that does them says (the same texts).
ACTION_NAMES = {
    "create": _l("Create"),
    "update": _l("Update"),
    "delete": _l("Delete"),
    "convert": _l("Convert"),
    "qualify": _l("Mark qualified"),
    "unqualify": _l("Mark unqualified"),
    "close_won": _l("Close as won"),
    "close_lost": _l("Close as lost"),
    "generate_quote": _l("Generate quote"),
    "relate": _l("Link accounts"),
    "share": _l("Share"),
    "submit_review": _l("Submit for review"),
    "approve": _l("Approve"),
    "move_stage": _l("Move stage"),
    "add_task": _l("New task"),
    "add_meeting": _l("New meeting"),
    "complete": _l("Mark done"),
}


#: What an action sets, so an edit that set it by hand can be told apart.
ACTION_SETS = {
    "qualify": ("status", "qualified"),
    "unqualify": ("status", "unqualified"),
}
#: Labels of action details that are neither a field nor a record kind.
DETAIL_LABELS = {
    "new_account": _l("New account"),
    "new_contact": _l("New contact"),
    "reason": _l("Reason"),
}


def action_name(action: str) -> Any:
    """An action as its button reads ("Mark qualified"), in quotation marks."""
    name = ACTION_NAMES.get(action)
    if name is None and action.startswith("case_"):
        # A case's lifecycle actions are named by their buttons' labels.
        from sandbox.crm.cases.service import TRANSITIONS

        transition = TRANSITIONS.get(action.removeprefix("case_"))
        name = transition.label if transition is not None else None
    return quoted(name) if name is not None else quoted(action)


def detail_field(entity: str, key: str) -> tuple[Any, FieldRef | None]:
    """How a message names an action's detail, and the field its values come
    from: ``new_stage_code`` is the Stage (its values stage codes, shown by the
    stages' names), ``contact`` on a lead's conversion the contact."""
    if key in DETAIL_LABELS:
        return DETAIL_LABELS[key], None
    table = table_for(entity)
    base = key.removeprefix("new_").removeprefix("old_")
    candidates = [base, base.removesuffix("_id")]
    if base.endswith("_code"):
        candidates.insert(0, base.removesuffix("_code") + ".code")
    for candidate in candidates:
        try:
            ref = field_ref(table, candidate)
        except EntityError:
            continue
        return ref.label, ref
    base = base.removesuffix("_id")
    if base in ENTITY_NOUNS or base in ENTITY_ALIASES:
        return noun(base), None
    return base.replace("_", " "), None


#: Business actions that also do another: reopening a closed deal at a stage is a
#: move to that stage, as the deal's stage history shows.
ALSO_DOES = {"reopen": frozenset({"move_stage"})}


def _does(logged: str, action: str) -> bool:
    """Whether a logged action is ``action``, or also does it."""
    return logged == action or action in ALSO_DOES.get(logged, ())


@register
class AuditAction(_RecordCheck):
    """Something was done to a record, as its history (the audit log) shows.

    ``actions`` lists the business actions (``convert``, ``close_lost`` …) that
    must appear, each worth its share; ``details`` are facts the last of them must
    record (a conversion's ``contact``), and ``changes`` the values an ``update``
    must have set. So "converted the lead" is told from "typed a contact by hand".
    """

    kind = "audit_action"
    params = {
        "entity": ENTITY,
        "where": WHERE,
        "actions": Param(("list", "str"), required=True),
        "details": Param(("table",)),
        "changes": Param(("table",)),
    }

    def run(self, ctx: CheckContext, params: Mapping[str, Any]) -> CheckResult:
        entity, where = params["entity"], params["where"]
        actions = params["actions"]
        actions = [actions] if isinstance(actions, str) else list(actions)
        detail: dict[str, Any] = {"entity": entity, "where": dict(where)}
        _, rows = find(ctx, entity, where)
        if not rows:
            return _not_found(entity, where, detail)
        table = table_for(entity).name
        ids = [row["id"] for row in rows]
        history = ctx.connection.execute(_HISTORY, {"entity": table, "ids": ids}).all()
        by_record: dict[int, list] = {}
        for row in history:
            by_record.setdefault(row.entity_id, []).append(row)
        wants = {
            **{f"details.{k}": v for k, v in params.get("details", {}).items()},
            **{f"changes.{k}": v for k, v in params.get("changes", {}).items()},
        }
        best: tuple[float, list, int] = (-1.0, [], ids[0])
        for record_id in ids:
            entries = by_record.get(record_id, [])
            done = [a for a in actions if any(_does(e.action, a) for e in entries)]
            messages = []
            for action in actions:
                edited = self._edited_instead(ctx, entries, entity, where, action)
                if action not in done and edited is not None:
                    messages.append(edited)
                elif action not in done:
                    seen = list(dict.fromkeys(e.action for e in entries))
                    found = (
                        Bilingual(
                            ", ".join(translate(action_name(a), "en") for a in seen),
                            "、".join(translate(action_name(a), "zh") for a in seen),
                        )
                        if seen
                        else EMPTY
                    )
                    messages.append(
                        bilingual(
                            ACTION_MISSING,
                            entity=noun(entity),
                            record=record_name(where),
                            expected=action_name(action),
                            found=found,
                        )
                    )
            score = len(done) / len(actions)
            if wants and actions[-1] in done:
                last = [e for e in entries if _does(e.action, actions[-1])]
                right, problems = max(
                    (
                        self._facts(ctx, e, wants, entity, where, actions[-1])
                        for e in last
                    ),
                    key=lambda item: item[0],
                )
                # The action counts half when its facts are wrong.
                share = 1 / len(actions)
                score -= share * 0.5 * (1 - right / len(wants))
                messages.extend(problems)
            if score > best[0]:
                best = (score, messages, record_id)
        score, messages, record_id = best
        detail.update(record_id=record_id, actions=actions)
        if messages:
            return CheckResult(score, join(messages), detail)
        return CheckResult(
            1.0,
            bilingual(RIGHT_RECORD, entity=noun(entity), record=record_name(where)),
            detail,
        )

    @staticmethod
    def _edited_instead(
        ctx: CheckContext, entries: list, entity: str, where: Any, action: str
    ) -> dict[str, str] | None:
        """Feedback for a student who set by hand what ``action`` sets (edited
        the status instead of pressing the button), or None."""
        if action not in ACTION_SETS:
            return None
        field, value = ACTION_SETS[action]
        for entry in reversed(entries):
            change = (entry.changes or {}).get(field)
            if entry.action != "update" or not isinstance(change, list):
                continue
            if len(change) == 2 and change[1] == value:
                ref = field_ref(table_for(entity), field)
                return bilingual(
                    EDITED_INSTEAD,
                    entity=noun(entity),
                    record=record_name(where),
                    field=ref.label,
                    found=quoted(shown(value, ref, ctx)),
                    old=quoted(shown(change[0], ref, ctx)),
                    action=action_name(action),
                )
        return None

    @staticmethod
    def _facts(
        ctx: CheckContext,
        entry: Any,
        wants: Mapping[str, Any],
        entity: str,
        where: Any,
        action: str,
    ) -> tuple[int, list]:
        right, messages = 0, []
        for key, value in wants.items():
            kind, _, name = key.partition(".")
            if kind == "details":
                found = (entry.details or {}).get(name)
            else:
                change = (entry.changes or {}).get(name)
                found = change[1] if isinstance(change, list) and change else None
            label, ref = detail_field(entity, name)
            if same(value, found, ref):
                right += 1
                continue
            messages.append(
                bilingual(
                    ACTION_DETAIL_WRONG,
                    entity=noun(entity),
                    record=record_name(where),
                    action=action_name(action),
                    field=label,
                    expected=quoted(shown(value, ref, ctx)),
                    found=quoted(shown(found, ref, ctx)),
                )
            )
        return right, messages


_HISTORY = (
    sa.select(AuditLog.entity_id, AuditLog.action, AuditLog.changes, AuditLog.details)
    .where(
        AuditLog.entity == sa.bindparam("entity"),
        AuditLog.entity_id.in_(sa.bindparam("ids", expanding=True)),
    )
    .order_by(AuditLog.id)
)

FUNCTIONS = {
    "count": sa.func.count,
    "sum": sa.func.sum,
    "avg": sa.func.avg,
    "min": sa.func.min,
    "max": sa.func.max,
}
FUNCTION_NAMES = {
    "count": _l("Number"),
    "sum": _l("Total"),
    "avg": _l("Average"),
    "min": _l("Lowest"),
    "max": _l("Highest"),
}
AGGREGATE_MESSAGE = _l(
    "%(function)s of %(field)s of %(entities)s%(conditions)s: expected %(expected)s, "
    "found %(found)s."
)
AGGREGATE_RIGHT = _l("%(function)s of %(field)s of %(entities)s is %(found)s.")
WITH = _l(" with %(conditions)s")


def aggregate_value(
    ctx: CheckContext, entity: str, function: str, field: str | None, where: Mapping
) -> float | None:
    """``function`` over ``field`` of the ``entity`` records meeting ``where``."""
    match, rows = find(ctx, entity, where, [field] if field else [])
    return _reduce(rows, function, field)


def aggregate_groups(
    ctx: CheckContext,
    entity: str,
    function: str,
    field: str | None,
    where: Mapping,
    group_by: str,
) -> dict[Any, float]:
    """``function`` over ``field`` for each value of ``group_by`` among the
    ``entity`` records meeting ``where`` (records without that value left out)."""
    _, rows = find(ctx, entity, where, [group_by, *([field] if field else [])])
    groups: dict[Any, list] = {}
    for row in rows:
        if row[group_by] is not None and row[group_by] != "":
            groups.setdefault(row[group_by], []).append(row)
    found = {key: _reduce(members, function, field) for key, members in groups.items()}
    return {key: value for key, value in found.items() if value is not None}


def _reduce(rows: list, function: str, field: str | None) -> float | None:
    if function == "count":
        return float(
            len(rows) if field is None else sum(r[field] is not None for r in rows)
        )
    values = [as_number(row[field]) for row in rows]
    values = [v for v in values if v is not None]
    if not values:
        return None
    if function == "sum":
        return sum(values)
    if function == "avg":
        return sum(values) / len(values)
    return min(values) if function == "min" else max(values)


def _validate_aggregate(params: Mapping[str, Any]) -> list[str]:
    function = params.get("function")
    if function not in FUNCTIONS:
        return [f"function must be one of {', '.join(FUNCTIONS)}"]
    if function != "count" and not params.get("field"):
        return [f"'{function}' needs a 'field'"]
    keys = list(params.get("where", {}))
    if params.get("field"):
        keys.append(params["field"])
    return validate_fields(params.get("entity"), keys)


@register
class Aggregate(Check):
    """A figure computed over records — the total of the open pipeline, the
    number of won deals — equals ``expected`` within ``tolerance``/``relative``;
    within ``partial`` (a fraction of the expected value) it scores half."""

    kind = "aggregate"
    params = {
        "entity": ENTITY,
        "function": Param(("str",), required=True),
        "field": Param(("str",)),
        "where": Param(("table",)),
        "expected": Param(("number", "str"), required=True),
        "tolerance": NUMBER,
        "relative": NUMBER,
        "partial": NUMBER,
    }

    @classmethod
    def validate_more(cls, params: Mapping[str, Any]) -> list[str]:
        return _validate_aggregate(params)

    def run(self, ctx: CheckContext, params: Mapping[str, Any]) -> CheckResult:
        entity, where = params["entity"], params.get("where", {})
        function, field = params["function"], params.get("field")
        expected = _number(params["expected"], "expected")
        found = aggregate_value(ctx, entity, function, field, where)
        score = _closeness(expected, found, params)
        table = table_for(entity)
        words = {
            "function": FUNCTION_NAMES[function],
            "field": field_ref(table, field).label if field else noun(entity),
            "entities": plural_noun(entity),
            "found": _fmt(found) if found is not None else EMPTY,
        }
        detail = {"entity": entity, "where": dict(where), "expected": expected}
        detail["found"] = found
        if score >= 1.0:
            return CheckResult(1.0, bilingual(AGGREGATE_RIGHT, **words), detail)
        conditions = (
            bilingual(WITH, conditions=_conditions(ctx, table, where)) if where else ""
        )
        message = bilingual(
            AGGREGATE_MESSAGE,
            **words,
            conditions=conditions,
            expected=_fmt(expected),
        )
        return CheckResult(score, message, detail)


def _closeness(expected: float, found: float | None, params: Mapping) -> float:
    if found is None:
        return 0.0
    tolerance = _number(params.get("tolerance", 0), "tolerance")
    relative = _number(params.get("relative", 0), "relative")
    allowed = max(tolerance, relative * abs(expected), 1e-9)
    if abs(found - expected) <= allowed:
        return 1.0
    partial = params.get("partial")
    if partial is not None:
        if abs(found - expected) <= _number(partial, "partial") * abs(expected):
            return 0.5
    return 0.0


PATH_MESSAGE = _l(
    "The %(entity)s %(record)s should have gone through %(field)s %(expected)s, "
    "but went through %(found)s."
)


@register
class StatePath(_RecordCheck):
    """A case went through lifecycle states in order (other states may come
    between them); the share of ``path`` reached in order is the score."""

    kind = "state_path"
    params = {
        "entity": Param(("str",)),
        "where": WHERE,
        "path": Param(("list",), required=True),
    }

    @classmethod
    def validate_more(cls, params: Mapping[str, Any]) -> list[str]:
        if not params["path"] or not all(isinstance(s, str) for s in params["path"]):
            return ["path must list states"]
        if params.get("entity", "service_case") not in ("case", "service_case"):
            return ["state_path works on cases (entity 'case')"]
        return validate_fields("service_case", list(params["where"]))

    def run(self, ctx: CheckContext, params: Mapping[str, Any]) -> CheckResult:
        where, path = params["where"], list(params["path"])
        entity = "service_case"
        detail: dict[str, Any] = {"entity": entity, "where": dict(where), "path": path}
        match, rows = find(ctx, entity, where)
        if not rows:
            return _not_found(entity, where, detail)
        ids = [row["id"] for row in rows]
        states: dict[int, list[str]] = {i: [] for i in ids}
        events = ctx.connection.execute(_case_events(), {"ids": ids})
        for case_id, from_status, to_status in events:
            seen = states[case_id]
            if not seen and from_status:
                seen.append(from_status)
            seen.append(to_status)
        best_id = max(ids, key=lambda i: _path_reached(states[i], path))
        reached = _path_reached(states[best_id], path)
        detail.update(record_id=best_id, found=states[best_id])
        if reached == len(path):
            return CheckResult(
                1.0,
                bilingual(RIGHT_RECORD, entity=noun(entity), record=record_name(where)),
                detail,
            )
        ref = field_ref(table_for(entity), "status")
        message = bilingual(
            PATH_MESSAGE,
            entity=noun(entity),
            record=record_name(where),
            field=ref.label,
            expected=_arrow(ctx, path, ref),
            found=_arrow(ctx, states[best_id], ref) if states[best_id] else EMPTY,
        )
        return CheckResult(reached / len(path), message, detail)


@functools.cache
def _case_events() -> sa.Select:
    from sandbox.models.crm.service import CaseEvent

    return (
        sa.select(CaseEvent.case_id, CaseEvent.from_status, CaseEvent.to_status)
        .where(CaseEvent.case_id.in_(sa.bindparam("ids", expanding=True)))
        .order_by(CaseEvent.case_id, CaseEvent.at, CaseEvent.id)
    )


def _path_reached(states: list[str], path: list[str]) -> int:
    """How many states of ``path``, from its start, ``states`` visits in order."""
    reached = 0
    for state in states:
        if reached < len(path) and normalise(state) == normalise(path[reached]):
            reached += 1
    return reached


def _arrow(ctx: CheckContext, states: list[str], ref: Any) -> Bilingual:
    labels = [shown(s, ref, ctx) for s in states]
    return Bilingual(
        " → ".join(translate(label, "en") for label in labels),
        " → ".join(translate(label, "zh") for label in labels),
    )


NO_ANSWER = _l("Type your answer in the box, then press Check.")
ANSWER_WRONG = _l("Your answer %(found)s is not right: expected %(expected)s.")
ANSWER_CLOSE = _l(
    "Your answer %(found)s is close but not exact: expected %(expected)s."
)
ANSWER_RIGHT = _l("Your answer %(found)s is right.")
NOT_A_NUMBER = _l("Your answer %(found)s is not a number: expected %(expected)s.")


@register
class Answer(Check):
    """The student's typed answer: a number within ``tolerance``/``relative`` of
    ``expected`` — or of a figure ``compute``d from their own CRM — or a text
    that matches after normalising. Within ``partial`` (a fraction) it scores
    half. ``expected_text`` says in words what was expected; the value itself is
    shown only with ``reveal = true``."""

    kind = "answer"
    params = {
        "expected": Param(("number", "str")),
        "compute": Param(("table",)),
        "tolerance": NUMBER,
        "relative": NUMBER,
        "partial": NUMBER,
        "expected_text": Param(("table",)),
        "reveal": Param(("bool",)),
    }

    @classmethod
    def validate_more(cls, params: Mapping[str, Any]) -> list[str]:
        if ("expected" in params) == ("compute" in params):
            return ["give either 'expected' or 'compute'"]
        problems = []
        if "compute" in params:
            compute = params["compute"]
            unknown = set(compute) - {
                "entity",
                "function",
                "field",
                "where",
                "group_by",
            }
            if unknown:
                problems.append(f"compute has unknown keys {sorted(unknown)}")
            problems += _validate_aggregate(compute)
            if "group_by" in compute:
                if not isinstance(compute["group_by"], str):
                    problems.append("compute's group_by must be a field name")
                else:
                    problems += validate_fields(
                        compute.get("entity"), [compute["group_by"]]
                    )
        if not params.get("reveal") and "expected_text" not in params:
            problems.append("say what is expected in 'expected_text' (or reveal it)")
        text = params.get("expected_text")
        if text is not None and not all(
            isinstance(text.get(lang), str) and text.get(lang) for lang in ("en", "zh")
        ):
            problems.append("expected_text needs 'en' and 'zh' texts")
        return problems

    def run(self, ctx: CheckContext, params: Mapping[str, Any]) -> CheckResult:
        answer = (ctx.answer or "").strip()
        if "group_by" in params.get("compute", {}):
            return self._top_group(ctx, params, answer)
        if "compute" in params:
            c = params["compute"]
            value = aggregate_value(
                ctx, c["entity"], c["function"], c.get("field"), c.get("where", {})
            )
            expected: Any = value if value is not None else 0.0
        else:
            expected = params["expected"]
        number = as_number(expected)
        detail = {"expected": expected, "answer": answer}
        if params.get("reveal"):
            wanted: Any = _fmt(number) if number is not None else quoted(str(expected))
        else:
            wanted = Bilingual(
                params["expected_text"]["en"], params["expected_text"]["zh"]
            )
        if not answer:
            return CheckResult(0.0, bilingual(NO_ANSWER), detail)
        found = quoted(answer)
        if number is None:
            score = 1.0 if same(str(expected), answer) else 0.0
        else:
            given = as_number(answer)
            if given is None:
                return CheckResult(
                    0.0, bilingual(NOT_A_NUMBER, found=found, expected=wanted), detail
                )
            score = _closeness(number, given, params)
        if score >= 1.0:
            return CheckResult(1.0, bilingual(ANSWER_RIGHT, found=found), detail)
        template = ANSWER_CLOSE if score > 0 else ANSWER_WRONG
        return CheckResult(
            score, bilingual(template, found=found, expected=wanted), detail
        )

    def _top_group(
        self, ctx: CheckContext, params: Mapping[str, Any], answer: str
    ) -> CheckResult:
        """The answer names the group whose figure is the highest ("which lead
        source brought the most …"): its name, its code or its label in either
        language; any of the groups tied at the top is right."""
        c = params["compute"]
        entity, group_by = c["entity"], c["group_by"]
        groups = aggregate_groups(
            ctx, entity, c["function"], c.get("field"), c.get("where", {}), group_by
        )
        best = max(groups.values(), default=None)
        top = [key for key, value in groups.items() if value == best]
        ref = field_ref(table_for(entity), group_by)
        names = [shown(key, ref, ctx) for key in top]
        accepted = {text_key(str(key)) for key in top}
        for name in names:
            accepted |= {text_key(translate(name, lang)) for lang in ("en", "zh")}
        detail = {"expected": [_plain(key) for key in top], "answer": answer}
        if params.get("reveal"):
            wanted: Any = (
                Bilingual(
                    " / ".join(translate(quoted(n), "en") for n in names),
                    " / ".join(translate(quoted(n), "zh") for n in names),
                )
                if names
                else EMPTY
            )
        else:
            wanted = Bilingual(
                params["expected_text"]["en"], params["expected_text"]["zh"]
            )
        if not answer:
            return CheckResult(0.0, bilingual(NO_ANSWER), detail)
        found = quoted(answer)
        if top and text_key(answer) in accepted:
            return CheckResult(1.0, bilingual(ANSWER_RIGHT, found=found), detail)
        return CheckResult(
            0.0, bilingual(ANSWER_WRONG, found=found, expected=wanted), detail
        )


def _plain(value: Any) -> Any:
    from sandbox.models.crm.base import plain

    return plain(value)
