"""Case rules: numbers, the lifecycle (one table of actions), SLAs and views.

:data:`TRANSITIONS` is the lifecycle, defined once: which action is allowed from
which states, the state it leads to and the fields it needs. The detail page shows
only the buttons it allows, :func:`perform` refuses anything else with a clear
message, and the tests walk every (state, action) pair of it.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from sandbox.crm.audit import define_action, record_action
from sandbox.crm.cases import sla
from sandbox.crm.display import join_list
from sandbox.crm.service import apply_changes, commit
from sandbox.i18n import gettext as _
from sandbox.i18n import lazy_gettext as _l
from sandbox.models import utcnow
from sandbox.models.crm import Colleague, Contact, TenantInfo, current_actor
from sandbox.models.crm.knowledge import Article
from sandbox.models.crm.service import Case, CaseEvent

#: States in which the case is still being worked on (the SLA clock may run).
OPEN = frozenset(
    {
        "new",
        "accepted",
        "assigned",
        "in_progress",
        "pending_customer",
        "escalated",
        "suspended",
    }
)
#: States a case never leaves (except closed, by a reopen within the window).
FINAL = frozenset({"closed", "cancelled", "merged"})
WORKING = frozenset({"accepted", "assigned", "in_progress", "escalated"})
#: The SLA clock stops while the case waits for the customer.
PAUSED = "pending_customer"
#: Going back to where the case was before it was suspended or waited.
PREVIOUS = "previous"
ESCALATION_LEVELS = (1, 2, 3)
SATISFACTION = (1, 2, 3, 4, 5)

#: priority -> (response hours, resolution hours), in business hours
DEFAULT_TARGETS = {"p1": (1, 4), "p2": (4, 8), "p3": (8, 24), "p4": (16, 40)}
DEFAULT_REOPEN_DAYS = 7
#: The overdue-alarm view also shows cases due within this time.
ALARM_WINDOW = dt.timedelta(hours=1)
CALENDAR_KEY, TARGETS_KEY, REOPEN_KEY = (
    "service_calendar",
    "sla_targets",
    "case_reopen_days",
)


@dataclass(frozen=True)
class Transition:
    """One lifecycle action: allowed ``sources``, the ``target`` state (None keeps
    the state) and the ``fields`` it asks for (``required`` among them)."""

    action: str
    label: object
    sources: frozenset[str]
    target: str | None
    fields: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    style: str = "outline-primary"


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition(
            "accept", _l("Accept"), frozenset({"new"}), "accepted", style="primary"
        ),
        Transition(
            "assign",
            _l("Dispatch"),
            frozenset({"new", "accepted"}),
            "assigned",
            ("owner_id", "queue"),
            ("owner_id",),
        ),
        Transition(
            "start",
            _l("Start work"),
            frozenset({"accepted", "assigned"}),
            "in_progress",
            style="primary",
        ),
        Transition(
            "transfer",
            _l("Transfer"),
            frozenset({"assigned", "in_progress", "escalated"}),
            None,
            ("owner_id", "queue", "reason"),
            ("owner_id", "reason"),
        ),
        Transition(
            "request_info",
            _l("Wait for customer"),
            WORKING,
            "pending_customer",
            ("reason",),
            ("reason",),
        ),
        Transition(
            "customer_replied",
            _l("Customer replied"),
            frozenset({"pending_customer"}),
            PREVIOUS,
            style="primary",
        ),
        Transition(
            "escalate",
            _l("Escalate"),
            frozenset({"new", *WORKING, "pending_customer"}),
            "escalated",
            ("level", "owner_id", "reason"),
            ("level", "reason"),
            style="outline-danger",
        ),
        Transition(
            "suspend",
            _l("Suspend"),
            WORKING,
            "suspended",
            ("reason",),
            ("reason",),
            style="outline-secondary",
        ),
        Transition(
            "resume", _l("Resume"), frozenset({"suspended"}), PREVIOUS, style="primary"
        ),
        Transition(
            "resolve",
            _l("Resolve"),
            frozenset({"new", *WORKING, "pending_customer"}),
            "resolved",
            ("resolution", "article_id"),
            style="success",
        ),
        Transition(
            "callback",
            _l("Callback"),
            frozenset({"resolved"}),
            "callback",
            ("satisfaction", "comment"),
            ("satisfaction",),
            style="primary",
        ),
        Transition(
            "close", _l("Close"), frozenset({"callback"}), "closed", style="success"
        ),
        Transition(
            "reopen",
            _l("Reopen"),
            frozenset({"resolved", "callback", "closed"}),
            "in_progress",
            ("reason",),
            ("reason",),
            style="outline-warning",
        ),
        Transition(
            "analyze",
            _l("Analyse"),
            frozenset({"closed"}),
            None,
            ("analysis",),
            ("analysis",),
            style="outline-primary",
        ),
        Transition(
            "merge",
            _l("Merge into another case"),
            OPEN,
            "merged",
            ("target_id",),
            ("target_id",),
            style="outline-secondary",
        ),
        Transition(
            "cancel",
            _l("Cancel case"),
            OPEN,
            "cancelled",
            ("reason",),
            ("reason",),
            style="outline-danger",
        ),
    )
}

for _action, _sentence in {
    "accept": _l("Accepted %(entity)s %(record)s"),
    "assign": _l("Dispatched %(entity)s %(record)s to %(owner)s"),
    "start": _l("Started work on %(entity)s %(record)s"),
    "transfer": _l("Transferred %(entity)s %(record)s to %(owner)s: %(reason)s"),
    "request_info": _l("Asked the customer of %(entity)s %(record)s: %(reason)s"),
    "customer_replied": _l("The customer replied on %(entity)s %(record)s"),
    "escalate": _l("Escalated %(entity)s %(record)s to level %(level)s: %(reason)s"),
    "suspend": _l("Suspended %(entity)s %(record)s: %(reason)s"),
    "resume": _l("Resumed %(entity)s %(record)s"),
    "resolve": _l("Resolved %(entity)s %(record)s"),
    "callback": _l(
        "Called back the customer of %(entity)s %(record)s: satisfaction "
        "%(satisfaction)s of 5"
    ),
    "close": _l("Closed %(entity)s %(record)s"),
    "reopen": _l("Reopened %(entity)s %(record)s: %(reason)s"),
    "analyze": _l("Analysed %(entity)s %(record)s"),
    "merge": _l("Merged %(entity)s %(record)s into %(target)s"),
    "cancel": _l("Cancelled %(entity)s %(record)s: %(reason)s"),
}.items():
    define_action(f"case_{_action}", _sentence)


class CaseActionRefused(ValueError):
    """An action the case's state or the input does not allow; ``field`` names the
    input at fault (None when the action itself is not allowed)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# ------------------------------------------------------------------ settings


