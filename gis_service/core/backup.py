"""Backup and restore with pg_dump and pg_restore (custom format), all-or-nothing."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

import psycopg

from .db import libpq_dsn, libpq_params
from .errors import LandfundError


def _tool(name: str, url: str) -> str:
    """The client tool of the server's major version when installed (pg_dump refuses newer servers)."""
    with psycopg.connect(libpq_dsn(url)) as c:
        major = int(c.execute("SHOW server_version_num").fetchone()[0]) // 10000
    candidates = [f"/usr/lib/postgresql/{major}/bin/{name}"]
    candidates += sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    for path in candidates:
        if os.access(path, os.X_OK):
            return path
    found = shutil.which(name)
    if found:
        return found
    raise LandfundError(f"{name} was not found; install postgresql-client-{major}")


def _env(url: str) -> dict:
    params = libpq_params(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    if "password" in params:  # through the environment, never on a command line others can read
        env["PGPASSWORD"] = params["password"]
    return env


def _dsn_without_password(url: str) -> str:
    params = {k: v for k, v in libpq_params(url).items() if k != "password"}
    return " ".join(f"{k}='{v}'" for k, v in params.items())


def backup(url: str, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    proc = subprocess.run([_tool("pg_dump", url), "--format=custom", "--no-owner", "--no-privileges",
                           f"--file={tmp}", f"--dbname={_dsn_without_password(url)}"],
                          capture_output=True, text=True, env=_env(url))
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise LandfundError(f"pg_dump failed: {proc.stderr.strip()}")
    tmp.replace(path)  # a backup file is complete, or absent
    return path


def restore(url: str, path: Path) -> None:
    """Replace the database's contents with the backup's, in one transaction: on error nothing changes."""
    path = Path(path)
    if not path.is_file():
        raise LandfundError(f"no such backup file: {path}")
    proc = subprocess.run([_tool("pg_restore", url), "--clean", "--if-exists", "--no-owner", "--no-privileges",
                           "--single-transaction", "--exit-on-error", f"--dbname={_dsn_without_password(url)}", str(path)],
                          capture_output=True, text=True, env=_env(url))
    if proc.returncode != 0:
        raise LandfundError(f"pg_restore failed, nothing was changed: {proc.stderr.strip()}")
