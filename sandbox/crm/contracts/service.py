"""Contract rules: numbers, lines, the approval by the sales manager, renewals.

A contract goes Draft → In approval → Active → Completed, or from Active to
Terminated (a reason is required). Only a draft is edited or deleted.

**Approval.** The scenario's virtual sales manager (the first active colleague whose
role is ``sales_manager``) decides, following rules kept per tenant in
``tenant_info`` (each key falls back to its default when unset or unreadable):

``contract_auto_approve_discount`` (default ``10``)
    A contract whose highest line discount is at most this many percent is approved
    at once when it is submitted.
``contract_manager_max_discount`` (default ``25``)
    Above the automatic limit a written justification is required to submit; the
    manager then approves a justified discount up to this many percent and rejects a
    higher one, giving the rule as the reason. A rejected contract goes back to
    Draft with the reason shown, to be revised and submitted again.
``contract_renewal_days`` (default ``30``)
    An active contract appears on the workbench this many days before its end date.

The decision is :func:`manager_decision`, a pure function of the discount, the
justification and the rules, so the same contract always gets the same answer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from sandbox.crm import lines as product_lines
from sandbox.crm.audit import define_action, record_action
from sandbox.crm.display import join_list, percent
from sandbox.crm.service import commit
from sandbox.i18n import gettext as _
from sandbox.i18n import lazy_gettext as _l
from sandbox.models import utcnow
from sandbox.models.crm import Colleague, Contact, TenantInfo
from sandbox.models.crm.contracts import Contract, ContractLine
from sandbox.models.crm.sales import Opportunity

MANAGER_ROLE = "sales_manager"

#: tenant_info key -> default: the approval and renewal rules (see the docstring).
RULE_DEFAULTS = {
    "contract_auto_approve_discount": Decimal("10"),
    "contract_manager_max_discount": Decimal("25"),
    "contract_renewal_days": 30,
}

define_action(
    "contract_from_opportunity",
    _l("Created %(entity)s %(record)s from opportunity %(opportunity)s"),
)
define_action(
    "contract_made", _l("Made contract %(number)s from %(entity)s %(record)s")
)
define_action(
    "contract_submit",
    _l(
        "Submitted %(entity)s %(record)s for approval "
        "(highest discount %(discount)s %%)"
    ),
)
define_action(
    "contract_approve", _l("%(approver)s approved %(entity)s %(record)s: %(reason)s")
)
define_action(
    "contract_reject", _l("%(approver)s rejected %(entity)s %(record)s: %(reason)s")
)
define_action("contract_withdraw", _l("Withdrew %(entity)s %(record)s from approval"))
define_action("contract_complete", _l("Completed %(entity)s %(record)s"))
define_action("contract_terminate", _l("Terminated %(entity)s %(record)s: %(reason)s"))

CONTRACT_FIELDS = (
    "title",
    "account_id",
    "contact_id",
    "owner_id",
    "signed_on",
    "start_date",
    "end_date",
    "payment_terms",
    "description",
)


class ContractRefused(ValueError):
    """The contract's state or the input does not allow the change; ``field`` is the
    form field at fault (None when the action itself is not allowed)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# ------------------------------------------------------------------ rules


@dataclass(frozen=True)
class ApprovalRules:
    auto_approve_discount: Decimal
    manager_max_discount: Decimal
    renewal_days: int


def approval_rules(session: Session) -> ApprovalRules:
    """The tenant's approval and renewal rules, defaults where unset or unreadable."""
    stored = dict(
        session.execute(
            sa.select(TenantInfo.key, TenantInfo.value).where(
                TenantInfo.key.in_(RULE_DEFAULTS)
            )
        ).all()
    )
    values: dict[str, Any] = {}
    for key, default in RULE_DEFAULTS.items():
        raw = stored.get(key)
        try:
            value = type(default)(raw.strip()) if raw is not None else default
        except (ValueError, InvalidOperation, TypeError):
            value = default
        if isinstance(value, Decimal) and not (0 <= value <= 100):
            value = default
        if isinstance(value, int) and value < 0:
            value = default
        values[key] = value
    return ApprovalRules(
        values["contract_auto_approve_discount"],
        values["contract_manager_max_discount"],
        values["contract_renewal_days"],
    )


def sales_manager(session: Session) -> Colleague | None:
    """The virtual sales manager who approves contracts."""
    return session.scalars(
        sa.select(Colleague)
        .where(Colleague.role == MANAGER_ROLE, Colleague.active)
        .order_by(Colleague.id)
        .limit(1)
    ).first()


def highest_discount(contract: Contract) -> Decimal:
    """The largest discount on any of the contract's lines (0 without lines)."""
    return max((line.discount for line in contract.lines), default=Decimal("0.00"))


