"""Scenario files: ``scenarios/<id>.toml``, read and checked field by field.

A scenario file that cannot be used is refused with a :class:`ScenarioError` naming
the file (and, for a TOML syntax error, the line) and saying what is wrong, before
anything is built.
"""

from __future__ import annotations

import functools
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from sandbox.models.crm.sales import DEFAULT_STAGES

PACKAGE_ROOT = Path(__file__).resolve().parents[2]
SHARE = Path(sys.prefix) / "share" / "crm-sandbox"
LOCALES = ("en_US", "zh_CN")
SCENARIO_ID = re.compile(r"^[a-z][a-z0-9-]{1,62}$")
STAGE_CODES = tuple(stage[0] for stage in DEFAULT_STAGES)
COLLEAGUE_ROLES = (
    "sales_rep",
    "sales_manager",
    "marketing",
    "service_agent",
    "service_manager",
)

#: Fact kinds the generator can plant, with the parameters each accepts.
FACT_KINDS: dict[str, dict[str, type]] = {
    "hot_lead": {},
    "duplicate_lead": {},
    "key_account": {},
    "stalled_deal": {"idle_days": int},
    "big_deal": {},
    "won_deal": {},
    "lost_deal": {},
    "key_competitor": {},
    "top_product": {},
    "overdue_case": {"priority": str},
    "escalated_case": {},
    "published_article": {},
    "channel_partner": {},
    "best_campaign": {},
    "overdue_task": {},
    "next_meeting": {},
    "overdue_invoice": {},
}


class ScenarioError(ValueError):
    """A scenario file is missing, unreadable or wrong; the message names the file."""


def data_root(name: str) -> Path:
    """The folder ``lessons``, ``scenarios`` or ``seed_data``: beside the package in a
    checkout, under ``<prefix>/share/crm-sandbox`` in an installed copy."""
    for base in (PACKAGE_ROOT, SHARE):
        if (base / name).is_dir():
            return base / name
    return PACKAGE_ROOT / name


def scenario_dir() -> Path:
    return data_root("scenarios")


@dataclass(frozen=True)
class Member:
    name: str
    role: str
    email: str | None = None
    is_self: bool = False


@dataclass(frozen=True)
class Scenario:
    id: str
    path: Path
    version: int
    aliases: tuple[str, ...]
    locale: str
    currency: str
    timezone: str
    name: dict[str, str]
    description: dict[str, str]
    company: dict[str, Any]
    catalogue: str
    team: tuple[Member, ...]
    history_days: int
    horizon_days: int
    volumes: dict[str, Any]
    code_lists: dict[str, tuple[str, ...]]
    facts: dict[str, dict[str, Any]]
    #: The company's business rules, stored in the tenant; the contracts module
    #: reads them (its ``RULE_DEFAULTS`` fill what a scenario leaves out).
    rules: dict[str, float | int] = field(default_factory=dict)
    raw: dict[str, Any] = field(repr=False, default_factory=dict)

    @property
    def chinese(self) -> bool:
        return self.locale.startswith("zh")

    def label(self, language: str) -> str:
        return self.name["zh" if language == "zh" else "en"]


# ------------------------------------------------------------------ field checking

#: The shape of a scenario file: field -> type, or a nested dict for a table.
BILINGUAL = {"en": str, "zh": str}
SCHEMA: dict[str, Any] = {
    "id": str,
    "version": int,
    "aliases": [str],
    "locale": str,
    "currency": str,
    "timezone": str,
    "catalogue": str,
    "name": BILINGUAL,
    "description": BILINGUAL,
    "company": {
        "name": BILINGUAL,
        "industry": str,
        "domain": str,
        "sells": BILINGUAL,
    },
    "team": [{"name": str, "role": str, "email": str, "self": bool}],
    "dates": {"history_days": int, "horizon_days": int},
    "volumes": {
        "accounts": int,
        "contacts": int,
        "contacts_per_account": [int],
        "leads": int,
        "cases": int,
        "quotes": int,
        "competitor_share": float,
        "channel_partners": int,
        "end_customers_per_partner": [int],
        "subsidiaries": int,
        "campaigns": int,
        "activities": int,
        "diary_days": int,
        "opportunities": {code: int for code in STAGE_CODES},
        "account_types": dict,
        "industries": dict,
        "lead_sources": dict,
        "case_priorities": dict,
    },
    "code_lists": dict,
    "facts": dict,
    "rules": {
        "contract_auto_approve_discount": float,
        "contract_manager_max_discount": float,
        "contract_renewal_days": int,
    },
}
REQUIRED = (
    "id",
    "version",
    "locale",
    "currency",
    "timezone",
    "catalogue",
    "name",
    "description",
    "company",
    "team",
    "dates",
    "volumes",
    "facts",
)


def _type_name(kind: Any) -> str:
    if isinstance(kind, list):
        return "a list"
    if isinstance(kind, dict) or kind is dict:
        return "a table"
    return {str: "text", int: "a whole number", float: "a number", bool: "true/false"}[
        kind
    ]


