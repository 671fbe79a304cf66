"""Importing rows: mapping headers, checking every row, and committing the good ones.

:func:`plan_import` reads a :class:`~sandbox.crm.transfer.reading.Table` against the
tenant's records and says for each row whether it creates a record, updates one,
changes nothing or is rejected (with its line and reasons). :func:`run_import`
writes every created and updated record in one transaction: each is audited, and a
failure writes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import force_locale
from sqlalchemy.orm import Session

from sandbox.crm.display import format_value
from sandbox.crm.service import commit
from sandbox.crm.transfer.reading import ImportFileError, Table
from sandbox.crm.transfer.specs import (
    CellError,
    ImportField,
    ImportSpec,
    InactiveValue,
    Lookups,
)
from sandbox.i18n import LOCALES
from sandbox.i18n import gettext as _
from sandbox.models import utcnow
from sandbox.models.crm import Audited, AuditLog, current_actor
from sandbox.models.crm.base import model_for_table, plain
from sandbox.text import fold

CREATE, UPDATE, UNCHANGED, REJECT = "create", "update", "unchanged", "reject"
#: Ids per ``IN (...)`` when loading the records rows update.
CHUNK = 500
_REQUIRED_MARK = re.compile(r"[\s*＊]+$")


def header_key(header: str) -> str:
    """A header as compared: folded, without the template's required mark (*)."""
    return _REQUIRED_MARK.sub("", fold(header))


def header_names(spec: ImportSpec, item: ImportField) -> set[str]:
    """Every header meaning ``item``: its label in each language, and its name."""
    names = {header_key(item.name)}
    for locale in LOCALES.values():
        with force_locale(locale):
            names.add(header_key(str(item.label)))
    return names


def map_headers(
    spec: ImportSpec, headers: list[str], sheet: str | None = None
) -> list[ImportField | None]:
    """The field each column fills (None: a column the import ignores).

    :param sheet: the title of the sheet read, when the workbook has others
    :raise ImportFileError: two columns mean one field, or a required column is
        missing
    """
    by_name: dict[str, ImportField] = {}
    for item in spec.fields:
        for name in header_names(spec, item):
            by_name.setdefault(name, item)
    mapped: list[ImportField | None] = []
    seen: dict[str, str] = {}
    for header in headers:
        item = by_name.get(header_key(header))
        if item is not None and item.name in seen:
            raise ImportFileError(
                _(
                    "The columns “%(first)s” and “%(second)s” both mean "
                    "%(field)s: keep one of them.",
                    first=seen[item.name],
                    second=header,
                    field=item.label,
                )
            )
        if item is not None:
            seen[item.name] = header
        mapped.append(item)
    for group in spec.required_columns:
        if not any(name in seen for name in group):
            labels = " / ".join(str(spec.field(name).label) for name in group)
            if sheet is not None:
                raise ImportFileError(
                    _(
                        "The first sheet, “%(sheet)s”, has no “%(column)s” column: "
                        "only the first sheet of a workbook is read. Put the data "
                        "there, with the template's headers in its first row.",
                        sheet=sheet,
                        column=labels,
                    )
                )
            raise ImportFileError(
                _(
                    "The file has no “%(column)s” column: use the template's "
                    "headers in the first row.",
                    column=labels,
                )
            )
    return mapped


@dataclass
class RowPlan:
    """What one row of the file does."""

    line: int
    action: str
    name: str
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    record_id: int | None = None
    changed: list[str] = field(default_factory=list)
    #: Each changed field as the preview shows it: (label, old value, new value),
    #: the values formatted as on the record's page.
    changes: list[tuple[Any, Any, Any]] = field(default_factory=list)
    #: Why each field that names an inactive entry is refused, unless the matched
    #: record already has that value.
    inactive: dict[str, str] = field(default_factory=dict)


@dataclass
class ImportPlan:
    spec: ImportSpec
    columns: list[tuple[str, ImportField | None]]
    rows: list[RowPlan]
    records: dict[int, Any] = field(default_factory=dict)

    def of(self, action: str) -> list[RowPlan]:
        return [row for row in self.rows if row.action == action]

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys((CREATE, UPDATE, UNCHANGED, REJECT), 0)
        for row in self.rows:
            counts[row.action] += 1
        return counts

    @property
    def ignored_columns(self) -> list[str]:
        return [header for header, item in self.columns if item is None and header]

    @property
    def writes(self) -> bool:
        counts = self.counts
        return bool(counts[CREATE] or counts[UPDATE])


