"""Search across every CRM module, and the record lookups behind record pickers.

Global search looks in each module's ``search`` columns for each word of the query
anywhere (substring): a record matches when every word is found in one of them. A
module whose records carry a number (a ticket or order number) names that column in
``Module.extra["number"]``: numbers match from their start, as in the ticket
system's quick find ("0401" finds 0401…, not 20150401), and ``*`` is a wildcard
anywhere in the query ("*0401" finds 20150401). Each module costs one query,
whatever the number of results.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import Blueprint, abort, jsonify, render_template, request

from sandbox.auth.decorators import login_required
from sandbox.crm.listing import MAX_QUERY_LENGTH, search_condition, search_words
from sandbox.crm.registry import (
    Module,
    app_modules,
    get_module,
    refuse_writes_when_read_only,
)
from sandbox.crm.saved_queries import bp as saved_queries_bp
from sandbox.crm.transfer import bp as transfer_bp
from sandbox.extensions import db
from sandbox.tenancy import current_engine

bp = Blueprint("search", __name__)
bp.before_request(refuse_writes_when_read_only)
bp.register_blueprint(transfer_bp)
bp.register_blueprint(saved_queries_bp, url_prefix="/queries")

LOOKUP_LIMIT = 20
RESULTS_PER_MODULE = 5
WILDCARD = "*"


def _query() -> str:
    return request.args.get("q", "").strip()[:MAX_QUERY_LENGTH]


@bp.route("/lookup/<key>")
@login_required
def lookup(key: str):
    """Records of module ``key`` whose name matches ``?q=``, as JSON (at most 20)."""
    current_engine()  # no workspace, no lookup
    try:
        module = get_module(key)
    except KeyError:
        abort(404)
    if module.key not in {m.key for m in app_modules()}:
        abort(404)
    model = module.model
    name = model.display_expression()
    stmt = sa.select(model.id, name).order_by(name).limit(LOOKUP_LIMIT)
    q = _query()
    if q:
        stmt = stmt.where(search_condition(q, [name, *module.search]))
    rows = db.session.execute(stmt).all()
    return jsonify([{"id": i, "label": label} for i, label in rows])


def like_pattern(q: str, *, prefix: bool) -> str:
    """``q`` as a LIKE pattern (escape ``\\``): ``%`` and ``_`` are plain text, ``*``
    matches anything; a ``prefix`` pattern matches from the start, else anywhere."""
    escaped = re.sub(r"([\\%_])", r"\\\1", q).replace(WILDCARD, "%")
    return f"{escaped}%" if prefix else f"%{escaped}%"


def number_column(module: Module):
    """The column holding ``module``'s record numbers, if its records have one."""
    return module.extra.get("number")


def match_condition(module: Module, q: str) -> sa.ColumnElement | None:
    """Records of ``module`` matching each word of ``q``: text anywhere, numbers
    from the start."""
    number = number_column(module)
    text_columns = [c for c in module.search if number is None or c is not number]
    if not text_columns and number is None:
        return None
    words = []
    for word in search_words(q):
        conditions = [
            c.ilike(like_pattern(word, prefix=False), escape="\\") for c in text_columns
        ]
        if number is not None:
            conditions.append(
                number.ilike(like_pattern(word, prefix=True), escape="\\")
            )
        words.append(sa.or_(*conditions))
    return sa.and_(*words)


def search_module(module: Module, q: str) -> tuple[int, list]:
    """How many records of ``module`` match ``q``, and the newest few (one query)."""
    where = match_condition(module, q)
    if where is None:
        return 0, []
    rows = db.session.execute(
        sa.select(module.model, sa.func.count().over())
        .where(where)
        .order_by(module.model.id.desc())
        .limit(RESULTS_PER_MODULE)
    ).all()
    return (rows[0][1] if rows else 0), [record for record, _total in rows]


@bp.route("/search")
@login_required
def index():
    """Every module's records that match ``?q=``, grouped by module."""
    current_engine()
    q = _query()
    groups = []
    only_wildcards = bool(q) and not q.replace(WILDCARD, "").strip()
    if q and not only_wildcards:
        for module in app_modules():
            total, records = search_module(module, q)
            if total:
                groups.append((module, total, records))
    return render_template(
        "crm/search.html",
        q=q,
        groups=groups,
        only_wildcards=only_wildcards,
        number_of=lambda module, record: (
            getattr(record, number_column(module).key)
            if number_column(module) is not None
            else None
        ),
    )
