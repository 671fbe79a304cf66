"""Reading an uploaded CSV or XLSX file into a header and rows of text.

A file that cannot be read as a whole (wrong format, unreadable encoding, too large,
no header) raises :class:`ImportFileError` and nothing of it is imported. Chinese
Excel saves CSV in GBK/GB18030, so that is tried after UTF-8.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sandbox.i18n import gettext as _

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 20_000
#: An XLSX is a zip; its unpacked size is capped so a small file cannot expand
#: into gigabytes (a "zip bomb").
MAX_UNPACKED_BYTES = 64 * 1024 * 1024
#: Columns read from a file, far more than any import has. A workbook may declare a
#: sheet as wide as Excel allows (16,384 columns), and every row of it would be read
#: that wide: an 86 kB file took 2 GB of memory.
MAX_COLUMNS = 200
FORMATS = ("csv", "xlsx")
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls
csv.field_size_limit(1024 * 1024)


class ImportFileError(ValueError):
    """The file as a whole cannot be imported; ``message`` says why, for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Table:
    """A file's header and its non-blank rows, each with its line number."""

    headers: list[str]
    rows: list[tuple[int, list[str | None]]]


def file_format(filename: str) -> str:
    """``csv`` or ``xlsx`` from the file's name.

    :raise ImportFileError: any other kind of file
    """
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension == "xls":
        raise ImportFileError(
            _(
                "Old Excel files (.xls) cannot be read: in Excel choose Save As and "
                "pick “Excel Workbook (.xlsx)” or “CSV UTF-8”."
            )
        )
    if extension not in FORMATS:
        raise ImportFileError(_("Choose a .csv or .xlsx file."))
    return extension


def size_text(size: int) -> str:
    """``size`` bytes as people say it: "2 MB", "100 KB"."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g} MB"
    return f"{size // 1024} KB"


def read_table(data: bytes, filename: str) -> Table:
    """The header and rows of an uploaded file.

    :raise ImportFileError: the file cannot be imported as a whole
    """
    kind = file_format(filename)
    if not data:
        raise ImportFileError(_("The file is empty."))
    if len(data) > MAX_BYTES:
        raise ImportFileError(
            _(
                "The file is larger than %(size)s: split it into smaller files.",
                size=size_text(MAX_BYTES),
            )
        )
    rows = _read_xlsx(data) if kind == "xlsx" else _read_csv(data)
    return _table(rows)


def _table(rows: Any) -> Table:
    headers: list[str] | None = None
    found: list[tuple[int, list[str | None]]] = []
    for line, raw in enumerate(rows, start=1):
        if len(raw) > MAX_COLUMNS:
            if any(value not in (None, "") for value in raw[MAX_COLUMNS:]):
                raise ImportFileError(
                    _(
                        "The file has more than %(count)d columns: keep only the "
                        "columns to import.",
                        count=MAX_COLUMNS,
                    )
                )
            raw = raw[:MAX_COLUMNS]
        cells = [_text(value) for value in raw]
        if not any(cell for cell in cells):
            continue
        if headers is None:
            headers = [cell or "" for cell in cells]
            continue
        if len(found) >= MAX_ROWS:
            raise ImportFileError(
                _(
                    "The file has more than %(count)d rows: split it into smaller "
                    "files.",
                    count=MAX_ROWS,
                )
            )
        found.append((line, cells))
    if headers is None:
        raise ImportFileError(_("The file has no header row and no data."))
    return Table(headers, found)


def _text(value: Any) -> str | None:
    """A cell as text: numbers without a float's noise, dates as ISO dates."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    if isinstance(value, dt.datetime):
        if value.time() == dt.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def _decode(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    elif b"\x00" not in data:
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                continue
    raise ImportFileError(
        _(
            "The file's text is not in a readable encoding: save it as "
            "“CSV UTF-8” or as an Excel workbook (.xlsx)."
        )
    )


def _delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _read_csv(data: bytes) -> list[list[str]]:
    if data.startswith((_ZIP_MAGIC, _OLE_MAGIC)):
        raise ImportFileError(
            _("This is an Excel file, not a CSV file: name it .xlsx or save as CSV.")
        )
    text = _decode(data)
    try:
        return list(csv.reader(io.StringIO(text), delimiter=_delimiter(text)))
    except csv.Error:
        raise ImportFileError(_("The file is not a readable CSV file.")) from None


def _read_xlsx(data: bytes) -> list[tuple[Any, ...]]:
    import openpyxl

    not_xlsx = ImportFileError(_("The file is not a readable Excel workbook (.xlsx)."))
    if not data.startswith(_ZIP_MAGIC):
        raise not_xlsx
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise not_xlsx from None
    if "xl/workbook.xml" not in names:
        raise not_xlsx
    if unpacked > MAX_UNPACKED_BYTES:
        raise ImportFileError(
            _("The workbook is too large once unpacked: split it into smaller files.")
        )
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged workbook
        raise not_xlsx from None
    try:
        sheet = book.worksheets[0]
        rows, filled = [], 0
        # The sheet's own width (rows are padded to it), at most one column past the
        # limit, so a file that uses that column is refused (see _table).
        last = min(sheet.max_column or MAX_COLUMNS + 1, MAX_COLUMNS + 1)
        for row in sheet.iter_rows(values_only=True, max_col=last):
            rows.append(row)
            filled += any(value is not None for value in row)
            if filled > MAX_ROWS + 1:  # enough for _table to refuse the file
                break
        return rows
    except Exception:  # a damaged sheet inside a valid zip
        raise not_xlsx from None
    finally:
        book.close()
