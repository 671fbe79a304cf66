"""Knowledge base: the review workflow, search, safe rendering, linked cases."""

from __future__ import annotations

import re

import sqlalchemy as sa

from sandbox.crm.cases.service import create_case, perform
from sandbox.models.crm import AuditLog
from sandbox.models.crm.knowledge import Article


def make_article(app, classroom, **values) -> int:
    def make(session):
        article = Article(
            **{"title": "Printer offline", "body": "Restart it.", **values}
        )
        session.add(article)
        session.commit()
        return article.id

    return classroom.in_tenant(app, make)


def status_of(app, classroom, article_id: int) -> str:
    return classroom.in_tenant(app, lambda s: s.get(Article, article_id).status)


def test_an_article_is_reviewed_before_it_is_published(app, client, auth, classroom):
    auth.login("alice")
    response = client.post("/crm/knowledge/new", data={"title": "", "body": ""})
    assert 'id="title-errors"' in response.get_data(as_text=True)
    response = client.post(
        "/crm/knowledge/new",
        data={
            "title": "Paper jam in tray 2",
            "category": "troubleshooting",
            "keywords": "jam tray",
            "body": "Open the tray and pull the sheet out.",
        },
    )
    article_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert status_of(app, classroom, article_id) == "draft"

    page = client.get(f"/crm/knowledge/{article_id}").get_data(as_text=True)
    assert f"/crm/knowledge/{article_id}/submit" in page
    assert f"/crm/knowledge/{article_id}/publish" not in page

    refused = client.post(f"/crm/knowledge/{article_id}/publish", follow_redirects=True)
    assert "Only an article in review can be published" in refused.get_data(
        as_text=True
    )
    assert status_of(app, classroom, article_id) == "draft"

    for action, state in (
        ("submit", "review"),
        ("return", "draft"),
        ("submit", "review"),
        ("publish", "published"),
        ("archive", "archived"),
    ):
        assert client.post(f"/crm/knowledge/{article_id}/{action}").status_code == 302
        assert status_of(app, classroom, article_id) == state, action
    logged = classroom.in_tenant(
        app,
        lambda s: s.scalars(
            sa.select(AuditLog.action)
            .where(AuditLog.entity == "article", AuditLog.action.like("article_%"))
            .order_by(AuditLog.id)
        ).all(),
    )
    assert logged == [
        "article_submit",
        "article_return",
        "article_submit",
        "article_publish",
        "article_archive",
    ]


def test_an_archived_article_is_read_only(app, client, auth, classroom):
    article_id = make_article(app, classroom, status="archived")
    auth.login("alice")
    page = client.get(f"/crm/knowledge/{article_id}", follow_redirects=True)
    assert "no longer changed" in page.get_data(as_text=True)
    # no Edit button that only leads to a refusal
    assert f'href="/crm/knowledge/{article_id}/edit"' not in page.get_data(as_text=True)
    response = client.post(
        f"/crm/knowledge/{article_id}/edit",
        data={"title": "Changed", "body": "Changed"},
        follow_redirects=True,
    )
    assert "An archived article is read-only." in response.get_data(as_text=True)
    title = classroom.in_tenant(app, lambda s: s.get(Article, article_id).title)
    assert title == "Printer offline"


def test_search_looks_in_title_keywords_and_text(app, client, auth, classroom):
    make_article(
        app,
        classroom,
        title="Toner smears",
        keywords="streaks quality",
        body="Shake the cartridge gently.",
    )
    auth.login("alice")

    def titles(query: str) -> list[str]:
        page = client.get("/crm/knowledge/", query_string={"q": query})
        return re.findall(
            r'<a href="/crm/knowledge/\d+">([^<]+)</a>', page.get_data(as_text=True)
        )

    assert titles("toner") == ["Toner smears"]
    assert titles("streaks") == ["Toner smears"]
    assert titles("cartridge shake") == ["Toner smears"]  # every word, any order
    assert titles("cartridge firmware") == []


def test_the_text_is_rendered_as_markdown_without_html(app, client, auth, classroom):
    article_id = make_article(
        app,
        classroom,
        body="**Hold** the button.\n\n<script>alert(1)</script>\n\n"
        "[bad](javascript:alert(2)) <img src=x onerror=alert(3)>",
    )
    auth.login("alice")
    page = client.get(f"/crm/knowledge/{article_id}").get_data(as_text=True)
    assert "<strong>Hold</strong>" in page
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page
    assert 'href="javascript:' not in page
    assert "<img src=x" not in page


def test_the_article_page_lists_the_cases_it_solved(app, client, auth, classroom):
    article_id = make_article(app, classroom, status="published")

    def solve(session):
        case = create_case(
            session, {"subject": "Printer dead", "account_id": 1}, zone="UTC"
        )
        perform(session, case, "resolve", {"article_id": article_id}, zone="UTC")
        return case.number

    number = classroom.in_tenant(app, solve)
    auth.login("alice")
    page = client.get(f"/crm/knowledge/{article_id}").get_data(as_text=True)
    assert re.search(rf'<a href="/crm/cases/\d+">{number} Printer dead</a>', page)


def test_archiving_asks_first_since_it_cannot_be_undone(app, client, auth, classroom):
    article_id = make_article(app, classroom, status="published")
    auth.login("alice")
    page = client.get(f"/crm/knowledge/{article_id}").get_data(as_text=True)
    assert f'href="/crm/knowledge/{article_id}/edit"' in page  # still editable
    archive = page.split(f'action="/crm/knowledge/{article_id}/archive"', 1)[1]
    assert archive.split(">", 1)[0].startswith(
        ' data-confirm="Archive Printer offline? An archived article'
    )