def _check(value: Any, kind: Any, where: str, problems: list[str]) -> None:
    if isinstance(kind, dict):
        if not isinstance(value, dict):
            problems.append(f"{where} must be a table")
            return
        for key, item in value.items():
            name = f"{where}.{key}" if where else key
            if key not in kind:
                known = ", ".join(sorted(kind))
                problems.append(f"unknown field {name!r} (known here: {known})")
                continue
            _check(item, kind[key], name, problems)
    elif isinstance(kind, list):
        if not isinstance(value, list):
            problems.append(f"{where} must be a list")
            return
        for n, item in enumerate(value, start=1):
            _check(item, kind[0], f"{where}[{n}]", problems)
    elif kind is dict:
        if not isinstance(value, dict):
            problems.append(f"{where} must be a table")
    elif kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.append(f"{where} must be a number")
    elif isinstance(value, bool) != (kind is bool) or not isinstance(value, kind):
        problems.append(f"{where} must be {_type_name(kind)}, not {value!r}")


def _weights(value: Any, where: str, problems: list[str]) -> dict[str, int]:
    weights = {}
    for key, weight in (value or {}).items():
        if isinstance(weight, bool) or not isinstance(weight, int) or weight < 0:
            problems.append(f"{where}.{key} must be a whole number ≥ 0")
        else:
            weights[key] = weight
    return weights


def _syntax_error(
    path: Path, text: str, error: tomllib.TOMLDecodeError
) -> ScenarioError:
    message = str(error)
    if message.endswith("(at end of document)"):
        lines = text.splitlines() or [""]
        message = message.replace(
            "(at end of document)",
            f"(at line {len(lines)}, column {len(lines[-1]) + 1})",
        )
    found = re.search(r"\(at line (\d+), column (\d+)\)", message)
    if found:
        what = message[: found.start()].strip()
        return ScenarioError(
            f"{path}: line {found.group(1)}, column {found.group(2)}: "
            f"TOML syntax error: {what}"
        )
    return ScenarioError(f"{path}: TOML syntax error: {message}")


