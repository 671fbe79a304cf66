"""Running a lesson's reference solution: its steps, done through the app's pages.

``lessons/<id>.solution.py`` defines ``step_<step id>(crm, facts)`` for each step;
``crm`` is a :class:`SolutionClient`, the app's test client logged in as the
student. The test suite and ``crm-sandbox lesson check`` both use it.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable
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

    def post(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any):
        response = self.client.post(url, data=data or {}, **kwargs)
        return self._checked(response, url)

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
