"""Settings: the company's code lists, its stage table and its team."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from sandbox.crm.codes import CODE_LISTS, default_list
from sandbox.crm.settings.service import (
    TeamRuleBroken,
    current_codes,
    set_colleague_active,
)
from sandbox.models.crm import AuditLog, CodeItem, Colleague
from sandbox.models.crm.forecasts import Quota
from sandbox.models.crm.sales import Stage
from tests.crm.test_competitors import make_deal
from tests.helpers import clear_deals, make_account


def rows_data(codes, **changes) -> dict[str, str]:
    """The editor's form data for ``codes`` (a list of Code), with ``changes``
    (``{"rows-0-en": "…"}``) applied."""
    data = {}
    for i, code in enumerate(codes):
        data[f"rows-{i}-code"] = code.code
        data[f"rows-{i}-en"] = code.en
        data[f"rows-{i}-zh"] = code.zh
        data[f"rows-{i}-color"] = code.color or ""
        if code.active:
            data[f"rows-{i}-active"] = "y"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def index_of(key: str, code: str) -> int:
    return [c.code for c in default_list(key)].index(code)


def code_items(app, classroom, key="industry") -> int:
    return classroom.in_tenant(
        app,
        lambda s: s.scalar(
            sa.select(sa.func.count())
            .select_from(CodeItem)
            .where(CodeItem.list_key == key)
        ),
    )


def option_values(page_text: str, select_name: str) -> list[str]:
    select = re.search(
        rf'<select[^>]*name="{select_name}"[^>]*>(.*?)</select>', page_text, re.S
    )
    return re.findall(r'<option[^>]*value="([^"]*)"', select.group(1))


def save_list(client, key="industry", action="save", codes=None, **changes):
    codes = codes if codes is not None else list(default_list(key))
    return client.post(
        f"/crm/settings/codes/{key}/edit",
        data={"action": action, **rows_data(codes, **changes)},
    )


# ----------------------------------------------------------------- code lists


def test_settings_list_every_code_list(client, auth, classroom):
    auth.login("alice")
    page = client.get("/crm/settings/").get_data(as_text=True)
    for key in CODE_LISTS:
        assert f'href="/crm/settings/codes/{key}"' in page
    assert client.get("/crm/settings/codes/no_such_list").status_code == 404
    assert client.get("/crm/settings/codes/no_such_list/edit").status_code == 404


def test_renaming_a_label_shows_on_the_account_list(app, client, auth, classroom):
    classroom.in_tenant(
        app, lambda s: make_account(s, name="Steel Works", industry="manufacturing")
    )
    auth.login("alice")
    i = index_of("industry", "manufacturing")
    response = save_list(
        client, **{f"rows-{i}-en": "Heavy industry", f"rows-{i}-zh": "重工业"}
    )
    assert response.status_code == 302
    listing = client.get("/crm/accounts/?q=steel+works").get_data(as_text=True)
    assert "Heavy industry" in listing and "Manufacturing" not in listing
    form = client.get("/crm/accounts/new").get_data(as_text=True)
    assert ">Heavy industry</option>" in form
    # the whole list is now the company's own version
    assert code_items(app, classroom) == len(default_list("industry").codes)


def test_a_deactivated_code_leaves_forms_but_old_records_keep_it(
    app, client, auth, classroom
):
    account_id = classroom.in_tenant(
        app, lambda s: make_account(s, name="Corner Shop", industry="retail").id
    )
    auth.login("alice")
    i = index_of("industry", "retail")
    save_list(client, **{f"rows-{i}-active": None})
    new_form = client.get("/crm/accounts/new").get_data(as_text=True)
    assert "retail" not in option_values(new_form, "industry")
    assert "Retail" in client.get(f"/crm/accounts/{account_id}").get_data(as_text=True)
    assert "Retail" in client.get("/crm/accounts/?q=corner+shop").get_data(as_text=True)
    # editing the old record keeps its value on offer, so saving does not lose it
    edit_form = client.get(f"/crm/accounts/{account_id}/edit").get_data(as_text=True)
    assert "retail" in option_values(edit_form, "industry")
    listing = client.get("/crm/accounts/").get_data(as_text=True)
    assert "retail" not in option_values(listing, "industry")  # the filter too


def test_moving_an_entry_changes_the_order_forms_offer(app, client, auth, classroom):
    auth.login("alice")
    first, second = [c.code for c in default_list("industry")][:2]
    response = save_list(client, action="down-0")
    assert response.status_code == 200
    assert "“Manufacturing” moved down." in response.get_data(as_text=True)
    offered = option_values(
        client.get("/crm/accounts/new").get_data(as_text=True), "industry"
    )
    assert offered[1:3] == [second, first]  # after the blank choice
    # moving the first entry up changes nothing
    codes = classroom.in_tenant(app, lambda s: current_codes(s, "industry"))
    save_list(client, action="up-0", codes=codes)
    assert [
        c.code for c in classroom.in_tenant(app, lambda s: current_codes(s, "industry"))
    ][:2] == [second, first]


def test_adding_an_entry_validates_its_code(app, client, auth, classroom):
    auth.login("alice")
    for bad in ("Trade Fair", "1st", "fair-trade", "x" * 41, "retail"):
        response = save_list(
            client, **{"new-code": bad, "new-en": "Trade fair", "new-zh": "展会"}
        )
        assert response.status_code == 422, bad
        page = response.get_data(as_text=True)
        assert "The list was not saved" in page
    assert "is already in the list" in page
    assert code_items(app, classroom) == 0  # nothing written
    response = save_list(
        client, **{"new-code": "trade_fair", "new-en": "", "new-zh": "展会"}
    )
    assert "Give the entry an English and a Chinese label." in response.get_data(
        as_text=True
    )
    response = save_list(
        client,
        **{
            "new-code": "trade_fair",
            "new-en": "Trade fair",
            "new-zh": "展会",
            "new-color": "info",
        },
    )
    assert response.status_code == 302
    form = client.get("/crm/accounts/new").get_data(as_text=True)
    assert option_values(form, "industry")[-1] == "trade_fair"
    assert ">Trade fair</option>" in form


def test_codes_in_use_cannot_be_removed_only_deactivated(app, client, auth, classroom):
    classroom.in_tenant(app, lambda s: make_account(s, name="Bank", industry="finance"))
    auth.login("alice")
    used = index_of("industry", "finance")
    response = save_list(client, **{f"rows-{used}-remove": "y"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "deactivate it instead of removing it" in page
    assert code_items(app, classroom) == 0
    # leaving a used code out of the posted rows is refused the same way
    codes = [c for c in default_list("industry") if c.code != "finance"]
    assert save_list(client, codes=codes).status_code == 422
    # an entry no record uses can go
    save_list(client, **{"new-code": "unused", "new-en": "Unused", "new-zh": "未用"})
    codes = classroom.in_tenant(app, lambda s: current_codes(s, "industry"))
    assert codes[-1].code == "unused"
    last = len(codes) - 1
    response = save_list(client, codes=codes, **{f"rows-{last}-remove": "y"})
    assert response.status_code == 302
    codes = classroom.in_tenant(app, lambda s: current_codes(s, "industry"))
    assert "unused" not in {c.code for c in codes}
    assert "finance" in {c.code for c in codes}


def test_a_list_keeps_one_active_entry(app, client, auth, classroom):
    auth.login("alice")
    codes = list(default_list("lead_rating"))
    changes = {f"rows-{i}-active": None for i in range(len(codes))}
    response = save_list(client, "lead_rating", codes=codes, **changes)
    assert "Keep at least one active entry in the list." in response.get_data(
        as_text=True
    )
    bad_colour = save_list(
        client, "lead_rating", codes=codes, **{"rows-0-color": "pink"}
    )
    assert "Choose a colour from the list." in bad_colour.get_data(as_text=True)
    assert code_items(app, classroom, "lead_rating") == 0


def test_code_list_changes_are_in_the_audit_log(app, client, auth, classroom):
    auth.login("alice")
    i = index_of("industry", "energy")
    save_list(client, **{f"rows-{i}-en": "Power"})
    entry = classroom.in_tenant(
        app,
        lambda s: s.scalars(
            sa.select(AuditLog).where(AuditLog.action == "edit_code_list")
        ).one(),
    )
    assert entry.entity == "code_list" and entry.actor == "alice"
    assert entry.details["list"] == "industry"
    assert entry.details["changed"] == ["energy"]
    page = client.get("/crm/settings/codes/industry").get_data(as_text=True)
    assert "Edited code list" in page and "Power" in page


def test_reset_brings_back_the_defaults(app, client, auth, classroom):
    auth.login("alice")
    i = index_of("industry", "energy")
    save_list(client, **{f"rows-{i}-en": "Power"})
    confirm = client.get("/crm/settings/codes/industry/reset").get_data(as_text=True)
    assert "Reset “Industries” to the default?" in confirm
    assert code_items(app, classroom) > 0  # asking changes nothing
    response = client.post("/crm/settings/codes/industry/reset")
    assert response.status_code == 302
    assert code_items(app, classroom) == 0
    assert ">Energy</option>" in client.get("/crm/accounts/new").get_data(as_text=True)
    actions = classroom.in_tenant(
        app,
        lambda s: s.scalars(
            sa.select(AuditLog.action).where(AuditLog.entity == "code_list")
        ).all(),
    )
    assert "reset_code_list" in actions


def test_reset_is_refused_while_records_use_an_added_code(app, client, auth, classroom):
    auth.login("alice")
    save_list(client, **{"new-code": "space", "new-en": "Space", "new-zh": "航天"})
    classroom.in_tenant(
        app, lambda s: make_account(s, name="Rockets", industry="space")
    )
    response = client.post("/crm/settings/codes/industry/reset")
    assert response.status_code == 409
    assert "space" in response.get_data(as_text=True)
    assert code_items(app, classroom) == len(default_list("industry").codes) + 1


def test_labels_are_unique_within_a_list(app, client, auth, classroom):
    auth.login("alice")
    response = save_list(
        client, **{"new-code": "banking", "new-en": " finance ", "new-zh": "银行"}
    )
    assert response.status_code == 422
    assert "Another entry has the English label “finance”." in response.get_data(
        as_text=True
    )
    response = save_list(
        client, **{"new-code": "banking", "new-en": "Banking", "new-zh": "金融"}
    )
    assert response.status_code == 422
    assert "Another entry has the Chinese label “金融”." in response.get_data(
        as_text=True
    )
    # renaming an entry to another's label is refused the same way
    i = index_of("industry", "retail")
    response = save_list(client, **{f"rows-{i}-en": "MANUFACTURING"})
    assert "Another entry has the English label “MANUFACTURING”." in (
        response.get_data(as_text=True)
    )
    assert code_items(app, classroom) == 0  # nothing written
    # an entry being removed gives its label up
    save_list(client, **{"new-code": "fairs", "new-en": "Fairs", "new-zh": "展会"})
    codes = classroom.in_tenant(app, lambda s: current_codes(s, "industry"))
    response = save_list(
        client,
        codes=codes,
        **{
            f"rows-{len(codes) - 1}-remove": "y",
            "new-code": "trade_fairs",
            "new-en": "fairs",
            "new-zh": "展会",
        },
    )
    assert response.status_code == 302
    codes = classroom.in_tenant(app, lambda s: current_codes(s, "industry"))
    assert [(c.code, c.en) for c in codes][-1] == ("trade_fairs", "fairs")


def test_editor_arrows_move_an_entry_and_keep_other_edits_unsaved(
    app, client, auth, classroom
):
    auth.login("alice")
    first, second = [c.code for c in default_list("industry")][:2]
    i = index_of("industry", "energy")
    response = save_list(
        client,
        action="down-0",
        **{f"rows-{i}-en": "Enrgy", "new-code": "space", "new-en": "Space"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Your other changes are not saved yet" in page
    # the form still holds the typo and the new entry, in the new order
    assert 'value="Enrgy"' in page and 'name="new-code" value="space"' in page
    assert page.index(f'value="{second}"') < page.index(f'value="{first}"')
    codes = classroom.in_tenant(app, lambda s: current_codes(s, "industry"))
    assert [c.code for c in codes][:2] == [second, first]  # the move is saved
    assert "Enrgy" not in {c.en for c in codes}  # the typo is not
    assert "space" not in {c.code for c in codes}
    # a move with no other change does not warn
    page = save_list(client, action="up-1", codes=codes).get_data(as_text=True)
    assert "moved up" in page and "not saved yet" not in page


# ----------------------------------------------------------------- stages


def stage(session, code) -> Stage:
    return session.scalar(sa.select(Stage).where(Stage.code == code))


def stage_form(**changes) -> dict[str, str]:
    return {
        "name": "Demo",
        "name_zh": "演示",
        "probability": "35",
        "forecast_category": "pipeline",
        "kind": "open",
        **changes,
    }


def lost_stage_form(**changes) -> dict[str, str]:
    return stage_form(
        kind="lost", probability="0", forecast_category="omitted", **changes
    )


def field_errors(page: str, field: str) -> list[str]:
    """The messages the form shows beside ``field``."""
    return re.findall(rf'id="{field}-errors">([^<]*)<', page)


def test_edit_a_stage(app, client, auth, classroom):
    stage_id = classroom.in_tenant(app, lambda s: stage(s, "proposal").id)
    auth.login("alice")
    response = client.post(
        f"/crm/stages/{stage_id}/edit",
        data=stage_form(
            name="Quote",
            name_zh="报价",
            probability="60",
            forecast_category="best_case",
        ),
    )
    assert response.status_code == 302
    edited = classroom.in_tenant(app, lambda s: s.get(Stage, stage_id))
    assert (edited.name, edited.name_zh, edited.probability, edited.code) == (
        "Quote",
        "报价",
        60,
        "proposal",
    )
    page = client.post(
        f"/crm/stages/{stage_id}/edit", data=stage_form(probability="101")
    ).get_data(as_text=True)
    assert "Number must be between 0 and 100." in page


def test_a_new_open_stage_goes_before_the_closed_ones(app, client, auth, classroom):
    auth.login("alice")
    response = client.post("/crm/stages/new", data=stage_form(code="demo"))
    assert response.status_code == 302

    def order(session):
        return [
            s.code for s in session.scalars(sa.select(Stage).order_by(Stage.position))
        ]

    codes = classroom.in_tenant(app, order)
    assert codes[-3:] == ["demo", "closed_won", "closed_lost"]
    page = client.post("/crm/stages/new", data=stage_form(code="demo")).get_data(
        as_text=True
    )
    assert "A stage with the code “demo” already exists." in page
    page = client.post("/crm/stages/new", data=stage_form(code="Demo 2")).get_data(
        as_text=True
    )
    assert "lower-case letters" in page


def test_exactly_one_won_stage(app, client, auth, classroom):
    classroom.in_tenant(app, clear_deals)  # the scenario's deals use every stage
    auth.login("alice")
    page = client.post(
        "/crm/stages/new", data=stage_form(code="won_again", kind="won")
    ).get_data(as_text=True)
    assert "exactly one closed-won stage" in page
    won_id = classroom.in_tenant(app, lambda s: stage(s, "closed_won").id)
    page = client.post(f"/crm/stages/{won_id}/delete")
    assert page.status_code == 409
    assert "exactly one closed-won stage" in page.get_data(as_text=True)
    # turning the won stage into a lost one leaves none won
    page = client.post(
        f"/crm/stages/{won_id}/edit", data=stage_form(kind="lost")
    ).get_data(as_text=True)
    assert "exactly one closed-won stage" in page
    # a second lost stage is fine
    assert (
        client.post(
            "/crm/stages/new", data=lost_stage_form(code="no_budget", name="No budget")
        ).status_code
        == 302
    )


def test_the_last_lost_stage_stays(app, client, auth, classroom):
    classroom.in_tenant(app, clear_deals)  # the scenario's deals use every stage
    auth.login("alice")
    lost_id = classroom.in_tenant(app, lambda s: stage(s, "closed_lost").id)
    response = client.post(f"/crm/stages/{lost_id}/delete")
    assert response.status_code == 409
    assert "at least one closed-lost stage" in response.get_data(as_text=True)
    client.post("/crm/stages/new", data=lost_stage_form(code="lost_two"))
    assert client.post(f"/crm/stages/{lost_id}/delete").status_code == 302
    assert classroom.in_tenant(app, lambda s: s.get(Stage, lost_id)) is None


def test_a_stage_in_use_cannot_be_removed_or_change_kind(app, client, auth, classroom):
    classroom.in_tenant(app, clear_deals)  # the scenario's deals use every stage
    stage_id = classroom.in_tenant(
        app, lambda s: make_deal(s, "Busy deal", "qualification", "5").stage_id
    )
    auth.login("alice")
    page = client.get(f"/crm/stages/{stage_id}/delete").get_data(as_text=True)
    assert "it cannot be removed" in page
    assert client.post(f"/crm/stages/{stage_id}/delete").status_code == 409
    page = client.post(
        f"/crm/stages/{stage_id}/edit", data=stage_form(kind="lost")
    ).get_data(as_text=True)
    assert "cannot change between open, won and lost" in page
    assert classroom.in_tenant(app, lambda s: s.get(Stage, stage_id).is_closed) is False
    unused = classroom.in_tenant(app, lambda s: stage(s, "prospecting").id)
    assert client.post(f"/crm/stages/{unused}/delete").status_code == 302


def test_stages_move_up_and_down(app, client, auth, classroom):
    ids = classroom.in_tenant(
        app, lambda s: (stage(s, "prospecting").id, stage(s, "qualification").id)
    )
    auth.login("alice")
    client.post(f"/crm/stages/{ids[1]}/move/up")
    positions = classroom.in_tenant(
        app, lambda s: (s.get(Stage, ids[0]).position, s.get(Stage, ids[1]).position)
    )
    assert positions == (2, 1)
    page = client.get("/crm/stages/").get_data(as_text=True)
    assert page.index("Qualification") < page.index("Prospecting")


def test_closed_stages_have_their_probability_and_forecast_category(
    app, client, auth, classroom
):
    classroom.in_tenant(app, clear_deals)
    auth.login("alice")
    response = client.post(
        "/crm/stages/new",
        data=stage_form(code="gave_up", kind="lost", probability="90"),
    )
    page = response.get_data(as_text=True)
    assert field_errors(page, "probability") == [
        "A closed-lost stage has a probability of 0 %."
    ]
    assert field_errors(page, "forecast_category") == [
        "A closed-lost stage has the forecast category “Omitted”."
    ]
    assert classroom.in_tenant(app, lambda s: stage(s, "gave_up")) is None
    response = client.post("/crm/stages/new", data=lost_stage_form(code="gave_up"))
    assert response.status_code == 302
    won_id = classroom.in_tenant(app, lambda s: stage(s, "closed_won").id)
    page = client.post(
        f"/crm/stages/{won_id}/edit",
        data=stage_form(name="Won", kind="won", probability="90"),
    ).get_data(as_text=True)
    assert field_errors(page, "probability") == [
        "A closed-won stage has a probability of 100 %."
    ]
    assert field_errors(page, "forecast_category") == [
        "A closed-won stage has the forecast category “Closed”."
    ]
    assert classroom.in_tenant(app, lambda s: s.get(Stage, won_id).probability) == 100
    client.post("/language", data={"language": "zh"})
    page = client.post(
        f"/crm/stages/{won_id}/edit",
        data=stage_form(kind="won", probability="100", forecast_category="pipeline"),
    ).get_data(as_text=True)
    assert field_errors(page, "forecast_category") == [
        "赢单关闭阶段的预测类别为“已成交”。"
    ]


def test_stage_names_are_unique(app, client, auth, classroom):
    auth.login("alice")
    page = client.post(
        "/crm/stages/new", data=stage_form(code="again", name="  prospecting ")
    ).get_data(as_text=True)
    assert field_errors(page, "name") == ["A stage named “prospecting” already exists."]
    assert (
        client.post("/crm/stages/new", data=stage_form(code="demo")).status_code == 302
    )
    page = client.post(
        "/crm/stages/new", data=stage_form(code="demo_two", name="Demo two")
    ).get_data(as_text=True)
    assert field_errors(page, "name_zh") == [
        "A stage with the Chinese name “演示” already exists."
    ]
    assert classroom.in_tenant(app, lambda s: stage(s, "demo_two")) is None
    # a stage keeps its own names; it cannot take another's
    proposal = classroom.in_tenant(app, lambda s: stage(s, "proposal").id)
    response = client.post(
        f"/crm/stages/{proposal}/edit",
        data=stage_form(name="Proposal/Price Quote", name_zh="方案/报价"),
    )
    assert response.status_code == 302
    page = client.post(
        f"/crm/stages/{proposal}/edit", data=stage_form(name="DEMO", name_zh="报价")
    ).get_data(as_text=True)
    assert field_errors(page, "name") == ["A stage named “DEMO” already exists."]


def test_closed_stages_stay_after_the_open_ones(app, client, auth, classroom):
    def order(session):
        return [
            s.code for s in session.scalars(sa.select(Stage).order_by(Stage.position))
        ]

    before = classroom.in_tenant(app, order)
    won, last_open = classroom.in_tenant(
        app, lambda s: (stage(s, "closed_won").id, stage(s, before[-3]).id)
    )
    auth.login("alice")
    for stage_id, direction in ((won, "up"), (last_open, "down")):
        response = client.post(f"/crm/stages/{stage_id}/move/{direction}")
        assert response.status_code == 302
        page = client.get(response.location).get_data(as_text=True)
        assert "Closed stages come after the open ones" in page
        assert classroom.in_tenant(app, order) == before
    # closed stages may change places among themselves
    client.post(f"/crm/stages/{won}/move/down")
    assert classroom.in_tenant(app, order)[-2:] == ["closed_lost", "closed_won"]
    page = client.get("/crm/stages/").get_data(as_text=True)
    assert "“Closed Won” moved down." in page


def test_chinese_readers_see_the_chinese_stage_name_first(app, client, auth, classroom):
    stage_id = classroom.in_tenant(app, lambda s: stage(s, "prospecting").id)
    auth.login("alice")
    client.post("/language", data={"language": "zh"})
    page = client.get(f"/crm/stages/{stage_id}/delete").get_data(as_text=True)
    assert "删除阶段“初步接洽”？" in page
    listing = client.get("/crm/stages/").get_data(as_text=True)
    row = re.search(
        rf'<tr>\s*<td.*?href="/crm/stages/{stage_id}".*?</tr>', listing, re.S
    )
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(0), re.S)
    assert ">初步接洽</a>" in cells[1] and cells[2] == "Prospecting"
    assert '<th scope="col">英文名称</th>' in listing


# ----------------------------------------------------------------- team


def test_add_and_edit_a_colleague(app, client, auth, classroom):
    auth.login("alice")
    response = client.post(
        "/crm/team/new",
        data={"name": "Dana Li", "role": "sales_manager", "email": "dana@example.com"},
    )
    assert response.status_code == 302
    colleague_id = int(response.location.rsplit("/", 1)[1])
    page = client.post(
        f"/crm/team/{colleague_id}/edit", data={"name": "Dana Li", "role": "ceo"}
    ).get_data(as_text=True)
    assert "Not a valid choice" in page
    assert "Dana Li" in client.get("/crm/team/?role=sales_manager").get_data(
        as_text=True
    )
    owners = option_values(
        client.get("/crm/accounts/new").get_data(as_text=True), "owner_id"
    )
    assert str(colleague_id) in owners


def test_a_deactivated_colleague_is_no_longer_offered_as_owner(
    app, client, auth, classroom
):
    colleague_id = classroom.in_tenant(
        app, lambda s: s.scalar(sa.select(Colleague.id).where(~Colleague.is_self))
    )
    auth.login("alice")
    client.post(f"/crm/team/{colleague_id}/deactivate")
    owners = option_values(
        client.get("/crm/accounts/new").get_data(as_text=True), "owner_id"
    )
    assert str(colleague_id) not in owners
    actions = classroom.in_tenant(
        app,
        lambda s: s.scalars(
            sa.select(AuditLog.action).where(
                AuditLog.entity == "colleague", AuditLog.entity_id == colleague_id
            )
        ).all(),
    )
    assert "deactivate_colleague" in actions
    assert "Inactive" in client.get("/crm/team/?active=inactive").get_data(as_text=True)
    client.post(f"/crm/team/{colleague_id}/activate")
    owners = option_values(
        client.get("/crm/accounts/new").get_data(as_text=True), "owner_id"
    )
    assert str(colleague_id) in owners


def test_the_students_own_colleague_cannot_be_deactivated(app, client, auth, classroom):
    me = classroom.in_tenant(
        app, lambda s: s.scalar(sa.select(Colleague.id).where(Colleague.is_self))
    )
    auth.login("alice")
    client.post(f"/crm/team/{me}/deactivate")
    assert classroom.in_tenant(app, lambda s: s.get(Colleague, me).active)
    page = client.get(f"/crm/team/{me}").get_data(as_text=True)
    assert "You cannot deactivate yourself." in page
    assert client.post(f"/crm/team/{me}/delete").status_code == 409

    def direct(session):
        with pytest.raises(TeamRuleBroken):
            set_colleague_active(session, session.get(Colleague, me), False)

    classroom.in_tenant(app, direct)


def test_a_colleague_who_owns_records_is_deactivated_not_deleted(
    app, client, auth, classroom
):
    def setup(session):
        owner = Colleague(name="Owner Olga", role="sales_rep")
        spare = Colleague(name="Spare Sam", role="sales_rep")
        session.add_all([owner, spare])
        session.commit()
        make_account(session, name="Olga's account", owner_id=owner.id)
        return owner.id, spare.id

    owner_id, spare_id = classroom.in_tenant(app, setup)
    auth.login("alice")
    page = client.get(f"/crm/team/{owner_id}/delete").get_data(as_text=True)
    assert "owns records: deactivate the colleague instead" in page
    assert client.post(f"/crm/team/{owner_id}/delete").status_code == 409
    assert classroom.in_tenant(app, lambda s: s.get(Colleague, owner_id)) is not None
    assert client.post(f"/crm/team/{spare_id}/delete").status_code == 302
    assert classroom.in_tenant(app, lambda s: s.get(Colleague, spare_id)) is None


def test_colleague_names_and_emails_are_unique(app, client, auth, classroom):
    auth.login("alice")
    response = client.post(
        "/crm/team/new",
        data={"name": "Dana Wu", "role": "sales_rep", "email": "dana@example.com"},
    )
    assert response.status_code == 302
    dana = int(response.location.rsplit("/", 1)[1])
    page = client.post(
        "/crm/team/new", data={"name": " dana wu ", "role": "sales_rep"}
    ).get_data(as_text=True)
    assert field_errors(page, "name") == ["A colleague named “dana wu” already exists."]
    page = client.post(
        "/crm/team/new",
        data={"name": "Dana Wang", "role": "sales_rep", "email": "DANA@example.com"},
    ).get_data(as_text=True)
    assert field_errors(page, "email") == [
        "A colleague with the email “DANA@example.com” already exists."
    ]
    count = classroom.in_tenant(
        app,
        lambda s: s.scalar(
            sa.select(sa.func.count()).where(Colleague.name.ilike("dana%"))
        ),
    )
    assert count == 1
    # a colleague keeps their own name and email; not another's
    other = classroom.in_tenant(
        app,
        lambda s: s.scalar(
            sa.select(Colleague.id).where(~Colleague.is_self, Colleague.id != dana)
        ),
    )
    data = {"name": "Dana Wu", "role": "sales_rep", "email": "dana@example.com"}
    assert client.post(f"/crm/team/{dana}/edit", data=data).status_code == 302
    page = client.post(f"/crm/team/{other}/edit", data=data).get_data(as_text=True)
    assert field_errors(page, "name") == ["A colleague named “Dana Wu” already exists."]


def test_the_colleague_page_names_their_quotas(app, client, auth, classroom):
    def setup(session):
        me = session.scalar(sa.select(Colleague).where(Colleague.is_self))
        for month in (1, 2, 3):
            session.add(
                Quota(
                    colleague_id=me.id,
                    period_kind="month",
                    start=dt.date(2031, month, 1),
                    amount=Decimal("5000"),
                )
            )
        session.commit()
        return me.id, session.scalar(
            sa.select(sa.func.count()).where(Quota.colleague_id == me.id)
        )

    me, quotas = classroom.in_tenant(app, setup)
    auth.login("alice")
    page = client.get(f"/crm/team/{me}").get_data(as_text=True)
    assert f"<li>Quotas: {quotas}</li>" in page
    assert "quota:" not in page
    client.post("/language", data={"language": "zh"})
    page = client.get(f"/crm/team/{me}").get_data(as_text=True)
    assert f"<li>销售配额：{quotas}</li>" in page


def test_no_delete_button_for_ones_own_colleague(app, client, auth, classroom):
    me, other = classroom.in_tenant(
        app,
        lambda s: (
            s.scalar(sa.select(Colleague.id).where(Colleague.is_self)),
            s.scalar(sa.select(Colleague.id).where(~Colleague.is_self)),
        ),
    )
    auth.login("alice")
    page = client.get(f"/crm/team/{me}").get_data(as_text=True)
    assert f'href="/crm/team/{me}/delete"' not in page
    assert f'href="/crm/team/{me}/edit"' in page
    page = client.get(f"/crm/team/{other}").get_data(as_text=True)
    assert f'href="/crm/team/{other}/delete"' in page
    assert client.post(f"/crm/team/{me}/delete").status_code == 409


# ----------------------------------------------------------------- read-only


def test_settings_are_refused_in_the_instructor_read_only_view(
    app, client, auth, classroom
):
    from tests.helpers import view_as_instructor

    view_as_instructor(client, auth, classroom)
    for url in (
        "/crm/settings/codes/industry/edit",
        "/crm/settings/codes/industry/reset",
        "/crm/stages/new",
        "/crm/stages/1/edit",
        "/crm/stages/1/delete",
        "/crm/team/new",
        "/crm/team/1/edit",
    ):
        assert client.get(url).status_code == 403, url
    assert save_list(client, **{"rows-0-en": "Hacked"}).status_code == 403
    assert client.post("/crm/stages/1/move/down").status_code == 403
    assert client.post("/crm/team/2/deactivate").status_code == 403
    assert code_items(app, classroom) == 0


def test_the_overview_counts_entries_of_each_version(app, client, auth, classroom):
    auth.login("alice")
    i = index_of("lead_rating", "cold")
    save_list(client, "lead_rating", **{f"rows-{i}-active": None})
    page = client.get("/crm/settings/").get_data(as_text=True)
    row = re.search(r"<tr><td><a[^>]*codes/lead_rating\".*?</tr>", page, re.S).group(0)
    assert re.findall(r'class="text-end">(\d+)<', row) == ["3", "2"]
    assert "Company version" in row
    row = re.search(r"<tr><td><a[^>]*codes/industry\".*?</tr>", page, re.S).group(0)
    size = str(len(default_list("industry").codes))
    assert re.findall(r'class="text-end">(\d+)<', row) == [size, size]
    assert "Default" in row


def test_the_workbench_counts_records_not_settings(client, auth, classroom):
    auth.login("alice")
    page = client.get("/").get_data(as_text=True)
    tiles = re.findall(r'class="text-muted small">([^<]+)</div>', page)
    assert "Accounts" in tiles and "Competitors" in tiles and "Products" in tiles
    for settings in ("Code lists", "Sales stages", "Team", "Product categories"):
        assert settings not in tiles
