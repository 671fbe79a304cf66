"""Chinese pages punctuate as Chinese: a label and its value, a label and its
currency, a list of names read 状态：处理中, 金额（CNY）, 张雪、马秀雨 — never the
half-width ": ", " (" or ", " glued to Chinese text; English reads as before."""

from __future__ import annotations

import re
from collections import Counter, deque
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from sandbox import tenancy
from sandbox.crm.accounts.service import share_account
from sandbox.crm.display import join_address, join_list, labelled, with_note
from sandbox.extensions import db
from sandbox.models.control import Tenant
from sandbox.models.crm import Account, Colleague
from sandbox.models.crm.campaigns import Campaign
from sandbox.models.crm.leads import Lead
from sandbox.models.crm.products import Product
from sandbox.models.crm.sales import Quote
from sandbox.models.crm.service import Case
from tests.helpers import PASSWORD, make_course, make_student

CJK = "\u4e00-\u9fff"
#: A Chinese character beside half-width punctuation: "状态: ", "金额 (", "张雪, ",
#: "处理中. ", or a half-width bracket or colon before Chinese text.
HALF_WIDTH = re.compile(
    rf"[{CJK}] ?[:(,;!?]|[{CJK}]\.(?: |$)|[:,;)] ?[{CJK}]", re.MULTILINE
)


class VisibleText(HTMLParser):
    """A page's text as people (and screen readers) get it, and its links."""

    BLOCKS = frozenset(
        "p div li td th tr dt dd h1 h2 h3 h4 h5 h6 option label button".split()
    )

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.links: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "style", "template"):
            self._skipping += 1
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        for name in ("title", "aria-label", "placeholder"):
            if attrs.get(name):
                self.parts.append(f"\n{attrs[name]}\n")
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template"):
            self._skipping -= 1
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self._skipping:
            self.parts.append(data)

    def text(self) -> str:
        lines = (" ".join(line.split()) for line in "".join(self.parts).split("\n"))
        return "\n".join(line for line in lines if line)


def visible(html: str) -> VisibleText:
    parser = VisibleText()
    parser.feed(html)
    return parser


def half_width_in(text: str, record_names: set[str]) -> list[str]:
    """The lines of ``text`` with half-width punctuation beside Chinese, record
    names (the scenario's data, such as "云主机（月） (CLOUD-ECS)") left out."""
    for name in sorted(record_names, key=len, reverse=True):
        text = text.replace(name, "·")
    return [line for line in text.split("\n") if HALF_WIDTH.search(line)]


@pytest.fixture
def chinese(app, client):
    """A student of a Chinese course (Chinese data, Chinese pages), logged in;
    returns the student's tenant id."""
    with app.app_context():
        course = make_course("CRM101-ZH", "CRM 101", scenario="telecom-service")
        user, tenant = make_student(course, "xuesheng1")
        user.preferred_language = "zh"
        db.session.commit()
        tenant_id = tenant.id
    client.post("/auth/login", data={"username": "xuesheng1", "password": PASSWORD})
    return tenant_id


def in_tenant(app, tenant_id: int, fn):
    with app.app_context():
        tenant = db.session.get(Tenant, tenant_id)
        with tenancy.tenant_session(tenant) as session:
            return fn(session)


