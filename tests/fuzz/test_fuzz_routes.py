"""Fuzzing every route in the URL map as a student, an instructor and a visitor.

GET routes get hostile query strings; POST routes get form data generated from the
fields their pages render (Hypothesis), malformed, over-long, duplicated or missing.
Routes with ids get real ids of the student's own records and of another student's.
Any 5xx fails, and so does any change to the file of a tenant the user may not touch.
"""

from __future__ import annotations

import math
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from sandbox.crm import discover
from sandbox.crm.registry import modules
from tests.conftest import close_app
from tests.routes import World, build_world, candidate_ids, forms_on, rules, urls

#: Long-running: scheduled first, so parallel workers share the tail.
pytestmark = pytest.mark.slow

ROLES = ("anonymous", "student", "teacher")
#: Tenants each role must never change (the teacher may reset their own class).
UNTOUCHABLE = {"anonymous": ("bob", "carol"), "student": ("bob", "carol")}
UNTOUCHABLE["teacher"] = ("carol",)

HOSTILE = (
    "",
    " ",
    "0",
    "-1",
    "-9223372036854775809",
    "1e309",
    "NaN",
    "abc",
    "\x00",
    "a\x00b",
    "\r\n",
    "x\r\nSet-Cookie: a=b",
    "/\r\nSet-Cookie: a=b",
    "/crm/\nx",
    "/\x00",
    "😀" * 8,
    "\u202eevil\u202c",
    "مرحبا",
    "' OR 1=1 --",
    "%_\\",
    "<script>alert(1)</script>",
    "//evil.example/",
    "x" * 5000,
)
HUGE = ("9223372036854775807", "9223372036854775808", "9" * 40)
KEYS = (
    "q",
    "page",
    "per_page",
    "sort",
    "dir",
    "next",
    "type",
    "industry",
    "status",
    "id",
    "tenant_id",
    "lang",
)
RAW_QUERIES = (
    "q=%ff%fe&sort=%c0%80",
    "page=%ed%a0%80&dir=%ff",
    "q=a&q=b&page=1&page=2&per_page=10&per_page=100",
    "%ff%fe=%ff",
    "q=%00%0d%0a&next=%0d%0a",
)
#: How deep the fuzzing goes. At 1, the default, every route still meets every
#: hostile query string and every hostile form value, spread over its URLs and its
#: neighbours, so the suite stays quick; CI runs deeper (``SANDBOX_FUZZ_DEPTH=3``),
#: where each value meets each route several times over.
DEPTH = max(1, int(os.environ.get("SANDBOX_FUZZ_DEPTH", "1")))
URLS_PER_ROUTE = 3 + DEPTH
#: Each fuzzing test walks one share of the routes, so parallel workers split them.
PARTS = 3
#: Generated submissions per form (``SANDBOX_FUZZ_EXAMPLES`` overrides).
EXAMPLES_PER_FORM = int(os.environ.get("SANDBOX_FUZZ_EXAMPLES", str(10 * DEPTH)))

#: Each share of the URL map holds about 50 routes of either method today; fewer
#: than this would mean the walk lost routes on the way.
MIN_ROUTES_PER_SHARE = 30


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    world = build_world(tmp_path_factory.mktemp("fuzz") / "instance")
    yield world
    close_app(world.app)


@pytest.fixture(scope="module")
def discovered(world) -> dict[str, dict]:
    """Each role's forms, found once and shared by the parts of its POST test."""
    return {}


@pytest.fixture(autouse=True)
def no_foreign_tenant_changes(request, world):
    callspec = getattr(request.node, "callspec", None)
    role = callspec.params.get("role", "student") if callspec else "student"
    before = {name: world.fingerprint(name) for name in UNTOUCHABLE[role]}
    yield
    after = {name: world.fingerprint(name) for name in UNTOUCHABLE[role]}
    assert after == before, f"{role} changed another tenant's file"


