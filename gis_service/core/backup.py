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
        row = c.execute("SHOW server_version_num").fetchone()
        major = int(row[0]) // 10000 if row else 15
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
    # A backup holds every internal note and investor's contact: only its owner may read it (mode 0600).
    proc = subprocess.run(
        [
            _tool("pg_dump", url),
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            f"--file={tmp}",
            f"--dbname={_dsn_without_password(url)}",
        ],
        capture_output=True,
        text=True,
        env=_env(url),
        umask=0o077,
    )
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise LandfundError(f"pg_dump failed: {proc.stderr.strip()}")
    os.chmod(tmp, 0o600)
    tmp.replace(path)  # a backup file is complete, or absent
    return path


def restore(url: str, path: Path) -> None:
    """Replace the database's contents with the backup's, in one transaction: on error nothing changes.

    pg_restore --clean cannot drop a partitioned table's inherited constraints (PostgreSQL 15 emits
    ALTER TABLE ONLY <partition> DROP CONSTRAINT, which fails), so the old contents go with the public
    schema instead: psql runs BEGIN, DROP SCHEMA public CASCADE, the backup's SQL from pg_restore, and
    COMMIT only when pg_restore finished cleanly."""
    path = Path(path)
    if not path.is_file():
        raise LandfundError(f"no such backup file: {path}")
    env, dsn = _env(url), _dsn_without_password(url)
    toc = subprocess.run([_tool("pg_restore", url), "--list", str(path)], capture_output=True, text=True, env=env)
    if toc.returncode != 0:
        raise LandfundError(f"{path} is not a landfund backup (pg_restore: {toc.stderr.strip()}); nothing was changed")
    dump = subprocess.Popen(
        [_tool("pg_restore", url), "--no-owner", "--no-privileges", "--file=-", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    psql = subprocess.Popen(
        [_tool("psql", url), "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1", f"--dbname={dsn}"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert psql.stdin is not None and psql.stderr is not None and dump.stdout is not None and dump.stderr is not None
    try:
        psql.stdin.write(b"BEGIN;\nDROP SCHEMA IF EXISTS public CASCADE;\nCREATE SCHEMA public;\n")
        shutil.copyfileobj(dump.stdout, psql.stdin, 1 << 20)
        dump_err = dump.stderr.read().decode(errors="replace")
        if dump.wait() == 0:
            psql.stdin.write(b"COMMIT;\n")
        psql.stdin.close()  # without COMMIT the server rolls everything back when psql disconnects
    except BrokenPipeError:  # psql stopped at an error
        dump.kill()
        dump.wait()
        dump_err = ""
    psql_err = psql.stderr.read().decode(errors="replace")
    if psql.wait() != 0 or dump.returncode != 0:
        raise LandfundError(f"restore failed, nothing was changed: {(psql_err or dump_err).strip()}")
