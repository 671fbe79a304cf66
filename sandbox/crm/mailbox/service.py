"""The simulated mailbox: merge fields, sending to leads, contacts and a campaign's
members, and deterministic simulated replies.

Nothing here opens a network connection: "sending" writes the message to the
tenant's outbox and logs it as an activity of kind ``email`` on the recipient.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from sandbox.crm.activities import service as activities
from sandbox.crm.audit import define_action, record_action
from sandbox.crm.campaigns.service import mark_members
from sandbox.crm.service import (
    commit,
    customer_facing_name,
    my_colleague_id,
    same_name,
    save_with_unique_name,
)
from sandbox.i18n import lazy_gettext as _l
from sandbox.models import utcnow
from sandbox.models.crm import Colleague, Contact, TenantInfo
from sandbox.models.crm.activities import Activity
from sandbox.models.crm.campaigns import Campaign, CampaignMember
from sandbox.models.crm.leads import Lead
from sandbox.models.crm.mailbox import EmailMessage, EmailTemplate

#: The share of recipients who answer, and how many days later (at least, at most).
REPLY_SHARE = 0.3
REPLY_DELAY_DAYS = (1, 5)
#: How far ahead "deliver simulated replies" looks.
SIMULATED_DAYS = 7
REPLY_BODY = (
    "Thank you for your email. We are interested: please call me to talk about "
    "the details.\n\n感谢来信。我们很感兴趣，请来电详谈。"
)

define_action(
    "send_mailing",
    _l("Emailed %(sent)s members of %(entity)s %(record)s with “%(template)s”"),
)
define_action("mail_replied", _l("%(entity)s %(record)s replied to “%(subject)s”"))


class MailError(ValueError):
    """A message cannot be sent as it is; ``field`` names the form field."""

    def __init__(self, message: object, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field


# ------------------------------------------------------------------ merge fields


@dataclass(frozen=True)
class Recipient:
    """Who a message goes to, with the values its merge fields take."""

    record: Any  # a Lead or a Contact
    name: str
    first_name: str
    company: str
    title: str
    email: str
    owner: str

    @property
    def kind(self) -> str:
        return "lead" if isinstance(self.record, Lead) else "contact"

    @property
    def module_key(self) -> str:
        return "leads" if isinstance(self.record, Lead) else "contacts"


MERGE_FIELDS: dict[str, tuple[object, Callable[[Recipient, dict], str]]] = {
    "name": (_l("the recipient's full name"), lambda r, c: r.name),
    "first_name": (_l("the recipient's first name"), lambda r, c: r.first_name),
    "company": (_l("the recipient's company"), lambda r, c: r.company),
    "title": (_l("the recipient's job title"), lambda r, c: r.title),
    "email": (_l("the recipient's email address"), lambda r, c: r.email),
    "owner": (_l("the recipient's owner (a colleague)"), lambda r, c: r.owner),
    "sender": (_l("your name"), lambda r, c: c["sender"]),
    "campaign": (_l("the campaign's name"), lambda r, c: c.get("campaign", "")),
}


def merge_field_names() -> str:
    return ", ".join("{" + key + "}" for key in MERGE_FIELDS)


def check_merge_fields(text: str, field_name: str) -> list[tuple[str, str | None]]:
    """``text`` split into literal parts and merge fields.

    :raise MailError: a brace is not closed or a merge field is unknown; the
        message names the field and the ones there are.
    """
    try:
        parts = list(string.Formatter().parse(text or ""))
    except ValueError:
        raise MailError(
            _l(
                "A brace is not closed: write merge fields as {name}, and a brace "
                "itself as {{ or }}."
            ),
            field_name,
        ) from None
    out = []
    for literal, name, spec, conversion in parts:
        if name is not None and (
            name not in MERGE_FIELDS or spec or conversion is not None
        ):
            shown = "{" + name + ("!" + conversion if conversion else "")
            shown += (":" + spec if spec else "") + "}"
            raise MailError(
                _l(
                    "Unknown merge field %(field)s. Use one of: %(known)s.",
                    field=shown,
                    known=merge_field_names(),
                ),
                field_name,
            )
        out.append((literal, name))
    return out


def merge(text: str, recipient: Recipient, context: dict, field_name: str) -> str:
    """``text`` with its merge fields filled in for ``recipient``."""
    pieces = []
    for literal, name in check_merge_fields(text, field_name):
        pieces.append(literal)
        if name is not None:
            pieces.append(MERGE_FIELDS[name][1](recipient, context) or "")
    return "".join(pieces)


def recipient_for(record: Any) -> Recipient:
    if isinstance(record, Lead):
        owner = record.owner.name if record.owner else ""
        first = (record.name or "").split(" ")[0]
        return Recipient(
            record,
            record.name or "",
            first,
            record.company or "",
            record.title or "",
            record.email or "",
            owner,
        )
    if isinstance(record, Contact):
        account = record.account
        owner = account.owner.name if account is not None and account.owner else ""
        return Recipient(
            record,
            record.full_name,
            record.first_name or record.full_name,
            account.name if account is not None else "",
            record.title or "",
            record.email or "",
            owner,
        )
    raise TypeError(f"mail goes to a lead or a contact, not {record!r}")


# ----------------------------------------------------------------------- sending


def _sender(session: Session) -> Colleague | None:
    return session.get(Colleague, my_colleague_id(session) or 0)


def _deliver(
    session: Session,
    recipient: Recipient,
    subject: str,
    body: str,
    *,
    sender: Colleague | None,
    sent_at: dt.datetime,
    template: EmailTemplate | None = None,
    campaign: Campaign | None = None,
) -> EmailMessage:
    """Put one message in the outbox and log it as an email activity."""
    context = {
        "sender": customer_facing_name(sender),
        "campaign": campaign.name if campaign else "",
    }
    subject = merge(subject, recipient, context, "subject")
    body = merge(body, recipient, context, "body")
    if not recipient.email:
        raise MailError(_l("%(name)s has no email address.", name=recipient.name), "to")
    message = EmailMessage(
        direction="out",
        to_name=recipient.name[:200],
        to_address=recipient.email,
        from_address=(sender.email if sender and sender.email else "") or "",
        subject=subject[:300],
        body=body,
        sent_at=sent_at,
        template=template,
        campaign=campaign,
        lead_id=recipient.record.id if recipient.kind == "lead" else None,
        contact_id=recipient.record.id if recipient.kind == "contact" else None,
    )
    session.add(message)
    activities.create_activity(
        session,
        {
            "kind": "email",
            "subject": message.subject[:200],
            "starts_at": sent_at,
            "status": "done",
            "description": message.body,
            "owner_id": sender.id if sender else None,
        },
        related_type=recipient.module_key,
        related_id=recipient.record.id,
        commit_now=False,
    )
    return message


def send_email(
    session: Session,
    record: Any,
    subject: str,
    body: str,
    *,
    template: EmailTemplate | None = None,
    sent_at: dt.datetime | None = None,
) -> EmailMessage:
    """Send one email to a lead or a contact (into the outbox).

    :raise MailError: the recipient has no address or a merge field is unknown;
        nothing is written then.
    """
    if not (subject or "").strip():
        raise MailError(_l("Give the email a subject."), "subject")
    try:
        message = _deliver(
            session,
            recipient_for(record),
            subject,
            body,
            sender=_sender(session),
            sent_at=sent_at or utcnow(),
            template=template,
        )
    except Exception:
        session.rollback()
        raise
    commit(session)
    return message


@dataclass
class MailingResult:
    sent: list[EmailMessage] = field(default_factory=list)
    without_address: list[str] = field(default_factory=list)
    already_sent: int = 0


def send_to_campaign(
    session: Session,
    campaign: Campaign,
    template: EmailTemplate,
    *,
    sent_at: dt.datetime | None = None,
) -> MailingResult:
    """Email every planned member of ``campaign`` with ``template`` and mark them
    sent. Members already emailed are left alone, and members without an address
    are named. Everything is written at once, or nothing."""
    sent_at = sent_at or utcnow()
    members = session.scalars(
        sa.select(CampaignMember)
        .options(
            selectinload(CampaignMember.lead).selectinload(Lead.owner),
            selectinload(CampaignMember.contact).selectinload(Contact.account),
        )
        .where(CampaignMember.campaign_id == campaign.id)
        .order_by(CampaignMember.id)
    ).all()
    result = MailingResult()
    sender = _sender(session)
    done = []
    try:
        check_merge_fields(template.subject, "subject")
        check_merge_fields(template.body, "body")
        for member in members:
            if member.status != "planned":
                result.already_sent += 1
                continue
            recipient = recipient_for(member.lead or member.contact)
            if not recipient.email:
                result.without_address.append(recipient.name)
                continue
            message = _deliver(
                session,
                recipient,
                template.subject,
                template.body,
                sender=sender,
                sent_at=sent_at,
                template=template,
                campaign=campaign,
            )
            result.sent.append(message)
            done.append(member.id)
        if not result.sent:
            raise MailError(
                _l(
                    "No member of this campaign is waiting for an email with an "
                    "address."
                )
            )
        mark_members(session, done, "sent", sent_at=sent_at, commit_now=False)
        record_action(
            campaign,
            "send_mailing",
            {"sent": len(result.sent), "template": template.name},
        )
    except Exception:
        session.rollback()
        raise
    commit(session)
    return result


# ------------------------------------------------------------- simulated replies


def simulation_seed(session: Session) -> str:
    """The tenant's variant seed: the same seed answers the same way."""
    seed = session.scalar(
        sa.select(TenantInfo.value).where(TenantInfo.key == "variant_seed")
    )
    return seed or "0"


