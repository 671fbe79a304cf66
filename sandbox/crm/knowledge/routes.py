import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request
from sqlalchemy.orm import contains_eager

from sandbox.auth.decorators import login_required
from sandbox.crm.audit import timeline
from sandbox.crm.codes import code_list
from sandbox.crm.display import field_label
from sandbox.crm.forms import ConfirmForm
from sandbox.crm.knowledge import MODULE, bp
from sandbox.crm.knowledge.forms import ArticleForm
from sandbox.crm.knowledge.service import (
    TRANSITIONS,
    ArticleRefused,
    article_search,
    available_actions,
    change_status,
    create_article,
    refusal,
    render_body,
    update_article,
)
from sandbox.crm.listing import ListFilter, module_listing
from sandbox.crm.registry import writes
from sandbox.crm.service import my_colleague_id
from sandbox.crm.views import delete_page, render_form
from sandbox.extensions import db
from sandbox.i18n import gettext as _
from sandbox.models.crm.knowledge import Article
from sandbox.models.crm.service import Case


@bp.route("/")
@login_required
def index():
    stmt = (
        sa.select(Article)
        .outerjoin(Article.owner)
        .options(contains_eager(Article.owner))
    )
    listing = module_listing(
        MODULE,
        stmt,
        search=article_search,
        filters=(
            ListFilter(
                "status",
                Article.status,
                field_label(Article, "status"),
                codes="article_status",
            ),
            ListFilter(
                "category",
                Article.category,
                field_label(Article, "category"),
                codes="article_category",
            ),
        ),
    )
    return render_template(
        "crm/list.html",
        module=MODULE,
        listing=listing,
        search_hint=_("Title, keywords or text"),
        new_label=_("New article"),
        no_match=_("No articles match your search."),
        no_records=_("There are no articles yet."),
        first_label=_("Write the first article"),
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
@writes
def create():
    form = ArticleForm()
    if not form.is_submitted():
        form.owner_id.data = my_colleague_id(db.session)
    if form.validate_on_submit():
        article = create_article(db.session, form.data)
        flash(
            _("Article “%(title)s” saved as a draft.", title=article.title), "success"
        )
        return redirect(MODULE.record_url(article.id))
    return render_form(MODULE, form)


@bp.route("/<id:article_id>")
@login_required
def detail(article_id: int):
    article = db.get_or_404(Article, article_id)
    cases = db.session.scalars(
        sa.select(Case).where(Case.article_id == article.id).order_by(Case.number)
    ).all()
    return render_template(
        "knowledge/detail.html",
        module=MODULE,
        article=article,
        body=render_body(article.body),
        cases=cases,
        actions=available_actions(article),
        history=timeline(db.session, article),
    )


@bp.route("/<id:article_id>/edit", methods=["GET", "POST"])
@login_required
@writes
def edit(article_id: int):
    article = db.get_or_404(Article, article_id)
    if article.status == "archived":
        flash(_("An archived article is read-only."), "warning")
        return redirect(MODULE.record_url(article.id))
    form = ArticleForm(obj=article)
    if form.validate_on_submit():
        try:
            update_article(db.session, article, form.data)
        except ArticleRefused as error:
            flash(str(error), "danger")
        else:
            flash(_("Article “%(title)s” saved.", title=article.title), "success")
            return redirect(MODULE.record_url(article.id))
    return render_form(MODULE, form, article)


@bp.route("/<id:article_id>/delete", methods=["GET", "POST"])
@login_required
@writes
def delete(article_id: int):
    return delete_page(MODULE, db.get_or_404(Article, article_id))


@bp.route("/<id:article_id>/<action>", methods=["GET", "POST"])
@login_required
@writes
def act(article_id: int, action: str):
    """A step of the review workflow: confirm, then change the state."""
    if action not in TRANSITIONS:
        abort(404)
    article = db.get_or_404(Article, article_id)
    form = ConfirmForm()
    reason = refusal(article, action)
    if reason is not None:
        flash(reason, "danger")
        return redirect(MODULE.record_url(article.id))
    if request.method == "POST" and form.validate_on_submit():
        change_status(db.session, article, action)
        flash(
            _(
                "Article “%(title)s” is now %(status)s.",
                title=article.title,
                status=code_list("article_status").label_of(article.status),
            ),
            "success",
        )
        return redirect(MODULE.record_url(article.id))
    return render_template(
        "knowledge/action.html",
        module=MODULE,
        article=article,
        transition=TRANSITIONS[action],
    )