@dataclass(frozen=True)
class Decision:
    approved: bool
    reason: str


def manager_decision(
    discount: Decimal, justification: str | None, rules: ApprovalRules
) -> Decision:
    """What the sales manager decides about a submitted contract, and why."""
    shown = percent(discount)
    if discount <= rules.auto_approve_discount:
        return Decision(
            True,
            _(
                "a discount of %(discount)s %% is within the %(limit)s %% approved "
                "at once",
                discount=shown,
                limit=percent(rules.auto_approve_discount),
            ),
        )
    if not justification:
        return Decision(
            False,
            _(
                "a discount of %(discount)s %% needs a written justification",
                discount=shown,
            ),
        )
    if discount <= rules.manager_max_discount:
        return Decision(
            True,
            _(
                "the justified discount of %(discount)s %% is within the "
                "%(limit)s %% a manager may approve",
                discount=shown,
                limit=percent(rules.manager_max_discount),
            ),
        )
    return Decision(
        False,
        _(
            "a discount of %(discount)s %% is above the %(limit)s %% a manager may "
            "approve; lower the discount and submit again",
            discount=shown,
            limit=percent(rules.manager_max_discount),
        ),
    )


# ------------------------------------------------------------------ numbers


def next_contract_number(session: Session, year: int) -> str:
    """``HT-<year>-<four-digit sequence>``, one more than the year's highest."""
    prefix = f"HT-{year}-"
    last = session.scalar(
        sa.select(sa.func.max(Contract.number)).where(
            Contract.number.like(f"{prefix}%")
        )
    )
    sequence = int(last[len(prefix) :]) + 1 if last else 1
    return f"{prefix}{sequence:04d}"


def number_pattern(query: str) -> str:
    """A LIKE pattern matching numbers that start with ``query`` (``*`` is any text)."""
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%") + "%"


def contract_search(query: str) -> sa.ColumnElement:
    """The list search: the number from its start (``*`` a wildcard), or the title
    or account containing the text."""
    from sandbox.models.crm import Account

    conditions = [Contract.number.ilike(number_pattern(query.strip()), escape="\\")]
    text = query.replace("*", "").strip()
    if text:
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        conditions += [
            Contract.title.ilike(pattern, escape="\\"),
            Contract.account.has(Account.name.ilike(pattern, escape="\\")),
        ]
    return sa.or_(*conditions)


# ------------------------------------------------------------------ lifecycle


@dataclass(frozen=True)
class Transition:
    action: str
    label: object
    sources: frozenset[str]
    style: str
    #: Whether the action asks for input on a page of its own.
    has_form: bool = False
    #: The question a page asks before an action that cannot be undone
    #: (``%(record)s`` is the document's number).
    asks: object | None = None


TRANSITIONS = {
    t.action: t
    for t in (
        Transition(
            "submit",
            _l("Submit for approval"),
            frozenset({"draft"}),
            "primary",
            has_form=True,
        ),
        Transition(
            "decide",
            _l("Get the manager's decision"),
            frozenset({"in_approval"}),
            "success",
        ),
        Transition(
            "withdraw", _l("Withdraw"), frozenset({"in_approval"}), "outline-secondary"
        ),
        Transition(
            "complete",
            _l("Complete"),
            frozenset({"active"}),
            "outline-success",
            asks=_l("Complete contract %(record)s? This cannot be undone."),
        ),
        Transition(
            "terminate",
            _l("Terminate"),
            frozenset({"active"}),
            "outline-danger",
            has_form=True,
        ),
    )
}


def status_label(status: str | None) -> str:
    from sandbox.crm.codes import code_label

    return code_label("contract_status", status)


def refusal(contract: Contract, action: str) -> str | None:
    """Why ``action`` is not allowed on ``contract`` now, or None when it is."""
    transition = TRANSITIONS.get(action)
    if transition is None:
        return _("There is no such action on contracts.")
    if contract.status not in transition.sources:
        allowed = join_list(sorted(status_label(s) for s in transition.sources))
        return _(
            "%(action)s is not possible while the contract is %(status)s (only when "
            "it is: %(allowed)s).",
            action=transition.label,
            status=status_label(contract.status),
            allowed=allowed,
        )
    return None


def available_actions(contract: Contract) -> list[Transition]:
    """The actions the contract allows now, in lifecycle order (its buttons)."""
    return [t for a, t in TRANSITIONS.items() if refusal(contract, a) is None]


def editable(contract: Contract) -> bool:
    """Only a draft is changed (header and lines) or deleted."""
    return contract.status == "draft"