@dataclass(frozen=True)
class ServiceSettings:
    calendar: sla.WorkCalendar
    targets: dict[str, tuple[float, float]]
    reopen_days: int


def _json(raw: str | None) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def _calendar(value: Any) -> sla.WorkCalendar:
    if not isinstance(value, dict):
        return sla.WorkCalendar()
    try:
        return sla.WorkCalendar(
            workdays=frozenset(int(d) for d in value.get("workdays", range(5))),
            start=dt.time.fromisoformat(value.get("start", "09:00")),
            end=dt.time.fromisoformat(value.get("end", "18:00")),
            holidays=frozenset(
                dt.date.fromisoformat(d) for d in value.get("holidays", ())
            ),
        )
    except (TypeError, ValueError):
        return sla.WorkCalendar()


def service_settings(session: Session) -> ServiceSettings:
    """The company's working calendar, SLA targets and reopen window (tenant_info
    JSON), each falling back to the defaults when unset or unreadable."""
    rows = dict(
        session.execute(
            sa.select(TenantInfo.key, TenantInfo.value).where(
                TenantInfo.key.in_((CALENDAR_KEY, TARGETS_KEY, REOPEN_KEY))
            )
        ).all()
    )
    targets = dict(DEFAULT_TARGETS)
    stored = _json(rows.get(TARGETS_KEY))
    if isinstance(stored, dict):
        for priority, pair in stored.items():
            try:
                response, resolution = (float(h) for h in pair)
            except (TypeError, ValueError):
                continue
            if priority in targets and response >= 0 and resolution >= 0:
                targets[priority] = (response, resolution)
    try:
        reopen_days = max(0, int(rows.get(REOPEN_KEY, DEFAULT_REOPEN_DAYS)))
    except ValueError:
        reopen_days = DEFAULT_REOPEN_DAYS
    return ServiceSettings(
        _calendar(_json(rows.get(CALENDAR_KEY))), targets, reopen_days
    )


