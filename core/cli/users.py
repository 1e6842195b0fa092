"""``innoplat users``: staff accounts that sign in to the working group's pages."""

from __future__ import annotations

import sys

import click

from ..models import Role
from ..services import accounts
from .common import city_options, city_transaction, json_option, print_json, print_table


@click.group()
def users() -> None:
    """Staff accounts and their role per city (admin, coordinator, member)."""


@users.command("create")
@city_options
@click.option("--email", required=True, help="The e-mail address the person signs in with.")
@click.option("--name", required=True, help="The person's name as shown in the audit trail.")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=Role.member.value,
    show_default=True,
    help="admin and coordinator move ideas and apply methods; member views internal ideas.",
)
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (for scripts)."
)
def create(
    city: str, database_url: str | None, email: str, name: str, role: str, password_stdin: bool
) -> None:
    """Create a staff account with a role in the city (or change an existing account's role there)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with city_transaction(city, database_url) as (_platform, session, row):
        account = accounts.create_account(
            session,
            row,
            email=email,
            name=name,
            password=password,
            role=role,
            actor="innoplat users create",
        )
        click.echo(f"{account.email} is {role} of {row.slug}.")


@users.command("password")
@city_options
@click.option("--email", required=True, help="The e-mail address of the account.")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (for scripts)."
)
def password(city: str, database_url: str | None, email: str, password_stdin: bool) -> None:
    """Set a new password for a staff account; every session it holds is signed out."""
    if password_stdin:
        new = sys.stdin.readline().rstrip("\n")
    else:
        new = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    with city_transaction(city, database_url) as (_platform, session, _row):
        account = accounts.account_by_email(session, email)
        accounts.change_password(session, account, new, actor="innoplat users password")
        click.echo(f"{account.email} has a new password; its sessions are signed out.")


@users.command("list")
@city_options
@json_option
def list_(city: str, database_url: str | None, as_json: bool) -> None:
    """The city's staff accounts and their roles."""
    with city_transaction(city, database_url) as (_platform, session, row):
        rows = [
            {"email": a.email, "name": a.name, "role": r.value, "active": a.active}
            for a, r in accounts.list_accounts(session, row)
        ]
    if as_json:
        print_json(rows)
        return
    print_table(["email", "name", "role", "active"], [list(r.values()) for r in rows])
