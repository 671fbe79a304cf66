"""Account rules: duplicates, naming, review, owner and co-owners, related accounts
and the inactive (失效) state."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from sandbox.crm.accounts.service import (
    AccountInactive,
    AccountRuleError,
    InvalidAccountName,
    approve_account,
    create_account,
    deactivate_account,
    message_text,
    name_problem,
    relate_accounts,
    share_account,
    similar_accounts,
    submit_for_review,
    update_account,
)
from sandbox.models.crm import Account, AuditLog, Colleague, Contact
from sandbox.models.crm.accounts import AccountRelation
from tests.helpers import make_account


def actions(session, account_id: int) -> list[AuditLog]:
    return list(
        session.scalars(
            sa.select(AuditLog)
            .filter_by(entity="account", entity_id=account_id)
            .where(AuditLog.action.not_in(("create", "update", "delete")))
            .order_by(AuditLog.id)
        )
    )


def account_count(app, classroom) -> int:
    return classroom.in_tenant(
        app, lambda s: s.scalar(sa.select(sa.func.count(Account.id)))
    )


# ------------------------------------------------------------------ duplicates


@pytest.mark.parametrize(
    ("existing", "typed"),
    [
        ("Acme Ltd", "ACME  Ltd."),
        ("Acme Ltd", "ＡＣＭＥ Ｌｔｄ．"),
        ("Acme Ltd", "Acme Limited"),
        ("Acme Ltd", "acme inc"),
        ("杭州某某科技有限公司", "杭州某某科技"),
        ("杭州某某科技有限公司", "杭州某某科技股份有限公司"),
    ],
)
def test_duplicate_check_finds_the_same_company_however_it_is_written(
    app, classroom, existing, typed
):
    def check(session):
        account = make_account(session, name=existing, owner_id=2)
        found = similar_accounts(session, typed)
        assert account in found
        assert found[0] == account  # the closest match comes first

    classroom.in_tenant(app, check)


def test_duplicate_check_ignores_other_companies_and_shows_at_most_five(app, classroom):
    def check(session):
        for n in range(7):
            make_account(session, name=f"Acme Branch {n}")
        make_account(session, name="Zenith Ltd")
        found = similar_accounts(session, "Acme")
        assert len(found) == 5
        assert all(a.name.startswith("Acme Branch") for a in found)
        assert similar_accounts(session, "Zenith Limited")[0].name == "Zenith Ltd"
        assert not similar_accounts(session, "Quetzal Holdings")
        assert not similar_accounts(session, "Ltd.")
        make_account(session, name="Deal 1")
        make_account(session, name="Deal 10")
        assert [a.name for a in similar_accounts(session, "Deal 1")] == ["Deal 1"]
        assert [a.name for a in similar_accounts(session, "deal 12")] == []
        assert [a.name for a in similar_accounts(session, "Deal 1 Trading")] == [
            "Deal 1"
        ]
        assert [a.name for a in similar_accounts(session, "Zenith 2")] == ["Zenith Ltd"]

    classroom.in_tenant(app, check)


def test_similar_endpoint_lists_matches_with_their_owners(app, client, auth, classroom):
    account_id, owner = classroom.in_tenant(
        app,
        lambda s: (
            make_account(s, name="杭州某某科技有限公司", owner_id=3).id,
            s.get(Colleague, 3).name,
        ),
    )
    auth.login("alice")
    found = client.get("/crm/accounts/similar", query_string={"name": "杭州某某科技"})
    assert found.status_code == 200
    assert found.json == [
        {
            "id": account_id,
            "name": "杭州某某科技有限公司",
            "url": f"/crm/accounts/{account_id}",
            "owner": owner,
            "inactive": False,
        }
    ]
    itself = client.get(
        "/crm/accounts/similar",
        query_string={"name": "杭州某某科技", "exclude": account_id},
    )
    assert itself.json == []
    assert client.get("/crm/accounts/similar?name=").json == []
    client.post("/auth/logout")
    assert client.get("/crm/accounts/similar?name=acme").status_code == 302


def test_saving_a_similar_name_shows_the_suggestions_and_creates_nothing(
    app, client, auth, classroom
):
    owner = classroom.in_tenant(
        app, lambda s: make_account(s, name="Acme Ltd", owner_id=2).owner.name
    )
    before = account_count(app, classroom)
    auth.login("alice")
    response = client.post(
        "/crm/accounts/new", data={"name": "Acme Limited", "account_type": "customer"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Similar accounts already exist" in page
    assert re.search(
        r'<a href="/crm/accounts/\d+">Acme Ltd</a> · Owner: ' + owner, page
    )
    assert 'name="create_anyway"' in page
    assert account_count(app, classroom) == before


def test_create_anyway_is_an_explicit_choice_that_is_logged(
    app, client, auth, classroom
):
    classroom.in_tenant(app, lambda s: make_account(s, name="Acme Ltd"))
    auth.login("alice")
    blank = client.get("/crm/accounts/new").get_data(as_text=True)
    assert 'name="create_anyway"' not in blank  # only offered once it is needed
    response = client.post(
        "/crm/accounts/new",
        data={"name": "Acme Limited", "account_type": "customer", "create_anyway": "y"},
    )
    assert response.status_code == 302
    account_id = int(response.location.rsplit("/", 1)[1])

    def check(session):
        (logged,) = actions(session, account_id)
        assert logged.action == "create_despite_duplicates"
        assert logged.actor == "alice"
        assert logged.details == {"similar": "Acme Ltd"}

    classroom.in_tenant(app, check)
    page = client.get(response.location).get_data(as_text=True)
    assert "although similar accounts exist: Acme Ltd" in page


def test_the_same_name_stays_refused_even_when_creating_anyway(
    app, client, auth, classroom
):
    classroom.in_tenant(app, lambda s: make_account(s, name="Acme Ltd"))
    before = account_count(app, classroom)
    auth.login("alice")
    response = client.post(
        "/crm/accounts/new",
        data={
            "name": "ＡＣＭＥ  ltd.",
            "account_type": "customer",
            "create_anyway": "y",
        },
    )
    assert "An account named “Acme Ltd” already exists." in response.get_data(
        as_text=True
    )
    assert account_count(app, classroom) == before


def test_a_name_unlike_any_other_is_created_without_a_question(app, classroom):
    def check(session):
        account = create_account(
            session, {"name": "Quetzal Holdings", "account_type": "prospect"}
        )
        assert account.id is not None and actions(session, account.id) == []

    classroom.in_tenant(app, check)


# ---------------------------------------------------------------- naming rules


@pytest.mark.parametrize(
    "name",
    [
        "杭州某某科技有限公司",
        "华为技术（深圳）有限公司",
        "IBM中国(上海)有限公司",
        "３６０科技",
        "Acme Trading (Asia), Ltd.",
        "Smith & Sons Co.",
        "3M China",
        "Café Lumière",
    ],
)
def test_naming_rules_accept(name):
    assert name_problem(name) is None


@pytest.mark.parametrize(
    ("name", "named"),
    [
        ("杭州某某-科技", "“-”"),
        ("杭州 某某科技", "space"),
        ("杭州，某某科技", "“，”"),
        ("某某科技&贸易", "“&”"),
        ("某某科技.", "“.”"),
        ("Acme@Trading", "“@”"),
        ("Acme-Trading/Asia", "“-” “/”"),
        ("Acme！", "“！”"),
        ("O'Brien Ltd", "“'”"),
        ("Acme_Ltd", "“_”"),
    ],
)
def test_naming_rules_refuse_and_name_the_character(name, named):
    problem = message_text(name_problem(name))
    assert named in problem
    if re.search(r"[\u4e00-\u9fff]", name):
        assert problem.startswith("A Chinese account name cannot contain")
    else:
        assert problem.startswith("An English account name cannot contain")


def test_a_bad_name_is_refused_beside_the_field(app, client, auth, classroom):
    before = account_count(app, classroom)
    auth.login("alice")
    response = client.post(
        "/crm/accounts/new", data={"name": "Acme#1 Ltd", "account_type": "customer"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(
        r'id="name"[^>]*>\s*<div class="invalid-feedback d-block" id="name-errors">'
        r"An English account name cannot contain “#”",
        page,
    )
    assert account_count(app, classroom) == before

    def service(session):
        with pytest.raises(InvalidAccountName):
            create_account(session, {"name": "杭州/某某", "account_type": "customer"})

    classroom.in_tenant(app, service)
    assert account_count(app, classroom) == before


def test_a_name_from_before_the_rules_may_stay_but_not_be_renamed_badly(
    app, client, auth, classroom
):
    account_id = classroom.in_tenant(
        app, lambda s: make_account(s, name="Wilson-Hodges").id
    )
    auth.login("alice")
    form = {"name": "Wilson-Hodges", "account_type": "partner"}
    assert client.post(f"/crm/accounts/{account_id}/edit", data=form).status_code == 302
    form["name"] = "Wilson-Hodges Group"
    refused = client.post(f"/crm/accounts/{account_id}/edit", data=form)
    assert "cannot contain “-”" in refused.get_data(as_text=True)
    name = classroom.in_tenant(app, lambda s: s.get(Account, account_id).name)
    assert name == "Wilson-Hodges"


# ---------------------------------------------------------------------- review


def test_a_channel_account_cannot_be_approved_without_a_related_end_customer(
    app, client, auth, classroom
):
    channel_id, prospect_id, end_id = classroom.in_tenant(
        app,
        lambda s: (
            make_account(s, name="Channel Co", account_type="channel").id,
            make_account(s, name="Maybe Buyer", account_type="prospect").id,
            make_account(s, name="End User Co", account_type="end_customer").id,
        ),
    )
    auth.login("alice")
    client.post(f"/crm/accounts/{channel_id}/submit-review")
    refused = client.post(f"/crm/accounts/{channel_id}/approve", follow_redirects=True)
    assert "needs at least one related end-customer account" in refused.get_data(
        as_text=True
    )
    client.post(
        f"/crm/accounts/{channel_id}/relations",
        data={"related_id": prospect_id, "relation": "serves"},
    )
    client.post(f"/crm/accounts/{channel_id}/approve")  # a prospect is not enough
    state = classroom.in_tenant(app, lambda s: s.get(Account, channel_id).review_state)
    assert state == "pending"

    client.post(
        f"/crm/accounts/{channel_id}/relations",
        data={"related_id": end_id, "relation": "serves"},
    )
    approved = client.post(f"/crm/accounts/{channel_id}/approve", follow_redirects=True)
    assert "The account is approved." in approved.get_data(as_text=True)

    def check(session):
        assert session.get(Account, channel_id).review_state == "approved"
        logged = [a.action for a in actions(session, channel_id)]
        assert logged == ["submit_review", "relate", "relate", "approve"]

    classroom.in_tenant(app, check)


def test_review_moves_pending_to_approved_or_rejected_with_a_note(
    app, client, auth, classroom
):
    account_id = classroom.in_tenant(
        app, lambda s: make_account(s, name="Reviewed Co", account_type="customer").id
    )
    auth.login("alice")
    early = client.post(f"/crm/accounts/{account_id}/approve", follow_redirects=True)
    assert "Only an account waiting for review can be approved." in early.get_data(
        as_text=True
    )
    client.post(f"/crm/accounts/{account_id}/submit-review")
    page = client.get(f"/crm/accounts/{account_id}").get_data(as_text=True)
    assert "Pending review" in page and "Submitted account" in page

    empty = client.post(f"/crm/accounts/{account_id}/reject", data={"note": "  "})
    assert "This field is required." in empty.get_data(as_text=True)
    client.post(
        f"/crm/accounts/{account_id}/reject", data={"note": "Tax number missing"}
    )
    page = client.get(f"/crm/accounts/{account_id}").get_data(as_text=True)
    assert "Rejected: Tax number missing" in page

    def check(session):
        account = session.get(Account, account_id)
        assert (account.review_state, account.review_note) == (
            "rejected",
            "Tax number missing",
        )
        reject = actions(session, account_id)[-1]
        assert reject.action == "reject"
        assert reject.details == {"note": "Tax number missing"}

    classroom.in_tenant(app, check)
    client.post(f"/crm/accounts/{account_id}/submit-review")  # again, once fixed
    client.post(f"/crm/accounts/{account_id}/approve")
    state = classroom.in_tenant(app, lambda s: s.get(Account, account_id).review_state)
    assert state == "approved"


# ---------------------------------------------------------- owner and co-owners


def test_changing_co_owners_is_audited_with_who_was_added_and_removed(
    app, client, auth, classroom
):
    account_id = classroom.in_tenant(
        app, lambda s: make_account(s, name="Shared Co", owner_id=1).id
    )
    names = classroom.in_tenant(
        app, lambda s: {c.id: c.name for c in s.scalars(sa.select(Colleague))}
    )
    auth.login("alice")
    share = f"/crm/accounts/{account_id}/share"
    page = client.get(share).get_data(as_text=True)
    assert page.count('type="checkbox"') == len(names)  # one per colleague
    response = client.post(share, data={"owner_id": "2", "co_owner_ids": ["3", "4"]})
    assert response.status_code == 302
    detail = client.get(f"/crm/accounts/{account_id}").get_data(as_text=True)
    assert f"{names[3]}, {names[4]}" in detail or f"{names[4]}, {names[3]}" in detail

    client.post(share, data={"owner_id": "2", "co_owner_ids": ["4"]})

    def check(session):
        account = session.get(Account, account_id)
        assert account.owner_id == 2
        assert [c.id for c in account.co_owners] == [4]
        first, second = actions(session, account_id)
        assert first.action == "share" and first.actor == "alice"
        assert sorted(first.details["added"]) == sorted([names[3], names[4]])
        assert first.details["removed"] == []
        assert second.details["added"] == [] and second.details["removed"] == [names[3]]
        owner_change = session.scalars(
            sa.select(AuditLog).filter_by(
                entity="account", entity_id=account_id, action="update"
            )
        ).one()
        assert owner_change.changes["owner_id"] == [1, 2]

    classroom.in_tenant(app, check)


def test_the_owner_cannot_also_be_a_co_owner(app, client, auth, classroom):
    account_id = classroom.in_tenant(app, lambda s: make_account(s, name="Solo").id)
    auth.login("alice")
    response = client.post(
        f"/crm/accounts/{account_id}/share",
        data={"owner_id": "2", "co_owner_ids": ["2"]},
    )
    assert "The owner cannot also be a co-owner." in response.get_data(as_text=True)
    assert (
        classroom.in_tenant(app, lambda s: s.get(Account, account_id).co_owners) == []
    )
    junk = client.post(
        f"/crm/accounts/{account_id}/share",
        data={"owner_id": "2", "co_owner_ids": ["999"]},
    )
    assert junk.status_code == 200


# ------------------------------------------------------------ related accounts


def test_related_accounts_show_on_both_pages_and_can_be_removed(
    app, client, auth, classroom
):
    channel_id, end_id = classroom.in_tenant(
        app,
        lambda s: (
            make_account(s, name="Channel Co", account_type="channel").id,
            make_account(s, name="End User Co", account_type="end_customer").id,
        ),
    )
    auth.login("alice")
    # Added from the end customer's page, "serves" still runs channel → customer.
    added = client.post(
        f"/crm/accounts/{end_id}/relations",
        data={"related_id": "", "related_id_label": "Channel Co", "relation": "serves"},
    )
    assert added.status_code == 302
    link = classroom.in_tenant(
        app, lambda s: s.scalars(sa.select(AccountRelation)).one()
    )
    assert (link.account_id, link.related_id) == (channel_id, end_id)
    channel_page = client.get(f"/crm/accounts/{channel_id}").get_data(as_text=True)
    end_page = client.get(f"/crm/accounts/{end_id}").get_data(as_text=True)
    assert "End User Co" in channel_page and "Serves (channel → end customer)" in (
        channel_page
    )
    assert "Channel Co" in end_page and "Served by" in end_page

    again = client.post(
        f"/crm/accounts/{channel_id}/relations",
        data={"related_id": end_id, "relation": "affiliate"},
    )
    assert again.status_code == 400
    assert "is already related to this account" in again.get_data(as_text=True)
    itself = client.post(
        f"/crm/accounts/{channel_id}/relations",
        data={"related_id": channel_id, "relation": "affiliate"},
    )
    assert "cannot be related to itself" in itself.get_data(as_text=True)

    client.post(f"/crm/accounts/{end_id}/relations/{link.id}/delete")
    assert classroom.in_tenant(
        app, lambda s: s.scalars(sa.select(AccountRelation)).all() == []
    )
    assert "No related accounts yet." in client.get(
        f"/crm/accounts/{channel_id}"
    ).get_data(as_text=True)


def test_a_parent_account_cannot_be_the_account_or_below_it(
    app, client, auth, classroom
):
    group_id, branch_id = classroom.in_tenant(
        app,
        lambda s: (
            make_account(s, name="Group Co").id,
            make_account(s, name="Branch Co").id,
        ),
    )
    auth.login("alice")
    ok = client.post(
        f"/crm/accounts/{branch_id}/edit",
        data={"name": "Branch Co", "account_type": "customer", "parent_id": group_id},
    )
    assert ok.status_code == 302
    assert "Branch Co" in client.get(f"/crm/accounts/{group_id}").get_data(as_text=True)
    loop = client.post(
        f"/crm/accounts/{group_id}/edit",
        data={"name": "Group Co", "account_type": "customer", "parent_id": branch_id},
    )
    assert "already belongs under this one" in loop.get_data(as_text=True)
    own = client.post(
        f"/crm/accounts/{group_id}/edit",
        data={"name": "Group Co", "account_type": "customer", "parent_id": group_id},
    )
    assert "cannot be its own parent" in own.get_data(as_text=True)
    parent = classroom.in_tenant(app, lambda s: s.get(Account, group_id).parent_id)
    assert parent is None


# -------------------------------------------------------------------- inactive


def test_an_inactive_account_refuses_edits_and_shows_why(app, client, auth, classroom):
    account_id, other_id = classroom.in_tenant(
        app,
        lambda s: (
            make_account(s, name="Closed Co").id,
            make_account(s, name="Open Co").id,
        ),
    )
    auth.login("alice")
    deactivate = f"/crm/accounts/{account_id}/deactivate"
    assert "This field is required." in client.post(
        deactivate, data={"reason": ""}
    ).get_data(as_text=True)
    client.post(deactivate, data={"reason": "Company dissolved"})

    page = client.get(f"/crm/accounts/{account_id}").get_data(as_text=True)
    assert "This account is inactive: Company dissolved." in page
    assert f"/crm/accounts/{account_id}/edit" not in page
    assert f"/crm/accounts/{account_id}/delete" not in page
    assert f"/contacts/new?account_id={account_id}" not in page
    assert "Reactivate" in page

    edit = client.post(
        f"/crm/accounts/{account_id}/edit",
        data={"name": "Renamed Co", "account_type": "customer"},
        follow_redirects=True,
    )
    assert "is inactive (Company dissolved) and cannot be changed" in edit.get_data(
        as_text=True
    )
    assert client.post(f"/crm/accounts/{account_id}/delete").status_code == 302
    client.post(f"/crm/accounts/{account_id}/share", data={"owner_id": "3"})
    client.post(f"/crm/accounts/{account_id}/submit-review")
    client.post(
        f"/crm/accounts/{other_id}/relations",
        data={"related_id": account_id, "relation": "affiliate"},
    )

    def unchanged(session):
        account = session.get(Account, account_id)
        assert account.name == "Closed Co" and account.owner_id is None
        assert account.review_state is None
        assert session.scalars(sa.select(AccountRelation)).all() == []
        for change in (
            lambda: update_account(session, account, {"name": "X", "city": "Y"}),
            lambda: share_account(session, account, 2, [3]),
            lambda: submit_for_review(session, account),
            lambda: approve_account(session, account),
            lambda: relate_accounts(
                session, session.get(Account, other_id), account, "affiliate"
            ),
        ):
            with pytest.raises(AccountInactive):
                change()
        session.rollback()
        assert session.get(Account, account_id).name == "Closed Co"

    classroom.in_tenant(app, unchanged)

    client.post(f"/crm/accounts/{account_id}/reactivate")
    renamed = client.post(
        f"/crm/accounts/{account_id}/edit",
        data={"name": "Renamed Co", "account_type": "customer"},
    )
    assert renamed.status_code == 302

    def logged(session):
        kinds = [(a.action, a.details) for a in actions(session, account_id)]
        assert kinds == [
            ("deactivate", {"reason": "Company dissolved"}),
            ("reactivate", {}),
        ]

    classroom.in_tenant(app, logged)


def test_no_new_contacts_at_an_inactive_account(app, client, auth, classroom):
    account_id, contact_id = classroom.in_tenant(
        app,
        lambda s: (
            make_account(
                s, name="Closed Co", inactive=True, inactive_reason="Merged"
            ).id,
            s.scalars(sa.select(Contact.id).where(Contact.account_id != None)).first(),  # noqa: E711
        ),
    )
    auth.login("alice")
    form = client.get(f"/crm/contacts/new?account_id={account_id}").get_data(
        as_text=True
    )
    assert 'name="account_id" value=""' in form  # not offered as the default
    refused = client.post(
        "/crm/contacts/new", data={"last_name": "Late", "account_id": account_id}
    )
    assert "“Closed Co” is inactive (Merged): new contacts cannot be linked" in (
        refused.get_data(as_text=True)
    )
    moved = client.post(
        f"/crm/contacts/{contact_id}/edit",
        data={"last_name": "Moved", "account_id": account_id},
    )
    assert moved.status_code == 422
    count = classroom.in_tenant(
        app,
        lambda s: s.scalar(
            sa.select(sa.func.count()).where(Contact.account_id == account_id)
        ),
    )
    assert count == 0


def test_deactivating_needs_a_reason_and_happens_once(app, classroom):
    def check(session):
        account = make_account(session, name="Twice Co")
        with pytest.raises(AccountRuleError, match="Say why"):
            deactivate_account(session, account, "   ")
        deactivate_account(session, account, "Duplicate of another account")
        with pytest.raises(AccountRuleError, match="already inactive"):
            deactivate_account(session, account, "again")

    classroom.in_tenant(app, check)


# ------------------------------------------------------------------------ list


def test_the_list_runs_the_same_queries_for_10_or_100_rows(
    app, client, auth, classroom
):
    auth.login("alice")
    classroom.in_tenant(
        app,
        lambda s: share_account(s, s.get(Account, 1), 1, [2, 3]),
    )
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    def queries(url: str) -> int:
        statements.clear()
        sa.event.listen(sa.engine.Engine, "before_cursor_execute", count)
        try:
            assert client.get(url).status_code == 200
        finally:
            sa.event.remove(sa.engine.Engine, "before_cursor_execute", count)
        return sum("FROM account" in s for s in statements)

    small = queries("/crm/accounts/?per_page=10")
    # A page holding every record needs no separate count: never more queries.
    assert queries("/crm/accounts/?per_page=100") <= small <= 3


def test_accounts_waiting_for_review_are_a_workbench_to_do(
    app, client, auth, classroom
):
    auth.login("alice")
    assert "waiting for review" not in client.get("/").get_data(as_text=True)
    client.post("/crm/accounts/3/submit-review")
    client.post("/crm/accounts/4/submit-review")
    home = client.get("/").get_data(as_text=True)
    assert '<a class="link-primary" href="/crm/accounts/?review=pending">' in home
    assert "2 accounts are waiting for review" in home
    listed = client.get("/crm/accounts/?review=pending").get_data(as_text=True)
    assert "2 records" in listed


def test_deleting_an_account_removes_its_links_only_when_asked(
    app, client, auth, classroom
):
    def setup(session):
        channel = make_account(session, name="Channel Co", account_type="channel")
        end = make_account(session, name="End User Co", account_type="end_customer")
        relate_accounts(session, channel, end, "serves")
        return channel.id, end.id

    channel_id, end_id = classroom.in_tenant(app, setup)
    auth.login("alice")
    confirm = client.get(f"/crm/accounts/{channel_id}/delete").get_data(as_text=True)
    assert "Related accounts: 1" in confirm and 'name="detach"' in confirm
    assert "move them to another record first" not in confirm
    refused = client.post(f"/crm/accounts/{channel_id}/delete")
    assert refused.status_code == 409
    assert classroom.in_tenant(app, lambda s: s.get(Account, channel_id)) is not None

    deleted = client.post(f"/crm/accounts/{channel_id}/delete", data={"detach": "y"})
    assert deleted.location == "/crm/accounts/"

    def check(session):
        assert session.get(Account, channel_id) is None
        assert session.get(Account, end_id) is not None
        assert session.scalars(sa.select(AccountRelation)).all() == []
        assert actions(session, end_id)[-1].details == {"related": "Channel Co"}

    classroom.in_tenant(app, check)
    page = client.get(f"/crm/accounts/{end_id}").get_data(as_text=True)
    assert "Unlinked account" in page and "No related accounts yet." in page
