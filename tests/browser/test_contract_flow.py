"""In a real browser, in Chinese: a won deal becomes a contract, the sales manager
approves it, its order receives a payment and the account shows the balance."""

from __future__ import annotations

import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_babel import force_locale, gettext

from sandbox import tenancy
from sandbox.auth.service import get_user
from sandbox.cli import DEMO_PASSWORD
from sandbox.crm.codes import default_list
from sandbox.crm.display import field_label, money
from sandbox.models.crm.contracts import Contract
from sandbox.models.crm.orders import Payment, SalesOrder
from sandbox.models.crm.sales import LineItem, Opportunity, Stage

try:
    from playwright.sync_api import expect
except ImportError:  # the ``browser`` fixture skips (or fails) with the reason
    expect = None

STUDENT = "student1"
PAYMENT = Decimal("100.25")


@pytest.fixture
def zh_page(browser, live_server):
    """A logged-in page whose browser asks for Simplified Chinese."""
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(live_server.url_for("/auth/login"))
    page.locator("#username").fill(STUDENT)
    page.locator("#password").fill(DEMO_PASSWORD)
    page.locator("#password").press("Enter")
    page.wait_for_url(live_server.url_for("/"))
    yield page
    context.close()


def snapshot(page, name: str) -> None:
    """A full-page PNG in ``$SANDBOX_SCREENSHOTS``, when it is set."""
    folder = os.environ.get("SANDBOX_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def in_tenant(app, fn):
    with app.app_context():
        tenant = tenancy.student_tenant(get_user(STUDENT))
        with tenancy.tenant_session(tenant) as session:
            return fn(session)


def chinese(app) -> dict[str, str]:
    texts = (
        "Create a contract",
        "Submit for approval",
        "Get the manager's decision",
        "Create an order",
        "Save",
        "Confirm",
        "Record payment",
        "Sales orders and payments",
        "Contract actions",
        "Order actions",
    )
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        found = {text: gettext(text) for text in texts}
        found["discount"] = str(field_label(LineItem, "discount"))
        found["justification"] = str(field_label(Contract, "justification"))
        found["payment"] = str(field_label(Payment, "amount"))
    assert all(zh != en for en, zh in found.items() if en in texts), found
    return found


def status(codes: str, code: str) -> str:
    return default_list(codes).get(code).zh


def test_a_won_deal_becomes_an_approved_contract_whose_order_is_paid(
    zh_page, live_server
):
    page, app = zh_page, live_server.app
    zh = chinese(app)
    opp_id = in_tenant(
        app,
        lambda s: s.scalar(
            sa.select(Opportunity.id)
            .join(Opportunity.stage)
            .where(
                Stage.is_won,
                Opportunity.line_items.any(),
                ~sa.exists().where(Contract.opportunity_id == Opportunity.id),
            )
            .order_by(Opportunity.id)
            .limit(1)
        ),
    )

    page.goto(live_server.url_for(f"/crm/opportunities/{opp_id}"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.get_by_role("button", name=zh["Create a contract"]).click()
    expect(page).to_have_url(re.compile(r"/crm/contracts/\d+$"))
    expect(page.locator("h1 .record-name")).to_have_text(re.compile(r"HT-\d{4}-\d{4}"))
    badge = page.locator(".contract-status")
    expect(badge).to_have_text(status("contract_status", "draft"))

    # A 15 % discount needs a justification before the manager sees it.
    page.locator(".contract-lines a").first.click()
    page.get_by_label(zh["discount"]).fill("15")
    page.get_by_role("button", name=zh["Save"]).click()
    expect(page.locator(".contract-discount")).to_have_text("15 %")
    actions = page.get_by_role("group", name=zh["Contract actions"])
    actions.get_by_role("link", name=zh["Submit for approval"]).click()
    page.get_by_role("button", name=zh["Submit for approval"]).click()
    expect(page.locator(".invalid-feedback")).to_contain_text("15 %")
    page.get_by_label(zh["justification"]).fill("三年框架协议,客户承诺续约")
    page.get_by_role("button", name=zh["Submit for approval"]).click()
    expect(badge).to_have_text(status("contract_status", "in_approval"))
    expect(
        actions.get_by_role("link", name=zh["Create an order"], exact=True)
    ).to_have_count(0)

    actions.get_by_role("button", name=zh["Get the manager's decision"]).click()
    expect(badge).to_have_text(status("contract_status", "active"))
    expect(page.locator(".timeline")).to_contain_text("Alex Morgan 批准了")
    snapshot(page, "contract-approved")

    actions.get_by_role("link", name=zh["Create an order"]).click()
    page.get_by_role("button", name=zh["Save"]).click()
    expect(page).to_have_url(re.compile(r"/crm/sales_orders/\d+$"))
    order_badge = page.locator(".order-status")
    expect(order_badge).to_have_text(status("order_status", "draft"))
    # Confirming cannot be undone: the page asks first.
    questions = []
    page.once(
        "dialog", lambda dialog: (questions.append(dialog.message), dialog.accept())
    )
    page.get_by_role("group", name=zh["Order actions"]).get_by_role(
        "button", name=zh["Confirm"]
    ).click()
    expect(order_badge).to_have_text(status("order_status", "confirmed"))
    assert len(questions) == 1 and "SO-" in questions[0]

    page.get_by_label(zh["payment"]).fill(str(PAYMENT))
    page.get_by_role("button", name=zh["Record payment"]).click()
    order_id = int(page.url.split("#")[0].rsplit("/", 1)[1])
    order_amount, account_id = in_tenant(
        app,
        lambda s: (
            s.get(SalesOrder, order_id).amount,
            s.get(SalesOrder, order_id).account_id,
        ),
    )
    outstanding = money(order_amount - PAYMENT)
    expect(page.locator(".balance-paid")).to_have_text(money(PAYMENT))
    expect(page.locator(".balance-outstanding")).to_have_text(outstanding)
    snapshot(page, "order-paid")

    page.goto(live_server.url_for(f"/crm/accounts/{account_id}"))
    panel = page.locator(".account-orders")
    expect(panel.get_by_role("heading")).to_have_text(zh["Sales orders and payments"])
    expect(panel.locator(".balance-outstanding")).to_have_text(outstanding)
    expect(panel.locator(".balance-paid")).to_have_text(money(PAYMENT))
    snapshot(page, "account-balance")
