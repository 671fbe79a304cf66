"""Roster import: CSV (UTF-8, BOM, GBK) or XLSX class lists become student logins."""

from __future__ import annotations

import csv
import io
import re

import pytest
import sqlalchemy as sa

from sandbox.auth.service import get_user
from sandbox.extensions import db
from sandbox.models.control import Course, Role, User
from tests.helpers import make_course, make_user

GOOD = (
    "username,name,email,password\n"
    "stu01,Zhang San,zs@example.edu,\n"
    "stu02,Li Si,,longenough\n"
)


def upload(client, course_id, data: bytes, filename="class.csv", good_rows=False):
    form = {"file": (io.BytesIO(data), filename)}
    if good_rows:
        form["import_good_rows"] = "y"
    return client.post(
        f"/instructor/courses/{course_id}/roster/import",
        data=form,
        content_type="multipart/form-data",
    )


BUILD_URLS = re.compile(r'data-batch="([^"]+)"')


def build_crms(client, page: str) -> list[dict]:
    """What the result page's script does: build each new CRM, one request each."""
    import html
    import json

    found = BUILD_URLS.search(page)
    assert found, "the page lists no CRM to build"
    return [
        client.post(url, headers={"Accept": "application/json"}).get_json()
        for url in json.loads(html.unescape(found.group(1)))
    ]


def tenant_count(app, course_id) -> int:
    with app.app_context():
        return len(db.session.get(Course, course_id).tenants)


def enrolled(app, course_id) -> list[str]:
    with app.app_context():
        course = db.session.get(Course, course_id)
        return sorted(e.student.username for e in course.enrollments)


def students(app) -> list[str]:
    with app.app_context():
        return sorted(
            db.session.scalars(
                sa.select(User.username).where(User.role == Role.STUDENT)
            )
        )


@pytest.mark.parametrize(
    "encoded",
    [
        GOOD.encode("utf-8"),
        b"\xef\xbb\xbf" + GOOD.encode("utf-8"),
        "用户名,姓名,邮箱,密码\nstu01,张三,zs@example.edu,\nstu02,李四,,longenough\n".encode(
            "gbk"
        ),
    ],
    ids=["utf8", "utf8-bom", "gbk"],
)
def test_a_csv_class_list_creates_logins_and_crms(
    app, client, auth, classroom, encoded
):
    auth.login("teacher")
    response = upload(client, classroom.course_id, encoded)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "2 student logins created." in page and "2 CRMs to build" in page
    assert enrolled(app, classroom.course_id) == ["alice", "bob", "stu01", "stu02"]
    for result in build_crms(client, page):
        assert result == {"ok": True, "student": result["student"], "message": ""}
    # The generated password is shown once and works; the given one is kept.
    generated = re.search(r"<td>stu01</td><td>[^<]*</td><td><code>(\w+)</code>", page)
    assert generated
    with app.app_context():
        assert get_user("stu01").check_password(generated.group(1))
        assert get_user("stu02").check_password("longenough")
        assert get_user("stu01").email == "zs@example.edu"
        course = db.session.get(Course, classroom.course_id)
        assert len(course.tenants) == 4
    if encoded.startswith("用户名".encode("gbk")):
        with app.app_context():
            assert get_user("stu01").display_name == "张三"


def test_an_xlsx_class_list_imports_too(app, client, auth, classroom):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Username", "Name", "Email"])
    sheet.append([20260001, "王五", "ww@example.edu"])
    out = io.BytesIO()
    book.save(out)
    auth.login("teacher")
    response = upload(client, classroom.course_id, out.getvalue(), "class.xlsx")
    assert "1 student login created." in response.get_data(as_text=True)
    assert "20260001" in enrolled(app, classroom.course_id)


BAD = (
    "username,name,email,password\n"
    "good1,Good One,g1@example.edu,\n"  # row 2
    ",No Name,nn@example.edu,\n"  # row 3: missing username
    "good1,Again,,\n"  # row 4: duplicate
    "mail,Bad Mail,not-an-email,\n"  # row 5
    "short,Short,,abc\n"  # row 6
    "teacher,Teacher,,\n"  # row 7: an instructor's username
    "good2,Good Two,,\n"  # row 8
)


def test_every_bad_row_is_reported_and_nothing_is_imported(
    app, client, auth, classroom
):
    auth.login("teacher")
    page = upload(client, classroom.course_id, BAD.encode()).get_data(as_text=True)
    assert "Nothing was imported" in page
    rows = re.findall(r"<tr class=\"table-danger\"><td>(\d+)</td>", page)
    assert rows == ["3", "4", "5", "6", "7"]
    for reason in (
        "The username is missing.",
        "The username repeats row 2.",
        "not-an-email is not a valid email address.",
        "The password is shorter than 8 characters.",
        "belongs to an instructor or an administrator",
    ):
        assert reason in page
    assert students(app) == ["alice", "bob"]


def test_the_good_rows_are_imported_when_asked(app, client, auth, classroom):
    auth.login("teacher")
    page = upload(client, classroom.course_id, BAD.encode(), good_rows=True).get_data(
        as_text=True
    )
    assert "2 student logins created." in page
    assert "5 rows with errors were not imported." in page
    assert enrolled(app, classroom.course_id) == ["alice", "bob", "good1", "good2"]