def save_setting(session: Session, key: str, value: Any) -> None:
    """Store one service setting as JSON (the caller commits)."""
    row = session.get(TenantInfo, key)
    text = json.dumps(value)
    if row is None:
        session.add(TenantInfo(key=key, value=text))
    else:
        row.value = text


def current_zone() -> str:
    """The course's time zone (UTC outside a request)."""
    from sandbox.tenancy import current_handle

    handle = current_handle()
    return handle.timezone if handle is not None else "UTC"


# ------------------------------------------------------------------ numbers


def next_case_number(session: Session, year: int) -> str:
    """``CS-<year>-<six-digit sequence>``, one more than the year's highest."""
    prefix = f"CS-{year}-"
    last = session.scalar(
        sa.select(sa.func.max(Case.number)).where(Case.number.like(f"{prefix}%"))
    )
    sequence = int(last[len(prefix) :]) + 1 if last else 1
    return f"{prefix}{sequence:06d}"


def number_pattern(query: str) -> str:
    """A LIKE pattern matching case numbers that *start* with ``query``, where
    ``*`` stands for any text ("*0123" finds CS-2026-000123)."""
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%") + "%"


def case_search(query: str) -> sa.ColumnElement:
    """The list search: the number from its start (``*`` a wildcard), or the
    subject, account, contact or handler containing the words."""
    from sandbox.models.crm import Account

    text = query.replace("*", "").strip()
    conditions = [Case.number.ilike(number_pattern(query.strip()), escape="\\")]
    if text:
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        conditions += [
            Case.subject.ilike(pattern, escape="\\"),
            Case.account.has(Account.name.ilike(pattern, escape="\\")),
            Case.contact.has(Contact.display_expression().ilike(pattern, escape="\\")),
            Case.owner.has(Colleague.name.ilike(pattern, escape="\\")),
        ]
    return sa.or_(*conditions)


# ------------------------------------------------------------------ SLA


def pending_intervals(
    case: Case,
) -> list[tuple[dt.datetime, dt.datetime | None]]:
    """The (start, end) UTC intervals the case spent pending the customer; the
    last one has no end while the case still waits."""
    intervals: list[tuple[dt.datetime, dt.datetime | None]] = []
    began: dt.datetime | None = None
    for event in sorted(case.events, key=lambda e: (e.at, e.id or 0)):
        if event.to_status == PAUSED and began is None:
            began = event.at
        elif event.to_status != PAUSED and began is not None:
            intervals.append((began, event.at))
            began = None
    if began is not None:
        intervals.append((began, None))
    return intervals


def refresh_sla(case: Case, settings: ServiceSettings, zone: str) -> None:
    """Recompute the case's deadlines from its priority, calendar and pauses."""
    response_hours, resolution_hours = settings.targets.get(
        case.priority, DEFAULT_TARGETS["p3"]
    )
    start = sla.to_local(case.opened_at, zone)
    pauses = [
        (sla.to_local(a, zone), None if b is None else sla.to_local(b, zone))
        for a, b in pending_intervals(case)
    ]

    def deadline(hours: float) -> dt.datetime | None:
        local = sla.due_at(start, hours, settings.calendar, pauses)
        return None if local is None else sla.to_utc(local, zone)

    case.response_due_at = deadline(response_hours)
    case.resolution_due_at = deadline(resolution_hours)
    pending = []
    if case.status in OPEN:
        if case.responded_at is None and case.response_due_at is not None:
            pending.append(case.response_due_at)
        if case.resolved_at is None and case.resolution_due_at is not None:
            pending.append(case.resolution_due_at)
    case.next_due_at = min(pending) if pending else None


