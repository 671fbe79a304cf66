"""Account rules: creating, updating, naming, duplicates, review, sharing, related
accounts and the inactive (失效) state."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from flask import has_request_context
from flask_babel.speaklater import LazyString
from sqlalchemy.orm import Session

from sandbox.crm.audit import define_action, record_action
from sandbox.crm.codes import code_list
from sandbox.crm.service import (
    HasRelatedRecords,
    apply_changes,
    commit,
    delete_record,
    related_records,
    save_with_unique_name,
)
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm import Account, Colleague
from sandbox.models.crm.accounts import AccountRelation
from sandbox.text import collapse_spaces, company_key, is_blank, name_key

SIMILAR_LIMIT = 5

FIELDS = (
    "name",
    "account_type",
    "industry",
    "source",
    "status",
    "intention",
    "rating",
    "parent_id",
    "phone",
    "email",
    "website",
    "address",
    "city",
    "country",
    "annual_revenue",
    "employees",
    "owner_id",
    "description",
)

define_action(
    "create_despite_duplicates",
    _l("Created %(entity)s %(record)s although similar accounts exist: %(similar)s"),
)
define_action("submit_review", _l("Submitted %(entity)s %(record)s for review"))
define_action("approve", _l("Approved %(entity)s %(record)s"))
define_action("reject", _l("Rejected %(entity)s %(record)s: %(note)s"))
define_action("share", _l("Shared %(entity)s %(record)s; co-owners: %(co_owners)s"))
define_action(
    "deactivate",
    _l("Marked %(entity)s %(record)s inactive: %(reason)s"),
    entity="account",
)
define_action("reactivate", _l("Reactivated %(entity)s %(record)s"))
define_action(
    "rename",
    _l("Renamed %(entity)s %(former)s to %(record)s: %(reason)s"),
    entity="account",
)
define_action("relate", _l("Linked %(entity)s %(record)s with %(related)s"))
define_action("unrelate", _l("Unlinked %(entity)s %(record)s from %(related)s"))


def message_text(message: object) -> str:
    """A (lazy) message as text: translated in a request, else in English (for the
    CLI, lesson checks and logs, where no language was chosen)."""
    if has_request_context() or not isinstance(message, LazyString):
        return str(message)
    text, kwargs = message._args[0], message._kwargs
    return text % kwargs if kwargs else text


class AccountRuleError(ValueError):
    """An account rule refused an action; ``message`` says why, for the user."""

    field: str | None = None

    def __init__(self, message: object) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return message_text(self.message)


class DuplicateAccountName(AccountRuleError):
    """Another account already has this name; ``existing`` is that account."""

    field = "name"

    def __init__(self, existing: Account) -> None:
        super().__init__(
            _l("An account named “%(name)s” already exists.", name=existing.name)
        )
        self.existing = existing


class InvalidAccountName(AccountRuleError):
    """The name uses a character the naming rules do not allow."""

    field = "name"


class InvalidParent(AccountRuleError):
    field = "parent_id"


class SimilarAccountsExist(AccountRuleError):
    """Accounts that are probably the same company exist; ``similar`` lists them.

    Creating anyway is an explicit choice (``despite_similar=True``)."""

    field = "name"

    def __init__(self, similar: list[Account]) -> None:
        super().__init__(
            _l("Similar accounts already exist. Check them before creating another.")
        )
        self.similar = similar


class AccountInactive(AccountRuleError):
    """The account is inactive (失效) and therefore read-only."""

    def __init__(self, account: Account) -> None:
        super().__init__(
            _l(
                "“%(name)s” is inactive (%(reason)s) and cannot be changed; "
                "reactivate it first.",
                name=account.name,
                reason=account.inactive_reason or "—",
            )
        )
        self.account = account


# ---------------------------------------------------------------- naming rules

_CJK = re.compile(
    "[\u2e80-\u2fdf\u3005\u3007\u3021-\u3029\u3400-\u4dbf\u4e00-\u9fff"
    "\uf900-\ufaff\U00020000-\U0003134f]"
)
_BRACKETS = "()（）"
_ENGLISH_PUNCTUATION = " ,.&"


def is_chinese_name(name: str) -> bool:
    """A name with any Chinese character follows the Chinese naming rule."""
    return bool(_CJK.search(name))


def _allowed(ch: str, chinese: bool) -> bool:
    if ch.isalpha() or unicodedata.category(ch) == "Nd" or ch in _BRACKETS:
        return True
    return not chinese and ch in _ENGLISH_PUNCTUATION


def _shown(ch: str) -> str:
    if ch == " ":
        return message_text(_l("space"))
    if ch.isspace() or not ch.isprintable():
        return f"U+{ord(ch):04X}"
    return f"“{ch}”"


def name_problem(name: str) -> object | None:
    """Why ``name`` breaks the naming rules (a message naming the characters not
    allowed), or None when it follows them.

    A Chinese name may hold only Chinese characters, letters, digits and brackets
    (half- or full-width); an English name only letters, digits, spaces, commas,
    periods, brackets and “&”.
    """
    chinese = is_chinese_name(name)
    bad: list[str] = []
    for ch in name:
        # Full-width letters and ideographic spaces from Chinese input methods are
        # judged by their plain forms, but a refusal names what was typed.
        plain = unicodedata.normalize("NFKC", ch)
        allowed = all(_allowed(part, chinese) for part in plain) if plain else False
        if not allowed and ch not in bad:
            bad.append(ch)
    if not bad:
        return None
    chars = " ".join(_shown(ch) for ch in bad)
    if chinese:
        return _l(
            "A Chinese account name cannot contain %(chars)s: use only Chinese "
            "characters, letters, digits and brackets.",
            chars=chars,
        )
    return _l(
        "An English account name cannot contain %(chars)s: use only letters, "
        "digits, spaces, commas, periods, brackets and “&”.",
        chars=chars,
    )


def clean_name(name: str | None) -> str:
    """The name as it is stored: runs of spaces (ideographic ones too) as one."""
    return collapse_spaces(name or "")


def check_name(name: str) -> None:
    """:raise InvalidAccountName: ``name`` breaks the naming rules."""
    problem = name_problem(name)
    if problem is not None:
        raise InvalidAccountName(problem)


# ----------------------------------------------------------------- duplicates


def find_same_name(
    session: Session, name: str, exclude_id: int | None = None
) -> Account | None:
    """An existing account whose name is the same once case, width, spaces and
    trailing punctuation are folded away (see :func:`sandbox.text.name_key`)."""
    stmt = sa.select(Account).where(Account.name_key == name_key(name))
    if exclude_id is not None:
        stmt = stmt.where(Account.id != exclude_id)
    return session.scalars(stmt.limit(1)).first()


def _is_digit(char: sa.ColumnElement) -> sa.ColumnElement:
    return char.op("GLOB")("[0-9]")


def _keeps_numbers_whole(
    haystack: sa.ColumnElement, needle: sa.ColumnElement
) -> sa.ColumnElement:
    """``needle`` occurs in ``haystack`` without cutting a number in two: "deal1"
    is not part of "deal10" (the numbers differ), while "acme" is part of
    "acmetrading"."""
    at = sa.func.instr(haystack, needle)
    after = sa.func.substr(haystack, at + sa.func.length(needle), 1)
    before = sa.func.substr(haystack, at - 1, 1)
    return sa.not_(
        sa.or_(
            sa.and_(_is_digit(sa.func.substr(needle, -1)), _is_digit(after)),
            sa.and_(_is_digit(sa.func.substr(needle, 1, 1)), _is_digit(before)),
        )
    )


def similar_accounts(
    session: Session,
    name: str,
    *,
    exclude_id: int | None = None,
    limit: int = SIMILAR_LIMIT,
) -> list[Account]:
    """Accounts that are probably the company called ``name`` (at most ``limit``).

    Case, width, spaces, punctuation and legal forms (Ltd, Inc, 有限公司 …) are
    ignored, and one name containing the other counts: "杭州某某科技" finds
    "杭州某某科技有限公司" (but "Deal 1" does not find "Deal 10"). The owner is
    loaded with each, to say whose it is.
    """
    core = company_key(name)
    if not core:
        return []
    typed = sa.literal(core)
    stmt = (
        sa.select(Account)
        .options(sa.orm.joinedload(Account.owner))
        .where(
            sa.or_(
                Account.match_key == core,
                sa.and_(
                    sa.func.instr(Account.match_key, typed) > 0,
                    _keeps_numbers_whole(Account.match_key, typed),
                ),
                sa.and_(
                    Account.match_key != "",
                    sa.func.instr(typed, Account.match_key) > 0,
                    _keeps_numbers_whole(typed, Account.match_key),
                ),
            )
        )
        .order_by((Account.match_key == core).desc(), sa.func.length(Account.name))
        .limit(limit)
    )
    if exclude_id is not None:
        stmt = stmt.where(Account.id != exclude_id)
    return list(session.scalars(stmt))


# ------------------------------------------------------------ create and update


def ensure_editable(account: Account) -> None:
    """:raise AccountInactive: the account is inactive, so nothing about it may
    change (its fields, owners, review, related accounts, new contacts)."""
    if account.inactive:
        raise AccountInactive(account)


def _check_parent(session: Session, account: Account, parent_id: int | None) -> None:
    if parent_id is None:
        return
    if account.id is not None and parent_id == account.id:
        raise InvalidParent(_l("An account cannot be its own parent."))
    seen: set[int] = set()
    current = session.get(Account, parent_id)
    if current is None:
        raise InvalidParent(_l("The chosen record no longer exists."))
    while current is not None and current.id not in seen:
        if account.id is not None and current.id == account.id:
            raise InvalidParent(
                _l("That account already belongs under this one; choose another.")
            )
        seen.add(current.id)
        current = current.parent


def _save(
    session: Session, account: Account, log: dict[str, Any] | None = None
) -> Account:
    if is_blank(account.name):
        raise ValueError("an account needs a name")
    return save_with_unique_name(
        session,
        account,
        find_same_name,
        DuplicateAccountName,
        before_commit=(lambda: record_action(account, **log)) if log else None,
    )


def _names(accounts: Iterable[Account]) -> str:
    return ", ".join(a.name for a in accounts)


def create_account(
    session: Session, data: dict[str, Any], *, despite_similar: bool = False
) -> Account:
    """Create an account after the naming rules and the duplicate checks.

    :param despite_similar: the user chose to create it although similar accounts
        exist; the choice is logged with their names.
    :raise InvalidAccountName: the name breaks the naming rules.
    :raise DuplicateAccountName: the name is taken.
    :raise SimilarAccountsExist: similar accounts exist and ``despite_similar`` is
        false. Nothing is written when any of these is raised.
    """
    data = {**data, "name": clean_name(data.get("name"))}
    check_name(data["name"])
    account = Account()
    _check_parent(session, account, data.get("parent_id"))
    same = find_same_name(session, data["name"])
    if same is not None:
        raise DuplicateAccountName(same)
    similar = similar_accounts(session, data["name"])
    if similar and not despite_similar:
        raise SimilarAccountsExist(similar)
    apply_changes(account, data, FIELDS)
    log = None
    if similar:
        log = {
            "action": "create_despite_duplicates",
            "details": {"similar": _names(similar)},
        }
    return _save(session, account, log)


def update_account(session: Session, account: Account, data: dict[str, Any]) -> Account:
    """Save changes to an account; a new name must follow the naming rules (names
    kept from before the rules are left alone).

    :raise AccountInactive: the account is inactive.
    :raise InvalidAccountName: the new name breaks the naming rules.
    :raise DuplicateAccountName: the new name is taken (nothing is written).
    """
    ensure_editable(account)
    data = {**data, "name": clean_name(data.get("name"))}
    if name_key(data["name"]) != name_key(account.name or ""):
        check_name(data["name"])
    _check_parent(session, account, data.get("parent_id"))
    apply_changes(account, data, FIELDS)
    return _save(session, account)


def rename_account(
    session: Session, account: Account, new_name: str, reason: str
) -> Account:
    """Rename an account (客户更名), keeping its former name and the reason.

    :raise AccountInactive: the account is inactive.
    :raise InvalidAccountName: the new name breaks the naming rules or is the same.
    :raise DuplicateAccountName: another account has the name (nothing is written).
    """
    from sandbox.models.crm.account_names import RENAME_REASONS

    ensure_editable(account)
    new_name = clean_name(new_name)
    former = account.name
    if name_key(new_name) == name_key(former or ""):
        raise InvalidAccountName(_l("The new name is the same as the current one."))
    check_name(new_name)
    reason = reason.strip()
    account.name = new_name
    reasons = session.info.setdefault(RENAME_REASONS, {})
    reasons[account.id] = reason
    try:
        return _save(
            session,
            account,
            {"action": "rename", "details": {"former": former, "reason": reason}},
        )
    finally:
        reasons.pop(account.id, None)


# --------------------------------------------------------------------- review


def has_end_customer(session: Session, account: Account) -> bool:
    """Whether a channel account serves at least one end-customer account."""
    related = sa.orm.aliased(Account)
    return bool(
        session.scalar(
            sa.select(sa.func.count())
            .select_from(AccountRelation)
            .join(related, AccountRelation.related_id == related.id)
            .where(
                AccountRelation.account_id == account.id,
                AccountRelation.relation == "serves",
                related.account_type == "end_customer",
            )
        )
    )


def submit_for_review(session: Session, account: Account) -> Account:
    """待审核: ask for the account to be reviewed (again, after a rejection)."""
    ensure_editable(account)
    if account.review_state == "pending":
        raise AccountRuleError(_l("This account is already waiting for review."))
    if account.review_state == "approved":
        raise AccountRuleError(_l("This account has already been approved."))
    account.review_state = "pending"
    record_action(account, "submit_review")
    commit(session)
    return account


def approve_account(session: Session, account: Account) -> Account:
    """审核通过. A channel account needs an end customer it serves first."""
    ensure_editable(account)
    if account.review_state != "pending":
        raise AccountRuleError(
            _l("Only an account waiting for review can be approved.")
        )
    if account.account_type == "channel" and not has_end_customer(session, account):
        raise AccountRuleError(
            _l(
                "A channel account needs at least one related end-customer account "
                "(relationship “Serves”) before it can be approved."
            )
        )
    account.review_state = "approved"
    account.review_note = None
    record_action(account, "approve")
    commit(session)
    return account


def reject_account(session: Session, account: Account, note: str) -> Account:
    """驳回, saying why (the note is kept on the account)."""
    ensure_editable(account)
    if account.review_state != "pending":
        raise AccountRuleError(
            _l("Only an account waiting for review can be rejected.")
        )
    if is_blank(note):
        raise AccountRuleError(_l("Say why the account is rejected."))
    account.review_state = "rejected"
    account.review_note = note.strip()[:500]
    record_action(account, "reject", {"note": account.review_note})
    commit(session)
    return account


# ------------------------------------------------------------ owner and share


def share_account(
    session: Session,
    account: Account,
    owner_id: int | None,
    co_owner_ids: Iterable[int],
) -> Account:
    """Change the owner and the co-owners (共同所有人); a change of co-owners is
    logged with who was added and who removed."""
    ensure_editable(account)
    wanted = set(co_owner_ids)
    if owner_id is not None and owner_id in wanted:
        raise AccountRuleError(_l("The owner cannot also be a co-owner."))
    colleagues = (
        list(session.scalars(sa.select(Colleague).where(Colleague.id.in_(wanted))))
        if wanted
        else []
    )
    if len(colleagues) != len(wanted):
        raise AccountRuleError(_l("The chosen colleague no longer exists."))
    before = {c.id: c for c in account.co_owners}
    after = {c.id: c for c in colleagues}
    added = [after[i] for i in after if i not in before]
    removed = [before[i] for i in before if i not in after]
    account.owner_id = owner_id
    account.co_owners = sorted(colleagues, key=lambda c: c.name)
    if added or removed:
        record_action(
            account,
            "share",
            {
                "co_owners": [c.name for c in account.co_owners],
                "added": [c.name for c in added],
                "removed": [c.name for c in removed],
            },
        )
    commit(session)
    return account


# ------------------------------------------------------------- inactive (失效)


def deactivate_account(session: Session, account: Account, reason: str) -> Account:
    """Mark the account inactive: from now on it is read-only until reactivated."""
    if account.inactive:
        raise AccountRuleError(_l("This account is already inactive."))
    if is_blank(reason):
        raise AccountRuleError(_l("Say why the account is inactive."))
    account.inactive = True
    account.inactive_reason = reason.strip()[:500]
    record_action(account, "deactivate", {"reason": account.inactive_reason})
    commit(session)
    return account


def reactivate_account(session: Session, account: Account) -> Account:
    if not account.inactive:
        raise AccountRuleError(_l("This account is active."))
    account.inactive = False
    account.inactive_reason = None
    record_action(account, "reactivate")
    commit(session)
    return account


# ----------------------------------------------------------- related accounts


def relations_of(session: Session, account: Account) -> list[AccountRelation]:
    """The account's related accounts, both the ones it links to and the ones that
    link to it, each with both accounts loaded."""
    return list(
        session.scalars(
            sa.select(AccountRelation)
            .options(
                sa.orm.joinedload(AccountRelation.account),
                sa.orm.joinedload(AccountRelation.related),
            )
            .where(
                sa.or_(
                    AccountRelation.account_id == account.id,
                    AccountRelation.related_id == account.id,
                )
            )
            .order_by(AccountRelation.id)
        )
    )


def relate_accounts(
    session: Session, account: Account, related: Account, relation: str
) -> AccountRelation:
    """Link two accounts (关联客户). “Serves” always runs from the channel partner
    to the customer it serves, whichever page it was added from."""
    ensure_editable(account)
    ensure_editable(related)
    if related.id == account.id:
        raise AccountRuleError(_l("An account cannot be related to itself."))
    if relation not in code_list("account_relation").active_codes():
        raise AccountRuleError(_l("Choose a relationship from the list."))
    existing = session.scalar(
        sa.select(sa.func.count())
        .select_from(AccountRelation)
        .where(
            sa.or_(
                sa.and_(
                    AccountRelation.account_id == account.id,
                    AccountRelation.related_id == related.id,
                ),
                sa.and_(
                    AccountRelation.account_id == related.id,
                    AccountRelation.related_id == account.id,
                ),
            )
        )
    )
    if existing:
        raise AccountRuleError(
            _l("“%(name)s” is already related to this account.", name=related.name)
        )
    source, target = account, related
    if (
        relation == "serves"
        and account.account_type != "channel"
        and related.account_type == "channel"
    ):
        source, target = related, account
    link = AccountRelation(account=source, related=target, relation=relation)
    session.add(link)
    record_action(source, "relate", {"related": target.name, "relation": relation})
    record_action(target, "relate", {"related": source.name, "relation": relation})
    commit(session)
    return link


def unrelate_accounts(session: Session, link: AccountRelation) -> None:
    ensure_editable(link.account)
    ensure_editable(link.related)
    record_action(link.account, "unrelate", {"related": link.related.name})
    record_action(link.related, "unrelate", {"related": link.account.name})
    session.delete(link)
    commit(session)


def delete_account(session: Session, account: Account, *, detach: bool = False) -> None:
    """Delete an account. Its links to related accounts go with it (the accounts
    stay); like other linked records they are removed only when ``detach``.

    :raise AccountInactive: the account, or an account related to it, is inactive.
    :raise HasRelatedRecords: see :func:`sandbox.crm.service.delete_record`.
    """
    ensure_editable(account)
    links = relations_of(session, account)
    if links and not detach:
        raise HasRelatedRecords(related_records(session, account))
    for link in links:
        other = link.related if link.account_id == account.id else link.account
        ensure_editable(other)
        record_action(other, "unrelate", {"related": account.name})
        session.delete(link)
    try:
        delete_record(session, account, detach=detach)
    except HasRelatedRecords:
        session.rollback()
        raise
