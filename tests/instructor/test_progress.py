"""Assignments, grading from the page, the heatmap, step statistics, gradebook."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime

import pytest
import sqlalchemy as sa
from markupsafe import escape

from sandbox.extensions import db
from sandbox.instructor.gradebook import assign_lesson
from sandbox.instructor.service import CourseError
from sandbox.models.control import Course, Role
from sandbox.models.labs import CheckAttempt, LessonAssignment, StepResult
from tests.helpers import make_account, make_course, make_user


def assign(client, course_id, lesson, date="", time=""):
    return client.post(
        f"/instructor/courses/{course_id}/lessons",
        data={"lesson": lesson, "due_date": date, "due_time": time},
    )


def result(tenant_id, lesson, step, score, points, **extra):
    db.session.add(
        StepResult(
            tenant_id=tenant_id,
            lesson_id=lesson,
            step_id=step,
            score=score,
            points=points,
            passed=score >= 1,
            **extra,
        )
    )


@pytest.fixture
def assigned(app, client, auth, classroom):
    auth.login("teacher")
    assign(client, classroom.course_id, "accounts-basics", "2026-03-01", "18:00")
    assign(client, classroom.course_id, "accounts-more")
    return classroom


def test_a_due_date_is_entered_in_the_course_time_zone(app, client, auth, classroom):
    with app.app_context():
        classroom.tenant(0).course.timezone = "Asia/Shanghai"
        db.session.commit()
    auth.login("teacher")
    assign(client, classroom.course_id, "accounts-basics", "2026-03-01", "18:00")
    with app.app_context():
        due = db.session.scalar(sa.select(LessonAssignment.due_at))
    assert due == datetime(2026, 3, 1, 10, 0)  # 18:00 in Shanghai is 10:00 UTC
    page = client.get(f"/instructor/courses/{classroom.course_id}/lessons")
    assert "2026-03-01 18:00" in page.get_data(as_text=True)
    # Assigning again changes the due date; unknown lessons are refused.
    assign(client, classroom.course_id, "accounts-basics")
    response = assign(client, classroom.course_id, "nope")
    assert "Not a valid choice" in response.get_data(as_text=True)
    with app.app_context():
        rows = db.session.scalars(sa.select(LessonAssignment)).all()
        assert [(r.lesson_id, r.due_at) for r in rows] == [("accounts-basics", None)]


@pytest.mark.parametrize(
    ("scenario", "offered"),
    [
        ("b2b-software", True),  # the lessons name it by its alias, "default"
        ("telecom-service", True),  # "default-zh"
        ("precision-moulds", False),  # a lesson no one wrote for it
    ],
)
def test_a_lesson_is_offered_to_courses_on_its_scenarios_by_id_or_alias(
    app, client, auth, scenario, offered
):
    with app.app_context():
        teacher = make_user("teacher", Role.INSTRUCTOR)
        course_id = make_course("NEW1", scenario=scenario, instructors=[teacher]).id
    auth.login("teacher")
    page = client.get(f"/instructor/courses/{course_id}/lessons")
    assert ('value="accounts-basics"' in page.get_data(as_text=True)) == offered
    assign(client, course_id, "accounts-basics")
    with app.app_context():
        assigned = db.session.scalars(sa.select(LessonAssignment.lesson_id)).all()
        assert assigned == (["accounts-basics"] if offered else [])
        course = db.session.get(Course, course_id)
        if not offered:  # the service refuses what the page does not offer
            with pytest.raises(CourseError, match="does not work with"):
                assign_lesson(course, "accounts-basics", None)


def test_grading_the_class_from_the_page_fills_the_heatmap(app, client, assigned):
    def add_account(session):
        make_account(session, name="Heatmap Trading")

    assigned.in_tenant(app, add_account, 0)
    base = f"/instructor/courses/{assigned.course_id}"
    page = client.post(
        f"{base}/grade", data={"lesson": "accounts-basics"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "2 students graded" in page
    heat = re.findall(r'<td class="heat-(\w+)[^"]*" data-step="(\w+)"', page)
    assert heat == [
        ("pass", "first"),
        ("fail", "second"),
        ("fail", "first"),
        ("fail", "second"),
    ]
    # The cell links to the student's step result, with the check's message.
    link = re.search(r'href="([^"]+/results/accounts-basics/second)"', page).group(1)
    detail = client.get(link).get_data(as_text=True)
    assert "record_exists" in detail
    with app.app_context():
        stored = db.session.scalar(
            sa.select(StepResult).filter_by(
                tenant_id=assigned.tenant_ids[0], step_id="second"
            )
        )
        message = stored.message["en"]
    assert "Second Trading" in message
    assert str(escape(message)) in detail


def test_resetting_a_student_and_grading_again_changes_the_heatmap(
    app, client, assigned
):
    assigned.in_tenant(app, lambda s: make_account(s, name="Heatmap Trading"), 0)
    base = f"/instructor/courses/{assigned.course_id}"
    client.post(f"{base}/grade", data={"lesson": ""})
    page = client.get(f"{base}/progress").get_data(as_text=True)
    assert 'class="heat-pass' in page
    client.post(f"{base}/tenants/{assigned.tenant_ids[0]}/reset")
    client.post(f"{base}/grade", data={"lesson": ""})
    page = client.get(f"{base}/progress").get_data(as_text=True)
    assert 'class="heat-pass' not in page


def test_step_statistics_count_passes_attempts_and_the_commonest_failure(
    app, client, assigned
):
    with app.app_context():
        a, b = assigned.tenant_ids
        result(a, "accounts-basics", "first", 1.0, 10, attempts=3)
        result(
            b,
            "accounts-basics",
            "first",
            0.5,
            5,
            attempts=2,
            message={
                "en": "Account Heatmap Trading: not found.",
                "zh": "未找到客户 Heatmap Trading。",
            },
        )
        for tenant, passed, message in [
            (a, False, "Account Heatmap Trading: not found."),
            (a, False, "Account Heatmap Trading: not found."),
            (a, True, "Well done"),
            (b, False, "Account Heatmap Trading: not found."),
            (b, False, "Name is wrong."),
        ]:
            db.session.add(
                CheckAttempt(
                    tenant_id=tenant,
                    lesson_id="accounts-basics",
                    step_id="first",
                    passed=passed,
                    message=message,
                )
            )
        db.session.commit()
    page = client.get(f"/instructor/courses/{assigned.course_id}/progress").get_data(
        as_text=True
    )
    row = re.search(r'<tr data-step="first">(.*?)</tr>', page, re.S).group(1)
    cells = [c.strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    assert cells[1:4] == ["50%", "1 / 2", "5"]
    assert "Account Heatmap Trading: not found." in cells[4] and "×3" in cells[4]
    # A partly right step shows its share in the heatmap.
    assert re.search(r'heat-partial[^>]*data-step="first"', page)
    # In Chinese the commonest failure is told in Chinese, as the student read it.
    client.post("/language", data={"language": "zh"})
    page = client.get(f"/instructor/courses/{assigned.course_id}/progress").get_data(
        as_text=True
    )
    row = re.search(r'<tr data-step="first">(.*?)</tr>', page, re.S).group(1)
    assert "未找到客户 Heatmap Trading。" in row and "not found" not in row


def test_the_gradebook_csv_has_the_documented_columns_and_totals(app, client, assigned):
    with app.app_context():
        a, b = assigned.tenant_ids
        result(a, "accounts-basics", "first", 1.0, 10, late=True)
        result(a, "accounts-basics", "second", 0.5, 2.5)
        result(a, "accounts-more", "first", 1.0, 10)
        result(b, "accounts-more", "second", 1.0, 5)
        result(b, "unassigned-lesson", "x", 1.0, 99)  # never counted
        db.session.commit()
        alice_id = assigned.tenant(0).student_id
    response = client.get(f"/instructor/courses/{assigned.course_id}/gradebook.csv")
    assert response.headers["Content-Disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == [
        "username",
        "student_id",
        "name",
        "email",
        "Accounts: the basics (15)",
        "Accounts: more (15)",
        "total",
        "late",
    ]
    assert rows[1] == [
        "alice",
        str(alice_id),
        "alice",
        "",
        "12.5",
        "10",
        "22.5",
        "accounts-basics",
    ]
    assert rows[2][0] == "bob" and rows[2][4:] == ["0", "5", "5", ""]


def test_the_per_step_csv_has_one_row_per_student_and_step(app, client, assigned):
    with app.app_context():
        result(
            assigned.tenant_ids[0],
            "accounts-basics",
            "first",
            0.5,
            5,
            attempts=4,
            message={"en": "Account Heatmap Trading: name differs.", "zh": "…"},
        )
        db.session.commit()
    response = client.get(
        f"/instructor/courses/{assigned.course_id}/gradebook-steps.csv"
    )
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert len(rows) == 2 * 4  # two students, two lessons of two steps
    first = rows[0]
    assert (first["username"], first["lesson"], first["step"]) == (
        "alice",
        "accounts-basics",
        "first",
    )
    assert (first["score"], first["points"], first["points_possible"]) == (
        "0.5",
        "5",
        "10",
    )
    assert first["attempts"] == "4" and first["passed"] == "no"
    assert first["message"] == "Account Heatmap Trading: name differs."
    # A whole score is written as a whole number, checked or not.
    assert rows[1]["score"] == rows[2]["score"] == "0"


def test_the_per_step_csv_gives_its_times_in_the_course_time_zone(
    app, client, assigned
):
    with app.app_context():
        assigned.tenant(0).course.timezone = "Asia/Shanghai"
        moment = datetime(2026, 3, 1, 23, 30)  # UTC
        result(
            assigned.tenant_ids[0],
            "accounts-basics",
            "first",
            1.0,
            10,
            checked_at=moment,
            first_passed_at=moment,
        )
        result(assigned.tenant_ids[0], "accounts-basics", "second", 0.0, 0)
        db.session.commit()
    response = client.get(
        f"/instructor/courses/{assigned.course_id}/gradebook-steps.csv"
    )
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0]["checked_at"] == "2026-03-02 07:30+08:00"
    assert rows[0]["first_passed_at"] == "2026-03-02 07:30+08:00"
    assert (rows[0]["score"], rows[1]["score"], rows[2]["score"]) == ("1", "0", "0")


def test_late_work_is_marked_not_refused(app, client, assigned):
    with app.app_context():
        assignment = db.session.scalar(
            sa.select(LessonAssignment).filter_by(lesson_id="accounts-basics")
        )
        assignment.due_at = datetime(2000, 1, 1)
        db.session.commit()
    assigned.in_tenant(app, lambda s: make_account(s, name="Heatmap Trading"), 0)
    base = f"/instructor/courses/{assigned.course_id}"
    client.post(f"{base}/grade", data={"lesson": "accounts-basics"})
    with app.app_context():
        row = db.session.scalar(
            sa.select(StepResult).filter_by(
                tenant_id=assigned.tenant_ids[0], step_id="first"
            )
        )
        assert row.passed and row.points == 10 and row.late
    page = client.get(f"{base}/progress").get_data(as_text=True)
    assert ">late<" in page


def test_a_student_cannot_see_results_and_other_instructors_get_404(
    app, client, auth, assigned
):
    from sandbox.models.control import Role
    from tests.helpers import make_user

    base = f"/instructor/courses/{assigned.course_id}"
    urls = [
        f"{base}/lessons",
        f"{base}/progress",
        f"{base}/gradebook.csv",
        f"{base}/gradebook-steps.csv",
        f"{base}/tenants/{assigned.tenant_ids[1]}/results/accounts-basics/first",
    ]
    auth.logout()
    auth.login("alice")
    assert [client.get(u).status_code for u in urls] == [403] * len(urls)
    assert client.post(f"{base}/grade").status_code == 403
    with app.app_context():
        make_user("stranger", Role.INSTRUCTOR)
    auth.logout()
    auth.login("stranger")
    assert [client.get(u).status_code for u in urls] == [404] * len(urls)
    assert client.post(f"{base}/grade").status_code == 404


def test_unknown_lessons_and_steps_are_404(app, client, assigned):
    base = f"/instructor/courses/{assigned.course_id}"
    tenant = assigned.tenant_ids[0]
    assert client.get(f"{base}/progress?lesson=nope").status_code == 404
    assert client.get(f"{base}/tenants/{tenant}/results/nope/first").status_code == 404
    assert (
        client.get(f"{base}/tenants/{tenant}/results/accounts-basics/x").status_code
        == 404
    )


def _chinese_course(app, course_id):
    with app.app_context():
        db.session.get(Course, course_id).scenario = "telecom-service"
        db.session.commit()


def test_the_commonest_failure_is_in_chinese_though_the_student_moved_on(
    app, client, assigned
):
    from sandbox.labs.messages import pack

    failure = {
        "en": "In the case “C1”, Priority should be “P1”.",
        "zh": "工单优先级错误。",
    }
    with app.app_context():
        a, _b = assigned.tenant_ids
        # The student has since passed: the latest result no longer holds it.
        result(a, "accounts-basics", "first", 1.0, 10, message={"en": "Well done"})
        for passed, message in [(False, failure), (False, failure), (True, None)]:
            db.session.add(
                CheckAttempt(
                    tenant_id=a,
                    lesson_id="accounts-basics",
                    step_id="first",
                    passed=passed,
                    message=pack(message or {"en": "Well done", "zh": "做得好"}),
                )
            )
        db.session.commit()
    client.post("/language", data={"language": "zh"})
    page = client.get(f"/instructor/courses/{assigned.course_id}/progress").get_data(
        as_text=True
    )
    row = re.search(r'<tr data-step="first">(.*?)</tr>', page, re.S).group(1)
    assert "工单优先级错误。" in row and "Priority" not in row and "（×2）" in row
    link = f"/instructor/courses/{assigned.course_id}/tenants/{a}/results/"
    detail = client.get(f"{link}accounts-basics/first").get_data(as_text=True)
    attempts = detail[detail.index('id="attempts"') :]
    assert "工单优先级错误。" in attempts and "{" not in attempts


def test_a_step_result_shows_check_parameters_as_readable_text(app, client, assigned):
    with app.app_context():
        a = assigned.tenant_ids[0]
        result(
            a,
            "accounts-basics",
            "first",
            0.0,
            0,
            message={"en": "No contact “杨志”.", "zh": "未找到联系人“杨志”。"},
            detail={
                "checks": [
                    {
                        "kind": "field_equals",
                        "score": 0,
                        "message": {
                            "en": "No contact “杨志”.",
                            "zh": "未找到联系人“杨志”。",
                        },
                        "where": {"name": "杨志", "city": "昆明"},
                        "expected": {"status": "qualified"},
                        "found": None,
                    }
                ]
            },
        )
        db.session.commit()
    client.post("/language", data={"language": "zh"})
    url = f"/instructor/courses/{assigned.course_id}/tenants/{a}/results/"
    page = client.get(f"{url}accounts-basics/first").get_data(as_text=True)
    table = page[page.index('id="check-detail"') :]
    assert "name = 杨志, city = 昆明" in table
    assert "status = qualified" in table
    assert "\\u" not in table and "&#34;" not in table
    assert "未找到联系人“杨志”。" in table and "No contact" not in table


def test_the_files_of_a_chinese_course_speak_chinese(app, client, assigned):
    _chinese_course(app, assigned.course_id)
    with app.app_context():
        result(
            assigned.tenant_ids[0],
            "accounts-basics",
            "first",
            0.5,
            5,
            message={
                "en": "Account Heatmap Trading: name differs.",
                "zh": "客户名称不对。",
            },
        )
        db.session.commit()
    base = f"/instructor/courses/{assigned.course_id}"
    steps = client.get(f"{base}/gradebook-steps.csv").data.decode("utf-8-sig")
    first = next(csv.DictReader(io.StringIO(steps)))
    assert first["message"] == "客户名称不对。"
    grades = client.get(f"{base}/gradebook.csv").data.decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(grades)))
    assert header[4:6] == ["客户：基础 (15)", "客户：进阶 (15)"]
    # The help says so, in the reader's language.
    page = client.get(f"{base}/progress").get_data(as_text=True)
    assert "the course’s language" in page
