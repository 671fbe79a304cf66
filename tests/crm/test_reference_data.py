"""Reference data: the communication types code list, customer rename (客户更名) with
its name history, and code lists re-ordered and reset (move up/down, reset all)."""

from __future__ import annotations

import re

import sqlalchemy as sa

from sandbox.crm.codes import code_list, default_list
from sandbox.models.crm import Account, AuditLog, CodeItem
from sandbox.models.crm.account_names import AccountName
from tests.helpers import clear, make_account
from tests.test_csrf import csrf_app, csrf_token, logged_in_client  # noqa: F401


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


# --------------------------------------------------------- communication types


def test_communication_types_are_a_code_list_in_both_languages(
    app, client, auth, classroom
):
    codes = default_list("communication_type")
    assert [c.code for c in codes] == [
        "visit",
        "phone",
        "email",
        "wechat",
        "meeting",
        "other",
    ]
    assert [c.zh for c in codes] == ["拜访", "电话", "邮件", "微信", "会议", "其他"]
    auth.login("alice")
    index = client.get("/crm/settings/").get_data(as_text=True)
    assert 'href="/crm/settings/codes/communication_type"' in index
    client.post("/language", data={"language": "zh"})
    page = client.get("/crm/settings/codes/communication_type").get_data(as_text=True)
    assert "交流类型" in page and "微信" in page


def test_the_company_adds_a_communication_type(app, client, auth, classroom):
    auth.login("alice")
    rows = {
        f"rows-{i}-{field}": value
        for i, c in enumerate(default_list("communication_type"))
        for field, value in (
            ("code", c.code),
            ("en", c.en),
            ("zh", c.zh),
            ("active", "y"),
        )
    }
    client.post(
        "/crm/settings/codes/communication_type/edit",
        data={
            **rows,
            "new-code": "trade_show",
            "new-en": "Trade show",
            "new-zh": "展会",
        },
    )
    with app.test_request_context():
        from flask_login import login_user

        from sandbox.auth.service import get_user

        login_user(get_user("alice"))
        assert code_list("communication_type").label_of("trade_show") == "Trade show"


# ----------------------------------------------------------- customer rename


def renamed(app, classroom):
    return classroom.in_tenant(
        app,
        lambda s: [
            (n.name, n.reason)
            for n in s.scalars(sa.select(AccountName).order_by(AccountName.id))
        ],
    )


def test_renaming_an_account_keeps_its_former_name_and_the_reason(
    app, client, auth, classroom
):
    account_id = classroom.in_tenant(
        app, lambda s: make_account(s, name="杭州明远科技有限公司").id
    )
    auth.login("alice")
    form = client.get(f"/crm/accounts/{account_id}/rename").get_data(as_text=True)
    assert "Rename the account" in form and "Why is it renamed?" in form
    response = client.post(
        f"/crm/accounts/{account_id}/rename",
        data={"name": "浙江明远智能科技有限公司", "reason": "工商变更登记"},
    )
    assert response.headers["Location"] == f"/crm/accounts/{account_id}"
    assert renamed(app, classroom) == [("杭州明远科技有限公司", "工商变更登记")]
    page = text_of(client.get(f"/crm/accounts/{account_id}"))
    assert "“杭州明远科技有限公司” is now called “浙江明远智能科技有限公司”." in page
    assert "Former names" in page
    assert re.search(
        r'<ul class="list-unstyled mb-0 former-names"><li>杭州明远科技', page
    )
    assert re.search(
        r"Renamed account 杭州明远科技有限公司 to "
        r"<a [^>]*>浙江明远智能科技有限公司</a>: 工商变更登记",
        page,
    )
    details = classroom.in_tenant(
        app,
        lambda s: s.scalar(
            sa.select(AuditLog.details).where(AuditLog.action == "rename")
        ),
    )
    assert details == {"former": "杭州明远科技有限公司", "reason": "工商变更登记"}


def test_an_account_is_found_by_a_former_name(app, client, auth, classroom):
    account_id = classroom.in_tenant(
        app, lambda s: make_account(s, name="Quillfeather Trading").id
    )
    auth.login("alice")
    client.post(
        f"/crm/accounts/{account_id}/rename",
        data={"name": "Northwind Holdings", "reason": "Merged into its parent"},
    )
    found = client.get("/crm/search?q=quillfeather").get_data(as_text=True)
    assert 'id="results-accounts"' in found
    assert f'href="/crm/accounts/{account_id}">Northwind Holdings</a>' in found
    listing = client.get("/crm/accounts/?q=quillfeather").get_data(as_text=True)
    assert f'<a href="/crm/accounts/{account_id}">Northwind Holdings</a>' in listing
    nothing = client.get("/crm/accounts/?q=zzznotaname").get_data(as_text=True)
    assert "Northwind Holdings" not in nothing


def test_a_rename_needs_a_reason_a_new_and_free_name(app, client, auth, classroom):
    ids = classroom.in_tenant(
        app,
        lambda s: (
            make_account(s, name="Alpha Co").id,
            make_account(s, name="Beta Co").id,
        ),
    )
    auth.login("alice")
    url = f"/crm/accounts/{ids[0]}/rename"
    no_reason = text_of(client.post(url, data={"name": "Gamma Co", "reason": " "}))
    assert "This field is required." in no_reason
    same = text_of(client.post(url, data={"name": "alpha  co", "reason": "x"}))
    assert "The new name is the same as the current one." in same
    taken = text_of(client.post(url, data={"name": "BETA CO", "reason": "x"}))
    assert "An account named “Beta Co” already exists." in taken
    bad = text_of(client.post(url, data={"name": "Alpha@Co", "reason": "x"}))
    assert "cannot contain" in bad
    assert renamed(app, classroom) == []
    names = classroom.in_tenant(
        app,
        lambda s: s.scalars(
            sa.select(Account.name).where(Account.id.in_(ids)).order_by(Account.id)
        ).all(),
    )
    assert names == ["Alpha Co", "Beta Co"]


