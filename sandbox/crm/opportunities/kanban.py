"""The pipeline's cards, rendered in Python.

A board shows up to 20 cards in each of its columns, and every card carries a
"Move to" form so that the board works by keyboard and without JavaScript. Built in
a template, that is a few thousand template calls a page; here each card is one
f-string, every value passed through ``escape``, with the translated labels and the
stage options made once a page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from flask_babel import format_date
from markupsafe import Markup, escape

from sandbox.crm.display import money
from sandbox.crm.opportunities.service import Card, Column
from sandbox.i18n import gettext as _


class CardRenderer:
    """Renders the cards of one board; made once a request."""

    def __init__(
        self,
        columns: list[Column],
        *,
        stage_label: Callable,
        record_url: Callable[[int], str],
        move_prefix: str,
        query: str,
        token: str,
        today: dt.date,
        writable: bool,
    ) -> None:
        self.record_url = record_url
        self.move_prefix = move_prefix
        self.query = query
        self.today = today
        self.writable = writable
        self.draggable = "true" if writable else "false"
        self.move_label = escape(_("Move"))
        self.move_to = _("Move “%(name)s” to")
        self.token = escape(token)
        self._dates: dict[dt.date, str] = {}
        labels = [(c.stage.id, stage_label(c.stage)) for c in columns]
        self.options = {
            stage_id: "".join(
                f'<option value="{other}"{" selected" if other == stage_id else ""}>'
                f"{escape(label)}</option>"
                for other, label in labels
            )
            for stage_id, _label in labels
        }

    def day(self, value: dt.date) -> str:
        text = self._dates.get(value)
        if text is None:
            text = self._dates[value] = format_date(value, "medium")
        return text

    def card(self, card: Card) -> str:
        """One card as HTML; every value is escaped here."""
        move_url = escape(f"{self.move_prefix}{card.id}/move{self.query}")
        late = card.close_date < self.today
        form = ""
        if self.writable:
            label = escape(self.move_to % {"name": card.name})
            form = (
                f'<form class="move-form d-flex gap-1 mt-1" method="post"'
                f' action="{move_url}">'
                f'<input type="hidden" name="csrf_token" value="{self.token}">'
                f'<label class="visually-hidden" for="move-{card.id}">{label}</label>'
                f'<select class="form-select form-select-sm" id="move-{card.id}"'
                f' name="stage_id">{self.options[card.stage_id]}</select>'
                f'<button class="btn btn-sm btn-outline-secondary" type="submit">'
                f"{self.move_label}</button></form>"
            )
        danger = ' class="text-danger"'
        owner = (
            f'<span class="text-muted">{escape(card.owner_name)}</span>'
            if card.owner_name
            else ""
        )
        return (
            f'<li class="kanban-card card{" overdue" if late else ""}"'
            f' draggable="{self.draggable}" data-id="{card.id}"'
            f' data-move-url="{move_url}"><div class="card-body p-2">'
            f'<a class="fw-semibold card-name" href="{self.record_url(card.id)}">'
            f"{escape(card.name)}</a>"
            f'<div class="small text-muted">{escape(card.account_name)}</div>'
            f'<div class="small d-flex flex-wrap gap-2">'
            f'<span class="card-amount">{money(card.amount)}</span>'
            f"<span{danger if late else ''}>"
            f"{escape(self.day(card.close_date))}</span>{owner}</div>{form}</div></li>"
        )

    def cards(self, cards: Iterable[Card]) -> Markup:
        html = "".join(self.card(card) for card in cards)
        return Markup(html)  # noqa: S704 - built from escaped parts