def _refuse_unless(contract: Contract, action: str) -> None:
    reason = refusal(contract, action)
    if reason is not None:
        raise ContractRefused(reason)


def _require_draft(contract: Contract) -> None:
    if not editable(contract):
        raise ContractRefused(
            _(
                "Only a draft contract can be changed; this one is %(status)s.",
                status=status_label(contract.status),
            )
        )


def _check(session: Session, data: dict[str, Any]) -> None:
    start, end = data.get("start_date"), data.get("end_date")
    if start and end and end < start:
        raise ContractRefused(
            _("The end date cannot be before the start date."), "end_date"
        )
    contact_id = data.get("contact_id")
    if contact_id is not None:
        contact = session.get(Contact, contact_id)
        if contact is not None and contact.account_id not in (None, data["account_id"]):
            raise ContractRefused(
                _("This contact works at another account."), "contact_id"
            )


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        value = value.strip()
    return value or None


def create_contract(
    session: Session, data: dict[str, Any], *, today: dt.date | None = None
) -> Contract:
    """A new draft contract typed directly."""
    today = today or dt.date.today()
    try:
        _check(session, data)
        contract = Contract(
            number=next_contract_number(session, today.year), status="draft"
        )
        for name in CONTRACT_FIELDS:
            setattr(contract, name, _text(data.get(name)))
        contract.amount = data.get("amount") or Decimal("0.00")
        session.add(contract)
        session.flush()
    except Exception:
        session.rollback()
        raise
    commit(session)
    return contract


def update_contract(session: Session, contract: Contract, data: dict[str, Any]) -> None:
    """Change a draft's header; its amount follows its lines when it has any."""
    try:
        _require_draft(contract)
        _check(session, data)
        for name in CONTRACT_FIELDS:
            setattr(contract, name, _text(data.get(name)))
        if not contract.lines:
            contract.amount = data.get("amount") or Decimal("0.00")
        session.flush()
    except Exception:
        session.rollback()
        raise
    commit(session)


def year_later(day: dt.date) -> dt.date:
    """The last day of a one-year term starting on ``day``."""
    try:
        return day.replace(year=day.year + 1) - dt.timedelta(days=1)
    except ValueError:  # 29 February
        return dt.date(day.year + 1, 2, 28)


def existing_contract(session: Session, opp: Opportunity) -> Contract | None:
    """The contract already made from ``opp`` (a terminated one does not count)."""
    return session.scalars(
        sa.select(Contract)
        .where(Contract.opportunity_id == opp.id, Contract.status != "terminated")
        .order_by(Contract.id)
        .limit(1)
    ).first()


def contract_from_opportunity(
    session: Session, opp: Opportunity, *, today: dt.date | None = None
) -> Contract:
    """A draft contract from a won deal: its account, contact, owner, product lines
    and amount, running a year from today."""
    today = today or dt.date.today()
    try:
        if not (opp.stage.is_closed and opp.stage.is_won):
            raise ContractRefused(
                _("Only a won opportunity becomes a contract; close it as won first.")
            )
        same = existing_contract(session, opp)
        if same is not None:
            raise ContractRefused(
                _(
                    "This opportunity already has contract %(number)s.",
                    number=same.number,
                )
            )
        contract = Contract(
            number=next_contract_number(session, today.year),
            title=opp.name[:200],
            account_id=opp.account_id,
            contact_id=opp.contact_id,
            opportunity_id=opp.id,
            owner_id=opp.owner_id,
            status="draft",
            start_date=today,
            end_date=year_later(today),
            amount=opp.amount or Decimal("0.00"),
        )
        contract.lines.extend(ContractLine.copied_from(i) for i in opp.line_items)
        session.add(contract)
        session.flush()
        record_action(contract, "contract_from_opportunity", {"opportunity": opp.name})
        record_action(opp, "contract_made", {"number": contract.number})
    except Exception:
        session.rollback()
        raise
    commit(session)
    return contract


# ------------------------------------------------------------------ lines


#: A contract's product lines: only a draft's change.
LINES = product_lines.LineKind(
    model=ContractLine,
    parent_key="contract_id",
    refused=ContractRefused,
    check=_require_draft,
)


def save_line(
    session: Session,
    contract: Contract,
    line: ContractLine | None,
    data: dict[str, Any],
) -> ContractLine:
    """Add or change a product line of a draft; the amount becomes the lines' sum."""
    return product_lines.save_line(session, contract, line, data, LINES)


def remove_line(session: Session, contract: Contract, line: ContractLine) -> None:
    """Remove a line of a draft; with none left the amount stays as it was."""
    product_lines.remove_line(session, contract, line, LINES)


