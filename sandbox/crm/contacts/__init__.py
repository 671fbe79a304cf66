"""Contacts: the people at accounts."""

import sqlalchemy as sa

from sandbox.crm.registry import Module, column, module_blueprint, register_module
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm import Account, Contact

bp = module_blueprint("contacts", __name__)

MODULE = register_module(
    Module(
        key="contacts",
        label=_l("Contacts"),
        entity_label=_l("Contact"),
        noun=_l("contact"),
        icon="person-lines-fill",
        model=Contact,
        blueprint=bp,
        group="sales",
        order=30,
        id_arg="contact_id",
        search=(
            *Contact.name_search_expressions(),
            Contact.email,
            Contact.mobile,
            Contact.phone,
            Contact.title,
        ),
        columns=(
            column(
                Contact.last_name,
                key="name",
                kind="link",
                label=_l("Name"),
                # By family name, then given name, whatever order names show in.
                sort=Contact.last_name + " " + sa.func.coalesce(Contact.first_name, ""),
                value=lambda contact: contact.full_name,
            ),
            column(
                Contact.account_id,
                key="account",
                kind="ref",
                ref="accounts",
                sort=Account.name,
                value=lambda contact: contact.account,
            ),
            column(Contact.title),
            column(Contact.email),
            column(Contact.mobile),
        ),
    )
)

from sandbox.crm.contacts import routes  # noqa: E402, F401
