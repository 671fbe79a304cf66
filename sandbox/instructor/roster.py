"""Roster import: a CSV or XLSX class list becomes student logins in a course.

Columns: ``username``, ``name``, ``email`` and an optional ``password`` (Chinese
headers 用户名, 姓名, 邮箱, 密码 work too). Every row is checked before anything is
written; every bad row is reported with its line number and the reason. With errors,
nothing is imported unless the instructor asks to import the good rows. The import
is one transaction; the students' CRMs are built after it commits.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email

from sandbox.auth.service import (
    PASSWORD_MIN_LENGTH,
    UserError,
    create_user,
    hash_passwords,
    normalize_username,
)
from sandbox.crm.transfer.export import to_csv
from sandbox.crm.transfer.reading import ImportFileError, read_table
from sandbox.extensions import db
from sandbox.i18n import gettext as _
from sandbox.instructor.service import enroll_only, ensure_writable
from sandbox.models.control import Course, Enrollment, Role, User, record_event

#: header (lower case) -> column
HEADERS = {
    "username": "username",
    "user name": "username",
    "login": "username",
    "用户名": "username",
    "账号": "username",
    "学号": "username",
    "name": "name",
    "full name": "name",
    "display name": "name",
    "姓名": "name",
    "email": "email",
    "e-mail": "email",
    "email address": "email",
    "邮箱": "email",
    "电子邮件": "email",
    "password": "password",
    "密码": "password",
    "初始密码": "password",
}
#: Letters and digits that cannot be mistaken for one another when read aloud.
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789"  # noqa: S105
GENERATED_PASSWORD_LENGTH = 10

__all__ = ["ImportFileError", "RosterRow", "RosterCheck", "read_roster"]


@dataclass
class RosterRow:
    line: int
    username: str
    name: str = ""
    email: str = ""
    password: str = ""
    #: An existing student account that is enrolled as it is.
    existing: User | None = None


@dataclass
class RowProblem:
    line: int
    username: str
    reason: str


@dataclass
class RosterCheck:
    """A class list checked against the course and the users already there."""

    good: list[RosterRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    #: Students on the list who are in the course already; they are left alone.
    already_enrolled: list[RosterRow] = field(default_factory=list)


@dataclass
class Credential:
    username: str
    name: str
    password: str
    generated: bool


@dataclass
class ImportResult:
    created: list[Credential] = field(default_factory=list)
    enrolled_existing: list[str] = field(default_factory=list)


def read_roster(data: bytes, filename: str) -> list[RosterRow]:
    """The rows of an uploaded class list.

    :raise ImportFileError: the file cannot be read, or has no username column
    """
    table = read_table(data, filename)
    columns: dict[str, int] = {}
    for index, header in enumerate(table.headers):
        key = HEADERS.get(" ".join(header.lower().replace("_", " ").split()))
        if key and key not in columns:
            columns[key] = index
    if "username" not in columns:
        raise ImportFileError(
            _(
                "The file has no username column: the first row must name the "
                "columns username, name, email and (optionally) password."
            )
        )

    def cell(cells: list[str | None], key: str) -> str:
        index = columns.get(key)
        if index is None or index >= len(cells):
            return ""
        return (cells[index] or "").strip()

    return [
        RosterRow(
            line,
            cell(cells, "username"),
            cell(cells, "name"),
            cell(cells, "email"),
            cell(cells, "password"),
        )
        for line, cells in table.rows
    ]


def _row_problem(row: RosterRow) -> str | None:
    if not row.username:
        return _("The username is missing.")
    name = normalize_username(row.username)
    if len(name) > 64 or not all(c.isalnum() or c in "._-" for c in name):
        return _("A username uses 1-64 letters, digits, '.', '_' or '-'.")
    if len(row.name) > 120:
        return _("The name is longer than 120 characters.")
    if row.email:
        try:
            validate_email(row.email, check_deliverability=False)
        except EmailNotValidError:
            return _("%(email)s is not a valid email address.", email=row.email)
        if len(row.email) > 254:
            return _("The email address is longer than 254 characters.")
    if row.password and len(row.password) < PASSWORD_MIN_LENGTH:
        return _(
            "The password is shorter than %(count)d characters.",
            count=PASSWORD_MIN_LENGTH,
        )
    if len(row.password) > 200:
        return _("The password is longer than 200 characters.")
    return None


def check_roster(course: Course, rows: list[RosterRow]) -> RosterCheck:
    """Sort the rows into good ones, bad ones (with reasons) and ones already in."""
    result = RosterCheck()
    first_line: dict[str, int] = {}
    names = {normalize_username(r.username) for r in rows if r.username}
    users = {
        u.username: u
        for u in db.session.scalars(sa.select(User).where(User.username.in_(names)))
    }
    enrolled = set(
        db.session.scalars(
            sa.select(Enrollment.student_id).where(Enrollment.course_id == course.id)
        )
    )
    for row in rows:
        reason = _row_problem(row)
        username = normalize_username(row.username)
        if reason is None and username in first_line:
            reason = _("The username repeats row %(line)d.", line=first_line[username])
        if row.username:
            first_line.setdefault(username, row.line)
        user = users.get(username)
        if reason is None and user is not None and not user.is_student:
            reason = _(
                "The username %(username)s belongs to an instructor or an "
                "administrator.",
                username=username,
            )
        if reason is not None:
            result.problems.append(RowProblem(row.line, row.username, reason))
            continue
        row.username = username
        row.existing = user
        if user is not None and user.id in enrolled:
            result.already_enrolled.append(row)
        else:
            result.good.append(row)
    return result


def generate_password() -> str:
    return "".join(
        secrets.choice(PASSWORD_ALPHABET) for _ in range(GENERATED_PASSWORD_LENGTH)
    )


def import_rows(
    course: Course, rows: list[RosterRow], actor: User | None = None
) -> ImportResult:
    """Create the logins and enrollments of checked good rows; the caller commits
    (one transaction: on any error the caller rolls back and nothing is kept)."""
    ensure_writable(course)
    result = ImportResult()
    passwords = {
        row.line: row.password or generate_password()
        for row in rows
        if row.existing is None
    }
    hashes = dict(zip(passwords, hash_passwords(list(passwords.values())), strict=True))
    for row in rows:
        student = row.existing
        if student is None:
            password = passwords[row.line]
            try:
                student = create_user(
                    row.username,
                    password,
                    Role.STUDENT,
                    display_name=row.name,
                    email=row.email or None,
                    password_hash=hashes[row.line],
                )
            except UserError as error:
                raise ImportFileError(
                    _("Row %(line)d: %(reason)s", line=row.line, reason=str(error))
                ) from None
            result.created.append(
                Credential(student.username, student.name, password, not row.password)
            )
        else:
            result.enrolled_existing.append(student.username)
        enroll_only(course, student)
    db.session.flush()
    record_event(
        "course.roster_import",
        actor=actor,
        target=course.code,
        created=len(result.created),
        enrolled_existing=len(result.enrolled_existing),
    )
    return result


def credentials_csv(rows: list[tuple[str, str, str]]) -> bytes:
    """The initial passwords as a CSV file: username, name, password."""
    return to_csv(["username", "name", "password"], rows)
