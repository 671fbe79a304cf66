"""Exporting a module's list, with the request's search, filters and sort, as CSV or
XLSX.

The rows are the ones the module's own list page shows: :func:`list_statement` runs
the module's list view with :func:`~sandbox.crm.listing.want_list_statement`, so the
view's joins, eager loads and filters apply and no module declares its list twice.
Cells are plain values (code labels in the user's language, amounts as numbers,
related records by name); text that a spreadsheet would run as a formula gets a
leading apostrophe.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app, g
from flask_babel import to_user_timezone

from sandbox.crm.codes import code_list
from sandbox.crm.listing import ListStatement, search_condition, want_list_statement
from sandbox.crm.registry import ListColumn, Module
from sandbox.extensions import db

#: First characters that make Excel, WPS or LibreOffice read a cell as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MONEY_FORMAT = "#,##0.00"


def neutralise(text: str) -> str:
    """``text`` made safe to open in a spreadsheet: a would-be formula is prefixed
    with an apostrophe, so it shows as the text it is."""
    return f"'{text}" if text.startswith(FORMULA_START) else text


def list_statement(module: Module) -> sa.Select:
    """The statement of ``module``'s list page for this request, without paging."""
    from flask import request

    view = current_app.view_functions[module.index_endpoint]
    want_list_statement()
    try:
        view()
    except ListStatement as captured:
        return captured.statement
    finally:
        g.pop("want_list_statement", None)
    # A list page that does not go through list_records: every record, searched.
    stmt = sa.select(module.model).order_by(module.model.id)
    q = request.args.get("q", "").strip()
    if q and module.search:
        stmt = stmt.where(search_condition(q, module.search))
    return stmt


def _cell_reader(col: ListColumn) -> Callable[[Any], Any]:
    read = col.read
    if col.kind == "code":
        codes = code_list(col.codes) if col.codes else None
        return lambda r: codes.label_of(v) if codes and (v := read(r)) else read(r)
    if col.kind == "ref":
        return lambda r: other.display_name if (other := read(r)) is not None else None
    if col.kind == "datetime":
        return lambda r: (
            to_user_timezone(v).replace(tzinfo=None) if (v := read(r)) else None
        )
    return read


def export_rows(module: Module, records: Iterable[Any]) -> Iterable[list[Any]]:
    """Each record's cells as plain values, in the order of ``module.columns``."""
    readers = [_cell_reader(c) for c in module.columns]
    for record in records:
        yield [reader(record) for reader in readers]


def headers(module: Module) -> list[str]:
    return [str(col.label or col.key) for col in module.columns]


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, (dt.date, int, float)):
        return str(value) if not isinstance(value, bool) else str(value).upper()
    return neutralise(str(value))


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 with a BOM, so Excel (Chinese Excel too) opens it in the right encoding."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow([_plain(v) for v in row])
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    title: str = "Sheet1",
    money_columns: Sequence[int] = (),
    extra_sheets: Sequence[tuple[str, list[list[str]]]] = (),
) -> bytes:
    """An XLSX workbook: a bold header row, amounts formatted, text never a formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_sheet_title(title))
    bold = Font(bold=True)

    def cell(value: Any, column: int) -> Any:
        if isinstance(value, str):
            value = neutralise(ILLEGAL_CHARACTERS_RE.sub("", value))
        if isinstance(value, (Decimal, int, float)) and not isinstance(value, bool):
            made = WriteOnlyCell(sheet, value=value)
            if column in money_columns:
                made.number_format = MONEY_FORMAT
            return made
        return value

    top = []
    for text in header:
        made = WriteOnlyCell(sheet, value=neutralise(text))
        made.font = bold
        top.append(made)
    sheet.append(top)
    for row in rows:
        sheet.append([cell(value, i) for i, value in enumerate(row)])
    for name, lines in extra_sheets:
        extra = book.create_sheet(_sheet_title(name))
        for line in lines:
            extra.append([neutralise(ILLEGAL_CHARACTERS_RE.sub("", v)) for v in line])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet_title(title: str) -> str:
    # Excel refuses these characters in sheet names and more than 31 characters.
    for ch in "[]:*?/\\":
        title = title.replace(ch, " ")
    return title[:31] or "Sheet1"


def export_module(module: Module, fmt: str) -> bytes:
    """``module``'s list as this request asks for it, as ``csv`` or ``xlsx`` bytes."""
    records = db.session.scalars(list_statement(module)).unique()
    rows = export_rows(module, records)
    if fmt == "csv":
        return to_csv(headers(module), rows)
    money = [i for i, col in enumerate(module.columns) if col.kind == "money"]
    return to_xlsx(headers(module), rows, title=str(module.label), money_columns=money)