def test_a_name_changed_in_the_edit_form_is_kept_in_the_history_too(
    app, client, auth, classroom
):
    account_id = classroom.in_tenant(
        app, lambda s: make_account(s, name="Old Mill Ltd", account_type="customer").id
    )
    auth.login("alice")
    client.post(
        f"/crm/accounts/{account_id}/edit",
        data={"name": "New Mill Ltd", "account_type": "customer"},
    )
    assert renamed(app, classroom) == [("Old Mill Ltd", None)]
    client.post(
        f"/crm/accounts/{account_id}/edit",
        data={"name": "New Mill Ltd", "account_type": "prospect"},
    )
    assert len(renamed(app, classroom)) == 1  # other changes add no former name


def test_an_inactive_account_cannot_be_renamed(app, client, auth, classroom):
    account_id = classroom.in_tenant(
        app,
        lambda s: (
            make_account(
                s, name="Closed Shop", inactive=True, inactive_reason="Bankrupt"
            ).id
        ),
    )
    auth.login("alice")
    response = client.post(
        f"/crm/accounts/{account_id}/rename",
        data={"name": "Open Shop", "reason": "x"},
    )
    assert response.status_code == 302
    assert "is inactive" in text_of(client.get(response.headers["Location"]))
    assert renamed(app, classroom) == []


# ------------------------------------------------------------ re-ordering


def codes_in_order(app, classroom, key="communication_type") -> list[str]:
    def read(session):
        rows = session.scalars(
            sa.select(CodeItem.code)
            .where(CodeItem.list_key == key)
            .order_by(CodeItem.position)
        ).all()
        return list(rows) or [c.code for c in default_list(key)]

    return classroom.in_tenant(app, read)


def test_entries_move_up_and_down_from_the_code_list_page(app, client, auth, classroom):
    auth.login("alice")
    page = client.get("/crm/settings/codes/communication_type").get_data(as_text=True)
    assert re.search(r'id="move-up-visit" aria-label="Move “Visit” up" disabled', page)
    assert 'aria-label="Move “Other” down" disabled' in page
    response = client.post("/crm/settings/codes/communication_type/move/wechat/up")
    assert response.headers["Location"].endswith("#move-up-wechat")
    client.post("/crm/settings/codes/communication_type/move/wechat/up")
    client.post("/crm/settings/codes/communication_type/move/visit/down")
    order = ["wechat", "visit", "phone", "email", "meeting", "other"]
    assert codes_in_order(app, classroom) == order
    # The first entry cannot go further up: nothing changes.
    client.post("/crm/settings/codes/communication_type/move/wechat/up")
    assert codes_in_order(app, classroom) == order
    assert "“WeChat” moved up." in text_of(
        client.get("/crm/settings/codes/communication_type")
    )
    for junk in ("move/nothing/up", "move/visit/sideways"):
        url = f"/crm/settings/codes/communication_type/{junk}"
        assert client.post(url).status_code in (400, 404)
    assert client.post("/crm/settings/codes/no_list/move/a/up").status_code == 404


def test_moving_needs_a_csrf_token(csrf_app):  # noqa: F811
    client = logged_in_client(csrf_app)
    url = "/crm/settings/codes/communication_type/move/phone/up"
    assert client.post(url).status_code == 400
    token = csrf_token(client, "/crm/settings/codes/communication_type")
    assert client.post(url, data={"csrf_token": token}).status_code == 302
    page = client.get("/crm/accounts/new")  # any page: the list is in the tenant
    assert page.status_code == 200
    listed = client.get("/crm/settings/codes/communication_type").get_data(as_text=True)
    assert listed.index("<code>phone</code>") < listed.index("<code>visit</code>")


def test_reset_all_brings_every_list_back_in_one_step(app, client, auth, classroom):
    # The scenario's leads and deals use the lead source it adds ("webinar"),
    # which would rightly stop the reset (see the next test).
    classroom.in_tenant(app, lambda s: clear(s, "lead", "opportunity"))
    auth.login("alice")
    client.post("/crm/settings/codes/communication_type/move/other/up")
    client.post("/crm/settings/codes/industry/move/retail/up")
    assert "Reset every code list to its default?" in text_of(
        client.get("/crm/settings/reset-all")
    )
    response = client.post("/crm/settings/reset-all")
    assert response.status_code == 302
    assert codes_in_order(app, classroom) == [
        c.code for c in default_list("communication_type")
    ]
    items = classroom.in_tenant(
        app, lambda s: s.scalar(sa.select(sa.func.count()).select_from(CodeItem))
    )
    assert items == 0


def test_reset_all_changes_nothing_while_records_use_an_added_code(
    app, client, auth, classroom
):
    auth.login("alice")
    client.post("/crm/settings/codes/communication_type/move/other/up")
    rows = {
        f"rows-{i}-{field}": value
        for i, c in enumerate(default_list("industry"))
        for field, value in (
            ("code", c.code),
            ("en", c.en),
            ("zh", c.zh),
            ("active", "y"),
        )
    }
    client.post(
        "/crm/settings/codes/industry/edit",
        data={**rows, "new-code": "mining", "new-en": "Mining", "new-zh": "采矿"},
    )
    classroom.in_tenant(
        app, lambda s: make_account(s, name="Deep Pit", industry="mining")
    )
    response = client.post("/crm/settings/reset-all")
    assert response.status_code == 409
    assert (
        "“Industries”: records use codes the default list does not have (mining)"
        in (text_of(response))
    )
    assert codes_in_order(app, classroom)[-2:] == ["other", "meeting"]
