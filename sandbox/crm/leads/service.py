"""Lead rules: saving, qualifying, assigning and converting a lead.

Conversion turns a lead into an account (new or existing), a contact (new or
existing) and, if asked, an opportunity, in one transaction: either every record,
the lead's new status and the audit rows are written, or nothing is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import url_for
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sandbox.crm.accounts.service import (
    clean_name,
    find_same_name,
    name_problem,
    similar_accounts,
)
from sandbox.crm.audit import define_action, record_action
from sandbox.crm.codes import code_list
from sandbox.crm.registry import Reminder
from sandbox.crm.service import apply_changes, commit, my_colleague_id
from sandbox.i18n import lazy_gettext as _l
from sandbox.i18n import ngettext
from sandbox.models import utcnow
from sandbox.models.crm import Account, Colleague, Contact, current_actor
from sandbox.models.crm.leads import Lead
from sandbox.models.crm.sales import Opportunity, Stage, StageHistory
from sandbox.text import is_blank

FIELDS = (
    "name",
    "company",
    "title",
    "email",
    "phone",
    "source",
    "status",
    "rating",
    "unqualified_reason",
    "industry",
    "city",
    "campaign_id",
    "owner_id",
    "notes",
)
#: Statuses a person may set by editing; "converted" only comes from conversion.
EDITABLE_STATUSES = ("new", "contacted", "qualified", "unqualified")
#: Statuses from which a lead cannot be converted.
CLOSED_STATUSES = ("converted", "unqualified")
#: Compound Chinese family names (two characters).
COMPOUND_SURNAMES = frozenset(
    {"欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "令狐", "慕容", "尉迟", "公孙"}
)

define_action("qualify", _l("Qualified %(entity)s %(record)s"))
define_action("unqualify", _l("Marked %(entity)s %(record)s as unqualified"))
define_action("assign", _l("Assigned %(entity)s %(record)s to %(owner)s"))
define_action(
    "convert",
    _l(
        "Converted %(entity)s %(record)s into account %(account)s, contact "
        "%(contact)s and opportunity %(opportunity)s"
    ),
)


class LeadError(ValueError):
    """A lead rule refused a change; ``field`` is the form field it concerns (or
    ``None`` for the lead as a whole) and the message says what to do.

    The message is translated when it is read, so services also run outside a
    request (CLI commands, lesson checks).
    """

    def __init__(self, message: object, field: str | None = None) -> None:
        super().__init__(message)
        self._message = message
        self.field = field

    @property
    def message(self) -> str:
        return str(self._message)


class NotConvertible(LeadError):
    """The lead is converted or unqualified, so it cannot be converted."""


class SimilarAccountsExist(LeadError):
    """A new account was asked for, but accounts with a similar name exist and the
    user has not chosen to create one anyway; ``accounts`` are those accounts."""

    def __init__(self, accounts: list[Account]) -> None:
        super().__init__(
            _l(
                "Accounts with a similar name exist (see above). Choose one of "
                "them, or tick “Create a new account anyway”."
            ),
            "create_anyway",
        )
        self.accounts = accounts


# --------------------------------------------------------------------- records


def reason_problem(status: str | None, reason: str | None) -> LeadError | None:
    """Why a lead with ``status`` cannot have ``reason`` (an unqualified lead needs
    one), or None; the rule the lead form and the import share."""
    if status == "unqualified" and not reason:
        return LeadError(_l("Say why the lead is unqualified."), "unqualified_reason")
    return None


def _check_status(lead: Lead) -> None:
    if lead.status not in EDITABLE_STATUSES:
        raise LeadError(_l("Choose a status from the list."), "status")
    problem = reason_problem(lead.status, lead.unqualified_reason)
    if problem is not None:
        raise problem
    if lead.status != "unqualified":
        lead.unqualified_reason = None


def create_lead(session: Session, data: dict[str, Any]) -> Lead:
    """:raise LeadError: the status or reason break a rule (nothing is written)."""
    lead = Lead(status="new")
    apply_changes(lead, data, FIELDS)
    lead.status = lead.status or "new"
    _check_status(lead)
    session.add(lead)
    commit(session)
    return lead


def update_lead(session: Session, lead: Lead, data: dict[str, Any]) -> Lead:
    """:raise LeadError: the lead is converted (read-only), or the status or
    reason break a rule (nothing is written)."""
    if lead.status == "converted":
        raise LeadError(converted_message(lead))
    apply_changes(lead, data, FIELDS)
    try:
        _check_status(lead)
    except LeadError:
        session.rollback()
        raise
    commit(session)
    return lead


def converted_message(lead: Lead) -> object:
    return _l(
        "Lead “%(name)s” is already converted; it cannot be changed or "
        "converted again.",
        name=lead.name,
    )


def qualify_lead(session: Session, lead: Lead) -> Lead:
    """Mark ``lead`` qualified (from new, contacted or unqualified).

    :raise LeadError: the lead is converted or already qualified.
    """
    if lead.status == "converted":
        raise LeadError(converted_message(lead))
    if lead.status == "qualified":
        raise LeadError(_l("Lead “%(name)s” is already qualified.", name=lead.name))
    lead.status = "qualified"
    lead.unqualified_reason = None
    record_action(lead, "qualify")
    commit(session)
    return lead


def unqualify_lead(session: Session, lead: Lead, reason: str | None) -> Lead:
    """Mark ``lead`` unqualified for ``reason`` (a code of ``unqualified_reason``).

    :raise LeadError: no valid reason, or the lead is converted.
    """
    if lead.status == "converted":
        raise LeadError(converted_message(lead))
    if not reason or reason not in code_list("unqualified_reason").active_codes():
        raise LeadError(
            _l("Choose the reason the lead is unqualified."), "unqualified_reason"
        )
    lead.status = "unqualified"
    lead.unqualified_reason = reason
    record_action(lead, "unqualify", {"reason": reason})
    commit(session)
    return lead


def assign_leads(session: Session, leads: list[Lead], owner_id: int | None) -> int:
    """Give ``leads`` to colleague ``owner_id``; returns how many changed hands.

    Leads the colleague already owns are left alone; converted leads too.

    :raise LeadError: no such active colleague (nothing is written).
    """
    owner = session.get(Colleague, owner_id) if owner_id else None
    if owner is None or not owner.active:
        raise LeadError(_l("Choose a colleague to assign the leads to."), "owner_id")
    changed = 0
    for lead in leads:
        if lead.owner_id == owner.id or lead.status == "converted":
            continue
        lead.owner_id = owner.id
        record_action(lead, "assign", {"owner": owner.name, "owner_id": owner.id})
        changed += 1
    commit(session)
    return changed


# ------------------------------------------------------------------ workbench


def lead_todos(session: Session) -> list[Reminder]:
    """New leads the student owns and has not contacted yet."""
    me = my_colleague_id(session)
    if me is None:
        return []
    waiting = session.scalar(
        sa.select(sa.func.count())
        .select_from(Lead)
        .where(Lead.owner_id == me, Lead.status == "new")
    )
    if not waiting:
        return []
    return [
        Reminder(
            ngettext(
                "%(num)d new lead of yours to contact",
                "%(num)d new leads of yours to contact",
                waiting,
            ),
            url_for("leads.index", view="mine", status="new"),
            "primary",
        )
    ]


def lead_reminders(session: Session) -> list[Reminder]:
    """Hot leads nobody owns: they cool down while they wait."""
    waiting = session.scalar(
        sa.select(sa.func.count())
        .select_from(Lead)
        .where(
            Lead.owner_id.is_(None),
            Lead.rating == "hot",
            Lead.status.in_(("new", "contacted", "qualified")),
        )
    )
    if not waiting:
        return []
    return [
        Reminder(
            ngettext(
                "%(num)d hot lead waits unassigned",
                "%(num)d hot leads wait unassigned",
                waiting,
            ),
            url_for("leads.index", view="unassigned", rating="hot"),
            "danger",
        )
    ]


# ------------------------------------------------------------------ conversion


def split_name(name: str) -> tuple[str, str]:
    """A person's name as ``(first name, last name)``: "Ann Lee" → ("Ann", "Lee"),
    王小明 → ("小明", "王"), 欧阳娜娜 → ("娜娜", "欧阳")."""
    name = (name or "").strip()
    if any("\u4e00" <= ch <= "\u9fff" for ch in name) and " " not in name:
        size = 2 if name[:2] in COMPOUND_SURNAMES and len(name) > 2 else 1
        return name[size:], name[:size]
    first, _sep, last = name.rpartition(" ")
    return first.strip(), last


def open_stages(session: Session) -> list[Stage]:
    """The stages a new opportunity may start in, in sales-process order."""
    return list(
        session.scalars(
            sa.select(Stage).where(Stage.is_closed.is_(False)).order_by(Stage.position)
        )
    )


@dataclass
class Conversion:
    """What the user chose on the conversion page.

    The account is ``account_id`` (an existing one) or a new one named
    ``account_name``; ``create_anyway`` confirms a new account although similar
    ones exist. The contact is ``contact_id`` or a new one named ``first_name`` /
    ``last_name``. An opportunity is made unless ``opportunity_name`` is ``None``.
    """

    account_id: int | None = None
    account_name: str | None = None
    create_anyway: bool = False
    contact_id: int | None = None
    first_name: str | None = None
    last_name: str | None = None
    opportunity_name: str | None = None
    amount: Decimal | None = None
    close_date: dt.date | None = None
    stage_id: int | None = None
    owner_id: int | None = None


@dataclass
class Converted:
    """What a conversion produced (and whether each record is new)."""

    lead: Lead
    account: Account
    contact: Contact
    opportunity: Opportunity | None
    new_account: bool
    new_contact: bool


def ensure_convertible(lead: Lead) -> None:
    """:raise NotConvertible: the lead is converted or unqualified."""
    if lead.status == "converted":
        raise NotConvertible(converted_message(lead))
    if lead.status == "unqualified":
        raise NotConvertible(
            _l(
                "Lead “%(name)s” is unqualified and cannot be converted. Qualify it "
                "first if it has become a real prospect.",
                name=lead.name,
            )
        )


def convert_lead(session: Session, lead: Lead, choice: Conversion) -> Converted:
    """Convert ``lead`` as ``choice`` says, all in one transaction.

    :raise LeadError: a choice is refused (see the message and ``field``); nothing
        is written then, nor on any other error.
    """
    try:
        _claim(session, lead)
        with session.no_autoflush:
            stage = _check_opportunity(session, choice)
            account, new_account, similar = _account_for(session, lead, choice)
            contact, new_contact = _contact_for(session, lead, choice, account)
        session.flush()
        opportunity = (
            _create_opportunity(
                session, lead, choice, stage, account, contact, new_account
            )
            if stage is not None
            else None
        )
        lead.status = "converted"
        lead.converted_at = utcnow()
        lead.converted_account_id = account.id
        lead.converted_contact_id = contact.id
        lead.converted_opportunity_id = opportunity.id if opportunity else None
        details: dict[str, Any] = {
            "account": account.name,
            "account_id": account.id,
            "new_account": new_account,
            "contact": contact.full_name,
            "contact_id": contact.id,
            "new_contact": new_contact,
            "opportunity": opportunity.name if opportunity else "—",
            "opportunity_id": opportunity.id if opportunity else None,
        }
        if similar:
            # The user saw these and chose a new account anyway: keep the evidence,
            # on the lead and, as the accounts module does, on the new account.
            details["created_despite_similar"] = [a.name for a in similar]
            record_action(
                account,
                "create_despite_duplicates",
                {"similar": ", ".join(a.name for a in similar)},
            )
        record_action(lead, "convert", details)
        session.commit()
    except IntegrityError:
        session.rollback()
        if choice.account_id is None and choice.account_name:
            same = find_same_name(session, choice.account_name)
            if same is not None:
                raise _name_taken(same) from None
        raise
    except Exception:
        session.rollback()
        raise
    return Converted(lead, account, contact, opportunity, new_account, new_contact)


def _claim(session: Session, lead: Lead) -> None:
    """Take the database's write lock and check, under it, that ``lead`` can still
    be converted; a second conversion (a double-click) then waits for the first
    and is refused, instead of converting the lead twice.

    The statement writes the status the row already has, so it changes nothing
    the audit log would miss.

    :raise NotConvertible: the lead is converted or unqualified (by now).
    """
    ensure_convertible(lead)
    table = Lead.__table__
    claimed = session.connection(bind_arguments={"mapper": Lead}).execute(
        sa.update(table)
        .where(table.c.id == lead.id, table.c.status.not_in(CLOSED_STATUSES))
        .values(status=table.c.status)
    )
    if claimed.rowcount != 1:
        try:
            session.refresh(lead)
        except sa.orm.exc.ObjectDeletedError:
            raise NotConvertible(_l("This lead no longer exists.")) from None
        ensure_convertible(lead)
        raise NotConvertible(converted_message(lead))


def _name_taken(account: Account) -> LeadError:
    return LeadError(
        _l(
            "An account named “%(name)s” already exists; choose it as the existing "
            "account instead.",
            name=account.name,
        ),
        "account_name",
    )


def _account_for(
    session: Session, lead: Lead, choice: Conversion
) -> tuple[Account, bool, list[Account]]:
    if choice.account_id is not None:
        account = session.get(Account, choice.account_id)
        if account is None:
            raise LeadError(_l("The chosen account no longer exists."), "account_id")
        if account.inactive:
            raise LeadError(
                _l(
                    "Account “%(name)s” is inactive and cannot take new records.",
                    name=account.name,
                ),
                "account_id",
            )
        return account, False, []
    name = clean_name(choice.account_name)
    if is_blank(name):
        raise LeadError(_l("Enter the new account's name."), "account_name")
    problem = name_problem(name)
    if problem is not None:
        raise LeadError(problem, "account_name")
    same = find_same_name(session, name)
    if same is not None:
        raise _name_taken(same)
    similar = similar_accounts(session, name)
    if similar and not choice.create_anyway:
        raise SimilarAccountsExist(similar)
    # Lead and account sources are different lists; carry over the shared codes.
    source = lead.source if code_list("account_source").get(lead.source) else None
    account = Account(
        name=name,
        industry=lead.industry,
        city=lead.city,
        source=source,
        owner_id=choice.owner_id,
    )
    session.add(account)
    return account, True, similar


def _contact_for(
    session: Session, lead: Lead, choice: Conversion, account: Account
) -> tuple[Contact, bool]:
    if choice.contact_id is not None:
        contact = session.get(Contact, choice.contact_id)
        if contact is None:
            raise LeadError(_l("The chosen contact no longer exists."), "contact_id")
        if contact.account_id is None:
            contact.account = account
        elif contact.account_id != account.id:
            raise LeadError(
                _l(
                    "%(contact)s works at %(account)s. Choose a contact of the chosen "
                    "account, or create a new contact.",
                    contact=contact.full_name,
                    account=contact.account.name,
                ),
                "contact_id",
            )
        return contact, False
    last_name = (choice.last_name or "").strip()
    if is_blank(last_name):
        raise LeadError(_l("Enter the new contact's last name."), "last_name")
    contact = Contact(
        account=account,
        first_name=(choice.first_name or "").strip() or None,
        last_name=last_name,
        title=lead.title,
        email=lead.email,
        phone=lead.phone,
    )
    session.add(contact)
    return contact, True


def _check_opportunity(session: Session, choice: Conversion) -> Stage | None:
    """The opportunity's stage, once its choices are checked; ``None``: no deal."""
    if choice.opportunity_name is None:
        return None
    if is_blank(choice.opportunity_name):
        raise LeadError(_l("Enter the opportunity's name."), "opportunity_name")
    stage = session.get(Stage, choice.stage_id) if choice.stage_id else None
    if stage is None or stage.is_closed:
        raise LeadError(_l("Choose an open stage."), "stage_id")
    if choice.close_date is None:
        raise LeadError(_l("Enter the expected close date."), "close_date")
    if choice.amount is not None and choice.amount < 0:
        raise LeadError(_l("The amount cannot be negative."), "amount")
    return stage


def _create_opportunity(
    session: Session,
    lead: Lead,
    choice: Conversion,
    stage: Stage,
    account: Account,
    contact: Contact,
    new_account: bool,
) -> Opportunity:
    opportunity = Opportunity(
        name=choice.opportunity_name,
        account_id=account.id,
        contact_id=contact.id,
        amount=choice.amount,
        close_date=choice.close_date,
        stage_id=stage.id,
        probability=stage.probability,
        forecast_category=stage.forecast_category,
        opportunity_type="new_business" if new_account else "existing_business",
        lead_source=lead.source,
        campaign_id=lead.campaign_id,
        owner_id=choice.owner_id,
        last_activity_at=utcnow(),
    )
    session.add(opportunity)
    session.flush()
    session.add(
        StageHistory(
            opportunity_id=opportunity.id,
            at=utcnow(),
            actor=current_actor(),
            stage_id=stage.id,
            amount=opportunity.amount,
            probability=opportunity.probability,
            close_date=opportunity.close_date,
            forecast_category=opportunity.forecast_category,
        )
    )
    return opportunity
