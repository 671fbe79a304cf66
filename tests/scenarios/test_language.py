"""Each scenario reads as real data in its own language."""

from __future__ import annotations

import re

import pytest

from tests.scenarios.conftest import CHINESE, query

CJK = re.compile(r"[\u4e00-\u9fff]")
MOBILE_86 = re.compile(r"^\+86 1[3-9]\d \d{4} \d{4}$")
LANDLINE_86 = re.compile(r"^\+86 \d{2,3} \d{3,4} \d{4}$")
PHONE_1 = re.compile(r"^\+1 \(\d{3}\) \d{3}-\d{4}$")
#: Text columns people read (not codes, e-mail addresses or web sites).
TEXTS = {
    "account": ("name", "city", "address", "description"),
    "contact": ("first_name", "last_name", "title", "department"),
    "lead": ("name", "company", "title", "city", "notes"),
    "opportunity": ("name", "next_step"),
    "service_case": ("subject", "description", "resolution", "callback_comment"),
    "product": ("name",),
    "product_category": ("name",),
    "competitor": ("name", "strengths", "weaknesses"),
    "article": ("title", "body"),
    "opportunity_competitor": ("strengths", "weaknesses"),
    "campaign": ("name",),
    "activity": ("subject", "outcome"),
    "diary_entry": ("notes",),
}


def latin_placeholder_words() -> set[str]:
    from faker.providers.lorem.la import Provider

    return {w for w in Provider.word_list if len(w) >= 5}


def texts(path) -> list[tuple[str, str, str]]:
    found = []
    for table, columns in TEXTS.items():
        for column in columns:
            for (value,) in query(path, f'SELECT "{column}" FROM "{table}"'):  # noqa: S608
                if value:
                    found.append((table, column, value))
    return found


@pytest.mark.parametrize("scenario", CHINESE)
def test_chinese_scenarios_are_chinese(built, scenario):
    path, _ = built(scenario)
    accounts = query(path, "SELECT name, city, address, phone, country FROM account")
    for name, city, address, phone, country in accounts:
        assert CJK.search(name) and name.endswith("公司"), name
        assert all(CJK.match(ch) for ch in city), city
        assert re.match(r"^[\u4e00-\u9fff]+?(省|市|自治区)", address), address
        assert city in address and re.search(r"\d+号", address)
        assert LANDLINE_86.match(phone), phone
        assert country == "中国"
    for last, first, mobile, phone in query(
        path, "SELECT last_name, first_name, mobile, phone FROM contact"
    ):
        assert CJK.fullmatch(last) or (len(last) == 2 and CJK.search(last))
        assert 1 <= len(first) <= 2 and all(CJK.match(ch) for ch in first)
        assert MOBILE_86.match(mobile), mobile
        assert LANDLINE_86.match(phone), phone
    for name, phone in query(path, "SELECT name, phone FROM lead"):
        assert 2 <= len(name) <= 4 and CJK.match(name)
        assert MOBILE_86.match(phone)
    for table, column, value in texts(path):
        # Chinese text; Latin letters only inside product or brand names (SD-WAN,
        # IoT …), never a sentence of English or placeholder words.
        assert CJK.search(value) or re.fullmatch(r"[A-Za-z0-9 .\-]+", value), (
            table,
            column,
            value,
        )
        assert not re.search(r"[A-Za-z]{4,} [a-z]{4,}", value), (table, column, value)
    stages = query(path, "SELECT name_zh FROM stage")
    assert all(CJK.search(s[0]) for s in stages)


def test_the_english_scenario_is_american_english(built):
    path, _ = built("b2b-software")
    for name, city, address, phone, country in query(
        path, "SELECT name, city, address, phone, country FROM account"
    ):
        assert not CJK.search(name + city + address)
        assert re.search(r", [A-Z]{2} \d{5}$", address) and city in address
        assert PHONE_1.match(phone) and country == "United States"
    for mobile, email in query(path, "SELECT mobile, email FROM contact"):
        assert PHONE_1.match(mobile) and re.fullmatch(r"[a-z]+\.[a-z]+@[a-z.]+", email)
    # Real cities only, not Faker's invented ones ("Stevenhaven").
    from sandbox.scenarios import data

    cities = {c[0] for c in data.load("places_en")["cities"]}
    assert {r[0] for r in query(path, "SELECT city FROM account")} <= cities


@pytest.mark.parametrize("scenario", ("b2b-software", *CHINESE))
def test_no_placeholder_text(built, scenario):
    path, _ = built(scenario)
    banned = latin_placeholder_words()
    for table, column, value in texts(path):
        words = set(re.findall(r"[a-z]+", value.lower()))
        assert not words & banned, (table, column, value, words & banned)
