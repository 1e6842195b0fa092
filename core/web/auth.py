"""Signing in and out, and who may do what: staff roles per city (admin, coordinator, member)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, login_user, logout_user
from sqlalchemy.exc import SQLAlchemyError

from ..errors import NotFound
from ..models import Role
from ..platform import Platform
from ..services import accounts
from .forms import LoginForm, LogoutForm

blueprint = Blueprint("auth", __name__)
F = TypeVar("F", bound=Callable[..., Any])
EDITORS = (Role.admin, Role.coordinator)


@dataclass
class StaffUser:
    """The signed-in account as seen by one city: its role there decides what it may do."""

    id: int
    email: str
    name: str
    role: Role
    is_authenticated: bool = True
    is_active: bool = True
    is_anonymous: bool = False

    def get_id(self) -> str:
        return str(self.id)

    @property
    def can_edit(self) -> bool:
        return self.role in EDITORS

    @property
    def is_admin(self) -> bool:
        return self.role is Role.admin


def _platform() -> Platform:
    return current_app.extensions["innoplat"]


def init_app(app: Flask) -> None:
    manager = LoginManager(app)
    manager.login_view = "auth.login"
    manager.login_message = _l("Please sign in to see this page.")
    manager.login_message_category = "info"
    manager.user_loader(_load_user)


def _load_user(account_id: str) -> StaffUser | None:
    """The account with its role in this city; an account without one is a stranger here."""
    try:
        # Read-only: the view's own transaction may already hold SQLite's write lock.
        with _platform().transaction(write=False) as session:
            account = accounts.get_account(session, int(account_id))
            role = accounts.role_in(account, _platform().city_row(session))
            if role is None or not account.active:
                return None
            return StaffUser(id=account.id, email=account.email, name=account.name, role=role)
    except (SQLAlchemyError, NotFound, ValueError):
        # A database that is down must still render the 503 page, as an anonymous visitor;
        # an account deleted since it signed in is simply signed out.
        return None


def is_staff() -> bool:
    return bool(getattr(current_user, "is_authenticated", False))


def can_edit() -> bool:
    return is_staff() and bool(getattr(current_user, "can_edit", False))


def actor() -> str | None:
    """How the signed-in person is named in the audit trail."""
    return f"{current_user.name} <{current_user.email}>" if is_staff() else None


def staff_required(view: F) -> F:
    """Any role in this city: admin, coordinator or member."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not is_staff():
            return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def editor_required(view: F) -> F:
    """Admins and coordinators move ideas, apply methods and edit; members only look."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not is_staff():
            return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
        if not can_edit():
            abort(403)
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def _safe_next(target: str | None) -> str:
    # Only a path on this site: an absolute URL would make the sign-in page an open redirect.
    if target:
        parts = urlsplit(target)
        if (
            not parts.scheme
            and not parts.netloc
            and target.startswith("/")
            and not target.startswith("//")
        ):
            return target
    return url_for("workgroup.dashboard")


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    if form.validate_on_submit():
        with _platform().transaction() as session:
            account = accounts.authenticate(
                session, form.email.data or "", form.password.data or ""
            )
            role = accounts.role_in(account, _platform().city_row(session)) if account else None
            user = (
                StaffUser(account.id, account.email, account.name, role)
                if account and role
                else None
            )
        if user is None:
            form.password.errors.append(
                _("The e-mail address or password is wrong, or the account has no role here.")
            )
        else:
            login_user(user)
            flash(_("You are signed in."), "success")
            return redirect(_safe_next(request.args.get("next")))
    return render_template(
        "auth/login.html", form=form
    ), 200 if request.method == "GET" or not form.errors else 400


@blueprint.route("/logout", methods=["GET", "POST"])
def logout() -> ResponseReturnValue:
    form = LogoutForm()
    if request.method == "POST" and form.validate_on_submit():
        logout_user()
        flash(_("You are signed out."), "success")
        return redirect(url_for("public.home"))
    return render_template("auth/logout.html", form=form)