# ------------------------------------------------------------------ actions


def _decide(session: Session, contract: Contract, manager: Colleague) -> Decision:
    """The manager's decision, applied and logged (the caller commits)."""
    decision = manager_decision(
        highest_discount(contract), contract.justification, approval_rules(session)
    )
    contract.approver_id = manager.id
    contract.decided_at = utcnow()
    contract.decision_reason = decision.reason
    contract.status = "active" if decision.approved else "draft"
    if decision.approved and contract.signed_on is None:
        contract.signed_on = dt.date.today()  # in force from the approval
    record_action(
        contract,
        "contract_approve" if decision.approved else "contract_reject",
        {"approver": manager.name, "reason": decision.reason},
    )
    return decision


def _manager(session: Session) -> Colleague:
    manager = sales_manager(session)
    if manager is None:
        raise ContractRefused(
            _(
                "Nobody in the team is an active sales manager, so no one can "
                "approve contracts: give a colleague that role in settings."
            )
        )
    return manager


def submit_for_approval(
    session: Session, contract: Contract, justification: str | None = None
) -> Decision | None:
    """Send a draft to the sales manager.

    A discount within the automatic limit is approved at once (the decision is
    returned); above it a justification is required and the contract waits In
    approval for the manager's decision (None is returned).

    :raise ContractRefused: not a draft, no amount, no manager, or a justification
        missing where the rules need one (``field`` is ``justification``)
    """
    try:
        _refuse_unless(contract, "submit")
        if not contract.amount or contract.amount <= 0:
            raise ContractRefused(
                _(
                    "Give the contract an amount (or product lines) before "
                    "submitting it."
                )
            )
        manager = _manager(session)
        rules = approval_rules(session)
        discount = highest_discount(contract)
        justification = _text(justification)
        if discount > rules.auto_approve_discount and not justification:
            raise ContractRefused(
                _(
                    "The highest discount on this contract is %(discount)s %%, above "
                    "the %(limit)s %% approved at once: write a justification for "
                    "the sales manager.",
                    discount=percent(discount),
                    limit=percent(rules.auto_approve_discount),
                ),
                "justification",
            )
        contract.justification = justification
        contract.status = "in_approval"
        contract.approver_id = None
        contract.decided_at = None
        contract.decision_reason = None
        session.flush()
        record_action(contract, "contract_submit", {"discount": percent(discount)})
        decision = None
        if discount <= rules.auto_approve_discount:
            decision = _decide(session, contract, manager)
        session.flush()
    except Exception:
        session.rollback()
        raise
    commit(session)
    return decision


def perform(
    session: Session,
    contract: Contract,
    action: str,
    data: dict[str, Any] | None = None,
    *,
    today: dt.date | None = None,
) -> Decision | None:
    """Carry out one lifecycle action; nothing is written when it is refused."""
    data = data or {}
    if action == "submit":
        return submit_for_approval(session, contract, data.get("justification"))
    decision = None
    try:
        _refuse_unless(contract, action)
        if action == "decide":
            decision = _decide(session, contract, _manager(session))
        elif action == "withdraw":
            contract.status = "draft"
            record_action(contract, "contract_withdraw")
        elif action == "complete":
            contract.status = "completed"
            record_action(contract, "contract_complete")
        elif action == "terminate":
            reason = _text(data.get("reason"))
            if not reason:
                raise ContractRefused(
                    _("Say why the contract is terminated."), "reason"
                )
            contract.status = "terminated"
            contract.termination_reason = reason
            contract.terminated_on = today or dt.date.today()
            record_action(contract, "contract_terminate", {"reason": reason})
        session.flush()
    except Exception:
        session.rollback()
        raise
    commit(session)
    return decision


# ------------------------------------------------------------------ renewals


def renewals_due(
    session: Session, *, today: dt.date | None = None, limit: int = 5
) -> tuple[list[Contract], int]:
    """Active contracts ending within the renewal window (or already past their
    end), soonest first, and how many there are in all."""
    today = today or dt.date.today()
    horizon = today + dt.timedelta(days=approval_rules(session).renewal_days)
    where = (Contract.status == "active", Contract.end_date <= horizon)
    total = session.scalar(sa.select(sa.func.count()).where(*where))
    found = session.scalars(
        sa.select(Contract)
        .where(*where)
        .order_by(Contract.end_date, Contract.id)
        .limit(limit)
    ).all()
    return list(found), total or 0


def delete_contract(session: Session, contract: Contract) -> None:
    """Delete a draft with its product lines (each audited)."""
    try:
        _require_draft(contract)
        session.delete(contract)
        session.flush()
    except Exception:
        session.rollback()
        raise
    commit(session)
