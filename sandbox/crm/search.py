"""Search across every CRM module, and the record lookups behind record pickers."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, jsonify, render_template, request

from sandbox.auth.decorators import login_required
from sandbox.crm.listing import MAX_QUERY_LENGTH, search_condition
from sandbox.crm.registry import app_modules, get_module, refuse_writes_when_read_only
from sandbox.extensions import db
from sandbox.tenancy import current_engine

bp = Blueprint("search", __name__)
bp.before_request(refuse_writes_when_read_only)

LOOKUP_LIMIT = 20
RESULTS_PER_MODULE = 5


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


@bp.route("/search")
@login_required
def index():
    """Every module's records that match ``?q=``, grouped by module."""
    current_engine()
    q = _query()
    groups = []
    if q:
        for module in app_modules():
            if not module.search:
                continue
            where = search_condition(q, module.search)
            total = db.session.scalar(
                sa.select(sa.func.count()).select_from(module.model).where(where)
            )
            if not total:
                continue
            records = db.session.scalars(
                sa.select(module.model)
                .where(where)
                .order_by(module.model.id.desc())
                .limit(RESULTS_PER_MODULE)
            ).all()
            groups.append((module, total, records))
    return render_template("crm/search.html", q=q, groups=groups)