def page_text(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return visible(response.get_data(as_text=True)).text()


def test_every_module_speaks_chinese_punctuation(app, client, chinese):
    """Walk the CRM as a Chinese student — one page of each kind, following links
    from the workbench — and find no half-width punctuation beside Chinese."""
    names = set(
        in_tenant(
            app,
            chinese,
            lambda s: [p.display_name for p in s.scalars(sa.select(Product))],
        )
    )
    adapter = app.url_map.bind("localhost")
    seen, kinds, queue = set(), Counter(), deque(["/"])
    wrong: dict[str, str] = {}
    while queue:
        url = queue.popleft().split("#")[0]
        if url in seen:
            continue
        seen.add(url)
        try:
            endpoint, _args = adapter.match(url.split("?")[0])
        except Exception:  # noqa: S112 - not a page of this app
            continue
        if endpoint.startswith(("auth.", "labs.", "instructor.", "admin.")):
            continue  # the CRM's pages; the others are walked elsewhere
        kind = (endpoint, "?" in url)
        if kinds[kind] or endpoint in ("static", "bootstrap.static"):
            continue
        kinds[kind] += 1
        response = client.get(url)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        page = visible(response.get_data(as_text=True))
        for line in half_width_in(page.text(), names):
            wrong.setdefault(line, url)
        queue.extend(link for link in page.links if link.startswith("/crm"))
    assert len(kinds) > 80, sorted(kinds)  # the walk reached every module
    assert not wrong, wrong


def test_case_actions_read_as_chinese_sentences(app, client, chinese):
    case_id = in_tenant(
        app,
        chinese,
        lambda s: s.scalar(
            sa.select(Case.id).where(Case.status.in_(("new", "assigned"))).limit(1)
        ),
    )
    text = page_text(client, f"/crm/cases/{case_id}/escalate")
    assert re.search(r"^升级：CS-", text, re.M), text
    assert re.search(r"^状态：\S+。标有 \* 的字段为必填项。$", text, re.M), text
    assert not half_width_in(text, set())


def test_lead_conversion_heading_is_chinese(app, client, chinese):
    lead = in_tenant(
        app,
        chinese,
        lambda s: s.execute(
            sa.select(Lead.id, Lead.name).where(Lead.status != "converted").limit(1)
        ).one(),
    )
    text = page_text(client, f"/crm/leads/{lead.id}/convert")
    assert f"转化线索：{lead.name}" in text


def test_timeline_changes_and_name_lists_are_chinese(app, client, chinese):
    def change(session):
        case = session.scalar(sa.select(Case).order_by(Case.id).limit(1))
        case.priority = "p1" if case.priority != "p1" else "p2"
        account = session.scalar(sa.select(Account).order_by(Account.id).limit(1))
        colleagues = session.scalars(
            sa.select(Colleague).order_by(Colleague.id).limit(2)
        ).all()
        session.commit()
        share_account(session, account, account.owner_id, [c.id for c in colleagues])
        return case.id, account.id, sorted(c.name for c in colleagues)

    case_id, account_id, names = in_tenant(app, chinese, change)
    case_page = page_text(client, f"/crm/cases/{case_id}")
    assert re.search(r"^优先级：\S.* → \S", case_page, re.M), case_page
    account_page = page_text(client, f"/crm/accounts/{account_id}")
    assert "、".join(names) in account_page
    assert ", ".join(names) not in account_page
    assert not half_width_in(account_page + case_page, set())


def test_forecasts_and_quotas_name_their_currency_in_chinese(app, client, chinese):
    forecast = page_text(client, "/crm/forecasts/forecast")
    assert re.search(r"^销售预测：\S", forecast, re.M), forecast
    assert "实时数据（CNY）" in forecast
    assert "（CNY）" in page_text(client, "/crm/forecasts/quotas")
    assert "已关闭（CNY）" in page_text(client, "/crm/forecasts/")


def test_campaign_counts_and_rates_are_chinese(app, client, chinese):
    campaign_id = in_tenant(
        app, chinese, lambda s: s.scalar(sa.select(Campaign.id).limit(1))
    )
    text = page_text(client, f"/crm/campaigns/{campaign_id}")
    assert re.search(r"计划中：\d+ · 已发送：\d+", text), text
    assert re.search(r"^已响应（", text, re.M), text


def test_the_quote_and_the_header_label_in_chinese(app, client, chinese):
    quote = in_tenant(
        app,
        chinese,
        lambda s: s.execute(sa.select(Quote.id, Quote.opportunity_id).limit(1)).one(),
    )
    html = client.get(
        f"/crm/opportunities/{quote.opportunity_id}/quotes/{quote.id}"
    ).get_data(as_text=True)
    assert "合计（CNY）" in visible(html).text()
    assert "折扣（%）" in visible(html).text()
    assert '<span class="visually-hidden">语言：</span>' in html


def test_english_reads_exactly_as_before(app):
    with app.test_request_context():
        assert with_note("Amount", "USD") == "Amount (USD)"
        assert (
            with_note("Amount", "USD", note_class="text-muted small")
            == 'Amount <span class="text-muted small">(USD)</span>'
        )
        assert (
            labelled("Language", "English", label_class="visually-hidden")
            == '<span class="visually-hidden">Language:</span> English'
        )
        assert (
            labelled("Escalate", "<Case 1>", value_class="record-name")
            == 'Escalate: <span class="record-name">&lt;Case 1&gt;</span>'
        )
        assert join_list(["Ann", "Bob"]) == "Ann, Bob"
        assert join_address(["1 Main St", None, "USA"]) == "1 Main St, USA"


def test_chinese_patterns_use_full_width_punctuation(app):
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        assert with_note("金额", "CNY") == "金额（CNY）"
        assert (
            with_note("金额", "CNY", note_class="text-muted")
            == '金额<span class="text-muted">（CNY）</span>'
        )
        assert labelled("状态", "处理中") == "状态：处理中"
        assert labelled("<b>", "x") == "&lt;b&gt;：x"
        assert join_list(["张雪", "马秀雨"]) == "张雪、马秀雨"
        address = join_address(["科技路286号", "济南", "中国"])
        assert address == "科技路286号，济南，中国"