def load_file(path: Path) -> Scenario:
    """Read and check one scenario file.

    :raise ScenarioError: the file is unreadable, not TOML, or breaks a rule
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ScenarioError(
            f"{path}: cannot read the file ({error.strerror})"
        ) from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: the file is not UTF-8 text") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise _syntax_error(path, text, error) from None
    problems: list[str] = []
    missing = [key for key in REQUIRED if key not in raw]
    if missing:
        problems.append("missing field(s): " + ", ".join(missing))
    _check(raw, SCHEMA, "", problems)
    if problems:
        raise ScenarioError(f"{path}: " + "; ".join(problems))
    scenario = _build(path, raw, problems)
    if problems:
        raise ScenarioError(f"{path}: " + "; ".join(problems))
    return scenario


def _build(path: Path, raw: dict[str, Any], problems: list[str]) -> Scenario:
    from sandbox.scenarios import data

    if raw["id"] != path.stem:
        problems.append(f"id {raw['id']!r} differs from the file name {path.stem!r}")
    if not SCENARIO_ID.match(raw["id"]):
        problems.append("id must be lower-case letters, digits and hyphens")
    if raw["locale"] not in LOCALES:
        problems.append(f"locale must be one of {', '.join(LOCALES)}")
    try:
        ZoneInfo(raw["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"unknown time zone {raw['timezone']!r}")
    if not re.fullmatch(r"[A-Z]{3}", raw["currency"]):
        problems.append("currency must be a three-letter code such as USD or CNY")
    if raw["catalogue"] not in data.catalogue_names():
        known = ", ".join(data.catalogue_names())
        problems.append(f"unknown catalogue {raw['catalogue']!r} (known: {known})")
    for key in ("name", "description"):
        if set(raw[key]) != {"en", "zh"}:
            problems.append(f"{key} needs both en and zh")
    team = []
    for n, member in enumerate(raw["team"], start=1):
        if "name" not in member or "role" not in member:
            problems.append(f"team[{n}] needs a name and a role")
            continue
        if member["role"] not in COLLEAGUE_ROLES:
            problems.append(
                f"team[{n}].role {member['role']!r} is not one of "
                + ", ".join(COLLEAGUE_ROLES)
            )
        team.append(
            Member(
                member["name"],
                member["role"],
                member.get("email"),
                member.get("self", False),
            )
        )
    if sum(1 for m in team if m.is_self) != 1:
        problems.append("exactly one team member must have self = true")
    if not any(m.role.startswith("sales") for m in team):
        problems.append("the team needs at least one salesperson")
    dates = raw["dates"]
    history = dates.get("history_days", 365)
    horizon = dates.get("horizon_days", 180)
    if not 30 <= history <= 1500 or not 14 <= horizon <= 730:
        problems.append("dates: history_days 30–1500 and horizon_days 14–730")
    volumes = dict(raw["volumes"])
    for key in ("accounts", "leads", "cases"):
        if not 1 <= volumes.get(key, 0) <= 5000:
            problems.append(f"volumes.{key} must be between 1 and 5000")
    contacts = volumes.get("contacts")
    if contacts is not None and not volumes.get("accounts", 0) <= contacts <= 20000:
        problems.append("volumes.contacts must be at least one per account")
    for key in ("contacts_per_account", "end_customers_per_partner"):
        pair = volumes.get(key, [1, 3])
        if len(pair) != 2 or not 0 <= pair[0] <= pair[1] <= 50:
            problems.append(f"volumes.{key} must be [least, most]")
    opportunities = volumes.get("opportunities", {})
    if not opportunities or sum(opportunities.values()) < 1:
        problems.append("volumes.opportunities needs a count for at least one stage")
    share = volumes.get("competitor_share", 0.4)
    if not 0 <= share <= 1:
        problems.append("volumes.competitor_share must be between 0 and 1")
    partners = volumes.get("channel_partners", 0)
    if partners * (volumes.get("end_customers_per_partner", [1, 3])[1] + 1) + (
        volumes.get("subsidiaries", 0)
    ) > volumes.get("accounts", 0):
        problems.append("volumes.accounts is too small for the channel partners")
    code_lists = {}
    extra = data.extra_codes()
    for key, codes in (raw.get("code_lists") or {}).items():
        if key not in extra:
            known = ", ".join(sorted(extra))
            problems.append(f"code_lists.{key}: no such list in seed data ({known})")
            continue
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            problems.append(f"code_lists.{key} must be a list of codes")
            continue
        unknown = [c for c in codes if c not in extra[key]]
        if unknown:
            problems.append(f"code_lists.{key}: unknown code(s) {', '.join(unknown)}")
        code_lists[key] = tuple(codes)
    for where in ("account_types", "industries", "lead_sources", "case_priorities"):
        volumes[where] = _weights(volumes.get(where), f"volumes.{where}", problems)
    facts = {}
    for name, params in raw["facts"].items():
        if not isinstance(params, dict):
            problems.append(f"facts.{name} must be a table")
            continue
        params = dict(params)
        kind = params.pop("kind", name)
        if kind not in FACT_KINDS:
            known = ", ".join(sorted(FACT_KINDS))
            problems.append(f"facts.{name}: unknown kind {kind!r} (known: {known})")
            continue
        for key, value in params.items():
            expected = FACT_KINDS[kind].get(key)
            if expected is None:
                problems.append(f"facts.{name}: unknown field {key!r}")
            elif not isinstance(value, expected) or isinstance(value, bool):
                problems.append(f"facts.{name}.{key} must be {_type_name(expected)}")
        facts[name] = {"kind": kind, **params}
    if "channel_partner" in {f["kind"] for f in facts.values()} and not partners:
        problems.append("facts: channel_partner needs volumes.channel_partners")
    from sandbox.crm.contracts.service import RULE_DEFAULTS

    rules = dict(raw.get("rules") or {})
    given = {**RULE_DEFAULTS, **rules}
    auto = given["contract_auto_approve_discount"]
    most = given["contract_manager_max_discount"]
    if not 0 <= auto <= most <= 100:
        problems.append(
            "rules: 0 ≤ contract_auto_approve_discount ≤ "
            "contract_manager_max_discount ≤ 100"
        )
    if not 1 <= given["contract_renewal_days"] <= 365:
        problems.append("rules.contract_renewal_days must be between 1 and 365")
    company = raw["company"]
    for key in ("name", "industry", "sells"):
        if key not in company:
            problems.append(f"company.{key} is missing")
    return Scenario(
        id=raw["id"],
        path=path,
        version=raw["version"],
        aliases=tuple(raw.get("aliases", ())),
        locale=raw["locale"],
        currency=raw["currency"],
        timezone=raw["timezone"],
        name=raw["name"],
        description=raw["description"],
        company=company,
        catalogue=raw["catalogue"],
        team=tuple(team),
        history_days=history,
        horizon_days=horizon,
        volumes=volumes,
        code_lists=code_lists,
        facts=facts,
        rules=rules,
        raw=raw,
    )


@functools.cache
def _load_all(folder: str) -> dict[str, Scenario]:
    scenarios: dict[str, Scenario] = {}
    for path in sorted(Path(folder).glob("*.toml")):
        scenario = load_file(path)
        for key in (scenario.id, *scenario.aliases):
            if key in scenarios:
                raise ScenarioError(
                    f"{path}: the id or alias {key!r} is also used by "
                    f"{scenarios[key].path}"
                )
            scenarios[key] = scenario
    return scenarios


def all_scenarios() -> dict[str, Scenario]:
    """Every scenario by id and by alias (aliases keep old course settings working)."""
    return _load_all(str(scenario_dir()))


def get(scenario_id: str) -> Scenario:
    """The scenario with this id or alias.

    :raise KeyError: no such scenario; the message names the known ones
    """
    scenarios = all_scenarios()
    try:
        return scenarios[scenario_id]
    except KeyError:
        known = ", ".join(sorted(scenarios))
        raise KeyError(
            f"unknown scenario {scenario_id!r}; known scenarios: {known}"
        ) from None


def canonical_id(name: str) -> str:
    """The id of the scenario ``name`` names, by id or by alias (``default`` is
    ``b2b-software``); an unknown name is its own."""
    scenario = all_scenarios().get(name)
    return scenario.id if scenario is not None else name


def canonical_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
