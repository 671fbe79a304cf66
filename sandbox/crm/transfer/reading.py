"""Reading an uploaded CSV or XLSX file into a header and rows of text.

A file that cannot be read as a whole (wrong format, unreadable encoding, too large,
no header) raises :class:`ImportFileError` and nothing of it is imported. Chinese
Excel saves CSV in GBK/GB18030, so that is tried after UTF-8, and kept only when the
text reads as Chinese. Of a workbook, only the first sheet is read.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field
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
#: The largest CSV cell, in characters.
MAX_CELL = 1024 * 1024
csv.field_size_limit(MAX_CELL)
#: A formula in a worksheet's XML: ``<f>``, ``<f t="shared" .../>``.
_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s/>]")
#: A character that is not ASCII, beside an ASCII letter or digit.
_BESIDE_ASCII = re.compile(r"(?<=[A-Za-z0-9])[^\x00-\x7f]|[^\x00-\x7f](?=[A-Za-z0-9])")


class ImportFileError(ValueError):
    """The file as a whole cannot be imported; ``message`` says why, for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Table:
    """A file's header and its non-blank rows, each with its line number.

    ``formulas`` gives, by line, the columns (counted from 0) whose cell holds a
    formula without a value; ``sheet`` is the title of the sheet read, when the
    workbook has others.
    """

    headers: list[str]
    rows: list[tuple[int, list[str | None]]]
    formulas: dict[int, list[int]] = field(default_factory=dict)
    sheet: str | None = None


class _Formula:
    """A workbook cell that holds a formula but no computed value."""


FORMULA = _Formula()


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
    if kind == "csv":
        return _table(_read_csv(data))
    rows, sheet = _read_xlsx(data)
    return _table(rows, sheet)


def _table(rows: Any, sheet: str | None = None) -> Table:
    headers: list[str] | None = None
    found: list[tuple[int, list[str | None]]] = []
    formulas: dict[int, list[int]] = {}
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
        formula = [i for i, value in enumerate(raw) if value is FORMULA]
        if not (formula or any(cell for cell in cells)):
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
        if formula:
            formulas[line] = formula
    if headers is None:
        if sheet is not None:
            raise ImportFileError(
                _(
                    "The first sheet, “%(sheet)s”, is empty: only the first sheet of "
                    "a workbook is read.",
                    sheet=sheet,
                )
            )
        raise ImportFileError(_("The file has no header row and no data."))
    return Table(headers, found, formulas, sheet)


def _text(value: Any) -> str | None:
    """A cell as text: numbers without a float's noise, dates as ISO dates."""
    if value is None or value is FORMULA:
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
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            pass
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            pass
        else:
            if _reads_as_chinese(text):
                return text
    raise ImportFileError(
        _(
            "The file's text is not in a readable encoding: save it as "
            "“CSV UTF-8” or as an Excel workbook (.xlsx)."
        )
    )


def _in_gb2312(char: str) -> bool:
    """Whether ``char`` is one of GB2312's, the characters everyday Chinese uses."""
    encoded = char.encode("gb18030")
    return (
        len(encoded) == 2
        and (0xA1 <= encoded[0] <= 0xA9 or 0xB0 <= encoded[0] <= 0xF7)
        and encoded[1] >= 0xA1
    )


def _reads_as_chinese(text: str) -> bool:
    """Whether GBK/GB18030 ``text`` is Chinese, not a Western file misread.

    Any bytes decode as GB18030: a Windows-1252 "Köln" reads as "K鰈n", an accented
    letter and the ASCII letter after it taken for one rare character outside
    GB2312. Chinese text has such characters too (镕, 喆, 䶮), but among Chinese
    characters, not wedged against ASCII letters or digits.
    """
    return all(_in_gb2312(m.group()) for m in _BESIDE_ASCII.finditer(text))


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
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows: list[list[str]] = []
    # The text lines the row being read and the last row start on (a quoted cell
    # may hold line breaks). Messages count rows, as the preview's lines do.
    start = last = 1
    try:
        for row in reader:
            rows.append(row)
            last, start = start, reader.line_num + 1
    except csv.Error as error:
        _refuse_open_quote(text, delimiter, start, len(rows) + 1)
        if "field larger than field limit" in str(error):
            raise ImportFileError(
                _(
                    "A cell on line %(line)d is larger than %(size)s: shorten it.",
                    line=len(rows) + 1,
                    size=size_text(MAX_CELL),
                )
            ) from None
        raise ImportFileError(_("The file is not a readable CSV file.")) from None
    # An unclosed quote takes the rest of the file into a cell of the last row.
    _refuse_open_quote(text, delimiter, last, len(rows))
    return rows