def reply_delay(seed: str, message: EmailMessage) -> int | None:
    """After how many days the recipient of ``message`` answers, or None when they
    do not: decided by the seed and the recipient (and the campaign) alone."""
    who = (
        f"lead:{message.lead_id}"
        if message.lead_id
        else f"contact:{message.contact_id}"
    )
    key = f"{seed}|{who}|{message.campaign_id or 0}".encode()
    digest = hashlib.sha256(key).digest()
    if int.from_bytes(digest[:4], "big") / 2**32 >= REPLY_SHARE:
        return None
    low, high = REPLY_DELAY_DAYS
    return low + digest[4] % (high - low + 1)


def simulate_replies(
    session: Session, *, until: dt.datetime, seed: str | None = None
) -> list[EmailMessage]:
    """Deliver the replies due by ``until`` (a simulated day may be ahead of the
    real one): each is a message in the inbox and an email activity on its sender,
    and a reply to a campaign mailing marks the member responded on its day."""
    seed = seed if seed is not None else simulation_seed(session)
    answered = sa.select(EmailMessage.reply_to_id).where(
        EmailMessage.reply_to_id.is_not(None)
    )
    waiting = session.scalars(
        sa.select(EmailMessage)
        .where(
            EmailMessage.direction == "out",
            EmailMessage.id.not_in(answered),
            sa.or_(
                EmailMessage.lead_id.is_not(None), EmailMessage.contact_id.is_not(None)
            ),
        )
        .order_by(EmailMessage.sent_at, EmailMessage.id)
    ).all()
    replies = []
    try:
        for message in waiting:
            delay = reply_delay(seed, message)
            if delay is None:
                continue
            arrives = message.sent_at + dt.timedelta(days=delay)
            if arrives > until:
                continue
            replies.append(_reply(session, message, arrives))
        session.flush()
    except Exception:
        session.rollback()
        raise
    commit(session)
    return replies


