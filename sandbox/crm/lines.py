"""Product lines, shared by the documents that carry them: opportunities, contracts
and sales orders.

A line is a product with a quantity, a unit price (the product's list price unless
one is typed) and a discount in percent; its total is quantity × unit price less the
discount, to the cent (half up). A document with lines has the lines' sum as its
amount; with no line left the amount stays as it was, to be typed again.

Each document describes its lines once with a :class:`LineKind` (its line model,
how a refusal is raised, when lines may change); :func:`save_line` and
:func:`remove_line` apply the change in one transaction, and :func:`line_views`
registers the add / edit / remove pages on the module's blueprint.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask import Blueprint, abort, flash, redirect
from sqlalchemy.orm import Session

from sandbox.auth.decorators import login_required
from sandbox.crm.forms import ConfirmForm
from sandbox.crm.registry import Module, writes
from sandbox.crm.service import commit
from sandbox.extensions import db
from sandbox.i18n import gettext as _
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm.products import Product

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
#: The largest line total taken (the money fields' own limit).
MAX_LINE_TOTAL = Decimal(10**13)


def line_total(quantity: Decimal, unit_price: Decimal, discount: Decimal) -> Decimal:
    """quantity × unit price less ``discount`` percent, to the cent (half up)."""
    net = Decimal(quantity) * Decimal(unit_price) * (100 - Decimal(discount)) / 100
    return net.quantize(CENT, rounding=ROUND_HALF_UP)


def checked_line_total(
    quantity: Decimal,
    unit_price: Decimal,
    discount: Decimal,
    refused: Callable[[str, str | None], Exception],
) -> Decimal:
    """:func:`line_total`, refused (on the quantity) when it is beyond any amount a
    money field takes."""
    total = line_total(quantity, unit_price, discount)
    if total >= MAX_LINE_TOTAL:
        raise refused(
            _("The line total is too large: lower the quantity or the price."),
            "quantity",
        )
    return total


def _no_check(parent: Any) -> None:
    return None


@dataclass(frozen=True)
class LineKind:
    """How one kind of document keeps its product lines."""

    #: The line model (its rows carry ``parent_key``, product and the figures).
    model: type
    #: The line's column holding the document's id.
    parent_key: str
    #: Builds the module's refusal from a message and the form field at fault.
    refused: Callable[[str, str | None], Exception]
    #: The document's relationship holding its lines.
    lines: str = "lines"
    #: Raises the module's refusal when the document's lines may not change now.
    check: Callable[[Any], None] = _no_check
    #: Whether a total beyond the money fields' limit is refused.
    capped: bool = True

    def lines_of(self, parent: Any) -> list:
        return getattr(parent, self.lines)

    def belongs(self, line: Any, parent: Any) -> bool:
        return getattr(line, self.parent_key) == parent.id


def recompute_amount(session: Session, parent: Any, kind: LineKind) -> None:
    """The document's amount becomes its lines' sum (unchanged without lines)."""
    session.flush()
    session.refresh(parent, [kind.lines])
    lines = kind.lines_of(parent)
    if lines:
        parent.amount = sum((line.total for line in lines), ZERO)


def fill_line(
    session: Session,
    parent: Any,
    line: Any | None,
    data: dict[str, Any],
    kind: LineKind,
) -> Any:
    """Set a line (a new one at the end when ``line`` is None) from the form's data."""
    product = session.get(Product, data.get("product_id") or 0)
    if product is None:
        raise kind.refused(_("Choose a product."), "product_id")
    if line is None:
        position = max((x.position for x in kind.lines_of(parent)), default=0) + 1
        line = kind.model(**{kind.parent_key: parent.id}, position=position)
    line.product = product
    line.quantity = data["quantity"]
    line.unit_price = (
        data["unit_price"] if data.get("unit_price") is not None else product.list_price
    )
    line.discount = data.get("discount") or Decimal("0")
    if kind.capped:
        line.total = checked_line_total(
            line.quantity, line.unit_price, line.discount, kind.refused
        )
    else:
        line.total = line_total(line.quantity, line.unit_price, line.discount)
    session.add(line)
    return line


def _change_lines(
    session: Session,
    parent: Any,
    kind: LineKind,
    change: Callable[[], Any],
    after: Callable[[], None] | None,
) -> Any:
    """``change`` the document's lines, recompute its amount, run ``after``, then
    commit once; anything refused or failing rolls the whole change back."""
    try:
        kind.check(parent)
        result = change()
        recompute_amount(session, parent, kind)
        if after is not None:
            after()
    except Exception:
        session.rollback()
        raise
    commit(session)
    return result


