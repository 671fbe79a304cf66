"""The simulated mailbox: templates with merge fields, the outbox, campaign
mailings and deterministic simulated replies; nothing goes over the network."""

from __future__ import annotations

import datetime as dt
import pathlib
import smtplib
import socket

import pytest
import sqlalchemy as sa

from sandbox.crm.mailbox import service as svc
from sandbox.models.crm import AuditLog, Colleague
from sandbox.models.crm.activities import Activity
from sandbox.models.crm.campaigns import Campaign, CampaignMember
from sandbox.models.crm.leads import Lead
from sandbox.models.crm.mailbox import EmailMessage, EmailTemplate
from tests.conftest import user_named
from tests.helpers import starts_without

BODY = "Dear {name},\n{company} is invited to our fair. Regards, {sender} ({owner})"


empty_mailbox = starts_without(
    "email_message", "email_template", "campaign", "activity"
)


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection or speak SMTP fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("the mailbox tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(smtplib, "SMTP", refuse)
    monkeypatch.setattr(smtplib, "SMTP_SSL", refuse)


def make_lead(session, n: int = 0, **values) -> Lead:
    owner = session.scalar(sa.select(Colleague).where(~Colleague.is_self).limit(1))
    values = {
        "name": f"Lena Park {n}",
        "company": f"Park Foods {n}",
        "email": f"lena{n}@parkfoods.example",
        "owner_id": owner.id,
        **values,
    }
    lead = Lead(**values)
    session.add(lead)
    session.commit()
    return lead


def make_template(session, **values) -> EmailTemplate:
    template = EmailTemplate(
        **{
            "name": "Fair invitation",
            "subject": "Invitation for {company}",
            "body": BODY,
        }
        | values
    )
    session.add(template)
    session.commit()
    return template


def make_campaign(session, leads: list[Lead], name: str = "Spring fair") -> Campaign:
    campaign = Campaign(name=name)
    campaign.members = [CampaignMember(lead_id=lead.id) for lead in leads]
    session.add(campaign)
    session.commit()
    return campaign


def test_templates_refuse_unknown_merge_fields_with_a_clear_message(
    app, client, auth, classroom
):
    auth.login("alice")
    page = client.post(
        "/crm/mail_templates/new",
        data={"name": "Hello", "subject": "Hi {name}", "body": "From {compnay}"},
    ).get_data(as_text=True)
    assert "Unknown merge field {compnay}. Use one of: {name}," in page
    assert 'id="body-errors"' in page
    page = client.post(
        "/crm/mail_templates/new",
        data={"name": "Hello", "subject": "Hi {name", "body": "x"},
    ).get_data(as_text=True)
    assert "A brace is not closed" in page and 'id="subject-errors"' in page
    for sneaky in ("{name.__class__}", "{name!r}", "{name:>99}", "{0}", "{}"):
        page = client.post(
            "/crm/mail_templates/new",
            data={"name": "Hello", "subject": "Hi", "body": sneaky},
        ).get_data(as_text=True)
        assert "Unknown merge field" in page, sneaky
    count = classroom.in_tenant(
        app, lambda s: s.scalar(sa.select(sa.func.count()).select_from(EmailTemplate))
    )
    assert count == 0
    ok = client.post(
        "/crm/mail_templates/new",
        data={"name": "Hello", "subject": "Hi {first_name}", "body": "{{braces}} ok"},
    )
    assert ok.status_code == 302
    again = client.post(
        "/crm/mail_templates/new",
        data={"name": "hello", "subject": "Hi", "body": "x"},
    ).get_data(as_text=True)
    assert "A template named “Hello” already exists." in again
    # A name in letters SQLite cannot fold is refused by name, not by a crash.
    for expected_status in (302, 200):
        page = client.post(
            "/crm/mail_templates/new",
            data={"name": "Ärger 客户", "subject": "Hi", "body": "x"},
        )
        assert page.status_code == expected_status
    assert "A template named “Ärger 客户” already exists." in page.get_data(
        as_text=True
    )


def test_a_template_or_an_email_of_spaces_is_refused_as_empty(
    app, client, auth, classroom
):
    """Required text that shows nothing (spaces, an ideographic space) is missing:
    a template of spaces was saved as “” and listed blank."""
    auth.login("alice")
    page = client.post(
        "/crm/mail_templates/new",
        data={"name": " ", "subject": "\u3000", "body": "  \n "},
    ).get_data(as_text=True)
    for field in ("name", "subject", "body"):
        assert f'id="{field}-errors"' in page, field
    assert "This field is required." in page
    count = classroom.in_tenant(
        app, lambda s: s.scalar(sa.select(sa.func.count()).select_from(EmailTemplate))
    )
    assert count == 0


def test_an_email_to_a_lead_fills_its_merge_fields_and_is_logged(
    app, client, auth, classroom, no_network
):
    def prepare(session):
        lead = make_lead(session)
        return lead.id, make_template(session).id, lead.owner.name

    lead_id, template_id, owner = classroom.in_tenant(app, prepare)
    with app.app_context():
        me = user_named("alice").name  # the student signs, not their "You" colleague
    assert me != classroom.in_tenant(
        app, lambda s: s.scalar(sa.select(Colleague.name).where(Colleague.is_self))
    )
    auth.login("alice")
    lead_page = client.get(f"/crm/leads/{lead_id}").get_data(as_text=True)
    compose = f"/crm/mailbox/compose/leads/{lead_id}"
    assert f'href="{compose}"' in lead_page and "Send email" in lead_page
    form = client.get(f"{compose}?template_id={template_id}").get_data(as_text=True)
    assert "Invitation for {company}" in form
    response = client.post(
        f"{compose}?template_id={template_id}",
        data={"subject": "Invitation for {company}", "body": BODY},
    )
    assert response.status_code == 302

    def check(session):
        message = session.scalar(sa.select(EmailMessage))
        assert message.direction == "out"
        assert message.to_address == "lena0@parkfoods.example"
        assert message.subject == "Invitation for Park Foods 0"
        assert message.body == (
            "Dear Lena Park 0,\nPark Foods 0 is invited to our fair. "
            f"Regards, {me} ({owner})"
        )
        assert message.template_id == template_id and message.lead_id == lead_id
        activity = session.scalar(sa.select(Activity).where(Activity.kind == "email"))
        assert (activity.related_type, activity.related_id) == ("leads", lead_id)
        assert activity.subject == message.subject and activity.status == "done"
        assert session.scalar(
            sa.select(AuditLog.action).filter_by(
                entity="lead", entity_id=lead_id, action="log_email"
            )
        )

    classroom.in_tenant(app, check)
    outbox = client.get("/crm/mailbox/?folder=out").get_data(as_text=True)
    assert "Invitation for Park Foods 0" in outbox
    page = client.get(f"/crm/leads/{lead_id}").get_data(as_text=True)
    assert "Emailed “Invitation for Park Foods 0” to lead" in page


def test_mail_to_a_recipient_without_an_address_is_refused_and_writes_nothing(
    app, client, auth, classroom
):
    lead_id = classroom.in_tenant(app, lambda s: make_lead(s, email=None).id)
    auth.login("alice")
    page = client.post(
        f"/crm/mailbox/compose/leads/{lead_id}",
        data={"subject": "Hello", "body": "Hi {name}"},
    ).get_data(as_text=True)
    assert "has no email address" in page
    page = client.post(
        f"/crm/mailbox/compose/leads/{lead_id}",
        data={"subject": "Hello", "body": "Hi {nmae}"},
    ).get_data(as_text=True)
    assert "Unknown merge field {nmae}" in page
    counts = classroom.in_tenant(
        app,
        lambda s: (
            s.scalar(sa.select(sa.func.count()).select_from(EmailMessage)),
            s.scalar(sa.select(sa.func.count()).select_from(Activity)),
        ),
    )
    assert counts == (0, 0)
    assert client.get("/crm/mailbox/compose/accounts/1").status_code == 404


def test_a_campaign_mailing_marks_members_sent_and_skips_the_rest(
    app, client, auth, classroom, no_network
):
    def prepare(session):
        leads = [make_lead(session, n) for n in range(3)]
        leads.append(make_lead(session, 3, email=None))
        campaign = make_campaign(session, leads)
        return campaign.id, make_template(session).id

    campaign_id, template_id = classroom.in_tenant(app, prepare)
    auth.login("alice")
    assert "Spring fair" in client.get("/crm/mailbox/campaign").get_data(as_text=True)
    response = client.post(
        "/crm/mailbox/campaign",
        data={"campaign_id": campaign_id, "template_id": template_id},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "3 emails sent to the members of “Spring fair”." in page
    assert "Not emailed, for want of an address: Lena Park 3." in page

    def check(session):
        members = session.scalars(
            sa.select(CampaignMember).order_by(CampaignMember.id)
        ).all()
        assert [m.status for m in members] == ["sent", "sent", "sent", "planned"]
        assert all(m.sent_at for m in members[:3])
        subjects = session.scalars(sa.select(EmailMessage.subject)).all()
        assert sorted(subjects) == [f"Invitation for Park Foods {n}" for n in range(3)]
        log = session.scalar(
            sa.select(AuditLog).filter_by(entity="campaign", action="send_mailing")
        )
        assert log.details == {"sent": 3, "template": "Fair invitation"}
        changes = session.scalars(
            sa.select(AuditLog.changes).filter_by(
                entity="campaign_member", action="update"
            )
        ).all()
        assert sum(1 for c in changes if "status" in c) == 3  # each one audited

    classroom.in_tenant(app, check)
    again = client.post(
        "/crm/mailbox/campaign",
        data={"campaign_id": campaign_id, "template_id": template_id},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "No member of this campaign is waiting for an email with an" in again
    count = classroom.in_tenant(
        app, lambda s: s.scalar(sa.select(sa.func.count()).select_from(EmailMessage))
    )
    assert count == 3


def _mail_campaign_and_reply(session, seed: str) -> dict[str, dt.date | None]:
    leads = [make_lead(session, n) for n in range(40)]
    campaign = make_campaign(session, leads)
    template = make_template(session)
    sent_at = dt.datetime(2026, 3, 2, 9, 0)
    svc.send_to_campaign(session, campaign, template, sent_at=sent_at)
    svc.simulate_replies(session, until=sent_at + dt.timedelta(days=30), seed=seed)
    return {
        m.lead.name: m.responded_on
        for m in session.scalars(sa.select(CampaignMember).order_by(CampaignMember.id))
        if m.status == "responded"
    }


def test_simulated_replies_are_the_same_for_the_same_seed(app, classroom, no_network):
    first = classroom.in_tenant(app, lambda s: _mail_campaign_and_reply(s, "42"), 0)
    second = classroom.in_tenant(app, lambda s: _mail_campaign_and_reply(s, "42"), 1)
    assert first == second
    assert 4 <= len(first) <= 20  # about 30 % of 40
    for day in first.values():
        assert dt.date(2026, 3, 3) <= day <= dt.date(2026, 3, 7)  # 1 to 5 days later


def test_replies_depend_on_the_seed_and_arrive_once(app, classroom, no_network):
    def run(session):
        replied = _mail_campaign_and_reply(session, "42")
        again = svc.simulate_replies(session, until=dt.datetime(2026, 6, 1), seed="42")
        inbox = session.scalars(
            sa.select(EmailMessage).where(EmailMessage.direction == "in")
        ).all()
        other = {
            m.to_name
            for m in session.scalars(
                sa.select(EmailMessage).where(EmailMessage.direction == "out")
            )
            if svc.reply_delay("7", m) is not None
        }
        return replied, again, inbox, other

    replied, again, inbox, other = classroom.in_tenant(app, run)
    assert again == []  # a message is answered once
    assert len(inbox) == len(replied)
    assert all(m.subject.startswith("Re: Invitation for") for m in inbox)
    assert other != set(replied)


def test_replies_wait_for_their_simulated_day(app, classroom, no_network):
    def run(session):
        lead = make_lead(session)
        sent = dt.datetime(2026, 3, 2, 9, 0)
        message = svc.send_email(session, lead, "Hello", "Hi {name}", sent_at=sent)
        seed = next(
            str(n) for n in range(1000) if svc.reply_delay(str(n), message) is not None
        )
        delay = svc.reply_delay(seed, message)
        early = svc.simulate_replies(
            session, until=sent + dt.timedelta(days=delay, seconds=-1), seed=seed
        )
        on_time = svc.simulate_replies(
            session, until=sent + dt.timedelta(days=delay), seed=seed
        )
        return early, [(r.sent_at, r.reply_to_id) for r in on_time], delay, message.id

    early, on_time, delay, message_id = classroom.in_tenant(app, run)
    assert early == []
    assert on_time == [
        (dt.datetime(2026, 3, 2, 9) + dt.timedelta(days=delay), message_id)
    ]


def test_the_replies_button_delivers_what_is_due(app, client, auth, classroom):
    auth.login("alice")
    response = client.post(
        "/crm/mailbox/replies", data={"days": "7"}, follow_redirects=True
    )
    assert "0 simulated replies arrived." in response.get_data(as_text=True)
    for junk in (" ", "", "x", "99999999999999999999"):
        assert (
            client.post("/crm/mailbox/replies", data={"days": junk}).status_code == 302
        )


def test_nothing_in_the_mailbox_can_reach_the_network():
    package = pathlib.Path(svc.__file__).parent
    source = "\n".join(p.read_text() for p in package.glob("*.py"))
    for word in ("smtplib", "socket", "urllib", "requests", "http.client"):
        assert word not in source, word