class Counted:
    """A test client that counts requests and collects server errors."""

    def __init__(self, client) -> None:
        self.client = client
        self.errors: list[str] = []
        self.since_page = 0
        self.count = 0

    def request(self, method: str, url: str, **kwargs):
        self.count += 1
        self.since_page += 1
        if self.since_page > 20:
            # A browser follows each redirect to a page that shows (and so drops)
            # its flashed messages; without that the session cookie keeps growing.
            self.since_page = 0
            with self.client.session_transaction() as session:
                session.pop("_flashes", None)
        response = self.client.open(url, method=method, **kwargs)
        if response.status_code >= 500:
            shown = kwargs.get("query_string") or kwargs.get("data")
            self.errors.append(
                f"{method} {url} {shown!r:.300} -> {response.status_code}"
            )
        return response


def query_variants():
    for value in HOSTILE:
        yield {key: value for key in KEYS}
    for value in HUGE:  # huge page numbers are finding 5's own test
        yield {key: value for key in KEYS if key != "page"}
    yield from RAW_QUERIES


def spread(values: list | tuple, number: int, count: int) -> list:
    """The ``number``-th of ``count`` windows over ``values``: the windows together
    hold every value, ``DEPTH`` times where there are enough windows (each window
    holds a value at most once)."""
    size = min(len(values), math.ceil(len(values) * DEPTH / count))
    start = number * size
    return [values[(start + n) % len(values)] for n in range(size)]


def share(items: list, part: int) -> list:
    return items[part::PARTS]


def read_only_repeat(role: str, rule) -> bool:
    """Whether this walk of ``rule`` repeats the student's: the teacher views the
    student's CRM read-only, and its pages read their query strings with the same
    code for both. At depth 1 those pages meet the variants spread over the routes
    (each page opens, each variant is met); deeper, every variant on every page."""
    return DEPTH == 1 and role == "teacher" and rule.rule.startswith("/crm/")


@pytest.mark.parametrize("part", range(PARTS))
@pytest.mark.parametrize("role", ROLES)
def test_every_get_route_survives_hostile_query_strings(world: World, role, part):
    client = Counted(world.client(role))
    ids = candidate_ids(world)
    variants = list(query_variants())
    walked = repeated = 0
    met: set[int] = set()
    for rule in share(rules(world.app, "GET"), part):
        built = urls(rule, ids, URLS_PER_ROUTE)
        walked += bool(built)
        if read_only_repeat(role, rule):
            repeated += bool(built)
        for number, url in enumerate(built):
            if read_only_repeat(role, rule):
                turn = (repeated * URLS_PER_ROUTE + number) % len(variants)
                met.add(turn)
                window = [variants[turn]]
            else:
                window = spread(variants, number, len(built))
            for query in window:
                client.request("GET", url, query_string=query)
            if role != "anonymous":
                client.client = world.client(role)  # a route may have logged out
    assert not client.errors, "\n".join(client.errors[:20])
    assert walked >= MIN_ROUTES_PER_SHARE, walked
    # Every route met every variant (on a route with more URLs, DEPTH times over),
    # and the repeated walks together met every variant too.
    assert client.count >= (walked - repeated) * len(variants), client.count
    assert not repeated or len(met) == len(variants), sorted(met)


