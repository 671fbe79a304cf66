from flask import abort, flash, redirect, render_template, session, url_for
from flask_login import current_user

from sandbox import tenancy
from sandbox.auth.decorators import instructor_required
from sandbox.crm.forms import ConfirmForm
from sandbox.extensions import db
from sandbox.i18n import gettext as _
from sandbox.i18n import ngettext
from sandbox.instructor import bp
from sandbox.instructor.service import courses_for, reset_class, roster
from sandbox.models.control import Course, Tenant


def _course_or_404(course_id: int) -> Course:
    course = db.session.get(Course, course_id)
    if course is None or not current_user.teaches(course):
        abort(404)
    return course


def _tenant_or_404(course: Course, tenant_id: int) -> Tenant:
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None or tenant.course_id != course.id:
        abort(404)
    return tenant


@bp.route("/")
@instructor_required
def index():
    return render_template("instructor/index.html", courses=courses_for(current_user))


@bp.route("/courses/<id:course_id>")
@instructor_required
def course(course_id: int):
    course = _course_or_404(course_id)
    return render_template(
        "instructor/course.html",
        course=course,
        roster=roster(course),
    )


@bp.route(
    "/courses/<id:course_id>/tenants/<id:tenant_id>/reset", methods=["GET", "POST"]
)
@instructor_required
def reset_student(course_id: int, tenant_id: int):
    course = _course_or_404(course_id)
    tenant = _tenant_or_404(course, tenant_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        tenancy.reset_tenant(tenant, actor=current_user)
        db.session.commit()
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
    course = _course_or_404(course_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        count = reset_class(course, actor=current_user)
        db.session.commit()
        flash(
            ngettext(
                "%(num)d student CRM has been reset.",
                "%(num)d student CRMs have been reset.",
                count,
            ),
            "success",
        )
        return redirect(url_for("instructor.course", course_id=course.id))
    return render_template(
        "instructor/confirm_reset.html", form=form, course=course, who=None
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
