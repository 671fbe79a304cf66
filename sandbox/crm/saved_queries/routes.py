from urllib.parse import urlencode

from flask import abort, flash, redirect, render_template, request, url_for
from markupsafe import Markup
from wtforms import HiddenField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from sandbox.auth.decorators import login_required
from sandbox.crm.forms import ConfirmForm
from sandbox.crm.listing import Listing
from sandbox.crm.registry import Module, app_modules, get_module, writes
from sandbox.crm.saved_queries import bp
from sandbox.crm.saved_queries.service import (
    MAX_NAME,
    QueryRefused,
    args_of,
    clean_args,
    default_queries,
    delete_query,
    query_key,
    rename_query,
    save_query,
    saved_queries,
)
from sandbox.extensions import db
from sandbox.forms import Form
from sandbox.i18n import gettext as _
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm.saved_queries import SavedQuery
from sandbox.tenancy import current_engine, current_handle


class SaveQueryForm(Form):
    module = HiddenField()
    args = HiddenField()
    name = StringField(
        _l("Query name"), validators=[DataRequired(), Length(max=MAX_NAME)]
    )
    submit = SubmitField(_l("Save query"))


class RenameQueryForm(Form):
    name = StringField(
        _l("Query name"), validators=[DataRequired(), Length(max=MAX_NAME)]
    )
    submit = SubmitField(_l("Rename"))


def _module(key: str | None) -> Module:
    current_engine()  # no workspace, no saved queries
    try:
        module = get_module(key or "")
    except KeyError:
        abort(404)
    if module.key not in {m.key for m in app_modules()}:
        abort(404)
    return module


def list_url(module: Module, args: str) -> str:
    """The module's list page showing the query ``args``."""
    base = url_for(module.index_endpoint)
    return f"{base}?{args}" if args else base


def _module_of(listing: Listing) -> Module | None:
    blueprint = listing.endpoint.partition(".")[0]
    if not blueprint or listing.endpoint != f"{blueprint}.index":
        return None
    try:
        module = get_module(blueprint)
    except KeyError:
        return None
    return module if module.key in {m.key for m in app_modules()} else None


@bp.app_template_global()
def saved_queries_bar(listing: Listing) -> Markup:
    """The saved-query menu, save form and column chooser under a list's search."""
    module = _module_of(listing)
    if module is None or current_handle() is None or listing.page is None:
        return Markup("")
    current = urlencode(listing.args(page=None))
    wanted = query_key(current)
    defaults = [
        (query, list_url(module, urlencode(query.args)))
        for query in default_queries(module)
    ]
    saved = [
        (query, list_url(module, query.args))
        for query in saved_queries(db.session, module.key)
    ]
    active_default = next(
        (q.key for q, _url in defaults if query_key(urlencode(q.args)) == wanted),
        None,
    )
    active_saved = next(
        (q.id for q, _url in saved if query_key(q.args) == wanted), None
    )
    hidden_for_columns = listing.args(page=None, cols=None)
    return Markup(  # noqa: S704 - a rendered template
        render_template(
            "saved_queries/_bar.html",
            query_module=module,
            listing=listing,
            defaults=defaults,
            saved=saved,
            active_default=active_default,
            active_saved=active_saved,
            current_args=current,
            column_args=hidden_for_columns,
        )
    )


@bp.route("/save", methods=["POST"])
@login_required
@writes
def save():
    form = SaveQueryForm()
    module = _module(form.module.data)
    args = clean_args(form.args.data or "")
    back = list_url(module, args)
    if not form.validate_on_submit():
        message = (
            form.name.errors[0] if form.name.errors else _("Give the query a name.")
        )
        flash(str(message), "danger")
        return redirect(back)
    try:
        query = save_query(db.session, module, form.name.data, args)
    except QueryRefused as error:
        flash(str(error.message), "danger")
        return redirect(back)
    flash(_("Query “%(name)s” saved under My queries.", name=query.name), "success")
    return redirect(list_url(module, query.args))


@bp.route("/<id:query_id>")
@login_required
def open_query(query_id: int):
    query = db.get_or_404(SavedQuery, query_id)
    return redirect(list_url(_module(query.module), query.args))


@bp.route("/")
@login_required
def manage():
    """The saved queries of one module (``?module=``): open, rename, delete."""
    module = _module(request.args.get("module"))
    queries = saved_queries(db.session, module.key)
    return render_template(
        "saved_queries/manage.html",
        module=module,
        queries=[(q, list_url(module, q.args), args_of(q.args)) for q in queries],
        defaults=default_queries(module),
    )


@bp.route("/<id:query_id>/rename", methods=["GET", "POST"])
@login_required
@writes
def rename(query_id: int):
    query = db.get_or_404(SavedQuery, query_id)
    module = _module(query.module)
    form = RenameQueryForm(obj=query)
    if form.validate_on_submit():
        try:
            rename_query(db.session, query, form.name.data)
        except QueryRefused as error:
            form.name.errors.append(str(error.message))
        else:
            flash(_("Query renamed to “%(name)s”.", name=query.name), "success")
            return redirect(url_for("search.queries.manage", module=module.key))
    return render_template(
        "saved_queries/rename.html", module=module, query=query, form=form
    ), (422 if form.errors else 200)


@bp.route("/<id:query_id>/delete", methods=["GET", "POST"])
@login_required
@writes
def delete(query_id: int):
    query = db.get_or_404(SavedQuery, query_id)
    module = _module(query.module)
    form = ConfirmForm()
    if form.validate_on_submit():
        name = query.name
        delete_query(db.session, query)
        flash(_("Query “%(name)s” deleted.", name=name), "success")
        return redirect(url_for("search.queries.manage", module=module.key))
    return render_template(
        "settings/confirm.html",
        form=form,
        heading=_("Delete the query “%(name)s”?", name=query.name),
        message=_("Only the saved query is deleted; no records are changed."),
        problems=[],
        button=_("Delete"),
        cancel_url=url_for("search.queries.manage", module=module.key),
    )