def _reply(
    session: Session, message: EmailMessage, arrives: dt.datetime
) -> EmailMessage:
    record = message.lead or message.contact
    reply = EmailMessage(
        direction="in",
        to_name="",
        to_address=message.from_address,
        from_address=message.to_address,
        subject=("Re: " + message.subject)[:300],
        body=REPLY_BODY,
        sent_at=arrives,
        lead_id=message.lead_id,
        contact_id=message.contact_id,
        campaign_id=message.campaign_id,
        reply_to=message,
    )
    session.add(reply)
    owner = my_colleague_id(session)
    session.add(
        Activity(
            kind="email",
            subject=reply.subject[:200],
            starts_at=arrives,
            status="done",
            completed_at=arrives,
            priority="normal",
            owner_id=owner,
            description=reply.body,
            related_type="leads" if message.lead_id else "contacts",
            related_id=message.lead_id or message.contact_id,
        )
    )
    record_action(record, "mail_replied", {"subject": message.subject}, session=session)
    if message.campaign_id is not None:
        column = (
            CampaignMember.lead_id if message.lead_id else CampaignMember.contact_id
        )
        member_ids = session.scalars(
            sa.select(CampaignMember.id).where(
                CampaignMember.campaign_id == message.campaign_id,
                column == (message.lead_id or message.contact_id),
                CampaignMember.status.in_(("planned", "sent")),
            )
        ).all()
        if member_ids:
            mark_members(
                session, member_ids, "responded", on=arrives.date(), commit_now=False
            )
    return reply


# --------------------------------------------------------------------- templates


class DuplicateTemplateName(MailError):
    def __init__(self, existing: EmailTemplate) -> None:
        super().__init__(
            _l("A template named “%(name)s” already exists.", name=existing.name),
            "name",
        )


def find_same_name(
    session: Session, name: str, exclude_id: int | None = None
) -> EmailTemplate | None:
    stmt = sa.select(EmailTemplate).where(same_name(EmailTemplate.name, name))
    if exclude_id is not None:
        stmt = stmt.where(EmailTemplate.id != exclude_id)
    return session.scalars(stmt.limit(1)).first()


def save_template(
    session: Session, template: EmailTemplate, data: dict[str, Any]
) -> EmailTemplate:
    """Create or change a template; its merge fields must all be known.

    :raise MailError: an unknown merge field or a name already taken.
    """
    for name in ("name", "subject", "body"):
        setattr(template, name, (data.get(name) or "").strip())
    try:
        check_merge_fields(template.subject, "subject")
        check_merge_fields(template.body, "body")
    except MailError:
        session.rollback()
        raise
    return save_with_unique_name(
        session, template, find_same_name, DuplicateTemplateName
    )
