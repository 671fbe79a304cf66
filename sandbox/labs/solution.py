"""Running a lesson's reference solution: its steps, done through the app's pages.

``lessons/<id>.solution.py`` defines ``step_<step id>(crm, facts)`` for each step;
``crm`` is a :class:`SolutionClient`, the app's test client logged in as the
student. A step whose check reads a typed answer returns that answer. The test
suite and ``crm-sandbox lesson check`` both use it.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from types import ModuleType
from typing import Any

from sandbox import tenancy
from sandbox.labs.checks import CheckContext
from sandbox.labs.checks.records import find
from sandbox.labs.lessons import Lesson
from sandbox.models.control import Tenant

_FIELD_ERROR = re.compile(rb'class="[^"]*invalid-feedback[^"]*"[^>]*>\s*([^<]+)')


class SolutionError(AssertionError):
    """A solution step did not go through (an error page or a refused form)."""


def solution_path(lesson: Lesson) -> Path:
    return Path(lesson.path).with_name(f"{lesson.id}.solution.py")


def load_solution(lesson: Lesson) -> ModuleType:
    """:raise FileNotFoundError: the lesson has no reference solution."""
    path = solution_path(lesson)
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing (every lesson ships a solution)")
    spec = importlib.util.spec_from_file_location(f"lesson_solution_{lesson.id}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def solution_steps(lesson: Lesson) -> dict[str, Callable[..., Any]]:
    """The solution's function for each step, by step id.

    :raise LookupError: a step has no function in the solution.
    """
    module = load_solution(lesson)
    steps = {}
    for step in lesson.steps:
        fn = getattr(module, f"step_{step.id}", None)
        if fn is None:
            raise LookupError(f"{solution_path(lesson)} has no step_{step.id}")
        steps[step.id] = fn
    return steps


class _FormReader(HTMLParser):
    """The values a page's forms would send as they stand (the last form wins on
    a clash, which is the record form on edit pages)."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, Any] = {}
        self._select: str | None = None
        self._first = False
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and name != "csrf_token":
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.values[name] = a.get("value", "y")
            elif kind not in ("submit", "button", "file"):
                self.values[name] = a.get("value", "")
        elif tag == "select" and name:
            self._select = name
            self._first = True
        elif tag == "option" and self._select:
            # A browser sends the selected option, else the first one.
            if "selected" in a or self._first:
                self.values[self._select] = a.get("value", "")
            self._first = False
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            # A browser drops the line break that opens a text area.
            text = self.values[self._textarea]
            self.values[self._textarea] = text.removeprefix("\n")
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += data


class SolutionClient:
    """A student's browser, for solutions: requests that must succeed."""

    def __init__(self, client, tenant: Tenant) -> None:
        self.client = client
        self.tenant = tenant

    def _checked(self, response, url: str):
        if response.status_code >= 400:
            errors = _FIELD_ERROR.findall(response.data)
            shown = "; ".join(e.decode().strip() for e in errors)
            raise SolutionError(f"{url}: HTTP {response.status_code} {shown}".strip())
        return response

    def get(self, url: str, **kwargs: Any):
        return self._checked(self.client.get(url, **kwargs), url)

    def read(self, url: str, *texts: str) -> str:
        """The page at ``url`` as text; :raise SolutionError: a text is not on it."""
        page = self.get(url).get_data(as_text=True)
        for text in texts:
            if text not in page:
                raise SolutionError(f"{url} does not show {text!r}")
        return page

    def post(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any):
        """POST a form; it must redirect (a form sent back means it was refused)."""
        response = self._checked(self.client.post(url, data=data or {}, **kwargs), url)
        if response.status_code not in (301, 302, 303):
            errors = _FIELD_ERROR.findall(response.data)
            shown = "; ".join(e.decode().strip() for e in errors) or "no redirect"
            raise SolutionError(f"{url}: the form came back: {shown}")
        return response

    def submit(self, url: str, changes: dict[str, Any]):
        """Open the form at ``url``, change some fields and send it, the way a
        person edits a record (every other field keeps its value)."""
        page = self.get(url).get_data(as_text=True)
        reader = _FormReader()
        reader.feed(page)
        return self.post(url, {**reader.values, **changes})

    def find_id(self, entity: str, **where: Any) -> int:
        """The id of the student's record of ``entity`` matching ``where``.

        :raise SolutionError: no record, or more than one, matches.
        """
        engine = tenancy.handle_for(self.tenant, readonly=True).engine
        with engine.connect() as connection:
            _, rows = find(CheckContext(connection, {}), entity, where)
        if len(rows) != 1:
            raise SolutionError(f"{len(rows)} {entity} records match {where}")
        return rows[0]["id"]
