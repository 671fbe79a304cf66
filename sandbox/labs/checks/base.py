"""What every check kind shares: its parameters, its context and its result."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import sqlalchemy as sa


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict.

    :param score: from 0 (nothing right) to 1 (all right)
    :param message: for the student, ``{"en": …, "zh": …}``; names the record and
        the field, and says what was expected and what was found
    :param detail: for the instructor: what was looked for and what was found
    """

    score: float
    message: Mapping[str, str]
    detail: Mapping[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.score >= 1.0 - 1e-9


@dataclass
class CheckContext:
    """What a check may read: the tenant (a read-only connection), the student's
    facts and typed answer, and the course's time zone (moments are read in it).
    ``cache`` lives as long as the context, so several checks of one tenant read a
    table once."""

    connection: sa.Connection
    facts: Mapping[str, Any]
    answer: str | None = None
    timezone: str | None = None
    cache: dict[Any, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Param:
    """One parameter of a check kind.

    :param types: the TOML types accepted (``str``, ``number``, ``bool``, ``table``,
        ``list``); a string may always be a template that renders to the value
    """

    types: tuple[str, ...]
    required: bool = False


_TYPE_TESTS = {
    "str": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, bool),
    "table": lambda v: isinstance(v, dict),
    "list": lambda v: isinstance(v, list),
}


class Check:
    """A kind of check: registered by ``kind``, validated on lesson load, run on
    a tenant. Subclasses declare ``params`` and implement :meth:`run`."""

    kind: ClassVar[str]
    params: ClassVar[dict[str, Param]] = {}

    @classmethod
    def validate(cls, params: Mapping[str, Any]) -> list[str]:
        """Problems with ``params`` (as written in the lesson), for its author."""
        problems = []
        for name, spec in cls.params.items():
            if name not in params:
                if spec.required:
                    problems.append(f"needs the parameter {name!r}")
                continue
            value = params[name]
            if not any(_TYPE_TESTS[t](value) for t in spec.types):
                kinds = " or ".join(spec.types)
                problems.append(f"parameter {name!r} must be {kinds}")
        unknown = set(params) - set(cls.params)
        if unknown:
            known = ", ".join(sorted(cls.params))
            problems.append(f"unknown parameters {sorted(unknown)}; known: {known}")
        if not problems:
            problems.extend(cls.validate_more(params))
        return problems

    @classmethod
    def validate_more(cls, params: Mapping[str, Any]) -> list[str]:
        """Rules beyond types (a kind overrides it); ``params`` are well typed."""
        return []

    def run(self, ctx: CheckContext, params: Mapping[str, Any]) -> CheckResult:
        """Judge the tenant; ``params`` have their templates rendered."""
        raise NotImplementedError
