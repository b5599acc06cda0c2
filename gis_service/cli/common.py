"""Helpers shared by the CLI commands: settings, engines, and turning errors into a message and an exit code."""

from __future__ import annotations

import contextlib
import sys

import typer
from rich.console import Console

from ..core.config import get_settings
from ..core.db import database_url, make_engine
from ..core.errors import LandfundError

err = Console(stderr=True, highlight=False)
out = Console(highlight=False)


@contextlib.contextmanager
def user_errors():
    """Show a LandfundError as a message and exit 1; never a traceback for a user mistake."""
    try:
        yield
    except LandfundError as exc:
        err.print(f"[bold red]error:[/] {exc}", soft_wrap=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        err.print("interrupted; nothing was written")
        raise typer.Exit(130) from None


def db_url(start: bool = True) -> str:
    """The configured database; the embedded cluster is started when needed."""
    return database_url(get_settings(), start=start)


def engine(start: bool = True):
    return make_engine(db_url(start))


def isatty() -> bool:
    return sys.stderr.isatty()
