"""Page helpers every module's explicit routes call: the form page and delete."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import flash, redirect, render_template, request
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from sandbox.crm.forms import DeleteForm
from sandbox.crm.registry import Module
from sandbox.crm.service import HasRelatedRecords, delete_record, related_records
from sandbox.extensions import db
from sandbox.i18n import gettext as _
from sandbox.models.crm import Colleague


def colleague_choices() -> list[tuple[str, str]]:
    """Every colleague, by name, as the choices of a list's owner filter."""
    rows = db.session.execute(
        sa.select(Colleague.id, Colleague.name).order_by(Colleague.name)
    )
    return [(str(i), n) for i, n in rows]


def render_form(
    module: Module, form: Any, record: Any = None, **context: Any
) -> tuple[str, int]:
    """The one record-form page: title, breadcrumbs, the form, Save and Cancel;
    sent back with its errors, it answers 422, as every form page does."""
    page = render_template(
        "crm/form.html", module=module, form=form, record=record, **context
    )
    return page, 422 if form.is_submitted() and form.errors else 200


def delete_page(
    module: Module,
    record: Any,
    *,
    delete: Callable[[Session, Any], None] | None = None,
    refused: type[Exception] | tuple[type[Exception], ...] = (),
) -> str | Response:
    """Confirm, then delete ``record``; related records are named first, and unlinked
    only when the user ticks that choice (records that cannot be unlinked block).

    A module whose records are deleted by rules of its own (a contract only while it
    is a draft) passes its service call as ``delete``; its refusal (``refused``,
    with a ``message``) goes back to the record.
    """
    form = DeleteForm()
    related = [] if delete else related_records(db.session, record)
    if form.validate_on_submit():
        name = record.display_name
        try:
            if delete:
                delete(db.session, record)
            else:
                delete_record(db.session, record, detach=bool(form.detach.data))
        except HasRelatedRecords as error:
            related = error.related
            flash(
                _("“%(name)s” still has related records; see below.", name=name),
                "warning",
            )
        except refused as error:
            flash(error.message, "warning")  # type: ignore[attr-defined]
            return redirect(module.record_url(record.id))
        else:
            flash(
                _(
                    "%(entity)s “%(name)s” deleted.",
                    entity=module.entity_label,
                    name=name,
                ),
                "success",
            )
            return redirect(module_index_url(module))
    return render_template(
        "crm/confirm_delete.html",
        module=module,
        form=form,
        record=record,
        related=related,
        blocking=[r for r in related if not r.detachable],
        cancel_url=module.record_url(record.id),
    ), (409 if request.method == "POST" and delete is None else 200)


def show_refusal(form: Any, error: Any) -> None:
    """A service's refusal (with ``message`` and ``field``) beside its field when
    the form has that field, else as a message at the top of the page."""
    if error.field and error.field in form:
        form[error.field].errors = [*form[error.field].errors, str(error.message)]
    else:
        flash(str(error.message), "danger")


def action_page(
    module: Module,
    record: Any,
    form: Any,
    heading: str,
    *,
    action_class: str,
    note: str | None = None,
    intro: str | None = None,
    intro_class: str | None = None,
    **context: Any,
) -> tuple[str, int]:
    """The page acting on one record (a lifecycle action's form, a product line's),
    422 when the submitted form has errors; ``context`` goes to the template
    (``button_label``, ``button_class``)."""
    status = 422 if form.is_submitted() and form.errors else 200
    return render_template(
        "crm/record_action.html",
        module=module,
        record=record,
        form=form,
        heading=heading,
        note=note,
        intro=intro,
        intro_class=intro_class,
        action_class=action_class,
        **context,
    ), status


def module_index_url(module: Module) -> str:
    from flask import url_for

    return url_for(module.index_endpoint)


#: Records of one kind a record's page lists (the most recent ones).
RELATED_PANEL_ROWS = 10


def records_of(
    model: Any,
    key: Any,
    value: int,
    *order_by: Any,
    join: Any = None,
    options: tuple = (),
) -> tuple[list[Any], int]:
    """The records of ``model`` whose ``key`` column is ``value`` (an account's
    deals, say), for a panel on that record's page: the first
    ``RELATED_PANEL_ROWS`` in ``order_by`` (over ``model`` joined to ``join``, if
    given), and how many there are in all."""
    where = key == value
    total = db.session.scalar(sa.select(sa.func.count(model.id)).where(where)) or 0
    query = sa.select(model) if join is None else sa.select(model).join(join)
    rows = db.session.scalars(
        query.where(where)
        .options(*options)
        .order_by(*order_by, model.id.desc())
        .limit(RELATED_PANEL_ROWS)
    ).all()
    return list(rows), total
