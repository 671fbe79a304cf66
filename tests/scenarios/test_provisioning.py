"""Courses choose a scenario; provisioning builds each student's variant from it."""

from __future__ import annotations

import json
import sqlite3

import pytest
import sqlalchemy as sa

from sandbox import scenarios, tenancy
from sandbox.extensions import db
from sandbox.models.crm import Account
from sandbox.models.crm.leads import Lead
from tests.crm.test_search import found
from tests.helpers import make_course, make_student


def test_available_lists_each_scenario_once_for_a_course_form(app):
    choices = scenarios.available()
    assert [c.id for c in choices] == [
        "b2b-software",
        "precision-moulds",
        "telecom-service",
    ]
    english = choices[0]
    assert (english.locale, english.timezone) == ("en_US", "UTC")
    assert english.name("en").startswith("Northbeam") and "软件" in english.name("zh")
    telecom = choices[2]
    assert (telecom.locale, telecom.timezone) == ("zh_CN", "Asia/Shanghai")
    assert "政企" in telecom.name("zh")
    assert scenarios.default_for("zh") == "telecom-service"
    assert scenarios.default_for("en") == "b2b-software"


@pytest.mark.parametrize(
    ("scenario", "canonical", "zone"),
    [
        ("default", "b2b-software", "UTC"),
        ("default-zh", "telecom-service", "Asia/Shanghai"),
        ("precision-moulds", "precision-moulds", "Asia/Shanghai"),
    ],
)
def test_courses_on_old_and_new_ids_provision_and_store_their_facts(
    app, scenario, canonical, zone
):
    with app.app_context():
        course = make_course(code=f"C-{scenario}", scenario=scenario)
        assert course.timezone == zone
        _user, tenant = make_student(course, "stu")
        _other, other = make_student(course, "stu2")
        with tenancy.tenant_session(tenant) as session:
            facts = scenarios.facts(session)
            origin = scenarios.built_from(session)
            lead = session.get(Lead, facts["hot_lead"]["id"])
            assert (lead.name, lead.company) == (
                facts["hot_lead"]["name"],
                facts["hot_lead"]["company"],
            )
        assert (
            origin["scenario"] == canonical
            and origin["version"] == scenarios.spec.get(canonical).version
        )
        assert origin["variant_seed"] == tenant.variant_seed
        with tenancy.tenant_session(other) as session:
            assert scenarios.facts(session) != facts
        # A reset gives the student the same facts back.
        with tenancy.tenant_session(tenant) as session:
            session.get(Lead, facts["hot_lead"]["id"]).status = "contacted"
            session.commit()
        tenancy.reset_tenant(tenant)
        db.session.commit()
        with tenancy.tenant_session(tenant) as session:
            assert scenarios.facts(session) == facts
            assert session.get(Lead, facts["hot_lead"]["id"]).status == "new"


def test_facts_of_a_tenant_without_any_are_empty(app, classroom):
    def clear(session):
        session.execute(sa.text("DELETE FROM tenant_info WHERE key = 'facts'"))
        session.commit()
        return scenarios.facts(session)

    assert classroom.in_tenant(app, clear) == {}


def test_searching_a_chinese_city_finds_accounts(app, client, auth):
    with app.app_context():
        course = make_course(code="ZH-1", scenario="telecom-service")
        _user, tenant = make_student(course, "xuesheng")
        with tenancy.tenant_session(tenant) as session:
            city = scenarios.facts(session)["key_account"]["city"]
            names = set(
                session.scalars(sa.select(Account.name).where(Account.city == city))
            )
    assert names
    auth.login("xuesheng")
    shown = found(client, city, "accounts")
    assert shown and set(shown) <= names
    page = client.get("/crm/accounts/", query_string={"q": city}).get_data(as_text=True)
    assert all(name in page for name in names)


def test_the_crm_pages_show_the_chinese_data(app, client, auth):
    with app.app_context():
        course = make_course(code="ZH-2", scenario="precision-moulds")
        _user, tenant = make_student(course, "mould")
        with tenancy.tenant_session(tenant) as session:
            facts = scenarios.facts(session)
    auth.login("mould")
    account = client.get(f"/crm/accounts/{facts['key_account']['id']}")
    assert facts["key_account"]["name"] in account.get_data(as_text=True)
    leads = client.get("/crm/leads/?per_page=100").get_data(as_text=True)
    assert facts["hot_lead"]["company"] in leads
    case = client.get(f"/crm/cases/{facts['overdue_case']['id']}")
    assert facts["overdue_case"]["number"] in case.get_data(as_text=True)


def test_cli_list_preview_and_build(app, runner, tmp_path):
    listed = runner.invoke(args=["scenario", "list"])
    assert listed.exit_code == 0, listed.output
    for scenario in ("b2b-software", "telecom-service", "precision-moulds"):
        assert scenario in listed.output
    assert "(also: default-zh)" in listed.output

    preview = runner.invoke(
        args=["scenario", "preview", "telecom-service", "--seed", "5", "--json"]
    )
    assert preview.exit_code == 0, preview.output
    shown = json.loads(preview.output)
    assert shown["counts"]["account"] == 50 and shown["counts"]["service_case"] == 80
    assert "overdue_case" in shown["facts"]
    text = runner.invoke(args=["scenario", "preview", "default", "--seed", "5"])
    assert "account" in text.output and "hot_lead:" in text.output

    out = tmp_path / "built.sqlite"
    built = runner.invoke(
        args=[
            "scenario", "build", "precision-moulds", "--seed", "5",
            "--today", "2026-09-01", "--out", str(out),
        ]
    )  # fmt: skip
    assert built.exit_code == 0, built.output
    conn = sqlite3.connect(out)
    try:
        info = dict(conn.execute("SELECT key, value FROM tenant_info"))
    finally:
        conn.close()
    assert info["scenario"] == "precision-moulds" and info["variant_seed"] == "5"
    assert info["built_on"] == "2026-09-01" and info["currency"] == "CNY"

    unknown = runner.invoke(args=["scenario", "preview", "nope"])
    assert unknown.exit_code != 0 and "known scenarios: b2b-software" in unknown.output
    bad_day = runner.invoke(
        args=["scenario", "build", "default", "--today", "soon", "--out", str(out)]
    )
    assert bad_day.exit_code != 0 and "YYYY-MM-DD" in bad_day.output


def test_the_seed_cache_key_covers_the_scenario_files(tmp_path, monkeypatch):
    from sandbox.scenarios import data

    tenancy._build_fingerprint.cache_clear()
    before = tenancy._build_fingerprint()
    edited = tmp_path / "b2b-software.toml"
    edited.write_text("# edited\n", encoding="utf-8")
    monkeypatch.setattr(
        data, "fingerprint_files", lambda: [*data.seed_dir().rglob("*.json"), edited]
    )
    tenancy._build_fingerprint.cache_clear()
    try:
        assert tenancy._build_fingerprint() != before
    finally:
        monkeypatch.undo()
        tenancy._build_fingerprint.cache_clear()
    assert tenancy._build_fingerprint() == before
