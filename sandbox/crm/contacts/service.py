"""Contact rules: creating and updating."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from sandbox.crm.service import apply_changes, save
from sandbox.models.crm import Contact

FIELDS = (
    "first_name",
    "last_name",
    "account_id",
    "title",
    "department",
    "email",
    "phone",
    "mobile",
    "notes",
)


def create_contact(session: Session, data: dict[str, Any]) -> Contact:
    contact = Contact()
    apply_changes(contact, data, FIELDS)
    return save(session, contact)


def update_contact(session: Session, contact: Contact, data: dict[str, Any]) -> Contact:
    apply_changes(contact, data, FIELDS)
    return save(session, contact)
