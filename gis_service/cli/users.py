"""`landfund users …`: accounts and bearer tokens for the API."""

from __future__ import annotations

import typer

from .. import users as svc
from ..core.db import pg_connect
from .common import db_url, out, user_errors

app = typer.Typer(help="Users and API tokens (roles: admin, planner, investor).", no_args_is_help=True)


@app.command("add")
def add(name: str = typer.Argument(..., help="Login name."),
        role: str = typer.Option(..., "--role", help="admin, planner or investor."),
        unit: str | None = typer.Option(None, "--unit", help="Planners: GSO code of the unit they may edit "
                                                             "(11 = the whole province, 094 = a former district, …)."),
        organisation: str | None = typer.Option(None, "--organisation", help="Agency or company.")) -> None:
    """Add a user."""
    with user_errors(), pg_connect(db_url()) as conn:
        svc.add_user(conn, name, role, unit, organisation)
        out.print(f"Added {role} {name}" + (f" for unit {unit}" if unit else "") + ".")


@app.command("token")
def token(name: str = typer.Argument(...), days: int = typer.Option(90, "--days", help="Days until it expires."),
          label: str | None = typer.Option(None, "--label", help="What the token is for.")) -> None:
    """Issue a bearer token; it is shown once and stored only as a hash."""
    with user_errors(), pg_connect(db_url()) as conn:
        value, tid, expires = svc.issue_token(conn, name, days, label)
        out.print(value, soft_wrap=True)
        out.print(f"(token id {tid}, expires {expires:%Y-%m-%d}; send it as 'Authorization: Bearer …')", style="dim")


@app.command("revoke")
def revoke(name: str | None = typer.Argument(None, help="Revoke every token of this user."),
           token_id: int | None = typer.Option(None, "--token-id", help="Revoke just this token.")) -> None:
    """Revoke tokens. They stop working at once."""
    with user_errors(), pg_connect(db_url()) as conn:
        n = svc.revoke(conn, name, token_id)
        out.print(f"Revoked {n} token(s).")


@app.command("list")
def list_cmd() -> None:
    """List users and how many live tokens each has."""
    with user_errors(), pg_connect(db_url()) as conn:
        for name, role, unit, org, tokens in svc.list_users(conn):
            out.print(f"{name:<24} {role:<9} {unit or '-':<6} {tokens} token(s)  {org or ''}")
