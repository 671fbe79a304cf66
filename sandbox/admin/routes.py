from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from sandbox.admin import bp
from sandbox.admin.forms import EditUserForm, NewUserForm
from sandbox.admin.service import (
    PER_PAGE,
    EmailTaken,
    add_user,
    edit_user,
    find_user,
    list_users,
    reset_password,
    set_active,
)
from sandbox.auth.decorators import admin_required
from sandbox.auth.service import UserError
from sandbox.crm.forms import ConfirmForm
from sandbox.extensions import db
from sandbox.i18n import gettext as _
from sandbox.models.control import Role, User


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/users")
@admin_required
def users():
    q = request.args.get("q", "")[:100]
    role = request.args.get("role", "")
    page = request.args.get("page", 1, type=int)
    page = max(1, min(page, 100_000))
    found, total, page = list_users(q=q, role=role, page=page)
    return render_template(
        "admin/users.html",
        users=found,
        total=total,
        q=q,
        role=role,
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
        roles=list(Role),
        confirm=ConfirmForm(),
    )


@bp.route("/users/new", methods=["GET", "POST"])
@admin_required
def new_user():
    form = NewUserForm()
    if request.method == "GET":
        form.role.data = request.args.get("role", Role.INSTRUCTOR.value)
    if form.validate_on_submit():
        if find_user(form.username.data) is not None:
            form.username.errors = [_("This username is taken.")]
        else:
            try:
                user, password = add_user(
                    form.username.data,
                    Role(form.role.data),
                    display_name=form.display_name.data,
                    email=form.email.data,
                    password=form.password.data or "",
                    actor=current_user,
                )
            except EmailTaken as error:
                db.session.rollback()
                form.email.errors = [str(error)]
            except UserError as error:
                db.session.rollback()
                form.username.errors = [str(error)]
            else:
                db.session.commit()
                return render_template(
                    "admin/password.html",
                    user=user,
                    password=password if not form.password.data else None,
                    created=True,
                )
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<id:user_id>/edit", methods=["GET", "POST"])
@admin_required
def edit(user_id: int):
    user = _user_or_404(user_id)
    form = EditUserForm(obj=user)
    if request.method == "GET" or user.id == current_user.id:
        form.role.data = user.role.value
    if user.id == current_user.id:
        # Offered only to be refused on save: one's own role is not for changing.
        form.role.render_kw = {"disabled": True}
        form.role.description = _("You cannot change your own role.")
    if form.validate_on_submit():
        try:
            edit_user(
                user,
                display_name=form.display_name.data,
                email=form.email.data,
                role=Role(form.role.data),
                actor=current_user,
            )
        except EmailTaken as error:
            db.session.rollback()
            form.email.errors = [str(error)]
        except UserError as error:
            db.session.rollback()
            form.role.errors = [str(error)]
        else:
            db.session.commit()
            flash(_("%(name)s has been saved.", name=user.name), "success")
            return redirect(url_for("admin.users"))
    return render_template(
        "admin/user_form.html", form=form, user=user, confirm=ConfirmForm()
    )


@bp.route("/users/<id:user_id>/deactivate", methods=["GET", "POST"])
@admin_required
def deactivate(user_id: int):
    user = _user_or_404(user_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            set_active(user, False, current_user)
        except UserError as error:
            db.session.rollback()
            flash(str(error), "danger")
        else:
            db.session.commit()
            flash(
                _(
                    "%(name)s has been deactivated and can no longer log in.",
                    name=user.name,
                ),
                "success",
            )
        return redirect(url_for("admin.users"))
    return render_template(
        "admin/confirm.html", form=form, user=user, action="deactivate"
    )


@bp.route("/users/<id:user_id>/activate", methods=["POST"])
@admin_required
def activate(user_id: int):
    user = _user_or_404(user_id)
    if ConfirmForm().validate_on_submit():
        set_active(user, True, current_user)
        db.session.commit()
        flash(_("%(name)s can log in again.", name=user.name), "success")
    return redirect(url_for("admin.users"))


@bp.route("/users/<id:user_id>/password", methods=["GET", "POST"])
@admin_required
def password(user_id: int):
    user = _user_or_404(user_id)
    if user.id == current_user.id:
        flash(_("Change your own password from your profile."), "info")
        return redirect(url_for("auth.change_password"))
    form = ConfirmForm()
    if form.validate_on_submit():
        new_password = reset_password(user, current_user)
        db.session.commit()
        return render_template(
            "admin/password.html", user=user, password=new_password, created=False
        )
    return render_template(
        "admin/confirm.html", form=form, user=user, action="password"
    )
