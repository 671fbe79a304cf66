"""Every route with an id, as another student and as another course's instructor.

The routes come from the URL map, so routes added later are covered: each must
answer 403 or 404 and show nothing of the other student's records.
"""

from __future__ import annotations

import sqlite3

import pytest

from tests.conftest import close_app
from tests.helpers import PASSWORD
from tests.routes import SECRET, World, build_world, id_arguments, rules

#: Long-running: scheduled first, so parallel workers share the tail.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    world = build_world(tmp_path_factory.mktemp("isolation") / "instance")
    yield world
    close_app(world.app)


def id_routes(world: World) -> list:
    routes = {}
    for method in ("GET", "POST"):
        for rule in rules(world.app, method):
            if rule.arguments and set(id_arguments(rule)) == set(rule.arguments):
                routes[(rule.rule, method)] = rule
    return [(rule, method) for (_, method), rule in sorted(routes.items())]


def fill(rule, values) -> list[str]:
    """The rule's URLs with every id argument meeting every value once.

    Each value is one record only the other student has (or an id the user may not
    open), so any of them must be refused in any position: the n-th URL puts the
    n-th value in the first argument, the next one in the second, and so on. Every
    value reaches every argument in ``len(values)`` URLs, not ``len(values) ** k``.
    """
    arguments = id_arguments(rule)
    ordered = sorted(values)
    built = []
    for start in range(len(ordered)):
        path = rule.rule
        for offset, name in enumerate(arguments):
            value = ordered[(start + offset) % len(ordered)]
            path = path.replace(f"<id:{name}>", str(value))
        built.append(path)
    return built


def first_account_name(world: World, student: str) -> str:
    with sqlite3.connect(world.tenant_file(student)) as conn:
        name = conn.execute("SELECT name FROM account ORDER BY id LIMIT 1").fetchone()
    conn.close()
    return name[0]


def assert_refused(client, routes, values, hidden: tuple[str, ...]) -> int:
    checked = 0
    for rule, method in routes:
        for url in fill(rule, values):
            response = client.open(url, method=method)
            body = response.get_data(as_text=True)
            assert response.status_code in (403, 404), (method, url, response.status)
            for text in hidden:
                assert text not in body, (method, url, text)
            checked += 1
    return checked


def test_a_student_never_reaches_another_students_records(world: World):
    before = world.fingerprint("bob")
    routes = id_routes(world)
    client = world.client("student")
    checked = assert_refused(client, routes, world.foreign_ids, (SECRET,))
    assert checked == len(routes) * len(world.foreign_ids) > 0
    assert world.fingerprint("bob") == before


def test_another_courses_instructor_never_reaches_this_class(world: World):
    before = {name: world.fingerprint(name) for name in ("alice", "bob")}
    routes = id_routes(world)
    client = world.app.test_client()
    client.post("/auth/login", data={"username": "stranger", "password": PASSWORD})
    values = {world.course_ids[0], world.tenant_ids["alice"], world.tenant_ids["bob"]}
    values |= world.foreign_ids
    # Ids of the stranger's own course and student are theirs to open.
    values -= {world.course_ids[1], world.tenant_ids["carol"]}
    hidden = (SECRET, first_account_name(world, "alice"))
    checked = assert_refused(client, routes, values, hidden)
    assert checked == len(routes) * len(values) > 0
    assert {name: world.fingerprint(name) for name in ("alice", "bob")} == before