def _parse_row(
    spec: ImportSpec,
    fields: list[ImportField | None],
    cells: list[str | None],
    lookups: Lookups,
    formulas: Iterable[int] = (),
) -> tuple[dict[str, Any], list[str], dict[str, str]]:
    """A row's values, its errors, and the problem of each inactive value.

    ``formulas`` are the columns whose cell holds a formula without a value.
    """
    values: dict[str, Any] = {}
    errors: list[str] = []
    inactive: dict[str, str] = {}
    formulas = set(formulas)
    for column, (item, cell) in enumerate(zip(fields, cells, strict=False)):
        if item is None:
            continue
        if column in formulas:
            problem = _("This cell holds a formula; paste values only.")
            errors.append(_cell_problem(item, problem))
            continue
        if cell is None:
            continue
        try:
            value = item.parse(_unneutralise(cell), lookups)
        except InactiveValue as error:
            value = error.value
            inactive[item.name] = _cell_problem(item, error.message)
        except CellError as error:
            errors.append(_cell_problem(item, error.message))
            continue
        if value is not None:
            values[item.name] = value
    if spec.prepare is not None and not errors:
        try:
            spec.prepare(values)
        except CellError as error:
            errors.append(error.message)
    return values, errors, inactive


def _cell_problem(item: ImportField, problem: str) -> str:
    return _("%(field)s: %(problem)s", field=item.label, problem=problem)


def _row_name(
    spec: ImportSpec,
    fields: list[ImportField | None],
    cells: list[str | None],
    values: dict[str, Any],
) -> str:
    """What a row names, for the preview, even when some of its cells are wrong."""
    if spec.prepare is not None:
        values = dict(values)
        try:
            spec.prepare(values)  # a full name becomes first and last name
        except CellError:
            pass
    name = spec.name(values)
    if name:
        return name
    # A name cell the row could not use: as the file has it.
    raw = {
        item.name: cell.strip()
        for item, cell in zip(fields, cells, strict=False)
        if item is not None and cell and not item.pseudo
    }
    return spec.name(raw) if raw else ""


def _unneutralise(cell: str) -> str:
    """A cell without the apostrophe an export put before a would-be formula."""
    if len(cell) > 1 and cell[0] == "'" and cell[1] in "=+-@\t\r":
        return cell[1:]
    return cell


def _key_index(session: Session, spec: ImportSpec, key_number: int) -> dict:
    key = spec.keys[key_number]
    index: dict[str, list[int]] = {}
    for record_id, *columns in session.execute(sa.select(spec.model.id, *key.columns)):
        value = key.existing_key(tuple(columns))
        if value:
            index.setdefault(value, []).append(record_id)
    return index


def _key_name(label: object) -> str:
    text = str(label)
    return text.lower() if text.isascii() else text


def _load(session: Session, model: type, ids: Iterable[int]) -> dict[int, Any]:
    ids = sorted(set(ids))
    found: dict[int, Any] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        for record in session.scalars(sa.select(model).where(model.id.in_(chunk))):
            found[record.id] = record
    return found


def plan_import(session: Session, spec: ImportSpec, table: Table) -> ImportPlan:
    """Check every row of ``table`` and decide what it does; nothing is written.

    :raise ImportFileError: the header does not fit the module
    """
    fields = map_headers(spec, table.headers, table.sheet)
    lookups = Lookups(session)
    indexes: dict[int, dict[str, list[int]]] = {}
    seen: dict[tuple[int, str], int] = {}
    rows: list[RowPlan] = []
    for line, cells in table.rows:
        values, errors, inactive = _parse_row(
            spec, fields, cells, lookups, table.formulas.get(line, ())
        )
        if errors:
            name = _row_name(spec, fields, cells, values)
        else:
            name = spec.name(values)
        row = RowPlan(line, REJECT, name, values, errors, inactive=inactive)
        rows.append(row)
        if errors:
            continue
        for number, key in enumerate(spec.keys):
            value = key.row_key(values)
            if not value:
                continue
            if (number, value) in seen:
                row.errors.append(
                    _(
                        "Same %(key)s as line %(line)d.",
                        key=_key_name(key.label),
                        line=seen[number, value],
                    )
                )
                break
            seen[number, value] = line
            if number not in indexes:
                indexes[number] = _key_index(session, spec, number)
            ids = indexes[number].get(value, [])
            if len(ids) > 1:
                row.errors.append(
                    _(
                        "%(count)d records have this %(key)s: change them by hand.",
                        count=len(ids),
                        key=_key_name(key.label),
                    )
                )
            elif ids:
                row.record_id = ids[0]
                for name in key.fields:  # the record keeps its own spelling
                    values.pop(name, None)
            break
        if row.errors:
            continue
        if row.record_id is None:
            # A new record takes only active colleagues and codes.
            row.errors.extend(row.inactive.values())
            missing = [
                str(item.label)
                for item in spec.fields
                if item.required and not item.pseudo and values.get(item.name) is None
            ]
            for label in missing:
                row.errors.append(_("%(field)s is required.", field=label))
            if not row.errors and spec.check is not None:
                refused = spec.check(values, None)
                if refused:
                    row.errors.append(refused)
            if not row.errors:
                row.action = CREATE
    records = _load(session, spec.model, (r.record_id for r in rows if r.record_id))
    labels = {item.name: item.label for item in spec.fields}
    for row in rows:
        if row.record_id is None or row.errors:
            continue
        record = records[row.record_id]
        row.name = row.name or record.display_name
        # An inactive value is kept where it is the record's own, as its form does.
        row.errors.extend(
            problem
            for name, problem in row.inactive.items()
            if getattr(record, name) != row.values[name]
        )
        if row.errors:
            continue
        different = {
            name: value
            for name, value in spec.attributes(row.values).items()
            if getattr(record, name) != value
        }
        row.changed = [str(labels.get(name, name)) for name in different]
        row.changes = [
            (
                labels.get(name, name),
                _shown(session, record, name, getattr(record, name)),
                _shown(session, record, name, value),
            )
            for name, value in different.items()
        ]
        refused = spec.check(row.values, record) if row.changed and spec.check else None
        if refused:
            row.errors.append(refused)
        else:
            row.action = UPDATE if row.changed else UNCHANGED
    return ImportPlan(
        spec,
        list(zip(table.headers, fields, strict=True)),
        rows,
        records,
    )


