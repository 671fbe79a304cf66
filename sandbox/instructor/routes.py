import datetime as dt

import sqlalchemy as sa
from flask import (
    Response,
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user

from sandbox import tenancy
from sandbox.auth.decorators import instructor_required
from sandbox.crm.forms import ConfirmForm
from sandbox.extensions import db
from sandbox.i18n import current_language, ngettext
from sandbox.i18n import gettext as _
from sandbox.instructor import bp, gradebook
from sandbox.instructor import roster as roster_import
from sandbox.instructor.forms import (
    AssignForm,
    CourseForm,
    GradeForm,
    RosterImportForm,
    StudentForm,
)
from sandbox.instructor.service import (
    CourseError,
    archive_course,
    courses_for,
    create_course,
    enrolled_student,
    provision_missing,
    provision_student,
    remove_student,
    reprovision,
    reset_class,
    reset_student,
    restore_course,
    roster,
    scenario_choices,
    scenario_locked_reason,
    scenario_name,
    update_course,
)
from sandbox.labs.grading import grade_course
from sandbox.labs.lessons import LessonError, load_lessons
from sandbox.labs.messages import unpacked_in
from sandbox.models.control import Course, Enrollment, Role, Tenant, User
from sandbox.models.labs import CheckAttempt, LessonAssignment, StepResult


def _course_or_404(course_id: int) -> Course:
    course = db.session.get(Course, course_id)
    if course is None or not current_user.teaches(course):
        abort(404)
    # The course's pages show their times in the course's time zone.
    g.course_timezone = course.timezone
    return course


def _writable_course_or_404(course_id: int) -> Course:
    """A course the user teaches that is not archived (else back to its page)."""
    course = _course_or_404(course_id)
    if course.archived_at is not None:
        flash(_("This course is archived: restore it before changing anything."))
        abort(redirect(url_for("instructor.course", course_id=course.id)))
    return course


def _tenant_or_404(course: Course, tenant_id: int) -> Tenant:
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None or tenant.course_id != course.id:
        abort(404)
    return tenant


def _student_or_404(course: Course, student_id: int) -> User:
    enrollment = db.session.scalar(
        sa.select(Enrollment).filter_by(course_id=course.id, student_id=student_id)
    )
    if enrollment is None:
        abort(404)
    return enrollment.student


bp.add_app_template_filter(scenario_name, "scenario_name")


@bp.route("/")
@instructor_required
def index():
    archived = request.args.get("archived") == "1"
    return render_template(
        "instructor/index.html",
        courses=courses_for(current_user, archived=archived),
        archived=archived,
    )


def _course_form(course: Course | None = None) -> CourseForm:
    form = CourseForm(obj=course)
    form.scenario.choices = [
        (c.id, f"{c.name} ({c.locale}, {c.timezone})") for c in scenario_choices()
    ]
    if current_user.role is Role.ADMIN:
        staff = db.session.scalars(
            sa.select(User)
            .where(User.role == Role.INSTRUCTOR, User.active.is_(True))
            .order_by(User.username)
        )
        form.instructors.choices = [(u.id, f"{u.name} ({u.username})") for u in staff]
        if course is not None and request.method == "GET":
            form.instructors.data = [u.id for u in course.instructors]
    else:
        del form.instructors
    return form


def _chosen_instructors(form: CourseForm, course: Course | None) -> list[User] | None:
    """The instructors picked on the form (admins), or None to leave them be."""
    if "instructors" not in form:
        return None if course is not None else [current_user]
    ids = form.instructors.data or []
    return list(db.session.scalars(sa.select(User).where(User.id.in_(ids))))


def _show_course_error(form: CourseForm, error: CourseError) -> None:
    target = getattr(form, error.field, None) if error.field else None
    if target is not None:
        target.errors = [*target.errors, str(error)]
    else:
        flash(str(error), "danger")


@bp.route("/courses/new", methods=["GET", "POST"])
@instructor_required
def new_course():
    form = _course_form()
    if form.validate_on_submit():
        try:
            course = create_course(
                form.name.data,
                form.code.data,
                scenario=form.scenario.data,
                timezone=form.timezone.data or None,
                fiscal_year_start=form.fiscal_year_start.data,
                instructors=_chosen_instructors(form, None),
                actor=current_user,
            )
        except CourseError as error:
            db.session.rollback()
            _show_course_error(form, error)
        else:
            db.session.commit()
            flash(
                _("The course %(name)s has been created.", name=course.name), "success"
            )
            return redirect(url_for("instructor.course", course_id=course.id))
    return render_template("instructor/course_form.html", form=form, course=None)


@bp.route("/courses/<id:course_id>/edit", methods=["GET", "POST"])
@instructor_required
def edit_course(course_id: int):
    course = _writable_course_or_404(course_id)
    form = _course_form(course)
    if form.validate_on_submit():
        try:
            changed = update_course(
                course,
                name=form.name.data,
                code=form.code.data,
                scenario=form.scenario.data,
                timezone=form.timezone.data or course.timezone,
                fiscal_year_start=form.fiscal_year_start.data,
                instructors=_chosen_instructors(form, course),
                actor=current_user,
            )
        except CourseError as error:
            db.session.rollback()
            course = _course_or_404(course_id)
            _show_course_error(form, error)
        else:
            db.session.commit()
            if changed:
                summary = reprovision(course)
                _flash_summary(
                    summary,
                    ngettext(
                        "%(num)d student CRM has been rebuilt on the new scenario.",
                        "%(num)d student CRMs have been rebuilt on the new scenario.",
                        summary.done,
                    ),
                )
            flash(_("The course has been saved."), "success")
            return redirect(url_for("instructor.course", course_id=course.id))
    return render_template(
        "instructor/course_form.html",
        form=form,
        course=course,
        scenario_locked=scenario_locked_reason(course),
    )


@bp.route("/courses/<id:course_id>/archive", methods=["POST"])
@instructor_required
def archive(course_id: int):
    course = _writable_course_or_404(course_id)
    if ConfirmForm().validate_on_submit():
        archive_course(course, actor=current_user)
        db.session.commit()
        flash(
            _(
                "The course %(name)s has been archived: it is read-only and hidden "
                "from the course list until you restore it.",
                name=course.name,
            ),
            "success",
        )
    return redirect(url_for("instructor.index"))


@bp.route("/courses/<id:course_id>/restore", methods=["POST"])
@instructor_required
def restore(course_id: int):
    course = _course_or_404(course_id)
    if ConfirmForm().validate_on_submit() and course.archived_at is not None:
        restore_course(course, actor=current_user)
        db.session.commit()
        flash(_("The course %(name)s has been restored.", name=course.name), "success")
    return redirect(url_for("instructor.course", course_id=course.id))


@bp.route("/courses/<id:course_id>")
@instructor_required
def course(course_id: int):
    course = _course_or_404(course_id)
    rows = roster(course)
    return render_template(
        "instructor/course.html",
        course=course,
        roster=rows,
        missing=sum(1 for _student, tenant in rows if tenant is None),
        confirm=ConfirmForm(),
    )


def _flash_summary(summary, done_message: str) -> None:
    flash(
        done_message + " " + _("(%(seconds).1f s)", seconds=summary.seconds),
        "success" if not summary.failed else "warning",
    )
    for username, reason in summary.failed:
        flash(_("%(username)s: %(reason)s", username=username, reason=reason), "danger")


@bp.route("/courses/<id:course_id>/provision", methods=["POST"])
@instructor_required
def provision(course_id: int):
    course = _writable_course_or_404(course_id)
    if ConfirmForm().validate_on_submit():
        summary = provision_missing(course, actor=current_user)
        _flash_summary(
            summary,
            ngettext(
                "%(num)d student CRM has been created.",
                "%(num)d student CRMs have been created.",
                summary.done,
            ),
        )
    return redirect(url_for("instructor.course", course_id=course.id))


# ------------------------------------------------------------------------ roster


@bp.route("/courses/<id:course_id>/roster/import", methods=["GET", "POST"])
@instructor_required
def import_roster(course_id: int):
    course = _writable_course_or_404(course_id)
    form = RosterImportForm()
    checked = None
    if form.validate_on_submit():
        upload = form.file.data
        try:
            rows = roster_import.read_roster(upload.read(), upload.filename or "")
        except roster_import.ImportFileError as error:
            form.file.errors = [*form.file.errors, error.message]
        else:
            checked = roster_import.check_roster(course, rows)
            if checked.problems and not form.import_good_rows.data:
                flash(
                    _(
                        "Nothing was imported: correct the rows below, or tick "
                        "“Import the good rows” to import the others."
                    ),
                    "warning",
                )
            elif not checked.good:
                flash(_("There was no new student to import."), "info")
            else:
                return _do_import(course, checked)
    return render_template(
        "instructor/roster_import.html", form=form, course=course, checked=checked
    )


def _do_import(course: Course, checked):
    try:
        result = roster_import.import_rows(course, checked.good, actor=current_user)
        db.session.commit()
    except (roster_import.ImportFileError, CourseError) as error:
        db.session.rollback()
        flash(_("Nothing was imported: %(reason)s", reason=str(error)), "danger")
        return redirect(url_for("instructor.import_roster", course_id=course.id))
    # The page with the initial passwords comes at once; the new students' CRMs are
    # built one request each from it (static/js/batch.js), or all at once by its
    # form without scripts.
    build_urls = [
        url_for("instructor.provision_student", course_id=course.id, student_id=s.id)
        for s, tenant in roster(course)
        if tenant is None
    ]
    return render_template(
        "instructor/roster_result.html",
        course=course,
        result=result,
        checked=checked,
        build_urls=build_urls,
        confirm=ConfirmForm(),
    )


def _batch_step(student: User, error: str = ""):
    """One student's result in a class-wide job run by static/js/batch.js."""
    return jsonify(ok=not error, student=student.username, message=error)


@bp.route(
    "/courses/<id:course_id>/students/<id:student_id>/provision",
    methods=["POST"],
    endpoint="provision_student",
)
@instructor_required
def provision_student_view(course_id: int, student_id: int):
    """Build the CRM of one enrolled student who has none yet (JSON)."""
    course = _writable_course_or_404(course_id)
    student = enrolled_student(course, student_id)
    if student is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        provision_student(course, student, actor=current_user)
    except Exception as error:  # noqa: BLE001 - reported on the page, run goes on
        return _batch_step(student, str(error))
    return _batch_step(student)


@bp.route("/courses/<id:course_id>/roster/initial-passwords.csv", methods=["POST"])
@instructor_required
def initial_passwords(course_id: int):
    """The initial passwords just shown, as a file (the server keeps no copy)."""
    course = _course_or_404(course_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    usernames = request.form.getlist("username")
    names = request.form.getlist("name")
    passwords = request.form.getlist("password")
    if not (len(usernames) == len(names) == len(passwords)) or len(usernames) > 20000:
        abort(400)
    body = roster_import.credentials_csv(
        list(zip(usernames, names, passwords, strict=True))
    )
    return Response(
        body,
        mimetype="text/csv",
        headers={
            "Content-Disposition": (
                f'attachment; filename="{course.id}-initial-passwords.csv"'
            ),
            "Cache-Control": "no-store",
        },
    )


@bp.route("/courses/<id:course_id>/students/new", methods=["GET", "POST"])
@instructor_required
def add_student(course_id: int):
    course = _writable_course_or_404(course_id)
    form = StudentForm()
    if form.validate_on_submit():
        row = roster_import.RosterRow(
            0,
            form.username.data or "",
            form.name.data or "",
            form.email.data or "",
            form.password.data or "",
        )
        checked = roster_import.check_roster(course, [row])
        if checked.problems:
            form.username.errors = [*form.username.errors, checked.problems[0].reason]
        elif checked.already_enrolled:
            form.username.errors = [
                *form.username.errors,
                _("This student is in the course already."),
            ]
        else:
            return _do_import(course, checked)
    return render_template("instructor/student_form.html", form=form, course=course)


@bp.route(
    "/courses/<id:course_id>/students/<id:student_id>/remove", methods=["GET", "POST"]
)
@instructor_required
def remove(course_id: int, student_id: int):
    course = _writable_course_or_404(course_id)
    student = _student_or_404(course, student_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            remove_student(course, student, actor=current_user)
            db.session.commit()
        except tenancy.TenantBusy as error:
            db.session.rollback()
            flash(str(error), "danger")
        else:
            flash(
                _(
                    "%(name)s has been removed from the course and their CRM deleted.",
                    name=student.name,
                ),
                "success",
            )
        return redirect(url_for("instructor.course", course_id=course.id))
    return render_template(
        "instructor/confirm_remove.html", form=form, course=course, student=student
    )


# ------------------------------------------------------------------------ resets


@bp.route(
    "/courses/<id:course_id>/tenants/<id:tenant_id>/reset",
    methods=["GET", "POST"],
    endpoint="reset_student",
)
@instructor_required
def reset_student_view(course_id: int, tenant_id: int):
    course = _writable_course_or_404(course_id)
    tenant = _tenant_or_404(course, tenant_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        # The class-reset page resets one student per request and asks for JSON
        # (static/js/batch.js).
        wants_json = request.accept_mimetypes.best == "application/json"
        try:
            reset_student(tenant, actor=current_user)
            db.session.commit()
        except tenancy.TenantBusy as error:
            db.session.rollback()
            if wants_json:
                return _batch_step(tenant.student, str(error))
            flash(str(error), "danger")
        else:
            if wants_json:
                return _batch_step(tenant.student)
            flash(
                _("The CRM of %(name)s has been reset.", name=tenant.student.name),
                "success",
            )
        return redirect(url_for("instructor.course", course_id=course.id))
    return render_template(
        "instructor/confirm_reset.html",
        form=form,
        course=course,
        who=tenant.student.name,
    )


@bp.route("/courses/<id:course_id>/reset", methods=["GET", "POST"])
@instructor_required
def reset_course(course_id: int):
    course = _writable_course_or_404(course_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        summary = reset_class(course, actor=current_user)
        db.session.commit()
        _flash_summary(
            summary,
            ngettext(
                "%(num)d student CRM has been reset.",
                "%(num)d student CRMs have been reset.",
                summary.done,
            ),
        )
        return redirect(url_for("instructor.course", course_id=course.id))
    reset_urls = [
        url_for("instructor.reset_student", course_id=course.id, tenant_id=t.id)
        for t in sorted(course.tenants, key=lambda t: t.id)
    ]
    return render_template(
        "instructor/confirm_reset.html",
        form=form,
        course=course,
        who=None,
        reset_urls=reset_urls,
    )


@bp.route("/courses/<id:course_id>/tenants/<id:tenant_id>/view", methods=["POST"])
@instructor_required
def view_tenant(course_id: int, tenant_id: int):
    course = _course_or_404(course_id)
    tenant = _tenant_or_404(course, tenant_id)
    session[tenancy.VIEWING_KEY] = tenant.id
    # The read-only banner on every CRM page says whose CRM this is.
    return redirect(url_for("accounts.index"))


@bp.route("/stop-viewing", methods=["POST"])
@instructor_required
def stop_viewing():
    tenant_id = session.pop(tenancy.VIEWING_KEY, None)
    tenant = db.session.get(Tenant, tenant_id) if tenant_id else None
    if tenant is not None:
        return redirect(url_for("instructor.course", course_id=tenant.course_id))
    return redirect(url_for("instructor.index"))


# ------------------------------------------------- lessons, progress and grades


@bp.errorhandler(LessonError)
def lessons_broken(error: LessonError):
    """An invalid lesson file is the author's to fix; say which and why."""
    return render_template(
        "instructor/lessons_broken.html", problems=error.problems
    ), 500


def _lesson_choices(course: Course) -> list[tuple[str, str]]:
    lang = current_language()
    return [
        (lesson.id, lesson.title_in(lang))
        for lesson in load_lessons().values()
        if lesson.fits(course.scenario)
    ]


@bp.route("/courses/<id:course_id>/lessons", methods=["GET", "POST"])
@instructor_required
def lessons(course_id: int):
    course = _course_or_404(course_id)
    form = AssignForm()
    form.lesson.choices = _lesson_choices(course)
    if request.method == "POST":
        course = _writable_course_or_404(course_id)
    if form.validate_on_submit():
        due = None
        if form.due_date.data:
            due = gradebook.local_to_utc(
                form.due_date.data,
                form.due_time.data or dt.time(23, 59),
                course.timezone,
            )
        try:
            gradebook.assign_lesson(course, form.lesson.data, due, actor=current_user)
        except CourseError as error:
            db.session.rollback()
            form.lesson.errors = [*form.lesson.errors, str(error)]
        else:
            db.session.commit()
            flash(_("The lesson has been assigned."), "success")
            return redirect(url_for("instructor.lessons", course_id=course.id))
    return render_template(
        "instructor/lessons.html",
        course=course,
        form=form,
        assigned=gradebook.assigned_lessons(course),
        local=gradebook.utc_to_local,
        confirm=ConfirmForm(),
    )


@bp.route(
    "/courses/<id:course_id>/lessons/<id:assignment_id>/unassign", methods=["POST"]
)
@instructor_required
def unassign(course_id: int, assignment_id: int):
    course = _writable_course_or_404(course_id)
    assignment = db.session.get(LessonAssignment, assignment_id)
    if assignment is None or assignment.course_id != course.id:
        abort(404)
    if ConfirmForm().validate_on_submit():
        gradebook.unassign_lesson(course, assignment, actor=current_user)
        db.session.commit()
        flash(
            _("The lesson is no longer assigned; students' results are kept."),
            "success",
        )
    return redirect(url_for("instructor.lessons", course_id=course.id))


def _assigned_or_404(course: Course, lesson_id: str | None):
    assigned = gradebook.assigned_lessons(course)
    if lesson_id is None:
        return assigned, (assigned[0] if assigned else None)
    for assignment, lesson in assigned:
        if lesson.id == lesson_id:
            return assigned, (assignment, lesson)
    abort(404)


@bp.route("/courses/<id:course_id>/progress")
@instructor_required
def progress(course_id: int):
    course = _course_or_404(course_id)
    assigned, current = _assigned_or_404(course, request.args.get("lesson"))
    grade_form = GradeForm()
    grade_form.lesson.choices = [
        ("", _("Every assigned lesson")),
        *((lesson.id, lesson.title_in(current_language())) for _a, lesson in assigned),
    ]
    context = {}
    if current is not None:
        assignment, lesson = current
        grade_form.lesson.data = lesson.id
        context = {
            "assignment": assignment,
            "lesson": lesson,
            "rows": gradebook.heatmap(course, lesson),
            "stats": gradebook.step_statistics(course, lesson, current_language()),
        }
    return render_template(
        "instructor/progress.html",
        course=course,
        assigned=assigned,
        grade_form=grade_form,
        cell_class=gradebook.cell_class,
        local=gradebook.utc_to_local,
        confirm=ConfirmForm(),
        **context,
    )


@bp.route("/courses/<id:course_id>/grade", methods=["POST"])
@instructor_required
def grade(course_id: int):
    course = _writable_course_or_404(course_id)
    assigned = gradebook.assigned_lessons(course)
    form = GradeForm()
    form.lesson.choices = [("", ""), *((lesson.id, "") for _a, lesson in assigned)]
    if not form.validate_on_submit():
        abort(400)
    lesson_id = form.lesson.data or None
    grades = grade_course(course, lesson_id, actor=current_user)
    flash(
        ngettext(
            "%(num)d student graded",
            "%(num)d students graded",
            len(grades.results),
        )
        + " "
        + _("(%(seconds).1f s)", seconds=grades.seconds),
        "success",
    )
    if grades.not_graded:
        flash(
            ngettext(
                "%(num)d student could not be graded: their CRM is missing or "
                "damaged. Reset it to mend it.",
                "%(num)d students could not be graded: their CRMs are missing or "
                "damaged. Reset them to mend them.",
                grades.not_graded,
            ),
            "warning",
        )
    return redirect(
        url_for("instructor.progress", course_id=course.id, lesson=lesson_id)
    )


@bp.route(
    "/courses/<id:course_id>/tenants/<id:tenant_id>/results/<lesson_id>/<step_id>"
)
@instructor_required
def step_result(course_id: int, tenant_id: int, lesson_id: str, step_id: str):
    course = _course_or_404(course_id)
    tenant = _tenant_or_404(course, tenant_id)
    lesson = load_lessons().get(lesson_id)
    if lesson is None:
        abort(404)
    try:
        step = lesson.step(step_id)
    except KeyError:
        abort(404)
    result = db.session.scalar(
        sa.select(StepResult).filter_by(
            tenant_id=tenant.id, lesson_id=lesson.id, step_id=step.id
        )
    )
    attempts = db.session.scalars(
        sa.select(CheckAttempt)
        .filter_by(tenant_id=tenant.id, lesson_id=lesson.id, step_id=step.id)
        .order_by(CheckAttempt.at.desc())
        .limit(20)
    ).all()
    return render_template(
        "instructor/step_result.html",
        course=course,
        student_tenant=tenant,
        lesson=lesson,
        step=step,
        result=result,
        attempts=attempts,
        attempt_message=unpacked_in,
        cell_class=gradebook.cell_class,
        confirm=ConfirmForm(),
    )


def _csv(body: bytes, filename: str) -> Response:
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route("/courses/<id:course_id>/gradebook.csv")
@instructor_required
def gradebook_export(course_id: int):
    course = _course_or_404(course_id)
    return _csv(gradebook.gradebook_csv(course), f"gradebook-{course.id}.csv")


@bp.route("/courses/<id:course_id>/gradebook-steps.csv")
@instructor_required
def gradebook_steps_export(course_id: int):
    course = _course_or_404(course_id)
    return _csv(gradebook.detail_csv(course), f"gradebook-steps-{course.id}.csv")