def test_an_existing_student_is_enrolled_and_a_known_one_skipped(
    app, client, auth, classroom
):
    with app.app_context():
        make_user("carol", Role.STUDENT)
    auth.login("teacher")
    data = b"username,name,email\ncarol,Carol,\nalice,Alice,\n"
    page = upload(client, classroom.course_id, data).get_data(as_text=True)
    assert "1 existing student enrolled." in page
    assert enrolled(app, classroom.course_id) == ["alice", "bob", "carol"]


def test_an_error_midway_leaves_nothing_half_imported(
    app, client, auth, classroom, monkeypatch
):
    from sandbox.instructor import roster

    real = roster.create_user
    calls = []

    def fail_on_second(*args, **kwargs):
        calls.append(args[0])
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(roster, "create_user", fail_on_second)
    auth.login("teacher")
    client.application.config["PROPAGATE_EXCEPTIONS"] = False
    response = upload(client, classroom.course_id, GOOD.encode())
    assert response.status_code == 500
    assert students(app) == ["alice", "bob"]
    assert enrolled(app, classroom.course_id) == ["alice", "bob"]


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"name,email\nX,x@example.edu\n", "class.csv", "no username column"),
        (b"", "class.csv", "The file is empty."),
        (b"username\nx\n", "class.txt", "Choose a .csv or .xlsx file."),
        (b"not a zip", "class.xlsx", "not a readable Excel workbook"),
    ],
)
def test_an_unreadable_file_is_refused_beside_the_field(
    app, client, auth, classroom, data, filename, message
):
    auth.login("teacher")
    response = upload(client, classroom.course_id, data, filename)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)


def test_the_initial_passwords_download_as_csv(app, client, auth, classroom):
    auth.login("teacher")
    response = client.post(
        f"/instructor/courses/{classroom.course_id}/roster/initial-passwords.csv",
        data={
            "username": ["stu01", "stu02"],
            "name": ["张三", "=cmd"],
            "password": ["abcDEF2345", "xyz"],
        },
    )
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows == [
        ["username", "name", "password"],
        ["stu01", "张三", "abcDEF2345"],
        ["stu02", "'=cmd", "xyz"],
    ]


def test_adding_one_student_shows_their_password_once(app, client, auth, classroom):
    auth.login("teacher")
    url = f"/instructor/courses/{classroom.course_id}/students/new"
    page = client.post(
        url, data={"username": "Dave", "name": "Dave", "email": ""}
    ).get_data(as_text=True)
    assert "1 student login created." in page and "Initial passwords" in page
    assert "dave" in enrolled(app, classroom.course_id)
    # Adding an enrolled student, or an instructor, is refused beside the field.
    page = client.post(url, data={"username": "alice"}).get_data(as_text=True)
    assert "This student is in the course already." in page
    page = client.post(url, data={"username": "teacher"}).get_data(as_text=True)
    assert "belongs to an instructor" in page


def test_the_class_reset_is_offered_once_a_crm_is_built(app, client, auth, classroom):
    with app.app_context():
        teacher = db.session.scalar(sa.select(User).filter_by(username="teacher"))
        course_id = make_course("NEW-1", instructors=[teacher]).id
    auth.login("teacher")
    page = upload(client, course_id, GOOD.encode()).get_data(as_text=True)
    course_page = f"/instructor/courses/{course_id}"
    assert "Reset the whole class" not in client.get(course_page).get_data(as_text=True)
    build_crms(client, page)
    assert "Reset the whole class" in client.get(course_page).get_data(as_text=True)


def test_the_new_students_crms_are_built_after_the_passwords_page(
    app, client, auth, classroom
):
    auth.login("teacher")
    page = upload(client, classroom.course_id, GOOD.encode()).get_data(as_text=True)
    # The passwords page comes before any CRM is built.
    assert "Initial passwords" in page
    assert tenant_count(app, classroom.course_id) == 2
    results = build_crms(client, page)
    assert sorted(r["student"] for r in results) == ["stu01", "stu02"]
    assert all(r["ok"] for r in results)
    assert tenant_count(app, classroom.course_id) == 4
    # Asking again builds nothing more.
    assert all(r["ok"] for r in build_crms(client, page))
    assert tenant_count(app, classroom.course_id) == 4


def test_without_scripts_the_page_builds_every_crm_in_one_request(
    app, client, auth, classroom
):
    auth.login("teacher")
    page = upload(client, classroom.course_id, GOOD.encode()).get_data(as_text=True)
    action = re.search(r'<form method="post" action="([^"]+)" data-batch=', page)
    assert action, "the build form has no action"
    response = client.post(action.group(1), follow_redirects=True)
    assert "2 student CRMs have been created." in response.get_data(as_text=True)
    assert tenant_count(app, classroom.course_id) == 4


def test_a_crm_is_built_only_for_a_student_of_the_course(app, client, auth, classroom):
    with app.app_context():
        outsider = make_user("carol", Role.STUDENT).id
    auth.login("teacher")
    url = f"/instructor/courses/{classroom.course_id}/students/{outsider}/provision"
    assert client.post(url).status_code == 404
    auth.logout()
    auth.login("alice")
    with app.app_context():
        alice = get_user("alice").id
    url = f"/instructor/courses/{classroom.course_id}/students/{alice}/provision"
    assert client.post(url).status_code == 403
