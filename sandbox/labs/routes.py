"""The student's Labs pages: assigned lessons, a lesson's steps and Check, the lesson
panel beside the CRM, resetting the CRM and save points."""

from __future__ import annotations

import math

from flask import (
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user

from sandbox import tenancy
from sandbox.auth.decorators import login_required, roles_required
from sandbox.extensions import db
from sandbox.i18n import current_language
from sandbox.i18n import gettext as _
from sandbox.labs import bp
from sandbox.labs.facts import tenant_facts
from sandbox.labs.grading import AnswerMissing, check_step
from sandbox.labs.lessons import Lesson, in_language
from sandbox.labs.panel import PANEL_KEY, step_view
from sandbox.labs.render import render_markdown
from sandbox.labs.service import (
    LabError,
    assigned_lessons,
    available_lessons,
    create_save_point,
    delete_save_point,
    lesson_assignment,
    own_save_point,
    reset_my_crm,
    restore_save_point,
    save_points,
    seconds_until_next_check,
    step_results,
)
from sandbox.models.control import Role, Tenant
from sandbox.routing import local_url

student_required = roles_required(Role.STUDENT)


def _tenant() -> Tenant:
    tenant = tenancy.student_tenant(current_user)
    if tenant is None:
        abort(404)
    return tenant


def _lesson(lesson_id: str) -> Lesson:
    lesson = available_lessons().get(lesson_id)
    if lesson is None:
        abort(404)
    return lesson


def _student_lesson(tenant: Tenant, lesson_id: str) -> Lesson:
    """A lesson the student's course assigns (others are not theirs to do)."""
    lesson = _lesson(lesson_id)
    if lesson_assignment(tenant, lesson.id) is None:
        abort(404)
    return lesson


def _facts() -> dict:
    return tenant_facts(db.session) if tenancy.current_handle() else {}


@bp.route("/")
@login_required
def index():
    if current_user.is_student:
        tenant = tenancy.student_tenant(current_user)
        progress = assigned_lessons(tenant) if tenant else []
        return render_template(
            "labs/index.html", progress=progress, tenant=tenant, catalogue=None
        )
    return render_template(
        "labs/index.html",
        progress=[],
        tenant=None,
        catalogue=list(available_lessons().values()),
    )


@bp.route("/<lesson_id>")
@login_required
def lesson(lesson_id: str):
    if current_user.is_student:
        tenant = _tenant()
        lesson = _student_lesson(tenant, lesson_id)
        results = step_results(tenant, lesson)
        assignment = lesson_assignment(tenant, lesson.id)
        facts = _facts()
    else:
        # Staff preview a lesson as text; facts are each student's own.
        lesson, tenant, results, assignment, facts = (
            _lesson(lesson_id),
            None,
            {},
            None,
            {},
        )
    lang = current_language()
    return render_template(
        "labs/lesson.html",
        lesson=lesson,
        lang=lang,
        intro=render_markdown(in_language(lesson.intro, lang), facts),
        steps=[
            step_view(lesson, step, results.get(step.id), facts, lang)
            for step in lesson.steps
        ],
        assignment=assignment,
        can_check=tenant is not None,
        points=sum(r.points for r in results.values()),
    )


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json"


@bp.route("/<lesson_id>/<step_id>/check", methods=["POST"])
@student_required
def check(lesson_id: str, step_id: str):
    tenant = _tenant()
    lesson = _student_lesson(tenant, lesson_id)
    try:
        step = lesson.step(step_id)
    except KeyError:
        abort(404)
    back = request.form.get("next")
    back = local_url(back) if back else url_for("labs.lesson", lesson_id=lesson.id)
    wait = seconds_until_next_check(tenant)
    if wait > 0:
        message = _(
            "Please wait %(seconds)s seconds before checking again.",
            seconds=math.ceil(wait),
        )
        if _wants_json():
            return jsonify(error=message, retry_after=math.ceil(wait)), 429
        flash(message, "warning")
        return redirect(back)
    try:
        outcome = check_step(tenant, lesson, step, request.form.get("answer"))
    except AnswerMissing:
        message = _("Type your answer in the box, then press Check.")
        if _wants_json():
            return jsonify(error=message), 422
        flash(message, "warning")
        return redirect(back)
    lang = current_language()
    if _wants_json():
        results = step_results(tenant, lesson)
        view = step_view(lesson, step, results.get(step.id), _facts(), lang)
        earned = sum(r.points for r in results.values())
        return jsonify(
            passed=outcome.passed,
            score=outcome.score,
            points=outcome.points,
            message=outcome.message.get(lang, outcome.message.get("en", "")),
            html=render_template("labs/_step_result.html", step=view),
            hints=render_template("labs/_hints.html", step=view),
            # What the page shows beside the result, brought up to date.
            attempts=_("Attempts: %(n)s", n=view.attempts),
            lesson_points=render_template(
                "labs/_lesson_points.html", points=earned, lesson=lesson
            ),
        )
    flash(outcome.message.get(lang, ""), "success" if outcome.passed else "warning")
    return redirect(back)


@bp.route("/<lesson_id>/panel", methods=["POST"])
@student_required
def open_panel(lesson_id: str):
    tenant = _tenant()
    lesson = _student_lesson(tenant, lesson_id)
    session[PANEL_KEY] = lesson.id
    return redirect(local_url(request.form.get("next"), "main.home"))


@bp.route("/panel/close", methods=["POST"])
@student_required
def close_panel():
    session.pop(PANEL_KEY, None)
    return redirect(local_url(request.form.get("next"), "labs.index"))


@bp.route("/reset", methods=["GET", "POST"])
@student_required
def reset():
    tenant = _tenant()
    if request.method == "POST":
        try:
            reset_my_crm(tenant, current_user)
        except tenancy.TenantBusy:
            flash(_("Your CRM is busy; try the reset again in a moment."), "danger")
            return redirect(url_for("labs.reset"))
        flash(_("Your CRM is back at the start of the scenario."), "success")
        return redirect(url_for("labs.index"))
    return render_template("labs/confirm_reset.html")


@bp.route("/save-points", methods=["GET", "POST"])
@student_required
def save_point_list():
    tenant = _tenant()
    error = None
    if request.method == "POST":
        try:
            point = create_save_point(
                tenant, request.form.get("label", ""), current_user
            )
        except LabError as exc:
            error = str(exc.message)
        except tenancy.TenantBusy:
            error = _("Your CRM is busy; try again in a moment.")
        else:
            flash(_("Save point “%(label)s” created.", label=point.label), "success")
            return redirect(url_for("labs.save_point_list"))
    return render_template(
        "labs/save_points.html",
        points=save_points(tenant),
        error=error,
        label=request.form.get("label", ""),
    ), (400 if error else 200)


@bp.route("/save-points/<id:point_id>/restore", methods=["GET", "POST"])
@student_required
def restore(point_id: int):
    tenant = _tenant()
    point = own_save_point(tenant, point_id)
    if point is None:
        abort(404)
    if request.method == "POST":
        try:
            restore_save_point(tenant, point, current_user)
        except LabError as exc:
            flash(str(exc.message), "danger")
        except tenancy.TenantBusy:
            flash(_("Your CRM is busy; try again in a moment."), "danger")
        else:
            flash(
                _("Your CRM is back at save point “%(label)s”.", label=point.label),
                "success",
            )
        return redirect(url_for("labs.save_point_list"))
    return render_template("labs/confirm_restore.html", point=point)


@bp.route("/save-points/<id:point_id>/delete", methods=["POST"])
@student_required
def delete(point_id: int):
    tenant = _tenant()
    point = own_save_point(tenant, point_id)
    if point is None:
        abort(404)
    label = point.label
    delete_save_point(tenant, point)
    flash(_("Save point “%(label)s” deleted.", label=label), "success")
    return redirect(url_for("labs.save_point_list"))