CHARACTERS = st.characters(exclude_categories=("Cs",))
SAFE_TEXT = st.text(alphabet=CHARACTERS, max_size=40)
#: Over-long values: generated text repeated to 300..3000 characters. Drawing that
#: many characters one by one cost the POST fuzzing half its time; the length checks
#: and encodings meet the same characters either way.
LONG_TEXT = st.builds(
    lambda piece, length: (piece * (length // len(piece) + 1))[:length],
    st.text(alphabet=CHARACTERS, min_size=1, max_size=40),
    st.integers(300, 3000),
)
ANY_TEXT = st.one_of(st.sampled_from(HOSTILE + HUGE), SAFE_TEXT, LONG_TEXT)


def field_values(field) -> st.SearchStrategy[str]:
    if field.kind == "select" and field.options:
        return st.one_of(st.sampled_from(field.options), ANY_TEXT)
    if field.kind == "number":
        return st.one_of(st.integers(-(2**70), 2**70).map(str), ANY_TEXT)
    if field.kind == "checkbox":
        return st.one_of(st.sampled_from(("y", "on", "")), ANY_TEXT)
    if field.kind == "email":
        return st.one_of(st.sampled_from(("a@example.com", "a@", "@b")), ANY_TEXT)
    if field.kind == "date":
        return st.one_of(st.dates().map(str), ANY_TEXT)
    return ANY_TEXT


def form_data(fields) -> st.SearchStrategy[list[tuple[str, str]]]:
    """Each field present once, twice or not at all, plus stray fields."""
    per_field = [
        st.tuples(st.just(f.name), st.lists(field_values(f), min_size=0, max_size=2))
        for f in fields
    ]
    strays = st.lists(st.tuples(SAFE_TEXT, ANY_TEXT), max_size=2)

    def flatten(parts):
        listed, extra = parts
        pairs = [(name, value) for name, values in listed for value in values]
        return pairs + extra

    return st.tuples(st.tuples(*per_field), strays).map(flatten)


def discovered_forms(world: World, client: Counted, ids) -> dict[str, list]:
    """Endpoint -> (action paths, fields) from every page this role can open."""
    adapter = world.app.url_map.bind("localhost")
    found: dict[str, tuple[set[str], dict]] = {}
    for rule in rules(world.app, "GET"):
        for url in urls(rule, ids, 4):
            response = client.request("GET", url)
            if response.status_code != 200 or not response.mimetype == "text/html":
                continue
            for action, fields in forms_on(response.get_data(as_text=True), url):
                try:
                    endpoint, _ = adapter.match(action, method="POST")
                except Exception:  # noqa: BLE001 - a form posting elsewhere
                    continue
                paths, by_name = found.setdefault(endpoint, (set(), {}))
                paths.add(action)
                by_name.update({f.name: f for f in fields})
    return found


@pytest.mark.parametrize("part", range(PARTS))
@pytest.mark.parametrize("role", ROLES)
def test_every_post_route_survives_generated_forms(
    world: World, discovered, role, part
):

    from tests.routes import FormField

    client = Counted(world.client(role))
    ids = candidate_ids(world)
    if role not in discovered:
        discovered[role] = discovered_forms(world, client, ids)
        client.client = world.client(role)
    forms = discovered[role]
    generic = {
        name: FormField(name, kind)
        for name, kind in (("next", "hidden"), ("name", "text"), ("id", "number"))
    }
    posted = 0
    for number, rule in enumerate(share(rules(world.app, "POST"), part)):
        paths, fields = forms.get(rule.endpoint, (set(), generic))
        targets = sorted(paths | set(urls(rule, ids, 6)))
        if not targets:
            continue
        posted += 1
        fields = [f for name, f in sorted(fields.items()) if name != "csrf_token"]

        @settings(
            max_examples=EXAMPLES_PER_FORM,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(target=st.sampled_from(targets), data=form_data(fields))
        def post(target, data):
            response = client.request("POST", target, data=MultiDict(data))
            assert response.status_code < 500, (target, data)

        post()
        # And hostile values in every field at once, so none is left to chance: a
        # route gets its window of them, the routes together get them all.
        for value in spread(HOSTILE + HUGE, number, 3):
            data = MultiDict([(f.name, value) for f in fields])
            client.request("POST", targets[0], data=data)
        if role != "anonymous":
            client.client = world.client(role)
    assert not client.errors, "\n".join(client.errors[:20])
    assert posted >= MIN_ROUTES_PER_SHARE, posted


discover()  # every CRM module registers itself on import


@pytest.mark.parametrize("endpoint", sorted(m.index_endpoint for m in modules()))
def test_list_pages_survive_huge_page_numbers(world: World, endpoint):
    client = Counted(world.client("student"))
    with world.app.test_request_context():
        from flask import url_for

        url = url_for(endpoint)
    for value in HUGE:
        client.request("GET", url, query_string={"page": value})
    assert not client.errors, "\n".join(client.errors)
