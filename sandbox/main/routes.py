from flask import redirect, render_template, request, session, url_for
from flask_login import current_user

from sandbox.auth.decorators import login_required
from sandbox.auth.forms import LanguageForm
from sandbox.crm.audit import recent_activity
from sandbox.crm.registry import module_counts, workbench_items
from sandbox.extensions import db
from sandbox.i18n import SESSION_KEY
from sandbox.main import bp
from sandbox.routing import local_url
from sandbox.tenancy import current_handle


@bp.route("/")
@login_required
def home():
    """The workbench: to-dos, recent activity and reminders."""
    has_crm = current_handle() is not None
    if current_user.is_staff and not has_crm:
        return redirect(url_for("instructor.index"))
    return render_template(
        "main/home.html",
        activity=recent_activity(db.session, limit=10) if has_crm else [],
        counts=module_counts(db.session) if has_crm else [],
        todos=workbench_items(db.session, "todos") if has_crm else [],
        reminders=workbench_items(db.session, "reminders") if has_crm else [],
    )


@bp.route("/language", methods=["POST"])
def set_language():
    form = LanguageForm()
    if form.validate_on_submit():
        session[SESSION_KEY] = form.language.data
        if current_user.is_authenticated:
            current_user.preferred_language = form.language.data
            db.session.commit()
    return redirect(local_url(request.form.get("next")))
