"""`landfund users …`: accounts and bearer tokens for the API."""

from __future__ import annotations

import sys

import typer

from ..core.db import pg_connect
from ..core.errors import LandfundError
from ..services import users as svc
from .common import db_url, out, user_errors

DESKTOP_HELP = (
    "Let this planner's or admin's desktop GIS (QGIS 3.32+) write without If-Match: each such write is checked "
    "against the version of the parcel they last read, and marked in the history."
)
app = typer.Typer(help="Users and API tokens (roles: admin, planner, investor).", no_args_is_help=True)


@app.command("add")
def add(
    name: str = typer.Argument(..., help="Login name."),
    role: str = typer.Option(..., "--role", help="admin, planner or investor."),
    unit: str | None = typer.Option(
        None,
        "--unit",
        help="Planners: GSO code of the unit they may edit (11 = the whole province, 094 = a former district, …).",
    ),
    organisation: str | None = typer.Option(None, "--organisation", help="Agency or company."),
    desktop_editor: bool = typer.Option(False, "--desktop-editor", help=DESKTOP_HELP),
) -> None:
    """Add a user."""
    with user_errors(), pg_connect(db_url()) as conn:
        svc.add_user(conn, name, role, unit, organisation, desktop_editor)
        out.print(f"Added {role} {name}" + (f" for unit {unit}" if unit else "") + ".")


@app.command("token")
def token(
    name: str = typer.Argument(...),
    days: int = typer.Option(90, "--days", help="Days until it expires."),
    label: str | None = typer.Option(None, "--label", help="What the token is for."),
) -> None:
    """Issue a bearer token; it is shown once and stored only as a hash."""
    with user_errors(), pg_connect(db_url()) as conn:
        value, tid, expires = svc.issue_token(conn, name, days, label)
        out.print(value, soft_wrap=True)
        out.print(f"(token id {tid}, expires {expires:%Y-%m-%d}; send it as 'Authorization: Bearer …')", style="dim")


@app.command("revoke")
def revoke(
    name: str | None = typer.Argument(None, help="Revoke every token of this user."),
    token_id: int | None = typer.Option(None, "--token-id", help="Revoke just this token."),
) -> None:
    """Revoke tokens. They stop working at once."""
    with user_errors(), pg_connect(db_url()) as conn:
        n = svc.revoke(conn, name, token_id)
        out.print(f"Revoked {n} token(s).")


@app.command("list")
def list_cmd() -> None:
    """List users, their live tokens, and planners whose unit was abolished (to move them to a current one)."""
    with user_errors(), pg_connect(db_url()) as conn:
        for u in svc.list_users(conn):
            flags = (" (disabled)" if u["disabled"] else "") + (" (desktop editor)" if u["desktop_editor"] else "")
            out.print(
                f"{u['name']:<24} {u['role']:<9} {u['unit'] or '-':<6} {u['tokens']} token(s){flags}  "
                f"{u['organisation'] or ''}",
                soft_wrap=True,
            )
            if u["unit_abolished_on"] is not None and u["role"] == "planner":
                out.print(
                    f"    warning: unit {u['unit']} ({u['unit_name']}) was abolished after "
                    f"{u['unit_abolished_on']:%d/%m/%Y}; move this planner to a current unit:  "
                    f"landfund users set {u['name']} --unit CODE",
                    style="yellow",
                    soft_wrap=True,
                )


@app.command("set")
def set_cmd(
    name: str = typer.Argument(..., help="A planner (for --unit), a planner or admin (for --desktop-editor)."),
    unit: str | None = typer.Option(None, "--unit", help="GSO code of a unit in force today (a commune, or 11)."),
    desktop_editor: bool | None = typer.Option(
        None, "--desktop-editor/--no-desktop-editor", help=DESKTOP_HELP, show_default=False
    ),
) -> None:
    """Move a planner to another administrative unit (for example from a former district to a commune), or allow
    (or stop) a user's QGIS writing without If-Match."""
    if unit is None and desktop_editor is None:
        raise typer.BadParameter("give --unit CODE, --desktop-editor or --no-desktop-editor")
    with user_errors(), pg_connect(db_url()) as conn:
        if unit is not None:
            unit_name = svc.set_unit(conn, name, unit)
            out.print(f"{name} now plans for {unit} ({unit_name}).")
        if desktop_editor is not None:
            svc.set_desktop_editor(conn, name, desktop_editor)
            out.print(
                f"{name} may now edit from QGIS without If-Match (checked against what they last read)."
                if desktop_editor
                else f"{name}'s writes need If-Match again."
            )


@app.command("disable")
def disable_cmd(name: str = typer.Argument(...)) -> None:
    """Disable an account: no more sign-in, every token stops at once; its history and interests stay."""
    with user_errors(), pg_connect(db_url()) as conn:
        n = svc.disable(conn, name)
        out.print(f"Disabled {name}; revoked {n} token(s).")


@app.command("delete")
def delete_cmd(
    name: str = typer.Argument(...), yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation.")
) -> None:
    """Delete an account and its tokens. History keeps the name; investors with interests on record cannot be
    deleted (disable them instead)."""
    with user_errors(), pg_connect(db_url()) as conn:
        if not yes and sys.stdin.isatty() and not typer.confirm(f"Delete user {name}?"):
            raise typer.Exit(1)
        svc.delete(conn, name)
        out.print(f"Deleted {name}. Their name stays in the history of what they changed.")


@app.command("passwd")
def passwd_cmd(name: str = typer.Argument(..., help="The user whose password to set.")) -> None:
    """Set a user's password for signing in (GET /login). Asked twice at a prompt, or read from the first line of
    standard input when it is not a terminal (for scripts). Stored only as an argon2id hash."""
    import getpass

    from ..core.config import get_settings
    from ..services.auth import set_password

    with user_errors(), pg_connect(db_url()) as conn:
        settings = get_settings()
        if sys.stdin.isatty():
            first = getpass.getpass(f"New password for {name}: ")
            if getpass.getpass("Again: ") != first:
                raise LandfundError("the two passwords differ; nothing was changed")
        else:
            first = sys.stdin.readline().rstrip("\r\n")
        set_password(conn, name, first, settings.password_min_length)
        out.print(f"Password of {name} set; they can sign in at /login.")
