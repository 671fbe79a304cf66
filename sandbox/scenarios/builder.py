"""Write a scenario into a new SQLite file: the schema, then every row, in one
transaction.

Rows are generated in memory first (:mod:`sandbox.scenarios.generate`), so a broken
scenario fails before anything is written; the file is built beside its final name
and moved into place only when complete.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from sandbox.scenarios import spec
from sandbox.scenarios.generate import generate


def tenant_tables() -> list[sa.Table]:
    from sandbox.models.crm import tenant_metadata

    return list(tenant_metadata().sorted_tables)


@functools.cache
def _schema_sql(names: tuple[str, ...]) -> tuple[str, ...]:
    """CREATE TABLE and CREATE INDEX statements of every tenant table (compiled
    once per set of tables)."""
    from sqlalchemy.dialects import sqlite
    from sqlalchemy.schema import CreateIndex, CreateTable

    dialect = sqlite.dialect()
    statements = []
    for table in tenant_tables():
        statements.append(str(CreateTable(table).compile(dialect=dialect)).strip())
        for index in sorted(table.indexes, key=lambda i: i.name or ""):
            statements.append(str(CreateIndex(index).compile(dialect=dialect)).strip())
    return tuple(statements)


def schema_sql() -> tuple[str, ...]:
    return _schema_sql(tuple(t.name for t in tenant_tables()))


def create_schema(path: Path) -> None:
    """Create every tenant table in a new SQLite file, in WAL mode."""
    conn = _open_for_build(path)
    try:
        _create_tables(conn)
        conn.execute("COMMIT")
    finally:
        _finish(conn)


def _open_for_build(path: Path) -> sqlite3.Connection:
    """A connection for building a file nobody else sees yet: no journal, no syncs
    (the finished file is synced once and moved into place)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("BEGIN")
    return conn


def _create_tables(conn: sqlite3.Connection) -> None:
    for statement in schema_sql():
        conn.execute(statement)


def _finish(conn: sqlite3.Connection) -> None:
    try:
        if not conn.in_transaction:  # a failed build is thrown away as it is
            conn.execute("PRAGMA journal_mode = WAL")
    finally:
        conn.close()


def _column_defaults(table: sa.Table) -> dict[str, Any]:
    defaults = {}
    for column in table.columns:
        default = column.default
        if default is not None and default.is_scalar:
            defaults[column.key] = default.arg
        else:
            defaults[column.key] = None
    return defaults


def _json(value: Any) -> str | None:
    # As SQLAlchemy's JSON type writes it.
    return None if value is None else json.dumps(value)


def write_rows(conn: sqlite3.Connection, tables: dict[str, list[dict]]) -> None:
    """Insert ``tables`` (parents before children) with one statement per table.

    Values go in as the generator made them: text for dates and times (ISO, as the
    app stores them), whole cents for money; JSON columns are serialised here.
    """
    known = {table.name: table for table in tenant_tables()}
    unknown = sorted(set(tables) - set(known))
    if unknown:
        raise ValueError(f"no such tenant table(s): {', '.join(unknown)}")
    for table in known.values():
        rows = tables.get(table.name)
        if not rows:
            continue
        defaults = _column_defaults(table)
        columns = [c.key for c in table.columns]
        json_columns = {c.key for c in table.columns if isinstance(c.type, sa.JSON)}
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" for _ in columns)
        values = [tuple({**defaults, **row}[c] for c in columns) for row in rows]
        if json_columns:
            positions = [columns.index(c) for c in json_columns]
            values = [
                tuple(_json(v) if n in positions else v for n, v in enumerate(value))
                for value in values
            ]
        conn.executemany(
            f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})',  # noqa: S608
            values,
        )


def tenant_info_rows(
    scenario: spec.Scenario, seed: int, today: dt.date, facts: dict[str, Any]
) -> list[dict[str, str]]:
    return [
        {"key": "scenario", "value": scenario.id},
        {"key": "scenario_version", "value": str(scenario.version)},
        {"key": "variant_seed", "value": str(seed)},
        {"key": "built_on", "value": today.isoformat()},
        {"key": "currency", "value": scenario.currency},
        {"key": "locale", "value": scenario.locale},
        {"key": "timezone", "value": scenario.timezone},
        {
            "key": "company",
            "value": scenario.company["name"]["zh" if scenario.chinese else "en"],
        },
        {"key": "facts", "value": spec.canonical_json(facts)},
        *({"key": key, "value": str(value)} for key, value in scenario.rules.items()),
    ]


def build_rows(
    scenario: str | spec.Scenario, seed: int, today: dt.date
) -> tuple[spec.Scenario, dict[str, list[dict]], dict[str, Any]]:
    """The scenario, its rows by table and its facts (nothing is written)."""
    if isinstance(scenario, str):
        scenario = spec.get(scenario)
    tables, facts = generate(scenario, seed, today)
    tables["tenant_info"] = tenant_info_rows(scenario, seed, today, facts)
    return scenario, tables, facts


def build_scenario(
    path: Path,
    scenario: str | spec.Scenario,
    seed: int,
    *,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """Write scenario ``scenario``, variant ``seed``, as built on ``today``, into a
    new file at ``path`` (an existing file there is replaced); returns the facts.

    :raise KeyError: no such scenario
    :raise ScenarioError: a scenario or seed-data file is broken (nothing written)
    """
    path = Path(path)
    today = today or dt.date.today()
    _scenario, tables, facts = build_rows(scenario, seed, today)
    partial = path.with_name(f".{path.name}.{os.getpid()}.building")
    partial.unlink(missing_ok=True)
    try:
        conn = _open_for_build(partial)
        try:
            _create_tables(conn)
            write_rows(conn, tables)
            conn.execute("COMMIT")
        finally:
            _finish(conn)
        with open(partial, "rb+") as built:
            os.fsync(built.fileno())
        os.replace(partial, path)
    finally:
        for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
            leftover.unlink(missing_ok=True)
    return facts