def _shown(session: Session, record: Any, name: str, value: Any) -> Any:
    """``value`` of a field of ``record`` as its page shows it; a linked record by
    its name."""
    model = type(record)
    column = model.__table__.columns.get(name)
    ref_name = None
    if value is not None and column is not None and column.foreign_keys:
        target = model_for_table(next(iter(column.foreign_keys)).column.table.name)
        linked = session.get(target, value) if target is not None else None
        ref_name = linked.display_name if linked is not None else None
    return format_value(model, name, value, ref_name)


def run_import(session: Session, plan: ImportPlan) -> dict[str, int]:
    """Create and update the planned records in one transaction, each audited.

    Rejected and unchanged rows write nothing; on any failure nothing is written.
    :return: the plan's counts
    """
    spec = plan.spec
    try:
        for row in plan.of(UPDATE):
            record = plan.records[row.record_id]
            for name, value in spec.attributes(row.values).items():
                setattr(record, name, value)
        session.flush()  # updates go through the ORM: its listener audits each
        create_records(
            session, spec.model, [spec.attributes(r.values) for r in plan.of(CREATE)]
        )
    except Exception:
        session.rollback()
        raise
    commit(session)
    return plan.counts


def create_records(
    session: Session, model: type[Audited], rows: list[dict[str, Any]]
) -> int:
    """Insert many records of ``model`` at once, with the audit row of each.

    Multi-row INSERTs for the records and for their audit rows, in the caller's
    transaction. Each audit row says what the ORM's audit listener says for a
    created record (see :mod:`sandbox.models.crm.base`), which would cost a
    statement or two per record.
    :return: how many records were created
    """
    if not rows:
        return 0
    mapper = sa.inspect(model)
    table = mapper.local_table
    columns = [attr.columns[0] for attr in mapper.column_attrs]
    keys: set[str] = set()
    states = []
    for values in rows:
        # Built as records so attribute events run (an account's name key).
        state = model(**values).__dict__
        keys.update(c.key for c in columns if c.key in state)
        states.append(state)
    given = [c for c in columns if c.key in keys]
    defaults = {
        c.key: c.default.arg
        for c in columns
        if c.default is not None and c.default.is_scalar
    }
    params = []
    for state in states:
        param = dict(defaults)
        for column in given:
            value = state.get(column.key)
            if value is not None:
                param[column.key] = value
            elif column.key not in defaults:
                param[column.key] = None
        params.append(param)
    shown = [c for c in columns if c.key in params[0]]
    inserted = session.execute(
        sa.insert(table).returning(
            table.c.id, model.display_expression().label("_name"), *shown
        ),
        params,
    ).all()
    names = _ref_names(session, table, params)
    ignore = model.__audit_ignore__
    at, actor = utcnow(), current_actor()
    audit = []
    for record_id, name, *values in inserted:
        changes = {
            c.key: [None, plain(value)]
            for c, value in zip(shown, values, strict=True)
            if c.key not in ignore and value is not None and value != ""
        }
        refs = {
            key: [None, names[key].get(new)]
            for key, (_old, new) in changes.items()
            if key in names
        }
        audit.append(
            {
                "at": at,
                "actor": actor,
                "entity": table.name,
                "entity_id": record_id,
                "record_name": (name or "")[:300],
                "action": "create",
                "changes": changes,
                "details": {"refs": refs} if refs else {},
            }
        )
    session.execute(sa.insert(AuditLog.__table__), audit)
    return len(inserted)


def _ref_names(
    session: Session, table: sa.Table, params: list[dict[str, Any]]
) -> dict[str, dict[int, str]]:
    """For each foreign key the rows fill, the name of each record they point to."""
    names: dict[str, dict[int, str]] = {}
    for column in table.columns:
        if not column.foreign_keys or not params or column.key not in params[0]:
            continue
        target = model_for_table(next(iter(column.foreign_keys)).column.table.name)
        ids = {p[column.key] for p in params if p.get(column.key) is not None}
        if target is None or not ids:
            continue
        found: dict[int, str] = {}
        ordered = sorted(ids)
        for start in range(0, len(ordered), CHUNK):
            chunk = ordered[start : start + CHUNK]
            found.update(
                session.execute(
                    sa.select(target.id, target.display_expression()).where(
                        target.id.in_(chunk)
                    )
                ).all()
            )
        names[column.key] = found
    return names
