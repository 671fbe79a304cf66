"""The CRM module kit: registry, labels, code lists, timelines, lists, forms, deletes.

Tests that walk "every module" read the registry, so each new module is held to the
same rules from its first commit.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa
from flask import Blueprint, url_for
from flask_babel import force_locale

from sandbox.crm.codes import CODE_LISTS, code_list, default_list
from sandbox.crm.display import field_label
from sandbox.crm.registry import (
    Module,
    app_modules,
    column,
    register_module,
    unregister_module,
)
from sandbox.extensions import db
from sandbox.models.control import Role
from sandbox.models.crm import Account, AuditLog, CodeItem, Contact, UnauditedWrite
from sandbox.models.crm.leads import Lead
from tests.conftest import close_app, make_app
from tests.helpers import make_account, make_contact, view_as_instructor


def list_urls(app) -> list[str]:
    with app.test_request_context():
        from flask import url_for

        return [url_for(m.index_endpoint) for m in app_modules()]


# ------------------------------------------------------------------ the registry


@pytest.fixture
def widget_module():
    """A throwaway module, registered before the app is made, over contacts."""
    bp = Blueprint("widgets", __name__)

    @bp.route("/")
    def index():
        return "widgets"

    @bp.route("/<id:widget_id>")
    def detail(widget_id):
        return f"widget {widget_id}"

    module = register_module(
        Module(
            key="widgets",
            label="Widgets",
            entity_label="Widget",
            noun="widget",
            icon="gear",
            model=Contact,
            blueprint=bp,
            group="company",
            id_arg="widget_id",
            search=(Contact.last_name,),
            columns=(column(Contact.last_name, kind="link"),),
        )
    )
    yield module
    unregister_module("widgets")


def test_a_registered_module_appears_in_the_sidebar_search_and_lookup(
    widget_module, tmp_path
):
    from tests.conftest import AuthActions, Classroom
    from tests.helpers import make_course, make_student, make_user

    app = make_app(tmp_path / "instance")
    try:
        with app.app_context():
            teacher = make_user("teacher", Role.INSTRUCTOR)
            course = make_course(instructors=[teacher])
            _, tenant = make_student(course, "alice")
            room = Classroom(course.id, "teacher", ("alice", "bob"), (tenant.id, 0))
        room.in_tenant(app, lambda s: make_contact(s, last_name="Zyxwidget"))
        client = app.test_client()
        AuthActions(client).login("alice")

        home = client.get("/").get_data(as_text=True)
        assert re.search(r'href="/crm/widgets/"[^>]*>.*Widgets</a>', home)
        found = client.get("/crm/search?q=zyxwidget").get_data(as_text=True)
        assert 'id="results-widgets"' in found
        assert re.search(r'href="/crm/widgets/\d+">Lin Zyxwidget</a>', found)
        lookup = client.get("/crm/lookup/widgets?q=zyxw").get_json()
        assert [row["label"] for row in lookup] == ["Lin Zyxwidget"]
    finally:
        close_app(app)


def test_search_groups_results_by_module_and_lookup_refuses_unknown_modules(
    app, client, auth, classroom
):
    classroom.in_tenant(app, lambda s: make_account(s, name="Quokka Trading"))
    classroom.in_tenant(app, lambda s: make_contact(s, last_name="Quokkason"))
    auth.login("alice")
    page = client.get("/crm/search?q=quokka").get_data(as_text=True)
    assert 'id="results-accounts"' in page and 'id="results-contacts"' in page
    assert "Quokka Trading" in page and "Lin Quokkason" in page
    empty = client.get("/crm/search?q=nothing-like-this").get_data(as_text=True)
    assert "Nothing in your CRM matches" in empty
    assert client.get("/crm/lookup/passwords?q=a").status_code == 404


# ------------------------------------------------------------ labels, code lists


def test_field_labels_belong_to_their_entity(app):
    with app.test_request_context():
        assert field_label(Account, "name") == "Account name"
        assert field_label(Lead, "name") == "Lead name"
        assert field_label(Contact, "last_name") == "Last name"
        assert field_label(Account, "created_at") == "Created on"
        with force_locale("zh_Hans_CN"):
            assert field_label(Lead, "name") == "线索名称"
            assert field_label(Account, "name") == "客户名称"


def test_every_code_list_has_english_and_chinese_labels_and_unique_codes():
    for key, codes in CODE_LISTS.items():
        assert codes.codes, key
        for item in codes:
            assert item.code and item.en and item.zh, (key, item)
            assert re.fullmatch(r"[a-z0-9_]+", item.code), (key, item.code)
        assert len({c.code for c in codes}) == len(codes.codes), key


def test_unknown_code_list_names_the_known_ones():
    with pytest.raises(KeyError, match="known lists: .*industry"):
        default_list("no_such_list")


def test_a_tenant_list_replaces_the_default_in_forms_lists_and_filters(
    app, client, auth, classroom
):
    def customise(session):
        session.add_all(
            [
                CodeItem(
                    list_key="industry",
                    code="retail",
                    label_en="Shops and stores",
                    label_zh="门店零售",
                    position=1,
                ),
                CodeItem(
                    list_key="industry",
                    code="finance",
                    label_en="Finance",
                    label_zh="金融",
                    position=2,
                    active=False,
                ),
            ]
        )
        session.add(
            Account(name="Corner Shop", account_type="customer", industry="retail")
        )
        session.add(
            Account(name="Old Bank", account_type="customer", industry="finance")
        )
        session.commit()

    classroom.in_tenant(app, customise)
    auth.login("alice")
    listing = client.get("/crm/accounts/?q=corner").get_data(as_text=True)
    assert "Shops and stores" in listing
    form = client.get("/crm/accounts/new").get_data(as_text=True)
    options = re.findall(r'<option value="(\w*)"', form.split('id="industry"')[1])
    assert "retail" in options and "finance" not in options and "energy" not in options
    # A record keeps showing a retired code's label.
    assert "Finance" in client.get("/crm/accounts/?q=old+bank").get_data(as_text=True)
    with app.test_request_context():
        assert default_list("industry").label_of("retail") == "Retail"


def test_editing_an_account_keeps_a_retired_code_but_refuses_new_unknown_codes(
    app, client, auth, classroom
):
    auth.login("alice")
    response = client.post(
        "/crm/accounts/new", data={"name": "Typo Co", "account_type": "vip"}
    )
    assert "Not a valid choice" in response.get_data(as_text=True)


# ------------------------------------------------------------------- the audit log


def test_timeline_names_the_record_and_formats_values_in_the_course_time_zone(
    app, client, auth, classroom
):
    with app.app_context():
        classroom.tenant(0).course.timezone = "Asia/Shanghai"
        db.session.commit()
    auth.login("alice")
    client.post(
        "/crm/accounts/new",
        data={
            "name": "Boyd PLC",
            "account_type": "customer",
            "annual_revenue": "1234567",
        },
    )
    account_id = classroom.in_tenant(
        app, lambda s: s.scalar(sa.select(Account.id).filter_by(name="Boyd PLC"))
    )
    form = {"name": "Boyd PLC", "account_type": "customer", "annual_revenue": "2000000"}
    client.post(f"/crm/accounts/{account_id}/edit", data=form)

    def pin_time(session):
        # 20:30 UTC on 15 January is 04:30 on 16 January in Shanghai.
        for entry in session.scalars(
            sa.select(AuditLog).filter_by(entity_id=account_id)
        ):
            entry.at = dt.datetime(2026, 1, 15, 20, 30)
        session.commit()

    classroom.in_tenant(app, pin_time)
    page = client.get(f"/crm/accounts/{account_id}").get_data(as_text=True)
    assert (
        f'Updated account <a class="fw-semibold" href="/crm/accounts/{account_id}">'
        "Boyd PLC</a>" in page
    )
    assert "Annual revenue: " in page
    assert re.search(r"1,234,567\.00</span> → 2,000,000\.00", page)
    assert "Jan 16, 2026" in page and "Jan 15, 2026" not in page
    home = client.get("/").get_data(as_text=True)
    assert f'href="/crm/accounts/{account_id}">Boyd PLC</a>' in home


def test_timeline_names_linked_records_by_name(app, client, auth, classroom):
    names = classroom.in_tenant(
        app, lambda s: [s.get(Account, 1).name, s.get(Account, 2).name]
    )
    contact_id = classroom.in_tenant(
        app, lambda s: make_contact(s, last_name="Mover", account_id=1).id
    )
    auth.login("alice")
    client.post(
        f"/crm/contacts/{contact_id}/edit",
        data={"last_name": "Mover", "account_id": "2"},
    )
    page = client.get(f"/crm/contacts/{contact_id}").get_data(as_text=True)
    assert f"{names[0]}</span> → {names[1]}" in page


def test_timeline_names_a_stage_in_the_readers_language(app, client, auth, classroom):
    from sandbox.models.crm.sales import Opportunity, Stage

    def open_deal(session):
        deal = session.scalar(
            sa.select(Opportunity).join(Stage).where(Stage.is_closed.is_(False))
        )
        target = session.scalar(
            sa.select(Stage).where(
                Stage.is_closed.is_(False), Stage.id != deal.stage_id
            )
        )
        return deal.id, deal.stage.name, deal.stage.name_zh, target

    deal_id, old_en, old_zh, target = classroom.in_tenant(app, open_deal)
    auth.login("alice")
    client.post(f"/crm/opportunities/{deal_id}/move", data={"stage_id": target.id})
    page = client.get(f"/crm/opportunities/{deal_id}").get_data(as_text=True)
    assert f"{old_en}</span> → {target.name}" in page
    client.post("/language", data={"language": "zh"})
    page = client.get(f"/crm/opportunities/{deal_id}").get_data(as_text=True)
    assert f"{old_zh}</span> → {target.name_zh}" in page


def test_record_action_writes_in_the_same_transaction_with_its_sentence(
    app, client, auth, classroom
):
    from sandbox.crm.audit import ACTIONS, define_action, record_action

    define_action("test_escalate", "Escalated %(entity)s %(record)s to %(level)s")
    try:

        def act(session):
            account = session.get(Account, 1)
            record_action(account, "test_escalate", {"level": "L2"})
            session.rollback()  # nothing committed: nothing logged
            record_action(session.get(Account, 1), "test_escalate", {"level": "L3"})
            session.commit()
            return account.name

        name = classroom.in_tenant(app, act)
        auth.login("alice")
        page = client.get("/crm/accounts/1").get_data(as_text=True)
        link = f'<a class="fw-semibold" href="/crm/accounts/1">{name}</a>'
        assert f"Escalated account {link} to L3" in page
        assert "to L2" not in page
        with pytest.raises(KeyError, match="define_action"):
            classroom.in_tenant(
                app, lambda s: record_action(s.get(Account, 1), "never_defined")
            )
    finally:
        ACTIONS.pop("test_escalate")


def test_bulk_changes_that_would_skip_the_audit_are_refused(app, classroom):
    def bulk(session):
        with pytest.raises(UnauditedWrite, match="bypass the audit log"):
            session.execute(sa.update(Account).values(city="Nowhere"))
        session.rollback()
        with pytest.raises(UnauditedWrite):
            session.execute(sa.delete(Contact))
        session.rollback()
        return session.scalar(
            sa.select(sa.func.count()).where(Account.city == "Nowhere")
        )

    assert classroom.in_tenant(app, bulk) == 0


# ----------------------------------------------------------------------- lists


class QueryCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *args) -> None:
        self.count += 1

    def __enter__(self):
        sa.event.listen(sa.engine.Engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *exc):
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", self)


def test_every_list_page_runs_the_same_number_of_queries_whatever_its_size(
    app, client, auth, classroom
):
    auth.login("alice")
    for url in list_urls(app):
        counts = []
        for size in (10, 100):
            with QueryCounter() as counter:
                assert client.get(f"{url}?per_page={size}").status_code == 200
            counts.append(counter.count)
        # A page holding every record skips the count: never more for more rows.
        assert counts[1] <= counts[0], (url, counts)
        assert counts[0] <= 12, (url, counts)


@pytest.mark.slow
def test_every_list_sorts_by_each_column_both_ways(app, client, auth, classroom):
    auth.login("alice")
    with app.test_request_context():
        modules = [(m.key, [c.key for c in m.columns]) for m in app_modules()]
    for key, columns in modules:
        for col in columns:
            for direction in ("asc", "desc"):
                page = client.get(f"/crm/{key}/?sort={col}&dir={direction}")
                assert page.status_code == 200, (key, col, direction)
                assert f"sort={col}" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    "query",
    [
        "page=9223372036854775808",
        "page=10000000000000000000000000",
        "page=-5",
        "page=abc",
        "page=1e9",
        "page=%00",
        "per_page=7",
        "per_page=-1",
        "per_page=99999999999999999999999",
        "per_page=ten",
        "sort=nope&dir=sideways",
    ],
)
def test_list_pages_answer_junk_paging_with_a_normal_page(
    app, client, auth, classroom, query
):
    auth.login("alice")
    for url in list_urls(app):
        response = client.get(f"{url}?{query}")
        assert response.status_code == 200, (url, query)
        page = response.get_data(as_text=True)
        if "record-list" in page:  # pages built on the list kit
            assert "per page" in page, (url, query)


def test_page_size_choice_is_kept_across_pages_and_search(app, client, auth, classroom):
    auth.login("alice")
    page = client.get("/crm/contacts/?per_page=10&page=2").get_data(as_text=True)
    assert "page 2 of 10 · 10 per page" in page
    assert '<option value="10" selected>' in page
    assert re.search(r'href="/crm/contacts/\?[^"]*per_page=10[^"]*page=3', page)


def test_contacts_are_found_by_full_name_in_either_order_and_in_chinese(
    app, client, auth, classroom
):
    classroom.in_tenant(
        app, lambda s: make_contact(s, first_name="小明", last_name="王")
    )
    classroom.in_tenant(
        app, lambda s: make_contact(s, first_name="Ann", last_name="Leeward")
    )
    auth.login("alice")

    def found(q):
        page = client.get("/crm/contacts/", query_string={"q": q}).get_data(
            as_text=True
        )
        return re.findall(r'<a href="/crm/contacts/\d+">([^<]+)</a>', page)

    assert found("王小明") == ["王小明"]
    assert found("Ann Leeward") == ["Ann Leeward"]
    assert found("Leeward Ann") == ["Ann Leeward"]
    assert found("ann leew") == ["Ann Leeward"]


def test_each_word_of_a_search_may_match_a_different_column(
    app, client, auth, classroom
):
    classroom.in_tenant(
        app, lambda s: make_account(s, name="Wombat Tea Export", city="Hangzhou")
    )
    classroom.in_tenant(
        app, lambda s: make_account(s, name="Wombat Mining", city="Perth")
    )
    auth.login("alice")

    def listed(q):
        page = client.get("/crm/accounts/", query_string={"q": q})
        return re.findall(
            r'<a href="/crm/accounts/\d+">([^<]+)</a>', page.get_data(as_text=True)
        )

    assert listed("wombat hangzhou") == ["Wombat Tea Export"]
    assert listed("Hangzhou\u3000Wombat") == ["Wombat Tea Export"]  # 全角空格
    assert listed("export wombat") == ["Wombat Tea Export"]  # in any order
    assert listed("wombat") == ["Wombat Mining", "Wombat Tea Export"]
    assert listed("wombat lisbon") == []  # every word must be found
    search = client.get("/crm/search", query_string={"q": "wombat perth"})
    assert "Wombat Mining" in search.get_data(as_text=True)
    assert "Wombat Tea Export" not in search.get_data(as_text=True)
    lookup = client.get("/crm/lookup/accounts", query_string={"q": "tea wombat"})
    assert [row["label"] for row in lookup.json] == ["Wombat Tea Export"]


# ----------------------------------------------------------------------- forms


def test_money_takes_two_decimals_shows_the_currency_and_gives_one_clear_error(
    app, client, auth, classroom
):
    auth.login("alice")
    for n, bad in enumerate(("abc", "12.345", "-5", "1e400", "NaN")):
        page = client.post(
            "/crm/accounts/new",
            data={
                "name": f"Money {n}",
                "account_type": "customer",
                "annual_revenue": bad,
            },
        ).get_data(as_text=True)
        assert page.count("at most two decimals") == 1, bad
        assert page.count("invalid-feedback") == 1, bad
    response = client.post(
        "/crm/accounts/new",
        data={
            "name": "Money Good",
            "account_type": "customer",
            "annual_revenue": "1,234.5",
        },
    )
    assert response.status_code == 302
    saved = classroom.in_tenant(
        app,
        lambda s: s.scalar(
            sa.select(Account.annual_revenue).filter_by(name="Money Good")
        ),
    )
    assert str(saved) == "1234.50"
    detail = client.get(response.location).get_data(as_text=True)
    assert "1,234.50" in detail and "(USD)" in detail
    form = client.get("/crm/accounts/new").get_data(as_text=True)
    assert '<span class="input-group-text">USD</span>' in form


def test_multi_line_text_keeps_its_line_breaks(app, client, auth, classroom):
    auth.login("alice")
    response = client.post(
        "/crm/accounts/new",
        data={
            "name": "Lines Ltd",
            "account_type": "customer",
            "description": "First line\r\nSecond line",
        },
    )
    page = client.get(response.location).get_data(as_text=True)
    assert re.search(r'<span class="multiline">First line\r?\nSecond line</span>', page)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("\u200b\u200b", "This field is required."),
        ("\u3000 \t", "This field is required."),
        ("\ufeff", "This field is required."),
        ("Acme\x00Corp", "Remove the control characters"),
        ("Bell\x07", "Remove the control characters"),
    ],
)
def test_names_that_show_nothing_or_hold_control_characters_are_refused(
    app, client, auth, classroom, typed, message
):
    auth.login("alice")
    page = client.post(
        "/crm/accounts/new", data={"name": typed, "account_type": "customer"}
    ).get_data(as_text=True)
    assert message in page
    count = classroom.in_tenant(
        app, lambda s: s.scalar(sa.select(sa.func.count(Account.id)))
    )
    assert count == 50


@pytest.mark.parametrize(
    "variant",
    ["ＡＣＭＥ　Ｌｔｄ．", "acme ltd", "ACME\u3000 Ltd.", "Acme Ltd.", " Acme  Ltd "],
)
def test_duplicate_names_are_found_across_width_case_spaces_and_punctuation(
    app, client, auth, classroom, variant
):
    classroom.in_tenant(app, lambda s: make_account(s, name="Acme Ltd"))
    auth.login("alice")
    page = client.post(
        "/crm/accounts/new", data={"name": variant, "account_type": "customer"}
    ).get_data(as_text=True)
    assert "An account named “Acme Ltd” already exists." in page


def test_the_chinese_contact_form_asks_for_the_family_name_first(
    app, client, auth, classroom
):
    auth.login("alice")
    english = client.get("/crm/contacts/new").get_data(as_text=True)
    assert english.index('id="first_name"') < english.index('id="last_name"')
    client.post("/language", data={"language": "zh"})
    chinese = client.get("/crm/contacts/new").get_data(as_text=True)
    assert chinese.index('id="last_name"') < chinese.index('id="first_name"')
    assert ">姓</label>" in chinese and ">名</label>" in chinese


def test_record_picker_matches_a_typed_name_when_no_record_was_chosen(
    app, client, auth, classroom
):
    name = classroom.in_tenant(app, lambda s: s.get(Account, 3).name)
    auth.login("alice")
    response = client.post(
        "/crm/contacts/new",
        data={"last_name": "Typed", "account_id": "", "account_id_label": name.upper()},
    )
    assert response.status_code == 302
    contact = classroom.in_tenant(
        app, lambda s: s.scalar(sa.select(Contact).filter_by(last_name="Typed"))
    )
    assert contact.account_id == 3
    page = client.post(
        "/crm/contacts/new",
        data={"last_name": "Typed", "account_id": "", "account_id_label": "No Such Co"},
    ).get_data(as_text=True)
    assert "no single record is named “No Such Co”" in page
    # also where the account is required (a case): the reason, not "required"
    page = client.post(
        "/crm/cases/new",
        data={"subject": "Typed", "account_id": "", "account_id_label": "No Such Co"},
    ).get_data(as_text=True)
    assert "no single record is named “No Such Co”" in page
    assert "This field is required." not in page.split('id="account_id')[1][:2000]
    lookup = client.get("/crm/lookup/accounts", query_string={"q": name[:6]}).get_json()
    assert {"id": 3, "label": name} in lookup and len(lookup) <= 20


# ------------------------------------------------------------- read-only views


def test_the_read_only_view_refuses_every_form_page_with_403(
    app, client, auth, classroom
):
    view_as_instructor(client, auth, classroom)
    writing = {}
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            view = app.view_functions[rule.endpoint]
            if getattr(view, "writes", False):
                args = {name: 1 for name in rule.arguments}
                writing[rule.endpoint] = (url_for(rule.endpoint, **args), rule.methods)
    assert set(writing) >= {
        "accounts.create",
        "accounts.edit",
        "accounts.delete",
        "contacts.create",
        "contacts.edit",
        "contacts.delete",
    }
    for url, methods in writing.values():
        method = client.get if "GET" in methods else client.post
        assert method(url).status_code == 403, url
    assert client.get("/crm/accounts/1").status_code == 200


def test_the_read_only_workbench_speaks_of_the_student(app, client, auth, classroom):
    view_as_instructor(client, auth, classroom)
    home = client.get("/").get_data(as_text=True)
    with app.app_context():
        student = classroom.tenant(0).student.name
    assert f"The workbench of {student}, as they see it." in home
    assert "Welcome," not in home


def test_a_read_only_page_looks_up_the_student_and_course_with_the_tenant(
    app, client, auth, classroom
):
    """Three control-database statements a page: the instructor, the viewed tenant
    with its course and student, and the instructor's courses."""
    view_as_instructor(client, auth, classroom)
    client.get("/crm/accounts/")  # the first page also sets up the tenant engine
    statements: list[str] = []

    def keep(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        control = db.engines[None]
    sa.event.listen(control, "before_cursor_execute", keep)
    try:
        page = client.get("/crm/accounts/").get_data(as_text=True)
    finally:
        sa.event.remove(control, "before_cursor_execute", keep)
    with app.app_context():
        student = classroom.tenant(0).student.name
    assert f"Read-only view of the CRM of {student}." in page
    assert len(statements) == 3, statements


def test_code_list_labels_follow_the_language(app):
    with app.test_request_context():
        assert code_list("lead_status").label_of("qualified") == "Qualified"
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert code_list("lead_status").label_of("qualified") == "已确认"
        assert code_list("lead_status").label_of("made_up") == "made_up"


def test_every_list_cell_shows_its_records_value(app, client, auth, classroom):
    """Each column reads the attribute it names, even when its URL key differs."""
    from sandbox.crm.listing import render_rows

    auth.login("alice")
    with app.test_request_context():
        from flask_login import login_user

        from sandbox.auth.service import get_user

        login_user(get_user("alice"))
        for module in app_modules():
            records = db.session.scalars(sa.select(module.model).limit(5)).all()
            for record, cells in render_rows(module, records):
                tds = re.findall(r"<td[^>]*>(.*?)</td>", str(cells))
                assert len(tds) == len(module.columns)
                for col, td in zip(module.columns, tds, strict=True):
                    value = col.read(record)
                    if value not in (None, ""):
                        assert td, (module.key, col.key, value)


def test_numbers_dates_and_record_numbers_never_break_in_a_list(app, classroom):
    """A narrow column may wrap a name, never "178,752.0 / 0", "CS-2026- / 000080"
    or "2026年11月 / 30日 / 17:00:00"."""
    from flask_login import login_user

    from sandbox.auth.service import get_user
    from sandbox.crm.listing import NUMERIC, render_rows

    unbroken = {}
    with app.test_request_context():
        login_user(get_user("alice"))
        for module in app_modules():
            record = db.session.scalars(sa.select(module.model).limit(1)).first()
            if record is None:
                continue
            [(_, cells)] = render_rows(module, [record])
            openings = re.findall(r"<td[^>]*>", str(cells))
            for col, opening in zip(module.columns, openings, strict=True):
                kept = "text-nowrap" in opening
                expected = (
                    col.kind in NUMERIC
                    or col.kind in ("date", "datetime")
                    or col.nowrap
                )
                assert kept == expected, (module.key, col.key, opening)
                if col.nowrap:
                    unbroken[module.key] = col.key
    numbered = {
        "calendar",
        "cases",
        "contracts",
        "forecasts",
        "sales_orders",
        "products",
    }
    assert numbered <= set(unbroken), unbroken


@pytest.mark.parametrize("locale", ["en", "zh_Hans_CN"])
def test_money_is_written_as_babel_writes_it_in_every_supported_language(app, locale):
    from decimal import Decimal

    from flask_babel import format_decimal

    from sandbox.crm.display import money

    with app.test_request_context(), force_locale(locale):
        for value in ("0", "12.3", "1234567.5", "999999999999.99"):
            amount = Decimal(value)
            assert money(amount) == format_decimal(amount, format="#,##0.00")


def test_an_action_may_mean_something_else_for_another_kind_of_record(
    app, client, auth, classroom
):
    from sandbox.crm.audit import ACTIONS, define_action, record_action

    define_action("test_park", "Parked %(entity)s %(record)s")
    define_action(
        "test_park", "Parked %(entity)s %(record)s in a garage", entity="contact"
    )
    try:
        with pytest.raises(ValueError, match="already has a sentence"):
            define_action("test_park", "Something else", entity="contact")

        def act(session):
            record_action(session.get(Account, 1), "test_park")
            record_action(session.get(Contact, 1), "test_park")
            session.commit()

        classroom.in_tenant(app, act)
        auth.login("alice")
        account = client.get("/crm/accounts/1").get_data(as_text=True)
        contact = client.get("/crm/contacts/1").get_data(as_text=True)
        assert "Parked account" in account and "in a garage" not in account
        assert "Parked contact" in contact and "in a garage" in contact
    finally:
        ACTIONS.pop("test_park")
        ACTIONS.pop(("contact", "test_park"))


@pytest.mark.parametrize("raw", ["9223372036854775808", "-1", "0", "1e5"])
def test_a_record_picker_refuses_ids_no_record_can_have(
    app, client, auth, classroom, raw
):
    auth.login("alice")
    response = client.post(
        "/crm/contacts/new", data={"last_name": "X", "account_id": raw}
    )
    assert response.status_code == 422
    assert "Choose a record from the list." in response.get_data(as_text=True)


def test_two_creates_of_one_name_at_the_same_moment_make_one_account(
    app, classroom, monkeypatch
):
    """Both saves pass the duplicate checks before either commits (a barrier holds
    them after the last one); the unique name key still lets only one through."""
    import threading

    from sandbox import tenancy
    from sandbox.crm.accounts import service

    barrier = threading.Barrier(2, timeout=30)
    checked = service.similar_accounts
    waited = threading.local()

    def check_then_wait(session, name, *args, **kwargs):
        found = checked(session, name, *args, **kwargs)
        if not getattr(waited, "done", False):  # hold only each save's first check
            waited.done = True
            barrier.wait()
        return found

    monkeypatch.setattr(service, "similar_accounts", check_then_wait)
    outcomes: list[str] = []

    def create(spelling: str) -> None:
        with app.app_context():
            with tenancy.tenant_session(classroom.tenant(0)) as session:
                try:
                    service.create_account(
                        session, {"name": spelling, "account_type": "customer"}
                    )
                    outcomes.append("created")
                except service.DuplicateAccountName:
                    outcomes.append("refused")

    threads = [
        threading.Thread(target=create, args=(spelling,))
        for spelling in ("Twin Peaks Trading", "ＴＷＩＮ　PEAKS trading")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["created", "refused"]
    count = classroom.in_tenant(
        app,
        lambda s: s.scalar(
            sa.select(sa.func.count()).where(Account.name_key == "twin peaks trading")
        ),
    )
    assert count == 1


def test_only_required_fields_are_marked_required_on_every_new_record_form(
    app, client, auth, classroom
):
    auth.login("alice")
    with app.app_context():
        modules = list(app_modules())
    for module in modules:
        if f"{module.key}.create" not in app.view_functions:
            continue
        with app.test_request_context():
            url = url_for(f"{module.key}.create")
        page = client.get(url).get_data(as_text=True)
        assert 'required="None"' not in page and 'required="False"' not in page
        if module.key == "accounts":
            assert re.search(r'<input[^>]*id="name"[^>]*required', page)
            assert not re.search(r'<input[^>]*id="website"[^>]*required', page)


def test_every_list_header_names_its_column(app, client, auth, classroom):
    """A column without a label is refused when its module registers (a header
    read "None" on three lists); every list's headers are words."""
    with pytest.raises(ValueError, match="needs a label"):
        column(Account.created_at)
    auth.login("alice")
    for url in list_urls(app):
        page = client.get(url).get_data(as_text=True)
        head = page.split("<thead>", 1)[-1].split("</thead>", 1)[0]
        assert ">None" not in head and "None<" not in head, url
        # and no two columns share a header (the mailbox had two "Recipient")
        labels = re.findall(r'class="sort-link"[^>]*>([^<]+)<', head)
        assert len(labels) == len(set(labels)), (url, labels)


def test_every_list_page_offers_its_export_and_the_export_answers(
    app, client, auth, classroom
):
    """The lead and case lists (pages of their own) lacked the Export menu and the
    Import button the other lists have, though both worked when typed."""
    auth.login("alice")
    lists = 0
    for url in list_urls(app):
        page = client.get(url).get_data(as_text=True)
        if "record-list" not in page:
            continue  # not a list of records (the calendar, reports …)
        lists += 1
        menu = page.split('class="dropdown transfer-export"', 1)
        assert len(menu) == 2, f"{url} has no Export menu"
        csv_url = re.search(r'href="([^"]*export\.csv[^"]*)"', menu[1])[1]
        response = client.get(csv_url.replace("&amp;", "&"))
        assert response.status_code == 200, csv_url
        assert response.mimetype == "text/csv", csv_url
    assert lists > 15
    assert "/crm/leads/import" in client.get("/crm/leads/").get_data(as_text=True)
