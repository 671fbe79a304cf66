"""What an import reads for each module: its columns, how every cell is checked, and
how a row finds the record it updates instead of creating a duplicate.

A module's spec is ``Module.extra["import_spec"]`` when the module gives one, else
the one defined here for its key (accounts, contacts, leads, products).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.orm import Session

from sandbox.crm.codes import code_list
from sandbox.crm.forms import label_for
from sandbox.i18n import gettext as _
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm import Account, Colleague, Contact
from sandbox.models.crm.leads import Lead
from sandbox.models.crm.products import Product, ProductCategory
from sandbox.text import fold, is_blank, name_key

MAX_AMOUNT = Decimal(10**13)
# Unicode's control characters (category Cc), as sandbox.text refuses them; tabs and
# line breaks are allowed in multi-line text.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: A number whose commas, if any, separate thousands: 1,234.50 but not 1234,50.
_THOUSANDS = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d*)(?:\.\d*)?")


class CellError(ValueError):
    """A cell's value cannot be used; ``message`` says why, for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InactiveValue(CellError):
    """The cell names a deactivated colleague or code entry: kept as the value a
    record already has (as its edit form keeps it), refused as a new value.
    ``value`` is what the cell reads as."""

    def __init__(self, message: str, value: Any) -> None:
        super().__init__(message)
        self.value = value