def sla_state(case: Case, now: dt.datetime | None = None) -> str:
    """``overdue``, ``due_soon``, ``on_time``, ``paused`` or ``met``/``late``."""
    now = now or utcnow()
    if case.status == PAUSED:
        return "paused"
    if case.next_due_at is None:
        if case.resolved_at and case.resolution_due_at:
            return "late" if case.resolved_at > case.resolution_due_at else "met"
        return "met" if case.resolved_at else "none"
    if case.next_due_at <= now:
        return "overdue"
    if case.next_due_at <= now + ALARM_WINDOW:
        return "due_soon"
    return "on_time"


# ------------------------------------------------------------------ create, edit

FIELDS = (
    "subject",
    "account_id",
    "contact_id",
    "case_type",
    "origin",
    "priority",
    "product_id",
    "queue",
    "description",
)


def _check_contact(session: Session, data: dict[str, Any]) -> None:
    contact_id, account_id = data.get("contact_id"), data.get("account_id")
    if contact_id is None or account_id is None:
        return
    contact = session.get(Contact, contact_id)
    if contact is not None and contact.account_id not in (None, account_id):
        raise CaseActionRefused(
            _("This contact works at another account; choose one of its contacts."),
            "contact_id",
        )


def _add_event(
    case: Case, action: str, before: str | None, after: str, now: dt.datetime
) -> None:
    case.events.append(
        CaseEvent(
            action=action,
            from_status=before,
            to_status=after,
            at=now,
            actor=current_actor(),
        )
    )


def create_case(
    session: Session,
    data: dict[str, Any],
    *,
    owner_id: int | None = None,
    now: dt.datetime | None = None,
    zone: str | None = None,
) -> Case:
    """Open a new case (state New) with its number and SLA deadlines.

    :raise CaseActionRefused: the contact belongs to another account.
    """
    now = now or utcnow()
    zone = zone or current_zone()
    _check_contact(session, data)
    case = Case(status="new", opened_at=now, owner_id=owner_id)
    apply_changes(case, data, FIELDS)
    case.number = next_case_number(session, sla.to_local(now, zone).year)
    _add_event(case, "create", None, "new", now)
    refresh_sla(case, service_settings(session), zone)
    session.add(case)
    commit(session)
    return case


def update_case(
    session: Session, case: Case, data: dict[str, Any], *, zone: str | None = None
) -> Case:
    """Save edited details; a new priority moves the SLA deadlines.

    :raise CaseActionRefused: the case is closed, cancelled or merged (read-only),
        or the contact belongs to another account.
    """
    if case.status in FINAL:
        raise CaseActionRefused(
            _("A closed, cancelled or merged case can no longer be edited.")
        )
    _check_contact(session, data)
    apply_changes(case, data, tuple(f for f in FIELDS if f in data))
    refresh_sla(case, service_settings(session), zone or current_zone())
    commit(session)
    return case


# ------------------------------------------------------------------ the lifecycle


def _status_label(status: str | None) -> str:
    from sandbox.crm.codes import code_label

    return code_label("case_status", status)


def refusal(
    case: Case,
    action: str,
    settings: ServiceSettings,
    now: dt.datetime | None = None,
) -> str | None:
    """Why ``action`` is not allowed on ``case`` now, or None when it is."""
    transition = TRANSITIONS.get(action)
    if transition is None:
        return _("There is no such action on cases.")
    status = _status_label(case.status)
    if case.status not in transition.sources:
        if action == "close":
            return _(
                "Only a resolved case whose customer has been called back can be "
                "closed; this case is %(status)s.",
                status=status,
            )
        if action == "callback":
            return _(
                "The callback comes after the case is resolved; this case is "
                "%(status)s.",
                status=status,
            )
        allowed = join_list(sorted(_status_label(s) for s in transition.sources))
        return _(
            "%(action)s is not possible while the case is %(status)s (only when it "
            "is: %(allowed)s).",
            action=transition.label,
            status=status,
            allowed=allowed,
        )
    now = now or utcnow()
    if action == "reopen" and case.status == "closed":
        closed = case.closed_at or now
        if now - closed > dt.timedelta(days=settings.reopen_days):
            return _(
                "A closed case can be reopened within %(days)s days of closing; "
                "this one was closed %(ago)s days ago. Open a new case instead.",
                days=settings.reopen_days,
                ago=(now - closed).days,
            )
    if action == "analyze" and case.analysis:
        return _("This case has already been analysed.")
    return None


