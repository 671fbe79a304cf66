"""``crm-sandbox scenario``: list the scenarios, preview one, build one into a file."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click
from flask.cli import AppGroup

from sandbox.models import FIRST_DAY, LAST_DAY
from sandbox.scenarios import spec


@click.group("scenario", cls=AppGroup)
def scenario_group() -> None:
    """List, preview and build scenarios (the data a student's CRM starts with)."""


def _scenario(name: str) -> spec.Scenario:
    """A scenario by id or alias, or a scenario file given by its path."""
    try:
        if name.endswith(".toml"):
            return spec.load_file(Path(name))
        return spec.get(name)
    except spec.ScenarioError as error:
        raise click.ClickException(str(error)) from None
    except KeyError as error:
        raise click.ClickException(error.args[0]) from None


def _day(value: str | None) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            "use the form YYYY-MM-DD", param_hint="--today"
        ) from None
    # A scenario's dates reach years either side of its day.
    if not FIRST_DAY <= day <= LAST_DAY:
        raise click.BadParameter(
            f"choose a day from {FIRST_DAY} to {LAST_DAY}", param_hint="--today"
        )
    return day


@scenario_group.command("list")
def list_command() -> None:
    """Every scenario: id, language, currency, time zone and name."""
    try:
        scenarios = spec.all_scenarios()
    except spec.ScenarioError as error:
        raise click.ClickException(str(error)) from None
    aliases: dict[str, list[str]] = {}
    for key, scenario in scenarios.items():
        if key != scenario.id:
            aliases.setdefault(scenario.id, []).append(key)
    for scenario in sorted(
        {s.id: s for s in scenarios.values()}.values(), key=lambda s: s.id
    ):
        also = (
            f"  (also: {', '.join(aliases[scenario.id])})"
            if scenario.id in aliases
            else ""
        )
        click.echo(
            f"{scenario.id:<18} {scenario.locale}  {scenario.currency}  "
            f"{scenario.timezone:<16} {scenario.name['en']} / "
            f"{scenario.name['zh']}{also}"
        )


_options = [
    click.argument("scenario_id", metavar="ID"),
    click.option(
        "--seed", type=int, default=0, show_default=True, help="Variant seed."
    ),
    click.option(
        "--today", metavar="YYYY-MM-DD", help="Provisioning day (default: today)."
    ),
]


def _with_options(function):
    for option in reversed(_options):
        function = option(function)
    return function


@scenario_group.command("preview")
@_with_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def preview_command(
    scenario_id: str, seed: int, today: str | None, as_json: bool
) -> None:
    """Counts per table and the planted facts of one variant (nothing is written).

    ID is a scenario id or the path of a scenario file (*.toml).
    """
    from sandbox.scenarios.builder import build_rows

    scenario = _scenario(scenario_id)
    try:
        _s, tables, facts = build_rows(scenario, seed, _day(today))
    except spec.ScenarioError as error:
        raise click.ClickException(str(error)) from None
    counts = {name: len(rows) for name, rows in sorted(tables.items()) if rows}
    if as_json:
        click.echo(
            json.dumps(
                {
                    "scenario": scenario.id,
                    "seed": seed,
                    "counts": counts,
                    "facts": facts,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    click.echo(
        f"{scenario.id} (version {scenario.version}), seed {seed}: "
        f"{scenario.name['en']}"
    )
    click.echo(f"{sum(counts.values())} records")
    for name, count in counts.items():
        click.echo(f"  {name:<28} {count:>6}")
    click.echo("Facts:")
    for name, fact in facts.items():
        click.echo(f"  {name}: {json.dumps(fact, ensure_ascii=False)}")


@scenario_group.command("build")
@_with_options
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The SQLite file to write (replaced if it exists).",
)
def build_command(scenario_id: str, seed: int, today: str | None, out: Path) -> None:
    """Build one variant of a scenario into an SQLite file.

    ID is a scenario id or the path of a scenario file (*.toml).
    """
    import time

    from sandbox.scenarios.builder import build_scenario

    scenario = _scenario(scenario_id)
    if not out.parent.is_dir():
        raise click.ClickException(f"{out.parent}: no such folder")
    started = time.perf_counter()
    try:
        build_scenario(out, scenario, seed, today=_day(today))
    except spec.ScenarioError as error:
        raise click.ClickException(str(error)) from None
    took = time.perf_counter() - started
    click.echo(
        f"Built {scenario.id} seed {seed} into {out} "
        f"({out.stat().st_size:,} bytes, {took:.2f} s)"
    )
