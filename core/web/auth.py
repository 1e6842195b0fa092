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
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as browser_session
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, login_user, logout_user
from sqlalchemy.exc import SQLAlchemyError

from ..errors import NotFound, ValidationError
from ..models import Account, Role
from ..services import accounts, audit
from .current import platform as _platform
from .forms import LoginForm, LogoutForm, PasswordForm

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
    #: The account's session generation when this session began (see ``end_sessions``).
    generation: int = 0
    is_authenticated: bool = True
    is_active: bool = True
    is_anonymous: bool = False

    def get_id(self) -> str:
        # Flask-Login keeps this in the session: a session names the generation it belongs to.
        return f"{self.id}.{self.generation}"

    @classmethod
    def of(cls, account: Account, role: Role) -> StaffUser:
        return cls(account.id, account.email, account.name, role, account.session_generation)

    @property
    def can_edit(self) -> bool:
        return self.role in EDITORS

    @property
    def is_admin(self) -> bool:
        return self.role is Role.admin


def init_app(app: Flask) -> None:
    manager = LoginManager(app)
    manager.login_view = "auth.login"
    manager.login_message = _l("Please sign in to see this page.")
    manager.login_message_category = "info"
    manager.user_loader(_load_user)


def _load_user(user_id: str) -> StaffUser | None:
    """The account with its role in this city; an account without one is a stranger here.

    Checked on every request: a session from before the account signed out or changed its
    password (an older generation) is signed out.
    """
    account_id, _dot, generation = user_id.partition(".")
    try:
        # Read-only: the view's own transaction may already hold SQLite's write lock.
        with _platform().transaction(write=False) as session:
            account = accounts.get_account(session, int(account_id))
            role = accounts.role_in(account, _platform().city_row(session))
            if role is None or not account.active:
                return None
            if str(account.session_generation) != generation:
                return None
            return StaffUser.of(account, role)
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
    return audit.actor_label(current_user.name, current_user.email) if is_staff() else None


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


def _rotate_csrf_token() -> None:
    """A new CSRF token from sign-in on: a token learnt before cannot be used for staff forms."""
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    browser_session.pop(field, None)
    g.pop(field, None)


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
            user = StaffUser.of(account, role) if account and role else None
        if user is None:
            form.password.errors.append(
                _("The e-mail address or password is wrong, or the account has no role here.")
            )
        else:
            _rotate_csrf_token()
            login_user(user)
            flash(_("You are signed in."), "success")
            return redirect(_safe_next(request.args.get("next")))
    return render_template(
        "auth/login.html", form=form
    ), 200 if request.method == "GET" or not form.errors else 400


@blueprint.route("/account/password", methods=["GET", "POST"])
@staff_required
def password() -> ResponseReturnValue:
    """Change one's own password: every other session of the account is signed out."""
    form = PasswordForm()
    if form.validate_on_submit():
        with _platform().transaction() as session:
            account = accounts.get_account(session, current_user.id)
            if accounts.authenticate(session, account.email, form.current.data or "") is None:
                form.current.errors.append(_("This is not your current password."))
            else:
                try:
                    accounts.change_password(session, account, form.new.data or "", actor=actor())
                except ValidationError as error:
                    form.new.errors.append(error.message)
                else:
                    # This browser stays signed in, in the new generation; all others end.
                    login_user(StaffUser.of(account, current_user.role))
                    _rotate_csrf_token()
                    flash(
                        _("Your password is changed. Every other session is signed out."),
                        "success",
                    )
                    return redirect(url_for("workgroup.dashboard"))
    status = 400 if form.errors else 200
    return render_template("auth/password.html", form=form), status


@blueprint.route("/logout", methods=["GET", "POST"])
def logout() -> ResponseReturnValue:
    form = LogoutForm()
    if request.method == "POST" and form.validate_on_submit():
        if is_staff():
            # Server-side: a copy of this session's cookie must not open anything afterwards.
            with _platform().transaction() as session:
                accounts.end_sessions(session, accounts.get_account(session, current_user.id))
        logout_user()
        flash(_("You are signed out."), "success")
        return redirect(url_for("public.home"))
    return render_template("auth/logout.html", form=form)
