"""Article rules: the review workflow, search and safe rendering of the text."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from markdown_it import MarkdownIt
from markupsafe import Markup
from sqlalchemy.orm import Session

from sandbox.crm.audit import define_action, record_action
from sandbox.crm.service import apply_changes, commit
from sandbox.i18n import gettext as _
from sandbox.i18n import lazy_gettext as _l
from sandbox.models import utcnow
from sandbox.models.crm.knowledge import Article

FIELDS = ("title", "category", "keywords", "body", "owner_id")


@dataclass(frozen=True)
class ArticleTransition:
    action: str
    label: object
    source: str
    target: str
    style: str = "outline-primary"


TRANSITIONS = {
    t.action: t
    for t in (
        ArticleTransition(
            "submit", _l("Submit for review"), "draft", "review", "primary"
        ),
        ArticleTransition("publish", _l("Publish"), "review", "published", "success"),
        ArticleTransition(
            "return", _l("Return to draft"), "review", "draft", "outline-secondary"
        ),
        ArticleTransition(
            "archive", _l("Archive"), "published", "archived", "outline-danger"
        ),
    )
}

for _action, _sentence in {
    "submit": _l("Submitted %(entity)s %(record)s for review"),
    "publish": _l("Published %(entity)s %(record)s"),
    "return": _l("Returned %(entity)s %(record)s to draft"),
    "archive": _l("Archived %(entity)s %(record)s"),
}.items():
    define_action(f"article_{_action}", _sentence)


class ArticleRefused(ValueError):
    """The article's state does not allow the change."""


def _status(code: str) -> str:
    from sandbox.crm.codes import code_label

    return code_label("article_status", code)


def refusal(article: Article, action: str) -> str | None:
    """Why ``action`` is not allowed on ``article``, or None when it is."""
    transition = TRANSITIONS.get(action)
    if transition is None:
        return _("There is no such action on articles.")
    if article.status != transition.source:
        if action == "publish":
            return _(
                "Only an article in review can be published; this one is %(status)s.",
                status=_status(article.status),
            )
        return _(
            "%(action)s is possible only for an article that is %(source)s; this "
            "one is %(status)s.",
            action=transition.label,
            source=_status(transition.source),
            status=_status(article.status),
        )
    return None


def available_actions(article: Article) -> list[ArticleTransition]:
    return [t for a, t in TRANSITIONS.items() if refusal(article, a) is None]


def change_status(
    session: Session, article: Article, action: str, now: dt.datetime | None = None
) -> Article:
    """Move ``article`` through the review workflow and log the action.

    :raise ArticleRefused: the article's state does not allow ``action``.
    """
    reason = refusal(article, action)
    if reason is not None:
        raise ArticleRefused(reason)
    before = article.status
    article.status = TRANSITIONS[action].target
    if article.status == "published":
        article.published_at = now or utcnow()
    record_action(article, f"article_{action}", {"from": before, "to": article.status})
    commit(session)
    return article


def create_article(session: Session, data: dict[str, Any]) -> Article:
    article = Article(status="draft")
    apply_changes(article, data, FIELDS)
    session.add(article)
    commit(session)
    return article


def update_article(session: Session, article: Article, data: dict[str, Any]) -> Article:
    """:raise ArticleRefused: the article is archived (read-only)."""
    if article.status == "archived":
        raise ArticleRefused(_("An archived article is read-only."))
    apply_changes(article, data, FIELDS)
    commit(session)
    return article


def article_search(query: str) -> sa.ColumnElement:
    """Articles whose title, keywords or text contain every word of ``query``."""
    conditions = []
    for word in query.split()[:10]:
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        conditions.append(
            sa.or_(
                *(
                    col.ilike(pattern, escape="\\")
                    for col in (Article.title, Article.keywords, Article.body)
                )
            )
        )
    return sa.and_(*conditions) if conditions else sa.true()


_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def render_body(text: str | None) -> Markup:
    """The article's Markdown as HTML; raw HTML in it is shown as text, and links
    to ``javascript:`` and the like are not made."""
    return Markup(_MARKDOWN.render(text or ""))  # noqa: S704 - html is off
