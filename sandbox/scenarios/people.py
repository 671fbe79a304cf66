"""People, companies, places and phone numbers in the scenario's language.

English names come from Faker's ``en_US`` provider; Chinese ones are drawn from the
weighted family names and given-name characters of ``seed_data/people_zh.json``, so
each has its pinyin for an e-mail address. Cities, streets and company-name parts
come from ``seed_data``; Faker's invented towns and placeholder text are not used.
"""

from __future__ import annotations

import functools
import random
import re
from bisect import bisect
from dataclasses import dataclass
from itertools import accumulate

from sandbox.scenarios import data

Weighted = tuple[tuple[str, ...], tuple[float, ...]]


@functools.cache
def _en_names() -> tuple[Weighted, Weighted]:
    """Faker's ``en_US`` first and last names with their frequencies, drawn with
    the scenario's own generator (a Faker instance is shared state across threads).
    """
    from faker.providers.person.en_US import Provider

    def weighted(names) -> Weighted:
        if isinstance(names, dict):
            return tuple(names), tuple(accumulate(names.values()))
        return tuple(names), tuple(float(n) for n in range(1, len(names) + 1))

    return weighted(Provider.first_names), weighted(Provider.last_names)


@dataclass(frozen=True)
class Person:
    first: str
    last: str
    #: ASCII name parts for e-mail addresses.
    ascii_first: str
    ascii_last: str

    def full(self, chinese: bool) -> str:
        return f"{self.last}{self.first}" if chinese else f"{self.first} {self.last}"


@dataclass(frozen=True)
class Place:
    city: str
    address: str
    country: str
    area: str


@dataclass(frozen=True)
class Company:
    name: str
    domain: str
    industry: str
    place: Place


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


class Locale:
    """Name, place and phone makers for one scenario, drawing from ``rnd``."""

    def __init__(self, locale: str, rnd: random.Random) -> None:
        self.chinese = locale.startswith("zh")
        self.rnd = rnd
        self._names: set[str] = set()
        if self.chinese:
            people = data.load("people_zh")
            self._surnames = [(s, p) for s, p, _w in people["surnames"]]
            self._surname_weights = [w for _s, _p, w in people["surnames"]]
            self._given = people["given"]
            places = data.load("places_zh")
            self._cities = places["cities"]
            self._roads = places["roads"]
            self._buildings = places["buildings"]
        else:
            places = data.load("places_en")
            self._cities = places["cities"]
            self._streets = places["streets"]
            self._suites = places["suites"]
        self._companies = data.load("companies")["zh" if self.chinese else "en"]

    # ---------------------------------------------------------------- people

    def _draw(self, names: tuple[str, ...], cumulative: tuple[float, ...]) -> str:
        return names[bisect(cumulative, self.rnd.random() * cumulative[-1])]

    def person(self) -> Person:
        rnd = self.rnd
        if self.chinese:
            ((last, last_py),) = rnd.choices(self._surnames, self._surname_weights)
            parts = rnd.sample(self._given, rnd.choice((1, 2, 2, 2)))
            first = "".join(c for c, _ in parts)
            return Person(first, last, "".join(p for _, p in parts), last_py)
        first, last = self._draw(*_en_names()[0]), self._draw(*_en_names()[1])
        return Person(first, last, _slug(first), _slug(last))

    def email(self, person: Person, domain: str) -> str:
        if self.chinese:
            return f"{person.ascii_last}{person.ascii_first}@{domain}"
        return f"{person.ascii_first}.{person.ascii_last}@{domain}"

    # ---------------------------------------------------------------- places

    def place(self) -> Place:
        rnd = self.rnd
        city = rnd.choice(self._cities)
        if self.chinese:
            district = rnd.choice(city["districts"])
            province = city["province"]
            street = f"{rnd.choice(self._roads)}{rnd.randrange(1, 999)}号"
            if rnd.random() < 0.5:
                street += f"{rnd.choice(self._buildings)}{rnd.randrange(2, 28)}层"
            if province.startswith(city["city"]):  # 北京市, 上海市 …
                address = f"{province}{district}{street}"
            else:
                address = f"{province}{city['city']}市{district}{street}"
            return Place(city["city"], address, "中国", city["area"])
        name, state, area = city
        street = f"{rnd.randrange(10, 9999)} {rnd.choice(self._streets)}"
        if rnd.random() < 0.4:
            street += f", {rnd.choice(self._suites)} {rnd.randrange(100, 2400)}"
        zipcode = f"{rnd.randrange(10000, 99999)}"
        return Place(
            name, f"{street}, {name}, {state} {zipcode}", "United States", area
        )

    # ---------------------------------------------------------------- phones

    def office_phone(self, place: Place) -> str:
        rnd = self.rnd
        if self.chinese:
            digits = 8 if len(place.area) == 2 else rnd.choice((7, 8))
            number = str(rnd.randrange(2, 9)) + "".join(
                str(rnd.randrange(10)) for _ in range(digits - 1)
            )
            split = 4 if digits == 8 else 3
            return f"+86 {place.area} {number[:split]} {number[split:]}"
        return f"+1 ({place.area}) {rnd.randrange(200, 999)}-{rnd.randrange(10000):04d}"

    def mobile(self, place: Place) -> str:
        rnd = self.rnd
        if self.chinese:
            prefix = rnd.choice(
                (
                    "139",
                    "138",
                    "137",
                    "136",
                    "135",
                    "158",
                    "159",
                    "186",
                    "187",
                    "188",
                    "189",
                    "133",
                    "177",
                    "199",
                )
            )
            return f"+86 {prefix} {rnd.randrange(10000):04d} {rnd.randrange(10000):04d}"
        return f"+1 ({place.area}) {rnd.randrange(200, 999)}-{rnd.randrange(10000):04d}"

    # ---------------------------------------------------------------- companies

    def company(self, industry: str, taken: set[str]) -> Company:
        """A company of ``industry`` whose folded name is not in ``taken``."""
        from sandbox.text import name_key

        rnd = self.rnd
        parts = self._companies
        words = parts["industries"].get(industry) or parts["industries"]["technology"]
        for attempt in range(200):
            place = self.place()
            if self.chinese:
                brand, brand_py = rnd.choice(parts["brands"])
                word, word_py = rnd.choice(words)
                name = f"{place.city}{brand}{word}{rnd.choice(parts['suffixes'])}"
                domain = f"{brand_py}{word_py}.com.cn"
            else:
                core = (
                    rnd.choice(parts["brands"])
                    if rnd.random() < 0.5
                    else self._draw(*_en_names()[1])
                )
                word = rnd.choice(words)
                name = f"{core} {word} {rnd.choice(parts['suffixes'])}"
                domain = f"{_slug(core)}{_slug(word)[:8]}.com"
            if attempt > 100:
                name = f"{name} {attempt}"
            key = name_key(name)
            if key not in taken:
                taken.add(key)
                return Company(name, domain, industry, place)
        raise RuntimeError("could not find an unused company name")
