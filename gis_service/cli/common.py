"""Helpers shared by the CLI commands: settings, engines, and turning errors into a message and an exit code."""

from __future__ import annotations

import contextlib
import json
import sys

import typer
from rich.console import Console
from rich.markup import escape

from ..core.config import get_settings
from ..core.db import database_url, make_engine, owner_database_url
from ..core.errors import LandfundError

err = Console(stderr=True, highlight=False)
out = Console(highlight=False)


def print_json(data) -> None:
    """JSON on stdout for programs, written as is: rich's print_json parses and styles it again, which took 132 s
    and 4.5 GB for the report of a file of 100,000 bad rows."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


# What the command line can do about some problems of a validation report (the API shows the problems alone).
CLI_HINTS = {
    "overlap": "use --allow-overlap to accept",
    "initial_status": "an import of an existing land fund may keep its statuses: --keep-status",
    "missing_column": "map a column to it with --map SOURCE={field}",
}


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    return typer.Exit(1)


def _settings_message(exc: Exception) -> str:
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        parts = []
        for e in exc.errors():
            loc = [str(x) for x in e.get("loc", ())]
            msg = str(e.get("msg", "")).removeprefix("Value error, ")
            if not loc:
                parts.append(msg)
                continue
            name = loc[0].upper()
            var = name if name in ("DATABASE_URL", "DATABASE_READ_URL", "DATABASE_OWNER_URL") else f"LANDFUND_{name}"
            inner = ".".join(loc[1:])
            parts.append(f"{var}: {inner + ': ' if inner else ''}{msg}")
        return "a setting is not valid: " + "; ".join(parts)
    return f"a setting is not valid: {exc}"


@contextlib.contextmanager
def user_errors():
    """Show what a user can cause (a LandfundError, a bad setting, an unreachable database, a duplicate) as a
    one-line message and exit 1; never a traceback for a user mistake."""
    import psycopg
    from pydantic import ValidationError
    from pydantic_settings import SettingsError
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.exc import IntegrityError as SAIntegrityError
    from sqlalchemy.exc import OperationalError as SAOperationalError

    from ..validation import ValidationFailed

    try:
        yield
    except ValidationFailed as exc:
        raise _fail(exc.message(CLI_HINTS)) from None
    except LandfundError as exc:
        raise _fail(str(exc)) from None
    except (ValidationError, SettingsError) as exc:
        raise _fail(_settings_message(exc)) from None
    except (psycopg.errors.UniqueViolation, SAIntegrityError, psycopg.IntegrityError) as exc:
        cause = getattr(exc, "orig", None) or exc
        diag = getattr(cause, "diag", None)
        detail = (diag.message_detail or diag.message_primary) if diag else str(cause).splitlines()[0]
        raise _fail(f"the database refused the change, nothing was written: {detail}") from None
    except (psycopg.OperationalError, SAOperationalError) as exc:
        cause = getattr(exc, "orig", None) or exc
        first = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        raise _fail(f"cannot reach the database ({first}); is it running? (landfund db status)") from None
    except (psycopg.Error, DBAPIError) as exc:  # anything else the database refused: its own words, in one line
        cause = getattr(exc, "orig", None) or exc
        first = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        raise _fail(f"the database refused: {first}") from None
    except KeyboardInterrupt:
        err.print("interrupted; nothing was written")
        raise typer.Exit(130) from None


def db_url(start: bool = True) -> str:
    """The configured database, as the application role; the embedded cluster is started when needed."""
    return database_url(get_settings(), start=start)


def owner_url(start: bool = True) -> str:
    """The same database as the schema's owner (migrations, the demo)."""
    return owner_database_url(get_settings(), start=start)


def engine(start: bool = True, owner: bool = False):
    """An engine to the database; the application role's goes through the configured pooler (LANDFUND_DB_POOLER),
    the owner's (migrations) connects directly."""
    settings = get_settings()
    if owner:  # DATABASE_OWNER_URL is a direct connection; without it the owner shares DATABASE_URL's way in
        return make_engine(owner_url(start), pooler="none" if settings.database_owner_url else settings.db_pooler)
    return make_engine(db_url(start), pooler=settings.db_pooler)


def isatty() -> bool:
    return sys.stderr.isatty()


def check_province(conn, code: str) -> str:
    """A --province option: a province this database holds, else a message naming the ones it does."""
    from ..stores.admin_units import AdminUnitStore

    known = AdminUnitStore(conn).provinces()
    if code not in known:
        raise LandfundError(f"--province: no province {code[:20]!r} in this database; known: {', '.join(known)}")
    return code