def save_line(
    session: Session,
    parent: Any,
    line: Any | None,
    data: dict[str, Any],
    kind: LineKind,
    *,
    after: Callable[[], None] | None = None,
) -> Any:
    """Add or change a line; the amount becomes the lines' sum. ``after`` runs in
    the same transaction, once the amount is recomputed."""
    return _change_lines(
        session,
        parent,
        kind,
        lambda: fill_line(session, parent, line, data, kind),
        after,
    )


def remove_line(
    session: Session,
    parent: Any,
    line: Any,
    kind: LineKind,
    *,
    after: Callable[[], None] | None = None,
) -> None:
    """Remove a line; with none left the amount stays as it was."""
    _change_lines(session, parent, kind, lambda: session.delete(line), after)


# ------------------------------------------------------------------ views

#: What a saved line says, unless the document says otherwise.
LINES_SAVED = _l("Product lines saved; the amount is their sum.")


def line_of(session: Session, parent: Any, line_id: int, kind: LineKind) -> Any:
    """The document's line ``line_id``; 404 when it is not one of its lines."""
    line = session.get(kind.model, line_id)
    if line is None or not kind.belongs(line, parent):
        abort(404)
    return line


def line_views(
    bp: Blueprint,
    module: Module,
    param: str,
    *,
    kind: LineKind,
    load: Callable[[int], Any],
    page: Callable[..., Any],
    form_class: type,
    save: Callable[..., Any] | None = None,
    remove: Callable[..., Any] | None = None,
    saved: Any = None,
    anchor: str = "#lines",
    locked: Callable[[Any], Any] | None = None,
    refused: Callable[[Any, Exception], None] | None = None,
    endpoints: tuple[str, str] = ("line", "delete_line"),
) -> None:
    """Register the add / edit (``<param>/lines/new``, ``…/lines/<id>/edit``) and
    remove (``…/lines/<id>/delete``) views of a document's lines on ``bp``.

    ``load`` fetches the document (404 when missing); ``save(session, parent, line,
    data)`` and ``remove(session, parent, line)`` are the module's service calls
    (:func:`save_line` and :func:`remove_line` with ``kind`` when not given);
    ``saved`` is the message after a save (:data:`LINES_SAVED` by default);
    ``page(parent, form, heading, note=…)`` renders the line form. ``locked(parent)``
    answers (a redirect) when the document takes no line changes now, else None.
    ``refused(form, error)`` shows a refusal of the module's kind (``kind.refused``)
    on the form; without it a refusal is not expected and not caught.
    """
    if save is None:

        def save(session, parent, line, data):
            return save_line(session, parent, line, data, kind)

    if remove is None:

        def remove(session, parent, line):
            remove_line(session, parent, line, kind)

    record_url = module.record_url
    saved = saved or LINES_SAVED
    error_type: Any = kind.refused if refused is not None else _Never

    def edit_line(line_id: int | None = None, **ids: int):
        parent = load(ids[param])
        if locked is not None and (answer := locked(parent)) is not None:
            return answer
        item = line_of(db.session, parent, line_id, kind) if line_id else None
        form = form_class(obj=item)
        note = None
        if not form.product_id.choices:
            note = _("There are no products yet: add them under Products first.")
        if form.validate_on_submit():
            try:
                save(db.session, parent, item, form.data)
            except error_type as error:
                refused(form, error)  # type: ignore[misc]
            else:
                flash(str(saved), "success")
                return redirect(record_url(parent.id) + anchor)
        heading = _("Edit product line") if item else _("Add a product")
        return page(parent, form, heading, note=note)

    def delete_line(line_id: int, **ids: int):
        parent = load(ids[param])
        if locked is not None and (answer := locked(parent)) is not None:
            return answer
        item = line_of(db.session, parent, line_id, kind)
        if ConfirmForm().validate_on_submit():
            try:
                remove(db.session, parent, item)
            except error_type as error:
                flash(error.message, "warning")  # type: ignore[attr-defined]
            else:
                flash(_("Product line removed."), "success")
        return redirect(record_url(parent.id) + anchor)

    edit_endpoint, delete_endpoint = endpoints
    edit_line.__name__ = edit_endpoint
    delete_line.__name__ = delete_endpoint
    edit_view = login_required(writes(edit_line))
    delete_view = login_required(writes(delete_line))
    methods = ["GET", "POST"]
    bp.add_url_rule(
        f"/<id:{param}>/lines/new", edit_endpoint, edit_view, methods=methods
    )
    bp.add_url_rule(
        f"/<id:{param}>/lines/<id:line_id>/edit",
        edit_endpoint,
        edit_view,
        methods=methods,
    )
    bp.add_url_rule(
        f"/<id:{param}>/lines/<id:line_id>/delete",
        delete_endpoint,
        delete_view,
        methods=["POST"],
    )


class _Never(Exception):
    """Caught where no refusal is expected: never raised."""