def available_actions(
    case: Case, settings: ServiceSettings, now: dt.datetime | None = None
) -> list[Transition]:
    """The actions the case allows now, in lifecycle order (the page's buttons)."""
    return [
        t for a, t in TRANSITIONS.items() if refusal(case, a, settings, now) is None
    ]


def _text(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if isinstance(value, str):
        value = value.strip()
    return value or None


def perform(
    session: Session,
    case: Case,
    action: str,
    data: dict[str, Any] | None = None,
    *,
    now: dt.datetime | None = None,
    zone: str | None = None,
) -> Case:
    """Carry out lifecycle ``action`` on ``case`` with the form's ``data``: move it
    to the action's state, log the move and the action, recompute its SLA.

    :raise CaseActionRefused: the action is not allowed now, or an input is
        missing or wrong (``field`` says which). Nothing is written then.
    """
    data = data or {}
    now = now or utcnow()
    zone = zone or current_zone()
    settings = service_settings(session)
    reason = refusal(case, action, settings, now)
    if reason is not None:
        raise CaseActionRefused(reason)
    transition = TRANSITIONS[action]
    for name in transition.required:
        if _text(data, name) is None:
            raise CaseActionRefused(_("This field is required."), name)
    details: dict[str, Any] = {}
    reason_text = _text(data, "reason")
    if reason_text:
        details["reason"] = reason_text
    before = case.status
    target = transition.target
    if target == PREVIOUS:
        target = case.resume_status or "in_progress"

    owner = None
    if "owner_id" in transition.fields and data.get("owner_id") is not None:
        owner = session.get(Colleague, data["owner_id"])
        if owner is None:
            raise CaseActionRefused(_("Choose a colleague from the list."), "owner_id")
        if action == "transfer" and owner.id == case.owner_id:
            raise CaseActionRefused(
                _(
                    "The case is already with %(name)s; choose someone else.",
                    name=owner.name,
                ),
                "owner_id",
            )
    if action in ("assign", "transfer"):
        case.owner_id = owner.id
        details["owner"] = owner.name
        if _text(data, "queue"):
            case.queue = data["queue"]
    elif action == "escalate":
        try:
            level = int(data["level"])
        except (TypeError, ValueError):
            level = 0
        if level not in ESCALATION_LEVELS or level <= case.escalation_level:
            raise CaseActionRefused(
                _(
                    "Choose a level above the current one (%(level)s).",
                    level=case.escalation_level,
                ),
                "level",
            )
        if case.escalation_level == 0:
            case.escalated_from_id = case.owner_id
        case.escalation_level = level
        details["level"] = level
        if owner is not None:
            case.owner_id = owner.id
            details["owner"] = owner.name
    elif action in ("request_info", "suspend"):
        case.resume_status = before
    elif action in ("resume", "customer_replied"):
        case.resume_status = None
    elif action == "resolve":
        resolution = _text(data, "resolution")
        article = None
        if data.get("article_id") is not None:
            article = session.get(Article, data["article_id"])
            if article is None or article.status != "published":
                raise CaseActionRefused(
                    _("Choose a published solution article."), "article_id"
                )
        if resolution is None and article is None:
            raise CaseActionRefused(
                _("Describe the resolution or link the article that solved it."),
                "resolution",
            )
        case.resolution = resolution or article.title
        case.article_id = article.id if article else None
        case.resolved_at = now
        if article is not None:
            details["article"] = article.title
            details["article_id"] = article.id
    elif action == "callback":
        try:
            satisfaction = int(data["satisfaction"])
        except (TypeError, ValueError):
            satisfaction = 0
        if satisfaction not in SATISFACTION:
            raise CaseActionRefused(
                _("Choose a satisfaction from 1 to 5."), "satisfaction"
            )
        case.satisfaction = satisfaction
        case.callback_comment = _text(data, "comment")
        details["satisfaction"] = satisfaction
        if case.callback_comment:
            details["comment"] = case.callback_comment
    elif action == "close":
        case.closed_at = now
    elif action == "reopen":
        # Unsolved again: what solved it before stays in the timeline, not on the
        # case (nor on the article's list of cases it solved).
        case.resolved_at = case.closed_at = None
        case.satisfaction = case.callback_comment = None
        case.resolution = case.article_id = None
    elif action == "analyze":
        case.analysis = _text(data, "analysis")
    elif action == "merge":
        other = session.get(Case, data.get("target_id"))
        if other is None or other.id == case.id:
            raise CaseActionRefused(
                _("Choose another case to merge this one into."), "target_id"
            )
        if other.status not in OPEN:
            raise CaseActionRefused(
                _(
                    "Case %(number)s is no longer open; merge into an open case.",
                    number=other.number,
                ),
                "target_id",
            )
        case.merged_into_id = other.id
        details["target"] = other.number
        details["target_id"] = other.id
    if action in ("accept", "assign", "start", "escalate", "resolve", "request_info"):
        case.responded_at = case.responded_at or now
    if target is not None:
        case.status = target
    _add_event(case, action, before, case.status, now)
    refresh_sla(case, settings, zone)
    details.update({"from": before, "to": case.status})
    record_action(case, f"case_{action}", details, session=session)
    commit(session)
    return case


def state_path(case: Case) -> list[str]:
    """The states the case went through, in order (for checks and the page)."""
    return [e.to_status for e in sorted(case.events, key=lambda e: (e.at, e.id))]


# ------------------------------------------------------------------ views

VIEWS = {
    "all": _l("All cases"),
    "mine": _l("My queue"),
    "unassigned": _l("Unassigned"),
    "callback": _l("Pending callback"),
    "analysis": _l("Pending analysis"),
    "overdue": _l("Overdue alarm"),
    "escalated": _l("Escalated"),
}


def view_condition(
    view: str, me: int | None, now: dt.datetime | None = None
) -> sa.ColumnElement:
    """The cases of one view as a WHERE clause (each on an indexed column)."""
    now = now or utcnow()
    is_open = Case.status.in_(OPEN)
    if view == "mine":
        return sa.and_(is_open, Case.owner_id == me) if me is not None else sa.false()
    if view == "unassigned":
        return sa.and_(is_open, Case.owner_id.is_(None))
    if view == "callback":
        return Case.status == "resolved"
    if view == "analysis":
        return sa.and_(Case.status == "closed", Case.analysis.is_(None))
    if view == "overdue":
        return sa.and_(is_open, Case.next_due_at <= now + ALARM_WINDOW)
    if view == "escalated":
        return sa.and_(is_open, Case.escalation_level > 0)
    return sa.true()


def view_counts(
    session: Session, me: int | None, now: dt.datetime | None = None
) -> dict[str, int]:
    """How many cases each view holds, in one query."""
    now = now or utcnow()
    columns = [
        sa.func.coalesce(
            sa.func.sum(sa.case((view_condition(v, me, now), 1), else_=0)), 0
        )
        for v in VIEWS
    ]
    row = session.execute(sa.select(*columns).select_from(Case)).one()
    return dict(zip(VIEWS, row, strict=True))


def sla_alarms(session: Session, limit: int = 5, now: dt.datetime | None = None):
    """Open cases past their deadline or due within the hour, soonest first."""
    now = now or utcnow()
    return list(
        session.scalars(
            sa.select(Case)
            .where(view_condition("overdue", None, now))
            .order_by(Case.next_due_at)
            .limit(limit)
        )
    )