class Lookups:
    """The records cells refer to by name, each kind read once per import."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._cache: dict[str, dict[str, list[int]]] = {}
        self._codes: dict[str, dict[str, str]] = {}

    def _index(self, kind: str, rows: Callable[[], Any]) -> dict[str, list[int]]:
        if kind not in self._cache:
            index: dict[str, list[int]] = {}
            for record_id, *names in rows():
                for name in {fold(n) for n in names if n}:
                    index.setdefault(name, []).append(record_id)
            self._cache[kind] = index
        return self._cache[kind]

    def colleagues(self, *, active: bool = True) -> dict[str, list[int]]:
        """Active colleagues (or, if not ``active``, the others) by name and email."""
        return self._index(
            "colleague" if active else "colleague:inactive",
            lambda: self.session.execute(
                sa.select(Colleague.id, Colleague.name, Colleague.email).where(
                    Colleague.active.is_(active)
                )
            ),
        )

    def accounts(self) -> dict[str, list[int]]:
        return self._index(
            "account",
            lambda: self.session.execute(sa.select(Account.id, Account.name_key)),
        )

    def codes(
        self, list_key: str, exclude: tuple[str, ...], *, active: bool = True
    ) -> dict[str, str]:
        """Each active entry's (or, if not ``active``, each other entry's) code and
        labels, folded, to its code."""
        kind = f"codes:{list_key}:{','.join(exclude)}:{active}"
        if kind not in self._codes:
            index: dict[str, str] = {}
            for item in code_list(list_key):
                if item.active is active and item.code not in exclude:
                    for name in (item.code, item.en, item.zh):
                        index.setdefault(fold(name), item.code)
            self._codes[kind] = index
        return self._codes[kind]

    def categories(self) -> dict[str, list[int]]:
        return self._index(
            "category",
            lambda: self.session.execute(
                sa.select(ProductCategory.id, ProductCategory.name)
            ),
        )


Parser = Callable[[str, Lookups], Any]


@dataclass(frozen=True)
class ImportField:
    """One column an import understands.

    :param name: the model attribute it fills (a ``pseudo`` field is turned into
        attributes by the spec's ``prepare``)
    :param required: a new record needs a value
    :param hint: what the column accepts, for the import page and the template
    """

    name: str
    label: object
    parse: Parser
    required: bool = False
    hint: Callable[[], str] | None = None
    pseudo: bool = False


@dataclass(frozen=True)
class MatchKey:
    """How a row finds the record it updates: a key read from the row and the same
    key read from each existing record (``columns`` → ``existing_key``).

    ``fields`` are the fields the key is made of: a row matched by it keeps the
    record's own spelling of them ("ACME LTD." does not rename "Acme Ltd").
    """

    label: object
    row_key: Callable[[dict[str, Any]], str | None]
    columns: tuple[Any, ...]
    existing_key: Callable[[tuple[Any, ...]], str | None]
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImportSpec:
    """A module's import: its model, columns and match keys.

    A row is matched by the first key it has a value for; ``required_columns``
    lists groups of fields of which the file must have at least one column each.
    """

    model: type
    fields: tuple[ImportField, ...]
    keys: tuple[MatchKey, ...]
    name: Callable[[dict[str, Any]], str]
    required_columns: tuple[tuple[str, ...], ...] = ()
    prepare: Callable[[dict[str, Any]], None] | None = None
    #: ``check(values, record)`` is the module's own rule for a row once matched
    #: (``record`` is None for a new one): the reason it is refused, or None.
    check: Callable[[dict[str, Any], Any], str | None] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def field(self, name: str) -> ImportField:
        return next(f for f in self.fields if f.name == name)

    def attributes(self, values: dict[str, Any]) -> dict[str, Any]:
        """``values`` without the pseudo fields: what is set on the record."""
        pseudo = self.pseudo_fields
        return {k: v for k, v in values.items() if k not in pseudo}

    @cached_property
    def pseudo_fields(self) -> frozenset[str]:
        return frozenset(f.name for f in self.fields if f.pseudo)


# ------------------------------------------------------------------------ parsers


def text(max_length: int, *, multiline: bool = False) -> Parser:
    def parse(value: str, _lookups: Lookups) -> str | None:
        if is_blank(value):
            return None
        value = value.strip()
        if (_CONTROL_IN_TEXT if multiline else _CONTROL).search(value):
            raise CellError(_("Remove the control characters (such as NUL)."))
        if len(value) > max_length:
            raise CellError(
                _(
                    "At most %(max)d characters (this has %(count)d).",
                    max=max_length,
                    count=len(value),
                )
            )
        return value

    return parse


def email(value: str, lookups: Lookups) -> str | None:
    address = text(254)(value, lookups)
    if address is None:
        return None
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        raise CellError(
            _("“%(value)s” is not a valid email address.", value=address)
        ) from None
    return address


def code(list_key: str, *, exclude: tuple[str, ...] = ()) -> Parser:
    """A code list entry, given by its code or by its English or Chinese label."""

    def parse(value: str, lookups: Lookups) -> str | None:
        if is_blank(value):
            return None
        found = lookups.codes(list_key, exclude).get(fold(value))
        if found is not None:
            return found
        message = _(
            "“%(value)s” is not one of: %(choices)s.",
            value=value.strip(),
            choices=code_hint(list_key, exclude)(),
        )
        inactive = lookups.codes(list_key, exclude, active=False).get(fold(value))
        if inactive is not None:
            raise InactiveValue(message, inactive)
        raise CellError(message)

    return parse


def code_hint(list_key: str, exclude: tuple[str, ...] = ()) -> Callable[[], str]:
    """The labels a code column accepts, in the user's language."""

    def hint() -> str:
        labels = [
            item.label
            for item in code_list(list_key)
            if item.active and item.code not in exclude
        ]
        return ("、" if _chinese() else ", ").join(labels)

    return hint


def _chinese() -> bool:
    from flask import has_request_context

    from sandbox.i18n import current_language

    return has_request_context() and current_language() == "zh"


def _number_text(value: str, noise: tuple[str, ...] = ()) -> str:
    """``value`` without spaces, ``noise`` and thousands separators.

    :raise CellError: a comma that is no thousands separator: "1234,50" and "1,5"
        may be decimal commas, and reading them as thousands would import a number
        a hundred or ten times too large.
    """
    cleaned = unicodedata.normalize("NFKC", value)
    for character in (" ", *noise):
        cleaned = cleaned.replace(character, "")
    if "," in cleaned:
        if not _THOUSANDS.fullmatch(cleaned):
            raise CellError(
                _(
                    "“%(value)s” is unclear: use a point for decimals and commas "
                    "only between thousands, such as 1234.50 or 1,234.50.",
                    value=value.strip(),
                )
            )
        cleaned = cleaned.replace(",", "")
    return cleaned


def money(value: str, _lookups: Lookups) -> Decimal | None:
    cleaned = _number_text(value, ("¥", "$", "€", "£"))
    if not cleaned:
        return None
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        amount = None
    if (
        amount is None
        or not amount.is_finite()
        or amount.as_tuple().exponent < -2
        or not (0 <= amount < MAX_AMOUNT)
    ):
        raise CellError(
            _(
                "Enter an amount of at least 0 with at most two decimals, such as "
                "1234.50."
            )
        )
    return amount.quantize(Decimal("0.01"))


def integer(low: int, high: int) -> Parser:
    def parse(value: str, _lookups: Lookups) -> int | None:
        cleaned = _number_text(value)
        if not cleaned:
            return None
        try:
            number = Decimal(cleaned)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or number != number.to_integral():
            raise CellError(_("Enter a whole number."))
        if not (low <= number <= high):
            raise CellError(
                _("Enter a number from %(low)d to %(high)d.", low=low, high=high)
            )
        return int(number)

    return parse


def yes_no(value: str, _lookups: Lookups) -> bool | None:
    folded = fold(value)
    if not folded:
        return None
    if folded in {"yes", "y", "true", "1", "是", "有效", "active"}:
        return True
    if folded in {"no", "n", "false", "0", "否", "无效", "inactive"}:
        return False
    raise CellError(_("Enter Yes or No."))


def _one(
    index: dict[str, list[int]],
    value: str,
    missing: Callable[[], str],
    many: Callable[[], str],
) -> int:
    ids = index.get(fold(value), [])
    if len(ids) == 1:
        return ids[0]
    raise CellError(many() if ids else missing())


def colleague(value: str, lookups: Lookups) -> int | None:
    if is_blank(value):
        return None
    name = value.strip()

    def missing() -> str:
        return _("No active colleague is called “%(name)s”.", name=name)

    if fold(name) not in lookups.colleagues():
        former = lookups.colleagues(active=False).get(fold(name), [])
        if len(former) == 1:
            raise InactiveValue(missing(), former[0])
    return _one(
        lookups.colleagues(),
        name,
        missing,
        lambda: _(
            "Several colleagues are called “%(name)s”: use their email.", name=name
        ),
    )


def account(value: str, lookups: Lookups) -> int | None:
    if is_blank(value):
        return None
    name = value.strip()
    ids = lookups.accounts().get(name_key(name), [])
    if not ids:
        raise CellError(
            _("No account is called “%(name)s”: import or create it first.", name=name)
        )
    return ids[0]


def category(value: str, lookups: Lookups) -> int | None:
    if is_blank(value):
        return None
    name = value.strip()
    return _one(
        lookups.categories(),
        name,
        lambda: _("No product category is called “%(name)s”.", name=name),
        lambda: _("Several product categories are called “%(name)s”.", name=name),
    )


def split_name(full: str, _lookups: Lookups) -> tuple[str | None, str] | None:
    """A full name as (first, last): 王小明 → (小明, 王); Ann Lee → (Ann, Lee)."""
    name = text(161)(full, _lookups)
    if name is None:
        return None
    if any("\u4e00" <= ch <= "\u9fff" for ch in name) and " " not in name:
        return (name[1:] or None, name[0])
    first, _sep, last = name.rpartition(" ")
    return (first.strip() or None, last)


def _hint(message: object) -> Callable[[], str]:
    return lambda: str(message)


MONEY_HINT = _hint(_l("A number such as 1234.50"))
COLLEAGUE_HINT = _hint(_l("A colleague's name or email"))
ACCOUNT_HINT = _hint(_l("The name of an existing account"))
EMAIL_HINT = _hint(_l("An email address"))
YES_NO_HINT = _hint(_l("Yes or No"))


def _field(model: type, name: str, parse: Parser, **options: Any) -> ImportField:
    return ImportField(name, label_for(model, name), parse, **options)


def _code_field(model: type, name: str, **options: Any) -> ImportField:
    codes = model.__table__.columns[name].info["codes"]
    exclude = options.pop("exclude", ())
    return _field(
        model,
        name,
        code(codes, exclude=exclude),
        hint=code_hint(codes, exclude),
        **options,
    )


def _email_key(model: type) -> MatchKey:
    return MatchKey(
        label=label_for(model, "email"),
        row_key=lambda v: fold(v["email"]) if v.get("email") else None,
        columns=(model.email,),
        existing_key=lambda row: fold(row[0]) if row[0] else None,
        fields=("email",),
    )


# ----------------------------------------------------------------------- accounts


def _account_name(value: str, lookups: Lookups) -> str | None:
    from sandbox.crm.accounts.service import clean_name

    name = text(200)(value, lookups)
    return clean_name(name) if name is not None else None


def _check_account(values: dict[str, Any], account: Account | None) -> str | None:
    """The account rules a form save applies: naming rules for a new name, and no
    change to an inactive account."""
    from sandbox.crm.accounts.service import AccountInactive, name_problem

    if account is not None:
        return str(AccountInactive(account)) if account.inactive else None
    problem = name_problem(values.get("name") or "")
    return str(problem) if problem is not None else None


ACCOUNTS = ImportSpec(
    model=Account,
    fields=(
        _field(Account, "name", _account_name, required=True),
        _code_field(Account, "account_type"),
        _code_field(Account, "industry"),
        _code_field(Account, "source"),
        _code_field(Account, "status"),
        _code_field(Account, "intention"),
        _code_field(Account, "rating"),
        _field(Account, "phone", text(40)),
        _field(Account, "email", email, hint=EMAIL_HINT),
        _field(Account, "website", text(200)),
        _field(Account, "address", text(300)),
        _field(Account, "city", text(100)),
        _field(Account, "country", text(100)),
        _field(Account, "annual_revenue", money, hint=MONEY_HINT),
        _field(Account, "employees", integer(0, 10**8)),
        _field(Account, "owner_id", colleague, hint=COLLEAGUE_HINT),
        _field(Account, "description", text(5000, multiline=True)),
    ),
    keys=(
        MatchKey(
            label=label_for(Account, "name"),
            row_key=lambda v: name_key(v["name"]) if v.get("name") else None,
            columns=(Account.name_key,),
            existing_key=lambda row: row[0],
            fields=("name",),
        ),
    ),
    name=lambda v: v.get("name") or "",
    required_columns=(("name",),),
    check=_check_account,
)


# ----------------------------------------------------------------------- contacts


def _contact_name(values: dict[str, Any]) -> str:
    if not values.get("last_name"):
        return ""
    return Contact(
        first_name=values.get("first_name"), last_name=values["last_name"]
    ).full_name


def _prepare_contact(values: dict[str, Any]) -> None:
    full = values.pop("full_name", None)
    if full is not None and not values.get("last_name"):
        values["last_name"] = full[1]
        if not values.get("first_name") and full[0]:
            values["first_name"] = full[0]
    for part, limit in (("first_name", 80), ("last_name", 80)):
        if values.get(part) and len(values[part]) > limit:
            raise CellError(
                _(
                    "%(field)s: at most %(max)d characters.",
                    field=label_for(Contact, part),
                    max=limit,
                )
            )


CONTACTS = ImportSpec(
    model=Contact,
    fields=(
        _field(Contact, "last_name", text(80), required=True),
        _field(Contact, "first_name", text(80)),
        ImportField(
            "full_name",
            _l("Name"),
            split_name,
            pseudo=True,
            hint=_hint(_l("The full name, used when there is no Last name column")),
        ),
        _field(Contact, "account_id", account, hint=ACCOUNT_HINT),
        _field(Contact, "title", text(120)),
        _field(Contact, "department", text(120)),
        _field(Contact, "email", email, hint=EMAIL_HINT),
        _field(Contact, "phone", text(40)),
        _field(Contact, "mobile", text(40)),
        _field(Contact, "notes", text(5000, multiline=True)),
    ),
    keys=(
        _email_key(Contact),
        MatchKey(
            label=_l("Name"),
            row_key=lambda v: name_key(_contact_name(v)) or None,
            columns=(Contact.display_expression(),),
            existing_key=lambda row: name_key(row[0] or ""),
            fields=("first_name", "last_name"),
        ),
    ),
    name=_contact_name,
    required_columns=(("last_name", "full_name"),),
    prepare=_prepare_contact,
)


# -------------------------------------------------------------------------- leads


def _prepare_lead(values: dict[str, Any]) -> None:
    """A reason belongs to an unqualified lead only: any other status clears it, as
    saving the lead form does."""
    if values.get("status") not in (None, "unqualified"):
        values["unqualified_reason"] = None


def _check_lead(values: dict[str, Any], lead: Lead | None) -> str | None:
    """The lead form's rule: an unqualified lead says why."""
    from sandbox.crm.leads.service import reason_problem

    status = values.get("status") or (lead.status if lead else None)
    if "unqualified_reason" in values or lead is None:
        reason = values.get("unqualified_reason")
    else:
        reason = lead.unqualified_reason
    problem = reason_problem(status, reason)
    return problem.message if problem is not None else None


LEADS = ImportSpec(
    model=Lead,
    fields=(
        _field(Lead, "name", text(120), required=True),
        _field(Lead, "company", text(200)),
        _field(Lead, "title", text(120)),
        _field(Lead, "email", email, hint=EMAIL_HINT),
        _field(Lead, "phone", text(40)),
        _code_field(Lead, "source"),
        # Converting is an action with its own records; an import cannot do it.
        _code_field(Lead, "status", exclude=("converted",)),
        _code_field(Lead, "unqualified_reason"),
        _code_field(Lead, "rating"),
        _code_field(Lead, "industry"),
        _field(Lead, "city", text(100)),
        _field(Lead, "owner_id", colleague, hint=COLLEAGUE_HINT),
        _field(Lead, "notes", text(5000, multiline=True)),
    ),
    keys=(
        _email_key(Lead),
        MatchKey(
            label=_l("Lead name and company"),
            row_key=lambda v: (
                f"{name_key(v['name'])}\x1f{name_key(v.get('company') or '')}"
                if v.get("name")
                else None
            ),
            columns=(Lead.name, Lead.company),
            existing_key=lambda row: (
                f"{name_key(row[0] or '')}\x1f{name_key(row[1] or '')}"
            ),
            fields=("name", "company"),
        ),
    ),
    name=lambda v: (
        f"{v.get('name') or ''} ({v['company']})"
        if v.get("company")
        else v.get("name") or ""
    ),
    required_columns=(("name",),),
    prepare=_prepare_lead,
    check=_check_lead,
)


# ----------------------------------------------------------------------- products

PRODUCTS = ImportSpec(
    model=Product,
    fields=(
        _field(Product, "code", text(40), required=True),
        _field(Product, "name", text(200), required=True),
        _field(
            Product,
            "category_id",
            category,
            hint=_hint(_l("The name of an existing product category")),
        ),
        _code_field(Product, "unit"),
        _field(Product, "list_price", money, required=True, hint=MONEY_HINT),
        _field(Product, "cost", money, hint=MONEY_HINT),
        _field(Product, "active", yes_no, hint=YES_NO_HINT),
        _field(Product, "description", text(5000, multiline=True)),
    ),
    keys=(
        MatchKey(
            label=label_for(Product, "code"),
            row_key=lambda v: fold(v["code"]) if v.get("code") else None,
            columns=(Product.code,),
            existing_key=lambda row: fold(row[0] or ""),
            fields=("code",),
        ),
    ),
    name=lambda v: (
        f"{v.get('name') or ''} ({v['code']})" if v.get("code") else v.get("name", "")
    ),
    required_columns=(("code",),),
)


SPECS: dict[str, ImportSpec] = {
    "accounts": ACCOUNTS,
    "contacts": CONTACTS,
    "leads": LEADS,
    "products": PRODUCTS,
}


def import_spec(module: Any) -> ImportSpec | None:
    """The import of ``module`` (a :class:`~sandbox.crm.registry.Module`), if any."""
    return module.extra.get("import_spec") or SPECS.get(module.key)