def _refuse_open_quote(text: str, delimiter: str, start: int, row: int) -> None:
    """:raise ImportFileError: row ``row``, from text line ``start`` on, has a quote
    that opens a cell and never closes."""
    offset = 0
    for _line in range(start - 1):
        offset = text.find("\n", offset) + 1
        if not offset:
            return
    if _ends_quoted(text[offset:], delimiter):
        raise ImportFileError(
            _(
                'The quote (") on line %(line)d is not closed: close it or remove it.',
                line=row,
            )
        )


def _ends_quoted(text: str, delimiter: str) -> bool:
    """Whether ``text`` ends inside a quoted cell, read as the csv module reads it:
    a quote opens a cell only as its first character, and two quotes inside a
    quoted cell are one quote."""
    boundary = re.compile(f"[{re.escape(delimiter)}\n]")
    pos, size = 0, len(text)
    while pos < size:
        if text[pos] == '"':
            close = pos + 1
            while True:
                close = text.find('"', close)
                if close == -1:
                    return True
                if not text.startswith('"', close + 1):
                    break
                close += 2
            pos = close + 1
        end = boundary.search(text, pos)
        if end is None:
            return False
        pos = end.end()
    return False


def _read_xlsx(data: bytes) -> tuple[list[tuple[Any, ...]], str | None]:
    """The first sheet's rows, and its title when the workbook has other sheets.

    A formula cell without a value (a file saved by a program that does not compute
    formulas) reads as :data:`FORMULA`.
    """
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
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            has_formulas = _has_formulas(archive)
    except Exception:  # a damaged part inside a valid zip
        raise not_xlsx from None
    books = []
    try:
        try:
            books.append(_load_workbook(openpyxl, data, data_only=True))
            if has_formulas:  # the formulas themselves, to tell them from blanks
                books.append(_load_workbook(openpyxl, data, data_only=False))
        except Exception:  # openpyxl raises many kinds for a damaged workbook
            raise not_xlsx from None
        try:
            return _sheet_rows(books), _other_sheets_title(books[0])
        except Exception:  # a damaged sheet inside a valid zip
            raise not_xlsx from None
    finally:
        for book in books:
            book.close()


def _load_workbook(openpyxl: Any, data: bytes, *, data_only: bool) -> Any:
    return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=data_only)


def _has_formulas(archive: zipfile.ZipFile) -> bool:
    """Whether a worksheet of the workbook holds a formula."""
    for name in archive.namelist():
        if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
            continue
        with archive.open(name) as member:
            tail = b""
            while chunk := member.read(1024 * 1024):
                if _FORMULA_TAG.search(tail + chunk):
                    return True
                tail = chunk[-8:]
    return False


def _sheet_rows(books: list[Any]) -> list[tuple[Any, ...]]:
    """The first sheet's rows from the values workbook, with :data:`FORMULA` where
    the formulas workbook (if given) has a formula and the values one nothing."""
    sheet = books[0].worksheets[0]
    # The sheet's own width (rows are padded to it), at most one column past the
    # limit, so a file that uses that column is refused (see _table).
    last = min(sheet.max_column or MAX_COLUMNS + 1, MAX_COLUMNS + 1)
    written = (
        books[1].worksheets[0].iter_rows(values_only=True, max_col=last)
        if len(books) > 1
        else None
    )
    rows, filled = [], 0
    for row in sheet.iter_rows(values_only=written is None, max_col=last):
        if written is not None:
            row = _marked(row, next(written, ()))
        rows.append(row)
        filled += any(value is not None for value in row)
        if filled > MAX_ROWS + 1:  # enough for _table to refuse the file
            break
    return rows


def _marked(cells: tuple[Any, ...], formulas: tuple[Any, ...]) -> tuple[Any, ...]:
    """The values of ``cells``, :data:`FORMULA` for a formula without a value.

    A value left empty is a formula's result only when typed as text (``t="str"``:
    how Excel saves a formula giving ""); otherwise it was never computed.
    """
    return tuple(
        FORMULA
        if cell.value is None
        and cell.data_type != "str"
        and i < len(formulas)
        and formulas[i] is not None
        else cell.value
        for i, cell in enumerate(cells)
    )


def _other_sheets_title(book: Any) -> str | None:
    """The first sheet's title, if the workbook has other sheets (not read)."""
    return book.worksheets[0].title if len(book.sheetnames) > 1 else None
