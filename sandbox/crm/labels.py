"""Translated labels for the CRM's coded values."""

from sandbox.i18n import lazy_gettext as _l

ACCOUNT_TYPE_LABELS = {
    "customer": _l("Customer"),
    "prospect": _l("Prospect"),
    "partner": _l("Partner"),
    "reseller": _l("Reseller"),
    "other": _l("Other"),
}

INDUSTRY_LABELS = {
    "manufacturing": _l("Manufacturing"),
    "retail": _l("Retail"),
    "technology": _l("Technology"),
    "finance": _l("Finance"),
    "healthcare": _l("Healthcare"),
    "education": _l("Education"),
    "logistics": _l("Logistics"),
    "energy": _l("Energy"),
    "hospitality": _l("Hospitality"),
    "government": _l("Government"),
}

#: Whole sentences, so every language can order the words its own way.
CHANGE_DESCRIPTIONS = {
    "create": _l("%(entity)s #%(id)s created"),
    "update": _l("%(entity)s #%(id)s updated"),
    "delete": _l("%(entity)s #%(id)s deleted"),
}

ENTITY_LABELS = {
    "account": _l("Account"),
    "contact": _l("Contact"),
}

FIELD_LABELS = {
    "name": _l("Account name"),
    "account_type": _l("Account type"),
    "industry": _l("Industry"),
    "phone": _l("Phone"),
    "email": _l("Email"),
    "website": _l("Website"),
    "city": _l("City"),
    "country": _l("Country"),
    "address": _l("Address"),
    "annual_revenue": _l("Annual revenue"),
    "employees": _l("Employees"),
    "owner": _l("Owner"),
    "description": _l("Description"),
    "account_id": _l("Account"),
    "first_name": _l("First name"),
    "last_name": _l("Last name"),
    "title": _l("Job title"),
    "department": _l("Department"),
    "mobile": _l("Mobile"),
    "notes": _l("Notes"),
}
