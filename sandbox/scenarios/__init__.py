"""Scenarios: the fictional company a student works for and everything in its CRM.

A scenario is a TOML file in ``scenarios/`` (see ``scenarios/README.md``); with a
variant seed and the provisioning day it deterministically becomes a tenant
database. What other parts of the app use:

* :func:`available` — the scenarios a course may choose, for a select box;
* :func:`build_scenario` — write one variant into a file (provisioning does);
* :func:`facts` — the planted facts of a built tenant, for lessons and checks;
* :data:`SCENARIOS` / :data:`SCENARIO_TIMEZONES` — ids (and old aliases) and the
  time zone a course on each uses unless it sets its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from sandbox.scenarios.builder import build_scenario
from sandbox.scenarios.spec import (
    Scenario,
    ScenarioError,
    all_scenarios,
    canonical_id,
    get,
)


@dataclass(frozen=True)
class Choice:
    """One scenario as a course form offers it."""

    id: str
    name_en: str
    name_zh: str
    locale: str
    timezone: str

    def name(self, language: str) -> str:
        return self.name_zh if language == "zh" else self.name_en


def available() -> list[Choice]:
    """Every scenario (not its aliases), English ones first, then by id."""
    unique = {s.id: s for s in all_scenarios().values()}
    return [
        Choice(s.id, s.name["en"], s.name["zh"], s.locale, s.timezone)
        for s in sorted(unique.values(), key=lambda s: (s.locale != "en_US", s.id))
    ]


def default_for(language: str) -> str:
    """The scenario a new course in ``language`` ("en" or "zh") starts with."""
    return "telecom-service" if language == "zh" else "b2b-software"


def _info(session: sa.orm.Session) -> dict[str, str]:
    from sandbox.models.crm import TenantInfo

    return dict(session.execute(sa.select(TenantInfo.key, TenantInfo.value)).all())


def facts(session: sa.orm.Session) -> dict[str, dict[str, Any]]:
    """The planted facts of the tenant ``session`` is bound to (``{}`` if none)."""
    from sandbox.models.crm import TenantInfo

    raw = session.scalar(sa.select(TenantInfo.value).where(TenantInfo.key == "facts"))
    return json.loads(raw) if raw else {}


def built_from(session: sa.orm.Session) -> dict[str, Any]:
    """Which scenario, version, variant seed and day the tenant was built from."""
    info = _info(session)
    return {
        "scenario": info.get("scenario"),
        "version": int(info["scenario_version"])
        if "scenario_version" in info
        else None,
        "variant_seed": int(info["variant_seed"]) if "variant_seed" in info else None,
        "built_on": info.get("built_on"),
    }


class _Lazy(Mapping):
    """A read-only view of the scenario files, read on first use."""

    def __init__(self, value) -> None:
        self._value = value

    def __getitem__(self, key: str):
        return self._value(all_scenarios()[key])

    def __iter__(self) -> Iterator[str]:
        return iter(all_scenarios())

    def __len__(self) -> int:
        return len(all_scenarios())


#: Scenario id or alias -> Scenario.
SCENARIOS: Mapping[str, Scenario] = _Lazy(lambda s: s)
#: Scenario id or alias -> the time zone a course on it shows times in.
SCENARIO_TIMEZONES: Mapping[str, str] = _Lazy(lambda s: s.timezone)

__all__ = [
    "SCENARIOS",
    "SCENARIO_TIMEZONES",
    "Choice",
    "Scenario",
    "ScenarioError",
    "available",
    "build_scenario",
    "built_from",
    "canonical_id",
    "default_for",
    "facts",
    "get",
]
