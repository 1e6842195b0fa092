"""Staff accounts: argon2-hashed passwords, sign-in, and each account's role per city."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from .. import validation
from ..errors import NotFound, ValidationError
from ..models import Account, City, CityRole, Role
from . import audit
from .ideas import _enum_value

PASSWORD_MIN = 10
_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verifying against a real hash even for unknown e-mail addresses keeps sign-in timing
    from telling an attacker which addresses have accounts.

    Made at the first sign-in, not at import: hashing takes argon2's 64 MiB of memory, which
    every command importing this module (an export, an import) would otherwise peak at.
    """
    return _hasher.hash("innoplat-no-such-account")


def _email(value: str) -> str:
    return (validation.email(value, required=True) or "").lower()


def create_account(
    session: Session,
    city: City,
    *,
    email: str,
    name: str,
    password: str,
    role: str | Role = Role.member,
    actor: str | None = None,
) -> Account:
    """Create a staff account with a role in ``city``, or give an existing account a role there."""
    address = _email(email)
    # The name and the address together name the account in the audit trail.
    name = validation.text(
        name,
        "name",
        maximum=min(
            validation.column_length(Account.name) or 200, audit.ACTOR_MAX - len(address) - 3
        ),
        required=True,
    )
    role_value = _enum_value(Role, role, "role")
    account = session.scalar(select(Account).where(func.lower(Account.email) == address))
    if account is None:
        if len(password or "") < PASSWORD_MIN:
            raise ValidationError("password", f"needs at least {PASSWORD_MIN} characters")
        account = Account(email=address, name=name, password_hash=_hasher.hash(password))
        session.add(account)
        session.flush()
    existing = next((r for r in account.roles if r.city_id == city.id), None)
    if existing is not None:
        existing.role = role_value
    else:
        account.roles.append(CityRole(city_id=city.id, role=role_value))
    session.flush()
    audit.record(
        session,
        city_id=city.id,
        entity_type="account",
        entity_id=account.id,
        action="role_granted",
        actor=actor,
        after={"email": account.email, "role": role_value.value},
    )
    return account


def authenticate(session: Session, email: str, password: str) -> Account | None:
    """The active account with this e-mail address and password, or None."""
    address = (email or "").strip().lower()
    account = session.scalar(select(Account).where(func.lower(Account.email) == address))
    try:
        _hasher.verify(account.password_hash if account else _dummy_hash(), password or "")
    except (VerificationError, InvalidHashError):
        return None
    if account is None or not account.active:
        return None
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = _hasher.hash(password)
    return account


def end_sessions(session: Session, account: Account) -> None:
    """Sign the account out everywhere: every session it holds stops working at its next request.

    The generation is increased in SQL, so two sign-outs at the same moment both count.
    """
    session.execute(
        update(Account)
        .where(Account.id == account.id)
        .values(session_generation=Account.session_generation + 1)
        .execution_options(synchronize_session=False)
    )
    session.refresh(account, ["session_generation"])


def change_password(
    session: Session, account: Account, password: str, *, actor: str | None = None
) -> None:
    """Set a new password; every session of the account ends (a stolen cookie stops working)."""
    if len(password or "") < PASSWORD_MIN:
        raise ValidationError("password", f"needs at least {PASSWORD_MIN} characters")
    account.password_hash = _hasher.hash(password)
    session.flush()
    end_sessions(session, account)
    audit.record(
        session,
        city_id=None,
        entity_type="account",
        entity_id=account.id,
        action="password_changed",
        actor=actor,
        after={"email": account.email},
    )


def account_by_email(session: Session, email: str) -> Account:
    address = (email or "").strip().lower()
    account = session.scalar(select(Account).where(func.lower(Account.email) == address))
    if account is None:
        raise NotFound(f"no staff account with the e-mail address {email!r}")
    return account


def get_account(session: Session, account_id: int) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(f"no account {account_id}")
    return account


def role_in(account: Account, city: City) -> Role | None:
    """The account's role in this city; None when it has none (another city's staff)."""
    for city_role in account.roles:
        if city_role.city_id == city.id:
            return city_role.role
    return None


def list_accounts(session: Session, city: City) -> list[tuple[Account, Role]]:
    rows = session.execute(
        select(Account, CityRole.role)
        .join(CityRole, CityRole.account_id == Account.id)
        .where(CityRole.city_id == city.id)
        .order_by(Account.email)
    )
    return [(account, role) for account, role in rows.tuples()]
