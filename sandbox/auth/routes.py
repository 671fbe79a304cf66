from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from sandbox.auth import bp
from sandbox.auth.decorators import login_required
from sandbox.auth.forms import ChangePasswordForm, LoginForm, ProfileForm
from sandbox.auth.service import (
    authenticate,
    end_all_sessions,
    end_session,
    set_password,
    start_session,
)
from sandbox.extensions import db
from sandbox.i18n import SESSION_KEY, ngettext
from sandbox.i18n import gettext as _
from sandbox.routing import local_url


def _fresh_session() -> None:
    """Start a new session, keeping only the language the visitor chose."""
    language = session.get(SESSION_KEY)
    session.clear()
    if language:
        session[SESSION_KEY] = language


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        result = authenticate(
            form.username.data, form.password.data, ip=request.remote_addr or ""
        )
        if result.throttled:
            flash(
                ngettext(
                    "Too many failed attempts. Try again in %(num)d minute.",
                    "Too many failed attempts. Try again in %(num)d minutes.",
                    result.retry_minutes,
                ),
                "danger",
            )
        elif result.deactivated:
            flash(
                _(
                    "This account is deactivated: ask your instructor or "
                    "administrator to reactivate it."
                ),
                "danger",
            )
        elif result.user is None:
            flash(_("Wrong username or password."), "danger")
        else:
            _fresh_session()  # no session fixation
            start_session(result.user)
            db.session.commit()
            login_user(result.user)
            return redirect(local_url(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    end_session()
    db.session.commit()
    logout_user()
    _fresh_session()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/logout-everywhere", methods=["POST"])
@login_required
def logout_everywhere():
    """End every session of this user: other browsers and copied cookies too."""
    end_all_sessions(current_user)
    db.session.commit()
    logout_user()
    _fresh_session()
    flash(_("You have logged out on every device."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        current_user.display_name = form.display_name.data.strip()
        current_user.email = form.email.data or None
        current_user.preferred_language = form.preferred_language.data or None
        db.session.commit()
        flash(_("Your profile has been saved."), "success")
        return redirect(url_for("auth.profile"))
    return render_template("auth/profile.html", form=form)


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current_password.data):
            form.current_password.errors.append(
                _("The current password is not correct.")
            )
        else:
            set_password(current_user, form.new_password.data)
            # Every other session has ended; this one carries on with a new token.
            start_session(current_user)
            db.session.commit()
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("auth.profile"))
    return render_template("auth/change_password.html", form=form)
