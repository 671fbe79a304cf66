"""Saved-query rules: what a query keeps, names, and the default queries."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sandbox.crm.registry import Module
from sandbox.crm.service import commit, same_name
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm.saved_queries import SavedQuery
from sandbox.text import collapse_spaces, has_control_characters, is_blank

MAX_NAME = 80
MAX_ARGS = 30
MAX_PER_MODULE = 50
#: What a list URL holds that is not part of a query.
NOT_KEPT = frozenset({"page"})


class QueryRefused(ValueError):
    def __init__(self, message: object) -> None:
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class DefaultQuery:
    key: str
    label: object
    args: dict[str, str]


def default_queries(module: Module) -> list[DefaultQuery]:
    """The four queries every module's list offers (those its records allow)."""
    model = module.model
    found = [
        DefaultQuery("all", _l("All records"), {}),
        DefaultQuery("mine", _l("My records"), {"mine": "1"}),
    ]
    if hasattr(model, "created_at"):
        found.append(
            DefaultQuery(
                "created_week",
                _l("Created this week"),
                {"created": "week", "sort": "created", "dir": "desc"},
            )
        )
    if hasattr(model, "updated_at"):
        found.append(
            DefaultQuery(
                "changed_recently",
                _l("Recently changed"),
                {"changed": "7d", "sort": "updated", "dir": "desc"},
            )
        )
    return found


def clean_args(raw: str) -> str:
    """A list's query string as a saved query keeps it: paging left out, bounded."""
    pairs = [
        (key[:40], value[:200])
        for key, value in parse_qsl(raw or "", keep_blank_values=False)
        if key not in NOT_KEPT and value.strip()
    ][:MAX_ARGS]
    return urlencode(pairs)


def args_of(raw: str) -> list[tuple[str, str]]:
    return parse_qsl(raw or "")


def query_key(raw: str) -> list[tuple[str, str]]:
    """What a query string asks for, in a form equal for equal lists."""
    return sorted(args_of(clean_args(raw)))


def saved_queries(session: Session, module_key: str) -> list[SavedQuery]:
    return list(
        session.scalars(
            sa.select(SavedQuery)
            .where(SavedQuery.module == module_key)
            .order_by(SavedQuery.name, SavedQuery.id)
        )
    )


def _clean_name(session: Session, module_key: str, name: str | None, own_id=None):
    name = collapse_spaces(name or "").strip()
    if is_blank(name):
        raise QueryRefused(_l("Give the query a name."))
    if has_control_characters(name):
        raise QueryRefused(
            _l("Remove the control characters (such as NUL) from this field.")
        )
    if len(name) > MAX_NAME:
        raise QueryRefused(
            _l("A query name may be at most %(num)d characters long.", num=MAX_NAME)
        )
    same = session.scalar(
        sa.select(SavedQuery.id).where(
            SavedQuery.module == module_key,
            same_name(SavedQuery.name, name),
            *(() if own_id is None else (SavedQuery.id != own_id,)),
        )
    )
    if same is not None:
        raise QueryRefused(_l("You already have a query named “%(name)s”.", name=name))
    return name


def _commit_name(session: Session, name: str) -> None:
    try:
        commit(session)
    except IntegrityError:
        raise QueryRefused(
            _l("You already have a query named “%(name)s”.", name=name)
        ) from None


def save_query(
    session: Session, module: Module, name: str, raw_args: str
) -> SavedQuery:
    """Keep a list's query string under ``name``.

    :raise QueryRefused: no name, a name already used, or too many queries.
    """
    name = _clean_name(session, module.key, name)
    count = session.scalar(
        sa.select(sa.func.count()).where(SavedQuery.module == module.key)
    )
    if count >= MAX_PER_MODULE:
        raise QueryRefused(
            _l(
                "You have %(num)d saved queries here already; delete one first.",
                num=count,
            )
        )
    query = SavedQuery(module=module.key, name=name, args=clean_args(raw_args))
    session.add(query)
    _commit_name(session, name)
    return query


def rename_query(session: Session, query: SavedQuery, name: str) -> SavedQuery:
    name = _clean_name(session, query.module, name, own_id=query.id)
    query.name = name
    _commit_name(session, name)
    return query


def delete_query(session: Session, query: SavedQuery) -> None:
    session.delete(query)
    commit(session)
